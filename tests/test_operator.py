"""conv_operator, every method and both backends, against conv_matrix, torch, the loop
reference and the dot test; its input checks; its hypothesis properties."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse.linalg
from hypothesis import given
from hypothesis import strategies as st
from test_matrix import FORWARD_CASES, TRANSPOSED_CASES, TRANSPOSED_PARAMS, make_spec
from torch_ref import torch_conv, torch_conv_transpose, torch_input_grad

from transpose_matrix import ConvSpec, ConvSpecError, ConvSpecTypeError, conv_matrix, pad_matrix
from transpose_matrix.matrices.reference import reference_conv
from transpose_matrix.operator import (
    METHODS,
    ConvOperator,
    auto_method,
    conv_operator,
    numpy_backend,
)

# Geometries beyond the core grid: padding wider than the kernel (outputs
# that read no input), stride larger than the dilated kernel (inputs no tap
# reads, phases with no taps), crops, 3-D strides, depthwise layers, kernel
# equal to stride (taps own whole phases) and real layers' shapes in small.
EXTRA_CASES = {
    "1d-padding-wider-than-kernel": ConvSpec((3,), 2, 3, 4, 1, 1, 2, 1),
    "1d-stride-skips-inputs": ConvSpec((11,), 2, 4, 0, 1, 2, 1, 1),
    "1d-causal-dilated": ConvSpec((12,), 2, 1, [(4, 0)], 4, 3, 5, 1),
    "1d-crop-beyond-reach": ConvSpec((10,), 3, 2, [(0, -3)], 1, 2, 2, 1),
    "2d-crop-after": ConvSpec((7, 6), 3, 2, [(2, -1), (1, -1)], 1, 2, 2, 1),
    "2d-big-dilation": ConvSpec((9, 9), 2, 1, 3, 4, 1, 3, 1),
    "2d-dilation-and-stride-share-factor": ConvSpec((11, 14), 3, (2, 4), 1, (2, 6), 2, 3, 1),
    "3d-stride3": ConvSpec((7, 6, 8), (2, 1, 3), 3, 1, (1, 1, 2), 3, 3, 3),
    "2d-depthwise": ConvSpec((6, 7), 3, 1, 1, 1, 4, 4, 4),
    "2d-depthwise-strided": ConvSpec((9, 8), 3, 2, 1, 1, 3, 3, 3),
    "2d-depthwise-multiplier": ConvSpec((6, 6), 3, 1, 1, 1, 4, 8, 4),
    "2d-3x3-odd-crop": ConvSpec((7, 9), 3, 1, [(2, -1), (0, 1)], 1, 3, 2, 1),
    "2d-3x3-groups": ConvSpec((5, 8), 3, 1, 1, 1, 4, 6, 2),
    "2d-padding-beyond-reach": ConvSpec((4, 5), (2, 3), 1, [(3, 2), (1, 1)], (2, 1), 2, 2, 1),
    "2d-stem-like": ConvSpec((12, 11), 7, 2, 3, 1, 2, 6, 1),
    "2d-dcgan-like": ConvSpec.from_transposed((4, 5), 6, 3, 4, 2, 1),
    "2d-unet-upconv": ConvSpec.from_transposed((4, 3), 6, 4, 2, 2),
    "3d-patchify-groups": ConvSpec((6, 6, 6), (2, 3, 1), (2, 3, 1), 0, 1, 2, 2, 2),
    "3d-middle-kernel-one": ConvSpec((5, 4, 6), (3, 1, 3), (1, 2, 1), (1, 0, 1), 1, 2, 3, 1),
    "1d-summed-no-gather": ConvSpec((13,), 3, 1, [(4, 2)], 2, 3, 2, 1),
    "2d-summed-tall-reach": ConvSpec((5, 6), (4, 2), 1, [(3, 1), (1, 0)], (2, 1), 2, 3, 1),
}

# Padding modes (C = D·P): 1-, 2- and 3-D, strides, dilation, groups and
# depthwise, one-sided and asymmetric amounts up to each mode's limit.
MODE_CASES = {
    "1d-reflect-strided": ConvSpec((9,), 4, 2, [(3, 2)], 1, 2, 4, 2, padding_mode="reflect"),
    "1d-circular-wrap-all": ConvSpec((5,), 3, 1, [(5, 5)], 2, 1, 2, 1, padding_mode="circular"),
    "1d-replicate-causal": ConvSpec((8,), 2, 1, [(6, 0)], 3, 2, 2, 1, padding_mode="replicate"),
    "2d-reflect-same": ConvSpec((7, 6), 3, 1, 1, 1, 3, 4, 1, padding_mode="reflect"),
    "2d-replicate-stem-like": ConvSpec((9, 10), 5, 2, 2, 1, 2, 6, 1, padding_mode="replicate"),
    "2d-circular-dilated-groups": ConvSpec((6, 7), 3, (1, 2), [(2, 1), (3, 0)], (2, 1), 4, 2, 2,
                                           padding_mode="circular"),
    "2d-reflect-depthwise": ConvSpec((6, 5), 3, 1, [(2, 1), (1, 2)], 1, 3, 3, 3,
                                     padding_mode="reflect"),
    "3d-replicate": ConvSpec((4, 3, 5), (3, 2, 3), (1, 2, 1), [(1, 2), (0, 1), (2, 2)], 1, 2, 2, 1,
                             padding_mode="replicate"),
    "3d-circular-strided": ConvSpec((3, 4, 4), 2, 2, 1, (1, 2, 1), 2, 4, 2,
                                    padding_mode="circular"),
}

ALL_CASES = {**{name: make_spec(name) for name in FORWARD_CASES}, **EXTRA_CASES, **MODE_CASES}
EVERY_METHOD = [*METHODS, "auto"]


def arrays(spec: ConvSpec, seed: int, batch: int = 3, dtype=np.float64):
    rng = np.random.default_rng(seed)
    rows, cols = spec.matrix_shape

    def draw(*shape):
        values = rng.standard_normal(shape)
        if np.dtype(dtype).kind == "c":
            values = values + 1j * rng.standard_normal(shape)
        return values.astype(dtype)

    return draw(*spec.weight_shape), draw(cols, batch), draw(rows, batch)


@pytest.mark.parametrize("method", EVERY_METHOD)
@pytest.mark.parametrize("case", ALL_CASES)
def test_operator_equals_conv_matrix(case, method):
    spec = ALL_CASES[case]
    w, X, Y = arrays(spec, seed=0)
    C = conv_matrix(spec, w)
    op = conv_operator(spec, w, method=method)
    assert isinstance(op, scipy.sparse.linalg.LinearOperator)
    assert op.shape == C.shape and op.dtype == C.dtype
    assert op.method == (auto_method(spec) if method == "auto" else method)
    np.testing.assert_allclose(op.matvec(X[:, 0]), C @ X[:, 0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(op.rmatvec(Y[:, 0]), C.T @ Y[:, 0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(op.matmat(X), C @ X, rtol=0, atol=1e-12)
    np.testing.assert_allclose(op.rmatmat(Y), C.T @ Y, rtol=0, atol=1e-12)
    np.testing.assert_allclose(op @ X, C @ X, rtol=0, atol=1e-12)
    np.testing.assert_allclose(op.T @ Y, C.T @ Y, rtol=0, atol=1e-12)
    np.testing.assert_allclose(op.H.matmat(Y), C.T @ Y, rtol=0, atol=1e-12)
    np.testing.assert_allclose(op.T.rmatvec(X[:, 1]), C @ X[:, 1], rtol=0, atol=1e-12)
    np.testing.assert_allclose(op.H.rmatmat(X), C @ X, rtol=0, atol=1e-12)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("case", FORWARD_CASES)
def test_operator_is_torch_conv_and_input_gradient(case, method, torch):
    spec = make_spec(case)
    rng = np.random.default_rng(1)
    w = rng.standard_normal(spec.weight_shape)
    x = rng.standard_normal((spec.in_channels, *spec.input_shape))
    g = rng.standard_normal((spec.out_channels, *spec.output_shape))
    op = conv_operator(spec, w, method)
    expected = torch_conv(torch, spec, w, x)
    np.testing.assert_allclose(op.matvec(x.reshape(-1)), expected.reshape(-1), atol=1e-12)
    gradient = torch_input_grad(torch, spec, w, x, g)
    np.testing.assert_allclose(op.rmatvec(g.reshape(-1)), gradient.reshape(-1), atol=1e-12)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(("case", "output_padding"), TRANSPOSED_PARAMS)
def test_rmatvec_is_torch_conv_transpose(case, output_padding, method, torch):
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
    result = conv_operator(spec, w, method).rmatvec(y.reshape(-1))
    np.testing.assert_allclose(result, expected.reshape(-1), atol=1e-12)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("case", EXTRA_CASES)
def test_extra_cases_against_loop_reference(case, method):
    spec = EXTRA_CASES[case]
    rng = np.random.default_rng(3)
    w = rng.standard_normal(spec.weight_shape)
    x = rng.standard_normal((spec.in_channels, *spec.input_shape))
    expected = reference_conv(spec, w, x)
    np.testing.assert_allclose(
        conv_operator(spec, w, method).matvec(x.reshape(-1)), expected.reshape(-1), atol=1e-12
    )


@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("case", ALL_CASES)
def test_dot_test(case, method, dtype):
    # <Cx, y> = <x, Cᴴy>, with the conjugating inner product for complex.
    spec = ALL_CASES[case]
    w, X, Y = arrays(spec, seed=4, batch=1, dtype=dtype)
    op = conv_operator(spec, w, method)
    left = np.vdot(Y[:, 0], op.matvec(X[:, 0]))
    right = np.vdot(op.rmatvec(Y[:, 0]), X[:, 0])
    assert abs(left - right) <= 1e-12 * max(1.0, abs(left), abs(right))


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("case", ["2d-dilated-groups", "2d-depthwise-strided", "2d-stem-like"])
def test_complex_weights_adjoint_and_transpose(case, method):
    spec = ALL_CASES[case]
    w, X, Y = arrays(spec, seed=5, batch=2, dtype=np.complex128)
    C = conv_matrix(spec, w)
    op = conv_operator(spec, w, method)
    assert op.dtype == np.complex128
    np.testing.assert_allclose(op.matmat(X), C @ X, atol=1e-12)
    # scipy's rmatvec is the adjoint (conjugate transpose); op.T is Cᵀ.
    np.testing.assert_allclose(op.rmatvec(Y[:, 0]), C.conj().T @ Y[:, 0], atol=1e-12)
    np.testing.assert_allclose(op.H @ Y, C.conj().T @ Y, atol=1e-12)
    np.testing.assert_allclose(op.T @ Y, C.T @ Y, atol=1e-12)
    np.testing.assert_allclose(op.T.rmatvec(X[:, 0]), C.conj() @ X[:, 0], atol=1e-12)
    # Real weights with complex vectors: complex results, C itself real.
    real = conv_operator(spec, w.real.copy(), method)
    np.testing.assert_allclose(real.matmat(X), C.real @ X, atol=1e-12)
    np.testing.assert_allclose(real.rmatmat(Y), C.real.T @ Y, atol=1e-12)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("case", ["2d-stride2-pad1", "2d-depthwise", "2d-dcgan-like", "3d-stride3"])
def test_float32_stays_float32(case, method):
    spec = ALL_CASES[case]
    w, X, Y = arrays(spec, seed=6)
    w32, X32, Y32 = w.astype(np.float32), X.astype(np.float32), Y.astype(np.float32)
    op = conv_operator(spec, w32, method)
    assert op.dtype == np.float32
    C = conv_matrix(spec, w32.astype(np.float64))
    results = {
        "matvec": (op.matvec(X32[:, 0]), C @ X32[:, 0].astype(np.float64)),
        "matmat": (op.matmat(X32), C @ X32.astype(np.float64)),
        "rmatvec": (op.rmatvec(Y32[:, 0]), C.T @ Y32[:, 0].astype(np.float64)),
        "rmatmat": (op.rmatmat(Y32), C.T @ Y32.astype(np.float64)),
        "T": (op.T @ Y32, C.T @ Y32.astype(np.float64)),
    }
    for name, (result, expected) in results.items():
        assert result.dtype == np.float32, name
        np.testing.assert_allclose(result, expected, rtol=1e-5, atol=1e-5, err_msg=name)
    # A float64 vector promotes, as numpy does; complex64 stays single.
    assert op.matvec(X[:, 0]).dtype == np.float64
    assert op.rmatvec(Y32[:, 0].astype(np.complex64)).dtype == np.complex64


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("case", ["3d-strided-dilated-groups", "2d-depthwise", "2d-crop-after"])
def test_integer_weights_are_exact(case, method):
    spec = ALL_CASES[case]
    rng = np.random.default_rng(7)
    w = rng.integers(-5, 6, spec.weight_shape)
    x = rng.integers(-5, 6, spec.matrix_shape[1])
    y = rng.integers(-5, 6, spec.matrix_shape[0])
    C = conv_matrix(spec, w)
    op = conv_operator(spec, w, method)
    np.testing.assert_array_equal(op.matvec(x), C @ x)
    np.testing.assert_array_equal(op.rmatvec(y), C.T @ y)
    assert op.matvec(x > 0).dtype == np.int64  # a boolean mask is numbers too


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("case", ["3d-stride3", "2d-3x3-groups", "1d-stride-skips-inputs",
                                  "2d-crop-after", "2d-dcgan-like", "2d-summed-tall-reach",
                                  "3d-replicate"])
def test_banded_gather_gives_the_same_result(monkeypatch, case, method):
    # Big layers are gathered a band of output rows at a time; a tiny budget
    # makes every band one row here, so that bands meet padding and crops.
    spec = ALL_CASES[case]
    w, X, Y = arrays(spec, seed=8, batch=2)
    C = conv_matrix(spec, w)
    monkeypatch.setattr(numpy_backend, "GATHER_ENTRIES", 7)
    op = conv_operator(spec, w, method)
    np.testing.assert_allclose(op.matmat(X), C @ X, atol=1e-12)
    np.testing.assert_allclose(op.rmatmat(Y), C.T @ Y, atol=1e-12)


def test_auto_picks_by_the_stated_rule():
    # Many more output than input channels (a ResNet stem) -> im2col.
    assert auto_method(ConvSpec((16, 16), 7, 2, 3, 1, 3, 64)) == "im2col"
    assert auto_method(ConvSpec((8, 8), 3, 2, 1, 1, 4, 9, 1)) == "im2col"
    # 'same' layers with as many outputs as inputs per tap -> summed: the
    # saved copies outweigh the products added back.
    assert auto_method(ConvSpec((16, 16), 3, 1, 1, 1, 8, 8)) == "summed"
    assert auto_method(ConvSpec((6, 8, 8), 3, 1, 1, 1, 4, 4)) == "summed"
    assert auto_method(ConvSpec((64,), 2, 1, [(4, 0)], 4, 4, 8)) == "summed"
    # Large products with a long reach (a dilated 3x3 on a small input), any
    # grouped layer, and 1x1 layers (nothing to sum) -> polyphase.
    assert auto_method(ConvSpec((9, 9), 3, 1, 2, 2, 64, 64)) == "polyphase"
    assert auto_method(ConvSpec((8, 8), 3, 1, 1, 1, 8, 8, 4)) == "polyphase"
    assert auto_method(ConvSpec((8, 8), 3, 1, 1, 1, 6, 6, 6)) == "polyphase"
    assert auto_method(ConvSpec((8, 8), 1, 2, 0, 1, 8, 16)) == "polyphase"
    spec = ConvSpec((8, 8), 3, 2, 1, 1, 2, 5)
    assert conv_operator(spec, np.ones(spec.weight_shape)).method == "im2col"


def test_summed_estimate_follows_its_formula():
    # The estimate of summed_pays, recomputed for one 'same' 3x3 layer from
    # the docstring's terms: forward and its single adjoint phase alike.
    cost = numpy_backend.PRODUCT_COST
    for channels, expected in ((8, True), (400, False)):
        spec = ConvSpec((12, 12), 3, 1, 1, 1, channels, channels)
        n, rows = 12 * 12, 14 * 12
        im2col = (channels * 9 + cost * channels * channels * 9) * n
        summed = (channels * 3 + cost * channels * channels * 9 + 3 * channels / 2) * rows
        assert (summed <= im2col) is expected
        assert numpy_backend.summed_pays(spec) is expected


def test_unknown_method_backend_or_device_is_refused():
    spec = ConvSpec((5,), 3)
    w = np.ones((1, 1, 3))
    with pytest.raises(ConvSpecError, match=r"method='fft' must be 'auto' or one of 'im2col'"):
        conv_operator(spec, w, method="fft")
    with pytest.raises(ConvSpecError, match=r"method=\['im2col'\] must be"):
        conv_operator(spec, w, method=["im2col"])
    with pytest.raises(ConvSpecError, match="backend='jax' must be one of numpy, torch"):
        conv_operator(spec, w, backend="jax")
    with pytest.raises(ConvSpecError, match="device='cuda' applies to backend='torch' only"):
        conv_operator(spec, w, device="cuda")


def test_operator_checks_its_weight():
    spec = ConvSpec((5,), 3)
    with pytest.raises(ConvSpecError, match=r"weight shape \(1, 1, 2\) must be"):
        conv_operator(spec, np.zeros((1, 1, 2)))
    with pytest.raises(ConvSpecTypeError, match="weight dtype"):
        conv_operator(spec, np.zeros((1, 1, 3), dtype=np.float16))
    with pytest.raises(ConvSpecTypeError, match="must be a ConvSpec"):
        ConvOperator("not a spec", np.zeros((1, 1, 3)))


@pytest.mark.parametrize("backend", ["numpy", "torch"])
@pytest.mark.parametrize("case", MODE_CASES)
def test_padding_modes_match_torch_modules(case, backend, torch):
    # torch's ConvNd(padding_mode=...) forward and autograd's input gradient,
    # through every numpy method and the torch backend.
    spec = MODE_CASES[case]
    module_class = (torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Conv3d)[spec.ndim - 1]
    amounts = [amount for pair in reversed(spec.padding) for amount in pair]
    module = module_class(spec.in_channels, spec.out_channels, spec.kernel_size, spec.stride, 0,
                          spec.dilation, spec.groups, bias=False).double()
    rng = np.random.default_rng(17)
    x = torch.tensor(rng.standard_normal((1, spec.in_channels, *spec.input_shape)),
                     requires_grad=True)
    g = rng.standard_normal((spec.out_channels, *spec.output_shape))
    # F.pad with the mode then the padding-free layer: what ConvNd does inside.
    out = module(torch.nn.functional.pad(x, amounts, mode=spec.padding_mode))
    out.backward(torch.tensor(g)[None])
    w = module.weight.detach().numpy()
    for method in (METHODS if backend == "numpy" else ["auto"]):
        op = conv_operator(spec, w, method, backend=backend)
        np.testing.assert_allclose(op.matvec(x.detach().numpy().reshape(-1)),
                                   out.detach().numpy().reshape(-1), atol=1e-12, err_msg=method)
        np.testing.assert_allclose(op.rmatvec(g.reshape(-1)), x.grad.numpy().reshape(-1),
                                   atol=1e-12, err_msg=method)


def test_padding_mode_matches_torch_padding_mode_argument(torch):
    # The module's own padding_mode= argument (reflect of a 'same' 3x3).
    spec = MODE_CASES["2d-reflect-same"]
    module = torch.nn.Conv2d(3, 4, 3, padding=1, bias=False, padding_mode="reflect").double()
    x = np.random.default_rng(18).standard_normal((3, 7, 6))
    expected = module(torch.tensor(x)[None]).detach().numpy().reshape(-1)
    for method in EVERY_METHOD:
        op = conv_operator(spec, module.weight.detach().numpy(), method)
        np.testing.assert_allclose(op.matvec(x.reshape(-1)), expected, atol=1e-12)


def test_padding_mode_is_d_after_p():
    # C = D·P with P the pad_matrix of every channel and D the padding-free
    # convolution of the padded input, whose own operator is zero-padded.
    spec = MODE_CASES["2d-circular-dilated-groups"]
    w, X, Y = arrays(spec, seed=19, batch=2)
    lengths = tuple(n + b + e for n, (b, e) in zip(spec.input_shape, spec.padding))
    inner = ConvSpec(lengths, spec.kernel_size, spec.stride, 0, spec.dilation,
                     spec.in_channels, spec.out_channels, spec.groups)
    P = scipy.sparse.kron(scipy.sparse.eye_array(spec.in_channels),
                          pad_matrix(spec.input_shape, spec.padding, mode=spec.padding_mode))
    D = conv_operator(inner, w)
    op = conv_operator(spec, w)
    np.testing.assert_allclose(op.matmat(X), D.matmat(P @ X), atol=1e-12)
    np.testing.assert_allclose(op.rmatmat(Y), P.T @ D.rmatmat(Y), atol=1e-12)
    assert op.method == auto_method(inner)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("spec", [ConvSpec((6,), 3, 2, 1), ConvSpec((5, 6), 2, 1, 1, 1, 2, 2)])
def test_weight_is_copied_at_construction(spec, method):
    # Editing the caller's array afterwards changes neither direction, so the
    # operator stays its own adjoint; its own weight is read-only.
    w, X, Y = arrays(spec, seed=12, batch=1)
    op = conv_operator(spec, w, method)
    before = op.matvec(X[:, 0]), op.rmatvec(Y[:, 0])
    w[...] = 7.0
    np.testing.assert_array_equal(op.matvec(X[:, 0]), before[0])
    np.testing.assert_array_equal(op.rmatvec(Y[:, 0]), before[1])
    assert not op.weight.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        op.weight[...] = 0


def test_torch_weight_with_requires_grad_is_accepted(torch):
    spec = ConvSpec((6, 5), 3, 1, 1, 1, 2, 3)
    w = torch.randn(spec.weight_shape, dtype=torch.float64, requires_grad=True)
    op = conv_operator(spec, w)
    x = np.random.default_rng(13).standard_normal(spec.matrix_shape[1])
    expected = conv_matrix(spec, w.detach().numpy()) @ x
    np.testing.assert_allclose(op.matvec(x), expected, atol=1e-12)
    assert w.requires_grad and w.grad is None


def test_zero_columns_give_an_empty_result():
    spec = ConvSpec((5, 4), 3, 1, 1, 1, 2, 3)
    op = conv_operator(spec, np.ones(spec.weight_shape, dtype=np.float32))
    rows, cols = spec.matrix_shape
    for result, shape in (
        (op.matmat(np.ones((cols, 0), dtype=np.float32)), (rows, 0)),
        (op.rmatmat(np.ones((rows, 0))), (cols, 0)),
        (op @ np.ones((cols, 0)), (rows, 0)),
        (op.T @ np.ones((rows, 0)), (cols, 0)),
    ):
        assert result.shape == shape
    assert op.matmat(np.ones((cols, 0), dtype=np.float32)).dtype == np.float32


BAD_VECTORS = [
    ("matvec", np.ones(4), ConvSpecError, r"x of shape \(4,\) must have shape \(5,\): length 5 = "
     r"in_channels \* prod\(input_shape\) = 1 \* prod\(\(5,\)\)"),
    ("rmatvec", np.ones(5), ConvSpecError, r"y of shape \(5,\) must have shape \(3,\): length 3 = "
     r"out_channels \* prod\(output_shape\)"),
    ("matmat", np.ones((4, 2)), ConvSpecError, r"x of shape \(4, 2\) must have shape \(5, k\)"),
    ("matmat", np.ones(5), ConvSpecError, r"x of shape \(5,\) must have shape \(5, k\)"),
    ("rmatmat", np.ones((3, 2, 1)), ConvSpecError, r"y of shape \(3, 2, 1\) must have shape"),
    ("matvec", np.array(list("abcde")), ConvSpecTypeError, "x dtype <U1 must be numeric"),
    ("rmatvec", np.array([b"a", b"b", b"c"]), ConvSpecTypeError, "y dtype |S1 must be numeric"),
    ("matvec", np.array([1, 2, 3, 4, None], dtype=object), ConvSpecTypeError,
     "x dtype object must be numeric"),
    ("matvec", np.ones(5, dtype="datetime64[s]"), ConvSpecTypeError, "datetime64"),
    ("matvec", [[1, 2], [3]], ConvSpecTypeError, "x could not be read as an array"),
]


@pytest.mark.parametrize(("call", "value", "error", "message"), BAD_VECTORS)
def test_bad_vectors_are_refused_with_the_expected_length(call, value, error, message):
    op = conv_operator(ConvSpec((5,), 3), np.ones((1, 1, 3)))
    with pytest.raises(error, match=message):
        getattr(op, call)(value)


def test_bad_vectors_are_refused_through_scipy_entry_points():
    op = conv_operator(ConvSpec((5,), 3), np.ones((1, 1, 3)))
    with pytest.raises(ConvSpecError, match=r"must have shape \(5,\)"):
        op @ np.ones(4)
    with pytest.raises(ConvSpecError, match=r"y of shape \(5,\) must have shape \(3,\)"):
        op.H @ np.ones(5)
    with pytest.raises(ConvSpecError, match=r"y of shape \(4,\) must have shape \(3,\)"):
        op.T.matvec(np.ones(4))
    with pytest.raises(ConvSpecError, match=r"x of shape \(3,\) must have shape \(5,\)"):
        op.T.rmatvec(np.ones(3))
    with pytest.raises(ConvSpecTypeError, match="must be numeric"):
        (op + op).matvec(np.array(list("abcde")))


def test_dims_and_dimsd():
    spec = ConvSpec((7, 6), 3, 2, 1, 1, 2, 4)
    op = conv_operator(spec, np.ones(spec.weight_shape))
    assert op.dims == (2, 7, 6) and op.dimsd == (4, 4, 3)
    assert op.shape == (np.prod(op.dimsd), np.prod(op.dims))
    assert op.H.dims == op.dimsd and op.H.dimsd == op.dims
    assert op.T.shape == op.shape[::-1]


def test_solver_sees_the_same_least_squares_problem():
    # Used through scipy's iterative solvers, the operator must give the
    # answer the explicit matrix gives.
    spec = ConvSpec((12,), 3, 1, 1, 1, 2, 3, 1)
    w, _, Y = arrays(spec, seed=9, batch=1)
    b = Y[:, 0]
    with_matrix = scipy.sparse.linalg.lsqr(conv_matrix(spec, w), b, atol=1e-14, btol=1e-14)[0]
    with_operator = scipy.sparse.linalg.lsqr(conv_operator(spec, w), b, atol=1e-14, btol=1e-14)[0]
    np.testing.assert_allclose(with_operator, with_matrix, atol=1e-9)


# The torch backend.


@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
@pytest.mark.parametrize("case", ALL_CASES)
def test_torch_backend_equals_numpy_backend(case, dtype, torch):
    spec = ALL_CASES[case]
    w, X, Y = arrays(spec, seed=14, batch=2, dtype=dtype)
    op = conv_operator(spec, w, backend="torch")
    assert op.backend == "torch" and op.method == "auto"
    reference = conv_operator(spec, w)
    np.testing.assert_allclose(op.matmat(X), reference.matmat(X), atol=1e-12)
    np.testing.assert_allclose(op.rmatmat(Y), reference.rmatmat(Y), atol=1e-12)
    np.testing.assert_allclose(op.matvec(X[:, 0]), reference.matvec(X[:, 0]), atol=1e-12)
    np.testing.assert_allclose(op.T @ Y, reference.T @ Y, atol=1e-12)


def test_torch_backend_float32_and_device(torch):
    spec = ALL_CASES["2d-dcgan-like"]
    w, X, Y = arrays(spec, seed=15, batch=2, dtype=np.float32)
    op = conv_operator(spec, w, backend="torch", device="cpu")
    C = conv_matrix(spec, w.astype(np.float64))
    for result, expected in ((op.matmat(X), C @ X.astype(np.float64)),
                             (op.rmatvec(Y[:, 0]), C.T @ Y[:, 0].astype(np.float64))):
        assert result.dtype == np.float32
        np.testing.assert_allclose(result, expected, rtol=1e-5, atol=1e-5)
    assert op.matvec(X[:, 0].astype(np.float64)).dtype == np.float64
    assert op.matvec(X[:, 0] > 0).dtype == np.float32
    assert op.rmatmat(np.ones((spec.matrix_shape[0], 0))).shape == (spec.matrix_shape[1], 0)


def test_torch_backend_refusals(torch, monkeypatch):
    spec = ConvSpec((5,), 3)
    with pytest.raises(ConvSpecError, match="method='polyphase' applies to backend='numpy'"):
        conv_operator(spec, np.ones((1, 1, 3)), "polyphase", backend="torch")
    with pytest.raises(ConvSpecTypeError, match="backend='torch' computes in float32"):
        conv_operator(spec, np.ones((1, 1, 3), dtype=np.int64), backend="torch")
    with pytest.raises(ConvSpecError, match="y of shape"):
        conv_operator(spec, np.ones((1, 1, 3)), backend="torch").rmatvec(np.ones(5))
    # Without torch: an ImportError whose one line says how to install it.
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ImportError, match=r"^backend='torch' needs PyTorch: pip install "
                       r'"transpose_matrix\[torch\]"$'):
        conv_operator(spec, np.ones((1, 1, 3)), backend="torch")


def test_numpy_backend_never_imports_torch():
    code = (
        "import sys, numpy as np, transpose_matrix as tm\n"
        "op = tm.conv_operator(tm.ConvSpec((6, 6), 3), np.ones((1, 1, 3, 3)))\n"
        "op.matvec(np.ones(36)); op.rmatvec(np.ones(16))\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# Properties on random geometries, generated valid (no filtering).


@st.composite
def specs(draw):
    """A valid spec: any padding mode, amounts inside its limits ('zeros' may crop)."""
    ndim = draw(st.integers(1, 3))
    mode = draw(st.sampled_from(["zeros", "zeros", "reflect", "replicate", "circular"]))
    groups = draw(st.integers(1, 3))
    cin = groups * draw(st.integers(1, 2))
    cout = groups * draw(st.integers(1, 2))
    shape, kernel, stride, padding, dilation = [], [], [], [], []
    for _ in range(ndim):
        n = draw(st.integers(1 if mode != "reflect" else 2, 4 if ndim == 3 else 9))
        before = draw(st.integers(0, {"reflect": n - 1, "circular": n}.get(mode, 3)))
        if mode == "zeros":
            # The padded length must hold the dilated kernel; 'after' below zero crops.
            k, d = draw(st.integers(1, 4)), draw(st.integers(1, 3))
            span = d * (k - 1) + 1
            after = draw(st.integers(span, max(span, n + before + 3))) - n - before
        else:
            after = draw(st.integers(0, {"reflect": n - 1, "circular": n}.get(mode, 3)))
            length = n + before + after
            k = draw(st.integers(1, min(4, length)))
            d = draw(st.integers(1, max(1, min(3, (length - 1) // max(1, k - 1)))))
        shape.append(n)
        kernel.append(k)
        stride.append(draw(st.integers(1, 3)))
        dilation.append(d)
        padding.append((before, after))
    return ConvSpec(tuple(shape), tuple(kernel), tuple(stride), tuple(padding), tuple(dilation),
                    cin, cout, groups, padding_mode=mode)


@given(spec=specs(), method=st.sampled_from(EVERY_METHOD), seed=st.integers(0, 2**16),
       batch=st.integers(1, 3), dtype=st.sampled_from([np.float32, np.float64, np.complex128]))
def test_property_every_method_is_c_and_its_adjoint(spec, method, seed, batch, dtype):
    w, X, Y = arrays(spec, seed, batch, dtype)
    # C in double precision: float32 results are compared to the exact product.
    C = conv_matrix(spec, w.astype(np.result_type(w.dtype, np.float64)))
    op = conv_operator(spec, w, method)
    tolerance = 1e-4 if dtype == np.float32 else 1e-11
    result, adjoint = op.matmat(X), op.rmatmat(Y)
    assert result.dtype == adjoint.dtype == dtype
    np.testing.assert_allclose(result, C @ X, atol=tolerance, rtol=tolerance)
    np.testing.assert_allclose(adjoint, C.conj().T @ Y, atol=tolerance, rtol=tolerance)
    left, right = np.vdot(Y, result), np.vdot(adjoint, X)
    assert abs(left - right) <= tolerance * max(1.0, abs(left))


@given(spec=specs(), seed=st.integers(0, 2**16), batch=st.integers(1, 2),
       dtype=st.sampled_from([np.float32, np.float64, np.complex128]))
def test_property_every_method_is_the_torch_backend(torch, spec, seed, batch, dtype):
    # torch's own convNd / conv_transposeNd (through the torch backend) as the
    # referee of every numpy method, in every dtype.
    w, X, Y = arrays(spec, seed, batch, dtype)
    theirs = conv_operator(spec, w, backend="torch")
    tolerance = 1e-4 if dtype == np.float32 else 1e-11
    expected = {"matmat": theirs.matmat(X), "rmatmat": theirs.rmatmat(Y)}
    for method in METHODS:
        ours = conv_operator(spec, w, method)
        for name, data in (("matmat", X), ("rmatmat", Y)):
            mine = getattr(ours, name)(data)
            assert mine.dtype == expected[name].dtype == dtype
            np.testing.assert_allclose(mine, expected[name], atol=tolerance, rtol=tolerance)


@pytest.mark.parametrize("method", METHODS)
def test_huge_strides_build_only_the_phases_taps_reach(method):
    # A stride of 10**6 per dim has 10**18 phases; only the few some tap
    # reaches are planned, so building and applying stay instant.
    spec = ConvSpec((3, 4, 5), 2, 10**6, 1, 1, 2, 3)
    w, X, Y = arrays(spec, seed=16, batch=2)
    C = conv_matrix(spec, w)
    op = conv_operator(spec, w, method)
    np.testing.assert_allclose(op.matmat(X), C @ X, atol=1e-12)
    np.testing.assert_allclose(op.rmatmat(Y), C.T @ Y, atol=1e-12)


def test_torch_weight_numpy_cannot_hold_is_refused(torch):
    spec = ConvSpec((5,), 3)
    with pytest.raises(ConvSpecTypeError, match="weight could not be read as an array"):
        conv_operator(spec, torch.ones((1, 1, 3), dtype=torch.bfloat16))


# Operands shaped dims / dimsd (PyLops' convention), and what is not an operand.


def test_dims_shaped_operands_answer_dimsd_shaped(torch):
    spec = ConvSpec((7, 6), 3, 2, 1, 1, 2, 4)
    rng = np.random.default_rng(11)
    w = rng.standard_normal(spec.weight_shape)
    x = rng.standard_normal((spec.in_channels, *spec.input_shape))
    g = rng.standard_normal((spec.out_channels, *spec.output_shape))
    op = conv_operator(spec, w)
    expected, gradient = torch_conv(torch, spec, w, x), torch_input_grad(torch, spec, w, x, g)
    for result in (op @ x, op.dot(x), op.matvec(x), op.T.rmatvec(x)):
        assert result.shape == op.dimsd == expected.shape
        np.testing.assert_allclose(result, expected, atol=1e-12)
    for result in (op.H @ g, op.T @ g, op.rmatvec(g), op.H.dot(g)):
        assert result.shape == op.dims
        np.testing.assert_allclose(result, gradient, atol=1e-12)
    # Flat vectors and columns keep their shapes.
    assert (op @ x.reshape(-1)).shape == (np.prod(op.dimsd),)
    assert (op @ x.reshape(-1, 1)).shape == (np.prod(op.dimsd), 1)


def test_pylops_dottest_and_pylops_operators_on_dims_shaped_arrays(torch):
    pylops = _pylops()
    from pylops.utils import dottest

    spec = ConvSpec((6, 5, 4), 3, (1, 2, 1), 1, 1, 2, 3, 1, padding_mode="reflect")
    rng = np.random.default_rng(12)
    w = rng.standard_normal(spec.weight_shape) + 1j * rng.standard_normal(spec.weight_shape)
    op = conv_operator(spec, w)
    assert dottest(op, *op.shape, complexflag=3, rtol=1e-10)
    assert dottest(conv_operator(spec, w.real), *op.shape, rtol=1e-10)
    wrapped = pylops.aslinearoperator(conv_operator(spec, w.real))
    assert wrapped.dims == op.dims and wrapped.dimsd == op.dimsd
    x = rng.standard_normal(op.dims)
    plain = ConvSpec((6, 5, 4), 3, (1, 2, 1), 0, 1, 2, 3, 1)
    padded = np.pad(x, [(0, 0), (1, 1), (1, 1), (1, 1)], mode="reflect")
    expected = torch_conv(torch, plain, w.real, padded)
    np.testing.assert_allclose(wrapped @ x, expected, atol=1e-12)


def _pylops():
    from conftest import _module, require

    module = _module("pylops")
    require("pylops", module is not None)
    return module


def test_op_at_none_or_a_scalar_is_a_clear_type_error():
    op = conv_operator(ConvSpec((5,), 3), np.ones((1, 1, 3)))
    with pytest.raises(ConvSpecTypeError, match=r"op @ None: expected an array of shape "
                                                r"\(5,\), \(5, K\) or dims \(1, 5\)"):
        op @ None
    with pytest.raises(TypeError, match=r"op @ 3.0: expected an array of shape \(5,\), "
                                        r"\(5, K\) or dims \(1, 5\) \(to scale the operator: "
                                        r"op \* 3.0\)"):
        op @ 3.0
    with pytest.raises(ConvSpecTypeError, match=r"op @ None: expected an array of shape "
                                                r"\(3,\), \(3, K\) or dims \(1, 3\)"):
        op.H @ None
    with pytest.raises(ConvSpecTypeError, match=r"x is None: expected an array of shape \(5,\)"):
        op.matvec(None)
    with pytest.raises(ConvSpecTypeError, match=r"y is None: expected an array of shape \(3, K\)"):
        op.rmatmat(None)
    with pytest.raises(ConvSpecError, match=r"x of shape \(2, 5\) must have shape \(5,\): .*; "
                                            r"or shape dims = \(1, 5\)"):
        op.matvec(np.ones((2, 5)))
    # Scaling is still op * 3.0.
    x = np.arange(5.0)
    np.testing.assert_allclose((op * 3.0) @ x, 3.0 * (op @ x))


BLOCKED = {
    "sys.modules": "import sys\nsys.modules['numba'] = None\n",
    "meta-path finder": (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'numba' or name.startswith('numba.'):\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, Block())\n"
    ),
}


@pytest.mark.parametrize("block", BLOCKED)
def test_engine_numba_without_numba_gives_the_install_hint(block):
    code = BLOCKED[block] + (
        "import numpy as np, transpose_matrix as tm\n"
        "from transpose_matrix import MissingDependencyError\n"
        "spec = tm.ConvSpec((6, 6), 3, 1, 1, 1, 4, 4, 4)\n"
        "try:\n"
        "    tm.conv_operator(spec, np.ones(spec.weight_shape), engine='numba')\n"
        "except MissingDependencyError as error:\n"
        "    assert isinstance(error, ImportError)\n"
        "    print(error)\n"
        "op = tm.conv_operator(spec, np.ones(spec.weight_shape), engine='auto')\n"
        "print(op.engine, (op @ np.ones(144)).sum())\n"
        "assert 'numba' not in [m.split('.')[0] for m in sys.modules if sys.modules[m]]\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    hint, auto = run.stdout.splitlines()
    assert hint == "engine='numba' needs numba: pip install \"transpose_matrix[fast]\""
    # Ones through a 3x3 ones kernel with padding 1: each of the 6 rows (and
    # columns) of an output sums 2, 3, 3, 3, 3, 2 taps: 16 * 16 per channel.
    assert auto == f"numpy {4 * 16 * 16:.1f}"
