"""The MTCNN cross-check's speed: facenet-pytorch's ``MTCNN.detect`` against the kit's ``detect_mtcnn``, same photos,
same run, one thread each (as in an extraction worker). Prints one JSON line with ms per photo for both, the share
of the photos whose boxes, probabilities and points are bit for bit the same, and the faces found.

    python benchmarks/speed/mtcnn.py [--photos 24] [--source DIR] [--repeat 3]

Photos are the bundled sample's at 512 px (one face each, replicated as augmented variants up to --photos) unless
--source names a folder; each photo is searched ``--repeat`` times by each and the median time per photo is kept.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from ganonlib.config import SampleConfig
from ganonlib.data.sample import build_sample
from ganonlib.faces.mtcnn import detect_mtcnn, use_strided_pools
from ganonlib.io import iter_images, read_image


def _same(theirs: tuple, ours: tuple) -> bool:
    boxes, probs, points = theirs
    if boxes is None:
        return all(len(a) == 0 for a in ours)
    return (np.array_equal(ours[0], boxes) and np.array_equal(ours[1], np.asarray(probs, np.float32))
            and np.array_equal(ours[2], points))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=24)
    parser.add_argument("--source", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    from facenet_pytorch import MTCNN

    theirs, ours = MTCNN(keep_all=True, device="cpu"), MTCNN(keep_all=True, device="cpu")
    use_strided_pools(ours)
    with tempfile.TemporaryDirectory() as tmp:
        if args.source is None:
            build_sample(SampleConfig(out_dir=str(Path(tmp) / "sample"), variants_per_photo=-(-args.photos // 3)))
            files = sorted(iter_images(Path(tmp) / "sample" / "images"))[: args.photos]
        else:
            files = sorted(iter_images(args.source))[: args.photos]
        images = [read_image(f) for f in files]
    runs = {"facenet_pytorch": lambda im: theirs.detect(im, landmarks=True), "kit": lambda im: detect_mtcnn(ours, im)}
    for run in runs.values():
        run(images[0])  # warm-up
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    same = faces = 0
    for image in images:
        found = {}
        for name, run in runs.items():  # alternated photo by photo: both see the machine in the same state
            times = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                found[name] = run(image)
                times.append(time.perf_counter() - start)
            seconds[name].append(float(np.median(times)))
        same += _same(found["facenet_pytorch"], found["kit"])
        faces += len(found["kit"][0])
    ms = {name: round(1000 * float(np.mean(s)), 1) for name, s in seconds.items()}
    size = sorted({f"{im.shape[1]}x{im.shape[0]}" for im in images})
    from ganonlib.provenance import report

    report({"benchmark": "mtcnn", "photos": len(images), "sizes": size, "cpus": os.cpu_count(),
            "threads": 1, "faces": faces, "ms_per_photo_facenet_pytorch": ms["facenet_pytorch"],
            "ms_per_photo_kit": ms["kit"], "speedup": round(ms["facenet_pytorch"] / ms["kit"], 2),
            "identical_photos": same})


if __name__ == "__main__":
    main()
