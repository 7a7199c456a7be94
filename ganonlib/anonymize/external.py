"""Outputs of other anonymization tools (DeepPrivacy2, CIAGAN), run on the kit's crops elsewhere and imported by
file name, so that the evaluation compares them with ours on the same faces."""
from __future__ import annotations

from pathlib import Path

from ganonlib.anonymize.method_outputs import finish_method, output_row, pair_index
from ganonlib.io import IMAGE_SUFFIXES, atomic_write_image, read_image
from ganonlib.methods import METHODS

__all__ = ["EXTERNAL_METHODS", "import_external"]

EXTERNAL_METHODS = tuple(name for name, m in METHODS.items() if m.kind == "external")


def import_external(folder: str | Path, processed_dir: str | Path, out_dir: str | Path, method: str,
                    splits: tuple[str, ...] | None = None) -> dict:
    """Take another tool's outputs (DeepPrivacy2, CIAGAN) run on the kit's crops: a file whose name (without
    suffix) is a crop's key, or the crop's file name, anywhere below ``folder`` becomes that key's anonymized
    version. Crops without an output and files matching no crop are reported; an absent folder gives an empty
    method marked ``provided: false``."""
    folder, processed_dir, out_dir = Path(folder), Path(processed_dir), Path(out_dir)
    index = pair_index(processed_dir, splits)
    if not folder.is_dir():
        return finish_method(out_dir, [], {"method": method, "provided": False, "pairs": 0,
                                           "note": f"not provided: no folder {folder} (see "
                                                   f"docs/datasets-and-models.md, 'Baselines')"})
    found: dict[str, Path] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES:
            found.setdefault(path.stem, path)
    rows, missing = [], []
    for entry in index.itertuples():
        source = found.pop(entry.key, None)
        if source is None:
            missing.append(entry.key)
            continue
        row = output_row(entry, processed_dir)
        atomic_write_image(out_dir / row["image"], read_image(source, min_side=1))
        rows.append(row)
    return finish_method(out_dir, rows, {
        "method": method, "provided": True, "folder": str(folder), "pairs": len(rows),
        "crops_without_output": len(missing), "unmatched_files": sorted(str(p) for p in found.values()),
        "missing_keys": missing})
