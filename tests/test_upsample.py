"""upsample.py against torch: interpolate, max_pool/max_unpool, conv_transpose.

Every matrix is applied to a random one-channel input and compared with the
torch operation it claims to equal; the zero-insertion identity Cᵀ = D·P·Z is
checked against ``conv_transpose{1,2,3}d`` itself, with D built from the
flipped, channel-swapped kernel by the ordinary ``conv_matrix``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse

import transpose_matrix as tm
from transpose_matrix import ConvSpecError, ConvSpecTypeError

MODES = {1: "linear", 2: "bilinear", 3: "trilinear"}
SHAPES = [(5,), (1,), (3, 4), (1, 2), (2, 3, 2)]


def _one_channel(torch, x: np.ndarray):
    return torch.tensor(x, dtype=torch.float64)[None, None]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("scale", [1, 2, 3, 4])
def test_nearest_matches_interpolate(torch, shape, scale):
    x = np.random.default_rng(1).standard_normal(shape)
    expected = torch.nn.functional.interpolate(
        _one_channel(torch, x), scale_factor=scale, mode="nearest"
    )
    U = tm.nearest_upsample_matrix(shape, scale)
    assert U.shape == (math.prod(shape) * scale ** len(shape), math.prod(shape))
    np.testing.assert_array_equal(U @ x.reshape(-1), expected.numpy().reshape(-1))


def test_nearest_per_dim_scales(torch):
    x = np.random.default_rng(2).standard_normal((3, 2))
    expected = torch.nn.functional.interpolate(
        _one_channel(torch, x), scale_factor=(2, 3), mode="nearest"
    )
    U = tm.nearest_upsample_matrix((3, 2), (2, 3))
    np.testing.assert_array_equal(U @ x.reshape(-1), expected.numpy().reshape(-1))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("scale", [1, 2, 3, 4])
@pytest.mark.parametrize("align_corners", [False, True])
def test_bilinear_matches_interpolate(torch, shape, scale, align_corners):
    x = np.random.default_rng(3).standard_normal(shape)
    expected = torch.nn.functional.interpolate(
        _one_channel(torch, x),
        scale_factor=scale,
        mode=MODES[len(shape)],
        align_corners=align_corners,
    )
    B = tm.bilinear_upsample_matrix(shape, scale, align_corners=align_corners)
    np.testing.assert_allclose(B @ x.reshape(-1), expected.numpy().reshape(-1), rtol=0, atol=1e-12)
    # Interpolation reproduces constants: every row is a set of convex weights.
    np.testing.assert_allclose(B.sum(axis=1), 1.0, rtol=0, atol=1e-12)


def test_bilinear_per_dim_scales(torch):
    x = np.random.default_rng(4).standard_normal((3, 4))
    expected = torch.nn.functional.interpolate(
        _one_channel(torch, x), scale_factor=(3, 2), mode="bilinear", align_corners=False
    )
    B = tm.bilinear_upsample_matrix((3, 4), (3, 2))
    np.testing.assert_allclose(B @ x.reshape(-1), expected.numpy().reshape(-1), atol=1e-12)


def test_bilinear_interior_is_the_tent_transposed_conv(torch):
    # Away from the border (1 row each side for s = 2) the matrix equals
    # conv_transpose1d with the tent kernel [1/4, 3/4, 3/4, 1/4], padding 1.
    n, s = 6, 2
    x = np.random.default_rng(5).standard_normal(n)
    tent = torch.tensor([[[0.25, 0.75, 0.75, 0.25]]], dtype=torch.float64)
    conv_t = torch.nn.functional.conv_transpose1d(_one_channel(torch, x), tent, stride=s, padding=1)
    B = tm.bilinear_upsample_matrix(n, s)
    got = B @ x
    expected = conv_t.numpy().reshape(-1)
    np.testing.assert_allclose(got[1:-1], expected[1:-1], atol=1e-12)
    assert abs(got[0] - expected[0]) > 1e-3 or abs(x[0]) < 1e-3


@pytest.mark.parametrize(
    ("shape", "kernel", "stride"),
    [((8,), 2, 2), ((7,), 3, 2), ((4, 6), 2, 2), ((5, 5), 3, 2), ((6, 4), (2, 3), (2, 1))],
)
@pytest.mark.parametrize("channels", [1, 3])
def test_max_unpool_matches_torch(torch, shape, kernel, stride, channels):
    F = torch.nn.functional
    ndim = len(shape)
    pool = (F.max_pool1d, F.max_pool2d)[ndim - 1]
    unpool = (F.max_unpool1d, F.max_unpool2d)[ndim - 1]
    x = np.random.default_rng(6).standard_normal((channels, *shape))
    # Overlapping windows could both pick a shared entry, which no single
    # matrix unpools (see the next test); push shared entries down so that
    # every window's maximum lies in its own part.
    for axis, (k, s) in enumerate(
        zip(np.broadcast_to(kernel, ndim), np.broadcast_to(stride, ndim), strict=True)
    ):
        starts = np.arange(0, shape[axis] - k + 1, s)
        covered = np.zeros(shape[axis], dtype=int)
        for start in starts:
            covered[start : start + k] += 1
        index = [slice(None)] * (ndim + 1)
        index[axis + 1] = covered > 1
        x[tuple(index)] -= 100.0
    xt = torch.tensor(x)[None].requires_grad_(True)
    pooled, indices = pool(xt, kernel, stride, return_indices=True)
    M = tm.max_unpool_matrix(indices[0].numpy(), shape)
    y = np.random.default_rng(7).standard_normal(tuple(pooled.shape[1:]))
    expected = unpool(torch.tensor(y)[None], indices, kernel, stride, output_size=shape)
    np.testing.assert_array_equal(M @ y.reshape(-1), expected.detach().numpy().reshape(-1))
    # Mᵀ is the selection matrix of max pooling at this x ...
    np.testing.assert_array_equal(M.T @ x.reshape(-1), pooled.detach().numpy().reshape(-1))
    # ... and M is max pooling's gradient.
    (pooled * torch.tensor(y)[None]).sum().backward()
    np.testing.assert_array_equal(M @ y.reshape(-1), xt.grad.numpy().reshape(-1))


def test_max_unpool_refuses_repeated_indices(torch):
    # A 3-wide window with stride 1 over a peak selects the peak twice.
    x = torch.tensor([[[0.0, 1.0, 5.0, 1.0, 0.0]]], dtype=torch.float64)
    _, indices = torch.nn.functional.max_pool1d(x, 3, 1, return_indices=True)
    assert indices[0, 0].tolist() == [2, 2, 2]
    with pytest.raises(ConvSpecError, match=r"channel 0 repeat position 2"):
        tm.max_unpool_matrix(indices[0].numpy(), 5)


def _flip_swap(weight: np.ndarray, groups: int) -> np.ndarray:
    """Forward weight (Co, Ci/g, *k) -> (Ci, Co/g, *k), spatially flipped."""
    co, cig = weight.shape[:2]
    kernel = weight.shape[2:]
    grouped = weight.reshape(groups, co // groups, cig, *kernel).swapaxes(1, 2)
    swapped = grouped.reshape(groups * cig, co // groups, *kernel)
    return np.flip(swapped, axis=tuple(range(2, 2 + len(kernel)))).copy()


CASES = [
    # (input_shape, in, out, kernel, stride, padding, output_padding, groups, dilation)
    ((3,), 1, 1, 3, 2, 1, 1, 1, 1),
    ((4,), 2, 3, 4, 3, 0, 2, 1, 1),
    ((4,), 1, 1, 3, 2, 3, 0, 1, 1),  # padding > k - 1: P crops
    ((3, 2), 2, 2, (3, 2), (2, 1), (1, 0), (1, 0), 2, 1),
    ((2, 3), 3, 2, 2, 2, 0, 0, 1, (2, 1)),
    ((2, 2, 2), 1, 2, 2, 2, 1, 1, 1, 1),
]


@pytest.mark.parametrize("case", CASES)
def test_zero_insertion_identity_against_conv_transpose(torch, case):
    shape, cin, cout, kernel, stride, padding, extra, groups, dilation = case
    spec = tm.ConvSpec.from_transposed(
        shape, cin, cout, kernel, stride, padding, extra, groups, dilation
    )
    ndim = spec.ndim
    weight = np.random.default_rng(8).standard_normal(spec.weight_shape)
    Ct = tm.transposed_conv_matrix(spec, weight)
    # Written from the textbook recipe, not from ConvSpec's padding pairs:
    # zeros between inputs, then d(k-1) - p each side plus output_padding after.
    per_dim = [np.broadcast_to(v, ndim).tolist() for v in (padding, extra)]
    pads = [
        (d * (k - 1) - p, d * (k - 1) - p + op)
        for k, d, p, op in zip(spec.kernel_size, spec.dilation, *per_dim, strict=True)
    ]
    inserted = tuple((n - 1) * s + 1 for n, s in zip(shape, spec.stride, strict=True))
    Z = tm.zero_insertion_matrix(shape, spec.stride)
    P = tm.pad_matrix(inserted, pads)
    assert Z.shape == (math.prod(inserted), math.prod(shape))
    padded = tuple(n + b + a for n, (b, a) in zip(inserted, pads, strict=True))
    D_spec = tm.ConvSpec(padded, spec.kernel_size, 1, 0, spec.dilation, cin, cout, groups)
    D = tm.conv_matrix(D_spec, _flip_swap(weight, groups))
    PZ = scipy.sparse.kron(scipy.sparse.eye(cin), P @ Z)
    product = (D @ PZ).tocsr()
    assert product.shape == Ct.shape
    np.testing.assert_allclose(product.toarray(), Ct.toarray(), rtol=0, atol=1e-12)

    y = np.random.default_rng(9).standard_normal((cin, *shape))
    conv_t = (
        torch.nn.functional.conv_transpose1d,
        torch.nn.functional.conv_transpose2d,
        torch.nn.functional.conv_transpose3d,
    )[ndim - 1]
    expected = conv_t(
        torch.tensor(y)[None],
        torch.tensor(weight),
        stride=spec.stride,
        padding=padding,
        output_padding=extra,
        groups=groups,
        dilation=dilation,
    )
    np.testing.assert_allclose(
        product @ y.reshape(-1), expected.numpy().reshape(-1), rtol=0, atol=1e-10
    )


@pytest.mark.parametrize(
    ("call", "error", "pattern"),
    [
        (lambda: tm.zero_insertion_matrix((2, 2), 0), ConvSpecError, r"stride=0 must be >= 1"),
        (lambda: tm.zero_insertion_matrix(3, 1.5), ConvSpecTypeError, r"stride=1.5 must be"),
        (lambda: tm.zero_insertion_matrix((2, 2), (1, 2, 3)), ConvSpecError, r"2 entries"),
        (lambda: tm.zero_insertion_matrix("4", 2), ConvSpecTypeError, r"input_shape='4'"),
        (lambda: tm.zero_insertion_matrix((1, 1, 1, 1), 2), ConvSpecError, r"1 to 3"),
        (lambda: tm.pad_matrix(3, [(-2, -1)]), ConvSpecError, r"leave at least one entry"),
        (lambda: tm.pad_matrix((3, 3), [1]), ConvSpecError, r"must have 2 entries"),
        (lambda: tm.pad_matrix(3, "same"), ConvSpecTypeError, r"'same' are not supported"),
        (lambda: tm.nearest_upsample_matrix(3, "2"), ConvSpecTypeError, r"scale='2' must be a positive number"),
        (lambda: tm.nearest_upsample_matrix(0, 2), ConvSpecError, r"input_shape\[0\]=0"),
        (lambda: tm.nearest_upsample_matrix(3, -1.5), ConvSpecError, r"scale=-1.5 must be a positive finite"),
        (lambda: tm.nearest_upsample_matrix(3, float("nan")), ConvSpecError, "positive finite"),
        (lambda: tm.nearest_upsample_matrix((3, 2), (2, 2, 2)), ConvSpecError, "must have 2 entries"),
        (lambda: tm.nearest_upsample_matrix(3, 2, size=6), ConvSpecError, "exactly one of scale= and size="),
        (lambda: tm.nearest_upsample_matrix(3), ConvSpecError, "exactly one of scale= and size="),
        (lambda: tm.nearest_upsample_matrix(3, 0.2), ConvSpecError, r"leaves no output entry along dim 0"),
        (lambda: tm.nearest_upsample_matrix(3, 2, exact=1), ConvSpecTypeError, "exact=1 must be a bool"),
        (lambda: tm.bilinear_upsample_matrix(3, size=0), ConvSpecError, r"size=0 must be >= 1"),
        (lambda: tm.avg_pool_matrix(4, 2, ceil_mode="no"), ConvSpecTypeError, "ceil_mode='no' must be a bool"),
        (lambda: tm.avg_pool_matrix(1, 5, padding=1), ConvSpecError, "exceeds padded input size 3"),
        (lambda: tm.avg_pool_matrix(4, 2, divisor_override=0), ConvSpecError, "divisor_override=0 must be >= 1"),
        (lambda: tm.avg_pool_matrix(4, 2, padding=-1), ConvSpecError, r"^padding=-1 must be >= 0"),
        (lambda: tm.pad_matrix(3, [(-1, 1)], mode="reflect"), ConvSpecError, "only padding_mode='zeros' crops"),
        (lambda: tm.pad_matrix(3, 3, mode="reflect"), ConvSpecError, "padding < input size"),
        (lambda: tm.pad_matrix(3, 1, mode="edge"), ConvSpecError, "padding_mode='edge' must be one of"),
        (lambda: tm.bilinear_upsample_matrix(3, True), ConvSpecTypeError, r"not a bool"),
        (lambda: tm.bilinear_upsample_matrix(3, 2, "yes"), ConvSpecTypeError, "align_corners"),
        (lambda: tm.max_unpool_matrix(np.array([[0.5]]), 4), ConvSpecTypeError, "integer type"),
        (lambda: tm.max_unpool_matrix(np.array([0, 1]), 4), ConvSpecError, r"\(channels,"),
        (lambda: tm.max_unpool_matrix(np.array([[4]]), 4), ConvSpecError, r"entry 4 .*\[0, 4\)"),
    ],
)
def test_errors_name_parameter_value_and_rule(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


def test_pad_and_zero_insertion_from_the_definition():
    # Written out by hand: 2 inputs, stride 3 -> [x0, 0, 0, x1]; then pad (1, 2).
    Z = tm.zero_insertion_matrix(2, 3).toarray()
    np.testing.assert_array_equal(Z, [[1, 0], [0, 0], [0, 0], [0, 1]])
    P = tm.pad_matrix(4, [(1, 2)]).toarray()
    np.testing.assert_array_equal(P @ Z @ [5.0, 7.0], [0, 5, 0, 0, 7, 0, 0])
    # 2-D is the Kronecker product of the 1-D operators, rows in C order.
    Z2 = tm.zero_insertion_matrix((2, 2), (3, 2))
    x = np.arange(1.0, 5.0)
    expected = np.zeros((4, 3))
    expected[::3, ::2] = x.reshape(2, 2)
    np.testing.assert_array_equal(Z2 @ x, expected.reshape(-1))
