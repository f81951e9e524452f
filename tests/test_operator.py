"""conv_operator against conv_matrix, torch, the loop reference and the dot test."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse.linalg
from test_matrix import FORWARD_CASES, TRANSPOSED_CASES, TRANSPOSED_PARAMS, make_spec
from torch_ref import torch_conv, torch_conv_transpose, torch_input_grad

from transpose_matrix import ConvSpec, ConvSpecError, ConvSpecTypeError, conv_matrix
from transpose_matrix import operator as operator_module
from transpose_matrix.operator import ConvOperator, conv_operator
from transpose_matrix.reference import reference_conv

# Geometries beyond the core grid that stress the polyphase layout: padding
# wider than the kernel (outputs that read no input at all), stride larger
# than the dilated kernel (inputs no tap reads), crops, and 3-D strides.
EXTRA_CASES = {
    "1d-padding-wider-than-kernel": ConvSpec((3,), 2, 3, 4, 1, 1, 2, 1),
    "1d-stride-skips-inputs": ConvSpec((11,), 2, 4, 0, 1, 2, 1, 1),
    "2d-crop-after": ConvSpec((7, 6), 3, 2, [(2, -1), (1, -1)], 1, 2, 2, 1),
    "2d-big-dilation": ConvSpec((9, 9), 2, 1, 3, 4, 1, 3, 1),
    "3d-stride3": ConvSpec((7, 6, 8), (2, 1, 3), 3, 1, (1, 1, 2), 3, 3, 3),
    "2d-depthwise-multiplier": ConvSpec((6, 6), 3, 1, 1, 1, 4, 8, 4),
    # 3x3, stride 1 in 2-D with odd sizes, crops and groups.
    "2d-3x3-odd-crop": ConvSpec((7, 9), 3, 1, [(2, -1), (0, 1)], 1, 3, 2, 1),
    "2d-3x3-groups": ConvSpec((5, 8), 3, 1, 1, 1, 4, 6, 2),
    # Stride 1 on axis 0 with an output at least as long as the input there:
    # the axis-0 taps are summed in one call (the summed path), with edge
    # rows that some tap reads beyond, rows no tap reaches, crops, a strided
    # last axis and a kernel-1 middle axis.
    "2d-3x3-same": ConvSpec((6, 7), 3, 1, 1, 1, 3, 4, 1),
    "2d-same-rows-strided-columns": ConvSpec((6, 9), (3, 2), (1, 2), (1, 0), 1, 2, 3, 1),
    "2d-padding-beyond-reach": ConvSpec((4, 5), (2, 3), 1, [(3, 2), (1, 1)], (2, 1), 2, 2, 1),
    "2d-same-crop-after": ConvSpec((7, 6), 3, 1, [(3, -1), (1, 1)], 1, 2, 2, 1),
    "3d-middle-kernel-one": ConvSpec((5, 4, 6), (3, 1, 3), (1, 2, 1), (1, 0, 1), 1, 2, 3, 1),
    # Kernel equal to stride, no padding: taps own whole phases (the direct path).
    "2d-unet-upconv-forward": ConvSpec((8, 6), 2, 2, 0, 1, 3, 5, 1),
    "3d-patchify-groups": ConvSpec((6, 6, 6), (2, 3, 1), (2, 3, 1), 0, 1, 2, 2, 2),
}

ALL_CASES = {**{name: make_spec(name) for name in FORWARD_CASES}, **EXTRA_CASES}


def arrays(spec: ConvSpec, seed: int, batch: int = 3):
    rng = np.random.default_rng(seed)
    rows, cols = spec.matrix_shape
    return (
        rng.standard_normal(spec.weight_shape),
        rng.standard_normal((cols, batch)),
        rng.standard_normal((rows, batch)),
    )


@pytest.mark.parametrize("case", ALL_CASES)
def test_operator_equals_conv_matrix(case):
    spec = ALL_CASES[case]
    w, X, Y = arrays(spec, seed=0)
    C = conv_matrix(spec, w)
    op = conv_operator(spec, w)
    assert isinstance(op, scipy.sparse.linalg.LinearOperator)
    assert op.shape == C.shape and op.dtype == C.dtype
    np.testing.assert_allclose(op.matvec(X[:, 0]), C @ X[:, 0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(op.rmatvec(Y[:, 0]), C.T @ Y[:, 0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(op.matmat(X), C @ X, rtol=0, atol=1e-12)
    np.testing.assert_allclose(op.rmatmat(Y), C.T @ Y, rtol=0, atol=1e-12)
    np.testing.assert_allclose(op @ X, C @ X, rtol=0, atol=1e-12)
    np.testing.assert_allclose(op.T @ Y, C.T @ Y, rtol=0, atol=1e-12)


@pytest.mark.parametrize("case", FORWARD_CASES)
def test_operator_is_torch_conv_and_input_gradient(case, torch):
    spec = make_spec(case)
    rng = np.random.default_rng(1)
    w = rng.standard_normal(spec.weight_shape)
    x = rng.standard_normal((spec.in_channels, *spec.input_shape))
    g = rng.standard_normal((spec.out_channels, *spec.output_shape))
    op = conv_operator(spec, w)
    expected = torch_conv(torch, spec, w, x)
    np.testing.assert_allclose(op.matvec(x.reshape(-1)), expected.reshape(-1), atol=1e-12)
    gradient = torch_input_grad(torch, spec, w, x, g)
    np.testing.assert_allclose(op.rmatvec(g.reshape(-1)), gradient.reshape(-1), atol=1e-12)


@pytest.mark.parametrize(("case", "output_padding"), TRANSPOSED_PARAMS)
def test_rmatvec_is_torch_conv_transpose(case, output_padding, torch):
    shape, cin, cout, k, s, p, d, g = TRANSPOSED_CASES[case]
    spec = ConvSpec.from_transposed(
        shape, cin, cout, k, stride=s, padding=p, output_padding=output_padding, groups=g,
        dilation=d,
    )
    rng = np.random.default_rng(2)
    w = rng.standard_normal(spec.weight_shape)
    y = rng.standard_normal((cin, *shape))
    expected = torch_conv_transpose(
        torch, w, y, stride=s, padding=p, output_padding=output_padding, groups=g, dilation=d
    )
    result = conv_operator(spec, w).rmatvec(y.reshape(-1))
    np.testing.assert_allclose(result, expected.reshape(-1), atol=1e-12)


@pytest.mark.parametrize("case", EXTRA_CASES)
def test_extra_cases_against_loop_reference(case):
    spec = EXTRA_CASES[case]
    rng = np.random.default_rng(3)
    w = rng.standard_normal(spec.weight_shape)
    x = rng.standard_normal((spec.in_channels, *spec.input_shape))
    expected = reference_conv(spec, w, x)
    np.testing.assert_allclose(
        conv_operator(spec, w).matvec(x.reshape(-1)), expected.reshape(-1), atol=1e-12
    )


@pytest.mark.parametrize("case", ALL_CASES)
def test_dot_test(case):
    spec = ALL_CASES[case]
    w, X, Y = arrays(spec, seed=4, batch=1)
    op = conv_operator(spec, w)
    left = np.dot(op.matvec(X[:, 0]), Y[:, 0])
    right = np.dot(X[:, 0], op.rmatvec(Y[:, 0]))
    assert abs(left - right) <= 1e-12 * max(1.0, abs(left), abs(right))


def test_kernel_equal_to_stride_takes_the_direct_path():
    # The shortcut must be taken where it applies (and the equality tests
    # above then check it), and not where padding or a remainder breaks it.
    for name in ("2d-unet-upconv-forward", "3d-patchify-groups"):
        spec = EXTRA_CASES[name]
        assert conv_operator(spec, np.ones(spec.weight_shape))._direct
    for spec in (ConvSpec((7, 6), 2, 2, 0), ConvSpec((8, 6), 2, 2, 1)):
        assert not conv_operator(spec, np.ones(spec.weight_shape))._direct


def test_split_forward_is_taken_and_reuses_its_buffers():
    # In 2-D and 3-D the forward product is split (last-axis taps gathered,
    # the others added after the product) and keeps its work buffers; a
    # later call, with another batch, dtype or input, must not see stale data.
    for name in ("2d-3x3-odd-crop", "3d-stride3", "2d-big-dilation"):
        spec = ALL_CASES[name]
        w, X, _ = arrays(spec, seed=10, batch=2)
        op = conv_operator(spec, w)
        assert op._split is not None
        C = conv_matrix(spec, w)
        for columns in (X[:, :1], X, X[:, 1:], 1j * X, X[:, :1] + 1.0):
            np.testing.assert_allclose(op.matmat(columns), C @ columns, rtol=0, atol=1e-12)
    assert conv_operator(ConvSpec((9,), 3), np.ones((1, 1, 3)))._split is None


SUMMED_CASES = [
    "2d-3x3-same", "2d-same-rows-strided-columns", "2d-padding-beyond-reach",
    "2d-same-crop-after", "3d-middle-kernel-one", "2d-big-dilation",
]


def test_summed_forward_is_taken_where_it_applies():
    # The equality tests above check these geometries; this checks that they
    # exercise the summed path, and that geometries it cannot handle (groups,
    # a strided or short axis 0, taps on a middle axis) stay on the split one.
    for name in SUMMED_CASES:
        spec = EXTRA_CASES[name]
        assert conv_operator(spec, np.ones(spec.weight_shape))._summed, name
    for spec in (
        EXTRA_CASES["2d-3x3-groups"],
        ConvSpec((8, 8), 3, (2, 1), 1),
        ConvSpec((8, 8), 3, 1, 0),
        ConvSpec((5, 4, 6), 3, 1, 1),
        ConvSpec((8, 8), (1, 3), 1, (0, 1)),
    ):
        assert not conv_operator(spec, np.ones(spec.weight_shape))._summed, spec
    # Rows that the padding keeps from every tap are zero, not stale.
    spec = EXTRA_CASES["2d-padding-beyond-reach"]
    assert any(not inside for _, inside in conv_operator(spec, np.ones(spec.weight_shape))._edges)


@pytest.mark.parametrize("case", SUMMED_CASES)
def test_summed_forward_reuses_buffers_and_matches_the_loop(case):
    spec = EXTRA_CASES[case]
    rng = np.random.default_rng(11)
    w = rng.standard_normal(spec.weight_shape)
    op = conv_operator(spec, w)
    for batch in (1, 2, 1):
        x = rng.standard_normal((batch, spec.in_channels, *spec.input_shape))
        expected = np.stack([reference_conv(spec, w, sample) for sample in x], axis=-1)
        columns = np.moveaxis(x, 0, -1).reshape(-1, batch)
        np.testing.assert_allclose(
            op.matmat(columns), expected.reshape(-1, batch), rtol=0, atol=1e-12
        )


def test_complex_weights_adjoint_and_transpose():
    spec = make_spec("2d-dilated-groups")
    rng = np.random.default_rng(5)
    w = rng.standard_normal(spec.weight_shape) + 1j * rng.standard_normal(spec.weight_shape)
    x = rng.standard_normal(spec.matrix_shape[1]) + 1j * rng.standard_normal(spec.matrix_shape[1])
    y = rng.standard_normal(spec.matrix_shape[0]) + 1j * rng.standard_normal(spec.matrix_shape[0])
    C = conv_matrix(spec, w)
    op = conv_operator(spec, w)
    assert op.dtype == np.complex128
    np.testing.assert_allclose(op.matvec(x), C @ x, atol=1e-12)
    # scipy's rmatvec is the adjoint (conjugate transpose); op.T is Cᵀ.
    np.testing.assert_allclose(op.rmatvec(y), C.conj().T @ y, atol=1e-12)
    np.testing.assert_allclose(op.H @ y, C.conj().T @ y, atol=1e-12)
    np.testing.assert_allclose(op.T @ y, C.T @ y, atol=1e-12)


def test_float32_weights_stay_float32():
    spec = make_spec("2d-stride2-pad1")
    w, X, Y = arrays(spec, seed=6)
    w32, x32 = w.astype(np.float32), X[:, 0].astype(np.float32)
    op = conv_operator(spec, w32)
    assert op.dtype == np.float32
    result = op.matvec(x32)
    assert result.dtype == np.float32
    expected = conv_matrix(spec, w32.astype(np.float64)) @ x32.astype(np.float64)
    np.testing.assert_allclose(result, expected, rtol=1e-5, atol=1e-5)
    # A float64 vector promotes, as numpy does.
    assert op.matvec(X[:, 0]).dtype == np.float64


@pytest.mark.parametrize("case", ["3d-strided-dilated-groups", "2d-3x3-same"])
def test_integer_weights_are_exact(case):
    spec = ALL_CASES[case]
    rng = np.random.default_rng(7)
    w = rng.integers(-5, 6, spec.weight_shape)
    x = rng.integers(-5, 6, spec.matrix_shape[1])
    y = rng.integers(-5, 6, spec.matrix_shape[0])
    C = conv_matrix(spec, w)
    op = conv_operator(spec, w)
    np.testing.assert_array_equal(op.matvec(x), C @ x)
    np.testing.assert_array_equal(op.rmatvec(y), C.T @ y)


@pytest.mark.parametrize(
    "case", ["3d-stride3", "2d-3x3-groups", "1d-stride-skips-inputs", "2d-3x3-same"]
)
def test_chunked_gather_gives_the_same_result(monkeypatch, case):
    # A tiny gather budget splits the forward product into many column
    # chunks (one output row each), reading padding at the first and the
    # last; the result must not depend on where the chunks fall.
    spec = ALL_CASES[case]
    w, X, _ = arrays(spec, seed=8, batch=2)
    expected = conv_matrix(spec, w) @ X
    monkeypatch.setattr(operator_module, "_GATHER_ENTRIES", 7)
    op = conv_operator(spec, w)
    for _ in range(2):  # the second call reuses the first one's buffers
        np.testing.assert_allclose(op.matmat(X), expected, atol=1e-12)


def test_solver_sees_the_same_least_squares_problem():
    # Used through scipy's iterative solvers, the operator must give the
    # answer the explicit matrix gives.
    spec = ConvSpec((12,), 3, 1, 1, 1, 2, 3, 1)
    w, _, Y = arrays(spec, seed=9, batch=1)
    b = Y[:, 0]
    with_matrix = scipy.sparse.linalg.lsqr(conv_matrix(spec, w), b, atol=1e-14, btol=1e-14)[0]
    with_operator = scipy.sparse.linalg.lsqr(conv_operator(spec, w), b, atol=1e-14, btol=1e-14)[0]
    np.testing.assert_allclose(with_operator, with_matrix, atol=1e-9)


def test_operator_checks_its_weight():
    spec = ConvSpec((5,), 3)
    with pytest.raises(ConvSpecError, match=r"weight shape \(1, 1, 2\) must be"):
        conv_operator(spec, np.zeros((1, 1, 2)))
    with pytest.raises(ConvSpecTypeError, match="weight dtype"):
        conv_operator(spec, np.zeros((1, 1, 3), dtype=np.float16))
    with pytest.raises(ConvSpecTypeError, match="must be a ConvSpec"):
        ConvOperator("not a spec", np.zeros((1, 1, 3)))


def test_wrong_vector_length_is_refused():
    op = conv_operator(ConvSpec((5,), 3), np.ones((1, 1, 3)))
    with pytest.raises(ValueError, match="dimension mismatch"):
        op.matvec(np.ones(4))
