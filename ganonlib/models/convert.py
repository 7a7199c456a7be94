"""Convert the authors' published Lightning checkpoint into the kit's generator file, without running its pickle.

A Lightning ``.ckpt`` is a torch pickle that holds more than tensors: the hyper-parameters as Lightning's
``AttributeDict``, optimizer and loop state, callback state, version strings. ``torch.load(weights_only=True)``
refuses it, and a plain ``torch.load`` would run whatever the pickle names. The converter reads it with a restricted
unpickler instead:

- tensors, storages and plain containers are rebuilt as usual;
- any class of a library that writes checkpoints (Lightning, torchmetrics, numpy, argparse, pathlib, omegaconf) becomes
  an inert placeholder that only keeps the data it was given, so the module is never imported and no code of it runs;
- anything else (``os.system``, ``builtins.eval``, ``subprocess``, a module of unknown origin) stops the conversion
  with :class:`UnsafeCheckpointError`, naming it.
"""
from __future__ import annotations

import pickle
import types
from pathlib import Path
from typing import Any

import torch

from ganonlib.io import same_file
from ganonlib.models.generator_file import check_image_size, save_generator
from ganonlib.models.networks import GeneratorUNet
from ganonlib.weights import WeightsError, verify_sha256

__all__ = ["Inert", "UnsafeCheckpointError", "convert_lightning_checkpoint", "convert_lightning_state",
           "read_lightning_checkpoint"]

# rebuilt for real: what torch's own pickles of tensors and state dicts consist of
_REAL = {
    ("collections", "OrderedDict"), ("collections", "defaultdict"), ("builtins", "set"), ("builtins", "frozenset"),
    ("builtins", "complex"), ("builtins", "slice"), ("builtins", "range"), ("builtins", "bytearray"),
    ("torch._utils", "_rebuild_tensor"), ("torch._utils", "_rebuild_tensor_v2"), ("torch._utils", "_rebuild_tensor_v3"),
    ("torch._utils", "_rebuild_parameter"), ("torch._utils", "_rebuild_parameter_with_state"),
    ("torch", "Size"), ("torch", "device"), ("torch.serialization", "_get_layout"),
    ("_codecs", "encode"),  # how protocol 2 writes bytes (as torch's own tensors-only loader allows too)
}
_TORCH_DTYPES = {name for name in dir(torch) if isinstance(getattr(torch, name, None), torch.dtype)}
# numpy's data constructors (arrays and scalars in callback or loop state) become placeholders too: named one by one,
# since the rest of numpy's functions (numpy.save, numpy.load, ...) are no data
_NUMPY_DATA = {(module, name) for module in ("numpy.core.multiarray", "numpy._core.multiarray")
               for name in ("_reconstruct", "scalar")} | {("numpy", "dtype"), ("numpy", "ndarray")}
# libraries whose objects a training checkpoint carries as data: their classes become placeholders
_DATA_LIBRARIES = ("pytorch_lightning", "lightning", "lightning_fabric", "lightning_utilities", "torchmetrics",
                   "numpy", "argparse", "pathlib", "omegaconf", "typing", "enum", "datetime")


class UnsafeCheckpointError(WeightsError):
    """The checkpoint's pickle names a callable outside tensors, containers and known data classes."""


class Inert:
    """Stands in for a class the checkpoint names: keeps the arguments and state it is given, runs nothing."""

    _qualname = "?"
    # unpickling may create it with __new__ alone (NEWOBJ), without __init__
    args: tuple = ()
    kwargs: dict = {}  # noqa: RUF012 (read only; an instance's own replaces it)
    state: Any = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args, self.kwargs, self.state = args, kwargs, None

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def __setitem__(self, key: Any, value: Any) -> None:  # dict subclasses are filled item by item
        self.__dict__.setdefault("items", {})[key] = value

    def as_dict(self) -> dict:
        """What the object held, as a plain dict: its items, its state (a dict), or its keyword arguments."""
        held: dict = {}
        for part in (self.kwargs, self.state if isinstance(self.state, dict) else None,
                     self.__dict__.get("items")):
            held.update(part or {})
        return held

    def __repr__(self) -> str:
        return f"<inert {self._qualname}>"


def _placeholder(module: str, name: str) -> type:
    return type(name, (Inert,), {"_qualname": f"{module}.{name}", "__module__": "ganonlib.models.convert"})


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        module = {"__builtin__": "builtins", "copy_reg": "copyreg"}.get(module, module)  # protocol 2 names
        if (module, name) in _REAL:
            return super().find_class(module, name)
        if module == "torch" and name in _TORCH_DTYPES:
            return getattr(torch, name)
        if (module.split(".")[0] in _DATA_LIBRARIES and name[:1].isupper()) or (module, name) in _NUMPY_DATA:
            return _placeholder(module, name)
        raise UnsafeCheckpointError(f"the checkpoint's pickle calls {module}.{name}, which is neither a tensor, a "
                                    f"container nor a known data class: refused, nothing of it was run")


# torch.load takes a module that provides ``Unpickler`` (and ``load`` for the legacy format)
_restricted_pickle = types.ModuleType("ganonlib_restricted_pickle")
_restricted_pickle.Unpickler = _RestrictedUnpickler  # type: ignore[attr-defined]
_restricted_pickle.load = lambda f, **kw: _RestrictedUnpickler(f, **kw).load()  # type: ignore[attr-defined]
_restricted_pickle.__dict__.update(dumps=pickle.dumps, dump=pickle.dump, loads=pickle.loads)


def read_lightning_checkpoint(path: str | Path) -> dict:
    """The checkpoint as plain data: tensors and containers as they are, other objects as :class:`Inert`."""
    try:
        return torch.load(path, map_location="cpu", pickle_module=_restricted_pickle, weights_only=False)
    except UnsafeCheckpointError:
        raise
    except Exception as err:
        raise WeightsError(f"{path} is not a readable torch checkpoint ({type(err).__name__}: {err})") from None


def _hyper_parameters(state: dict) -> dict:
    hparams = state.get("hyper_parameters", {})
    return hparams.as_dict() if isinstance(hparams, Inert) else dict(hparams) if isinstance(hparams, dict) else {}


def convert_lightning_checkpoint(src: str | Path, dst: str | Path, image_size: int | None = None,
                                 sha256: str | None = None, landmarks_style: str | None = None) -> str:
    """Keep the ``generator.*`` tensors of a Lightning ``.ckpt``, check that they fill the kit's
    :class:`GeneratorUNet` exactly, and write the kit's generator file plus its ``.sha256`` sidecar. The image size
    and the landmark style come from the arguments, else from the checkpoint's hyper-parameters (the original's
    ``img_size``), else 512 and ``cross``. Returns the new file's sha256."""
    src, dst = Path(src), Path(dst)
    if dst.is_dir():
        raise WeightsError(f"{dst} is a folder: name the generator file to write (e.g. {dst / 'generator.pt'})")
    if same_file(src, dst):
        raise WeightsError(f"{dst} is the checkpoint itself: name another file to write, so the checkpoint is kept")
    if image_size is not None:  # refused before the checkpoint is even read
        check_image_size(image_size, "--image-size")
    verify_sha256(src, sha256)
    return convert_lightning_state(read_lightning_checkpoint(src), src, dst, image_size, landmarks_style)


def convert_lightning_state(state: Any, src: str | Path, dst: str | Path, image_size: int | None = None,
                            landmarks_style: str | None = None) -> str:
    """:func:`convert_lightning_checkpoint` on a checkpoint already read (:func:`read_lightning_checkpoint`) from
    ``src``: a caller that needs more of it reads the file once."""
    src, dst = Path(src), Path(dst)
    weights = state.get("state_dict", state) if isinstance(state, dict) else {}
    generator = {k.removeprefix("generator."): v for k, v in weights.items()
                 if isinstance(k, str) and k.startswith("generator.")}
    if not generator:
        raise WeightsError(f"{src} holds no 'generator.*' tensors: not a GANonymization Lightning checkpoint")
    hparams = _hyper_parameters(state)
    recorded = hparams.get("img_size", hparams.get("image_size", 512))
    recorded = int(recorded) if isinstance(recorded, str) and recorded.strip().isdigit() else recorded
    size = image_size if image_size is not None else check_image_size(recorded, f"{src} (its img_size)")
    style = landmarks_style or str(hparams.get("landmarks_style", "cross"))
    net = GeneratorUNet()
    try:
        net.load_state_dict(generator, strict=True)
    except RuntimeError as err:
        raise WeightsError(f"{src}: its generator does not fit the kit's U-Net ({str(err).splitlines()[0]})") from None
    trained_on = {"data": f"converted from {src.name} (dataset {hparams.get('dataset_name', 'not recorded')})",
                  "pairs": None, "epochs": state.get("epoch", hparams.get("n_epochs"))}
    return save_generator(net.state_dict(), size, dst, style, trained_on)
