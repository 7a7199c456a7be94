"""Preprocessing throughput: prints one JSON line with images/s for n_jobs 1, 2 and every core, on a Dask LocalCluster
of one worker per core, and ms per step.

    python benchmarks/speed/preprocess.py [--images 120] [--size 512] [--source DIR]

Inputs are the bundled sample (augmented public-domain photos) unless --source names a folder of photos. The per-step
figures time each model call in one process; the images/s figures time the whole run (read, every step, PNG/npy
writes, manifest), worker start-up included.
"""
from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from ganonlib.config import DatasetConfig, PreprocessConfig, SampleConfig
from ganonlib.data.datasets import load_dataset
from ganonlib.data.preprocess import preprocess_dataset
from ganonlib.data.sample import build_sample
from ganonlib.faces.align import align_face
from ganonlib.faces.extract import FaceExtractor
from ganonlib.faces.landmarks import render_landmarks
from ganonlib.io import atomic_write_image, atomic_write_npy, read_image


def step_times(paths: list[Path], cfg: PreprocessConfig, scratch: Path) -> dict[str, float]:
    ex = FaceExtractor(cfg)
    spent = {"read": 0.0, "detect": 0.0, "align": 0.0, "mesh": 0.0, "segment": 0.0, "render": 0.0, "write": 0.0}
    faces = 0
    for path in paths:
        t = time.perf_counter()
        image = read_image(path)
        t1 = time.perf_counter()
        dets = ex.detector.detect(image)
        t2 = time.perf_counter()
        spent["read"] += t1 - t
        spent["detect"] += t2 - t1
        for det in dets:
            t = time.perf_counter()
            aligned = align_face(image, det, cfg.image_size, cfg.margin)
            t1 = time.perf_counter()
            points = ex.mesher(aligned.image)
            t2 = time.perf_counter()
            spent["align"] += t1 - t
            spent["mesh"] += t2 - t1
            if points is None:
                continue
            faces += 1
            t = time.perf_counter()
            face = ex.segmenter(aligned.image, points)
            t1 = time.perf_counter()
            marks = render_landmarks(points, cfg.image_size, cfg.landmarks_style)
            t2 = time.perf_counter()
            atomic_write_image(scratch / "face.png", face)
            atomic_write_image(scratch / "marks.png", marks)
            atomic_write_npy(scratch / "points.npy", points)
            spent["segment"] += t1 - t
            spent["render"] += t2 - t1
            spent["write"] += time.perf_counter() - t2
    per_image = {f"ms_{k}": round(1000 * v / len(paths), 2) for k, v in spent.items() if k in ("read", "detect")}
    per_face = {f"ms_{k}": round(1000 * v / max(faces, 1), 2) for k, v in spent.items() if k not in ("read", "detect")}
    return {**per_image, **per_face}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=120)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--source", type=Path, default=None, help="folder of photos (default: the bundled sample)")
    parser.add_argument("--no-dask", action="store_true", help="skip the run on a Dask LocalCluster")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if args.source is None:
            build_sample(SampleConfig(out_dir=str(tmp / "sample"), variants_per_photo=-(-args.images // 3)))
            records = load_dataset(DatasetConfig("sample", "sample", str(tmp / "sample")))
        else:
            records = load_dataset(DatasetConfig("bench", "folder", str(args.source)))
        records = records[: args.images]
        cfg = PreprocessConfig(image_size=args.size)
        result = {"benchmark": "preprocess", "images": len(records), "image_size": args.size,
                  "detector": cfg.detector, "segmentation": cfg.segmentation,
                  "source": str(args.source or "bundled sample"), "cpus": os.cpu_count(),
                  "machine": platform.processor() or platform.machine()}
        result.update(step_times([r.path for r in records], cfg, tmp))
        cores = os.cpu_count() or 1
        for n_jobs in sorted({1, 2, cores}):
            start = time.perf_counter()
            summary = preprocess_dataset(records, tmp / f"out{n_jobs}", replace(cfg, n_jobs=n_jobs), progress=False)
            elapsed = time.perf_counter() - start
            result[f"images_per_s_n_jobs_{n_jobs}"] = round(len(records) / elapsed, 2)
            result[f"pairs_n_jobs_{n_jobs}"] = summary["pairs"]
        result["speedup_2_vs_1"] = round(result["images_per_s_n_jobs_2"] / result["images_per_s_n_jobs_1"], 2)
        if not args.no_dask:
            # the same run on a Dask LocalCluster of one single-threaded worker process per core (cluster start-up
            # untimed, worker model loading timed as the local run's is)
            from distributed import LocalCluster

            with LocalCluster(n_workers=cores, threads_per_worker=1, processes=True, host="127.0.0.1",
                              dashboard_address=None) as cluster:
                start = time.perf_counter()
                summary = preprocess_dataset(records, tmp / "out_dask",
                                             replace(cfg, scheduler=cluster.scheduler_address), progress=False)
                elapsed = time.perf_counter() - start
            result[f"images_per_s_dask_{cores}_workers"] = round(len(records) / elapsed, 2)
            result["dask_outputs_equal_local"] = _same_files(tmp / "out_dask", tmp / f"out{cores}")
    from ganonlib.provenance import report

    report(result)


def _same_files(a: Path, b: Path) -> bool:
    files = {p.relative_to(a) for p in a.rglob("*") if p.is_file()}
    return files == {p.relative_to(b) for p in b.rglob("*") if p.is_file()} and all(
        (a / f).read_bytes() == (b / f).read_bytes() for f in files)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
