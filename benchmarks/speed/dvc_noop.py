"""How long a `dvc repro` takes when nothing changed: prints one JSON line.

    make repro && python benchmarks/speed/dvc_noop.py [--runs 9]

Times `dvc repro -q` in the project (which must be up to date: every run must be a no-op) and, as the floor that no
pipeline goes below on this machine, the same command in a throw-away DVC project of one stage with one dependency
and one output, interleaved so that both see the same machine load. Also reports what DVC has to read and check per
run: the lines of dvc.lock, the paths it records, and the files inside the directories it hashes.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _dvc() -> str:
    found = Path(sys.executable).with_name("dvc")
    return str(found) if found.exists() else (shutil.which("dvc") or "dvc")


def _timed_noop(cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run([_dvc(), "repro", "-q"], cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0 or done.stdout.strip():
        raise SystemExit(f"`dvc repro` in {cwd} was no no-op (run `make repro` first):\n{done.stdout}{done.stderr}")
    return seconds


def _one_stage_project(where: Path) -> Path:
    """The smallest pipeline DVC can run, with the project's DVC settings (no update check, no analytics)."""
    where.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=where, check=True)
    subprocess.run([_dvc(), "init", "-q"], cwd=where, check=True)
    shutil.copy(ROOT / ".dvc" / "config", where / ".dvc" / "config")
    (where / "dvc.yaml").write_text(
        "stages:\n  copy:\n    cmd: cp in.txt out.txt\n    deps: [in.txt]\n    outs: [out.txt]\n")
    (where / "in.txt").write_text("x\n")
    subprocess.run([_dvc(), "repro", "-q"], cwd=where, check=True, capture_output=True)
    return where


def _lock_size() -> dict:
    lock = yaml.safe_load((ROOT / "dvc.lock").read_text())["stages"]
    entries = [e for s in lock.values() for key in ("deps", "outs") for e in s.get(key, [])]
    in_dirs = sum(
        sum(1 for p in (ROOT / e["path"]).rglob("*") if p.is_file()) for e in entries if (ROOT / e["path"]).is_dir()
    )
    return {
        "stages": len(lock),
        "lock_lines": len((ROOT / "dvc.lock").read_text().splitlines()),
        "lock_paths": len(entries),
        "files_in_hashed_dirs": in_dirs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    project, floor = [], []
    with tempfile.TemporaryDirectory() as tmp:
        small = _one_stage_project(Path(tmp) / "one_stage")
        _timed_noop(ROOT), _timed_noop(small)  # warm the file cache
        for _ in range(args.runs):
            project.append(_timed_noop(ROOT))
            floor.append(_timed_noop(small))
    from ganonlib.provenance import cpu_model, report

    report({
        "benchmark": "dvc_noop",
        "machine": f"{cpu_model()}, {os.cpu_count()} cores",
        "runs": args.runs,
        "project_s": {"min": round(min(project), 2), "median": round(statistics.median(project), 2)},
        "one_stage_project_s": {"min": round(min(floor), 2), "median": round(statistics.median(floor), 2)},
        **_lock_size(),
    })


if __name__ == "__main__":
    main()
