"""The steps of one photo in ``ganon anonymize``: read it and find every face (in a worker process), generate the
new faces of several photos in shared batches, then compose it: each face re-synthesized, covered, or left and said
so (:mod:`ganonlib.anonymize.decision`), and the photo's manifest rows. The run around them is
:mod:`ganonlib.anonymize.run`.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from ganonlib.anonymize.cover import cover_region
from ganonlib.anonymize.decision import cover, face_outcome, replace_face, why_not
from ganonlib.anonymize.generator import Anonymizer
from ganonlib.anonymize.inputs import PhotoTarget, crop_name
from ganonlib.anonymize.paste import face_mask
from ganonlib.faces.extract import ExtractedFace
from ganonlib.faces.finder import FaceFinder
from ganonlib.io import IMAGE_SUFFIXES, ImageReadError, ManifestRow, read_image

__all__ = ["OutputImage", "Photo", "compose_photo", "extract_photo", "generate_faces"]

# one output image: its name under OUT, its pixels and the format it is written in ("" = by its name: PNG crops)
OutputImage = tuple[str, np.ndarray, str]


@dataclass
class Photo:
    """One input after extraction in a worker: the image and its faces, or the row saying why there are none."""

    source: str
    rel: str
    sha256: str
    image: np.ndarray | None = None
    faces: list[ExtractedFace] = field(default_factory=list)
    note: str = ""  # e.g. only the first frame of an animation was read
    failure: tuple[str, str] | None = None  # (outcome, reason) when the file could not be used


def extract_photo(finder: FaceFinder, item: tuple[str, str, str, str]) -> Photo:
    """Worker task: read one input (path, source, relative name, sha256) and find every face in it; never raises
    for a bad file."""
    path, source, rel, sha = item
    photo = Photo(source, rel, sha)
    try:
        cfg = finder.extractor.cfg
        photo.image = read_image(path, cfg.max_pixels, cfg.min_side)
        with Image.open(path) as handle:
            frames = getattr(handle, "n_frames", 1)
        if frames > 1:
            photo.note = f"only the first of {frames} frames anonymized"
        photo.faces = finder(photo.image)
    except ImageReadError as err:
        # a file named as an image that does not decode is an error; any other file is simply not a photo
        if err.reason == "unreadable" and Path(path).suffix.lower() not in IMAGE_SUFFIXES:
            photo.failure = ("skipped", f"not_an_image: {err.detail}")
        else:
            photo.failure = ("error", f"{err.reason}: {err.detail}")
    except Exception as err:  # one odd photo must not stop the run
        photo.failure = ("error", f"failed: {type(err).__name__}: {err}")
    for face in photo.faces:
        face.face = None  # the segmented copy is not needed for anonymizing: keep the transfer small
    return photo


def generate_faces(anonymizer: Anonymizer, photos: list[Photo]) -> tuple[list[dict[int, np.ndarray]], str]:
    """The new faces of several photos in shared batches, by face index per photo; a failure (out of memory, ...)
    is returned, not raised: those faces get the fallback."""
    cap = anonymizer.preprocess.max_faces
    wanted = [(i, f) for i, p in enumerate(photos) for f in p.faces if not why_not(f, cap)]
    generated: list[dict[int, np.ndarray]] = [{} for _ in photos]
    if not wanted:
        return generated, ""
    try:
        faces = anonymizer.generate(np.stack([f.landmarks for _, f in wanted]))
    except Exception as err:
        return generated, f"{type(err).__name__}: {err}"
    for (i, face), new in zip(wanted, faces):
        generated[i][face.index] = new
    return generated, ""


def _notes(*notes: str) -> str:
    return "".join(f"; {n}" for n in notes if n)


def _no_face(anonymizer: Anonymizer, photo: Photo, target: PhotoTarget, base: dict
             ) -> tuple[list[OutputImage], list[ManifestRow]]:
    policy = anonymizer.cfg.no_face
    note = _notes(photo.note)  # an animation's other frames were not searched
    if policy == "average":
        name = crop_name(photo.rel, 0)
        return [(name, anonymizer.average_face(), "")], [
            ManifestRow(outcome="ok", reason=f"no_face: average face written (policy average){note}", outputs=name,
                        **base)]
    if policy in ("blur", "keep"):
        note = _notes(photo.note, target.note)  # only a written photo can have changed format
        image, said = ((cover_region(photo.image, "blur"), "whole photo blurred") if policy == "blur"
                       else (photo.image, "photo written as it is"))
        return [(target.name, image, target.fmt)], [
            ManifestRow(outcome="ok", reason=f"no_face: {said} (policy {policy}){note}", outputs=target.name,
                        **base)]
    return [], [ManifestRow(outcome="skipped", reason=f"no_face: nothing written (policy {policy}){note}", **base)]


def compose_photo(anonymizer: Anonymizer, photo: Photo, target: PhotoTarget, generated: dict[int, np.ndarray],
                  failure: str, fingerprint: str) -> tuple[list[OutputImage], list[ManifestRow]]:
    """One photo's outputs and rows: each face re-synthesized, or covered by the fallback, or (fallback none) left
    and said so; the photo's own row comes last."""
    cfg = anonymizer.cfg
    base = dict(source=photo.source, sha256=photo.sha256, fingerprint=fingerprint)
    if photo.failure:
        return [], [ManifestRow(outcome=photo.failure[0], reason=photo.failure[1], **base)]
    if not photo.faces:
        return _no_face(anonymizer, photo, target, base)
    images: list[OutputImage] = []
    rows, result = [], photo.image
    for face in photo.faces:
        box = face.detection.box
        why = why_not(face, anonymizer.preprocess.max_faces, failure)
        new = generated.get(face.index)
        if not why:
            mask = face_mask(face.points, face.aligned, cfg.feather)
            result, why = replace_face(result, new, face.aligned, mask, box, cfg.blend, cfg.match_colour)
        face_row = dict(face=face.index, score=face.detection.score, box=" ".join(f"{v:.1f}" for v in box), **base)
        name = crop_name(photo.rel, face.index) if cfg.crops else ""
        outcome = face_outcome(why, cfg.fallback)
        if outcome == "ok":
            images += [(name, new, "")] if name else []
            rows.append(ManifestRow(outcome="ok", outputs=name, **face_row))
        elif outcome == "skipped":
            rows.append(ManifestRow(outcome="skipped", reason=f"{why}; left unchanged (fallback none)", **face_row))
        else:
            result = cover(result, box, cfg.fallback)
            images += [(name, cover_region(face.aligned.image, cfg.fallback), "")] if name else []
            rows.append(ManifestRow(outcome="covered", reason=f"{why}; covered ({cfg.fallback})", outputs=name,
                                    **face_row))
    counts = Counter(r.outcome for r in rows)
    said = f"{counts['ok']} re-synthesized, {counts['covered']} covered, {counts['skipped']} left unchanged"
    if counts["skipped"] == len(rows):  # every face left as it was: never written as an anonymized photo
        rows.append(ManifestRow(outcome="skipped", reason=f"faces: {said}: no photo written{_notes(photo.note)}",
                                **base))
    else:
        images.append((target.name, result, target.fmt))
        rows.append(ManifestRow(outcome="ok", reason=f"faces: {said}{_notes(photo.note, target.note)}",
                                outputs=target.name, **base))
    return images, rows
