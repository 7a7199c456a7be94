"""The one rule of ``ganon anonymize``, for photos and video frames alike: every face found is re-synthesized, or
covered by the fallback, or (fallback ``none``) left and said so — never passed through silently.

A face is re-synthesized only when nothing stands in the way (:func:`why_not`) and its new face, pasted back,
changes enough of the detected face (:func:`replace_face`); otherwise it is covered (:func:`cover`). Every reason a
manifest row gives comes from :data:`REASONS`, with one short form for a video's per-track tallies.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ganonlib.anonymize.cover import changed_share, cover_box
from ganonlib.anonymize.paste import paste_back
from ganonlib.faces.align import AlignedFace
from ganonlib.faces.extract import ExtractedFace, mesh_matches

__all__ = ["MIN_CHANGED", "REASONS", "Reason", "cover", "face_outcome", "reason", "reason_keys", "replace_face",
           "tally", "why_not"]

# share of a face box a replacement must change by more than 20 grey levels, else the face is covered; the video
# metrics call a face frame below it a leak
MIN_CHANGED = 0.3


@dataclass(frozen=True)
class Reason:
    """Why a face was not re-synthesized: the key a manifest reason starts with, the text after it (photos), and the
    short form of a video's tallies."""

    key: str
    detail: str
    short: str


REASONS: dict[str, Reason] = {r.key: r for r in (
    Reason("cap", "beyond max_faces={max_faces}", "covered (beyond the cap)"),
    Reason("generation_failed", "{failure}", "covered (generation failed)"),
    Reason("no_mesh", "face mesh not found in the aligned face", "covered (no mesh)"),
    Reason("mesh_mismatch", "the mesh does not lie on the detected face", "covered (mesh misfit)"),
    Reason("unchanged", "the new face changed too little of the detected face", "covered (changed too little)"),
    Reason("lost", "the detector lost the face: covered at its predicted box", "covered while lost"),
    Reason("before_first_seen", "a frame before the face was first found", "covered before first found"),
)}
_RE_SYNTHESIZED = "re-synthesized"
_NO_FACE = "no face"  # a track's tally without a face-frame
_KEY_OF_SHORT = {r.short: k for k, r in REASONS.items()}


def reason(key: str, **values: object) -> str:
    """``key: detail``, the detail filled from ``values``."""
    return f"{key}: {REASONS[key].detail.format(**values)}"


def tally(counts: dict[str, int]) -> str:
    """A video track's face-frames by outcome, re-synthesized first: ``12 re-synthesized, 3 covered while lost``."""
    said = {"ok": _RE_SYNTHESIZED, **{k: r.short for k, r in REASONS.items()}}
    return ", ".join(f"{n} {said.get(k, k)}" for k, n in sorted(counts.items(), key=lambda kv: kv[0] != "ok")
                     if n) or _NO_FACE


def reason_keys(text: str) -> list[str]:
    """The keys of :data:`REASONS` a manifest reason names: its leading key (a photo's face, a file), or each
    covering reason of a video track's tally (``track from frame 3: 9 re-synthesized, 2 covered while lost`` ->
    ``["lost"]``)."""
    head, _, rest = text.partition(":")
    if not head.startswith("track from frame"):
        return [head]
    if rest.strip() == _NO_FACE:
        return []
    said = [part.strip().partition(" ")[2] for part in rest.split(",")]  # "2 covered while lost" -> its short form
    return [_KEY_OF_SHORT.get(short, short) for short in said if short != _RE_SYNTHESIZED]


def why_not(face: ExtractedFace, max_faces: int, failure: str = "") -> str:
    """Why ``face`` cannot be re-synthesized ("" when it can): beyond the cap, a failed generation, no mesh, or a
    mesh that does not lie on the detected face."""
    if max_faces and face.index >= max_faces:
        return reason("cap", max_faces=max_faces)
    if failure:
        return reason("generation_failed", failure=failure)
    if face.points is None:
        return reason("no_mesh")
    if not mesh_matches(face):
        return reason("mesh_mismatch")
    return ""


def replace_face(image: np.ndarray, new_face: np.ndarray, aligned: AlignedFace, mask: np.ndarray,
                 box: tuple[float, ...], blend: str, colour: bool) -> tuple[np.ndarray, str]:
    """``new_face`` pasted back over the face at ``box``: the new image and "", or ``image`` unchanged and the
    reason when the new face changed too little of the detected one (it is to be covered then)."""
    candidate = paste_back(image, new_face, aligned, mask, blend=blend, colour=colour)
    if changed_share(image, candidate, box) < MIN_CHANGED:
        return image, reason("unchanged")
    return candidate, ""


def cover(image: np.ndarray, box: tuple[float, ...], fallback: str, **grow: float) -> np.ndarray:
    """``image`` with the face at ``box`` covered by ``fallback`` (blur or fill); ``none`` leaves it as it is."""
    return image if fallback == "none" else cover_box(image, tuple(box), fallback, **grow)


def face_outcome(why: str, fallback: str) -> str:
    """A face's manifest outcome: ok (re-synthesized), covered, or skipped (left, under fallback ``none``)."""
    return "ok" if not why else "skipped" if fallback == "none" else "covered"
