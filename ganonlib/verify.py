"""`make verify` / `ganon verify`: after `make repro`, is this run the committed one, within what runs differ by?

Two tables. The headline metrics (``metrics/``): each regenerated value beside the committed one (git ``HEAD``), the
tolerance measured for it (``benchmarks/results/metric_tolerances.json``, derived from the spread over seeds and
emulated CPU kernels by ``benchmarks/quality/metric_spread.py``) and whether it is within. Then the paper's tables: the
regenerated values (``reports/metrics/``) beside the published ones, with their difference, wherever the paper has
a counterpart. Exit 0 when every metric is within its tolerance, 1 otherwise (one line per metric outside), 2 when
there is nothing to verify (no run, no tolerances, not a git checkout).

The same comparison backs ``tests/test_committed_metrics.py``: the test and this command read one tolerance file.
"""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from statistics import fmean

__all__ = ["TOLERANCES", "MetricCheck", "check_metrics", "committed_metrics", "load_tolerances", "main",
           "paper_rows", "within", "workspace_metrics"]

TOLERANCES = Path("benchmarks/results/metric_tolerances.json")


class VerifyError(Exception):
    """Nothing to verify: said in one line."""


def load_tolerances(root: Path = Path(".")) -> dict:
    path = root / TOLERANCES
    if not path.is_file():
        raise VerifyError(f"{path} is missing: it is written by `python benchmarks/quality/metric_spread.py`")
    return json.loads(path.read_text())


def workspace_metrics(root: Path = Path(".")) -> dict[str, dict]:
    """``metrics/<file>.json`` of this working tree, by path under ``metrics/``."""
    folder = root / "metrics"
    return {p.relative_to(folder).as_posix(): json.loads(p.read_text()) for p in sorted(folder.rglob("*.json"))}


def committed_metrics(root: Path = Path("."), rev: str = "HEAD") -> dict[str, dict]:
    """The same files as committed at ``rev``."""
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
        if done.returncode != 0:
            raise VerifyError(f"git {' '.join(args)}: {done.stderr.strip() or 'failed'} (verify compares against "
                              f"the metrics committed in a git checkout)")
        return done.stdout

    names = [n for n in git("ls-tree", "-r", "--name-only", rev, "--", "metrics").splitlines() if n.endswith(".json")]
    return {n.removeprefix("metrics/"): json.loads(git("show", f"{rev}:{n}")) for n in names}


def within(value: float | None, committed: float | None, tolerance: float) -> bool:
    """A value agrees with the committed one when both are missing, or both present and at most ``tolerance``
    apart (a small epsilon absorbs the binary representation of 4-digit decimals)."""
    if value is None or committed is None:
        return value is None and committed is None
    return abs(value - committed) <= tolerance + 1e-9


@dataclass(frozen=True)
class MetricCheck:
    file: str
    key: str
    value: float | None
    committed: float | None
    tolerance: float | None
    wide: bool
    status: str  # within | outside | not regenerated | new | no tolerance

    @property
    def failed(self) -> bool:
        return self.status in ("outside", "not regenerated", "no tolerance")

    def line(self) -> str:
        what = {"outside": f"{self.value} vs committed {self.committed}, tolerance {self.tolerance}",
                "not regenerated": f"committed {self.committed}, not in this run's metrics/",
                "no tolerance": "no measured tolerance: rerun benchmarks/quality/metric_spread.py"}.get(self.status, "")
        return f"metrics/{self.file}: {self.key} {what}"


def check_metrics(workspace: dict[str, dict], committed: dict[str, dict], tolerances: dict) -> list[MetricCheck]:
    """Every key of every committed and regenerated headline file, checked against its tolerance."""
    measured = tolerances["metrics"]
    checks = []
    for file in sorted(set(workspace) | set(committed)):
        ours, theirs = workspace.get(file), committed.get(file)
        for key in sorted(set(ours or {}) | set(theirs or {})):
            entry = measured.get(file, {}).get(key)
            tolerance = None if entry is None else entry["tolerance"]
            value = None if ours is None else ours.get(key)
            reference = None if theirs is None else theirs.get(key)
            if theirs is None or key not in theirs:
                status = "new"  # a dataset or method added since the commit: nothing to compare
            elif ours is None or key not in ours:
                status = "not regenerated"
            elif entry is None:
                status = "no tolerance"
            else:
                status = "within" if within(value, reference, tolerance) else "outside"
            checks.append(MetricCheck(file, key, value, reference, tolerance, bool(entry and entry["wide"]), status))
    return checks


def _kinds(root: Path) -> dict[str, str]:
    try:
        from ganonlib.config import load_params

        return {name: d.kind for name, d in load_params(root / "params.yaml").datasets.items()}
    except Exception:  # noqa: BLE001 - params that do not load: every dataset is taken as its own kind
        return {}


def _load(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.is_file() else None


def paper_rows(root: Path = Path(".")) -> list[dict]:
    """Regenerated beside published, wherever the paper has the same cell: Table 1 per method; Table 2 per dataset
    and method (mean over the emotions both have); Tables 4 and 5 macro F1 on the validation split; Table 6 ours'
    mean removal rate over the attributes both have."""
    from ganonlib.report.headline import training_headline
    from ganonlib.report.paper_attributes import PAPER_TABLE5, PAPER_TABLE6
    from ganonlib.report.paper_emotion import PAPER_TABLE2, PAPER_TABLE4
    from ganonlib.report.tables import PAPER_TABLE1

    reports, kinds, rows = root / "reports" / "metrics", _kinds(root), []

    def add(table: str, dataset: str, what: str, kit: float | None, paper: float | None) -> None:
        if kit is not None and paper is not None:
            rows.append({"table": table, "dataset": dataset, "cell": what, "kit": kit, "paper": paper,
                         "delta": kit - paper})

    def add_f1(table: str, dataset: str, training_sets: dict, paper: dict) -> None:
        for method, headline in training_headline(training_sets).items():
            add(table, dataset, f"{method} macro F1 (val)", headline["f1_val"],
                paper.get("macro avg", {}).get(method, {}).get("f1"))

    identity = _load(reports / "identity.json")
    if identity:
        for method, m in identity["methods"].items():
            if m.get("provided") and m.get("n") and method != "original":
                add("1", f"{identity['dataset']} ({identity['recognizer']}; paper WIDER, Facenet512)",
                    f"{method} mean cosine distance", m["mean"], PAPER_TABLE1.get(method))
    for path in sorted(reports.glob("emotion_inference_*.json")):
        result = json.loads(path.read_text())
        paper = PAPER_TABLE2.get(kinds.get(result["dataset"], result["dataset"]), {})
        for method, m in result["methods"].items():
            both = [e for e, v in m.get("mean_distance", {}).items() if v is not None and method in paper.get(e, {})]
            if both:
                add("2", result["dataset"], f"{method} mean |p_orig - p_anon|",
                    fmean(m["mean_distance"][e] for e in both), fmean(paper[e][method] for e in both))
    for path in sorted(reports.glob("emotion_training_*.json")):
        result = json.loads(path.read_text())
        add_f1("4", result["dataset"], result["methods"],
               PAPER_TABLE4.get(kinds.get(result["dataset"], result["dataset"]), {}))
    for path in sorted(reports.glob("attributes_*.json")):
        result = json.loads(path.read_text())
        if kinds.get(result["dataset"], result["dataset"]) != "celeba":  # the paper's Tables 5-6: CelebA only
            continue
        add_f1("5", result["dataset"], result.get("training", {}), PAPER_TABLE5)
        removal = result.get("methods", {}).get("ours", {}).get("removal_rate", {})
        both = [a for a, v in removal.items() if v is not None and a in PAPER_TABLE6]
        if both:
            add("6", result["dataset"], "ours mean removal rate", fmean(removal[a] for a in both),
                fmean(PAPER_TABLE6[a] for a in both))
    return rows


def _fmt(value: float | None) -> str:
    return "null" if value is None else f"{value:g}"


def render(checks: list[MetricCheck], paper: list[dict], tolerances: dict) -> str:
    lines = [f"Headline metrics: this run against the committed ones (tolerances: {TOLERANCES}, measured over "
             f"{', '.join(tolerances['runs'])})", ""]
    head = ("metric", "regenerated", "committed", "tolerance", "")
    body = [(f"{c.file}:{c.key}", _fmt(c.value), _fmt(c.committed), "" if c.tolerance is None else f"{c.tolerance:g}",
             c.status + (" (wide)" if c.wide else "")) for c in checks]
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
    lines += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in [head, *body]]
    wide = sum(c.wide for c in checks)
    lines += ["", f"{sum(c.status == 'within' for c in checks)} within, {sum(c.failed for c in checks)} not, "
                  f"{sum(c.status == 'new' for c in checks)} new; (wide): {wide} metrics vary too much between runs "
                  "of the sample to say much (docs/reproducibility.md)", ""]
    lines.append("Paper tables: regenerated beside published")
    for r in paper:
        lines.append(f"  Table {r['table']} {r['dataset']}: {r['cell']} {r['kit']:.4f} (paper {r['paper']:.4f}, "
                     f"{r['delta']:+.4f})")
    missing = [t for t in ("1", "2", "4", "5", "6") if t not in {r["table"] for r in paper}]
    if missing:
        lines.append(f"  Tables {', '.join(missing)}: no published counterpart in this run's reports/metrics/ (the "
                     "paper's data: WIDER for 1, AffectNet, CK+ and FACES for 2 and 4, CelebA for 5 and 6)")
    lines.append("  Table 3 (Wilcoxon tests) and every cell: reports/tables/paper_table<N>.md")
    return "\n".join(lines)


def main(argv: list[str] | None = None, root: Path = Path(".")) -> int:
    try:
        tolerances = load_tolerances(root)
        workspace, committed = workspace_metrics(root), committed_metrics(root)
    except VerifyError as err:
        print(f"verify: {err}", file=sys.stderr)
        return 2
    if not workspace:
        print("verify: metrics/ is empty: run `make repro` first", file=sys.stderr)
        return 2
    checks = check_metrics(workspace, committed, tolerances)
    print(render(checks, paper_rows(root), tolerances))
    failed = [c for c in checks if c.failed]
    for c in failed:
        print(c.line(), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
