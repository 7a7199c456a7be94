"""Classifier trainer on tiny images: class weights, learning, early stopping, multi-label, provenance."""
import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from ganonlib.train.classifier import ClassifierConfig, ImageLabels, class_weights, predict, train_classifier


def test_class_weights_are_balanced_and_zero_for_absent_classes():
    w = class_weights(np.array([0, 0, 0, 1, 2, 2]), 4)
    np.testing.assert_allclose(w.numpy(), [6 / (3 * 3), 6 / (3 * 1), 6 / (3 * 2), 0.0])


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("imgs")
    rng = np.random.default_rng(0)
    paths, labels = [], []
    for i in range(24):
        label = i % 2  # class 0 dark, class 1 bright: learnable in a few steps
        arr = np.clip(rng.normal(60 if label == 0 else 190, 20, (32, 32, 3)), 0, 255).astype(np.uint8)
        Image.fromarray(arr).save(root / f"{i}.png")
        paths.append(root / f"{i}.png")
        labels.append(label)
    return paths, np.array(labels)


def test_augmentation_flips_each_training_image_with_the_seeded_coin_and_normalises(tiny):
    """torchvision's v2 transforms draw what the hand-written flip drew (one torch.rand per image, flip below 0.5)."""
    paths, labels = tiny
    mean, std = torch.tensor((0.485, 0.456, 0.406)).view(3, 1, 1), torch.tensor((0.229, 0.224, 0.225)).view(3, 1, 1)
    for train in (True, False):
        data = ImageLabels(paths, labels, 32, train)
        torch.manual_seed(5)
        got = [data[i][0] for i in range(len(paths))]
        torch.manual_seed(5)
        flipped = 0
        for i, x in enumerate(got):
            raw = torch.from_numpy(np.array(Image.open(paths[i]).convert("RGB"))).permute(2, 0, 1).float() / 255
            if train and torch.rand(()) < 0.5:
                raw, flipped = raw.flip(-1), flipped + 1
            torch.testing.assert_close(x, (raw - mean) / std)
        assert 0 < flipped < len(paths) if train else flipped == 0


def _cfg(**kw):
    return ClassifierConfig(**{"arch": "convnext_atto", "image_size": 32, "epochs": 4, "batch_size": 8,
                               "lr": 1.0e-3, "device": "cpu", "pretrained": "no", **kw})


def test_training_learns_and_keeps_the_best_checkpoint(tiny, tmp_path):
    paths, labels = tiny
    train, val = ImageLabels(paths[:16], labels[:16], 32, True), ImageLabels(paths[16:], labels[16:], 32, False)
    model, summary = train_classifier(train, val, 2, _cfg(), tmp_path, progress=False)
    history = pd.read_csv(tmp_path / "history.csv")
    assert summary["backbone_weights"] == "scratch" and summary["epochs_run"] == len(history) <= 4
    assert history.val_loss.min() == pytest.approx(summary["best_val_loss"])
    state = torch.load(tmp_path / "best.pt", weights_only=True)
    assert state["n_classes"] == 2 and state["epoch"] == summary["best_epoch"]
    probs = predict(model, val, device="cpu")
    assert probs.shape == (8, 2) and np.allclose(probs.sum(1), 1, atol=1e-5)
    assert (probs.argmax(1) == labels[16:]).mean() >= 0.75


def test_early_stopping_stops(tiny, tmp_path):
    paths, labels = tiny
    data = ImageLabels(paths[:8], labels[:8], 32, False)
    _, summary = train_classifier(data, data, 2, _cfg(epochs=20, lr=0.0, early_stopping=1), tmp_path,
                                  progress=False)
    assert summary["epochs_run"] <= 3  # lr 0: the loss never improves after the first epoch


def test_multilabel_mode_uses_sigmoid(tiny, tmp_path):
    paths, labels = tiny
    multi = np.stack([labels, 1 - labels, np.ones_like(labels)], axis=1)
    data = ImageLabels(paths[:8], multi[:8], 32, False)
    model, _ = train_classifier(data, data, 3, _cfg(epochs=1, multilabel=True), tmp_path, progress=False)
    probs = predict(model, data, multilabel=True, device="cpu")
    assert probs.shape == (8, 3) and ((probs > 0) & (probs < 1)).all() and not np.allclose(probs.sum(1), 1)


def test_pretrained_yes_without_weights_is_one_clear_error():
    from ganonlib.models.classifier import build_classifier

    with pytest.raises(FileNotFoundError, match="not on this machine"):
        build_classifier("convnext_atto", 3, pretrained="yes")
