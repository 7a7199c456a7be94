"""Paper tables regenerated from the kit's metrics, each cell beside the published value."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ganonlib.io import atomic_write_text

__all__ = ["METHOD_NAMES", "PAPER_TABLE1", "table1", "write_table"]

# Table 1 of the paper: mean cosine distance (Facenet512) between original and anonymized faces, WIDER
PAPER_TABLE1 = {"original": 0.0, "ours": 0.7145, "deepprivacy2": 0.8119, "ciagan": 0.9280, "pixel8": 0.8791,
                "pixel16": 0.6651, "blur9": 0.0102, "blur17": 0.0725}
METHOD_NAMES = {"original": "Original", "ours": "Ours", "deepprivacy2": "DeepPrivacy2", "ciagan": "CIAGAN",
                "pixel8": "Pixel 8x8", "pixel16": "Pixel 16x16", "blur9": "Blur 9x9", "blur17": "Blur 17x17"}


def _fmt(value: float | None, digits: int = 4) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def table1(result: dict) -> pd.DataFrame:
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
