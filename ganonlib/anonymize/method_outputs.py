"""What every anonymization method writes: ``<out>/<split>/<key>.png``, an ``index.csv`` (key, split, image,
original, subject, label, attributes) and a ``summary.json`` naming what produced it, so the evaluation compares
like with like. A leaf module: the dataset runner and the generator both write through it."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from ganonlib.io import atomic_write_image, atomic_write_json, atomic_write_text, frame_csv

__all__ = ["INDEX_COLUMNS", "finish_method", "output_row", "pair_index", "write_output"]

INDEX_COLUMNS = ["key", "split", "image", "original", "subject", "label", "attributes"]


def pair_index(processed_dir: Path, splits: tuple[str, ...] | None = None) -> pd.DataFrame:
    index = pd.read_csv(processed_dir / "index.csv", keep_default_na=False)
    return index if splits is None else index[index.split.isin(splits)].reset_index(drop=True)


def output_row(entry: Any, processed_dir: Path) -> dict:
    return {"key": entry.key, "split": entry.split, "image": f"{entry.split}/{entry.key}.png",
            "original": str(processed_dir / entry.image), "subject": entry.subject, "label": entry.label,
            "attributes": entry.attributes}


def write_output(entry: dict, image: np.ndarray, base: str, processed_dir: str, out_dir: str) -> dict:
    """Write ``image`` as the output of ``entry`` (a row of the pair index) and return its index row; relative
    paths are the caller's, under ``base`` (a worker of a pool or cluster may have started elsewhere)."""
    row = output_row(SimpleNamespace(**entry), Path(processed_dir))
    atomic_write_image(Path(base) / out_dir / row["image"], image)
    return row


def finish_method(out_dir: Path, rows: list[dict], summary: dict) -> dict:
    atomic_write_text(out_dir / "index.csv", frame_csv(pd.DataFrame(rows, columns=INDEX_COLUMNS)))
    atomic_write_json(out_dir / "summary.json", summary)
    return summary
