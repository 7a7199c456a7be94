"""Headline metrics: the few numbers per evaluation that `dvc exp show` and `dvc metrics diff` compare.

Each evaluation writes one small JSON file per method (or dataset) into its folder under ``metrics/``, all files of
a folder with the same keys, so that ``dvc metrics show`` prints one short row per file and ``dvc exp show`` one
column per key. These files are committed to git (DVC's convention for metrics); the full per-class detail stays in
the cached files under ``reports/``.
"""
from __future__ import annotations

from pathlib import Path
from statistics import fmean
from typing import Mapping, TypedDict

from ganonlib.io import atomic_write_json, json_number
from ganonlib.metrics.schemas import AttributesResult, IdentityResult, InferenceResult

__all__ = ["AttributesHeadline", "GanHeadline", "IdentityHeadline", "InferenceHeadline", "PreprocessHeadline", "TrainingHeadline",
           "attributes_headline", "gan_headline", "identity_headline", "inference_headline", "preprocess_headline",
           "read_headlines", "training_headline", "write_headlines"]

DIGITS = 4  # the tables print 3-4 digits; more would only show CPU-kernel noise in `dvc metrics diff`


class PreprocessHeadline(TypedDict):
    photos: int
    faces: int
    pairs: int
    face_rate: float | None  # photos with a face / readable photos
    mesh_rate: float | None  # faces with a face mesh / faces


class GanHeadline(TypedDict):
    g_l1: float | None  # the last epoch's mean losses
    g_gan: float | None
    d_total: float | None


class IdentityHeadline(TypedDict, total=False):
    distance: float | None  # Table 1: mean cosine distance to the original
    rank1: float | None  # share identified as their own original among all originals
    verified: float | None  # share still verified at the recognizer's threshold
    nme: float | None  # landmark error against the original's mesh (None: no output had a mesh)


class TrainingHeadline(TypedDict, total=False):
    f1_val: float | None  # macro F1 on the original validation split (the paper's Tables 4-5)
    f1_test: float | None  # macro F1 on the test split, which early stopping never saw


class InferenceHeadline(TypedDict):
    distance: float | None  # Table 2: |p_orig - p_anon| averaged over the emotions


class AttributesHeadline(TrainingHeadline, total=False):
    removal: float | None  # Table 6: removal rate averaged over the attributes


def _number(value: float | None) -> float | None:
    return json_number(value, DIGITS)


def preprocess_headline(summary: Mapping) -> PreprocessHeadline:
    return {"photos": int(summary["files"]), "faces": int(summary["faces"]), "pairs": int(summary["pairs"]),
            "face_rate": _number(summary.get("detection_rate")), "mesh_rate": _number(summary.get("mesh_rate"))}


def gan_headline(summary: Mapping) -> GanHeadline:
    last = summary.get("last") or {}
    return {"g_l1": _number(last.get("g_l1")), "g_gan": _number(last.get("g_gan")),
            "d_total": _number(last.get("d_total"))}


def identity_headline(result: IdentityResult) -> dict[str, IdentityHeadline]:
    """Per method that was provided (the original excluded: its distance is 0 by construction)."""
    return {m: {"distance": _number(r.get("mean")), "rank1": _number(r.get("rank1")),
                "verified": _number(r.get("verification_rate")), "nme": _number(r.get("nme_mean"))}
            for m, r in result["methods"].items() if m != "original" and r.get("provided") and r.get("n")}


def _macro_f1(split_result: Mapping | None) -> float | None:
    """Macro F1 of a training-scenario split: the full report ({"report": {...}}) or its summary ({"macro avg": x})."""
    if not split_result:
        return None
    if "report" in split_result:
        return _number(split_result["report"]["macro avg"]["f1-score"]) if split_result.get("n") else None
    return _number(split_result.get("macro avg"))


def training_headline(methods: Mapping) -> dict[str, TrainingHeadline]:
    """Per training set (the originals and each method's outputs)."""
    return {m: {"f1_val": _macro_f1(r.get("val")), "f1_test": _macro_f1(r.get("test"))} for m, r in methods.items()}


def inference_headline(result: InferenceResult) -> dict[str, InferenceHeadline]:
    return {m: {"distance": _number(fmean(r["mean_distance"].values()) if r.get("mean_distance") else None)}
            for m, r in result["methods"].items()}


def attributes_headline(result: AttributesResult) -> dict[str, AttributesHeadline]:
    """Training F1 per training set and, per method, the removal rate averaged over the attributes that had
    positives."""
    rows: dict[str, AttributesHeadline] = {m: {**h} for m, h in training_headline(result["training"]).items()}
    for m, r in result["methods"].items():
        rates = [v for v in (r.get("removal_rate") or {}).values() if v is not None]
        rows.setdefault(m, {})["removal"] = _number(fmean(rates) if rates else None)
    return rows


def write_headlines(folder: str | Path, rows: Mapping[str, Mapping]) -> list[Path]:
    """``<folder>/<name>.json`` per row, written atomically; files of names no longer evaluated are removed, so the
    folder always holds exactly this run's rows."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = [atomic_write_json(folder / f"{name}.json", dict(row)) for name, row in rows.items()]
    for stale in set(folder.glob("*.json")) - set(written):
        stale.unlink()
    return written


def read_headlines(folder: str | Path) -> dict[str, dict]:
    import json

    return {p.stem: json.loads(p.read_text()) for p in sorted(Path(folder).glob("*.json"))}
