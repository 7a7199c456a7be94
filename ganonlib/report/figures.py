"""Paper figures (seaborn)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from ganonlib.metrics.schemas import AttributesResult, IdentityResult, InferenceResult, TrainingResult
from ganonlib.report.curves import save_figure, subplots
from ganonlib.report.tables import METHOD_NAMES, PAPER_TABLE1, removal_order, scored_methods

__all__ = ["attribute_confusion", "confusion_grid", "emotion_distance_bars", "identity_bars", "removal_bars"]


def identity_bars(result: IdentityResult, path: str | Path) -> Figure:
    """Table 1 as bars: the kit's mean cosine distance per method on its recognizer's axis, with that recognizer's
    threshold, beside the paper's values on their own axis (Facenet512, threshold 0.3): two recognizers' distances
    are not on one scale."""
    rows = [{"method": METHOD_NAMES[m], "kit": s["mean"], "paper": PAPER_TABLE1[m]}
            for m, s in result["methods"].items() if m in METHOD_NAMES and s.get("provided") and s.get("n")]
    frame = pd.DataFrame(rows)
    fig, axes = subplots(1, 2, figsize=(10, 3.8))
    panels = ((f"kit ({result['recognizer']})", "kit", result.get("recognizer_threshold")),
              ("paper (Facenet512)", "paper", result["paper_threshold"]))
    for ax, (title, column, threshold) in zip(axes, panels):
        sns.barplot(data=frame, x="method", y=column, color="#4c72b0" if column == "kit" else "#8c8c8c", ax=ax)
        if threshold is not None:
            ax.axhline(threshold, color="#c44e52", linestyle="--", label=f"threshold {threshold:g}")
            ax.legend(fontsize=8)
        ax.set(xlabel="", ylabel="cosine distance to the original", title=title)
        ax.tick_params(axis="x", rotation=30)
    fig.tight_layout()
    save_figure(fig, path)
    return fig


def emotion_distance_bars(result: InferenceResult, path: str | Path, title: str) -> Figure:
    """Figure 7: mean |p_orig - p_anon| per emotion, one bar per method (lower = expression better preserved)."""
    rows = [{"emotion": e, "method": METHOD_NAMES.get(m, m), "distance": v}
            for m, s in result["methods"].items() for e, v in s["mean_distance"].items() if v is not None]
    fig, ax = subplots(figsize=(8, 3.5))
    sns.barplot(data=pd.DataFrame(rows), x="emotion", y="distance", hue="method", ax=ax)
    ax.set(xlabel="", ylabel="mean |p_orig - p_anon|", title=title)
    ax.legend(fontsize=7, ncol=4)
    fig.tight_layout()
    save_figure(fig, path)
    return fig


def _panel_grid(n: int, columns: int, width: float, height: float) -> tuple[Figure, list]:
    """``n`` panels in rows of at most ``columns``, each ``width`` x ``height`` inches; unused axes hidden."""
    cols = min(n, columns)
    rows = -(-n // cols)
    fig, axes = subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    flat = list(axes.flat)
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def confusion_grid(result: TrainingResult, split: str, path: str | Path, title: str) -> Figure:
    """Figure 10: row-normalised confusion matrices on the original ``split``, one per training set, three to a row
    at a size where every cell's value can be read."""
    methods = list(result["methods"])
    classes = result["classes"]
    fig, axes = _panel_grid(len(methods), 3, 4.2, 4.0)
    for k, (ax, method) in enumerate(zip(axes, methods)):
        matrix = pd.DataFrame(result["methods"][method][split]["confusion"], index=classes, columns=classes)
        sns.heatmap(matrix, vmin=0, vmax=1, cmap="Blues", annot=len(classes) <= 10, fmt=".2f", cbar=False,
                    annot_kws={"fontsize": 8}, ax=ax)
        f1 = result["methods"][method][split]["report"]["macro avg"]["f1-score"]
        ax.set(title=f"{METHOD_NAMES.get(method, method)} (macro F1 {f1:.2f})", xlabel="predicted",
               ylabel="true" if k % 3 == 0 else "")
        ax.tick_params(labelsize=8)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    save_figure(fig, path)
    return fig


def removal_bars(result: AttributesResult, path: str | Path, title: str) -> Figure:
    """Figure 9: removal rate per attribute, sorted by ours, one bar per method."""
    _, order = removal_order(result)
    rows = [{"attribute": a, "method": METHOD_NAMES.get(m, m), "removed": v}
            for m, s in result["methods"].items() for a, v in s["removal_rate"].items() if v is not None]
    fig, ax = subplots(figsize=(7, 0.22 * len(order) + 1.5))
    sns.barplot(data=pd.DataFrame(rows), y="attribute", x="removed", hue="method", order=order, orient="h", ax=ax)
    ax.set(xlabel="share removed among originals that have it", ylabel="", title=title, xlim=(0, 1))
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, path)
    return fig


def attribute_confusion(result: TrainingResult, split: str, path: str | Path, title: str) -> Figure:
    """Figure 11: per attribute the row-normalised confusion matrix (TN, FP | FN, TP rates), one panel per
    training set, four to a row, each naming its attributes."""
    methods = scored_methods(result, split)
    names = result["classes"]
    fig, axes = _panel_grid(len(methods), 4, 3.4, 0.2 * len(names) + 1.6)
    for ax, method in zip(axes, methods):
        cells = [[m[0][0], m[0][1], m[1][0], m[1][1]] for m in result["methods"][method][split]["confusion"]]
        frame = pd.DataFrame(cells, index=names, columns=["TN", "FP", "FN", "TP"])
        sns.heatmap(frame, vmin=0, vmax=1, cmap="Blues", cbar=False, ax=ax, yticklabels=True)
        f1 = result["methods"][method][split]["report"]["macro avg"]["f1-score"]
        ax.set(title=f"{METHOD_NAMES.get(method, method)}\n(macro F1 {f1:.2f})")
        ax.tick_params(labelsize=7)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    save_figure(fig, path)
    return fig
