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

:func:`~transpose_matrix.matrices.patch_matrix` builds U(x), numerically or
with symbols; :func:`gradient_derivation` derives both gradient formulas
symbolically for a small spec, checking each step with sympy.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import sympy

from ..errors import ConvSpecError
from ..geometry.padding import copies_input
from ..geometry.spec import ConvSpec, as_spec
from ..matrices.patch import patch_matrix
from ..matrices.reference import reference_conv_matrix
from ..matrices.symbolic import (
    symbolic_conv_matrix,
    symbolic_input,
    symbolic_output,
    weight_symbols,
)
from .derivation import Derivation, Equation, describe_spec, sympy_check

__all__ = ["gradient_derivation", "GRADIENT_MAX_ENTRIES"]

#: Largest ``rows * cols`` of C that :func:`gradient_derivation` accepts. The
#: Jacobian and the checks work on dense sympy matrices of this many entries;
#: 1024 (e.g. 5x5 input, 3x3 kernel, padding 1: 25x25) runs in seconds.
GRADIENT_MAX_ENTRIES = 1024

# Entries an equation lists before eliding the rest.
_SHOWN_ENTRIES = 6


def _entry_rows(
    names: list[Any], values: list[Any], derivative: bool = False
) -> tuple[list[Equation], str]:
    """``name = value`` for a few entries (the first ones and the middle), and a note.

    With ``derivative`` the name ``v`` is shown as ``∂L/∂v``.
    """
    count = len(names)
    picks = list(range(min(count, _SHOWN_ENTRIES - 1)))
    if count > _SHOWN_ENTRIES - 1:
        picks.append(max(count // 2, _SHOWN_ENTRIES - 1))
    rows = []
    for i in picks:
        name = sympy.Derivative(_L, names[i], evaluate=False) if derivative else names[i]
        rows.append(Equation(name, values[i]))
    note = f"Entries shown: {len(picks)} of {count}." if count > len(picks) else ""
    return rows, note


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


def _flat(index: tuple[int, ...], shape: tuple[int, ...]) -> int:
    return int(np.ravel_multi_index(index, shape))


# Index symbols of the displayed sums; s, p, d are stride, padding before and
# dilation (per dimension, like the multi-indices j, t, i, in several dimensions).
_c, _i, _o, _j, _t = sympy.symbols("c i o j t", integer=True, nonnegative=True)
_s, _d = sympy.symbols("s d", integer=True, positive=True)
_p = sympy.Symbol("p", integer=True, nonnegative=True)
_O, _J, _K = sympy.symbols("O J K", integer=True, positive=True)
_L = sympy.Symbol("L")
_w, _x, _g = sympy.IndexedBase("w"), sympy.IndexedBase("x"), sympy.IndexedBase("g")


class _Indicator(sympy.Function):
    """Iverson's bracket ``[P]``: 1 where the condition P holds, else 0 (printed only)."""

    @classmethod
    def eval(cls, condition: Any) -> None:
        return None

    def _latex(self, printer: Any) -> str:
        return rf"\left[{printer._print(self.args[0])}\right]"

    def _pretty(self, printer: Any) -> Any:
        from sympy.printing.pretty.stringpict import prettyForm

        return prettyForm(*printer._print(self.args[0]).parens("[", "]"))


with sympy.evaluate(False):
    # The input position that output j reads through tap t.
    _POSITION = _j * _s - _p + _t * _d
    _READS = _Indicator(sympy.Eq(_POSITION, _i))
    _INPUT_TERM = _READS * _w[_o, _c, _t] * _g[_o, _j]
    _WEIGHT_TERM = _g[_o, _j] * _x[_c, _POSITION]
    _LAST_O, _LAST_J, _LAST_T = _O - 1, _J - 1, _K - 1
# Sums are built outside evaluate(False), which would wrap their term in 1*(...).
_INPUT_GRADIENT = sympy.Sum(
    sympy.Sum(sympy.Sum(_INPUT_TERM, (_t, 0, _LAST_T)), (_j, 0, _LAST_J)), (_o, 0, _LAST_O)
)
_WEIGHT_GRADIENT = sympy.Sum(_WEIGHT_TERM, (_j, 0, _LAST_J))
_position = sympy.lambdify((_j, _s, _p, _t, _d), _POSITION.doit(), modules="math")


def _positions(spec: ConvSpec, j: tuple[int, ...], t: tuple[int, ...]) -> tuple[int, ...]:
    """The displayed position ``js - p + td``, evaluated in every dimension."""
    return tuple(
        _position(j[a], spec.stride[a], spec.padding[a][0], t[a], spec.dilation[a])
        for a in range(spec.ndim)
    )


def _inside(spec: ConvSpec, i: tuple[int, ...]) -> bool:
    return all(0 <= i[a] < spec.input_shape[a] for a in range(spec.ndim))


def _transposed_sums(spec: ConvSpec, w: np.ndarray, g: list[Any]) -> list[Any]:
    """The displayed sum for every input entry: w·g over (o, j, t) whose position is i."""
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
    """The displayed sum for every weight: g·x over j, x zero outside the input."""
    per_in = spec.in_channels // spec.groups
    per_out = spec.out_channels // spec.groups
    in_shape = (spec.in_channels, *spec.input_shape)
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
    entry by entry the correlation of x with g. The displayed sums are sympy
    expressions; the checks evaluate their position ``js - p + td`` for every
    entry and compare the result with Cᵀg and U(x)ᵀg.

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
        C is larger than :data:`GRADIENT_MAX_ENTRIES` entries, or
        ``padding_mode`` is not ``'zeros'`` (the derivation's index sums are
        those of zero padding; ``verification.transpose_recipe`` gives Cᵀ
        of the other modes).

    Examples
    --------
    >>> d = gradient_derivation(ConvSpec((3,), 2))
    >>> d.all_checks_passed
    True
    >>> for equation in d.steps[3].equations[1:]:
    ...     print(equation.text())
    ∂L/∂x₀ = g₀⋅w₀
    ∂L/∂x₁ = g₀⋅w₁ + g₁⋅w₀
    ∂L/∂x₂ = g₁⋅w₁
    """
    spec = as_spec(spec)
    if copies_input(spec.padding_mode):
        raise ConvSpecError(
            f"gradient_derivation derives zero padding only; with padding_mode="
            f"{spec.padding_mode!r} C = D·P and the input gradient is Pᵀ·Dᵀ·g, which "
            "transpose_matrix.analysis.verification.transpose_recipe(spec) spells out",
            field="padding_mode",
        )
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
    # The matrices as symbols, for the displayed identities between them.
    C_, x_, y_, g_ = (
        sympy.MatrixSymbol(name, *shape)
        for name, shape in (
            ("C", (rows, cols)),
            (r"\mathbf{x}", (cols, 1)),
            (r"\mathbf{y}", (rows, 1)),
            (r"\mathbf{g}", (rows, 1)),
        )
    )
    U_ = sympy.MatrixSymbol(r"U(\mathbf{x})", rows, w_vector.rows)
    w_ = sympy.MatrixSymbol(r"\operatorname{vec}(w)", w_vector.rows, 1)
    derivation = Derivation(f"Gradients of the convolution: {describe_spec(spec)}")

    derivation.step(r"The convolution is a matrix: $\mathbf{y} = C\mathbf{x}$")
    derivation.say(
        "Each output is a weighted sum of the inputs its kernel placement covers, so the "
        "convolution is a matrix $C$ whose nonzero entries are kernel symbols (PyTorch's "
        "cross-correlation: no flip). Rows flatten (output channel, position), columns "
        "(input channel, position), both in C order."
    )
    derivation.show(Equation(y_, C_ * x_))
    derivation.matrix("C", C)
    entries, note = _entry_rows(list(y_symbols), list(y))
    if note:
        derivation.say(f"The outputs, entry by entry. {note}")
    derivation.show(*entries)
    derivation.check(
        sympy_check(
            C,
            _reference_symbolic(spec),
            says="$C$ equals the matrix that the loop reference builder makes, entry by entry,",
        )
    )

    derivation.step(r"The Jacobian of $\mathbf{y}$ with respect to $\mathbf{x}$ is $C$")
    derivation.say(
        r"$\mathbf{y}$ is linear in $\mathbf{x}$, so differentiating $\mathbf{y} = C\mathbf{x}$ "
        r"entry by entry returns the coefficients: $\partial y_r / \partial x_c = C_{rc}$."
    )
    derivation.show(Equation(sympy.Derivative(y_, x_, evaluate=False), C_))
    derivation.check(
        sympy_check(
            y.jacobian(x),
            C,
            says=r"sympy's Jacobian of $C\mathbf{x}$ equals $C$",
        )
    )

    _chain_rule_step(derivation, C, x, y, y_symbols, g, (C_, x_, y_, g_))

    sums = _transposed_sums(spec, w, list(g))
    derivation.step(r"Entry by entry, $C^{\mathsf T}\mathbf{g}$ is the transposed convolution")
    derivation.say(
        r"Column $(c, i)$ of $C$ holds the weights that multiply input $x_{c,i}$: one for "
        r"every output channel $o$, output position $j$ and tap $t$ with $js - p + td = i$ "
        r"($s$ the stride, $p$ the padding before, $d$ the dilation; in several dimensions "
        r"$j$, $t$ and $i$ are multi-indices and the condition holds in each). So "
        r"$\partial L / \partial x_{c,i}$ collects $w \cdot g$ over exactly the outputs that "
        r"read $x_{c,i}$: the input pixel scatters back to where it was gathered from, which "
        r"is the transposed convolution of $\mathbf{g}$."
        + (
            " With groups, $o$ runs over the output channels of $c$'s group and $w$'s "
            "channel index counts within the group."
            if spec.groups > 1
            else ""
        )
    )
    entries, note = _entry_rows(list(x), sums, derivative=True)
    derivation.show(
        Equation(sympy.Derivative(_L, _x[_c, _i], evaluate=False), _INPUT_GRADIENT), *entries
    )
    if note:
        derivation.say(note)
    derivation.check(
        sympy_check(
            C.T * g,
            sympy.Matrix(sums),
            says=r"$C^{\mathsf T}\mathbf{g}$ equals the displayed sum evaluated for every input "
            "entry,",
        )
    )

    U = patch_matrix(spec)
    derivation.step(
        r"Linear in the weight too: $\mathbf{y} = U(\mathbf{x}) \operatorname{vec}(w)$"
    )
    derivation.say(
        "Swapping the roles of weight and input, each output is a sum of weights times "
        r"input values. $U(\mathbf{x})$ is the patch (im2col) matrix: row $(o, j)$ holds, in "
        r"the column of weight $w_{o,c,t}$, the input value that tap $t$ of placement $j$ reads."
    )
    derivation.show(Equation(y_, U_ * w_))
    derivation.matrix(r"U(\mathbf{x})", U)
    derivation.check(
        sympy_check(
            y,
            U * w_vector,
            says=r"$C\mathbf{x}$ equals $U(\mathbf{x}) \operatorname{vec}(w)$",
        )
    )

    loss = (g.T * y)[0]
    grad_w = U.T * g
    derivation.step(
        r"The weight gradient: "
        r"$\partial L / \partial w = U(\mathbf{x})^{\mathsf T} \mathbf{g}$"
    )
    derivation.say(
        r"By the same chain rule with $\mathbf{y} = U(\mathbf{x}) \operatorname{vec}(w)$, the "
        r"Jacobian of $\mathbf{y}$ in $\operatorname{vec}(w)$ is $U(\mathbf{x})$, so the weight "
        r"gradient is $U(\mathbf{x})^{\mathsf T} \mathbf{g}$. Entry by entry, weight "
        r"$w_{o,c,t}$ collects $g_{o,j}$ times the input it multiplied at each placement $j$ "
        r"(zero where the position falls into the padding): the correlation of $\mathbf{x}$ "
        r"with $\mathbf{g}$."
    )
    entries, note = _entry_rows(list(w_vector), list(grad_w), derivative=True)
    derivation.show(
        Equation(sympy.Derivative(_L, w_, evaluate=False), sympy.Transpose(U_) * g_),
        Equation(sympy.Derivative(_L, _w[_o, _c, _t], evaluate=False), _WEIGHT_GRADIENT),
        *entries,
    )
    if note:
        derivation.say(note)
    derivation.check(
        sympy_check(
            y.jacobian(w_vector),
            U,
            says=r"sympy's Jacobian of $\mathbf{y}$ in $\operatorname{vec}(w)$ equals "
            r"$U(\mathbf{x})$",
        )
    )
    derivation.check(
        sympy_check(
            sympy.Matrix([loss.diff(v) for v in w_vector]),
            grad_w,
            says=r"The gradient of $L = \mathbf{g}^{\mathsf T}\mathbf{y}$ in the weights "
            r"equals $U(\mathbf{x})^{\mathsf T}\mathbf{g}$",
        )
    )
    derivation.check(
        sympy_check(
            grad_w,
            sympy.Matrix(_weight_sums(spec, list(x), list(g))),
            says=r"$U(\mathbf{x})^{\mathsf T}\mathbf{g}$ equals the displayed sum evaluated "
            "for every weight,",
        )
    )
    return derivation


def _chain_rule_step(
    derivation: Derivation,
    C: sympy.MatrixBase,
    x: sympy.Matrix,
    y: sympy.Matrix,
    y_symbols: sympy.Matrix,
    g: sympy.Matrix,
    names: tuple[Any, ...],
) -> None:
    # An undefined function L of all outputs stands for any loss: sympy's
    # chain rule produces its partial derivatives at y = Cx, and they must
    # combine as Cᵀ times the output gradient.
    C_, x_, y_, g_ = names
    L = sympy.Function("L")
    at_y = dict(zip(y_symbols, y))
    outer = sympy.Matrix([L(*y_symbols).diff(v) for v in y_symbols]).subs(at_y)
    direct = sympy.Matrix([L(*y).diff(v) for v in x])
    linear = (g.T * y)[0]
    derivation.step(
        r"The chain rule: $\partial L / \partial \mathbf{x} = C^{\mathsf T} \mathbf{g}$"
    )
    derivation.say(
        r"For any loss $L(\mathbf{y})$, $\partial L / \partial x_c = \sum_r (\partial L / "
        r"\partial y_r)(\partial y_r / \partial x_c)$, that is the transposed Jacobian times "
        r"the output gradient $\mathbf{g} = \partial L / \partial \mathbf{y}$. Since the "
        r"Jacobian is $C$, the input gradient is $C^{\mathsf T}\mathbf{g}$: backpropagation "
        "through a convolution applies its transpose."
    )
    with sympy.evaluate(False):
        jacobian = sympy.Transpose(sympy.Derivative(y_, x_, evaluate=False))
        middle = sympy.MatMul(jacobian, sympy.Derivative(_L, y_, evaluate=False))
    derivation.show(
        Equation(
            sympy.Derivative(_L, x_, evaluate=False),
            middle,
            sympy.Transpose(C_) * g_,
        )
    )
    derivation.check(
        sympy_check(
            direct,
            C.T * outer,
            says=r"For $L$ an undefined function of $\mathbf{y}$, sympy's derivative of "
            r"$L(C\mathbf{x})$ in $\mathbf{x}$ equals $C^{\mathsf T}$ times "
            r"$\partial L / \partial \mathbf{y}$ at $C\mathbf{x}$",
        )
    )
    derivation.check(
        sympy_check(
            sympy.Matrix([linear.diff(v) for v in x]),
            C.T * g,
            says=r"For $L = \mathbf{g}^{\mathsf T}\mathbf{y}$ with symbols $\mathbf{g}$, the "
            r"gradient in $\mathbf{x}$ equals $C^{\mathsf T}\mathbf{g}$",
        )
    )
