"""Paper figures (seaborn)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from ganonlib.metrics.schemas import AttributesResult, IdentityResult, InferenceResult, TrainingResult
from ganonlib.report.tables import METHOD_NAMES, PAPER_TABLE1, removal_order, scored_methods

__all__ = ["attribute_confusion", "confusion_grid", "emotion_distance_bars", "identity_bars", "removal_bars",
           "save_figure", "subplots"]


def identity_bars(result: IdentityResult, path: str | Path) -> Figure:
    """Mean cosine distance per method (bars, the kit) with the paper's values (points) and the 0.3 line."""
    rows = [{"method": METHOD_NAMES[m], "kit": s["mean"], "paper": PAPER_TABLE1[m]}
            for m, s in result["methods"].items() if m in METHOD_NAMES and s.get("provided") and s.get("n")]
    frame = pd.DataFrame(rows)
    fig, ax = subplots(figsize=(7, 3.5))
    sns.barplot(data=frame, x="method", y="kit", color="#4c72b0", ax=ax, label=f"kit ({result['recognizer']})")
    ax.scatter(range(len(frame)), frame.paper, color="black", zorder=3, label="paper (Facenet512)")
    ax.axhline(result["paper_threshold"], color="#c44e52", linestyle="--", label="0.3 threshold")
    ax.set(xlabel="", ylabel="cosine distance to the original")
    ax.legend(fontsize=8)
    ax.tick_params(axis="x", rotation=30)
    fig.tight_layout()
    save_figure(fig, path)
    return fig


def subplots(nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float], **kw) -> tuple[Figure, object]:
    """A figure outside pyplot: nothing switches the backend, nothing piles up in pyplot's figure list, and a
    notebook shows the saved PNG (``IPython.display.Image``) once."""
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(nrows, ncols, **kw)


def save_figure(fig: Figure, path: str | Path) -> Path:
    """Write ``fig`` as PNG atomically (temp file + rename), creating the folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=120)
    tmp.replace(path)
    return path


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


def confusion_grid(result: TrainingResult, split: str, path: str | Path, title: str) -> Figure:
    """Figure 10: row-normalised confusion matrices on the original ``split``, one per training set."""
    methods = list(result["methods"])
    classes = result["classes"]
    fig, axes = subplots(1, len(methods), figsize=(3.2 * len(methods), 3.4), squeeze=False)
    for ax, method in zip(axes[0], methods):
        matrix = pd.DataFrame(result["methods"][method][split]["confusion"], index=classes, columns=classes)
        sns.heatmap(matrix, vmin=0, vmax=1, cmap="Blues", annot=len(classes) <= 8, fmt=".2f", cbar=False,
                    annot_kws={"fontsize": 6}, ax=ax)
        f1 = result["methods"][method][split]["report"]["macro avg"]["f1-score"]
        ax.set(title=f"{METHOD_NAMES.get(method, method)} (macro F1 {f1:.2f})", xlabel="predicted",
               ylabel="true" if ax is axes[0][0] else "")
        ax.tick_params(labelsize=6)
    fig.suptitle(title, fontsize=9)
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
    training set."""
    methods = scored_methods(result, split)
    names = result["classes"]
    fig, axes = subplots(1, len(methods), figsize=(2.4 * len(methods) + 1, 0.22 * len(names) + 1.5),
                         squeeze=False)
    for ax, method in zip(axes[0], methods):
        cells = [[m[0][0], m[0][1], m[1][0], m[1][1]] for m in result["methods"][method][split]["confusion"]]
        frame = pd.DataFrame(cells, index=names, columns=["TN", "FP", "FN", "TP"])
        sns.heatmap(frame, vmin=0, vmax=1, cmap="Blues", cbar=False, ax=ax, yticklabels=ax is axes[0][0])
        f1 = result["methods"][method][split]["report"]["macro avg"]["f1-score"]
        ax.set(title=f"{METHOD_NAMES.get(method, method)}\n(macro F1 {f1:.2f})")
        ax.tick_params(labelsize=6)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    save_figure(fig, path)
    return fig
