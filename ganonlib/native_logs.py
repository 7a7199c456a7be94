"""mediapipe and TF Lite write start-up chatter straight to file descriptor 2 from C++ (absl ``W0000 ...`` lines,
"Created TensorFlow Lite XNNPACK delegate"), partly from their own threads after a call has returned: Python's
logging cannot reach it, environment variables do not quiet it, and in a notebook it fills every cell.

:func:`filter_native_chatter` (called when the first native model is built) puts a filter on fd 2 for the rest of the
process: every line that is not known chatter, and every partial line such as a progress bar, passes unchanged, so a
real native error still shows. At exit the filter is drained and fd 2 restored.
"""
from __future__ import annotations

import atexit
import os
import re
import sys
import threading

__all__ = ["CHATTER", "filter_native_chatter"]

CHATTER = re.compile(rb"(?:[IW]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ \S+:\d+\] |INFO: Created TensorFlow Lite |"
                     rb"WARNING: All log messages before absl::InitializeLog\(\) is called)")
_STARTS = (b"W0", b"I0", b"INFO: Created", b"WARNING: All log")
_lock = threading.Lock()
_installed = False


def _maybe_chatter(partial: bytes) -> bool:
    """Whether an unfinished line could still turn out to be chatter (then it waits for its end)."""
    return any(partial.startswith(s) or s.startswith(partial) for s in _STARTS)


def _without_chatter(line: bytes) -> bytes:
    """The line with its newline, or only what came before the chatter in it (a progress bar's unfinished line can
    run into the chatter that follows it)."""
    found = CHATTER.search(line)
    if found is None:
        return line + b"\n"
    return line[:found.start()] + b"\n" if found.start() else b""


def _forward(source: int, target: int) -> None:
    pending = b""
    while chunk := os.read(source, 65536):
        *lines, pending = (pending + chunk).split(b"\n")
        out = b"".join(_without_chatter(line) for line in lines)
        if pending and not _maybe_chatter(pending):  # a progress bar redraws without a newline: pass it now
            out, pending = out + pending, b""
        if out:
            os.write(target, out)
    if pending:
        os.write(target, _without_chatter(pending)[:-1])
    os.close(source)


def _restore(thread: threading.Thread, target: int) -> None:
    try:
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    os.dup2(target, 2)  # drops this process's write end of the pipe: the filter reads to its end and stops
    thread.join(timeout=0.2)  # worker processes may still hold the pipe: forward what came, do not wait for them


def filter_native_chatter() -> None:
    """Install the fd-2 filter once per process; a process without a usable fd 2 is left as it is."""
    global _installed
    with _lock:
        if _installed:
            return
        try:
            sys.stderr.flush()
            target = os.dup(2)
            source, sink = os.pipe()
            os.dup2(sink, 2)
            os.close(sink)
        except (OSError, ValueError):
            return
        thread = threading.Thread(target=_forward, args=(source, target), name="native-log-filter", daemon=True)
        thread.start()
        atexit.register(_restore, thread, target)
        _installed = True
