"""`make exps`: main and its experiments in a few short columns, from `dvc exp show --json`."""
from ganonlib.report.experiments import experiments_frame


def _run(rev, name, epochs, l1, removal):
    params = {"params.yaml": {"data": {"gan": {"epochs": epochs, "lr": 2.0e-4}, "anonymize": {"baselines": ["blur9"]}}}}
    metrics = {"metrics/generator.json": {"data": {"g_l1": l1}},
               "metrics/identity/ours.json": {"data": {"distance": 0.12, "rank1": 0.2}},
               "metrics/attributes/celeba/ours.json": {"data": {"removal": removal}}}
    return {"rev": rev, "name": name, "data": {"params": params, "metrics": metrics}}


def test_the_view_keeps_what_differs_and_the_curated_headline_in_120_columns():
    main = _run("9881300ff620", "main", 3, 0.31, 0.6)
    main["experiments"] = [{"revs": [_run("066fe6983049", "e1", 1, 0.45, 0.4)]}]
    frame = experiments_frame([_run("workspace", None, 3, 0.31, 0.6), main])
    assert list(frame.index) == ["workspace", "main", "e1"]
    assert list(frame.columns) == ["gan.epochs", "gan_l1", "id_dist", "id_rank1", "attr_removed[celeba]"]
    assert frame.loc["e1", "gan.epochs"] == 1 and frame.loc["e1", "attr_removed[celeba]"] == 0.4
    assert max(map(len, frame.to_string(line_width=120).splitlines())) <= 120
