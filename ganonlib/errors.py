"""The error a setting out of its range raises: a leaf module, so that the settings (:mod:`ganonlib.config`) and
the registries they check against (:mod:`ganonlib.methods`) both raise it without importing each other."""
from __future__ import annotations

__all__ = ["ConfigError"]


class ConfigError(ValueError):
    """A setting out of its range or of the wrong type, found before any work starts. ``setting`` is the field name;
    the CLI shows it as ``--option``, a DVC stage as its params.yaml key."""

    def __init__(self, setting: str, problem: str) -> None:
        super().__init__(f"{setting}: {problem}")
        self.setting = setting
        self.problem = problem
