"""The rule that turns the measured spread into tolerances (benchmarks/quality/metric_spread.py), on made-up runs."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _benchmark():
    spec = importlib.util.spec_from_file_location("metric_spread", ROOT / "benchmarks" / "quality" / "metric_spread.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _results(bench, values: dict[str, list]) -> dict:
    names = ["seed0", "seed1", "seed2", "avx2"]
    runs = {n: {"seed": i if n.startswith("seed") else 0, "env": bench.KERNELS.get(n, {}), "seconds": 60.0,
                "metrics": {"m.json": {k: v[i] for k, v in values.items()}}} for i, n in enumerate(names)}
    return {"provenance": {"commit": "abc", "command": "python x", "cpu": "cpu", "cores": 2, "cpu_features": [],
                           "gpu": None, "date": "d"},
            "minutes": 4.0, "runs": {n: {"seed": r["seed"], "env": r["env"], "seconds": r["seconds"]}
                                     for n, r in runs.items()},
            "outputs_vs_seed0": {}, "seed0_outputs_vs_project_lock": {"identical": 1, "different": []},
            "metrics": bench.summarise(runs)}


def test_the_coverage_factor_matches_its_definition_and_grows_as_the_false_alarm_rate_falls():
    bench = _benchmark()
    k = bench.coverage_factor(4, 0.01, draws=200_000)
    rng = np.random.default_rng(1)  # an independent simulation of the same event
    runs = rng.standard_normal((200_000, 4))
    outside = np.abs(rng.standard_normal(200_000) - runs[:, 0]) > k * (runs.max(1) - runs.min(1))
    assert outside.mean() == pytest.approx(0.01, abs=0.002)
    assert bench.coverage_factor(4, 0.001, draws=200_000) > k > bench.coverage_factor(8, 0.01, draws=200_000)


def test_tolerances_are_k_times_the_range_with_the_rounding_unit_as_floor():
    bench = _benchmark()
    results = _results(bench, {"nme": [0.40, 0.30, 0.45, 0.42], "distance": [0.1, 0.1, 0.1, 0.1],
                               "faces": [120, 120, 120, 120], "rank1": [None] * 4, "f1": [0.2, 0.3, 0.2, 0.2]})
    tolerances = bench.derive(results)
    got, k = tolerances["metrics"]["m.json"], tolerances["k"]
    assert tolerances["alpha_per_metric"] == pytest.approx(0.01 / 2)  # two metrics moved: nme and f1
    assert got["nme"]["tolerance"] == pytest.approx(k * 0.15, abs=1e-4) and got["nme"]["wide"] == (k * 0.15 > 0.25 * 0.3925)
    assert got["distance"]["tolerance"] == 1e-4 and not got["distance"]["wide"]
    assert got["faces"]["tolerance"] == 0.0
    assert got["rank1"] == {"tolerance": 0.0, "range": None, "wide": False, "null": True}
    assert got["f1"]["wide"]  # k x 0.1 against a mean of 0.225
    assert results["metrics"]["m.json"]["nme"]["kernels_max_from_seed0"] == pytest.approx(0.02)
    page = bench.markdown(results, tolerances)
    assert "| m.json:f1 | 0.2 | 0.1 | 0.0 |" in page and "wide |" in page
