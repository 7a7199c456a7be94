"""End-to-end anonymization speed: prints one JSON line with faces/s at 512 and where the time goes.

    python benchmarks/anonymize.py [--photos 24] [--size 512] [--weights models/gan/generator.pt]

Photos are the bundled sample's (one face each) unless --source names a folder. Without --weights an untrained
generator of the right size is used: speed does not depend on the weights. End to end = read, detect, align, mesh,
render, generate, write crop and pasted photo. Measured for fp32 (baseline) and the kit's default precision (auto:
bf16 where the processor has native bf16) and the same compiled with torch.compile (warm-up untimed), in the same
run, plus the fp32/bf16 output difference.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from ganonlib.anonymize.ganonymization import AnonymizeConfig, Anonymizer, anonymize_files
from ganonlib.anonymize.photos import start_extractor
from ganonlib.config import SampleConfig
from ganonlib.data.sample import build_sample
from ganonlib.io import atomic_write_torch, iter_images, read_image
from ganonlib.models.networks import define_G


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=24)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--weights", type=Path, default=None)
    parser.add_argument("--source", type=Path, default=None)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        weights = args.weights
        if weights is None:
            torch.manual_seed(0)
            weights = atomic_write_torch(tmp / "g.pt", {"generator": define_G().state_dict(), "image_size": args.size})
        if args.source is None:
            build_sample(SampleConfig(out_dir=str(tmp / "sample"), variants_per_photo=-(-args.photos // 3)))
            photos = sorted(iter_images(tmp / "sample" / "images"))[: args.photos]
        else:
            photos = sorted(iter_images(args.source))[: args.photos]
        result = {"benchmark": "anonymize", "photos": len(photos), "device": args.device, "cpus": os.cpu_count(),
                  "machine": platform.processor() or platform.machine(), "batch": args.batch,
                  "bf16_native": bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())}
        outputs = {}
        for precision, compiled in (("fp32", False), ("auto", False), ("auto_compiled", True)):
            an = Anonymizer(AnonymizeConfig(weights=str(weights), device=args.device,
                                            precision=precision.split("_")[0], batch_size=args.batch,
                                            paste_back=True, compile=compiled))
            result["image_size"] = an.image_size
            finder = start_extractor(an.preprocess, an.cfg.second_detector)
            anonymize_files(photos[: args.batch], tmp / "warm", an, progress=False)  # warm-up (and compilation)
            start = time.perf_counter()
            summary = anonymize_files(photos, tmp / precision, an, progress=False)
            elapsed = time.perf_counter() - start
            faces = summary["faces_anonymized"]
            result[f"faces_per_s_{precision}"] = round(faces / elapsed, 2)
            result["faces"] = faces
            # where the time goes: extraction alone vs the generator alone, per face
            t = time.perf_counter()
            extracted = [f for p in photos for f in finder(read_image(p)) if f.ok]
            extract_ms = 1000 * (time.perf_counter() - t) / max(len(extracted), 1)
            marks = np.stack([f.landmarks for f in extracted])
            t = time.perf_counter()
            outputs[precision] = an.generate(marks)
            generate_ms = 1000 * (time.perf_counter() - t) / len(marks)
            result[f"ms_extract_per_face_{precision}"] = round(extract_ms, 1)
            result[f"ms_generate_per_face_{precision}"] = round(generate_ms, 1)
            result[f"precision_{precision}"] = str(an.dtype or torch.float32).replace("torch.", "")
        diff = np.abs(outputs["fp32"].astype(int) - outputs["auto"].astype(int))
        result["auto_vs_fp32_mean_abs_diff"] = round(float(diff.mean()), 3)
        result["auto_vs_fp32_p99_abs_diff"] = int(np.percentile(diff, 99))
        for name in ("auto", "auto_compiled"):
            result[f"speedup_{name}_vs_fp32"] = round(result[f"faces_per_s_{name}"] / result["faces_per_s_fp32"], 2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
