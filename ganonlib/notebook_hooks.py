"""JupyterLab's save of a project notebook: the file in git stays in the form the DVC stages depend on.

``make install`` names :func:`strip_tracked_notebook` as the Jupyter server's ``pre_save_hook`` (the venv's
``etc/jupyter/jupyter_server_config.json``). A stage notebook is a dependency of its stage:
outputs saved into it (an autosave after Run All) would dirty git and make ``dvc status`` report the stage changed,
and would put faces into git. Outputs stay on screen; what reaches the disk is the notebook without them. Executed
copies with outputs are the stages' own, under ``reports/notebooks/``; a notebook saved under another name, outside
git, keeps its outputs.
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

__all__ = ["strip_notebook", "strip_tracked_notebook"]

# cell metadata that JupyterLab writes while a notebook is used (timings, scroll and collapse state)
_VOLATILE_CELL_KEYS = ("execution", "scrolled", "collapsed", "jupyter", "ExecuteTime")


def strip_notebook(nb: dict) -> dict:
    """``nb`` (nbformat 4 JSON) without outputs, execution counts, run-time cell metadata and the kernel's detail
    of ``language_info`` (the project's notebooks record only its name)."""
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"], cell["execution_count"] = [], None
        for key in _VOLATILE_CELL_KEYS:
            cell.get("metadata", {}).pop(key, None)
    meta = nb.setdefault("metadata", {})
    if isinstance(meta.get("language_info"), dict):
        meta["language_info"] = {"name": meta["language_info"].get("name", "python")}
    meta.pop("widgets", None)  # widget state: the output of a run, like any other
    return nb


def _tracked(os_path: Path) -> bool:
    try:
        done = subprocess.run(["git", "ls-files", "--error-unmatch", os_path.name], cwd=os_path.parent,
                              capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def strip_tracked_notebook(model: dict, path: str, contents_manager: Any, **kwargs: Any) -> None:
    """Jupyter server pre-save hook: strip a notebook that git tracks before it is written. Its notebook-level
    metadata stays as the file has it: JupyterLab rewrites it with the running kernel's (``display_name``
    "Python 3 (ipykernel)", the interpreter's version), which says nothing about the notebook."""
    if model.get("type") != "notebook" or not isinstance(model.get("content"), dict):
        return
    os_path = Path(contents_manager.root_dir) / path.lstrip("/")
    if not _tracked(os_path):
        return
    nb = strip_notebook(model["content"])
    try:
        nb["metadata"] = json.loads(os_path.read_text())["metadata"]
    except (OSError, ValueError, KeyError, TypeError):
        pass  # unreadable on disk: keep what strip_notebook left
