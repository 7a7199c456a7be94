"""A project notebook saved from JupyterLab: the server's pre-save hook writes it as git has it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from ganonlib.notebook_hooks import strip_notebook

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_the_notebooks_in_git_are_in_the_form_jupyter_saves(path):
    """What the server writes is nbformat's form: a file in any other form changes on its first save."""
    raw = path.read_text()
    assert nbformat.writes(nbformat.reads(raw, as_version=4)) + "\n" == raw
    assert strip_notebook(json.loads(raw)) == json.loads(raw)


def _executed(path: Path) -> dict:
    """The notebook as JupyterLab holds it after Run All."""
    nb = json.loads(path.read_text())
    for k, cell in enumerate(c for c in nb["cells"] if c["cell_type"] == "code"):
        cell["execution_count"] = k + 1
        cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["a face\n"]}]
        cell["metadata"]["execution"] = {"iopub.execute_input": "2026-12-07T10:00:00Z"}
        cell["metadata"]["scrolled"] = True
    nb["metadata"]["kernelspec"]["display_name"] = "Python 3 (ipykernel)"
    nb["metadata"]["language_info"] = {"name": "python", "version": "3.11.7", "mimetype": "text/x-python",
                                       "file_extension": ".py", "codemirror_mode": {"name": "ipython", "version": 3}}
    return nb


def test_the_server_saves_a_tracked_notebook_without_outputs_and_an_untracked_one_as_it_is(tmp_path):
    from jupyter_server.services.contents.filemanager import FileContentsManager

    source = ROOT / "notebooks" / "10_eval_identity.ipynb"
    (tmp_path / "notebooks").mkdir()
    tracked = tmp_path / "notebooks" / source.name
    tracked.write_bytes(source.read_bytes())
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["git", "add", "notebooks"], cwd=tmp_path, check=True)
    manager = FileContentsManager(root_dir=str(tmp_path),
                                  pre_save_hook="ganonlib.notebook_hooks.strip_tracked_notebook")
    executed = _executed(source)
    manager.save({"type": "notebook", "format": "json", "content": executed}, f"notebooks/{source.name}")
    assert tracked.read_bytes() == source.read_bytes()
    manager.save({"type": "notebook", "format": "json", "content": _executed(source)}, "notebooks/mine.ipynb")
    mine = json.loads((tmp_path / "notebooks" / "mine.ipynb").read_text())
    assert mine["cells"][1]["outputs"], "a notebook outside git keeps its outputs"


def test_the_installed_server_runs_the_hook(tmp_path):
    """`make install` puts the setting where a Jupyter server of the venv reads it (the env's etc/jupyter)."""
    script = ("from jupyter_server.serverapp import ServerApp; app = ServerApp(); "
              "app.initialize(['--allow-root', '--no-browser', '--ServerApp.port=0']); "
              "hook = app.contents_manager.pre_save_hook; print(hook.__module__, hook.__name__)")
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "user-config")})
    assert done.stdout.split()[-2:] == ["ganonlib.notebook_hooks", "strip_tracked_notebook"], done.stderr[-2000:]
