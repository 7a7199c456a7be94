"""The exploration notebook's library: one photo through every step, cached per setting; gallery; paper tables."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ganonlib.config import load_params
from ganonlib.data.sample import load_photo
from ganonlib.explore import (ExploreSettings, Explorer, emotion_figure, imported_outputs, paper_tables,
                              panels_figure)
from ganonlib.io import atomic_write_image


@pytest.fixture(scope="module")
def explorer() -> Explorer:
    return Explorer(load_params("params.yaml"))


def test_a_photo_walks_through_every_step(explorer, generator_file):
    settings = ExploreSettings(weights=str(generator_file))
    walk = explorer.walk(load_photo("astronaut"), settings)
    titles = [p.title for p in walk.panels]
    assert titles[:5] == ["photo", "aligned crop", "head mask", "landmarks", "ours"]
    assert {"pixel8", "pixel16", "blur9", "blur17", "ours pasted back"} <= set(titles)
    measured = [p for p in walk.panels if p.title in ("ours", "pixel8", "blur17")]
    assert all("id dist" in p.caption and "NME" in p.caption for p in measured)
    assert walk.panels[0].caption.startswith("1 face(s)") and walk.faces_found == 1
    assert list(walk.emotions.index) == ["original", "ours", "pixel8", "pixel16", "blur9", "blur17"]
    assert walk.emotions.shape[1] == 7 and np.allclose(walk.emotions.sum(axis=1), 1.0, atol=1e-3)
    assert len(panels_figure(walk).axes) == len(walk.panels) and emotion_figure(walk).axes


def test_a_control_reruns_only_what_it_changes(explorer, generator_file):
    photo = load_photo("grace_hopper")
    explorer.walk(photo, ExploreSettings(weights=str(generator_file)))
    extracted = len(explorer._faces)
    explorer.walk(photo, ExploreSettings(weights=str(generator_file), feather=0.1, blend="poisson"))
    assert len(explorer._faces) == extracted  # paste-back settings: no new extraction
    explorer.walk(photo, ExploreSettings(weights=str(generator_file), margin=0.2))
    assert len(explorer._faces) == extracted + 1  # the crop's margin: extracted again


def test_a_photo_without_a_face_shows_the_policy(explorer, generator_file):
    blank = np.full((200, 200, 3), 127, np.uint8)
    walk = explorer.walk(blank, ExploreSettings(weights=str(generator_file)))
    assert [p.title for p in walk.panels] == ["photo", "average face"] and walk.emotions.empty
    walk = explorer.walk(blank, ExploreSettings(weights=str(generator_file), no_face="skip"))
    assert walk.panels[1].title == "policy skip"


def test_paper_tables_and_imported_outputs_are_read_from_the_last_run(tmp_path):
    (tmp_path / "reports" / "tables").mkdir(parents=True)
    (tmp_path / "reports" / "tables" / "paper_table1.md").write_text(
        "Table 1\n\n| method | kit | paper |\n|---|---|---|\n| ours | 0.70 | 0.71 |\n| blur9 | 0.10 | 0.13 |\n")
    tables = paper_tables(tmp_path)
    assert list(tables) == ["paper_table1"] and tables["paper_table1"].shape == (2, 3)
    photo = tmp_path / "photos" / "a.png"
    atomic_write_image(photo, load_photo("camera"))
    processed = tmp_path / "data" / "processed" / "ds"
    processed.mkdir(parents=True)
    pd.DataFrame([{"key": "a_f0", "split": "test", "source": str(photo)}]).to_csv(processed / "index.csv", index=False)
    tool = tmp_path / "data" / "anonymized" / "ds" / "deepprivacy2"
    atomic_write_image(tool / "test" / "a_f0.png", np.zeros((64, 64, 3), np.uint8))
    pd.DataFrame([{"key": "a_f0", "image": "test/a_f0.png"}]).to_csv(tool / "index.csv", index=False)
    (tool / "summary.json").write_text('{"provided": true}')
    assert list(imported_outputs(photo, tmp_path)) == ["deepprivacy2"]
    assert imported_outputs(tmp_path / "elsewhere.png", tmp_path) == {}


def test_without_a_generator_every_other_step_still_shows(explorer, tmp_path):
    walk = explorer.walk(load_photo("astronaut"), ExploreSettings(weights=str(tmp_path / "none.pt")))
    titles = [p.title for p in walk.panels]
    assert titles[:5] == ["photo", "aligned crop", "head mask", "landmarks", "ours"] and "pixel8" in titles
    assert "weights not found" in walk.panels[4].caption.replace("\n", " ")
    assert "ours" not in walk.emotions.index and "ours pasted back" not in titles
