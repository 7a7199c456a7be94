"""pix2pix objective and one training step (paper 3.4): LSGAN + lambda * L1, Adam 2e-4, betas (0.5, 0.999).

The generator runs once per step (the original ran it twice); the discriminator sees the fake detached. Two
savings that leave the arithmetic as it was: the discriminator's weights are frozen while the generator's loss
backpropagates through it (their gradients were computed and then zeroed), and its real and fake halves run as one
batch (instance norm and PatchGAN treat every sample alone).
"""
from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass

import torch
from torch import nn

from ganonlib.models.networks import Discriminator, GeneratorUNet

__all__ = ["Pix2Pix", "StepLosses", "make_optimizers"]


@dataclass(frozen=True)
class StepLosses:
    """Detached 0-d tensors, left on the device: reading them forces a GPU sync, so callers do it rarely."""

    g_total: torch.Tensor
    g_gan: torch.Tensor
    g_l1: torch.Tensor
    d_total: torch.Tensor

    def stacked(self) -> torch.Tensor:  # (4,)
        return torch.stack([self.g_total, self.g_gan, self.g_l1, self.d_total]).float()


def make_optimizers(generator: nn.Module, discriminator: nn.Module, lr: float = 2.0e-4,
                    betas: tuple[float, float] = (0.5, 0.999), fused: bool = False
                    ) -> tuple[torch.optim.Adam, torch.optim.Adam]:
    kw = {"lr": lr, "betas": betas, "fused": fused} if fused else {"lr": lr, "betas": betas}
    return torch.optim.Adam(generator.parameters(), **kw), torch.optim.Adam(discriminator.parameters(), **kw)


class Pix2Pix:
    """Holds G, D, their optimizers and the losses; :meth:`step` trains on one batch.

    ``landmarks`` and ``faces`` are (B, 3, H, W) tensors normalised to [-1, 1] (mean = std = 0.5).
    """

    def __init__(self, generator: GeneratorUNet, discriminator: Discriminator, opt_g: torch.optim.Optimizer,
                 opt_d: torch.optim.Optimizer, lambda_l1: float = 100.0, autocast_dtype: torch.dtype | None = None,
                 freeze_d_for_g: bool = True, batch_d: bool = True,
                 discriminator_for_g: nn.Module | None = None) -> None:
        self.generator, self.discriminator = generator, discriminator
        # under DDP, G's loss goes through the unwrapped D: DDP would wait for gradients of its frozen weights
        self.discriminator_for_g = discriminator if discriminator_for_g is None else discriminator_for_g
        self.opt_g, self.opt_d = opt_g, opt_d
        self.lambda_l1 = lambda_l1
        self.autocast_dtype = autocast_dtype
        self.freeze_d_for_g, self.batch_d = freeze_d_for_g, batch_d
        self._d_params = [p for group in opt_d.param_groups for p in group["params"]]
        self.gan_loss = nn.MSELoss()  # LSGAN
        self.l1_loss = nn.L1Loss()

    def _autocast(self, device: torch.device):
        if self.autocast_dtype is None:
            return nullcontext()
        return torch.autocast(device_type=device.type, dtype=self.autocast_dtype)

    def _set_d_trainable(self, trainable: bool) -> None:
        if self.freeze_d_for_g:
            for p in self._d_params:
                p.requires_grad_(trainable)

    def step(self, landmarks: torch.Tensor, faces: torch.Tensor) -> StepLosses:
        device = faces.device
        self._set_d_trainable(False)
        with self._autocast(device):
            fake = self.generator(landmarks)  # (B, 3, H, W), the only generator forward of this step
            # generator: fool D and stay close to the real face
            self.opt_g.zero_grad(set_to_none=True)
            pred_fake = self.discriminator_for_g(landmarks, fake)
            g_gan = self.gan_loss(pred_fake.float(), torch.ones_like(pred_fake, dtype=torch.float32))
            g_l1 = self.l1_loss(fake.float(), faces.float())
            g_total = g_gan + self.lambda_l1 * g_l1
        g_total.backward()
        self.opt_g.step()
        self._set_d_trainable(True)

        with self._autocast(device):
            self.opt_d.zero_grad(set_to_none=True)
            if self.batch_d:
                pred = self.discriminator(torch.cat((landmarks, landmarks)), torch.cat((faces, fake.detach())))
                pred_real, pred_fake = pred.chunk(2)
            else:  # the textbook step, kept for benchmarks/speed/train_throughput.py's baseline
                pred_real = self.discriminator(landmarks, faces)
                pred_fake = self.discriminator(landmarks, fake.detach())
            d_real = self.gan_loss(pred_real.float(), torch.ones_like(pred_real, dtype=torch.float32))
            d_fake = self.gan_loss(pred_fake.float(), torch.zeros_like(pred_fake, dtype=torch.float32))
            d_total = 0.5 * (d_real + d_fake)
        d_total.backward()
        self.opt_d.step()
        return StepLosses(g_total.detach(), g_gan.detach(), g_l1.detach(), d_total.detach())
