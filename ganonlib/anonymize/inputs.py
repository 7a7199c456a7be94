"""What ``ganon anonymize`` reads and where it writes: every entry of the input gets a row, no output name collides,
and nothing outside the output folder is touched.

Output layout: the input tree mirrored, each photo under its own relative name and in its own format::

    OUT/photos/<rel>            the whole photo, every face replaced or covered, in the input's format (JPEG stays
                                JPEG, PNG stays PNG, ...); see :func:`plan_photo_names` for a format that changes
    OUT/faces/<rel>_f<k>.png    the aligned anonymized crop of face k (on request: what the paper evaluates)
    OUT/videos/<rel>            a video, every face in every frame replaced or covered (same container)
    OUT/manifest.csv            one row per face and per input, appended as the run goes
    OUT/summary.json

Photos, crops and videos live in separate trees, so a crop name can never be a photo name (an input may be named
``x.jpg_f0``); crop names are the input's relative paths plus a fixed suffix, hence distinct.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from itertools import chain, count
from pathlib import Path

from ganonlib.io import display_name, output_folder_problem

__all__ = ["PHOTO_WRITE_FORMATS", "InputError", "InputFile", "PhotoTarget",
           "check_output_folder", "check_paths", "crop_name", "discover_inputs", "display_name", "photo_format_of",
           "plan_photo_names", "prepare_output", "video_name"]

# room for the longest suffix an output name adds to the input's: a crop's "_f9999.png", a renamed photo's "_gif_9.png"
_CROP_SUFFIX_ROOM = len("_f9999.png")

# the formats a photo is written back in (Pillow's names, with their usual extension); a photo in any other format
# Pillow decodes (GIF, AVIF, ICO, ...) is written as PNG, losslessly, and its row says so
PHOTO_WRITE_FORMATS = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp", "TIFF": ".tif", "BMP": ".bmp", "PPM": ".ppm"}
_SAME_FORMAT = {"MPO": "JPEG"}  # a phone's JPEG holding a second picture: the first is an ordinary JPEG
_ASKED = {"png": "PNG", "jpeg": "JPEG"}  # the photo_format setting, other than auto


class InputError(ValueError):
    """The input or output path as a whole cannot be used (nothing has been written): one line, exit 2."""


@dataclass(frozen=True)
class InputFile:
    path: Path
    rel: str  # path relative to the input root (posix), what the output names are built from
    problem: str = ""  # "<code>: <detail>" when the entry cannot be read as a file at all
    outcome: str = "error"  # of ``problem``: error, or skipped for entries that are not meant as photos

    @property
    def source(self) -> str:
        """The path as the manifest records it: a name that is not UTF-8 keeps its bytes (surrogate escapes in
        Python, the raw bytes in the file), so a rerun finds it again."""
        return str(self.path)


@dataclass(frozen=True)
class PhotoTarget:
    """Where and how one photo is written: ``name`` relative to OUT, ``fmt`` in Pillow's name, and ``note`` saying
    why the name or the format is not the input's ("" when both are)."""

    name: str
    fmt: str
    note: str = ""


def photo_format_of(path: Path) -> str:
    """The format of a photo by its content, as Pillow names it ("" when Pillow cannot open it: the extraction worker
    then records why)."""
    from PIL import Image

    try:
        with Image.open(path) as handle:
            return _SAME_FORMAT.get(handle.format or "", handle.format or "")
    except Exception:  # noqa: BLE001 - anything unreadable is the worker's to report, with its reason
        return ""


def _written_format(content: str, photo_format: str) -> str:
    if photo_format in _ASKED:
        return _ASKED[photo_format]
    return content if content in PHOTO_WRITE_FORMATS or not content else "PNG"


def plan_photo_names(photos: list[tuple[str, str]], photo_format: str = "auto") -> dict[str, PhotoTarget]:
    """The output of every photo of a run, from ``(rel, content format)`` pairs: ``rel -> PhotoTarget``.

    A photo written in its own format keeps its relative name exactly (``trip/IMG_1.JPG`` ->
    ``photos/trip/IMG_1.JPG``, a JPEG named ``x.png`` stays ``x.png``). One written in another format (asked for by
    ``photo_format``, or one the kit does not write, such as GIF) takes that format's extension in place of its own;
    where that name is another photo's, it gets the old extension as a suffix (``a.gif`` beside ``a.png`` ->
    ``a_gif.png``, then ``a_gif_2.png``), and its ``note`` says so. Names kept as they are never move: they are
    placed first, so the plan does not depend on the order of the inputs."""
    targets: dict[str, PhotoTarget] = {}
    taken: set[str] = set()
    renamed = []
    for rel, content in photos:
        fmt = _written_format(content, photo_format)
        if fmt == content or not content:
            targets[rel] = PhotoTarget(f"photos/{rel}", fmt or "PNG")
            taken.add(rel)
        else:
            renamed.append((rel, content, fmt))
    for rel, content, fmt in renamed:
        folder, _, name = rel.rpartition("/")
        stem, dot, old = name.rpartition(".")
        stem, old = (stem, old) if dot and stem else (name, "")
        prefix = f"{folder}/" if folder else ""
        why = (f"written as {fmt}, as photo_format asks" if photo_format in _ASKED
               else f"written as {fmt}: the kit does not write {content}")
        first = f"{prefix}{stem}{PHOTO_WRITE_FORMATS[fmt]}"
        tail = f"_{old.lower() or content.lower()}"
        # tried one after the other: a run of thousands of renamed photos builds no list of names per photo
        suffixed = (f"{prefix}{stem}{tail}{'' if n == 1 else f'_{n}'}{PHOTO_WRITE_FORMATS[fmt]}" for n in count(1))
        chosen = next(c for c in chain([first], suffixed) if c not in taken)
        taken.add(chosen)
        if chosen != first:
            why += f"; named {chosen.rpartition('/')[2]}, since {first.rpartition('/')[2]} is another photo's"
        targets[rel] = PhotoTarget(f"photos/{chosen}", fmt, why)
    return targets


def video_name(rel: str) -> str:
    return f"videos/{rel}"


def crop_name(rel: str, index: int) -> str:
    return f"faces/{rel}_f{index}.png"


def _inside(child: Path, parent: Path) -> bool:
    return child == parent or parent in child.parents


def _name_max(folder: Path) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


def prepare_output(out_dir: Path) -> None:
    """Create ``out_dir`` and prove it is writable, before any work: one clear error otherwise."""
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"output {display_name(out_dir)} is a file, not a folder: give a folder name")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / f".ganon-write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        raise InputError(f"cannot write to output folder {display_name(out_dir)}: {err.strerror or err}") from None


def _entry(path: Path, rel: str, name_max: int, out: Path | None = None) -> InputFile:
    """Classify one entry found in the input tree; ``out``: the resolved output folder, where the entry may lead
    (a link, a listed photo)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return InputFile(path, rel, "dangling_symlink: the link points to nothing")
    except OSError as err:
        return InputFile(path, rel, f"unreadable: {err.strerror or err}")
    try:
        inside = out is not None and _inside(path.resolve(), out)
    except OSError as err:  # a loop of links
        return InputFile(path, rel, f"unreadable: {err.strerror or err}")
    if inside:  # an output of the run could replace the very file it was made from
        return InputFile(path, rel, "inside_output: the file lies in the output folder (through a link, or listed "
                                    "from there): not read, so that no output replaces it")
    if not stat.S_ISREG(st.st_mode):
        return InputFile(path, rel, "not_a_file: neither a photo nor a folder (device, pipe or socket)", "skipped")
    if not os.access(path, os.R_OK):
        return InputFile(path, rel, "unreadable: permission denied")
    longest = max(len(os.fsencode(part)) for part in rel.split("/"))
    if longest + _CROP_SUFFIX_ROOM > name_max:
        return InputFile(path, rel, f"name_too_long: the output name would exceed the file system's {name_max} "
                                    f"bytes; rename the file")
    return InputFile(path, rel)


def _walk(root: Path, folder: Path, skip: Path, name_max: int, found: list[InputFile]) -> None:
    try:
        entries = sorted(os.scandir(folder), key=lambda e: os.fsencode(e.name))
    except OSError as err:
        rel = folder.relative_to(root).as_posix()
        found.append(InputFile(folder, rel, f"unreadable_folder: {err.strerror or err}; its photos were not read"))
        return
    for entry in entries:
        path = Path(entry.path)
        rel = path.relative_to(root).as_posix()
        if entry.is_dir(follow_symlinks=False):
            if path.resolve() != skip:  # the output folder inside the input: never re-ingest our own outputs
                _walk(root, path, skip, name_max, found)
        elif entry.is_symlink() and path.is_dir():
            found.append(InputFile(path, rel, "symlink_to_folder: not followed (it could loop); link the photos "
                                              "themselves or pass the folder", "skipped"))
        else:  # only a link can lead into the output folder: the walk never enters it
            found.append(_entry(path, rel, name_max, skip if entry.is_symlink() else None))


def check_output_folder(out_dir: Path) -> None:
    """:func:`ganonlib.io.output_folder_problem` as :class:`InputError`."""
    if problem := output_folder_problem(out_dir):
        raise InputError(problem)


def check_paths(inputs: Path | list[Path], out_dir: Path) -> tuple[Path, int]:
    """Refuse (:class:`InputError`) a missing input, an output folder that is the input or holds it, and one
    :func:`check_output_folder` refuses, before any work; returns the resolved output folder and the longest file
    name its file system takes."""
    try:
        out = out_dir.resolve()
        name_max = _name_max(out if out.is_dir() else out.parent if out.parent.is_dir() else Path("/"))
    except OSError as err:  # a name too long for the file system, a loop of links
        raise InputError(f"output {display_name(out_dir)} cannot be used: {err.strerror or err}") from None
    single = not isinstance(inputs, list)
    for root in [Path(inputs)] if single else [Path(p) for p in inputs]:
        if not root.exists() and not root.is_symlink():
            raise InputError(f"input {display_name(root)} does not exist")
        if (single or root.is_dir()) and _inside(root.resolve(), out):  # a listed photo in OUT: its own row
            raise InputError(f"output {display_name(out_dir)} is the input or contains it: choose a folder outside "
                             f"the input, so no photo of yours can be overwritten")
    check_output_folder(out_dir)
    return out, name_max


def discover_inputs(inputs: Path | list[Path], out_dir: Path) -> list[InputFile]:
    """Every entry of a photo, a folder tree or a list of photos and folders (a listed photo is named by its file
    name, a listed folder's tree by the folder's name), in a stable order, each with the relative name its outputs
    take, after :func:`check_paths`. An output folder inside the input folder is left out of the walk; an
    entry that leads into the output folder (a link, a listed photo) gets the problem ``inside_output``."""
    out, name_max = check_paths(inputs, out_dir)
    if isinstance(inputs, list):
        listed: list[InputFile] = []
        for p in map(Path, inputs):
            if p.is_dir():  # its tree under the folder's own name, as one folder given alone is mirrored
                _walk(p.parent, p, out, name_max, listed)
            else:
                listed.append(_entry(p, p.name, name_max, out))
        found, names, folders = [], set(), set()
        for entry in listed:
            parts = entry.rel.split("/")
            within = {"/".join(parts[:i]) for i in range(1, len(parts))}
            if entry.rel in names or entry.rel in folders or within & names:  # a name taken, as a file or a folder
                entry = InputFile(entry.path, entry.rel, "name_collision: another input has the same name (listed "
                                                         "photos are named by their file name, listed folders by "
                                                         "theirs)")
            else:
                names.add(entry.rel)
                folders |= within
            found.append(entry)
        return found
    root = Path(inputs)
    if not root.is_dir():
        return [_entry(root, root.name, name_max)]
    found = []
    _walk(root, root, out, name_max, found)
    return found
