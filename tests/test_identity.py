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


def test_a_link_left_by_a_deleted_checkout_is_turned_to_this_ones(tmp_path, monkeypatch):
    """The weights folder is shared by every checkout on the machine; the link points into one checkout's venv."""
    monkeypatch.setenv("DEEPFACE_HOME", str(tmp_path))
    target = tmp_path / ".deepface" / "weights" / "dlib_face_recognition_resnet_model_v1.dat"
    target.parent.mkdir(parents=True)
    (tmp_path / "other.dat").write_bytes(b"another installation's copy")
    for elsewhere in (tmp_path / "deleted_clone" / "model.dat", tmp_path / "other.dat"):  # dangling; another's
        target.unlink(missing_ok=True)
        target.symlink_to(elsewhere)
        assert ensure_dlib_weights() == target and target.stat().st_size > 20_000_000
        assert not list(target.parent.glob(".*.tmp"))
    target.unlink()
    target.write_bytes(b"a copy of the user's")  # a regular file there is the user's choice: kept
    assert ensure_dlib_weights().read_bytes() == b"a copy of the user's"


def test_missing_facenet512_weights_give_one_message(tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPFACE_HOME", str(tmp_path))
    with pytest.raises(MissingWeightsError, match="facenet512_weights"):
        Recognizer("Facenet512")


@pytest.mark.realdata
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


def test_training_leakage_counts_generated_faces_near_a_training_face():
    from ganonlib.metrics.evaluate_identity import training_leakage

    class Fixed:
        threshold = 0.07

    train = np.array([[1.0, 0.0], [0.0, 1.0]])
    generated = np.array([[1.0, 0.01], [1.0, 1.0], [0.02, 1.0]])  # near a, between both, near b
    assert training_leakage(Fixed(), generated, train) == pytest.approx(2 / 3)


def test_table1_puts_paper_values_beside_the_kit(tmp_path):
    from ganonlib.report.tables import table1, write_table

    result = {"methods": {"original": {"provided": True, "n": 5, "mean": 0.0, "share_above_0.3": 0.0, "rank1": 1.0,
                                       "verification_rate": 1.0},
                          "ours": {"provided": True, "n": 5, "mean": 0.8, "share_above_0.3": 0.9, "rank1": 0.2,
                                   "verification_rate": 0.0, "nme_mean": 0.05},
                          "ciagan": {"provided": False}}}
    table = table1(result)
    assert list(table.Method) == ["Original", "Ours", "DeepPrivacy2", "CIAGAN", "Pixel 8x8", "Pixel 16x16",
                                  "Blur 9x9", "Blur 17x17"]
    ours = table.set_index("Method").loc["Ours"]
    assert ours.Kit == "0.8000" and ours.Paper == "0.7145" and ours.Difference == "+0.0855" and ours.NME == "0.050"
    assert table.set_index("Method").loc["CIAGAN"].Kit == "not provided"
    assert table.set_index("Method").loc["Blur 9x9"].Paper == "0.0102"
    md, tex = write_table(table, tmp_path / "t1", "Table 1")
    assert "| Ours" in md.read_text() and "0.7145" in md.read_text() and "\\begin{table}" in tex.read_text()


def test_the_configs_recognizer_names_are_the_recognizers():
    from ganonlib.config import RECOGNIZER_NAMES
    from ganonlib.metrics.identity import RECOGNIZERS

    assert set(RECOGNIZER_NAMES) == set(RECOGNIZERS)
