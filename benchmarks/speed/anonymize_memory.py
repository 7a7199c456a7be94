"""Resident memory through one long anonymize run: prints one JSON line. Every queue of the pipeline is bounded, so
once the first batches are through, memory must stay flat however many photos follow.

    python benchmarks/speed/anonymize_memory.py [--photos 480] [--device cpu] [--interval 1]

The run anonymizes the bundled sample's photos (replicated as in benchmarks/speed/anonymize.py) with an untrained generator
at 512 px, paste-back on, the default pipeline (one extraction worker per core), in a fresh process. A thread samples
the resident memory of that process and of its extraction workers every ``--interval`` seconds, with the manifest's
rows so far. Reported: the peak of each quarter of the run (main process, all workers together, both), the growth from
the second quarter (warm: the models are loaded and the first batches generated) to the last, and the whole run's
peaks from getrusage.
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

_KIB_PER_MIB = 1024  # getrusage reports ru_maxrss in KiB on Linux
_MIB = 2 ** 20


def _sample(samples: list[tuple[float, int, int, int]], manifest: Path, done: threading.Event,
            interval: float) -> None:
    """(seconds, manifest rows, main RSS MiB, workers' RSS MiB) every ``interval`` until ``done``."""
    import psutil

    me, start = psutil.Process(), time.perf_counter()
    while not done.wait(interval):
        workers = 0
        for child in me.children(recursive=True):
            try:
                workers += child.memory_info().rss
            except psutil.Error:  # a worker that ended between the listing and the reading
                pass
        rows = sum(1 for _ in manifest.open()) - 1 if manifest.exists() else 0
        samples.append((time.perf_counter() - start, rows, me.memory_info().rss // _MIB, workers // _MIB))


def _quarters(samples: list[tuple[float, int, int, int]]) -> list[dict]:
    """Each quarter of the run's samples: its rows reached and the peaks of main, workers and both."""
    out, n = [], len(samples)
    for q in range(4):
        part = samples[q * n // 4:(q + 1) * n // 4] or samples[-1:]
        out.append({"until_s": round(part[-1][0]), "manifest_rows": part[-1][1],
                    "main_mib": max(s[2] for s in part), "workers_mib": max(s[3] for s in part),
                    "total_mib": max(s[2] + s[3] for s in part)})
    return out


def _child(photos: int, device: str, interval: float, tmp: Path) -> dict:
    # first: it imports ganonlib, which sets OpenMP's wait policy before torch
    from anonymize import sample_photos, untrained_generator
    from ganonlib.anonymize.generator import Anonymizer
    from ganonlib.anonymize.run import anonymize_files, close_workers
    from ganonlib.config import AnonymizeConfig

    weights = untrained_generator(tmp / "g.pt")
    files = sample_photos(tmp, photos)
    an = Anonymizer(AnonymizeConfig(weights=str(weights), device=device, crops=True))
    samples: list[tuple[float, int, int, int]] = []
    done = threading.Event()
    sampler = threading.Thread(target=_sample, args=(samples, tmp / "out" / "manifest.csv", done, interval),
                               daemon=True)
    start = time.perf_counter()
    sampler.start()
    try:
        summary = anonymize_files(files, tmp / "out", an, progress=False)
    finally:
        done.set()
        sampler.join()
        close_workers(an)  # the workers end and are waited for: their peaks count in RUSAGE_CHILDREN
    quarters = _quarters(samples)
    return {"photos": photos, "faces": summary.get("faces_anonymized"),
            "seconds": round(time.perf_counter() - start, 1),
            "manifest_rows": sum(1 for _ in (tmp / "out" / "manifest.csv").open()) - 1,
            "samples": len(samples), "quarters": quarters,
            "growth_mib_q2_to_q4": {k: quarters[3][k] - quarters[1][k] for k in ("main_mib", "workers_mib",
                                                                                 "total_mib")},
            "main_peak_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / _KIB_PER_MIB),
            "worker_peak_mib": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / _KIB_PER_MIB)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=480)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--tmp", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.photos, args.device, args.interval, Path(args.tmp))))
        return
    from anonymize import child_json

    with tempfile.TemporaryDirectory() as tmp:  # a fresh process: its peaks are this run's alone
        result = child_json([sys.executable, __file__, "--child", "--photos", str(args.photos), "--tmp", tmp,
                             "--device", args.device, "--interval", str(args.interval)])
    from ganonlib.provenance import report

    report({"benchmark": "anonymize_memory", "device": args.device, **result})


if __name__ == "__main__":
    main()
