"""How well an anonymized video hides its faces and how steady it is, against the clip's true faces
(:mod:`ganonlib.data.synthetic_video`).

*Leaks*: frames in which a face that is at least half visible comes out unchanged — less than 30 % of its box
changed by more than 20 grey levels, the photos' criterion (well above the codec's own noise of a few levels).
*Stability*: the mean absolute change from one frame to the next inside the faces' boxes, of the output against the
input's; a face re-synthesized independently in every frame flickers and raises it.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ganonlib.anonymize.cover import changed_share, grown_box
from ganonlib.anonymize.decision import MIN_CHANGED
from ganonlib.anonymize.video_io import read_frames
from ganonlib.data.synthetic_video import FaceTruth

__all__ = ["video_report"]

_MIN_VISIBLE = 0.5


def _face_region(truths: list[FaceTruth], shape: tuple[int, ...]) -> np.ndarray:
    region = np.zeros(shape[:2], bool)
    for face in truths:
        if face.visible >= _MIN_VISIBLE:
            x0, y0, x1, y1 = grown_box(face.box, shape, margin=0.0)
            region[y0:y1, x0:x1] = True
    return region


def video_report(original: str | Path, anonymized: str | Path, truth: list[list[FaceTruth]]) -> dict:
    """Leaks and stability of ``anonymized`` against ``original`` (both decoded here, frame by frame)."""
    leaks: list[dict] = []
    checked = 0
    change_in, change_out = [], []
    previous: tuple[np.ndarray, np.ndarray] | None = None
    frames = 0
    for index, ((before, _), (after, _)) in enumerate(zip(read_frames(original), read_frames(anonymized))):
        frames += 1
        truths = truth[index] if index < len(truth) else []
        for face in truths:
            if face.visible < _MIN_VISIBLE:
                continue
            checked += 1
            share = changed_share(before, after, face.box)
            if share < MIN_CHANGED:
                leaks.append({"frame": index, "face": face.name, "changed": round(share, 3)})
        if previous is not None:
            region = _face_region(truths, before.shape)
            if region.any():
                change_in.append(np.abs(before.astype(np.int16) - previous[0])[region].mean())
                change_out.append(np.abs(after.astype(np.int16) - previous[1])[region].mean())
        previous = (before.astype(np.int16), after.astype(np.int16))
    mean_in = float(np.mean(change_in)) if change_in else 0.0
    mean_out = float(np.mean(change_out)) if change_out else 0.0
    return {"frames": frames, "faces_checked": checked, "frames_with_a_leak": len({x["frame"] for x in leaks}),
            "leaks": leaks[:20], "change_input": round(mean_in, 3), "change_output": round(mean_out, 3),
            "stability_ratio": round(mean_out / mean_in, 3) if mean_in else None}
