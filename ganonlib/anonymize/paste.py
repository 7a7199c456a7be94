"""Warp an anonymized aligned face back into its photo and blend it with a feathered mask."""
from __future__ import annotations

import cv2
import numpy as np

from ganonlib.faces.align import AlignedFace
from ganonlib.faces.segment import head_region

__all__ = ["face_mask", "paste_back"]


def face_mask(points: np.ndarray | None, aligned: AlignedFace, feather: float = 0.04) -> np.ndarray:
    """(S, S) float32 in [0, 1]: the face hull of the mesh (the generator paints hair and background black, so only
    the face itself is replaced), or the whole content box where no mesh is known, softened by a Gaussian of
    ``feather`` x S."""
    size = aligned.image.shape[0]
    if points is not None:
        # widened by an eighth: the cheeks' outer band belongs to the face a detector boxes
        mask = head_region(points, (size, size), hair=0.0, widen=0.12).astype(np.float32)
    else:
        mask = np.zeros((size, size), np.float32)
        x0, y0, x1, y1 = aligned.content_box
        mask[y0:y1, x0:x1] = 1.0
    sigma = max(feather * size, 0.5)
    # shrink by one sigma before blurring: the half-way line of the soft edge lies half a sigma inside the face, so
    # the face is replaced to near its outline and the blend fades out just beyond it
    k = max(1, int(round(sigma)))
    mask = cv2.erode(mask, np.ones((k, k), np.uint8))
    return cv2.GaussianBlur(mask, (0, 0), sigma)


def paste_back(photo: np.ndarray, face: np.ndarray, aligned: AlignedFace, mask: np.ndarray) -> np.ndarray:
    """Blend ``face`` (S, S, 3), expressed in ``aligned``'s frame, into ``photo`` (H, W, 3) with ``mask`` (S, S)."""
    height, width = photo.shape[:2]
    to_source = aligned.inverse[:2]
    warped = cv2.warpAffine(face, to_source, (width, height), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
    alpha = cv2.warpAffine(mask, to_source, (width, height), flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)[..., None]
    blended = photo.astype(np.float32) * (1.0 - alpha) + warped.astype(np.float32) * alpha
    return np.clip(np.rint(blended), 0, 255).astype(np.uint8)
