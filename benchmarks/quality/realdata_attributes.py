"""Real-data check of the attribute analysis (paper 4.3) on CelebA faces: prints one JSON line.

    python benchmarks/quality/realdata_attributes.py                                   # ../shared/data/celeba_sample
    python benchmarks/quality/realdata_attributes.py --weights models/gan/generator.pt --epochs 15

The CelebA images go through the kit's preprocessing at the generator's size; where the official partition puts
every image in one split (a CelebA excerpt), the split is redrawn by identity (seeded, no person in two splits). The
faces are anonymized with ours (``--weights``) and Gaussian blur 9x9, a multi-label classifier of the 40 attributes
is trained on the original train split (early stopping on val), and the removal rates of ours and blur are measured
on the test split. Which generator produced "ours" is part of the output: the bundled sample's GAN, trained for
minutes on a CPU, paints no real faces, so its removal rates say little about the paper's model.
"""
from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from ganonlib.anonymize.datasets import anonymize_dataset
from ganonlib.config import DatasetConfig, PreprocessConfig
from ganonlib.data.datasets import attribute_names, load_dataset, subject_split
from ganonlib.data.preprocess import preprocess_dataset
from ganonlib.io import atomic_write_text, file_sha256, json_number
from ganonlib.metrics.method_images import method_images
from ganonlib.metrics.evaluate_attributes import attribute_labels, attribute_removal
from ganonlib.metrics.training_scenario import TrainedClassifier, training_scenario
from ganonlib.train.classifier import ClassifierConfig

DEFAULT_CELEBA = Path(__file__).resolve().parents[3] / "shared" / "data" / "celeba_sample"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--celeba", type=Path, default=DEFAULT_CELEBA)
    parser.add_argument("--out", type=Path, default=Path("reports/realdata_attributes"))
    parser.add_argument("--weights", default="models/gan/generator.pt", help="the generator that makes 'ours'")
    parser.add_argument("--size", type=int, default=256, help="preprocessing size (the generator's)")
    parser.add_argument("--arch", default="convnext_atto")
    parser.add_argument("--image-size", type=int, default=64, help="classifier input size")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    start = time.perf_counter()
    config = DatasetConfig("celeba", "celeba", str(args.celeba), val_fraction=0.15, test_fraction=0.15)
    records = load_dataset(config)
    if len({r.split for r in records}) < 3:  # an excerpt: redraw the split by identity
        splits = subject_split([r.subject or r.key for r in records], 0.15, 0.15, args.seed)
        records = [replace(r, split=s) for r, s in zip(records, splits)]
    processed, anonymized = args.out / "processed", args.out / "anonymized"
    preprocess_dataset(records, processed, PreprocessConfig(image_size=args.size, n_jobs=2), progress=False)
    for method in ("ours", "blur9"):
        anonymize_dataset(method, processed, anonymized / method, weights=args.weights, progress=False)
    names = attribute_names(config)
    frame = method_images(processed, anonymized, ["ours", "blur9"], ("train", "val", "test"))
    labels = attribute_labels(frame, names)
    cfg = ClassifierConfig(arch=args.arch, image_size=args.image_size, epochs=args.epochs, batch_size=32,
                           multilabel=True, seed=args.seed, pretrained="auto", device="auto")
    _, training = training_scenario(frame, labels, names, [], cfg, args.out / "models", progress=False)
    classifier = TrainedClassifier(args.out / "models" / "original" / "best.pt", cfg, names, f"{args.arch} (originals)")
    test = frame[frame.split == "test"].reset_index(drop=True)
    _, removal, _ = attribute_removal(test, ["ours", "blur9"], classifier)
    atomic_write_text(args.out / "removal.csv", removal.to_csv(index=False))
    rates = removal.pivot_table(index="attribute", columns="method", values="removal_rate")
    val = training["methods"]["original"]["val"]["report"]
    from ganonlib.provenance import report

    report({
        "benchmark": "realdata_attributes", "faces": len(frame),
        "splits": {s: int((frame.split == s).sum()) for s in ("train", "val", "test")},
        "classifier": f"{args.arch} {args.image_size}px, "
                      f"backbone {training['methods']['original']['backbone_weights']}",
        "val_f1": {avg: round(val[avg]["f1-score"], 3) for avg in ("micro avg", "macro avg", "samples avg")},
        "generator_sha256": file_sha256(args.weights)[:16],
        "mean_removal_rate": {m: round(float(np.nanmean(rates[m])), 3) for m in rates.columns},
        "attributes_with_positives": int(rates["ours"].notna().sum()),
        "removal_rates": {a: {m: json_number(v, 3) for m, v in row.items()} for a, row in rates.iterrows()},
        "seconds": round(time.perf_counter() - start, 1)})


if __name__ == "__main__":
    main()
