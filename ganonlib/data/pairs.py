"""(landmarks, face) training pairs of a processed dataset, in the form that keeps a GPU busy.

Faces are decoded once into a uint8 array (N, 3, S, S) - in memory, or memory-mapped from ``cache_dir`` for datasets
larger than RAM (CelebA at 512 px is ~130 GB) - so an epoch reads raw bytes instead of decoding PNGs. Landmarks
travel as (478, 2) float32 points and are drawn on the device by
:func:`ganonlib.faces.landmarks.render_landmarks_torch`, in the style the dataset was preprocessed with.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from joblib import Parallel, delayed
from PIL import Image
from torch.utils.data import Dataset
from tqdm.auto import tqdm

from ganonlib.errors import DatasetError

__all__ = ["PairDataset", "from_model_range", "to_model_range"]


def _decode(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB")).transpose(2, 0, 1)  # (3, S, S)


class PairDataset(Dataset):
    """Pairs of one split listed in ``<root>/index.csv``; items are ((478, 2) float32 points, (3, S, S) uint8 face)."""

    def __init__(self, root: str | Path, split: str = "train", limit: int = 0, cache_dir: str | Path | None = None
                 ) -> None:
        self.root = Path(root)
        if not (self.root / "index.csv").is_file():
            raise DatasetError(f"{self.root / 'index.csv'} not found: the training data is a folder written by "
                               "the preprocess stage (`ganon preprocess`)")
        index = pd.read_csv(self.root / "index.csv", keep_default_na=False)
        index = index[index.split == split].reset_index(drop=True)
        if limit:
            index = index.iloc[:limit]
        if index.empty:
            raise ValueError(f"no {split} pairs in {self.root / 'index.csv'}: run the preprocess stage first")
        self.keys = index.key.tolist()
        summary = self.root / "summary.json"
        settings = json.loads(summary.read_text()).get("settings", {}) if summary.is_file() else {}
        self.landmarks_style = settings.get("landmarks_style", "cross")
        # how the faces were cut, for the generator file (datasets preprocessed before it was recorded: not known)
        self.alignment = ({"detector": settings["detector"], "margin": settings["margin"]}
                          if "detector" in settings and "margin" in settings else None)
        self.points = torch.from_numpy(np.stack([np.load(self.root / p)[:, :2] for p in index.points]))
        paths = [self.root / p for p in index.image]
        self.faces = self._cached(paths, Path(cache_dir), split) if cache_dir else np.stack([_decode(p) for p in paths])
        self.image_size = int(self.faces.shape[-1])

    def _cached(self, paths: list[Path], cache_dir: Path, split: str) -> np.ndarray:
        """Memory-mapped faces, rebuilt (atomically) whenever a listed file changes."""
        stamp = hashlib.sha256()
        for path in paths:
            st = path.stat()
            stamp.update(f"{path}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
        target = cache_dir / f"{self.root.name}_{split}_{stamp.hexdigest()[:16]}.npy"
        if not target.is_file():
            cache_dir.mkdir(parents=True, exist_ok=True)
            first = _decode(paths[0])
            tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            array = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=(len(paths), *first.shape))

            def fill(i: int) -> None:  # Pillow decodes without the GIL: threads suffice
                array[i] = _decode(paths[i])

            Parallel(n_jobs=-1, prefer="threads")(delayed(fill)(i) for i in tqdm(range(len(paths)), desc="cache"))
            array.flush()
            del array
            os.replace(tmp, target)
        return np.load(target, mmap_mode="r")

    def __len__(self) -> int:
        return len(self.keys)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.points[i], torch.from_numpy(np.array(self.faces[i]))  # a writable copy of one face


def to_model_range(x: torch.Tensor) -> torch.Tensor:
    """uint8 (B, C, H, W) -> float in [-1, 1] (mean = std = 0.5); one landmark channel becomes three."""
    x = x.float().div_(127.5).sub_(1.0)
    return x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x


def from_model_range(x: torch.Tensor) -> torch.Tensor:
    """float in [-1, 1] -> uint8."""
    return ((x.float().clamp(-1, 1) + 1.0) * 127.5).round().to(torch.uint8)
