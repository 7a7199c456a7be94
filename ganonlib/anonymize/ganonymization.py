"""GANonymization of a preprocessed dataset (paper 3.4): :func:`anonymize_pairs` turns the stored landmarks of
every pair into anonymized crops with the same keys, what the evaluation compares. Photos and videos of one's own
go through :func:`ganonlib.anonymize.run.anonymize_files`.
"""
from __future__ import annotations

import os
from dataclasses import replace
from functools import partial
from pathlib import Path

import cv2
import numpy as np
import torch

from ganonlib.anonymize.generator import Anonymizer
from ganonlib.anonymize.method_outputs import finish_method, pair_index, write_output
from ganonlib.cluster import map_chunks, share_model, worker_model
from ganonlib.config import AnonymizeConfig

__all__ = ["anonymize_pairs"]


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
