"""What one view of the face search costs, and how much of it is the detector's networks: prints one JSON line.

    python benchmarks/speed/search_views.py [--repeat 50] [--out FILE]

The search (ganonlib/faces/search.py) runs mediapipe's face detection on many views of each photo: the photo, the
photo mirrored out, tiles along each edge and, for large photos, native-resolution tiles; each view through both of
mediapipe's models (short-range, 128 px input, and full-range, 192 px). Measured on one thread, on views of the
bundled portrait at 128-1024 px:

- ``mediapipe_ms``: one view through mediapipe's graph (``MediaPipeGraphDetector``, what the search ran until the
  networks were run directly) with both models merged as the search runs them, and each model alone;
- ``direct_ms``: the same views through ``MediaPipeDetector``, the networks run by ganonlib/faces/blazeface.py
  (same detections, tests/test_blazeface.py);
- ``search_ms``: the whole upright search (``find_faces``) of the portrait resized to a few photo sizes, with each
  runner, in the same run (the runners take turns, run by run, as they do per view);
- ``network_ms``: each model's network alone, on LiteRT (the runtime ai-edge-litert ships, XNNPACK on one thread),
  on one input of its size and per input of a batch of 8: what any runner of the same networks cannot go below;
- ``views_per_photo``: the views the search runs on an upright photo of a few sizes (no turns), counted by wrapping
  the detector;
- ``graph_share``: the share of a view's time through the graph that is not the two networks (resizing, decoding,
  merging: what a leaner runner of the same networks could save at most), and ``direct_share``: the same for the
  direct runner.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np

from ganonlib.data.sample import load_photo
from ganonlib.faces import search
from ganonlib.faces.blazeface import FULL_RANGE, SHORT_RANGE
from ganonlib.faces.detect import Detection, MediaPipeDetector, MediaPipeGraphDetector
from ganonlib.provenance import report

SIDES = (128, 256, 512, 1024)
PHOTO_SHAPES = ((218, 178), (512, 512), (1080, 1920), (3000, 4000))


def _ms(call, repeat: int) -> float:
    """Median ms of ``call()`` over ``repeat`` runs after one untimed."""
    call()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return round(1000 * float(np.median(times)), 2)


def _paired_ms(calls: dict, repeat: int) -> dict[str, float]:
    """Median ms of each call, the calls taking turns run by run: a machine whose speed drifts within minutes slows
    them alike."""
    for call in calls.values():
        call()
    times: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(repeat):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - start)
    return {name: round(1000 * float(np.median(t)), 2) for name, t in times.items()}


def _network_ms(model: Path, repeat: int) -> dict[str, float]:
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(model), num_threads=1)
    interpreter.allocate_tensors()
    entry = interpreter.get_input_details()[0]
    shape = list(entry["shape"])
    x = np.random.default_rng(0).uniform(-1, 1, shape).astype(np.float32)

    def run(batch: np.ndarray) -> None:
        interpreter.set_tensor(entry["index"], batch)
        interpreter.invoke()

    one = _ms(lambda: run(x), repeat)
    interpreter.resize_tensor_input(entry["index"], [8, *shape[1:]])
    interpreter.allocate_tensors()
    batch = np.repeat(x, 8, axis=0)
    return {"one": one, "per_input_of_8": round(_ms(lambda: run(batch), max(3, repeat // 8)) / 8, 2)}


class _Counter:
    """A detector that counts the views it is shown and finds nothing."""

    name = "counter"

    def __init__(self) -> None:
        self.views = 0

    def detect(self, image: np.ndarray) -> list[Detection]:
        self.views += 1
        return []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--out", type=Path, help="also write the JSON line here")
    args = parser.parse_args()
    photo = load_photo("astronaut")
    graphs = {"both": MediaPipeGraphDetector(0.5, 0), "short_range": MediaPipeGraphDetector(0.5, 0, (0,)),
              "full_range": MediaPipeGraphDetector(0.5, 0, (1,))}
    directs = {"both": MediaPipeDetector(0.5, 0), "short_range": MediaPipeDetector(0.5, 0, (0,)),
               "full_range": MediaPipeDetector(0.5, 0, (1,))}
    mediapipe_ms, direct_ms = {}, {}
    for side in SIDES:
        view = cv2.resize(photo, (side, side), interpolation=cv2.INTER_AREA)
        timed = _paired_ms({(runner, name): lambda d=d: d.detect(view)
                            for runner, detectors in (("graph", graphs), ("direct", directs))
                            for name, d in detectors.items()}, args.repeat)
        mediapipe_ms[str(side)] = {name: timed["graph", name] for name in graphs}
        direct_ms[str(side)] = {name: timed["direct", name] for name in directs}
    search_ms = {}
    for height, width in PHOTO_SHAPES:
        resized = cv2.resize(photo, (width, height), interpolation=cv2.INTER_LINEAR)
        search_ms[f"{width}x{height}"] = _paired_ms(
            {runner: lambda d=d: search.find_faces(d, resized)
             for runner, d in (("mediapipe", graphs["both"]), ("direct", directs["both"]))}, max(3, args.repeat // 10))
    network_ms = {"short_range": _network_ms(SHORT_RANGE.path, args.repeat),
                  "full_range": _network_ms(FULL_RANGE.path, args.repeat)}
    views = {}
    for height, width in PHOTO_SHAPES:
        counter = _Counter()
        search.find_faces(counter, np.zeros((height, width, 3), np.uint8))
        views[f"{width}x{height}"] = counter.views
    networks = network_ms["short_range"]["one"] + network_ms["full_range"]["one"]
    share = lambda ms: round(1 - networks / float(np.median([v["both"] for v in ms.values()])), 3)  # noqa: E731
    for timing in search_ms.values():
        timing["ratio"] = round(timing["direct"] / timing["mediapipe"], 3)
    report({"benchmark": "search_views", "mediapipe_ms": mediapipe_ms, "direct_ms": direct_ms, "network_ms": network_ms,
            "search_ms": search_ms, "views_per_photo": views, "graph_share": share(mediapipe_ms),
            "direct_share": share(direct_ms)}, args.out)


if __name__ == "__main__":
    main()
