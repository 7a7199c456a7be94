"""Worker processes in which a native crash costs one item, not the run.

OpenCV and mediapipe run C++ that can abort the whole process on one odd input (a SIGABRT cannot be caught in
Python). :class:`CrashSafePool` runs such work in spawned processes, one item in flight per worker: when a worker
dies, the item it held is reported as :class:`Crashed` and a fresh worker takes the next one. ``concurrent.futures``
and joblib cannot do this: one dead worker breaks their whole pool.
"""
from __future__ import annotations

import multiprocessing as mp
import signal
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any, Callable, Generic, Iterable, Iterator, TypeVar

__all__ = ["Crashed", "CrashSafePool", "WorkerError"]

T = TypeVar("T")


@dataclass(frozen=True)
class Crashed:
    """The worker died while it held this item (``exitcode`` < 0: killed by that signal)."""

    exitcode: int | None

    def __str__(self) -> str:
        if self.exitcode is not None and self.exitcode < 0:
            try:
                return f"worker killed by {signal.Signals(-self.exitcode).name}"
            except ValueError:
                pass
        return f"worker exited with code {self.exitcode}"


class WorkerError(RuntimeError):
    """A worker could not start (its ``init`` raised): a setting or installation problem, not one item's."""


def _serve(conn: Connection, init: Callable[..., Any], init_args: tuple, fn: Callable[[Any, Any], Any]) -> None:
    try:
        state = init(*init_args)
    except Exception as err:  # reported once to the caller, who stops: every item would fail the same way
        conn.send(("init_error", f"{type(err).__name__}: {err}"))
        return
    conn.send(("ready", None))
    while True:
        try:
            item = conn.recv()
        except (EOFError, OSError):  # the caller is gone (finished or killed): nothing left to do
            return
        conn.send(("done", fn(state, item)))


class _Worker:
    def __init__(self, ctx: Any, init: Callable[..., Any], init_args: tuple, fn: Callable[[Any, Any], Any]) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_serve, args=(child, init, init_args, fn), daemon=True)
        self.process.start()
        child.close()
        self.ready = False
        self.job: int | None = None  # index of the item in flight

    def stop(self) -> None:
        self.conn.close()
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


class CrashSafePool(Generic[T]):
    """``workers`` spawned processes; each runs ``init(*init_args)`` once, then ``fn(state, item)`` for each item.

    ``fn`` and ``init`` must be module-level functions (they are pickled by name) and ``fn`` should catch its own
    Python exceptions: what it returns comes back as is, a worker that dies comes back as :class:`Crashed`.
    """

    def __init__(self, fn: Callable[[Any, Any], T], init: Callable[..., Any], init_args: tuple = (),
                 workers: int = 1) -> None:
        self._ctx = mp.get_context("spawn")  # fork would copy the caller's torch and mediapipe threads
        self._spec = (init, init_args, fn)
        self._workers = [_Worker(self._ctx, *self._spec) for _ in range(max(1, workers))]

    def __enter__(self) -> "CrashSafePool[T]":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for worker in self._workers:
            worker.stop()

    def imap(self, items: Iterable[Any]) -> Iterator[tuple[Any, T | Crashed]]:
        """(item, result or :class:`Crashed`) for every item, in the order given; at most one item per worker is
        in flight, and at most two per worker wait finished for an earlier one, so memory stays bounded."""
        source = iter(items)
        pending: deque[int] = deque()  # indices in order, not yet yielded
        held: dict[int, Any] = {}
        results: dict[int, T | Crashed] = {}
        exhausted, counter = False, 0
        while True:
            for worker in self._workers:
                if worker.ready and worker.job is None and not exhausted and len(pending) < 3 * len(self._workers):
                    try:
                        item = next(source)
                    except StopIteration:
                        exhausted = True
                        break
                    held[counter] = item
                    pending.append(counter)
                    worker.job, counter = counter, counter + 1
                    worker.conn.send(item)
            yielded = False
            while pending and pending[0] in results:
                index = pending.popleft()
                yield held.pop(index), results.pop(index)
                yielded = True
            if exhausted and not pending:
                return
            if not yielded:  # after yielding, idle workers take new items first: waiting now could wait forever
                self._wait(results)

    def _wait(self, results: dict[int, Any]) -> None:
        by_handle = {w.conn: w for w in self._workers}
        by_handle.update({w.process.sentinel: w for w in self._workers})
        for handle in wait(list(by_handle)):
            worker = by_handle[handle]
            if worker not in self._workers:
                continue  # replaced earlier in this loop
            message = None
            if worker.conn.poll():
                try:
                    message = worker.conn.recv()
                except (EOFError, OSError):
                    message = None
            if message is None and worker.process.is_alive():
                continue
            if message is None:  # died: the item it held is lost, a fresh worker takes its place
                worker.process.join()
                if worker.job is None and not worker.ready:
                    raise WorkerError(f"a worker process died while starting ({Crashed(worker.process.exitcode)})")
                if worker.job is not None:
                    results[worker.job] = Crashed(worker.process.exitcode)
                worker.stop()
                self._workers[self._workers.index(worker)] = _Worker(self._ctx, *self._spec)
            elif message[0] == "init_error":
                self.close()
                raise WorkerError(message[1])
            elif message[0] == "ready":
                worker.ready = True
            else:
                results[worker.job] = message[1]
                worker.job = None
