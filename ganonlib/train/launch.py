"""Where GAN training starts: :func:`train` trains in this process (one GPU, or a process that ``torchrun`` started)
or starts ``gpus`` processes (DDP, one per GPU) from one call, e.g. from the ``03_generator`` notebook.

With ``gpus > 1`` it runs ``torchrun --standalone`` on this module; every process trains one rank
(:func:`ganonlib.train.gan.train_gan`) and the first writes the run's summary, which is read back here. Without CUDA (tests, CI) the processes run on the CPU over
gloo. Launching ``torchrun`` oneself works as well: ``train_gan`` then finds ``WORLD_SIZE`` set and joins the group.
"""
from __future__ import annotations

import codecs
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

import torch

from ganonlib.config import GanTrainConfig

__all__ = ["launch", "train"]


def train(cfg: GanTrainConfig) -> dict:
    """Train the GAN as ``cfg`` says and return the run's summary; ValueError, before any work, for an output
    folder that holds files of the user's (:func:`ganonlib.train.gan.training_folder_problem`)."""
    from ganonlib.train.gan import train_gan, training_folder_problem

    if problem := training_folder_problem(cfg.out_dir):
        raise ValueError(problem)
    if cfg.gpus > 1 and "WORLD_SIZE" not in os.environ:
        return launch(cfg)
    return train_gan(cfg)


def launch(cfg: GanTrainConfig) -> dict:
    """Train with ``cfg.gpus`` processes and return the summary of the run."""
    if cfg.device != "cpu" and torch.cuda.is_available() and cfg.gpus > torch.cuda.device_count():
        raise ValueError(f"gan.gpus is {cfg.gpus}, but {torch.cuda.device_count()} GPUs are visible")
    with tempfile.TemporaryDirectory() as tmp:
        summary = Path(tmp) / "summary.json"
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={cfg.gpus}",
               "-m", __name__, json.dumps(asdict(cfg)), str(summary)]
        # one thread per process unless asked otherwise: N processes with all cores each would oversubscribe them
        env = {"OMP_NUM_THREADS": "1", **os.environ}
        status = _run_echoing(cmd, env)
        if status != 0 or not summary.is_file():
            raise RuntimeError(f"distributed training with {cfg.gpus} processes failed (exit status {status}); "
                               "its output is above")
        return json.loads(summary.read_text())


def _run_echoing(cmd: list[str], env: dict[str, str]) -> int:
    """Run ``cmd`` and copy its output to ``sys.stdout`` as it comes: in a notebook that is the cell's output (the
    processes' own streams would go to the kernel's terminal), progress bars included."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")  # a chunk may end inside a character
    with subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as proc:
        for chunk in iter(lambda: proc.stdout.read1(4096), b""):
            sys.stdout.write(decoder.decode(chunk))
            sys.stdout.flush()
        return proc.wait()


def _main(config_json: str, summary_path: str) -> None:
    from ganonlib.train.gan import train_gan

    summary = train_gan(GanTrainConfig(**json.loads(config_json)))
    if os.environ.get("RANK", "0") == "0":
        Path(summary_path).write_text(json.dumps(summary))


if __name__ == "__main__":
    _main(sys.argv[1], sys.argv[2])
