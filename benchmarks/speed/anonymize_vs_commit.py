"""``ganon anonymize``'s default end to end against the same default at an earlier commit, on the same photos in the
same run: prints one JSON line.

    python benchmarks/speed/anonymize_vs_commit.py --commit a7464e4^ [--photos 96] [--rounds 2] [--device cpu]

The earlier commit is checked out into a temporary git worktree and run from there (its ``ganonlib`` first on the
import path), so each side runs its own code with its own defaults. Both anonymize the same photos (the bundled
sample's, replicated as in benchmarks/speed/anonymize.py) with the same untrained generator at 512 px and paste-back on,
after a warm-up on the first 8 photos; the two sides alternate for ``--rounds`` rounds, since this machine's speed
drifts within minutes. Reported for each side (``earlier``, ``checkout``): faces re-synthesized per second (best and
each round), the faces found and re-synthesized, and the speed-up of this checkout over the earlier commit.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[2]


def _child(photos: Path, weights: Path, out: Path, device: str) -> dict:
    """One timed run of whatever ``ganonlib`` is first on the import path."""
    import ganonlib  # first: it sets OpenMP's wait policy where the code does, before torch
    from ganonlib.config import AnonymizeConfig

    try:
        from ganonlib.anonymize.generator import Anonymizer
        from ganonlib.anonymize.run import anonymize_files, close_workers
    except ImportError:  # a kit from before the anonymize package was re-cut
        from ganonlib.anonymize.ganonymization import Anonymizer, anonymize_files

        def close_workers(an: Anonymizer) -> None:
            an.close()

    files = sorted(p for p in photos.iterdir() if p.is_file())
    # the same work on both sides: whole photos and crops (an older kit wrote photos only with paste_back)
    both = {"paste_back": True} if "paste_back" in AnonymizeConfig.__dataclass_fields__ else {"crops": True}
    an = Anonymizer(AnonymizeConfig(weights=str(weights), device=device, **both))
    try:
        anonymize_files(files[:8], out / "warm", an, progress=False)  # models loaded, workers started
        start = time.perf_counter()
        summary = anonymize_files(files, out / "timed", an, progress=False)
        seconds = time.perf_counter() - start
    finally:
        close_workers(an)
    return {"code": str(Path(ganonlib.__file__).parent.parent), "seconds": round(seconds, 2),
            "faces_found": summary["faces_found"], "faces_anonymized": summary["faces_anonymized"],
            "faces_per_s": round(summary["faces_anonymized"] / seconds, 2)}


def _run_side(code: Path, photos: Path, weights: Path, device: str, tmp: Path) -> dict:
    from anonymize import child_json

    out = Path(tempfile.mkdtemp(dir=tmp))
    return child_json([sys.executable, __file__, "--child", "--photo-dir", str(photos), "--weights", str(weights),
                       "--out", str(out), "--device", device], cwd=code, env={**os.environ, "PYTHONPATH": str(code)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--commit", help="the earlier code (any git revision)")
    parser.add_argument("--photos", type=int, default=96)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--photo-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--weights", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.photo_dir, args.weights, args.out, args.device)))
        return
    if not args.commit:
        parser.error("--commit is required")
    sha = subprocess.run(["git", "rev-parse", "--verify", f"{args.commit}^{{commit}}"], cwd=_ROOT,
                         capture_output=True, text=True, check=True).stdout.strip()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from anonymize import sample_photos, untrained_generator

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        weights = untrained_generator(tmp / "g.pt")  # a file every version of the loader reads
        photos = tmp / "photos"  # exactly these photos: the sample's folder may hold more variants than asked for
        photos.mkdir()
        for path in sample_photos(tmp / "made", args.photos):
            os.link(path, photos / path.name)
        worktree = tmp / "earlier"
        subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(worktree), sha], cwd=_ROOT, check=True)
        try:
            sides: dict[str, list[dict]] = {"earlier": [], "checkout": []}
            for _ in range(args.rounds):
                sides["earlier"].append(_run_side(worktree, photos, weights, args.device, tmp))
                sides["checkout"].append(_run_side(_ROOT, photos, weights, args.device, tmp))
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(worktree)], cwd=_ROOT, check=False)
    result: dict = {"benchmark": "anonymize_vs_commit", "commit": sha, "photos": args.photos, "device": args.device,
                    "cpus": os.cpu_count(), "image_size": 512}
    for side, runs in sides.items():
        result[side] = {"faces_per_s": max(r["faces_per_s"] for r in runs),
                        "faces_per_s_rounds": [r["faces_per_s"] for r in runs],
                        "faces_found": runs[0]["faces_found"], "faces_anonymized": runs[0]["faces_anonymized"]}
    result["speedup_checkout_vs_earlier"] = round(result["checkout"]["faces_per_s"] /
                                                  result["earlier"]["faces_per_s"], 2)
    from ganonlib.provenance import report

    report(result)


if __name__ == "__main__":
    main()
