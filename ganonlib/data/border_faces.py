"""Faces cut by the image border: the photos a group selfie or a street scene holds at its edges and corners.

A face photo (its face box known) is scaled so that the face has a given height and placed on a scene so that only
a given share of the face lies inside the frame, at one of the four edges or in one of the four corners. The
privacy test (``tests/test_fail_closed.py``) and ``benchmarks/quality/fail_closed.py --border`` build their cases here.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import product

import cv2
import numpy as np

__all__ = ["EDGES", "BorderCase", "cut_by_border", "border_cases"]

# where the face is cut: the side(s) of the frame it crosses
EDGES = ("left", "right", "top", "bottom", "top_left", "top_right", "bottom_left", "bottom_right")


@dataclass(frozen=True)
class BorderCase:
    edge: str
    visible: float  # share of the face's width (left/right) or height (top/bottom) inside the frame, per side
    face_height: int  # px, the whole face's
    image: np.ndarray  # (H, W, 3) uint8
    box: tuple[int, int, int, int]  # the face's part inside the frame: x0, y0, x1, y1

    @property
    def name(self) -> str:
        return f"{self.edge}_{int(round(self.visible * 100))}pct_{self.face_height}px"


def cut_by_border(photo: np.ndarray, face: tuple[float, float, float, float], scene: np.ndarray, edge: str,
                  visible: float, face_height: int, size: int = 600) -> BorderCase:
    """``photo`` (its face at ``face``) scaled to ``face_height`` and laid over ``scene`` (scaled to cover a
    ``size`` x ``size`` frame) so that ``visible`` of the face is inside the frame at ``edge``; the photo's own
    surroundings come with it, as a person's shoulders and hair do in a group photo."""
    if edge not in EDGES:
        raise ValueError(f"edge must be one of {EDGES}")
    x0, y0, x1, y1 = face
    scale = face_height / (y1 - y0)
    photo = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    fx0, fy0, fx1, fy1 = x0 * scale, y0 * scale, x1 * scale, y1 * scale
    frame = cv2.resize(scene, (size, size), interpolation=cv2.INTER_AREA)
    # the photo's top-left corner in frame coordinates: the face cut at the named side(s), centred along the others
    ox, oy = size / 2 - (fx0 + fx1) / 2, size / 2 - (fy0 + fy1) / 2
    if "left" in edge:
        ox = -(fx0 + (1 - visible) * (fx1 - fx0))
    if "right" in edge:
        ox = size - (fx0 + visible * (fx1 - fx0))
    if "top" in edge:
        oy = -(fy0 + (1 - visible) * (fy1 - fy0))
    if "bottom" in edge:
        oy = size - (fy0 + visible * (fy1 - fy0))
    ox, oy = int(round(ox)), int(round(oy))
    h, w = photo.shape[:2]
    fr_x0, fr_y0, fr_x1, fr_y1 = max(ox, 0), max(oy, 0), min(ox + w, size), min(oy + h, size)
    frame[fr_y0:fr_y1, fr_x0:fr_x1] = photo[fr_y0 - oy:fr_y1 - oy, fr_x0 - ox:fr_x1 - ox]
    box = (max(0, int(fx0 + ox)), max(0, int(fy0 + oy)), min(size, int(fx1 + ox)), min(size, int(fy1 + oy)))
    return BorderCase(edge, visible, face_height, np.ascontiguousarray(frame), box)


def border_cases(photo: np.ndarray, face: tuple[float, float, float, float], scene: np.ndarray,
                 heights: tuple[int, ...] = (60, 110, 200), visibles: tuple[float, ...] = (0.5, 0.25),
                 edges: tuple[str, ...] = EDGES, size: int = 600) -> list[BorderCase]:
    """Every combination of edge, visible share and face height for one face photo."""
    return [cut_by_border(photo, face, scene, edge, visible, height, size)
            for edge, visible, height in product(edges, visibles, heights)]
