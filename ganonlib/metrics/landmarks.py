"""Landmark preservation (beyond the paper): how well an anonymized face keeps the original's face mesh."""
from __future__ import annotations

import numpy as np

__all__ = ["OUTER_EYE_CORNERS", "normalized_mean_error"]

OUTER_EYE_CORNERS = (33, 263)  # face-mesh indices: the inter-ocular distance that normalises the error


def normalized_mean_error(reference: np.ndarray, predicted: np.ndarray) -> float:
    """Mean Euclidean distance over the points (x, y, same normalised frame), divided by the reference's
    inter-ocular distance."""
    ref, pred = np.asarray(reference)[:, :2], np.asarray(predicted)[:, :2]
    inter_ocular = np.linalg.norm(ref[OUTER_EYE_CORNERS[0]] - ref[OUTER_EYE_CORNERS[1]])
    return float(np.linalg.norm(ref - pred, axis=1).mean() / inter_ocular)
