"""(landmarks, face) training pairs of a processed dataset, decoded once into uint8 tensors.

Kept as uint8 in memory (a 512^2 pair is 1 MiB) and normalised on the device, so the loader never starves the GPU
with per-step PNG decoding.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch
from PIL import Image
from torch.utils.data import Dataset

__all__ = ["PairDataset", "to_model_range", "from_model_range"]


class PairDataset(Dataset):
    """Pairs of one split listed in ``<root>/index.csv``; items are ((1, H, W) uint8 landmarks, (3, H, W) uint8 face)."""

    def __init__(self, root: str | Path, split: str = "train", limit: int = 0) -> None:
        self.root = Path(root)
        index = pd.read_csv(self.root / "index.csv")
        index = index[index.split == split].reset_index(drop=True)
        if limit:
            index = index.iloc[:limit]
        if index.empty:
            raise ValueError(f"no {split} pairs in {self.root / 'index.csv'}: run the preprocess stage first")
        self.keys = index.key.tolist()
        self.landmarks = torch.from_numpy(np.stack([self._read(p, "L") for p in index.landmarks]))[:, None]
        self.faces = torch.from_numpy(np.stack([self._read(p, "RGB") for p in index.image])).permute(0, 3, 1, 2)

    def _read(self, rel: str, mode: str) -> np.ndarray:
        with Image.open(self.root / rel) as image:
            return np.asarray(image.convert(mode))

    def __len__(self) -> int:
        return len(self.keys)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.landmarks[i], self.faces[i]


def to_model_range(x: torch.Tensor) -> torch.Tensor:
    """uint8 (B, C, H, W) -> float in [-1, 1] (mean = std = 0.5); one landmark channel becomes three."""
    x = x.float().div_(127.5).sub_(1.0)
    return x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x


def from_model_range(x: torch.Tensor) -> torch.Tensor:
    """float in [-1, 1] -> uint8."""
    return ((x.float().clamp(-1, 1) + 1.0) * 127.5).round().to(torch.uint8)
