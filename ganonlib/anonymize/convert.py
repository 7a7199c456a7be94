"""Convert the authors' published Lightning checkpoint into the kit's generator file."""
from __future__ import annotations

from pathlib import Path

import torch

from ganonlib.models.generator_file import save_generator
from ganonlib.models.networks import GeneratorUNet
from ganonlib.weights import verify_sha256

__all__ = ["convert_lightning_checkpoint"]


def convert_lightning_checkpoint(src: str | Path, dst: str | Path, image_size: int = 512,
                                 sha256: str | None = None) -> str:
    """Keep the ``generator.*`` tensors of a Lightning ``.ckpt`` (loaded with ``weights_only=True``), check that they
    fill the kit's :class:`GeneratorUNet` exactly, and write ``{"generator", "image_size"}`` plus a ``.sha256``
    sidecar. Returns the new file's sha256."""
    src, dst = Path(src), Path(dst)
    verify_sha256(src, sha256)
    try:
        state = torch.load(src, map_location="cpu", weights_only=True)
    except Exception as err:
        raise ValueError(f"{src} cannot be read as tensors only ({type(err).__name__}: {err}); the kit never "
                         f"unpickles arbitrary objects from a checkpoint") from err
    weights = state.get("state_dict", state)
    generator = {k.removeprefix("generator."): v for k, v in weights.items() if k.startswith("generator.")}
    if not generator:
        raise ValueError(f"{src} holds no 'generator.*' tensors: not a GANonymization Lightning checkpoint")
    net = GeneratorUNet()
    net.load_state_dict(generator, strict=True)  # a mismatch raises with the offending keys
    return save_generator(net.state_dict(), image_size, dst)
