"""The stages' notebook runner: an error the user mends ends a stage with its one message, any other error keeps its
tracebacks, and the names it knows are the library's error classes."""
from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from ganonlib.stage_run import MENDABLE

ROOT = Path(__file__).resolve().parents[1]


def _error_classes() -> dict[str, list[str]]:
    """Every class defined in ganonlib -> the names of its bases."""
    classes = {}
    for path in (ROOT / "ganonlib").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                classes[node.name] = [b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases]
    return classes


def test_the_mendable_names_are_library_errors_and_their_subclasses():
    """Only the exception's name crosses from the kernel: every name must be a class of the library, and every class
    derived from one of them must be named too (a new subclass would otherwise print two tracebacks again)."""
    classes = _error_classes()
    assert MENDABLE <= set(classes), MENDABLE - set(classes)
    derived = {name for name, bases in classes.items() if set(bases) & MENDABLE}
    assert derived <= MENDABLE, derived - MENDABLE


def _run(tmp_path: Path, raising: str) -> subprocess.CompletedProcess:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata = {"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"},
                         "language_info": {"name": "python"}}
    notebook.cells = [nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
                      nbformat.v4.new_code_cell(raising)]
    nbformat.write(notebook, tmp_path / "in.ipynb")
    return subprocess.run([sys.executable, "-m", "ganonlib.stage_run", str(tmp_path / "in.ipynb"),
                           str(tmp_path / "out.ipynb"), "-k", "python3", "--log-level", "WARNING", "-p", "x", "2"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300,
                          env={**os.environ, "DVC_STAGE": "eval_identity"})


def test_a_missing_weights_file_ends_the_stage_with_its_one_message(tmp_path):
    run = _run(tmp_path, "from ganonlib.weights import require_weights\n"
                         "require_weights([__import__('pathlib').Path('w.pth')], 'Facenet512 recognizer', "
                         "'set the recognizer to Dlib')")
    assert run.returncode == 2
    assert run.stderr.strip().splitlines()[-1] == ("eval_identity: Facenet512 recognizer: weights not found. Put w.pth "
                                                   "there (no download happens at run time), or set the recognizer to "
                                                   "Dlib.")
    assert "Traceback" not in run.stderr and "Traceback" not in run.stdout
    # the executed notebook keeps the cell's traceback
    assert "require_weights" in (tmp_path / "out.ipynb").read_text()


@pytest.mark.slow
def test_any_other_error_keeps_its_tracebacks(tmp_path):
    run = _run(tmp_path, "raise ValueError('a bug')")
    assert run.returncode == 1
    assert "Traceback" in run.stderr and "ValueError: a bug" in run.stderr
