"""Align, crop, resize and zero-pad a detected face (paper 3.1, steps 2-4), keeping the exact transform.

The aligned face is what the GAN sees; the 3x3 matrix maps source pixels to aligned pixels (pixel centres at integer
coordinates, as in OpenCV), so anonymized faces can be warped back into the photo with its inverse.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from ganonlib.faces.detect import Detection

__all__ = ["AlignedFace", "align_face", "eye_angle"]


@dataclass(frozen=True)
class AlignedFace:
    image: np.ndarray  # (S, S, 3) uint8, face centred, black padding
    matrix: np.ndarray  # (3, 3) source pixel -> aligned pixel
    content_box: tuple[int, int, int, int]  # x0, y0, x1, y1 of the non-padding area in the aligned image

    @property
    def inverse(self) -> np.ndarray:
        return np.linalg.inv(self.matrix)

    def to_aligned(self, points: np.ndarray) -> np.ndarray:
        """(N, 2) source pixel coordinates -> (N, 2) aligned pixel coordinates."""
        return _apply(self.matrix, points)

    def to_source(self, points: np.ndarray) -> np.ndarray:
        """(N, 2) aligned pixel coordinates -> (N, 2) source pixel coordinates."""
        return _apply(self.inverse, points)


def _apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    return points @ matrix[:2, :2].T + matrix[:2, 2]


def eye_angle(det: Detection) -> float:
    """Angle (radians) of the line from the subject's right eye to the left eye; 0 for an upright face."""
    (rx, ry), (lx, ly) = det.right_eye, det.left_eye
    return math.atan2(ly - ry, lx - rx)


def align_face(image: np.ndarray, det: Detection, image_size: int = 512, margin: float = 0.0) -> AlignedFace:
    """Rotate about the eye centre so the eye line is horizontal, crop the detection box (grown by ``margin`` on each
    side), resize the longest side to ``image_size`` with LANCZOS and pad the rest with zeros, centred."""
    theta = eye_angle(det)
    cos, sin = math.cos(theta), math.sin(theta)
    eyes = (np.asarray(det.right_eye) + np.asarray(det.left_eye)) / 2.0
    # rotation by -theta about the eye centre: maps the eye vector onto +x
    rot = np.array([[cos, sin, 0.0], [-sin, cos, 0.0], [0.0, 0.0, 1.0]])
    rot[:2, 2] = eyes - rot[:2, :2] @ eyes

    box_centre = np.array([(det.box[0] + det.box[2]) / 2.0, (det.box[1] + det.box[3]) / 2.0])
    centre = rot[:2, :2] @ box_centre + rot[:2, 2]
    crop_w = max(1, int(round(det.width * (1.0 + 2.0 * margin))))
    crop_h = max(1, int(round(det.height * (1.0 + 2.0 * margin))))
    # crop pixel (0, 0) sits at the top-left pixel centre of the rotated box
    shift = np.array([[1.0, 0.0, -(centre[0] - (crop_w - 1) / 2.0)],
                      [0.0, 1.0, -(centre[1] - (crop_h - 1) / 2.0)],
                      [0.0, 0.0, 1.0]])
    to_crop = shift @ rot
    crop = cv2.warpAffine(image, to_crop[:2], (crop_w, crop_h), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))

    scale = image_size / max(crop_w, crop_h)
    new_w = min(image_size, max(1, int(round(crop_w * scale))))
    new_h = min(image_size, max(1, int(round(crop_h * scale))))
    resized = np.asarray(Image.fromarray(crop).resize((new_w, new_h), Image.Resampling.LANCZOS))
    off_x, off_y = (image_size - new_w) // 2, (image_size - new_h) // 2
    canvas = np.zeros((image_size, image_size, 3), dtype=np.uint8)
    canvas[off_y:off_y + new_h, off_x:off_x + new_w] = resized

    # Pillow's resize maps pixel centres: x' + 0.5 = (x + 0.5) * s
    sx, sy = new_w / crop_w, new_h / crop_h
    place = np.array([[sx, 0.0, 0.5 * (sx - 1.0) + off_x],
                      [0.0, sy, 0.5 * (sy - 1.0) + off_y],
                      [0.0, 0.0, 1.0]])
    return AlignedFace(image=canvas, matrix=place @ to_crop, content_box=(off_x, off_y, off_x + new_w, off_y + new_h))
