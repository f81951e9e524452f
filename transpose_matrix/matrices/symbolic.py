"""C with kernel symbols as entries, for derivations and LaTeX.

The sparsity pattern comes from the numeric builder (each stored entry is
labelled with the flat index of its weight), so the symbolic and numeric
matrices cannot disagree on where the entries are; the tests compare both
with the loop reference.

A sympy entry costs hundreds of bytes and microseconds, so every builder here
counts its entries first (in closed form, before building anything) and
refuses more than ``max_entries`` (default
:data:`~transpose_matrix.memory.DEFAULT_MAX_ENTRIES`, 50,000) with a
:class:`~transpose_matrix.errors.MemoryGuardError`.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import sympy

from ..errors import ConvSpecTypeError
from ..geometry.padding import copies_input
from ..geometry.shapes import as_int, as_shape, describe
from ..geometry.spec import ConvSpec, as_spec
from ..memory import check_entries
from .conv import check_weight, conv_matrix_nnz, mode_contributions, weight_label_matrix
from .names import latex_name, weight_index

__all__ = [
    "weight_symbols",
    "symbolic_conv_matrix",
    "symbolic_vector",
    "symbolic_input",
    "symbolic_output",
    "symbolic_conv_equations",
    "weight_substitution",
    "weight_pattern",
]


def weight_symbols(spec: ConvSpec, *, max_entries: int | None = None) -> np.ndarray:
    """Array of ``spec.weight_shape`` holding the kernel symbols.

    With one input and one output channel the names carry the spatial index
    only (``w_{i,j}`` in 2-D); otherwise the full index ``w_{o,c,i,j}``
    (``c`` counts input channels within the group).

    Parameters
    ----------
    spec : ConvSpec
        The convolution's geometry.
    max_entries : int, optional
        Refuse more symbols than this; default
        :data:`transpose_matrix.memory.DEFAULT_MAX_ENTRIES` (50,000).

    Returns
    -------
    numpy.ndarray
        ``dtype=object``, shape ``spec.weight_shape``, of real
        ``sympy.Symbol``.

    Raises
    ------
    ConvSpecTypeError
        ``spec`` is not a :class:`ConvSpec`, or ``max_entries`` is not an
        integer.
    ConvSpecError
        ``max_entries`` is negative.
    MemoryGuardError
        The kernel has more than ``max_entries`` entries.

    Examples
    --------
    >>> weight_symbols(ConvSpec((3,), 2, in_channels=2))[0, 1]
    array([w_{0,1,0}, w_{0,1,1}], dtype=object)
    >>> weight_symbols(ConvSpec((4, 4), 2))[0, 0]
    array([[w_{0,0}, w_{0,1}],
           [w_{1,0}, w_{1,1}]], dtype=object)
    """
    spec = as_spec(spec)
    shape = spec.weight_shape
    check_entries(
        math.prod(shape), what="the kernel symbols (weight_symbols)", max_entries=max_entries
    )
    symbols = np.empty(shape, dtype=object)
    for flat, index in enumerate(itertools.product(*(range(n) for n in shape))):
        symbols[index] = sympy.Symbol(latex_name("w", weight_index(shape, flat)), real=True)
    return symbols


def symbolic_vector(
    letter: str, channels: int, shape: tuple[int, ...], *, max_entries: int | None = None
) -> sympy.Matrix:
    """Column vector of symbols ``letter_{c,i,j}`` (channel dropped when 1), C order.

    Parameters
    ----------
    letter : str
        The symbols' name, e.g. ``"x"``.
    channels : int
        Number of channels, >= 1.
    shape : int or sequence of int
        Spatial shape of one channel.
    max_entries : int, optional
        Refuse more symbols than this; default
        :data:`transpose_matrix.memory.DEFAULT_MAX_ENTRIES` (50,000).

    Returns
    -------
    sympy.Matrix
        ``channels * prod(shape)`` rows, one column, of real symbols.

    Raises
    ------
    ConvSpecTypeError, ConvSpecError
        ``letter`` is not a non-empty string, or ``channels``/``shape`` are not
        valid sizes.
    MemoryGuardError
        More than ``max_entries`` symbols (default 50,000).

    Examples
    --------
    >>> symbolic_vector("x", 2, (2,)).T
    Matrix([[x_{0,0}, x_{0,1}, x_{1,0}, x_{1,1}]])
    """
    if not isinstance(letter, str) or not letter:
        raise ConvSpecTypeError(
            f"letter={describe(letter)} must be a non-empty string", field="letter"
        )
    channels = as_int("channels", channels, 1)
    shape = as_shape("shape", shape)
    check_entries(
        channels * math.prod(shape), what=f"the vector {letter}", max_entries=max_entries
    )
    entries = []
    for index in itertools.product(range(channels), *(range(n) for n in shape)):
        label = index[1:] if channels == 1 else index
        entries.append(sympy.Symbol(latex_name(letter, label), real=True))
    return sympy.Matrix(entries)


def symbolic_input(
    spec: ConvSpec, letter: str = "x", *, max_entries: int | None = None
) -> sympy.Matrix:
    """Column vector ``x`` of the input symbols, ``(in_channels, *input_shape)`` flattened.

    Parameters
    ----------
    spec : ConvSpec
        The convolution's geometry.
    letter : str, default "x"
        The symbols' name.
    max_entries : int, optional
        Refuse more symbols than this; default
        :data:`transpose_matrix.memory.DEFAULT_MAX_ENTRIES` (50,000).

    Returns
    -------
    sympy.Matrix
        ``in_channels * prod(input_shape)`` rows, one column.

    Raises
    ------
    ConvSpecTypeError
        ``spec`` is not a :class:`ConvSpec`, or ``letter`` is not a
        non-empty string.
    MemoryGuardError
        More than ``max_entries`` symbols.

    Examples
    --------
    >>> symbolic_input(ConvSpec((3,), 2)).T
    Matrix([[x_{0}, x_{1}, x_{2}]])
    """
    spec = as_spec(spec)
    return symbolic_vector(letter, spec.in_channels, spec.input_shape, max_entries=max_entries)


def symbolic_output(
    spec: ConvSpec, letter: str = "y", *, max_entries: int | None = None
) -> sympy.Matrix:
    """Column vector of output symbols, ``(out_channels, *output_shape)`` flattened.

    With ``letter="g"`` these are the entries of the output gradient ∂L/∂y.

    Parameters
    ----------
    spec : ConvSpec
        The convolution's geometry.
    letter : str, default "y"
        The symbols' name.
    max_entries : int, optional
        Refuse more symbols than this; default
        :data:`transpose_matrix.memory.DEFAULT_MAX_ENTRIES` (50,000).

    Returns
    -------
    sympy.Matrix
        ``out_channels * prod(output_shape)`` rows, one column.

    Raises
    ------
    ConvSpecTypeError
        ``spec`` is not a :class:`ConvSpec`, or ``letter`` is not a
        non-empty string.
    MemoryGuardError
        More than ``max_entries`` symbols.

    Examples
    --------
    >>> symbolic_output(ConvSpec((3,), 2)).T
    Matrix([[y_{0}, y_{1}]])
    >>> symbolic_output(ConvSpec((3,), 2, out_channels=2), "g").T
    Matrix([[g_{0,0}, g_{0,1}, g_{1,0}, g_{1,1}]])
    """
    spec = as_spec(spec)
    return symbolic_vector(letter, spec.out_channels, spec.output_shape, max_entries=max_entries)


def weight_pattern(spec: ConvSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where C stores which weight: ``(rows, cols, flat_weight_index)`` of every entry.

    ``C[rows[e], cols[e]] = weight.reshape(-1)[flat_weight_index[e]]``. It is
    read off the numeric builder by building C from the labels ``1, 2, …``
    (a taps' label is never zero, so none is mistaken for an absent entry).

    For a ``padding_mode`` other than ``'zeros'`` a pair ``(row, col)`` can
    repeat: the entry is then the *sum* of the weights listed for it (taps
    that read the same input entry through the padding), and the triples are
    those of :func:`~transpose_matrix.matrices.conv.mode_contributions`, the ones
    the numeric builder sums.
    """
    spec = as_spec(spec)
    if copies_input(spec.padding_mode):
        return mode_contributions(spec)
    pattern = weight_label_matrix(spec).tocoo()
    return pattern.row, pattern.col, pattern.data - 1


def weight_substitution(
    spec: ConvSpec, weight: np.ndarray, *, max_entries: int | None = None
) -> dict[sympy.Symbol, Any]:
    """``{w_{…}: weight[…]}`` for ``Matrix.subs`` / ``xreplace``.

    Numbers are converted exactly: integers stay integers, floats become
    sympy Floats.

    Parameters
    ----------
    spec : ConvSpec
        The convolution's geometry.
    weight : array_like
        Shape ``spec.weight_shape``, as for :func:`transpose_matrix.conv_matrix`.
    max_entries : int, optional
        Refuse more symbols than this; default
        :data:`transpose_matrix.memory.DEFAULT_MAX_ENTRIES` (50,000).

    Returns
    -------
    dict
        One item per kernel symbol of :func:`weight_symbols`.

    Raises
    ------
    ConvSpecError, ConvSpecTypeError
        From :func:`~transpose_matrix.matrices.conv.check_weight` (shape,
        dtype, finiteness) or a bad ``max_entries``.
    MemoryGuardError
        The kernel has more than ``max_entries`` entries.

    Examples
    --------
    >>> spec = ConvSpec((3,), 2)
    >>> symbolic_conv_matrix(spec).xreplace(weight_substitution(spec, np.array([[[1, 2]]])))
    Matrix([
    [1, 2, 0],
    [0, 1, 2]])
    """
    weight = check_weight(spec, weight)
    symbols = weight_symbols(spec, max_entries=max_entries).reshape(-1)
    return {
        symbol: sympy.sympify(value.item(), strict=True)
        for symbol, value in zip(symbols, weight.reshape(-1))
    }


def symbolic_conv_matrix(
    spec: ConvSpec, *, max_entries: int | None = None
) -> sympy.ImmutableSparseMatrix:
    """C with entry ``w_{…}`` wherever ``conv_matrix(spec, weight)`` stores ``weight[…]``.

    Substituting the entries of a weight array for the symbols gives exactly
    ``conv_matrix(spec, weight)``. With a ``padding_mode`` other than
    ``'zeros'`` an entry is the sum of the weights whose taps read that input
    entry through the padding (``C = D·P``).

    Parameters
    ----------
    spec : ConvSpec
    max_entries : int, optional
        Refuse to build when C would store more entries (or the kernel have
        more symbols). Default
        :data:`transpose_matrix.memory.DEFAULT_MAX_ENTRIES` = 50,000, about
        ten seconds and 200 MB of sympy objects.

    Returns
    -------
    sympy.ImmutableSparseMatrix
        Shape ``spec.matrix_shape``; entries are kernel symbols or sums of them.

    Raises
    ------
    ConvSpecTypeError
        ``spec`` is not a :class:`ConvSpec`.
    MemoryGuardError
        Too many entries; counted in closed form before anything is built.
        :func:`transpose_matrix.conv_matrix` builds the numeric C.

    Notes
    -----
    The result is a plain ``sympy.ImmutableSparseMatrix``, so it hashes,
    compares and combines like any sympy matrix, and it prints as sympy
    prints matrices: ``print(C)`` (``str``) is sympy's one-line
    ``Matrix([[…], […]])``. For a readable grid use ``sympy.pprint(C)``
    (one row per line, columns aligned), ``repr(C)`` (what a prompt shows:
    one row per line), :func:`transpose_matrix.to_latex` (LaTeX), or
    ``python -m transpose_matrix show`` (the labelled text view of C).

    Examples
    --------
    >>> symbolic_conv_matrix(ConvSpec((3,), 2))
    Matrix([
    [w_{0}, w_{1},     0],
    [    0, w_{0}, w_{1}]])
    >>> symbolic_conv_matrix(ConvSpec((3,), 3, padding=1, padding_mode="reflect"))
    Matrix([
    [w_{1}, w_{0} + w_{2},     0],
    [w_{0},         w_{1}, w_{2}],
    [    0, w_{0} + w_{2}, w_{1}]])

    Printed, one line (sympy's ``str``) or a grid (sympy's ``pprint``):

    >>> C = symbolic_conv_matrix(ConvSpec((3,), 2))
    >>> print(C)
    Matrix([[w_{0}, w_{1}, 0], [0, w_{0}, w_{1}]])
    >>> sympy.pprint(C, use_unicode=False)
    [w_{0}  w_{1}    0  ]
    [                   ]
    [  0    w_{0}  w_{1}]
    """
    spec = as_spec(spec)
    check_entries(
        conv_matrix_nnz(spec),
        what=f"symbolic C (symbolic_conv_matrix) of shape {spec.matrix_shape}",
        max_entries=max_entries,
    )
    symbols = weight_symbols(spec, max_entries=max_entries).reshape(-1)
    rows, cols, which = weight_pattern(spec)
    entries: dict[tuple[int, int], Any] = {}
    for r, c, v in zip(rows.tolist(), cols.tolist(), which.tolist()):
        key = (r, c)
        entries[key] = entries[key] + symbols[v] if key in entries else symbols[v]
    return sympy.ImmutableSparseMatrix(*spec.matrix_shape, entries)


def symbolic_conv_equations(
    spec: ConvSpec, *, max_entries: int | None = None
) -> list[sympy.Eq]:
    """``y = Cx`` entry by entry: one ``Eq(y_{…}, Σ w_{…} x_{…})`` per output.

    Parameters
    ----------
    spec : ConvSpec
        The convolution's geometry.
    max_entries : int, optional
        Refuse when C (or a vector) would hold more entries; default
        :data:`transpose_matrix.memory.DEFAULT_MAX_ENTRIES` (50,000).

    Returns
    -------
    list of sympy.Eq
        One unevaluated equation per output entry, in C order.

    Raises
    ------
    ConvSpecTypeError
        ``spec`` is not a :class:`ConvSpec`.
    MemoryGuardError
        C, the kernel or a vector has too many entries; counted before
        anything is built.

    Examples
    --------
    >>> for equation in symbolic_conv_equations(ConvSpec((3,), 2)):
    ...     print(equation)
    Eq(y_{0}, w_{0}*x_{0} + w_{1}*x_{1})
    Eq(y_{1}, w_{0}*x_{1} + w_{1}*x_{2})
    """
    spec = as_spec(spec)
    products = symbolic_conv_matrix(spec, max_entries=max_entries) * symbolic_input(
        spec, max_entries=max_entries
    )
    return [
        sympy.Eq(y, value, evaluate=False)
        for y, value in zip(symbolic_output(spec, max_entries=max_entries), products)
    ]
