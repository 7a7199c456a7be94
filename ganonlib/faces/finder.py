"""The face search ``ganon anonymize`` runs on every photo and video frame: the thorough search of
:mod:`ganonlib.faces.search`, turned photos where a mesh does not fit, and a second detector of another kind as a
cross-check. Built once per worker process (:func:`start_finder`)."""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ganonlib.config import PreprocessConfig
from ganonlib.faces.detect import FaceDetector, MediaPipeDetector, make_detector
from ganonlib.faces.extract import ExtractedFace, FaceExtractor, mesh_matches
from ganonlib.faces.search import find_faces, overlap_of_smaller

__all__ = ["FaceFinder", "find_all_faces", "make_second_detector", "start_finder", "start_finder_worker"]


@dataclass
class FaceFinder:
    """The models of one worker process: the kit's extractor and, as a cross-check, a second detector of another
    kind (MTCNN by default), whose faces the first missed are added: a face either detector finds is re-synthesized
    or covered."""

    extractor: FaceExtractor
    second: FaceDetector | None = None
    border: bool = True  # the search's tiles along the edges (False: the benchmarks' baseline)

    def __call__(self, image: np.ndarray) -> list[ExtractedFace]:
        faces = find_all_faces(self.extractor, image, self.border)
        if self.second is not None:
            missed = [d for d in self.second.detect(image)
                      if all(overlap_of_smaller(d.box, f.detection.box) < 0.5 for f in faces)]
            faces += self.extractor.extract(image, missed, first=len(faces))
        return faces


def make_second_detector(name: str) -> FaceDetector | None:
    """The cross-check's detector: ``retinaface`` (RetinaFace MobileNet-0.25, its measured threshold), ``mtcnn``
    (score 0.9) or ``none``. Not the paper's RetinaFace (ResNet-50), which ``preprocess.detector`` names."""
    if name == "none":
        return None
    if name == "retinaface":
        from ganonlib.faces.retinaface_mobile import MobileRetinaFaceDetector

        return MobileRetinaFaceDetector()
    return make_detector(name, 0.9, 0)


def start_finder(cfg: PreprocessConfig, second_detector: str = "mtcnn", search_device: str = "cpu") -> FaceFinder:
    """The models, once per process (every face is searched for, so no cap at detection); ``search_device`` other
    than cpu runs mediapipe's networks there in torch (the detector must be mediapipe)."""
    extractor = FaceExtractor(replace(cfg, max_faces=0))
    if search_device != "cpu":
        extractor.detector = MediaPipeDetector(cfg.min_confidence, 0, device=search_device)
    return FaceFinder(extractor, make_second_detector(second_detector))


def start_finder_worker(cfg: PreprocessConfig, second_detector: str, search_device: str = "cpu") -> FaceFinder:
    """Worker initializer: one torch thread for the second detector, so the generator beside it has the other
    cores."""
    import torch

    torch.set_num_threads(1)
    return start_finder(cfg, second_detector, search_device)


def find_all_faces(extractor: FaceExtractor, image: np.ndarray, border: bool = True) -> list[ExtractedFace]:
    """Every face of ``image`` with its mesh where one fits: the thorough search, then, when a face lacks a fitting
    mesh or none was found, the search on the photo turned by 90, 180 and 270 degrees, whose faces replace the
    misfits they overlap and add those the first search missed."""
    faces = extractor.extract(image, find_faces(extractor.detector, image, border=border))
    if faces and all(mesh_matches(f) for f in faces):
        return faces
    # a face without a usable mesh, or none at all: look again with the photo turned by 90, 180 and 270 degrees
    turned = extractor.extract(image, find_faces(extractor.detector, image, turns=(1, 2, 3)))
    for extra in sorted(turned, key=mesh_matches, reverse=True):
        same = [f for f in faces if overlap_of_smaller(f.detection.box, extra.detection.box) >= 0.5]
        if not same:
            faces.append(extra)
        elif mesh_matches(extra) and not any(mesh_matches(f) for f in same):
            faces = [f for f in faces if f not in same] + [extra]
    for index, face in enumerate(faces):
        face.index = index
    return faces
