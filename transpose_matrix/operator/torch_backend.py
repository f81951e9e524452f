"""The torch backend of :func:`~transpose_matrix.conv_operator`: torch's own convolutions.

``matmat`` is ``convNd`` and ``rmatmat`` is ``conv_transposeNd`` with the
conjugated weight, on CPU or any device torch has, numpy arrays in and out.
torch is imported when a :class:`TorchKernel` is built, never before.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ConvSpecTypeError, optional_import
from ..geometry.spec import ConvSpec

__all__ = ["TorchKernel"]


class TorchKernel:
    """``matmat``/``rmatmat`` on ``(channels, *spatial, batch)`` numpy arrays, run by torch."""

    def __init__(self, spec: ConvSpec, weight: np.ndarray, device: Any) -> None:
        torch = optional_import("torch", "backend='torch'")
        if weight.dtype.kind not in "fc":
            raise ConvSpecTypeError(
                f"weight dtype {weight.dtype}: backend='torch' computes in float32, float64, "
                "complex64 or complex128"
            )
        self.torch, self.spec = torch, spec
        self.device = torch.device("cpu" if device is None else device)
        functional = torch.nn.functional
        self.conv = (functional.conv1d, functional.conv2d, functional.conv3d)[spec.ndim - 1]
        self.conv_t = (functional.conv_transpose1d, functional.conv_transpose2d,
                       functional.conv_transpose3d)[spec.ndim - 1]
        self.pad = functional.pad
        self.base = torch.from_numpy(np.array(weight)).to(self.device)
        self.weights: dict[tuple[Any, bool], Any] = {}
        self.layer = dict(stride=spec.stride, dilation=spec.dilation, groups=spec.groups)
        # Symmetric padding goes to torch's own argument; otherwise each dim
        # keeps inputs [0, kept) (a negative 'after' crops the rest), placed
        # at [first, first + kept) of its padded length. Crops are slices:
        # F.pad cannot crop more than its input holds.
        self.symmetric = spec.is_symmetric_padding
        lengths = [n + b + e for n, (b, e) in zip(spec.input_shape, spec.padding)]
        kept = [max(0, min(n, length - b)) for n, length, (b, _) in
                zip(spec.input_shape, lengths, spec.padding)]
        first = [min(b, length) for (b, _), length in zip(spec.padding, lengths)]
        self.kept = (Ellipsis, *(slice(0, k) for k in kept))
        self.placed = (Ellipsis, *(slice(f, f + k) for f, k in zip(first, kept)))
        # F.pad amounts, (before, after) from the last dim backwards.
        self.pad_in = [a for f, k, length in zip(first[::-1], kept[::-1], lengths[::-1])
                       for a in (f, length - f - k)]
        self.pad_out = [a for n, k in zip(spec.input_shape[::-1], kept[::-1]) for a in (0, n - k)]
        # conv_transpose's output_padding: the padded length beyond the last
        # position a tap reaches (less than the stride).
        self.extra = [
            length - ((o - 1) * s + d * (k - 1) + 1) for length, o, s, d, k in zip(
                lengths, spec.output_shape, spec.stride, spec.dilation, spec.kernel_size)
        ]

    def _weight(self, dtype: Any, adjoint: bool) -> Any:
        """The weight in ``dtype``, conjugated for the adjoint (cached)."""
        if (dtype, adjoint) not in self.weights:
            cast = self.base.to(dtype)
            self.weights[dtype, adjoint] = cast.conj().resolve_conj() if adjoint else cast
        return self.weights[dtype, adjoint]

    def _run(self, a: np.ndarray, adjoint: bool) -> np.ndarray:
        torch = self.torch
        # (C, *spatial, B) -> torch's (B, C, *spatial) and back.
        t = torch.from_numpy(np.ascontiguousarray(np.moveaxis(a, -1, 0))).to(self.device)
        weight = self._weight(t.dtype, adjoint)
        padding = [b for b, _ in self.spec.padding] if self.symmetric else 0
        with torch.no_grad():
            if adjoint:
                out = self.conv_t(t, weight, padding=padding, output_padding=self.extra,
                                  **self.layer)
                if not self.symmetric:
                    out = self.pad(out[self.placed], self.pad_out)
            elif self.symmetric:
                out = self.conv(t, weight, padding=padding, **self.layer)
            else:
                out = self.conv(self.pad(t[self.kept], self.pad_in), weight, **self.layer)
        return np.moveaxis(out.cpu().numpy(), 0, -1)

    def matmat(self, x: np.ndarray) -> np.ndarray:
        return self._run(x, adjoint=False)

    def rmatmat(self, y: np.ndarray) -> np.ndarray:
        return self._run(y, adjoint=True)
