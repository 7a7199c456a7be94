"""params.yaml sections -> frozen dataclasses: the one place that knows the keys and their defaults.

Defaults are the paper's values; params.yaml overrides some of them for the CPU-sized sample (marked there).
"""
from __future__ import annotations

import hashlib
import json
import os
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

__all__ = ["AnonymizeConfig", "ConfigError", "DatasetConfig", "FALLBACKS", "GanTrainConfig", "NO_FACE_POLICIES",
           "Params", "PreprocessConfig", "SampleConfig", "from_section", "load_params", "params_section",
           "use_project_root"]

T = TypeVar("T")

DETECTOR_NAMES = ("mediapipe", "retinaface", "mtcnn")
SEGMENTATION_NAMES = ("selfie", "unet", "none")
LANDMARK_STYLES = ("cross", "point")
DEVICES = ("auto", "cpu", "cuda")
PRECISIONS = ("auto", "fp32", "bf16")
NO_FACE_POLICIES = ("average", "skip", "blur")  # a photo in which no face is found
FALLBACKS = ("blur", "fill", "none")  # a face found but not re-synthesized


class ConfigError(ValueError):
    """A setting out of its range or of the wrong type, found before any work starts. ``setting`` is the field name;
    the CLI shows it as ``--option``, a DVC stage as its params.yaml key."""

    def __init__(self, setting: str, problem: str) -> None:
        super().__init__(f"{setting}: {problem}")
        self.setting = setting
        self.problem = problem


_TYPES: dict[str, tuple[type, ...]] = {"int": (int,), "float": (int, float), "str": (str,), "bool": (bool,)}


def _validate(cfg: Any, rules: dict[str, Callable[[Any], str]]) -> None:
    """Check every field's type (from its annotation) and, where ``rules`` has one, its value: a rule returns the
    problem, or "" when the value is fine."""
    for f in fields(cfg):
        value = getattr(cfg, f.name)
        allowed = _TYPES.get(str(f.type))
        # bool is an int to Python, not to a config: `epochs: true` is a typo, not 1 epoch
        if allowed and (not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed)):
            raise ConfigError(f.name, f"expected {f.type}, got {value!r}")
        problem = rules[f.name](value) if f.name in rules else ""
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
    values = {**(section or {}), **extra}
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"unknown {cls.__name__} keys {unknown}; known keys: {sorted(known)}")
    return cls(**values)


@dataclass(frozen=True)
class SampleConfig:
    """The bundled sample: augmented variants of public-domain photos that installed packages ship."""

    out_dir: str = "data/sample"
    variants_per_photo: int = 40
    val_fraction: float = 0.15
    test_fraction: float = 0.15
    seed: int = 0


@dataclass(frozen=True)
class DatasetConfig:
    """One dataset to preprocess: ``kind`` names its loader, ``root`` the folder in its official layout."""

    name: str
    kind: str
    root: str
    val_fraction: float = 0.1  # used where the dataset has no official split (subject-wise)
    test_fraction: float = 0.1
    seed: int = 0
    limit: int = 0  # 0 = every image; otherwise a seeded subset, for quick looks at a big dataset

    def __post_init__(self) -> None:
        _validate(self, {"val_fraction": _between(0.0, 0.9), "test_fraction": _between(0.0, 0.9),
                         "limit": _at_least(0)})


@dataclass(frozen=True)
class PreprocessConfig:
    """Face extraction, background removal and landmarks (paper 3.1-3.3)."""

    image_size: int = 512
    detector: str = "mediapipe"  # mediapipe | retinaface | mtcnn
    min_confidence: float = 0.5
    margin: float = 0.0  # fraction of the box added on each side; the original crops without margin
    max_faces: int = 10  # most faces kept per photo (0 = no cap); anonymizing covers the faces beyond it
    segmentation: str = "selfie"  # selfie | unet | none
    unet_weights: str = "models/external/head_segmentation.ckpt"
    landmarks_style: str = "cross"  # cross (what the published model saw) | point (the paper's text)
    mesh_confidence: float = 0.5
    max_pixels: int = 100_000_000
    min_side: int = 16
    n_jobs: int = 2

    def __post_init__(self) -> None:
        _validate(self, {
            "image_size": _between(64, 4096), "detector": _one_of(DETECTOR_NAMES),
            "min_confidence": _FRACTION, "mesh_confidence": _FRACTION,
            # the crop is (1 + 2 margin) times the face: beyond 2 it holds more photo than face
            "margin": _between(0.0, 2.0), "max_faces": _at_least(0), "segmentation": _one_of(SEGMENTATION_NAMES),
            "landmarks_style": _one_of(LANDMARK_STYLES), "max_pixels": _at_least(1), "min_side": _at_least(1),
            "n_jobs": lambda v: "" if v >= 1 or v == -1 else "must be at least 1 (or -1: every core)"})

    def fingerprint(self) -> str:
        """Hash of every setting that changes the outputs (not n_jobs): cached results are reused only on a match."""
        settings = {k: v for k, v in asdict(self).items() if k != "n_jobs"}
        return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class GanTrainConfig:
    """GAN training (paper 3.4): the paper's settings by default, the trainer's speed settings beside them."""

    data_dir: str  # a processed dataset (index.csv + pairs)
    out_dir: str
    epochs: int = 25
    batch_size: int = 32
    lr: float = 2.0e-4
    beta1: float = 0.5
    beta2: float = 0.999
    lambda_l1: float = 100.0
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda
    bf16: bool = True  # autocast on CUDA (CPU stays fp32 for exact, portable tests)
    channels_last: bool = True
    compile: bool = False
    compile_mode: str = "default"  # torch.compile mode, e.g. max-autotune-no-cudagraphs (longer compile)
    resume: bool = True
    max_steps_per_epoch: int = 0  # 0 = the whole split; tests and smoke runs use a few
    samples: int = 4  # pairs shown in each sample grid
    checkpoint_every: int = 1  # epochs between checkpoints and sample grids; 0 = after the last epoch only
    max_seconds: float = 0.0  # 0 = no time budget; else stop at the step that exhausts it
    num_workers: int = 0  # data loader processes (faces are read from memory or a memory map)
    cache_dir: str = ""  # "" = decode faces into memory; else a folder for the memory-mapped face cache
    gpus: int = 1  # > 1: that many DDP processes, one per GPU (CPU processes over gloo without CUDA)

    def __post_init__(self) -> None:
        positive = _between(0.0, float("inf"), open_low=True)
        _validate(self, {"epochs": _at_least(1), "batch_size": _at_least(1), "lr": positive,
                         "beta1": _between(0.0, 1.0), "beta2": _between(0.0, 1.0), "lambda_l1": _at_least(0.0),
                         "device": _one_of(DEVICES), "max_steps_per_epoch": _at_least(0), "samples": _at_least(0),
                         "checkpoint_every": _at_least(0), "max_seconds": _at_least(0.0),
                         "num_workers": _at_least(0), "gpus": _at_least(1)})
        _check_device(self.device)


@dataclass(frozen=True)
class AnonymizeConfig:
    """Anonymizing photos with the trained generator (paper 3.4) and what happens where it cannot."""

    weights: str = "models/gan/generator.pt"
    device: str = "auto"  # auto | cpu | cuda
    precision: str = "auto"  # auto (bf16 on CUDA and on CPUs with bf16 support) | fp32 | bf16
    batch_size: int = 8
    no_face: str = "average"  # photo without face: average (the paper's: generate from empty landmarks) | skip | blur
    fallback: str = "blur"  # face found but not re-synthesized (no mesh, cap, failure): blur | fill | none
    paste_back: bool = False
    feather: float = 0.04  # blend edge, fraction of the face size
    compile: bool = False  # torch.compile the generator: ~20 % faster on a CPU after ~45 s of compiling
    strict: bool = False  # the command exits 3 when any face got the fallback or any file failed
    workers: int = 1  # extraction processes: a native crash in one costs one file, not the run
    second_detector: str = "mtcnn"  # cross-check: faces it finds that the search missed are anonymized too | none

    def __post_init__(self) -> None:
        _validate(self, {"device": _one_of(DEVICES), "precision": _one_of(PRECISIONS), "batch_size": _at_least(1),
                         "no_face": _one_of(NO_FACE_POLICIES), "fallback": _one_of(FALLBACKS),
                         "feather": _between(0.0, 0.5), "workers": _at_least(1),
                         "second_detector": _one_of(("mtcnn", "none"))})
        _check_device(self.device)


def _check_device(device: str) -> None:
    if device == "cuda":
        import torch  # here: reading params must not pay for torch

        if not torch.cuda.is_available():
            raise ConfigError("device", "cuda asked for, but no CUDA GPU is visible (use auto or cpu)")


@dataclass(frozen=True)
class Params:
    seed: int = 0
    sample: SampleConfig = field(default_factory=SampleConfig)
    datasets: dict[str, DatasetConfig] = field(default_factory=dict)
    preprocess: PreprocessConfig = field(default_factory=PreprocessConfig)


def load_params(path: str | Path = "params.yaml") -> Params:
    import yaml  # here, not above: the GPU benchmarks import the configs on machines that have torch only

    raw = yaml.safe_load(Path(path).read_text()) or {}
    datasets = {name: from_section(DatasetConfig, cfg, name=name) for name, cfg in (raw.get("datasets") or {}).items()}
    return Params(seed=int(raw.get("seed", 0)), sample=from_section(SampleConfig, raw.get("sample")),
                  datasets=datasets, preprocess=from_section(PreprocessConfig, raw.get("preprocess")))


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
