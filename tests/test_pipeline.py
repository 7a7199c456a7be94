"""The notebooks, executed through papermill on a small sample exactly as the DVC stages run them."""
import json
from pathlib import Path

import nbformat
import pandas as pd
import papermill as pm
import pytest
import yaml

from ganonlib.metrics.schemas import (AttributesResult, IdentityMethod, IdentityResult, InferenceResult,
                                      TrainingResult)

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_source_notebooks_are_output_free_and_parameterized(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert sum("parameters" in c.metadata.get("tags", []) for c in code) == 1


def _project(tmp_path: Path) -> Path:
    """A copy of the project's notebooks beside a params.yaml sized for a test run (the notebooks' paths are the
    project's conventions: data/, models/, reports/, metrics/)."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["sample"]["variants_per_photo"] = 4
    params["gan"].update(epochs=1, batch_size=2, max_steps_per_epoch=1)
    params["anonymize"].update(baselines=["blur9"], external=["ciagan"], paste_back_photos=2)
    for section in ("eval_emotion", "eval_attributes"):
        params[section].update(image_size=32, epochs=1)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    (tmp_path / "notebooks").mkdir()
    for notebook in NOTEBOOKS:
        (tmp_path / "notebooks" / notebook.name).write_bytes(notebook.read_bytes())
    return tmp_path


def _images(executed: Path) -> list[str]:
    nb = nbformat.read(executed, as_version=4)
    return [o["data"]["image/png"] for c in nb.cells if c.cell_type == "code" for o in c.outputs
            if "image/png" in o.get("data", {})]


@pytest.mark.slow
def test_the_pipeline_notebooks_run_from_jupyterlabs_folder(tmp_path):
    """Every notebook, run from notebooks/ as JupyterLab starts it, on the sample with a few steps each."""
    project = _project(tmp_path)
    run = lambda name, **p: pm.execute_notebook(  # noqa: E731
        str(project / "notebooks" / name), str(project / "executed" / name), parameters=p,
        cwd=str(project / "notebooks"), kernel_name="python3", progress_bar=False)
    (project / "executed").mkdir()
    run("01_sample_data.ipynb")
    index = pd.read_csv(project / "data" / "sample" / "index.csv")
    assert len(index) == 12 and (project / "data" / "sample" / "PROVENANCE.md").is_file()
    run("02_preprocess.ipynb", dataset="sample")
    metrics = json.loads((project / "data" / "processed" / "sample" / "summary.json").read_text())
    assert metrics["files"] == 12 and metrics["pairs"] >= 11 and "reused" not in metrics  # run-independent bytes
    headline = json.loads((project / "metrics" / "preprocess" / "sample.json").read_text())
    assert headline == {"photos": 12, "faces": metrics["faces"], "pairs": metrics["pairs"],
                        "face_rate": metrics["detection_rate"], "mesh_rate": round(metrics["mesh_rate"], 4)}
    processed = project / "data" / "processed" / "sample"
    pairs = pd.read_csv(processed / "index.csv")
    assert set(pairs.split) <= {"train", "val", "test"} and len(pairs) == metrics["pairs"]
    assert all((processed / p).is_file() for p in pairs.image)
    if (pairs.split == "train").sum() < 2:
        pytest.skip("too few train pairs for the GAN notebook")
    run("03_generator.ipynb")
    gan = project / "models" / "gan"
    assert (gan / "generator.pt").is_file() and (gan / "samples" / "epoch_001.png").is_file()
    run("04_anonymize.ipynb", dataset="sample")
    anonymized = project / "data" / "anonymized" / "sample"
    anon = pd.read_csv(anonymized / "ours" / "index.csv")
    assert list(anon.key) == list(pairs.key) and all((anonymized / "ours" / p).is_file() for p in anon.image)
    test_photos = pairs[pairs.split == "test"].source.nunique()
    assert len(list((anonymized / "ours" / "photos" / "photos").glob("*.png"))) == min(2, test_photos)
    # run again (from JupyterLab, after `dvc repro`), the stage's folder keeps its bytes: `dvc status` stays clean
    files = lambda: {p: p.read_bytes() for p in sorted((anonymized / "ours").rglob("*")) if p.is_file()}  # noqa: E731
    before = files()
    run("04_anonymize.ipynb", dataset="sample")
    assert files() == before
    run("05_anonymize_compared.ipynb", dataset="sample", method="blur9")
    assert list(pd.read_csv(anonymized / "blur9" / "index.csv").key) == list(pairs.key)
    run("05_anonymize_compared.ipynb", dataset="sample", method="ciagan")
    assert json.loads((anonymized / "ciagan" / "summary.json").read_text())["provided"] is False

    run("10_eval_identity.ipynb")
    reports = project / "reports"
    identity = json.loads((reports / "metrics" / "identity.json").read_text())
    assert set(identity) <= set(IdentityResult.__annotations__)  # the schema the tables and figures read
    assert all(set(m) <= set(IdentityMethod.__annotations__) for m in identity["methods"].values())
    assert identity["recognizer"] == "Dlib" and identity["methods"]["ciagan"]["provided"] is False
    assert identity["methods"]["blur9"]["n"] == (pairs.split == "test").sum()
    assert "Blur 9x9" in (reports / "tables" / "table1_identity.md").read_text()
    per_image = pd.read_csv(reports / "identity" / "per_image.csv")
    assert set(per_image.method) == {"ours", "blur9"} and set(per_image.recognizer) == {"Dlib"}
    # the headline files: one per provided method, a few keys each (what `dvc exp show` compares)
    assert sorted(p.name for p in (project / "metrics" / "identity").glob("*.json")) == ["blur9.json", "ours.json"]
    ours = json.loads((project / "metrics" / "identity" / "ours.json").read_text())
    assert set(ours) == {"distance", "rank1", "verified", "nme"}
    assert ours["distance"] == round(identity["methods"]["ours"]["mean"], 4)
    # executed in a kernel, the notebook shows Table 1 (an HTML table) and its figure (a PNG)
    executed = nbformat.read(project / "executed" / "10_eval_identity.ipynb", as_version=4)
    html = [o["data"]["text/html"] for c in executed.cells if c.cell_type == "code" for o in c.outputs
            if "text/html" in o.get("data", {})]
    assert any("Blur 9x9" in h and "<table" in h for h in html)
    assert len(_images(project / "executed" / "10_eval_identity.ipynb")) == 1

    # emotion stages: the sample has no emotion labels, so the FER2013 reference labels and classifies
    run("11_eval_emotion_training.ipynb", dataset="sample")
    training = json.loads((reports / "metrics" / "emotion_training_sample.json").read_text())
    assert set(training) <= set(TrainingResult.__annotations__)
    assert "FER2013 reference" in training["label_source"] and training["not_provided"] == ["ciagan"]
    assert set(training["methods"]) == {"original", "ours", "blur9"}
    assert (project / "models" / "emotion" / "sample" / "ours" / "best.pt").is_file()
    assert {p.stem for p in (project / "metrics" / "emotion_training" / "sample").glob("*.json")} == \
        {"original", "ours", "blur9"}
    assert _images(project / "executed" / "11_eval_emotion_training.ipynb")
    run("12_eval_emotion_inference.ipynb", dataset="sample")
    inference = json.loads((reports / "metrics" / "emotion_inference_sample.json").read_text())
    assert set(inference) <= set(InferenceResult.__annotations__)
    assert inference["classifier"].startswith("FER2013 reference") and set(inference["methods"]) == {"ours", "blur9"}
    assert "not provided" in (reports / "tables" / "table2_emotion_distance_sample.md").read_text()
    assert (reports / "figures" / "figure7_emotion_distance_sample.png").is_file()
    assert (reports / "tables" / "table3_emotion_statistics_sample.md").is_file()
    assert set(json.loads((project / "metrics" / "emotion_inference" / "sample" / "ours.json").read_text())) == \
        {"distance"}

    # attributes: the sample's known properties as labels; then the report over every stage's metrics
    run("13_eval_attributes.ipynb", dataset="sample")
    attributes = json.loads((reports / "metrics" / "attributes_sample.json").read_text())
    assert set(attributes) <= set(AttributesResult.__annotations__)
    assert "not CelebA attributes" in attributes["label_source"] and set(attributes["methods"]) == {"ours", "blur9"}
    assert "Person_Astronaut" in attributes["methods"]["ours"]["removal_rate"]
    assert (reports / "tables" / "table6_removal_sample.md").is_file()
    assert set(json.loads((project / "metrics" / "attributes" / "sample" / "ours.json").read_text())) == \
        {"f1_val", "f1_test", "removal"}
    assert _images(project / "executed" / "13_eval_attributes.ipynb")
    run("90_paper_report.ipynb")
    report = (reports / "REPORT.md").read_text()
    for n in range(1, 7):
        assert f"[paper_table{n}.md](tables/paper_table{n}.md)" in report
        assert (reports / "tables" / f"paper_table{n}.tex").is_file()
    assert "the bundled sample" in report and "(figures/samples/sample.png)" in report
    assert (reports / "figures" / "samples" / "sample.png").is_file()
    assert "0.7145" in (reports / "tables" / "paper_table1.md").read_text()  # the paper's value beside
    # the exploration notebook over the finished run: the default photo's panels as images, the last run's tables
    run("00_explore.ipynb")
    assert len(_images(project / "executed" / "00_explore.ipynb")) >= 2
