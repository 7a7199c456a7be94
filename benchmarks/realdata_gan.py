"""Real-data check of the GAN: train on CelebA faces through the kit's own preprocessing, anonymize faces of people
the GAN never saw, and measure how often a face is found again in the outputs. Prints one JSON line.

    python benchmarks/realdata_gan.py --budget 200                      # everything, on a GPU machine
    python benchmarks/realdata_gan.py --budget 20 --batch 4 --holdout 5  # CPU smoke run

Every image of --holdout identities (seeded, identity_CelebA.txt) is held out of training. Realism proxies on the
held-out outputs: the share in which the face mesh is found again, and the share in which MTCNN (a detector
independent of the mediapipe models that made the landmarks) finds a face. Also writes a grid
original | landmarks | output to --out.

The three phases can run on different machines (--phase): ``prepare`` (preprocessing: mediapipe, CPU) writes
``<out>/processed``; ``train`` (training + generating the held-out faces: torch only, the GPU) writes ``<out>/gan``
and ``<out>/ours``; ``evaluate`` (mediapipe + MTCNN, CPU) reads both and prints the result. Each phase records its
figures in ``<out>/<phase>.json``; ``all`` runs the three in turn.
"""
from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ganonlib.config import DatasetConfig, PreprocessConfig
from ganonlib.io import atomic_write_image, atomic_write_json

DEFAULT_CELEBA = Path(__file__).resolve().parents[2] / "shared" / "data" / "celeba_sample"


def prepare(args: argparse.Namespace) -> dict:
    from ganonlib.data.datasets import load_dataset
    from ganonlib.data.preprocess import preprocess_dataset

    records = load_dataset(DatasetConfig("celeba", "celeba", str(args.celeba)))
    identities = sorted({r.subject for r in records})
    held = set(np.random.default_rng(args.seed).choice(identities, size=args.holdout, replace=False).tolist())
    records = [replace(r, split="test" if r.subject in held else "train") for r in records]
    start = time.perf_counter()
    prep = preprocess_dataset(records, args.out / "processed", PreprocessConfig(image_size=args.size, n_jobs=args.jobs),
                              progress=False)
    return {"preprocess_s": round(time.perf_counter() - start, 1), "identities": len(identities),
            "heldout_identities": args.holdout, "detection_rate_preprocess": prep["detection_rate"],
            "mesh_rate_preprocess": prep["mesh_rate"]}


def train(args: argparse.Namespace) -> dict:
    from ganonlib.anonymize.ganonymization import AnonymizeConfig, Anonymizer, anonymize_pairs
    from ganonlib.train.gan import GanTrainConfig
    from ganonlib.train.launch import train as train_gan

    gan_dir = args.out / "gan"
    start = time.perf_counter()
    run = train_gan(GanTrainConfig(data_dir=str(args.out / "processed"), out_dir=str(gan_dir), epochs=1_000_000,
                                   batch_size=args.batch, seed=args.seed, compile=args.compile, resume=False,
                                   max_seconds=args.budget, checkpoint_every=0))
    train_s = time.perf_counter() - start
    anonymizer = Anonymizer(AnonymizeConfig(weights=str(gan_dir / "generator.pt"), batch_size=32))
    anon = anonymize_pairs(args.out / "processed", args.out / "ours", anonymizer, progress=False, splits=("test",))
    losses = pd.read_csv(gan_dir / "losses.csv")
    return {"device": torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu",
            "size": args.size, "batch": args.batch, "budget_s": args.budget, "train_s": round(train_s, 1),
            "train_pairs": run["train_pairs"], "epochs": run["epochs_run"],
            "steps": int(losses.steps.sum()),
            "train_img_per_s": round(float(losses.images_per_s.median()), 1),
            "final_g_l1": round(float(losses.g_l1.iloc[-1]), 4), "heldout_faces": anon["pairs"]}


def evaluate(args: argparse.Namespace) -> dict:
    from ganonlib.faces.detect import make_detector
    from ganonlib.faces.landmarks import FaceMesher
    from ganonlib.io import read_image
    from ganonlib.viz import image_grid

    processed, ours = args.out / "processed", args.out / "ours"
    index = pd.read_csv(ours / "index.csv")
    mesher, detector = FaceMesher(), make_detector("mtcnn", 0.9, 5)
    outputs = [read_image(ours / p) for p in index.image]
    originals = [read_image(p) for p in index.original]
    pairs = pd.read_csv(processed / "index.csv").set_index("key")
    rows = [[index.original[i], processed / pairs.landmarks[index.key[i]], ours / index.image[i]]
            for i in range(min(8, len(index)))]
    grid = args.out / "grid_original_landmarks_output.png"
    atomic_write_image(grid, np.asarray(image_grid(rows, cell=args.size // 2)))
    return {"mesh_found_share": round(float(np.mean([mesher(o) is not None for o in outputs])), 3),
            "mtcnn_face_share": round(float(np.mean([len(detector.detect(o)) > 0 for o in outputs])), 3),
            "mtcnn_face_share_originals": round(float(np.mean([len(detector.detect(o)) > 0 for o in originals])), 3),
            "evaluated_faces": len(outputs), "grid": str(grid)}


PHASES = {"prepare": prepare, "train": train, "evaluate": evaluate}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--phase", choices=[*PHASES, "all"], default="all")
    parser.add_argument("--celeba", type=Path, default=DEFAULT_CELEBA)
    parser.add_argument("--out", type=Path, default=Path("reports/realdata_gan"))
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--budget", type=float, default=200.0, help="training seconds (compilation included)")
    parser.add_argument("--holdout", type=int, default=30, help="identities held out of training")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2, help="preprocessing processes")
    parser.add_argument("--compile", action="store_true", help="torch.compile (pays off only for long budgets)")
    args = parser.parse_args()
    phases = list(PHASES) if args.phase == "all" else [args.phase]
    for phase in phases:
        figures = PHASES[phase](args)
        atomic_write_json(args.out / f"{phase}.json", figures)
    result = {"benchmark": "realdata_gan"}
    for phase in PHASES:
        if (args.out / f"{phase}.json").is_file():
            result.update(json.loads((args.out / f"{phase}.json").read_text()))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
