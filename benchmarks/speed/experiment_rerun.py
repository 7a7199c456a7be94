"""What a GAN experiment costs: `dvc exp run --temp -S gan.epochs=1` timed stage by stage, once with the classifiers
of unchanged training sets read back (the default) and once with every classifier trained again
(GANON_REUSE_CLASSIFIERS=0, what every run did before), in one run on one machine. Prints one JSON line and writes
benchmarks/results/experiment_rerun.json.

    make repro && python benchmarks/speed/experiment_rerun.py [--set gan.epochs=1]

The project must be up to date (`dvc status` clean) and committed: each experiment starts from HEAD in a temporary
copy and is removed afterwards, and the entries it added to DVC's run cache are dropped, so that the second one
reruns what the first did instead of restoring it (and the workspace is left as it was).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from ganonlib.provenance import provenance

ROOT = Path(__file__).resolve().parents[2]
RUNS = ROOT / ".dvc" / "cache" / "runs"
DVC = str(Path(sys.executable).with_name("dvc"))
STAGE = re.compile(r"^Running stage '([^']+)'", re.M)


def _run_cache() -> set[Path]:
    return set(RUNS.rglob("*")) if RUNS.is_dir() else set()


def _experiment(setting: str, reuse: bool) -> dict:
    env = {**os.environ, "GANON_REUSE_CLASSIFIERS": "1" if reuse else "0",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    name = f"bench-{'reuse' if reuse else 'retrain'}-{int(time.time())}"
    cached = _run_cache()
    start, stamps, lines = time.perf_counter(), [], []
    with subprocess.Popen([DVC, "exp", "run", "--temp", "-n", name, "-S", setting], cwd=ROOT, env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as proc:
        for line in proc.stdout:
            lines.append(line)
            if match := STAGE.match(line):
                stamps.append((match.group(1), time.perf_counter() - start))
        status = proc.wait()
    total = time.perf_counter() - start
    subprocess.run([DVC, "exp", "remove", name], cwd=ROOT, capture_output=True)
    for path in sorted(_run_cache() - cached, reverse=True):  # files before their folders
        path.unlink() if path.is_file() else path.rmdir()
    if status != 0:
        raise SystemExit(f"dvc exp run failed:\n{''.join(lines[-40:])}")
    ends = [t for _, t in stamps[1:]] + [total]
    stages = {name: round(end - began, 1) for (name, began), end in zip(stamps, ends)}
    return {"seconds": round(total, 1), "stages": stages}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", default="gan.epochs=1", help="the experiment's -S (default: %(default)s)")
    args = parser.parse_args()
    status = subprocess.run([DVC, "status", "-q"], cwd=ROOT)
    if status.returncode != 0:
        raise SystemExit("`dvc status` is not clean: run `make repro` (and commit) first")
    after = _experiment(args.set, reuse=True)
    before = _experiment(args.set, reuse=False)
    result = {"benchmark": "experiment_rerun", "experiment": f"dvc exp run --temp -S {args.set}",
              "retrain_every_classifier": before, "reuse_unchanged_classifiers": after,
              "speedup": round(before["seconds"] / after["seconds"], 2), "provenance": provenance()}
    out = ROOT / "benchmarks" / "results" / "experiment_rerun.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
