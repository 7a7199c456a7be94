"""Warp an anonymized aligned face back into its photo and blend it in without a visible edge.

The blend mask is the face (the mesh's hull, or the crop's content where no mesh is known) intersected with the
part of the aligned crop that shows the photo, and it fades out on every side, the crop's border included: the
aligned crop is cut at the detection box (the forehead and chin often reach past it) and at the photo's border, and a
mask that stopped there would leave a hard seam. Optionally the new face takes the colour of the skin it replaces
(mean and spread per Lab channel), and ``poisson`` blending (``cv2.seamlessClone``) matches it to its surroundings
inside the same soft mask.
"""
from __future__ import annotations

import cv2
import numpy as np

from ganonlib.faces.align import AlignedFace
from ganonlib.faces.segment import head_region

__all__ = ["crop_support", "face_mask", "match_colour", "paste_back"]

# a Gaussian edge falls to 0.6 % of its height 2.5 sigma out: the mask starts that far inside the crop's support
_FADE_SIGMAS = 2.5


def crop_support(aligned: AlignedFace, photo_shape: tuple[int, ...]) -> np.ndarray:
    """(S, S) bool: the aligned crop's pixels that come from the photo (not its padding nor beyond its border)."""
    size = aligned.image.shape[0]
    height, width = photo_shape[:2]
    inside = cv2.warpAffine(np.ones((height, width), np.uint8), aligned.matrix[:2], (size, size),
                            flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT, borderValue=0) > 0
    x0, y0, x1, y1 = aligned.content_box
    content = np.zeros((size, size), bool)
    content[y0:y1, x0:x1] = True
    return inside & content


def face_mask(points: np.ndarray | None, aligned: AlignedFace, feather: float = 0.04,
              photo_shape: tuple[int, ...] | None = None) -> np.ndarray:
    """(S, S) float32 in [0, 1]: the face hull of the mesh (the generator paints hair and background black, so only
    the face itself is replaced), or the whole content where no mesh is known, softened by a Gaussian of
    ``feather`` x S and faded out before the edge of what the crop shows of the photo (``photo_shape``; without it,
    the content box)."""
    size = aligned.image.shape[0]
    if points is not None:
        # widened by an eighth: the cheeks' outer band belongs to the face a detector boxes
        region = head_region(points, (size, size), hair=0.0, widen=0.12).astype(np.uint8)
    else:
        region = np.ones((size, size), np.uint8)
    if photo_shape is None:
        support = np.zeros((size, size), bool)
        x0, y0, x1, y1 = aligned.content_box
        support[y0:y1, x0:x1] = True
    else:
        support = crop_support(aligned, photo_shape)
    sigma = max(feather * size, 0.5)
    # the hull shrinks by one sigma: the half-way line of its soft edge lies half a sigma inside the face, so the
    # face is replaced to near its outline and the blend fades out just beyond it
    k = max(1, int(round(sigma)))
    region = cv2.erode(region, np.ones((k, k), np.uint8))
    # the crop's own edges are no face outline: the mask must have faded out by the time it reaches them
    reach = int(np.ceil(_FADE_SIGMAS * sigma))
    padded = np.pad(support.astype(np.uint8), 1)  # the frame's border counts as an edge too
    inner = cv2.erode(padded, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1, 2 * reach + 1)))[1:-1, 1:-1]
    mask = cv2.GaussianBlur((region & inner).astype(np.float32), (0, 0), sigma)
    return mask * support


def match_colour(face: np.ndarray, original: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``face`` (S, S, 3) uint8 with the mean and spread per Lab channel of ``original`` inside ``mask`` > 0.5."""
    inside = mask > 0.5
    if inside.sum() < 16:
        return face
    new = cv2.cvtColor(face, cv2.COLOR_RGB2LAB).astype(np.float32)
    old = cv2.cvtColor(original, cv2.COLOR_RGB2LAB).astype(np.float32)
    new_mean, new_std = new[inside].mean(axis=0), new[inside].std(axis=0)
    old_mean, old_std = old[inside].mean(axis=0), old[inside].std(axis=0)
    # a flat generated patch (std ~0) would be blown up into noise: its spread is left as it is
    gain = np.where(new_std > 1.0, old_std / np.maximum(new_std, 1e-6), 1.0)
    shifted = (new - new_mean) * gain + old_mean
    return cv2.cvtColor(np.clip(np.rint(shifted), 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)


def _poisson(photo: np.ndarray, warped: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """``warped`` cloned into ``photo`` by Poisson blending over the mask's support; the photo where that is empty."""
    region = (alpha > 0.01).astype(np.uint8) * 255
    region[:1], region[-1:], region[:, :1], region[:, -1:] = 0, 0, 0, 0  # seamlessClone needs a frame around it
    if cv2.countNonZero(region) < 16:
        return photo
    x, y, w, h = cv2.boundingRect(region)
    centre = (x + w // 2, y + h // 2)  # seamlessClone centres the mask's bounding box here: where it already is
    return cv2.seamlessClone(warped, photo, region, centre, cv2.NORMAL_CLONE)


def paste_back(photo: np.ndarray, face: np.ndarray, aligned: AlignedFace, mask: np.ndarray,
               blend: str = "feather", colour: bool = False) -> np.ndarray:
    """Blend ``face`` (S, S, 3), expressed in ``aligned``'s frame, into ``photo`` (H, W, 3) with ``mask`` (S, S):
    ``feather`` mixes by the mask; ``poisson`` first clones the face into the photo (its colours meet the
    surroundings), then mixes that by the same mask. ``colour`` first matches the face's colour to the crop's."""
    if blend not in ("feather", "poisson"):
        raise ValueError(f"blend: choose one of feather, poisson (got {blend!r})")
    if colour:
        face = match_colour(face, aligned.image, mask)
    height, width = photo.shape[:2]
    to_source = aligned.inverse[:2]
    warped = cv2.warpAffine(face, to_source, (width, height), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
    alpha = cv2.warpAffine(mask, to_source, (width, height), flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)
    if blend == "poisson":
        warped = _poisson(photo, warped, alpha)
    blended = photo.astype(np.float32) * (1.0 - alpha[..., None]) + warped.astype(np.float32) * alpha[..., None]
    return np.clip(np.rint(blended), 0, 255).astype(np.uint8)
