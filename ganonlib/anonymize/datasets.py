"""Anonymized versions of a preprocessed dataset, one folder per method, keyed like the originals.

Every method writes ``<out>/<split>/<key>.png``, an ``index.csv`` (key, split, image, original, subject, label,
attributes) and a ``summary.json`` naming what produced it, so the evaluation compares like with like.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
from tqdm.auto import tqdm

from ganonlib.anonymize.baselines import BASELINES
from ganonlib.anonymize.method_outputs import finish_method, output_row, pair_index
from ganonlib.io import IMAGE_SUFFIXES, atomic_write_image, read_image
from ganonlib.methods import METHODS

__all__ = ["EXTERNAL_METHODS", "anonymize_dataset", "apply_baseline", "finish_method", "import_external", "output_row",
           "pair_index"]

EXTERNAL_METHODS = tuple(name for name, m in METHODS.items() if m.kind == "external")


def apply_baseline(processed_dir: str | Path, out_dir: str | Path, method: str, progress: bool = True,
                   splits: tuple[str, ...] | None = None) -> dict:
    """Apply a baseline of :data:`BASELINES` to every original crop."""
    if method not in BASELINES:
        raise ValueError(f"unknown baseline {method!r}; choose one of {sorted(BASELINES)}")
    processed_dir, out_dir = Path(processed_dir), Path(out_dir)
    transform: Callable[[np.ndarray], np.ndarray] = BASELINES[method]
    rows = []
    for entry in tqdm(list(pair_index(processed_dir, splits).itertuples()), desc=method, disable=not progress):
        row = output_row(entry, processed_dir)
        atomic_write_image(out_dir / row["image"], transform(read_image(processed_dir / entry.image)))
        rows.append(row)
    return finish_method(out_dir, rows, {"method": method, "provided": True, "pairs": len(rows)})


def import_external(folder: str | Path, processed_dir: str | Path, out_dir: str | Path, method: str,
                    splits: tuple[str, ...] | None = None) -> dict:
    """Take another tool's outputs (DeepPrivacy2, CIAGAN) run on the kit's crops: a file whose name (without
    suffix) is a crop's key, or the crop's file name, anywhere below ``folder`` becomes that key's anonymized
    version. Crops without an output and files matching no crop are reported; an absent folder gives an empty
    method marked ``provided: false``."""
    folder, processed_dir, out_dir = Path(folder), Path(processed_dir), Path(out_dir)
    index = pair_index(processed_dir, splits)
    if not folder.is_dir():
        return finish_method(out_dir, [], {"method": method, "provided": False, "pairs": 0,
                                           "note": f"not provided: no folder {folder} (see README, 'Baselines')"})
    found: dict[str, Path] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES:
            found.setdefault(path.stem, path)
    rows, missing = [], []
    for entry in index.itertuples():
        source = found.pop(entry.key, None)
        if source is None:
            missing.append(entry.key)
            continue
        row = output_row(entry, processed_dir)
        atomic_write_image(out_dir / row["image"], read_image(source, min_side=1))
        rows.append(row)
    return finish_method(out_dir, rows, {
        "method": method, "provided": True, "folder": str(folder), "pairs": len(rows),
        "crops_without_output": len(missing), "unmatched_files": sorted(str(p) for p in found.values()),
        "missing_keys": missing})


def anonymize_dataset(method: str, processed_dir: str | Path, out_dir: str | Path, *,
                      weights: str = "models/gan/generator.pt", device: str = "auto", precision: str = "auto",
                      batch_size: int = 8, no_face: str = "average", external_dir: str = "",
                      progress: bool = True) -> dict:
    """One method's anonymized version of a preprocessed dataset: ``ours`` (the trained generator), a baseline of
    :data:`BASELINES`, or an imported external tool (:data:`EXTERNAL_METHODS`, from ``external_dir``)."""
    if method == "ours":
        from ganonlib.anonymize.ganonymization import AnonymizeConfig, Anonymizer, anonymize_pairs

        anonymizer = Anonymizer(AnonymizeConfig(weights=weights, device=device, precision=precision,
                                                batch_size=batch_size, no_face=no_face))
        return anonymize_pairs(processed_dir, out_dir, anonymizer, progress=progress)
    if method in BASELINES:
        return apply_baseline(processed_dir, out_dir, method, progress=progress)
    if method in EXTERNAL_METHODS:
        return import_external(external_dir, processed_dir, out_dir, method)
    raise ValueError(f"unknown method {method!r}; choose ours, {', '.join(BASELINES)} or {', '.join(EXTERNAL_METHODS)}")
