"""PNG encoding settings on the kit's own images: prints one JSON line with ms per image and KiB per image of each
setting, all measured in the same run on the same images, each checked lossless.

    python benchmarks/speed/png_encoding.py [--images 24] [--repeat 3]

Images: the sample's photos (what ``ganon anonymize`` pastes faces back into), the preprocessed aligned faces and
their landmark renderings, and the anonymized crops, from the folders ``make repro`` fills (a folder not there yet
is reported as missing). Settings, all through libpng in OpenCV:
- ``sub_level1``: the kit's (no parameters: OpenCV's speed setting, PNG's "sub" filter on every row, zlib level 1);
- ``adaptive_level1``: the kit's previous setting (``IMWRITE_PNG_COMPRESSION`` 1: libpng picks a filter per row);
- ``adaptive_level1_rle``: the same with zlib's run-length strategy;
- ``adaptive_level6``: libpng's default level.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np

SETS = {"photos": "data/sample/images", "aligned_faces": "data/processed/sample/images",
        "landmarks": "data/processed/sample/landmarks", "anonymized_crops": "data/anonymized/sample/ours"}
SETTINGS = {
    "sub_level1": [],
    "adaptive_level1": [cv2.IMWRITE_PNG_COMPRESSION, 1],
    "adaptive_level1_rle": [cv2.IMWRITE_PNG_COMPRESSION, 1, cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_RLE],
    "adaptive_level6": [cv2.IMWRITE_PNG_COMPRESSION, 6],
}


def _measure(images: list[np.ndarray], params: list[int], repeat: int) -> dict:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        encoded = [cv2.imencode(".png", image, params)[1] for image in images]
        best = min(best, time.perf_counter() - start)
    lossless = all(np.array_equal(cv2.imdecode(e, cv2.IMREAD_UNCHANGED), i) for e, i in zip(encoded, images))
    return {"ms": round(1000 * best / len(images), 2), "kib": round(sum(map(len, encoded)) / len(images) / 1024, 1),
            "lossless": lossless}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=24, help="images per set")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes per setting; the fastest is reported")
    args = parser.parse_args()
    result: dict = {"benchmark": "png_encoding", "opencv": cv2.__version__, "images_per_set": args.images,
                    "sets": {}, "missing": []}
    for name, folder in SETS.items():
        files = sorted(Path(folder).rglob("*.png"))[: args.images]
        if not files:
            result["missing"].append(f"{folder} (run `make repro` first)")
            continue
        images = [cv2.imread(str(f), cv2.IMREAD_UNCHANGED) for f in files]
        shape = "x".join(map(str, images[0].shape))
        result["sets"][name] = {"shape": shape, **{s: _measure(images, p, args.repeat) for s, p in SETTINGS.items()}}
        kit, before = result["sets"][name]["sub_level1"], result["sets"][name]["adaptive_level1"]
        result["sets"][name]["speedup_vs_previous"] = round(before["ms"] / kit["ms"], 2)
        result["sets"][name]["size_vs_previous"] = round(kit["kib"] / before["kib"], 3)
    from ganonlib.provenance import report

    report(result)


if __name__ == "__main__":
    main()
