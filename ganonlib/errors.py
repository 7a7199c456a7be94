"""The errors the user mends: a setting out of its range, a dataset that is not where the settings say. A leaf
module, so that the settings (:mod:`ganonlib.config`), the registries they check against (:mod:`ganonlib.methods`)
and the loaders raise them without importing each other."""
from __future__ import annotations

__all__ = ["ConfigError", "DatasetError"]


class ConfigError(ValueError):
    """A setting out of its range or of the wrong type, found before any work starts. ``setting`` is the field name;
    the CLI shows it as ``--option``, a DVC stage as its params.yaml key."""

    def __init__(self, setting: str, problem: str) -> None:
        super().__init__(f"{setting}: {problem}")
        self.setting = setting
        self.problem = problem


class DatasetError(FileNotFoundError):
    """A dataset folder or one of its official files is not where the settings say, or holds nothing usable. The
    message says what to put where."""
