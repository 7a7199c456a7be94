"""Figures drawn outside pyplot, and the training curves: the GAN's losses and the classifiers' of the training
scenario, each method one line on a shared axis. Kept apart from the paper's figures, so that the GAN's stage does
not depend on the report's code (a change to a table must not retrain the GAN)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from ganonlib.methods import METHODS, display_name

__all__ = ["gan_losses_figure", "save_figure", "subplots", "training_curves"]


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


def gan_losses_figure(out_dir: str | Path) -> Figure | None:
    """The GAN's mean losses per epoch (``<out_dir>/losses.csv``): the generator's L1 and the discriminator's loss on
    their own axes. None when no training wrote them (a published generator)."""
    path = Path(out_dir) / "losses.csv"
    if not path.is_file():
        return None
    losses = pd.read_csv(path)
    fig, axes = subplots(1, 2, figsize=(8, 3))
    for ax, column, label in zip(axes, ("g_l1", "d_total"), ("generator L1 loss", "discriminator loss")):
        sns.lineplot(data=losses, x="epoch", y=column, marker="o", ax=ax)
        ax.set(xlabel="epoch", ylabel=label)
    fig.tight_layout()
    return fig


def training_curves(live_dir: str | Path, path: str | Path, title: str) -> Figure | None:
    """The classifiers of the training scenario, one line per training set: training and validation loss per epoch
    (from the DVCLive log ``<live_dir>/epoch``), so that the methods can be compared on one axis."""
    rows = []
    order = list(METHODS)  # the paper's: original, ours, then the baselines
    tsvs = Path(live_dir, "epoch", "plots", "metrics").glob("*/*.tsv")
    for tsv in sorted(tsvs, key=lambda p: (order.index(p.parent.name) if p.parent.name in order else len(order),
                                           p.parent.name, p.name)):
        frame = pd.read_csv(tsv, sep="\t")
        metric = tsv.stem
        rows += [{"method": display_name(tsv.parent.name), "epoch": int(e), "metric": metric,
                  "loss": v} for e, v in zip(frame["step"], frame[frame.columns[-1]])]
    if not rows:
        return None
    frame = pd.DataFrame(rows)
    fig, axes = subplots(1, 2, figsize=(10, 3.6))
    for ax, metric, label in zip(axes, ("train_loss", "val_loss"), ("training loss", "validation loss (originals)")):
        sns.lineplot(data=frame[frame.metric == metric], x="epoch", y="loss", hue="method",
                     hue_order=list(dict.fromkeys(frame.method)), marker="o", ax=ax)
        ax.set(xlabel="epoch", ylabel=label)
        ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    save_figure(fig, path)
    return fig
