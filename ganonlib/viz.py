"""Small image grids for notebooks and reports."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image

from ganonlib.io import read_image

__all__ = ["image_grid"]


def image_grid(rows: Sequence[Sequence[np.ndarray | str | Path]], cell: int = 128) -> Image.Image:
    """Rows of images (arrays or paths; greyscale is expanded) resized to ``cell`` x ``cell`` and tiled."""
    n_cols = max(len(r) for r in rows)
    canvas = np.zeros((len(rows) * cell, n_cols * cell, 3), dtype=np.uint8)
    for i, row in enumerate(rows):
        for j, item in enumerate(row):
            arr = read_image(item, min_side=1) if isinstance(item, (str, Path)) else np.asarray(item)
            if arr.ndim == 2:
                arr = np.repeat(arr[..., None], 3, axis=2)
            tile = Image.fromarray(arr.astype(np.uint8)).resize((cell, cell), Image.Resampling.LANCZOS)
            canvas[i * cell:(i + 1) * cell, j * cell:(j + 1) * cell] = np.asarray(tile)
    return Image.fromarray(canvas)
