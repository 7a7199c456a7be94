"""The training scenario of the paper (4.2 and 4.3): one classifier per training set.

The same architecture is trained on the train split of the originals and of each anonymization method (labels of
the originals), stopped early on the original validation split, and scored on the original validation split (the
paper's tables) and on the test split that early stopping never saw. Single-label (emotions: softmax, argmax) or
multi-label (attributes: sigmoid, threshold 0.5), as ``cfg.multilabel`` says.
"""
from __future__ import annotations

from dataclasses import asdict
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ganonlib.cluster import map_chunks, worker_model
from ganonlib.io import file_sha256
from ganonlib.metrics.attributes import multilabel_summary
from ganonlib.metrics.emotion import classification_summary
from ganonlib.metrics.schemas import TrainingResult
from ganonlib.models.classifier import build_classifier
from ganonlib.train.classifier import ClassifierConfig, ImageLabels, predict
from ganonlib.train.classifier_reuse import trained_classifier
from ganonlib.train.live import TrainingLog

__all__ = ["TrainedClassifier", "training_scenario"]


def _load_classifier(checkpoint: str) -> torch.nn.Module:
    state = torch.load(checkpoint, map_location="cpu", weights_only=True)
    model, _ = build_classifier(state["arch"], int(state["n_classes"]), pretrained="no")
    model.load_state_dict(state["model"])
    return model


def _predict_chunk(checkpoint: str, sha256: str, cfg: ClassifierConfig, paths: list[str]) -> list[np.ndarray]:
    model = worker_model(("classifier", sha256), partial(_load_classifier, checkpoint))
    data = ImageLabels(paths, np.zeros(len(paths), int), cfg.image_size, train=False)
    return list(predict(model, data, cfg.batch_size, multilabel=cfg.multilabel, device=cfg.device))


class TrainedClassifier:
    """A classifier written by :func:`training_scenario` (``best.pt``), predicting class probabilities (softmax,
    or sigmoid when ``cfg.multilabel``). ``scheduler`` / ``n_jobs``: where the images are classified
    (:func:`ganonlib.cluster.map_chunks`; by default here); chunks are whole batches, as here, so the probabilities
    are the same wherever they run."""

    def __init__(self, checkpoint: str | Path, cfg: ClassifierConfig, classes: tuple[str, ...] | list[str],
                 name: str, scheduler: str = "", n_jobs: int = 1) -> None:
        self.checkpoint = str(Path(checkpoint).resolve())  # a worker may have started in another folder
        self.sha256 = file_sha256(checkpoint)  # a Dask worker outlives a rerun that rewrites the file
        self.cfg, self.classes, self.name = cfg, classes, name
        self.scheduler, self.n_jobs = scheduler, n_jobs

    def predict_paths(self, paths: list[str]) -> np.ndarray:
        done = map_chunks(partial(_predict_chunk, self.checkpoint, self.sha256, self.cfg),
                          [str(Path(p).resolve()) for p in paths], scheduler=self.scheduler, n_jobs=self.n_jobs,
                          chunk_size=8 * self.cfg.batch_size)
        return np.asarray(done, dtype=np.float32).reshape(len(paths), len(self.classes))


def _names(row: np.ndarray, classes: tuple[str, ...] | list[str], multilabel: bool) -> str:
    return " ".join(c for c, v in zip(classes, row) if v) if multilabel else classes[int(row)]


def training_scenario(frame: pd.DataFrame, labels: np.ndarray, classes: tuple[str, ...] | list[str],
                      methods: list[str], cfg: ClassifierConfig, models_dir: str | Path, progress: bool = True,
                      live_dir: str | Path | None = None) -> tuple[pd.DataFrame, TrainingResult]:
    """``frame``: :func:`ganonlib.metrics.method_images.method_images` over train/val/test; ``labels``: (N,) class
    indices or (N, A) multi-hot rows of ``frame``. Writes ``<models_dir>/<training set>/best.pt`` (read back
    instead when that training set, its labels and the settings are unchanged) and, with
    ``live_dir``, each training set's loss curves (``<training set>/<metric>``) to ``<live_dir>/{step,epoch}/``
    (DVCLive).

    Returns per-image predictions (``image, split, method, label, predicted, p_<class>...``) and the result with one
    report and confusion matrices per training set and split."""
    models_dir = Path(models_dir)
    split = frame.split.to_numpy()
    evaluation = {s: (frame.original[split == s].tolist(), labels[split == s]) for s in ("val", "test")}
    val = ImageLabels(*evaluation["val"], cfg.image_size, train=False)
    rows, result = [], {}
    log = TrainingLog(live_dir) if live_dir is not None else None
    for method in ["original", *methods]:
        train_rows = (split == "train") & frame[method].notna().to_numpy()
        train = ImageLabels(frame[method][train_rows].tolist(), labels[train_rows], cfg.image_size, train=True)
        if log is not None:
            log.begin(method)
        model, info = trained_classifier(train, val, len(classes), cfg, models_dir / method, progress=progress,
                                         log=log)
        result[method] = {"train_images": int(train_rows.sum()), **{k: v for k, v in info.items() if k != "config"}}
        for name, (paths, y) in evaluation.items():
            if not paths:  # a tiny dataset may lack a split: nothing to score there
                result[method][name] = {"n": 0}
                continue
            probs = predict(model, ImageLabels(paths, y, cfg.image_size, train=False), cfg.batch_size,
                            multilabel=cfg.multilabel, device=cfg.device)
            result[method][name] = multilabel_summary(y, probs, list(classes)) if cfg.multilabel \
                else classification_summary(y, probs, tuple(classes))
            predicted = (probs > 0.5).astype(int) if cfg.multilabel else probs.argmax(axis=1)
            rows.append(pd.DataFrame({"image": frame.key[split == name].to_numpy(), "split": name, "method": method,
                                      "label": [_names(r, classes, cfg.multilabel) for r in y],
                                      "predicted": [_names(r, classes, cfg.multilabel) for r in predicted],
                                      **{f"p_{c}": probs[:, k] for k, c in enumerate(classes)}}))
    if log is not None:
        log.close()
    return pd.concat(rows, ignore_index=True), {"classes": list(classes), "config": asdict(cfg), "methods": result}
