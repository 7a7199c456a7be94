"""Where a stage's per-image work runs: this machine's processes (joblib, the default) or a Dask cluster.

``scheduler: ""`` keeps joblib's own worker processes (``n_jobs``). ``scheduler: tcp://host:8786`` sends the same
``joblib.Parallel`` calls to the workers of a running Dask cluster through joblib's Dask backend: same tasks, same
results, written by the workers where the stage says. Every worker must therefore see the project's paths (a shared
file system, as on an HPC cluster). The README ("Scaling out") says how to start a cluster.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

__all__ = ["ClusterError", "parallel_backend"]


class ClusterError(RuntimeError):
    """The configured Dask scheduler cannot be reached."""


@contextmanager
def parallel_backend(scheduler: str, n_jobs: int, connect_timeout_s: float = 20.0) -> Iterator[int]:
    """Within the block, ``joblib.Parallel(n_jobs=<yielded>)`` runs locally or on the cluster at ``scheduler``."""
    if not scheduler:
        yield n_jobs
        return
    import joblib
    from distributed import Client

    try:
        client = Client(scheduler, timeout=connect_timeout_s, set_as_default=False)
    except (OSError, TimeoutError) as err:
        raise ClusterError(f"no Dask scheduler answers at {scheduler} ({type(err).__name__}): start one with "
                           f"`dask scheduler` and its workers with `dask worker {scheduler}` (README, \"Scaling "
                           f"out\"), or set scheduler to \"\" to run on this machine") from None
    with client, joblib.parallel_config(backend="dask", client=client, wait_for_workers_timeout=connect_timeout_s):
        yield -1  # every worker of the cluster
