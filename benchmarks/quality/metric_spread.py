"""How far the sample's headline metrics move between runs: over model seeds, and over CPU kernels and thread
counts emulated on this machine. The tolerances of `make verify` and of `make test` come from this measurement.

    python benchmarks/quality/metric_spread.py [--seeds 5]     # 47 minutes on 2 cores; writes the files below
    python benchmarks/quality/metric_spread.py --derive        # only re-derive the tolerances from the committed results

Each run is the whole pipeline (`dvc repro`) in a copy of this working tree (its own git and DVC cache, its own
``ganonlib`` first on the import path), so nothing here is touched:
- ``seed0``: the committed settings, from scratch;
- ``seed1`` .. ``seed<N-1>``: the same copy with the seeds of every trained model changed (``gan``, ``eval_identity``,
  ``eval_emotion``, ``eval_attributes``); DVC reruns what they reach: the GAN, our anonymization, every evaluation.
  The data (the sample and its split) keep their seeds: a reader's data are the same bytes;
- ``avx2``: ``seed0``'s settings from scratch with PyTorch's and oneDNN's CPU kernels capped at AVX2
  (``ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2``), as on a CPU without AVX-512;
- ``threads1``: ``seed0``'s settings from scratch on one thread (``OMP_NUM_THREADS=1``);
- with ``--repeat``, ``seed0_again``: ``seed0`` once more from scratch, to show which outputs a second run on the same
  machine leaves byte-identical (all of them on a CPU); it is not part of the spread.
On a GPU machine, ``--tag cuda --repeat`` measures the same there (``gan.device: auto`` takes the GPU) into
``*_cuda.*`` files, leaving the CPU tolerances that `make verify` reads alone.

Written: ``benchmarks/results/metric_spread.json`` (every headline metric's value per run, mean, standard deviation,
range; how long each run took; which outputs each run left identical to ``seed0`` and to the project's ``dvc.lock``)
``benchmarks/results/metric_tolerances.json`` (one tolerance per metric, derived by the rule in ``derive``) and
``benchmarks/results/metric_spread.md`` (both as a table, linked from docs/reproducibility.md).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

from ganonlib.provenance import provenance  # noqa: E402

from ganonlib.verify import workspace_metrics  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "results" / "metric_spread.json"
TOLERANCES = ROOT / "benchmarks" / "results" / "metric_tolerances.json"
TABLE = ROOT / "benchmarks" / "results" / "metric_spread.md"
SEEDED = ("gan", "eval_identity", "eval_emotion", "eval_attributes")  # params.yaml sections of the trained models
KERNELS = {"avx2": {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"},
           "threads1": {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}}
_CLEARED = ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
COUNTS = {"photos", "faces", "pairs"}  # integer headline keys: no rounding unit
DIGITS = 4  # headline files round to 4 digits (ganonlib/report/headline.py)
FAMILY_ALPHA = 0.01  # chance that a reader's run fails any metric by chance alone
WIDE = 0.25  # a tolerance above this share of the metric's value (and above 0.01) says little on the sample


def _copy_project(dest: Path) -> Path:
    """This working tree's files (tracked and untracked, not ignored) in a git repository of their own."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    git = ["git", "-c", "user.name=spread", "-c", "user.email=spread@localhost"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "spread run"]):
        subprocess.run([*git, *args], cwd=dest, check=True, capture_output=True)
    return dest


def _set_seeds(project: Path, seed: int) -> None:
    params = yaml.safe_load((project / "params.yaml").read_text())
    for section in SEEDED:
        params[section]["seed"] = seed
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def _repro(project: Path, extra_env: dict[str, str], log: Path) -> float:
    """`dvc repro` in ``project`` with its own ganonlib and this interpreter's tools; the wall seconds."""
    env = {k: v for k, v in os.environ.items() if k not in _CLEARED}
    env.update(extra_env, PYTHONPATH=str(project), DVC_NO_ANALYTICS="1",
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    dvc = str(Path(sys.executable).with_name("dvc"))
    start = time.perf_counter()
    with log.open("a") as out:
        done = subprocess.run([dvc, "repro"], cwd=project, env=env, stdout=out, stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"`dvc repro` failed in {project}:\n" + "".join(log.read_text().splitlines(True)[-40:]))
    return seconds


def _lock_record(lock: Path) -> dict:
    """What a run's dvc.lock says: every output path with its md5 (``outs``), and one digest of every code and
    notebook dependency (``code``: equal digests, same pipeline code, although the copies are taken at different
    times while this working tree may change in files no stage reads)."""
    stages = yaml.safe_load(lock.read_text())["stages"]
    deps = sorted({(d["path"], d.get("md5", "")) for s in stages.values() for d in s.get("deps", [])
                   if d["path"].startswith(("ganonlib/", "notebooks/"))})
    return {"outs": {o["path"]: o.get("md5", "") for s in stages.values() for o in s.get("outs", [])},
            "code": hashlib.sha256(json.dumps(deps).encode()).hexdigest()[:16]}


def _same(a: dict[str, str], b: dict[str, str]) -> dict:
    shared = sorted(set(a) & set(b))
    return {"identical": sum(a[p] == b[p] for p in shared),
            "different": [p for p in shared if a[p] != b[p]]}


def measure(seeds: int, work: Path, repeat: bool = False) -> dict:
    runs: dict[str, dict] = {}
    base = _copy_project(work / "seeds")
    log = work / "seeds.log"
    for seed in range(seeds):
        if seed:
            _set_seeds(base, seed)
        seconds = _repro(base, {}, log)
        runs[f"seed{seed}"] = {"seed": seed, "env": {}, "seconds": round(seconds, 1),
                               "metrics": workspace_metrics(base), **_lock_record(base / "dvc.lock")}
        print(f"seed{seed}: {seconds / 60:.1f} min", file=sys.stderr, flush=True)
    again = {"seed0_again": {}} if repeat else {}
    for name, env in {**KERNELS, **again}.items():
        project = _copy_project(work / name)
        seconds = _repro(project, env, work / f"{name}.log")
        runs[name] = {"seed": 0, "env": env, "seconds": round(seconds, 1), "metrics": workspace_metrics(project),
                      **_lock_record(project / "dvc.lock")}
        print(f"{name}: {seconds / 60:.1f} min", file=sys.stderr, flush=True)
        shutil.rmtree(project, ignore_errors=True)
    return runs


def summarise(runs: dict[str, dict]) -> dict:
    """Per metric: the value of each run, mean and standard deviation over all, range over all, over the seeds,
    and the largest distance of an emulated-kernel run from seed0 (same seeds, other kernels)."""
    files = sorted({f for r in runs.values() for f in r["metrics"]})
    table: dict[str, dict] = {}
    for file in files:
        keys = sorted({k for r in runs.values() for k in r["metrics"].get(file, {})})
        for key in keys:
            values = {name: r["metrics"].get(file, {}).get(key) for name, r in runs.items()}
            known = [v for v in values.values() if v is not None]
            row: dict = {"values": values, "null_in": [n for n, v in values.items() if v is None]}
            if known:
                seeds = [v for n, v in values.items() if n.startswith("seed") and v is not None]
                kernels = [abs(values[n] - values["seed0"]) for n in KERNELS
                           if values.get(n) is not None and values.get("seed0") is not None]
                row.update(mean=round(statistics.fmean(known), 6),
                           sd=round(statistics.stdev(known), 6) if len(known) > 1 else 0.0,
                           range=round(max(known) - min(known), 6),
                           seeds_range=round(max(seeds) - min(seeds), 6) if seeds else None,
                           kernels_max_from_seed0=round(max(kernels), 6) if kernels else None)
            table.setdefault(file, {})[key] = row
    return table


def coverage_factor(n_runs: int, alpha: float, draws: int = 400_000, seed: int = 0) -> float:
    """The k for which a new run lands farther than k x (range of ``n_runs`` runs) from one of those runs (the
    committed one) with probability ``alpha``, when runs scatter normally: simulated, since the range is itself
    random."""
    rng = np.random.default_rng(seed)
    runs = rng.standard_normal((draws, n_runs))
    spread = runs.max(axis=1) - runs.min(axis=1)
    new = rng.standard_normal(draws)
    ratios = np.abs(new - runs[:, 0]) / spread
    return float(np.quantile(ratios, 1.0 - alpha))


def derive(results: dict, source: Path = RESULTS) -> dict:
    """One tolerance per headline metric: k x its range over every run (seeds and emulated kernels), at least one
    unit of the rounding the headline files use (0 for counts). k makes the whole suite fail by chance alone in
    ``FAMILY_ALPHA`` of readers' runs, split evenly over the metrics that moved (Bonferroni), under a normal
    scatter; a metric whose tolerance exceeds ``WIDE`` of its value (and 0.01) is marked ``wide``."""
    table = results["metrics"]
    moving = sum(1 for keys in table.values() for row in keys.values() if row.get("range"))
    n_runs = len(results["runs"])
    alpha = FAMILY_ALPHA / max(moving, 1)
    k = round(coverage_factor(n_runs, alpha), 2)
    out: dict[str, dict] = {}
    for file, keys in table.items():
        for key, row in keys.items():
            if "range" not in row:  # null in every run: must stay null
                out.setdefault(file, {})[key] = {"tolerance": 0.0, "range": None, "wide": False, "null": True}
                continue
            unit = 0.0 if key in COUNTS else 10.0 ** -DIGITS
            tolerance = round(max(k * row["range"], unit), DIGITS)
            out.setdefault(file, {})[key] = {
                "tolerance": tolerance, "range": row["range"], "seeds_range": row["seeds_range"],
                "kernels_max_from_seed0": row["kernels_max_from_seed0"],
                "wide": tolerance > max(WIDE * abs(row["mean"]), 0.01), "null": False}
    committed = workspace_metrics(ROOT)
    seed0 = {file: {key: row["values"].get("seed0") for key, row in keys.items()} for file, keys in table.items()}
    return {
        "provenance": provenance(),
        "measured_in": {"file": source.relative_to(ROOT).as_posix(), **results["provenance"]},
        # the committed metrics/ are that run's, on this CPU: the tolerances are centred on them
        "reference": {"run": "seed0", "cpu": results["provenance"]["cpu"],
                      "cpu_features": results["provenance"]["cpu_features"], "threads": results["provenance"]["cores"],
                      "equals_metrics_dir": seed0 == committed},
        "rule": (f"tolerance = max(k x range over the {n_runs} runs ({', '.join(results['runs'])}), "
                 f"{10.0 ** -DIGITS:g} for rates/distances, 0 for counts); k = {k}: with runs scattering normally, "
                 f"a new run falls outside it with probability {alpha:.2g} per metric, {FAMILY_ALPHA:g} over the "
                 f"{moving} metrics that moved; 'wide': tolerance > max({WIDE:g} x the metric's mean, 0.01), too "
                 "wide to be useful on the sample; 'null': no run produced a value, so a value is a change"),
        "k": k, "alpha_per_metric": alpha, "runs": list(results["runs"]),
        "metrics": out,
    }


def markdown(results: dict, tolerances: dict) -> str:
    """The results as a page: the runs and their time, then per metric the committed (seed0) value, the range over
    the seeds, the largest move of an emulated-kernel run, the tolerance, and whether it is too wide to say much."""
    p = results["provenance"]
    lines = ["# Spread of the sample's headline metrics over seeds and CPU kernels", "",
             f"Measured by `{p['command']}` at commit `{p['commit']}` on {p['cpu']} ({p['cores']} cores, "
             f"{', '.join(p['cpu_features'])}), GPU: {p['gpu'] or 'none'}, {p['date']}; {results['minutes']} min "
             f"in all. Regenerate this page from the JSON with `python benchmarks/quality/metric_spread.py --derive`.", "",
             "| run | seeds | environment | minutes |", "|---|---|---|---|"]
    for name, run in results["runs"].items():
        env = " ".join(f"{k}={v}" for k, v in run["env"].items()) or "default"
        lines.append(f"| {name} | {run['seed']} | {env} | {run['seconds'] / 60:.1f} |")
    lines += ["", f"Outputs identical to seed0's (of {len(results['runs'])} runs' dvc.lock): "
              + "; ".join(f"{n}: {c['identical']} identical, {len(c['different'])} different"
                          for n, c in results["outputs_vs_seed0"].items()),
              f"seed0 (from scratch) against the project's dvc.lock: "
              f"{results['seed0_outputs_vs_project_lock']['identical']} identical, "
              f"{len(results['seed0_outputs_vs_project_lock']['different'])} different "
              f"{results['seed0_outputs_vs_project_lock']['different'] or ''}", "",
              f"Rule: {tolerances['rule']}.", "",
              "| metric | committed (seed0) | range over seeds | largest kernel move | tolerance | |",
              "|---|---|---|---|---|---|"]
    for file, keys in results["metrics"].items():
        for key, row in keys.items():
            t = tolerances["metrics"][file][key]
            cells = [f"{file}:{key}", f"{row['values'].get('seed0')}", f"{row.get('seeds_range')}",
                     f"{row.get('kernels_max_from_seed0')}", f"{t['tolerance']:g}",
                     "wide" if t["wide"] else ("null in every run" if t["null"] else "")]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=5, help="runs with model seeds 0 .. N-1 (at least 2)")
    parser.add_argument("--work", type=Path, help="where the copies run (default: a temporary folder)")
    parser.add_argument("--derive", action="store_true", help="re-derive the tolerances from the results file only")
    parser.add_argument("--repeat", action="store_true",
                        help="also run seed0 a second time from scratch (run-to-run identity; not in the spread)")
    parser.add_argument("--tag", default="", help="write metric_spread_<tag>.* and metric_tolerances_<tag>.json "
                                                   "instead (a GPU machine: --tag cuda; verify reads the untagged)")
    args = parser.parse_args()
    suffix = f"_{args.tag}" if args.tag else ""
    results_path, tolerances_path, table_path = (p.with_stem(p.stem + suffix) for p in (RESULTS, TOLERANCES, TABLE))
    if not args.derive:
        start, started = time.perf_counter(), provenance()  # the commit the copies are taken from
        work = args.work or Path(tempfile.mkdtemp(prefix="metric_spread_"))
        work.mkdir(parents=True, exist_ok=True)
        runs = measure(max(args.seeds, 2), work, args.repeat)
        project = _lock_record(ROOT / "dvc.lock")["outs"]
        results = {
            "provenance": started,
            "minutes": round((time.perf_counter() - start) / 60, 1),
            "runs": {n: {k: v for k, v in r.items() if k not in ("metrics", "outs")} for n, r in runs.items()
                     if n != "seed0_again"},
            "same_pipeline_code": len({r["code"] for r in runs.values()}) == 1,
            "outputs_vs_seed0": {n: _same(runs["seed0"]["outs"], r["outs"]) for n, r in runs.items() if n != "seed0"},
            "seed0_outputs_vs_project_lock": _same(runs["seed0"]["outs"], project),
            "metrics": summarise({n: r for n, r in runs.items() if n != "seed0_again"}),
        }
        results_path.write_text(json.dumps(results, indent=1) + "\n")
        shutil.rmtree(work / "seeds", ignore_errors=True)
    results = json.loads(results_path.read_text())
    tolerances = derive(results, results_path)
    tolerances_path.write_text(json.dumps(tolerances, indent=1) + "\n")
    table_path.write_text(markdown(results, tolerances))
    wide = [f"{f}:{k}" for f, keys in tolerances["metrics"].items() for k, t in keys.items() if t["wide"]]
    print(json.dumps({"minutes": results.get("minutes"), "k": tolerances["k"], "runs": tolerances["runs"],
                      "seed0_vs_project_lock": results["seed0_outputs_vs_project_lock"], "wide": wide}))


if __name__ == "__main__":
    main()
