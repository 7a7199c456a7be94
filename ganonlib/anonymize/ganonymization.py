"""GANonymization at inference: landmarks of every face -> the trained generator -> a new face (paper 3.4).

Two entry points: :func:`anonymize_pairs` turns the rendered landmarks of a preprocessed dataset into anonymized
crops with the same keys (what the evaluation compares), :func:`anonymize_files` takes any photos (a file or a tree,
mirrored), writes the aligned anonymized crops and, with ``paste_back``, the whole photo with every face replaced.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterator

import cv2
import numpy as np
import torch
from tqdm.auto import tqdm

from ganonlib.anonymize.datasets import finish_method, output_row, pair_index
from ganonlib.anonymize.paste import face_mask, paste_back
from ganonlib.config import PreprocessConfig
from ganonlib.data.pairs import from_model_range, to_model_range
from ganonlib.devices import resolve_device
from ganonlib.faces.extract import ExtractedFace, FaceExtractor
from ganonlib.io import (ImageReadError, ManifestRow, atomic_write_image, atomic_write_json, file_sha256,
                         iter_images, read_image, write_manifest)
from ganonlib.models.networks import GeneratorUNet
from ganonlib.train.gan import load_checkpoint
from ganonlib.weights import require_weights, verify_sha256

__all__ = ["AnonymizeConfig", "Anonymizer", "NO_FACE_POLICIES", "anonymize_files", "anonymize_pairs",
           "load_generator"]

NO_FACE_POLICIES = ("average", "skip", "blur")


@dataclass(frozen=True)
class AnonymizeConfig:
    weights: str = "models/gan/generator.pt"
    device: str = "auto"  # auto | cpu | cuda
    precision: str = "auto"  # auto (bf16 on CUDA and on CPUs with bf16 support) | fp32 | bf16
    batch_size: int = 8
    no_face: str = "average"  # average (the paper's: generate from empty landmarks) | skip | blur
    paste_back: bool = False
    feather: float = 0.04  # blend edge, fraction of the face size
    compile: bool = False  # torch.compile the generator: ~20 % faster on a CPU after ~45 s of compiling


def load_generator(path: str | Path, device: torch.device) -> tuple[GeneratorUNet, int]:
    """The kit's generator file (``{"generator": state_dict, "image_size": int}``), verified by its ``.sha256``
    sidecar when present, loaded with ``weights_only=True`` onto any device."""
    path = require_weights([Path(path)], "GAN generator",
                           "train one with `dvc repro train_gan`, or convert the published checkpoint with "
                           "`ganon convert-checkpoint`")
    sidecar = path.with_name(path.name + ".sha256")
    verify_sha256(path, sidecar.read_text().split()[0] if sidecar.is_file() else None)
    state = load_checkpoint(path, "cpu")
    generator = GeneratorUNet()
    generator.load_state_dict(state["generator"])
    return generator.to(device).eval(), int(state["image_size"])


def _resolve_precision(precision: str, device: torch.device) -> torch.dtype | None:
    if precision == "fp32":
        return None
    if precision == "bf16":
        return torch.bfloat16
    if precision != "auto":
        raise ValueError(f"unknown precision {precision!r}; choose auto, fp32 or bf16")
    if device.type == "cuda" or torch.ops.mkldnn._is_mkldnn_bf16_supported():
        return torch.bfloat16
    return None  # no native bf16 on this CPU: emulated bf16 would be slower than fp32


class Anonymizer:
    """The generator (loaded once) plus the landmark extraction of :class:`FaceExtractor`."""

    def __init__(self, cfg: AnonymizeConfig, preprocess: PreprocessConfig | None = None) -> None:
        if cfg.no_face not in NO_FACE_POLICIES:
            raise ValueError(f"unknown no_face policy {cfg.no_face!r}; choose one of {NO_FACE_POLICIES}")
        self.cfg = cfg
        self.device = resolve_device(cfg.device)
        self.generator, self.image_size = load_generator(cfg.weights, self.device)
        # NHWC is what oneDNN and cuDNN run fastest; on a CPU it is worth ~25 % at batch 1
        self.generator = self.generator.to(memory_format=torch.channels_last)
        self._forward = torch.compile(self.generator) if cfg.compile else self.generator
        self.dtype = _resolve_precision(cfg.precision, self.device)
        self.weights_sha256 = file_sha256(cfg.weights)
        preprocess = preprocess or PreprocessConfig(image_size=self.image_size)
        if preprocess.image_size == 0:  # "whatever the generator was trained at"
            preprocess = replace(preprocess, image_size=self.image_size)
        if preprocess.image_size != self.image_size:
            raise ValueError(f"the generator was trained at {self.image_size} px but faces are aligned at "
                             f"{preprocess.image_size} px: train and infer at the same size")
        self.preprocess = replace(preprocess, segmentation="none")  # inference needs the landmarks only
        self._extractor: FaceExtractor | None = None

    @property
    def extractor(self) -> FaceExtractor:
        if self._extractor is None:
            self._extractor = FaceExtractor(self.preprocess)
        return self._extractor

    @torch.inference_mode()
    def generate(self, landmarks: np.ndarray) -> np.ndarray:
        """(N, S, S) uint8 landmark images -> (N, S, S, 3) uint8 faces, in batches of ``batch_size``."""
        out = []
        for start in range(0, len(landmarks), self.cfg.batch_size):
            chunk = landmarks[start:start + self.cfg.batch_size]
            if self.cfg.compile and len(chunk) < self.cfg.batch_size:
                # one batch shape only: a compiled graph would otherwise recompile for every new size
                chunk = np.concatenate([chunk, np.zeros((self.cfg.batch_size - len(chunk), *chunk.shape[1:]),
                                                        chunk.dtype)])
            batch = torch.from_numpy(np.ascontiguousarray(chunk))[:, None]
            x = to_model_range(batch.to(self.device)).contiguous(memory_format=torch.channels_last)
            with torch.autocast(self.device.type, dtype=self.dtype, enabled=self.dtype is not None):
                y = self._forward(x)
            n = min(self.cfg.batch_size, len(landmarks) - start)
            out.append(from_model_range(y[:n]).permute(0, 2, 3, 1).cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, self.image_size, self.image_size, 3), np.uint8)

    def average_face(self) -> np.ndarray:
        """The paper's fallback: the face the generator paints from an empty (black) landmark image."""
        return self.generate(np.zeros((1, self.image_size, self.image_size), np.uint8))[0]


def anonymize_pairs(processed_dir: str | Path, out_dir: str | Path, anonymizer: Anonymizer,
                    progress: bool = True, splits: tuple[str, ...] | None = None) -> dict:
    """Anonymize the pairs of a preprocessed dataset (every split, or ``splits``) from their stored landmarks:
    ``<out>/<split>/<key>.png`` and an ``index.csv`` linking each output to its original crop."""
    processed_dir, out_dir = Path(processed_dir), Path(out_dir)
    index = pair_index(processed_dir, splits)
    rows = []
    steps = range(0, len(index), anonymizer.cfg.batch_size)
    for start in tqdm(steps, desc=f"anonymize {processed_dir.name}", disable=not progress):
        chunk = index.iloc[start:start + anonymizer.cfg.batch_size]
        marks = np.stack([cv2.imread(str(processed_dir / p), cv2.IMREAD_GRAYSCALE) for p in chunk.landmarks])
        for entry, face in zip(chunk.itertuples(), anonymizer.generate(marks)):
            row = output_row(entry, processed_dir)
            atomic_write_image(out_dir / row["image"], face)
            rows.append(row)
    return finish_method(out_dir, rows, {
        "method": "ours", "provided": True, "pairs": len(rows), "image_size": anonymizer.image_size,
        "weights_sha256": anonymizer.weights_sha256, "precision": str(anonymizer.dtype or torch.float32),
        "device": str(anonymizer.device)})


def _blur(image: np.ndarray) -> np.ndarray:
    sigma = max(image.shape[:2]) / 20.0
    return cv2.GaussianBlur(image, (0, 0), sigma)


def _files(input_path: Path | list[str] | list[Path]) -> Iterator[tuple[Path, Path]]:
    """(file, path relative to the input root) for a single file, a tree, or a list of files (named by file name)."""
    if isinstance(input_path, list):
        yield from ((Path(p), Path(Path(p).name)) for p in input_path)
        return
    for path in iter_images(input_path):
        yield path, (Path(path.name) if input_path.is_file() else path.relative_to(input_path))


@dataclass
class _Photo:
    path: Path
    rel: Path
    base: dict
    image: np.ndarray | None = None
    faces: list[ExtractedFace] | None = None
    rows: list[ManifestRow] | None = None  # set when the photo failed before any face


def _extract(anonymizer: Anonymizer, path: Path, rel: Path) -> _Photo:
    item = _Photo(path, rel, {"source": str(path), "sha256": file_sha256(path) if path.is_file() else ""})
    try:
        item.image = read_image(path, anonymizer.preprocess.max_pixels, anonymizer.preprocess.min_side)
        item.faces = anonymizer.extractor(item.image)
    except ImageReadError as err:
        item.rows = [ManifestRow(outcome="error", reason=f"{err.reason}: {err.detail}", **item.base)]
    except Exception as err:  # one odd photo must not stop the run
        item.rows = [ManifestRow(outcome="error", reason=f"failed: {type(err).__name__}: {err}", **item.base)]
    return item


def _write_photo(anonymizer: Anonymizer, item: _Photo, generated: dict[int, np.ndarray], out_dir: Path,
                 write: Callable[[Path, np.ndarray], object]) -> list[ManifestRow]:
    """Write one photo's crops (and pasted photo) from its generated faces, applying the no-face policy."""
    cfg, base, rel = anonymizer.cfg, item.base, item.rel
    name = f"{rel.parent / rel.stem}"
    if not item.faces:
        if cfg.no_face == "average":
            write(out_dir / f"{name}_f0.png", anonymizer.average_face())
            return [ManifestRow(outcome="ok", reason="no_face: average face written (policy average)",
                                outputs=f"{name}_f0.png", **base)]
        if cfg.no_face == "blur" and cfg.paste_back:
            write(out_dir / f"{name}.png", _blur(item.image))
            return [ManifestRow(outcome="ok", reason="no_face: whole photo blurred (policy blur)",
                                outputs=f"{name}.png", **base)]
        return [ManifestRow(outcome="skipped", reason=f"no_face: nothing written (policy {cfg.no_face})", **base)]
    rows, result = [], item.image
    for face in item.faces:
        crop = f"{name}_f{face.index}.png"
        if face.index in generated:
            new = generated[face.index]
            reason = "" if face.ok else "no_mesh: average face (policy average)"
        elif cfg.no_face == "blur":
            new, reason = _blur(face.aligned.image), "no_mesh: face blurred (policy blur)"
        else:
            rows.append(ManifestRow(outcome="skipped", reason="no_mesh: face left unchanged (policy skip)",
                                    face=face.index, score=face.detection.score, **base))
            continue
        write(out_dir / crop, new)
        if cfg.paste_back:
            result = paste_back(result, new, face.aligned, face_mask(face.points, face.aligned, cfg.feather))
        rows.append(ManifestRow(outcome="ok", reason=reason, outputs=crop, face=face.index,
                                score=face.detection.score, **base))
    if cfg.paste_back:
        write(out_dir / f"{name}.png", result)
        rows.insert(0, ManifestRow(outcome="ok", reason="photo with every face replaced", outputs=f"{name}.png",
                                   **base))
    return rows


def _anonymize_chunk(anonymizer: Anonymizer, items: list[_Photo], out_dir: Path,
                     write: Callable[[Path, np.ndarray], object]) -> list[ManifestRow]:
    """Generate the faces of several photos in shared batches, then write each photo."""
    empty = np.zeros((anonymizer.image_size, anonymizer.image_size), np.uint8)
    wanted = [(i, f) for i, item in enumerate(items) for f in item.faces or []
              if f.ok or anonymizer.cfg.no_face == "average"]
    faces = anonymizer.generate(np.stack([f.landmarks if f.ok else empty for _, f in wanted])) if wanted else []
    generated: dict[int, dict[int, np.ndarray]] = {}
    for (i, face), new in zip(wanted, faces):
        generated.setdefault(i, {})[face.index] = new
    rows = []
    for i, item in enumerate(items):
        rows.extend(item.rows if item.rows is not None else _write_photo(anonymizer, item, generated.get(i, {}),
                                                                           out_dir, write))
    return rows


def anonymize_files(input_path: str | Path | list[str] | list[Path], out_dir: str | Path, anonymizer: Anonymizer,
                    progress: bool = True) -> dict:
    """Anonymize a photo, a tree of photos (mirrored) or a list of photos into ``out_dir``; writes ``manifest.csv``
    and returns the counts of faces found, anonymized and skipped."""
    input_path = input_path if isinstance(input_path, list) else Path(input_path)
    out_dir = Path(out_dir)
    files = list(_files(input_path))
    rows: list[ManifestRow] = []
    chunk: list[_Photo] = []
    # PNG encoding runs in Pillow's C code without the GIL: one writer thread overlaps it with the next faces
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = []

        def write(path: Path, image: np.ndarray) -> None:
            pending.append(pool.submit(atomic_write_image, path, image))

        for n, (path, rel) in enumerate(tqdm(files, desc="anonymize", disable=not progress), start=1):
            chunk.append(_extract(anonymizer, path, rel))
            if sum(len(p.faces or []) for p in chunk) >= anonymizer.cfg.batch_size or n == len(files):
                rows.extend(_anonymize_chunk(anonymizer, chunk, out_dir, write))
                chunk = []
        for done in pending:
            done.result()  # a failed write is an error of the run, not of one photo
    write_manifest(out_dir / "manifest.csv", rows)
    faces = [r for r in rows if r.face >= 0]
    summary = {"files": len(files), "faces_found": len(faces),
               "faces_anonymized": sum(r.outcome == "ok" for r in faces),
               "faces_skipped": sum(r.outcome != "ok" for r in faces),
               "files_without_face": sum(r.reason.startswith("no_face") for r in rows),
               "files_failed": sum(r.outcome == "error" for r in rows),
               "no_face_policy": anonymizer.cfg.no_face, "weights_sha256": anonymizer.weights_sha256,
               "precision": str(anonymizer.dtype or torch.float32)}
    atomic_write_json(out_dir / "summary.json", summary)
    return summary
