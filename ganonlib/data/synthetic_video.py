"""A test clip with known faces, built from the bundled public-domain sample photos (no dataset face).

Two heads move over a panning, textured background: one (Eileen Collins) crosses the frame from left to right while
it zooms in and turns by up to 15 degrees; the other (Grace Hopper) crosses from right to left in front of it, leaves
the frame by its left edge and comes back. Every frame's true face boxes, with the share of each face that is
visible (inside the frame, not hidden by the other head), come with the clip, so a test can check each face in each
frame of an anonymized copy. A sine tone is the audio stream. The still variant holds the first frame, with fresh
camera noise in each, to measure flicker.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from ganonlib.data.sample import load_photo

__all__ = ["FaceTruth", "write_synthetic_clip"]

# photo -> its face box (x0, y0, x1, y1) as the kit's detector finds it, and the head around it
_FACES = {"astronaut": (178, 83, 273, 178), "grace_hopper": (171, 147, 366, 341)}
_HEAD = 0.7  # of the face box added on each side: hair, ears, neck come with the face


@dataclass(frozen=True)
class FaceTruth:
    name: str
    box: tuple[float, float, float, float]  # the face box in the frame (may reach outside it)
    visible: float  # share of the face box inside the frame and not behind the other head


def _sprite(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(RGB, alpha, face box in the sprite) of one head, an ellipse with a soft edge."""
    photo = load_photo(name)
    x0, y0, x1, y1 = _FACES[name]
    w, h = x1 - x0, y1 - y0
    left, top = max(0, int(x0 - _HEAD * w)), max(0, int(y0 - _HEAD * h))
    right, bottom = min(photo.shape[1], int(x1 + _HEAD * w)), min(photo.shape[0], int(y1 + _HEAD * h))
    rgb = photo[top:bottom, left:right].copy()
    alpha = np.zeros(rgb.shape[:2], np.float32)
    centre = ((x0 + x1) / 2 - left, (y0 + y1) / 2 - top)
    cv2.ellipse(alpha, (int(centre[0]), int(centre[1])), (int(w * 0.95), int(h * 1.15)), 0, 0, 360, 1.0, -1)
    alpha = cv2.GaussianBlur(alpha, (0, 0), max(w, h) * 0.06)
    return rgb, alpha, np.array([x0 - left, y0 - top, x1 - left, y1 - top], dtype=np.float64)


def _background(width: int, height: int, seed: int) -> np.ndarray:
    """A smooth colour field with texture, twice the frame's width so that it can pan."""
    rng = np.random.default_rng(seed)
    small = rng.integers(40, 200, (6, 12, 3)).astype(np.uint8)
    field = cv2.resize(small, (2 * width, height), interpolation=cv2.INTER_CUBIC).astype(np.float32)
    noise = cv2.GaussianBlur(rng.normal(0, 18, (height, 2 * width, 3)).astype(np.float32), (0, 0), 1.5)
    return np.clip(field + noise, 0, 255).astype(np.uint8)


def _place(frame: np.ndarray, cover: np.ndarray, sprite: tuple, centre: tuple[float, float], face_height: float,
           angle: float) -> tuple[np.ndarray, tuple[float, float, float, float], np.ndarray]:
    """Draw ``sprite`` with its face centred at ``centre``, ``face_height`` px tall, turned by ``angle`` degrees.
    Returns the frame, the face box in it, and the head's coverage (alpha) in the frame."""
    rgb, alpha, box = sprite
    scale = face_height / (box[3] - box[1])
    face_centre = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
    matrix = cv2.getRotationMatrix2D(face_centre, angle, scale)
    matrix[:, 2] += np.array(centre) - np.array(face_centre)
    height, width = frame.shape[:2]
    warped = cv2.warpAffine(rgb, matrix, (width, height), flags=cv2.INTER_LINEAR)
    a = cv2.warpAffine(alpha, matrix, (width, height), flags=cv2.INTER_LINEAR)[..., None]
    frame = (frame * (1 - a) + warped * a).astype(np.uint8)
    corners = np.array([[box[0], box[1]], [box[2], box[1]], [box[0], box[3]], [box[2], box[3]]])
    moved = corners @ matrix[:, :2].T + matrix[:, 2]
    face_box = (float(moved[:, 0].min()), float(moved[:, 1].min()), float(moved[:, 0].max()),
                float(moved[:, 1].max()))
    return frame, face_box, np.maximum(cover, a[..., 0])


def _visible(box: tuple[float, ...], shape: tuple[int, ...], hidden: np.ndarray | None) -> float:
    x0, y0, x1, y1 = box
    area = max((x1 - x0) * (y1 - y0), 1.0)
    cx0, cy0 = max(0, int(round(x0))), max(0, int(round(y0)))
    cx1, cy1 = min(shape[1], int(round(x1))), min(shape[0], int(round(y1)))
    if cx1 <= cx0 or cy1 <= cy0:
        return 0.0
    inside = (cx1 - cx0) * (cy1 - cy0)
    if hidden is not None:
        inside -= float((hidden[cy0:cy1, cx0:cx1] > 0.5).sum())
    return float(max(inside, 0) / area)


def render_frames(width: int = 640, height: int = 360, frames: int = 100, seed: int = 0
                  ) -> list[tuple[np.ndarray, list[FaceTruth]]]:
    """Every frame of the clip (RGB) with its true faces."""
    background = _background(width, height, seed)
    heads = {name: _sprite(name) for name in _FACES}
    out = []
    for i in range(frames):
        t = i / max(frames - 1, 1)
        pan = int(round(t * width * 0.5))
        frame = background[:, pan:pan + width].copy()
        empty = np.zeros((height, width), np.float32)
        # Eileen Collins: left to right, zooming in from 0.30 to 0.42 of the frame's height, turning up to 15 degrees
        a_centre = (width * (0.15 + 0.7 * t), height * 0.45)
        frame, a_box, _ = _place(frame, empty, heads["astronaut"], a_centre, height * (0.30 + 0.12 * t),
                                 15 * math.sin(2 * math.pi * t))
        # Grace Hopper: right to left in front of her, wholly out by the left edge from t = 0.7 to 0.78, then back
        x = 0.85 - 1.5 * t if t < 0.7 else -0.2 if t < 0.78 else -0.2 + 1.6 * (t - 0.78)
        b_centre = (width * x, height * 0.55)
        frame, b_box, b_cover = _place(frame, empty, heads["grace_hopper"], b_centre, height * 0.36, 0.0)
        truths = [FaceTruth("astronaut", a_box, _visible(a_box, frame.shape, b_cover)),
                  FaceTruth("grace_hopper", b_box, _visible(b_box, frame.shape, None))]
        out.append((frame, truths))
    return out


def _still(frames: int, width: int, height: int, seed: int) -> list[tuple[np.ndarray, list[FaceTruth]]]:
    """The clip's first frame over and over, with a camera's noise (2 grey levels) drawn afresh in each: nothing
    moves, so whatever changes from frame to frame in an anonymized copy is flicker."""
    frame, truths = render_frames(width, height, 2, seed)[0]
    rng = np.random.default_rng(seed)
    return [(np.clip(frame + rng.normal(0, 2, frame.shape).round(), 0, 255).astype(np.uint8), truths)
            for _ in range(frames)]


def write_synthetic_clip(path: str | Path, width: int = 640, height: int = 360, frames: int = 100, fps: int = 25,
                         audio: bool = True, seed: int = 0, still: bool = False) -> list[list[FaceTruth]]:
    """Write the clip (H.264 at CRF 12 in an MP4, with an AAC sine tone) and return its true faces per frame;
    ``still``: its first frame held, with fresh camera noise in each frame."""
    import av

    rendered = _still(frames, width, height, seed) if still else render_frames(width, height, frames, seed)
    with av.open(str(path), "w", format="mp4") as container:
        video = container.add_stream("libx264" if "libx264" in av.codecs_available else "mpeg4", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = {"crf": "12"}
        sound = container.add_stream("aac", rate=44100) if audio else None
        for i, (frame, _) in enumerate(rendered):
            picture = av.VideoFrame.from_ndarray(frame, format="rgb24")
            picture.pts = i
            picture.time_base = Fraction(1, fps)
            container.mux(video.encode(picture))
        container.mux(video.encode(None))
        if sound is not None:
            samples = int(44100 * frames / fps)
            for start in range(0, samples, 1024):
                n = min(1024, samples - start)
                tone = (0.2 * np.sin(2 * np.pi * 440 * np.arange(start, start + n) / 44100)).astype(np.float32)
                chunk = av.AudioFrame.from_ndarray(np.stack([tone, tone]), format="fltp", layout="stereo")
                chunk.sample_rate, chunk.pts = 44100, start
                container.mux(sound.encode(chunk))
            container.mux(sound.encode(None))
    return [truths for _, truths in rendered]
