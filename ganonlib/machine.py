"""What this machine can hold: worker counts and batch sizes bounded by its cores and free memory.

A setting beyond the machine (``--workers 999999999999`` started hundreds of processes and drove the machine out
of memory; ``--batch-size 100000`` held every face of a run until its end) is lowered to the bound, and the run
says so in one line at its start. The bounds change when and where work happens, never what is written.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = ["FACE_MIB", "MEMORY_SHARE", "WORKER_MIB", "Bound", "available_cores", "available_mib", "batch_bound",
           "jobs_bound", "workers_bound"]

# one face-extraction or preprocessing process at its peak: benchmarks/results/anonymize_memory.json
# (worker_peak_mib 1489, on the sample's photos)
WORKER_MIB = 1500
# one face in a generator batch at 512 px, fp32 forward on a CPU: the peak grew by 359 MiB from batch 1 to batch 4
# (measured with ru_maxrss around `define_G()(torch.zeros(b, 3, 512, 512))`); it scales with the face's area
FACE_MIB = 120
MEMORY_SHARE = 0.5  # of the free memory: the rest is for the main process, the photos in flight and the system


def available_cores() -> int:
    """The cores this process may run on (a container's or a job's share, not the whole machine's)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def available_mib(device: str = "cpu") -> int:
    """Free memory in MiB: the machine's available RAM, or the free memory of the current CUDA device."""
    if device.startswith("cuda"):
        import torch

        return torch.cuda.mem_get_info()[0] // 2**20
    import psutil

    return psutil.virtual_memory().available // 2**20


@dataclass(frozen=True)
class Bound:
    """A setting as asked, the number it stands for (0 or -1: one per core), and what this machine runs."""

    option: str
    asked: int
    wanted: int
    used: int
    limit: str

    @property
    def note(self) -> str:
        return "" if self.used >= self.wanted else f"{self.option} {self.asked} -> {self.used} ({self.limit})"


def _by_memory(free_mib: int, per_mib: float) -> int:
    return max(1, int(free_mib * MEMORY_SHARE // per_mib))


def workers_bound(asked: int, option: str = "--workers", every_core: int = 0) -> Bound:
    """Processes on this machine: ``asked`` (``every_core``: one per core) within its cores and free memory."""
    cores, free = available_cores(), available_mib()
    memory = _by_memory(free, WORKER_MIB)
    wanted = cores if asked == every_core else asked
    why = f"{cores} cores" if cores <= memory else f"{free} MiB free, about {WORKER_MIB} MiB per process"
    return Bound(option, asked, wanted, min(wanted, cores, memory), why)


def jobs_bound(asked: int, option: str = "--n-jobs") -> Bound:
    """joblib processes of a stage on this machine: ``asked`` (-1 = every core) within its cores and memory."""
    return workers_bound(asked, option, every_core=-1)


def batch_bound(asked: int, image_size: int, device: str, option: str = "--batch-size") -> Bound:
    """Faces per generator batch within the free memory of ``device`` (RAM on a CPU, the GPU's own memory)."""
    per_face, free = FACE_MIB * (image_size / 512) ** 2, available_mib(device)
    where = "GPU" if device.startswith("cuda") else "RAM"
    return Bound(option, asked, asked, min(asked, _by_memory(free, per_face)),
                 f"{free} MiB of free {where}, about {per_face:.0f} MiB per face")
