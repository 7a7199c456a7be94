"""params.yaml sections -> frozen dataclasses: the one place that knows the keys and their defaults.

Defaults are the paper's values; params.yaml overrides some of them for the CPU-sized sample (marked there).
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import re
from contextlib import contextmanager
from dataclasses import MISSING, asdict, dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

from ganonlib.errors import ConfigError

__all__ = ["AnonymizeConfig", "AnonymizeParams", "ClassifierConfig", "ClassifierEvalConfig", "ConfigError",
           "BACKENDS", "BLENDS", "CHANGES", "DatasetConfig", "FALLBACKS", "GENERATOR_SOURCES", "GanTrainConfig",
           "IdentityEvalConfig", "NO_FACE_POLICIES", "Params", "PreprocessConfig", "SampleConfig", "changing",
           "from_section", "load_params", "params_section", "setting", "use_project_root"]

T = TypeVar("T")

DETECTOR_NAMES = ("mediapipe", "retinaface", "mtcnn")
# the anonymizer's cross-check (ganonlib.faces.finder): retinaface here is RetinaFace MobileNet-0.25, not the paper's
SECOND_DETECTORS = ("retinaface", "mtcnn", "none")
SEGMENTATION_NAMES = ("selfie", "unet", "none")
LANDMARK_STYLES = ("cross", "point")
DEVICES = ("auto", "cpu", "cuda")
SEARCH_DEVICES = ("cpu", "cuda")  # where the face search runs mediapipe's networks (ganonlib.faces.blazeface)
PRECISIONS = ("auto", "fp32", "bf16")
BACKENDS = ("torch", "onnx")  # what runs the generator at inference (ganonlib.models.onnx_generator for onnx)
PHOTO_FORMATS = ("auto", "png", "jpeg")  # the anonymized photos: auto = each in its own format where the kit writes it
NO_FACE_POLICIES = ("average", "skip", "blur", "keep")  # a photo in which no face is found
FALLBACKS = ("blur", "fill", "none")  # a face found but not re-synthesized
BLENDS = ("feather", "poisson")  # how a new face is pasted back into its photo (ganonlib.anonymize.paste)
DATASET_KINDS = ("sample", "celeba", "wider", "affectnet", "ckplus", "faces", "folder")  # ganonlib.data.datasets
RECOGNIZER_NAMES = ("Dlib", "Facenet512")  # ganonlib.metrics.identity
# where the pipeline's generator comes from: the kit's trainer, or one of the authors' checkpoints (ganonlib.published)
GENERATOR_SOURCES = ("train", "publication", "demo")
# videos: between two searches only one detector pass over the whole frame looks for new faces, which misses the
# small ones the search's tiles find: at most 10 frames (0.4 s at 25 fps) go without a full search
MAX_DETECT_EVERY = 10
MAX_TRACK_GAP = 250  # frames held back to cover a new face in them: 10 s at 25 fps (and within memory, per clip)


_TYPES: dict[str, tuple[type, ...]] = {"int": (int,), "float": (int, float), "str": (str,), "bool": (bool,),
                                       "tuple[str, ...]": (tuple,)}


def _validate(cfg: Any) -> None:
    """Check every field's type (from its annotation) and value (the ``choices`` or ``check`` in its metadata)."""
    for f in fields(cfg):
        value = getattr(cfg, f.name)
        allowed = _TYPES.get(str(f.type))
        # bool is an int to Python, not to a config: `epochs: true` is a typo, not 1 epoch
        if allowed and (not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed)):
            raise ConfigError(f.name, f"expected {f.type}, got {value!r}")
        if isinstance(value, float) and not math.isfinite(value):  # inf passes every "at least" check
            raise ConfigError(f.name, f"must be a finite number, got {value!r}")
        choices, check = f.metadata.get("choices"), f.metadata.get("check")
        problem = (_one_of(choices)(value) if choices else "") or (check(value) if check else "")
        if problem:
            raise ConfigError(f.name, f"{problem} (got {value!r})")


def _one_of(choices: tuple[str, ...]) -> Callable[[Any], str]:
    return lambda v: "" if v in choices else f"choose one of {', '.join(choices)}"


def _at_least(low: float) -> Callable[[Any], str]:
    return lambda v: "" if v >= low else f"must be at least {low}"


def _between(low: float, high: float, open_low: bool = False) -> Callable[[Any], str]:
    def rule(v: float) -> str:
        ok = (low < v if open_low else low <= v) and v <= high
        return "" if ok else f"must lie in {'(' if open_low else '['}{low}, {high}]"
    return rule


_FRACTION = _between(0.0, 1.0, open_low=True)


@contextmanager
def params_section(section: str) -> Iterator[None]:
    """Name the params.yaml key in a setting's error: ``preprocess.image_size: must be at least 64 (got 0)``.
    The notebooks build their configs inside it, so a DVC stage stops before any work with the key to fix."""
    try:
        yield
    except ConfigError as err:
        raise ConfigError(f"params.yaml {section}.{err.setting}", err.problem) from None


def from_section(cls: type[T], section: dict[str, Any] | None, **extra: Any) -> T:
    """Build ``cls`` from a params section, refusing unknown keys (a typo must not silently fall back to a default)."""
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in {**(section or {}), **extra}.items()}
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(unknown[0], f"unknown key of {cls.__name__}; known keys: {', '.join(sorted(known))}")
    return cls(**values)


# What a setting changes (a field's ``changes``): the one declaration the reuse fingerprints
# (ganonlib.anonymize.run.fingerprint, PreprocessConfig.fingerprint), the params lists of dvc.yaml and
# docs/parameters.md derive from (``python -m ganonlib.pipeline_deps --write``; tests/test_pipeline_deps.py checks).
CHANGES = {
    "faces": "a dataset's preprocessed faces and landmarks (stage preprocess)",
    "photos": "every anonymized photo, and each video's faces (ganon anonymize; stages anonymize_ours, "
              "anonymize_videos)",
    "videos": "anonymized videos only",
    "crops": "a dataset's anonymized crops (stage anonymize_ours)",
    "paste_back": "which test photos stage anonymize_ours pastes back",
    "video_folders": "which folders the anonymize_videos stages read",
    "outcome": "whether a run or stage fails, not what it writes",
    "pipeline": "which stages exist and which methods the evaluations compare (dvc.yaml names it where it does)",
}


def setting(default: Any = MISSING, help: str = "", *, choices: tuple[str, ...] = (),
            check: Callable[[Any], str] | None = None, changes: tuple[str, ...] = ()) -> Any:
    """A config field: its default, the help text the CLI shows, what the value must be (``choices`` or a
    ``check`` returning the problem) and what it ``changes`` (keys of :data:`CHANGES`; none: where or how fast
    the work runs). ``_validate``, the CLI and the pipeline's lists read them from the field's metadata."""
    unknown = set(changes) - set(CHANGES)
    if unknown:
        raise ValueError(f"changes: unknown {sorted(unknown)}; known: {', '.join(CHANGES)}")
    metadata = {"help": help, "choices": choices, "check": check, "changes": tuple(changes)}
    if isinstance(default, (list, tuple)):
        return field(default=tuple(default), metadata=metadata)
    return field(metadata=metadata) if default is MISSING else field(default=default, metadata=metadata)


@lru_cache(maxsize=None)
def changing(cls: type, *outputs: str) -> tuple[str, ...]:
    """The fields of config class ``cls`` that change any of ``outputs`` (keys of :data:`CHANGES`), in order (fixed
    per class: worked out once, since a fingerprint is taken per photo)."""
    return tuple(f.name for f in fields(cls) if set(f.metadata.get("changes", ())) & set(outputs))


# A dataset, method or folder name becomes a path, a DVC stage name and a word of a stage's command: letters, digits
# and `_.-` only, so that no quoting can break and no path can leave its folder
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def _name(v: Any) -> str:
    ok = isinstance(v, str) and SAFE_NAME.fullmatch(v) is not None
    return "" if ok else "a name is 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit"


def _names(v: Any) -> str:
    if not isinstance(v, tuple):
        return "must be a list of distinct names"
    bad = next((problem for x in v if (problem := _name(x))), "")
    return bad or ("" if len(set(v)) == len(v) else "must be a list of distinct names")


_SPLITS = ("train", "val", "test")
_POSITIVE = _between(0.0, float("inf"), open_low=True)


def _jobs(v: int) -> str:
    return "" if v >= 1 or v == -1 else "must be at least 1 (or -1: every core)"


_DASK_SCHEMES = ("tcp", "tls", "ucx", "ws", "wss", "inproc")  # distributed's transports


def _scheduler_address(v: str) -> str:
    scheme, sep, where = v.partition("://")
    ok = not v or (sep and scheme in _DASK_SCHEMES and where and not any(c.isspace() for c in v))
    return "" if ok else f"an address like tcp://host:8786 (schemes {', '.join(_DASK_SCHEMES)}), or \"\""


@dataclass(frozen=True)
class SampleConfig:
    """The bundled sample: augmented variants of public-domain photos that installed packages ship."""

    out_dir: str = setting("data/sample", "folder the sample is written to")
    variants_per_photo: int = setting(40, "augmented variants per photo", check=_at_least(1))
    val_fraction: float = setting(0.15, "share of photos' variants in the validation split", check=_between(0, .9))
    test_fraction: float = setting(0.15, "share of photos' variants in the test split", check=_between(0, .9))
    seed: int = setting(0, "seed of the augmentations and the split")

    def __post_init__(self) -> None:
        _validate(self)


@dataclass(frozen=True)
class DatasetConfig:
    """One dataset to preprocess: ``kind`` names its loader, ``root`` the folder in its official layout."""

    name: str = setting(help="the dataset's name: data/processed/<name>", check=_name)
    kind: str = setting(help="its loader", choices=DATASET_KINDS)
    root: str = setting(help="folder in the dataset's official layout")
    val_fraction: float = setting(0.1, "validation share where the dataset has no official split (subject-wise)",
                                  check=_between(0.0, 0.9))
    test_fraction: float = setting(0.1, "test share where the dataset has no official split",
                                   check=_between(0.0, 0.9))
    seed: int = setting(0, "seed of subject-wise splits")
    limit: int = setting(0, "0 = every image; else a seeded subset, for quick looks at a big dataset",
                         check=_at_least(0))

    def __post_init__(self) -> None:
        _validate(self)


@dataclass(frozen=True)
class PreprocessConfig:
    """Face extraction, background removal and landmarks (paper 3.1-3.3)."""

    image_size: int = setting(512, "side of the square aligned face (paper: 512)", check=_between(64, 4096),
                              changes=("faces",))
    detector: str = setting("mediapipe", "mediapipe (offline default) | retinaface (the paper's; needs its weights) "
                            "| mtcnn", choices=DETECTOR_NAMES, changes=("faces", "photos"))
    min_confidence: float = setting(0.5, "minimum detection score (mediapipe: raises its two models' own floors, 0.5 "
                                    "and 0.6, never lowers them)", check=_FRACTION, changes=("faces", "photos"))
    # the crop is (1 + 2 margin) times the face: beyond 2 it holds more photo than face
    margin: float = setting(0.0, "fraction of the face box added on each side (paper: 0)", check=_between(0.0, 2.0),
                            changes=("faces", "photos"))
    max_faces: int = setting(10, "most faces kept per photo, best scores first (0 = no cap); anonymizing covers "
                             "the rest", check=_at_least(0), changes=("faces",))
    segmentation: str = setting("selfie", "selfie (offline default) | unet (paper; needs package + weights) | none",
                                choices=SEGMENTATION_NAMES, changes=("faces",))
    unet_weights: str = setting("models/external/head_segmentation.ckpt", "checkpoint of the head-segmentation U-Net",
                                changes=("faces",))
    landmarks_style: str = setting("cross", "cross (what the published model saw) | point (the paper's text)",
                                   choices=LANDMARK_STYLES, changes=("faces",))
    mesh_confidence: float = setting(0.5, "minimum face-mesh detection confidence", check=_FRACTION,
                                     changes=("faces", "photos"))
    max_pixels: int = setting(100_000_000, "photos with more pixels are refused (decompression bombs)",
                              check=_at_least(1), changes=("faces", "photos"))
    min_side: int = setting(16, "photos with a shorter side are refused", check=_at_least(1),
                            changes=("faces", "photos"))
    n_jobs: int = setting(2, "parallel worker processes (-1: every core)", check=_jobs)
    scheduler: str = setting("", "where the per-photo work runs: \"\" = this machine (n_jobs processes) | "
                             "tcp://host:8786 = a running Dask cluster (workers share the file system)",
                             check=_scheduler_address)

    def __post_init__(self) -> None:
        _validate(self)

    def fingerprint(self) -> str:
        """Hash of every setting that changes the outputs (not where they are computed): cached results are reused
        only on a match."""
        changed = changing(PreprocessConfig, "faces")
        settings = {k: v for k, v in asdict(self).items() if k in changed}
        return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class GanTrainConfig:
    """GAN training (paper 3.4): the paper's settings by default, the trainer's speed settings beside them."""

    source: str = setting("train", "train (the kit's trainer) | publication (the authors' 25-epoch checkpoint, the "
                          "paper's model) | demo (their 50-epoch one): fetched, verified and converted, no training",
                          choices=GENERATOR_SOURCES)
    published_url: str = setting("", "where a published checkpoint comes from: empty = the authors' link; a mirror's "
                                 "URL, or the path of the .ckpt on this machine")
    published_sha256: str = setting("", "its expected sha256: empty = the published one (demo has none)",
                                    check=lambda v: "" if v == "" or re.fullmatch(r"[0-9a-f]{64}", v) else
                                    "64 lowercase hex digits, or empty")
    published_dir: str = setting("models/published", "where a fetched checkpoint is kept (687 MB, fetched once)")
    data_dir: str = setting("", "folder of preprocessed pairs; empty = data/processed/<dataset>")
    out_dir: str = setting("models/gan", "checkpoint.pt, generator.pt, losses and sample grids")
    dataset: str = setting("celeba", "processed dataset trained on (data/processed/<dataset>; paper: celeba)")
    epochs: int = setting(25, "training epochs", check=_at_least(1))
    batch_size: int = setting(32, "pairs per step and GPU", check=_at_least(1))
    lr: float = setting(2.0e-4, "Adam learning rate, in (0, 1]", check=_FRACTION)
    beta1: float = setting(0.5, "Adam beta1", check=_between(0.0, 1.0))
    beta2: float = setting(0.999, "Adam beta2", check=_between(0.0, 1.0))
    lambda_l1: float = setting(100.0, "weight of the L1 loss", check=_at_least(0.0))
    seed: int = setting(0, "seed of weights, shuffling and dropout")
    device: str = setting("auto", "auto (cuda when present) | cpu | cuda", choices=DEVICES)
    bf16: bool = setting(True, "bf16 autocast on CUDA (the CPU stays fp32: exact, portable tests)")
    channels_last: bool = setting(True, "channels_last memory format")
    compile: bool = setting(False, "torch.compile the models (about a minute to start; faster on a GPU)")
    compile_mode: str = setting("default", "torch.compile mode, e.g. max-autotune-no-cudagraphs (longer compile)")
    resume: bool = setting(True, "continue from <out_dir>/checkpoint.pt when its settings match")
    max_steps_per_epoch: int = setting(0, "0 = the whole train split; tests and smoke runs use a few",
                                       check=_at_least(0))
    samples: int = setting(4, "pairs shown in each sample grid", check=_at_least(0))
    checkpoint_every: int = setting(1, "epochs between checkpoints and sample grids (0 = after the last epoch only)",
                                    check=_at_least(0))
    max_seconds: float = setting(0.0, "time budget in seconds (0 = none)", check=_at_least(0.0))
    num_workers: int = setting(0, "data loader processes (4-8 on a GPU machine)", check=_at_least(0))
    cache_dir: str = setting("", "folder for a memory-mapped face cache (empty = faces decoded into memory)")
    gpus: int = setting(1, "DDP processes, one per GPU (CPU processes over gloo without CUDA)", check=_at_least(1))

    def __post_init__(self) -> None:
        _validate(self)
        if not self.data_dir:
            object.__setattr__(self, "data_dir", f"data/processed/{self.dataset}")
        _check_device(self.device)


@dataclass(frozen=True)
class AnonymizeConfig:
    """Anonymizing photos with the trained generator (paper 3.4) and what happens where it cannot."""

    weights: str = setting("models/gan/generator.pt", "generator file", changes=("photos", "crops"))
    device: str = setting("auto", "auto | cpu | cuda", choices=DEVICES, changes=("photos", "crops"))
    precision: str = setting("auto", "auto (bf16 on CUDA and on CPUs with native bf16) | fp32 | bf16",
                             choices=PRECISIONS, changes=("photos", "crops"))
    batch_size: int = setting(8, "faces per generator batch", check=_at_least(1), changes=("crops",))
    no_face: str = setting("average", "photo in which no face is found: average (the paper's: its crop is the face "
                           "generated from empty landmarks; no photo written) | skip (nothing written) | blur (the "
                           "whole photo blurred) | keep (the photo written as it is: a face the search missed would "
                           "pass)", choices=NO_FACE_POLICIES, changes=("photos",))
    fallback: str = setting("blur", "face found but not re-synthesized (no mesh, cap, failure): blur | fill | none "
                            "(none leaves it visible)", choices=FALLBACKS, changes=("photos",))
    crops: bool = setting(False, "also write each face's aligned anonymized crop, faces/<name>_f<k>.png (what the "
                          "paper evaluates)", changes=("photos",))
    photo_format: str = setting("auto", "anonymized photos: auto (each in its own format: JPEG at quality 95, PNG, "
                                "WebP, TIFF, BMP, PPM; PNG for any other) | png (lossless) | jpeg",
                                choices=PHOTO_FORMATS, changes=("photos",))
    feather: float = setting(0.06, "blend edge (Gaussian sigma), fraction of the face size", check=_between(0.0, 0.5),
                             changes=("photos",))
    blend: str = setting("feather", "paste-back: feather (a soft-edged mask) | poisson (cv2.seamlessClone inside the "
                         "same mask)", choices=BLENDS, changes=("photos",))
    match_colour: bool = setting(False, "paste-back: shift the new face's colour (mean and spread in Lab) to the "
                                 "skin it replaces", changes=("photos",))
    compile: bool = setting(False, "torch.compile the generator (compiled at the first batch: up to a minute on 2 "
                            "CPU cores, and no faster end to end there: benchmarks/results/anonymize_compile.json)")
    backend: str = setting("torch", "torch | onnx (onnxruntime on <weights>.onnx, written by `ganon export-onnx`; "
                           "fp32)", choices=BACKENDS, changes=("photos", "crops"))
    strict: bool = setting(False, "exit 3 (a stage: fail) when any face got the fallback or any file failed",
                           changes=("outcome",))
    workers: int = setting(0, "face extraction processes (0 = one per core; a native crash in one costs one "
                           "file)", check=_at_least(0))
    second_detector: str = setting("mtcnn", "mtcnn | retinaface (RetinaFace MobileNet-0.25 from the wheel `make "
                                   "install` downloads: the face finder 0.83x the time, but it misses faces "
                                   "MTCNN finds, benchmarks/results/second_detector.json) | none: a second detector of "
                                   "another kind; the faces it finds that the search missed are anonymized too",
                                   choices=SECOND_DETECTORS,
                                   changes=("photos",))
    search_device: str = setting("cpu", "where the face search runs mediapipe's two networks: cpu (LiteRT, one view "
                                 "at a time, in each worker) | cuda (the same networks in torch, each photo's views "
                                 "in batches, in each worker; detector mediapipe only)", choices=SEARCH_DEVICES,
                                 changes=("photos",))
    detect_every: int = setting(1, "videos: search every k-th frame for faces (1-10; 1 = every frame) and follow "
                                "them by their mesh in between, where one detector pass over each frame looks for "
                                "new faces", check=_between(1, MAX_DETECT_EVERY), changes=("videos",))
    track_max_gap: int = setting(5, "videos: frames a face may go undetected before its track ends (its predicted "
                                 "box is covered meanwhile); a new face is also covered this many frames back, which "
                                 "are held in memory (0-250)", check=_between(0, MAX_TRACK_GAP), changes=("videos",))
    smooth_min_cutoff: float = setting(1.0, "videos: One-Euro cut-off (Hz) on each face's alignment and landmarks: "
                                       "lower = steadier", check=_POSITIVE, changes=("videos",))
    smooth_beta: float = setting(1.0, "videos: One-Euro speed coefficient (per face height per second): higher = "
                                 "follows fast moves sooner", check=_at_least(0.0), changes=("videos",))

    def __post_init__(self) -> None:
        _validate(self)
        _check_device(self.device)
        _check_device(self.search_device, "search_device", "use cpu")


@dataclass(frozen=True)
class AnonymizeParams(AnonymizeConfig):
    """params.yaml ``anonymize``: the anonymizer's settings plus what the pipeline anonymizes. Methods are named in
    :mod:`ganonlib.methods`; ``ours`` always runs."""

    datasets: tuple[str, ...] = setting(("sample",), "processed datasets to anonymize", check=_names,
                                        changes=("pipeline",))
    baselines: tuple[str, ...] = setting(("pixel8", "pixel16", "blur9", "blur17"), "the kit's own baselines",
                                         check=_names, changes=("pipeline",))
    external: tuple[str, ...] = setting(("deepprivacy2", "ciagan"), "other tools' outputs, imported", check=_names,
                                        changes=("pipeline",))
    external_dir: str = setting("data/external", "<external_dir>/<method>/<dataset>/ holds an external tool's outputs",
                                changes=("pipeline",))
    paste_back_photos: int = setting(6, "whole test-split photos also written with every face replaced (0 = none)",
                                     check=_at_least(0), changes=("paste_back",))
    videos: tuple[str, ...] = setting((), "folders data/videos/<name> of videos (and photos) anonymized by the "
                                      "optional stage anonymize_videos@<name> (none by default)", check=_names,
                                      changes=("video_folders",))
    n_jobs: int = setting(1, "processes that anonymize a dataset's crops, each with its own generator (1: this one; "
                          "-1: every core)", check=_jobs)
    scheduler: str = setting("", "where a dataset's crops are anonymized: \"\" = this machine (n_jobs processes) | "
                             "tcp://host:8786 = a running Dask cluster (workers share the file system)",
                             check=_scheduler_address)


@dataclass(frozen=True)
class IdentityEvalConfig:
    """Identity evaluation (paper 4.1, Table 1): rank-1, verification rate, landmark NME, GAN leakage."""

    dataset: str = setting("wider", "processed and anonymized dataset evaluated (paper: wider)")
    split: str = setting("test", "split evaluated", choices=_SPLITS)
    recognizer: str = setting("Facenet512", "Facenet512 (the paper's; needs its weights) | Dlib (offline default)",
                              choices=RECOGNIZER_NAMES)
    gan_train_dataset: str = setting("celeba", "processed dataset the GAN was trained on (gan.dataset)")
    leakage_train_sample: int = setting(50, "training faces compared with each anonymized face (leakage)",
                                        check=_at_least(1))
    seed: int = setting(0, "seed of the leakage sample")
    n_jobs: int = setting(1, "processes that read, embed and mesh the images (1: this one; -1: every core)",
                          check=_jobs)
    scheduler: str = setting("", "where the per-image work runs: \"\" = this machine (n_jobs processes) | "
                             "tcp://host:8786 = a running Dask cluster (workers share the file system)",
                             check=_scheduler_address)

    def __post_init__(self) -> None:
        _validate(self)


@dataclass(frozen=True)
class ClassifierConfig:
    """An image classifier (emotions: single-label; attributes: multi-label) trained as the paper's 4.2-4.3."""

    arch: str = setting("convnext_base", "timm architecture (paper: convnext_base)")
    image_size: int = setting(224, "input side (paper: 224)", check=_at_least(16))
    epochs: int = setting(30, "most epochs (paper: 30 with early stopping)", check=_at_least(1))
    batch_size: int = setting(32, "images per step", check=_at_least(1))
    lr: float = setting(3.0e-4, "AdamW learning rate (0: the network stays as initialized)", check=_at_least(0.0))
    weight_decay: float = setting(1.0e-3, "AdamW weight decay", check=_at_least(0.0))
    lr_patience: int = setting(3, "epochs without a better validation loss before the learning rate drops",
                               check=_at_least(1))
    early_stopping: int = setting(6, "epochs without a better validation loss before stopping", check=_at_least(1))
    multilabel: bool = setting(False, "sigmoid outputs and BCE (attributes) instead of softmax (emotions)")
    seed: int = setting(0, "seed of weights and shuffling")
    device: str = setting("auto", "auto | cpu | cuda", choices=DEVICES)
    pretrained: str = setting("auto", "auto (ImageNet weights when on this machine, else from scratch) | yes (must) | "
                              "no (from scratch)", choices=("auto", "yes", "no"))
    weights_path: str = setting("", "a local ImageNet checkpoint for the backbone (empty = the timm cache)")
    num_workers: int = setting(0, "data loader processes", check=_at_least(0))

    def __post_init__(self) -> None:
        _validate(self)


@dataclass(frozen=True)
class ClassifierEvalConfig(ClassifierConfig):
    """params.yaml ``eval_emotion`` / ``eval_attributes``: the classifier's settings plus what is evaluated."""

    datasets: tuple[str, ...] = setting((), "datasets evaluated (each also in anonymize.datasets)", check=_names)
    split: str = setting("test", "split scored by the inference scenario / the removal rates", choices=_SPLITS)
    n_jobs: int = setting(1, "processes that classify the originals and every method's images, each with its own "
                          "copy of the classifier (1: this one; -1: every core)", check=_jobs)
    scheduler: str = setting("", "where those images are classified: \"\" = this machine (n_jobs processes) | "
                             "tcp://host:8786 = a running Dask cluster (workers share the file system)",
                             check=_scheduler_address)

    def classifier(self, **changes: Any) -> ClassifierConfig:
        """The trainer's config (without the pipeline's keys)."""
        own = {f.name: getattr(self, f.name) for f in fields(ClassifierConfig)}
        return ClassifierConfig(**{**own, **changes})


def _check_device(device: str, name: str = "device", instead: str = "use auto or cpu") -> None:
    if device == "cuda":
        import torch  # here: reading params must not pay for torch

        if not torch.cuda.is_available():
            raise ConfigError(name, f"cuda asked for, but no CUDA GPU is visible ({instead})")


@dataclass(frozen=True)
class Params:
    """Every section of params.yaml, each checked as it is read."""

    seed: int = 0
    sample: SampleConfig = field(default_factory=SampleConfig)
    datasets: dict[str, DatasetConfig] = field(default_factory=dict)
    preprocess: PreprocessConfig = field(default_factory=PreprocessConfig)
    gan: GanTrainConfig = field(default_factory=GanTrainConfig)
    anonymize: AnonymizeParams = field(default_factory=AnonymizeParams)
    eval_identity: IdentityEvalConfig = field(default_factory=IdentityEvalConfig)
    eval_emotion: ClassifierEvalConfig = field(default_factory=ClassifierEvalConfig)
    eval_attributes: ClassifierEvalConfig = field(default_factory=lambda: ClassifierEvalConfig(multilabel=True))

    @property
    def methods(self) -> list[str]:
        """The anonymization methods every evaluation compares, in the paper's order (ours first)."""
        from ganonlib.methods import pipeline_methods

        return pipeline_methods(self.anonymize.baselines, self.anonymize.external)

    def stage_item(self, stage: str, *notebook: str) -> tuple[str, ...]:
        """What a foreach/matrix stage of dvc.yaml runs on (its dataset; its method; its folder), found from the
        stage's name (``$DVC_STAGE``, e.g. ``anonymize_baseline@sample-pixel8``) among these params: a stage's
        command carries no value of params.yaml, so no name can break its quoting. Without a stage (a notebook run
        in JupyterLab) the notebook's own values, checked like params.yaml's names."""
        if stage:
            group, _, key = stage.partition("@")
            if group not in _STAGE_ITEMS:
                raise ConfigError("stage", f"{stage!r} is none of dvc.yaml's foreach/matrix stages "
                                  f"({', '.join(_STAGE_ITEMS)})")
            # DVC names a matrix stage by its values joined with "-"
            found = [item for item in _STAGE_ITEMS[group](self) if "-".join(item) == key]
            if not found:
                raise ConfigError("stage", f"{stage!r} names no entry of params.yaml")
            if len(found) > 1:  # e.g. datasets a-b and a with methods c and b-c: rename one
                raise ConfigError("stage", f"{stage!r} names {len(found)} entries of params.yaml: "
                                  f"{', '.join(map(str, found))}; rename one")
            notebook = found[0]
        for value in notebook:
            if problem := _name(value):
                raise ConfigError("stage", f"{problem} (got {value!r})")
        return notebook


# dvc.yaml's foreach/matrix stages and the params.yaml lists they run over (a matrix in its keys' order)
_STAGE_ITEMS: dict[str, Callable[[Params], list[tuple[str, ...]]]] = {
    "preprocess": lambda p: [(name,) for name in p.datasets],
    "generator": lambda p: [(p.gan.source,)],
    "anonymize_ours": lambda p: [(name,) for name in p.anonymize.datasets],
    "anonymize_baseline": lambda p: [(d, m) for d in p.anonymize.datasets for m in p.anonymize.baselines],
    "anonymize_external": lambda p: [(d, m) for d in p.anonymize.datasets for m in p.anonymize.external],
    "anonymize_videos": lambda p: [(name,) for name in p.anonymize.videos],
    "eval_emotion_training": lambda p: [(name,) for name in p.eval_emotion.datasets],
    "eval_emotion_inference": lambda p: [(name,) for name in p.eval_emotion.datasets],
    "eval_attributes": lambda p: [(name,) for name in p.eval_attributes.datasets],
}


_SECTIONS = {"sample": SampleConfig, "preprocess": PreprocessConfig, "gan": GanTrainConfig,
             "anonymize": AnonymizeParams, "eval_identity": IdentityEvalConfig, "eval_emotion": ClassifierEvalConfig,
             "eval_attributes": ClassifierEvalConfig}


def load_params(path: str | Path = "params.yaml") -> Params:
    """Read and check params.yaml; an error names the key (``params.yaml gan.epochs: ...``)."""
    import yaml  # here, not above: the GPU benchmarks import the configs on machines that have torch only

    raw = yaml.safe_load(Path(path).read_text()) or {}
    unknown = sorted(set(raw) - set(_SECTIONS) - {"seed", "datasets"})
    if unknown:
        raise ConfigError(f"params.yaml {unknown[0]}", f"unknown section; known: {sorted(_SECTIONS)}, datasets, seed")
    sections: dict[str, Any] = {}
    for name, cls in _SECTIONS.items():
        extra = {"multilabel": True} if name == "eval_attributes" else {}
        with params_section(name):
            sections[name] = from_section(cls, raw.get(name), **extra)
    datasets = {}
    for name, cfg in (raw.get("datasets") or {}).items():
        with params_section(f"datasets.{name}"):
            datasets[name] = from_section(DatasetConfig, cfg, name=name)
    return Params(seed=int(raw.get("seed", 0)), datasets=datasets, **sections)


def use_project_root(start: str | Path | None = None) -> Path:
    """Change to the nearest folder (this one or above) holding ``params.yaml`` and return it; stay where we are
    when there is none. JupyterLab starts a notebook in ``notebooks/``, DVC in the project root: the notebooks'
    relative paths then mean the same in both."""
    here = Path(start or os.getcwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "params.yaml").is_file():
            os.chdir(folder)
            return folder
    return here
