"""What ``ganon anonymize`` reads and where it writes: every entry of the input gets a row, no output name collides,
and nothing outside the output folder is touched.

Output layout (names keep the source's own name, extension included, so ``x.jpg`` and ``x.png`` never meet)::

    OUT/photos/<rel>.<png|jpg>  the whole photo, every face replaced or covered (with paste-back); JPEG for a
                                JPEG input unless the format setting says otherwise
    OUT/faces/<rel>_f<k>.png    the aligned anonymized crop of face k
    OUT/videos/<rel>            a video, every face in every frame replaced or covered (same container)
    OUT/manifest.csv            one row per face and per input, appended as the run goes
    OUT/summary.json

Photos and crops live in separate trees, so a crop name can never be a photo name (an input may be named
``x.jpg_f0``); within a tree the names are the input's relative paths plus a fixed suffix, hence distinct.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

__all__ = ["InputError", "InputFile", "check_paths", "crop_name", "discover_inputs", "display_name", "photo_name",
           "prepare_output", "video_name"]

_CROP_SUFFIX_ROOM = len("_f9999.png")


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


def display_name(path: Path | str) -> str:
    """The path as text for the manifest: a name that is not valid UTF-8 keeps its bytes as ``\\xNN`` escapes."""
    return os.fsencode(str(path)).decode("utf-8", "backslashreplace")


def photo_name(rel: str, jpeg: bool = False) -> str:
    return f"photos/{rel}.{'jpg' if jpeg else 'png'}"


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


def _entry(path: Path, rel: str, name_max: int) -> InputFile:
    """Classify one entry found in the input tree."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return InputFile(path, rel, "dangling_symlink: the link points to nothing")
    except OSError as err:
        return InputFile(path, rel, f"unreadable: {err.strerror or err}")
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
        else:
            found.append(_entry(path, rel, name_max))


def check_paths(inputs: Path | list[Path], out_dir: Path) -> tuple[Path, int]:
    """Refuse (:class:`InputError`) a missing input and an output folder that is the input or holds it, before any
    work; returns the resolved output folder and the longest file name its file system takes."""
    try:
        out = out_dir.resolve()
        name_max = _name_max(out if out.is_dir() else out.parent if out.parent.is_dir() else Path("/"))
    except OSError as err:  # a name too long for the file system, a loop of links
        raise InputError(f"output {display_name(out_dir)} cannot be used: {err.strerror or err}") from None
    if not isinstance(inputs, list):
        root = Path(inputs)
        if not root.exists() and not root.is_symlink():
            raise InputError(f"input {display_name(root)} does not exist")
        if _inside(root.resolve(), out):
            raise InputError(f"output {display_name(out_dir)} is the input or contains it: choose a folder outside "
                             f"the input, so no photo of yours can be overwritten")
    return out, name_max


def discover_inputs(inputs: Path | list[Path], out_dir: Path) -> list[InputFile]:
    """Every entry of a photo, a folder tree or a list of photos, in a stable order, each with the relative name its
    outputs take, after :func:`check_paths`. An output folder inside the input folder is left out of the walk."""
    out, name_max = check_paths(inputs, out_dir)
    if isinstance(inputs, list):
        found, seen = [], set()
        for p in map(Path, inputs):
            rel = p.name
            entry = _entry(p, rel, name_max) if rel not in seen else \
                InputFile(p, rel, "name_collision: another listed photo has the same file name")
            seen.add(rel)
            found.append(entry)
        return found
    root = Path(inputs)
    if not root.is_dir():
        return [_entry(root, root.name, name_max)]
    found = []
    _walk(root, root, out, name_max, found)
    return found
