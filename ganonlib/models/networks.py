"""pix2pix networks exactly as the original GANonymization model (after E. Linder-Noren's PyTorch-GAN pix2pix).

Generator: U-Net, 8 down / 7 up blocks, 54,404,099 parameters; input and output (B, 3, H, W) in [-1, 1], H = W a
power of two >= 256 (eight stride-2 downsamplings). Discriminator: PatchGAN on the 6-channel concat of
(landmarks, face), output (B, 1, H/16, W/16).
"""
from __future__ import annotations

import torch
from torch import nn

__all__ = ["Discriminator", "GeneratorUNet", "InstanceNorm2d", "init_weights", "define_D", "define_G"]


class InstanceNorm2d(nn.InstanceNorm2d):
    """``nn.InstanceNorm2d`` (affine=False, no running stats) that keeps a channels_last input channels_last.

    PyTorch's own kernel views the input as one (1, B*C, H, W) batch, which forces a contiguous copy of a
    channels_last tensor and hands the next convolution NCHW again; per-sample statistics over (H, W), taken in
    fp32 as cuDNN does under bf16 autocast, compute the same normalisation without leaving the layout. Other
    inputs take PyTorch's kernel, so a plain fp32 NCHW model runs exactly as the stock module.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.affine or self.track_running_stats or x.dim() != 4 or x.is_contiguous() \
                or not x.is_contiguous(memory_format=torch.channels_last):
            return super().forward(x)
        if x.device.type == "cpu" and not torch.is_grad_enabled():
            return _cpu_instance_norm(x, self.eps)
        xf = x.float()
        var, mean = torch.var_mean(xf, dim=(2, 3), correction=0, keepdim=True)
        return ((xf - mean) * torch.rsqrt(var + self.eps)).to(x.dtype)


def _cpu_instance_norm(x: torch.Tensor, eps: float) -> torch.Tensor:
    """Inference on a CPU: PyTorch's channels_last group-norm kernel with a group per channel (an instance norm,
    statistics in fp32) runs the generator ~1.4x faster at 512 px than the steps of :class:`InstanceNorm2d`. On one
    thread: the kernel splits an image among its threads and adds their partial sums, so with more its result
    would depend on the thread count (the convolutions' does not), and a face must come out the same in a worker
    process, on a Dask worker or here."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # OpenMP's setting is per calling thread: others computing meanwhile keep theirs
    try:
        return nn.functional.group_norm(x, x.shape[1], eps=eps)
    finally:
        torch.set_num_threads(threads)


# rows: offset -1, 0, +1 in the low-resolution input; columns: kernel row (or column) 0-3 of the 4x4 convolution;
# one matrix per output parity (even, odd)
_PARITY_TAPS = torch.tensor([[[1, 1, 0, 0], [0, 0, 1, 1], [0, 0, 0, 0]],
                             [[1, 0, 0, 0], [0, 1, 1, 0], [0, 0, 0, 1]]], dtype=torch.float32)


def upsample_pad_conv(x: torch.Tensor, conv: nn.Conv2d) -> torch.Tensor:
    """``conv(ZeroPad2d((1, 0, 1, 0))(Upsample(scale_factor=2)(x)))`` for the generator's final 4x4 convolution,
    computed without the upsampled tensor.

    Output pixel (2i+a, 2j+b) sees a 4x4 window of the nearest-upsampled image, i.e. a 3x3 window of ``x`` around
    (i, j) whose taps are sums of the 4x4 weights chosen by the parity (a, b). So one 3x3 convolution of ``x`` into
    4 * C_out channels followed by a pixel shuffle gives the same result with a quarter of the positions, and no
    (B, 128, H, W) intermediate at full resolution: at 512 px this layer went from the slowest of the step (3 output
    channels leave the tensor cores mostly idle) to a small one. The weights stay those of ``conv``.
    """
    taps = _PARITY_TAPS.to(device=conv.weight.device, dtype=conv.weight.dtype)
    # (O, a, b, C, 3, 3) -> (O*4, C, 3, 3); channel o*4 + a*2 + b is what pixel_shuffle puts at (2i+a, 2j+b)
    kernel = torch.einsum("ayk,bxl,ockl->oabcyx", taps, taps, conv.weight).flatten(0, 2)
    bias = conv.bias.repeat_interleave(4) if conv.bias is not None else None
    return nn.functional.pixel_shuffle(nn.functional.conv2d(x, kernel, bias, padding=1), 2)


class UNetDown(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, normalize: bool = True, dropout: float = 0.0) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(in_ch, out_ch, 4, 2, 1, bias=False)]
        if normalize:
            layers.append(InstanceNorm2d(out_ch))
        layers.append(nn.LeakyReLU(0.2))
        if dropout:
            layers.append(nn.Dropout(dropout))
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class UNetUp(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, dropout: float = 0.0) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.ConvTranspose2d(in_ch, out_ch, 4, 2, 1, bias=False),
                                   InstanceNorm2d(out_ch), nn.ReLU(inplace=True)]
        if dropout:
            layers.append(nn.Dropout(dropout))
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return torch.cat((self.model(x), skip), 1)


class GeneratorUNet(nn.Module):
    def __init__(self, in_channels: int = 3, out_channels: int = 3) -> None:
        super().__init__()
        self.down1 = UNetDown(in_channels, 64, normalize=False)
        self.down2 = UNetDown(64, 128)
        self.down3 = UNetDown(128, 256)
        self.down4 = UNetDown(256, 512, dropout=0.5)
        self.down5 = UNetDown(512, 512, dropout=0.5)
        self.down6 = UNetDown(512, 512, dropout=0.5)
        self.down7 = UNetDown(512, 512, dropout=0.5)
        self.down8 = UNetDown(512, 512, normalize=False, dropout=0.5)
        self.up1 = UNetUp(512, 512, dropout=0.5)
        self.up2 = UNetUp(1024, 512, dropout=0.5)
        self.up3 = UNetUp(1024, 512, dropout=0.5)
        self.up4 = UNetUp(1024, 512, dropout=0.5)
        self.up5 = UNetUp(1024, 256)
        self.up6 = UNetUp(512, 128)
        self.up7 = UNetUp(256, 64)
        self.final = nn.Sequential(nn.Upsample(scale_factor=2), nn.ZeroPad2d((1, 0, 1, 0)),
                                   nn.Conv2d(128, out_channels, 4, padding=1), nn.Tanh())
        self.subpixel_final = True  # False runs self.final module by module, as the original did

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, 3, H, W) -> (B, 3, H, W)
        d1 = self.down1(x)
        d2 = self.down2(d1)
        d3 = self.down3(d2)
        d4 = self.down4(d3)
        d5 = self.down5(d4)
        d6 = self.down6(d5)
        d7 = self.down7(d6)
        d8 = self.down8(d7)  # (B, 512, H/256, W/256)
        u1 = self.up1(d8, d7)
        u2 = self.up2(u1, d6)
        u3 = self.up3(u2, d5)
        u4 = self.up4(u3, d4)
        u5 = self.up5(u4, d3)
        u6 = self.up6(u5, d2)
        u7 = self.up7(u6, d1)  # (B, 128, H/2, W/2)
        if not self.subpixel_final:
            return self.final(u7)
        # the same Upsample -> ZeroPad -> Conv -> Tanh, through upsample_pad_conv
        return torch.tanh(upsample_pad_conv(u7, self.final[2]))


class Discriminator(nn.Module):
    def __init__(self, in_channels: int = 3) -> None:
        super().__init__()

        def block(in_f: int, out_f: int, normalize: bool = True) -> list[nn.Module]:
            layers: list[nn.Module] = [nn.Conv2d(in_f, out_f, 4, stride=2, padding=1)]
            if normalize:
                layers.append(InstanceNorm2d(out_f))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            return layers

        self.model = nn.Sequential(*block(in_channels * 2, 64, normalize=False), *block(64, 128),
                                   *block(128, 256), *block(256, 512), nn.ZeroPad2d((1, 0, 1, 0)),
                                   nn.Conv2d(512, 1, 4, padding=1, bias=False))

    def forward(self, condition: torch.Tensor, image: torch.Tensor) -> torch.Tensor:  # -> (B, 1, H/16, W/16)
        return self.model(torch.cat((condition, image), 1))


def init_weights(module: nn.Module) -> None:
    """N(0, 0.02) for convolutions (the original's init; InstanceNorm here has no affine weights)."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm2d, nn.InstanceNorm2d)) and module.weight is not None:
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def define_G() -> GeneratorUNet:
    net = GeneratorUNet()
    net.apply(init_weights)
    return net


def define_D() -> Discriminator:
    net = Discriminator()
    net.apply(init_weights)
    return net
