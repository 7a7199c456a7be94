"""The authors' published GANonymization checkpoints: where they are, what they should be, and a careful download.

Nothing is downloaded unless a user asks (``ganon weights fetch``). The download resumes a cut transfer with an HTTP
Range request, shows its progress, lands under a ``.part`` name and is renamed only once whole and verified (size,
then sha256, where known). A mismatch stops with both values; ``allow_mismatch`` keeps the file anyway.
"""
from __future__ import annotations

import os
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ganonlib.io import file_sha256
from ganonlib.progress import progress_bar
from ganonlib.weights import WeightsError

__all__ = ["PUBLISHED", "DownloadError", "PublishedCheckpoint", "download", "verify_file"]

_CHUNK = 1 << 20


@dataclass(frozen=True)
class PublishedCheckpoint:
    name: str
    url: str
    epochs: int
    about: str
    size: int | None = None  # bytes, where known
    sha256: str | None = None  # where known

    @property
    def filename(self) -> str:
        return f"ganonymization_{self.epochs}_epochs.ckpt"


# the links of the authors' repository README (hcmlab/GANonymization, "Training")
PUBLISHED = {
    "publication": PublishedCheckpoint(
        "publication", "https://mediastore.rz.uni-augsburg.de/get/NsLjQYey65/", 25,
        "trained for 25 epochs: the model the paper's results come from",
        size=687_127_579, sha256="eba49bd525033b55022a91d6b4398ab088b51339fd6895db7afdd648d776eec9"),
    "demo": PublishedCheckpoint(
        "demo", "https://mediastore.rz.uni-augsburg.de/get/Sfle_etB1D/", 50,
        "trained for 50 epochs: the authors' demo version (size and sha256 not published)"),
}


class DownloadError(WeightsError):
    """The transfer failed after its retries, or the file is not what was published."""


def _open(url: str, offset: int, timeout: float):
    request = urllib.request.Request(url, headers={"Range": f"bytes={offset}-"} if offset else {})
    return urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 (the URL is the user's or the registry's)


def _transfer(url: str, part: Path, timeout: float, progress: bool) -> None:
    """Append the rest of ``url`` to ``part`` (starting over when the server ignores the Range request)."""
    offset = part.stat().st_size if part.exists() else 0
    try:
        response = _open(url, offset, timeout)
    except urllib.error.HTTPError as err:
        if err.code == 416 and offset:  # the range starts at the end: the part is already whole
            return
        raise
    with response:
        if offset and response.status != 206:
            offset = 0  # no resume on this server: the body is the whole file
        length = response.headers.get("Content-Length")
        total = offset + int(length) if length is not None else None
        with open(part, "ab" if offset else "wb") as out, \
                progress_bar(total=total, initial=offset, unit="B", unit_scale=True,
                             desc=part.name.removesuffix(".part"), disable=not progress) as bar:
            while chunk := response.read(_CHUNK):
                out.write(chunk)
                bar.update(len(chunk))
            out.flush()
            os.fsync(out.fileno())
        if total is not None and part.stat().st_size < total:
            raise ConnectionError(f"the connection closed at {part.stat().st_size:,} of {total:,} bytes")


def download(url: str, dest: str | Path, size: int | None = None, sha256: str | None = None,
             allow_mismatch: bool = False, retries: int = 5, timeout: float = 60.0, progress: bool = True) -> Path:
    """``url`` to ``dest`` (atomically; a finished ``dest`` is verified and kept, a ``.part`` is resumed)."""
    dest = Path(dest)
    part = dest.with_name(dest.name + ".part")
    dest.parent.mkdir(parents=True, exist_ok=True)
    if not dest.exists():
        for attempt in range(retries + 1):
            try:
                _transfer(url, part, timeout, progress)
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as err:
                if isinstance(err, urllib.error.HTTPError) and err.code < 500:
                    raise DownloadError(f"{url}: HTTP {err.code} {err.reason}") from None
                if isinstance(err, urllib.error.URLError) and isinstance(err.reason, socket.gaierror):
                    raise DownloadError(f"{url}: the host cannot be resolved ({err.reason}); this needs a network "
                                        f"connection, or put the file at {dest} yourself") from None
                if attempt == retries:
                    kept = part.stat().st_size if part.exists() else 0
                    raise DownloadError(f"{url}: {err} after {retries} retries; {kept:,} bytes kept in {part}, "
                                        f"run the same command again to resume") from None
                time.sleep(min(2 ** attempt, 30))
        verify_file(part, size, sha256, allow_mismatch)
        os.replace(part, dest)
    else:
        verify_file(dest, size, sha256, allow_mismatch)
    return dest


def verify_file(path: Path, size: int | None, sha256: str | None, allow_mismatch: bool = False) -> None:
    """Size, then sha256, where known; a mismatch is a :class:`DownloadError` with both values."""
    problems = []
    if size is not None and path.stat().st_size != size:
        problems.append(f"size {path.stat().st_size:,} bytes, expected {size:,}")
    if sha256 is not None and not problems:
        actual = file_sha256(path)
        if actual != sha256:
            problems.append(f"sha256 {actual}, expected {sha256}")
    if problems and not allow_mismatch:
        raise DownloadError(f"{path} is not the published file: {'; '.join(problems)}. It is kept there; if you "
                            f"trust it, run again with --allow-mismatch")
