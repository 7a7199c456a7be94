"""Independent check of the fail-closed anonymizer on real photos: prints one JSON line.

    python benchmarks/fail_closed.py [--source ../shared/data/celeba_sample/img_align_celeba] [--photos 200]

Runs ``ganon anonymize --paste-back`` (the kit's generator) on the photos twice: with the face search alone
(``--second-detector none``) and with the default cross-check by MTCNN. Then MTCNN (weights shipped in
facenet-pytorch) looks at every input: each face it finds must be changed in the output, at least 30 % of its box by
more than 20 grey levels (the anonymizer's own test of a pasted face; MTCNN's boxes reach further up the forehead
than the face the generator paints). For the search alone this check is independent; with the cross-check it shows
what reaches the user. Reports, per setting, the faces found, re-synthesized and covered, MTCNN's faces and how many
came back changed, and the time per photo. Without --source the bundled sample's photos are used.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from ganonlib.faces.detect import make_detector
from ganonlib.faces.search import overlap_of_smaller
from ganonlib.io import iter_images, read_image, read_manifest

_LEVEL, _SHARE = 20, 0.3


def _kit_outcome(rows: list, source: Path, box: tuple) -> str:
    """What the kit recorded for the face of ``source`` that overlaps ``box``: a covered face can fail the
    pixel-difference test where the blur keeps the mean of smooth skin, though its detail is gone."""
    for row in rows:
        if row.source == str(source) and row.face >= 0 and row.box:
            if overlap_of_smaller(tuple(map(float, row.box.split())), box) >= 0.5:
                return row.outcome
    return "not found"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, default=Path("data/sample/images"))
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--weights", default="models/gan/generator.pt")
    args = parser.parse_args()
    photos = sorted(iter_images(args.source))[: args.photos]
    result = {"benchmark": "fail_closed", "source": str(args.source), "photos": len(photos)}
    mtcnn = make_detector("mtcnn", 0.9, 0)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "in").mkdir()
        for path in photos:
            shutil.copy(path, tmp / "in" / path.name)
        for second in ("none", "mtcnn"):
            out = tmp / f"out_{second}"
            start = time.perf_counter()
            run = subprocess.run([str(Path(sys.executable).with_name("ganon")), "anonymize", str(tmp / "in"),
                                  str(out), "--paste-back", "--weights", args.weights, "--second-detector", second,
                                  "--photo-format", "png"],  # lossless: compression noise is no change
                                 capture_output=True, text=True)
            elapsed = time.perf_counter() - start
            if run.returncode != 0:
                sys.exit(run.stderr.strip().splitlines()[-1])
            summary = json.loads((out / "summary.json").read_text())
            rows = read_manifest(out / "manifest.csv")
            found, unchanged = 0, []
            for path in photos:
                before = read_image(tmp / "in" / path.name)
                output = out / "photos" / f"{path.name}.png"
                after = read_image(output, min_side=1) if output.is_file() else before
                for det in mtcnn.detect(before):
                    x0, y0, x1, y1 = (max(0, int(v)) for v in det.box)
                    diff = np.abs(before[y0:y1, x0:x1].astype(int) - after[y0:y1, x0:x1].astype(int)).max(axis=-1)
                    found += 1
                    if (diff > _LEVEL).mean() < _SHARE:
                        unchanged.append(f"{path.name}: {_kit_outcome(rows, tmp / 'in' / path.name, det.box)}")
            result[f"second_detector_{second}"] = {
                "faces_found": summary["faces_found"], "faces_resynthesized": summary["faces_anonymized"],
                "faces_covered": summary["faces_covered"], "faces_by_height_px": summary["faces_by_height_px"],
                "mtcnn_faces": found, "mtcnn_faces_changed": found - len(unchanged),
                "mtcnn_faces_unchanged_in": unchanged, "s_per_photo": round(elapsed / max(len(photos), 1), 3)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
