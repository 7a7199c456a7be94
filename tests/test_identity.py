"""Identity metrics: distances, rank-1 on a known gallery, recognizer weights, and real faces when present."""
from pathlib import Path

import numpy as np
import pytest

from conftest import shared_data
from ganonlib.metrics.identity import (Recognizer, cosine_distances, ensure_dlib_weights, rank1_rate,
                                       summarize_distances)
from ganonlib.weights import MissingWeightsError


def test_cosine_distances_rowwise():
    a = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    b = np.array([[3.0, 0.0], [1.0, 0.0], [-1.0, -1.0]])
    np.testing.assert_allclose(cosine_distances(a, b), [0.0, 1.0, 2.0])


def test_rank1_on_a_tiny_gallery_with_known_answer():
    gallery = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    queries = np.array([[0.9, 0.1, 0.0], [0.1, 0.0, 0.9], [0.0, 0.2, 0.1]])
    # nearest: a, c, b; the true people are a, c, c -> 2 of 3 identified
    assert rank1_rate(queries, ["a", "c", "c"], gallery, ["a", "b", "c"]) == pytest.approx(2 / 3)


def test_summary_shares():
    s = summarize_distances(np.array([0.0, 0.05, 0.2, 0.5]), threshold=0.07)
    assert s["share_above_0.3"] == 0.25 and s["share_above_threshold"] == 0.5 and s["verification_rate"] == 0.5
    assert s["mean"] == pytest.approx(0.1875) and s["n"] == 4


def test_dlib_weights_are_linked_where_deepface_looks(tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPFACE_HOME", str(tmp_path))
    path = ensure_dlib_weights()
    assert path == tmp_path / ".deepface" / "weights" / "dlib_face_recognition_resnet_model_v1.dat"
    assert path.stat().st_size > 20_000_000


def test_missing_facenet512_weights_give_one_message(tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPFACE_HOME", str(tmp_path))
    with pytest.raises(MissingWeightsError, match="facenet512_weights"):
        Recognizer("Facenet512")


def test_real_faces_same_image_near_zero_other_person_far(tmp_path, monkeypatch):
    root = shared_data("celeba_sample")
    monkeypatch.setenv("DEEPFACE_HOME", str(tmp_path))
    from ganonlib.config import DatasetConfig, PreprocessConfig
    from ganonlib.data.datasets import load_dataset
    from ganonlib.data.preprocess import preprocess_dataset
    from ganonlib.io import read_image

    records = load_dataset(DatasetConfig("celeba", "celeba", str(root)))
    by_subject = {}
    for r in records:
        by_subject.setdefault(r.subject, []).append(r)
    pair = next(rs for rs in by_subject.values() if len(rs) >= 2)[:2]
    other = next(rs for s, rs in by_subject.items() if s != pair[0].subject)[:1]
    preprocess_dataset(pair + other, tmp_path / "p", PreprocessConfig(image_size=256, n_jobs=1), progress=False)
    crops = sorted((tmp_path / "p" / "images").rglob("*_f0.png"))
    faces = {Path(c).stem.rsplit("_f", 1)[0]: read_image(c) for c in crops}
    rec = Recognizer("Dlib")
    same, twin, stranger = (rec.embed([faces[r.key]]) for r in pair + other)
    assert cosine_distances(same, same)[0] < 1e-6
    assert cosine_distances(same, stranger)[0] > cosine_distances(same, twin)[0] > 0.0
    assert cosine_distances(same, stranger)[0] > rec.threshold  # a different person is not verified
