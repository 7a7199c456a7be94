import numpy as np

from ganonlib.anonymize.paste import face_mask, paste_back
from ganonlib.faces.align import align_face
from ganonlib.faces.detect import Detection


def test_a_face_pasted_back_lands_where_it_was():
    photo = np.zeros((300, 400, 3), np.uint8)
    det = Detection(box=(150.0, 80.0, 250.0, 200.0), score=0.9, right_eye=(180.0, 120.0), left_eye=(220.0, 135.0))
    aligned = align_face(photo, det, image_size=128)
    new_face = np.full((128, 128, 3), 255, np.uint8)
    out = paste_back(photo, new_face, aligned, face_mask(None, aligned, feather=0.01))
    box_centre = np.array([200.0, 140.0])
    y, x = np.round(box_centre[::-1]).astype(int)
    assert out[y, x].min() > 250  # the face centre is replaced
    assert out[5, 5].max() == 0 and out[290, 390].max() == 0  # far away: untouched
    bright = np.argwhere(out[..., 0] > 128)
    np.testing.assert_allclose(bright.mean(axis=0)[::-1], box_centre, atol=3.0)  # centred on the face box
    # the bright region is rotated with the face: its principal axis follows the eye line (atan2(15, 40) ~ 20.6 deg)
    cov = np.cov((bright[:, ::-1] - bright.mean(axis=0)[::-1]).T)
    minor = np.linalg.eigh(cov)[1][:, 0]  # the box is taller than wide: the minor axis runs along the eye line
    angle = np.degrees(np.arctan2(minor[1], minor[0])) % 180
    assert min(abs(angle - 20.56), abs(angle - 200.56) % 180) < 4.0


def test_mask_from_mesh_is_soft_and_inside_the_face():
    photo = np.zeros((256, 256, 3), np.uint8)
    det = Detection(box=(64.0, 64.0, 192.0, 192.0), score=0.9, right_eye=(100.0, 110.0), left_eye=(156.0, 110.0))
    aligned = align_face(photo, det, image_size=128)
    t = np.linspace(0, 2 * np.pi, 478, endpoint=False)
    points = np.stack([0.5 + 0.3 * np.cos(t), 0.5 + 0.35 * np.sin(t), np.zeros_like(t)], 1)
    points[10], points[152] = (0.5, 0.15, 0), (0.5, 0.85, 0)
    mask = face_mask(points, aligned, feather=0.04)
    assert mask.dtype == np.float32 and mask[64, 64] > 0.99 and mask[2, 2] == 0.0
    assert 0.05 < mask[64, 64 + int(0.3 * 128) - 4] < 0.95  # soft edge near the hull border
