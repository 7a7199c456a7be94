"""Notebooks find the project root whether JupyterLab starts them in notebooks/ or DVC in the project."""
import os

from ganonlib.config import use_project_root


def test_use_project_root_walks_up_to_params_yaml(tmp_path):
    (tmp_path / "params.yaml").write_text("seed: 0\n")
    (tmp_path / "notebooks").mkdir()
    here = os.getcwd()
    try:
        os.chdir(tmp_path / "notebooks")
        assert use_project_root() == tmp_path.resolve() and os.getcwd() == str(tmp_path.resolve())
        assert use_project_root() == tmp_path.resolve()  # already there: stays
    finally:
        os.chdir(here)


def test_use_project_root_stays_without_params_yaml(tmp_path):
    here = os.getcwd()
    try:
        os.chdir(tmp_path)
        assert use_project_root() == tmp_path.resolve() and os.getcwd() == str(tmp_path.resolve())
    finally:
        os.chdir(here)
