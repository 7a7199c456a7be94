#!/usr/bin/env bash
# The GPU checks, in one go on a CUDA machine with PyTorch, sized to end within DEADLINE_S (default 540 s):
# 1. training throughput at 512², batch 32 (PyTorch alone: ganonlib need not be installed);
# 2. anonymizing end to end over 2,000 photos (the sample's, replicated) with one extraction worker per core and the
#    search's networks on the GPU (SEARCH_DEVICE=cpu: on the CPU), against the same with them on the CPU, the serial
#    path on the first 200 and each step alone. It needs mediapipe and facenet-pytorch: where the kit's
#    environment is not installed, fetch their wheels first with `bash benchmarks/gpu/gpu_wheels.sh` (where pip reaches a
#    registry) and copy .whl/ along; they are installed into /tmp/site here;
# 3. the training phase of the real-data check, when its faces were prepared beforehand
#    (python benchmarks/quality/realdata_quality.py --phase prepare, on any machine with the kit installed); then finish with
#      tar xzf $OUT/realdata.tgz && python benchmarks/quality/realdata_quality.py --phase evaluate
#    which writes benchmarks/results/realdata_quality.{json,md};
# 4. the video benchmark, where PyAV is importable.
# Figures go to $OUT (default reports/gpu). Each part has its own time limit, cut to what is left before the
# deadline, so that one that hangs leaves the others' figures; a part with under a minute left is skipped.
set -u
OUT=${OUT:-reports/gpu}
mkdir -p "$OUT"
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
PY=${PYTHON:-python3}
DEADLINE=${DEADLINE_S:-540}
DEVICE=${DEVICE:-cuda}  # DEVICE=cpu for a dry run of the script on a machine without a GPU
SEARCH_DEVICE=${SEARCH_DEVICE:-$DEVICE}
limit() {  # the seconds part may run: its own limit $1, or what is left before the deadline
    local left=$(( DEADLINE - SECONDS ))
    echo $(( $1 < left ? $1 : left ))
}
if ls .whl/*.whl >/dev/null 2>&1; then
    $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
        && export PYTHONPATH=/tmp/site:$PYTHONPATH
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
$PY -c "import torch, numpy; print('torch', torch.__version__, 'numpy', numpy.__version__)"

timeout "$(limit "${THROUGHPUT_S:-260}")" $PY benchmarks/speed/train_throughput.py --size 512 --batch 32 --eager --device "$DEVICE" 2>&1 \
    | tee "$OUT/throughput.log"

# the pipeline with one extraction worker per core; onnxruntime is left out (its wheel here runs on the CPU)
if $PY -c "import mediapipe, facenet_pytorch, ganonlib" 2>/dev/null; then
    t=$(limit "${ANONYMIZE_S:-240}")
    if [ "$t" -ge 60 ]; then
        timeout "$t" $PY benchmarks/speed/anonymize.py --device "$DEVICE" --photos "${ANON_PHOTOS:-2000}" --baseline-photos 200 \
            --search-device "$SEARCH_DEVICE" \
            --batch 32 --repeat 1 --skip "pipeline_onnx,$(seq -s, -f 'pipeline_w%g' 1 $(( $(nproc) - 1 )))" 2>&1 \
            | tail -n 1 | tee "$OUT/anonymize.json"
    else
        echo "anonymize benchmark skipped: ${t} s left before the deadline"
    fi
else
    echo "anonymize benchmark skipped: mediapipe, facenet_pytorch or ganonlib is not importable here" \
         "(bash benchmarks/gpu/gpu_wheels.sh, then copy .whl/ along)"
fi

RQ=reports/realdata_quality
if [ -f $RQ/processed/index.csv ] && [ -f $RQ/naive/index.csv ]; then
    t=$(limit "${REALDATA_S:-520}")
    if [ "$t" -ge 60 ]; then
        # two generators (the kit's and the naive pix2pix) of BUDGET seconds each, then their held-out faces
        timeout "$t" $PY benchmarks/quality/realdata_quality.py --phase train --budget "${BUDGET:-200}" > "$OUT/realdata.log" 2>&1
        tail -c 2000 "$OUT/realdata.log" | tr '\r' '\n' | tail -n 5
        tar czf "$OUT/realdata.tgz" $RQ/anonymized $RQ/anonymized_naive $RQ/train.json \
            $RQ/gan_ours/losses.csv $RQ/gan_naive/losses.csv $RQ/gan_ours/samples
    else
        echo "real-data training skipped: ${t} s left before the deadline (DEADLINE_S, or run it alone)"
    fi
else
    echo "$RQ/processed is missing: run benchmarks/quality/realdata_quality.py --phase prepare first"
fi

# videos on the GPU: frames/s at 640x360 and 1280x720, leaks and stability on the synthetic clip
if $PY -c "import mediapipe, ganonlib, av" 2>/dev/null; then
    t=$(limit "${VIDEO_S:-300}")
    [ "$t" -ge 60 ] && timeout "$t" $PY benchmarks/speed/video.py --device "$DEVICE" --out "$OUT/video.json" 2>&1 | tail -n 1
fi
if [ -n "${ALSO_MODE:-}" ]; then
    t=$(limit 400)
    [ "$t" -ge 60 ] && timeout "$t" $PY benchmarks/speed/train_throughput.py --size 512 --batch 32 --device "$DEVICE" \
        --compile-mode "$ALSO_MODE" 2>&1 | tee "$OUT/throughput_${ALSO_MODE}.log"
fi
echo "done in ${SECONDS} s"
