"""GAN training throughput: prints one JSON line with images/s of a full G+D step (one generator forward, G and D
backward, both Adam steps) for (a) plain eager and (b) the kit's trainer settings, measured in the same run.

    python benchmarks/speed/train_throughput.py --size 512 --batch 32            # on a GPU (the paper's setting)
    python benchmarks/speed/train_throughput.py --size 256 --batch 2 --steps 3   # a CPU smoke run

(a) plain eager: fp32, NCHW, PyTorch's defaults (cuDNN may use TF32 for convolutions, as by default), foreach Adam,
    the textbook step (D's weight gradients computed during G's backward, D run on real and fake separately) and
    the generator's final Upsample -> ZeroPad -> Conv run module by module, as the original.
(b) the kit: the step ``ganonlib.train.gan`` trains with (``build_models`` + ``training_step``): bf16 autocast,
    channels_last with a layout-keeping instance norm, the final layer as one 3x3 convolution + pixel shuffle,
    fused Adam, cuDNN autotuning, D frozen for G's loss, D's real and fake halves in one batch, torch.compile
    (``--compile-mode``). ``--eager`` also measures (b) without torch.compile, ``--also-mode`` another compile
    mode; on a CPU (b) runs in fp32 without compile or fused Adam, as the trainer does there.
Progress goes to stderr, one line per setting, so a run cut short still shows what it measured.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from dataclasses import replace

import torch

from ganonlib.models.networks import define_D, define_G
from ganonlib.models.pix2pix import Pix2Pix, make_optimizers
from ganonlib.train.gan import GanTrainConfig, build_models, training_step


def plain_step(device: torch.device) -> Pix2Pix:
    g, d = define_G().to(device), define_D().to(device)
    g.subpixel_final = False  # the original's final Upsample -> ZeroPad -> Conv, module by module
    opt_g, opt_d = make_optimizers(g, d)
    return Pix2Pix(g, d, opt_g, opt_d, freeze_d_for_g=False, batch_d=False)


def kit_step(device: torch.device, cfg: GanTrainConfig) -> Pix2Pix:
    return training_step(cfg, device, *build_models(cfg, device))


def measure(model: Pix2Pix, device: torch.device, size: int, batch: int, steps: int, warmup: int,
            channels_last: bool) -> tuple[float, float]:
    """(images/s, seconds spent in the untimed warm-up steps, where compilation happens)."""
    torch.manual_seed(0)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    marks = ((torch.rand(batch, 3, size, size, device=device) > 0.99).float() * 2 - 1).contiguous(memory_format=fmt)
    faces = (torch.rand(batch, 3, size, size, device=device) * 2 - 1).contiguous(memory_format=fmt)
    start = time.perf_counter()
    for _ in range(warmup):
        losses = model.step(marks, faces)
    float(losses.g_total)
    warm_s = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(steps):
        losses = model.step(marks, faces)
    float(losses.g_total)  # waits for the last step
    return batch * steps / (time.perf_counter() - start), warm_s


def release(device: torch.device) -> None:
    torch._dynamo.reset()
    if device.type == "cuda":
        torch.cuda.empty_cache()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=10, help="untimed steps first (compilation happens here)")
    parser.add_argument("--compile-mode", default="default", help="the kit's torch.compile mode (gan.compile_mode)")
    parser.add_argument("--also-mode", default="", help="also measure the kit with this compile mode")
    parser.add_argument("--eager", action="store_true", help="also measure the kit's settings without compile")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    device = torch.device(args.device)
    cuda = device.type == "cuda"
    results: dict[str, float] = {}

    def run(name: str, model: Pix2Pix, channels_last: bool, warmup: int) -> None:
        rate, warm_s = measure(model, device, args.size, args.batch, args.steps, warmup, channels_last)
        results[f"{name}_img_per_s"] = round(rate, 2)
        peak = torch.cuda.max_memory_allocated(device) / 2**30 if cuda else 0.0
        print(json.dumps({"setting": name, "img_per_s": round(rate, 2), "warmup_s": round(warm_s, 1),
                          "peak_gib": round(peak, 1)}), file=sys.stderr, flush=True)
        if cuda:
            torch.cuda.reset_peak_memory_stats(device)
        release(device)

    torch.backends.cudnn.benchmark = False  # PyTorch's default, for the baseline
    run("plain_eager", plain_step(device), False, min(args.warmup, 3))
    kit = GanTrainConfig(data_dir="", out_dir="", compile=cuda, compile_mode=args.compile_mode)
    if args.eager and cuda:  # before compiling: a compile failure still leaves this figure printed
        run("kit_eager", kit_step(device, replace(kit, compile=False)), True, min(args.warmup, 3))
    run("kit_settings", kit_step(device, kit), kit.channels_last, args.warmup)
    if args.also_mode and cuda:
        run(f"kit_{args.also_mode}", kit_step(device, replace(kit, compile_mode=args.also_mode)), True, args.warmup)
    name = torch.cuda.get_device_name(device) if cuda else platform.processor() or "cpu"
    from ganonlib.provenance import report

    report({"benchmark": "train_throughput", "device": name, "size": args.size, "batch": args.batch,
            "steps": args.steps, "plain_eager_img_per_s": results["plain_eager_img_per_s"],
            "kit_settings_img_per_s": results["kit_settings_img_per_s"],
            "speedup": round(results["kit_settings_img_per_s"] / results["plain_eager_img_per_s"], 2),
            **{k: v for k, v in results.items() if k not in ("plain_eager_img_per_s",
                                                              "kit_settings_img_per_s")},
            "kit_settings": ("bf16 autocast + channels_last + sub-pixel final conv + fused Adam + "
                             "frozen/batched D + "
                             f"torch.compile({args.compile_mode})") if cuda
            else "fp32 + channels_last + sub-pixel final conv + frozen/batched D (CPU)",
            "torch": torch.__version__})


if __name__ == "__main__":
    main()
