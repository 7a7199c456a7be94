"""Identity metrics (paper 4.1 and beyond): embeddings through DeepFace, cosine distances, re-identification.

Recognizers: ``Facenet512`` (the paper's; used when ``facenet512_weights.pth`` or ``.onnx`` is in
``$DEEPFACE_HOME/.deepface/weights``) and ``Dlib`` (the offline default: dlib-bin runs the ResNet that the
face-recognition-models package ships, linked into that folder by the kit). Every result names its recognizer and
the recognizer's own verification threshold, beside the paper's 0.3.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np

from ganonlib.weights import deepface_weights_dir, require_weights

__all__ = ["PAPER_THRESHOLD", "RECOGNIZERS", "Recognizer", "cosine_distances", "cosine_similarities",
           "ensure_dlib_weights", "rank1_rate", "summarize_distances"]

PAPER_THRESHOLD = 0.3  # cosine distance above which the paper calls a face "not re-identifiable"
RECOGNIZERS = ("Dlib", "Facenet512")
_DLIB_FILE = "dlib_face_recognition_resnet_model_v1.dat"


def ensure_dlib_weights() -> Path:
    """Link (or copy) the Dlib face-recognition ResNet shipped by face-recognition-models where DeepFace looks.

    That folder is the user's, shared by every checkout of the kit on the machine, while the file lies in one
    checkout's virtual environment: a link left by another checkout, deleted since (a clean clone's CI run, an old
    clone), points nowhere and failed the identity stage. A link into another installation is therefore turned to
    this one's, atomically; a regular file there (a copy, DeepFace's own download) is used as it is."""
    import face_recognition_models

    target = deepface_weights_dir() / _DLIB_FILE
    source = Path(face_recognition_models.face_recognition_model_location()).resolve()
    if (target.is_symlink() and target.resolve() == source) or (target.is_file() and not target.is_symlink()):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        temporary.unlink(missing_ok=True)
        try:
            temporary.symlink_to(source)
        except OSError:  # a file system without links
            shutil.copyfile(source, temporary)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return target


class Recognizer:
    """DeepFace ``represent`` on aligned crops (detection skipped), one recognizer for a whole evaluation."""

    def __init__(self, name: str = "Dlib") -> None:
        if name == "Dlib":
            ensure_dlib_weights()
        elif name == "Facenet512":
            folder = deepface_weights_dir()
            weights = require_weights([folder / "facenet512_weights.pth", folder / "facenet512_weights.onnx"],
                                      "Facenet512 recognizer", "set the recognizer to 'Dlib' (the offline default)")
            os.environ["DEEPFACE_BACKEND_ENGINE"] = "onnx" if weights.suffix == ".onnx" else "pytorch"
        else:
            raise ValueError(f"unknown recognizer {name!r}; choose one of {RECOGNIZERS}")
        from deepface import DeepFace
        from deepface.modules.verification import find_threshold

        self.name = name
        self._deepface = DeepFace
        self.threshold = float(find_threshold(name, "cosine"))

    def embed(self, images: list[np.ndarray]) -> np.ndarray:
        """(H, W, 3) uint8 RGB aligned crops -> (N, D) float64 embeddings."""
        vectors = []
        for image in images:
            bgr = np.ascontiguousarray(image[..., ::-1])  # DeepFace follows OpenCV's channel order
            result = self._deepface.represent(bgr, model_name=self.name, detector_backend="skip",
                                              enforce_detection=False, align=False)
            vectors.append(result[0]["embedding"])
        return np.asarray(vectors, dtype=np.float64)


def _unit_rows(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def cosine_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise 1 - cos(a_i, b_i) of two (N, D) arrays, in [0, 2] (rounding never makes it negative)."""
    return np.clip(1.0 - np.sum(_unit_rows(a) * _unit_rows(b), axis=1), 0.0, 2.0)


def cosine_similarities(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, M) cos(a_i, b_j) of every row of ``a`` with every row of ``b``."""
    return _unit_rows(a) @ _unit_rows(b).T


def rank1_rate(queries: np.ndarray, query_subjects: list[str], gallery: np.ndarray,
               gallery_subjects: list[str]) -> float:
    """Share of queries whose nearest gallery embedding (cosine) belongs to the same subject: an attacker holding
    every original identifies the person behind each anonymized face."""
    nearest = np.argmax(cosine_similarities(queries, gallery), axis=1)
    return float(np.mean([query_subjects[i] == gallery_subjects[j] for i, j in enumerate(nearest)]))


def summarize_distances(distances: np.ndarray, threshold: float) -> dict[str, float]:
    """Mean and spread of original-vs-anonymized distances, the shares beyond the paper's 0.3 and beyond the
    recognizer's own threshold, and the verification rate (same person accepted at that threshold)."""
    return {"mean": float(np.mean(distances)), "std": float(np.std(distances)), "n": int(len(distances)),
            "share_above_0.3": float(np.mean(distances > PAPER_THRESHOLD)),
            "share_above_threshold": float(np.mean(distances > threshold)),
            "verification_rate": float(np.mean(distances <= threshold))}
