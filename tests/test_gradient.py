"""patch_matrix against torch's weight gradient; the gradient derivation's checks."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse
import sympy

from transpose_matrix import ConvSpec, ConvSpecError, ConvSpecTypeError, conv_matrix
from transpose_matrix.gradient import GRADIENT_MAX_ENTRIES, gradient_derivation, patch_matrix
from transpose_matrix.render import compile_pdf
from transpose_matrix.symbolic import (
    symbolic_conv_matrix,
    symbolic_input,
    symbolic_output,
    weight_substitution,
)

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
    methods = " ".join(check.method for check in derivation.checks)
    assert "jacobian of Cx vs C" in methods
    assert "L an undefined function of y" in methods
    assert "loop reference builder" in methods


def test_gradient_derivation_shows_the_transposed_sum_entrywise():
    derivation = gradient_derivation(ConvSpec(3, 2))
    step = derivation.steps[3]
    assert step.title == "Entry by entry, Cᵀg is the transposed convolution"
    # By hand: x_1 is read by output 0 through tap 1 and by output 1 through tap 0.
    assert [e.text for e in step.equations[1:]] == [
        "∂L/∂x_{0} = g_{0}*w_{0}",
        "∂L/∂x_{1} = g_{0}*w_{1} + g_{1}*w_{0}",
        "∂L/∂x_{2} = g_{1}*w_{1}",
    ]
    weight_step = derivation.steps[5]
    assert [e.text for e in weight_step.equations[1:]] == [
        "∂L/∂w_{0} = g_{0}*x_{0} + g_{1}*x_{1}",
        "∂L/∂w_{1} = g_{0}*x_{1} + g_{1}*x_{2}",
    ]


def test_gradient_derivation_latex_compiles(pdflatex, tmp_path):
    body = gradient_derivation(ConvSpec((4, 4), 3)).latex()
    assert body.isascii()
    document = (
        "\\documentclass{article}\n\\usepackage{amsmath}\n\\begin{document}\n"
        f"{body}\n\\end{{document}}\n"
    )
    # A bare amsmath article on purpose: the fragment must need nothing more.
    assert compile_pdf(document, tmp_path, name="gradient").is_file()


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
