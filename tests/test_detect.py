import numpy as np
import pytest

from ganonlib.data.sample import load_photo
from ganonlib.faces.detect import Detection, _merge, make_detector


@pytest.mark.parametrize("backend", ["mediapipe", "mtcnn"])
def test_offline_backends_find_the_astronaut_with_labelled_eyes(backend, astronaut):
    dets = make_detector(backend, min_confidence=0.5, max_faces=5).detect(astronaut)
    assert len(dets) == 1
    det = dets[0]
    x0, y0, x1, y1 = det.box
    assert 150 < x0 < x1 < 300 and 40 < y0 < y1 < 200 and det.score > 0.5
    assert det.right_eye[0] < det.left_eye[0]  # subject's right eye on the image left
    assert abs(det.right_eye[1] - det.left_eye[1]) < 15


def test_two_faces_and_max_faces(astronaut):
    hopper = load_photo("grace_hopper")[:512, :512]
    pair = np.concatenate([astronaut, hopper], axis=1)
    assert len(make_detector("mediapipe", 0.5, 10).detect(pair)) == 2
    assert len(make_detector("mediapipe", 0.5, 1).detect(pair)) == 1


def test_merge_keeps_the_best_of_overlapping_boxes():
    a = Detection((0, 0, 10, 10), 0.9, (2, 3), (8, 3))
    b = Detection((1, 1, 11, 11), 0.7, (2, 3), (8, 3))
    c = Detection((50, 50, 60, 60), 0.6, (52, 53), (58, 53))
    assert _merge([b, c, a]) == [a, c]
