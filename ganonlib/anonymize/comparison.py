"""The methods ours is compared with: the kit's own baselines and other tools' imported outputs. Neither needs the
generator, so their pipeline stages (notebook 05) import none of it and rerun only when this code changes."""
from __future__ import annotations

from pathlib import Path

from ganonlib.anonymize.baselines import BASELINES, apply_baseline
from ganonlib.anonymize.external import EXTERNAL_METHODS, import_external

__all__ = ["compare_with"]


def compare_with(method: str, processed_dir: str | Path, out_dir: str | Path, external_dir: str | Path = "",
                 progress: bool = True, scheduler: str = "", n_jobs: int = 1) -> dict:
    """Write ``method``'s version of a preprocessed dataset: a baseline applied to every crop (where
    ``scheduler`` / ``n_jobs`` say), or an external tool's outputs imported from ``external_dir`` (an absent folder
    gives a method marked not provided)."""
    if method in BASELINES:
        return apply_baseline(processed_dir, out_dir, method, progress=progress, scheduler=scheduler, n_jobs=n_jobs)
    if method in EXTERNAL_METHODS:
        return import_external(external_dir, processed_dir, out_dir, method)
    raise ValueError(f"unknown method {method!r}; choose ours, {', '.join(BASELINES)} or {', '.join(EXTERNAL_METHODS)}")
