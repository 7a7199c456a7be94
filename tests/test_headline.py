"""Headline metrics (what `dvc exp show` compares) and the offline `dvc plots show` page."""
import json

from ganonlib.report.headline import (attributes_headline, identity_headline, inference_headline, preprocess_headline,
                                      read_headlines, training_headline, write_headlines)


def test_identity_headline_keeps_a_few_rounded_numbers_per_provided_method():
    result = {"methods": {"original": {"provided": True, "n": 3, "mean": 0.0},
                          "ours": {"provided": True, "n": 3, "mean": 0.123456, "rank1": 1 / 3,
                                   "verification_rate": 0.0, "nme_mean": None},
                          "ciagan": {"provided": False}}}
    assert identity_headline(result) == {"ours": {"distance": 0.1235, "rank1": 0.3333, "verified": 0.0,
                                                  "nme": None}}


def test_training_inference_and_attribute_headlines():
    report = {"n": 4, "report": {"macro avg": {"f1-score": 0.66666}}}
    methods = {"original": {"val": report, "test": {"n": 0}}, "ours": {"val": report, "test": report}}
    assert training_headline(methods) == {"original": {"f1_val": 0.6667, "f1_test": None},
                                          "ours": {"f1_val": 0.6667, "f1_test": 0.6667}}
    inference = {"methods": {"ours": {"mean_distance": {"happy": 0.1, "sad": 0.3}}}}
    assert inference_headline(inference) == {"ours": {"distance": 0.2}}
    attributes = {"training": {"original": {"val": {"macro avg": 0.5}}, "ours": {"val": {"macro avg": 0.25}}},
                  "methods": {"ours": {"removal_rate": {"a": 1.0, "b": 0.0, "c": None}}}}
    assert attributes_headline(attributes) == {"original": {"f1_val": 0.5, "f1_test": None},
                                               "ours": {"f1_val": 0.25, "f1_test": None, "removal": 0.5}}
    summary = {"files": 10, "faces": 9, "pairs": 8, "detection_rate": 0.9, "mesh_rate": 0.888888}
    assert preprocess_headline(summary) == {"photos": 10, "faces": 9, "pairs": 8, "face_rate": 0.9,
                                            "mesh_rate": 0.8889}


def test_write_headlines_leaves_exactly_this_runs_files(tmp_path):
    write_headlines(tmp_path / "identity", {"ours": {"distance": 0.5}, "blur9": {"distance": 0.1}})
    write_headlines(tmp_path / "identity", {"ours": {"distance": 0.4}})  # blur9 no longer evaluated
    assert read_headlines(tmp_path / "identity") == {"ours": {"distance": 0.4}}
    text = (tmp_path / "identity" / "ours.json").read_text()
    assert json.loads(text) == {"distance": 0.4} and max(map(len, text.splitlines())) < 200


def test_the_plots_page_loads_nothing_from_the_network():
    from ganonlib.report.offline_plots import offline_template

    page = offline_template()
    assert "{plot_divs}" in page and "{refresh_tag}" in page and "{scripts}" not in page
    assert "<script src=" not in page and page.count('<script type="text/javascript">') == 3
    assert "vegaEmbed" in page  # vega-embed's global, which DVC's plot divs call
