"""Spectra of convolution layers against numpy's SVD of the explicit matrix.

The referee is :func:`numpy.linalg.svd` of ``conv_matrix(spec, w).toarray()``
(or of ``transposed_conv_matrix``), which shares no code with the FFT method,
the Lanczos runs on the matrix-free operator or the shift-invert solves.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import transpose_matrix as tm
from transpose_matrix.analysis import spectrum
from transpose_matrix.analysis.spectrum import (
    circulant_repeats,
    compare_norms,
    operator_norm,
    read_counts,
    reshaped_kernel_norm,
    singular_values,
)

MODES = ("zeros", "reflect", "replicate", "circular")


def numpy_values(spec: tm.ConvSpec, weight: np.ndarray) -> np.ndarray:
    return np.linalg.svd(tm.conv_matrix(spec, weight).toarray(), compute_uv=False)


def close(got: np.ndarray, want: np.ndarray, rtol: float = 1e-12, norm: float | None = None
          ) -> None:
    """Equal to ``rtol`` of ``norm`` (default: the largest value; rounding scales with ||C||)."""
    assert got.shape == want.shape
    scale = max(float(np.max(want, initial=0.0)) if norm is None else norm, 1e-300)
    np.testing.assert_allclose(got, want, rtol=0, atol=rtol * scale)


def weight_for(spec: tm.ConvSpec, seed: int = 0, dtype: type = np.float64) -> np.ndarray:
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(spec.weight_shape)
    if np.dtype(dtype).kind == "c":
        w = w + 1j * rng.standard_normal(spec.weight_shape)
    return w.astype(dtype)


# Small named geometries of every kind: (id, ConvSpec arguments).
CASES = [
    ("circ-1d", dict(input_shape=8, kernel_size=3, padding=1, padding_mode="circular",
                     in_channels=2, out_channels=3)),
    ("circ-2d", dict(input_shape=(6, 5), kernel_size=3, padding=1, padding_mode="circular",
                     in_channels=3, out_channels=2)),
    ("circ-3d", dict(input_shape=(4, 3, 4), kernel_size=(3, 1, 2), padding=[(1, 1), 0, (0, 1)],
                     padding_mode="circular", in_channels=2, out_channels=2)),
    ("circ-even-kernel", dict(input_shape=(6, 6), kernel_size=4, padding=[(1, 2), (2, 1)],
                              padding_mode="circular", in_channels=2, out_channels=2)),
    ("circ-stride2", dict(input_shape=(8, 6), kernel_size=(4, 3), stride=2, padding=1,
                          padding_mode="circular", in_channels=2, out_channels=3)),
    ("circ-stride3-dilated", dict(input_shape=9, kernel_size=3, stride=3, dilation=2,
                                  padding=1, padding_mode="circular", in_channels=2,
                                  out_channels=2)),
    ("circ-wraps-twice", dict(input_shape=4, kernel_size=3, padding=3,
                              padding_mode="circular", in_channels=2, out_channels=2)),
    ("circ-not-circulant", dict(input_shape=6, kernel_size=3, padding=2,
                                padding_mode="circular", in_channels=2, out_channels=1)),
    ("circ-groups", dict(input_shape=(6, 6), kernel_size=3, padding=1, padding_mode="circular",
                         in_channels=4, out_channels=6, groups=2)),
    ("circ-depthwise", dict(input_shape=(5, 5), kernel_size=3, padding=1,
                            padding_mode="circular", in_channels=3, out_channels=3, groups=3)),
    ("pointwise", dict(input_shape=(4, 4), kernel_size=1, in_channels=3, out_channels=2)),
    ("zeros-same", dict(input_shape=(7, 7), kernel_size=3, padding=1, in_channels=2,
                        out_channels=2)),
    ("zeros-stride2", dict(input_shape=(7, 6), kernel_size=3, stride=2, padding=1,
                           in_channels=2, out_channels=3)),
    ("zeros-dilated", dict(input_shape=10, kernel_size=3, dilation=3, padding=2,
                           in_channels=2, out_channels=4, groups=2)),
    ("zeros-3d", dict(input_shape=(3, 4, 3), kernel_size=2, stride=(1, 2, 1), padding=1,
                      in_channels=2, out_channels=2)),
    ("zeros-stride-over-kernel", dict(input_shape=9, kernel_size=2, stride=3,
                                      in_channels=2, out_channels=2)),
    ("zeros-crop", dict(input_shape=10, kernel_size=3, stride=2, padding=[(1, -1)],
                        in_channels=1, out_channels=2)),
    ("reflect", dict(input_shape=(7, 7), kernel_size=3, stride=2, padding=1,
                     padding_mode="reflect", in_channels=3, out_channels=2)),
    ("replicate-3d", dict(input_shape=(4, 4, 3), kernel_size=2, padding=1,
                          padding_mode="replicate", in_channels=2, out_channels=2)),
    ("reflect-groups", dict(input_shape=(6, 6), kernel_size=3, padding=2, dilation=2,
                            padding_mode="reflect", in_channels=4, out_channels=2,
                            groups=2)),
]


@pytest.fixture(params=CASES, ids=[name for name, _ in CASES])
def case(request):
    _, arguments = request.param
    spec = tm.ConvSpec(**arguments)
    return spec, weight_for(spec)


@pytest.mark.slow
def test_all_values_match_numpy(case):
    spec, w = case
    close(singular_values(spec, w, which="all"), numpy_values(spec, w))


@pytest.mark.slow
def test_every_method_matches_numpy(case):
    spec, w = case
    want = numpy_values(spec, w)
    close(singular_values(spec, w, which="all", method="dense"), want)
    if circulant_repeats(spec) is not None:
        close(singular_values(spec, w, which="all", method="fft"), want)
    close(singular_values(spec, w, k=2, method="iterative"), want[:2], rtol=1e-9)
    # The smallest come smallest first.
    close(singular_values(spec, w, k=2, which="smallest", method="shift-invert"),
          want[::-1][:2], rtol=1e-9, norm=want[0])
    close(singular_values(spec, w, k=3, which="largest"), want[:3])
    close(singular_values(spec, w, k=3, which="smallest"), want[::-1][:3], norm=want[0])


def test_the_circulant_cases_take_the_fft():
    circulant = {name for name, arguments in CASES
                 if circulant_repeats(tm.ConvSpec(**arguments)) is not None}
    assert circulant == {
        "circ-1d", "circ-2d", "circ-3d", "circ-even-kernel", "circ-stride2",
        "circ-stride3-dilated", "circ-wraps-twice", "circ-groups", "circ-depthwise",
        "pointwise",
    }


@pytest.mark.slow
def test_transposed_layer_has_the_same_spectrum():
    # A ConvTranspose2d(6 -> 4, 4x4, stride 2, padding 1) on 5x5: Cᵀ built on its own.
    spec = tm.ConvSpec.from_transposed((5, 5), 6, 4, 4, stride=2, padding=1)
    w = weight_for(spec, seed=3)
    transposed = tm.transposed_conv_matrix(spec, w).toarray()
    want = np.linalg.svd(transposed, compute_uv=False)
    close(singular_values(spec, w, which="all"), want)
    close(singular_values(spec, w, k=2, method="iterative"), want[:2], rtol=1e-9)
    close(numpy_values(spec, w), want)


def test_padded_operator_is_d_times_p():
    spec = tm.ConvSpec((5, 4), 3, stride=2, padding=1, padding_mode="reflect",
                       in_channels=2, out_channels=3)
    w = weight_for(spec)
    op = spectrum._layer_operator(spec, w)
    rng = np.random.default_rng(7)
    x, y = rng.standard_normal(op.shape[1]), rng.standard_normal(op.shape[0])
    assert np.isclose(np.dot(op.matvec(x), y), np.dot(x, op.rmatvec(y)), rtol=1e-12)
    np.testing.assert_allclose(op.matvec(x), tm.conv_matrix(spec, w) @ x, atol=1e-12)


@pytest.mark.parametrize("stride, kernel, before", [(2, 4, 1), (2, 3, 0), (3, 5, 2), (2, 2, 1)])
def test_polyphase_reduction(stride, kernel, before):
    """C with stride s = (stride-1 circular conv with s times the channels) · phase permutation."""
    n, channels, out_channels = 4 * stride, 2, 3
    span = kernel - 1
    spec = tm.ConvSpec(n, kernel, stride=stride, padding=[(before, span - before)],
                       padding_mode="circular", in_channels=channels,
                       out_channels=out_channels)
    w = weight_for(spec, seed=stride + kernel)
    grid = n // stride
    # Tap t reads phase (t - before) mod s at shift floor((t - before) / s).
    shifts = [(t - before) // stride for t in range(kernel)]
    low, high = min(shifts), max(shifts)
    poly = np.zeros((out_channels, channels * stride, high - low + 1))
    for t, shift in enumerate(shifts):
        poly[:, np.arange(channels) * stride + (t - before) % stride, shift - low] += w[:, :, t]
    reduced = tm.ConvSpec(grid, high - low + 1, padding=[(-low, high)],
                          padding_mode="circular", in_channels=channels * stride,
                          out_channels=out_channels)
    # Column (c, q*s + r) of C is column (c*s + r, q) of the reduced layer.
    c, q, r = np.meshgrid(np.arange(channels), np.arange(grid), np.arange(stride),
                          indexing="ij")
    permutation = np.empty(channels * n, dtype=int)
    permutation[((c * stride + r) * grid + q).ravel()] = (c * n + q * stride + r).ravel()
    strided = tm.conv_matrix(spec, w).toarray()
    np.testing.assert_array_equal(strided[:, permutation], tm.conv_matrix(reduced, poly).toarray())
    close(singular_values(spec, w, which="all", method="fft"),
          singular_values(reduced, poly, which="all", method="fft"))
    close(singular_values(spec, w, which="all", method="fft"), numpy_values(spec, w))


@pytest.mark.parametrize("dtype", [np.float32, np.complex128, np.int64])
def test_weight_dtypes(dtype):
    for arguments in (dict(padding_mode="circular", padding=1), dict(padding=1, stride=2)):
        spec = tm.ConvSpec((6, 6), 3, in_channels=2, out_channels=2, **arguments)
        w = weight_for(spec, dtype=dtype) if dtype != np.int64 else (
            np.arange(np.prod(spec.weight_shape)).reshape(spec.weight_shape) % 5 - 2
        )
        want = numpy_values(spec, w.astype(np.result_type(w, np.float64)))
        close(singular_values(spec, w, which="all"), want, rtol=1e-6 if dtype == np.float32
              else 1e-12)
        close(singular_values(spec, w, k=2, method="iterative"), want[:2], rtol=1e-6)
        close(singular_values(spec, w, k=1, which="smallest", method="shift-invert"),
              want[-1:], rtol=1e-6, norm=want[0])


def test_k_equals_stride_is_the_reshaped_kernel_repeated():
    """Disjoint windows: C = I ⊗ W (rows and columns permuted), the closed form."""
    spec = tm.ConvSpec((6, 8), 2, stride=2, in_channels=3, out_channels=4)
    w = weight_for(spec, seed=5)
    kernel = np.linalg.svd(w.reshape(4, -1), compute_uv=False)
    positions = math.prod(spec.output_shape)
    want = np.sort(np.concatenate([np.repeat(kernel, positions),
                                   np.zeros(min(spec.matrix_shape) - kernel.size * positions)]))
    close(singular_values(spec, w, which="all"), want[::-1])
    assert operator_norm(spec, w) == pytest.approx(reshaped_kernel_norm(w), rel=1e-12)


@pytest.mark.slow
def test_operator_norm_is_the_largest_value():
    spec = tm.ConvSpec((9, 9), 3, padding=1, in_channels=2, out_channels=2)
    w = weight_for(spec)
    assert operator_norm(spec, w) == pytest.approx(numpy_values(spec, w)[0], rel=1e-12)
    assert operator_norm(spec, w, method="iterative") == pytest.approx(
        numpy_values(spec, w)[0], rel=1e-9
    )


def test_rank_deficient_smallest_values_are_zero():
    # Disjoint windows of 2 taps, 3 output channels: each window's 3 x 2 block
    # has rank 2, so a third of the 30 singular values are zero.
    spec = tm.ConvSpec(30, 2, stride=3, in_channels=1, out_channels=3)
    w = weight_for(spec)
    want = numpy_values(spec, w)
    assert want[-1] < 1e-12
    with pytest.warns(spectrum.FloorWarning, match="at or below the floor") as caught:
        got = singular_values(spec, w, k=3, which="smallest", method="shift-invert")
    np.testing.assert_allclose(got, want[::-1][:3], atol=1e-6 * want[0])
    assert caught[0].message.floor == spectrum.method_floor(spec, w)


# --------------------------------------------------------------------------- reshaped kernel


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_reshaped_kernel_norm_matches_numpy(dim):
    w = np.random.default_rng(2).standard_normal((4, 3, 3, 2))
    rows = np.moveaxis(w, dim, 0).reshape(w.shape[dim], -1)
    assert reshaped_kernel_norm(w, dim) == pytest.approx(np.linalg.norm(rows, 2), rel=1e-14)


def test_reshaped_kernel_norm_as_torch_spectral_norm_reads_it(torch):
    # spectral_norm(ConvTranspose2d) reshapes with dim=1; its power iteration
    # converges to this number.
    torch.manual_seed(0)
    layer = torch.nn.ConvTranspose2d(3, 5, 3).double()
    normed = torch.nn.utils.parametrizations.spectral_norm(layer, dim=1, n_power_iterations=500)
    with torch.no_grad():
        effective = normed.weight.numpy()
    raw = normed.parametrizations.weight.original.detach().numpy()
    scale = float(np.abs(raw).sum() / np.abs(effective).sum())
    assert scale == pytest.approx(reshaped_kernel_norm(raw, dim=1), rel=1e-8)


@pytest.mark.parametrize(
    "weight, dim, error, match",
    [
        (np.ones(3), 0, tm.ConvSpecError, "at least 2 dims"),
        (np.array([[1.0, np.nan]]), 0, tm.ConvSpecError, "finite"),
        (np.array([["a", "b"]]), 0, tm.ConvSpecTypeError, "numeric"),
        (np.ones((2, 2)), 2, tm.ConvSpecError, "dim=2 must be < weight.ndim = 2"),
        (np.ones((2, 2)), -3, tm.ConvSpecError, "dim=-3 must be >= -2"),
        (np.ones((2, 2)), 0.5, tm.ConvSpecTypeError, "dim=0.5 must be an integer"),
        ([[1, 2], [3]], 0, tm.ConvSpecTypeError, "could not be read"),
    ],
)
def test_reshaped_kernel_norm_errors(weight, dim, error, match):
    with pytest.raises(error, match=match):
        reshaped_kernel_norm(weight, dim)


# --------------------------------------------------------------------------- bounds


@pytest.mark.slow
def test_bounds_of_the_shortcuts_on_named_cases(case):
    spec, w = case
    c = compare_norms(spec, w)
    want = numpy_values(spec, w)[0]
    assert c.norm == pytest.approx(want, rel=1e-12)
    assert c.norm <= c.upper * (1 + 1e-12)
    assert c.norm <= c.circular_padded * (1 + 1e-12)
    if c.lower is not None:
        assert c.lower <= c.norm * (1 + 1e-12)
    if circulant_repeats(spec) == (1,) * spec.ndim and spec.padding_mode == "circular":
        # The same circulant up to the kernel's offset, a phase: the same values.
        assert c.circular == pytest.approx(c.norm, rel=1e-12)


@pytest.mark.slow
def test_reshaped_norm_overshoots_a_depthwise_layer():
    # Eight channels with the same kernel: the stacked 8 x 9 matrix has norm
    # sqrt(8) |w|, while each channel's layer has norm max|ŵ(θ)| <= 3 |w|.
    spec = tm.ConvSpec((10, 10), 3, padding=1, in_channels=8, out_channels=8, groups=8)
    kernel = np.random.default_rng(4).standard_normal((1, 1, 3, 3))
    w = np.repeat(kernel, 8, axis=0)
    c = compare_norms(spec, w)
    assert c.reshaped == pytest.approx(math.sqrt(8) * np.linalg.norm(kernel), rel=1e-12)
    assert c.norm < c.reshaped
    assert c.lower == pytest.approx(np.linalg.norm(kernel), rel=1e-12)
    assert c.lower <= c.norm


def test_same_size_circular_norm_is_not_an_upper_bound():
    # 1 -> 3 channels, k = 3, 'same' zero padding on 7 (seed found by a
    # search over seeds): the circular layer's 7 frequencies miss the peak of
    # |M(θ)| that the zero-padded layer's sine-like vectors catch.
    spec = tm.ConvSpec(7, 3, padding=1, in_channels=1, out_channels=3)
    w = weight_for(spec, seed=3)
    c = compare_norms(spec, w)
    assert c.circular < 0.99 * numpy_values(spec, w)[0]
    assert c.norm <= c.circular_padded


def test_reshaped_norm_can_exceed_the_norm_without_a_whole_window():
    spec = tm.ConvSpec(2, 2, stride=2, padding=1, in_channels=2, out_channels=3)
    w = weight_for(spec, seed=11)
    c = compare_norms(spec, w)
    assert not c.whole_window and c.lower is None
    assert c.reshaped > numpy_values(spec, w)[0]


@pytest.mark.parametrize(
    "arguments, reads, whole",
    [
        (dict(input_shape=(8, 8), kernel_size=3, padding=1), 9, True),
        (dict(input_shape=8, kernel_size=4, stride=2, padding=1), 2, True),
        (dict(input_shape=8, kernel_size=2, stride=2), 1, True),
        (dict(input_shape=1, kernel_size=3, padding=1), 1, False),
        # reflect: x[1] is read in place and as the mirror of x[-1].
        (dict(input_shape=4, kernel_size=3, padding=1, padding_mode="reflect"), 4, True),
        (dict(input_shape=2, kernel_size=3, padding=1, padding_mode="circular"), 3, False),
    ],
)
def test_read_counts(arguments, reads, whole):
    assert read_counts(tm.ConvSpec(**arguments)) == (reads, whole)


# --------------------------------------------------------------------------- errors


def test_argument_errors():
    spec = tm.ConvSpec((6, 6), 3, padding=1, in_channels=2, out_channels=2)
    w = weight_for(spec)
    cases = [
        (dict(which="middle"), tm.ConvSpecError, "which='middle' must be one of"),
        (dict(method="qr"), tm.ConvSpecError, "method='qr' must be one of"),
        (dict(k=0), tm.ConvSpecError, "k=0 must be >= 1"),
        (dict(k=73), tm.ConvSpecError, r"k=73 must be <= min\(C.shape\) = 72"),
        (dict(k=True), tm.ConvSpecTypeError, "k=True must be an integer, not a bool"),
        (dict(k=2, which="all"), tm.ConvSpecError, "k=2 must be None with which='all'"),
        (dict(tol=0.0), tm.ConvSpecError, r"tol=0.0 must be in \(0, 1\)"),
        (dict(tol="small"), tm.ConvSpecTypeError, "tol='small' must be a number"),
        (dict(seed=-1), tm.ConvSpecError, "seed=-1 must be >= 0"),
        (dict(maxiter=0), tm.ConvSpecError, "maxiter=0 must be >= 1"),
        (dict(method="fft"), tm.ConvSpecError, "padding_mode='zeros' is not 'circular'"),
        (dict(method="iterative", which="all"), tm.ConvSpecError, "not which='all'"),
        (dict(method="shift-invert"), tm.ConvSpecError, "not which='largest'"),
    ]
    for arguments, error, match in cases:
        with pytest.raises(error, match=match):
            singular_values(spec, w, **arguments)
    with pytest.raises(tm.ConvSpecError, match="weight"):
        singular_values(spec, np.ones((3, 3)))


@pytest.mark.parametrize(
    "arguments, match",
    [
        (dict(input_shape=7, stride=2), "dim 0: stride 2 does not divide the input size 7"),
        (dict(input_shape=6, padding=2),
         "output size 8 is not a multiple of input/stride = 6"),
    ],
)
def test_fft_refusal_says_why(arguments, match):
    spec = tm.ConvSpec(kernel_size=3, padding_mode="circular", **{"padding": 1, **arguments})
    with pytest.raises(tm.ConvSpecError, match=match):
        singular_values(spec, weight_for(spec), method="fft")


def test_dense_limit(monkeypatch):
    spec = tm.ConvSpec((6, 6), 3, padding=1, in_channels=2, out_channels=2)
    monkeypatch.setattr(spectrum, "DENSE_LIMIT", 1000)
    with pytest.raises(tm.ConvSpecError, match="72 x 72 = 5184 entries, above DENSE_LIMIT"):
        singular_values(spec, weight_for(spec), which="all")
    # The largest values go to Lanczos instead, matrix-free.
    monkeypatch.setattr(spectrum, "_DENSE_SIDE", 10)
    close(singular_values(spec, weight_for(spec), k=2), numpy_values(spec, weight_for(spec))[:2],
          rtol=1e-9)


def test_smallest_beyond_both_limits(monkeypatch):
    spec = tm.ConvSpec((6, 6), 3, padding=1, in_channels=2, out_channels=2)
    monkeypatch.setattr(spectrum, "DENSE_LIMIT", 1000)
    monkeypatch.setattr(spectrum, "SHIFT_INVERT_LIMIT", 50)
    with pytest.raises(tm.ConvSpecError, match="SHIFT_INVERT_LIMIT = 50 columns"):
        singular_values(spec, weight_for(spec), which="smallest")
    monkeypatch.setattr(spectrum, "SHIFT_INVERT_LIMIT", 100)
    want = numpy_values(spec, weight_for(spec))
    close(singular_values(spec, weight_for(spec), which="smallest"), want[-1:], rtol=1e-9,
          norm=want[0])


def test_no_convergence_is_one_clear_error():
    spec = tm.ConvSpec((8, 8), 3, padding=1, in_channels=2, out_channels=2)
    with pytest.raises(tm.ConvSpecError, match="method='iterative' found 0 of the smallest k=2"):
        singular_values(spec, weight_for(spec), k=2, which="smallest", method="iterative",
                        maxiter=2)


def test_transform_memory_guard(monkeypatch):
    from transpose_matrix import memory

    spec = tm.ConvSpec((64, 64), 3, padding=1, padding_mode="circular", in_channels=64,
                       out_channels=64)
    monkeypatch.setattr(memory, "DEFAULT_MAX_BYTES", 1 << 20)
    with pytest.raises(tm.MemoryGuardError, match="the circular spectrum's kernel transform"):
        singular_values(spec, weight_for(spec))


# --------------------------------------------------------------------------- properties


@st.composite
def layers(draw):
    """A valid small layer of any padding mode, stride, dilation and groups."""
    ndim = draw(st.integers(1, 3))
    mode = draw(st.sampled_from(MODES))
    groups = draw(st.integers(1, 2))
    sizes, kernels, strides, dilations, pads = [], [], [], [], []
    for _ in range(ndim):
        n = draw(st.integers(1, 7 if ndim == 1 else 5 if ndim == 2 else 3))
        most = {"zeros": 3, "replicate": 3, "reflect": n - 1, "circular": n}[mode]
        before, after = draw(st.integers(0, min(most, 3))), draw(st.integers(0, min(most, 3)))
        dilation = draw(st.integers(1, 2))
        longest = (n + before + after - 1) // dilation + 1
        sizes.append(n)
        kernels.append(draw(st.integers(1, min(longest, 4))))
        strides.append(draw(st.integers(1, 3)))
        dilations.append(dilation)
        pads.append((before, after))
    return tm.ConvSpec(
        tuple(sizes), tuple(kernels), stride=tuple(strides), padding=pads,
        dilation=tuple(dilations), in_channels=groups * draw(st.integers(1, 2)),
        out_channels=groups * draw(st.integers(1, 2)), groups=groups, padding_mode=mode,
    )


@st.composite
def circulant_layers(draw):
    """Circular layers that the FFT method takes: s | n, output n/s per dim."""
    ndim = draw(st.integers(1, 2))
    sizes, kernels, strides, dilations, pads = [], [], [], [], []
    for _ in range(ndim):
        stride = draw(st.integers(1, 3))
        n = stride * draw(st.integers(1, 4))
        dilation = draw(st.integers(1, 2))
        kernel = draw(st.integers(1, (2 * n) // dilation + 1))
        span = dilation * (kernel - 1)
        before = draw(st.integers(max(0, span - n), min(n, span)))
        sizes.append(n)
        kernels.append(kernel)
        strides.append(stride)
        dilations.append(dilation)
        pads.append((before, span - before))
    groups = draw(st.integers(1, 2))
    return tm.ConvSpec(
        tuple(sizes), tuple(kernels), stride=tuple(strides), padding=pads,
        dilation=tuple(dilations), in_channels=groups * draw(st.integers(1, 3)),
        out_channels=groups * draw(st.integers(1, 3)), groups=groups, padding_mode="circular",
    )


@pytest.mark.slow
@given(layers(), st.integers(0, 2**32 - 1))
def test_property_spectrum_and_bounds(spec, seed):
    w = weight_for(spec, seed=seed)
    want = numpy_values(spec, w)
    close(singular_values(spec, w, which="all"), want)
    c = compare_norms(spec, w)
    assert c.norm == pytest.approx(want[0], rel=1e-12, abs=1e-300)
    assert c.norm <= c.upper * (1 + 1e-12) + 1e-300
    assert c.norm <= c.circular_padded * (1 + 1e-12) + 1e-300
    if c.lower is not None:
        assert c.lower <= c.norm * (1 + 1e-12)


@pytest.mark.slow
@given(circulant_layers(), st.integers(0, 2**32 - 1))
def test_property_fft_matches_numpy(spec, seed):
    assert circulant_repeats(spec) == (1,) * spec.ndim
    w = weight_for(spec, seed=seed)
    close(singular_values(spec, w, which="all", method="fft"), numpy_values(spec, w))


def test_no_circular_counterpart_when_its_padding_would_wrap_twice():
    # d(k-1) = 6 split 3 + 3 on an input of 2: torch's circular padding refuses it.
    spec = tm.ConvSpec(2, 3, dilation=3, padding=3)
    c = compare_norms(spec, weight_for(spec))
    assert c.circular is None
    assert c.norm <= c.circular_padded


@pytest.mark.parametrize(
    "arguments, which, k, method",
    [
        (dict(input_shape=(32, 32), padding=1, padding_mode="circular"), "all", 1, "fft"),
        (dict(input_shape=(6, 6), padding=1), "all", 1, "dense"),
        (dict(input_shape=(6, 6), padding=1), "largest", 1, "dense"),
        (dict(input_shape=(40, 40), padding=1), "largest", 1, "iterative"),
        (dict(input_shape=(40, 40), padding=1), "largest", 900, "dense"),
        (dict(input_shape=(40, 40), padding=1), "smallest", 1, "dense"),
        (dict(input_shape=(40, 40), padding=1, in_channels=4, out_channels=4), "smallest", 1,
         "shift-invert"),
        (dict(input_shape=(40, 40), padding=1, in_channels=4, out_channels=8, groups=4),
         "smallest", 1, "dense"),
    ],
)
def test_choose_method(arguments, which, k, method):
    assert spectrum.choose_method(tm.ConvSpec(kernel_size=3, **arguments), which, k) == method


# --------------------------------------------------------------------------- the command


def spectrum_call(capsys, *args: str) -> tuple[int, str, str]:
    from transpose_matrix.cli import main

    status = main(["spectrum", *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def histogram_counts(text: str) -> list[int]:
    start = text.index("Histogram of")
    return [int(line.split()[-1]) for line in text[start:].splitlines()[1:] if line.strip()]


GEOMETRY = ["--input", "8x8", "--kernel", "3", "--padding", "1", "--in-channels", "3",
            "--out-channels", "2", "--seed", "4"]


@pytest.mark.slow
def test_command_numbers_and_histogram_match_numpy(capsys):
    status, out, err = spectrum_call(capsys, *GEOMETRY, "--bins", "7", "--k", "2")
    assert (status, err) == (0, "")
    spec = tm.ConvSpec((8, 8), 3, padding=1, in_channels=3, out_channels=2)
    want = numpy_values(spec, np.random.default_rng(4).standard_normal(spec.weight_shape))
    counts, _ = np.histogram(want, bins=7, range=(0, want[0]))
    assert histogram_counts(out) == counts.tolist()
    assert sum(histogram_counts(out)) == len(want) == 128
    assert f"‖C‖₂ = σ_max       {want[0]:.6g}" in out
    assert f"σ_min              {want[-1]:.6g}" in out
    assert f"condition number   {want[0] / want[-1]:.6g}" in out
    assert f"2 largest:  {want[0]:.6g}  {want[1]:.6g}" in out
    assert "Methods: all: dense SVD, exact" in out
    c = compare_norms(spec, np.random.default_rng(4).standard_normal(spec.weight_shape))
    assert f"{c.reshaped:.6g}  lower bound" in out
    assert f"{c.upper:.6g}  upper bound" in out


@pytest.mark.slow
def test_command_circular_takes_the_fft(capsys):
    status, out, _ = spectrum_call(capsys, *GEOMETRY, "--padding-mode", "circular")
    assert status == 0
    assert "padding_mode='circular'" in out and "Methods: all: FFT, exact" in out
    assert out.splitlines()[0].count("padding_mode") == 1  # named once, in the torch call
    spec = tm.ConvSpec((8, 8), 3, padding=1, in_channels=3, out_channels=2,
                       padding_mode="circular")
    want = numpy_values(spec, np.random.default_rng(4).standard_normal(spec.weight_shape))
    assert sum(histogram_counts(out)) == len(want)
    assert f"‖C‖₂ = σ_max       {want[0]:.6g}" in out
    assert "circular padding, same size (FFT shortcut)" in out and "equal" in out


@pytest.mark.slow
def test_command_transposed_layer(capsys):
    status, out, _ = spectrum_call(capsys, "--transposed", "--input", "5x5", "--kernel", "4",
                                   "--stride", "2", "--padding", "1", "--in-channels", "4",
                                   "--out-channels", "2")
    assert status == 0
    assert "Spectrum of Cᵀ of torch.nn.ConvTranspose2d(4, 2, kernel_size=(4, 4)" in out
    spec = tm.ConvSpec.from_transposed((5, 5), 4, 2, 4, stride=2, padding=1)
    transposed = tm.transposed_conv_matrix(spec, np.random.default_rng(0).standard_normal(
        spec.weight_shape))
    want = np.linalg.svd(transposed.toarray(), compute_uv=False)
    assert f"‖C‖₂ = σ_max       {want[0]:.6g}" in out


def test_command_reads_weights_from_a_file(capsys, tmp_path):
    spec = tm.ConvSpec(12, 3, stride=2, padding=1, in_channels=2, out_channels=3)
    w = np.random.default_rng(9).standard_normal(spec.weight_shape)
    np.save(tmp_path / "w.npy", w)
    status, out, _ = spectrum_call(capsys, "--input", "12", "--kernel", "3", "--stride", "2",
                                   "--padding", "1", "--in-channels", "2", "--out-channels",
                                   "3", "--weights", str(tmp_path / "w.npy"))
    assert status == 0
    assert f"‖C‖₂ = σ_max       {numpy_values(spec, w)[0]:.6g}" in out


@pytest.mark.slow
def test_command_without_the_whole_spectrum(capsys, monkeypatch):
    from transpose_matrix.render import spectrum as report

    monkeypatch.setattr(report, "CHEAP_ENTRIES", 1000)
    monkeypatch.setattr(spectrum, "_DENSE_SIDE", 10)
    status, out, _ = spectrum_call(capsys, *GEOMETRY)
    assert status == 0
    # By default only the norm: nothing "not computed" that was never asked for.
    assert "Histogram" not in out and "not computed," not in out and "σ_min       " not in out
    # The norm alone of a layer Lanczos would take: a certified bracket (see
    # tests/test_norm_bracket.py); the exact value with --method iterative.
    assert "Methods: largest: certified bracket" in out
    assert "Not computed by default (ask for it):" in out and "--smallest" in out
    assert "--all (dense SVD, exact)" in out
    assert "k=" not in out and "method=" not in out and "DENSE_LIMIT" not in out
    spec = tm.ConvSpec((8, 8), 3, padding=1, in_channels=3, out_channels=2)
    want = numpy_values(spec, np.random.default_rng(4).standard_normal(spec.weight_shape))
    assert "‖C‖₂ = σ_max ∈ [" in out
    status, out, _ = spectrum_call(capsys, *GEOMETRY, "--method", "iterative")
    assert status == 0 and "Methods: largest: Lanczos, tolerance-bound" in out
    assert f"‖C‖₂ = σ_max       {want[0]:.6g}" in out
    status, out, _ = spectrum_call(capsys, *GEOMETRY, "--smallest", "--k", "2")
    assert status == 0 and f"σ_min              {want[-1]:.6g}" in out
    assert f"2 smallest: {want[-2]:.6g}  {want[-1]:.6g}" in out
    status, out, _ = spectrum_call(capsys, *GEOMETRY, "--all")
    assert status == 0 and sum(histogram_counts(out)) == 128


def test_command_refusals_speak_in_options(capsys, monkeypatch):
    monkeypatch.setattr(spectrum, "DENSE_LIMIT", 1000)
    monkeypatch.setattr(spectrum, "SHIFT_INVERT_LIMIT", 10)
    status, out, err = spectrum_call(capsys, *GEOMETRY, "--smallest")
    assert status == 2 and out == ""
    assert err.startswith("transpose_matrix: error: --all/--smallest: which='smallest'")
    assert "--method iterative" in err and "maxiter" not in err and "k=" not in err
    status, _, err = spectrum_call(capsys, *GEOMETRY, "--all")
    assert status == 2 and "--all/--smallest: the dense SVD needs" in err
    status, _, err = spectrum_call(capsys, *GEOMETRY, "--tol", "1")
    assert status == 2 and "--tol: '1' is not allowed" in err


def test_long_runs_announce_themselves_and_report_progress(capsys, monkeypatch):
    from transpose_matrix.cli import spectrum as command

    monkeypatch.setattr(command, "_ANNOUNCED", 100)
    monkeypatch.setattr(spectrum, "_PROGRESS_SECONDS", 0.0)
    monkeypatch.setattr(spectrum, "_DENSE_SIDE", 10)
    from transpose_matrix.render import spectrum as report

    monkeypatch.setattr(report, "CHEAP_ENTRIES", 1000)
    status, out, err = spectrum_call(capsys, *GEOMETRY, "--method", "iterative")
    assert status == 0
    lines = err.splitlines()
    assert lines[0].startswith("spectrum: C is 128 × 192; ‖C‖₂ by Lanczos")
    assert any(line.startswith("spectrum: ") and "products with the Gram matrix" in line
               for line in lines[1:])


def test_smallest_at_the_shift_invert_floor_is_flagged(capsys, tmp_path):
    # A 1 -> 1, 3x3 layer on a zero-padded 66x66 input whose only tap is the
    # corner: the last row and column of inputs are never read, so C has zero
    # columns and sigma_min is exactly 0. Shift-invert resolves only its floor.
    spec = tm.ConvSpec((66, 66), 3, padding=1)
    w = np.zeros(spec.weight_shape)
    w[0, 0, 0, 0] = 1.0
    matrix = tm.conv_matrix(spec, w)
    assert (abs(matrix).sum(axis=0) == 0).sum() > 0  # the truth: sigma_min = 0
    floor = spectrum.method_floor(spec, w, "shift-invert")
    assert floor == pytest.approx(1e-7 * math.sqrt(read_counts(spec)[0]) * 1.0)
    with pytest.warns(spectrum.FloorWarning, match="at or below the floor") as caught:
        got = singular_values(spec, w, k=1, which="smallest")
    assert spectrum.choose_method(spec, "smallest") == "shift-invert"
    assert 0 <= got[0] <= floor and caught[0].message.floor == floor
    np.save(tmp_path / "w.npy", w)
    status, out, _ = spectrum_call(capsys, "--input", "66x66", "--padding", "1", "--weights",
                                   str(tmp_path / "w.npy"), "--smallest")
    assert status == 0
    assert "σ_min              <= " in out and "(at the method's floor)" in out
    assert "condition number   >= " in out
    assert f"the true value lies between 0 and {floor:.6g}" in out


def test_smallest_values_come_smallest_first():
    spec = tm.ConvSpec((7, 7), 3, padding=1, in_channels=2, out_channels=2)
    w = weight_for(spec)
    want = numpy_values(spec, w)
    for method in ("dense", "shift-invert"):
        got = singular_values(spec, w, k=4, which="smallest", method=method)
        assert np.all(np.diff(got) >= 0)
        close(got, np.sort(want)[:4], rtol=1e-9, norm=want[0])


def test_the_real_dense_limit_at_its_boundary():
    # No SVD is run: the method choice and the refusal are what the limit decides.
    assert spectrum.DENSE_LIMIT == 1 << 24
    at = tm.ConvSpec((4096,), 3, padding=1)  # C is 4096 x 4096 = 2**24 entries: allowed
    assert at.matrix_shape[0] * at.matrix_shape[1] == spectrum.DENSE_LIMIT
    assert spectrum.choose_method(at, "all") == "dense"
    over = tm.ConvSpec((4097,), 3, padding=1)
    with pytest.raises(tm.ConvSpecError, match="4097 x 4097 = 16785409 entries, above DENSE_LIMIT"):
        spectrum.choose_method(over, "all")
    with pytest.raises(tm.ConvSpecError, match="above DENSE_LIMIT"):
        singular_values(over, np.ones((1, 1, 3)), which="all")  # refused before building


def test_tolerance_one_is_refused():
    spec = tm.ConvSpec((6,), 3, padding=1)
    w = np.ones(spec.weight_shape)
    for tol in (1.0, 1, 2.5):
        with pytest.raises(tm.ConvSpecError, match=r"must be in \(0, 1\)"):
            singular_values(spec, w, tol=tol)
    # Just below 1 is a (loose) tolerance and still gives the norm within it.
    assert singular_values(spec, w, k=1, method="iterative", tol=0.999)[0] <= \
        numpy_values(spec, w)[0] * (1 + 1e-12)


@pytest.mark.slow
def test_command_latex_table_compiles(capsys, tmp_path, pdflatex):
    from transpose_matrix.render.documents import compile_pdf, document

    bodies = []
    for extra in ([], ["--groups", "1", "--padding-mode", "circular"]):
        out = tmp_path / f"table{len(extra)}.tex"
        status, _, _ = spectrum_call(capsys, *GEOMETRY, *extra, "--format", "latex",
                                     "--out", str(out))
        assert status == 0
        bodies.append(out.read_text())
    assert bodies[0].startswith("% transpose_matrix spectrum table")
    assert r"reshaped kernel $\|W\|_2$ (spectral\_norm)" in bodies[0]
    pdf = compile_pdf(document("\n\n".join(bodies)), tmp_path, name="spectrum")
    log = (tmp_path / "spectrum.log").read_text(errors="replace")
    assert pdf.exists() and "Overfull \\hbox" not in log


@pytest.mark.parametrize(
    "args, option",
    [
        (["--transposed", "--padding-mode", "circular"], "--padding-mode: "
         "padding_mode='circular' has no transposed layer"),
        (["--input", "3", "--padding", "4", "--padding-mode", "reflect"], "--padding: padding_mode='reflect' needs padding < input size"),
        (["--k", "0"], "--k: '0' is not allowed"),
        (["--bins", "x"], "--bins: 'x' is not allowed"),
        (["--seed", "-2"], "--seed: '-2' is not allowed"),
        (["--weights", "/nonexistent/w.npy"], "--weights: '/nonexistent/w.npy' is not a "
         "readable .npy file"),
        (["--padding-mode", "mirror"], "--padding-mode: invalid choice: 'mirror'"),
    ],
)
def test_command_errors_are_one_line(capsys, args, option):
    status, out, err = spectrum_call(capsys, *args)
    assert status == 2 and out == ""
    assert err.startswith(f"transpose_matrix: error: {option}") and err.count("\n") == 1


def test_command_weights_of_the_wrong_shape(capsys, tmp_path):
    np.save(tmp_path / "w.npy", np.ones((2, 2)))
    status, _, err = spectrum_call(capsys, "--weights", str(tmp_path / "w.npy"))
    assert status == 2 and err.startswith("transpose_matrix: error: --weights: weight shape")


@pytest.mark.slow
def test_command_in_a_subprocess():
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    env = {"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"}
    help_text = subprocess.run(
        [sys.executable, "-m", "transpose_matrix", "spectrum", "--help"], cwd=root, env=env,
        capture_output=True, text=True, encoding="utf-8", timeout=120, check=True,
    ).stdout
    assert "example: python -m transpose_matrix spectrum --input 32x32" in help_text
    assert "--padding-mode" in help_text and "--weights FILE.npy" in help_text
    result = subprocess.run(
        [sys.executable, "-m", "transpose_matrix", "spectrum", "--input", "6", "--kernel", "2",
         "--stride", "2"], cwd=root, env=env, capture_output=True, text=True,
        encoding="utf-8", timeout=120, check=False,
    )
    assert result.returncode == 0 and "condition number" in result.stdout


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["zeros", "reflect"])
def test_torch_backend_gives_the_same_values(torch, mode):
    spec = tm.ConvSpec((9, 9), 3, stride=2, padding=1, padding_mode=mode, in_channels=2,
                       out_channels=3)
    w = weight_for(spec)
    want = numpy_values(spec, w)
    close(singular_values(spec, w, k=2, method="iterative", backend="torch"), want[:2],
          rtol=1e-9)
    close(singular_values(spec, w, which="all", method="dense", backend="torch"), want)
    assert operator_norm(spec, w, backend="torch") == pytest.approx(want[0], rel=1e-12)


# --------------------------------------------------------------------------- the derivation


@pytest.mark.slow
def test_spectra_derivation_checks_its_claims_and_fits_the_notes(torch, pdflatex, tmp_path):
    """derivations/spectra.py: every claim holds, and its fragment sets in the notes' page."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    fragment = tmp_path / "spectra.tex"
    result = subprocess.run(
        [sys.executable, str(root / "derivations" / "spectra.py"), "--latex", str(fragment)],
        cwd=root, capture_output=True, text=True, encoding="utf-8", timeout=600, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "12 claims checked." in result.stdout and "✗" not in result.stdout
    notes = (root / "derivations" / "notes.tex").read_text(encoding="utf-8")
    preamble = notes[: notes.index(r"\begin{document}")]
    (tmp_path / "alone.tex").write_text(
        preamble + "\\begin{document}\n\\input{spectra}\n\\end{document}\n", encoding="utf-8"
    )
    subprocess.run(
        [pdflatex, "-interaction=nonstopmode", "-halt-on-error", "alone.tex"], cwd=tmp_path,
        capture_output=True, timeout=300, check=True,
    )
    log = (tmp_path / "alone.log").read_text(encoding="utf-8", errors="replace")
    assert "Overfull \\hbox" not in log


@pytest.mark.slow
def test_the_maths_never_loads_the_presentation_layer():
    import json
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    code = (
        "import json, sys, numpy as np, transpose_matrix as tm\n"
        "spec = tm.ConvSpec((6, 6), 3, padding=1, padding_mode='circular')\n"
        "tm.compare_norms(spec, np.ones(spec.weight_shape))\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    loaded = json.loads(subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"}, timeout=120,
    ).stdout)
    assert "transpose_matrix.analysis.spectrum" in loaded
    assert not [name for name in loaded if name.startswith("transpose_matrix.render")]


@pytest.mark.slow
def test_report_of_a_rank_deficient_grouped_layer(capsys, pdflatex, tmp_path):
    from transpose_matrix.render.documents import compile_pdf, document
    from transpose_matrix.render.spectrum import spectrum_latex, spectrum_report, spectrum_text

    # Wrapping twice repeats C's rows: half of the 2n values are exactly zero.
    spec = tm.ConvSpec(4, 3, padding=3, padding_mode="circular", in_channels=2,
                       out_channels=1)
    w = weight_for(spec)
    report = spectrum_report(spec, w, k=3)
    assert report.minimum == 0.0 and report.condition == math.inf
    close(report.values, numpy_values(spec, w))
    assert "condition number   inf" in spectrum_text(report)
    latex = spectrum_latex(report)
    assert r"$\kappa(C) = \sigma_{\max}/\sigma_{\min}$ & $\infty$" in latex
    status, out, _ = spectrum_call(capsys, "--input", "6x6", "--in-channels", "4",
                                   "--out-channels", "4", "--groups", "2", "--padding", "1")
    assert status == 0
    assert "it stacks the groups' kernels, which C keeps apart" in out
    assert "max over groups of ‖W_g‖₂" in out and "each W_g is a submatrix of C" in out
    tiny = tm.ConvSpec(3, 3, padding=1, in_channels=1, out_channels=1)
    tiny_latex = spectrum_latex(spectrum_report(tiny, np.array([[[1e-7, 0.0, 0.0]]])))
    assert r"\times 10^{-7}" in tiny_latex
    pdf = compile_pdf(document(latex + "\n\n" + tiny_latex), tmp_path, name="ranks")
    assert pdf.exists()


def test_a_tiny_group_falls_back_to_the_dense_svd_within_its_limit(monkeypatch):
    spec = tm.ConvSpec(4, 1)
    w = np.array([[[2.0]]])
    close(singular_values(spec, w, k=3, method="iterative"), np.array([2.0, 2.0, 2.0]))
    monkeypatch.setattr(spectrum, "DENSE_LIMIT", 10)
    with pytest.raises(tm.ConvSpecError, match="4 x 4 = 16 entries, above DENSE_LIMIT = 10"):
        singular_values(spec, w, k=3, method="iterative")
