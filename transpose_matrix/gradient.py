"""Gradients of a convolution: Cᵀ for the input, the patch matrix U(x)ᵀ for the weight.

A convolution is linear in its input and in its weight, so it can be written
two ways::

    y = C(w) x = U(x) vec(w)

C is the matrix of :func:`~transpose_matrix.conv_matrix`; U(x) is the *patch*
(im2col) matrix: row ``(o, *j)`` holds the input values that output ``(o,
*j)`` multiplies by each weight. For any loss L with output gradient
``g = ∂L/∂y`` the chain rule gives::

    ∂L/∂x = Cᵀ g        (the transposed convolution of g)
    ∂L/∂w = U(x)ᵀ g     (the correlation of x with g)

:func:`patch_matrix` builds U(x), numerically or with symbols, and
:func:`gradient_derivation` derives both gradient formulas symbolically for a
small spec, checking each step with sympy.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import scipy.sparse
import sympy

from .derivation import Check, Derivation, Equation, sympy_check
from .errors import ConvSpecError, ConvSpecTypeError
from .matrix import conv_matrix_nnz
from .memory import check_entries, check_index_range, check_memory
from .reference import reference_conv_matrix
from .spec import ConvSpec
from .symbolic import (
    symbolic_conv_matrix,
    symbolic_input,
    symbolic_output,
    weight_pattern,
    weight_symbols,
)

__all__ = ["patch_matrix", "gradient_derivation", "GRADIENT_MAX_ENTRIES"]

#: Largest ``rows * cols`` of C that :func:`gradient_derivation` accepts. The
#: Jacobian and the checks work on dense sympy matrices of this many entries;
#: 1024 (e.g. 5x5 input, 3x3 kernel, padding 1: 25x25) runs in seconds.
GRADIENT_MAX_ENTRIES = 1024


def _check_spec(spec: Any) -> ConvSpec:
    if not isinstance(spec, ConvSpec):
        raise ConvSpecTypeError(f"spec={spec!r} must be a ConvSpec")
    return spec


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
    values = []
    for value in x.reshape(-1):
        # strict: numbers and sympy objects only. A string would be parsed
        # (and evaluated) by sympify, so it is refused instead.
        try:
            values.append(sympy.sympify(value, strict=True))
        except sympy.SympifyError:
            raise ConvSpecTypeError(
                f"x entry {value!r} must be a number or a sympy expression, not "
                f"{type(value).__name__}"
            ) from None
    return values


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
    spec = _check_spec(spec)
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


def _show(matrix: sympy.MatrixBase, limit: int = 16) -> bool:
    return matrix.rows <= limit and matrix.cols <= limit


def _matrix_equation(name_latex: str, name_text: str, matrix: sympy.MatrixBase) -> Equation:
    # Wide matrices overflow an article's text width at full size; amsmath's
    # smallmatrix (which MathJax knows too) fits 16 columns and has no column limit.
    environment = "smallmatrix" if matrix.cols > 8 else "array"
    latex = sympy.latex(matrix, mat_str=environment, mat_delim="(")
    pretty = sympy.pretty(matrix, use_unicode=True, wrap_line=False)
    pad = " " * (len(name_text) + 3)
    lines = pretty.splitlines()
    middle = len(lines) // 2
    text = "\n".join(
        (f"{name_text} = " if i == middle else pad) + line for i, line in enumerate(lines)
    )
    return Equation(f"{name_latex} = {latex}", text)


def _entry_equations(
    names: list[Any], values: list[Any], gradient: bool = False, limit: int = 6
) -> list[Equation]:
    """``name = value`` for a few entries: all when few, else the first ones and the middle.

    With ``gradient`` the name ``v`` is shown as ``∂L/∂v``.
    """
    count = len(names)
    picks = list(range(min(count, limit - 1)))
    if count > limit - 1:
        picks.append(count // 2 if count // 2 >= limit - 1 else limit - 1)
    equations = []
    for i in picks:
        name_latex, name_text = sympy.latex(names[i]), str(names[i])
        if gradient:
            name_latex = rf"\frac{{\partial L}}{{\partial {name_latex}}}"
            name_text = f"∂L/∂{name_text}"
        equations.append(
            Equation(f"{name_latex} = {sympy.latex(values[i])}", f"{name_text} = {values[i]}")
        )
    if count > len(picks):
        equations.append(
            Equation(
                rf"\text{{(showing {len(picks)} of {count} entries)}}",
                f"(showing {len(picks)} of {count} entries)",
            )
        )
    return equations


def _reference_symbolic(spec: ConvSpec) -> sympy.ImmutableSparseMatrix:
    # The loop builder, fed weight labels 1, 2, ..., tells where each weight
    # lands without sharing code with the fast builder behind symbolic C.
    symbols = weight_symbols(spec).reshape(-1)
    labels = np.arange(1, symbols.size + 1, dtype=np.int64).reshape(spec.weight_shape)
    reference = reference_conv_matrix(spec, labels).tocoo()
    entries = {
        (int(r), int(c)): symbols[int(v) - 1]
        for r, c, v in zip(reference.row, reference.col, reference.data)
    }
    return sympy.ImmutableSparseMatrix(*spec.matrix_shape, entries)


def _positions(spec: ConvSpec, j: tuple[int, ...], t: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(
        j[a] * spec.stride[a] - spec.padding[a][0] + t[a] * spec.dilation[a]
        for a in range(spec.ndim)
    )


def _inside(spec: ConvSpec, i: tuple[int, ...]) -> bool:
    return all(0 <= i[a] < spec.input_shape[a] for a in range(spec.ndim))


def _flat(index: tuple[int, ...], shape: tuple[int, ...]) -> int:
    return int(np.ravel_multi_index(index, shape))


def _transposed_sums(spec: ConvSpec, w: np.ndarray, g: list[Any]) -> list[Any]:
    """(∂L/∂x)_{c,i}: Σ over o in c's group and (j, t) with j*s - p + t*d = i of w·g."""
    per_in = spec.in_channels // spec.groups
    per_out = spec.out_channels // spec.groups
    out_shape = (spec.out_channels, *spec.output_shape)
    sums = []
    for c, *i in itertools.product(
        range(spec.in_channels), *(range(n) for n in spec.input_shape)
    ):
        group, local = divmod(c, per_in)
        total = sympy.Integer(0)
        for o in range(group * per_out, (group + 1) * per_out):
            for j in itertools.product(*(range(n) for n in spec.output_shape)):
                for t in itertools.product(*(range(k) for k in spec.kernel_size)):
                    if _positions(spec, j, t) == tuple(i):
                        total += w[(o, local, *t)] * g[_flat((o, *j), out_shape)]
        sums.append(total)
    return sums


def _weight_sums(spec: ConvSpec, x: list[Any], g: list[Any]) -> list[Any]:
    """(∂L/∂w)_{o,c,t}: Σ over j of g_{o,j} · x_{c', j*s - p + t*d} inside the input."""
    per_in = spec.in_channels // spec.groups
    per_out = spec.out_channels // spec.groups
    in_shape = _input_shape(spec)
    out_shape = (spec.out_channels, *spec.output_shape)
    sums = []
    for o, c, *t in itertools.product(*(range(n) for n in spec.weight_shape)):
        channel = (o // per_out) * per_in + c
        total = sympy.Integer(0)
        for j in itertools.product(*(range(n) for n in spec.output_shape)):
            i = _positions(spec, j, tuple(t))
            if _inside(spec, i):
                total += g[_flat((o, *j), out_shape)] * x[_flat((channel, *i), in_shape)]
        sums.append(total)
    return sums


def gradient_derivation(spec: ConvSpec) -> Derivation:
    """Derive ∂L/∂x = Cᵀ ∂L/∂y and ∂L/∂w = U(x)ᵀ ∂L/∂y symbolically for a small spec.

    Steps, each checked by sympy: C with kernel symbols agrees with the loop
    reference builder; the Jacobian ∂y/∂x of y = Cx is C; the chain rule for
    an arbitrary loss L(y) gives ∂L/∂x = Cᵀ g; entry by entry, Cᵀ g is the
    transposed-convolution sum (each input pixel collects w·g over the
    output positions that read it); y = U(x) vec(w); and ∂L/∂w = U(x)ᵀ g,
    entry by entry the correlation of x with g.

    Parameters
    ----------
    spec : ConvSpec
        Small: C may have at most :data:`GRADIENT_MAX_ENTRIES` (1024)
        entries ``rows * cols``.

    Returns
    -------
    Derivation

    Raises
    ------
    ConvSpecTypeError
        ``spec`` is not a ConvSpec.
    ConvSpecError
        C is larger than :data:`GRADIENT_MAX_ENTRIES` entries.

    Examples
    --------
    >>> d = gradient_derivation(ConvSpec((3,), 2))
    >>> d.all_checks_passed
    True
    >>> for equation in d.steps[3].equations[1:]:
    ...     print(equation.text)
    ∂L/∂x_{0} = g_{0}*w_{0}
    ∂L/∂x_{1} = g_{0}*w_{1} + g_{1}*w_{0}
    ∂L/∂x_{2} = g_{1}*w_{1}
    """
    spec = _check_spec(spec)
    rows, cols = spec.matrix_shape
    if rows * cols > GRADIENT_MAX_ENTRIES:
        raise ConvSpecError(
            f"gradient_derivation works on C symbolically and needs rows*cols <= "
            f"{GRADIENT_MAX_ENTRIES}; this spec's C is {rows}x{cols} = {rows * cols} "
            "entries: use a smaller input, kernel or channel count"
        )
    C = symbolic_conv_matrix(spec)
    x = symbolic_input(spec)
    y_symbols = symbolic_output(spec)
    g = symbolic_output(spec, "g")
    w = weight_symbols(spec)
    w_vector = sympy.Matrix(w.reshape(-1).tolist())
    y = C * x
    derivation = Derivation(f"Gradients of the convolution {_describe(spec)}")

    equations = [Equation(r"\mathbf{y} = C\,\mathbf{x}", "y = C x")]
    if _show(C):
        equations.append(_matrix_equation("C", "C", C))
    equations += _entry_equations(list(y_symbols), list(y))
    derivation.add(
        "The convolution is a matrix: y = Cx",
        "Each output is a weighted sum of the inputs its kernel placement covers, so the "
        "convolution is a matrix C whose nonzero entries are kernel symbols (PyTorch's "
        "cross-correlation: no flip). Rows flatten (output channel, position), columns "
        "(input channel, position), both in C order.",
        equations,
        [
            sympy_check(
                C, _reference_symbolic(spec), note="C vs the loop reference builder's C"
            )
        ],
    )

    J = y.jacobian(x)
    derivation.add(
        "The Jacobian of y with respect to x is C",
        "y is linear in x, so differentiating y = Cx entry by entry returns the "
        "coefficients: ∂y_r/∂x_c = C_rc.",
        [Equation(r"\frac{\partial \mathbf{y}}{\partial \mathbf{x}} = C", "∂y/∂x = C")],
        [sympy_check(J, C, note="sympy's jacobian of Cx vs C")],
    )

    derivation.add(*_chain_rule_step(C, x, y, y_symbols, g))

    sums = _transposed_sums(spec, w, list(g))
    grad_x = C.T * g
    derivation.add(
        "Entry by entry, Cᵀg is the transposed convolution",
        "Column (c, i) of C holds the weights that multiply input x_{c,i}: one for every "
        "output (o, j) and tap t with j·s − p + t·d = i. So ∂L/∂x_{c,i} collects w·g over "
        "exactly the output positions that read x_{c,i}: the input pixel scatters back to "
        "where it was gathered from, which is the transposed convolution of g.",
        [
            Equation(
                r"\frac{\partial L}{\partial x_{c,i}} = \sum_{o}\ \sum_{(j,t):\ js - p + td = i}"
                r" w_{o,c,t}\, g_{o,j}",
                "∂L/∂x_{c,i} = Σ_o Σ_{(j,t): j·s − p + t·d = i} w_{o,c,t} · g_{o,j}",
            ),
            *_entry_equations(list(x), sums, gradient=True),
        ],
        [sympy_check(grad_x, sympy.Matrix(sums), note="Cᵀg vs the sum written by loops")],
    )

    U = patch_matrix(spec)
    equations = [Equation(r"\mathbf{y} = U(\mathbf{x})\,\operatorname{vec}(w)", "y = U(x) vec(w)")]
    if _show(U):
        equations.append(_matrix_equation(r"U(\mathbf{x})", "U(x)", U))
    derivation.add(
        "The same convolution is linear in the weight: y = U(x) vec(w)",
        "Swapping the roles of weight and input, each output is a sum of weights times "
        "input values. U(x) is the patch (im2col) matrix: row (o, j) holds, in the column "
        "of weight w_{o,c,t}, the input value that tap t of placement j reads.",
        equations,
        [sympy_check(y, U * w_vector, note="C x vs U(x) vec(w)")],
    )

    loss = (g.T * y)[0]
    grad_w = U.T * g
    derivation.add(
        "The weight gradient: ∂L/∂w = U(x)ᵀ g",
        "By the same chain rule with y = U(x) vec(w), the Jacobian ∂y/∂vec(w) is U(x), so "
        "∂L/∂w = U(x)ᵀ g. Entry by entry, weight w_{o,c,t} collects g_{o,j} times the input "
        "it multiplied at each placement j: the correlation of x with g.",
        [
            Equation(
                r"\frac{\partial L}{\partial \operatorname{vec}(w)} = U(\mathbf{x})^{\mathsf{T}}"
                r" \mathbf{g}, \qquad \frac{\partial L}{\partial w_{o,c,t}} = \sum_{j}"
                r" g_{o,j}\, x_{c,\, js - p + td}",
                "∂L/∂vec(w) = U(x)ᵀ g,   ∂L/∂w_{o,c,t} = Σ_j g_{o,j} · x_{c, j·s − p + t·d}",
            ),
            *_entry_equations(list(w_vector), list(grad_w), gradient=True),
        ],
        [
            sympy_check(y.jacobian(w_vector), U, note="sympy's jacobian of y in w vs U(x)"),
            sympy_check(
                sympy.Matrix([loss.diff(v) for v in w_vector]),
                grad_w,
                note="gradient of L = gᵀy in w vs U(x)ᵀg",
            ),
            sympy_check(
                grad_w,
                sympy.Matrix(_weight_sums(spec, list(x), list(g))),
                note="U(x)ᵀg vs the correlation written by loops",
            ),
        ],
    )
    return derivation


def _chain_rule_step(
    C: sympy.MatrixBase,
    x: sympy.Matrix,
    y: sympy.Matrix,
    y_symbols: sympy.Matrix,
    g: sympy.Matrix,
) -> tuple[str, str, list[Equation], list[Check]]:
    # An undefined function L of all outputs stands for any loss: sympy's
    # chain rule produces its partial derivatives at y = Cx, and they must
    # combine as Cᵀ times the output gradient.
    L = sympy.Function("L")
    at_y = dict(zip(y_symbols, y))
    outer = sympy.Matrix([L(*y_symbols).diff(v) for v in y_symbols]).subs(at_y)
    direct = sympy.Matrix([L(*y).diff(v) for v in x])
    linear = (g.T * y)[0]
    return (
        "The chain rule: ∂L/∂x = Cᵀ ∂L/∂y",
        "For any loss L(y), ∂L/∂x_c = Σ_r (∂L/∂y_r)(∂y_r/∂x_c), i.e. the transposed "
        "Jacobian times the output gradient g = ∂L/∂y. Since the Jacobian is C, the input "
        "gradient is Cᵀg: backpropagation through a convolution applies its transpose.",
        [
            Equation(
                r"\frac{\partial L}{\partial \mathbf{x}} = \Bigl(\frac{\partial \mathbf{y}}"
                r"{\partial \mathbf{x}}\Bigr)^{\mathsf{T}} \frac{\partial L}{\partial \mathbf{y}}"
                r" = C^{\mathsf{T}} \mathbf{g}",
                "∂L/∂x = (∂y/∂x)ᵀ ∂L/∂y = Cᵀ g",
            )
        ],
        [
            sympy_check(
                direct,
                C.T * outer,
                note="L an undefined function of y: sympy's d/dx of L(Cx) vs Cᵀ (∂L/∂y at Cx)",
            ),
            sympy_check(
                sympy.Matrix([linear.diff(v) for v in x]),
                C.T * g,
                note="L = gᵀy with symbols g: its gradient in x vs Cᵀg",
            ),
        ],
    )


def _describe(spec: ConvSpec) -> str:
    parts = [f"input {spec.input_shape}", f"kernel {spec.kernel_size}"]
    if any(s != 1 for s in spec.stride):
        parts.append(f"stride {spec.stride}")
    if any(p != (0, 0) for p in spec.padding):
        parts.append(f"padding {spec.padding}")
    if any(d != 1 for d in spec.dilation):
        parts.append(f"dilation {spec.dilation}")
    if spec.in_channels != 1 or spec.out_channels != 1:
        parts.append(f"channels {spec.in_channels}->{spec.out_channels}")
    if spec.groups != 1:
        parts.append(f"groups {spec.groups}")
    return ", ".join(parts)
