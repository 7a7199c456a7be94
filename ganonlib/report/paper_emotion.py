"""The paper's emotion results (Tables 2-4), as printed, keyed by the kit's class names.

The blocks below are the paper's rows copied verbatim (its "Sadness" is the kit's ``sad`` for AffectNet and FACES,
whose loaders say ``sad``, and ``sadness`` for CK+); they are parsed once at import.
"""
from __future__ import annotations

__all__ = ["PAPER_TABLE2", "PAPER_TABLE3", "PAPER_TABLE4", "PAPER_DATASETS", "canonical_class", "prf_by_method",
           "split_printed_row"]

PAPER_DATASETS = ("affectnet", "ckplus", "faces")
_PAPER_METHODS = ("ours", "deepprivacy2", "ciagan")
_TABLE4_METHODS = ("original", "ours", "deepprivacy2", "ciagan")


def canonical_class(dataset: str, name: str) -> str:
    name = name.strip().lower()
    if name == "sadness" and dataset in ("affectnet", "faces"):
        return "sad"
    return name


# Table 2: mean |p_orig - p_anon| per emotion; columns Ours, DP2, CIA
_TABLE2 = {
    "affectnet": """Neutral 0.09 0.17 0.10
Anger 0.14 0.19 0.15
Contempt 0.09 0.18 0.10
Disgust 0.10 0.19 0.12
Fear 0.15 0.12 0.11
Happy 0.13 0.11 0.10
Sadness 0.10 0.16 0.09
Surprise 0.10 0.20 0.10""",
    "ckplus": """Anger 0.14 0.30 0.18
Contempt 0.09 0.25 0.04
Disgust 0.21 0.30 0.23
Fear 0.06 0.08 0.06
Happy 0.07 0.31 0.19
Sadness 0.09 0.14 0.14
Surprise 0.08 0.26 0.05""",
    "faces": """Neutral 0.11 0.31 0.12
Anger 0.11 0.36 0.14
Disgust 0.08 0.18 0.15
Fear 0.02 0.16 0.07
Happy 0.04 0.17 0.02
Sadness 0.13 0.31 0.15""",
}

# Table 3: Ours vs DeepPrivacy2 (p, Z, r), Ours vs CIAGAN (p, Z, r), N; p after Bonferroni, "<0.001" as printed
_TABLE3 = {
    "affectnet": """neutral <0.001 -26.149391 -0.499194 0.119 -26.183915 -0.492635 2744
anger <0.001 -10.844502 -0.207023 1.000 -10.331517 -0.194381 2744
contempt <0.001 -26.046682 -0.497233 0.013 -26.187686 -0.492706 2744
disgust <0.001 -25.431412 -0.485488 <0.001 -25.441451 -0.478666 2744
fear <0.001 -15.905089 -0.303630 <0.001 -15.850979 -0.298227 2744
happy <0.001 -12.989478 -0.247970 <0.001 -12.821720 -0.241233 2744
sadness <0.001 -4.724173 -0.090185 <0.001 -4.195525 -0.078936 2744
surprise <0.001 -25.921903 -0.494851 0.034 -26.142871 -0.491863 2744""",
    "ckplus": """anger <0.001 -3.941178 -0.477938 <0.001 -3.415688 -0.414213 68
contempt <0.001 -4.326130 -0.524620 <0.001 -6.495306 -0.787672 68
disgust <0.001 -3.635660 -0.440889 0.158 -1.411492 -0.171169 68
fear 0.002 -3.067397 -0.371977 0.001 -3.201825 -0.388278 68
happy <0.001 -3.415688 -0.414213 <0.001 -3.440129 -0.417177 68
sadness 0.146 -1.454264 -0.176355 <0.001 -4.741634 -0.575008 68
surprise 0.051 -1.949203 -0.236376 <0.001 -4.069495 -0.493499 68""",
    "faces": """neutral <0.001 -6.869167 -0.469567 <0.001 -4.080480 -0.278936 214
happy 0.965 -0.043556 -0.002977 0.102 -1.633626 -0.111672 214
sadness <0.001 -4.305428 -0.294313 0.018 -2.366910 -0.161799 214
fear 0.287 -1.064641 -0.072777 <0.001 -8.291628 -0.566804 214
disgust 0.014 -2.459535 -0.168130 <0.001 -8.192387 -0.560020 214
anger <0.001 -6.771028 -0.462858 0.052 -1.945685 -0.133004 214""",
}

# Table 4 (validation split): P R F1 for Original, GANonymization, DeepPrivacy2, CIAGAN, then N; accuracy rows
# carry one value per model
_TABLE4 = {
    "affectnet": """Neutral 0.49 0.41 0.45 0.43 0.08 0.14 0.26 0.14 0.18 0.30 0.34 0.32 360
Anger 0.58 0.59 0.58 0.34 0.50 0.41 0.22 0.24 0.23 0.28 0.38 0.32 346
Contempt 0.48 0.67 0.56 0.37 0.28 0.32 0.28 0.23 0.25 0.41 0.27 0.33 354
Disgust 0.58 0.54 0.56 0.62 0.12 0.20 0.25 0.36 0.29 0.32 0.44 0.38 357
Fear 0.65 0.62 0.63 0.32 0.69 0.44 0.38 0.39 0.38 0.54 0.20 0.29 357
Happy 0.57 0.51 0.53 0.30 0.36 0.33 0.28 0.40 0.33 0.39 0.45 0.42 362
Sadness 0.68 0.77 0.72 0.48 0.74 0.58 0.41 0.49 0.45 0.60 0.61 0.60 352
Surprise 0.66 0.55 0.60 0.39 0.19 0.25 0.36 0.16 0.22 0.39 0.36 0.37 337
accuracy 0.58 0.37 0.30 0.38 2825
macro avg 0.59 0.58 0.58 0.41 0.37 0.33 0.31 0.30 0.29 0.40 0.38 0.38 2825
weighted avg 0.58 0.58 0.58 0.41 0.37 0.33 0.30 0.30 0.29 0.40 0.38 0.38 2825""",
    "ckplus": """Anger 1.00 1.00 1.00 0.00 0.00 0.00 0.25 0.33 0.29 0.33 0.22 0.27 9
Contempt 0.75 1.00 0.86 0.00 0.00 0.00 0.00 0.00 0.00 0.67 0.67 0.67 3
Disgust 1.00 1.00 1.00 0.73 0.65 0.69 0.73 0.47 0.57 0.58 0.65 0.61 17
Fear 1.00 1.00 1.00 0.75 1.00 0.86 0.25 0.33 0.29 1.00 0.33 0.50 3
Happy 1.00 1.00 1.00 0.85 1.00 0.92 0.39 0.41 0.40 0.75 0.53 0.62 17
Sadness 1.00 1.00 1.00 0.25 0.67 0.36 0.00 0.00 0.00 0.20 0.67 0.31 3
Surprise 1.00 0.94 0.97 0.78 0.88 0.82 0.55 0.75 0.63 0.88 0.94 0.91 16
accuracy 0.99 0.69 0.46 0.62 68
macro avg 0.96 0.99 0.97 0.48 0.60 0.52 0.31 0.33 0.31 0.63 0.57 0.55 68
weighted avg 0.99 0.99 0.99 0.62 0.69 0.65 0.45 0.46 0.44 0.67 0.62 0.62 68""",
    "faces": """neutral 0.97 0.97 0.97 0.95 0.56 0.70 0.86 0.53 0.66 0.64 0.64 0.64 36
happy 0.97 1.00 0.99 0.86 1.00 0.92 0.78 0.97 0.86 0.97 1.00 0.99 36
sadness 0.94 0.94 0.94 0.70 0.72 0.71 0.44 0.58 0.50 0.65 0.67 0.66 36
fear 1.00 1.00 1.00 0.92 1.00 0.96 0.64 0.88 0.74 0.78 0.94 0.85 34
disgust 0.94 0.94 0.94 1.00 0.67 0.80 0.68 0.58 0.63 0.74 0.56 0.63 36
anger 0.97 0.94 0.96 0.62 0.92 0.74 0.86 0.50 0.63 0.69 0.69 0.69 36
accuracy 0.97 0.81 0.67 0.75 214
macro avg 0.97 0.97 0.97 0.84 0.81 0.81 0.71 0.67 0.67 0.75 0.75 0.74 214
weighted avg 0.97 0.97 0.97 0.84 0.81 0.80 0.71 0.67 0.67 0.75 0.75 0.74 214""",
}


def split_printed_row(line: str) -> tuple[str, list[str]]:
    """'macro avg 0.1 0.2' -> ('macro avg', ['0.1', '0.2']): the name is every word before the first value (a word
    starting with a digit, '-' or '<'); the first word always belongs to the name ('5 o Clock Shadow')."""
    words = line.split()
    first = next(i for i in range(1, len(words)) if words[i][0].isdigit() or words[i][0] in "-<")
    return " ".join(words[:first]), words[first:]


def prf_by_method(values: list[str], methods: tuple[str, ...]) -> dict[str, dict[str, float]]:
    """Printed 'P R F1' triples, one per method in order -> {method: {precision, recall, f1}}."""
    return {m: {"precision": float(values[3 * i]), "recall": float(values[3 * i + 1]),
                "f1": float(values[3 * i + 2])} for i, m in enumerate(methods)}


def _table2() -> dict[str, dict[str, dict[str, float]]]:
    out: dict[str, dict[str, dict[str, float]]] = {}
    for dataset, block in _TABLE2.items():
        for line in block.splitlines():
            name, values = split_printed_row(line)
            out.setdefault(dataset, {})[canonical_class(dataset, name)] = dict(zip(_PAPER_METHODS,
                                                                                  map(float, values)))
    return out


def _table3() -> dict[str, dict[str, dict]]:
    out: dict[str, dict[str, dict]] = {}
    for dataset, block in _TABLE3.items():
        for line in block.splitlines():
            name, v = split_printed_row(line)
            out.setdefault(dataset, {})[canonical_class(dataset, name)] = {
                "deepprivacy2": {"p": v[0], "z": float(v[1]), "r": float(v[2])},
                "ciagan": {"p": v[3], "z": float(v[4]), "r": float(v[5])}, "n": int(v[6])}
    return out


def _table4() -> dict[str, dict[str, dict]]:
    out: dict[str, dict[str, dict]] = {}
    for dataset, block in _TABLE4.items():
        for line in block.splitlines():
            name, v = split_printed_row(line)
            key = name.lower() if name.lower() in ("accuracy", "macro avg", "weighted avg") \
                else canonical_class(dataset, name)
            if key == "accuracy":
                row = {m: {"f1": float(x)} for m, x in zip(_TABLE4_METHODS, v[:4])}
            else:
                row = prf_by_method(v, _TABLE4_METHODS)
            out.setdefault(dataset, {})[key] = {**row, "support": int(v[-1])}
    return out


PAPER_TABLE2 = _table2()
PAPER_TABLE3 = _table3()
PAPER_TABLE4 = _table4()
