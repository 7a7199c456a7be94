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
