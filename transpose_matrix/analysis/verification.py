"""Check C and Cᵀ against PyTorch (or, without it, the loop reference).

:func:`verify` answers, with numbers, the project's central claim: C applies
``convNd``, Cᵀ applies ``conv_transposeNd`` of the layer that
:meth:`ConvSpec.from_transposed` describes, Cᵀ applied to an output gradient
is autograd's input gradient, and ⟨Cx, y⟩ = ⟨x, Cᵀy⟩.

With a ``padding_mode`` other than ``'zeros'`` the convolution pads with
``F.pad(mode=...)`` (or torch's ``ConvNd(padding_mode=...)``), and Cᵀ is no
``ConvTransposeNd``: it is ``Pᵀ·Dᵀ``, which :class:`TransposeRecipe` writes
as torch code (a zero-padded ``conv_transposeNd`` onto the padded grid, then
the fold Pᵀ) and runs.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ConvSpecError, ConvSpecTypeError, optional_import
from ..geometry.padding import copies_input, fold_blocks, padding_mode, require_torch_mode
from ..geometry.shapes import as_int, describe, transposed_conv_output_size
from ..geometry.spec import ConvSpec, as_spec
from ..matrices.conv import check_weight, conv_matrix
from ..memory import check_memory

__all__ = [
    "FoldStep",
    "TransposeRecipe",
    "VerifyReport",
    "random_weight",
    "transpose_recipe",
    "verify",
]


#: Largest seed of :func:`random_weight`: numpy's ``default_rng`` takes any
#: non-negative integer; 128 bits is the entropy its SeedSequence keeps.
MAX_SEED = 2**128 - 1


def random_weight(spec: ConvSpec, seed: int = 0) -> np.ndarray:
    """Standard normal float64 weight of ``spec.weight_shape`` from a fixed seed.

    Raises
    ------
    ConvSpecTypeError, ConvSpecError
        ``spec`` is not a :class:`ConvSpec`, or ``seed`` is not an integer in
        ``[0, MAX_SEED]`` (``2**128 - 1``; ``error.field == "seed"``).
    MemoryGuardError
        The weight would not fit in the memory limit.
    """
    spec = as_spec(spec)
    seed = as_int("seed", seed, 0, MAX_SEED)
    size = math.prod(spec.weight_shape)
    check_memory(size * 8, what=f"a random weight of shape {spec.weight_shape}")
    return np.random.default_rng(seed).standard_normal(spec.weight_shape)


@dataclass(frozen=True)
class VerifyReport:
    """Largest absolute errors found by :func:`verify`, by check name.

    ``referee`` is ``"torch <version>"`` or ``"reference loop builder"``.
    ``ok`` is true when every error is within ``tolerance`` (relative to the
    size of the values compared).

    Parameters
    ----------
    spec : ConvSpec
        The layer verified.
    referee : str
        What C was compared with.
    errors : dict of str to float, optional
        Largest relative error per check, by the check's name.
    tolerance : float, default 1e-10
        The largest error a check may have and pass.

    Examples
    --------
    >>> report = VerifyReport(ConvSpec((4,), 2), "by hand", {"dot test": 1e-3})
    >>> report.ok
    False
    >>> print(report)
    referee: by hand
      dot test  max error 1.000e-03  FAIL
    SOME CHECKS FAILED
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
        from ..render.notebook import verify_html

        return verify_html(self)

    def _repr_latex_(self) -> str:
        from ..render.notebook import verify_latex

        return f"$\\displaystyle {verify_latex(self)}$"


@dataclass(frozen=True)
class FoldStep:
    """One addition of the fold Pᵀ along one dim: ``x[target] += op(z[source])``.

    ``op`` is ``'flip'`` (reflect: the border is the input mirrored),
    ``'sum'`` (replicate: every border entry copied the edge entry) or
    ``'copy'`` (circular: the border is the other end of the input).
    ``target`` and ``source`` are ``(start, stop)`` along ``axis`` (a spatial
    dim, 0-based), ``source`` counted on the padded grid.
    """

    axis: int
    target: tuple[int, int]
    source: tuple[int, int]
    op: str


@dataclass(frozen=True)
class TransposeRecipe:
    """Cᵀ of a spec with a non-zero ``padding_mode`` as torch calls: ``Cᵀ = Pᵀ·Dᵀ``.

    ``C = D·P``: ``P`` pads the input by the mode, ``D`` convolves the padded
    grid without padding. So ``Cᵀy = Pᵀ(Dᵀy)``: ``Dᵀy`` is
    ``conv_transposeNd(y, w, stride, padding=0, output_padding=o, dilation,
    groups)`` with ``o = padded - ((out - 1)·s + d(k - 1) + 1)`` per dim
    (``0 <= o < s``), which lands on the padded grid; ``Pᵀ`` keeps the
    input's part of that grid and adds every border entry onto the input
    entry it copied (:class:`FoldStep`), one dim after the other (``P`` is a
    Kronecker product of per-dim paddings).

    Attributes
    ----------
    spec : ConvSpec
    padded_shape : tuple of int
        ``n + before + after`` per dim: where ``Dᵀy`` lands.
    output_padding : tuple of int
        The ``o`` above.
    keep : tuple of (int, int)
        Per dim, the input's part ``(before, before + n)`` of the padded grid.
    steps : tuple of FoldStep
        The border additions, dim by dim.
    """

    spec: ConvSpec
    padded_shape: tuple[int, ...]
    output_padding: tuple[int, ...]
    keep: tuple[tuple[int, int], ...]
    steps: tuple[FoldStep, ...]

    def conv_transpose_call(self) -> str:
        """``torch.nn.functional.conv_transposeNd(y, w, ...)``: the Dᵀ step."""
        spec = self.spec
        groups = f", groups={spec.groups}" if spec.groups != 1 else ""
        return (
            f"torch.nn.functional.conv_transpose{spec.ndim}d(y, w, stride={_tuple(spec.stride)}, "
            f"padding=0, output_padding={_tuple(self.output_padding)}, "
            f"dilation={_tuple(spec.dilation)}{groups})"
        )

    def code(self) -> str:
        """Python lines computing ``x = Cᵀy`` from tensors ``y`` and ``w``.

        ``y`` has shape ``(1, out_channels, *output_shape)`` and ``w`` is the
        convolution's weight ``(out_channels, in_channels // groups,
        *kernel_size)``; ``torch`` must be imported.
        """
        ndim = self.spec.ndim

        def index(axis: int, span: tuple[int, int]) -> str:
            parts = ["..."] + [":"] * ndim
            parts[1 + axis] = f"{span[0]}:{span[1]}"
            return "[" + ", ".join(parts) + "]"

        padded = " × ".join(str(n) for n in self.padded_shape)
        lines = [f"z = {self.conv_transpose_call()}  # Dᵀy on the padded grid ({padded})"]
        for axis in range(ndim):
            dim = axis - ndim
            lines.append(f"x = z{index(axis, self.keep[axis])}.clone()  # Pᵀ along dim {axis}")
            for step in (s for s in self.steps if s.axis == axis):
                source = f"z{index(axis, step.source)}"
                if step.op == "flip":
                    source += f".flip({dim})"
                elif step.op == "sum":
                    source += f".sum({dim}, keepdim=True)"
                lines.append(f"x{index(axis, step.target)} += {source}")
            if axis < ndim - 1:
                lines.append("z = x")
        return "\n".join(lines)

    def apply(self, y: Any, w: Any) -> Any:
        """Run the recipe with torch on tensors ``y`` and ``w``, as :meth:`code` writes it."""
        import torch.nn.functional as F

        spec = self.spec
        conv_t = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[spec.ndim - 1]
        z = conv_t(
            y,
            w,
            stride=spec.stride,
            padding=0,
            output_padding=self.output_padding,
            dilation=spec.dilation,
            groups=spec.groups,
        )
        for axis in range(spec.ndim):
            dim = 2 + axis
            start, stop = self.keep[axis]
            x = z.narrow(dim, start, stop - start).clone()
            for step in (s for s in self.steps if s.axis == axis):
                part = z.narrow(dim, step.source[0], step.source[1] - step.source[0])
                if step.op == "flip":
                    part = part.flip(dim)
                elif step.op == "sum":
                    part = part.sum(dim, keepdim=True)
                x.narrow(dim, step.target[0], step.target[1] - step.target[0]).add_(part)
            z = x
        return z


def _tuple(values: Sequence[Any]) -> str:
    values = tuple(values)
    return f"({values[0]},)" if len(values) == 1 else str(values)


def transpose_recipe(spec: ConvSpec) -> TransposeRecipe:
    """The torch recipe ``Cᵀ = Pᵀ·Dᵀ`` of a spec with a non-zero ``padding_mode``.

    Per dim with input size ``n`` and padding ``(b, a)``, the fold adds the
    padded grid's border back onto the entries it copied
    (:func:`~transpose_matrix.geometry.padding.fold_blocks`): e.g. ``reflect``
    adds the ``b`` entries before, flipped, onto ``x[1 : b + 1]`` and the
    ``a`` after, flipped, onto ``x[n - 1 - a : n - 1]`` (the mirror skips the
    edge entry); ``replicate`` adds their sums onto ``x[0]`` and
    ``x[n - 1]``; ``circular`` adds them as they are onto ``x[n - b : n]``
    and ``x[0 : a]`` (the other end).

    Parameters
    ----------
    spec : ConvSpec
        A convolution whose ``padding_mode`` is not ``'zeros'``.

    Returns
    -------
    TransposeRecipe
        The ``conv_transposeNd`` arguments of ``Dᵀ`` and the fold ``Pᵀ``.

    Raises
    ------
    ConvSpecTypeError
        ``spec`` is not a :class:`ConvSpec`.
    ConvSpecError
        ``padding_mode='zeros'``: there :meth:`ConvSpec.transposed_arguments`
        gives the ``ConvTransposeNd`` layer itself.

    Examples
    --------
    >>> recipe = transpose_recipe(ConvSpec((5,), 3, padding=1, padding_mode="reflect"))
    >>> recipe.output_padding, recipe.keep
    ((0,), ((1, 6),))
    >>> for line in recipe.code().splitlines()[1:]:
    ...     print(line)
    x = z[..., 1:6].clone()  # Pᵀ along dim 0
    x[..., 1:2] += z[..., 0:1].flip(-1)
    x[..., 3:4] += z[..., 6:7].flip(-1)
    """
    spec = as_spec(spec)
    mode = spec.padding_mode
    if not copies_input(mode):
        raise ConvSpecError(
            "padding_mode='zeros': Cᵀ is a ConvTransposeNd layer (see "
            "ConvSpec.transposed_arguments), not a fold",
            field="padding_mode",
        )
    padded, extras, keep, steps = [], [], [], []
    for axis, (n, (before, after)) in enumerate(zip(spec.input_shape, spec.padding)):
        size = n + before + after
        padded.append(size)
        # Dᵀ without padding nor output_padding reaches this far; the rest is o.
        reach = transposed_conv_output_size(
            spec.output_shape[axis], spec.kernel_size[axis], spec.stride[axis],
            dilation=spec.dilation[axis],
        )
        extras.append(size - reach)
        keep.append((before, before + n))
        steps += [
            FoldStep(axis, target, source, op)
            for target, source, op in fold_blocks(n, (before, after), mode)
        ]
    return TransposeRecipe(spec, tuple(padded), tuple(extras), tuple(keep), tuple(steps))


def _relative(a: np.ndarray, b: np.ndarray) -> float:
    scale = max(1.0, float(np.abs(b).max(initial=0.0)))
    return float(np.abs(np.asarray(a) - np.asarray(b)).max(initial=0.0)) / scale


def _sparse_relative(a: Any, b: Any) -> float:
    """:func:`_relative` of two sparse matrices, without making them dense."""
    scale = max(1.0, float(np.abs(b.data).max(initial=0.0)))
    difference = (a - b).tocsr()
    return float(np.abs(difference.data).max(initial=0.0)) / scale


def _torch_pad(F: Any, x: Any, padding: tuple[tuple[int, int], ...]) -> Any:
    """``x`` padded by ``(before, after)`` per spatial dim; a negative ``after`` crops.

    torch pads symmetrically; ``F.pad`` takes per-side amounts but refuses to
    pad and crop one dim when the crop exceeds the input (it crops first), so
    the zeros go on first and the crop is a slice.
    """
    grow = [max(amount, 0) for pair in reversed(padding) for amount in pair]
    padded = F.pad(x, grow)
    crop = [slice(None), slice(None)]
    crop += [slice(0, size + after) if after < 0 else slice(None)
             for size, (_, after) in zip(padded.shape[2:], padding)]
    return padded[tuple(crop)]


def _torch_forward(spec: ConvSpec, w: Any, xt: Any) -> tuple[Any, str]:
    """torch's convolution of ``xt`` and what it is called in the report."""
    import torch
    import torch.nn.functional as F

    conv = (F.conv1d, F.conv2d, F.conv3d)[spec.ndim - 1]
    arguments: dict[str, Any] = {
        "stride": spec.stride, "dilation": spec.dilation, "groups": spec.groups
    }
    if not copies_input(spec.padding_mode):
        return conv(_torch_pad(F, xt, spec.padding), w, **arguments), "conv"
    mode = require_torch_mode(spec.padding_mode, "verify against torch")
    if spec.padding_string is not None or spec.is_symmetric_padding:
        # torch's own layer, which pads by its padding_mode itself.
        padding = spec.padding_string or tuple(before for before, _ in spec.padding)
        layer = getattr(torch.nn, f"Conv{spec.ndim}d")(
            spec.in_channels,
            spec.out_channels,
            spec.kernel_size,
            padding=padding,
            padding_mode=mode,
            bias=False,
            **arguments,
        ).double()
        with torch.no_grad():
            layer.weight.copy_(w)
        return layer(xt), f"Conv{spec.ndim}d(padding_mode={mode!r})"
    amounts = [amount for pair in reversed(spec.padding) for amount in pair]
    padded = F.pad(xt, amounts, mode=mode)
    return conv(padded, w, **arguments), f"F.pad(mode={mode!r}) + conv{spec.ndim}d"


def _torch_errors(
    spec: ConvSpec, weight: np.ndarray, C, x, y, g, h: np.ndarray | None = None
) -> dict[str, float]:
    """torch's errors; ``h`` (input-shaped) also checks the transposed layer's input gradient."""
    import torch
    import torch.nn.functional as F

    conv_t = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[spec.ndim - 1]
    w = torch.tensor(weight, dtype=torch.float64)
    xt = torch.tensor(x.reshape(spec.in_channels, *spec.input_shape))[None]
    xt.requires_grad_(True)
    out, name = _torch_forward(spec, w, xt)
    errors = {f"C @ x vs {name}": _relative(C @ x, out.detach().numpy().reshape(-1))}
    gt = torch.tensor(g.reshape(spec.out_channels, *spec.output_shape))[None]
    out.backward(gt)
    assert xt.grad is not None  # backward just filled it
    errors["C.T @ g vs autograd input gradient"] = _relative(
        C.T @ g, xt.grad.numpy().reshape(-1)
    )
    yt = torch.tensor(y.reshape(spec.out_channels, *spec.output_shape))[None]
    if copies_input(spec.padding_mode):
        # No ConvTransposeNd has this Cᵀ: run the printed recipe instead.
        recipe = transpose_recipe(spec)
        with torch.no_grad():
            folded = recipe.apply(yt, w)
        errors[f"C.T @ y vs conv_transpose{spec.ndim}d + fold (Pᵀ·Dᵀ)"] = _relative(
            C.T @ y, folded.numpy().reshape(-1)
        )
        return errors
    layer = spec.transposed_arguments()
    if layer is not None:
        yt.requires_grad_(h is not None)
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
            C.T @ y, out_t.detach().numpy().reshape(-1)
        )
        if h is not None:
            # The transposed layer's own input gradient is C: backpropagate x-shaped h.
            out_t.backward(torch.tensor(h.reshape(1, spec.in_channels, *spec.input_shape)))
            assert yt.grad is not None  # backward just filled it
            errors["C @ h vs conv_transpose's autograd input gradient"] = _relative(
                C @ h, yt.grad.numpy().reshape(-1)
            )
    return errors


def verify(
    spec: ConvSpec,
    weight: Any = None,
    *,
    seed: int = 0,
    use_torch: bool | None = None,
    transposed: bool = False,
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
        builder, and the report says why (by request, or torch missing).
    transposed : bool
        Check the transposed layer too: with torch, and when
        :meth:`ConvSpec.transposed_arguments` names one, its own input
        gradient (autograd through ``conv_transposeNd``) is compared with
        ``C @ h``.

    Returns
    -------
    VerifyReport
        Errors relative to the largest compared value: ``C @ x`` vs
        ``convNd``; ``C.T @ y`` vs ``conv_transposeNd`` (when the spec is a
        transposed layer's, see :meth:`ConvSpec.transposed_arguments`);
        ``C.T @ g`` vs autograd's input gradient; and the dot test. With a
        ``padding_mode`` other than ``'zeros'``, ``C @ x`` is compared with
        torch's ``ConvNd(padding_mode=...)`` (or ``F.pad(mode=...)`` then
        ``convNd`` for uneven padding), the gradient is taken through it, and
        ``C.T @ y`` with the recipe ``Pᵀ·Dᵀ`` of :func:`transpose_recipe`;
        each check's name says which.

    Raises
    ------
    ConvSpecTypeError
        ``spec`` is not a :class:`ConvSpec`, ``seed`` is not an integer,
        ``use_torch`` is not a bool or ``None``, or the weight is complex.
    ConvSpecError
        ``seed`` is negative or above ``2**60``, the weight is wrong, or
        ``use_torch=True`` with a ``padding_mode`` torch does not have (by
        default such a spec is checked against the loop reference).
    MemoryGuardError
        C (or the loop reference) would not fit.
    MissingDependencyError
        ``use_torch=True`` and torch is not installed (an ``ImportError``
        whose message says how to install it).

    Examples
    --------
    >>> report = verify(ConvSpec((5,), 3, stride=2), use_torch=False)
    >>> report.ok, report.referee
    (True, 'reference loop builder (by request, instead of torch)')
    >>> list(report.errors)
    ['C vs reference C', 'C.T @ y vs reference C.T @ y', 'dot test <Cx,y> vs <x,C.T y>']
    """
    spec = as_spec(spec)
    seed = as_int("seed", seed, 0, MAX_SEED)
    if use_torch is not None and not isinstance(use_torch, bool):
        raise ConvSpecTypeError(
            f"use_torch={describe(use_torch)} must be True, False or None", field="use_torch"
        )
    if weight is None:
        weight = random_weight(spec, seed)
    weight = check_weight(spec, weight)
    if weight.dtype.kind == "c":
        raise ConvSpecTypeError(
            "verify takes real weights; torch's convolutions are real here", field="weight"
        )
    weight = weight.astype(np.float64)
    # Built first, so the memory guard speaks before any vector is allocated.
    C = conv_matrix(spec, weight)
    rows, cols = spec.matrix_shape
    # The vectors, their torch copies and autograd's gradient: a stride as
    # large as the input leaves C tiny but x as long as the input.
    check_memory(
        (rows + cols) * 8 * 4,
        what=f"verify's test vectors ({cols} inputs, {rows} outputs)",
        hint="verify a smaller geometry",
    )
    rng = np.random.default_rng(seed + 1)
    x, y, g = rng.standard_normal(cols), rng.standard_normal(rows), rng.standard_normal(rows)
    h = rng.standard_normal(cols) if transposed else None
    reason = "by request, instead of torch"
    if use_torch is None:
        use_torch = importlib.util.find_spec("torch") is not None
        reason = "torch is not installed"
        if use_torch and padding_mode(spec.padding_mode).torch is None:
            use_torch, reason = False, f"torch has no padding_mode={spec.padding_mode!r}"
    if use_torch:
        require_torch_mode(spec.padding_mode, "verify(use_torch=True)")
        torch = optional_import("torch", "verify(use_torch=True)")

        referee = f"torch {torch.__version__}"
        errors = _torch_errors(spec, weight, C, x, y, g, h)
    else:
        from ..matrices.reference import reference_conv_matrix

        referee = f"reference loop builder ({reason})"
        R = reference_conv_matrix(spec, weight)
        errors = {
            "C vs reference C": _sparse_relative(C, R),
            "C.T @ y vs reference C.T @ y": _relative(C.T @ y, R.T @ y),
        }
    left, right = float(np.dot(C @ x, y)), float(np.dot(x, C.T @ y))
    errors["dot test <Cx,y> vs <x,C.T y>"] = abs(left - right) / max(
        1.0, abs(left), abs(right)
    )
    return VerifyReport(spec=spec, referee=referee, errors=errors)
