"""Video anonymization: prints one JSON line with frames/s, leaks and temporal stability on the synthetic test clip.

    python benchmarks/speed/video.py [--frames 100] [--device cpu|cuda] [--weights models/gan/generator.pt]
                               [--sizes 640x360,1280x720] [--out benchmarks/results/video_cpu.json]

The clip (:mod:`ganonlib.data.synthetic_video`: two public-domain heads panning, zooming, turning, crossing, one
leaving the frame and coming back, with a sine-tone audio track) is written at each size, then anonymized end to
end — decode, face search (with the MTCNN cross-check), tracking, mesh, generation, paste-back, covers, H.264
encode, audio copied — by the kit's settings, after an untimed run of the whole clip. Measured in the same run:

- per size, searching every frame (the default) and every third frame (``--detect-every 3``): frames/s, frames in
  which a half-visible face came out unchanged (target 0), and the stability ratio — mean frame-to-frame change
  inside the faces of the output over that of the input (target <= 1.5);
- at the first size, the same with the One-Euro filters, the still-face hold and the mask averaging off (each
  frame's face on its own): the baseline the steadying is compared with;
- flicker: the first frame held for 50 frames with fresh camera noise (2 grey levels) in each, steadied against
  unsteadied: any change in the output's faces beyond the input's is flicker.

Without --weights an untrained generator is used where models/gan/generator.pt is missing (speed does not depend on
the weights; stability does, so the result names the generator).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import ganonlib  # noqa: F401  (first: it sets OpenMP's wait policy, read once when torch loads)
import torch

import ganonlib.anonymize.video as video_module
from ganonlib.anonymize.generator import Anonymizer
from ganonlib.anonymize.video import anonymize_clip
from ganonlib.config import AnonymizeConfig
from ganonlib.data.synthetic_video import write_synthetic_clip
from ganonlib.faces.finder import start_finder
from ganonlib.io import atomic_write_text, atomic_write_torch, file_sha256
from ganonlib.metrics.video import video_report
from ganonlib.models.networks import define_G
from ganonlib.provenance import provenance

ROOT = Path(__file__).resolve().parents[2]
_UNSTEADY = {"smooth_min_cutoff": 1.0e6, "smooth_beta": 0.0}  # a cut-off far above the frame rate: no filter
HOLD_STILL = video_module._Steady.still


def _generator(weights: str, scratch: Path) -> str:
    if weights and Path(weights).is_file():
        return weights
    path = scratch / "untrained.pt"
    torch.manual_seed(0)
    atomic_write_torch(path, {"generator": define_G().state_dict(), "image_size": 256})
    return str(path)


def _measure(anonymizer: Anonymizer, cfg: AnonymizeConfig, finder, clip: Path, truth, out: Path) -> dict:
    anonymizer.cfg = cfg
    start = time.perf_counter()
    result = anonymize_clip(anonymizer, finder, clip, out, "mp4", progress=False)
    seconds = time.perf_counter() - start
    report = video_report(clip, out, truth)
    return {"frames_per_s": round(result.frames / seconds, 2), "seconds": round(seconds, 1),
            "frames_with_a_leak": report["frames_with_a_leak"], "faces_checked": report["faces_checked"],
            "stability_ratio": report["stability_ratio"], "change_input": report["change_input"],
            "change_output": report["change_output"], "face_frames": dict(result.faces),
            "tracks": len(result.tracks), "frames_searched": result.frames_searched}


def _measure_as(anonymizer: Anonymizer, name: str, cfg: AnonymizeConfig, finder, clip: Path, truth, scratch: Path,
                mask_memory: float) -> dict:
    """The baseline also pastes each frame's mask as it is, and regenerates a still face every frame."""
    unsteady = name == "unsteadied_baseline"
    video_module._MASK_MEMORY = 0.0 if unsteady else mask_memory
    video_module._Steady.still = _moving if unsteady else HOLD_STILL
    try:
        return _measure(anonymizer, cfg, finder, clip, truth, scratch / f"{name}.mp4")
    finally:
        video_module._MASK_MEMORY, video_module._Steady.still = mask_memory, HOLD_STILL


def _moving(self, kind: str, value, tolerance: float = 0.0):
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--sizes", default="640x360,1280x720")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--weights", default=str(ROOT / "models" / "gan" / "generator.pt"))
    parser.add_argument("--out", default="", help="also write the JSON line to this file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        weights = _generator(args.weights, scratch)
        anonymizer = Anonymizer(AnonymizeConfig(weights=weights, device=args.device), follow_generator=True)
        finder = start_finder(anonymizer.preprocess)
        base, mask_memory = anonymizer.cfg, video_module._MASK_MEMORY
        runs = {}
        for n, size in enumerate(args.sizes.split(",")):
            width, height = (int(v) for v in size.split("x"))
            clip = scratch / f"clip_{size}.mp4"
            truth = write_synthetic_clip(clip, width, height, frames=args.frames)
            if n == 0:  # warm-up, the whole clip once: models, allocations, the allocator's and caches' steady state
                anonymize_clip(anonymizer, finder, clip, scratch / "warm_out.mp4", "mp4", progress=False)
            settings = {"search_every_frame": base, "search_every_3rd_frame": replace(base, detect_every=3)}
            if n == 0:
                settings["unsteadied_baseline"] = replace(base, **_UNSTEADY)
            runs[size] = {}
            for name, cfg in settings.items():
                runs[size][name] = _measure_as(anonymizer, name, cfg, finder, clip, truth, scratch, mask_memory)
            if n == 0:
                still = scratch / "still.mp4"
                still_truth = write_synthetic_clip(still, width, height, frames=50, audio=False, still=True)
                runs[size]["still_face"] = {
                    name: _measure_as(anonymizer, name, cfg, finder, still, still_truth, scratch, mask_memory)
                    for name, cfg in (("steadied", base), ("unsteadied_baseline", replace(base, **_UNSTEADY)))}
        line = {"benchmark": "video", "machine": f"{platform.machine()}, {os.cpu_count()} cores",
                "device": str(anonymizer.device), "torch_threads": torch.get_num_threads(),
                "generator": Path(weights).name if weights == args.weights else "untrained (speed only)",
                "generator_sha256": file_sha256(weights)[:16], "image_size": anonymizer.image_size,
                "frames": args.frames, "fps_of_clip": 25, "runs": runs, "provenance": provenance()}
    text = json.dumps(line)
    print(text)
    if args.out:
        atomic_write_text(args.out, text + "\n")


if __name__ == "__main__":
    main()
