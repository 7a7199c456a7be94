"""Paper tables regenerated from the kit's metrics, each cell beside the published value."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ganonlib.io import atomic_write_text
from ganonlib.methods import METHODS, paper_table1
from ganonlib.metrics.schemas import AttributesResult, IdentityResult, InferenceResult, TrainingResult
from ganonlib.report.paper_attributes import PAPER_TABLE5, PAPER_TABLE6
from ganonlib.report.paper_emotion import PAPER_TABLE2, PAPER_TABLE3, PAPER_TABLE4

__all__ = ["METHOD_NAMES", "PAPER_TABLE1", "caption_table1", "caption_table2", "caption_table3", "caption_table4",
           "caption_table5", "caption_table6", "removal_order", "scored_methods", "scored_splits", "table1", "table2",
           "table3", "table4", "table5", "table6", "write_table"]

# Table 1 of the paper: mean cosine distance (Facenet512) between original and anonymized faces, WIDER
PAPER_TABLE1 = paper_table1()
METHOD_NAMES = {name: m.display for name, m in METHODS.items()}


def _fmt(value: float | None, digits: int = 4) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def table1(result: IdentityResult) -> pd.DataFrame:
    """Rows in the paper's order: the kit's mean cosine distance, the paper's, their difference, and the kit's
    extra columns (share above 0.3, rank-1, verification rate, landmark NME)."""
    rows = []
    for method, name in METHOD_NAMES.items():
        m = result["methods"].get(method, {"provided": False})
        paper = PAPER_TABLE1[method]
        if not m.get("provided") or not m.get("n"):
            rows.append({"Method": name, "Kit": "not provided", "Paper": _fmt(paper), "Difference": "",
                         "> 0.3": "", "Rank-1": "", "Verified": "", "NME": ""})
            continue
        rows.append({"Method": name, "Kit": _fmt(m["mean"]), "Paper": _fmt(paper),
                     "Difference": f"{m['mean'] - paper:+.4f}", "> 0.3": _fmt(m["share_above_0.3"], 3),
                     "Rank-1": _fmt(m.get("rank1"), 3), "Verified": _fmt(m.get("verification_rate"), 3),
                     "NME": _fmt(m.get("nme_mean"), 3)})
    return pd.DataFrame(rows)


def write_table(table: pd.DataFrame, stem: str | Path, caption: str) -> list[Path]:
    """``<stem>.md`` (caption + markdown table) and ``<stem>.tex`` (LaTeX table), written atomically."""
    stem = Path(stem)
    md = atomic_write_text(stem.with_suffix(".md"), f"{caption}\n\n{table.to_markdown(index=False)}\n")
    tex = atomic_write_text(stem.with_suffix(".tex"), table.to_latex(index=False, caption=caption, escape=True))
    return [md, tex]


def _cell(kit: float | None, paper: float | None, digits: int = 2) -> str:
    """'kit (paper, difference)' where the paper has a value, else the kit's value alone."""
    if kit is None:
        return "not provided" if paper is None else f"not provided (paper {paper:.{digits}f})"
    if paper is None:
        return f"{kit:.{digits}f}"
    return f"{kit:.{digits}f} (paper {paper:.{digits}f}, {kit - paper:+.{digits}f})"


def table2(result: InferenceResult, kind: str, methods: list[str]) -> pd.DataFrame:
    """Mean |p_orig - p_anon| per emotion (rows) and method (columns), beside the paper's Table 2 where the
    dataset and method are the paper's; methods the stage did not get are shown as not provided."""
    paper = PAPER_TABLE2.get(kind, {})
    rows = []
    for emotion in result["classes"]:
        row = {"Emotion": emotion}
        for method in methods:
            kit = result["methods"].get(method, {}).get("mean_distance", {}).get(emotion)
            row[METHOD_NAMES.get(method, method)] = _cell(kit, paper.get(emotion, {}).get(method), 3)
        rows.append(row)
    return pd.DataFrame(rows)


def table3(result: InferenceResult, kind: str) -> pd.DataFrame:
    """Wilcoxon ours vs each baseline per emotion (Z, r, Bonferroni p with stars, N), with the paper's p, Z, r
    where the dataset and baseline are the paper's."""
    paper = PAPER_TABLE3.get(kind, {})
    order = {name: i for i, name in enumerate([*result["classes"], *result["methods"]])}
    rows = []
    for test in sorted(result["statistics"], key=lambda t: (order.get(t["emotion"]), order.get(t["baseline"]))):
        ref = paper.get(test["emotion"], {}).get(test["baseline"])
        p = test["p_bonferroni"]
        rows.append({"Emotion": test["emotion"], "Ours vs": METHOD_NAMES.get(test["baseline"], test["baseline"]),
                     "p": ("<0.001" if p < 0.001 else f"{p:.3f}") + test["stars"], "Z": f"{test['z']:.3f}",
                     "r": f"{test['r']:.3f}", "N": test["n"],
                     "paper p": "" if ref is None else ref["p"], "paper Z": "" if ref is None else f"{ref['z']:.3f}",
                     "paper r": "" if ref is None else f"{ref['r']:.3f}"})
    return pd.DataFrame(rows)


def scored_methods(result: TrainingResult, split: str) -> list[str]:
    """The training sets of a training-scenario result whose classifier was scored on ``split``."""
    return [m for m in result["methods"] if result["methods"][m][split]["n"]]


def scored_splits(result: TrainingResult) -> list[str]:
    """The original splits a training-scenario result scored (val, test; a tiny dataset may lack one)."""
    return [s for s in ("val", "test") if result["methods"]["original"][s]["n"]]


def _classification_table(result: dict, split: str, names: list[str], paper: dict, first: str) -> pd.DataFrame:
    """Rows ``names`` of the classification reports of every training set scored on ``split``: P, R, F1 per
    training set (one value for accuracy) and N, each cell beside the paper's value where ``paper`` has it."""
    methods = scored_methods(result, split)
    if not methods:
        return pd.DataFrame()
    rows = []
    for name in names:
        row: dict[str, object] = {first: name}
        for method in methods:
            entry = result["methods"][method][split]["report"][name]
            label = METHOD_NAMES.get(method, method)
            ref = paper.get(name, {}).get(method, {})
            if not isinstance(entry, dict):  # accuracy: one value
                row[f"{label} F1"] = _cell(entry, ref.get("f1"))
                continue
            for metric, short in (("precision", "P"), ("recall", "R"), ("f1-score", "F1")):
                row[f"{label} {short}"] = _cell(entry[metric], ref.get("f1" if short == "F1" else metric))
        entry = result["methods"][methods[0]][split]["report"][name]
        support = int(entry["support"]) if isinstance(entry, dict) else result["methods"][methods[0]][split]["n"]
        row["N"] = f"{support}" + (f" (paper {paper[name]['support']})" if name in paper else "")
        rows.append(row)
    return pd.DataFrame(rows).fillna("")  # accuracy has no P and R


def table4(result: TrainingResult, kind: str, split: str) -> pd.DataFrame:
    """Classification report per training set (Original, each method): P, R, F1 per class, accuracy, macro and
    weighted averages on the original ``split``; the paper's values (its validation split) beside them."""
    paper = PAPER_TABLE4.get(kind, {}) if split == "val" else {}
    return _classification_table(result, split, [*result["classes"], "accuracy", "macro avg", "weighted avg"],
                                 paper, "Class")


def table5(result: TrainingResult, kind: str, split: str) -> pd.DataFrame:
    """Multi-label classification report per training set: P, R, F1 per attribute and the micro, macro, weighted
    and samples averages on the original ``split``; CelebA's paper values (validation split) beside them."""
    paper = PAPER_TABLE5 if kind == "celeba" and split == "val" else {}
    return _classification_table(result, split, [*result["classes"], "micro avg", "macro avg", "weighted avg",
                                                 "samples avg"], paper, "Attribute")


def removal_order(result: AttributesResult) -> tuple[str, list[str]]:
    """(the method that orders Table 6 and Figure 9: ours where present, its attributes by removal rate, highest
    first, those no original has last)."""
    first = "ours" if "ours" in result["methods"] else next(iter(result["methods"]))
    rates = result["methods"][first]["removal_rate"]
    return first, sorted(result["attributes"], key=lambda a: -1.0 if rates.get(a) is None else rates[a],
                         reverse=True)


def table6(result: AttributesResult, kind: str) -> pd.DataFrame:
    """Removal rate per attribute (rows, sorted by ours) and method, with the originals predicted positive; the
    paper's CelebA rates for GANonymization beside ours."""
    paper = PAPER_TABLE6 if kind == "celeba" else {}
    methods = list(result["methods"])
    first, order = removal_order(result)
    rows = []
    for attribute in order:
        row: dict[str, object] = {"Attribute": attribute,
                                  "Originals with it": result["methods"][first]["positives"][attribute]}
        for method in methods:
            kit = result["methods"][method]["removal_rate"].get(attribute)
            ref = paper.get(attribute) if method == "ours" else None
            row[METHOD_NAMES.get(method, method)] = _cell(kit, ref, 3) if kit is not None or ref is not None \
                else "no original has it"
        rows.append(row)
    return pd.DataFrame(rows)


# Captions name what produced each table (dataset, split, recognizer or classifier, labels): the stage that
# writes a table and the paper report that regenerates it use the same words.

def caption_table1(result: IdentityResult) -> str:
    return (f"Table 1 - mean cosine distance original vs anonymized on {result['dataset']} ({result['split']} "
            f"split, {result['n_originals']} faces): kit with {result['recognizer']} (own threshold "
            f"{result['recognizer_threshold']}), paper with Facenet512 on WIDER.")


def caption_table2(result: InferenceResult) -> str:
    return (f"Table 2 - mean |p_orig - p_anon| per emotion on {result['dataset']} ({result['split']} split, "
            f"{result['n_images']} faces), classifier: {result['classifier']}. Paper: its classifiers on "
            "AffectNet, CK+, FACES validation splits.")


def caption_table3(result: InferenceResult) -> str:
    return (f"Table 3 - Wilcoxon signed-rank, ours vs each baseline, per emotion on {result['dataset']} "
            f"({result['split']} split); p after Bonferroni over the {len(result['statistics'])} tests of this "
            "dataset (* < 0.05, ** < 0.01, *** < 0.001); Z < 0: ours changed the probabilities less. Classifier: "
            f"{result['classifier']}.")


def _classifier_caption(number: int, what: str, result: dict, split: str, paper: str) -> str:
    return (f"Table {number} - {what} ({result['config']['arch']}, backbone "
            f"{result['methods']['original']['backbone_weights']}) trained on each training set of "
            f"{result['dataset']}, scored on the original {split} split; labels: {result['label_source']}."
            + (f" Paper: {paper}." if split == "val" else ""))


def caption_table4(result: TrainingResult, split: str) -> str:
    return _classifier_caption(4, "classifiers", result, split, "its validation split")


def caption_table5(result: TrainingResult, split: str) -> str:
    return _classifier_caption(5, "multi-label classifiers", result, split, "CelebA validation split")


def caption_table6(result: AttributesResult) -> str:
    return (f"Table 6 - share of each attribute removed by anonymization on {result['dataset']} "
            f"({result['split']} split, {result['n_images']} faces): among originals the classifier "
            f"({result['classifier']}) predicts to have it, the share of anonymized versions predicted not to; "
            f"labels: {result['label_source']}. Paper: GANonymization on the CelebA validation split.")
