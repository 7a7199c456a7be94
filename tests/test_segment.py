import numpy as np

from ganonlib.faces.segment import apply_mask, head_region


def _oval(n=478):
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    pts = np.stack([0.5 + 0.2 * np.cos(t), 0.55 + 0.25 * np.sin(t), np.zeros(n)], axis=1)
    pts[10] = (0.5, 0.30, 0)  # forehead
    pts[152] = (0.5, 0.80, 0)  # chin
    return pts


def test_head_region_keeps_face_and_hair_not_background():
    mask = head_region(_oval(), (100, 100))
    assert mask[55, 50] and mask[32, 50]  # face centre, forehead
    assert mask[15, 50]  # above the forehead: hair
    assert not mask[95, 5] and not mask[50, 2]  # corners / far sides: background


def test_head_region_follows_the_face_direction():
    upside_down = _oval()
    upside_down[:, 1] = 1.1 - upside_down[:, 1]  # chin above forehead
    mask = head_region(upside_down, (100, 100))
    assert mask[90, 50] and not mask[8, 50]


def test_apply_mask_zeroes_outside():
    image = np.full((4, 4, 3), 9, np.uint8)
    mask = np.zeros((4, 4), bool)
    mask[1:3, 1:3] = True
    out = apply_mask(image, mask)
    assert out[1, 1].tolist() == [9, 9, 9] and out[0].max() == 0 and out.sum() == 9 * 3 * 4
