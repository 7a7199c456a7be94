"""Image classifiers of the evaluation (paper 4.2-4.3): timm ConvNeXt with a new head for the dataset's classes."""
from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from ganonlib.weights import MissingWeightsError

__all__ = ["build_classifier"]


def _offline_hub() -> None:
    """Never download: the hub reads HF_HUB_OFFLINE once, at import, so set the loaded constant as well."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    import huggingface_hub.constants

    huggingface_hub.constants.HF_HUB_OFFLINE = True


def build_classifier(arch: str, n_classes: int, pretrained: str = "auto", weights_path: str = ""
                     ) -> tuple[nn.Module, str]:
    """A timm model with ``n_classes`` outputs and where its backbone weights came from.

    ``pretrained``: ``auto`` uses ImageNet weights when they are on this machine (``weights_path``, or the Hugging
    Face cache, read offline), else trains from scratch; ``yes`` requires them; ``no`` never uses them. The second
    return value ("imagenet:<source>" or "scratch") goes into every metrics file.
    """
    import timm

    if pretrained not in ("auto", "yes", "no"):
        raise ValueError(f"pretrained must be auto, yes or no, not {pretrained!r}")
    model = timm.create_model(arch, pretrained=False, num_classes=n_classes)
    if pretrained == "no":
        return model, "scratch"
    if weights_path and Path(weights_path).is_file():
        state = torch.load(weights_path, map_location="cpu", weights_only=True)
        state = {k: v for k, v in state.items() if not k.startswith(("head.fc", "fc.", "classifier"))}
        model.load_state_dict(state, strict=False)
        return model, f"imagenet:{weights_path}"
    _offline_hub()
    try:
        return timm.create_model(arch, pretrained=True, num_classes=n_classes), "imagenet:hf-cache"
    except Exception as err:
        if pretrained == "yes":
            raise MissingWeightsError(f"ImageNet weights for {arch} are not on this machine: give their file as "
                                      f"weights_path, or set pretrained to auto/no ({type(err).__name__})") from err
        return model, "scratch"
