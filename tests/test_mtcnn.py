"""The kit's MTCNN search gives facenet-pytorch's numbers bit for bit: its pieces against PyTorch's, the whole search
against ``MTCNN.detect`` on bundled and real photos."""
import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from ganonlib.data.sample import load_photo
from ganonlib.faces.mtcnn import StridedMaxPool2d, area_crops, area_resize, detect_mtcnn, integral_image, use_strided_pools
from tests.conftest import shared_data


@pytest.mark.parametrize("kernel,stride", [(2, 2), (3, 2)])
def test_strided_max_pool_equals_pytorchs_ceil_mode_pool(kernel, stride):
    rng = torch.Generator().manual_seed(0)
    pool = StridedMaxPool2d(kernel, stride)
    for shape in [(1, 10, 306, 305), (7, 28, 22, 22), (3, 32, 11, 10), (2, 4, 3, 3), (1, 2, 4, 7)]:
        x = torch.randn(shape, generator=rng)
        assert torch.equal(pool(x), F.max_pool2d(x, kernel, stride, ceil_mode=True)), shape


def test_area_resizing_equals_pytorchs_area_interpolation():
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (181, 240, 3), dtype=np.uint8)
    image = torch.from_numpy(pixels.copy()).unsqueeze(0).permute(0, 3, 1, 2).float()  # as facenet-pytorch has it
    for integral in (integral_image(pixels), cv2.integral(pixels, sdepth=cv2.CV_64F)):  # the large-photo kind too
        for size in [(109, 145), (77, 103), (13, 17), (181, 240)]:
            ours, theirs = area_resize(integral, *size), F.interpolate(image, size=size, mode="area")
            assert torch.equal(ours, theirs) and ours.stride() == theirs.stride(), size
        boxes = np.array([[0, 181, 0, 240], [5, 29, 7, 31], [100, 181, 200, 240], [3, 90, 40, 41], [10, 17, 20, 60]])
        for size in (24, 48):
            theirs = torch.cat([F.interpolate(image[:, :, a:b, c:d], size=(size, size), mode="area")
                                for a, b, c, d in boxes])
            assert torch.equal(area_crops(integral, boxes, size), theirs)


def _photos() -> list[np.ndarray]:
    photos = [load_photo(name) for name in ("astronaut", "grace_hopper", "camera")]
    group = np.concatenate([np.asarray(Image.fromarray(p).resize((256, 256))) for p in photos], axis=1)
    upside_down = np.ascontiguousarray(photos[0][::-1])
    return [*photos, group, upside_down, np.zeros((60, 80, 3), np.uint8)]


@pytest.fixture(scope="module")
def mtcnns():
    from facenet_pytorch import MTCNN

    theirs, ours = MTCNN(keep_all=True, device="cpu"), MTCNN(keep_all=True, device="cpu")
    use_strided_pools(ours)
    assert not any(isinstance(m, torch.nn.MaxPool2d) for m in ours.modules())
    return theirs, ours


def _same_detections(theirs, ours, image: np.ndarray) -> int:
    boxes, probs, points = theirs.detect(image, landmarks=True)
    found = detect_mtcnn(ours, image)
    if boxes is None:
        assert all(len(a) == 0 for a in found)
        return 0
    assert np.array_equal(found[0], boxes) and np.array_equal(found[1], probs.astype(np.float32))
    assert np.array_equal(found[2], points)
    return len(boxes)


def test_search_equals_facenet_pytorchs_on_bundled_photos(mtcnns):
    faces = [_same_detections(*mtcnns, image) for image in _photos()]
    assert faces[-1] == 0 and sum(faces) >= 5  # the three portraits, the three in the group, ...


@pytest.mark.realdata
@pytest.mark.parametrize("sample", ["celeba_sample", "emotion_sample"])
def test_search_equals_facenet_pytorchs_on_real_photos(mtcnns, sample):
    files = sorted(p for p in shared_data(sample).rglob("*.jpg"))[:40]
    faces = sum(_same_detections(*mtcnns, np.asarray(Image.open(f).convert("RGB"))) for f in files)
    assert faces >= len(files) * 0.9


def test_a_candidate_outside_the_photo_is_dropped_not_fatal():
    from ganonlib.faces.mtcnn import _stage_input

    pixels = np.full((40, 50, 3), 128, np.uint8)
    image = torch.from_numpy(pixels.copy()).unsqueeze(0).permute(0, 3, 1, 2).float()
    boxes = torch.tensor([[5.0, 5.0, 30.0, 30.0, 0.9], [60.0, 45.0, 80.0, 70.0, 0.8]])  # the second lies outside
    data, kept, inds = _stage_input(image, integral_image(pixels), boxes, torch.zeros(2, dtype=torch.long), 24)
    assert data.shape == (1, 3, 24, 24) and torch.equal(kept, boxes[:1]) and inds.tolist() == [0]
    assert torch.allclose(data, torch.full_like(data, (128 - 127.5) * 0.0078125))
