"""Optional weight files: where the kit looks for them, how a missing one is reported, how a known one is verified."""
from __future__ import annotations

import os
from pathlib import Path

from ganonlib.io import file_sha256

__all__ = ["KNOWN_SHA256", "MissingWeightsError", "WeightsError", "deepface_weights_dir", "require_weights",
           "verify_sha256"]

# Files whose published hash the kit knows; a file with another hash is refused rather than silently used.
KNOWN_SHA256: dict[str, str] = {}


class MissingWeightsError(FileNotFoundError):
    """An optional model was selected but its weights are absent. The message says what to put where."""


class WeightsError(ValueError):
    """A weights file that is present but unusable (empty, truncated, not the expected model, NaN)."""


def deepface_weights_dir() -> Path:
    """``$DEEPFACE_HOME/.deepface/weights`` (home folder by default): shared by retina-face and deepface."""
    return Path(os.environ.get("DEEPFACE_HOME", str(Path.home()))) / ".deepface" / "weights"


def verify_sha256(path: Path, expected: str | None = None) -> None:
    expected = expected or KNOWN_SHA256.get(path.name)
    if expected is None:
        return
    actual = file_sha256(path)
    if actual != expected:
        raise WeightsError(f"{path} has sha256 {actual}, expected {expected}: replace it with the published file")


def require_weights(candidates: list[Path], what: str, alternative: str) -> Path:
    """First existing file among ``candidates`` (verified when its hash is known), else one clear error."""
    for path in candidates:
        if path.is_file():
            verify_sha256(path)
            return path
    names = " or ".join(str(p) for p in candidates)
    raise MissingWeightsError(f"{what}: weights not found. Put {names} there (no download happens at run time), "
                              f"or {alternative}.")
