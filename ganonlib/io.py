"""Image reading, atomic writes and per-file manifests.

Every photo that enters the kit goes through :func:`read_image`, so that EXIF orientation, exotic modes and
decompression bombs are handled in one place; every file the kit writes goes through an ``atomic_*`` helper, so
that a killed run never leaves a half-written output that a rerun would trust.
"""
from __future__ import annotations

import csv
import fcntl
import hashlib
import io
import json
import math
import os
import tempfile
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from tqdm.auto import tqdm

__all__ = [
    "IMAGE_SUFFIXES",
    "ImageReadError",
    "ManifestRow",
    "atomic_write_bytes",
    "atomic_write_csv",
    "atomic_write_image",
    "atomic_write_json",
    "atomic_write_npy",
    "atomic_write_text",
    "atomic_write_torch",
    "create_manifest",
    "display_name",
    "file_sha256",
    "iter_images",
    "json_number",
    "output_folder_problem",
    "read_image",
    "read_images",
    "read_manifest",
    "reusable",
    "same_file",
    "to_rgb8",
    "write_manifest",
    "MANIFEST_FIELDS",
    "MANIFEST_HEADER",
    "MANIFEST_NAME",
    "MAX_SIDE",
]

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".jfif", ".png", ".bmp", ".webp", ".avif", ".tif", ".tiff", ".gif",
                            ".ppm", ".pgm"})

# OpenCV's geometric functions abort the process (SIGABRT) on an image side of 32767 px or more (SHRT_MAX)
MAX_SIDE = 32766

# Pillow's own guard only warns below 2x its limit; the kit refuses explicitly from the header, before decoding.
Image.MAX_IMAGE_PIXELS = None


class ImageReadError(ValueError):
    """A file that cannot be used as a photo. ``reason`` is a short machine-readable code for the manifest."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def iter_images(root: Path) -> Iterator[Path]:
    """Image files below ``root`` (or ``root`` itself), by suffix, in sorted order for reproducible runs."""
    root = Path(root)
    if root.is_file():
        yield root
        return
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES:
            yield path


def to_rgb8(image: Image.Image) -> np.ndarray:
    """Any Pillow image -> (H, W, 3) uint8 RGB. Alpha is composited on black, high bit depths are rescaled."""
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        # 16-bit and float greyscale: rescale the full range instead of clipping at 255
        arr = np.asarray(image, dtype=np.float64)
        top = 65535.0 if mode.startswith("I;16") or arr.max(initial=0) > 255 else 255.0
        if mode == "F":
            top = max(float(arr.max(initial=0)), 1.0) if arr.max(initial=0) > 1.0 else 1.0
        gray = np.clip(np.rint(arr / top * 255.0), 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(gray[..., None], 3, axis=2))
    if mode == "P":
        image = image.convert("RGBA") if "transparency" in image.info else image.convert("RGB")
    elif mode in ("LA", "PA", "La"):
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "RGBa"):
        black = Image.new("RGBA", image.size, (0, 0, 0, 255))
        image = Image.alpha_composite(black, image.convert("RGBA"))
    if image.mode != "RGB":
        image = image.convert("RGB")  # L, 1, CMYK, YCbCr, LAB, HSV
    return np.ascontiguousarray(np.asarray(image, dtype=np.uint8))


# photos that cameras and phones write but Pillow (without plugins) cannot decode: such a file is a photo the run
# failed on, never "not an image" (a folder of phone photos must not pass with nothing written)
_UNDECODED_SUFFIXES = {".heic": "HEIC", ".heif": "HEIF", ".hif": "HEIF", ".jxl": "JPEG XL", ".cr2": "Canon raw",
                       ".cr3": "Canon raw", ".nef": "Nikon raw", ".arw": "Sony raw", ".raf": "Fujifilm raw",
                       ".orf": "Olympus raw", ".rw2": "Panasonic raw", ".dng": "DNG raw", ".pef": "Pentax raw",
                       ".srw": "Samsung raw"}
_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs")


def undecoded_photo_format(path: str | os.PathLike) -> str:
    """The photo format a file Pillow could not open is in, from its first bytes or its suffix; "" for none."""
    with open(path, "rb") as handle:
        head = handle.read(64)
    if head[4:8] == b"ftyp":  # ISO base media: the brands say HEIF (AVIF, also "mif1", is decoded)
        brand, ftyp = head[8:12], head[:int.from_bytes(head[:4], "big")]
        if brand in _HEIF_BRANDS or (brand in (b"mif1", b"msf1") and b"avi" not in ftyp):
            return "HEIC" if brand.startswith(b"he") else "HEIF"
    if head.startswith((b"\xff\x0a", b"\x00\x00\x00\x0cJXL \r\n\x87\n")):
        return "JPEG XL"
    return _UNDECODED_SUFFIXES.get(Path(path).suffix.lower(), "")


def read_image(path: str | os.PathLike, max_pixels: int = 100_000_000, min_side: int = 16) -> np.ndarray:
    """Read a photo as (H, W, 3) uint8 RGB with its EXIF orientation applied.

    Raises :class:`ImageReadError` with reason ``empty``, ``unreadable``, ``unsupported_format`` (a photo format
    Pillow cannot decode: HEIC, JPEG XL, camera raw), ``truncated``, ``too_large`` or ``too_small``; the size checks
    use the header only, so a decompression bomb is never decoded.
    """
    path = Path(path)
    if path.stat().st_size == 0:
        raise ImageReadError("empty", f"{path} is a zero-byte file")
    try:
        with Image.open(path) as image:
            width, height = image.size
            if width * height > max_pixels:
                raise ImageReadError("too_large", f"{width}x{height} exceeds max_pixels={max_pixels}")
            if max(width, height) > MAX_SIDE:
                raise ImageReadError("too_large", f"{width}x{height}: a side over {MAX_SIDE} px, more than OpenCV "
                                                  f"can process")
            if min(width, height) < min_side:
                raise ImageReadError("too_small", f"{width}x{height} is below min_side={min_side}")
            image.load()
            image = ImageOps.exif_transpose(image)
            return to_rgb8(image)
    except ImageReadError:
        raise
    except UnidentifiedImageError as err:
        if fmt := undecoded_photo_format(path):
            raise ImageReadError("unsupported_format", f"a {fmt} photo, which this installation cannot decode: "
                                                       f"convert it to JPEG or PNG") from err
        raise ImageReadError("unreadable", f"not an image Pillow can decode ({err})") from err
    except OSError as err:
        reason = "truncated" if "truncated" in str(err).lower() else "unreadable"
        raise ImageReadError(reason, str(err)) from err
    except (ValueError, SyntaxError, Image.DecompressionBombError) as err:
        raise ImageReadError("unreadable", str(err)) from err


def read_images(paths: Iterable[str | os.PathLike], desc: str = "", progress: bool = False) -> list[np.ndarray]:
    """:func:`read_image` of every path, in order, for the evaluation's models (crops may be small: no minimum side);
    ``progress`` shows a bar named ``desc``."""
    return [read_image(p, min_side=1) for p in tqdm(list(paths), desc=desc or None, disable=not progress)]


def file_sha256(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Both paths name one existing file (through links or other spellings): a command told to write its result
    over its own input must refuse, or the input is lost."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write through a temp file in the same folder and rename it over ``path``: readers never see half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # the temp name carries at most 100 bytes of the final one: a name near the file system's 255-byte limit
    # plus mkstemp's 14 would not fit, and the write of a valid name would fail
    stem = os.fsdecode(os.fsencode(path.name)[:100])
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{stem}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp makes 0600; outputs get the mode any new file of the user's gets
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """UTF-8; file names that are not (surrogate escapes in Python) keep their own bytes."""
    return atomic_write_bytes(path, text.encode("utf-8", "surrogateescape"))


def atomic_write_json(path: str | os.PathLike, obj: object) -> Path:
    """``obj`` as indented JSON with a final newline (summaries and metrics files)."""
    return atomic_write_text(path, json.dumps(obj, indent=2) + "\n")


def json_number(value: float | None, digits: int = 6) -> float | None:
    """A metric for a JSON file: rounded, and None (null) where it is undefined (NaN), which JSON cannot hold."""
    return None if value is None or math.isnan(float(value)) else round(float(value), digits)


def atomic_write_image(path: str | os.PathLike, image: np.ndarray, fmt: str | None = None) -> Path:
    """Save an (H, W[, 3]) uint8 array in ``fmt`` (Pillow's name), else in the format its suffix names (PNG for
    training pairs: lossless; PNG for an unknown suffix)."""
    path = Path(path)
    fmt = fmt or Image.registered_extensions().get(path.suffix.lower(), "PNG")
    if fmt == "PNG" and image.dtype == np.uint8 and (image.ndim == 2 or image.shape[2] == 3):
        import cv2

        # no parameters: OpenCV's speed setting, every row with PNG's "sub" filter and zlib level 1. Lossless like
        # any setting, in about half the time of a filter chosen per row (benchmarks/speed/png_encoding.py: a 512 px
        # photo in 14 ms instead of 25 at the same size, an aligned face 13 % larger); libpng through OpenCV also encodes
        # in half the time of Pillow's encoder
        bgr = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
        ok, encoded = cv2.imencode(".png", bgr)
        if ok:
            return atomic_write_bytes(path, encoded.tobytes())
    buffer = io.BytesIO()
    # JPEG at 95 without chroma subsampling: the edges of a pasted-back face stay as sharp as the rest
    options = {"PNG": {"compress_level": 1}, "JPEG": {"quality": 95, "subsampling": 0},
               "WEBP": {"quality": 95}}.get(fmt, {})
    Image.fromarray(np.ascontiguousarray(image)).save(buffer, format=fmt, **options)
    return atomic_write_bytes(path, buffer.getvalue())


def atomic_write_torch(path: str | os.PathLike, obj: object) -> Path:
    """``torch.save`` through :func:`atomic_write_bytes`: a checkpoint is either whole or absent."""
    import torch  # imported here: reading images must not pay for torch

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return atomic_write_bytes(path, buffer.getvalue())


def atomic_write_npy(path: str | os.PathLike, array: np.ndarray) -> Path:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return atomic_write_bytes(path, buffer.getvalue())


# one object for every missing score: rows compare equal by identity where NaN != NaN (a rerun compares the rows
# it would write with those it read back)
NO_SCORE = float("nan")


@dataclass
class ManifestRow:
    """One outcome of one source file (``face`` = -1) or of one face in it (``face`` >= 0).

    ``outcome`` is ``ok``, ``skipped`` (a recorded, expected miss such as no face) or ``error`` (unusable input);
    ``reason`` is a short code (``no_face``, ``no_mesh``, ``truncated`` ...) followed by detail text.
    """

    source: str
    outcome: str
    reason: str = ""
    outputs: str = ""  # ';'-separated paths relative to the output root
    face: int = -1
    split: str = ""
    score: float = NO_SCORE
    sha256: str = ""
    fingerprint: str = ""
    box: str = ""  # "x0 y0 x1 y1" of the face in source pixels (face rows)


MANIFEST_FIELDS = [f.name for f in fields(ManifestRow)]
MANIFEST_HEADER = ",".join(MANIFEST_FIELDS)  # every manifest's first line
MANIFEST_NAME = "manifest.csv"  # in every folder a run of the kit writes: what marks the folder as the kit's


def csv_quoting(values: Iterable[Any]) -> int:
    """How to quote CSV rows holding these values. The csv module quotes a field only for the characters of its line
    terminator ("\n"), yet every reader ends a line at a lone "\r" too: a file name holding one would split its row.
    Such rows are written with every field quoted; all others as before (their bytes, and DVC's hashes, unchanged)."""
    return csv.QUOTE_ALL if any(isinstance(v, str) and "\r" in v for v in values) else csv.QUOTE_MINIMAL


def csv_text(rows: Iterable[dict], fieldnames: list[str], header: bool = True) -> str:
    """Rows of dicts as CSV text, each row quoted as :func:`csv_quoting` says."""
    buffer = io.StringIO()
    if header:
        csv.writer(buffer, lineterminator="\n").writerow(fieldnames)
    writers = {quoting: csv.DictWriter(buffer, fieldnames=fieldnames, lineterminator="\n", quoting=quoting)
               for quoting in (csv.QUOTE_MINIMAL, csv.QUOTE_ALL)}
    for row in rows:
        writers[csv_quoting(row.values())].writerow(row)
    return buffer.getvalue()


def frame_csv(frame: Any) -> str:
    """A pandas DataFrame as CSV text without its index, quoted as :func:`csv_quoting` says (all fields, where a
    string cell holds a "\r")."""
    cells = (v for column in frame.select_dtypes(exclude="number") for v in frame[column])
    return frame.to_csv(index=False, lineterminator="\n", quoting=csv_quoting(cells))


def atomic_write_csv(path: str | os.PathLike, rows: Iterable[dict], fieldnames: list[str]) -> Path:
    """Rows of dicts as CSV with a header, through :func:`atomic_write_text`."""
    return atomic_write_text(path, csv_text(rows, fieldnames))


def display_name(path: str | os.PathLike) -> str:
    """The path as text for the manifest and messages: a name that is not valid UTF-8 keeps its bytes as ``\\xNN``
    escapes."""
    return os.fsencode(str(path)).decode("utf-8", "backslashreplace")


def create_manifest(path: str | os.PathLike, header: str = MANIFEST_HEADER) -> None:
    """Write the ``header`` line now, before any output, if the manifest (or index) is new, under the lock the
    appenders take: a folder holding the kit's manifest is an earlier run's, which a later run may write into, a run
    killed before its first row included."""
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        if not os.fstat(fd).st_size:
            os.write(fd, (header + "\n").encode())
    finally:
        os.close(fd)


def _starts_with(path: Path, header: str) -> bool:
    """A regular file that is empty (a run killed as it created it) or starts with the ``header`` line."""
    try:
        with open(path, "rb") as handle:
            first = handle.readline(len(header) + 3)
    except OSError:
        return False
    return first == b"" or first.rstrip(b"\r\n") == header.encode()


def output_folder_problem(out_dir: str | os.PathLike, marker: str = MANIFEST_NAME,
                          header: str = MANIFEST_HEADER) -> str:
    """Why a run cannot write into the existing folder ``out_dir`` without costing a file of the user's, or "".

    A run writes its ``marker`` file (the manifest; the sample's index), ``summary.json`` and its outputs' names over
    whatever is there, and removes what an earlier marker lists, so an existing folder must be empty or an earlier
    run's (its marker starts with the kit's ``header``, written before any output), and hold no link to a folder, nor
    a linked marker, through which a write would land outside it. Names starting with "." are not looked at: the kit
    writes none but its own temporary files."""
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        return ""  # new (created by the run), or a file (refused where the folder is made)
    try:
        names = [entry.name for entry in os.scandir(out_dir) if not entry.name.startswith(".")]
    except OSError as err:
        return f"cannot read output folder {display_name(out_dir)}: {err.strerror or err}"
    if not names:
        return ""
    marker_path = out_dir / marker
    if marker_path.is_symlink() or (marker_path.exists() and not marker_path.is_file()):
        return (f"{display_name(marker_path)} is a link or not a file: the run writes there, and would write outside "
                f"the output folder; choose a new or empty folder")
    if not _starts_with(marker_path, header):
        return (f"output {display_name(out_dir)} already holds files that no run of the kit wrote (no {marker} of "
                f"the kit there): choose a new or empty folder, or an earlier run's output folder, so that no file "
                f"of yours is overwritten")
    for folder, dirs, _ in os.walk(out_dir):
        for name in dirs:
            if os.path.islink(os.path.join(folder, name)):
                return (f"{display_name(os.path.join(folder, name))} is a link to a folder: a run's writes "
                        f"through it would land outside the output folder; remove the link or choose another folder")
    return ""


def write_manifest(path: str | os.PathLike, rows: Iterable[ManifestRow]) -> Path:
    return atomic_write_csv(path, (asdict(row) for row in rows), MANIFEST_FIELDS)


def reusable(rows: list[ManifestRow], sha256: str, fingerprint: str, out_dir: Path) -> bool:
    """A file's recorded rows still stand: same source hash and settings, and every output they list exists (a
    rerun then skips the file)."""
    return bool(rows) and all(
        r.sha256 == sha256 and r.fingerprint == fingerprint
        and all((out_dir / p).is_file() for p in filter(None, r.outputs.split(";")))
        for r in rows)


def read_manifest(path: str | os.PathLike) -> list[ManifestRow]:
    path = Path(path)
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8", errors="surrogateescape") as handle:
        rows = []
        for raw in csv.DictReader(handle):
            # a line cut short by a killed writer or a full disk, or one a writer of an older kit split at a "\r":
            # unreadable rows count as never written (their input is done again)
            if any(raw.get(k) is None for k in MANIFEST_FIELDS) or None in raw:
                continue
            try:
                face, score = int(raw["face"]), float(raw["score"] or "nan")
            except ValueError:
                continue
            score = NO_SCORE if math.isnan(score) else score
            rows.append(ManifestRow(**{**{k: raw[k] for k in MANIFEST_FIELDS}, "face": face, "score": score}))
        return rows
