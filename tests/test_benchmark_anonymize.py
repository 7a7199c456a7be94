"""The anonymize benchmark's photos: the sample's distinct variants first, then the same files again under new names
(a 2,000-photo run on a GPU machine would otherwise spend minutes building variants)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _benchmark():
    spec = importlib.util.spec_from_file_location("anonymize_benchmark", ROOT / "benchmarks" / "speed" / "anonymize.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_photos_beyond_the_distinct_variants_are_links_to_them(tmp_path, monkeypatch):
    bench = _benchmark()
    monkeypatch.setattr(bench, "_UNIQUE_PHOTOS", 4)
    photos = bench.sample_photos(tmp_path, 10)
    assert len(photos) == len(set(photos)) == 10
    distinct, repeated = photos[:4], photos[4:]
    assert len({p.read_bytes() for p in distinct}) == 4
    assert [p.stat().st_ino for p in repeated] == [distinct[n % 4].stat().st_ino for n in range(4, 10)]
    few = bench.sample_photos(tmp_path / "few", 3)  # under the distinct count: no copies
    assert len({p.read_bytes() for p in few}) == 3 and not any("_copy" in p.name for p in few)


def test_steps_are_timed_per_face_re_synthesized(tmp_path, monkeypatch):
    """Every faces/s figure counts faces re-synthesized, so the steps' ms per face (and the ceiling from them) do too:
    a face found but covered, and a photo without a face, add time but no face."""
    from types import SimpleNamespace

    bench = _benchmark()
    photos = [SimpleNamespace(faces=[1], rel="a.jpg"), SimpleNamespace(faces=[1, 2], rel="b.jpg"),
              SimpleNamespace(faces=[], rel="c.jpg")]
    monkeypatch.setattr(bench, "_extract_all", lambda an, paths, second: (photos, 3.0 if second == "mtcnn" else 1.5))
    monkeypatch.setattr(bench, "generate_faces", lambda an, extracted: ([{0: "new"}, {1: "new"}, {}], ""))
    monkeypatch.setattr(bench, "compose_photo", lambda an, photo, target, new, reason, run: ([], []))
    an = SimpleNamespace(cfg=SimpleNamespace(second_detector="mtcnn", photo_format="auto"))
    steps = bench._steps(an, [tmp_path / "a.jpg"] * 3, tmp_path)
    assert steps["faces_steps"] == 2  # of three found
    assert steps["ms_per_face_alone"]["extract"] == 1500.0
    assert steps["ms_per_face_alone"]["extract_without_cross_check"] == 750.0
