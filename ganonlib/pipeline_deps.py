"""What each pipeline stage depends on, derived, never pasted: the ``ganonlib`` files its notebook runs (the
notebook's imports, followed through every module they import, function-level imports included: they run when the
notebook calls that function), and the settings that change its outputs (each config field's ``changes``,
:data:`ganonlib.config.CHANGES`).

``dvc.yaml`` lists exactly these as each stage's code dependencies and (for the stages in :data:`STAGE_PARAMS`)
params, so that changing a module or a setting reruns the stages it reaches and no other; ``docs/parameters.md``
lists every setting with what it changes. After changing an import or a setting, rewrite both with
``python -m ganonlib.pipeline_deps --write``; ``tests/test_pipeline_deps.py`` fails when they drift apart.
"""
from __future__ import annotations

import argparse
import json
import re
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Callable

from ganonlib.code_files import PACKAGE, modules_run_by, source_imports
from ganonlib.config import (CHANGES, AnonymizeParams, ClassifierEvalConfig, GanTrainConfig, IdentityEvalConfig,
                             PreprocessConfig, SampleConfig, changing)
from ganonlib.io import atomic_write_text

__all__ = ["STAGE_PARAMS", "derived_dvc_yaml", "notebook_imports", "notebook_modules", "parameters_page",
           "stage_params"]

# The stages whose params list is derived: (params.yaml section, its config class, what of it the stage's outputs
# depend on). The other stages list whole sections.
STAGE_PARAMS: dict[str, list[tuple[str, type, tuple[str, ...]]]] = {
    "preprocess": [("preprocess", PreprocessConfig, ("faces",))],
    "anonymize_ours": [("anonymize", AnonymizeParams, ("photos", "crops", "paste_back", "outcome")),
                       ("preprocess", PreprocessConfig, ("photos",))],
    "anonymize_videos": [("anonymize", AnonymizeParams, ("photos", "videos", "video_folders", "outcome")),
                         ("preprocess", PreprocessConfig, ("photos",))],
}
# params.yaml's sections with one config class, in the file's order (docs/parameters.md)
SECTIONS: list[tuple[str, type]] = [("sample", SampleConfig), ("preprocess", PreprocessConfig), ("gan", GanTrainConfig),
                                    ("anonymize", AnonymizeParams), ("eval_identity", IdentityEvalConfig),
                                    ("eval_emotion", ClassifierEvalConfig), ("eval_attributes", ClassifierEvalConfig)]


def _code_cells(notebook: Path) -> str:
    cells = json.loads(notebook.read_text())["cells"]
    lines = [line for c in cells if c["cell_type"] == "code" for line in "".join(c["source"]).splitlines()]
    # IPython magics and shell escapes are no Python; they import nothing of the package
    return "\n".join(line for line in lines if not line.lstrip().startswith(("%", "!")))


def notebook_imports(notebook: str | Path, root: str | Path = ".") -> set[str]:
    return source_imports(_code_cells(Path(notebook)), Path(root))


def notebook_modules(notebook: str | Path, root: str | Path = ".") -> list[str]:
    """Every ganonlib file the notebook may run, as sorted paths relative to ``root`` (:func:`modules_run_by` of its
    imports)."""
    return modules_run_by(notebook_imports(notebook, root), root)


def stage_params(stage: str) -> list[str]:
    """The params.yaml keys a stage of :data:`STAGE_PARAMS` lists: every field whose ``changes`` meet the stage's
    outputs, section by section, in field order."""
    return [f"{section}.{name}" for section, cls, outputs in STAGE_PARAMS[stage] for name in changing(cls, *outputs)]


_STAGE = re.compile(r"^  (\w+):\n(?:(?:    .*|)\n)*", re.M)
_NOTEBOOK = re.compile(r"ganonlib\.stage_run (notebooks/[\w.]+\.ipynb)")


def _rewrite_list(block: str, key: str, derived: Callable[[str], bool], new: list[str]) -> str:
    """In one stage's text, replace the items of list ``key`` that are ``derived`` by ``new`` (placed where the
    first of them was, or after the others)."""
    m = re.search(rf"^(?P<ind> +){key}:\n(?P<items>(?:(?P=ind)  - .*\n)+)", block, re.M)
    if m is None:
        raise ValueError(f"no {key}: list in\n{block}")
    ind = m["ind"] + "  "
    items = m["items"].splitlines()
    replaced = [derived(line[len(ind) + 2:]) for line in items]
    at = replaced.index(True) if True in replaced else len(items)
    lines = [line for line, gone in zip(items, replaced) if not gone]
    lines[at:at] = [f"{ind}- {item}" for item in new]  # every item before `at` is kept: the place is unchanged
    return block[:m.start("items")] + "".join(f"{line}\n" for line in lines) + block[m.end("items"):]


def derived_dvc_yaml(text: str, root: Path) -> str:
    """``dvc.yaml``'s text with every stage's code dependencies and the derived params lists rewritten."""
    out, last = [], 0
    for m in _STAGE.finditer(text):
        name, block = m[1], m[0]
        notebook = _NOTEBOOK.search(block)
        if notebook:
            code = notebook_modules(root / notebook[1], root)
            block = _rewrite_list(block, "deps", lambda item: item.startswith(f"{PACKAGE}/"), code)
        if name in STAGE_PARAMS:
            sections = {section for section, _, _ in STAGE_PARAMS[name]}
            block = _rewrite_list(block, "params", lambda item: item.split(".")[0].split("#")[0].strip() in sections,
                                  stage_params(name))
        out.append(text[last:m.start()] + block)
        last = m.end()
    return "".join(out) + text[last:]


def _default(f: object) -> str:
    value = f.default if f.default is not MISSING else "(required)"  # type: ignore[attr-defined]
    return f"`{list(value) if isinstance(value, tuple) else value!r}`".replace("|", "\\|")


def parameters_page() -> str:
    """docs/parameters.md: every setting of params.yaml with its default, what it changes and its help."""
    lines = ["# Parameters", "",
             "This page is for looking up a setting of `params.yaml` (and of `ganon anonymize`, whose options are the "
             "`anonymize` and `preprocess` fields): its default, what it changes and what it means. It is written "
             "by `python -m ganonlib.pipeline_deps --write` from the fields of `ganonlib/config.py`, as are the "
             "params lists of the stages `preprocess`, `anonymize_ours` and `anonymize_videos` in `dvc.yaml` and "
             "the reuse fingerprints of `ganon anonymize`.",
             "", "What a setting can change:", ""]
    lines += [f"- `{key}`: {meaning}" for key, meaning in CHANGES.items()]
    derived = {section for parts in STAGE_PARAMS.values() for section, _, _ in parts}
    for section, cls in SECTIONS:
        lines += ["", f"## `{section}`", "", (cls.__doc__ or "").strip().splitlines()[0], ""]
        if section in derived:
            lines += ["A setting whose `changes` is `-` changes where or how fast the work runs, not a result.", "",
                      "| key | default | changes | meaning |", "|---|---|---|---|"]
        else:
            lines += ["Its stages list the whole section in `dvc.yaml`: any change reruns them.", "",
                      "| key | default | meaning |", "|---|---|---|"]
        for f in fields(cls):
            changes = f" {', '.join(f.metadata.get('changes', ())) or '-'} |" if section in derived else ""
            meaning = f.metadata.get("help", "").replace("|", "\\|")
            lines.append(f"| `{f.name}` | {_default(f)} |{changes} {meaning} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("root", nargs="?", default=".", help="the project (default: here)")
    parser.add_argument("--write", action="store_true", help="rewrite dvc.yaml and docs/parameters.md")
    args = parser.parse_args()
    root = Path(args.root)
    dvc_yaml = root / "dvc.yaml"
    wanted = {dvc_yaml: derived_dvc_yaml(dvc_yaml.read_text(), root), root / "docs" / "parameters.md":
              parameters_page()}
    for path, text in wanted.items():
        current = path.read_text() if path.is_file() else ""
        if current == text:
            print(f"{path}: current")
        elif args.write:
            atomic_write_text(path, text)
            print(f"{path}: rewritten")
        else:
            print(f"{path}: out of date (rewrite it with --write)")


if __name__ == "__main__":
    main()
