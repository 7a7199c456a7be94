"""The kit's generator file: ``{"generator": state_dict, "image_size": int, "landmarks_style": str, "alignment":
{"detector", "margin"}, "trained_on": {"data", "pairs", "epochs"}}`` plus a ``.sha256`` sidecar. Written by the
trainer and the checkpoint converter, read by the anonymizer; neither side imports the other.

The image size, the landmark style and the alignment (detector, margin) are how the faces the generator was trained
on were cut and drawn: the anonymizer cuts and draws its input the same way. Files without a style are from before
it was recorded (``cross``, what the published model saw); files without an alignment (converted checkpoints, older
files) leave it to the anonymizer's settings.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from ganonlib.config import DETECTOR_NAMES, LANDMARK_STYLES
from ganonlib.io import atomic_write_text, atomic_write_torch, file_sha256
from ganonlib.models.networks import GeneratorUNet
from ganonlib.weights import WeightsError, require_weights, verify_sha256

__all__ = ["FEW_PAIRS", "GeneratorSettings", "check_image_size", "load_checkpoint", "load_generator",
           "save_generator"]



# a generator trained on fewer pairs than this has seen too few people to paint realistic faces
FEW_PAIRS = 5_000


@dataclass(frozen=True)
class GeneratorSettings:
    image_size: int
    landmarks_style: str = "cross"
    trained_on: dict | None = None  # {"data", "pairs", "epochs"} where the file records it
    detector: str | None = None  # the faces' alignment, where the file records it
    margin: float | None = None

    def alignment(self) -> dict:
        """The preprocessing settings the generator's faces were cut and drawn with, as far as the file says."""
        recorded = {"image_size": self.image_size, "landmarks_style": self.landmarks_style,
                    "detector": self.detector, "margin": self.margin}
        return {k: v for k, v in recorded.items() if v is not None}

    def caveat(self) -> str:
        """One line for a generator that cannot paint realistic faces (trained on a handful of pairs), else ''."""
        pairs = (self.trained_on or {}).get("pairs")
        if pairs is None or pairs >= FEW_PAIRS:
            return ""
        return (f"this generator was trained on {pairs} pairs ({self.trained_on.get('data', '?')}, "
                f"{self.trained_on.get('epochs', '?')} epochs): it paints a blur of those few faces, not realistic "
                f"ones. For real faces: `ganon weights fetch publication` and --weights "
                f"models/published/publication.pt, or `ganon train` on a real dataset")


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict:
    """Tensors and plain containers only (``weights_only=True``); never bound to the device it was saved on."""
    return torch.load(path, map_location=map_location, weights_only=True)


def check_image_size(size: object, source: str | Path) -> int:
    """The side a generator file may record: the U-Net halves its input 8 times and concatenates each half with the
    way back, so only a multiple of 256 runs (up to the 4096 px preprocessing allows); anything else is refused
    before a file is written or used."""
    if isinstance(size, bool) or not isinstance(size, int) or not 256 <= size <= 4096 or size % 256:
        raise WeightsError(f"{source}: image_size must be a multiple of 256 from 256 to 4096 (the generator halves it "
                           f"8 times), got {size!r}")
    return size


def save_generator(weights: dict[str, torch.Tensor], image_size: int, path: str | Path,
                   landmarks_style: str = "cross", trained_on: dict | None = None,
                   alignment: dict | None = None) -> str:
    """Write the generator file and its sidecar atomically; return the file's sha256. ``alignment``: the
    ``detector`` and ``margin`` the training faces were aligned with."""
    if landmarks_style not in LANDMARK_STYLES:
        raise ValueError(f"landmarks_style: choose one of {', '.join(LANDMARK_STYLES)} (got {landmarks_style!r})")
    path = Path(path)
    record = {"generator": weights, "image_size": check_image_size(image_size, path),
              "landmarks_style": landmarks_style}
    if alignment:
        record["alignment"] = _alignment(alignment, path)
    if trained_on is not None:
        record["trained_on"] = dict(trained_on)
    atomic_write_torch(path, record)
    digest = file_sha256(path)
    atomic_write_text(path.with_name(path.name + ".sha256"), f"{digest}  {path.name}\n")
    return digest


def _alignment(alignment: object, source: str | Path) -> dict:
    """``{"detector": str, "margin": float}``, checked (a generator file may come from anywhere)."""
    if not isinstance(alignment, dict):
        raise WeightsError(f"{source}: alignment must be a mapping of detector and margin, got {alignment!r}")
    detector, margin = alignment.get("detector"), alignment.get("margin")
    if detector not in DETECTOR_NAMES:
        raise WeightsError(f"{source}: unknown alignment detector {detector!r} (one of {', '.join(DETECTOR_NAMES)})")
    if isinstance(margin, bool) or not isinstance(margin, (int, float)) or not 0.0 <= margin <= 2.0:
        raise WeightsError(f"{source}: alignment margin must be a number in [0, 2], got {margin!r}")
    return {"detector": detector, "margin": float(margin)}


def _first_line(err: BaseException) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0][:200]


def load_generator(path: str | Path, device: torch.device) -> tuple[GeneratorUNet, GeneratorSettings]:
    """The generator file, verified by its ``.sha256`` sidecar when present, loaded with ``weights_only=True`` onto
    any device. A file that is not a whole, finite generator of the kit's shape is one :class:`WeightsError` saying
    what is wrong with it."""
    path = require_weights([Path(path)], "GAN generator",
                           "train one with `dvc repro`, or set gan.source: publication, or convert a checkpoint with "
                           "`ganon convert-checkpoint`")
    if path.stat().st_size == 0:
        raise WeightsError(f"{path} is empty (0 bytes): train or convert the generator again")
    sidecar = path.with_name(path.name + ".sha256")
    if sidecar.is_file():
        recorded = sidecar.read_text().split()
        if not recorded:
            raise WeightsError(f"{sidecar} is empty: it should hold the sha256 of {path.name} (write it, or delete "
                               f"the sidecar to load the file unchecked)")
        verify_sha256(path, recorded[0])
    try:
        state = load_checkpoint(path, "cpu")
    except Exception as err:  # truncated zip, text, a pickle that is not plain tensors: all say the same to a user
        raise WeightsError(f"{path} is not a readable generator file ({_first_line(err)})") from None
    if not isinstance(state, dict) or "generator" not in state or "image_size" not in state:
        raise WeightsError(f"{path} holds no generator: expected the keys 'generator' and 'image_size' "
                           f"(convert a Lightning checkpoint with `ganon convert-checkpoint`)")
    generator = GeneratorUNet()
    try:
        generator.load_state_dict(state["generator"])
    except (RuntimeError, TypeError, AttributeError) as err:
        raise WeightsError(f"{path}: its weights do not fit the kit's generator ({_first_line(err)})") from None
    if not all(torch.isfinite(t).all() for t in generator.state_dict().values() if t.is_floating_point()):
        raise WeightsError(f"{path} holds NaN or infinite weights: the training diverged; use an earlier checkpoint")
    check_image_size(state["image_size"], path)
    style = state.get("landmarks_style", "cross")
    if style not in LANDMARK_STYLES:
        raise WeightsError(f"{path}: unknown landmarks_style {style!r} (expected one of {', '.join(LANDMARK_STYLES)})")
    trained_on = state.get("trained_on")
    aligned = _alignment(state["alignment"], path) if "alignment" in state else {}
    return generator.to(device).eval(), GeneratorSettings(int(state["image_size"]), style,
                                                          trained_on if isinstance(trained_on, dict) else None,
                                                          aligned.get("detector"), aligned.get("margin"))
