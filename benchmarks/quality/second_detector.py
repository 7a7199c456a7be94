"""The anonymizer's face finder, before (the search + MTCNN) and after each cheaper design measured, on the same
photos in one run: prints one JSON line.

    python benchmarks/quality/second_detector.py [--celeba ../shared/data/celeba_sample/img_align_celeba]
        [--emotion ../shared/data/emotion_sample/images] [--photos 548] [--out FILE]

The face finder of ``ganon anonymize`` is the kit's search plus a second detector whose faces the search missed are
added (re-synthesized or covered). The designs compared, each against the default (``before: mtcnn``):

- ``retinaface <score>``: RetinaFace MobileNet-0.25 in place of MTCNN, as ``--second-detector retinaface`` runs it
  (the photo at its size, a 640 px pass above 960 px), per score threshold;
- ``retinaface mirrored+640 <score>``: the same with a mirrored frame (0.1 of the longer side) and the 640 px pass
  always;
- ``retinaface +2x <score>``: the same plus a pass on the photo at twice its size when its longer side is 640 px or
  less (what RetinaFace needs for faces of 20-40 px);
- ``retinaface framed <score>``: RetinaFace on the photo in a mirrored frame (0.1 of the longer side: a face cut by
  the border becomes whole), with the 640 px pass above 960 px and a pass at twice the size up to 640 px;
- ``no edge tiles, retinaface framed <score>``: the same, with the search's tiles along the edges (over half of its
  time) left out, the framed RetinaFace looking for the faces cut by the border instead;
- ``edge tiles short-range + mtcnn`` and ``edge tiles full-range + mtcnn``: MTCNN kept, the search's tiles along the
  edges run by one of mediapipe's two models instead of both; ``edge tiles short-range, retinaface framed <score>``:
  those tiles by the short-range model, and the framed RetinaFace instead of MTCNN.

Faces are counted per set:

- sets with known faces, built from the bundled public-domain portraits and the first CelebA faces: ``grid`` (12
  faces of 90-140 px tiled in one photo), ``small`` (one face of 20, 28 or 36 px in a 400 px scene), ``turned``
  (the portraits turned by 90, 180 and 270 degrees), ``border`` (faces cut by the border:
  ganonlib/data/border_faces.py): faces found (a found face covers at least half of a true one), true faces the old
  finder found and this one does not ("lost": none allowed), and false ones;
- real photos (CelebA, the emotion sample): the faces of the old finder (search + MTCNN) still found by the new one
  ("kept", the fail-closed requirement: every one), and the new one's extra faces;
- face-free photos (scikit-image's data at 600 and 1000 px): every face there is false.

``summary``: per design, the faces of the old finder it loses over all sets (``lost``: true faces lost plus real
photos' faces not kept), its false faces in the face-free photos, and its time per photo on one thread (search plus
second detector, averaged over every photo of the run) against the default's. Each search and detector runs once
per photo (RetinaFace at the lowest threshold, the others by filtering its scores, which is what a higher threshold
gives: a lower-scored box never suppresses a higher one).
"""
from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from unittest import mock

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks" / "quality"))

from fail_closed import _face_free  # noqa: E402  the face-free photos of the fail-closed benchmark

from ganonlib.config import PreprocessConfig  # noqa: E402
from ganonlib.data.border_faces import border_cases  # noqa: E402
from ganonlib.data.sample import PHOTOS, load_photo  # noqa: E402
from ganonlib.faces import search as search_module  # noqa: E402
from ganonlib.faces.detect import FaceDetector, MediaPipeDetector  # noqa: E402
from ganonlib.faces.finder import find_all_faces, make_second_detector, start_finder  # noqa: E402
from ganonlib.faces.search import overlap_of_smaller  # noqa: E402
from ganonlib.io import iter_images, read_image  # noqa: E402

THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)
UPSCALED_UP_TO = 640  # px: the longer side up to which "retinaface +2x" also searches the photo at twice its size
Box = tuple[float, float, float, float]


def _face_crop(image: np.ndarray, box: Box, grow: float = 0.6) -> tuple[np.ndarray, Box]:
    """The face with ``grow`` of its size around it, and the face's box inside the crop."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    cx0, cy0 = max(0, int(x0 - grow * w)), max(0, int(y0 - grow * h))
    cx1, cy1 = min(image.shape[1], int(x1 + grow * w)), min(image.shape[0], int(y1 + grow * h))
    return image[cy0:cy1, cx0:cx1], (x0 - cx0, y0 - cy0, x1 - cx0, y1 - cy0)


def _pasted(scene: np.ndarray, crop: np.ndarray, box: Box, face_px: int, at: tuple[int, int]) -> Box:
    """Paste ``crop`` scaled so its face is ``face_px`` high into ``scene`` at ``at``; the face's new box."""
    s = face_px / (box[3] - box[1])
    small = cv2.resize(crop, (max(1, round(crop.shape[1] * s)), max(1, round(crop.shape[0] * s))),
                       interpolation=cv2.INTER_AREA)
    x, y = at
    h, w = min(small.shape[0], scene.shape[0] - y), min(small.shape[1], scene.shape[1] - x)
    scene[y:y + h, x:x + w] = small[:h, :w]
    return (x + box[0] * s, y + box[1] * s, x + box[2] * s, y + box[3] * s)


def _turned(image: np.ndarray, box: Box, k: int) -> tuple[np.ndarray, Box]:
    """``image`` turned by k x 90 degrees counter-clockwise (np.rot90) and ``box`` with it."""
    h, w = image.shape[:2]
    x0, y0, x1, y1 = box
    for _ in range(k % 4):
        x0, y0, x1, y1 = y0, w - x1, y1, w - x0
        h, w = w, h
    return np.ascontiguousarray(np.rot90(image, k)), (x0, y0, x1, y1)


def known_sets(faces: list[tuple[np.ndarray, Box]]) -> dict[str, list[tuple[np.ndarray, list[Box]]]]:
    """Photos whose faces are known, built from ``faces`` (photo, face box)."""
    from skimage import data

    scene = cv2.resize(data.coffee(), (400, 400), interpolation=cv2.INTER_AREA)
    crops = [_face_crop(img, box) for img, box in faces]
    grid = []
    for start in range(0, len(crops) - 11, 12):
        canvas, boxes = np.full((600, 800, 3), 128, np.uint8), []
        for k, (crop, box) in enumerate(crops[start:start + 12]):
            boxes.append(_pasted(canvas, crop, box, 90 + 50 * ((k * 7) % 3) // 2, (200 * (k % 4) + 10,
                                                                                   200 * (k // 4) + 10)))
        grid.append((canvas, boxes))
    small = []
    for crop, box in crops:
        for px in (20, 28, 36):
            canvas = scene.copy()
            small.append((canvas, [_pasted(canvas, crop, box, px, (180, 170))]))
    turned = [(image, [b]) for img, box in faces[:len(PHOTOS)] for k in (1, 2, 3) for image, b in [_turned(img, box, k)]]
    border = [(c.image, [c.box]) for img, box in faces[:len(PHOTOS)]
              for c in border_cases(img, box, data.coffee()) if "_" not in c.edge or c.visible >= 0.5]
    return {"grid": grid, "small": small, "turned": turned, "border": border}


def _combined(search: list[Box], second: list[Box]) -> list[Box]:
    """The finder's faces: the search's, then the second detector's (or detectors') that are not found yet."""
    found = list(search)
    for box in second:
        if all(overlap_of_smaller(box, f) < 0.5 for f in found):
            found.append(box)
    return found


def _upscaled(detector: FaceDetector, image: np.ndarray) -> list[tuple[Box, float]]:
    """``detector`` on ``image`` at twice its size (none above UPSCALED_UP_TO px), its boxes and scores in ``image``'s
    pixels."""
    if max(image.shape[:2]) > UPSCALED_UP_TO:
        return []
    found = detector.detect(cv2.resize(image, None, fx=2, fy=2, interpolation=cv2.INTER_LINEAR))
    return [(tuple(v / 2 for v in d.box), d.score) for d in found]


class _EdgeView(search_module._View):
    """A view of the search's tiles along the edges."""


@contextmanager
def _edge_tiles_run_by(model: FaceDetector) -> Iterator[None]:
    """The search with its tiles along the edges shown to ``model`` instead of its own detector (all other views
    unchanged, each still at its score)."""
    edge_tiles, detect = search_module._edge_tiles, search_module._detect

    def marked(*args: object) -> Iterator[search_module._View]:
        for view in edge_tiles(*args):
            yield _EdgeView(view.image, view.to_photo, view.min_score)

    def split(detector: FaceDetector, views: Iterable[search_module._View], shape: tuple[int, int]) -> list:
        views = list(views)
        return (detect(detector, [v for v in views if not isinstance(v, _EdgeView)], shape)
                + detect(model, [v for v in views if isinstance(v, _EdgeView)], shape))

    with mock.patch.object(search_module, "_edge_tiles", marked), mock.patch.object(search_module, "_detect", split):
        yield


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--celeba", type=Path, default=ROOT.parent / "shared/data/celeba_sample/img_align_celeba")
    parser.add_argument("--emotion", type=Path, default=ROOT.parent / "shared/data/emotion_sample/images")
    parser.add_argument("--photos", type=int, default=548, help="real photos per folder")
    parser.add_argument("--out", type=Path, help="also write the JSON line here")
    parser.add_argument("--thresholds", default=",".join(map(str, THRESHOLDS)), help="RetinaFace scores compared")
    args = parser.parse_args()
    thresholds = tuple(float(t) for t in args.thresholds.split(","))
    import torch

    torch.set_num_threads(1)  # as in the anonymizer's workers
    cfg = PreprocessConfig(image_size=256, max_faces=0)
    finder = start_finder(cfg, "none")
    from ganonlib.faces.retinaface_mobile import MobileRetinaFaceDetector

    retinaface = make_second_detector("retinaface")
    retinaface.min_confidence = min(thresholds)
    mirrored = MobileRetinaFaceDetector(min_confidence=min(thresholds), mirror=0.1, large=0)
    framed = MobileRetinaFaceDetector(min_confidence=min(thresholds), mirror=0.1)
    framed_2x = MobileRetinaFaceDetector(min_confidence=min(thresholds), mirror=0.1, large=sys.maxsize)
    mtcnn = make_second_detector("mtcnn")
    edge_models = {"short-range": MediaPipeDetector(cfg.min_confidence, 0, (0,)),
                   "full-range": MediaPipeDetector(cfg.min_confidence, 0, (1,))}

    def searched(image: np.ndarray, border: bool = True, edge: str = "") -> list[Box]:
        if not edge:
            return [f.detection.box for f in find_all_faces(finder.extractor, image, border)]
        with _edge_tiles_run_by(edge_models[edge]):
            return [f.detection.box for f in find_all_faces(finder.extractor, image)]

    def boxes_of(detector: FaceDetector) -> Callable[[np.ndarray], list[tuple[Box, float]]]:
        return lambda image: [(d.box, d.score) for d in detector.detect(image)]

    # the parts each design adds up, timed once per photo
    parts = {"search": searched,
             "search, no edge tiles": partial(searched, border=False),
             **{f"search, edge tiles {m}": partial(searched, edge=m) for m in edge_models},
             "mtcnn": boxes_of(mtcnn),
             "retinaface": boxes_of(retinaface),
             "retinaface mirrored+640": boxes_of(mirrored),
             "retinaface 2x pass": partial(_upscaled, retinaface),
             "retinaface framed": boxes_of(framed),
             "retinaface framed 2x pass": partial(_upscaled, framed_2x)}
    timing: dict[str, list[float]] = {name: [] for name in parts}
    framed_parts = ("retinaface framed", "retinaface framed 2x pass")
    designs = {"before: mtcnn": ("search", "mtcnn"),
               **{f"{name} {t}": ("search", name) for name in ("retinaface", "retinaface mirrored+640")
                  for t in thresholds},
               **{f"retinaface +2x {t}": ("search", "retinaface", "retinaface 2x pass") for t in thresholds},
               **{f"retinaface framed {t}": ("search", *framed_parts) for t in thresholds},
               **{f"no edge tiles, retinaface framed {t}": ("search, no edge tiles", *framed_parts)
                  for t in thresholds},
               **{f"edge tiles {m} + mtcnn": (f"search, edge tiles {m}", "mtcnn") for m in edge_models},
               **{f"edge tiles short-range, retinaface framed {t}": ("search, edge tiles short-range", *framed_parts)
                  for t in thresholds}}

    def look(image: np.ndarray) -> dict:
        seen = {}
        for name, part in parts.items():
            start = time.perf_counter()
            seen[name] = part(image)
            timing[name].append(time.perf_counter() - start)
        return seen

    def finders(seen: dict) -> dict[str, list[Box]]:
        result = {}
        for design, (search, *seconds) in designs.items():
            score = float(design.rsplit(" ", 1)[1]) if "retinaface" in design else 0.0
            result[design] = _combined(seen[search], [b for s in seconds for b, p in seen[s] if p >= score])
        return result

    bundled = [load_photo(name) for name in PHOTOS]
    real = {}
    for name, folder in (("celeba", args.celeba), ("emotion", args.emotion)):
        if folder.is_dir():
            real[name] = [read_image(p) for p in sorted(iter_images(folder))[:args.photos]]
    sources = []  # (photo, its best face) for the derived sets: the bundled portraits first
    for image in bundled + real.get("celeba", [])[:36]:
        faces = find_all_faces(finder.extractor, image)
        if faces:
            x0, y0, x1, y1 = max((f.detection.box for f in faces), key=lambda b: (b[2] - b[0]) * (b[3] - b[1]))
            h, w = image.shape[:2]
            sources.append((image, (max(0.0, x0), max(0.0, y0), min(float(w), x1), min(float(h), y1))))
    report: dict = {"benchmark": "second_detector", "thresholds": list(thresholds), "sets": {}}
    for set_name, photos in known_sets(sources).items():
        counts: dict = {}
        for image, truth in photos:
            found = finders(look(image))
            hit = {name: [any(overlap_of_smaller(t, b) >= 0.5 for b in boxes) for t in truth]
                   for name, boxes in found.items()}
            for finder_name, boxes in found.items():
                c = counts.setdefault(finder_name, {"faces": 0, "found": 0, "lost": 0, "false": 0})
                c["faces"] += len(truth)
                c["found"] += sum(hit[finder_name])
                # a true face the old finder found and this one does not: what the fail-closed rule forbids
                c["lost"] += sum(old and not new for old, new in zip(hit["before: mtcnn"], hit[finder_name]))
                c["false"] += sum(all(overlap_of_smaller(b, t) < 0.5 for t in truth) for b in boxes)
        report["sets"][set_name] = {"photos": len(photos), **counts}
    for set_name, photos in real.items():
        counts = {}
        for image in photos:
            found = finders(look(image))
            old = found["before: mtcnn"]
            for finder_name, boxes in found.items():
                c = counts.setdefault(finder_name, {"faces": 0, "old_kept": 0, "extra": 0})
                c["faces"] += len(boxes)
                c["old_kept"] += sum(any(overlap_of_smaller(o, b) >= 0.5 for b in boxes) for o in old)
                c["extra"] += sum(all(overlap_of_smaller(b, o) < 0.5 for o in old) for b in boxes)
        report["sets"][set_name] = {"photos": len(photos), **counts}
    counts = {}
    free = _face_free()
    for image in free:
        for finder_name, boxes in finders(look(image)).items():
            counts[finder_name] = counts.get(finder_name, 0) + len(boxes)
    report["sets"]["face_free"] = {"photos": len(free), **{k: {"false": v} for k, v in counts.items()}}
    ms = {name: 1000 * float(np.mean(v)) for name, v in timing.items()}
    report["ms_per_photo"] = {name: round(v, 1) for name, v in ms.items()}
    design_ms = {design: sum(ms[part] for part in used) for design, used in designs.items()}
    sets = report["sets"]
    report["summary"] = {design: {
        "lost": sum(sets[s].get(design, {}).get("lost", 0) for s in sets if s != "face_free")
        + sum(sets[s]["before: mtcnn"]["faces"] - sets[s][design]["old_kept"] for s in real),
        "false_face_free": sets["face_free"][design]["false"],
        "ms_per_photo": round(design_ms[design], 1),
        "vs_before": round(design_ms[design] / design_ms["before: mtcnn"], 3)} for design in designs}
    from ganonlib.provenance import report as print_report

    print_report(report, args.out)


if __name__ == "__main__":
    main()
