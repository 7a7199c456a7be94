"""Where a stage's per-image work runs: this machine's processes (joblib, the default) or a Dask cluster.

``scheduler: ""`` keeps joblib's own worker processes (``n_jobs``). ``scheduler: tcp://host:8786`` sends the same
``joblib.Parallel`` calls to the workers of a running Dask cluster through joblib's Dask backend: same tasks, same
results, written by the workers where the stage says. Every worker must therefore see the project's paths (a shared
file system, as on an HPC cluster). docs/scaling.md says how to start a cluster.
"""
from __future__ import annotations

import weakref
from collections import OrderedDict
from contextlib import contextmanager
from typing import Any, Callable, Hashable, Iterator, Sequence, TypeVar

from ganonlib.machine import jobs_bound

__all__ = ["ClusterError", "map_chunks", "parallel_backend", "share_model", "worker_model"]

Item = TypeVar("Item")
Result = TypeVar("Result")
Model = TypeVar("Model")

# Models of this process by key. A Dask worker outlives a stage, so a key names what the model was built from (a
# weights file's sha256, not its path: a rerun may rewrite the file) and the oldest make room for new ones.
_MODELS: OrderedDict[Hashable, Any] = OrderedDict()
_MODELS_KEPT = 4


class ClusterError(RuntimeError):
    """The configured Dask scheduler cannot be reached."""


@contextmanager
def parallel_backend(scheduler: str, n_jobs: int, connect_timeout_s: float = 20.0) -> Iterator[int]:
    """Within the block, ``joblib.Parallel(n_jobs=<yielded>)`` runs locally (``n_jobs`` within this machine's cores
    and memory) or on the cluster at ``scheduler``."""
    if not scheduler:
        yield jobs_bound(n_jobs).used
        return
    import joblib
    from distributed import Client

    try:
        client = Client(scheduler, timeout=connect_timeout_s, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as err:
        raise ClusterError(f"no Dask scheduler answers at {scheduler} ({type(err).__name__}): start one with "
                           f"`dask scheduler` and its workers with `dask worker {scheduler}` (docs/scaling.md), "
                           f"or set scheduler to \"\" to run on this machine") from None
    with client, joblib.parallel_config(backend="dask", client=client, wait_for_workers_timeout=connect_timeout_s):
        yield -1  # every worker of the cluster


def _held(key: Hashable) -> Any:
    """The model held for ``key`` (None: none, or a shared one whose caller let it go)."""
    held = _MODELS.get(key)
    return held() if isinstance(held, weakref.ref) else held


def worker_model(key: Hashable, load: Callable[[], Model]) -> Model:
    """The model ``key`` names, loaded by ``load`` on this process's first chunk and reused by its later ones."""
    model = _held(key)
    if model is None:
        model = _MODELS[key] = load()
    _MODELS.move_to_end(key)
    while len(_MODELS) > _MODELS_KEPT:
        _MODELS.popitem(last=False)
    return model


def share_model(key: Hashable, model: Model) -> Model:
    """Make the caller's already loaded ``model`` the one :func:`worker_model` gives for ``key`` in this process:
    chunks run here (one local job) use it instead of loading a second copy. Held weakly: it goes with the caller."""
    known = _held(key)
    if known is None:
        _MODELS[key] = weakref.ref(model)
    return worker_model(key, lambda: model)


def map_chunks(work: Callable[[list[Item]], list[Result]], items: Sequence[Item], *, scheduler: str = "",
               n_jobs: int = 1, chunk_size: int = 64, desc: str = "", progress: bool = False) -> list[Result]:
    """``work`` on consecutive chunks of ``items``, results concatenated in the items' order.

    One local job runs in this process (nothing is pickled, models already loaded here are used); more jobs or a
    ``scheduler`` run the chunks through :func:`parallel_backend`, where ``work`` must be a module-level function
    (it travels to the workers by name) that loads what it needs once per worker process."""
    from tqdm.auto import tqdm

    chunks = [list(items[i:i + chunk_size]) for i in range(0, len(items), chunk_size)]
    bar = tqdm(total=len(items), desc=desc or None, disable=not progress)
    out: list[Result] = []
    if not scheduler and n_jobs == 1:
        for chunk in chunks:
            out.extend(work(chunk))
            bar.update(len(chunk))
    else:
        from joblib import Parallel, delayed

        with parallel_backend(scheduler, n_jobs) as jobs:
            for chunk, part in zip(chunks, Parallel(n_jobs=jobs, return_as="generator")(
                    delayed(work)(chunk) for chunk in chunks)):
                out.extend(part)
                bar.update(len(chunk))
    bar.close()
    return out
