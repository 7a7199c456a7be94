"""Classic anonymization baselines of the paper's Table 1, applied to the same aligned crops as ours.

Pixel N x N: the face reduced to an N x N grid (area average) and scaled back with nearest neighbour, so 8 x 8
hides more than 16 x 16. Blur k x k: a Gaussian with a k x k kernel (sigma from the kernel size, as OpenCV derives
it).
"""
from __future__ import annotations

from typing import Callable

import cv2
import numpy as np

__all__ = ["BASELINES", "gaussian_blur", "pixelate"]


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
