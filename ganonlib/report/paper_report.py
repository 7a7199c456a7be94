"""The paper report: Tables 1-6 regenerated from the metrics files, the sample grids of Figures 3-6 and 8, and
``reports/REPORT.md`` linking every table and figure and saying which numbers come from which data.

Each of the paper's tables becomes one markdown and one LaTeX file under ``reports/tables/`` (``paper_table<N>``)
with a section per dataset, as the paper's sub-tables; cells read ``kit (paper value, difference)``.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ganonlib.io import atomic_write_text, read_image
from ganonlib.metrics.method_images import method_images, provided_methods
from ganonlib.report.curves import save_figure, subplots
from ganonlib.report.tables import (METHOD_NAMES, caption_table1, caption_table2, caption_table3,
                                    caption_table4, caption_table5, caption_table6, scored_splits, table1, table2,
                                    table3, table4, table5, table6)

__all__ = ["FIGURE_OF_KIND", "build_report", "sample_grid"]

# the paper's sample figure of each dataset
FIGURE_OF_KIND = {"wider": 3, "affectnet": 4, "ckplus": 5, "faces": 6, "celeba": 8}
PAPER_DATA = {1: "WIDER (Facenet512)", 2: "AffectNet, CK+, FACES", 3: "AffectNet, CK+, FACES",
              4: "AffectNet, CK+, FACES (validation)", 5: "CelebA (validation)", 6: "CelebA (validation)"}


def sample_grid(processed_dir: str | Path, anonymized_dir: str | Path, methods: list[str], path: str | Path,
                title: str, rows: int = 6, split: str = "test", seed: int = 0) -> Path | None:
    """Rows of original | each method for ``rows`` faces of ``split`` that every method anonymized (seeded pick),
    labelled; None when no face qualifies."""
    frame = method_images(processed_dir, anonymized_dir, methods, (split,))
    columns = ["original", *methods]
    frame = frame.dropna(subset=columns).set_index("key")  # faces every method anonymized
    keys = sorted(frame.index)
    if not keys:
        return None
    keys = sorted(np.random.default_rng(seed).choice(keys, size=min(rows, len(keys)), replace=False).tolist())
    fig, axes = subplots(len(keys), len(columns), figsize=(1.6 * len(columns), 1.6 * len(keys) + 0.5),
                         squeeze=False)
    for i, key in enumerate(keys):
        for j, method in enumerate(columns):
            ax = axes[i][j]
            ax.imshow(read_image(frame.at[key, method], min_side=1))
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(METHOD_NAMES.get(method, method), fontsize=8)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    written = save_figure(fig, path)
    return written


def _load(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.is_file() else None


def _write(stem: Path, sections: list[tuple[str, pd.DataFrame]], heading: str) -> list[Path]:
    """One markdown file (a heading, then a caption + table per section) and one LaTeX file (a table each)."""
    md = [f"# {heading}\n"] + [f"{caption}\n\n{table.to_markdown(index=False)}\n" for caption, table in sections
                               if not table.empty]
    tex = [table.to_latex(index=False, caption=caption, escape=True) for caption, table in sections
           if not table.empty]
    return [atomic_write_text(stem.with_suffix(".md"), "\n".join(md)),
            atomic_write_text(stem.with_suffix(".tex"), "\n".join(tex) or "% no data\n")]


def _paper_tables(reports: Path, kinds: dict[str, str], emotion: list[str], attributes: list[str],
                  methods: list[str]) -> dict[int, list[tuple[str, pd.DataFrame]]]:
    tables: dict[int, list[tuple[str, pd.DataFrame]]] = {n: [] for n in range(1, 7)}
    result = _load(reports / "metrics" / "identity.json")
    if result:
        tables[1].append((caption_table1(result), table1(result)))
    for ds in emotion:
        kind = kinds.get(ds, ds)
        inference = _load(reports / "metrics" / f"emotion_inference_{ds}.json")
        if inference:
            tables[2].append((caption_table2(inference), table2(inference, kind, methods)))
            tables[3].append((caption_table3(inference), table3(inference, kind)))
        training = _load(reports / "metrics" / f"emotion_training_{ds}.json")
        for split in scored_splits(training) if training else []:
            tables[4].append((caption_table4(training, split), table4(training, kind, split)))
    for ds in attributes:
        kind = kinds.get(ds, ds)
        training = _load(reports / "attributes" / ds / "training.json")
        for split in scored_splits(training) if training else []:
            tables[5].append((caption_table5(training, split), table5(training, kind, split)))
        removal = _load(reports / "metrics" / f"attributes_{ds}.json")
        if removal:
            tables[6].append((caption_table6(removal), table6(removal, kind)))
    return tables


def build_report(reports: str | Path, kinds: dict[str, str], identity: str, emotion: list[str],
                 attributes: list[str], anonymized: list[str], methods: list[str],
                 data_root: str | Path = "data") -> Path:
    """Write ``paper_table1..6.{md,tex}``, the sample grids and ``REPORT.md`` under ``reports``; ``kinds`` maps
    each dataset name to its kind (what decides whether the paper's values apply and whether the data is real)."""
    reports, data_root = Path(reports), Path(data_root)
    tables = _paper_tables(reports, kinds, emotion, attributes, methods)
    written = {n: _write(reports / "tables" / f"paper_table{n}", sections,
                         f"Table {n} - kit vs paper ({PAPER_DATA[n]})")
               for n, sections in tables.items()}
    grids = {}
    for ds in anonymized:
        present = provided_methods(data_root / "anonymized" / ds, methods)
        grid = sample_grid(data_root / "processed" / ds, data_root / "anonymized" / ds, present,
                           reports / "figures" / "samples" / f"{ds}.png",
                           f"{ds}: original | anonymized (test split)")
        if grid:
            grids[ds] = grid
    lines = ["# GANonymization - reproduction report", "",
             "Every number below is regenerated from the metrics files of the DVC stages (`dvc metrics show`).",
             "Cells read `kit (paper value, difference)` where the paper reports that dataset and method.", "",
             "## Where the numbers come from", ""]
    for ds in sorted(set([identity, *emotion, *attributes, *anonymized])):
        kind = kinds.get(ds, ds)
        lines.append(f"- `{ds}` ({kind}): " + (
            "the bundled sample (3 public-domain photos x augmented variants, 256 px, GAN trained for minutes on "
            "CPU). It proves that every step runs; its numbers are not comparable to the paper's."
            if kind == "sample" else "real data, the paper's protocol."))
    lines += ["", "## Tables", ""]
    for n, files in written.items():
        state = "" if tables[n] else " (no stage produced it with the current parameters)"
        lines.append(f"- Table {n}{state}: [{files[0].name}](tables/{files[0].name}), "
                     f"[LaTeX](tables/{files[1].name}); paper: {PAPER_DATA[n]}")
    lines += ["", "## Figures", ""]
    figures = []
    for ds, grid in grids.items():
        number = FIGURE_OF_KIND.get(kinds.get(ds, ds))
        label = f"Figure {number}" if number else "Figures 3-6, 8 (samples)"
        figures.append((label, ds, f"samples/{grid.name}"))
    for ds in emotion:
        figures.append(("Figure 7", ds, f"figure7_emotion_distance_{ds}.png"))
        figures += [("Figure 10", f"{ds} {s}", f"figure10_confusion_{ds}_{s}.png") for s in ("val", "test")]
    for ds in attributes:
        figures.append(("Figure 9", ds, f"figure9_removal_{ds}.png"))
        figures += [("Figure 11", f"{ds} {s}", f"figure11_attribute_confusion_{ds}_{s}.png") for s in ("val", "test")]
    figures.append(("Table 1 bars", identity, "table1_identity_bars.png"))
    for label, ds, name in figures:
        if (reports / "figures" / name).is_file():
            lines.append(f"- {label} ({ds}): [{name}](figures/{name})")
    lines += ["", "## Tables inline", ""]
    for n in tables:  # one level below the report's sections
        lines.append((reports / "tables" / f"paper_table{n}.md").read_text().replace("# ", "### ", 1))
    return atomic_write_text(reports / "REPORT.md", "\n".join(lines) + "\n")
