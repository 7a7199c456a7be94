"""The shapes of the evaluation results (the JSON files under ``reports/metrics/``): written by the evaluators, read
by the tables, the figures, the headline metrics and the tests."""
from __future__ import annotations

from typing import Any, TypedDict

__all__ = ["AttributesResult", "IdentityMethod", "IdentityResult", "InferenceMethod", "InferenceResult",
           "RemovalMethod", "SplitScore", "TrainingResult", "TrainingSet"]

# "share_above_0.3" is no identifier: the functional form
IdentityMethod = TypedDict("IdentityMethod", {
    "provided": bool, "note": str, "mean": float, "std": float, "n": int, "share_above_0.3": float,
    "share_above_threshold": float, "verification_rate": float, "rank1": float, "nme_mean": "float | None",
    "no_mesh_share": float, "leakage": dict}, total=False)


class IdentityResult(TypedDict, total=False):
    dataset: str
    recognizer: str
    recognizer_threshold: float
    paper_threshold: float
    split: str
    n_originals: int
    n_identities: int
    methods: dict[str, IdentityMethod]  # "original" (the sanity row) and every method


class InferenceMethod(TypedDict):
    n: int
    mean_distance: dict[str, float | None]  # per emotion: mean |p_orig - p_anon|


class InferenceResult(TypedDict, total=False):
    dataset: str
    split: str
    not_provided: list[str]
    labels_needed: bool
    classifier: str
    classes: list[str]
    n_images: int
    methods: dict[str, InferenceMethod]
    statistics: list[dict[str, Any]]  # Wilcoxon ours vs each baseline per emotion (Table 3)


class SplitScore(TypedDict, total=False):
    n: int
    report: dict[str, Any]  # sklearn's classification report
    confusion: list[list[float]]


class TrainingSet(TypedDict, total=False):
    train_images: int
    best_epoch: int
    best_val_loss: float
    epochs_run: int
    backbone_weights: str
    val: SplitScore
    test: SplitScore


class TrainingResult(TypedDict, total=False):
    dataset: str
    label_source: str
    not_provided: list[str]
    classes: list[str]
    config: dict[str, Any]
    methods: dict[str, TrainingSet]  # "original" and every method's training set


class RemovalMethod(TypedDict):
    n: int
    removal_rate: dict[str, float | None]  # per attribute (Table 6)
    positives: dict[str, int]


class AttributesResult(TypedDict, total=False):
    dataset: str
    split: str
    label_source: str
    not_provided: list[str]
    training: dict[str, dict[str, Any]]  # evaluate_attributes.training_summary
    classifier: str
    attributes: list[str]
    n_images: int
    methods: dict[str, RemovalMethod]
