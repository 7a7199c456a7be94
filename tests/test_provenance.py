"""Every results file says where it came from: the helper every benchmark prints through, and the committed files."""

import json
from pathlib import Path

from ganonlib.provenance import provenance, report

ROOT = Path(__file__).resolve().parents[1]
KEYS = {"commit", "date", "command", "cpu", "cores", "gpu"}


def test_report_prints_one_line_with_its_provenance_and_writes_it(tmp_path, capsys):
    line = report({"benchmark": "x", "faces_per_s": 1.5}, tmp_path / "x.json")
    printed = json.loads(capsys.readouterr().out)
    assert printed == line == json.loads((tmp_path / "x.json").read_text())
    assert KEYS <= set(line["provenance"]) and line["provenance"]["cores"] >= 1 and line["provenance"]["cpu"]
    report({"benchmark": "y"}, tmp_path / "y.jsonl", append=True)
    report({"benchmark": "y"}, tmp_path / "y.jsonl", append=True)
    assert len((tmp_path / "y.jsonl").read_text().splitlines()) == 2
    assert provenance(["benchmarks/speed/x.py", "--n", "2"])["command"] == "python benchmarks/speed/x.py --n 2"


def test_every_committed_results_file_names_its_commit_command_and_machine():
    for path in sorted((ROOT / "benchmarks" / "results").iterdir()):
        if path.suffix == ".md":
            text = path.read_text()
            assert "at commit `" in text and " cores" in text and "GPU: " in text, path.name
            continue
        records = [json.loads(x) for x in path.read_text().splitlines() if x.strip()] if path.suffix == ".jsonl" \
            else [json.loads(path.read_text())]
        for record in records:
            assert KEYS <= set(record.get("provenance", {})), path.name


def test_every_benchmark_script_prints_through_the_helper_and_is_indexed():
    index = (ROOT / "benchmarks" / "README.md").read_text()
    scripts = sorted((ROOT / "benchmarks").glob("*/*.py"))
    assert scripts
    for script in scripts:
        assert "ganonlib.provenance import" in script.read_text(), script.name
        assert script.relative_to(ROOT).as_posix() in index, script.name
    for result in (ROOT / "benchmarks" / "results").iterdir():
        assert f"results/{result.name}" in index, result.name
