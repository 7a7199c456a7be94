"""params.yaml sections -> frozen dataclasses: the one place that knows the keys and their defaults.

Defaults are the paper's values; params.yaml overrides some of them for the CPU-sized sample (marked there).
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["DatasetConfig", "GanTrainConfig", "Params", "PreprocessConfig", "SampleConfig", "from_section",
           "load_params", "use_project_root"]

T = TypeVar("T")


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


@dataclass(frozen=True)
class PreprocessConfig:
    """Face extraction, background removal and landmarks (paper 3.1-3.3)."""

    image_size: int = 512
    detector: str = "mediapipe"  # mediapipe | retinaface | mtcnn
    min_confidence: float = 0.5
    margin: float = 0.0  # fraction of the box added on each side; the original crops without margin
    max_faces: int = 10
    segmentation: str = "selfie"  # selfie | unet | none
    unet_weights: str = "models/external/head_segmentation.ckpt"
    landmarks_style: str = "cross"  # cross (what the published model saw) | point (the paper's text)
    mesh_confidence: float = 0.5
    max_pixels: int = 100_000_000
    min_side: int = 16
    n_jobs: int = 2

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
