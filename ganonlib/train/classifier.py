"""Classifier trainer of the evaluation (paper 4.2/4.3): class-weighted cross-entropy (or BCE for multi-label),
AdamW 3e-4 / wd 1e-3, ReduceLROnPlateau (patience 3) on the validation loss, early stopping, horizontal flips,
ImageNet normalisation, seeded, best checkpoint kept (loadable with ``weights_only=True``)."""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset
from torchvision.transforms import v2
from tqdm.auto import tqdm

from ganonlib.config import ClassifierConfig
from ganonlib.devices import resolve_device
from ganonlib.io import atomic_write_csv, atomic_write_torch, read_image
from ganonlib.models.classifier import build_classifier
from ganonlib.train.live import TrainingLog

__all__ = ["ClassifierConfig", "ImageLabels", "class_weights", "predict", "train_classifier"]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class ImageLabels(Dataset):
    """(paths, labels) -> normalised (3, S, S) float tensors; labels are class indices or multi-hot vectors."""

    def __init__(self, paths: list[str | Path], labels: np.ndarray, image_size: int, train: bool) -> None:
        self.paths, self.labels = list(paths), np.asarray(labels)
        self.image_size, self.train = image_size, train
        # a flip with probability 0.5 per image (drawn from torch's seeded generator), then ImageNet normalisation
        flips = [v2.RandomHorizontalFlip(0.5)] if train else []
        self.transform = v2.Compose([*flips, v2.Normalize(IMAGENET_MEAN, IMAGENET_STD)])

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        from PIL import Image

        image = Image.fromarray(read_image(self.paths[i], min_side=1)).resize((self.image_size, self.image_size),
                                                                           Image.Resampling.BILINEAR)
        x = torch.from_numpy(np.asarray(image).copy()).permute(2, 0, 1).float().div_(255.0)
        return self.transform(x), torch.as_tensor(self.labels[i])


def class_weights(labels: np.ndarray, n_classes: int) -> torch.Tensor:
    """Balanced weights n / (k * count_c) from the train split; a class absent from it gets weight 0."""
    counts = np.bincount(np.asarray(labels, int), minlength=n_classes).astype(float)
    present = counts > 0
    weights = np.zeros(n_classes)
    weights[present] = counts.sum() / (present.sum() * counts[present])
    return torch.tensor(weights, dtype=torch.float32)


def _loss(cfg: ClassifierConfig, train_labels: np.ndarray, n_classes: int) -> nn.Module:
    if cfg.multilabel:
        return nn.BCEWithLogitsLoss()
    return nn.CrossEntropyLoss(weight=class_weights(train_labels, n_classes))


@torch.inference_mode()
def predict(model: nn.Module, data: ImageLabels, batch_size: int = 64, multilabel: bool = False,
            device: str = "auto") -> np.ndarray:
    """Probabilities (softmax, or sigmoid for multi-label) for every item, in order."""
    dev = resolve_device(device)
    model = model.to(dev).eval()
    out = [torch.sigmoid(model(x.to(dev))) if multilabel else torch.softmax(model(x.to(dev)), dim=1)
           for x, _ in DataLoader(data, batch_size=batch_size)]
    return torch.cat(out).float().cpu().numpy()


def train_classifier(train: ImageLabels, val: ImageLabels, n_classes: int, cfg: ClassifierConfig,
                     out_dir: str | Path, progress: bool = True, log: TrainingLog | None = None
                     ) -> tuple[nn.Module, dict]:
    """Train, keep the weights of the best validation loss (``best.pt``), write ``history.csv`` (and to ``log``,
    begun with this training's name, the loss per step and per epoch); returns the best model and a summary naming
    where its backbone weights came from. No wall-clock time is written: a seeded rerun writes the same files."""
    torch.manual_seed(cfg.seed)
    out_dir, dev = Path(out_dir), resolve_device(cfg.device)
    model, origin = build_classifier(cfg.arch, n_classes, cfg.pretrained, cfg.weights_path)
    model = model.to(dev)
    criterion = _loss(cfg, train.labels, n_classes).to(dev)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, patience=cfg.lr_patience)
    loader = DataLoader(train, batch_size=cfg.batch_size, shuffle=True, num_workers=cfg.num_workers,
                        generator=torch.Generator().manual_seed(cfg.seed))
    best, best_epoch, history = float("inf"), -1, []
    for epoch in range(cfg.epochs):
        model.train()
        total, seen = 0.0, 0
        for x, y in tqdm(loader, desc=f"epoch {epoch + 1}", disable=not progress):
            x, y = x.to(dev), y.to(dev)
            loss = criterion(model(x), y.float() if cfg.multilabel else y.long())
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step_loss = float(loss.detach())
            total, seen = total + step_loss * len(x), seen + len(x)
            if log is not None:
                log.step({"train_loss": step_loss})
        val_loss = _evaluate(model, val, criterion, cfg, dev)
        scheduler.step(val_loss)
        history.append({"epoch": epoch + 1, "train_loss": total / max(seen, 1), "val_loss": val_loss,
                        "lr": optimizer.param_groups[0]["lr"]})
        if log is not None:
            log.epoch(epoch + 1, {k: v for k, v in history[-1].items() if k != "epoch"})
        if val_loss < best:
            best, best_epoch = val_loss, epoch
            atomic_write_torch(out_dir / "best.pt", {"model": model.state_dict(), "arch": cfg.arch,
                                                     "n_classes": n_classes, "epoch": epoch + 1})
        elif epoch - best_epoch >= cfg.early_stopping:
            break
    atomic_write_csv(out_dir / "history.csv", history, list(history[0]))
    model.load_state_dict(torch.load(out_dir / "best.pt", map_location=dev, weights_only=True)["model"])
    return model, {"best_epoch": best_epoch + 1, "best_val_loss": best, "epochs_run": len(history),
                   "backbone_weights": origin, "config": asdict(cfg)}


@torch.inference_mode()
def _evaluate(model: nn.Module, data: ImageLabels, criterion: nn.Module, cfg: ClassifierConfig,
              dev: torch.device) -> float:
    model.eval()
    total, seen = 0.0, 0
    for x, y in DataLoader(data, batch_size=cfg.batch_size):
        x, y = x.to(dev), y.to(dev)
        total += float(criterion(model(x), y.float() if cfg.multilabel else y.long())) * len(x)
        seen += len(x)
    return total / max(seen, 1)
