"""The preprocessing run: outcomes per file, written pairs, reruns."""
import json
from collections import defaultdict
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from corpus import EXPECTED, build_corpus
from ganonlib.config import DatasetConfig
from ganonlib.data.datasets import load_dataset
from ganonlib.data.preprocess import preprocess_dataset
from ganonlib.faces.landmarks import FaceMesher
from ganonlib.io import read_manifest


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory, small_cfg):
    root = build_corpus(tmp_path_factory.mktemp("corpus") / "photos")
    out = tmp_path_factory.mktemp("out")
    records = load_dataset(DatasetConfig(name="corpus", kind="folder", root=str(root)))
    summary = preprocess_dataset(records, out, small_cfg, progress=False)
    return root, out, records, summary


def test_every_bad_input_gets_a_manifest_row_and_the_run_completes(corpus_run):
    root, out, records, summary = corpus_run
    rows = defaultdict(list)
    for row in read_manifest(out / "manifest.csv"):
        rows[row.source.split("/")[-1]].append(row)
    assert set(rows) == set(EXPECTED)
    for name, (outcome, reason, faces) in EXPECTED.items():
        got = rows[name]
        if outcome == "ok":
            ok = [r for r in got if r.outcome == "ok"]
            assert len(ok) == faces, (name, got)
            for r in ok:
                assert all((out / p).is_file() for p in r.outputs.split(";"))
        else:
            assert [(r.outcome, r.reason.split(":")[0]) for r in got] == [(outcome, reason)], (name, got)
            assert got[0].outputs == ""
    assert summary["files"] == len(EXPECTED) and summary["pairs"] == sum(f for _, _, f in EXPECTED.values())
    assert json.loads((out / "summary.json").read_text())["pairs"] == summary["pairs"]


def test_written_pairs_have_the_working_size_and_landmarks(corpus_run, small_cfg):
    _, out, _, _ = corpus_run
    face = np.asarray(Image.open(next((out / "images").rglob("*.png"))))
    marks = np.asarray(Image.open(next((out / "landmarks").rglob("*.png"))))
    points = np.load(next((out / "points").rglob("*.npy")))
    assert face.shape == (small_cfg.image_size, small_cfg.image_size, 3)
    assert marks.shape == (small_cfg.image_size, small_cfg.image_size) and set(np.unique(marks)) == {0, 255}
    assert points.shape == (478, 3) and points.dtype == np.float32
    assert (face == 0).all(axis=2).mean() > 0.05  # background removed
    index = (out / "index.csv").read_text().splitlines()
    assert len(index) == 1 + sum(f for _, _, f in EXPECTED.values())


def test_exif_rotated_photo_is_found_upright(corpus_run):
    _, out, _, _ = corpus_run
    row = next(r for r in read_manifest(out / "manifest.csv") if r.source.endswith("exif_rotated.jpg"))
    points = np.load(out / row.outputs.split(";")[2])
    assert points[10, 1] < points[152, 1]  # forehead above chin in the aligned face


def test_rerun_reuses_and_follows_changes(tmp_path, small_cfg, astronaut):
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(astronaut).save(photos / "a.png")
    Image.fromarray(astronaut[:, ::-1]).save(photos / "b.png")
    out = tmp_path / "out"

    def run():
        return preprocess_dataset(load_dataset(DatasetConfig("p", "folder", str(photos))), out, small_cfg,
                                  progress=False)

    first = run()
    assert first["pairs"] == 2 and first["reused"] == 0
    stamp = (out / "images/train/a.png_f0.png").stat().st_mtime_ns
    assert run()["reused"] == 2
    assert (out / "images/train/a.png_f0.png").stat().st_mtime_ns == stamp
    (photos / "b.png").unlink()
    third = run()
    assert third["pairs"] == 1 and third["removed_stale_outputs"] == 3
    assert not (out / "images/train/b.png_f0.png").exists()
    changed = preprocess_dataset(load_dataset(DatasetConfig("p", "folder", str(photos))), out,
                                 replace(small_cfg, landmarks_style="point"), progress=False)
    assert changed["reused"] == 0  # other settings, other outputs


def test_a_rerun_after_a_change_to_the_code_redoes_every_photo(tmp_path, small_cfg, astronaut, monkeypatch):
    """The output folder is a persist output of DVC: faces of older code must not pass for today's."""
    import ganonlib.data.preprocess as preprocess

    Image.fromarray(astronaut).save(tmp_path / "a.png")
    dataset = load_dataset(DatasetConfig("p", "folder", str(tmp_path / "a.png")))
    assert preprocess_dataset(dataset, tmp_path / "out", small_cfg, progress=False)["reused"] == 0
    assert preprocess_dataset(dataset, tmp_path / "out", small_cfg, progress=False)["reused"] == 1
    monkeypatch.setattr(preprocess, "code_fingerprint", lambda: "other code")
    assert preprocess_dataset(dataset, tmp_path / "out", small_cfg, progress=False)["reused"] == 0


def test_the_code_fingerprint_follows_every_module_a_photo_runs():
    from pathlib import Path

    from ganonlib.code_files import modules_run_by

    root = Path(__file__).resolve().parents[1]
    files = modules_run_by({"ganonlib.data.preprocess"}, root)
    assert {"ganonlib/faces/blazeface.py", "ganonlib/faces/detect.py", "ganonlib/faces/align.py",
            "ganonlib/faces/landmarks.py", "ganonlib/faces/segment.py", "ganonlib/data/preprocess.py"} <= set(files)


def test_face_without_mesh_is_recorded_and_never_written(tmp_path, small_cfg, astronaut, monkeypatch):
    monkeypatch.setattr(FaceMesher, "__call__", lambda self, image: None)
    Image.fromarray(astronaut).save(tmp_path / "a.png")
    out = tmp_path / "out"
    summary = preprocess_dataset(load_dataset(DatasetConfig("p", "folder", str(tmp_path / "a.png"))), out,
                                 small_cfg, progress=False)
    rows = read_manifest(out / "manifest.csv")
    assert [(r.outcome, r.reason.split(":")[0], r.face) for r in rows] == [("skipped", "no_mesh", 0)]
    assert summary["pairs"] == 0 and not list(out.rglob("*.png"))
