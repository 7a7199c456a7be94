"""Facial-attribute analysis of a dataset's anonymizations (paper 4.3, Tables 5-6, Figures 9 and 11).

The attribute classifier is the training scenario's ``original`` model (multi-label: BCE, sigmoid, threshold 0.5);
it predicts the originals and every method's images of one split, and :func:`removal_rates` gives per attribute and
method the share of attributes present in the original that the anonymized version lost.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ganonlib.io import json_number
from ganonlib.metrics.attributes import removal_rates
from ganonlib.metrics.method_images import method_probabilities
from ganonlib.metrics.schemas import AttributesResult
from ganonlib.metrics.training_scenario import TrainedClassifier

__all__ = ["attribute_labels", "attribute_removal", "training_summary"]


def attribute_labels(frame: pd.DataFrame, names: list[str]) -> np.ndarray:
    """(N, A) multi-hot labels from the ``attributes`` column of :func:`ganonlib.metrics.method_images.method_images`
    (space-separated 0/1 in the order of ``names``)."""
    if frame.attributes.astype(str).str.strip().eq("").any():
        raise ValueError("some pairs carry no attribute labels: the attribute analysis needs a dataset with "
                         "attributes (CelebA's list_attr_celeba.txt, or the sample's known properties)")
    rows = np.array([list(map(int, str(v).split())) for v in frame.attributes])
    if rows.shape[1] != len(names):
        raise ValueError(f"{rows.shape[1]} attribute values per pair but {len(names)} attribute names")
    return rows


def attribute_removal(frame: pd.DataFrame, methods: list[str], classifier: TrainedClassifier
                      ) -> tuple[pd.DataFrame, pd.DataFrame, AttributesResult]:
    """Predict the originals and every method's images of ``frame`` (one split).

    Returns the per-image probabilities (``image, method, p_<attribute>...``, method ``original`` included), the
    removal table (one row per attribute and method) and the result for the metrics file."""
    names = list(classifier.classes)
    original, anonymized = method_probabilities(frame, methods, lambda paths, _: classifier.predict_paths(paths))
    per_image = [pd.DataFrame({"image": frame.key, "method": method,
                               **{f"p_{n}": probs[:, k] for k, n in enumerate(names)}}).dropna()
                 for method, probs in {"original": original, **anonymized}.items()]
    removal = pd.concat([removal_rates(original, probs, names).assign(method=method)
                         for method, probs in anonymized.items()], ignore_index=True)
    result: AttributesResult = {"classifier": classifier.name, "attributes": names, "n_images": int(len(frame)),
              "methods": {m: {"n": int(frame[m].notna().sum()),
                              "removal_rate": {r.attribute: json_number(r.removal_rate) for r in block.itertuples()},
                              "positives": {r.attribute: int(r.positives) for r in block.itertuples()}}
                          for m, block in removal.groupby("method", sort=False)}}
    return pd.concat(per_image, ignore_index=True), removal, result


def training_summary(training: dict) -> dict:
    """What the metrics file keeps of the training scenario: per training set its size, best epoch, backbone
    weights and, per split it was scored on, the four F1 averages."""
    return {m: {"train_images": r["train_images"], "best_epoch": r["best_epoch"],
                "backbone_weights": r["backbone_weights"],
                **{s: {avg: round(r[s]["report"][avg]["f1-score"], 4) for avg in
                       ("micro avg", "macro avg", "weighted avg", "samples avg")}
                   for s in ("val", "test") if r[s]["n"]}}
            for m, r in training["methods"].items()}
