"""Statistics of the emotion-preservation comparison (paper 4.2, Table 3).

Per dataset and emotion: Shapiro-Wilk on the paired differences (why a non-parametric test), then a Wilcoxon
signed-rank test of ours against each baseline on the per-image values |p_orig - p_anon|, its Z from the normal
approximation, the effect size r = Z / sqrt(N) (N pairs), and Bonferroni over all the tests of that dataset (the
original applied it to a single p-value). Z < 0: ours changed the emotion probabilities less than the baseline.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["PairedTest", "bonferroni", "compare_to_reference", "paired_test", "stars"]


@dataclass(frozen=True)
class PairedTest:
    n: int
    w_plus: float  # sum of the ranks of positive differences (x - y)
    z: float  # signed: (W+ - n(n+1)/4) / sd, negative when x tends to be smaller than y
    p: float  # two-sided
    r: float  # effect size Z / sqrt(n)
    shapiro_p: float  # normality of the differences (nan below 3 pairs)


def paired_test(x: np.ndarray, y: np.ndarray) -> PairedTest:
    """Wilcoxon signed-rank of paired samples ``x`` and ``y`` (zero differences dropped, as SciPy's default)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    diff = x - y
    shapiro_p = float(stats.shapiro(diff).pvalue) if len(diff) >= 3 and np.ptp(diff) > 0 else float("nan")
    if not np.any(diff != 0):
        return PairedTest(len(diff), 0.0, 0.0, 1.0, 0.0, shapiro_p)
    one_sided = stats.wilcoxon(x, y, alternative="greater", method="approx")  # statistic = W+, signed z
    two_sided = stats.wilcoxon(x, y, method="approx")
    z = float(one_sided.zstatistic)
    return PairedTest(len(diff), float(one_sided.statistic), z, float(two_sided.pvalue), z / np.sqrt(len(diff)),
                      shapiro_p)


def bonferroni(pvalues: np.ndarray) -> np.ndarray:
    """Each p times the number of tests, capped at 1."""
    p = np.asarray(pvalues, float)
    return np.minimum(p * len(p), 1.0)


def stars(p: float) -> str:
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else ""


def compare_to_reference(values: pd.DataFrame, reference: str = "ours") -> pd.DataFrame:
    """``values``: columns ``image, emotion, method, value`` (one dataset). Returns one row per emotion and
    baseline with n, W+, Z, r, p, Bonferroni p over every row of the table, and stars."""
    wide = values.pivot_table(index=["emotion", "image"], columns="method", values="value")
    rows = []
    for emotion, block in wide.groupby(level="emotion"):
        for method in [m for m in block.columns if m != reference]:
            pair = block[[reference, method]].dropna()
            if len(pair) == 0:
                continue
            rows.append({"emotion": emotion, "baseline": method,
                         **asdict(paired_test(pair[reference].to_numpy(), pair[method].to_numpy()))})
    table = pd.DataFrame(rows)
    if not table.empty:
        table["p_bonferroni"] = bonferroni(table.p.to_numpy())
        table["stars"] = table.p_bonferroni.map(stars)
    return table
