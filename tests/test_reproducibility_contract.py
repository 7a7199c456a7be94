"""The first clause of the reproducibility contract (docs/reproducibility.md), at the step where runs diverge: on the
same machine and thread count the GAN trained twice from scratch writes byte-identical outputs. (Other hardware is
held to the measured tolerances by tests/test_committed_metrics.py after CI's `make repro` on AVX2 kernels.)"""
import hashlib
import shutil

import pandas as pd
import pytest

from ganonlib.train.gan import CHECKPOINT, GENERATOR, LOSS_NAMES, GanTrainConfig, train_gan


def _outputs(out) -> dict[str, str]:
    """What the generator@train stage hands to DVC (every file but the losses' timing column), by digest."""
    files = [out / GENERATOR, out / f"{GENERATOR}.sha256", out / CHECKPOINT, *sorted((out / "samples").iterdir())]
    digests = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in files}
    digests["losses"] = pd.read_csv(out / "losses.csv")[list(LOSS_NAMES)].to_csv()
    return digests


@pytest.mark.slow
def test_two_trainings_from_scratch_write_byte_identical_outputs(pairs, tmp_path):
    out = tmp_path / "gan"  # one path, as the stage has: the checkpoint records its settings, the folder among them
    runs = []
    for _ in range(2):
        shutil.rmtree(out, ignore_errors=True)
        train_gan(GanTrainConfig(data_dir=str(pairs), out_dir=str(out), epochs=2, batch_size=2, device="cpu",
                                 max_steps_per_epoch=1, samples=1, seed=5))
        runs.append(_outputs(out))
    assert len(runs[0]) >= 5 and runs[0] == runs[1]
