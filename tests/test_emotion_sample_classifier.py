"""A small emotion classifier trained on ../shared/data/emotion_sample (skipped when absent): the trainer on real
labelled faces, split by person, scored on the validation split by macro F1."""
import re

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score

from conftest import shared_data
from ganonlib.data.datasets import subject_split
from ganonlib.train.classifier import ClassifierConfig, ImageLabels, predict, train_classifier

pytestmark = pytest.mark.realdata


def test_small_classifier_beats_chance_on_real_faces(tmp_path, capsys):
    root = shared_data("emotion_sample")
    labels = pd.read_csv(root / "labels.csv")
    labels = labels[labels.emotion.isin(["happiness", "neutral", "surprise", "anger", "sadness"])]
    classes = sorted(labels.emotion.unique())
    subjects = [re.sub(r"_\d+$", "", p.split("/")[-1].rsplit(".", 1)[0]) for p in labels.file]
    split = np.array(subject_split(subjects, 0.2, 0.0, seed=0))
    y = labels.emotion.map(classes.index).to_numpy()
    paths = [root / f for f in labels.file]
    train = ImageLabels([p for p, s in zip(paths, split) if s == "train"], y[split == "train"], 64, True)
    val = ImageLabels([p for p, s in zip(paths, split) if s == "val"], y[split == "val"], 64, False)
    cfg = ClassifierConfig(arch="convnext_atto", image_size=64, epochs=8, batch_size=32, lr=1.0e-3,
                           device="cpu", pretrained="no", early_stopping=3)
    model, summary = train_classifier(train, val, len(classes), cfg, tmp_path, progress=False)
    pred = predict(model, val, device="cpu").argmax(axis=1)
    f1 = f1_score(val.labels, pred, average="macro")
    with capsys.disabled():
        print(f"\nemotion_sample: {len(train)} train / {len(val)} val faces, {len(classes)} classes, "
              f"best epoch {summary['best_epoch']}, validation macro F1 {f1:.3f} (chance ~0.2)")
    assert f1 > 0.25
