"""patch_matrix against torch's weight gradient; the gradient derivation's checks."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse
import sympy

from transpose_matrix import ConvSpec, ConvSpecError, ConvSpecTypeError, conv_matrix
from transpose_matrix.matrices.symbolic import (
    symbolic_conv_matrix,
    symbolic_input,
    symbolic_output,
    weight_substitution,
    weight_symbols,
)
from transpose_matrix.narrative.gradient import (
    GRADIENT_MAX_ENTRIES,
    gradient_derivation,
    patch_matrix,
)
from transpose_matrix.render import compile_pdf

SPECS = [
    ConvSpec(8, 3),
    ConvSpec(11, 3, stride=2, padding=[(2, 1)], dilation=2, in_channels=2, out_channels=3),
    ConvSpec((5, 6), (3, 2), stride=(2, 1), padding=(1, 0)),
    ConvSpec((6, 5), 3, padding=1, in_channels=4, out_channels=6, groups=2),
    ConvSpec((3, 4, 5), (2, 2, 3), stride=(1, 2, 1), dilation=(2, 1, 1), in_channels=2,
             out_channels=2, groups=2),
    ConvSpec.from_transposed((3, 2), 2, 3, 3, stride=2, padding=1, output_padding=1),
]
IDS = ["1d", "1d-dilated-pair", "2d-strided", "2d-grouped", "3d-grouped", "from-transposed"]


def _torch_gradients(torch, spec, weight, x, g):
    """torch's output, weight gradient and input gradient for one sample."""
    F = torch.nn.functional
    conv = (F.conv1d, F.conv2d, F.conv3d)[spec.ndim - 1]
    w = torch.tensor(weight, requires_grad=True)
    xt = torch.tensor(x[None], requires_grad=True)
    # (before, after) pairs, last dim first; F.pad crops on negative amounts.
    pad = [amount for pair in reversed(spec.padding) for amount in pair]
    y = conv(F.pad(xt, pad), w, stride=spec.stride, dilation=spec.dilation, groups=spec.groups)
    y.backward(torch.tensor(g.reshape(y.shape)))
    return y.detach().numpy().reshape(-1), w.grad.numpy(), xt.grad.numpy()[0]


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_patch_matrix_gives_torch_output_and_weight_gradient(torch, spec):
    rng = np.random.default_rng(0)
    weight = rng.standard_normal(spec.weight_shape)
    x = rng.standard_normal((spec.in_channels, *spec.input_shape))
    g = rng.standard_normal(spec.matrix_shape[0])
    y, weight_grad, input_grad = _torch_gradients(torch, spec, weight, x, g)
    U = patch_matrix(spec, x)
    assert isinstance(U, scipy.sparse.csr_array)
    assert U.shape == (spec.matrix_shape[0], weight.size)
    np.testing.assert_allclose(U @ weight.reshape(-1), y, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(U.T @ g, weight_grad.reshape(-1), rtol=1e-12, atol=1e-12)
    # The other half of the derivation, numerically: Cᵀg is torch's input gradient.
    C = conv_matrix(spec, weight)
    np.testing.assert_allclose(C.T @ g, input_grad.reshape(-1), rtol=1e-12, atol=1e-12)


@pytest.mark.slow
@pytest.mark.parametrize("spec", SPECS[:4], ids=IDS[:4])
def test_symbolic_gradients_substituted_equal_torch(torch, spec):
    rng = np.random.default_rng(1)
    weight = rng.integers(-4, 5, size=spec.weight_shape).astype(np.float64)
    x = rng.integers(-4, 5, size=(spec.in_channels, *spec.input_shape)).astype(np.float64)
    g = rng.integers(-4, 5, size=spec.matrix_shape[0]).astype(np.float64)
    _, weight_grad, input_grad = _torch_gradients(torch, spec, weight, x, g)
    values = weight_substitution(spec, weight)
    values.update(zip(symbolic_input(spec), map(sympy.Integer, x.reshape(-1).astype(int))))
    values.update(zip(symbolic_output(spec, "g"), map(sympy.Integer, g.astype(int))))
    gs = symbolic_output(spec, "g")
    grad_x = (symbolic_conv_matrix(spec).T * gs).xreplace(values)
    grad_w = (patch_matrix(spec).T * gs).xreplace(values)
    np.testing.assert_array_equal(np.array(grad_x, dtype=float).reshape(-1), input_grad.reshape(-1))
    np.testing.assert_array_equal(np.array(grad_w, dtype=float).reshape(-1), weight_grad.reshape(-1))


@pytest.mark.slow
@pytest.mark.parametrize("spec", SPECS[:5], ids=IDS[:5])
def test_symbolic_patch_matrix_substituted_is_the_numeric_one(spec):
    x = np.random.default_rng(2).integers(-9, 10, size=(spec.in_channels, *spec.input_shape))
    numeric = patch_matrix(spec, x.astype(np.float64)).toarray()
    symbolic = patch_matrix(spec).xreplace(
        dict(zip(symbolic_input(spec), map(sympy.Integer, x.reshape(-1).tolist())))
    )
    np.testing.assert_array_equal(np.array(symbolic.tolist(), dtype=float), numeric)
    # An object array of expressions is symbolic input too.
    from_array = patch_matrix(spec, x.astype(object))
    np.testing.assert_array_equal(np.array(from_array.tolist(), dtype=float), numeric)


def test_patch_matrix_of_the_textbook_case_is_im2col():
    # Written out: row j of U is the 3x3 patch under output j, flattened.
    x = np.arange(16.0).reshape(1, 4, 4)
    expected = np.array(
        [
            [0, 1, 2, 4, 5, 6, 8, 9, 10],
            [1, 2, 3, 5, 6, 7, 9, 10, 11],
            [4, 5, 6, 8, 9, 10, 12, 13, 14],
            [5, 6, 7, 9, 10, 11, 13, 14, 15],
        ],
        dtype=float,
    )
    np.testing.assert_array_equal(patch_matrix(ConvSpec((4, 4), 3), x).toarray(), expected)


def test_patch_matrix_keeps_output_channels_apart():
    spec = ConvSpec(3, 2, in_channels=1, out_channels=2)
    U = patch_matrix(spec, np.array([[1.0, 2.0, 3.0]])).toarray()
    np.testing.assert_array_equal(
        U, [[1, 2, 0, 0], [2, 3, 0, 0], [0, 0, 1, 2], [0, 0, 2, 3]]
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "spec",
    [
        ConvSpec((4, 4), 3),
        ConvSpec(6, 3, stride=2, padding=1, in_channels=2, out_channels=2, groups=2),
        ConvSpec(7, 2, dilation=3, padding=[(0, 2)]),
        ConvSpec((2, 3, 2), 2, in_channels=2, out_channels=1),
        ConvSpec.from_transposed((2,), 1, 1, 3, stride=2, output_padding=2, dilation=3),
    ],
    ids=["textbook", "grouped-strided", "dilated-pair", "3d", "op>=stride"],
)
def test_gradient_derivation_checks_all_pass(spec):
    derivation = gradient_derivation(spec)
    failures = [f"{title}: {check.text()}" for title, check in derivation.failures()]
    assert derivation.all_checks_passed, "\n".join(failures)
    assert len(derivation.steps) == 6 and all(step.checks for step in derivation.steps)
    claims = " ".join(check.claim for check in derivation.checks)
    assert "Jacobian of $C\\mathbf{x}$ equals $C$" in claims
    assert "For $L$ an undefined function of $\\mathbf{y}$" in claims
    assert "loop reference builder" in claims
    assert {check.method for check in derivation.checks} == {"verified symbolically"}


def _as_sympy_sum(displayed, spec, w, g, x=None):
    """The displayed sum with this spec's numbers and symbols, for sympy to evaluate."""
    from transpose_matrix.narrative.gradient import _Indicator

    values = {
        sympy.Symbol(name, **assumptions): value
        for name, assumptions, value in [
            ("s", {"integer": True, "positive": True}, spec.stride[0]),
            ("d", {"integer": True, "positive": True}, spec.dilation[0]),
            ("p", {"integer": True, "nonnegative": True}, spec.padding[0][0]),
            ("O", {"integer": True, "positive": True}, spec.out_channels),
            ("J", {"integer": True, "positive": True}, spec.output_shape[0]),
            ("K", {"integer": True, "positive": True}, spec.kernel_size[0]),
        ]
    }
    wb, gb, xb = (sympy.IndexedBase(name) for name in "wgx")

    def entry(expr):
        # Indexed entries become the spec's symbols; x is zero outside the input.
        base, *index = expr.args
        index = [int(i) for i in index]
        if base == wb:
            return w[(index[0], index[1], index[2])]
        if base == gb:
            return g[index[0] * spec.output_shape[0] + index[1]]
        inside = 0 <= index[1] < spec.input_shape[0]
        return x[index[0] * spec.input_shape[0] + index[1]] if inside else 0

    expr = displayed.xreplace(values).replace(
        _Indicator, lambda condition: sympy.Piecewise((1, condition), (0, True))
    )
    return lambda **free: expr.xreplace(
        {sympy.Symbol(k, integer=True, nonnegative=True): v for k, v in free.items()}
    ).doit().replace(lambda e: isinstance(e, sympy.Indexed), entry)


@pytest.mark.parametrize(
    "spec",
    [ConvSpec(5, 3, stride=2, padding=1), ConvSpec(7, 2, dilation=3, padding=1, out_channels=2)],
    ids=["strided", "dilated-two-outputs"],
)
def test_displayed_sums_evaluated_by_sympy_are_the_gradients(spec):
    # sympy's own summation of the displayed formulas, independent of the loops
    # behind the derivation's checks, against Cᵀg and U(x)ᵀg.
    from transpose_matrix.narrative.gradient import _INPUT_GRADIENT, _WEIGHT_GRADIENT

    w = weight_symbols(spec)
    g = list(symbolic_output(spec, "g"))
    x = list(symbolic_input(spec))
    input_sum = _as_sympy_sum(_INPUT_GRADIENT, spec, w, g)
    weight_sum = _as_sympy_sum(_WEIGHT_GRADIENT, spec, w, g, x)
    grad_x = symbolic_conv_matrix(spec).T * sympy.Matrix(g)
    grad_w = patch_matrix(spec).T * sympy.Matrix(g)
    for i in range(spec.input_shape[0]):
        assert sympy.expand(input_sum(c=0, i=i) - grad_x[i]) == 0
    for index, (oc, c, t) in enumerate(np.ndindex(*spec.weight_shape)):
        assert sympy.expand(weight_sum(o=oc, c=c, t=t) - grad_w[index]) == 0


def test_gradient_derivation_shows_the_transposed_sum_entrywise():
    derivation = gradient_derivation(ConvSpec(3, 2))
    step = derivation.steps[3]
    assert step.title == "Entry by entry, $C^{\\mathsf T}\\mathbf{g}$ is the transposed convolution"
    # By hand: x_1 is read by output 0 through tap 1 and by output 1 through tap 0.
    assert [e.text() for e in step.equations[1:]] == [
        "∂L/∂x₀ = g₀⋅w₀",
        "∂L/∂x₁ = g₀⋅w₁ + g₁⋅w₀",
        "∂L/∂x₂ = g₁⋅w₁",
    ]
    assert step.equations[0].latex() == (
        r"\frac{\partial L}{\partial {x}_{c,i}} = \sum_{o=0}^{O - 1} \sum_{j=0}^{J - 1} "
        r"\sum_{t=0}^{K - 1} \left[j s - p + t d = i\right] {w}_{o,c,t} {g}_{o,j}"
    )
    weight_step = derivation.steps[5]
    assert [e.text() for e in weight_step.equations[2:]] == [
        "∂L/∂w₀ = g₀⋅x₀ + g₁⋅x₁",
        "∂L/∂w₁ = g₀⋅x₁ + g₁⋅x₂",
    ]
    assert weight_step.equations[1].latex() == (
        r"\frac{\partial L}{\partial {w}_{o,c,t}} = \sum_{j=0}^{J - 1} {g}_{o,j} "
        r"{x}_{c,j s - p + t d}"
    )


@pytest.mark.slow
def test_gradient_derivation_latex_compiles_and_fits(pdflatex, tmp_path):
    body = gradient_derivation(ConvSpec((4, 4), 3)).latex()
    document = (
        "\\documentclass{article}\n\\usepackage[T1]{fontenc}\n\\usepackage{lmodern}\n"
        "\\usepackage{amsmath}\n\\usepackage{amssymb}\n\\begin{document}\n"
        f"{body}\n\\end{{document}}\n"
    )
    # A bare article on purpose: the fragment must need nothing more, and fit.
    assert compile_pdf(document, tmp_path, name="gradient").is_file()
    log = (tmp_path / "gradient.log").read_text()
    assert "Overfull \\hbox" not in log


def test_gradient_derivation_refuses_large_specs():
    spec = ConvSpec((8, 8), 3, padding=1)
    assert spec.matrix_shape[0] * spec.matrix_shape[1] > GRADIENT_MAX_ENTRIES
    with pytest.raises(ConvSpecError, match=r"rows\*cols <= 1024; this spec's C is 64x64 = 4096"):
        gradient_derivation(spec)


def test_patch_matrix_input_errors():
    spec = ConvSpec((3, 3), 2)
    with pytest.raises(ConvSpecTypeError, match=r"spec=\(3, 3\) must be a ConvSpec"):
        patch_matrix((3, 3))
    with pytest.raises(ConvSpecError, match=r"x shape \(3, 3\) must be \(in_channels, \*input_shape\)"):
        patch_matrix(spec, np.zeros((3, 3)))
    with pytest.raises(ConvSpecError, match=r"NaN or infinite"):
        patch_matrix(spec, np.full((1, 3, 3), np.nan))
    with pytest.raises(ConvSpecTypeError, match=r"x must be numeric, not bool"):
        patch_matrix(spec, np.ones((1, 3, 3), dtype=bool))
    with pytest.raises(ConvSpecTypeError, match=r"x dtype <U1 must be a real or complex"):
        patch_matrix(spec, np.full((1, 3, 3), "a"))
    with pytest.raises(ConvSpecError, match=r"symbolic x has 4 entries; it must have .* = 9"):
        patch_matrix(spec, sympy.Matrix([1, 2, 3, 4]))


def test_integer_input_is_promoted_to_float():
    U = patch_matrix(ConvSpec(3, 2), np.array([[1, 2, 3]]))
    assert U.dtype == np.float64
    np.testing.assert_array_equal(U.toarray(), [[1, 2], [2, 3]])


def test_patch_matrix_accepts_a_sympy_vector_as_x():
    spec = ConvSpec((3, 3), 2, padding=[(1, 0), (0, 1)])
    assert patch_matrix(spec, symbolic_input(spec)) == patch_matrix(spec)
    with pytest.raises(ConvSpecError, match=r"x shape \(2, 2\) must be \(in_channels"):
        patch_matrix(spec, np.array([[sympy.Symbol("a")] * 2] * 2, dtype=object))
