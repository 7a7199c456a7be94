"""Table 1 and beyond: every anonymization method of a dataset against the original crops.

Per image: cosine distance original vs anonymized, nearest original identity (rank-1), landmark NME and whether a
mesh is found in the output. Per method: the summaries of :mod:`ganonlib.metrics.identity`, rank-1 identification
against the gallery of all originals, and NME. For the GAN: training-identity leakage, the share of generated faces
whose nearest training identity is within the recognizer's threshold.

The per-image work (reading, embedding, meshing) runs in chunks through :func:`ganonlib.cluster.map_chunks`: in
this process by default, or on local worker processes / a Dask cluster (``n_jobs``, ``scheduler``) with the same
results in the same order; the summaries are computed here from all of them.
"""
from __future__ import annotations

import json
from functools import cache, partial
from pathlib import Path

import numpy as np
import pandas as pd

from ganonlib.cluster import map_chunks, share_model, worker_model
from ganonlib.faces.landmarks import FaceMesher
from ganonlib.io import read_images
from ganonlib.metrics.identity import (PAPER_THRESHOLD, Recognizer, cosine_distances, cosine_similarities,
                                      rank1_rate, summarize_distances)
from ganonlib.metrics.landmarks import normalized_mean_error
from ganonlib.metrics.schemas import IdentityResult

__all__ = ["evaluate_identity", "training_leakage"]


def _recognizer(name: str) -> Recognizer:
    """Loaded once per process: here (the caller's) or in each worker of a pool or cluster."""
    return worker_model(("recognizer", name), partial(Recognizer, name))


def _embed_chunk(recognizer: str, paths: list[str]) -> list[np.ndarray]:
    return list(_recognizer(recognizer).embed(read_images(paths)))


@cache
def _mesher() -> FaceMesher:
    return FaceMesher()


def _describe_chunk(recognizer: str, paths: list[str]) -> list[tuple[np.ndarray, np.ndarray | None]]:
    """Per image: its embedding and its face mesh (None where mediapipe finds no face)."""
    images = read_images(paths)
    return list(zip(_recognizer(recognizer).embed(images), (_mesher()(image) for image in images)))


class _Runner:
    """Where the per-image work of one evaluation runs."""

    def __init__(self, recognizer: Recognizer, scheduler: str, n_jobs: int, progress: bool) -> None:
        share_model(("recognizer", recognizer.name), recognizer)
        self.name, self.scheduler, self.n_jobs, self.progress = recognizer.name, scheduler, n_jobs, progress

    def embed(self, paths: list[Path], desc: str) -> np.ndarray:
        return np.asarray(map_chunks(partial(_embed_chunk, self.name), [str(p) for p in paths],
                                     scheduler=self.scheduler, n_jobs=self.n_jobs, desc=desc,
                                     progress=self.progress), dtype=np.float64)

    def describe(self, paths: list[Path], desc: str) -> tuple[np.ndarray, list[np.ndarray | None]]:
        done = map_chunks(partial(_describe_chunk, self.name), [str(p) for p in paths], scheduler=self.scheduler,
                          n_jobs=self.n_jobs, desc=desc, progress=self.progress)
        return np.asarray([e for e, _ in done], dtype=np.float64), [m for _, m in done]


def training_leakage(recognizer: Recognizer, generated: np.ndarray, train_embeddings: np.ndarray) -> float:
    """Share of generated faces whose nearest training face (cosine) is within the recognizer's threshold: the
    generator gave back a face verified as one of its training people."""
    nearest = 1.0 - cosine_similarities(generated, train_embeddings).max(axis=1)
    return float(np.mean(nearest <= recognizer.threshold))


def evaluate_identity(processed_dir: str | Path, anonymized_dir: str | Path, methods: list[str],
                      recognizer: Recognizer, split: str = "test", gan_train_dir: str | Path | None = None,
                      leakage_train_sample: int = 50, seed: int = 0, progress: bool = True, scheduler: str = "",
                      n_jobs: int = 1) -> tuple[pd.DataFrame, IdentityResult]:
    """Evaluate ``methods`` (sub-folders of ``anonymized_dir``) on the ``split`` crops of ``processed_dir``;
    ``gan_train_dir`` is the processed dataset the GAN was trained on (default: this one); ``scheduler`` /
    ``n_jobs``: where the per-image work runs (:func:`ganonlib.cluster.parallel_backend`).

    Returns the per-image table and the summary that goes to ``identity.json``; ``original`` (each crop against
    itself) is the sanity row of Table 1."""
    processed_dir, anonymized_dir = Path(processed_dir), Path(anonymized_dir)
    pairs = pd.read_csv(processed_dir / "index.csv", keep_default_na=False)
    evaluated = pairs[pairs.split == split].reset_index(drop=True)
    if evaluated.empty:
        raise ValueError(f"no {split} pairs in {processed_dir}: nothing to evaluate")
    runner = _Runner(recognizer, scheduler, n_jobs, progress)
    originals = runner.embed([processed_dir / p for p in evaluated.image], "originals")
    subjects = [str(s) if s != "" else k for s, k in zip(evaluated.subject, evaluated.key)]
    points = {k: np.load(processed_dir / p) for k, p in zip(evaluated.key, evaluated.points)}
    position = {k: i for i, k in enumerate(evaluated.key)}
    rows = []
    summary = {"original": {"provided": True, **summarize_distances(cosine_distances(originals, originals),
                                                                     recognizer.threshold),
                            "rank1": rank1_rate(originals, subjects, originals, subjects)}}
    for method in methods:
        folder = anonymized_dir / method
        info = json.loads((folder / "summary.json").read_text()) if (folder / "summary.json").is_file() else {}
        if not info.get("provided", False):
            summary[method] = {"provided": False, "note": info.get("note", f"{folder} not found")}
            continue
        index = pd.read_csv(folder / "index.csv", keep_default_na=False)
        index = index[index.split == split]
        index = index[index.key.isin(position)].reset_index(drop=True)
        if index.empty:
            summary[method] = {"provided": True, "n": 0, "note": f"no {split} outputs"}
            continue
        anon, meshes = runner.describe([folder / p for p in index.image], method)
        own = originals[[position[k] for k in index.key]]
        distances = cosine_distances(own, anon)
        method_subjects = [subjects[position[k]] for k in index.key]
        nme, meshed = [], []
        for key, found in zip(index.key, meshes):
            meshed.append(found is not None)
            nme.append(normalized_mean_error(points[key], found) if found is not None else np.nan)
        for key, d, m, n in zip(index.key, distances, meshed, nme):
            rows.append({"method": method, "key": key, "subject": subjects[position[key]], "cosine_distance": d,
                         "recognizer": recognizer.name, "mesh_found": m, "nme": n})
        summary[method] = {"provided": True, **summarize_distances(distances, recognizer.threshold),
                           "rank1": rank1_rate(anon, method_subjects, originals, subjects),
                           "nme_mean": float(np.nanmean(nme)) if any(meshed) else None,
                           "no_mesh_share": float(1.0 - np.mean(meshed))}
        if method == "ours":
            train_dir = Path(gan_train_dir) if gan_train_dir else processed_dir
            summary[method]["leakage"] = _leakage(recognizer, runner, train_dir, folder if train_dir == processed_dir
                                                  else None, anon, leakage_train_sample, seed)
    result: IdentityResult = {"recognizer": recognizer.name, "recognizer_threshold": recognizer.threshold,
              "paper_threshold": PAPER_THRESHOLD, "split": split, "n_originals": len(evaluated),
              "n_identities": len(set(subjects)), "methods": summary}
    return pd.DataFrame(rows), result


def _leakage(recognizer: Recognizer, runner: _Runner, train_dir: Path, ours_dir: Path | None,
             evaluated_generated: np.ndarray, sample: int, seed: int) -> dict:
    """Leakage of the GAN trained on ``train_dir``'s train split: on the evaluated outputs and, where the GAN's own
    training faces were anonymized too (``ours_dir``), on a sample of them."""
    pairs = pd.read_csv(train_dir / "index.csv", keep_default_na=False)
    train = pairs[pairs.split == "train"].reset_index(drop=True)
    if train.empty:
        return {"note": f"no train split in {train_dir}: leakage not measured"}
    train_emb = runner.embed([train_dir / p for p in train.image], "train originals")
    result = {"evaluated": training_leakage(recognizer, evaluated_generated, train_emb),
              "train_identities": int(train.subject.nunique())}
    ours = pd.read_csv(ours_dir / "index.csv", keep_default_na=False) if ours_dir else pd.DataFrame()
    ours_train = ours[ours.split == "train"] if len(ours) else ours
    if len(ours_train):
        picked = ours_train.sample(n=min(sample, len(ours_train)), random_state=seed)
        regenerated = runner.embed([ours_dir / p for p in picked.image], "train generated")
        result["training_sample"] = training_leakage(recognizer, regenerated, train_emb)
        result["training_sample_n"] = len(picked)
    return result
