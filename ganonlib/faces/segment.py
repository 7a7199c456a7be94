"""Background removal (paper 3.2): keep the head, set every other pixel to 0.

The paper's head-segmentation U-Net has no public weights, so the offline default combines mediapipe's selfie
segmentation (person vs. background, bundled model) with the face mesh: the person mask is cut to the head region
(the face hull grown upwards to take the hair), and the face hull itself is always kept.
"""
from __future__ import annotations

import cv2
import numpy as np

from ganonlib.native_logs import filter_native_chatter

__all__ = ["HeadSegmenter", "SEGMENTATIONS", "apply_mask", "head_region"]

SEGMENTATIONS = ("selfie", "unet", "none")
_FOREHEAD, _CHIN = 10, 152  # face-mesh indices on the vertical midline


def head_region(points: np.ndarray, size: tuple[int, int], hair: float = 0.6, widen: float = 0.25) -> np.ndarray:
    """(H, W) bool: convex hull of the mesh plus the same hull shifted towards the top of the head by ``hair`` face
    heights and widened by ``widen`` face widths (hair, ears)."""
    height, width = size
    pix = np.asarray(points, dtype=np.float64)[:, :2] * np.array([width, height])
    up = pix[_FOREHEAD] - pix[_CHIN]  # chin -> forehead: "up" even on a tilted face
    face_h = float(np.linalg.norm(up)) or 1.0
    up /= face_h
    centre = pix.mean(axis=0)
    side = np.array([-up[1], up[0]])
    rel = pix - centre
    along, across = rel @ up, rel @ side
    across_w = across * (1.0 + widen)
    grown = centre + np.outer(along, up) + np.outer(across_w, side)
    lifted = grown + hair * face_h * up
    hull = cv2.convexHull(np.concatenate([pix, grown, lifted]).astype(np.float32)).astype(np.int32)
    mask = np.zeros((height, width), dtype=np.uint8)
    cv2.fillConvexPoly(mask, hull, 1)
    return mask.astype(bool)


def apply_mask(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return image * mask[..., None].astype(image.dtype)


class HeadSegmenter:
    """mediapipe selfie segmentation restricted to the head region given by the face mesh."""

    def __init__(self, threshold: float = 0.5) -> None:
        import mediapipe as mp

        filter_native_chatter()
        self._model = mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=0)
        self.threshold = threshold

    def mask(self, image: np.ndarray, points: np.ndarray) -> np.ndarray:
        """(H, W) bool head mask of an aligned face whose normalised mesh is ``points`` (478, 3)."""
        size = image.shape[:2]
        person = self._model.process(np.ascontiguousarray(image)).segmentation_mask > self.threshold
        face = head_region(points, size, hair=0.0, widen=0.0)
        return face | (person & head_region(points, size))

    def __call__(self, image: np.ndarray, points: np.ndarray) -> np.ndarray:
        return apply_mask(image, self.mask(image, points))


class UNetHeadSegmenter:
    """The paper's head-segmentation U-Net, used only when its package and checkpoint are both supplied."""

    def __init__(self, weights: str) -> None:
        from pathlib import Path

        from ganonlib.weights import MissingWeightsError, require_weights

        alternative = "set preprocess.segmentation to 'selfie' (the offline default)"
        path = require_weights([Path(weights)], "head-segmentation U-Net", alternative)
        try:
            import head_segmentation.segmentation_pipeline as pipeline
        except ImportError as err:
            raise MissingWeightsError(
                f"head-segmentation U-Net: the 'head_segmentation' package is not installed (it is published only as "
                f"source by its authors; install it into this environment), or {alternative}.") from err
        self._pipeline = pipeline.HumanHeadSegmentationPipeline(model_path=str(path))

    def mask(self, image: np.ndarray, points: np.ndarray | None = None) -> np.ndarray:
        return np.asarray(self._pipeline.predict(image)) > 0

    def __call__(self, image: np.ndarray, points: np.ndarray | None = None) -> np.ndarray:
        return apply_mask(image, self.mask(image, points))
