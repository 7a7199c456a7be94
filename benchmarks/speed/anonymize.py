"""End-to-end anonymization speed: prints one JSON line with faces/s at 512, path against path, in one run.

    python benchmarks/speed/anonymize.py [--photos 24] [--device cpu|cuda] [--weights models/gan/generator.pt]
                                   [--baseline-photos N] [--second-detector mtcnn|retinaface|none]
                                   [--search-device cpu|cuda]

Photos are the bundled sample's (one face each, replicated as augmented variants up to --photos: 240 distinct ones,
then the same again under other names) unless --source names a folder. ``--baseline-photos`` runs the serial path
and the steps alone on the first N of them only: on a GPU machine over 2,000 photos the one-worker serial path would
take minutes. Without --weights an untrained generator of the right size is used: speed does not depend on the
weights. End to end = read, search every face (with the second detector's cross-check), align, mesh, render,
generate, paste back, write crop and photo, record the manifest.

Measured in the same run, each on a fresh output folder after an untimed warm-up (models loaded in the workers),
``--repeat`` times (the median and the range are printed: this machine's speed varies by a quarter within minutes):
- ``serial``: today's path before the pipeline: one extraction worker, generation, then composing and writing in
  the caller, one step after the other;
- ``pipeline_w<k>``: the pipeline with k extraction workers (1 .. cores; the default is one per core), the next
  photos extracted while a batch generates, composing and writing in a pool of threads;
- ``pipeline_onnx``: the default pipeline with onnxruntime running the generator instead of torch;
- ``pipeline_fp32``: the default pipeline with plain fp32 instead of the default precision (bf16 where native);
- ``pipeline_compile`` (with ``--compile``): the default pipeline with the generator through torch.compile (compiled
  in the untimed warm-up; ``compile_s``: how long that warm-up took);
- ``pipeline_search_cpu`` (with ``--search-device cuda``): the default pipeline with the search's networks on the CPU
  (LiteRT) instead, the baseline of the search on the GPU.
The generator's process keeps the memory its tensors free (``ganonlib.devices.keep_freed_memory``, recorded as
``kept_freed_memory``); ``--glibc-malloc`` measures without, in a run of its own (the setting cannot be undone).
Then where the time goes, each step alone in this process on the same photos: extraction (also without the
cross-check, and with the old MTCNN cross-check: ``extract_vs_mtcnn``), generation and composing + writing, per
face, and the generator's busy share of the default pipeline's
wall time. Last the ceiling those steps leave: the generator's GFLOP per face (counted by PyTorch), the best rate of
a bf16 matrix product on the device, and the faces/s the machine would give at most if every step overlapped
perfectly and the generator ran at that rate (``ceiling_faces_per_s``, with and without the cross-check).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import ganonlib  # noqa: F401  (first: it sets OpenMP's wait policy, read once when torch loads)
import torch

from ganonlib.anonymize import generator as generator_module
from ganonlib.anonymize.generator import Anonymizer
from ganonlib.anonymize.inputs import photo_format_of, plan_photo_names
from ganonlib.anonymize.photos import compose_photo, extract_photo, generate_faces
from ganonlib.anonymize.run import anonymize_files, close_workers
from ganonlib.config import AnonymizeConfig, SampleConfig
from ganonlib.data.sample import build_sample
from ganonlib.faces.finder import start_finder
from ganonlib.io import atomic_write_image, atomic_write_torch, file_sha256, iter_images
from ganonlib.models.networks import define_G
from ganonlib.models.onnx_generator import export_onnx
from ganonlib.provenance import report


class _BusyClock:
    """Wraps an anonymizer's ``generate`` to add up the seconds it runs (the device synchronized at the end)."""

    def __init__(self, anonymizer: Anonymizer) -> None:
        self.seconds, self._inner = 0.0, anonymizer.generate
        anonymizer.generate = self  # type: ignore[method-assign]

    def __call__(self, landmarks: np.ndarray) -> np.ndarray:
        start = time.perf_counter()
        out = self._inner(landmarks)  # returns host memory: the device work is done
        self.seconds += time.perf_counter() - start
        return out


def _run(an: Anonymizer, photos: list[Path], out: Path, serial: bool = False, repeat: int = 1
         ) -> tuple[dict, list[float], float, float]:
    """The summary, the seconds of each of ``repeat`` timed runs (each into a fresh folder), the generator's busy
    seconds in them all and the seconds of the untimed warm-up."""
    start = time.perf_counter()
    anonymize_files(photos[: an.cfg.batch_size], out / "warm", an, progress=False, serial=serial)
    warm_s = time.perf_counter() - start
    clock = _BusyClock(an)
    elapsed = []
    for n in range(repeat):
        start = time.perf_counter()
        summary = anonymize_files(photos, out / f"timed{n}", an, progress=False, serial=serial)
        elapsed.append(time.perf_counter() - start)
    del an.generate  # the instance attribute goes: the method is back
    return summary, elapsed, clock.seconds, warm_s


def _extract_all(an: Anonymizer, photos: list[Path], second_detector: str) -> tuple[list, float]:
    finder = start_finder(an.preprocess, second_detector, an.cfg.search_device)
    start = time.perf_counter()
    extracted = [extract_photo(finder, (str(p), str(p), p.name, file_sha256(p))) for p in photos]
    return extracted, time.perf_counter() - start


def _steps(an: Anonymizer, photos: list[Path], out: Path) -> dict:
    """Each step alone on the same photos, per face re-synthesized (the unit of every faces/s figure: the search's
    time for photos without a face and for the faces covered counts too): what the pipeline overlaps; the search
    also without the cross-check, for what it costs."""
    extracted, extract_s = _extract_all(an, photos, an.cfg.second_detector)
    lone_s = _extract_all(an, photos, "none")[1] if an.cfg.second_detector != "none" else extract_s
    # the default cross-check (MTCNN) on the same photos, when another one is measured
    mtcnn_s = _extract_all(an, photos, "mtcnn")[1] if an.cfg.second_detector != "mtcnn" else extract_s
    start = time.perf_counter()
    generated, _ = generate_faces(an, extracted)  # the faces that get a new one (the rest are covered in composing)
    generate_s = time.perf_counter() - start
    faces = max(sum(len(new) for new in generated), 1)
    targets = plan_photo_names([(p.rel, photo_format_of(path)) for p, path in zip(extracted, photos)],
                               an.cfg.photo_format)
    start = time.perf_counter()
    for photo, new in zip(extracted, generated):
        images, _ = compose_photo(an, photo, targets[photo.rel], new, "", "benchmark")
        for name, image, fmt in images:
            atomic_write_image(out / name, image, fmt or None)
    write_s = time.perf_counter() - start
    total = extract_s + generate_s + write_s
    per_face = {"extract": extract_s, "generate": generate_s, "compose_write": write_s}
    ms = {**{k: round(1000 * v / faces, 1) for k, v in per_face.items()},
          "extract_without_cross_check": round(1000 * lone_s / faces, 1),
          "extract_with_mtcnn": round(1000 * mtcnn_s / faces, 1)}
    return {"faces_steps": faces, "ms_per_face_alone": ms, "extract_vs_mtcnn": round(extract_s / mtcnn_s, 3),
            "share_of_serial_time": {k: round(v / total, 3) for k, v in per_face.items()}}


def _bf16_peak_tflops(device: torch.device, tries: int = 10) -> float:
    """The best rate of a large bf16 matrix product on ``device`` (all its cores), in TFLOP/s, over two sizes and
    ``tries`` each: about what the hardware gives a generator at most (the most generous figure this machine shows:
    its rate varies by half within a minute)."""
    best = 0.0
    for size in (2048, 4096):
        a = torch.randn(size, size, dtype=torch.bfloat16, device=device)
        b = torch.randn(size, size, dtype=torch.bfloat16, device=device)
        for _ in range(tries):
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            start = time.perf_counter()
            a @ b
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            best = max(best, 2 * size ** 3 / (time.perf_counter() - start) / 1e12)
    return best


def _ceiling(an: Anonymizer, steps: dict, cores: int) -> dict:
    """The most faces/s the machine can give if every step overlapped perfectly: each step at its speed alone, and
    with the generator at the bf16 matrix-product peak instead; each with and without the cross-check. On a CPU all
    steps share the cores' time; on a GPU it is the slower of the CPU's steps on all cores and the generator."""
    from torch.utils.flop_counter import FlopCounterMode

    with torch.inference_mode(), FlopCounterMode(display=False) as flops:
        an.generator(torch.zeros(1, 3, an.image_size, an.image_size, device=an.device))
    gflop = flops.get_total_flops() / 1e9
    peak = _bf16_peak_tflops(an.device)
    ms = steps["ms_per_face_alone"]
    result: dict = {"generator_gflop_per_face": round(gflop, 1), "bf16_matmul_peak_tflops": round(peak, 2),
                    "generator_ms_per_face_at_peak": round(gflop / peak, 1), "ceiling_faces_per_s": {}}
    for generator, generator_ms in (("steps_as_measured", ms["generate"]), ("generator_at_peak", gflop / peak)):
        for search, search_ms in (("", ms["extract"]), ("_without_cross_check", ms["extract_without_cross_check"])):
            cpu_ms = search_ms + ms["compose_write"]  # wall ms per face on one core
            if an.device.type == "cpu":  # the generator's wall ms hold all the cores
                rate = 1000 * cores / (cpu_ms + generator_ms * cores)
            else:
                rate = min(1000 * cores / cpu_ms, 1000 / generator_ms)
            result["ceiling_faces_per_s"][generator + search] = round(rate, 2)
    return result


def untrained_generator(path: Path, size: int = 512) -> Path:
    """A generator file of the plainest form (state dict and size, what every version of the loader reads) with
    seed-0 weights: speed does not depend on the weights."""
    torch.manual_seed(0)
    return atomic_write_torch(path, {"generator": define_G().state_dict(), "image_size": size})


def child_json(command: list[str], **run: Any) -> dict:
    """Run ``command`` (a benchmark's own child process: a fresh interpreter, so its peaks, its settings and its code
    are its own) and return the JSON object its last output line holds; its failure ends the benchmark with its
    error output."""
    done = subprocess.run(command, capture_output=True, text=True, **run)
    if done.returncode:
        sys.exit(f"{' '.join(command[:2])} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


_UNIQUE_PHOTOS = 240  # sample variants built; beyond that they are repeated (as links), as building takes a while


def sample_photos(tmp: Path, count: int) -> list[Path]:
    """``count`` photos from the bundled sample's augmented variants: up to 240 distinct ones, then the same again
    under other names (a 2,000-photo run for a GPU would otherwise spend minutes building them)."""
    distinct = min(count, _UNIQUE_PHOTOS)
    build_sample(SampleConfig(out_dir=str(tmp / "sample"), variants_per_photo=-(-distinct // 3)))
    unique = sorted(iter_images(tmp / "sample" / "images"))[:distinct]
    photos = list(unique)
    for n in range(len(unique), count):
        source = unique[n % len(unique)]
        link = tmp / "sample" / "images" / f"{source.stem}_copy{n // len(unique)}{source.suffix}"
        os.link(source, link)
        photos.append(link)
    return photos


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=24)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--weights", type=Path, default=None)
    parser.add_argument("--source", type=Path, default=None)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per path; the median is reported")
    parser.add_argument("--skip", default="", help="comma-separated paths not to measure, e.g. serial,pipeline_w1")
    parser.add_argument("--baseline-photos", type=int, default=0,
                        help="run the serial path and the steps alone on the first N photos only (default: all); "
                             "their rates are compared with the pipelines' over all photos")
    parser.add_argument("--compile", action="store_true", help="also measure the default with torch.compile")
    parser.add_argument("--second-detector", default="mtcnn", choices=("mtcnn", "retinaface", "none"),
                        help="the cross-check measured (the steps also time the search with MTCNN, in the same run)")
    parser.add_argument("--search-device", default="cpu", choices=("cpu", "cuda"),
                        help="where the search runs mediapipe's networks (cuda: also the pipeline with them on the CPU)")
    parser.add_argument("--glibc-malloc", action="store_true",
                        help="leave glibc's memory thresholds as they are (the baseline of keep_freed_memory)")
    args = parser.parse_args()
    if args.glibc_malloc:  # before any Anonymizer: the setting holds for the rest of the process once applied
        generator_module.keep_freed_memory = lambda: False
    cores = os.cpu_count() or 1
    skip = set(filter(None, args.skip.split(",")))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        weights = args.weights
        if weights is None:
            weights = untrained_generator(tmp / "g.pt", args.size)
        if args.source is None:
            photos = sample_photos(tmp, args.photos)
        else:
            photos = sorted(iter_images(args.source))[: args.photos]
        baseline = photos[: args.baseline_photos or len(photos)]
        base = AnonymizeConfig(weights=str(weights), device=args.device, batch_size=args.batch, crops=True,
                               second_detector=args.second_detector, search_device=args.search_device)
        result: dict = {"benchmark": "anonymize", "photos": len(photos), "device": args.device, "cpus": cores,
                        "search_device": args.search_device,
                        "machine": platform.processor() or platform.machine(), "batch": args.batch,
                        # how PyTorch's OpenMP threads wait (the kit sets passive; GOMP_SPINCOUNT=300000 restores
                        # libgomp's default spinning, for comparison)
                        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", ""),
                        "gomp_spincount": os.environ.get("GOMP_SPINCOUNT", ""),
                        "bf16_native": bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())}
        if args.device.startswith("cuda"):
            result["gpu"] = torch.cuda.get_device_name()
        onnx = export_onnx(weights) if "pipeline_onnx" not in skip else None
        runs = [("serial", base, True)]
        runs += [(f"pipeline_w{k}", replace(base, workers=k), False) for k in sorted({1, *range(2, cores + 1)})]
        runs += [("pipeline_onnx", replace(base, backend="onnx"), False),
                 ("pipeline_fp32", replace(base, precision="fp32"), False)]
        if args.compile:
            runs.append(("pipeline_compile", replace(base, compile=True), False))
        if args.search_device != "cpu":
            runs.append(("pipeline_search_cpu", replace(base, search_device="cpu"), False))
        default = f"pipeline_w{cores}"
        for name, cfg, serial in runs:
            if name in skip:
                continue
            an = Anonymizer(cfg)
            try:
                summary, elapsed, busy, warm_s = _run(an, baseline if serial else photos, tmp / name, serial,
                                                      args.repeat)
            finally:
                close_workers(an)
            result["image_size"] = an.image_size
            result["faces_serial" if serial else "faces"] = summary["faces_anonymized"]
            rates = [summary["faces_anonymized"] / s for s in elapsed]
            result[f"faces_per_s_{name}"] = round(float(np.median(rates)), 2)
            result[f"faces_per_s_{name}_range"] = [round(min(rates), 2), round(max(rates), 2)]
            result[f"generator_busy_share_{name}"] = round(busy / sum(elapsed), 3)
            result[f"precision_{name}"] = str(an.dtype or torch.float32).replace("torch.", "")
            if an.cfg.compile:
                result["compile_s"] = round(warm_s, 1)
            result["kept_freed_memory"] = an.kept_freed_memory
        if onnx:
            result["onnx_vs_torch_max_abs_diff"] = onnx["max_abs_diff"]
        if f"faces_per_s_{default}" in result and "faces_per_s_serial" in result:
            result["default"] = default
            result["speedup_default_vs_serial"] = round(result[f"faces_per_s_{default}"] /
                                                        result["faces_per_s_serial"], 2)
        an = Anonymizer(base)
        try:
            result.update(_steps(an, baseline, tmp / "steps"))
            result.update(_ceiling(an, result, cores))
        finally:
            close_workers(an)
    report(result)


if __name__ == "__main__":
    main()
