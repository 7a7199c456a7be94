"""The anonymize benchmark's photos: the sample's distinct variants first, then the same files again under new names
(a 2,000-photo run on a GPU machine would otherwise spend minutes building variants)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _benchmark():
    spec = importlib.util.spec_from_file_location("anonymize_benchmark", ROOT / "benchmarks" / "anonymize.py")
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
