"""unfold_matrix (im2col as a matrix) against torch's unfold/fold and a plain loop.

Referees: ``torch.nn.functional.unfold`` and ``fold`` (2-D), a loop written
from the definition ``U[(c, *t, *j), (c, *i)] = 1`` with ``i = j·s - p + t·d``
(1-D, 2-D, 3-D, padding modes through ``numpy.pad``), the dot test for Uᵀ,
``conv_matrix`` for ``C = (W ⊗ I)·U`` per group, and torch's ``conv2d`` for
``W_mat @ unfold(x)``.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import scipy.sparse

import transpose_matrix as tm
from transpose_matrix import ConvSpec, ConvSpecTypeError, MemoryGuardError

TORCH_CASES = {
    "plain": ConvSpec((5, 4), 3),
    "channels": ConvSpec((4, 5), 2, in_channels=3),
    "stride": ConvSpec((7, 6), 3, stride=2, in_channels=2),
    "padding": ConvSpec((4, 4), 3, padding=1, in_channels=2),
    "dilation": ConvSpec((7, 7), 2, dilation=3, in_channels=1),
    "everything": ConvSpec((8, 7), (3, 2), stride=(2, 3), padding=(2, 1), dilation=(1, 2),
                           in_channels=3),
    "kernel-as-input": ConvSpec((3, 2), (3, 2), in_channels=2),
}


def torch_arguments(spec: ConvSpec) -> dict:
    return {
        "kernel_size": spec.kernel_size,
        "dilation": spec.dilation,
        "padding": tuple(before for before, _ in spec.padding),
        "stride": spec.stride,
    }


@pytest.mark.parametrize("case", sorted(TORCH_CASES))
def test_unfold_and_fold_are_u_and_its_transpose(torch, case):
    spec = TORCH_CASES[case]
    F = torch.nn.functional
    U = tm.unfold_matrix(spec)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((spec.in_channels, *spec.input_shape))
    unfolded = F.unfold(torch.tensor(x)[None], **torch_arguments(spec))[0].numpy()
    assert U.shape == (unfolded.size, x.size)
    np.testing.assert_array_equal(U @ x.reshape(-1), unfolded.reshape(-1))
    patches = rng.standard_normal(unfolded.shape)
    folded = F.fold(torch.tensor(patches)[None], spec.input_shape, **torch_arguments(spec))
    np.testing.assert_allclose(U.T @ patches.reshape(-1), folded[0].numpy().reshape(-1),
                               rtol=0, atol=1e-12)
    # Dot test: <U x, y> = <x, Uᵀ y>.
    y = patches.reshape(-1)
    assert abs(np.dot(U @ x.reshape(-1), y) - np.dot(x.reshape(-1), U.T @ y)) < 1e-10
    # 0/1 with at most one 1 per row, float64 CSR.
    assert isinstance(U, scipy.sparse.csr_array) and U.dtype == np.float64
    assert set(np.unique(U.data)) <= {1.0} and np.diff(U.indptr).max() <= 1


def loop_unfold(spec: ConvSpec, x: np.ndarray) -> np.ndarray:
    """``unfold`` from the definition, any number of dims: ``(C·prod(k), L)``."""
    mode = {"zeros": "constant", "reflect": "reflect", "replicate": "edge",
            "circular": "wrap"}[spec.padding_mode]
    padded = np.pad(x, [(0, 0), *spec.padding], mode=mode)
    out, taps = spec.output_shape, math.prod(spec.kernel_size)
    result = np.zeros((spec.in_channels * taps, math.prod(out)))
    for c in range(spec.in_channels):
        for t_flat, t in enumerate(itertools.product(*map(range, spec.kernel_size))):
            for j_flat, j in enumerate(itertools.product(*map(range, out))):
                at = tuple(jj * s + tt * d for jj, tt, s, d in zip(j, t, spec.stride, spec.dilation))
                result[c * taps + t_flat, j_flat] = padded[(c, *at)]
    return result


LOOP_CASES = {
    "1d": ConvSpec((9,), 3, stride=2, padding=[(2, 1)], dilation=2, in_channels=2),
    "1d-asymmetric": ConvSpec((5,), 2, padding=[(0, 3)], in_channels=1),
    "2d-asymmetric": ConvSpec((4, 5), 3, padding=[(2, 0), (1, 2)], stride=(1, 2), in_channels=2),
    "3d": ConvSpec((4, 3, 5), (2, 1, 3), stride=(2, 1, 2), padding=1, dilation=(1, 1, 2),
                   in_channels=2),
    "reflect": ConvSpec((5, 4), 3, padding=1, in_channels=2, padding_mode="reflect"),
    "replicate-1d": ConvSpec((4,), 3, padding=2, padding_mode="replicate"),
    "circular-3d": ConvSpec((3, 3, 4), 2, padding=1, in_channels=1, padding_mode="circular"),
}


@pytest.mark.parametrize("case", sorted(LOOP_CASES))
def test_unfold_matrix_against_a_loop_from_the_definition(case):
    spec = LOOP_CASES[case]
    x = np.random.default_rng(1).standard_normal((spec.in_channels, *spec.input_shape))
    U = tm.unfold_matrix(spec)
    np.testing.assert_array_equal(U @ x.reshape(-1), loop_unfold(spec, x).reshape(-1))


CONV_CASES = {
    "1d": ConvSpec((9,), 3, stride=2, padding=1, in_channels=2, out_channels=3),
    "2d-groups": ConvSpec((6, 5), 3, stride=2, padding=1, dilation=(1, 2), in_channels=4,
                          out_channels=6, groups=2),
    "3d-depthwise": ConvSpec((3, 4, 3), 2, padding=(1, 0, 1), in_channels=3, out_channels=6,
                             groups=3),
    "reflect": ConvSpec((5, 5), 3, padding=2, in_channels=2, out_channels=2,
                        padding_mode="reflect"),
}


@pytest.mark.parametrize("case", sorted(CONV_CASES))
def test_conv_matrix_is_kron_of_the_weight_times_u_per_group(case):
    spec = CONV_CASES[case]
    weight = np.random.default_rng(2).standard_normal(spec.weight_shape)
    U = tm.unfold_matrix(spec)
    g, positions = spec.groups, math.prod(spec.output_shape)
    out_g = spec.out_channels // g
    cols_g = spec.in_channels // g * math.prod(spec.kernel_size)
    blocks = []
    for group in range(g):
        W_g = weight[group * out_g:(group + 1) * out_g].reshape(out_g, cols_g)
        U_g = U[group * cols_g * positions:(group + 1) * cols_g * positions]
        blocks.append(scipy.sparse.kron(W_g, scipy.sparse.eye_array(positions)) @ U_g)
    C = tm.conv_matrix(spec, weight)
    np.testing.assert_allclose(scipy.sparse.vstack(blocks).toarray(), C.toarray(), rtol=0,
                               atol=1e-12)


def test_a_framework_convolution_is_one_matrix_product(torch):
    spec = ConvSpec((7, 6), 3, stride=2, padding=1, in_channels=4, out_channels=6, groups=2)
    rng = np.random.default_rng(3)
    weight = rng.standard_normal(spec.weight_shape)
    x = rng.standard_normal((spec.in_channels, *spec.input_shape))
    columns = (tm.unfold_matrix(spec) @ x.reshape(-1)).reshape(
        spec.in_channels * 9, math.prod(spec.output_shape))
    expected = torch.nn.functional.conv2d(torch.tensor(x)[None], torch.tensor(weight), stride=2,
                                          padding=1, groups=2)[0].numpy()
    for group in range(2):
        W_g = weight[group * 3:(group + 1) * 3].reshape(3, 18)
        y_g = W_g @ columns[group * 18:(group + 1) * 18]
        np.testing.assert_allclose(y_g, expected[group * 3:(group + 1) * 3].reshape(3, -1),
                                   rtol=0, atol=1e-12)


def test_unfold_matrix_refuses_what_it_cannot_build():
    with pytest.raises(ConvSpecTypeError, match="must be a ConvSpec"):
        tm.unfold_matrix((4, 4))
    with pytest.raises(MemoryGuardError, match="unfold_matrix"):
        tm.unfold_matrix(ConvSpec((64, 64), 5, in_channels=8), max_bytes=10_000)
    assert tm.matrices.unfold_matrix is tm.unfold_matrix
