"""Real-data check of the GAN: train on CelebA faces through the kit's own preprocessing, anonymize faces of people
the GAN never saw, and measure how often a face is found again in the outputs. Prints one JSON line.

    python benchmarks/realdata_gan.py --celeba ../shared/data/celeba_sample --budget 200     # on a GPU
    python benchmarks/realdata_gan.py --budget 20 --batch 4 --holdout 5                    # CPU smoke run

Every image of --holdout identities (seeded, identity_CelebA.txt) is held out of training. Realism proxies on the
held-out outputs: the share in which the face mesh is found again, and the share in which MTCNN (a detector
independent of the mediapipe models that made the landmarks) finds a face. Also writes a grid
original | landmarks | output to --out.
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

from ganonlib.anonymize.ganonymization import AnonymizeConfig, Anonymizer, anonymize_pairs
from ganonlib.config import DatasetConfig, PreprocessConfig
from ganonlib.data.datasets import load_dataset
from ganonlib.data.preprocess import preprocess_dataset
from ganonlib.faces.detect import make_detector
from ganonlib.faces.landmarks import FaceMesher
from ganonlib.io import read_image
from ganonlib.train.gan import GanTrainConfig, train_gan
from ganonlib.viz import image_grid

DEFAULT_CELEBA = Path(__file__).resolve().parents[2] / "shared" / "data" / "celeba_sample"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--celeba", type=Path, default=DEFAULT_CELEBA)
    parser.add_argument("--out", type=Path, default=Path("reports/realdata_gan"))
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--budget", type=float, default=200.0, help="training seconds")
    parser.add_argument("--holdout", type=int, default=30, help="identities held out of training")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--compile", action="store_true")
    args = parser.parse_args()

    records = load_dataset(DatasetConfig("celeba", "celeba", str(args.celeba)))
    identities = sorted({r.subject for r in records})
    held = set(np.random.default_rng(args.seed).choice(identities, size=args.holdout, replace=False).tolist())
    records = [replace(r, split="test" if r.subject in held else "train") for r in records]
    processed = args.out / "processed"
    start = time.perf_counter()
    prep = preprocess_dataset(records, processed, PreprocessConfig(image_size=args.size, n_jobs=8), progress=False)
    prep_s = time.perf_counter() - start

    gan_dir = args.out / "gan"
    train = train_gan(GanTrainConfig(data_dir=str(processed), out_dir=str(gan_dir), epochs=100_000,
                                     batch_size=args.batch, seed=args.seed, compile=args.compile, resume=False,
                                     max_seconds=args.budget))
    anonymizer = Anonymizer(AnonymizeConfig(weights=str(gan_dir / "generator.pt"), batch_size=32))
    anon = anonymize_pairs(processed, args.out / "ours", anonymizer, progress=False, splits=("test",))

    index = pd.read_csv(args.out / "ours" / "index.csv")
    mesher, detector = FaceMesher(), make_detector("mtcnn", 0.9, 5)
    outputs = [read_image(args.out / "ours" / p) for p in index.image]
    mesh_found = np.mean([mesher(o) is not None for o in outputs])
    detected = np.mean([len(detector.detect(o)) > 0 for o in outputs])
    originals = [read_image(p) for p in index.original]
    detected_originals = np.mean([len(detector.detect(o)) > 0 for o in originals])
    pairs = pd.read_csv(processed / "index.csv").set_index("key")
    rows = [[index.original[i], processed / pairs.landmarks[index.key[i]], args.out / "ours" / index.image[i]]
            for i in range(min(8, len(index)))]
    image_grid(rows, cell=args.size // 2).save(args.out / "grid_original_landmarks_output.png")
    losses = pd.read_csv(gan_dir / "losses.csv")
    print(json.dumps({
        "benchmark": "realdata_gan", "device": str(torch.cuda.get_device_name() if torch.cuda.is_available()
                                                   else "cpu"),
        "size": args.size, "batch": args.batch, "budget_s": args.budget, "preprocess_s": round(prep_s, 1),
        "train_pairs": train["train_pairs"], "epochs": train["epochs_run"],
        "train_img_per_s": round(float(losses.images_per_s.iloc[-1]), 1),
        "final_g_l1": round(float(losses.g_l1.iloc[-1]), 4), "heldout_identities": args.holdout,
        "heldout_faces": anon["pairs"], "mesh_found_share": round(float(mesh_found), 3),
        "mtcnn_face_share": round(float(detected), 3), "mtcnn_face_share_originals": round(float(detected_originals), 3),
        "detection_rate_preprocess": prep["detection_rate"], "mesh_rate_preprocess": prep["mesh_rate"],
        "grid": str(args.out / "grid_original_landmarks_output.png")}))


if __name__ == "__main__":
    main()
