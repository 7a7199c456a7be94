"""Paper figures (seaborn)."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from ganonlib.report.tables import METHOD_NAMES, PAPER_TABLE1  # noqa: E402

__all__ = ["identity_bars"]


def identity_bars(result: dict, path: str | Path) -> plt.Figure:
    """Mean cosine distance per method (bars, the kit) with the paper's values (points) and the 0.3 line."""
    rows = [{"method": METHOD_NAMES[m], "kit": s["mean"], "paper": PAPER_TABLE1[m]}
            for m, s in result["methods"].items() if m in METHOD_NAMES and s.get("provided") and s.get("n")]
    frame = pd.DataFrame(rows)
    fig, ax = plt.subplots(figsize=(7, 3.5))
    sns.barplot(data=frame, x="method", y="kit", color="#4c72b0", ax=ax, label=f"kit ({result['recognizer']})")
    ax.scatter(range(len(frame)), frame.paper, color="black", zorder=3, label="paper (Facenet512)")
    ax.axhline(result["paper_threshold"], color="#c44e52", linestyle="--", label="0.3 threshold")
    ax.set(xlabel="", ylabel="cosine distance to the original")
    ax.legend(fontsize=8)
    ax.tick_params(axis="x", rotation=30)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=120)
    tmp.replace(path)
    return fig
