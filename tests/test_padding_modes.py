"""Padding modes and padding strings against torch, the loop reference and C = D·P.

torch is the referee for the values (``ConvNd(padding_mode=...)``, ``F.pad``
with a mode, autograd) and for the rules: which amounts each mode accepts,
how ``padding='same'`` splits an odd total. The loop reference folds the
padding by walking it, independently of the builders' vectorised tables.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import scipy.sparse
from hypothesis import given
from hypothesis import strategies as st

import transpose_matrix as tm
from transpose_matrix import ConvSpec, ConvSpecError, MemoryGuardError
from transpose_matrix.matrices.conv import conv_matrix_nbytes, conv_matrix_nnz
from transpose_matrix.matrices.reference import reference_conv_matrix

# Third-party noise that says nothing about the checks here.
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths:UserWarning")

MODES = ("reflect", "replicate", "circular")


def _functional(torch, ndim):
    F = torch.nn.functional
    return (F.conv1d, F.conv2d, F.conv3d)[ndim - 1], (
        F.conv_transpose1d,
        F.conv_transpose2d,
        F.conv_transpose3d,
    )[ndim - 1]


def _torch_pad(torch, x, pairs, mode):
    amounts = [amount for pair in reversed(pairs) for amount in pair]
    return torch.nn.functional.pad(x, amounts, mode="constant" if mode == "zeros" else mode)


@st.composite
def mode_specs(draw, modes=MODES):
    """A legal spec with a padding mode: amounts drawn inside the mode's limits."""
    ndim = draw(st.integers(1, 3))
    mode = draw(st.sampled_from(modes))
    groups = draw(st.integers(1, 2))
    cin, cout = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    shape, kernel, stride, padding, dilation = [], [], [], [], []
    for _ in range(ndim):
        n = draw(st.integers(1 if mode != "reflect" else 2, 4 if ndim == 3 else 6))
        limit = {"reflect": n - 1, "circular": n, "replicate": 3, "zeros": 3}[mode]
        before, after = draw(st.integers(0, limit)), draw(st.integers(0, limit))
        d = draw(st.integers(1, 2))
        # The dilated kernel must fit the padded input: d*(k - 1) + 1 <= n + before + after.
        k = draw(st.integers(1, min(4, (n + before + after - 1) // d + 1)))
        shape.append(n)
        kernel.append(k)
        stride.append(draw(st.integers(1, 3)))
        padding.append((before, after))
        dilation.append(d)
    return ConvSpec(tuple(shape), tuple(kernel), tuple(stride), tuple(padding), tuple(dilation),
                    cin, cout, groups, padding_mode=mode)


def _arrays(spec, seed=0):
    rng = np.random.default_rng(seed)
    return (
        rng.standard_normal(spec.weight_shape),
        rng.standard_normal((spec.in_channels, *spec.input_shape)),
        rng.standard_normal((spec.out_channels, *spec.output_shape)),
    )


def _padding_operator(spec):
    """kron(I_channels, P_mode): the padding of every input channel."""
    P = tm.pad_matrix(spec.input_shape, spec.padding, mode=spec.padding_mode)
    return scipy.sparse.kron(scipy.sparse.eye_array(spec.in_channels), P, format="csr")


def _padding_free(spec):
    """D: the same convolution on the padded input, without padding."""
    padded = tuple(n + b + a for n, (b, a) in zip(spec.input_shape, spec.padding))
    return ConvSpec(padded, spec.kernel_size, spec.stride, 0, spec.dilation,
                    spec.in_channels, spec.out_channels, spec.groups)


@pytest.mark.slow
@given(spec=mode_specs())
def test_mode_matrix_matches_torch_autograd_reference_and_d_times_p(torch, spec):
    w, x, y = _arrays(spec)
    conv, conv_t = _functional(torch, spec.ndim)
    C = tm.conv_matrix(spec, w)
    wt = torch.tensor(w)
    xt = torch.tensor(x)[None].requires_grad_(True)
    out = conv(_torch_pad(torch, xt, spec.padding, spec.padding_mode), wt,
               stride=spec.stride, dilation=spec.dilation, groups=spec.groups)
    np.testing.assert_allclose(C @ x.reshape(-1), out.detach().numpy().reshape(-1), atol=1e-12)
    # Cᵀ is the input gradient, built directly and equal to C's transpose.
    out.backward(torch.tensor(y)[None])
    T = tm.transposed_conv_matrix(spec, w)
    np.testing.assert_allclose(T @ y.reshape(-1), xt.grad.numpy().reshape(-1), atol=1e-12)
    # Same pattern; values equal up to the order in which folded taps are summed.
    assert (T != 0).nnz == (C != 0).nnz and T.nnz == C.nnz
    np.testing.assert_allclose(T.toarray(), C.T.toarray(), atol=1e-12)
    # The loop reference, which folds the padding by walking it.
    R = reference_conv_matrix(spec, w)
    assert C.shape == R.shape and C.nnz == R.nnz == conv_matrix_nnz(spec)
    np.testing.assert_allclose(C.toarray(), R.toarray(), atol=1e-12)
    # C = D·P, D the padding-free convolution of the padded input.
    D = tm.conv_matrix(_padding_free(spec), w)
    np.testing.assert_allclose((D @ _padding_operator(spec)).toarray(), C.toarray(), atol=1e-12)
    # What Cᵀ is instead of a ConvTranspose: the zero-padded transposed
    # convolution onto the padded grid (padding 0), then Pᵀ folds the border back.
    padded = _padding_free(spec)
    layer = padded.transposed_arguments()
    on_padded = conv_t(torch.tensor(y)[None], wt, stride=layer["stride"], padding=0,
                       output_padding=layer["output_padding"], groups=spec.groups,
                       dilation=spec.dilation)
    folded = _padding_operator(spec).T @ on_padded.numpy().reshape(-1)
    np.testing.assert_allclose(folded, T @ y.reshape(-1), atol=1e-12)
    assert spec.transposed_arguments() is None


@pytest.mark.slow
@given(spec=mode_specs())
def test_mode_symbolic_matrix_and_patch_matrix(torch, spec):
    w, x, y = _arrays(spec, seed=1)
    symbols = tm.symbolic_conv_matrix(spec)
    numeric = np.array(symbols.xreplace(tm.weight_substitution(spec, w)).tolist(), dtype=float)
    np.testing.assert_allclose(numeric, tm.conv_matrix(spec, w).toarray(), atol=1e-12)
    # y = U(x) vec(w), and U(x)ᵀ g is autograd's weight gradient.
    U = tm.patch_matrix(spec, x)
    np.testing.assert_allclose(U @ w.reshape(-1), tm.conv_matrix(spec, w) @ x.reshape(-1), atol=1e-12)
    conv, _ = _functional(torch, spec.ndim)
    wt = torch.tensor(w).requires_grad_(True)
    out = conv(_torch_pad(torch, torch.tensor(x)[None], spec.padding, spec.padding_mode), wt,
               stride=spec.stride, dilation=spec.dilation, groups=spec.groups)
    out.backward(torch.tensor(y)[None])
    np.testing.assert_allclose(U.T @ y.reshape(-1), wt.grad.numpy().reshape(-1), atol=1e-12)


MODULE_CASES = {
    # (ndim, input_shape, kernel, stride, padding, dilation, cin, cout, groups)
    "1d-reflect-like-cyclegan": (1, (8,), 3, 1, 1, 1, 2, 3, 1),
    "1d-strided-wide": (1, (6,), 4, 2, 3, 1, 1, 2, 1),
    "2d-pad3-k7": (2, (7, 8), 7, 1, 3, 1, 1, 2, 1),
    "2d-strided-dilated-groups": (2, (6, 5), 3, (2, 1), (2, 1), (1, 2), 4, 2, 2),
    "3d-small": (3, (3, 4, 3), 2, 1, 1, 1, 2, 2, 1),
}


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES + ("zeros",))
@pytest.mark.parametrize("case", sorted(MODULE_CASES))
def test_mode_matches_torch_conv_module(torch, case, mode):
    ndim, shape, k, s, p, d, cin, cout, g = MODULE_CASES[case]
    module_class = (torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Conv3d)[ndim - 1]
    module = module_class(cin, cout, k, s, p, d, g, bias=False, padding_mode=mode).double()
    spec = ConvSpec(shape, k, s, p, d, cin, cout, g, padding_mode=mode)
    w = module.weight.detach().numpy()
    x = np.random.default_rng(2).standard_normal((cin, *shape))
    expected = module(torch.tensor(x)[None]).detach().numpy()
    assert expected.shape[2:] == spec.output_shape
    np.testing.assert_allclose(tm.conv_matrix(spec, w) @ x.reshape(-1), expected.reshape(-1), atol=1e-12)


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
def test_mode_limits_are_torchs(torch, mode):
    # ConvSpec refuses exactly the amounts F.pad refuses, side by side.
    for n, before, after in itertools.product(range(1, 5), range(0, 6), range(0, 6)):
        x = torch.zeros(1, 1, n, dtype=torch.float64)
        try:
            torch.nn.functional.pad(x, (before, after), mode=mode)
            torch_ok = True
        except (RuntimeError, ValueError):
            torch_ok = False
        try:
            ConvSpec((n,), 1, padding=[(before, after)], padding_mode=mode)
            ours_ok = True
        except ConvSpecError:
            ours_ok = False
        assert ours_ok == torch_ok, (mode, n, before, after)


@pytest.mark.parametrize("mode", MODES + ("zeros",))
@pytest.mark.parametrize("shape", [(5,), (3, 4), (3, 4, 5)])
def test_pad_matrix_matches_f_pad(torch, mode, shape):
    pairs = [(1, 2), (2, 0), (1, 1)][: len(shape)]
    x = np.random.default_rng(3).standard_normal(shape)
    expected = _torch_pad(torch, torch.tensor(x)[None, None], pairs, mode)
    P = tm.pad_matrix(shape, pairs, mode=mode)
    assert P.shape == (expected.numel(), math.prod(shape))
    np.testing.assert_array_equal(P @ x.reshape(-1), expected.numpy().reshape(-1))
    if mode != "zeros":
        np.testing.assert_array_equal(P.sum(axis=1), 1.0)  # every padded entry copies one input


def test_reflect_from_the_definition():
    # Written out by hand: x = [a, b, c, d] reflected by 2 on the left and
    # 1 on the right is [c, b, a, b, c, d, c]; its transpose adds the border back.
    P = tm.pad_matrix(4, [(2, 1)], mode="reflect").toarray()
    np.testing.assert_array_equal(P @ [1.0, 10.0, 100.0, 1000.0],
                                  [100, 10, 1, 10, 100, 1000, 100])
    np.testing.assert_array_equal(P.T @ np.ones(7), [1, 2, 3, 1])
    assert tm.pad_matrix(3, 1, mode="replicate").toarray().tolist() == [
        [1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 1]]
    assert tm.pad_matrix(3, [(2, 1)], mode="circular").toarray().argmax(axis=1).tolist() == [1, 2, 0, 1, 2, 0]


def test_cancelling_weights_stay_stored():
    # Reflect folds taps 0 and 2 of the first row onto one entry: w0 + w2 = 0
    # must stay a stored entry, so the pattern (and nnz) does not depend on values.
    spec = ConvSpec((4,), 3, padding=1, padding_mode="reflect")
    C = tm.conv_matrix(spec, np.array([[[1.0, 5.0, -1.0]]]))
    assert C.nnz == conv_matrix_nnz(spec) == 10
    assert C[0, 1] == 0.0 and C[[0], [1]].shape == (1,)
    assert 0.0 in C.data


@pytest.mark.slow
@given(spec=mode_specs(modes=MODES + ("zeros",)))
def test_mode_nbytes_are_exact(spec):
    w = np.ones(spec.weight_shape, dtype=np.float32)
    for transposed, build in ((False, tm.conv_matrix), (True, tm.transposed_conv_matrix)):
        M = build(spec, w)
        actual = M.data.nbytes + M.indices.nbytes + M.indptr.nbytes
        assert conv_matrix_nbytes(spec, np.float32, transposed=transposed) == actual


def test_mode_memory_guard_refuses_before_building():
    spec = ConvSpec((64, 64), 3, padding=1, in_channels=8, out_channels=8, padding_mode="reflect")
    with pytest.raises(MemoryGuardError, match=r"C \(conv_matrix\) of shape \(32768, 32768\)"):
        tm.conv_matrix(spec, np.ones(spec.weight_shape), max_bytes=10_000)
    with pytest.raises(MemoryGuardError, match=r"Cᵀ"):
        tm.transposed_conv_matrix(spec, np.ones(spec.weight_shape), max_bytes=10_000)


def test_weight_labels_refuse_summed_entries():
    with pytest.raises(ConvSpecError, match=r"padding_mode='circular': an entry of C can be a sum"):
        tm.matrices.conv.weight_label_matrix(ConvSpec((4,), 3, padding=1, padding_mode="circular"))


# ---------------------------------------------------------------- 'same' and 'valid'

SAME_CASES = [
    # (input_shape, kernel, dilation): odd and even totals d*(k - 1)
    ((7,), 1, 1), ((7,), 2, 1), ((7,), 3, 1), ((7,), 4, 1), ((7,), 4, 3), ((5,), 5, 2),
    ((3,), 6, 1),  # kernel wider than the input: 'same' still keeps the size
    ((5, 6), (2, 3), (1, 2)), ((4, 5), (4, 2), (3, 1)), ((3, 4, 5), (2, 3, 4), 1),
]


@pytest.mark.slow
@pytest.mark.parametrize("mode", ("zeros",) + MODES)
@pytest.mark.parametrize(("shape", "k", "d"), SAME_CASES)
def test_same_and_valid_match_torch(torch, shape, k, d, mode):
    ndim = len(shape)
    module_class = (torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Conv3d)[ndim - 1]
    x = np.random.default_rng(4).standard_normal((2, *shape))
    for padding in ("same", "valid"):
        try:
            spec = ConvSpec(shape, k, padding=padding, dilation=d, in_channels=2, out_channels=3,
                            padding_mode=mode)
        except ConvSpecError:
            spec = None
        module = module_class(2, 3, k, padding=padding, dilation=d, bias=False,
                              padding_mode=mode).double()
        try:
            expected = module(torch.tensor(x)[None]).detach().numpy()
        except RuntimeError:
            expected = None
        # Both refuse the same geometries (reflect wider than the input, a
        # 'valid' kernel wider than the input) and agree on all others.
        assert (spec is None) == (expected is None), (padding, mode)
        if spec is None:
            continue
        assert spec.padding_string == padding
        assert expected.shape[2:] == spec.output_shape
        if padding == "same":
            assert spec.output_shape == shape
        w = module.weight.detach().numpy()
        np.testing.assert_allclose(tm.conv_matrix(spec, w) @ x.reshape(-1), expected.reshape(-1),
                                   atol=1e-12)


def test_same_split_puts_the_odd_entry_after(torch):
    # torch's own resolved amounts, as the module stores them for F.pad.
    for k, d in itertools.product(range(1, 6), range(1, 4)):
        module = torch.nn.Conv1d(1, 1, k, padding="same", dilation=d, padding_mode="reflect")
        left, right = module._reversed_padding_repeated_twice
        assert ConvSpec((20,), k, padding="same", dilation=d).padding == ((left, right),)


def test_same_refuses_strides_like_torch(torch):
    with pytest.raises(ValueError, match="strided"):
        torch.nn.Conv1d(1, 1, 3, stride=2, padding="same")
    with pytest.raises(ConvSpecError, match=r"padding='same' needs stride 1 in every dim, got stride=\(1, 2\)"):
        ConvSpec((5, 5), 3, stride=(1, 2), padding="same")
    # 'valid' is plain no padding, for any stride.
    assert ConvSpec((5,), 3, stride=2, padding="valid") == ConvSpec((5,), 3, stride=2)


def test_padding_string_is_kept_but_not_part_of_equality():
    spec = ConvSpec((6, 6), 3, padding="same")
    assert spec.padding == ((1, 1), (1, 1)) and spec.padding_string == "same"
    assert spec == ConvSpec((6, 6), 3, padding=1) and hash(spec) == hash(ConvSpec((6, 6), 3, padding=1))
    assert ConvSpec((6, 6), 3, padding=1).padding_string is None
    assert "padding_string" not in repr(spec)
