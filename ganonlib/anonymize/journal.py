"""The anonymizer's manifest, written as the run goes: one block of rows per input, appended and flushed as soon as
that input's outputs are on disk, under an exclusive lock.

A run killed at any moment leaves every finished input recorded; a rerun reads the blocks back and skips the inputs
whose source, weights and settings are unchanged and whose outputs still exist; two runs into one folder never drop
or interleave each other's rows. A block ends with the input's own row (``face`` = -1): a block without it was cut
by a kill and does not count.
"""
from __future__ import annotations

import fcntl
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable

from ganonlib.io import MANIFEST_FIELDS, MANIFEST_HEADER, ManifestRow, create_manifest, csv_text, read_manifest

__all__ = ["History", "Journal"]


@dataclass(frozen=True)
class History:
    """What a manifest holds: the last complete block of every source, the outputs that superseded blocks list and
    those the last blocks list (a name in the first set only is a leftover of an earlier run)."""

    last: dict[str, list[ManifestRow]]
    superseded_outputs: set[str]
    current_outputs: set[str]


def _listed(blocks: Iterable[list[ManifestRow]]) -> set[str]:
    return {name for block in blocks for row in block for name in row.outputs.split(";") if name}


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path

    def create(self) -> None:
        """:func:`ganonlib.io.create_manifest`: the header before any output."""
        create_manifest(self.path)

    def append(self, rows: list[ManifestRow]) -> None:
        """One input's rows (its own row last), in one locked write; the header comes with the first block.

        Every byte is written or none: a short write (a full disk) is continued, and an error cuts the file back to
        where the block began before it is raised. A row left half-written by a killed run is ended first, so that
        the block appended after it stays whole (the reader drops the half row)."""
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            start = os.fstat(fd).st_size
            lead = "" if not start or os.pread(fd, 1, start - 1) == b"\n" else "\n"
            header = "" if start else MANIFEST_HEADER + "\n"
            text = lead + header + csv_text((asdict(r) for r in rows), MANIFEST_FIELDS, header=False)
            # a file name that is not UTF-8 is written as its own bytes, as the file system holds it
            data = memoryview(text.encode("utf-8", "surrogateescape"))
            try:
                while data:
                    data = data[os.write(fd, data):]
            except BaseException:
                os.ftruncate(fd, start)
                raise
        finally:
            os.close(fd)  # closing releases the lock

    def history(self) -> History:
        """The manifest read once: the last complete block of every source and what the superseded ones list."""
        done: list[list[ManifestRow]] = []
        if self.path.exists():
            with open(self.path, "rb") as handle:
                fcntl.flock(handle.fileno(), fcntl.LOCK_SH)
                rows = read_manifest(self.path)
            open_blocks: dict[str, list[ManifestRow]] = {}
            for row in rows:
                block = open_blocks.setdefault(row.source, [])
                block.append(row)
                if row.face < 0:
                    done.append(open_blocks.pop(row.source))
        last = {block[-1].source: block for block in done}
        superseded = [block for block in done if last[block[-1].source] is not block]
        return History(last, _listed(superseded), _listed(last.values()))

    def blocks(self) -> dict[str, list[ManifestRow]]:
        """The last complete block of every source recorded so far."""
        return self.history().last
