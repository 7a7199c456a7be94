"""The fallback for a face that is found but cannot be re-synthesized: its whole region is covered.

Fail closed: a face the detector found never leaves the kit as it came in. When the generator cannot replace it (no
mesh, beyond a cap, a failed generation, a mesh that does not match the detection), the detection box grown by a
margin is covered by a strong blur or a solid fill.
"""
from __future__ import annotations

import cv2
import numpy as np

from ganonlib.config import FALLBACKS

__all__ = ["COVER_FADE", "COVER_MARGIN", "FALLBACKS", "changed_share", "cover_box", "cover_region", "grown_box"]

COVER_MARGIN = 0.25  # of the box size on each side: detectors' boxes stop at the brows and leave out the hairline
COVER_FADE = 0.25  # of the box's larger side: the soft band around a covered box, outside it
_BLUR_CELLS = 6  # a covered face keeps no more detail than a 6 x 6 grid of colours, then blurred


def grown_box(box: tuple[float, float, float, float], shape: tuple[int, ...],
              margin: float = COVER_MARGIN) -> tuple[int, int, int, int]:
    """Integer (x0, y0, x1, y1) of ``box`` grown by ``margin`` of its size on each side, clipped to the image."""
    x0, y0, x1, y1 = box
    dx, dy = (x1 - x0) * margin, (y1 - y0) * margin
    height, width = shape[:2]
    return (max(0, int(np.floor(x0 - dx))), max(0, int(np.floor(y0 - dy))),
            min(width, int(np.ceil(x1 + dx))), min(height, int(np.ceil(y1 + dy))))


def cover_region(region: np.ndarray, kind: str) -> np.ndarray:
    """(h, w, 3) uint8 -> the same size with nothing recognisable left: ``blur`` (area-averaged to a coarse grid,
    then smoothed; fast for any size) or ``fill`` (black)."""
    if kind not in FALLBACKS or kind == "none":
        raise ValueError(f"unknown cover {kind!r}; choose blur or fill")
    height, width = region.shape[:2]
    if kind == "fill" or min(height, width) < 2:
        return np.zeros_like(region)
    cells = (max(1, round(_BLUR_CELLS * width / max(height, width))),
             max(1, round(_BLUR_CELLS * height / max(height, width))))
    coarse = cv2.resize(region, cells, interpolation=cv2.INTER_AREA)
    return cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)


def cover_box(image: np.ndarray, box: tuple[float, float, float, float], kind: str,
              margin: float = COVER_MARGIN, fade: float = COVER_FADE) -> np.ndarray:
    """A copy of ``image`` (H, W, 3) with the face ``box`` (grown by ``margin``) covered by ``kind``: entirely inside
    the grown box, fading out over ``fade`` of the box's larger side beyond it (no hard edge left in the photo)."""
    x0, y0, x1, y1 = grown_box(box, image.shape, margin)
    if x1 <= x0 or y1 <= y0:
        return image.copy()
    band = int(np.ceil(fade * max(box[2] - box[0], box[3] - box[1]))) if fade > 0 else 0
    height, width = image.shape[:2]
    ox0, oy0, ox1, oy1 = max(0, x0 - band), max(0, y0 - band), min(width, x1 + band), min(height, y1 + band)
    region = image[oy0:oy1, ox0:ox1]
    covered = cover_region(region, kind).astype(np.float32)
    # distance (px) outside the grown box along each axis, then a smoothstep from 1 at the box to 0 at the band's end
    ys, xs = np.mgrid[oy0:oy1, ox0:ox1]
    dx = np.maximum(np.maximum(x0 - xs, xs - (x1 - 1)), 0)
    dy = np.maximum(np.maximum(y0 - ys, ys - (y1 - 1)), 0)
    outside = np.hypot(dx, dy)
    t = np.clip(1.0 - outside / max(band, 1), 0.0, 1.0) if band else (outside == 0).astype(np.float64)
    alpha = (t * t * (3.0 - 2.0 * t)).astype(np.float32)[..., None]
    out = image.copy()
    out[oy0:oy1, ox0:ox1] = np.clip(np.rint(region * (1.0 - alpha) + covered * alpha), 0, 255).astype(np.uint8)
    return out


def changed_share(before: np.ndarray, after: np.ndarray, box: tuple[float, float, float, float],
                  level: int = 20) -> float:
    """Share of the pixels inside ``box`` (clipped to the image) whose largest channel difference exceeds ``level``:
    how much of a face an output really changed."""
    x0, y0, x1, y1 = grown_box(box, before.shape, margin=0.0)
    if x1 <= x0 or y1 <= y0:
        return 1.0
    diff = np.abs(before[y0:y1, x0:x1].astype(np.int16) - after[y0:y1, x0:x1].astype(np.int16)).max(axis=-1)
    return float((diff > level).mean())
