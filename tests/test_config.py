"""Notebooks find the project root whether JupyterLab starts them in notebooks/ or DVC in the project."""
import os
import re
from pathlib import Path

import pytest

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


def _params_with(tmp_path, **changes) -> "Path":
    import yaml

    raw = yaml.safe_load((Path(__file__).resolve().parents[1] / "params.yaml").read_text())
    for key, value in changes.items():
        section, _, name = key.partition("__")
        if name:
            raw[section][name] = value
        else:
            raw[section] = value
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw))
    return tmp_path / "params.yaml"


@pytest.mark.parametrize("name", ["x'; touch pwned; echo '", "../../etc", "a b", "$(id)", "-rf", "", ".hidden",
                                  "n" * 65, "a\nb", "sample`id`"])
def test_names_that_a_path_or_a_command_would_misread_are_refused_at_load(tmp_path, name):
    from ganonlib.config import ConfigError, load_params

    for key in ("anonymize__datasets", "anonymize__baselines", "anonymize__videos", "eval_emotion__datasets",
                "eval_attributes__datasets"):
        with pytest.raises(ConfigError, match=f"params.yaml {key.replace('__', '.')}: a name is 1-64 letters"):
            load_params(_params_with(tmp_path, **{key: ["sample", name]}))
    with pytest.raises(ConfigError, match=re.escape(f"params.yaml datasets.{name}.name: a name is")):
        load_params(_params_with(tmp_path, datasets={name: {"kind": "folder", "root": "data/x"}}))


def test_a_stage_name_gives_its_entry_of_params_yaml_and_nothing_else(tmp_path):
    from ganonlib.config import ConfigError, load_params

    params = load_params(_params_with(tmp_path, anonymize__datasets=["sample", "celeba-hq", "celeba"],
                                      anonymize__baselines=["blur9", "hq-blur9"]))
    assert params.stage_item("anonymize_ours@celeba-hq", "ignored") == ("celeba-hq",)
    assert params.stage_item("anonymize_baseline@sample-blur9", "", "") == ("sample", "blur9")
    assert params.stage_item("", "sample", "blur9") == ("sample", "blur9")  # JupyterLab: the notebook's values
    # celeba-hq + blur9 and celeba + hq-blur9 share a stage name
    for stage, problem in (("anonymize_baseline@celeba-hq-blur9", "names 2 entries"),
                           ("anonymize_ours@wider", "names no entry"), ("train_gan@sample", "none of dvc.yaml's"),
                           ("", "a name is")):
        with pytest.raises(ConfigError, match=problem):
            params.stage_item(stage, "../x")
