"""Facial-attribute analysis (paper 4.3): removal rates and multi-label classification reports.

Removal rate of an attribute (Table 6, Figure 9): among the images whose original the classifier predicts to have
it (probability > 0.5), the share whose anonymized version it predicts not to have (<= 0.5).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import classification_report, multilabel_confusion_matrix

__all__ = ["multilabel_summary", "removal_rates"]


def removal_rates(original: np.ndarray, anonymized: np.ndarray, names: list[str], threshold: float = 0.5
                  ) -> pd.DataFrame:
    """``original``, ``anonymized``: (N, A) probabilities of the same N faces (NaN rows: no anonymized image).
    One row per attribute: originals predicted positive, how many of their anonymized versions lost it, the rate
    (NaN where no original has the attribute)."""
    present = ~np.isnan(anonymized).any(axis=1)
    had = original[present] > threshold
    lost = had & (anonymized[present] <= threshold)
    positives, removed = had.sum(axis=0), lost.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(positives > 0, removed / np.maximum(positives, 1), np.nan)
    return pd.DataFrame({"attribute": names, "positives": positives, "removed": removed, "removal_rate": rate})


def multilabel_summary(y_true: np.ndarray, probabilities: np.ndarray, names: list[str], threshold: float = 0.5
                       ) -> dict:
    """Per-attribute precision / recall / F1 / support and micro, macro, weighted and samples averages (sklearn),
    and per attribute the row-normalised 2x2 confusion matrix [[TN, FP], [FN, TP]] / row sums."""
    y_true = np.asarray(y_true, int)
    y_pred = (probabilities > threshold).astype(int)
    report = classification_report(y_true, y_pred, target_names=list(names), output_dict=True, zero_division=0)
    matrices = multilabel_confusion_matrix(y_true, y_pred).astype(float)
    rows = matrices.sum(axis=2, keepdims=True)
    normalised = np.divide(matrices, rows, out=np.zeros_like(matrices), where=rows > 0)
    return {"report": report, "confusion": normalised.round(4).tolist(), "n": int(len(y_true))}
