"""The generator as an ONNX file run by onnxruntime (``backend: onnx``): export with a dynamic batch, the check
against torch, and the session the anonymizer uses.

The ONNX file holds the sha256 of the generator file it was exported from: a session refuses to run a file that no
longer matches its weights, so ``--backend onnx`` never paints with stale weights.
"""
from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import torch

from ganonlib.io import atomic_write_bytes, file_sha256, same_file
from ganonlib.models.generator_file import load_generator
from ganonlib.weights import MissingWeightsError

__all__ = ["MIN_OPSET", "OPSET", "OnnxGenerator", "OnnxMismatchError", "export_onnx", "max_opset", "onnx_path"]

# the TorchScript exporter's opsets reach 20 and onnxruntime 1.32 runs up to 23; 17 holds every operator the U-Net
# uses and is the newest that older runtimes on GPU servers still load
OPSET = 17
MIN_OPSET = 12  # the sub-pixel final layer exports as einsum, which opset 12 brought (measured: 7-11 fail)


def max_opset() -> int:
    """The newest opset this torch's exporter writes (23 for torch 2.14: 24 fails)."""
    try:
        from torch.onnx._constants import ONNX_MAX_OPSET

        return int(ONNX_MAX_OPSET)
    except (ImportError, AttributeError):  # a private constant: fall back to what every supported torch writes
        return 20
_INPUT, _OUTPUT = "landmarks", "face"


class OnnxMismatchError(ValueError):
    """The ONNX file was exported from other weights than the generator file it is used with."""


def onnx_path(weights: str | Path) -> Path:
    """Where ``ganon export-onnx`` writes the ONNX file of a generator file, and where ``backend: onnx`` looks."""
    return Path(weights).with_suffix(".onnx")


def _session(path: Path, device: torch.device, threads: int = 0):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3  # warnings about unused initializers fill the terminal otherwise
    options.intra_op_num_threads = threads or torch.get_num_threads()
    providers = ["CPUExecutionProvider"]
    if device.type == "cuda" and "CUDAExecutionProvider" in ort.get_available_providers():
        providers.insert(0, "CUDAExecutionProvider")
    return ort.InferenceSession(str(path), options, providers=providers)


def export_onnx(weights: str | Path, out: str | Path | None = None, opset: int = OPSET, check_batch: int = 2,
                seed: int = 0) -> dict:
    """Export the generator of ``weights`` (N x 3 x S x S in [-1, 1] -> the same, any N), run the file with
    onnxruntime on ``check_batch`` random landmark images and report the largest difference to torch (fp32)."""
    import onnx

    if isinstance(opset, bool) or not isinstance(opset, int) or not MIN_OPSET <= opset <= max_opset():
        raise ValueError(f"opset must lie in [{MIN_OPSET}, {max_opset()}] (the generator needs opset {MIN_OPSET}, this "
                         f"torch exports up to {max_opset()}), got {opset!r}")
    weights = Path(weights)
    out = Path(out) if out else onnx_path(weights)
    if out.is_dir():
        raise ValueError(f"{out} is a folder: name the .onnx file to write")
    if same_file(weights, out):
        raise ValueError(f"{out} is the generator file itself: name another file to write, so the weights are kept")
    generator, trained = load_generator(weights, torch.device("cpu"))
    size = trained.image_size
    example = torch.zeros(1, 3, size, size)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # the TorchScript exporter (the dynamo one needs onnxscript) says it and its logging are legacy; instance
        # norm without running statistics is exported "with train=True", which is what it computes in eval mode too
        warnings.filterwarnings("ignore", message=".*legacy TorchScript-based ONNX export", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message="The feature will be removed", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message=".*instance_norm.*", category=UserWarning)
        # shape checks traced as constants: the image size is fixed by the weights, the batch stays dynamic (tested)
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        torch.onnx.export(generator, (example,), buffer, dynamo=False, opset_version=opset, input_names=[_INPUT],
                          output_names=[_OUTPUT], dynamic_axes={_INPUT: {0: "batch"}, _OUTPUT: {0: "batch"}})
    model = onnx.load_from_string(buffer.getvalue())
    onnx.checker.check_model(model)
    meta = {"weights_sha256": file_sha256(weights), "image_size": str(size), "landmarks_style": trained.landmarks_style}
    for key, value in meta.items():
        model.metadata_props.add(key=key, value=value)
    atomic_write_bytes(out, model.SerializeToString())
    # the check: sparse landmark images like the real ones (mostly -1, some +1), not noise the model never saw
    rng = np.random.default_rng(seed)
    x = np.where(rng.random((check_batch, 1, size, size)) < 0.02, 1.0, -1.0).astype(np.float32)
    x = np.ascontiguousarray(np.broadcast_to(x, (check_batch, 3, size, size)))
    with torch.inference_mode():
        expected = generator(torch.from_numpy(x)).numpy()
    got = OnnxGenerator(out, weights, meta["weights_sha256"], torch.device("cpu"))(x)
    return {"onnx": str(out), "opset": opset, "image_size": size, "weights_sha256": meta["weights_sha256"],
            "max_abs_diff": float(np.abs(got - expected).max()), "checked_batch": check_batch}


class OnnxGenerator:
    """An onnxruntime session of an exported generator, checked against the weights it stands for."""

    def __init__(self, path: str | Path, weights: str | Path, weights_sha256: str, device: torch.device,
                 threads: int = 0) -> None:
        path = Path(path)
        if not path.is_file():
            raise MissingWeightsError(f"no ONNX file at {path}: export it first with `ganon export-onnx --weights "
                                      f"{weights}`")
        self.session = _session(path, device, threads)
        exported_from = self.session.get_modelmeta().custom_metadata_map.get("weights_sha256", "")
        if exported_from != weights_sha256:
            raise OnnxMismatchError(f"{path} was exported from other weights (sha256 {exported_from[:12] or '?'}, "
                                    f"the generator file has {weights_sha256[:12]}): export it again with "
                                    f"`ganon export-onnx --weights {weights}`")

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """(N, 3, S, S) float32 in [-1, 1] -> (N, 3, S, S) float32."""
        return self.session.run([_OUTPUT], {_INPUT: np.ascontiguousarray(x, dtype=np.float32)})[0]
