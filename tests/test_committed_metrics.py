"""The headline metrics a `make repro` on this machine wrote (metrics/) against the committed ones: equal on the
machine kind and thread count that committed them, within the measured tolerances elsewhere (CPU kernels round
differently, and a GAN trained on other kernels follows another path). The tolerances are those `make verify` reads,
derived by benchmarks/quality/metric_spread.py from the spread over seeds and emulated kernels; none is set here."""
import json
import subprocess
from pathlib import Path

import pytest

from ganonlib.verify import (MetricCheck, check_metrics, committed_metrics, load_tolerances, main, paper_rows,
                             within, workspace_metrics)

ROOT = Path(__file__).resolve().parents[1]
SPREAD = ROOT / "benchmarks" / "results" / "metric_spread.json"


def _is_git_checkout() -> bool:
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True).returncode == 0


@pytest.fixture(scope="module")
def tolerances() -> dict:
    return load_tolerances(ROOT)


def test_every_committed_headline_metric_has_a_measured_tolerance(tolerances):
    committed = committed_metrics(ROOT) if _is_git_checkout() else workspace_metrics(ROOT)
    assert committed, "no committed headline metrics under metrics/"
    for file, row in committed.items():
        for key in row:
            assert key in tolerances["metrics"].get(file, {}), f"metrics/{file}: {key} has no measured tolerance"


def test_the_tolerances_cite_the_committed_spread_measurement(tolerances):
    spread = json.loads(SPREAD.read_text())
    assert tolerances["measured_in"]["file"] == SPREAD.relative_to(ROOT).as_posix()
    assert tolerances["measured_in"]["commit"] == spread["provenance"]["commit"]
    assert tolerances["runs"] == list(spread["runs"]) and len(spread["runs"]) >= 7  # 5 seeds + 2 kernel settings
    assert tolerances["reference"]["equals_metrics_dir"], "the committed metrics/ are not the measured seed0 run"
    for file, keys in tolerances["metrics"].items():
        for key, entry in keys.items():
            row = spread["metrics"][file][key]
            assert entry["range"] == row.get("range"), f"{file}:{key}"
            if entry["range"] is not None:  # the rule, applied: k x range, at least the rounding unit
                assert entry["tolerance"] == pytest.approx(max(tolerances["k"] * row["range"],
                                                               0.0 if key in ("photos", "faces", "pairs") else 1e-4),
                                                           abs=1e-4)


def test_workspace_metrics_stay_within_the_measured_tolerances_of_the_committed_ones(tolerances):
    if not _is_git_checkout():
        pytest.skip("not a git checkout with commits")
    checks = check_metrics(workspace_metrics(ROOT), committed_metrics(ROOT), tolerances)
    assert any(c.status == "within" for c in checks), "no committed headline metrics under metrics/"
    failed = [c.line() for c in checks if c.failed]
    assert not failed, "\n".join(failed)


def test_tolerances_are_applied_as_stated():
    assert within(120, 120, 0) and not within(121, 120, 0)
    assert within(0.5, 0.4, 0.1) and not within(0.5001, 0.4, 0.1)
    assert within(None, None, 0.0) and not within(0.1, None, 1.0) and not within(None, 0.1, 1.0)


def test_a_check_fails_outside_its_tolerance_and_names_the_metric():
    tolerances = {"runs": ["seed0"], "metrics": {"identity/ours.json": {"nme": {"tolerance": 0.05, "wide": False}}}}
    committed = {"identity/ours.json": {"nme": 0.43}}
    [ok] = check_metrics({"identity/ours.json": {"nme": 0.40}}, committed, tolerances)
    [bad] = check_metrics({"identity/ours.json": {"nme": 0.37}}, committed, tolerances)
    [gone] = check_metrics({}, committed, tolerances)
    [new] = check_metrics({"identity/x.json": {"nme": 0.1}}, {}, tolerances)
    [unmeasured] = check_metrics({"identity/ours.json": {"rank1": 0.2}}, {"identity/ours.json": {"rank1": 0.3}},
                                 tolerances)
    assert (ok.status, bad.status, gone.status, new.status, unmeasured.status) == (
        "within", "outside", "not regenerated", "new", "no tolerance")
    assert [c.failed for c in (ok, bad, gone, new, unmeasured)] == [False, True, True, False, True]
    assert bad.line() == "metrics/identity/ours.json: nme 0.37 vs committed 0.43, tolerance 0.05"
    assert isinstance(ok, MetricCheck)


def _project(tmp_path: Path, committed: dict, regenerated: dict) -> Path:
    """A git checkout with committed metrics/, then the regenerated ones in its working tree."""
    tolerances = {"runs": ["seed0", "seed1"], "metrics": {"identity/ours.json": {"distance": {"tolerance": 0.01,
                                                                                             "wide": False}}}}
    (tmp_path / "benchmarks" / "results").mkdir(parents=True)
    (tmp_path / "benchmarks" / "results" / "metric_tolerances.json").write_text(json.dumps(tolerances))
    (tmp_path / "metrics" / "identity").mkdir(parents=True)
    (tmp_path / "metrics" / "identity" / "ours.json").write_text(json.dumps(committed))
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "metrics"]):
        subprocess.run([*git, *args], cwd=tmp_path, check=True, capture_output=True)
    (tmp_path / "metrics" / "identity" / "ours.json").write_text(json.dumps(regenerated))
    return tmp_path


def test_verify_exits_0_within_and_1_with_a_line_per_metric_outside(tmp_path, capsys):
    inside = _project(tmp_path / "a", {"distance": 0.127}, {"distance": 0.13})
    assert main([], root=inside) == 0
    out = capsys.readouterr()
    assert "identity/ours.json:distance  0.13         0.127      0.01       within" in out.out and not out.err
    outside = _project(tmp_path / "b", {"distance": 0.127}, {"distance": 0.2})
    assert main([], root=outside) == 1
    assert capsys.readouterr().err == "metrics/identity/ours.json: distance 0.2 vs committed 0.127, tolerance 0.01\n"


def test_verify_says_in_one_line_when_there_is_nothing_to_verify(tmp_path, capsys):
    assert main([], root=tmp_path) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_paper_rows_put_table1_beside_the_published_values(tmp_path):
    (tmp_path / "reports" / "metrics").mkdir(parents=True)
    identity = {"dataset": "sample", "recognizer": "Dlib",
                "methods": {"original": {"provided": True, "n": 18, "mean": 0.0},
                            "ours": {"provided": True, "n": 18, "mean": 0.5},
                            "ciagan": {"provided": False, "n": 0}}}
    (tmp_path / "reports" / "metrics" / "identity.json").write_text(json.dumps(identity))
    [row] = paper_rows(tmp_path)
    assert (row["table"], row["kit"], row["paper"]) == ("1", 0.5, 0.7145)
    assert row["delta"] == pytest.approx(0.5 - 0.7145)


def test_paper_rows_cover_tables_2_4_5_and_6_on_the_papers_datasets(tmp_path):
    from ganonlib.report.paper_attributes import PAPER_TABLE5
    from ganonlib.report.paper_emotion import PAPER_TABLE2, PAPER_TABLE4

    reports = tmp_path / "reports" / "metrics"
    reports.mkdir(parents=True)
    files = {"emotion_inference_affectnet.json": {"dataset": "affectnet", "methods": {
                 "ours": {"mean_distance": {"neutral": 0.1, "anger": 0.2, "unknown": 0.9}},
                 "blur9": {"mean_distance": {"neutral": 0.0}}}},  # no published blur row: left out
             "emotion_training_affectnet.json": {"dataset": "affectnet", "methods": {
                 "ours": {"val": {"n": 5, "report": {"macro avg": {"f1-score": 0.5}}}}}},
             "attributes_celeba.json": {"dataset": "celeba", "training": {"ours": {"val": {"macro avg": 0.3}}},
                                        "methods": {"ours": {"removal_rate": {"Bald": 0.5, "Gray_Hair": None}}}}}
    for name, content in files.items():
        (reports / name).write_text(json.dumps(content))
    rows = {(r["table"], r["cell"]): r for r in paper_rows(tmp_path)}
    assert set(rows) == {("2", "ours mean |p_orig - p_anon|"), ("4", "ours macro F1 (val)"),
                         ("5", "ours macro F1 (val)"), ("6", "ours mean removal rate")}
    paper2 = (PAPER_TABLE2["affectnet"]["neutral"]["ours"] + PAPER_TABLE2["affectnet"]["anger"]["ours"]) / 2
    assert rows["2", "ours mean |p_orig - p_anon|"]["paper"] == pytest.approx(paper2)
    assert rows["2", "ours mean |p_orig - p_anon|"]["kit"] == pytest.approx(0.15)
    assert rows["4", "ours macro F1 (val)"]["paper"] == PAPER_TABLE4["affectnet"]["macro avg"]["ours"]["f1"]
    assert rows["5", "ours macro F1 (val)"]["paper"] == PAPER_TABLE5["macro avg"]["ours"]["f1"]
    assert (rows["6", "ours mean removal rate"]["kit"], rows["6", "ours mean removal rate"]["paper"]) == (0.5, 1.0)
