"""Classic anonymization baselines of the paper's Table 1, applied to the same aligned crops as ours.

Pixel N x N: the face reduced to an N x N grid (area average) and scaled back with nearest neighbour, so 8 x 8
hides more than 16 x 16. Blur k x k: a Gaussian with a k x k kernel (sigma from the kernel size, as OpenCV derives
it).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import cv2
import numpy as np
from tqdm.auto import tqdm

from ganonlib.anonymize.method_outputs import finish_method, output_row, pair_index
from ganonlib.io import atomic_write_image, read_image

__all__ = ["BASELINES", "apply_baseline", "gaussian_blur", "pixelate"]


def pixelate(image: np.ndarray, grid: int) -> np.ndarray:
    """(H, W, C) uint8 -> the same size, made of grid x grid constant blocks."""
    height, width = image.shape[:2]
    small = cv2.resize(image, (grid, grid), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_NEAREST)


def gaussian_blur(image: np.ndarray, kernel: int) -> np.ndarray:
    """(H, W, C) uint8 -> Gaussian blur with a kernel x kernel window (odd)."""
    if kernel % 2 == 0:
        raise ValueError(f"a Gaussian kernel needs an odd size, got {kernel}")
    return cv2.GaussianBlur(image, (kernel, kernel), 0)


BASELINES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "pixel8": lambda image: pixelate(image, 8),
    "pixel16": lambda image: pixelate(image, 16),
    "blur9": lambda image: gaussian_blur(image, 9),
    "blur17": lambda image: gaussian_blur(image, 17),
}


def apply_baseline(processed_dir: str | Path, out_dir: str | Path, method: str, progress: bool = True,
                   splits: tuple[str, ...] | None = None) -> dict:
    """Apply a baseline of :data:`BASELINES` to every original crop."""
    if method not in BASELINES:
        raise ValueError(f"unknown baseline {method!r}; choose one of {sorted(BASELINES)}")
    processed_dir, out_dir = Path(processed_dir), Path(out_dir)
    transform: Callable[[np.ndarray], np.ndarray] = BASELINES[method]
    rows = []
    for entry in tqdm(list(pair_index(processed_dir, splits).itertuples()), desc=method, disable=not progress):
        row = output_row(entry, processed_dir)
        atomic_write_image(out_dir / row["image"], transform(read_image(processed_dir / entry.image)))
        rows.append(row)
    return finish_method(out_dir, rows, {"method": method, "provided": True, "pairs": len(rows)})
