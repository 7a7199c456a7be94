"""Where a results file came from: the commit, the date, the command line and the machine (CPU model, cores, GPU).

Every benchmark prints its figures through :func:`report`, so every results file carries this block under
``"provenance"`` and a figure quoted in the docs can be traced to the code and the hardware that produced it
(``benchmarks/README.md`` indexes the files).
"""
from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

__all__ = ["cpu_features", "cpu_model", "gpu_name", "provenance", "report"]


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else ""


def cpu_model() -> str:
    """The CPU's model name as the kernel reports it (``platform.processor()`` is empty on Linux)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_features() -> list[str]:
    """The instruction-set extensions that change which CPU kernels PyTorch and oneDNN pick."""
    wanted = ("avx2", "avx512f", "avx512_bf16", "avx512_vnni", "amx_bf16", "amx_tile")
    try:
        flags = next(line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags"))
    except (OSError, StopIteration):
        return []
    present = set(flags.split(":", 1)[1].split())
    return [f for f in wanted if f in present]


def gpu_name() -> str | None:
    try:
        import torch

        return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except Exception:  # noqa: BLE001 - a broken CUDA set-up means no GPU for this record
        return None


def provenance(argv: list[str] | None = None) -> dict:
    """The block every results file carries."""
    dirty = bool(_git("status", "--porcelain", "--untracked-files=no"))
    return {
        "commit": _git("rev-parse", "--short=12", "HEAD") + ("+uncommitted" if dirty else ""),
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": shlex.join(["python", *(sys.argv if argv is None else argv)]),
        "cpu": cpu_model(),
        "cpu_features": cpu_features(),
        "cores": os.cpu_count(),
        "gpu": gpu_name(),
        "python": platform.python_version(),
    }


def report(result: dict, out: str | Path | None = None, append: bool = False) -> dict:
    """A benchmark's figures as one JSON line with their provenance: printed, and written to ``out`` when given (a
    new file, or a line appended to a ``.jsonl`` with ``append``). Returns the line's dict."""
    line = {**result, "provenance": result.get("provenance") or provenance()}
    text = json.dumps(line)
    print(text, flush=True)
    if out:
        path = Path(out)
        if append:
            with open(path, "a", encoding="utf-8") as handle:
                handle.write(text + "\n")
        else:
            from ganonlib.io import atomic_write_text

            atomic_write_text(path, json.dumps(line, indent=1) + "\n")
    return line
