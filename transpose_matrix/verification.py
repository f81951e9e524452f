"""Check C and Cᵀ against PyTorch (or, without it, the loop reference).

:func:`verify` answers, with numbers, the project's central claim: C applies
``convNd``, Cᵀ applies ``conv_transposeNd`` of the layer that
:meth:`ConvSpec.from_transposed` describes, Cᵀ applied to an output gradient
is autograd's input gradient, and ⟨Cx, y⟩ = ⟨x, Cᵀy⟩.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .matrix import check_weight, conv_matrix
from .spec import ConvSpec

__all__ = ["VerifyReport", "verify", "random_weight"]


def random_weight(spec: ConvSpec, seed: int = 0) -> np.ndarray:
    """Standard normal float64 weight of ``spec.weight_shape`` from a fixed seed."""
    return np.random.default_rng(seed).standard_normal(spec.weight_shape)


@dataclass(frozen=True)
class VerifyReport:
    """Largest absolute errors found by :func:`verify`, by check name.

    ``referee`` is ``"torch <version>"`` or ``"reference loop builder"``.
    ``ok`` is true when every error is within ``tolerance`` (relative to the
    size of the values compared).
    """

    spec: ConvSpec
    referee: str
    errors: dict[str, float] = field(default_factory=dict)
    tolerance: float = 1e-10

    @property
    def ok(self) -> bool:
        return all(error <= self.tolerance for error in self.errors.values())

    def lines(self) -> list[str]:
        """The report as text lines."""
        out = [f"referee: {self.referee}"]
        width = max(len(name) for name in self.errors)
        for name, error in self.errors.items():
            verdict = "ok" if error <= self.tolerance else "FAIL"
            out.append(f"  {name:<{width}}  max error {error:.3e}  {verdict}")
        out.append("all checks passed" if self.ok else "SOME CHECKS FAILED")
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())

    # Notebook displays, made by the presentation layer.
    def _repr_html_(self) -> str:
        from .render.notebook import verify_html

        return verify_html(self)

    def _repr_latex_(self) -> str:
        from .render.notebook import verify_latex

        return f"$\\displaystyle {verify_latex(self)}$"


def _relative(a: np.ndarray, b: np.ndarray) -> float:
    scale = max(1.0, float(np.abs(b).max(initial=0.0)))
    return float(np.abs(np.asarray(a) - np.asarray(b)).max(initial=0.0)) / scale


def _torch_errors(spec: ConvSpec, weight: np.ndarray, C, x, y, g) -> dict[str, float]:
    import torch
    import torch.nn.functional as F

    conv = (F.conv1d, F.conv2d, F.conv3d)[spec.ndim - 1]
    conv_t = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[spec.ndim - 1]
    w = torch.tensor(weight, dtype=torch.float64)
    # torch pads symmetrically; F.pad also takes (before, after) pairs and
    # crops for negative amounts, which covers every spec.
    pad = [amount for pair in reversed(spec.padding) for amount in pair]
    xt = torch.tensor(x.reshape(spec.in_channels, *spec.input_shape))[None]
    xt.requires_grad_(True)
    out = conv(
        F.pad(xt, pad), w, stride=spec.stride, dilation=spec.dilation, groups=spec.groups
    )
    errors = {"C @ x vs conv": _relative(C @ x, out.detach().numpy().reshape(-1))}
    gt = torch.tensor(g.reshape(spec.out_channels, *spec.output_shape))[None]
    out.backward(gt)
    errors["C.T @ g vs autograd input gradient"] = _relative(
        C.T @ g, xt.grad.numpy().reshape(-1)
    )
    layer = spec.transposed_arguments()
    if layer is not None:
        yt = torch.tensor(y.reshape(spec.out_channels, *spec.output_shape))[None]
        out_t = conv_t(
            yt,
            w,
            stride=layer["stride"],
            padding=layer["padding"],
            output_padding=layer["output_padding"],
            groups=layer["groups"],
            dilation=layer["dilation"],
        )
        errors["C.T @ y vs conv_transpose"] = _relative(
            C.T @ y, out_t.numpy().reshape(-1)
        )
    return errors


def verify(
    spec: ConvSpec,
    weight: Any = None,
    *,
    seed: int = 0,
    use_torch: bool | None = None,
) -> VerifyReport:
    """Measure how exactly C and Cᵀ reproduce the convolution and its transpose.

    Parameters
    ----------
    spec : ConvSpec
    weight : array_like, optional
        Real weight of ``spec.weight_shape``; standard normal from ``seed``
        if omitted.
    seed : int
        Seed of the random weight, input and output vectors.
    use_torch : bool, optional
        Force (``True``) or forbid (``False``) PyTorch; by default it is used
        when installed. Without it, C is compared with the loop reference
        builder, and the report says so.

    Returns
    -------
    VerifyReport
        Errors relative to the largest compared value: ``C @ x`` vs
        ``convNd``; ``C.T @ y`` vs ``conv_transposeNd`` (when the spec is a
        transposed layer's, see :meth:`ConvSpec.transposed_arguments`);
        ``C.T @ g`` vs autograd's input gradient; and the dot test.
    """
    if weight is None:
        weight = random_weight(spec, seed)
    weight = check_weight(spec, weight)
    if weight.dtype.kind == "c":
        raise TypeError("verify takes real weights; torch's convolutions are real here")
    weight = weight.astype(np.float64)
    # Built first, so the memory guard speaks before any vector is allocated.
    C = conv_matrix(spec, weight)
    rng = np.random.default_rng(seed + 1)
    rows, cols = spec.matrix_shape
    x, y, g = rng.standard_normal(cols), rng.standard_normal(rows), rng.standard_normal(rows)
    if use_torch is None:
        use_torch = importlib.util.find_spec("torch") is not None
    if use_torch:
        import torch

        referee = f"torch {torch.__version__}"
        errors = _torch_errors(spec, weight, C, x, y, g)
    else:
        from .reference import reference_conv_matrix

        referee = "reference loop builder (torch is not installed)"
        R = reference_conv_matrix(spec, weight)
        errors = {
            "C vs reference C": _relative(C.toarray(), R.toarray()),
            "C.T @ y vs reference C.T @ y": _relative(C.T @ y, R.T @ y),
        }
    left, right = float(np.dot(C @ x, y)), float(np.dot(x, C.T @ y))
    errors["dot test <Cx,y> vs <x,C.T y>"] = abs(left - right) / max(
        1.0, abs(left), abs(right)
    )
    return VerifyReport(spec=spec, referee=referee, errors=errors)
