"""How well the kit anonymizes people it never saw: identity and expression together, against a naive pix2pix and
the four baselines. Prints one JSON line; writes benchmarks/results/realdata_quality.{json,md}.

    python benchmarks/quality/realdata_quality.py --budget 200                  # everything, on a GPU machine
    python benchmarks/quality/realdata_quality.py --smoke                       # CPU smoke run (a few steps; checks shapes)

Data: CelebA faces (``--celeba``, official layout; identity_CelebA.txt). Every image of --holdout identities
(seeded) is held out of training and is what gets evaluated. Two generators train for the same --budget seconds at
the same --size and --batch:
- ``ours``: the kit's GAN on the kit's pairs (aligned, segmented crops; 478 landmarks in the crop's frame);
- ``naive``: the same pix2pix on unaligned, unsegmented photos (padded to a square) and their landmarks.
The four baselines (pixel 8/16, blur 9/17) are applied to the kit's held-out crops.

Per method, on the held-out faces, with the kit's own evaluators:
- realism: the share of outputs in which MTCNN (independent of the mediapipe models that made the landmarks) finds
  a face, and in which the face mesh is found;
- identity (Dlib): mean cosine distance to the original, rank-1 identification among all held-out originals
  (chance = 1 / identities), the share verified as the same person at Dlib's threshold;
- expression (the FER2013 reference classifier): mean |p_orig - p_anon| over the 7 classes, and the share whose
  most likely emotion is kept;
- landmark NME (the output's mesh against the original's), and for the generators the training-identity leakage:
  the share of outputs verified as one of the people they were trained on.

Phases (--phase) can run on different machines: ``prepare`` (preprocessing, CPU) writes ``<out>/processed`` and
``<out>/naive``; ``train`` (both generators, then their held-out faces: torch only, the GPU) writes ``<out>/gan_*``
and ``<out>/anonymized*``; ``evaluate`` (CPU) writes the results. Each phase records its figures in
``<out>/<phase>.json``; ``all`` runs the three in turn.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ganonlib.config import DatasetConfig, PreprocessConfig
from ganonlib.io import atomic_write_image, atomic_write_json, atomic_write_npy, atomic_write_text, json_number

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CELEBA = ROOT.parent / "shared" / "data" / "celeba_sample"
RESULTS = ROOT / "benchmarks" / "results"
BASELINES = ("pixel8", "pixel16", "blur9", "blur17")
ARMS = {"ours": "processed", "naive": "naive"}  # generator -> the pairs it trains on


def _records(args: argparse.Namespace) -> list:
    from ganonlib.data.datasets import load_dataset

    records = load_dataset(DatasetConfig("celeba", "celeba", str(args.celeba)))
    if args.limit:
        records = records[: args.limit]
    identities = sorted({r.subject for r in records})
    held = set(np.random.default_rng(args.seed).choice(identities, size=min(args.holdout, len(identities) - 1),
                                                       replace=False).tolist())
    return [replace(r, split="test" if r.subject in held else "train") for r in records]


def _pad_square(image: np.ndarray, size: int) -> np.ndarray:
    """The original's input without alignment: longest side to ``size`` (LANCZOS), centred on black."""
    from PIL import Image

    h, w = image.shape[:2]
    scale = size / max(h, w)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    resized = np.asarray(Image.fromarray(image).resize((new_w, new_h), Image.Resampling.LANCZOS))
    canvas = np.zeros((size, size, 3), np.uint8)
    y, x = (size - new_h) // 2, (size - new_w) // 2
    canvas[y:y + new_h, x:x + new_w] = resized
    return canvas


def _naive_pairs(records: list, out: Path, size: int) -> dict:
    """The naive arm's pairs, in the kit's processed layout: whole photos padded to a square, not segmented, and
    the mesh's landmarks drawn in that frame. Photos without a mesh are left out (and counted)."""
    from ganonlib.faces.landmarks import FaceMesher, render_landmarks
    from ganonlib.io import read_image

    mesher, rows, missed = FaceMesher(), [], 0
    for rec in records:
        photo = _pad_square(read_image(rec.path), size)
        points = mesher(photo)
        if points is None:
            missed += 1
            continue
        image, marks, pts = (f"{kind}/{rec.split}/{rec.key}.{ext}" for kind, ext in
                             (("images", "png"), ("landmarks", "png"), ("points", "npy")))
        atomic_write_image(out / image, photo)
        atomic_write_image(out / marks, render_landmarks(points, size))
        atomic_write_npy(out / pts, points)
        rows.append({"key": rec.key, "split": rec.split, "image": image, "landmarks": marks, "points": pts,
                     "source": str(rec.path), "face": 0, "subject": rec.subject, "label": "", "attributes": ""})
    pd.DataFrame(rows).to_csv(out / "index.csv", index=False)
    atomic_write_json(out / "summary.json", {"pairs": len(rows), "without_mesh": missed,
                                             "settings": {"image_size": size, "landmarks_style": "cross",
                                                          "aligned": False, "segmentation": "none"}})
    return {"pairs": len(rows), "without_mesh": missed}


def prepare(args: argparse.Namespace) -> dict:
    from ganonlib.data.preprocess import preprocess_dataset

    records = _records(args)
    start = time.perf_counter()
    prep = preprocess_dataset(records, args.out / "processed", PreprocessConfig(image_size=args.size, n_jobs=args.jobs),
                              progress=False)
    naive = _naive_pairs(records, args.out / "naive", args.size)
    return {"data": os.path.relpath(args.celeba.resolve(), ROOT), "photos": len(records),
            "identities": len({r.subject for r in records}),
            "heldout_identities": len({r.subject for r in records if r.split == "test"}),
            "heldout_photos": sum(r.split == "test" for r in records),
            "detection_rate_preprocess": prep["detection_rate"], "mesh_rate_preprocess": prep["mesh_rate"],
            "naive_pairs": naive["pairs"], "prepare_s": round(time.perf_counter() - start, 1)}


def train(args: argparse.Namespace) -> dict:
    from ganonlib.anonymize.ganonymization import anonymize_pairs
    from ganonlib.anonymize.generator import Anonymizer
    from ganonlib.config import AnonymizeConfig
    from ganonlib.train.gan import GanTrainConfig
    from ganonlib.train.launch import train as train_gan

    figures: dict = {"device": torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu",
                     "size": args.size, "batch": args.batch, "budget_s": args.budget}
    for arm, data in ARMS.items():
        gan_dir = args.out / f"gan_{arm}"
        start = time.perf_counter()
        run = train_gan(GanTrainConfig(data_dir=str(args.out / data), out_dir=str(gan_dir), epochs=1_000_000,
                                       batch_size=args.batch, seed=args.seed, compile=args.compile, resume=False,
                                       max_seconds=args.budget, checkpoint_every=0, samples=4,
                                       max_steps_per_epoch=args.max_steps or 0, device=args.device))
        losses = pd.read_csv(gan_dir / "losses.csv")
        anonymizer = Anonymizer(AnonymizeConfig(weights=str(gan_dir / "generator.pt"), batch_size=32,
                                                device=args.device))
        # each generator's held-out faces; the naive arm's sit in a folder of their own (their originals differ)
        folder = args.out / ("anonymized" if arm == "ours" else "anonymized_naive") / "ours"
        anonymize_pairs(args.out / data, folder, anonymizer, progress=False, splits=("test",))
        figures[arm] = {"train_s": round(time.perf_counter() - start, 1), "train_pairs": run["train_pairs"],
                        "epochs": run["epochs_run"], "steps": int(losses.steps.sum()),
                        "train_img_per_s": round(float(losses.images_per_s.median()), 1),
                        "final_g_l1": round(float(losses.g_l1.iloc[-1]), 4)}
    return figures


def _expression(reference, originals: list, outputs: list) -> dict:
    p_orig, p_anon = reference.predict(originals), reference.predict(outputs)
    return {"expression_abs_diff": float(np.abs(p_orig - p_anon).mean()),
            "expression_kept": float(np.mean(p_orig.argmax(1) == p_anon.argmax(1)))}


def _method_rows(processed: Path, anonymized: Path, methods: list[str], recognizer, reference, detector,
                 rename: dict[str, str]) -> dict:
    """The kit's identity evaluation of ``methods`` plus realism and expression, per method."""
    from ganonlib.io import read_image
    from ganonlib.metrics.evaluate_identity import evaluate_identity

    _, identity = evaluate_identity(processed, anonymized, methods, recognizer, split="test", gan_train_dir=processed,
                                    leakage_train_sample=0, progress=False)
    rows = {}
    for method in methods:
        summary = identity["methods"][method]
        index = pd.read_csv(anonymized / method / "index.csv", keep_default_na=False)
        outputs = [read_image(anonymized / method / p) for p in index.image]
        originals = [read_image(p) for p in index.original]
        leakage = summary.get("leakage", {})
        rows[rename.get(method, method)] = {
            "faces": len(outputs),
            "mtcnn_found": float(np.mean([len(detector.detect(o)) > 0 for o in outputs])),
            "mesh_found": 1.0 - summary["no_mesh_share"],
            "identity_distance": summary["mean"], "rank1": summary["rank1"],
            "verified": summary["verification_rate"],
            **_expression(reference, originals, outputs),
            "nme": summary["nme_mean"],
            "training_leakage": leakage.get("evaluated") if isinstance(leakage, dict) else None,
        }
    return rows


def evaluate(args: argparse.Namespace) -> dict:
    from ganonlib.anonymize.baselines import apply_baseline
    from ganonlib.faces.detect import make_detector
    from ganonlib.metrics.emotion_reference import ReferenceEmotionClassifier
    from ganonlib.metrics.identity import Recognizer

    for method in BASELINES:
        apply_baseline(args.out / "processed", args.out / "anonymized" / method, method, progress=False,
                       splits=("test",))
    recognizer, reference = Recognizer("Dlib"), ReferenceEmotionClassifier()
    detector = make_detector("mtcnn", 0.9, 5)
    methods = _method_rows(args.out / "processed", args.out / "anonymized", ["ours", *BASELINES], recognizer,
                           reference, detector, {})
    methods.update(_method_rows(args.out / "naive", args.out / "anonymized_naive", ["ours"], recognizer, reference,
                                detector, {"ours": "naive"}))
    test = pd.read_csv(args.out / "processed" / "index.csv", keep_default_na=False).query("split == 'test'")
    order = ["ours", "naive", *BASELINES]
    return {"recognizer": recognizer.name, "recognizer_threshold": recognizer.threshold,
            "expression_reference": reference.name, "rank1_chance": 1.0 / max(test.subject.nunique(), 1),
            "methods": {m: {k: json_number(v, 4) if isinstance(v, float) else v for k, v in methods[m].items()}
                        for m in order}}


TARGETS = {"mtcnn_found": (">=", 0.95), "verified": ("<=", 0.05), "expression_kept": (">=", 0.60),
           "training_leakage": ("<=", 0.05)}


def _produced_by(p: dict) -> str:
    reconstructed = " (reconstructed from git history)" if p.get("reconstructed") else ""
    return (f"Produced by `{p.get('command', '?')}` at commit `{p.get('commit', '?')}`{reconstructed}, "
            f"{p.get('date', '?')}; machine: {p.get('cpu', '?')}, {p.get('cores', '?')} cores, GPU: "
            f"{p.get('gpu') or 'none'}.")


def markdown(result: dict) -> str:
    """The results table with its setting: device, budget, data."""
    ours = result["methods"]["ours"]
    met = {k: (ours[k] is not None and (ours[k] >= v if op == ">=" else ours[k] <= v))
           for k, (op, v) in TARGETS.items()}
    chance = result["rank1_chance"]
    met["rank1"] = ours["rank1"] <= 3 * chance
    lines = [
        "# Anonymizing people the GAN never saw (`benchmarks/quality/realdata_quality.py`)",
        "",
        f"Data: {result['photos']} CelebA photos of {result['identities']} people ({result['data']}); "
        f"{result['heldout_photos']} photos of {result['heldout_identities']} people held out of training and "
        f"evaluated. Both generators: {result['size']} px, batch {result['batch']}, {result['budget_s']:g} s of "
        f"training on {result['device']} (ours: {result['ours']['steps']} steps, {result['ours']['epochs']} epochs; "
        f"naive: {result['naive']['steps']} steps). Identity: {result['recognizer']} (threshold "
        f"{result['recognizer_threshold']}); expression: {result['expression_reference']}.",
        "",
        _produced_by(result.get("provenance") or {}),
        "",
        "| method | MTCNN finds a face | mesh found | identity distance | rank-1 | verified same person | "
        "expression mean abs diff | expression kept | landmark NME | training-identity leakage |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    fmt = lambda v, pct=True: "-" if v is None else (f"{100 * v:.0f} %" if pct else f"{v:.3f}")  # noqa: E731
    for name, m in result["methods"].items():
        lines.append(f"| {name} | {fmt(m['mtcnn_found'])} | {fmt(m['mesh_found'])} | "
                     f"{fmt(m['identity_distance'], False)} | {fmt(m['rank1'])} | {fmt(m['verified'])} | "
                     f"{fmt(m['expression_abs_diff'], False)} | {fmt(m['expression_kept'])} | {fmt(m['nme'], False)} | "
                     f"{fmt(m['training_leakage'])} |")
    lines += ["", f"Rank-1 by chance: {100 * chance:.1f} %. Targets for ours: "
              + "; ".join(f"{k} {'met' if ok else 'missed'}" for k, ok in met.items()) + "."]
    return "\n".join(lines) + "\n"


PHASES = {"prepare": prepare, "train": train, "evaluate": evaluate}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--phase", choices=[*PHASES, "all"], default="all")
    parser.add_argument("--celeba", type=Path, default=DEFAULT_CELEBA)
    parser.add_argument("--out", type=Path, default=Path("reports/realdata_quality"))
    parser.add_argument("--results", type=Path, default=RESULTS, help="where the .json and .md results go")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--budget", type=float, default=200.0, help="training seconds per generator")
    parser.add_argument("--holdout", type=int, default=30, help="identities held out of training")
    parser.add_argument("--limit", type=int, default=0, help="use only the first N photos (0 = all)")
    parser.add_argument("--max-steps", type=int, default=0, help="steps per epoch cap (0 = none)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2, help="preprocessing processes")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--compile", action="store_true", help="torch.compile (pays off only for long budgets)")
    parser.add_argument("--smoke", action="store_true", help="a few CPU steps on 40 photos at 256 px: shapes only")
    args = parser.parse_args()
    if args.smoke:
        args.size, args.batch, args.budget, args.holdout, args.limit = 256, 2, 1.0, 4, 40
        args.max_steps, args.device = 2, "cpu"
    phases = list(PHASES) if args.phase == "all" else [args.phase]
    for phase in phases:
        atomic_write_json(args.out / f"{phase}.json", PHASES[phase](args))
    result: dict = {"benchmark": "realdata_quality", "smoke": args.smoke}
    for phase in PHASES:
        if (args.out / f"{phase}.json").is_file():
            result.update(json.loads((args.out / f"{phase}.json").read_text()))
    from ganonlib.provenance import provenance, report

    # the phases may run on different machines: each phase's file keeps its own; this block is the final step's
    result["provenance"] = provenance()
    if "methods" in result:
        atomic_write_json(args.results / "realdata_quality.json", result)
        atomic_write_text(args.results / "realdata_quality.md", markdown(result))
    report(result)


if __name__ == "__main__":
    main()
