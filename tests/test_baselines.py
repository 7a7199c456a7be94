"""Baselines on exact cases, and the importer of other tools' outputs."""
import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from ganonlib.anonymize.baselines import gaussian_blur, pixelate
from ganonlib.anonymize.baselines import apply_baseline
from ganonlib.anonymize.external import import_external


def test_pixelate_constant_image_stays_constant():
    img = np.full((64, 48, 3), 77, np.uint8)
    assert (pixelate(img, 8) == 77).all() and (pixelate(img, 16) == 77).all()


def test_pixelate_gives_a_grid_of_blocks_with_area_means():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    out = pixelate(img, 8)
    blocks = out.reshape(8, 8, 8, 8, 3)  # (row block, row, col block, col, C)
    assert (blocks == blocks[:, :1, :, :1]).all()  # every 8x8 block is constant
    means = img.reshape(8, 8, 8, 8, 3).mean(axis=(1, 3))
    assert np.abs(blocks[:, 0, :, 0].astype(float) - means).max() <= 1.0
    assert len(np.unique(pixelate(img, 16).reshape(-1, 3), axis=0)) > len(np.unique(out.reshape(-1, 3), axis=0))


def test_blur_keeps_constants_and_spreads_a_dot_by_kernel_size():
    flat = np.full((40, 40, 3), 200, np.uint8)
    assert (gaussian_blur(flat, 9) == 200).all()
    dot = np.zeros((41, 41, 3), np.uint8)
    dot[20, 20] = 255
    small, large = gaussian_blur(dot, 9), gaussian_blur(dot, 17)
    assert np.count_nonzero(small[..., 0]) <= 81 and np.count_nonzero(large[..., 0]) > np.count_nonzero(small[..., 0])
    assert small[20, 20, 0] > large[20, 20, 0] > 0
    with pytest.raises(ValueError):
        gaussian_blur(dot, 8)


@pytest.fixture
def processed(tmp_path):
    root = tmp_path / "processed"
    (root / "images" / "test").mkdir(parents=True)
    rows = []
    for i in range(3):
        Image.fromarray(np.full((32, 32, 3), 40 * i, np.uint8)).save(root / "images" / "test" / f"k{i}_f0.png")
        rows.append({"key": f"k{i}_f0", "split": "test", "image": f"images/test/k{i}_f0.png", "landmarks": "",
                     "points": "", "source": "", "face": 0, "subject": f"s{i}", "label": "", "attributes": ""})
    pd.DataFrame(rows).to_csv(root / "index.csv", index=False)
    return root


def test_apply_baseline_writes_keyed_outputs(processed, tmp_path):
    summary = apply_baseline(processed, tmp_path / "pixel8", "pixel8", progress=False)
    index = pd.read_csv(tmp_path / "pixel8" / "index.csv")
    assert summary["pairs"] == 3 and list(index.key) == ["k0_f0", "k1_f0", "k2_f0"]
    assert (np.asarray(Image.open(tmp_path / "pixel8" / index.image[2])) == 80).all()


def test_import_external_matches_by_name_and_reports_the_rest(processed, tmp_path):
    folder = tmp_path / "dp2_outputs" / "nested"
    folder.mkdir(parents=True)
    Image.fromarray(np.full((32, 32, 3), 9, np.uint8)).save(folder / "k0_f0.png")
    Image.fromarray(np.full((32, 32, 3), 9, np.uint8)).save(folder / "k2_f0.jpg")
    Image.fromarray(np.full((32, 32, 3), 9, np.uint8)).save(folder / "stranger.png")
    summary = import_external(tmp_path / "dp2_outputs", processed, tmp_path / "dp2", "deepprivacy2")
    assert summary["provided"] and summary["pairs"] == 2
    assert summary["missing_keys"] == ["k1_f0"] and summary["unmatched_files"][0].endswith("stranger.png")
    assert list(pd.read_csv(tmp_path / "dp2" / "index.csv").key) == ["k0_f0", "k2_f0"]


def test_absent_external_folder_is_marked_not_provided(processed, tmp_path):
    summary = import_external(tmp_path / "nowhere", processed, tmp_path / "ciagan", "ciagan")
    assert summary["provided"] is False and "not provided" in summary["note"]
    assert json.loads((tmp_path / "ciagan" / "summary.json").read_text())["provided"] is False
    assert pd.read_csv(tmp_path / "ciagan" / "index.csv").empty
