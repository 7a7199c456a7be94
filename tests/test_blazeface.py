"""mediapipe's face detection run without its graph finds what the graph finds, on every view the search shows it."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image

from conftest import shared_data
from ganonlib.data.sample import load_photo
from ganonlib.faces import search
from ganonlib.faces.blazeface import FULL_RANGE, SHORT_RANGE, letterbox, ssd_anchors, weighted_nms
from ganonlib.faces.detect import Detection, MediaPipeDetector, MediaPipeGraphDetector

# Measured on 600 views of the shared samples (AMD EPYC): 1e-4 px and 1e-6 in score; XNNPACK's kernels differ by CPU,
# and the two runtimes are builds of different TFLite versions, so the checks allow a hundred times that.
PIXELS, SCORE = 0.01, 1e-4


class _Views:
    """A detector that keeps the views the search shows it and finds nothing."""

    name = "views"

    def __init__(self) -> None:
        self.views: list[np.ndarray] = []

    def detect(self, image: np.ndarray) -> list[Detection]:
        self.views.append(image.copy())
        return []


def _search_views(photo: np.ndarray, turns: tuple[int, ...]) -> list[np.ndarray]:
    views = _Views()
    search.find_faces(views, photo, turns=turns)
    return views.views


def _same(direct: list[Detection], graph: list[Detection]) -> None:
    assert len(direct) == len(graph)
    for mine, theirs in zip(sorted(direct, key=lambda d: d.box), sorted(graph, key=lambda d: d.box)):
        assert mine.score == pytest.approx(theirs.score, abs=SCORE)
        np.testing.assert_allclose([*mine.box, *mine.right_eye, *mine.left_eye],
                                   [*theirs.box, *theirs.right_eye, *theirs.left_eye], atol=PIXELS)


@pytest.fixture(scope="module")
def detectors() -> dict[str, tuple[MediaPipeDetector, MediaPipeGraphDetector]]:
    return {name: (MediaPipeDetector(0.5, 0, models), MediaPipeGraphDetector(0.5, 0, models))
            for name, models in (("short", (0,)), ("full", (1,)))}


def test_the_anchors_are_the_graphs():
    short, full = ssd_anchors(SHORT_RANGE), ssd_anchors(FULL_RANGE)
    assert short.shape == (896, 2) and full.shape == (2304, 2)  # the subgraphs' num_boxes
    # short range: a 16 x 16 map with two anchors per cell, then an 8 x 8 map with six
    np.testing.assert_allclose(short[:3], [[1 / 32, 1 / 32], [1 / 32, 1 / 32], [3 / 32, 1 / 32]])
    np.testing.assert_allclose(short[512:519], [[1 / 16, 1 / 16]] * 6 + [[3 / 16, 1 / 16]])
    np.testing.assert_allclose(full[[0, 1, 48]], [[1 / 96, 1 / 96], [3 / 96, 1 / 96], [1 / 96, 3 / 96]])


def test_letterbox_centres_the_image_in_a_black_square():
    image = np.full((20, 40, 3), 255, np.uint8)
    square = letterbox(image, 16)
    assert square.shape == (16, 16, 3) and square.dtype == np.float32
    np.testing.assert_array_equal(square[:3], -1.0)  # 40 x 20 in 16 x 16: four black rows above and below
    np.testing.assert_array_equal(square[13:], -1.0)
    np.testing.assert_array_equal(square[5:11], 1.0)


def test_weighted_nms_folds_a_cluster_into_its_weighted_mean_with_the_best_score():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]], np.float32)
    scores = np.array([0.6, 0.9, 0.7], np.float32)
    points = np.stack([boxes[:, :2]] * 6, axis=1)
    kept_boxes, kept_scores, kept_points = weighted_nms(boxes, scores, points)
    np.testing.assert_allclose(kept_scores, [0.9, 0.7])
    np.testing.assert_allclose(kept_boxes[0], (0.6 * boxes[0] + 0.9 * boxes[1]) / 1.5, rtol=1e-6)
    np.testing.assert_allclose(kept_boxes[1], boxes[2])
    np.testing.assert_allclose(kept_points[0, 0], (0.6 * boxes[0, :2] + 0.9 * boxes[1, :2]) / 1.5, rtol=1e-6)
    assert weighted_nms(boxes[:0], scores[:0], points[:0])[0].shape == (0, 4)


@pytest.mark.parametrize("name", ["astronaut", "grace_hopper"])
def test_every_view_of_the_search_gets_the_graphs_detections(detectors, name):
    photo = load_photo(name)
    views = _search_views(photo, (0, 1, 2)) + [photo[: photo.shape[0] // 3], cv2.resize(photo, (60, 40))]
    found = 0
    for view in views:
        for direct, graph in detectors.values():
            theirs = graph.detect(view)
            _same(direct.detect(view), theirs)
            found += len(theirs)
    assert found >= 5  # views with faces were compared, not only empty ones


def test_min_confidence_raises_the_models_floors_and_never_lowers_them(astronaut):
    loose, strict = MediaPipeDetector(0.1, 0), MediaPipeDetector(0.99, 0)
    assert len(loose.detect(astronaut)) == len(MediaPipeDetector(0.5, 0).detect(astronaut)) == 1
    assert strict.detect(astronaut) == []


@pytest.mark.realdata
def test_the_shared_samples_get_the_graphs_detections(detectors):
    photos = sorted(shared_data("celeba_sample").rglob("*.jpg"))[:40] + sorted(
        shared_data("emotion_sample").rglob("*.jpg"))[:40]
    for path in photos:
        photo = np.asarray(Image.open(path).convert("RGB"))
        for view in (photo, cv2.copyMakeBorder(photo, 30, 30, 60, 60, cv2.BORDER_REFLECT)):
            for direct, graph in detectors.values():
                _same(direct.detect(view), graph.detect(view))


def test_the_torch_network_gives_litert_outputs():
    """Measured on 16 shared-sample photos and these: 1e-5 of the value (score logits reach several hundred), 3e-4
    absolute on small values."""
    import torch

    from ganonlib.faces.blazeface import BlazeFace
    from ganonlib.faces.tflite_torch import TFLiteNetwork

    photos = [load_photo("astronaut"), load_photo("grace_hopper"), cv2.resize(load_photo("astronaut"), (300, 120))]
    for model in (SHORT_RANGE, FULL_RANGE):
        inputs = np.stack([letterbox(photo, model.size) for photo in photos])
        with torch.inference_mode():
            outputs = TFLiteNetwork(model.path)(torch.from_numpy(inputs))
        boxes, scores = sorted(outputs, key=lambda o: o.shape[-1], reverse=True)
        for i, (reference_boxes, reference_scores) in enumerate(BlazeFace(model)._raw(inputs)):
            np.testing.assert_allclose(boxes[i].numpy(), reference_boxes, rtol=1e-4, atol=3e-3)
            np.testing.assert_allclose(scores[i, :, 0].numpy(), reference_scores, rtol=1e-4, atol=3e-3)


def test_the_search_finds_the_same_faces_with_the_networks_in_torch():
    """The views of each photo in batches through torch (on the CPU here, as on a GPU) against LiteRT one by one."""
    litert, torch_cpu = MediaPipeDetector(0.5, 0), MediaPipeDetector(0.5, 0, device="cpu")
    for name in ("astronaut", "grace_hopper"):
        photo = load_photo(name)
        for turns in ((0,), (1, 2, 3)):
            _same(search.find_faces(torch_cpu, photo, turns=turns), search.find_faces(litert, photo, turns=turns))


def test_views_are_batched_in_order_within_both_bounds(monkeypatch):
    monkeypatch.setattr(search, "BATCH_VIEWS", 3)
    monkeypatch.setattr(search, "BATCH_PIXELS", 1000)
    sizes = [10, 10, 10, 10, 20, 40, 10]
    views = [search._View(np.zeros((s, s, 3), np.uint8), np.eye(3)) for s in sizes]
    batches = list(search._batches(views))
    assert [[v.image.shape[0] for v in b] for b in batches] == [[10, 10, 10], [10, 20], [40], [10]]


def test_the_batched_search_equals_the_search_view_by_view(astronaut):
    detector = MediaPipeDetector(0.5, 0)

    class OneByOne:
        name = "one-by-one"
        detect = staticmethod(detector.detect)

    for turns in ((0,), (1, 2, 3)):
        assert search.find_faces(detector, astronaut, turns=turns) == search.find_faces(OneByOne(), astronaut,
                                                                                          turns=turns)


def test_the_search_on_cuda_needs_mediapipe_as_the_detector(generator_file, monkeypatch):
    import torch

    from ganonlib.anonymize.generator import Anonymizer
    from ganonlib.config import AnonymizeConfig, PreprocessConfig
    from ganonlib.errors import ConfigError

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # the refusal comes before any CUDA work
    cfg = AnonymizeConfig(weights=str(generator_file), device="cpu", search_device="cuda")
    with pytest.raises(ConfigError, match="search_device: cuda runs mediapipe's networks, but the detector is mtcnn"):
        Anonymizer(cfg, PreprocessConfig(image_size=256, detector="mtcnn"))
