"""How visible the edge of a pasted-back face is: the share of the changed region's rim that jumps sharply.

D = mean over channels of |output - input| per pixel; U = the unchanged pixels (D < 2); the rim = changed pixels
within 2 px of U. A seam is where D climbs from under 2 to over 25 grey levels within those 2 px; a blend whose
edge is softer than that leaves no rim pixel above 25.

Inside a new face some pixels match the original by chance; ``min_area`` leaves out unchanged islands smaller than
that many pixels (connected, 8-neighbourhood), which are no edge of the pasted region. ``min_area=1`` is the literal
definition.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

__all__ = ["SeamReport", "seam_report"]

UNCHANGED_BELOW = 2.0
RIM_PX = 2
JUMP_ABOVE = 25.0


@dataclass(frozen=True)
class SeamReport:
    rim_pixels: int  # changed pixels within RIM_PX of an unchanged one
    sharp_pixels: int  # of those, the ones that differ by more than JUMP_ABOVE

    @property
    def share(self) -> float:
        return self.sharp_pixels / self.rim_pixels if self.rim_pixels else 0.0


def seam_report(output: np.ndarray, original: np.ndarray, min_area: int = 25) -> SeamReport:
    """``output`` and ``original``: (H, W, 3) uint8 of the same photo."""
    if output.shape != original.shape:
        raise ValueError(f"output {output.shape} and original {original.shape} differ in size")
    diff = np.abs(output.astype(np.int16) - original.astype(np.int16)).mean(axis=2)  # (H, W)
    unchanged = (diff < UNCHANGED_BELOW).astype(np.uint8)
    if min_area > 1:
        count, labels, stats, _ = cv2.connectedComponentsWithStats(unchanged, connectivity=8)
        keep = stats[:, cv2.CC_STAT_AREA] >= min_area
        keep[0] = False  # label 0: the changed pixels
        unchanged = keep[labels].astype(np.uint8)
    near = cv2.dilate(unchanged, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * RIM_PX + 1, 2 * RIM_PX + 1)))
    rim = (near > 0) & (unchanged == 0)
    return SeamReport(rim_pixels=int(rim.sum()), sharp_pixels=int((rim & (diff > JUMP_ABOVE)).sum()))
