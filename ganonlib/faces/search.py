"""A thorough face search for anonymizing: every face of a photo, whatever its size, place or orientation.

A detector sees a photo shrunk to its input size (mediapipe: 128 or 192 px), so a 40 px face in a 2000 px photo is a
few pixels there and is missed; a face cut by the image border lacks the context the detector expects; an
upside-down face is missed or gets its eyes misplaced. For preprocessing a dataset that costs a training pair; for
anonymizing it lets a face through. So the search runs the detector on the photo as it is and mirrored out at its
border, on overlapping tiles at native resolution when the photo is large, on tiles along its edges mirrored out
beyond them (faces cut by the border), and, on request, on the photo turned by 90, 180 and 270 degrees; every
detection is mapped back to the photo and duplicates are merged.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

import cv2
import numpy as np

from ganonlib.faces.detect import Detection, FaceDetector
from ganonlib.io import MAX_SIDE

__all__ = ["SIZE_BINS", "find_faces", "merge_detections", "overlap_of_smaller", "size_histogram"]

SIZE_BINS = (32, 64, 128, 256)  # face height bins (px) for the summary: <32, 32-64, 64-128, 128-256, >=256
_PAD = 0.15  # of the longer side, on every side: a face cut by the border then has room around it
_TILE = 384  # smallest tile (px at native resolution): faces down to ~20 px are large enough in it
_TILE_GROWTH = 2.5  # each coarser tile level; tiles overlap by a third, so a face under a third of a tile fits one
# Zoomed tiles and turned photos show the detector what it was not trained on: it reports 0.5-0.7 on textures and
# hands there, while the faces it finds in them score above 0.8. Such extra detections must pass this score.
EXTRA_CONFIDENCE = 0.8
# Faces cut by the border: tiles along each edge (a third of the shorter side, 128-384 px), each mirrored out by
# half its side beyond the border, show the detector the visible part of a cut face large and whole. On 288 faces
# cut at the 8 edges and corners of 600 px photos they raise the faces found from 175 to 226 (half faces at an edge
# 80 -> 94 of 96, corners 53 -> 81 of 96), while face-free photos gain 6 false faces in 36 (4 -> 10: covered
# or re-synthesized patches), at 0.17 -> 0.34 s per photo (benchmarks/results/fail_closed_border.json). The tiles'
# detections pass at this score: 0.8 found fewer cut faces, 0.6 about as many false faces again as real ones gained.
BORDER_CONFIDENCE = 0.7
_EDGE_TILE_SHARE, _EDGE_TILE_MIN, _EDGE_TILE_MAX = 1 / 3, 128, 384
# A detector that takes many views at once (mediapipe's on a GPU) gets them in batches this large: enough views to
# fill a GPU with the two small networks, few enough pixels (the native tiles of a 12 MP photo reach 2400 px) that
# a worker's memory stays small.
BATCH_VIEWS, BATCH_PIXELS = 64, 24_000_000


def _box_area(box: tuple[float, ...]) -> float:
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])


def overlap_of_smaller(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    smaller = min(_box_area(a), _box_area(b))
    return w * h / smaller if smaller > 0 else 0.0


def merge_detections(detections: list[Detection], overlap: float = 0.5) -> list[Detection]:
    """One detection per face, the best-scored: a box lying mostly inside a better one (the same face seen by
    another pass, or a tile's cut-off part of it) is dropped."""
    kept: list[Detection] = []
    for det in sorted(detections, key=lambda d: d.score, reverse=True):
        if all(overlap_of_smaller(det.box, k.box) < overlap for k in kept):
            kept.append(det)
    return kept


def _moved(det: Detection, matrix: np.ndarray, shape: tuple[int, int]) -> Detection | None:
    """``det`` found in a transformed image, in the photo's coordinates (``matrix``: transformed -> photo, 3 x 3);
    None when the box lies entirely in the padding."""
    x0, y0, x1, y1 = det.box
    m = matrix[:2]
    corners = np.array([[x0, y0], [x1, y0], [x0, y1], [x1, y1]]) @ m[:, :2].T + m[:, 2]
    eyes = np.array([det.right_eye, det.left_eye]) @ m[:, :2].T + m[:, 2]
    lo, hi = corners.min(axis=0), corners.max(axis=0)
    height, width = shape
    if hi[0] <= 0 or hi[1] <= 0 or lo[0] >= width or lo[1] >= height:
        return None
    return replace(det, box=(float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])),
                   right_eye=(float(eyes[0, 0]), float(eyes[0, 1])), left_eye=(float(eyes[1, 0]), float(eyes[1, 1])))


def _rotation(k: int, shape: tuple[int, int]) -> tuple[int, np.ndarray]:
    """``np.rot90(image, k)`` and the 2 x 3 matrix from its pixel coordinates back to the photo's."""
    height, width = shape
    back = {0: [[1, 0, 0], [0, 1, 0]], 1: [[0, -1, width], [1, 0, 0]],
            2: [[-1, 0, width], [0, -1, height]], 3: [[0, 1, 0], [-1, 0, height]]}[k % 4]
    return k % 4, np.array(back, dtype=np.float64)


@dataclass(frozen=True)
class _View:
    """A view the detector is shown: its pixels, the 3 x 3 matrix back to the photo and the score its detections must
    reach."""

    image: np.ndarray
    to_photo: np.ndarray
    min_score: float = 0.0


def _edge_tiles(image: np.ndarray, back: np.ndarray) -> Iterator[_View]:
    """Overlapping square tiles along the four edges, each mirrored out beyond the border it touches."""
    height, width = image.shape[:2]
    tile = int(min(max(min(height, width) * _EDGE_TILE_SHARE, _EDGE_TILE_MIN), _EDGE_TILE_MAX, height, width))
    pad, stride = tile // 2, max(1, int(tile * 2 / 3))
    starts = lambda n: sorted({*range(0, n - tile + 1, stride), n - tile})  # noqa: E731
    corners = {(x, y) for x in starts(width) for y in (0, height - tile)}
    corners |= {(x, y) for y in starts(height) for x in (0, width - tile)}
    for x0, y0 in sorted(corners):
        top, left = pad * (y0 == 0), pad * (x0 == 0)
        view = cv2.copyMakeBorder(np.ascontiguousarray(image[y0:y0 + tile, x0:x0 + tile]), top,
                                  pad * (y0 + tile == height), left, pad * (x0 + tile == width), cv2.BORDER_REFLECT)
        offset = np.array([[1.0, 0.0, x0 - left], [0.0, 1.0, y0 - top], [0.0, 0.0, 1.0]])
        yield _View(view, back @ offset, BORDER_CONFIDENCE)


def _views(image: np.ndarray, back: np.ndarray, turned: bool, border: bool = True) -> Iterator[_View]:
    """Whole image as it is and padded, tiles along its edges (``border``), then tiles at native resolution for a
    large image; ``back`` maps ``image`` to the photo.
    Detections of the tiles and of a ``turned`` image must score :data:`EXTRA_CONFIDENCE` (the edge tiles
    :data:`BORDER_CONFIDENCE`)."""
    height, width = image.shape[:2]
    pad = int(round(_PAD * max(height, width)))
    # OpenCV aborts the process on a side over MAX_SIDE: a panorama is shrunk for its padded view (the detector
    # shrinks every view to its input size anyway; the tiles below keep the native resolution)
    scale = min(1.0, (MAX_SIDE - 2) / (max(height, width) + 2 * pad))  # rounding may add a pixel per side
    view = image if scale == 1.0 else cv2.resize(image, (max(1, int(width * scale)), max(1, int(height * scale))),
                                                   interpolation=cv2.INTER_AREA)
    pad = int(pad * scale)
    whole = EXTRA_CONFIDENCE if turned else 0.0
    yield _View(image, back, whole)
    # mirrored at the border, the visible half of a cut face becomes a whole face to the detector
    shift = np.array([[1.0 / scale, 0.0, -pad / scale], [0.0, 1.0 / scale, -pad / scale], [0.0, 0.0, 1.0]])
    yield _View(cv2.copyMakeBorder(view, pad, pad, pad, pad, cv2.BORDER_REFLECT), back @ shift, whole)
    if border:
        yield from _edge_tiles(image, back)
    tile = _TILE
    while 2 * tile <= max(height, width):  # a tile under half the photo zooms in enough to find what it missed
        stride = max(1, int(tile * 2 / 3))
        for y in range(0, max(height - tile, 0) + stride, stride):
            for x in range(0, max(width - tile, 0) + stride, stride):
                y0, x0 = min(y, max(height - tile, 0)), min(x, max(width - tile, 0))
                offset = np.array([[1.0, 0.0, x0], [0.0, 1.0, y0], [0.0, 0.0, 1.0]])
                yield _View(np.ascontiguousarray(image[y0:y0 + tile, x0:x0 + tile]), back @ offset,
                            EXTRA_CONFIDENCE)
        tile = int(tile * _TILE_GROWTH)


def _batches(views: Iterable[_View]) -> Iterator[list[_View]]:
    """The views in order, in batches of at most :data:`BATCH_VIEWS` views and :data:`BATCH_PIXELS` pixels."""
    batch: list[_View] = []
    pixels = 0
    for view in views:
        if batch and (len(batch) == BATCH_VIEWS or pixels + view.image[..., 0].size > BATCH_PIXELS):
            yield batch
            batch, pixels = [], 0
        batch.append(view)
        pixels += view.image[..., 0].size
    if batch:
        yield batch


def _detect(detector: FaceDetector, views: Iterable[_View], shape: tuple[int, int]) -> list[Detection]:
    """Every view's detections that reach its score, in the photo's coordinates; a detector with ``detect_many``
    (mediapipe's on a torch device) gets the views in batches."""
    detect_many = getattr(detector, "detect_many", None)
    found = []
    for batch in _batches(views):
        images = [view.image for view in batch]
        for view, detections in zip(batch, detect_many(images) if detect_many else map(detector.detect, images)):
            found += [_moved(d, view.to_photo, shape) for d in detections if d.score >= view.min_score]
    return [d for d in found if d is not None]


def find_faces(detector: FaceDetector, image: np.ndarray, turns: tuple[int, ...] = (0,),
               border: bool = True) -> list[Detection]:
    """Every face of ``image`` (H, W, 3) uint8 RGB in its coordinates, best score first, searched in the image turned
    by each of ``turns`` x 90 degrees counter-clockwise (sideways and upside-down faces, with their eyes placed
    right); ``border``: also on tiles along the edges of the upright image (faces cut by the border)."""
    shape = image.shape[:2]

    def views() -> Iterator[_View]:
        for k in turns:
            k, back = _rotation(k, shape)
            yield from _views(np.ascontiguousarray(np.rot90(image, k)), np.vstack([back, [0, 0, 1]]), turned=k != 0,
                              border=border and k == 0)

    return merge_detections(_detect(detector, views(), shape))


def size_histogram(heights: list[float]) -> dict[str, int]:
    """Faces counted by box height: ``{"<32": n, "32-64": n, ..., ">=256": n}``."""
    labels = [f"<{SIZE_BINS[0]}", *(f"{a}-{b}" for a, b in zip(SIZE_BINS, SIZE_BINS[1:])), f">={SIZE_BINS[-1]}"]
    counts = dict.fromkeys(labels, 0)
    for h in heights:
        counts[labels[int(np.searchsorted(SIZE_BINS, h, side="right"))]] += 1
    return counts
