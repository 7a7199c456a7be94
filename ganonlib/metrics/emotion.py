"""Emotion preservation measures (paper 4.2): probability distances and classification reports.

Inference scenario: one classifier (trained on originals) predicts every original and its anonymized versions; per
image and emotion the distance is |p_orig - p_anon| of that emotion's probability, for every image (not only those
labelled with the emotion), averaged per emotion and method (Table 2). Training scenario: per-class precision,
recall, F1, accuracy and averages plus the normalised confusion matrix of a classifier (Table 4, Figure 10).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import classification_report, confusion_matrix

from ganonlib.data.datasets import AFFECTNET_CLASSES, CKPLUS_CLASSES, FACES_CLASSES

__all__ = ["EMOTION_CLASSES", "classification_summary", "distance_table", "probability_distances"]

EMOTION_CLASSES = {"affectnet": AFFECTNET_CLASSES, "ckplus": CKPLUS_CLASSES, "faces": FACES_CLASSES}


def probability_distances(keys: list[str], original: np.ndarray, anonymized: dict[str, np.ndarray],
                          classes: tuple[str, ...]) -> pd.DataFrame:
    """Long table ``image, emotion, method, p_original, p_anonymized, value`` with value = |p_orig - p_anon|.

    ``original``: (N, K) probabilities; ``anonymized``: method -> (N, K), NaN rows where a method has no image."""
    rows = []
    for method, probs in anonymized.items():
        for k, emotion in enumerate(classes):
            frame = pd.DataFrame({"image": keys, "emotion": emotion, "method": method,
                                  "p_original": original[:, k], "p_anonymized": probs[:, k]})
            rows.append(frame.dropna(subset=["p_anonymized"]))
    out = pd.concat(rows, ignore_index=True)
    out["value"] = (out.p_original - out.p_anonymized).abs()
    return out


def distance_table(distances: pd.DataFrame, classes: tuple[str, ...], methods: list[str]) -> pd.DataFrame:
    """Mean distance per emotion (rows, in ``classes`` order) and method (columns)."""
    table = distances.pivot_table(index="emotion", columns="method", values="value", aggfunc="mean")
    return table.reindex(index=list(classes), columns=[m for m in methods if m in table.columns])


def classification_summary(y_true: np.ndarray, probabilities: np.ndarray, classes: tuple[str, ...]) -> dict:
    """sklearn's classification report (per class, accuracy, macro and weighted averages) and the row-normalised
    confusion matrix, for every class of ``classes`` (a class absent from ``y_true`` gets support 0)."""
    y_pred = probabilities.argmax(axis=1)
    labels = list(range(len(classes)))
    report = classification_report(y_true, y_pred, labels=labels, target_names=list(classes), output_dict=True,
                                   zero_division=0)
    if "accuracy" not in report:  # sklearn leaves it out when some labels are absent; it is still defined
        report["accuracy"] = float(np.mean(y_true == y_pred))
    matrix = confusion_matrix(y_true, y_pred, labels=labels, normalize="true")
    return {"report": report, "confusion": np.nan_to_num(matrix).round(4).tolist(), "n": int(len(y_true))}
