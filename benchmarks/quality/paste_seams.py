"""How visible the pasted-back faces' edges are, per blend mode: prints one JSON line.

    python benchmarks/quality/paste_seams.py [--source ../shared/data/celeba_sample/img_align_celeba] [--photos 60]
    python benchmarks/quality/paste_seams.py --figure docs/paste_back_astronaut.jpg   # the README's before/after

Anonymizes the photos once per blend mode (same faces, same generator) and measures every
written photo against its input (:mod:`ganonlib.metrics.seams`): the share of the changed region's rim (changed
pixels within 2 px of unchanged ones) that differs by more than 25 grey levels, over all photos and for the worst
photo. Target: <= 1 %. Unchanged islands under 25 px inside a new face (pixels that match by chance) are no edge and
are left out; ``sharp_share_with_islands`` keeps them (the literal definition). Each blend runs without and with
colour matching. Without --source the bundled sample's photos are used; without --weights the pipeline's
generator (models/gan/generator.pt).
"""
from __future__ import annotations

import argparse
import io
import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from ganonlib.anonymize.generator import Anonymizer
from ganonlib.anonymize.run import anonymize_files
from ganonlib.config import BLENDS, AnonymizeConfig, SampleConfig
from ganonlib.data.sample import build_sample
from ganonlib.io import iter_images, read_image
from ganonlib.metrics.seams import seam_report


def measure(photos: list[Path], out_dir: Path, cfg: AnonymizeConfig) -> dict:
    """Anonymize ``photos`` into ``out_dir`` with paste-back and return the rim figures over the written photos."""
    anonymize_files(photos, out_dir, Anonymizer(cfg), progress=False)
    manifest = pd.read_csv(out_dir / "manifest.csv", keep_default_na=False)
    written = manifest[manifest.outputs.str.startswith("photos/")]
    pairs = ((read_image(out_dir / r.outputs), read_image(r.source)) for r in written.itertuples())
    reports = [(seam_report(out, original), seam_report(out, original, min_area=1)) for out, original in pairs]

    def share(which: int) -> float:
        rim = sum(r[which].rim_pixels for r in reports)
        return round(sum(r[which].sharp_pixels for r in reports) / max(rim, 1), 4)

    return {"photos": len(written), "faces_covered": int((manifest.outcome == "covered").sum()),
            "sharp_share": share(0), "worst_photo_sharp_share": round(max(r[0].share for r in reports), 4),
            "sharp_share_with_islands": share(1)}


def before_after(path: Path, weights: str, tmp: Path) -> None:
    """The bundled public-domain astronaut portrait (NASA), around its face: as it came in | pasted back."""
    from PIL import Image

    from ganonlib.data.sample import load_photo
    from ganonlib.io import atomic_write_bytes, atomic_write_image

    photo = tmp / "astronaut.png"
    atomic_write_image(photo, load_photo("astronaut"))
    anonymize_files([photo], tmp / "figure", Anonymizer(AnonymizeConfig(weights=weights)),
                    progress=False)
    manifest = pd.read_csv(tmp / "figure" / "manifest.csv", keep_default_na=False)
    x0, y0, x1, y1 = (float(v) for v in manifest[manifest.face == 0].box.iloc[0].split())
    grow = 0.6 * max(x1 - x0, y1 - y0)
    box = (int(max(0, x0 - grow)), int(max(0, y0 - grow)), int(x1 + grow), int(y1 + grow))
    pair = [Image.fromarray(read_image(p)).crop(box) for p in (photo, tmp / "figure" / "photos" / "astronaut.png")]
    sheet = Image.new("RGB", (pair[0].width * 2 + 8, pair[0].height), "white")
    sheet.paste(pair[0], (0, 0))
    sheet.paste(pair[1], (pair[0].width + 8, 0))
    buffer = io.BytesIO()
    sheet.save(buffer, "JPEG", quality=88)
    atomic_write_bytes(path, buffer.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, default=None)
    parser.add_argument("--photos", type=int, default=60)
    parser.add_argument("--weights", default="models/gan/generator.pt")
    parser.add_argument("--blends", default=",".join(BLENDS))
    parser.add_argument("--figure", type=Path, default=None, help="write the before/after figure there, and stop")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if args.figure:
            before_after(args.figure, args.weights, tmp)
            print(json.dumps({"figure": str(args.figure)}))
            return
        if args.source is None:
            build_sample(SampleConfig(out_dir=str(tmp / "sample"), variants_per_photo=-(-args.photos // 3)))
            source = tmp / "sample" / "images"
        else:
            source = args.source
        photos = sorted(iter_images(source))[: args.photos]
        result: dict = {"benchmark": "paste_seams", "source": str(source if args.source else "bundled sample"),
                        "weights": args.weights, "target_sharp_share": 0.01}
        for blend in args.blends.split(","):
            for colour in (False, True):
                # lossless outputs: a JPEG's recompression would count as change everywhere
                cfg = AnonymizeConfig(weights=args.weights, blend=blend, match_colour=colour,
                                      second_detector="none", photo_format="png")
                name = f"{blend}{'+colour' if colour else ''}"
                result[name] = measure(photos, tmp / name, cfg)
    from ganonlib.provenance import report

    report(result)


if __name__ == "__main__":
    main()
