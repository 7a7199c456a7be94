"""One photo -> every face in it, aligned, segmented, with its 478 landmarks and their rendering (paper 3.1-3.3)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ganonlib.config import PreprocessConfig
from ganonlib.faces.align import AlignedFace, align_face
from ganonlib.faces.detect import Detection, make_detector
from ganonlib.faces.landmarks import FaceMesher, render_landmarks
from ganonlib.faces.segment import HeadSegmenter, UNetHeadSegmenter

__all__ = ["ExtractedFace", "FaceExtractor", "mesh_matches"]


@dataclass
class ExtractedFace:
    index: int
    detection: Detection
    aligned: AlignedFace
    points: np.ndarray | None = None  # (478, 3) normalised to the aligned image; None when no mesh was found
    face: np.ndarray | None = None  # (S, S, 3) aligned face with the background removed
    landmarks: np.ndarray | None = None  # (S, S) uint8 rendering of ``points``

    @property
    def ok(self) -> bool:
        return self.points is not None


class FaceExtractor:
    """Holds the models of one process; build it once per worker, then call it on many photos."""

    def __init__(self, cfg: PreprocessConfig) -> None:
        self.cfg = cfg
        self.detector = make_detector(cfg.detector, cfg.min_confidence, cfg.max_faces)
        self.mesher = FaceMesher(cfg.mesh_confidence)
        if cfg.segmentation == "selfie":
            self.segmenter = HeadSegmenter()
        elif cfg.segmentation == "unet":
            self.segmenter = UNetHeadSegmenter(cfg.unet_weights)
        elif cfg.segmentation == "none":
            self.segmenter = None
        else:
            raise ValueError(f"unknown segmentation {cfg.segmentation!r}; choose selfie, unet or none")

    def __call__(self, image: np.ndarray) -> list[ExtractedFace]:
        """(H, W, 3) uint8 RGB -> one :class:`ExtractedFace` per detection (``ok`` False where no mesh is found)."""
        return self.extract(image, self.detector.detect(image))

    def extract(self, image: np.ndarray, detections: list[Detection], first: int = 0) -> list[ExtractedFace]:
        """Align, mesh and render each of ``detections`` (found by any search), numbered from ``first``."""
        faces = []
        for index, det in enumerate(detections, start=first):
            aligned = align_face(image, det, self.cfg.image_size, self.cfg.margin)
            face = ExtractedFace(index=index, detection=det, aligned=aligned)
            points = self.mesher(aligned.image)
            if points is not None:
                face.points = points
                face.face = aligned.image if self.segmenter is None else self.segmenter(aligned.image, points)
                face.landmarks = render_landmarks(points, self.cfg.image_size, self.cfg.landmarks_style)
            faces.append(face)
        return faces


def mesh_matches(face: ExtractedFace) -> bool:
    """The mesh lies on the detected face: its two iris centres fall near the detector's eyes. A mesh fitted to an
    upside-down or misaligned crop puts its eyes elsewhere, and its face hull would leave the real face visible."""
    if face.points is None:
        return False
    size = face.aligned.image.shape[0]
    irises = face.points[[468, 473], :2] * size
    eyes = face.aligned.to_aligned(np.array([face.detection.right_eye, face.detection.left_eye]))
    spread = max(float(np.linalg.norm(eyes[0] - eyes[1])), 1.0)
    straight = np.linalg.norm(irises - eyes, axis=1).max()
    crossed = np.linalg.norm(irises - eyes[::-1], axis=1).max()
    return min(straight, crossed) < 0.35 * spread
