"""GAN trainer: outputs, and a run killed with SIGKILL resumes to the same state as an uninterrupted run."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from ganonlib.train.gan import CHECKPOINT, GENERATOR, GanTrainConfig, load_checkpoint, train_gan


def _cfg(data, out, epochs, **kw):
    return GanTrainConfig(data_dir=str(data), out_dir=str(out), epochs=epochs, batch_size=2, device="cpu",
                          max_steps_per_epoch=1, samples=1, seed=3, **kw)


def test_training_writes_losses_grid_and_checkpoint(pairs, tmp_path):
    summary = train_gan(_cfg(pairs, tmp_path, 1))
    assert summary["epochs_run"] == 1 and summary["train_pairs"] == 3
    losses = pd.read_csv(tmp_path / "losses.csv")
    assert list(losses.epoch) == [1] and np.isfinite(losses.g_total).all()
    grid = np.asarray(Image.open(tmp_path / "samples" / "epoch_001.png"))
    assert grid.shape == (256, 3 * 256, 3)  # landmarks | real | generated
    state = load_checkpoint(tmp_path / GENERATOR)
    assert state["image_size"] == 256 and "down1.model.0.weight" in state["generator"]
    assert (tmp_path / f"{GENERATOR}.sha256").read_text().split()[0]


@pytest.mark.slow
def test_sigkill_and_resume_equals_uninterrupted(pairs, tmp_path):
    whole = tmp_path / "whole"
    train_gan(_cfg(pairs, whole, 3))
    killed = tmp_path / "killed"
    code = ("import sys; from ganonlib.train.gan import GanTrainConfig, train_gan; "
            f"train_gan(GanTrainConfig(data_dir={str(pairs)!r}, out_dir={str(killed)!r}, epochs=50, batch_size=2, "
            "device='cpu', max_steps_per_epoch=1, samples=1, seed=3))")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while not (killed / CHECKPOINT).exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    reached = int(load_checkpoint(killed / CHECKPOINT)["epoch"])
    assert reached < 2, "the killed run went past the comparison point; make its epochs slower"
    summary = train_gan(_cfg(pairs, killed, 3))
    assert summary["resumed_from_epoch"] == reached + 1
    a, b = load_checkpoint(whole / CHECKPOINT), load_checkpoint(killed / CHECKPOINT)
    for name, tensor in a["generator"].items():
        assert torch.equal(tensor, b["generator"][name]), name
    for name, tensor in a["discriminator"].items():
        assert torch.equal(tensor, b["discriminator"][name]), name
    assert list(pd.read_csv(killed / "losses.csv").epoch) == [1, 2, 3]


@pytest.mark.slow
def test_a_finished_run_is_not_resumed(pairs, tmp_path):
    train_gan(_cfg(pairs, tmp_path, 1))
    again = train_gan(_cfg(pairs, tmp_path, 1))  # e.g. DVC reruns the stage after a code change
    assert again["resumed_from_epoch"] == 0 and again["epochs_run"] == 1
    assert list(pd.read_csv(tmp_path / "losses.csv").epoch) == [1]
    longer = train_gan(_cfg(pairs, tmp_path, 2))  # more epochs: continue where it stopped
    assert longer["resumed_from_epoch"] == 1 and list(pd.read_csv(tmp_path / "losses.csv").epoch) == [1, 2]


@pytest.mark.slow
def test_memory_mapped_cache_holds_the_decoded_faces(pairs, tmp_path):
    from ganonlib.data.pairs import PairDataset

    mapped = PairDataset(pairs, "train", cache_dir=tmp_path / "cache")
    memory = PairDataset(pairs, "train")
    assert isinstance(mapped.faces, np.memmap) and len(list((tmp_path / "cache").glob("*.npy"))) == 1
    np.testing.assert_array_equal(np.asarray(mapped.faces), memory.faces)
    points, face = mapped[1]
    assert points.shape == (478, 2) and face.shape == (3, 256, 256) and face.dtype == torch.uint8
    again = PairDataset(pairs, "train", cache_dir=tmp_path / "cache")  # reused, not rebuilt
    assert again.faces.filename == mapped.faces.filename
    summary = train_gan(_cfg(pairs, tmp_path / "run", 1, cache_dir=str(tmp_path / "cache"), num_workers=1))
    assert summary["epochs_run"] == 1


@pytest.mark.slow
def test_resident_batches_train_exactly_like_the_data_loader(pairs, tmp_path):
    """Pairs kept on the device are visited in the data loader's seeded order: same weights either way."""
    train_gan(_cfg(pairs, tmp_path / "resident", 2))
    train_gan(_cfg(pairs, tmp_path / "loader", 2, cache_dir=str(tmp_path / "cache")))
    a, b = load_checkpoint(tmp_path / "resident" / GENERATOR), load_checkpoint(tmp_path / "loader" / GENERATOR)
    for name, tensor in a["generator"].items():
        assert torch.equal(tensor, b["generator"][name]), name


@pytest.mark.slow
def test_checkpoint_interval_keeps_every_loss_row(pairs, tmp_path):
    train_gan(_cfg(pairs, tmp_path, 3, checkpoint_every=0))  # 0: checkpoint and grid after the last epoch only
    assert list(pd.read_csv(tmp_path / "losses.csv").epoch) == [1, 2, 3]
    assert sorted(p.name for p in (tmp_path / "samples").iterdir()) == ["epoch_003.png"]
    assert int(load_checkpoint(tmp_path / CHECKPOINT)["epoch"]) == 2


@pytest.mark.slow
def test_the_trainer_imports_nothing_the_gpu_checks_machine_lacks():
    """benchmarks/gpu_checks.sh runs the trainer where PyTorch is installed but not the kit's other packages."""
    code = ("import sys, ganonlib.train.gan, ganonlib.models.pix2pix, ganonlib.provenance; "
            "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(done.stdout.split())
    assert not loaded & {"mediapipe", "yaml", "cv2", "scipy", "sklearn", "timm", "deepface", "papermill"}


def test_an_output_folder_holding_the_users_files_is_refused_before_training(pairs, tmp_path, capsys):
    """A training writes generator.pt, checkpoint.pt, losses.csv, samples/ and live/ and deletes earlier losses and
    grids: an existing folder of other files is refused, one line and exit 2, untouched; a link among its names
    too. An earlier training's folder, an empty and a new one pass."""
    from ganonlib.cli import main
    from ganonlib.train.gan import training_folder_problem

    mine = tmp_path / "mine"
    (mine / "samples").mkdir(parents=True)
    (mine / "losses.csv").write_text("date,kg\n2026-12-01,71\n")
    (mine / "samples" / "epoch_001.png").write_bytes(b"my own picture")
    (mine / "notes.txt").write_text("mine\n")
    before = {p: p.read_bytes() for p in mine.rglob("*") if p.is_file()}
    args = ["--epochs", "1", "--batch-size", "2", "--device", "cpu", "--max-steps-per-epoch", "1"]
    assert main(["train", str(pairs), str(mine), *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "already holds files a training does not write (notes.txt)" in err, err
    assert {p: p.read_bytes() for p in mine.rglob("*") if p.is_file()} == before

    ours = tmp_path / "ours"
    (ours / "live").mkdir(parents=True)
    for name in (GENERATOR, f"{GENERATOR}.sha256", CHECKPOINT, "losses.csv", "generator.onnx", ".gitignore"):
        (ours / name).write_bytes(b"")
    (tmp_path / "empty").mkdir()
    assert [training_folder_problem(p) for p in (ours, tmp_path / "empty", tmp_path / "new")] == ["", "", ""]
    (ours / "samples").symlink_to(mine / "samples")
    assert "samples is a link" in training_folder_problem(ours)
