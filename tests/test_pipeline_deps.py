"""dvc.yaml against the code: every stage depends on exactly the ganonlib files its notebook runs, every notebook
parameter is one that DVC passes, every setting it reads is a checked dataclass field."""
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from ganonlib.code_files import runs_code, source_imports
from ganonlib.pipeline_deps import notebook_modules

ROOT = Path(__file__).resolve().parents[1]


def _stages(root: Path = ROOT) -> dict:
    """Every stage of dvc.yaml as DVC resolves it (foreach / matrix expanded): name -> (cmd, deps)."""
    from dvc.repo import Repo

    with Repo(str(root)) as repo:
        return {s.addressing: (s.cmd, [d.def_path for d in s.deps]) for s in repo.index.stages}


@pytest.fixture(scope="module")
def stages(tmp_path_factory) -> dict:
    """The project's stages, the optional ones included: resolved in a copy of dvc.yaml and params.yaml where
    ``anonymize.videos`` lists a folder (empty by default, which leaves its stage out)."""
    copy = tmp_path_factory.mktemp("project")
    shutil.copy(ROOT / "dvc.yaml", copy / "dvc.yaml")
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["anonymize"]["videos"] = ["interviews"]
    (copy / "params.yaml").write_text(yaml.safe_dump(params))
    subprocess.run([str(Path(sys.executable).with_name("dvc")), "init", "--no-scm", "-q"], cwd=copy, check=True)
    with contextlib.chdir(copy):  # stage names are addressed relative to the working folder
        resolved = _stages(copy)
    assert "anonymize_videos@interviews" in resolved and set(_stages()) < set(resolved)
    return resolved


def _notebook(cmd: str) -> Path:
    return ROOT / re.search(r"notebooks/\S+\.ipynb", cmd).group(0)


def test_each_stage_depends_on_exactly_the_modules_its_notebook_imports(stages):
    assert len(stages) >= 8
    for name, (cmd, deps) in stages.items():
        notebook = _notebook(cmd)
        code = sorted(d for d in deps if d.startswith("ganonlib"))
        assert code == notebook_modules(notebook, ROOT), f"{name}: run `python -m ganonlib.pipeline_deps`"
        assert str(notebook.relative_to(ROOT)) in deps, name


def test_touching_a_module_changes_exactly_the_stages_that_import_it(stages):
    """What `dvc status` reports after a change to one file, stage by stage, from the deps DVC resolved."""
    importers = {}
    for name, (cmd, _) in stages.items():
        for module in notebook_modules(_notebook(cmd), ROOT):
            importers.setdefault(module, set()).add(name)
    for module, names in importers.items():
        assert names == {n for n, (_, deps) in stages.items() if module in deps}, module
    # the knots the issue named: each of these modules reaches the stage that runs it
    assert "generator@train" in importers["ganonlib/faces/landmarks.py"]  # renders the GAN's input
    assert importers["ganonlib/config.py"] == set(stages)
    assert "eval_identity" in importers["ganonlib/faces/landmarks.py"]  # the NME mesher
    assert "paper_report" in importers["ganonlib/metrics/method_images.py"]
    assert not any(n.startswith("anonymize") for n in importers["ganonlib/train/gan.py"])


def test_a_docstring_only_package_file_is_no_dependency_until_it_holds_code(tmp_path):
    package = tmp_path / "ganonlib" / "faces"
    package.mkdir(parents=True)
    (tmp_path / "ganonlib" / "__init__.py").write_text('"""The package."""\n')
    (package / "__init__.py").write_text('"""Faces."""\n')
    (package / "crop.py").write_text("MARGIN = 0.2\n")
    notebook = tmp_path / "nb.ipynb"
    notebook.write_text(json.dumps({"cells": [{"cell_type": "code", "source": ["from ganonlib.faces.crop import MARGIN"]}]}))
    assert notebook_modules(notebook, tmp_path) == ["ganonlib/faces/crop.py"]
    assert not runs_code(package / "__init__.py")
    (package / "__init__.py").write_text('"""Faces."""\nfrom ganonlib.faces.crop import MARGIN\n')
    assert notebook_modules(notebook, tmp_path) == ["ganonlib/faces/__init__.py", "ganonlib/faces/crop.py"]


def _parameters(notebook: Path) -> dict[str, str]:
    """The parameters cell: name -> its line."""
    cells = json.loads(notebook.read_text())["cells"]
    source = "".join(next(c["source"] for c in cells if "parameters" in c["metadata"].get("tags", [])))
    return {line.split("=")[0].strip(): line for line in source.splitlines() if "=" in line}


def _from_stage(notebook: Path) -> set[str]:
    """The parameters a notebook reads back from its stage's name (``dataset = params.stage_item(stage, ...``)."""
    code = "".join("".join(c["source"]) for c in json.loads(notebook.read_text())["cells"])
    return {n.strip() for left in re.findall(r"^(.+?) = params\.stage_item\(stage", code, re.M)
            for n in left.removesuffix("[0]").split(",")}


def test_every_notebook_parameter_is_passed_by_its_stages(stages):
    for name, (cmd, _) in stages.items():
        notebook = _notebook(cmd)
        declared = _parameters(notebook)
        passed = set(re.findall(r"-[pr] (\w+) ", cmd))
        notebook_only = {k for k, line in declared.items() if "# notebook-only" in line}
        from_stage = _from_stage(notebook) if "stage" in passed else set()
        assert passed | from_stage == set(declared) - notebook_only, name


def test_no_stage_command_holds_a_value_of_params_yaml(stages):
    """A foreach/matrix stage passes its own name, "$DVC_STAGE"; its notebook finds the dataset and method in
    params.yaml (Params.stage_item), each stage name to exactly the values DVC iterated over."""
    from ganonlib.config import _STAGE_ITEMS, load_params

    raw = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    for name, stage in raw.items():
        assert "${" not in (stage.get("cmd") or stage["do"]["cmd"]), name
    assert {n.split("@")[0] for n in stages if "@" in n} == set(_STAGE_ITEMS)
    params = load_params(ROOT / "params.yaml")
    params = replace(params, anonymize=replace(params.anonymize, videos=("interviews",)))  # as in `stages`
    for name, (cmd, deps) in stages.items():
        if "@" in name:
            assert '-r stage "$DVC_STAGE"' in cmd, name
            matrix = name.split("@")[0] in ("anonymize_baseline", "anonymize_external")
            item = params.stage_item(name, *(("", "") if matrix else ("",)))
            assert item == tuple(name.split("@")[1].split("-")), name  # the sample's names hold no "-"
            assert any(item[0] in Path(d).parts for d in deps), (name, deps)  # the dataset it reads


def test_every_stage_runs_the_venvs_python_without_an_activated_venv(stages, tmp_path):
    """`.venv/bin/dvc repro` runs the commands with the caller's PATH, which may lack the venv: each command puts the
    project's venv first, and runs the caller's python where the project has no venv (a conda environment)."""
    venv = ROOT / ".venv" / "bin" / "python"
    if not venv.is_file():
        pytest.skip("no .venv here: the stages run the python on the caller's PATH")
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "python").write_text("#!/bin/sh\n")
    (tmp_path / "bin" / "python").chmod(0o755)
    for name, (cmd, _) in stages.items():
        assert cmd.count("python -m ganonlib.stage_run notebooks/") == 1, name
        before = cmd.split("python -m ")[0].replace("mkdir -p reports/notebooks", "true")
        found = lambda cwd: subprocess.run(  # noqa: E731
            ["sh", "-c", f"{before} command -v python"], cwd=cwd, capture_output=True, text=True,
            env={**os.environ, "PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin"}).stdout.strip()
        assert Path(found(ROOT)).absolute() == venv.absolute(), name
        assert found(tmp_path) == str(tmp_path / "bin" / "python"), name


def test_notebooks_read_settings_only_through_load_params():
    """No setting is hard-coded in a notebook: each reads its params.yaml section through load_params."""
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(notebook.read_text())["cells"]
        code = "".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        assert "params = load_params(params_file)" in code, notebook.name
        assert "import yaml" not in code and "ClassifierConfig(" not in code and "Config(" not in code, notebook.name


def test_every_params_yaml_setting_is_a_checked_field_with_help():
    from dataclasses import fields

    from ganonlib.config import load_params

    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    params = load_params(ROOT / "params.yaml")
    for section, values in raw.items():
        if section in ("seed", "datasets"):
            continue
        cfg = getattr(params, section)
        known = {f.name: f for f in fields(cfg)}
        for key in values:
            assert key in known and known[key].metadata.get("help"), f"{section}.{key}"
    for name in raw["datasets"]:
        assert params.datasets[name].name == name


def test_a_bad_or_unknown_setting_names_its_params_yaml_key(tmp_path):
    from ganonlib.config import ConfigError, load_params

    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    for section, key, value, message in (("gan", "epochs", 0, "params.yaml gan.epochs: must be at least 1"),
                                         ("gan", "epoch", 3, "params.yaml gan.epoch: unknown key"),
                                         ("eval_identity", "split", "dev", "params.yaml eval_identity.split: choose")):
        bad = json.loads(json.dumps(raw))
        bad[section][key] = value
        (tmp_path / "params.yaml").write_text(yaml.safe_dump(bad))
        with pytest.raises(ConfigError, match=re.escape(message)):
            load_params(tmp_path / "params.yaml")


def test_methods_come_from_the_registry_and_params_yaml(tmp_path):
    from ganonlib.anonymize.baselines import BASELINES
    from ganonlib.config import ConfigError, load_params
    from ganonlib.methods import METHODS, pipeline_methods
    from ganonlib.report.tables import METHOD_NAMES

    assert set(BASELINES) == {n for n, m in METHODS.items() if m.kind == "baseline"}
    assert list(METHOD_NAMES) == list(METHODS)
    assert pipeline_methods(["blur17", "pixel8"], []) == ["ours", "pixel8", "blur17"]  # the paper's order
    with pytest.raises(ConfigError, match="anonymize.baselines: 'ciagan' is no baseline"):
        pipeline_methods(["ciagan"], [])
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    raw["anonymize"]["baselines"] = ["blur9"]
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw))
    assert load_params(tmp_path / "params.yaml").methods == ["ours", "deepprivacy2", "ciagan", "blur9"]


def test_the_anonymizer_does_not_import_the_trainer():
    code = ("import sys, ganonlib.anonymize.ganonymization, ganonlib.anonymize.datasets, ganonlib.anonymize.photos, "
            "ganonlib.anonymize.run, ganonlib.cli; print([m for m in sys.modules if m.startswith('ganonlib.train')])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"
    # and the method-output contract is a leaf: the runner and the generator both import it, it imports neither
    contract = (ROOT / "ganonlib" / "anonymize" / "method_outputs.py").read_text()
    assert source_imports(contract, ROOT) == {"ganonlib.io"}


def test_no_backend_switch_at_import():
    for path in (ROOT / "ganonlib").rglob("*.py"):
        assert "matplotlib.use(" not in path.read_text(), path


def test_dvc_lock_holds_only_the_stages_of_dvc_yaml(stages):
    lock = yaml.safe_load((ROOT / "dvc.lock").read_text())["stages"]
    assert set(lock) <= set(stages), sorted(set(lock) - set(stages))
    for name, entry in lock.items():  # executed notebooks hold timestamps: they stay out of the lock
        assert not any(o["path"].startswith("reports/notebooks") for o in entry.get("outs", [])), name


def test_dvc_lock_records_todays_code_and_params():
    """A stage's code, notebook or params changed without ``make repro`` leave dvc.lock behind: ``dvc status`` calls
    the results stale, and the committed metrics pass for today's code's. Every tracked file a stage depends on must
    hash to what the lock records, and every param it records must be params.yaml's value."""
    import hashlib

    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True)
    if tracked.returncode != 0:
        pytest.skip("not a git checkout")
    tracked_files = set(tracked.stdout.splitlines())
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    stale = []
    for name, entry in yaml.safe_load((ROOT / "dvc.lock").read_text())["stages"].items():
        for dep in entry.get("deps", []):
            if dep["path"] in tracked_files and "md5" in dep:
                if hashlib.md5((ROOT / dep["path"]).read_bytes()).hexdigest() != dep["md5"]:
                    stale.append(f"{name}: {dep['path']}")
        for key, value in entry.get("params", {}).get("params.yaml", {}).items():
            current = params
            for part in key.split("."):
                current = current.get(part) if isinstance(current, dict) else None
            if current != value:
                stale.append(f"{name}: params.yaml {key}")
    assert not stale, f"dvc.lock is behind (run make repro and commit dvc.lock): {stale}"


def test_every_stage_param_is_in_params_yaml():
    """DVC refuses to run a stage whose params are missing; catch it here rather than mid-pipeline."""
    from dvc.dependency.param import ParamsDependency
    from dvc.repo import Repo

    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    with Repo(str(ROOT)) as repo:
        for stage in repo.index.stages:
            for dep in stage.deps:
                if not isinstance(dep, ParamsDependency):
                    continue
                for key in dep.params:
                    value = raw
                    for part in key.split("."):
                        assert isinstance(value, dict) and part in value, f"{stage.addressing}: {key}"
                        value = value[part]


@pytest.mark.slow
def test_a_dataset_name_that_would_break_a_command_runs_nothing(tmp_path):
    """A name of params.yaml that closes a quote (``x'; touch pwned; echo '``) reaches no shell: the stage's command
    holds only "$DVC_STAGE", and its notebook refuses the name with the key to fix before any work."""
    evil = "x'; touch pwned; echo '"
    shutil.copy(ROOT / "dvc.yaml", tmp_path / "dvc.yaml")
    for folder in ("notebooks", "ganonlib"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["anonymize"].update(datasets=[evil], baselines=["blur9"], external=["ciagan"])
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    (tmp_path / "data" / "processed" / evil).mkdir(parents=True)
    (tmp_path / "models" / "gan").mkdir(parents=True)
    (tmp_path / "models" / "gan" / "generator.pt").write_bytes(b"")  # a dependency of anonymize_ours
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "DVC_NO_ANALYTICS": "1"}
    subprocess.run([str(bin_dir / "dvc"), "init", "--no-scm", "-q"], cwd=tmp_path, check=True, env=env)
    for stage in (f"anonymize_baseline@{evil}-blur9", f"anonymize_external@{evil}-ciagan", f"anonymize_ours@{evil}"):
        run = subprocess.run([str(bin_dir / "dvc"), "repro", "-s", stage], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=300)
        assert run.returncode != 0 and not (tmp_path / "pwned").exists(), run.stdout + run.stderr
        assert "params.yaml anonymize.datasets: a name is 1-64 letters" in run.stdout + run.stderr


def test_dvc_yaml_and_the_parameters_page_are_what_pipeline_deps_writes():
    from ganonlib.pipeline_deps import derived_dvc_yaml, parameters_page

    text = (ROOT / "dvc.yaml").read_text()
    assert derived_dvc_yaml(text, ROOT) == text, "run `python -m ganonlib.pipeline_deps --write`"
    assert parameters_page() == (ROOT / "docs" / "parameters.md").read_text(), \
        "run `python -m ganonlib.pipeline_deps --write`"


def test_a_setting_reruns_the_stages_whose_outputs_it_changes_and_no_other():
    """dvc.yaml's params lists and the reuse fingerprints of `ganon anonymize` follow each field's `changes`."""
    from types import SimpleNamespace

    from ganonlib.anonymize.run import fingerprint
    from ganonlib.config import AnonymizeConfig, PreprocessConfig

    raw = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    params = {name: set(raw[name].get("do", raw[name])["params"]) for name in
              ("preprocess", "anonymize_ours", "anonymize_videos")}
    ours, videos = params["anonymize_ours"], params["anonymize_videos"]
    assert {"anonymize.backend", "anonymize.crops", "anonymize.batch_size", "preprocess.margin"} <= ours
    assert {"anonymize.backend", "anonymize.detect_every", "preprocess.margin"} <= videos
    assert "anonymize.detect_every" not in ours and "anonymize.paste_back_photos" not in videos
    for quiet in ("anonymize.workers", "anonymize.compile", "anonymize.n_jobs", "anonymize.scheduler"):
        assert quiet not in ours | videos, quiet
    assert "preprocess.margin" in params["preprocess"] and "preprocess.n_jobs" not in params["preprocess"]

    def photo_and_video(**changed):
        anonymizer = SimpleNamespace(cfg=AnonymizeConfig(**changed), preprocess=PreprocessConfig(),
                                     weights_sha256="0" * 64)
        return fingerprint(anonymizer), fingerprint(anonymizer, video=True)

    plain = photo_and_video()
    assert photo_and_video(workers=3, batch_size=2, compile=True, strict=True) == plain
    assert photo_and_video(detect_every=2)[0] == plain[0] and photo_and_video(detect_every=2)[1] != plain[1]
    assert all(a != b for a, b in zip(photo_and_video(backend="onnx"), plain))


def test_the_derivation_replaces_only_what_it_derives(tmp_path):
    from ganonlib.pipeline_deps import derived_dvc_yaml, stage_params

    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "04.ipynb").write_text(json.dumps({"cells": [
        {"cell_type": "code", "source": ["from ganonlib.errors import ConfigError\n"]}]}))
    (tmp_path / "ganonlib").mkdir()
    (tmp_path / "ganonlib" / "errors.py").write_text("X = 1\n")
    text = ("stages:\n  anonymize_ours:\n    do:\n      cmd: python -m ganonlib.stage_run notebooks/04.ipynb out.ipynb\n"
            "      deps:\n        - data/x  # kept\n        - ganonlib/old.py\n        - notebooks/04.ipynb\n"
            "      params:\n        - anonymize.weights\n        - datasets.${item}\n        - anonymize.stale\n"
            "      outs:\n        - data/y\n")
    out = yaml.safe_load(derived_dvc_yaml(text, tmp_path))["stages"]["anonymize_ours"]["do"]
    assert out["deps"] == ["data/x", "ganonlib/errors.py", "notebooks/04.ipynb"]
    assert out["params"] == [*stage_params("anonymize_ours"), "datasets.${item}"]
    assert out["outs"] == ["data/y"] and "# kept" in derived_dvc_yaml(text, tmp_path)
