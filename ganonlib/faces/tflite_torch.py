"""A TFLite network run by torch, on any device and at any batch size: the ops of mediapipe's two face-detection
networks (BlazeFace), read from the model file with the flatbuffer schema LiteRT ships.

LiteRT runs them on the CPU one input at a time; a GPU needs the same network in torch, fed the views of a photo as
one batch. Nothing is re-trained or re-exported: the weights are the file's, turned dense by LiteRT itself (the
full-range model stores them sparse and in float16), and every op follows TFLite's definition: convolutions with
TensorFlow's SAME padding (the extra pixel after), PAD in NHWC order, RESHAPE and DEPTH_TO_SPACE on NHWC memory,
bilinear resizing with half-pixel centres. ``tests/test_blazeface.py`` checks the outputs against LiteRT's.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["TFLiteNetwork", "UnsupportedOp"]

_SAME, _RELU = 0, 1  # tflite Padding.SAME, ActivationFunctionType.RELU
_CONSTANT_OPS = {"DEQUANTIZE", "DENSIFY"}  # they only unpack weights: LiteRT's results are read once


class UnsupportedOp(ValueError):
    """The model uses an op (or an option of one) this runner does not implement."""


@dataclass(frozen=True)
class _Op:
    name: str
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    options: dict


def _read_ops(path: Path) -> tuple[list[_Op], list[int], list[int], dict[int, tuple[int, ...]]]:
    """The ops in execution order, the graph's input and output tensors and every tensor's shape."""
    from ai_edge_litert import schema_py_generated as schema

    model = schema.Model.GetRootAsModel(path.read_bytes(), 0)
    graph = model.Subgraphs(0)
    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    option_types = {"CONV_2D": schema.Conv2DOptions, "DEPTHWISE_CONV_2D": schema.DepthwiseConv2DOptions,
                    "MAX_POOL_2D": schema.Pool2DOptions, "ADD": schema.AddOptions,
                    "CONCATENATION": schema.ConcatenationOptions, "RESIZE_BILINEAR": schema.ResizeBilinearOptions,
                    "DEPTH_TO_SPACE": schema.DepthToSpaceOptions}
    getters = ("Padding", "StrideH", "StrideW", "FusedActivationFunction", "DilationHFactor", "DilationWFactor",
               "DepthMultiplier", "FilterHeight", "FilterWidth", "Axis", "AlignCorners", "HalfPixelCenters",
               "BlockSize")
    ops = []
    for i in range(graph.OperatorsLength()):
        op = graph.Operators(i)
        code = model.OperatorCodes(op.OpcodeIndex())
        name = names[max(code.BuiltinCode(), code.DeprecatedBuiltinCode())]
        options = {}
        if name in option_types and op.BuiltinOptions() is not None:
            table = option_types[name]()
            table.Init(op.BuiltinOptions().Bytes, op.BuiltinOptions().Pos)
            options = {g: getattr(table, g)() for g in getters if hasattr(table, g)}
        ops.append(_Op(name, tuple(int(t) for t in op.InputsAsNumpy()), tuple(int(t) for t in op.OutputsAsNumpy()),
                       options))
    shapes = {i: tuple(int(d) for d in graph.Tensors(i).ShapeAsNumpy()) for i in range(graph.TensorsLength())}
    return ops, [int(t) for t in graph.InputsAsNumpy()], [int(t) for t in graph.OutputsAsNumpy()], shapes


def _constants(path: Path, needed: set[int]) -> dict[int, np.ndarray]:
    """The values of the constant tensors ``needed``, as LiteRT holds them after one run (dense, float32)."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interpreter = Interpreter(model_path=str(path), experimental_preserve_all_tensors=True,
                              experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    interpreter.allocate_tensors()
    entry = interpreter.get_input_details()[0]
    interpreter.set_tensor(entry["index"], np.zeros(entry["shape"], np.float32))
    interpreter.invoke()
    return {i: np.array(interpreter.get_tensor(i)) for i in sorted(needed)}


def _same_padding(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TensorFlow's SAME: the output is ceil(size / stride); an odd total puts the extra pixel after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


class TFLiteNetwork(nn.Module):
    """``forward(x)``: (B, H, W, C) float32 NHWC as the model takes it -> its outputs, each with the batch first."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        ops, self._inputs, self._outputs, self._shapes = _read_ops(path)
        unknown = {op.name for op in ops} - _CONSTANT_OPS - set(_RUNNERS)
        if unknown:
            raise UnsupportedOp(f"{path.name}: ops {sorted(unknown)} are not implemented")
        produced = {t for op in ops if op.name not in _CONSTANT_OPS for t in op.outputs} | set(self._inputs)
        needed = {t for op in ops if op.name not in _CONSTANT_OPS for t in op.inputs if t not in produced and t >= 0}
        self._ops = [op for op in ops if op.name not in _CONSTANT_OPS]
        values = _constants(path, needed)
        self._constants = {}
        for index, value in values.items():
            name = f"t{index}"
            self.register_buffer(name, torch.from_numpy(_torch_layout(index, value, self._ops)), persistent=False)
            self._constants[index] = name

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        # 4-d activations are kept NCHW (torch's convolutions); others as TFLite has them
        values: dict[int, torch.Tensor] = {self._inputs[0]: x.permute(0, 3, 1, 2)}
        for op in self._ops:
            args = [values[t] if t in values else getattr(self, self._constants[t]) if t >= 0 else None
                    for t in op.inputs]
            values[op.outputs[0]] = _RUNNERS[op.name](op, args, self._shapes)
        return [_nhwc(values[t]) for t in self._outputs]


def _nhwc(x: torch.Tensor) -> torch.Tensor:
    return x.permute(0, 2, 3, 1) if x.dim() == 4 else x


def _torch_layout(index: int, value: np.ndarray, ops: list[_Op]) -> np.ndarray:
    """Convolution weights in torch's (O, I/groups, H, W); every other constant as it is."""
    for op in ops:
        if len(op.inputs) > 1 and op.inputs[1] == index:
            if op.name == "CONV_2D":  # (O, H, W, I)
                return np.ascontiguousarray(value.transpose(0, 3, 1, 2))
            if op.name == "DEPTHWISE_CONV_2D":  # (1, H, W, C x multiplier)
                return np.ascontiguousarray(value.transpose(3, 0, 1, 2))
    return np.ascontiguousarray(value)


def _activation(op: _Op, x: torch.Tensor) -> torch.Tensor:
    fused = op.options.get("FusedActivationFunction", 0)
    if fused not in (0, _RELU):
        raise UnsupportedOp(f"{op.name}: fused activation {fused} is not implemented")
    return F.relu(x) if fused == _RELU else x


def _padded(op: _Op, x: torch.Tensor, kernel: tuple[int, int], value: float = 0.0) -> torch.Tensor:
    if op.options.get("Padding", _SAME) != _SAME:
        return x
    top, bottom = _same_padding(x.shape[2], kernel[0], op.options["StrideH"], op.options.get("DilationHFactor", 1))
    left, right = _same_padding(x.shape[3], kernel[1], op.options["StrideW"], op.options.get("DilationWFactor", 1))
    return F.pad(x, (left, right, top, bottom), value=value) if top or bottom or left or right else x


def _conv(op: _Op, args: list, shapes: dict) -> torch.Tensor:
    x, weight, bias = args
    groups = x.shape[1] if op.name == "DEPTHWISE_CONV_2D" else 1
    x = _padded(op, x, tuple(weight.shape[2:]))
    return _activation(op, F.conv2d(x, weight, bias, stride=(op.options["StrideH"], op.options["StrideW"]),
                                    dilation=(op.options["DilationHFactor"], op.options["DilationWFactor"]),
                                    groups=groups))


def _max_pool(op: _Op, args: list, shapes: dict) -> torch.Tensor:
    kernel = (op.options["FilterHeight"], op.options["FilterWidth"])
    x = _padded(op, args[0], kernel, value=float("-inf"))
    return _activation(op, F.max_pool2d(x, kernel, stride=(op.options["StrideH"], op.options["StrideW"])))


def _pad(op: _Op, args: list, shapes: dict) -> torch.Tensor:
    x, paddings = args
    (n0, n1), (h0, h1), (w0, w1), (c0, c1) = paddings.tolist()
    if n0 or n1:
        raise UnsupportedOp("PAD along the batch is not implemented")
    return F.pad(x, (w0, w1, h0, h1, c0, c1))  # NCHW: the last three dims are C, H, W from the inside out


def _reshape(op: _Op, args: list, shapes: dict) -> torch.Tensor:
    x = _nhwc(args[0])  # TFLite reshapes NHWC memory
    return x.reshape(x.shape[0], *shapes[op.outputs[0]][1:])


def _concat(op: _Op, args: list, shapes: dict) -> torch.Tensor:
    axis = op.options["Axis"]
    if args[0].dim() == 4:  # NHWC axis -> NCHW
        axis = {0: 0, 1: 2, 2: 3, 3: 1, -1: 1}[axis]
    return _activation(op, torch.cat(args, dim=axis))


def _resize(op: _Op, args: list, shapes: dict) -> torch.Tensor:
    if op.options["AlignCorners"] or not op.options["HalfPixelCenters"]:
        raise UnsupportedOp("RESIZE_BILINEAR without half-pixel centres is not implemented")
    height, width = (int(v) for v in args[1].tolist())
    return F.interpolate(args[0], size=(height, width), mode="bilinear", align_corners=False)


def _depth_to_space(op: _Op, args: list, shapes: dict) -> torch.Tensor:
    block = op.options["BlockSize"]
    x = _nhwc(args[0])
    batch, height, width, depth = x.shape
    x = x.reshape(batch, height, width, block, block, depth // block ** 2).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(batch, height * block, width * block, depth // block ** 2).permute(0, 3, 1, 2)


_RUNNERS = {"CONV_2D": _conv, "DEPTHWISE_CONV_2D": _conv, "MAX_POOL_2D": _max_pool, "PAD": _pad,
            "RESHAPE": _reshape, "CONCATENATION": _concat, "RESIZE_BILINEAR": _resize,
            "DEPTH_TO_SPACE": _depth_to_space,
            "ADD": lambda op, args, shapes: _activation(op, args[0] + args[1]),
            "RELU": lambda op, args, shapes: F.relu(args[0])}
