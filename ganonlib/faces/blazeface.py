"""mediapipe's face detection without its graph: the two BlazeFace networks the wheel ships, run on LiteRT (or in
torch on a device, :mod:`ganonlib.faces.tflite_torch`), with the graph's own pre- and post-processing in numpy.

``solutions.face_detection`` pays about 2 ms of graph per call on top of its network (benchmarks/speed/
search_views.py), and the face search calls it on every view of a photo (8 for a CelebA photo, 56 at 1080p), so
the search runs the networks here instead. Every step follows mediapipe 0.10.21's CPU graph
(``modules/face_detection/face_detection{,_short_range,_full_range}.pbtxt``):

- ImageToTensorCalculator: the whole image, padded to a square around its centre (``keep_aspect_ratio``), warped to
  the network's input by ``cv2.warpPerspective`` (bilinear, zero border) on the uint8 pixels, then mapped to [-1, 1];
- SsdAnchorsCalculator: fixed-size anchors at the cell centres of each feature map (consecutive layers with one stride
  share a map; ``interpolated_scale_aspect_ratio`` adds a second anchor per cell);
- TensorsToDetectionsCalculator: scores clipped to +-100 and passed through a sigmoid; boxes and the six keypoints
  (x first: ``reverse_output_order``) scaled by the input size and moved to their anchor; boxes under the model's
  score floor dropped;
- NonMaxSuppressionCalculator, WEIGHTED, IoU 0.3: each cluster of boxes overlapping the best one by more than 0.3
  becomes their score-weighted mean with the best one's score;
- DetectionProjectionCalculator: back from the square to the image.

The score floors are the subgraphs' own: 0.5 for the short-range model, 0.6 for the full-range one. The solution's
``min_detection_confidence`` does not reach them (0.2 and 0.9 find the same faces with the graph), so here a
``min_confidence`` only raises them. ``tests/test_blazeface.py`` checks the detections against the graph's.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import cv2
import numpy as np
from scipy.special import expit

from ganonlib.native_logs import filter_native_chatter

__all__ = ["FULL_RANGE", "SHORT_RANGE", "BlazeFace", "BlazeFaceModel", "Faces", "letterbox", "ssd_anchors",
           "weighted_nms"]

_NMS_IOU = 0.3
_SCORE_CLIP = 100.0
_KEYPOINTS = 6  # subject's right eye, left eye, nose tip, mouth centre, right ear tragion, left ear tragion


@dataclass(frozen=True)
class BlazeFaceModel:
    """One of the wheel's detection networks and its graph options."""

    file: str
    size: int  # square input, px
    strides: tuple[int, ...]
    two_anchors: bool  # interpolated_scale_aspect_ratio 1.0: a second anchor per cell
    min_score: float  # the subgraph's min_score_thresh

    @property
    def path(self) -> Path:
        import mediapipe as mp

        return Path(mp.__file__).parent / "modules" / "face_detection" / self.file


SHORT_RANGE = BlazeFaceModel("face_detection_short_range.tflite", 128, (8, 16, 16, 16), True, 0.5)
FULL_RANGE = BlazeFaceModel("face_detection_full_range_sparse.tflite", 192, (4,), False, 0.6)


@dataclass(frozen=True)
class Faces:
    """The detections of one image: ``boxes`` (n, 4) x0, y0, x1, y1 and ``keypoints`` (n, 6, 2) x, y in pixels,
    ``scores`` (n,), best first."""

    boxes: np.ndarray
    scores: np.ndarray
    keypoints: np.ndarray


def ssd_anchors(model: BlazeFaceModel) -> np.ndarray:
    """(N, 2) anchor centres in [0, 1], in the order of the network's outputs."""
    centres = []
    first = 0
    while first < len(model.strides):
        last = first
        while last < len(model.strides) and model.strides[last] == model.strides[first]:
            last += 1
        cells = -(-model.size // model.strides[first])
        ys, xs = np.mgrid[0:cells, 0:cells]
        per_cell = (last - first) * (1 + model.two_anchors)
        grid = np.stack([(xs + 0.5) / cells, (ys + 0.5) / cells], axis=-1).reshape(-1, 1, 2)
        centres.append(np.repeat(grid, per_cell, axis=1).reshape(-1, 2))
        first = last
    return np.concatenate(centres).astype(np.float32)


def letterbox(image: np.ndarray, size: int) -> np.ndarray:
    """(H, W, 3) uint8 RGB -> (size, size, 3) float32 in [-1, 1]: the image centred in a black square."""
    height, width = image.shape[:2]
    side, cx, cy = float(max(height, width)), width / 2, height / 2
    corners = np.float32([[cx - side / 2, cy + side / 2], [cx - side / 2, cy - side / 2],
                          [cx + side / 2, cy - side / 2], [cx + side / 2, cy + side / 2]])
    square = np.float32([[0, size], [0, 0], [size, 0], [size, size]])
    warped = cv2.warpPerspective(image, cv2.getPerspectiveTransform(corners, square), (size, size),
                                 flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    tensor = np.multiply(warped, np.float32(2 / 255), dtype=np.float32)
    tensor -= np.float32(1)
    return tensor


def _decode(raw_boxes: np.ndarray, raw_scores: np.ndarray, anchors: np.ndarray, size: int, min_score: float
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The boxes scoring at least ``min_score``: (n, 4) x0, y0, x1, y1 and (n, 6, 2) keypoints in [0, 1] of the
    square, (n,) scores."""
    scores = expit(np.clip(raw_scores, -_SCORE_CLIP, _SCORE_CLIP))
    keep = np.flatnonzero(scores >= min_score)
    values = raw_boxes[keep] / np.float32(size)
    centre = values[:, :2] + anchors[keep]
    half = values[:, 2:4] / 2
    boxes = np.concatenate([centre - half, centre + half], axis=1)
    keypoints = values[:, 4:4 + 2 * _KEYPOINTS].reshape(-1, _KEYPOINTS, 2) + anchors[keep, None, :]
    valid = (half >= 0).all(axis=1)
    return boxes[valid], scores[keep][valid], keypoints[valid]


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    width = np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0])
    height = np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1])
    inter = np.where((width >= 0) & (height >= 0), width * height, 0.0)
    union = (box[2] - box[0]) * (box[3] - box[1]) + (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]) - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def weighted_nms(boxes: np.ndarray, scores: np.ndarray, keypoints: np.ndarray, iou: float = _NMS_IOU
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """mediapipe's WEIGHTED non-maximum suppression: best score first, every box overlapping it by more than ``iou``
    (itself included) is folded into their score-weighted mean, which keeps the best one's score."""
    order = np.argsort(-scores, kind="stable")
    kept_boxes, kept_scores, kept_points = [], [], []
    while order.size:
        near = _iou(boxes[order[0]], boxes[order]) > iou
        cluster, order = order[near], order[~near]
        weights = scores[cluster] / scores[cluster].sum()
        kept_boxes.append(weights @ boxes[cluster])
        kept_points.append(np.tensordot(weights, keypoints[cluster], axes=1))
        kept_scores.append(scores[cluster[0]])
    if not kept_scores:
        return np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros((0, _KEYPOINTS, 2), np.float32)
    return np.stack(kept_boxes), np.array(kept_scores), np.stack(kept_points)


class BlazeFace:
    """One network: on LiteRT (XNNPACK, one thread: the search runs one finder per core) when ``device`` is None,
    else on torch on that device (:mod:`ganonlib.faces.tflite_torch`), where :meth:`detect_many` runs the views as
    one batch."""

    def __init__(self, model: BlazeFaceModel, min_confidence: float = 0.0, threads: int = 1,
                 device: str | None = None) -> None:
        self.model = model
        self.min_score = max(model.min_score, min_confidence)
        self.device = device
        filter_native_chatter()
        if device is None:
            from ai_edge_litert.interpreter import Interpreter

            self._interpreter = Interpreter(model_path=str(model.path), num_threads=threads)
            self._interpreter.allocate_tensors()
            self._input = self._interpreter.get_input_details()[0]["index"]
            outputs = {tuple(o["shape"][1:]): o["index"] for o in self._interpreter.get_output_details()}
            self._boxes = outputs[(len(self.anchors), 4 + 2 * _KEYPOINTS)]
            self._scores = outputs[(len(self.anchors), 1)]
        else:
            from ganonlib.faces.tflite_torch import TFLiteNetwork

            self._network = TFLiteNetwork(model.path).to(device).eval()

    @cached_property
    def anchors(self) -> np.ndarray:
        return ssd_anchors(self.model)

    def __call__(self, image: np.ndarray) -> Faces:
        """(H, W, 3) uint8 RGB -> its faces in pixels."""
        return self.detect_many([image])[0]

    def detect_many(self, images: list[np.ndarray]) -> list[Faces]:
        """The faces of each image, the images run as one batch on a torch device."""
        tensors = np.stack([letterbox(image, self.model.size) for image in images])
        return [self._faces(image, boxes, scores) for image, (boxes, scores) in zip(images, self._raw(tensors))]

    def _raw(self, tensors: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """Each input's raw boxes (N, 16) and scores (N,)."""
        if self.device is None:
            raw = []
            for tensor in tensors:  # one at a time: a batch is no cheaper per input on LiteRT
                self._interpreter.set_tensor(self._input, tensor[None])
                self._interpreter.invoke()
                raw.append((self._interpreter.get_tensor(self._boxes)[0],
                            self._interpreter.get_tensor(self._scores)[0, :, 0]))
            return raw
        import torch

        # full float32 convolutions (cuDNN would take TF32 on Ampere and later): the same detections as LiteRT
        with torch.inference_mode(), torch.backends.cudnn.flags(enabled=True, allow_tf32=False):
            outputs = self._network(torch.from_numpy(tensors).to(self.device))
            boxes, scores = sorted(outputs, key=lambda o: o.shape[-1], reverse=True)
            boxes, scores = boxes.float().cpu().numpy(), scores[..., 0].float().cpu().numpy()
        return list(zip(boxes, scores))

    def _faces(self, image: np.ndarray, raw_boxes: np.ndarray, raw_scores: np.ndarray) -> Faces:
        boxes, scores, keypoints = weighted_nms(*_decode(raw_boxes, raw_scores, self.anchors, self.model.size,
                                                         self.min_score))
        height, width = image.shape[:2]
        side = max(height, width)
        shift = np.array([(side - width) / 2, (side - height) / 2])
        return Faces(boxes=boxes.astype(np.float64) * side - np.tile(shift, 2), scores=scores.astype(np.float64),
                     keypoints=keypoints.astype(np.float64) * side - shift)
