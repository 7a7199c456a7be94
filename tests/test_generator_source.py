"""gan.source: the authors' checkpoint fetched from a mirror (a local HTTP server here), verified and converted; and
the DVC pipeline built on it: no training in its graph, experiments that switch the source and come back, and a
workspace that `dvc status` and `ganon` agree on after each of them."""
from __future__ import annotations

import functools
import hashlib
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import torch
import yaml

from ganonlib.config import ConfigError, GanTrainConfig
from ganonlib.models.generator_file import load_generator
from ganonlib.train.generator_source import provide_generator
from ganonlib.published import DownloadError
from ganonlib.weights import MissingWeightsError

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


@pytest.fixture()
def mirror(lightning_checkpoint):
    """A local HTTP server whose /publication.ckpt is a checkpoint in the authors' Lightning format."""
    handler = functools.partial(_Quiet, directory=str(lightning_checkpoint.parent))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/{lightning_checkpoint.name}"
    httpd.shutdown()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _cfg(tmp_path: Path, pairs: Path, **kw) -> GanTrainConfig:
    return GanTrainConfig(**{"source": "publication", "published_dir": str(tmp_path / "published"),
                             "out_dir": str(tmp_path / "gan"), "data_dir": str(pairs), "device": "cpu",
                             "samples": 1, **kw})


def test_the_publication_source_fetches_verifies_and_converts_from_a_mirror(mirror, lightning_checkpoint, pairs,
                                                                            tmp_path):
    sha = _sha256(lightning_checkpoint)
    summary = provide_generator(_cfg(tmp_path, pairs, published_url=mirror, published_sha256=sha))
    gan = tmp_path / "gan"
    fetched = tmp_path / "published" / "ganonymization_25_epochs.ckpt"
    assert _sha256(fetched) == sha  # kept for the next run
    assert (gan / "generator.pt.sha256").read_text().split()[0] == _sha256(gan / "generator.pt")
    generator, settings = load_generator(gan / "generator.pt", torch.device("cpu"))
    assert settings.image_size == 256  # the authors' img_size, read from the checkpoint's hyper-parameters
    original = torch.load(lightning_checkpoint, map_location="cpu", weights_only=False)["state_dict"]
    assert torch.equal(generator.state_dict()["down1.model.0.weight"], original["generator.down1.model.0.weight"])
    record = json.loads((gan / "live" / "published.json").read_text())
    assert record["source"] == "publication" and record["checkpoint_sha256"] == sha
    assert record["generator_sha256"] == summary["generator_sha256"] == _sha256(gan / "generator.pt")
    assert Path(summary["samples"]) == gan / "samples" / "publication.png" and Path(summary["samples"]).is_file()


def test_a_mirror_serving_another_file_is_refused_with_the_setting_to_change(mirror, pairs, tmp_path):
    with pytest.raises(DownloadError, match=r"sha256 [0-9a-f]{64}, expected 0{64}.*gan\.published_sha256"):
        provide_generator(_cfg(tmp_path, pairs, published_url=mirror, published_sha256="0" * 64))
    # without a hash of its own, the mirror must serve the published file: its size is checked first
    with pytest.raises(DownloadError, match="expected 687,127,579"):
        provide_generator(_cfg(tmp_path / "b", pairs, published_url=mirror))
    assert not (tmp_path / "gan" / "generator.pt").exists() and not (tmp_path / "b" / "gan").exists()


def test_a_checkpoint_on_this_machine_is_used_where_it_lies(lightning_checkpoint, pairs, tmp_path):
    provide_generator(_cfg(tmp_path, pairs, published_url=str(lightning_checkpoint),
                           published_sha256=_sha256(lightning_checkpoint)))
    assert (tmp_path / "gan" / "generator.pt").is_file() and not (tmp_path / "published").exists()
    with pytest.raises(MissingWeightsError, match="gan.published_url: .*missing.ckpt does not exist"):
        provide_generator(_cfg(tmp_path, pairs, published_url=str(tmp_path / "missing.ckpt")))


def test_the_source_settings_are_checked_when_read():
    with pytest.raises(ConfigError, match="source: choose one of train, publication, demo"):
        GanTrainConfig(source="authors")
    with pytest.raises(ConfigError, match="published_sha256: 64 lowercase hex digits"):
        GanTrainConfig(published_sha256="EBA49B")


# --- the DVC pipeline on the published generator, and experiments around it -------------------------------------

def _run(project: Path, *argv: str) -> str:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "DVC_NO_ANALYTICS": "1",
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    done = subprocess.run(argv, cwd=project, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"{' '.join(argv)}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def _dvc_project(tmp_path: Path, mirror: str, sha: str) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    for name in ("dvc.yaml", ".gitignore"):
        shutil.copy(ROOT / name, project / name)
    shutil.copytree(ROOT / "notebooks", project / "notebooks")
    shutil.copytree(ROOT / "ganonlib", project / "ganonlib", ignore=shutil.ignore_patterns("__pycache__"))
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["sample"]["variants_per_photo"] = 4
    params["gan"].update(source="publication", published_url=mirror, published_sha256=sha, epochs=1, batch_size=2,
                         max_steps_per_epoch=1, samples=1)
    params["anonymize"].update(baselines=["blur9"], external=[], paste_back_photos=1)
    params["eval_identity"].update(leakage_train_sample=4)
    for section in ("eval_emotion", "eval_attributes"):
        params[section].update(image_size=32, epochs=1)
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    _run(project, "git", "init", "-q")
    _run(project, str(BIN / "dvc"), "init", "-q")
    _run(project, "git", "add", "-A")
    _run(project, "git", "commit", "-qm", "project")
    return project


def _consistent(project: Path) -> None:
    """`dvc status` has nothing to say, and ganon takes the generator in the workspace."""
    from ganonlib.cli import main

    assert "up to date" in _run(project, str(BIN / "dvc"), "status")
    gan = project / "models" / "gan"
    assert (gan / "generator.pt.sha256").read_text().split()[0] == _sha256(gan / "generator.pt")
    photo = next((project / "data" / "sample" / "images").rglob("*.png"))
    out = project / "out" / _sha256(gan / "generator.pt")[:8]
    assert main(["anonymize", str(photo), str(out), "--weights", str(gan / "generator.pt"), "--workers", "1"]) == 0


@pytest.mark.slow
def test_dvc_evaluates_the_published_generator_without_training_and_experiments_keep_the_workspace(
        mirror, lightning_checkpoint, tmp_path):
    project = _dvc_project(tmp_path, mirror, _sha256(lightning_checkpoint))
    dvc = str(BIN / "dvc")
    dag = _run(project, dvc, "dag", "--md")
    assert "generator@publication" in dag and "generator@train" not in dag and "train_gan" not in dag
    log = _run(project, dvc, "repro")
    assert "Running stage 'generator@publication'" in log and "Running stage 'paper_report'" in log
    assert json.loads((project / "models/gan/live/published.json").read_text())["source"] == "publication"
    assert not (project / "models/gan/checkpoint.pt").exists()  # nothing was trained
    assert "ours" in json.loads((project / "reports/metrics/identity.json").read_text())["methods"]
    _consistent(project)
    _run(project, "git", "add", "-A")
    _run(project, "git", "commit", "-qm", "published generator")
    published = _sha256(project / "models/gan/generator.pt")

    # an experiment that trains instead: run aside, then applied to the workspace
    log = _run(project, dvc, "exp", "run", "--temp", "-n", "trained", "-S", "gan.source=train")
    assert "Running stage 'generator@train'" in log and "Running stage 'anonymize_baseline" not in log
    assert "trained" in _run(project, dvc, "exp", "list")
    _run(project, dvc, "exp", "apply", "trained")
    assert "generator@train" in _run(project, dvc, "dag", "--md")
    assert _sha256(project / "models/gan/generator.pt") != published
    _consistent(project)

    # back to the committed state: git, then dvc checkout, restore the published generator and its sidecar together
    _run(project, "git", "checkout", "--", ".")
    _run(project, dvc, "checkout", "-q")
    assert _sha256(project / "models/gan/generator.pt") == published
    _consistent(project)


def test_the_papers_settings_use_the_published_generator_and_leave_training_out_of_the_graph(tmp_path):
    from ganonlib.config import load_params

    paper = load_params(ROOT / "configs" / "paper.yaml")
    assert paper.gan.source == "publication" and paper.gan.dataset == "celeba" and paper.preprocess.image_size == 512
    assert set(paper.datasets) == {"celeba", "wider", "affectnet", "ckplus", "faces"}
    assert {paper.eval_identity.dataset, *paper.eval_emotion.datasets, *paper.eval_attributes.datasets} \
        <= set(paper.anonymize.datasets)
    assert paper.eval_emotion.arch == "convnext_base" and paper.eval_emotion.pretrained == "yes"
    for name in ("dvc.yaml", ".gitignore"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copy(ROOT / "configs" / "paper.yaml", tmp_path / "params.yaml")
    _run(tmp_path, "git", "init", "-q")
    _run(tmp_path, str(BIN / "dvc"), "init", "-q")
    stages = _run(tmp_path, str(BIN / "dvc"), "stage", "list", "--name-only").split()
    assert "generator@publication" in stages and not any(s.startswith(("generator@train", "train")) for s in stages)
    assert {"preprocess@celeba", "anonymize_ours@wider", "eval_attributes@celeba", "paper_report"} <= set(stages)
    # every parameter a stage records is in the paper's settings, or DVC fails the stage after its run, when it
    # writes the lock (the runner's check, which finds what DVC finds: tests/test_stage_run.py)
    from ganonlib.stage_run import missing_params

    assert {stage: missing for stage in stages if (missing := missing_params(stage, tmp_path))} == {}
