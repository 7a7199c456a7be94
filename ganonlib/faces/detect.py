"""Face detection backends (paper 3.1): mediapipe (offline default), RetinaFace (the paper's), MTCNN.

Every backend returns :class:`Detection` objects in source-pixel coordinates with the two eye centres labelled from
the subject's point of view, which is all the alignment needs.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from ganonlib.native_logs import filter_native_chatter
from ganonlib.weights import deepface_weights_dir, require_weights

__all__ = ["DETECTORS", "Detection", "FaceDetector", "MediaPipeGraphDetector", "make_detector"]


@dataclass(frozen=True)
class Detection:
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in source pixels
    score: float
    right_eye: tuple[float, float]  # the subject's right eye (image left on a frontal face)
    left_eye: tuple[float, float]

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]


class FaceDetector(Protocol):
    name: str

    def detect(self, image: np.ndarray) -> list[Detection]:
        """(H, W, 3) uint8 RGB -> detections, best score first."""
        ...


def _top(detections: list[Detection], max_faces: int) -> list[Detection]:
    """Best scores first; ``max_faces`` 0 keeps them all."""
    ranked = sorted(detections, key=lambda d: d.score, reverse=True)
    return ranked[:max_faces] if max_faces > 0 else ranked


def _merge(detections: list[Detection], iou: float = 0.3) -> list[Detection]:
    """Non-maximum suppression across models (torchvision's): one detection per face, the best-scored, best first."""
    if len(detections) < 2:
        return list(detections)
    import torch
    from torchvision.ops import nms

    # float64: boxes in pixels of large photos keep their exact overlap
    boxes = torch.tensor([d.box for d in detections], dtype=torch.float64)
    scores = torch.tensor([d.score for d in detections], dtype=torch.float64)
    return [detections[i] for i in nms(boxes, scores, iou).tolist()]


class MediaPipeDetector:
    """mediapipe 0.10.21's face detection: the tflite networks that ship inside its wheel, run by
    :mod:`ganonlib.faces.blazeface` (the graph's detections, without the graph's cost per call).

    Both bundled models run and their detections are merged: the short-range model (0) finds close-up faces that
    fill the frame (aligned crops, CK+, FACES), where the full-range model (1) misses most of them; model 1 finds the
    small faces of group photos (WIDER) that model 0 misses. ``min_confidence`` only raises the models' own score
    floors (0.5 and 0.6), which mediapipe's solution keeps whatever it is asked. ``device`` None runs the networks on
    LiteRT; a torch device (``"cuda"``) runs them there, and :meth:`detect_many` as one batch.
    """

    name = "mediapipe"

    def __init__(self, min_confidence: float = 0.5, max_faces: int = 10, models: tuple[int, ...] = (0, 1),
                 device: str | None = None) -> None:
        from ganonlib.faces.blazeface import FULL_RANGE, SHORT_RANGE, BlazeFace

        self._models = [BlazeFace((SHORT_RANGE, FULL_RANGE)[m], min_confidence, device=device) for m in models]
        self.max_faces = max_faces

    def detect(self, image: np.ndarray) -> list[Detection]:
        return self.detect_many([image])[0]

    def detect_many(self, images: list[np.ndarray]) -> list[list[Detection]]:
        """:meth:`detect` of each image; on a torch device (``device``) each model sees them as one batch."""
        images = [np.ascontiguousarray(image) for image in images]
        found: list[list[Detection]] = [[] for _ in images]
        for model in self._models:
            for per_image, faces in zip(found, model.detect_many(images)):
                # keypoints: 0 right eye, 1 left eye (subject's), nose, mouth, ears
                per_image += [Detection(box=tuple(map(float, box)), score=float(score),
                                        right_eye=tuple(map(float, points[0])), left_eye=tuple(map(float, points[1])))
                              for box, score, points in zip(faces.boxes, faces.scores, faces.keypoints)]
        return [_top(_merge(per_image), self.max_faces) for per_image in found]


class MediaPipeGraphDetector:
    """The same models through mediapipe's ``solutions.face_detection`` graph: the reference
    :class:`MediaPipeDetector` is checked and timed against (tests/test_blazeface.py, benchmarks/speed/
    search_views.py). Its ``min_confidence`` reaches neither model."""

    name = "mediapipe-graph"

    def __init__(self, min_confidence: float = 0.5, max_faces: int = 10, models: tuple[int, ...] = (0, 1)) -> None:
        import mediapipe as mp

        filter_native_chatter()
        self._models = [mp.solutions.face_detection.FaceDetection(model_selection=m,
                                                                  min_detection_confidence=min_confidence)
                        for m in models]
        self.max_faces = max_faces

    def detect(self, image: np.ndarray) -> list[Detection]:
        height, width = image.shape[:2]
        image = np.ascontiguousarray(image)
        found = []
        for model in self._models:
            for det in model.process(image).detections or []:
                rel = det.location_data.relative_bounding_box
                kps = det.location_data.relative_keypoints  # 0 right eye, 1 left eye (subject's), nose, mouth, ears
                x0, y0 = rel.xmin * width, rel.ymin * height
                found.append(Detection(
                    box=(x0, y0, x0 + rel.width * width, y0 + rel.height * height),
                    score=float(det.score[0]),
                    right_eye=(kps[0].x * width, kps[0].y * height),
                    left_eye=(kps[1].x * width, kps[1].y * height)))
        return _top(_merge(found), self.max_faces)


class RetinaFaceDetector:
    """The paper's detector (retina-face package), run on onnxruntime or torch from a local weights file."""

    name = "retinaface"

    @staticmethod
    def weights_file() -> Path:
        """The local weights file, or one clear :class:`MissingWeightsError` saying where to put it."""
        folder = deepface_weights_dir()
        return require_weights([folder / "retinaface.onnx", folder / "retinaface.pth"], "RetinaFace detector",
                                "set preprocess.detector to 'mediapipe' (the offline default)")

    def __init__(self, min_confidence: float = 0.9, max_faces: int = 10) -> None:
        weights = self.weights_file()
        os.environ["DEEPFACE_BACKEND_ENGINE"] = "onnx" if weights.suffix == ".onnx" else "pytorch"
        from retinaface import RetinaFace

        self._api = RetinaFace
        self._model = RetinaFace.build_model()
        self.min_confidence = min_confidence
        self.max_faces = max_faces

    def detect(self, image: np.ndarray) -> list[Detection]:
        bgr = np.ascontiguousarray(image[..., ::-1])  # the package follows OpenCV's channel order
        response = self._api.detect_faces(bgr, threshold=self.min_confidence, model=self._model)
        found = []
        for face in response.values() if isinstance(response, dict) else []:
            x0, y0, x1, y1 = (float(v) for v in face["facial_area"])
            marks = face["landmarks"]
            found.append(Detection(box=(x0, y0, x1, y1), score=float(face["score"]),
                                   right_eye=tuple(map(float, marks["right_eye"])),
                                   left_eye=tuple(map(float, marks["left_eye"]))))
        return _top(found, self.max_faces)


class MTCNNDetector:
    """facenet-pytorch's MTCNN, whose P/R/O-net weights ship inside the wheel, searched by
    :func:`ganonlib.faces.mtcnn.detect_mtcnn` (the same detections, faster)."""

    name = "mtcnn"

    def __init__(self, min_confidence: float = 0.9, max_faces: int = 10) -> None:
        from facenet_pytorch import MTCNN

        from ganonlib.faces.mtcnn import use_strided_pools

        self._model = MTCNN(keep_all=True, device="cpu")
        use_strided_pools(self._model)
        self.min_confidence = min_confidence
        self.max_faces = max_faces

    def detect(self, image: np.ndarray) -> list[Detection]:
        from ganonlib.faces.mtcnn import detect_mtcnn

        boxes, probs, points = detect_mtcnn(self._model, image)
        found = [
            # points: image-left eye, image-right eye, nose, mouth corners -> subject's right eye first
            Detection(box=tuple(map(float, box)), score=float(prob),
                      right_eye=tuple(map(float, pts[0])), left_eye=tuple(map(float, pts[1])))
            for box, prob, pts in zip(boxes, probs, points) if prob >= self.min_confidence
        ]
        return _top(found, self.max_faces)


DETECTORS = {"mediapipe": MediaPipeDetector, "retinaface": RetinaFaceDetector, "mtcnn": MTCNNDetector}


def make_detector(name: str, min_confidence: float, max_faces: int) -> FaceDetector:
    if name not in DETECTORS:
        raise ValueError(f"unknown detector {name!r}; choose one of {sorted(DETECTORS)}")
    return DETECTORS[name](min_confidence=min_confidence, max_faces=max_faces)
