"""A classifier whose training set, labels and settings are unchanged is read back, curves and all, not retrained."""
import json
import shutil

import numpy as np
import pytest
import torch
from PIL import Image

import ganonlib.train.classifier_reuse as reuse
from ganonlib.io import file_sha256
from ganonlib.train.classifier import ClassifierConfig, ImageLabels, predict
from ganonlib.train.classifier_reuse import RECORD, trained_classifier


class _Log:
    def __init__(self):
        self.steps, self.epochs = [], []

    def step(self, values):
        self.steps.append(dict(values))

    def epoch(self, epoch, values):
        self.epochs.append((epoch, dict(values)))


@pytest.fixture()
def images(tmp_path):
    rng = np.random.default_rng(1)
    paths, labels = [], []
    for i in range(16):
        arr = np.clip(rng.normal(60 if i % 2 == 0 else 190, 20, (32, 32, 3)), 0, 255).astype(np.uint8)
        Image.fromarray(arr).save(tmp_path / f"{i}.png")
        paths.append(tmp_path / f"{i}.png")
        labels.append(i % 2)
    return paths, np.array(labels)


def _cfg(**kw):
    return ClassifierConfig(**{"arch": "convnext_atto", "image_size": 32, "epochs": 2, "batch_size": 8, "lr": 1.0e-3,
                               "device": "cpu", "pretrained": "no", **kw})


def _sets(paths, labels):
    return ImageLabels(paths[:12], labels[:12], 32, True), ImageLabels(paths[12:], labels[12:], 32, False)


def test_the_same_training_set_is_read_back_with_its_curves_and_anything_else_trains(images, tmp_path, monkeypatch):
    paths, labels = images
    out = tmp_path / "models" / "original"
    first_log, second_log = _Log(), _Log()
    model, info = trained_classifier(*_sets(paths, labels), 2, _cfg(), out, progress=False, log=first_log)
    trained = []
    monkeypatch.setattr(reuse, "train_classifier", lambda *a, **k: trained.append(1) or (_ for _ in ()).throw(
        AssertionError("trained again")))
    again, info_again = trained_classifier(*_sets(paths, labels), 2, _cfg(), out, progress=False, log=second_log)
    assert not trained and info_again == {**info, "config": info_again["config"]}
    assert second_log.steps == first_log.steps and second_log.epochs == first_log.epochs and first_log.steps
    val = _sets(paths, labels)[1]
    np.testing.assert_array_equal(predict(model, val), predict(again, val))
    # a changed image, label or setting, or weights that are not the recorded ones: trained again
    monkeypatch.undo()
    real = reuse.train_classifier
    monkeypatch.setattr(reuse, "train_classifier", lambda *a, **k: trained.append(1) or real(*a, **k))
    for change in ("image", "label", "setting", "weights"):
        work = tmp_path / change
        shutil.copytree(out, work)
        p, y, cfg = list(paths), labels.copy(), _cfg()
        if change == "image":
            p[0] = tmp_path / "changed.png"
            arr = np.asarray(Image.open(paths[0])).copy()
            arr[0, 0] ^= 1
            Image.fromarray(arr).save(p[0])
        elif change == "label":
            y[3] = 1 - y[3]
        elif change == "setting":
            cfg = _cfg(lr=2.0e-3)
        else:
            state = torch.load(work / "best.pt", weights_only=True)
            state["epoch"] = 99
            torch.save(state, work / "best.pt")
        count = len(trained)
        trained_classifier(*_sets(p, y), 2, cfg, work, progress=False)
        assert len(trained) == count + 1, change
        assert json.loads((work / RECORD).read_text())["best_sha256"] == file_sha256(work / "best.pt")
