"""The images of each anonymization method of a dataset, keyed like its originals, and one classifier's
probabilities for all of them: what the emotion, attribute and report stages read."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

__all__ = ["method_images", "method_probabilities", "provided_methods"]


def provided_methods(anonymized_dir: str | Path, methods: list[str]) -> list[str]:
    """The methods whose anonymize stage produced images (an external tool without a folder is *not provided*)."""
    out = []
    for method in methods:
        summary = Path(anonymized_dir) / method / "summary.json"
        if summary.is_file() and json.loads(summary.read_text()).get("provided") and \
                (Path(anonymized_dir) / method / "index.csv").is_file():
            out.append(method)
    return out


def method_images(processed_dir: str | Path, anonymized_dir: str | Path, methods: list[str],
                  splits: tuple[str, ...]) -> pd.DataFrame:
    """One row per pair of ``splits``: key, split, subject, label, attributes, ``original`` (the aligned crop) and
    one column per method with its anonymized image (NaN where that method produced none for the key)."""
    processed_dir, anonymized_dir = Path(processed_dir), Path(anonymized_dir)
    pairs = pd.read_csv(processed_dir / "index.csv", keep_default_na=False)
    pairs = pairs[pairs.split.isin(splits)].reset_index(drop=True)
    frame = pd.DataFrame({"key": pairs.key, "split": pairs.split, "subject": pairs.subject, "label": pairs.label,
                          "attributes": pairs.get("attributes", ""),
                          "original": [str(processed_dir / p) for p in pairs.image]})
    for method in methods:
        index = pd.read_csv(anonymized_dir / method / "index.csv", keep_default_na=False)
        paths = {k: str(anonymized_dir / method / p) for k, p in zip(index.key, index.image)}
        frame[method] = frame.key.map(paths)
    return frame


def method_probabilities(frame: pd.DataFrame, methods: list[str], predict: Callable[[list[str], str], np.ndarray]
                         ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """``predict(paths, what)`` on the originals of ``frame`` and on each method's images: (N, K) for the originals
    and per method (N, K) with NaN rows where the method has no image for a face."""
    original = predict(frame.original.tolist(), "originals")
    anonymized = {}
    for method in methods:
        present = frame[method].notna().to_numpy()
        probs = np.full_like(original, np.nan)
        if present.any():
            probs[present] = predict(frame[method][present].tolist(), method)
        anonymized[method] = probs
    return original, anonymized
