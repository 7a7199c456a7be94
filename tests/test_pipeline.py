"""The notebooks, executed through papermill on a small sample exactly as the DVC stages run them."""
import json
from pathlib import Path

import nbformat
import pandas as pd
import papermill as pm
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
pytestmark = pytest.mark.pipeline


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_source_notebooks_are_output_free_and_parameterized(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert sum("parameters" in c.metadata.get("tags", []) for c in code) == 1


def _defaults(notebook: str) -> dict:
    """A notebook's parameter defaults, parsed as params.yaml's values are."""
    return {p: yaml.safe_load(v["default"]) for p, v in pm.inspect_notebook(str(ROOT / "notebooks" / notebook)).items()}


def test_parameter_defaults_match_params_yaml():
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    # (params section, its notebook, keys that only DVC uses)
    for section, notebook, dvc_only in (
            ("preprocess", "02_preprocess", ()), ("gan", "03_train_gan", ("dataset",)),
            ("anonymize", "04_anonymize", ("datasets", "baselines", "external", "external_dir")),
            ("eval_identity", "10_eval_identity", ()), ("eval_attributes", "13_eval_attributes", ("datasets",)),
            ("sample", "01_sample_data", ())):
        defaults = _defaults(f"{notebook}.ipynb")
        for key, value in params[section].items():
            if key not in dvc_only:
                assert defaults[key] == value, (section, key)
    training, inference = _defaults("11_eval_emotion_training.ipynb"), _defaults("12_eval_emotion_inference.ipynb")
    for key, value in params["eval_emotion"].items():
        for defaults in (training, inference):
            if key in defaults:
                assert defaults[key] == value, key
    notebook_only = {"dataset", "methods", "reports", "models"}
    assert set(params["eval_emotion"]) - {"datasets"} == (set(training) | set(inference)) - notebook_only


def test_sample_and_preprocess_notebooks_run(tmp_path):
    run = lambda name, **p: pm.execute_notebook(  # noqa: E731
        str(ROOT / "notebooks" / name), str(tmp_path / name), parameters=p, cwd=str(tmp_path),
        kernel_name="python3", progress_bar=False)
    run("01_sample_data.ipynb", out_dir="sample", variants_per_photo=4)
    index = pd.read_csv(tmp_path / "sample" / "index.csv")
    assert len(index) == 12 and (tmp_path / "sample" / "PROVENANCE.md").is_file()
    run("02_preprocess.ipynb", root="sample", out_dir="processed", image_size=256,
        metrics_path="metrics/preprocess.json")
    metrics = json.loads((tmp_path / "metrics" / "preprocess.json").read_text())
    assert metrics["dataset"] == "sample" and metrics["files"] == 12 and metrics["pairs"] >= 11
    pairs = pd.read_csv(tmp_path / "processed" / "index.csv")
    assert set(pairs.split) <= {"train", "val", "test"} and len(pairs) == metrics["pairs"]
    assert all((tmp_path / "processed" / p).is_file() for p in pairs.image)
    if (pairs.split == "train").sum() < 2:
        pytest.skip("too few train pairs for the GAN notebook")
    run("03_train_gan.ipynb", data_dir="processed", out_dir="gan", epochs=1, batch_size=2, max_steps_per_epoch=1)
    assert (tmp_path / "gan" / "generator.pt").is_file() and (tmp_path / "gan" / "samples" / "epoch_001.png").is_file()
    run("04_anonymize.ipynb", processed_dir="processed", out_dir="anon", weights="gan/generator.pt",
        paste_back_photos=2)
    anon = pd.read_csv(tmp_path / "anon" / "index.csv")
    assert list(anon.key) == list(pairs.key) and all((tmp_path / "anon" / p).is_file() for p in anon.image)
    test_photos = pairs[pairs.split == "test"].source.nunique()
    assert len(list((tmp_path / "anon" / "photos" / "faces").glob("*_f0.png"))) == min(2, test_photos)
    assert len(list((tmp_path / "anon" / "photos" / "photos").glob("*.png"))) == min(2, test_photos)
    run("04_anonymize.ipynb", method="blur9", processed_dir="processed", out_dir="blur9")
    assert list(pd.read_csv(tmp_path / "blur9" / "index.csv").key) == list(pairs.key)
    run("04_anonymize.ipynb", method="ciagan", processed_dir="processed", out_dir="ciagan", external_dir="none")
    assert json.loads((tmp_path / "ciagan" / "summary.json").read_text())["provided"] is False
    for method in ("ours", "blur9", "ciagan"):
        (tmp_path / "data" / "anonymized" / "s").mkdir(parents=True, exist_ok=True)
        (tmp_path / "data" / "anonymized" / "s" / method).symlink_to(tmp_path / ("anon" if method == "ours"
                                                                                 else method))
    (tmp_path / "data" / "processed").mkdir(parents=True)
    (tmp_path / "data" / "processed" / "s").symlink_to(tmp_path / "processed")
    run("10_eval_identity.ipynb", dataset="s", gan_train_dataset="s", methods=["ours", "blur9", "ciagan"])
    identity = json.loads((tmp_path / "reports" / "metrics" / "identity.json").read_text())
    assert identity["recognizer"] == "Dlib" and identity["methods"]["ciagan"]["provided"] is False
    assert identity["methods"]["blur9"]["n"] == (pairs.split == "test").sum()
    assert "Blur 9x9" in (tmp_path / "reports" / "tables" / "table1_identity.md").read_text()
    per_image = pd.read_csv(tmp_path / "reports" / "identity" / "per_image.csv")
    assert set(per_image.method) == {"ours", "blur9"} and set(per_image.recognizer) == {"Dlib"}

    # emotion stages: the sample has no emotion labels, so the FER2013 reference labels and classifies
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"datasets": {"s": {
        "kind": "sample", "root": "sample", "val_fraction": 0.15, "test_fraction": 0.15, "seed": 0, "limit": 0}},
        "anonymize": {"datasets": ["s"]}, "eval_identity": {"dataset": "s"}, "eval_emotion": {"datasets": ["s"]},
        "eval_attributes": {"datasets": ["s"]}}))
    run("11_eval_emotion_training.ipynb", dataset="s", methods=["ours", "blur9", "ciagan"], image_size=32, epochs=1)
    training = json.loads((tmp_path / "reports" / "metrics" / "emotion_training_s.json").read_text())
    assert "FER2013 reference" in training["label_source"] and training["not_provided"] == ["ciagan"]
    assert set(training["methods"]) == {"original", "ours", "blur9"}
    assert (tmp_path / "models" / "emotion" / "s" / "ours" / "best.pt").is_file()
    run("12_eval_emotion_inference.ipynb", dataset="s", methods=["ours", "blur9", "ciagan"])
    inference = json.loads((tmp_path / "reports" / "metrics" / "emotion_inference_s.json").read_text())
    assert inference["classifier"].startswith("FER2013 reference") and set(inference["methods"]) == {"ours", "blur9"}
    assert "not provided" in (tmp_path / "reports" / "tables" / "table2_emotion_distance_s.md").read_text()
    assert (tmp_path / "reports" / "figures" / "figure7_emotion_distance_s.png").is_file()
    assert (tmp_path / "reports" / "tables" / "table3_emotion_statistics_s.md").is_file()

    # attributes: the sample's known properties as labels; then the report over every stage's metrics
    run("13_eval_attributes.ipynb", dataset="s", methods=["ours", "blur9", "ciagan"], image_size=32, epochs=1)
    attributes = json.loads((tmp_path / "reports" / "metrics" / "attributes_s.json").read_text())
    assert "not CelebA attributes" in attributes["label_source"] and set(attributes["methods"]) == {"ours", "blur9"}
    assert "Person_Astronaut" in attributes["methods"]["ours"]["removal_rate"]
    assert (tmp_path / "reports" / "tables" / "table6_removal_s.md").is_file()
    run("90_paper_report.ipynb", methods=["ours", "blur9", "ciagan"])
    report = (tmp_path / "reports" / "REPORT.md").read_text()
    for n in range(1, 7):
        assert f"[paper_table{n}.md](tables/paper_table{n}.md)" in report
        assert (tmp_path / "reports" / "tables" / f"paper_table{n}.tex").is_file()
    assert "the bundled sample" in report and "(figures/samples/s.png)" in report
    assert (tmp_path / "reports" / "figures" / "samples" / "s.png").is_file()
    assert "0.7145" in (tmp_path / "reports" / "tables" / "paper_table1.md").read_text()  # the paper's value beside
