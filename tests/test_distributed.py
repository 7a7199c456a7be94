"""Several processes (``torchrun``, DDP): run here as two CPU processes over gloo, as on GPUs over NCCL."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch

from ganonlib.models.networks import define_D, define_G
from ganonlib.models.pix2pix import Pix2Pix
from ganonlib.train.gan import CHECKPOINT, GENERATOR, GanTrainConfig, load_checkpoint
from ganonlib.train.launch import train as train_gan

WORKER = Path(__file__).with_name("ddp_worker.py")


def _torchrun(*args: str, env: dict | None = None) -> None:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", str(WORKER), *args]
    done = subprocess.run(cmd, env={**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


@pytest.mark.slow
def test_a_ddp_step_equals_one_process_on_the_whole_batch(tmp_path):
    """Two ranks with one half of a batch each end with the weights of one process that saw the whole batch
    (the losses are means and instance norm and PatchGAN treat every sample alone)."""
    _torchrun("step", str(tmp_path))
    torch.manual_seed(0)
    g, d = define_G(), define_D()
    g.eval()
    opt_g, opt_d = torch.optim.SGD(g.parameters(), lr=1.0), torch.optim.SGD(d.parameters(), lr=1.0)
    torch.manual_seed(1)
    landmarks = (torch.rand(4, 3, 256, 256) > 0.98).float() * 2 - 1
    faces = torch.rand(4, 3, 256, 256) * 2 - 1
    Pix2Pix(g, d, opt_g, opt_d).step(landmarks, faces)
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1)]
    for name, tensor in g.state_dict().items():
        assert torch.equal(ranks[0]["generator"][name], ranks[1]["generator"][name]), name  # ranks stay in step
        torch.testing.assert_close(ranks[0]["generator"][name], tensor, rtol=1e-4, atol=1e-5)
    for name, tensor in d.state_dict().items():
        assert torch.equal(ranks[0]["discriminator"][name], ranks[1]["discriminator"][name]), name
        torch.testing.assert_close(ranks[0]["discriminator"][name], tensor, rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_gpus_2_trains_one_resumable_run_in_two_processes(pairs, tmp_path, capsys):
    """``gpus: 2`` starts two processes (here CPU ones); the first writes the run's outputs, a resumed run ends
    where an uninterrupted one does, and a time budget stops both ranks after the same step."""
    settings = {"epochs": 2, "batch_size": 1, "samples": 1, "seed": 3}
    run = {"data_dir": str(pairs), "device": "cpu", "gpus": 2}
    summary = train_gan(GanTrainConfig(out_dir=str(tmp_path / "full"), **run, **settings))
    assert summary["processes"] == 2 and summary["epochs_run"] == 2 and summary["train_pairs"] == 3
    assert "epoch 2/2" in capsys.readouterr().out  # the processes' progress reaches the caller (a notebook cell)
    losses = pd.read_csv(tmp_path / "full" / "losses.csv")
    # 3 training pairs over 2 ranks: one pair each per epoch (the odd one is dropped), two images per step
    assert list(losses.epoch) == [1, 2] and list(losses.steps) == [1, 1]
    assert int(load_checkpoint(tmp_path / "full" / CHECKPOINT)["epoch"]) == 1
    assert "down1.model.0.weight" in load_checkpoint(tmp_path / "full" / GENERATOR)["generator"]
    # stopped after epoch 1 and resumed: every rank continues its own random stream (dropout), so the weights are
    # those of the uninterrupted run
    train_gan(GanTrainConfig(out_dir=str(tmp_path / "split"), **run, **{**settings, "epochs": 1}))
    resumed = train_gan(GanTrainConfig(out_dir=str(tmp_path / "split"), **run, **settings))
    assert resumed["resumed_from_epoch"] == 1
    whole, split = (load_checkpoint(tmp_path / run / CHECKPOINT) for run in ("full", "split"))
    for name, tensor in whole["generator"].items():
        assert torch.equal(tensor, split["generator"][name]), name
    # a budget spent on one rank only (its clock runs 1000 times faster): both must stop after the same step, or
    # the other would wait for ever in its next gradient reduction
    budget = {**settings, "epochs": 50, "max_seconds": 2000.0}
    _torchrun("train", str(pairs), str(tmp_path / "budget"),
              env={"GANON_TEST_CFG": json.dumps(budget), "GANON_TEST_RANK1_CLOCK": "1000"})
    epochs = list(pd.read_csv(tmp_path / "budget" / "losses.csv").epoch)
    assert epochs == list(range(1, len(epochs) + 1)) and len(epochs) < 50
    assert int(load_checkpoint(tmp_path / "budget" / CHECKPOINT)["epoch"]) == epochs[-1] - 1
