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


def _dvc_stages(project: Path) -> dict[str, list[str]]:
    """Every stage DVC resolves in ``project`` -> the parameters it records that params.yaml lacks, as DVC sees it."""
    from dvc.dependency.param import ParamsDependency
    from dvc.repo import Repo

    with Repo(str(project)) as repo:
        return {stage.name: sorted(k for dep in stage.deps if isinstance(dep, ParamsDependency)
                                   for k in set(dep.params) - set(dep.read_params()))
                for stage in repo.index.stages}


def test_a_parameter_missing_from_params_yaml_stops_the_stage_before_it_runs(tmp_path):
    """DVC reads a stage's parameters only to write the lock, after the run, and fails the stage there; the runner
    finds the same missing keys as DVC, before the notebook starts."""
    import yaml

    from ganonlib.stage_run import missing_params

    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    del params["anonymize"]["search_device"], params["preprocess"]["margin"]
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    (tmp_path / "dvc.yaml").write_text((ROOT / "dvc.yaml").read_text())
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run([str(Path(sys.executable).with_name("dvc")), "init", "-q"], cwd=tmp_path, check=True)
    expected = _dvc_stages(tmp_path)
    assert expected["anonymize_ours@sample"] == ["anonymize.search_device", "preprocess.margin"]
    assert expected["preprocess@sample"] == ["preprocess.margin"] and expected["generator@train"] == []
    assert {stage: missing_params(stage, tmp_path) for stage in expected} == expected
    assert all(not missing_params(stage, ROOT) for stage in expected)

    nbformat.write(nbformat.v4.new_notebook(), tmp_path / "in.ipynb")
    run = subprocess.run([sys.executable, "-m", "ganonlib.stage_run", "in.ipynb", "out.ipynb", "-k", "python3"],
                         capture_output=True, text=True, cwd=tmp_path, timeout=120,
                         env={**os.environ, "DVC_STAGE": "anonymize_ours@sample"})
    assert run.returncode == 2 and not (tmp_path / "out.ipynb").exists()
    assert run.stderr.strip() == (
        "anonymize_ours@sample: params.yaml has no anonymize.search_device, preprocess.margin: settings this version "
        "of the kit records for the stage (docs/parameters.md gives each one's default); add them, as the "
        "repository's params.yaml has them")
