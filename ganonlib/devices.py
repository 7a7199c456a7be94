"""The torch device a setting names (``auto`` is the GPU where CUDA is present, else the CPU), and how a process
that runs large models on the CPU keeps its memory."""
from __future__ import annotations

import ctypes
import os
import platform

import torch

__all__ = ["keep_freed_memory", "resolve_device"]

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters
_KEEP_BYTES = 1 << 30


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def keep_freed_memory() -> bool:
    """Let this process reuse the memory its large CPU tensors free instead of giving it back to the system.

    glibc serves a block above its mmap threshold (32 MB at most) with fresh pages from the kernel and unmaps them
    when freed, so every activation of a 512 px generator batch (100-500 MB each) is page-faulted and zero-filled
    again in every forward pass: 600,000 page faults and about a sixth of the generator's time on a CPU, 17 % of the
    anonymizer's faces/s on 2 cores (``benchmarks/speed/anonymize.py --glibc-malloc`` measures without it;
    ``benchmarks/results/anonymize_malloc.jsonl``). Both thresholds at 1 GiB keep those pages in the heap; the
    process's peak memory grew by a tenth (batch 8, bf16) to a quarter (batch 4, fp32), and up to 1 GiB of freed
    memory stays with it. glibc only; a user's ``MALLOC_MMAP_THRESHOLD_`` or ``MALLOC_TRIM_THRESHOLD_`` is kept.
    Returns whether it was applied.
    """
    if platform.libc_ver()[0] != "glibc" or {"MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"} & set(os.environ):
        return False
    mallopt = ctypes.CDLL(None).mallopt
    return bool(mallopt(_M_MMAP_THRESHOLD, _KEEP_BYTES)) and bool(mallopt(_M_TRIM_THRESHOLD, _KEEP_BYTES))
