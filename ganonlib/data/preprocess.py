"""Run face extraction over a dataset: PNG pairs + landmark arrays + manifest, in parallel, idempotent.

Layout of ``out_dir``::

    images/<split>/<key>_f<k>.png      aligned face, background removed (the GAN's target)
    landmarks/<split>/<key>_f<k>.png   rendered landmarks (the GAN's input)
    points/<split>/<key>_f<k>.npy      (478, 3) float32 mesh, normalised to the aligned image
    manifest.csv                       one row per file outcome and per face (ganonlib.io.ManifestRow)
    index.csv                          the usable pairs with split, subject and labels
    summary.json                       counts and success rates

A rerun reuses every result whose source hash, settings and code (:func:`fingerprint`) are unchanged and whose
outputs exist, and deletes the outputs of its previous run (as its manifest lists them) that no current source
produces; no other file is ever removed, and an output folder that holds an input is refused.
"""
from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from functools import cache
from pathlib import Path
from typing import Any, Iterable

import pandas as pd
from joblib import Parallel, delayed
from tqdm.auto import tqdm

from ganonlib.cluster import parallel_backend
from ganonlib.config import PreprocessConfig
from ganonlib.data.datasets import Record
from ganonlib.faces.extract import FaceExtractor
from ganonlib.io import (MANIFEST_NAME, ImageReadError, ManifestRow, atomic_write_image, atomic_write_json,
                         atomic_write_npy, atomic_write_text, create_manifest, file_sha256, frame_csv,
                         output_folder_problem, read_image, read_manifest, reusable, write_manifest)

__all__ = ["OUTPUT_KINDS", "code_fingerprint", "fingerprint", "outcome_counts", "preprocess_dataset",
           "process_record"]

OUTPUT_KINDS = {"images": ".png", "landmarks": ".png", "points": ".npy"}
_EXTRACTORS: dict[str, FaceExtractor] = {}


def _extractor(cfg: PreprocessConfig) -> FaceExtractor:
    """One extractor per worker process and setting: mediapipe graphs are costly to build, cheap to reuse."""
    key = cfg.fingerprint()
    if key not in _EXTRACTORS:
        _EXTRACTORS[key] = FaceExtractor(cfg)
    return _EXTRACTORS[key]


@cache
def code_fingerprint() -> str:
    """sha256 of what computes a photo's outputs besides its settings: every ganonlib file this module may run (the
    closure DVC's stage lists) and the packages whose models and image code it runs. The stage's folder is a
    ``persist`` output of DVC, so without it a rerun after a change to that code would keep the older code's faces
    and ``dvc repro`` would record them as today's."""
    import importlib.metadata

    from ganonlib.code_files import modules_run_by

    root = Path(__file__).resolve().parents[2]
    digest = hashlib.sha256()
    for name in modules_run_by({__name__}, root):
        digest.update(f"{name}:{file_sha256(root / name)}\n".encode())
    for package in ("mediapipe", "ai-edge-litert", "opencv-contrib-python-headless", "numpy"):
        try:
            version = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            version = "absent"
        digest.update(f"{package}=={version}\n".encode())
    return digest.hexdigest()[:16]


def fingerprint(cfg: PreprocessConfig) -> str:
    """What a manifest row records and a rerun compares: the settings' fingerprint and :func:`code_fingerprint`."""
    return hashlib.sha256(f"{cfg.fingerprint()}:{code_fingerprint()}".encode()).hexdigest()[:16]


def _outputs(split: str, name: str) -> dict[str, str]:
    return {kind: f"{kind}/{split}/{name}{suffix}" for kind, suffix in OUTPUT_KINDS.items()}


def process_record(record: Record, out_dir: Path, cfg: PreprocessConfig, sha256: str) -> list[ManifestRow]:
    """Extract every face of one file and write its outputs; never raises for a bad file (the rows say why)."""
    base = dict(source=str(record.path), split=record.split, sha256=sha256, fingerprint=fingerprint(cfg))
    try:
        image = read_image(record.path, cfg.max_pixels, cfg.min_side)
        faces = _extractor(cfg)(image)
    except ImageReadError as err:
        return [ManifestRow(outcome="error", reason=f"{err.reason}: {err.detail}", **base)]
    except Exception as err:  # a model failing on one odd image must not cost the rest of the run
        return [ManifestRow(outcome="error", reason=f"failed: {type(err).__name__}: {err}", **base)]
    if not faces:
        return [ManifestRow(outcome="skipped", reason="no_face: no detection above min_confidence", **base)]
    rows = []
    for face in faces:
        score = face.detection.score
        if not face.ok:
            # never written as a training pair: an all-black landmark input teaches the GAN nothing
            rows.append(ManifestRow(outcome="skipped", reason="no_mesh: face mesh not found in the aligned face",
                                    face=face.index, score=score, **base))
            continue
        paths = _outputs(record.split, f"{record.key}_f{face.index}")
        atomic_write_image(out_dir / paths["images"], face.face)
        atomic_write_image(out_dir / paths["landmarks"], face.landmarks)
        atomic_write_npy(out_dir / paths["points"], face.points)
        rows.append(ManifestRow(outcome="ok", outputs=";".join(paths.values()), face=face.index, score=score, **base))
    return rows


def _remove_stale(out_dir: Path, previous: Iterable[ManifestRow], rows: Iterable[ManifestRow]) -> int:
    """Delete the outputs of the previous run that no current source produces: only files the kit's own previous
    manifest lists, never anything else a user keeps in the folder."""
    keep = {out_dir / p for r in rows for p in filter(None, r.outputs.split(";"))}
    written = {out_dir / p for r in previous for p in filter(None, r.outputs.split(";"))}
    stale = [p for p in written - keep if p.is_file() and p.resolve().is_relative_to(out_dir.resolve())]
    for path in stale:
        path.unlink()
    return len(stale)


RUN_KEYS = ("reused", "removed_stale_outputs")


def _summary(rows: list[ManifestRow], n_files: int, reused: int, removed: int, cfg: PreprocessConfig) -> dict:
    file_rows = defaultdict(list)
    for r in rows:
        file_rows[r.source].append(r)
    with_face = sum(any(r.face >= 0 for r in rs) for rs in file_rows.values())
    readable = sum(not any(r.outcome == "error" for r in rs) for rs in file_rows.values())
    faces = [r for r in rows if r.face >= 0]
    ok = [r for r in faces if r.outcome == "ok"]
    return {
        "files": n_files, "readable_files": readable, "files_with_face": with_face,
        "faces": len(faces), "pairs": len(ok),
        "detection_rate": round(with_face / readable, 4) if readable else 0.0,
        "mesh_rate": round(len(ok) / len(faces), 4) if faces else 0.0,
        "pairs_per_split": dict(Counter(r.split for r in ok)),
        "reasons": dict(Counter(r.reason.split(":")[0] for r in rows if r.outcome != "ok")),
        "reused": reused, "removed_stale_outputs": removed,
        "settings": {"fingerprint": cfg.fingerprint(), "image_size": cfg.image_size, "detector": cfg.detector,
                     "margin": cfg.margin, "segmentation": cfg.segmentation, "landmarks_style": cfg.landmarks_style},
    }


def _index(records: list[Record], rows: list[ManifestRow]) -> pd.DataFrame:
    by_source = {str(r.path): r for r in records}
    entries = []
    for row in rows:
        if row.outcome != "ok":
            continue
        rec = by_source[row.source]
        image, landmarks, points = row.outputs.split(";")
        entries.append({"key": f"{rec.key}_f{row.face}", "split": rec.split, "image": image, "landmarks": landmarks,
                        "points": points, "source": row.source, "face": row.face, "subject": rec.subject,
                        "label": rec.label if rec.label is not None else "",
                        "attributes": " ".join(map(str, rec.attributes)) if rec.attributes else ""})
    columns = ["key", "split", "image", "landmarks", "points", "source", "face", "subject", "label", "attributes"]
    return pd.DataFrame(entries, columns=columns)


def preprocess_dataset(records: list[Record], out_dir: str | Path, cfg: PreprocessConfig,
                       progress: bool = True) -> dict[str, Any]:
    """Preprocess ``records`` into ``out_dir`` (layout in the module docstring) and return the summary."""
    out_dir = Path(out_dir)
    resolved = out_dir.resolve()
    for rec in records:
        if rec.path.resolve().is_relative_to(resolved):
            raise ValueError(f"output folder {out_dir} holds the input {rec.path}: choose an output folder outside "
                             f"the input, so that no photo of yours is overwritten or deleted")
    if problem := output_folder_problem(out_dir):
        raise ValueError(problem)
    _extractor(cfg)  # fail fast, once, on a configuration error (unknown backend, missing weights)
    out_dir.mkdir(parents=True, exist_ok=True)
    create_manifest(out_dir / MANIFEST_NAME)
    previous = defaultdict(list)
    for row in read_manifest(out_dir / MANIFEST_NAME):
        previous[row.source].append(row)

    current = fingerprint(cfg)
    kept: list[ManifestRow] = []
    todo: list[tuple[Record, str]] = []
    for rec in records:
        sha = file_sha256(rec.path) if rec.path.is_file() else ""
        old = previous.get(str(rec.path), [])
        if reusable(old, sha, current, out_dir) and all(r.split == rec.split for r in old):
            kept.extend(old)
        else:
            todo.append((rec, sha))

    rows = list(kept)
    with parallel_backend(cfg.scheduler, cfg.n_jobs) as n_jobs:
        jobs = Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
            delayed(process_record)(rec, out_dir, cfg, sha) for rec, sha in todo)
        for result in tqdm(jobs, total=len(todo), desc=f"preprocess {out_dir.name}", disable=not progress):
            rows.extend(result)
    rows.sort(key=lambda r: (r.source, r.face))

    removed = _remove_stale(out_dir, [r for rs in previous.values() for r in rs], rows)
    write_manifest(out_dir / MANIFEST_NAME, rows)
    atomic_write_text(out_dir / "index.csv", frame_csv(_index(records, rows)))
    summary = _summary(rows, len(records), len(records) - len(todo), removed, cfg)
    # what this run reused or removed depends on the runs before it: returned, not written, so that the folder's
    # bytes depend only on the inputs and settings (dvc.lock stays the same for a rerun)
    atomic_write_json(out_dir / "summary.json", {k: v for k, v in summary.items() if k not in RUN_KEYS})
    return summary


def outcome_counts(out_dir: str | Path) -> pd.Series:
    """Rows of ``manifest.csv`` counted by outcome and reason code (``ok`` rows have an empty reason)."""
    manifest = pd.read_csv(Path(out_dir) / MANIFEST_NAME, keep_default_na=False)
    return manifest.groupby([manifest.outcome, manifest.reason.str.split(":").str[0].rename("reason")]).size()
