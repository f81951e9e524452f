"""The patch (im2col) matrix U(x): the convolution as a function of its weight.

A convolution is linear in its input and in its weight, so it can be written
two ways::

    y = C(w) x = U(x) vec(w)

C is the matrix of :func:`~transpose_matrix.matrices.conv_matrix`; U(x)
holds, in row ``(o, *j)``, the input values that output ``(o, *j)``
multiplies by each weight. Its transpose gives the weight gradient,
``∂L/∂w = U(x)ᵀ ∂L/∂y``, which
:func:`~transpose_matrix.narrative.gradient_derivation` derives.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.sparse
import sympy

from ..errors import ConvSpecError, ConvSpecTypeError
from ..geometry.shapes import strict_sympify
from ..geometry.spec import ConvSpec, as_spec
from ..memory import check_entries, check_index_range, check_memory
from .conv import conv_matrix_nnz
from .symbolic import symbolic_input, weight_pattern

__all__ = ["patch_matrix"]


def _guard_patch(spec: ConvSpec) -> None:
    """Refuse U(x) before building its pattern: indexable and within the memory limit."""
    shape = (spec.matrix_shape[0], math.prod(spec.weight_shape))
    what = f"U(x) (patch_matrix) of shape {shape}"
    check_index_range(shape, what=what)
    nnz = conv_matrix_nnz(spec)
    # The label pattern of C (CSR, int64), its COO copy and U's COO and CSR.
    check_memory(nnz * 16 + shape[0] * 8, what=what, peak=nnz * 88 + shape[0] * 24)


def _input_shape(spec: ConvSpec) -> tuple[int, ...]:
    return (spec.in_channels, *spec.input_shape)


def _symbolic_values(spec: ConvSpec, x: Any) -> list[Any]:
    """The input entries in C order, as sympy objects, from None, a Matrix or an object array."""
    size = spec.in_channels * math.prod(spec.input_shape)
    if x is None:
        return list(symbolic_input(spec))
    if isinstance(x, sympy.MatrixBase):
        if len(x) != size:
            raise ConvSpecError(
                f"symbolic x has {len(x)} entries; it must have in_channels*prod(input_shape)"
                f" = {size}"
            )
        return list(x)
    if x.shape != _input_shape(spec):
        raise ConvSpecError(
            f"x shape {x.shape} must be (in_channels, *input_shape) = {_input_shape(spec)}"
        )
    return [strict_sympify(value, f"x entry {value!r}") for value in x.reshape(-1)]


def _numeric_input(spec: ConvSpec, x: np.ndarray) -> np.ndarray:
    if x.dtype.kind == "b":
        raise ConvSpecTypeError("x must be numeric, not bool")
    if x.dtype.kind in "iu" or (x.dtype.kind == "f" and x.dtype.itemsize < 4):
        x = x.astype(np.float64)
    elif x.dtype.kind not in "fc":
        raise ConvSpecTypeError(f"x dtype {x.dtype} must be a real or complex number type")
    if x.shape != _input_shape(spec):
        raise ConvSpecError(
            f"x shape {x.shape} must be (in_channels, *input_shape) = {_input_shape(spec)}"
        )
    if not np.isfinite(x).all():
        raise ConvSpecError("x contains NaN or infinite entries; all must be finite")
    return x


def patch_matrix(spec: ConvSpec, x: Any = None) -> Any:
    """The patch (im2col) matrix U(x) with ``U(x) @ weight.reshape(-1) == C(weight) @ x``.

    Entry ``U[(o, *j), (o, c, *t)] = x[g*Cg + c, *(j*stride - padding_before +
    t*dilation)]`` where the input position lies inside the input, ``g`` is
    the group of output channel ``o`` and ``Cg = in_channels // groups``;
    every other entry, in particular every column of another output
    channel, is zero.

    Parameters
    ----------
    spec : ConvSpec
    x : array_like, sympy.Matrix or None
        A numeric array of shape ``(in_channels, *input_shape)`` gives a
        ``scipy.sparse.csr_array``. ``None`` (the symbols ``x_{…}``), a sympy
        Matrix with ``in_channels * prod(input_shape)`` entries, or an object
        array of that shape holding sympy expressions gives a
        ``sympy.ImmutableSparseMatrix``.

    Returns
    -------
    scipy.sparse.csr_array or sympy.ImmutableSparseMatrix
        Shape ``(out_channels * prod(output_shape), prod(weight_shape))``.

    Raises
    ------
    ConvSpecTypeError
        ``spec`` is not a ConvSpec or ``x`` has a non-numeric dtype.
    ConvSpecError
        ``x`` has the wrong shape or a NaN/infinite entry.

    Notes
    -----
    The weight gradient is ``∂L/∂w = U(x)ᵀ ∂L/∂y``. U is read off the same
    sparsity pattern as C: where C stores weight ``l`` at ``(r, c)``, U
    stores ``x[c]`` at ``(r, l)``, which is ``y = C(w) x = U(x) w`` entry by
    entry.

    Examples
    --------
    >>> spec = ConvSpec((4,), 2)
    >>> patch_matrix(spec, np.array([[1.0, 2.0, 3.0, 4.0]])).toarray()
    array([[1., 2.],
           [2., 3.],
           [3., 4.]])
    >>> patch_matrix(spec)
    Matrix([
    [x_{0}, x_{1}],
    [x_{1}, x_{2}],
    [x_{2}, x_{3}]])
    """
    spec = as_spec(spec)
    _guard_patch(spec)
    rows, cols, which = weight_pattern(spec)
    shape = (spec.matrix_shape[0], math.prod(spec.weight_shape))
    array = None
    if x is not None and not isinstance(x, sympy.MatrixBase):
        try:
            array = np.asarray(x)
        except (TypeError, ValueError) as error:
            raise ConvSpecTypeError(f"x could not be read as an array: {error}") from None
    if array is None or array.dtype == object:
        check_entries(len(rows), what="symbolic U(x) (patch_matrix)")
        values = _symbolic_values(spec, x if array is None else array)
        entries = {
            (int(r), int(w)): values[int(c)] for r, c, w in zip(rows, cols, which)
        }
        return sympy.ImmutableSparseMatrix(*shape, entries)
    flat = _numeric_input(spec, array).reshape(-1)
    matrix = scipy.sparse.coo_array((flat[cols], (rows, which)), shape=shape)
    return matrix.tocsr()


# --------------------------------------------------------------------------- derivation



