"""478 face-mesh landmarks (paper 3.3) and their rendering as the generator's input image."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ganonlib.native_logs import filter_native_chatter

if TYPE_CHECKING:
    import torch

__all__ = ["FaceMesher", "N_LANDMARKS", "STYLES", "render_landmarks", "render_landmarks_torch"]

N_LANDMARKS = 478  # 468 mesh points + 10 iris points (refine_landmarks)
STYLES = ("cross", "point")
_CROSS = np.array([[0, 0], [1, 0], [-1, 0], [0, 1], [0, -1]])


class FaceMesher:
    """mediapipe 0.10.21 ``solutions.face_mesh`` with the original's settings (static images, one face, refined)."""

    def __init__(self, min_confidence: float = 0.5) -> None:
        import mediapipe as mp

        filter_native_chatter()
        self._model = mp.solutions.face_mesh.FaceMesh(
            static_image_mode=True, max_num_faces=1, refine_landmarks=True, min_detection_confidence=min_confidence)

    def __call__(self, image: np.ndarray) -> np.ndarray | None:
        """(H, W, 3) uint8 RGB -> (478, 3) float32 (x, y normalised to the image, z relative), or None."""
        result = self._model.process(np.ascontiguousarray(image))
        if not result.multi_face_landmarks:
            return None
        marks = result.multi_face_landmarks[0].landmark
        return np.array([(p.x, p.y, p.z) for p in marks], dtype=np.float32)


def render_landmarks(points: np.ndarray, size: int | tuple[int, int], style: str = "cross") -> np.ndarray:
    """Draw normalised (N, 2+) points white on black: (H, W) uint8.

    Pixel = floor(x * w), floor(y * h); points outside the frame are dropped. ``cross`` draws the centre and its four
    neighbours (what the published model was trained on), ``point`` a single pixel (the paper's text).
    """
    if style not in STYLES:
        raise ValueError(f"unknown landmark style {style!r}; choose one of {STYLES}")
    height, width = (size, size) if isinstance(size, int) else size
    canvas = np.zeros((height, width), dtype=np.uint8)
    pts = np.asarray(points, dtype=np.float64)[:, :2]
    pix = np.floor(pts * np.array([width, height])).astype(np.int64)
    inside = (pix[:, 0] >= 0) & (pix[:, 0] < width) & (pix[:, 1] >= 0) & (pix[:, 1] < height)
    pix = pix[inside]
    if style == "cross":
        pix = (pix[:, None, :] + _CROSS[None]).reshape(-1, 2)
        pix = pix[(pix[:, 0] >= 0) & (pix[:, 0] < width) & (pix[:, 1] >= 0) & (pix[:, 1] < height)]
    canvas[pix[:, 1], pix[:, 0]] = 255
    return canvas


def render_landmarks_torch(points: torch.Tensor, size: int, style: str = "cross") -> torch.Tensor:
    """Batched :func:`render_landmarks` on any device: (B, N, 2+) normalised points -> (B, 1, S, S) uint8.

    Pixel for pixel the same image as the NumPy version, so pairs can be stored as 478 x 2 arrays and drawn where the
    model runs instead of being decoded from PNG.
    """
    import torch

    if style not in STYLES:
        raise ValueError(f"unknown landmark style {style!r}; choose one of {STYLES}")
    batch = points.shape[0]
    pix = torch.floor(points[..., :2].double() * size).long()  # (B, N, 2), float64 like NumPy's floor
    inside = ((pix >= 0) & (pix < size)).all(-1)  # out-of-frame centres dropped before the cross is drawn
    offsets = torch.as_tensor(_CROSS if style == "cross" else _CROSS[:1], device=points.device)
    pix = (pix[:, :, None, :] + offsets[None, None]).reshape(batch, -1, 2)
    keep = inside.repeat_interleave(len(offsets), dim=1) & ((pix >= 0) & (pix < size)).all(-1)
    b = torch.arange(batch, device=points.device)[:, None].expand_as(keep)
    canvas = torch.zeros(batch, 1, size, size, dtype=torch.uint8, device=points.device)
    canvas[b[keep], 0, pix[..., 1][keep], pix[..., 0][keep]] = 255
    return canvas
