"""Anonymized versions of a preprocessed dataset, one folder per method, keyed like the originals.

Every method writes ``<out>/<split>/<key>.png``, an ``index.csv`` (key, split, image, original, subject, label,
attributes) and a ``summary.json`` naming what produced it, so the evaluation compares like with like.
"""
from __future__ import annotations

from pathlib import Path

from ganonlib.anonymize.comparison import compare_with

__all__ = ["anonymize_dataset"]


def anonymize_dataset(method: str, processed_dir: str | Path, out_dir: str | Path, *,
                      weights: str = "models/gan/generator.pt", device: str = "auto", precision: str = "auto",
                      batch_size: int = 8, no_face: str = "average", external_dir: str = "",
                      progress: bool = True, scheduler: str = "", n_jobs: int = 1) -> dict:
    """One method's anonymized version of a preprocessed dataset: ``ours`` (the trained generator), or a method it
    is compared with (:func:`ganonlib.anonymize.comparison.compare_with`); ``scheduler`` / ``n_jobs``: where the
    per-image work runs (:func:`ganonlib.cluster.map_chunks`)."""
    if method == "ours":
        from ganonlib.anonymize.ganonymization import anonymize_pairs
        from ganonlib.anonymize.generator import Anonymizer
        from ganonlib.config import AnonymizeConfig

        anonymizer = Anonymizer(AnonymizeConfig(weights=weights, device=device, precision=precision,
                                                batch_size=batch_size, no_face=no_face))
        return anonymize_pairs(processed_dir, out_dir, anonymizer, progress=progress, scheduler=scheduler,
                               n_jobs=n_jobs)
    return compare_with(method, processed_dir, out_dir, external_dir, progress=progress, scheduler=scheduler,
                        n_jobs=n_jobs)
