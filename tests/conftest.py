"""Shared fixtures: real photos shipped by installed packages, the shared real-face samples, tiny configs."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from ganonlib.config import PreprocessConfig
from ganonlib.data.sample import load_photo

# the real face samples sit beside the checkout (../shared/data); GANON_SHARED_DATA points elsewhere
SHARED_DATA = Path(os.environ.get("GANON_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    return load_photo("astronaut")


@pytest.fixture(scope="session")
def small_cfg() -> PreprocessConfig:
    """CPU-cheap settings; one process so the models load once per test session."""
    return PreprocessConfig(image_size=128, n_jobs=1)


def shared_data(name: str) -> Path:
    path = SHARED_DATA / name
    if not path.is_dir():
        pytest.skip(f"{path} not present (real face samples are optional)")
    return path


@pytest.fixture(scope="session")
def generator_file(tmp_path_factory) -> Path:
    """An untrained generator saved in the kit's format at 256 px (speed and geometry do not depend on training)."""
    import torch

    from ganonlib.io import atomic_write_torch
    from ganonlib.models.networks import define_G

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("gan") / "generator.pt"
    atomic_write_torch(path, {"generator": define_G().state_dict(), "image_size": 256})
    return path


@pytest.fixture(scope="session")
def pairs(tmp_path_factory) -> Path:
    """A processed dataset of random 256 px pairs (3 train, 1 val) in the preprocessing output's layout."""
    import pandas as pd
    from PIL import Image

    root = tmp_path_factory.mktemp("processed")
    rng = np.random.default_rng(0)
    rows = []
    for i, split in enumerate(["train", "train", "train", "val"]):
        for kind, shape in (("images", (256, 256, 3)), ("landmarks", (256, 256))):
            (root / kind / split).mkdir(parents=True, exist_ok=True)
            arr = rng.integers(0, 256, shape, dtype=np.uint8) if kind == "images" else \
                (rng.random(shape) > 0.99).astype(np.uint8) * 255
            Image.fromarray(arr).save(root / kind / split / f"p{i}.png")
        (root / "points" / split).mkdir(parents=True, exist_ok=True)
        np.save(root / "points" / split / f"p{i}.npy", rng.uniform(0.2, 0.8, (478, 3)).astype(np.float32))
        rows.append({"key": f"p{i}", "split": split, "image": f"images/{split}/p{i}.png",
                     "landmarks": f"landmarks/{split}/p{i}.png", "points": f"points/{split}/p{i}.npy",
                     "source": "", "face": 0, "subject": "", "label": "", "attributes": ""})
    pd.DataFrame(rows).to_csv(root / "index.csv", index=False)
    return root


@pytest.fixture(scope="session")
def lightning_checkpoint(tmp_path_factory) -> Path:
    """A checkpoint written by pytorch_lightning's own ``Trainer.save_checkpoint`` from a LightningModule shaped like
    the authors' ``Pix2Pix``: ``generator`` and ``discriminator`` attributes, ``save_hyperparameters()`` of the
    original's arguments (trained at ``img_size`` 256) kept as Lightning's ``AttributeDict``, two Adam optimizers,
    loop and callback state, after one (empty) training step."""
    import pytorch_lightning as pl
    import torch

    from ganonlib.models.networks import define_D, define_G

    class Pix2Pix(pl.LightningModule):
        def __init__(self, data_dir: str, models_dir: str, output_dir: str, n_epochs: int, dataset_name: str,
                     batch_size: int, lr: float, b1: float, b2: float, n_cpu: int, img_size: int, device: int):
            super().__init__()
            self.save_hyperparameters()
            self.automatic_optimization = False
            self.generator, self.discriminator = define_G(), define_D()

        def training_step(self, batch, batch_idx):
            return None

        def on_save_checkpoint(self, checkpoint: dict) -> None:
            # Lightning of the authors' time (2.0) stored the hyper-parameters as its AttributeDict, a class a
            # tensors-only load refuses; today's writes a plain dict. Keep the harder case.
            checkpoint["hyper_parameters"] = self.hparams

        def configure_optimizers(self):
            return [torch.optim.Adam(self.generator.parameters(), lr=self.hparams.lr),
                    torch.optim.Adam(self.discriminator.parameters(), lr=self.hparams.lr)], []

    torch.manual_seed(0)
    model = Pix2Pix("data", "models", "output", 25, "celeba", 32, 2e-4, 0.5, 0.999, 8, 256, 0)
    root = tmp_path_factory.mktemp("lightning")
    trainer = pl.Trainer(accelerator="cpu", max_epochs=1, limit_train_batches=1, logger=False,
                         enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                         default_root_dir=str(root))
    trainer.fit(model, torch.utils.data.DataLoader(torch.zeros(1, 1)))
    path = root / "publication.ckpt"
    trainer.save_checkpoint(path)
    return path
