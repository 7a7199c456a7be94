"""Classic anonymization baselines of the paper's Table 1, applied to the same aligned crops as ours.

Pixel N x N: the face reduced to an N x N grid (area average) and scaled back with nearest neighbour, so 8 x 8
hides more than 16 x 16. Blur k x k: a Gaussian with a k x k kernel (sigma from the kernel size, as OpenCV derives
it).
"""
from __future__ import annotations

import os
from functools import partial
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from ganonlib.anonymize.method_outputs import finish_method, pair_index, write_output
from ganonlib.cluster import map_chunks
from ganonlib.io import read_image

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


def _baseline_chunk(method: str, base: str, processed_dir: str, out_dir: str, entries: list[dict]) -> list[dict]:
    """Write ``method``'s version of the crops of ``entries``; relative paths are the caller's, under ``base``."""
    transform = BASELINES[method]
    return [write_output(e, transform(read_image(Path(base) / processed_dir / e["image"])), base, processed_dir,
                         out_dir) for e in entries]


def apply_baseline(processed_dir: str | Path, out_dir: str | Path, method: str, progress: bool = True,
                   splits: tuple[str, ...] | None = None, scheduler: str = "", n_jobs: int = 1) -> dict:
    """Apply a baseline of :data:`BASELINES` to every original crop, here or where ``scheduler`` / ``n_jobs`` say
    (:func:`ganonlib.cluster.map_chunks`)."""
    if method not in BASELINES:
        raise ValueError(f"unknown baseline {method!r}; choose one of {sorted(BASELINES)}")
    entries = pair_index(Path(processed_dir), splits).to_dict(orient="records")
    rows = map_chunks(partial(_baseline_chunk, method, os.getcwd(), str(processed_dir), str(out_dir)), entries,
                      scheduler=scheduler, n_jobs=n_jobs, chunk_size=256, desc=method, progress=progress)
    return finish_method(Path(out_dir), rows, {"method": method, "provided": True, "pairs": len(rows)})
