"""A classifier is trained once per training set: a rerun whose training and validation images, labels, settings,
backbone weights and training code are unchanged reads back the weights it wrote instead of training again.

An experiment on the GAN changes only the ``ours`` images: the evaluation stages rerun, and the classifiers of the
originals and of the baselines are read back (their folders are ``persist`` outputs of DVC) with their curves replayed
into the run's DVCLive log, so the stage writes what a full retraining writes on this machine, minutes sooner. The
key holds the bytes of every image, so a changed image, label or setting always trains again.
``GANON_REUSE_CLASSIFIERS=0`` trains every classifier anyway (what every run did before; to time the difference,
``benchmarks/speed/experiment_rerun.py``).
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch
from torch import nn

import ganonlib.models.classifier as classifier_model
import ganonlib.train.classifier as classifier_training
from ganonlib.devices import resolve_device
from ganonlib.io import atomic_write_json, file_sha256
from ganonlib.models.classifier import build_classifier
from ganonlib.train.classifier import ClassifierConfig, ImageLabels, train_classifier
from ganonlib.train.live import TrainingLog

__all__ = ["RECORD", "trained_classifier", "training_key"]

RECORD = "trained.json"  # beside best.pt: the key it was trained under, its summary and its curves


class _Recording:
    """Passes the curves on to the run's log and keeps them, to replay when the weights are reused."""

    def __init__(self, log: TrainingLog | None) -> None:
        self.log, self.steps, self.epochs = log, [], []

    def step(self, values: Mapping[str, float]) -> None:
        self.steps.append(dict(values))
        if self.log is not None:
            self.log.step(values)

    def epoch(self, epoch: int, values: Mapping[str, float]) -> None:
        self.epochs.append([epoch, dict(values)])
        if self.log is not None:
            self.log.epoch(epoch, values)


def training_key(train: ImageLabels, val: ImageLabels, n_classes: int, cfg: ClassifierConfig) -> str:
    """sha256 of everything the weights depend on: settings, device kind, backbone weights, torch and the training
    code, each image's bytes and label (training and validation, in order)."""
    _, origin = build_classifier(cfg.arch, n_classes, cfg.pretrained, cfg.weights_path)
    digest = hashlib.sha256(json.dumps({
        "settings": asdict(cfg), "n_classes": n_classes, "device": resolve_device(cfg.device).type,
        "backbone": origin, "backbone_sha256": file_sha256(cfg.weights_path) if origin == f"imagenet:{cfg.weights_path}"
        else None, "torch": torch.__version__,
        "code": [file_sha256(m.__file__) for m in (classifier_model, classifier_training)],
    }, sort_keys=True).encode())
    for data in (train, val):
        for path in data.paths:
            digest.update(file_sha256(path).encode())
        digest.update(np.ascontiguousarray(data.labels).tobytes())
    return digest.hexdigest()


def trained_classifier(train: ImageLabels, val: ImageLabels, n_classes: int, cfg: ClassifierConfig,
                       out_dir: str | Path, progress: bool = True, log: TrainingLog | None = None
                       ) -> tuple[nn.Module, dict[str, Any]]:
    """:func:`~ganonlib.train.classifier.train_classifier`, or the weights it wrote under the same key."""
    out_dir = Path(out_dir)
    key = training_key(train, val, n_classes, cfg)
    reused = _reuse(out_dir, key, n_classes, cfg, log) if os.environ.get("GANON_REUSE_CLASSIFIERS") != "0" else None
    if reused is not None:
        return reused
    (out_dir / RECORD).unlink(missing_ok=True)  # best.pt is about to change: no record may vouch for it meanwhile
    recording = _Recording(log)
    model, info = train_classifier(train, val, n_classes, cfg, out_dir, progress=progress, log=recording)
    atomic_write_json(out_dir / RECORD, {"key": key, "best_sha256": file_sha256(out_dir / "best.pt"), "info": info,
                                         "steps": recording.steps, "epochs": recording.epochs})
    return model, info


def _reuse(out_dir: Path, key: str, n_classes: int, cfg: ClassifierConfig, log: TrainingLog | None
           ) -> tuple[nn.Module, dict[str, Any]] | None:
    try:
        record = json.loads((out_dir / RECORD).read_text())
        if record.get("key") != key or file_sha256(out_dir / "best.pt") != record.get("best_sha256"):
            return None
        state = torch.load(out_dir / "best.pt", map_location="cpu", weights_only=True)
    except (OSError, ValueError, RuntimeError, KeyError):  # no record, a torn one, no weights: train
        return None
    model, _ = build_classifier(cfg.arch, n_classes, pretrained="no")
    model.load_state_dict(state["model"])
    if log is not None:
        for values in record["steps"]:
            log.step(values)
        for epoch, values in record["epochs"]:
            log.epoch(epoch, values)
    print(f"{out_dir}: trained before on the same images, labels and settings: its weights are reused")
    return model.to(resolve_device(cfg.device)), record["info"]
