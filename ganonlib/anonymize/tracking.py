"""Faces followed through a video: detections associated across frames, boxes predicted where the detector is not run
or misses, and the One-Euro filter that keeps each face's alignment and landmarks steady.

A track is one face. Frames where its face was detected are *seen*; frames in between (detection every k frames)
are *followed* from the predicted box; frames where the detector ran and missed it are *lost*, up to ``max_gap`` of
them, after which the track ends. The video anonymizer covers a lost face's predicted box, so a face that slips past
the detector for a frame or two stays hidden.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from ganonlib.faces.detect import Detection

__all__ = ["FaceTracker", "OneEuroFilter", "Track", "box_iou"]

_MIN_IOU = 0.2  # below this a detection is not the same face as a predicted box (a new face instead)


class OneEuroFilter:
    """The One-Euro filter (Casiez et al., CHI 2012) on an array of values sampled at ``rate`` Hz.

    A low-pass filter whose cut-off rises with the speed of change: ``min_cutoff`` (Hz) sets how much a still face
    is steadied, ``beta`` how quickly the filter follows a moving one (per unit of the values' speed per second)."""

    def __init__(self, rate: float, min_cutoff: float = 1.0, beta: float = 0.5, d_cutoff: float = 1.0) -> None:
        self.rate, self.min_cutoff, self.beta, self.d_cutoff = rate, min_cutoff, beta, d_cutoff
        self._x: np.ndarray | None = None
        self._dx: np.ndarray | None = None

    def _alpha(self, cutoff: np.ndarray | float) -> np.ndarray | float:
        tau = 1.0 / (2.0 * math.pi * cutoff)
        return 1.0 / (1.0 + tau * self.rate)

    def __call__(self, x: np.ndarray, trail: float | None = None) -> np.ndarray:
        """The filtered value of this sample; ``trail`` bounds how far it may stay behind the sample."""
        x = np.asarray(x, dtype=np.float64)
        if self._x is None or self._x.shape != x.shape:
            self._x, self._dx = x.copy(), np.zeros_like(x)
            return x
        dx = (x - self._x) * self.rate
        a_d = self._alpha(self.d_cutoff)
        self._dx = a_d * dx + (1.0 - a_d) * self._dx
        a = self._alpha(self.min_cutoff + self.beta * np.abs(self._dx))
        self._x = a * x + (1.0 - a) * self._x
        if trail is not None:
            self._x = x + np.clip(self._x - x, -trail, trail)
        return self._x.copy()


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, 4) x (M, 4) boxes (x0, y0, x1, y1) -> (N, M) intersection over union (torchvision's)."""
    import torch
    from torchvision.ops import box_iou as iou

    return iou(torch.as_tensor(a, dtype=torch.float64).reshape(-1, 4),
               torch.as_tensor(b, dtype=torch.float64).reshape(-1, 4)).numpy()


@dataclass
class Track:
    """One face through the video: its latest box and eyes, its motion per frame, and what happened to it."""

    id: int
    box: np.ndarray  # (4,) x0, y0, x1, y1
    eyes: np.ndarray  # (2, 2) the subject's right eye, left eye
    score: float
    born: int  # frame index of its first detection
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(4))  # box change per frame
    misses: int = 0  # frames in a row where the detector ran and did not find it
    state: str = "seen"  # this frame: seen | followed | lost
    observed: Detection | None = None  # this frame's detection of it (state seen)
    frames: dict[str, int] = field(default_factory=dict)  # outcome -> frames (filled by the anonymizer)
    anchor: np.ndarray | None = None  # the box when last placed by an observation
    since: int = 0  # frames since then

    def __post_init__(self) -> None:
        self.anchor = self.box.copy()

    def move_to(self, box: np.ndarray, eyes: np.ndarray) -> None:
        """An observation (a detection, or the face's mesh between searches): motion is averaged over them."""
        box = np.asarray(box, dtype=np.float64)
        step = (box - self.anchor) / max(self.since, 1)
        self.velocity = 0.5 * self.velocity + 0.5 * step
        self.box, self.eyes, self.anchor, self.since = box, np.asarray(eyes, dtype=np.float64), box.copy(), 0

    def predict(self) -> None:
        self.box = self.box + self.velocity
        self.eyes = self.eyes + (self.velocity[:2] + self.velocity[2:]) / 2.0
        self.since += 1


class FaceTracker:
    """Associates each frame's detections with the faces of earlier frames (IoU of the motion-predicted boxes,
    solved as an assignment), starts a track for every new face and ends one lost for more than ``max_gap``
    detection frames."""

    def __init__(self, max_gap: int = 5) -> None:
        self.max_gap = max_gap
        self.tracks: list[Track] = []
        self.ended: list[Track] = []
        self._next_id = 0

    def step(self, frame: int, detections: list[Detection] | None) -> tuple[list[Track], list[Track]]:
        """Advance to ``frame``: ``detections`` is None where the detector did not run (every track is followed
        from its predicted box). Returns (the tracks alive in this frame, those born in it)."""
        for track in self.tracks:
            track.predict()
            track.observed = None
        if detections is None:
            for track in self.tracks:
                track.state = "followed"
            return list(self.tracks), []
        boxes = np.array([d.box for d in detections], dtype=np.float64).reshape(-1, 4)
        matched: dict[int, int] = {}
        if self.tracks and len(boxes):
            iou = box_iou(np.stack([t.box for t in self.tracks]), boxes)
            rows, cols = linear_sum_assignment(-iou)
            matched = {r: c for r, c in zip(rows, cols) if iou[r, c] >= _MIN_IOU}
        alive, born = [], []
        for i, track in enumerate(self.tracks):
            if i in matched:
                det = detections[matched[i]]
                track.move_to(np.array(det.box), np.array([det.right_eye, det.left_eye]))
                track.score, track.misses, track.state, track.observed = det.score, 0, "seen", det
                alive.append(track)
            elif track.misses < self.max_gap:
                track.misses += 1
                track.state = "lost"
                alive.append(track)
            else:
                self.ended.append(track)
        for j in sorted(set(range(len(detections))) - set(matched.values())):
            det = detections[j]
            track = Track(self._next_id, np.array(det.box, dtype=np.float64),
                          np.array([det.right_eye, det.left_eye], dtype=np.float64), det.score, born=frame,
                          observed=det)
            self._next_id += 1
            alive.append(track)
            born.append(track)
        self.tracks = alive
        return list(alive), born

    def all_tracks(self) -> list[Track]:
        return sorted(self.ended + self.tracks, key=lambda t: t.id)
