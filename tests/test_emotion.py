"""Emotion preservation: probability distances, classification reports, the paper's tables, both scenarios."""
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from ganonlib.metrics.emotion import classification_summary, distance_table, probability_distances
from ganonlib.metrics.method_images import method_images, provided_methods
from ganonlib.metrics.evaluate_emotion import emotion_labels, inference_scenario
from ganonlib.metrics.training_scenario import TrainedClassifier, training_scenario
from ganonlib.report.paper_emotion import PAPER_TABLE2, PAPER_TABLE3, PAPER_TABLE4
from ganonlib.report.tables import table2, table3, table4
from ganonlib.train.classifier import ClassifierConfig


def test_probability_distances_per_image_and_emotion_and_their_means():
    original = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1]])
    ours = np.array([[0.6, 0.3, 0.1], [0.1, 0.5, 0.4]])
    blur = np.array([[0.2, 0.7, 0.1], [np.nan] * 3])  # no image for the second face
    d = probability_distances(["a", "b"], original, {"ours": ours, "blur9": blur}, ("neutral", "happy", "sad"))
    assert len(d) == 2 * 3 + 1 * 3
    got = d.set_index(["method", "image", "emotion"]).value
    assert got["ours", "b", "happy"] == pytest.approx(0.3) and got["blur9", "a", "neutral"] == pytest.approx(0.5)
    table = distance_table(d, ("neutral", "happy", "sad"), ["ours", "deepprivacy2", "blur9"])
    assert list(table.columns) == ["ours", "blur9"]  # a method without images is no column
    assert table.at["neutral", "ours"] == pytest.approx(0.05) and table.at["sad", "ours"] == pytest.approx(0.15)
    assert table.at["happy", "blur9"] == pytest.approx(0.5)


def test_classification_summary_by_hand():
    y = np.array([0, 0, 1, 2])
    probs = np.eye(3)[[0, 1, 1, 2]]
    s = classification_summary(y, probs, ("a", "b", "c"))
    r = s["report"]
    assert r["a"]["precision"] == 1.0 and r["a"]["recall"] == 0.5 and r["b"]["precision"] == 0.5
    assert r["accuracy"] == 0.75 and r["macro avg"]["f1-score"] == pytest.approx((2 / 3 + 2 / 3 + 1) / 3)
    assert s["confusion"][0] == [0.5, 0.5, 0.0] and s["n"] == 4
    absent = classification_summary(np.array([0, 0]), np.eye(3)[[0, 1]], ("a", "b", "c"))
    assert absent["report"]["c"]["support"] == 0 and absent["confusion"][2] == [0.0, 0.0, 0.0]


def test_paper_tables_hold_the_printed_values():
    assert PAPER_TABLE2["affectnet"]["sad"] == {"ours": 0.10, "deepprivacy2": 0.16, "ciagan": 0.09}
    assert PAPER_TABLE2["ckplus"]["contempt"]["ciagan"] == 0.04
    assert PAPER_TABLE3["faces"]["fear"]["ciagan"] == {"p": "<0.001", "z": -8.291628, "r": -0.566804}
    assert PAPER_TABLE3["ckplus"]["sadness"]["deepprivacy2"]["p"] == "0.146"
    assert PAPER_TABLE4["ckplus"]["accuracy"]["ours"]["f1"] == 0.69 and PAPER_TABLE4["faces"]["sad"]["support"] == 36
    assert PAPER_TABLE4["affectnet"]["macro avg"]["ciagan"] == {"precision": 0.40, "recall": 0.38, "f1": 0.38}


def _training_result():
    report = {"anger": {"precision": 0.5, "recall": 0.25, "f1-score": 0.3333, "support": 9},
              "fear": {"precision": 0.0, "recall": 0.0, "f1-score": 0.0, "support": 3},
              "accuracy": 0.6, "macro avg": {"precision": 0.25, "recall": 0.125, "f1-score": 0.1667, "support": 12},
              "weighted avg": {"precision": 0.375, "recall": 0.1875, "f1-score": 0.25, "support": 12}}
    split = {"report": report, "confusion": [[1.0, 0.0], [0.0, 1.0]], "n": 12}
    return {"classes": ["anger", "fear"], "methods": {"original": {"val": split, "test": split},
                                                      "ours": {"val": split, "test": {"n": 0}}}}


def test_table4_cells_show_kit_paper_and_difference():
    table = table4(_training_result(), "ckplus", "val").set_index("Class")
    assert table.at["anger", "Ours P"] == "0.50 (paper 0.00, +0.50)"  # paper: GANonymization anger P 0.00
    assert table.at["anger", "Original F1"] == "0.33 (paper 1.00, -0.67)"
    assert table.at["accuracy", "Ours F1"] == "0.60 (paper 0.69, -0.09)" and table.at["accuracy", "Ours P"] == ""
    assert table.at["fear", "N"] == "3 (paper 3)"
    test = table4(_training_result(), "ckplus", "test")
    assert "paper" not in test.to_string() and not any(c.startswith("Ours") for c in test.columns)


def test_table2_and_table3_against_the_paper():
    result = {"classes": ["anger", "fear"], "methods": {"ours": {"mean_distance": {"anger": 0.2, "fear": None}}},
              "statistics": [{"emotion": "fear", "baseline": "deepprivacy2", "n": 68, "z": -3.0, "r": -0.36,
                              "p_bonferroni": 0.0004, "stars": "***"},
                             {"emotion": "anger", "baseline": "deepprivacy2", "n": 68, "z": 1.0, "r": 0.12,
                              "p_bonferroni": 1.0, "stars": ""}]}
    t2 = table2(result, "ckplus", ["ours", "deepprivacy2"]).set_index("Emotion")
    assert t2.at["anger", "Ours"] == "0.200 (paper 0.140, +0.060)"
    assert t2.at["anger", "DeepPrivacy2"] == "not provided (paper 0.300)"
    t3 = table3(result, "ckplus")
    assert list(t3.Emotion) == ["anger", "fear"]  # the dataset's class order
    assert t3.iloc[1].p == "<0.001***" and t3.iloc[1]["paper p"] == "0.002" and t3.iloc[1]["paper Z"] == "-3.067"


@pytest.fixture(scope="module")
def labelled(tmp_path_factory):
    """A processed dataset in the kit's layout (CK+ kind: two emotions, dark vs bright faces) and one method."""
    root = tmp_path_factory.mktemp("emotion")
    rng = np.random.default_rng(0)
    rows, anon_rows = [], []
    for i in range(30):
        split = "train" if i < 18 else "val" if i < 24 else "test"
        label = i % 2
        for folder, shift in (("processed/images", 0), ("anonymized/ours", 10)):
            path = root / folder / split / f"k{i}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            mean = (60 if label == 0 else 190) + shift
            Image.fromarray(np.clip(rng.normal(mean, 20, (32, 32, 3)), 0, 255).astype(np.uint8)).save(path)
        rows.append({"key": f"k{i}", "split": split, "image": f"images/{split}/k{i}.png", "subject": f"s{i}",
                     "label": label})
        anon_rows.append({"key": f"k{i}", "split": split, "image": f"{split}/k{i}.png"})
    pd.DataFrame(rows).to_csv(root / "processed" / "index.csv", index=False)
    pd.DataFrame(anon_rows).to_csv(root / "anonymized" / "ours" / "index.csv", index=False)
    (root / "anonymized" / "ours" / "summary.json").write_text('{"provided": true}')
    (root / "anonymized" / "ciagan").mkdir()
    (root / "anonymized" / "ciagan" / "summary.json").write_text('{"provided": false}')
    return root


def test_training_and_inference_scenarios_on_a_labelled_dataset(labelled, tmp_path):
    methods = provided_methods(labelled / "anonymized", ["ours", "ciagan", "blur9"])
    assert methods == ["ours"]
    frame = method_images(labelled / "processed", labelled / "anonymized", methods, ("train", "val", "test"))
    labels, classes, source = emotion_labels(frame, "ckplus", progress=False)
    assert list(labels[:4]) == [0, 1, 0, 1] and classes[:2] == ("anger", "contempt") and source == "ckplus labels"
    cfg = ClassifierConfig(arch="convnext_atto", image_size=32, epochs=3, batch_size=8, lr=1e-3, device="cpu",
                           pretrained="no")
    predictions, result = training_scenario(frame, labels, classes, methods, cfg, tmp_path, progress=False)
    assert set(result["methods"]) == {"original", "ours"} and result["methods"]["ours"]["train_images"] == 18
    for method in ("original", "ours"):
        assert (tmp_path / method / "best.pt").is_file()
        assert result["methods"][method]["val"]["n"] == 6 and result["methods"][method]["test"]["n"] == 6
    assert set(predictions.split) == {"val", "test"} and len(predictions) == 2 * 12
    classifier = TrainedClassifier(tmp_path / "original" / "best.pt", cfg, classes, "original model")
    test = method_images(labelled / "processed", labelled / "anonymized", methods, ("test",))
    distances, inference = inference_scenario(test, classes, methods, classifier, progress=False)
    assert inference["classifier"] == "original model" and inference["methods"]["ours"]["n"] == 6
    assert len(distances) == 6 * len(classes) and distances.value.between(0, 1).all()
    assert inference["statistics"] == []  # no baseline beside ours: nothing to test


def test_an_unlabelled_pair_of_a_labelled_kind_is_an_error():
    frame = pd.DataFrame({"label": ["1", ""], "original": ["a", "b"]})
    with pytest.raises(ValueError, match="no emotion label"):
        emotion_labels(frame, "faces", progress=False)
