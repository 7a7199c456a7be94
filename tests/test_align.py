import math

import numpy as np
import pytest

from ganonlib.faces.align import align_face, eye_angle
from ganonlib.faces.detect import Detection


def _tilted_detection(angle_deg: float, centre=(200.0, 150.0), eye_dist=40.0, box=(100.0, 120.0)):
    a = math.radians(angle_deg)
    cx, cy = centre
    dx, dy = math.cos(a) * eye_dist / 2, math.sin(a) * eye_dist / 2
    w, h = box
    return Detection(box=(cx - w / 2, cy - h / 2 + 10, cx + w / 2, cy + h / 2 + 10), score=0.9,
                     right_eye=(cx - dx, cy - dy), left_eye=(cx + dx, cy + dy))


@pytest.mark.parametrize("angle", [0.0, 17.0, -33.0, 170.0])
def test_eye_line_becomes_horizontal_and_round_trip(angle):
    image = np.zeros((300, 400, 3), dtype=np.uint8)
    det = _tilted_detection(angle)
    assert eye_angle(det) == pytest.approx(math.radians(angle) if angle <= 180 else 0)
    face = align_face(image, det, image_size=64)
    eyes = face.to_aligned(np.array([det.right_eye, det.left_eye]))
    assert eyes[0, 1] == pytest.approx(eyes[1, 1], abs=1e-6)  # same row
    assert eyes[0, 0] < eyes[1, 0]  # subject's right eye on the image left
    pts = np.random.default_rng(0).uniform(0, 300, size=(20, 2))
    np.testing.assert_allclose(face.to_source(face.to_aligned(pts)), pts, atol=1e-9)


def test_crop_resize_pad_geometry_and_pixels():
    # a bright dot in the source must land where the matrix says, in a face box 100 wide x 120 high
    image = np.zeros((300, 400, 3), dtype=np.uint8)
    det = _tilted_detection(12.0)
    dot = np.array([215.0, 160.0])
    y, x = int(dot[1]), int(dot[0])
    image[y - 2:y + 3, x - 2:x + 3] = 255
    face = align_face(image, det, image_size=96)
    assert face.image.shape == (96, 96, 3) and face.image.dtype == np.uint8
    x0, y0, x1, y1 = face.content_box
    assert (y1 - y0) == 96 and (x1 - x0) == 80  # longest side (height 120) -> 96, width 100 -> 80
    assert x0 == 8 and face.image[:, :x0].max() == 0 and face.image[:, x1:].max() == 0  # centred zero padding
    mapped = face.to_aligned(np.array([[x, y]]))[0]
    bright = np.argwhere(face.image[..., 0] > 128)
    np.testing.assert_allclose(bright.mean(axis=0)[::-1], mapped, atol=1.0)


def test_margin_grows_the_crop():
    image = np.full((300, 400, 3), 100, dtype=np.uint8)
    det = _tilted_detection(0.0)
    tight = align_face(image, det, 64, margin=0.0).matrix[0, 0]
    loose = align_face(image, det, 64, margin=0.25).matrix[0, 0]
    assert loose == pytest.approx(tight / 1.5, rel=0.02)
