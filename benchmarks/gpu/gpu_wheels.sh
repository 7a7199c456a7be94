#!/usr/bin/env bash
# Fetches, where pip can reach a package registry, the wheels that the anonymize benchmark of gpu_checks.sh needs on
# a GPU machine whose Python (3.12) has PyTorch, OpenCV and pandas but not the kit: mediapipe and facenet-pytorch at
# the kit's pins, ai-edge-litert (the face search runs mediapipe's detection networks on it, or reads them from it for
# torch) with the flatbuffers its model schema reads, and the protobuf mediapipe was built for (numpy 2 works with
# mediapipe: same detections and mesh). They go to .whl/ (about 60 MB, ignored by git); copy it along, and
# gpu_checks.sh installs them into /tmp/site.
# PyAV for the video benchmark is left out: with it the wheels outgrow a 64 MiB transfer (PYAV=1 adds it anyway).
set -eu
cd "$(dirname "$0")/../.."
PY=${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
pin() { grep -h "^$1==" requirements.txt requirements-nodeps.txt requirements-lock.txt | head -n 1; }
wanted=("$(pin mediapipe)" "$(pin facenet-pytorch)" "$(pin protobuf)" "$(pin ai-edge-litert)" "$(pin flatbuffers)")
[ -n "${PYAV:-}" ] && wanted+=("$(pin av)")
mkdir -p .whl
$PY -m pip download --quiet --no-deps --only-binary=:all: --python-version "${WHEEL_PYTHON:-3.12}" \
    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
    --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 -d .whl "${wanted[@]}"
ls -l .whl
du -sh .whl
