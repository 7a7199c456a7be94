"""Attribute analysis: removal rates by hand, multi-label reports, the paper's Tables 5-6 and their renderers."""
import numpy as np
import pandas as pd
import pytest

from ganonlib.config import DatasetConfig
from ganonlib.data.datasets import SAMPLE_ATTRIBUTES, attribute_names, load_dataset
from ganonlib.metrics.attributes import multilabel_summary, removal_rates
from ganonlib.metrics.evaluate_attributes import attribute_labels, training_summary
from ganonlib.report.paper_attributes import PAPER_TABLE5, PAPER_TABLE6
from ganonlib.report.tables import scored_methods, scored_splits, table5, table6


def test_removal_rates_by_hand():
    # 4 faces, attributes (smiling, hat, beard); originals predicted positive above 0.5
    original = np.array([[0.9, 0.8, 0.1], [0.7, 0.2, 0.1], [0.6, 0.9, 0.2], [0.2, 0.7, 0.3]])
    anonymized = np.array([[0.8, 0.1, 0.9], [0.4, 0.3, 0.1], [0.5, 0.6, 0.1], [np.nan, np.nan, np.nan]])
    table = removal_rates(original, anonymized, ["smiling", "hat", "beard"]).set_index("attribute")
    # smiling: faces 0, 1, 2 have it; 1 (0.4) and 2 (0.5: not above 0.5) lose it -> 2 / 3
    assert table.at["smiling", "positives"] == 3 and table.at["smiling", "removed"] == 2
    assert table.at["smiling", "removal_rate"] == pytest.approx(2 / 3)
    # hat: faces 0 and 2 (face 3 has no anonymized image); face 0 loses it -> 1 / 2
    assert table.at["hat", "positives"] == 2 and table.at["hat", "removal_rate"] == pytest.approx(0.5)
    # beard: no original has it (gaining it in face 0 is no removal) -> undefined
    assert table.at["beard", "positives"] == 0 and np.isnan(table.at["beard", "removal_rate"])


def test_multilabel_summary_by_hand():
    y = np.array([[1, 0], [1, 1], [0, 1], [0, 0]])
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.6], [0.1, 0.4]])  # predicted [1,0] [0,1] [1,1] [0,0]
    s = multilabel_summary(y, probs, ["a", "b"])
    r = s["report"]
    assert r["a"]["precision"] == 0.5 and r["a"]["recall"] == 0.5 and r["b"]["precision"] == 1.0
    assert r["micro avg"]["precision"] == pytest.approx(3 / 4) and r["micro avg"]["recall"] == pytest.approx(3 / 4)
    assert "samples avg" in r and s["n"] == 4
    assert s["confusion"][0] == [[0.5, 0.5], [0.5, 0.5]] and s["confusion"][1] == [[1.0, 0.0], [0.0, 1.0]]


def test_paper_tables_5_and_6():
    assert PAPER_TABLE5["Wearing_Necktie"]["ours"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    assert PAPER_TABLE5["samples avg"]["original"]["f1"] == 0.78 and PAPER_TABLE5["Young"]["support"] == 14821
    assert len(PAPER_TABLE6) == 40 and PAPER_TABLE6["Male"] == 0.276199 and PAPER_TABLE6["Bald"] == 1.0


def test_table5_and_table6_cells():
    report = {"Male": {"precision": 0.9, "recall": 0.8, "f1-score": 0.85, "support": 10},
              **{avg: {"precision": 0.5, "recall": 0.5, "f1-score": 0.5, "support": 10}
                 for avg in ("micro avg", "macro avg", "weighted avg", "samples avg")}}
    split = {"report": report, "confusion": [[[1.0, 0.0], [0.0, 1.0]]], "n": 20}
    training = {"classes": ["Male"], "methods": {"original": {"val": split}, "ours": {"val": split}}}
    t5 = table5(training, "celeba", "val").set_index("Attribute")
    assert t5.at["Male", "Ours P"] == "0.90 (paper 0.91, -0.01)" and t5.at["Male", "N"] == "10 (paper 8443)"
    assert t5.at["samples avg", "Original F1"] == "0.50 (paper 0.78, -0.28)"
    removal = {"attributes": ["Male", "Bald"], "methods": {
        "ours": {"removal_rate": {"Male": 0.3, "Bald": None}, "positives": {"Male": 10, "Bald": 0}},
        "blur9": {"removal_rate": {"Male": 0.0, "Bald": None}, "positives": {"Male": 10, "Bald": 0}}}}
    t6 = table6(removal, "celeba").set_index("Attribute")
    assert list(t6.index) == ["Male", "Bald"]  # sorted by ours, undefined last
    assert t6.at["Male", "Ours"] == "0.300 (paper 0.276, +0.024)" and t6.at["Male", "Blur 9x9"] == "0.000"
    assert t6.at["Bald", "Ours"] == "not provided (paper 1.000)" and t6.at["Bald", "Blur 9x9"] == "no original has it"
    assert "paper" not in table6(removal, "sample").to_string()


def test_only_the_scored_splits_are_reported():
    report = {avg: {"f1-score": 0.123456} for avg in ("micro avg", "macro avg", "weighted avg", "samples avg")}
    run = {"train_images": 8, "best_epoch": 2, "backbone_weights": "none (from scratch)",
           "val": {"report": report, "n": 4}, "test": {"n": 0}}  # a dataset too small for a test split
    training = {"methods": {"original": run, "ours": run}}
    assert scored_splits(training) == ["val"] and scored_methods(training, "test") == []
    summary = training_summary(training)
    assert set(summary) == {"original", "ours"} and "test" not in summary["ours"]
    assert summary["ours"]["val"]["samples avg"] == 0.1235 and summary["ours"]["best_epoch"] == 2


def test_sample_attributes_are_its_known_properties(tmp_path):
    from ganonlib.data.sample import build_sample
    from ganonlib.config import SampleConfig

    build_sample(SampleConfig(out_dir=str(tmp_path), variants_per_photo=3))
    cfg = DatasetConfig("s", "sample", str(tmp_path))
    records = load_dataset(cfg)
    assert attribute_names(cfg) == list(SAMPLE_ATTRIBUTES)
    index = pd.read_csv(tmp_path / "index.csv").set_index("file")
    for r in records:
        person = SAMPLE_ATTRIBUTES.index("Person_" + "_".join(w.capitalize() for w in r.subject.split("_")))
        assert r.attributes[person] == 1 and sum(r.attributes[:3]) == 1
        augment = index.loc[str(r.path.relative_to(tmp_path))].augment
        flipped = '"flip": 1.0' in str(augment)
        assert r.attributes[SAMPLE_ATTRIBUTES.index("Flipped")] == int(flipped)
    frame = pd.DataFrame({"attributes": [" ".join(map(str, r.attributes)) for r in records]})
    assert attribute_labels(frame, list(SAMPLE_ATTRIBUTES)).shape == (len(records), len(SAMPLE_ATTRIBUTES))
    with pytest.raises(ValueError, match="no attribute labels"):
        attribute_labels(pd.DataFrame({"attributes": ["1 0", ""]}), ["a", "b"])


def test_celeba_attribute_names_from_the_official_file(tmp_path):
    (tmp_path / "list_attr_celeba.txt").write_text("1\nSmiling Male\n000001.jpg 1 -1\n")
    assert attribute_names(DatasetConfig("c", "celeba", str(tmp_path))) == ["Smiling", "Male"]
