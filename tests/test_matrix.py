"""C and Cᵀ against torch, autograd, the dot test and the loop reference."""

from __future__ import annotations

import numpy as np
import pytest
from torch_ref import torch_conv, torch_conv_transpose, torch_input_grad

from transpose_matrix import ConvSpec, conv_matrix, transposed_conv_matrix
from transpose_matrix.matrices.conv import index_dtype
from transpose_matrix.matrices.reference import reference_conv_matrix

# Named forward geometries: (input_shape, kernel, stride, padding, dilation, cin, cout, groups).
FORWARD_CASES = {
    "1d-plain": ((7,), 3, 1, 0, 1, 1, 1, 1),
    "1d-stride3-pad2": ((10,), 4, 3, 2, 1, 2, 3, 1),
    "1d-dilated-per-side": ((9,), 3, 2, [(2, 0)], 2, 1, 2, 1),
    "1d-negative-after": ((9,), 2, 2, [(1, -1)], 1, 1, 1, 1),
    "2d-textbook": ((4, 4), 3, 1, 0, 1, 1, 1, 1),
    "2d-stride2-pad1": ((5, 6), 3, 2, 1, 1, 2, 3, 1),
    "2d-per-side": ((6, 5), (3, 2), (1, 2), [(1, 0), (0, 2)], 1, 1, 2, 1),
    "2d-dilated-groups": ((8, 7), 3, (2, 1), 2, (2, 1), 4, 6, 2),
    "2d-depthwise": ((5, 5), 3, 3, 1, 1, 3, 3, 3),
    "2d-kernel-eq-stride": ((3, 4), 2, 2, 0, 1, 2, 1, 1),
    "3d-small": ((4, 5, 3), (2, 3, 2), (1, 2, 1), 1, 1, 2, 2, 1),
    "3d-strided-dilated-groups": ((6, 5, 7), 2, (2, 1, 3), [(0, 1), (1, 1), (2, 0)], (1, 2, 2), 2, 4, 2),
}


def make_spec(case: str) -> ConvSpec:
    shape, k, s, p, d, cin, cout, g = FORWARD_CASES[case]
    return ConvSpec(shape, k, s, p, d, cin, cout, g)


def random_arrays(spec: ConvSpec, seed: int = 0):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(spec.weight_shape)
    x = rng.standard_normal((spec.in_channels, *spec.input_shape))
    y = rng.standard_normal((spec.out_channels, *spec.output_shape))
    return w, x, y


@pytest.mark.parametrize("case", FORWARD_CASES)
def test_c_times_x_is_torch_conv(case, torch):
    spec = make_spec(case)
    w, x, _ = random_arrays(spec)
    expected = torch_conv(torch, spec, w, x)
    assert expected.shape == (spec.out_channels, *spec.output_shape)
    np.testing.assert_allclose(conv_matrix(spec, w) @ x.reshape(-1), expected.reshape(-1), atol=1e-12)


@pytest.mark.parametrize("case", FORWARD_CASES)
def test_c_transpose_is_autograd_input_gradient(case, torch):
    spec = make_spec(case)
    w, x, g = random_arrays(spec, seed=1)
    expected = torch_input_grad(torch, spec, w, x, g)
    np.testing.assert_allclose(
        transposed_conv_matrix(spec, w) @ g.reshape(-1), expected.reshape(-1), atol=1e-12
    )


@pytest.mark.parametrize("case", FORWARD_CASES)
def test_dot_test(case):
    spec = make_spec(case)
    w, x, y = random_arrays(spec, seed=2)
    C = conv_matrix(spec, w)
    left = np.dot(C @ x.reshape(-1), y.reshape(-1))
    right = np.dot(x.reshape(-1), transposed_conv_matrix(spec, w) @ y.reshape(-1))
    assert abs(left - right) <= 1e-12 * max(1.0, abs(left), abs(right))


@pytest.mark.parametrize("case", FORWARD_CASES)
def test_fast_builder_equals_reference_exactly(case):
    spec = make_spec(case)
    w, _, _ = random_arrays(spec, seed=3)
    fast = conv_matrix(spec, w)
    slow = reference_conv_matrix(spec, w)
    assert fast.shape == slow.shape == spec.matrix_shape
    np.testing.assert_array_equal(fast.indptr, slow.indptr)
    np.testing.assert_array_equal(fast.indices, slow.indices)
    np.testing.assert_array_equal(fast.data, slow.data)


@pytest.mark.parametrize("case", FORWARD_CASES)
def test_canonical_csr(case):
    spec = make_spec(case)
    w, _, _ = random_arrays(spec, seed=4)
    C = conv_matrix(spec, w)
    assert C.format == "csr"
    assert C.indices.dtype == np.int32 and C.indptr.dtype == np.int32
    for row in range(C.shape[0]):
        cols = C.indices[C.indptr[row] : C.indptr[row + 1]]
        assert np.all(np.diff(cols) > 0), f"row {row} not strictly sorted"
    # No stored entries for padding taps: with a nonzero weight, every stored
    # entry is nonzero, and their number equals the nonzeros of the dense C.
    assert np.count_nonzero(C.data) == C.nnz == np.count_nonzero(C.toarray())


# Transposed layers as torch.nn.ConvTransposeNd sees them:
# (input_shape, in_channels, out_channels, kernel, stride, padding, dilation, groups).
TRANSPOSED_CASES = {
    "1d-k3-s2-p1": ((5,), 2, 3, 3, 2, 1, 1, 1),
    "1d-k4-s3": ((4,), 1, 2, 4, 3, 0, 1, 1),
    "1d-dilation-exceeds-stride": ((4,), 1, 1, 3, 1, 0, 3, 1),
    "1d-dilation3-stride2-pad2": ((5,), 2, 2, 3, 2, 2, 3, 2),
    "2d-unet-upconv": ((3, 4), 4, 2, 2, 2, 0, 1, 1),
    "2d-k3-s2-p1-groups": ((4, 3), 4, 6, 3, 2, 1, 1, 2),
    "2d-mixed": ((3, 5), 2, 2, (3, 2), (3, 1), (1, 0), (1, 2), 1),
    "3d-k3-s2": ((2, 3, 2), 2, 2, 3, 2, 1, 1, 1),
    "3d-dilated": ((3, 2, 2), 1, 2, 2, (1, 2, 2), 0, (2, 1, 3), 1),
}


def legal_output_paddings(ndim, stride, dilation):
    stride = (stride,) * ndim if isinstance(stride, int) else stride
    dilation = (dilation,) * ndim if isinstance(dilation, int) else dilation
    # Every op in [0, max(s, d)) per dim; the product would explode in 3-D, so
    # vary one dim at a time and also take the all-maximum corner.
    limits = [max(s, d) for s, d in zip(stride, dilation)]
    combos = {tuple([0] * ndim), tuple(limit - 1 for limit in limits)}
    for axis, limit in enumerate(limits):
        for op in range(limit):
            combo = [0] * ndim
            combo[axis] = op
            combos.add(tuple(combo))
    return sorted(combos)


TRANSPOSED_PARAMS = [
    pytest.param(name, op, id=f"{name}-op{'x'.join(map(str, op))}")
    for name, (shape, _, _, _, s, _, d, _) in TRANSPOSED_CASES.items()
    for op in legal_output_paddings(len(shape), s, d)
]


@pytest.mark.parametrize(("case", "output_padding"), TRANSPOSED_PARAMS)
def test_transpose_is_torch_conv_transpose(case, output_padding, torch):
    shape, cin, cout, k, s, p, d, g = TRANSPOSED_CASES[case]
    spec = ConvSpec.from_transposed(
        shape, cin, cout, k, stride=s, padding=p, output_padding=output_padding, groups=g, dilation=d
    )
    rng = np.random.default_rng(5)
    # ConvTransposeNd's weight: (in_channels, out_channels // groups, *kernel).
    w = rng.standard_normal(spec.weight_shape)
    assert w.shape[:2] == (cin, cout // g)
    y = rng.standard_normal((cin, *shape))
    expected = torch_conv_transpose(
        torch, w, y, stride=s, padding=p, output_padding=output_padding, groups=g, dilation=d
    )
    assert expected.shape == (cout, *spec.input_shape)
    assert spec.output_shape == tuple(shape)
    result = transposed_conv_matrix(spec, w) @ y.reshape(-1)
    np.testing.assert_allclose(result, expected.reshape(-1), atol=1e-12)


def test_textbook_case():
    # 4x4 input, 3x3 kernel: C is 4x16 and row 0 reads the top-left 3x3 patch,
    # i.e. input pixels (r, c) -> column 4r + c for r, c in 0..2.
    w = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    C = conv_matrix(ConvSpec((4, 4), 3), w).toarray()
    assert C.shape == (4, 16)
    np.testing.assert_array_equal(C[0, 0:3], w[0, 0, 0])
    np.testing.assert_array_equal(C[0, 4:7], w[0, 0, 1])
    np.testing.assert_array_equal(C[0, 8:11], w[0, 0, 2])
    np.testing.assert_array_equal(C[0, [3, 7, 11, 12, 13, 14, 15]], 0)
    # Each further row is the same band shifted by the output position's offset.
    for row, shift in enumerate([0, 1, 4, 5]):
        np.testing.assert_array_equal(C[row], np.roll(C[0], shift))


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex128", "int64"])
def test_dtype_follows_weight(dtype):
    spec = make_spec("2d-stride2-pad1")
    w = (np.arange(np.prod(spec.weight_shape)) + 1).reshape(spec.weight_shape).astype(dtype)
    C = conv_matrix(spec, w)
    assert C.dtype == np.dtype(dtype)
    assert transposed_conv_matrix(spec, w).dtype == np.dtype(dtype)
    np.testing.assert_array_equal(C.toarray(), reference_conv_matrix(spec, w).toarray())


def test_zero_weights_are_stored_padding_taps_are_not():
    spec = ConvSpec((4,), 3, padding=1)
    C = conv_matrix(spec, np.zeros((1, 1, 3)))
    # 4 outputs; the first and last lose one tap to padding.
    assert C.nnz == 3 * 4 - 2
    np.testing.assert_array_equal(C.indptr, [0, 2, 5, 8, 10])


def test_index_dtype_switches_to_64_bit():
    assert index_dtype(10, 2**31 - 1) == np.int32
    assert index_dtype(2**31, 5) == np.int64


def test_transposed_matrix_is_transpose():
    spec = make_spec("2d-dilated-groups")
    w, _, _ = random_arrays(spec)
    C = conv_matrix(spec, w)
    T = transposed_conv_matrix(spec, w)
    assert T.format == "csr"
    assert T.shape == C.shape[::-1]
    np.testing.assert_array_equal(T.toarray(), C.toarray().T)


@pytest.mark.parametrize("case", FORWARD_CASES)
def test_entries_by_index_are_the_reference_entries(case):
    # conv_matrix_entries is C entry by entry from its indices alone; the loop
    # reference, built with labels 1..n as weights, says which weight is where.
    from transpose_matrix.matrices.conv import conv_matrix_entries

    spec = make_spec(case)
    labels = np.arange(1, int(np.prod(spec.weight_shape)) + 1).reshape(spec.weight_shape)
    expected = reference_conv_matrix(spec, labels).toarray().astype(np.int64) - 1
    rows, cols = spec.matrix_shape
    assert np.array_equal(conv_matrix_entries(spec, np.arange(rows), np.arange(cols)), expected)
    # Any sub-block, in any order, is the same lookup.
    rng = np.random.default_rng(1)
    pick_rows, pick_cols = rng.integers(0, rows, 7), rng.integers(0, cols, 9)
    block = conv_matrix_entries(spec, pick_rows, pick_cols)
    assert np.array_equal(block, expected[np.ix_(pick_rows, pick_cols)])


def test_entries_of_a_huge_layer_cost_only_the_block():
    from transpose_matrix.matrices.conv import conv_matrix_entries

    # 10**8 positions, stride 10**8: one output, reading input 0 with its only tap.
    spec = ConvSpec((10**8,), 1, stride=10**8)
    assert conv_matrix_entries(spec, [0], [0, 1, 10**8 - 1]).tolist() == [[0, -1, -1]]
    # A wide 2-D layer: row (o=5, j=(7, 9)) reads input (c, 7 + a - 1, 9 + b - 1), tap (a, b).
    spec = ConvSpec((224, 224), 3, padding=1, in_channels=64, out_channels=64)
    row = 5 * 224 * 224 + 7 * 224 + 9
    cols = [3 * 224 * 224 + (7 + a - 1) * 224 + (9 + b - 1) for a in range(3) for b in range(3)]
    flat = conv_matrix_entries(spec, [row], cols)[0]
    assert flat.tolist() == [(5 * 64 + 3) * 9 + t for t in range(9)]
    assert conv_matrix_entries(spec, [row], [0, cols[0] + 3]).tolist() == [[-1, -1]]


def test_entries_reject_indices_outside_c():
    from transpose_matrix.errors import ConvSpecError
    from transpose_matrix.matrices.conv import conv_matrix_entries

    with pytest.raises(ConvSpecError, match=r"rows must lie in \[0, 4\)"):
        conv_matrix_entries(ConvSpec((4, 4), 3), [4], [0])
    with pytest.raises(ConvSpecError, match=r"cols must lie in \[0, 16\)"):
        conv_matrix_entries(ConvSpec((4, 4), 3), [0], [-1])
