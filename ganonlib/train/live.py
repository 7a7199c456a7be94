"""Training curves through DVCLive: one log per step and one per epoch, each a folder with ``metrics.json`` (the
last values) and ``plots/metrics/<name>.tsv`` (one row per step or epoch), which ``dvc.yaml`` declares as plots.

No timestamps are logged: a rerun with the same seed writes the same files, so ``dvc.lock`` does not change.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Mapping

__all__ = ["TrainingLog"]


class TrainingLog:
    """``<folder>/step`` and ``<folder>/epoch``; ``dvc.yaml`` declares their ``plots`` folders. ``resume`` continues
    both logs (a resumed GAN run); otherwise DVCLive clears what an earlier run left there. Several trainings can
    share one log (a classifier per training set): :meth:`begin` names each, and its curves are ``<name>/<metric>``
    with steps from 0."""

    def __init__(self, folder: str | Path, resume: bool = False) -> None:
        self.prefix = ""
        try:
            from dvclive import Live
        except ImportError:  # a bare GPU machine running the benchmarks: train, without curves, and say so
            print(f"dvclive is not installed: no training curves in {folder} (pip install dvclive)")
            self.steps = self.epochs = None
            return
        logging.getLogger("dvclive").setLevel(logging.WARNING)  # it announces the experiment it logs to, per log
        kw = {"resume": resume, "report": None, "save_dvc_exp": False, "dvcyaml": None}
        self.steps = Live(str(Path(folder) / "step"), **kw)
        self.epochs = Live(str(Path(folder) / "epoch"), **kw)

    def begin(self, name: str) -> None:
        self.prefix = f"{name}/"
        if self.steps is not None:
            self.steps.step = 0

    def step(self, values: Mapping[str, float]) -> None:
        if self.steps is None:
            return
        for name, value in values.items():
            self.steps.log_metric(self.prefix + name, float(value), plot=True)
        self.steps.next_step()

    def epoch(self, epoch: int, values: Mapping[str, float]) -> None:
        """``epoch`` counts from 1; it is the x value of the epoch curves."""
        if self.epochs is None:
            return
        self.epochs.step = epoch
        for name, value in values.items():
            self.epochs.log_metric(self.prefix + name, float(value), plot=True)
        self.epochs.make_summary()

    def close(self) -> None:
        if self.steps is not None:
            self.steps.end()
            self.epochs.end()
