"""GAN training throughput: prints one JSON line with images/s of a full G+D step (one generator forward, G and D
backward, both Adam steps) for (a) plain eager (fp32, PyTorch defaults) and (b) the kit's trainer settings, measured in the same run.

    python benchmarks/train_throughput.py --size 512 --batch 32            # on a GPU (the paper's setting)
    python benchmarks/train_throughput.py --size 256 --batch 2 --steps 3   # a CPU smoke run

The kit's settings are those of ganonlib.train.gan on CUDA: bf16 autocast, channels_last, fused Adam,
cuDNN autotuning and torch.compile (--compile-mode); on a CPU they fall back to fp32 with channels_last, as the trainer does.
"""
from __future__ import annotations

import argparse
import json
import platform
import time

import torch

from ganonlib.models.networks import define_D, define_G
from ganonlib.models.pix2pix import Pix2Pix, make_optimizers


def measure(device: torch.device, size: int, batch: int, steps: int, warmup: int, kit: bool,
            compile_mode: str) -> float:
    torch.manual_seed(0)
    fmt = torch.channels_last if kit else torch.contiguous_format
    g, d = define_G().to(device, memory_format=fmt), define_D().to(device, memory_format=fmt)
    opt_g, opt_d = make_optimizers(g, d, fused=kit and device.type == "cuda")
    if kit and device.type == "cuda":
        g, d = torch.compile(g, mode=compile_mode), torch.compile(d, mode=compile_mode)
    amp = torch.bfloat16 if kit and device.type == "cuda" else None
    model = Pix2Pix(g, d, opt_g, opt_d, autocast_dtype=amp)
    marks = (torch.rand(batch, 3, size, size, device=device) > 0.99).float() * 2 - 1
    faces = torch.rand(batch, 3, size, size, device=device) * 2 - 1
    marks, faces = marks.contiguous(memory_format=fmt), faces.contiguous(memory_format=fmt)
    for _ in range(warmup):
        model.step(marks, faces)
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        losses = model.step(marks, faces)
    float(losses.g_total)  # waits for the last step
    return batch * steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=10, help="untimed steps first (compilation happens here)")
    parser.add_argument("--compile-mode", default="max-autotune-no-cudagraphs")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    device = torch.device(args.device)
    # baseline: PyTorch's defaults, untouched (fp32 tensors; cuDNN may use TF32 for convolutions, as by default)
    plain = measure(device, args.size, args.batch, args.steps, min(args.warmup, 3), False, args.compile_mode)
    torch.backends.cudnn.benchmark = True
    kit = measure(device, args.size, args.batch, args.steps, args.warmup, True, args.compile_mode)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu"
    print(json.dumps({"benchmark": "train_throughput", "device": name, "size": args.size, "batch": args.batch,
                      "steps": args.steps, "plain_eager_img_per_s": round(plain, 2),
                      "kit_settings_img_per_s": round(kit, 2), "speedup": round(kit / plain, 2),
                      "kit_settings": "bf16 autocast + channels_last + fused Adam + torch.compile"
                      f"({args.compile_mode})" if device.type == "cuda" else "fp32 + channels_last (CPU)",
                      "torch": torch.__version__}))


if __name__ == "__main__":
    main()
