"""GANonymization at inference: landmarks of every face -> the trained generator -> a new face (paper 3.4).

Two entry points: :func:`anonymize_pairs` turns the rendered landmarks of a preprocessed dataset into anonymized
crops with the same keys (what the evaluation compares); :func:`anonymize_files` (:mod:`ganonlib.anonymize.photos`)
takes any photos and videos (a file or a tree, mirrored) and writes each whole, every face replaced or covered,
with the aligned anonymized crops on request (``crops``).
"""
from __future__ import annotations

import os
import threading
from dataclasses import replace
from functools import partial
from pathlib import Path

import cv2
import numpy as np
import torch

from ganonlib.anonymize.method_outputs import finish_method, pair_index, write_output
from ganonlib.anonymize.photos import anonymize_files, check_strict
from ganonlib.cluster import map_chunks, share_model, worker_model
from ganonlib.config import NO_FACE_POLICIES, AnonymizeConfig, PreprocessConfig
from ganonlib.data.pairs import from_model_range, to_model_range
from ganonlib.devices import keep_freed_memory, resolve_device
from ganonlib.io import file_sha256
from ganonlib.machine import batch_bound, workers_bound
from ganonlib.models.generator_file import load_generator
from ganonlib.models.onnx_generator import OnnxGenerator, onnx_path

__all__ = ["AnonymizeConfig", "Anonymizer", "NO_FACE_POLICIES", "anonymize_files", "anonymize_pairs",
           "check_strict", "load_generator"]


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
    """The generator (loaded once) plus the landmark extraction of :class:`FaceExtractor`."""

    def __init__(self, cfg: AnonymizeConfig, preprocess: PreprocessConfig | None = None,
                 follow_generator_size: bool = False) -> None:
        """``preprocess`` sets detection and alignment; its image size and landmark style must be the generator's,
        or are taken from the generator file with ``follow_generator_size``."""
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
        # anonymizing caps nothing by default: every face found is re-synthesized or covered
        preprocess = preprocess or PreprocessConfig(image_size=self.image_size, max_faces=0,
                                                    landmarks_style=self.landmarks_style)
        if follow_generator_size:
            preprocess = replace(preprocess, image_size=self.image_size, landmarks_style=self.landmarks_style)
        if preprocess.image_size != self.image_size:
            raise ValueError(f"the generator was trained at {self.image_size} px but faces are aligned at "
                             f"{preprocess.image_size} px: train and infer at the same size")
        if preprocess.landmarks_style != self.landmarks_style:
            raise ValueError(f"the generator was trained on landmarks drawn as {self.landmarks_style!r} but these are "
                             f"drawn as {preprocess.landmarks_style!r}: train and infer with the same style")
        self.preprocess = replace(preprocess, segmentation="none")  # inference needs the landmarks only
        self._average: np.ndarray | None = None
        self._average_lock = threading.Lock()
        self.pools: dict = {}  # extraction worker pools of anonymize_files, by task and size, kept between calls
        if self.preprocess.detector == "retinaface":  # its weights are checked now, not in every worker later
            from ganonlib.faces.detect import RetinaFaceDetector

            RetinaFaceDetector.weights_file()

    def close(self) -> None:
        """Stop the extraction workers (they also end with this process)."""
        for pool in self.pools.values():
            pool.close()
        self.pools.clear()

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


def _generator_key(cfg: AnonymizeConfig, weights_sha256: str) -> tuple:
    return ("generator", weights_sha256, cfg.device, cfg.precision, cfg.backend, cfg.compile, cfg.batch_size)


def _anonymize_chunk(cfg: AnonymizeConfig, weights_sha256: str, base: str, processed_dir: str, out_dir: str,
                     entries: list[dict]) -> list[dict]:
    """Generate and write the crops of ``entries`` (rows of the pair index), in batches of the anonymizer's size;
    relative paths are the caller's, under ``base`` (a worker may have started elsewhere)."""
    root = Path(base)
    anonymizer = worker_model(_generator_key(cfg, weights_sha256),
                              lambda: Anonymizer(replace(cfg, weights=str(root / cfg.weights))))
    rows = []
    for start in range(0, len(entries), cfg.batch_size):
        batch = entries[start:start + cfg.batch_size]
        marks = np.stack([cv2.imread(str(root / processed_dir / e["landmarks"]), cv2.IMREAD_GRAYSCALE)
                          for e in batch])
        rows += [write_output(entry, face, base, processed_dir, out_dir)
                 for entry, face in zip(batch, anonymizer.generate(marks))]
    return rows


def anonymize_pairs(processed_dir: str | Path, out_dir: str | Path, anonymizer: Anonymizer,
                    progress: bool = True, splits: tuple[str, ...] | None = None, scheduler: str = "",
                    n_jobs: int = 1) -> dict:
    """Anonymize the pairs of a preprocessed dataset (every split, or ``splits``) from their stored landmarks:
    ``<out>/<split>/<key>.png`` and an ``index.csv`` linking each output to its original crop.

    ``scheduler`` / ``n_jobs``: where the chunks of pairs are generated (:func:`ganonlib.cluster.map_chunks`; by
    default here, with ``anonymizer``). Elsewhere each worker loads the generator once; chunks are whole batches of
    the anonymizer's size, so every face is generated in the same batch as here and the files are the same."""
    processed_dir, out_dir = Path(processed_dir), Path(out_dir)
    cfg = anonymizer.cfg
    share_model(_generator_key(cfg, anonymizer.weights_sha256), anonymizer)
    entries = pair_index(processed_dir, splits).to_dict(orient="records")
    work = partial(_anonymize_chunk, cfg, anonymizer.weights_sha256, os.getcwd(), str(processed_dir), str(out_dir))
    rows = map_chunks(work, entries, scheduler=scheduler, n_jobs=n_jobs, chunk_size=8 * cfg.batch_size,
                      desc=f"anonymize {processed_dir.name}", progress=progress)
    return finish_method(out_dir, rows, {
        "method": "ours", "provided": True, "pairs": len(rows), "image_size": anonymizer.image_size,
        "weights_sha256": anonymizer.weights_sha256, "precision": str(anonymizer.dtype or torch.float32),
        "device": str(anonymizer.device)})
