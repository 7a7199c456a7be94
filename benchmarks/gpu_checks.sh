#!/usr/bin/env bash
# The GPU checks, in one go on a CUDA machine with PyTorch (ganonlib need not be installed, mediapipe need not be
# there): training throughput at 512², batch 32, anonymizing end to end where the kit's environment is, and the
# training phase of the real-data check on faces prepared
# beforehand (python benchmarks/realdata_quality.py --phase prepare, on any machine with the kit installed).
# Figures and the held-out outputs go to $OUT (default reports/gpu); finish with
#   tar xzf $OUT/realdata.tgz && python benchmarks/realdata_quality.py --phase evaluate
# which writes benchmarks/results/realdata_quality.{json,md}.
# Each part has its own time limit, so that one that hangs leaves the other's figures.
set -u
OUT=${OUT:-reports/gpu}
mkdir -p "$OUT"
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
PY=${PYTHON:-python3}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
$PY -c "import torch, numpy; print('torch', torch.__version__, 'numpy', numpy.__version__)"
timeout "${THROUGHPUT_S:-280}" $PY benchmarks/train_throughput.py --size 512 --batch 32 --eager 2>&1 \
    | tee "$OUT/throughput.log"
RQ=reports/realdata_quality
if [ -f $RQ/processed/index.csv ] && [ -f $RQ/naive/index.csv ]; then
    # two generators (the kit's and the naive pix2pix) of BUDGET seconds each, then their held-out faces
    timeout "${REALDATA_S:-520}" $PY benchmarks/realdata_quality.py --phase train --budget "${BUDGET:-200}" \
        > "$OUT/realdata.log" 2>&1
    tail -c 2000 "$OUT/realdata.log" | tr '\r' '\n' | tail -n 5
    tar czf "$OUT/realdata.tgz" $RQ/anonymized $RQ/anonymized_naive $RQ/train.json \
        $RQ/gan_ours/losses.csv $RQ/gan_naive/losses.csv $RQ/gan_ours/samples
else
    echo "$RQ/processed is missing: run benchmarks/realdata_quality.py --phase prepare first"
fi
# end-to-end anonymizing on the GPU (needs the kit's environment: mediapipe for the face search): the pipeline with
# one extraction worker per core against the serial path, over 2,000 photos (the sample's, replicated)
if $PY -c "import mediapipe, ganonlib" 2>/dev/null; then
    timeout "${ANONYMIZE_S:-400}" $PY benchmarks/anonymize.py --device cuda --photos "${ANON_PHOTOS:-2000}" \
        --batch 32 --repeat 1 --skip "$(seq -s, -f 'pipeline_w%g' 1 $(( $(nproc) - 1 )))" 2>&1 | tail -n 1 | tee "$OUT/anonymize.json"
else
    echo "anonymize benchmark skipped: mediapipe or ganonlib is not importable here"
fi
# videos on the GPU: frames/s at 640x360 and 1280x720, leaks and stability on the synthetic clip
if $PY -c "import mediapipe, ganonlib, av" 2>/dev/null; then
    timeout "${VIDEO_S:-300}" $PY benchmarks/video.py --device cuda --out "$OUT/video.json" 2>&1 | tail -n 1
fi
if [ -n "${ALSO_MODE:-}" ] && [ "${SECONDS}" -lt "${STOP_AT:-420}" ]; then
    timeout $(( ${STOP_AT:-420} + 150 - SECONDS )) $PY benchmarks/train_throughput.py --size 512 --batch 32 \
        --compile-mode "$ALSO_MODE" 2>&1 | tee "$OUT/throughput_${ALSO_MODE}.log"
fi
echo "done in ${SECONDS} s"
