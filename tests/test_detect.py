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


def _greedy_nms(detections, iou=0.3):
    """The hand-written merge torchvision's NMS replaced: kept here as the reference it must equal."""
    def overlap(a, b):
        w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
        h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
        union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
        return w * h / union if union > 0 else 0.0

    kept = []
    for det in sorted(detections, key=lambda d: d.score, reverse=True):
        if all(overlap(det.box, k.box) < iou for k in kept):
            kept.append(det)
    return kept


def test_merge_equals_the_greedy_nms_it_replaced():
    rng = np.random.default_rng(0)
    for trial in range(300):
        n = int(rng.integers(0, 12))
        corners = rng.uniform(0, 200, (n, 2))
        sizes = rng.uniform(5, 80, (n, 2))
        dets = [Detection((*c, *(c + s)), float(rng.random()), (0, 0), (0, 0)) for c, s in zip(corners, sizes)]
        assert _merge(dets) == _greedy_nms(dets), trial
