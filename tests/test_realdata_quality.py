"""The real-data quality benchmark's smoke mode: every phase runs and the results table has every column."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import shared_data

ROOT = Path(__file__).resolve().parents[1]
COLUMNS = {"faces", "mtcnn_found", "mesh_found", "identity_distance", "rank1", "verified", "expression_abs_diff",
           "expression_kept", "nme", "training_leakage"}


@pytest.mark.realdata
def test_smoke_run_writes_the_full_table(tmp_path):
    celeba = shared_data("celeba_sample")
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "quality" / "realdata_quality.py"), "--smoke",
                           "--celeba", str(celeba), "--out", str(tmp_path / "work"), "--results", str(tmp_path)],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    printed = json.loads(done.stdout.strip().splitlines()[-1])
    result = json.loads((tmp_path / "realdata_quality.json").read_text())
    assert printed["methods"] == result["methods"] and result["smoke"] is True
    assert list(result["methods"]) == ["ours", "naive", "pixel8", "pixel16", "blur9", "blur17"]
    for name, row in result["methods"].items():
        assert set(row) == COLUMNS, name
        assert 0 < row["faces"] <= result["heldout_photos"], name
    assert result["methods"]["ours"]["training_leakage"] is not None
    assert result["methods"]["pixel8"]["training_leakage"] is None  # only generators can leak training people
    table = (tmp_path / "realdata_quality.md").read_text().splitlines()
    rows = [line for line in table if line.startswith("| ") and not line.startswith("| method")]
    assert len(rows) == 6 and all(line.count("|") == 11 for line in rows)
    assert any(line.startswith("Data: 40 CelebA photos") for line in table)
