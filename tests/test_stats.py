"""Statistics against hand-computed values."""
import math

import numpy as np
import pandas as pd
import pytest

from ganonlib.metrics.stats import bonferroni, compare_to_reference, paired_test, stars

# integers, so the tied differences are exactly tied
D = np.array([-2, 2, -3, -2, -4, -4, -1, -1, -6, -1], dtype=float)
Y = np.full(10, 10.0)
X = Y + D


def test_wilcoxon_matches_the_hand_computation():
    # |d| ranks: 1 x3 -> 2, 2 x3 -> 5, 3 -> 7, 4 x2 -> 8.5, 6 -> 10; the only positive difference (+2) -> W+ = 5
    t = paired_test(X, Y)
    assert t.n == 10 and t.w_plus == pytest.approx(5.0)
    mean, sd = 10 * 11 / 4, math.sqrt(10 * 11 * 21 / 24)
    # SciPy corrects the variance for the tied ranks: sum(t^3 - t) / 48 over tie groups (3, 3, 2)
    sd_ties = math.sqrt(sd**2 - (24 + 24 + 6) / 48)
    assert t.z == pytest.approx((5.0 - mean) / sd_ties, rel=1e-6)
    assert t.z < 0 and t.r == pytest.approx(t.z / math.sqrt(10))  # x smaller than y: negative Z and r
    assert t.p == pytest.approx(2 * (1 - 0.5 * (1 + math.erf(abs(t.z) / math.sqrt(2)))), rel=1e-6)
    assert paired_test(Y, X).z == pytest.approx(-t.z)  # swapping the samples flips the sign


def test_identical_samples_are_no_difference():
    t = paired_test(X, X)
    assert t.p == 1.0 and t.z == 0.0 and t.r == 0.0


def test_bonferroni_multiplies_and_caps_at_one():
    np.testing.assert_allclose(bonferroni(np.array([0.01, 0.2, 0.5])), [0.03, 0.6, 1.0])


def test_stars():
    assert [stars(p) for p in (0.0005, 0.005, 0.04, 0.2)] == ["***", "**", "*", ""]


def test_compare_to_reference_table():
    rng = np.random.default_rng(0)
    rows = []
    for emotion in ("happy", "sad"):
        for i in range(30):
            base = rng.uniform(0, 0.5)
            rows += [{"image": i, "emotion": emotion, "method": "ours", "value": base},
                     {"image": i, "emotion": emotion, "method": "blur9", "value": base + 0.2 + rng.normal(0, .01)},
                     {"image": i, "emotion": emotion, "method": "pixel8", "value": base + rng.normal(0, .01)}]
    table = compare_to_reference(pd.DataFrame(rows))
    assert len(table) == 4 and set(table.baseline) == {"blur9", "pixel8"}
    blur = table[(table.emotion == "happy") & (table.baseline == "blur9")].iloc[0]
    assert blur.z < -4 and blur.stars == "***" and blur.p_bonferroni == pytest.approx(min(blur.p * 4, 1.0))
    assert (table[table.baseline == "pixel8"].p_bonferroni > 0.05).all()
