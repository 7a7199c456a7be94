"""The generator at inference: weights, precision, backend, batched generation and the paper's average face, and the
alignment every face must be cut with to match what the generator was trained on (paper 3.4)."""
from __future__ import annotations

import threading
from dataclasses import replace

import numpy as np
import torch

from ganonlib.config import AnonymizeConfig, PreprocessConfig
from ganonlib.data.pairs import from_model_range, to_model_range
from ganonlib.devices import keep_freed_memory, resolve_device
from ganonlib.errors import ConfigError
from ganonlib.io import file_sha256
from ganonlib.machine import batch_bound, workers_bound
from ganonlib.models.generator_file import load_generator
from ganonlib.models.onnx_generator import OnnxGenerator, onnx_path

__all__ = ["AlignmentMismatch", "Anonymizer", "stage_anonymizer"]

# what the generator file records of how its training faces were cut and drawn, and what each means to a reader
_ALIGNMENT = {"image_size": "aligned at {} px", "landmarks_style": "landmarks drawn as {!r}",
              "detector": "detected with {}", "margin": "cut with margin {}"}


class AlignmentMismatch(ValueError):
    """Faces would be cut or drawn otherwise than the generator's training faces were."""


def _resolve_precision(precision: str, device: torch.device) -> torch.dtype | None:
    if precision == "fp32":
        return None
    if precision == "bf16":
        return torch.bfloat16
    if precision != "auto":
        raise ValueError(f"unknown precision {precision!r}; choose auto, fp32 or bf16")
    if device.type == "cuda" or torch.ops.mkldnn._is_mkldnn_bf16_supported():
        return torch.bfloat16
    return None  # no native bf16 on this CPU: emulated bf16 would be slower than fp32


class Anonymizer:
    """The generator, loaded once, and the face preprocessing its input needs."""

    def __init__(self, cfg: AnonymizeConfig, preprocess: PreprocessConfig | None = None,
                 follow_generator: bool = False) -> None:
        """``preprocess`` sets detection and alignment. By default it follows the generator file: its image size,
        landmark style, detector and margin (where recorded). A ``preprocess`` given that differs from them is
        refused with :class:`AlignmentMismatch`, or, with ``follow_generator``, takes the generator's values
        (``followed`` says which changed)."""
        self.device = resolve_device(cfg.device)
        self.kept_freed_memory = self.device.type == "cpu" and keep_freed_memory()
        self.generator, trained = load_generator(cfg.weights, self.device)
        self.image_size, self.landmarks_style = trained.image_size, trained.landmarks_style
        # processes and batches within what this machine holds; `bounds` says what was lowered (one line)
        workers, batch = workers_bound(cfg.workers), batch_bound(cfg.batch_size, self.image_size, self.device.type)
        self.cfg = replace(cfg, workers=workers.used, batch_size=batch.used)
        self.bounds = "; ".join(b.note for b in (workers, batch) if b.note)
        self.caveat = trained.caveat()
        # NHWC is what oneDNN and cuDNN run fastest; on a CPU it is worth ~25 % at batch 1
        self.generator = self.generator.to(memory_format=torch.channels_last)
        self._forward = torch.compile(self.generator) if cfg.compile else self.generator
        self.dtype = _resolve_precision(cfg.precision, self.device)
        self.weights_sha256 = file_sha256(cfg.weights)
        self.onnx = None
        if cfg.backend == "onnx":  # onnxruntime runs the exported graph in fp32
            self.onnx = OnnxGenerator(onnx_path(cfg.weights), cfg.weights, self.weights_sha256, self.device)
            self.dtype = None
        self.preprocess, self.followed = _aligned_like(trained.alignment(), preprocess, follow_generator)
        self._average: np.ndarray | None = None
        self._average_lock = threading.Lock()
        if cfg.search_device != "cpu" and self.preprocess.detector != "mediapipe":
            raise ConfigError("search_device", f"{cfg.search_device} runs mediapipe's networks, but the detector is "
                                               f"{self.preprocess.detector} (use cpu)")
        if self.preprocess.detector == "retinaface":  # its weights are checked now, not in every worker later
            from ganonlib.faces.detect import RetinaFaceDetector

            RetinaFaceDetector.weights_file()

    @torch.inference_mode()
    def generate(self, landmarks: np.ndarray) -> np.ndarray:
        """(N, S, S) uint8 landmark images -> (N, S, S, 3) uint8 faces, in batches of ``batch_size``."""
        out = []
        for start in range(0, len(landmarks), self.cfg.batch_size):
            chunk = landmarks[start:start + self.cfg.batch_size]
            if self.cfg.compile and len(chunk) < self.cfg.batch_size:
                # one batch shape only: a compiled graph would otherwise recompile for every new size
                chunk = np.concatenate([chunk, np.zeros((self.cfg.batch_size - len(chunk), *chunk.shape[1:]),
                                                        chunk.dtype)])
            batch = torch.from_numpy(np.ascontiguousarray(chunk))[:, None]
            if self.onnx is not None:
                y = torch.from_numpy(self.onnx(to_model_range(batch).numpy()))
            else:
                x = to_model_range(batch.to(self.device)).contiguous(memory_format=torch.channels_last)
                with torch.autocast(self.device.type, dtype=self.dtype, enabled=self.dtype is not None):
                    y = self._forward(x)
            n = min(self.cfg.batch_size, len(landmarks) - start)
            out.append(from_model_range(y[:n]).permute(0, 2, 3, 1).cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, self.image_size, self.image_size, 3), np.uint8)

    def average_face(self) -> np.ndarray:
        """The paper's fallback: the face the generator paints from an empty (black) landmark image; generated once
        (a folder of photos without faces would otherwise run the generator for each)."""
        with self._average_lock:  # the writer threads compose photos without faces side by side
            if self._average is None:
                self._average = self.generate(np.zeros((1, self.image_size, self.image_size), np.uint8))[0]
                self._average.setflags(write=False)
            return self._average


def stage_anonymizer(cfg: AnonymizeConfig, preprocess: PreprocessConfig) -> Anonymizer:
    """A pipeline stage's anonymizer: faces cut as the generator's training faces were, with params.yaml's
    ``preprocess`` for what the generator file does not record (a converted published checkpoint records no
    alignment), and every face found re-synthesized or covered (no cap)."""
    return Anonymizer(cfg, replace(preprocess, max_faces=0), follow_generator=True)


def _aligned_like(recorded: dict, preprocess: PreprocessConfig | None, follow: bool
                  ) -> tuple[PreprocessConfig, str]:
    """The preprocessing of the anonymizer's faces: the generator's recorded alignment over ``preprocess`` (or the
    defaults, with no cap: every face found is re-synthesized or covered), and a line saying what was changed."""
    if preprocess is None:
        return replace(PreprocessConfig(max_faces=0, **recorded), segmentation="none"), ""
    differ = {k: (getattr(preprocess, k), v) for k, v in recorded.items() if getattr(preprocess, k) != v}
    if differ and not follow:
        said = "; ".join(f"the generator's faces were {_ALIGNMENT[k].format(want)}, these are "
                         f"{_ALIGNMENT[k].format(have)}" for k, (have, want) in differ.items())
        raise AlignmentMismatch(f"{said}: train and infer with the same preprocessing")
    # the size and style are the generator's by construction; the detector and margin are a user's to set
    followed = ", ".join(f"{k} {want} (not {have})" for k, (have, want) in differ.items()
                         if k in ("detector", "margin"))
    # inference needs the landmarks only: no background removal
    return replace(preprocess, **recorded, segmentation="none"), followed
