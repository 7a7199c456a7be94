"""The paper's attribute results (Tables 5-6, CelebA validation split), as printed, keyed by CelebA's attribute
names (the paper's spaces are the names' underscores); parsed once at import."""
from __future__ import annotations

from ganonlib.report.paper_emotion import prf_by_method, split_printed_row

__all__ = ["PAPER_TABLE5", "PAPER_TABLE6", "canonical_attribute"]

_TABLE5_METHODS = ("original", "ours", "deepprivacy2", "ciagan")
_AVERAGES = ("micro avg", "macro avg", "weighted avg", "samples avg")


def canonical_attribute(name: str) -> str:
    return name if name in _AVERAGES else name.strip().replace(" ", "_")


# Table 5: P R F1 for Original, GANonymization, DeepPrivacy2, CIAGAN, then N
_TABLE5 = """5 o Clock Shadow 0.72 0.79 0.75 0.00 0.00 0.00 0.71 0.67 0.69 0.66 0.20 0.30 2345
Arched Eyebrows 0.74 0.69 0.72 0.75 0.40 0.52 0.63 0.49 0.55 0.65 0.59 0.62 5134
Attractive 0.79 0.86 0.83 0.87 0.47 0.61 0.77 0.81 0.79 0.78 0.79 0.79 10332
Bags Under Eyes 0.67 0.52 0.59 0.60 0.07 0.12 0.54 0.47 0.50 0.62 0.29 0.40 4120
Bald 0.74 0.48 0.58 0.00 0.00 0.00 0.73 0.46 0.56 0.74 0.23 0.35 410
Bangs 0.84 0.86 0.85 0.83 0.05 0.10 0.81 0.86 0.84 0.84 0.85 0.85 2913
Big Lips 0.62 0.22 0.33 0.37 0.43 0.40 0.54 0.21 0.31 0.59 0.18 0.28 3044
Big Nose 0.79 0.44 0.56 0.61 0.49 0.54 0.63 0.52 0.57 0.65 0.48 0.56 4940
Black Hair 0.78 0.75 0.76 0.65 0.13 0.21 0.76 0.72 0.74 0.68 0.80 0.74 4143
Blond Hair 0.82 0.85 0.84 0.88 0.05 0.09 0.77 0.87 0.82 0.77 0.86 0.82 3054
Blurry 0.72 0.45 0.55 0.77 0.01 0.02 0.62 0.38 0.47 0.65 0.35 0.45 929
Brown Hair 0.68 0.64 0.66 1.00 0.00 0.00 0.70 0.56 0.62 0.74 0.42 0.53 4792
Bushy Eyebrows 0.79 0.67 0.73 0.93 0.00 0.01 0.58 0.45 0.51 0.73 0.43 0.54 2830
Chubby 0.68 0.48 0.57 0.62 0.04 0.07 0.50 0.50 0.50 0.63 0.29 0.40 1215
Double Chin 0.70 0.50 0.59 0.57 0.01 0.02 0.51 0.50 0.50 0.69 0.29 0.40 975
Eyeglasses 0.97 0.96 0.97 0.64 0.23 0.34 0.90 0.86 0.88 0.84 0.45 0.58 1380
Goatee 0.81 0.69 0.75 0.60 0.01 0.01 0.79 0.61 0.69 0.67 0.17 0.28 1460
Gray Hair 0.81 0.70 0.75 1.00 0.00 0.00 0.77 0.68 0.72 0.82 0.57 0.67 966
Heavy Makeup 0.88 0.92 0.90 0.87 0.71 0.78 0.80 0.91 0.85 0.80 0.88 0.84 7751
High Cheekbones 0.92 0.80 0.86 0.78 0.87 0.82 0.81 0.78 0.79 0.75 0.87 0.81 8926
Male 0.97 0.98 0.98 0.91 0.85 0.88 0.94 0.95 0.94 0.94 0.93 0.93 8443
Mouth Slightly Open 0.94 0.94 0.94 0.73 0.96 0.83 0.84 0.69 0.76 0.86 0.92 0.89 9569
Mustache 0.72 0.49 0.59 0.00 0.00 0.00 0.52 0.34 0.41 0.42 0.04 0.08 1002
Narrow Eyes 0.51 0.67 0.58 0.64 0.23 0.33 0.40 0.03 0.06 0.33 0.00 0.00 1491
No Beard 0.97 0.98 0.98 0.87 0.97 0.92 0.95 0.98 0.96 0.91 0.95 0.93 16326
Oval Face 0.67 0.29 0.40 0.87 0.00 0.01 0.58 0.31 0.41 0.51 0.39 0.44 5564
Pale Skin 0.58 0.66 0.62 0.88 0.06 0.11 0.71 0.32 0.44 0.63 0.38 0.48 856
Pointy Nose 0.65 0.45 0.53 0.74 0.02 0.04 0.55 0.34 0.42 0.61 0.24 0.35 5658
Receding Hairline 0.64 0.43 0.52 0.60 0.01 0.02 0.64 0.41 0.50 0.54 0.43 0.48 1429
Rosy Cheeks 0.77 0.40 0.52 1.00 0.00 0.00 0.51 0.58 0.54 0.54 0.48 0.50 1358
Sideburns 0.84 0.75 0.79 0.00 0.00 0.00 0.84 0.65 0.73 0.75 0.20 0.32 1366
Smiling 0.95 0.90 0.92 0.83 0.94 0.88 0.86 0.80 0.83 0.83 0.91 0.87 9601
Straight Hair 0.60 0.41 0.49 0.00 0.00 0.00 0.55 0.40 0.47 0.52 0.26 0.34 4082
Wavy Hair 0.68 0.64 0.66 0.57 0.22 0.32 0.66 0.62 0.64 0.67 0.56 0.61 5492
Wearing Earrings 0.77 0.59 0.67 0.80 0.01 0.02 0.72 0.58 0.64 0.76 0.46 0.57 3789
Wearing Hat 0.87 0.89 0.88 0.87 0.14 0.25 0.84 0.88 0.86 0.89 0.82 0.86 939
Wearing Lipstick 0.88 0.96 0.92 0.87 0.82 0.85 0.83 0.95 0.89 0.83 0.94 0.89 8860
Wearing Necklace 0.51 0.15 0.23 0.00 0.00 0.00 0.48 0.06 0.10 0.38 0.01 0.02 2396
Wearing Necktie 0.60 0.29 0.39 0.00 0.00 0.00 0.54 0.29 0.38 0.57 0.09 0.16 1442
Young 0.87 0.97 0.92 0.78 0.98 0.87 0.86 0.96 0.90 0.86 0.95 0.90 14821
micro avg 0.84 0.76 0.80 0.79 0.51 0.62 0.78 0.71 0.74 0.79 0.68 0.73 176143
macro avg 0.76 0.65 0.69 0.63 0.25 0.28 0.69 0.59 0.62 0.69 0.50 0.55 176143
weighted avg 0.82 0.76 0.78 0.73 0.51 0.52 0.76 0.71 0.72 0.75 0.68 0.69 176143
samples avg 0.83 0.75 0.78 0.79 0.51 0.60 0.78 0.70 0.72 0.78 0.67 0.70 176143"""

# Table 6: share of the attribute removed by GANonymization among validation images whose original has it
_TABLE6 = """Bald 1.000000
Gray Hair 1.000000
Double Chin 0.998494
Blurry 0.996370
Pale Skin 0.996337
Wearing Hat 0.993348
Wearing Necktie 0.992764
Mustache 0.992661
Chubby 0.984813
Goatee 0.973311
Wearing Necklace 0.972358
Eyeglasses 0.966012
Sideburns 0.949251
Big Nose 0.899965
Receding Hairline 0.877510
Bags Under Eyes 0.852971
Big Lips 0.780942
Wearing Earrings 0.768467
Black Hair 0.729177
Bushy Eyebrows 0.721409
5 o Clock Shadow 0.636142
Straight Hair 0.630562
Bangs 0.620606
Rosy Cheeks 0.615530
Blond Hair 0.615213
Pointy Nose 0.516256
Brown Hair 0.480853
Wavy Hair 0.410118
Narrow Eyes 0.400334
Male 0.276199
Arched Eyebrows 0.097596
Mouth Slightly Open 0.089010
High Cheekbones 0.083279
Heavy Makeup 0.054131
Wearing Lipstick 0.048915
Smiling 0.046791
Oval Face 0.044784
No Beard 0.031004
Attractive 0.028488
Young 0.001595"""


def _table5() -> dict[str, dict]:
    out = {}
    for line in _TABLE5.splitlines():
        name, v = split_printed_row(line)
        out[canonical_attribute(name)] = {**prf_by_method(v, _TABLE5_METHODS), "support": int(v[-1])}
    return out


def _table6() -> dict[str, float]:
    out = {}
    for line in _TABLE6.splitlines():
        name, v = split_printed_row(line)
        out[canonical_attribute(name)] = float(v[0])
    return out


PAPER_TABLE5 = _table5()
PAPER_TABLE6 = _table6()
