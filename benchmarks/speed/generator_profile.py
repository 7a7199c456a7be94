"""Where the generator's time goes when the anonymizer runs it on a CPU: prints one JSON line.

    python benchmarks/speed/generator_profile.py [--batch 8] [--size 512] [--precision auto]

An untrained generator (speed does not depend on the weights) is loaded through the anonymizer, so it runs as
``ganon anonymize`` runs it (channels_last, bf16 autocast where native, the CPU instance norm, kept freed memory).
One batch of landmark images is generated three times untimed, then the best of three timed passes gives the wall
time, and one pass under PyTorch's profiler gives each operator's own time (on the calling thread, so a
multi-threaded convolution counts its wall time, the one-thread instance norm its core time), summed into groups:
convolutions (the down path's and the transposed ones), instance norms, the skip connections' concatenation,
activations (with the final layer's pixel shuffle and tanh) and the rest (layout copies, casts). For scale, the time
of one plain copy of the largest activation: the norms, the activations and the concatenation only move memory.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import ganonlib  # noqa: F401  (first: it sets OpenMP's wait policy, read once when torch loads)
import numpy as np
import torch

from anonymize import untrained_generator
from ganonlib.anonymize.generator import Anonymizer
from ganonlib.config import AnonymizeConfig

_GROUPS = {
    "convolutions": ("aten::_convolution", "aten::mkldnn_convolution", "aten::convolution", "aten::conv2d",
                     "aten::conv_transpose2d", "aten::mkldnn_convolution_transpose"),
    "instance_norms": ("aten::native_group_norm", "aten::group_norm", "aten::instance_norm",
                       "aten::native_batch_norm", "aten::var_mean"),
    "concatenation": ("aten::cat",),
    "activations": ("aten::leaky_relu", "aten::leaky_relu_", "aten::relu", "aten::relu_", "aten::clamp_min",
                    "aten::clamp_min_", "aten::tanh", "aten::pixel_shuffle"),
}


def _group(name: str) -> str:
    return next((group for group, names in _GROUPS.items() if name in names), "other")


def _best_ms(run, tries: int = 3) -> float:
    best = float("inf")
    for _ in range(tries):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return 1000 * best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--precision", default="auto")
    args = parser.parse_args()
    from torch.profiler import ProfilerActivity, profile

    with tempfile.TemporaryDirectory() as tmp:
        weights = untrained_generator(Path(tmp) / "g.pt", args.size)
        an = Anonymizer(AnonymizeConfig(weights=str(weights), device="cpu", precision=args.precision,
                                        batch_size=args.batch))
    marks = np.random.default_rng(0).integers(0, 2, (args.batch, args.size, args.size), dtype=np.uint8) * 255
    for _ in range(3):
        an.generate(marks)
    wall_ms = _best_ms(lambda: an.generate(marks))
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        an.generate(marks)
    groups: dict[str, float] = defaultdict(float)
    for event in prof.key_averages():
        groups[_group(event.key)] += event.self_cpu_time_total / 1000
    total = sum(groups.values())
    # the largest activation (the last transposed convolution's output, bf16 or fp32) copied once, for scale
    dtype = an.dtype or torch.float32
    largest = torch.randn(args.batch, 64, args.size // 2, args.size // 2).to(dtype).contiguous(
        memory_format=torch.channels_last)
    copy_ms = _best_ms(lambda: largest.clone())
    from ganonlib.provenance import report

    report({
        "benchmark": "generator_profile", "device": "cpu", "cpus": os.cpu_count(), "threads":
        torch.get_num_threads(), "batch": args.batch, "image_size": args.size,
        "precision": str(dtype).replace("torch.", ""), "wall_ms_per_batch": round(wall_ms, 1),
        "wall_ms_per_face": round(wall_ms / args.batch, 1), "profiled_ms_per_batch": round(total, 1),
        "op_ms_per_batch": {g: round(ms, 1) for g, ms in sorted(groups.items(), key=lambda kv: -kv[1])},
        "share": {g: round(ms / total, 3) for g, ms in sorted(groups.items(), key=lambda kv: -kv[1])},
        "largest_activation_mb": round(largest.numel() * largest.element_size() / 1e6),
        "largest_activation_copy_ms": round(copy_ms, 1)})


if __name__ == "__main__":
    main()
