"""The anonymizer's manifest, written as the run goes: one block of rows per input, appended and flushed as soon as
that input's outputs are on disk, under an exclusive lock.

A run killed at any moment leaves every finished input recorded; a rerun reads the blocks back and skips the inputs
whose source, weights and settings are unchanged and whose outputs still exist; two runs into one folder never drop
or interleave each other's rows. A block ends with the input's own row (``face`` = -1): a block without it was cut
by a kill and does not count.
"""
from __future__ import annotations

import csv
import fcntl
import io
import os
from dataclasses import asdict
from pathlib import Path

from ganonlib.io import MANIFEST_FIELDS, ManifestRow, read_manifest

__all__ = ["Journal"]


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, rows: list[ManifestRow]) -> None:
        """One input's rows (its own row last), in one locked write; the header comes with the first block."""
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=MANIFEST_FIELDS, lineterminator="\n")
        writer.writerows(asdict(r) for r in rows)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            header = "" if os.fstat(fd).st_size else ",".join(MANIFEST_FIELDS) + "\n"
            # a file name that is not UTF-8 is written as its own bytes, as the file system holds it
            os.write(fd, (header + buffer.getvalue()).encode("utf-8", "surrogateescape"))
        finally:
            os.close(fd)  # closing releases the lock

    def blocks(self) -> dict[str, list[ManifestRow]]:
        """The last complete block of every source recorded so far."""
        if not self.path.exists():
            return {}
        with open(self.path, "rb") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_SH)
            rows = read_manifest(self.path)
        done: dict[str, list[ManifestRow]] = {}
        open_blocks: dict[str, list[ManifestRow]] = {}
        for row in rows:
            block = open_blocks.setdefault(row.source, [])
            block.append(row)
            if row.face < 0:
                done[row.source] = open_blocks.pop(row.source)
        return done
