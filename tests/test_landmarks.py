import numpy as np
import pytest

from ganonlib.faces.landmarks import render_landmarks


def test_cross_style_exact_pixels():
    img = render_landmarks(np.array([[0.5, 0.5, 0.0]]), 10, "cross")
    assert img.dtype == np.uint8 and img.shape == (10, 10)
    assert set(zip(*np.nonzero(img))) == {(5, 5), (4, 5), (6, 5), (5, 4), (5, 6)}
    assert img.max() == 255


def test_point_style_uses_floor_and_drops_out_of_frame():
    pts = np.array([[0.19, 0.91], [1.0, 0.5], [-0.01, 0.5], [0.0, 0.0]])
    img = render_landmarks(pts, (10, 20), "point")  # (height, width)
    assert img.shape == (10, 20)
    assert set(zip(*np.nonzero(img))) == {(9, 3), (0, 0)}  # floor(0.19*20)=3, floor(0.91*10)=9


def test_cross_is_clipped_at_the_border():
    img = render_landmarks(np.array([[0.0, 0.0]]), 8, "cross")
    assert set(zip(*np.nonzero(img))) == {(0, 0), (0, 1), (1, 0)}


def test_unknown_style():
    with pytest.raises(ValueError):
        render_landmarks(np.zeros((1, 2)), 8, "blob")


@pytest.mark.parametrize("style", ["cross", "point"])
def test_torch_renderer_matches_numpy_pixel_for_pixel(style):
    import torch

    from ganonlib.faces.landmarks import render_landmarks_torch

    rng = np.random.default_rng(0)
    pts = rng.uniform(-0.05, 1.05, size=(3, 478, 3)).astype(np.float32)
    pts[0, :4, :2] = [[0.0, 0.0], [0.9999, 0.5], [1.0, 0.2], [0.5, -0.001]]  # borders and just outside
    out = render_landmarks_torch(torch.from_numpy(pts), 64, style).numpy()
    assert out.shape == (3, 1, 64, 64) and out.dtype == np.uint8
    for i in range(3):
        np.testing.assert_array_equal(out[i, 0], render_landmarks(pts[i], 64, style))
