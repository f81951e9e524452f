"""PyTorch as the outside referee, written here independently of the package.

Helpers that run torch's own convolution functions on one sample; the tests
compare the package's matrices against them.
"""

from __future__ import annotations

import numpy as np

__all__ = ["torch_conv", "torch_conv_transpose", "torch_input_grad", "torch_weight_grad"]


def _functional(torch, ndim: int, transposed: bool):
    F = torch.nn.functional
    if transposed:
        return (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[ndim - 1]
    return (F.conv1d, F.conv2d, F.conv3d)[ndim - 1]


def _pad(torch, x, padding):
    # F.pad takes (before, after) pairs from the last dim backwards; a
    # negative amount crops.
    amounts = [amount for pair in reversed(padding) for amount in pair]
    return torch.nn.functional.pad(x, amounts)


def torch_conv(torch, spec, weight: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``convNd`` of one sample ``x`` of shape ``(in_channels, *input_shape)``."""
    conv = _functional(torch, spec.ndim, transposed=False)
    xt = _pad(torch, torch.from_numpy(np.ascontiguousarray(x))[None], spec.padding)
    out = conv(
        xt,
        torch.from_numpy(np.ascontiguousarray(weight)),
        stride=spec.stride,
        dilation=spec.dilation,
        groups=spec.groups,
    )
    return out[0].numpy()


def torch_conv_transpose(torch, weight: np.ndarray, y: np.ndarray, **layer) -> np.ndarray:
    """``conv_transposeNd`` of one sample ``y`` with the layer's own arguments."""
    conv_t = _functional(torch, y.ndim - 1, transposed=True)
    out = conv_t(
        torch.from_numpy(np.ascontiguousarray(y))[None],
        torch.from_numpy(np.ascontiguousarray(weight)),
        **layer,
    )
    return out[0].numpy()


def torch_input_grad(torch, spec, weight: np.ndarray, x: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Autograd's gradient of ``<convNd(x), g>`` with respect to ``x``."""
    conv = _functional(torch, spec.ndim, transposed=False)
    xt = torch.from_numpy(np.ascontiguousarray(x))[None].requires_grad_(True)
    out = conv(
        _pad(torch, xt, spec.padding),
        torch.from_numpy(np.ascontiguousarray(weight)),
        stride=spec.stride,
        dilation=spec.dilation,
        groups=spec.groups,
    )
    out.backward(torch.from_numpy(np.ascontiguousarray(g))[None])
    return xt.grad[0].numpy()


def torch_weight_grad(torch, spec, weight: np.ndarray, x: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Autograd's gradient of ``<convNd(x), g>`` with respect to the weight."""
    conv = _functional(torch, spec.ndim, transposed=False)
    wt = torch.from_numpy(np.ascontiguousarray(weight)).requires_grad_(True)
    out = conv(
        _pad(torch, torch.from_numpy(np.ascontiguousarray(x))[None], spec.padding),
        wt,
        stride=spec.stride,
        dilation=spec.dilation,
        groups=spec.groups,
    )
    out.backward(torch.from_numpy(np.ascontiguousarray(g))[None])
    return wt.grad.numpy()
