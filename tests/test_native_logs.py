"""The fd-2 filter: native chatter goes, everything else (errors, progress bars, tracebacks) still shows."""
import subprocess
import sys

import pytest

SCRIPT = r"""
import os, sys
from ganonlib.native_logs import filter_native_chatter
filter_native_chatter()
os.write(2, b"W0000 00:00:1795909067.033635   28146 inference_feedback_manager.cc:114] Feedback manager\n")
os.write(2, b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n")
os.write(2, b"a real native error\n")
os.write(2, b"\r 50%|#####     | 1/2")
os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n")
print("from python", file=sys.stderr)
raise SystemExit("exit message")
"""


def test_chatter_is_dropped_and_the_rest_passes():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True)  # bytes: keep the \r as written
    assert out.returncode == 1
    err = out.stderr.decode()
    assert "W0000" not in err and "XNNPACK" not in err and "InitializeLog" not in err
    for kept in ("a real native error\n", "\r 50%|#####     | 1/2", "from python\n", "exit message"):
        assert kept in err


@pytest.mark.slow
def test_mediapipe_models_start_quietly():
    code = ("from skimage import data\nfrom ganonlib.faces.landmarks import FaceMesher\n"
            "from ganonlib.faces.detect import MediaPipeDetector\n"
            "assert MediaPipeDetector().detect(data.astronaut())\nassert FaceMesher()(data.astronaut()) is not None\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stderr.strip() == ""
