"""Main and its experiments side by side, readable in a 120-column terminal (``make exps``).

``dvc exp show`` lists every parameter and every headline file: hundreds of columns, each named by its full path.
This view keeps the parameters that differ between the rows and, per dataset, the headline numbers of our method
that the paper's tables turn on (short names, listed in ``COLUMNS``); ``dvc exp show`` stays the full view.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["COLUMNS", "experiments_frame", "main"]

# short name -> (headline file pattern, key); {d} is a dataset of the row
COLUMNS = {
    "gan_l1": ("metrics/generator.json", "g_l1"),
    "id_dist": ("metrics/identity/ours.json", "distance"),
    "id_rank1": ("metrics/identity/ours.json", "rank1"),
    "emo_f1[{d}]": ("metrics/emotion_training/{d}/ours.json", "f1_test"),
    "emo_dist[{d}]": ("metrics/emotion_inference/{d}/ours.json", "distance"),
    "attr_removed[{d}]": ("metrics/attributes/{d}/ours.json", "removal"),
}


def _flat(tree: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(tree, dict):
        return {k: v for key, sub in tree.items() for k, v in _flat(sub, f"{prefix}{key}.").items()}
    return {prefix[:-1]: json.dumps(tree) if isinstance(tree, list) else tree}


def _rows(shown: list[dict]) -> list[tuple[str, dict, dict]]:
    """(name, flat params, metrics by file) of the workspace, each commit and each experiment of ``shown``."""
    rows = []
    for commit in shown:
        runs = [commit] + [e["revs"][0] for e in commit.get("experiments") or [] if e.get("revs")]
        for run in runs:
            data = run.get("data") or {}
            params = _flat((data.get("params") or {}).get("params.yaml", {}).get("data", {}))
            metrics = {f: (m or {}).get("data", {}) for f, m in (data.get("metrics") or {}).items()}
            rows.append((run.get("name") or (run["rev"] if run["rev"] == "workspace" else run["rev"][:7]), params,
                         metrics))
    return rows


def experiments_frame(shown: list[dict]) -> pd.DataFrame:
    """One row per run: the parameters that differ between runs, then the curated headline columns."""
    rows = _rows(shown)
    if not rows:
        return pd.DataFrame()
    keys = sorted({k for _, params, _ in rows for k in params})
    changed = [k for k in keys if len({json.dumps(p.get(k), default=str) for _, p, _ in rows}) > 1]
    datasets = sorted({f.split("/")[2] for _, _, m in rows for f in m if f.count("/") == 3})
    table = []
    for name, params, metrics in rows:
        row = {"run": name, **{k: params.get(k) for k in changed}}
        for label, (pattern, key) in COLUMNS.items():
            for dataset in datasets if "{d}" in label else [""]:
                row[label.format(d=dataset)] = metrics.get(pattern.format(d=dataset), {}).get(key)
        table.append(row)
    return pd.DataFrame(table).set_index("run").dropna(axis=1, how="all")


def main(argv: list[str] | None = None) -> int:
    dvc = Path(sys.executable).with_name("dvc")
    done = subprocess.run([str(dvc if dvc.exists() else "dvc"), "exp", "show", "--json", *(argv or [])],
                          capture_output=True, text=True)
    if done.returncode != 0:
        print(done.stderr.strip(), file=sys.stderr)
        return done.returncode
    frame = experiments_frame(json.loads(done.stdout or "[]"))
    with pd.option_context("display.width", 120, "display.max_columns", None, "display.precision", 4):
        print(frame.to_string(na_rep="-", line_width=120) if not frame.empty else "no runs to show")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
