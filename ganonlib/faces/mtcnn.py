"""facenet-pytorch's MTCNN search, the same numbers in two thirds of the time.

``facenet_pytorch``'s ``detect_face`` spends most of its CPU time in two places that do not need to be slow:
- PyTorch's NCHW ``max_pool2d`` on one thread (~8 ms for P-Net's first pyramid level of a 512 px photo); a max over
  strided views of the same tensor takes a sixth of that;
- area resizing: the image pyramid P-Net scans (~30 ms a 512 px photo), and R-Net's and O-Net's inputs, cut and
  resized box by box (one ``interpolate`` call per candidate, hundreds per photo). Here every bin is summed from one
  integral image of the photo, all candidates at once.
Both give bit-identical results: a maximum does not depend on the order it is taken in, and the pixels are integers,
so every bin's sum is exact (an integer integral image; float32 once summed, far below 2**24), and it is divided as
PyTorch's kernel divides it (by the bin's height, then by its width, in float32). ``tests/test_mtcnn.py`` checks
both against PyTorch and the whole search against ``MTCNN.detect`` on real photos.
"""
from __future__ import annotations

import cv2
import numpy as np
import torch
from torch import nn

__all__ = ["StridedMaxPool2d", "area_crops", "area_resize", "detect_mtcnn", "integral_image", "use_strided_pools"]

_EXACT_SUM = 2 ** 24 // 255  # pixels per bin below which a float32 sum of 0..255 integers is exact


class StridedMaxPool2d(nn.Module):
    """``nn.MaxPool2d(kernel, stride, ceil_mode=True)`` without padding, as a maximum over strided views."""

    def __init__(self, kernel: int, stride: int) -> None:
        super().__init__()
        self.kernel, self.stride = kernel, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k, s = self.kernel, self.stride
        height, width = x.shape[-2:]
        out_h, out_w = -(-(height - k) // s) + 1, -(-(width - k) // s) + 1
        need_h, need_w = (out_h - 1) * s + k, (out_w - 1) * s + k
        if need_h > height or need_w > width:  # ceil_mode: the last window hangs over the edge
            x = nn.functional.pad(x, (0, need_w - width, 0, need_h - height), value=float("-inf"))
        rows = x[..., 0:(out_h - 1) * s + 1:s, :]
        for i in range(1, k):
            rows = torch.maximum(rows, x[..., i:i + (out_h - 1) * s + 1:s, :])
        out = rows[..., 0:(out_w - 1) * s + 1:s]
        for j in range(1, k):
            out = torch.maximum(out, rows[..., j:j + (out_w - 1) * s + 1:s])
        return out


def use_strided_pools(module: nn.Module) -> None:
    """Swap every unpadded ``ceil_mode`` max-pool of ``module`` (MTCNN's P/R/O-nets) for :class:`StridedMaxPool2d`."""
    for name, child in module.named_children():
        if (isinstance(child, nn.MaxPool2d) and child.ceil_mode and child.padding == 0 and child.dilation == 1
                and isinstance(child.kernel_size, int) and isinstance(child.stride, int)):
            setattr(module, name, StridedMaxPool2d(child.kernel_size, child.stride))
        else:
            use_strided_pools(child)


def integral_image(pixels: np.ndarray) -> np.ndarray:
    """(H + 1, W + 1, C) running sums of a uint8 image, exact: int32 while they fit, float64 beyond."""
    fits = pixels.shape[0] * pixels.shape[1] * 255 < 2 ** 31
    return cv2.integral(pixels, sdepth=cv2.CV_32S if fits else cv2.CV_64F)


def _bins(start: np.ndarray | int, end: np.ndarray | int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Adaptive pooling's ``size`` bins of each span [start, end): [floor(i * n / size), ceil((i + 1) * n / size))
    from ``start``, n = end - start; ``start`` and ``end`` (K, 1) or ints -> first and last + 1 index (K, size) or
    (size,)."""
    n, cells = end - start, np.arange(size)
    return start + cells * n // size, start - (-(cells + 1) * n // size)


def area_resize(integral: np.ndarray, height: int, width: int) -> torch.Tensor:
    """``interpolate(image, (height, width), mode="area")`` of the whole image -> (1, C, height, width) float32
    laid out as PyTorch lays it out for a channels-last input (``integral``: :func:`integral_image`)."""
    (top, bottom), (left, right) = _bins(0, integral.shape[0] - 1, height), _bins(0, integral.shape[1] - 1, width)
    rows = integral[bottom] - integral[top]
    sums = rows[:, right] - rows[:, left]  # (height, width, C), exact
    out = sums.astype(np.float32) / (bottom - top).astype(np.float32)[:, None, None]
    out /= (right - left).astype(np.float32)[None, :, None]  # PyTorch's order: by the bin's height, then its width
    # PyTorch's strides too (channels last): its convolution kernels, so their sums' order, go by them
    return torch.from_numpy(np.ascontiguousarray(out)).unsqueeze(0).permute(0, 3, 1, 2)


def area_crops(integral: np.ndarray, boxes: np.ndarray, size: int) -> torch.Tensor:
    """``interpolate(image[:, y0:y1, x0:x1], (size, size), mode="area")`` for every row (y0, y1, x0, x1) of
    ``boxes`` at once -> (K, C, size, size) float32 (``integral``: :func:`integral_image`)."""
    stride, flat = integral.shape[1], integral.reshape(-1, integral.shape[2])
    y0, y1, x0, x1 = (boxes[:, i:i + 1].astype(np.int64) for i in range(4))
    (top, bottom), (left, right) = _bins(y0, y1, size), _bins(x0, x1, size)
    t, b = (top * stride)[:, :, None], (bottom * stride)[:, :, None]
    l_, r = left[:, None, :], right[:, None, :]
    sums = (flat[b + r] - flat[t + r]) - (flat[b + l_] - flat[t + l_])  # (K, size, size, C), exact
    heights = (bottom - top).astype(np.float32)[:, :, None, None]
    widths = (right - left).astype(np.float32)[:, None, :, None]
    out = sums.astype(np.float32) / heights / widths
    return torch.from_numpy(np.ascontiguousarray(out.transpose(0, 3, 1, 2)))


def _bin_pixels(heights: np.ndarray | int, widths: np.ndarray | int, out_h: int, out_w: int) -> int:
    """An upper bound on the pixels of one bin."""
    return int(np.max((np.asarray(heights) // out_h + 2) * (np.asarray(widths) // out_w + 2), initial=0))


def _stage_input(image: torch.Tensor, integral: np.ndarray, boxes: torch.Tensor, image_inds: torch.Tensor,
                 size: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """R-Net's or O-Net's normalised input for the candidate ``boxes``, and the boxes and their image indices, less
    those whose crop is empty (facenet-pytorch skips their crops but keeps the boxes, and then fails)."""
    from facenet_pytorch.models.utils.detect_face import imresample, pad

    y, ey, x, ex = pad(boxes, image.shape[3], image.shape[2])
    keep = (ey > y - 1) & (ex > x - 1)
    cut = np.stack([y - 1, ey, x - 1, ex], axis=1)[keep]
    if _bin_pixels(cut[:, 1] - cut[:, 0], cut[:, 3] - cut[:, 2], size, size) > _EXACT_SUM:
        crops = torch.cat([imresample(image[:, :, a:b, c:d], (size, size)) for a, b, c, d in cut])  # huge boxes
    else:
        crops = area_crops(integral, cut, size)
    keep = torch.from_numpy(keep)
    return (crops - 127.5) * 0.0078125, boxes[keep], image_inds[keep]


@torch.no_grad()
def detect_mtcnn(model: nn.Module, image: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``model.detect(image, landmarks=True)`` of a ``facenet_pytorch.MTCNN`` (``keep_all=True``, CPU) on one
    (H, W, 3) uint8 RGB image -> boxes (N, 4), probabilities (N,), points (N, 5, 2) as float32 arrays, largest box
    first; all three empty when there is no face."""
    from facenet_pytorch.models.utils.detect_face import (
        batched_nms, batched_nms_numpy, bbreg, fixed_batch_process, generateBoundingBox, imresample, rerec)

    pixels = np.ascontiguousarray(image)
    img = torch.from_numpy(pixels.copy()).unsqueeze(0).permute(0, 3, 1, 2).float()
    integral = integral_image(pixels)
    height, width = img.shape[2:4]
    threshold, factor = model.thresholds, model.factor

    scale = 12.0 / model.min_face_size
    shortest = min(height, width) * scale
    scales = []
    while shortest >= 12:
        scales.append(scale)
        scale, shortest = scale * factor, shortest * factor

    boxes, image_inds, picks, offset = [], [], [], 0
    for scale in scales:
        size = (int(height * scale + 1), int(width * scale + 1))
        exact = _bin_pixels(height, width, *size) <= _EXACT_SUM
        level = area_resize(integral, *size) if exact else imresample(img, size)
        reg, probs = model.pnet((level - 127.5) * 0.0078125)
        found, inds = generateBoundingBox(reg, probs[:, 1], scale, threshold[0])
        boxes.append(found)
        image_inds.append(inds)
        picks.append(batched_nms(found[:, :4], found[:, 4], inds, 0.5) + offset)
        offset += found.shape[0]
    pick = torch.cat(picks)
    boxes, image_inds = torch.cat(boxes)[pick], torch.cat(image_inds)[pick]
    pick = batched_nms(boxes[:, :4], boxes[:, 4], image_inds, 0.7)
    boxes, image_inds = boxes[pick], image_inds[pick]
    regw, regh = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    boxes = torch.stack([boxes[:, 0] + boxes[:, 5] * regw, boxes[:, 1] + boxes[:, 6] * regh,
                         boxes[:, 2] + boxes[:, 7] * regw, boxes[:, 3] + boxes[:, 8] * regh,
                         boxes[:, 4]]).permute(1, 0)
    boxes = rerec(boxes)

    if len(boxes) > 0:
        data, boxes, image_inds = _stage_input(img, integral, boxes, image_inds, 24)
    if len(boxes) > 0:  # R-Net refines the candidates
        out = fixed_batch_process(data, model.rnet)
        score = out[1][:, 1]
        ipass = score > threshold[1]
        boxes = torch.cat((boxes[ipass, :4], score[ipass].unsqueeze(1)), dim=1)
        image_inds, moves = image_inds[ipass], out[0][ipass]
        pick = batched_nms(boxes[:, :4], boxes[:, 4], image_inds, 0.7)
        boxes = rerec(bbreg(boxes[pick], moves[pick]))
        image_inds = image_inds[pick]

    points = torch.zeros(0, 5, 2)
    if len(boxes) > 0:
        data, boxes, image_inds = _stage_input(img, integral, boxes, image_inds, 48)
    if len(boxes) > 0:  # O-Net scores, places and marks them
        out = fixed_batch_process(data, model.onet)
        score = out[2][:, 1]
        ipass = score > threshold[2]
        marks = out[1][ipass].permute(1, 0)
        boxes = torch.cat((boxes[ipass, :4], score[ipass].unsqueeze(1)), dim=1)
        image_inds, moves = image_inds[ipass], out[0][ipass]
        w_i, h_i = boxes[:, 2] - boxes[:, 0] + 1, boxes[:, 3] - boxes[:, 1] + 1
        points_x = w_i.repeat(5, 1) * marks[:5, :] + boxes[:, 0].repeat(5, 1) - 1
        points_y = h_i.repeat(5, 1) * marks[5:10, :] + boxes[:, 1].repeat(5, 1) - 1
        points = torch.stack((points_x, points_y)).permute(2, 1, 0)
        boxes = bbreg(boxes, moves)
        pick = batched_nms_numpy(boxes[:, :4], boxes[:, 4], image_inds, 0.7, "Min")
        boxes, points = boxes[pick], points[pick]

    boxes, points = boxes.numpy(), points.numpy()
    order = np.argsort((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]))[::-1]  # MTCNN.detect's order
    boxes, points = boxes[order], points[order]
    return boxes[:, :4], boxes[:, 4], points
