"""Symbolic C: names, the textbook pattern, and equality with the loop reference."""

from __future__ import annotations

import numpy as np
import pytest
import sympy
from hypothesis import assume, given
from hypothesis import strategies as st

from transpose_matrix import ConvSpec, ConvSpecError, conv_matrix
from transpose_matrix.matrices.reference import reference_conv, reference_conv_matrix
from transpose_matrix.matrices.symbolic import (
    symbolic_conv_equations,
    symbolic_conv_matrix,
    symbolic_input,
    symbolic_output,
    weight_substitution,
    weight_symbols,
)


def w(name: str) -> sympy.Symbol:
    return sympy.Symbol(f"w_{{{name}}}", real=True)


def test_textbook_4x4_input_3x3_kernel_gives_the_classic_banded_4x16_matrix():
    # Dumoulin & Visin's example, written out by hand: each row is the kernel
    # laid over the flattened 4x4 input, rows shifted by 1, then by 4.
    a, b, c = w("0,0"), w("0,1"), w("0,2")
    d, e, f = w("1,0"), w("1,1"), w("1,2")
    g, h, i = w("2,0"), w("2,1"), w("2,2")
    expected = sympy.Matrix(
        [
            [a, b, c, 0, d, e, f, 0, g, h, i, 0, 0, 0, 0, 0],
            [0, a, b, c, 0, d, e, f, 0, g, h, i, 0, 0, 0, 0],
            [0, 0, 0, 0, a, b, c, 0, d, e, f, 0, g, h, i, 0],
            [0, 0, 0, 0, 0, a, b, c, 0, d, e, f, 0, g, h, i],
        ]
    )
    C = symbolic_conv_matrix(ConvSpec((4, 4), 3))
    assert isinstance(C, sympy.ImmutableSparseMatrix)
    assert C.shape == (4, 16)
    assert C == expected


@pytest.mark.parametrize(
    ("spec", "names"),
    [
        (ConvSpec(4, 3), ["w_{0}", "w_{1}", "w_{2}"]),
        (ConvSpec((3, 3), 2), ["w_{0,0}", "w_{0,1}", "w_{1,0}", "w_{1,1}"]),
        (ConvSpec((2, 2, 2), 1), ["w_{0,0,0}"]),
        (
            ConvSpec(3, 1, in_channels=2, out_channels=2),
            ["w_{0,0,0}", "w_{0,1,0}", "w_{1,0,0}", "w_{1,1,0}"],
        ),
        # Grouped: c counts input channels within the group, so it stays 0 here.
        (ConvSpec((2, 2), 1, in_channels=2, out_channels=2, groups=2), ["w_{0,0,0,0}", "w_{1,0,0,0}"]),
    ],
)
def test_weight_symbol_names(spec, names):
    assert [s.name for s in weight_symbols(spec).reshape(-1)] == names


def test_input_and_output_vectors_flatten_channel_then_space():
    spec = ConvSpec((2, 3), 2, in_channels=2, out_channels=1)
    x = symbolic_input(spec)
    assert [s.name for s in x] == [
        f"x_{{{c},{i},{j}}}" for c in range(2) for i in range(2) for j in range(3)
    ]
    y = symbolic_output(spec)
    assert [s.name for s in y] == ["y_{0,0}", "y_{0,1}"]
    assert [s.name for s in symbolic_output(spec, "g")] == ["g_{0,0}", "g_{0,1}"]


SPECS = [
    ConvSpec(7, 3),
    ConvSpec(9, 3, stride=2, padding=1, dilation=2),
    ConvSpec(6, 2, padding=[(2, 0)], stride=3),
    ConvSpec((4, 5), (2, 3), stride=(1, 2), padding=(1, 0)),
    ConvSpec((5, 4), 2, in_channels=3, out_channels=2),
    ConvSpec((4, 4), 3, stride=2, padding=1, in_channels=4, out_channels=6, groups=2),
    ConvSpec((3, 4, 3), 2, in_channels=2, out_channels=2, padding=(1, 0, 1)),
    ConvSpec((4, 3, 3), (2, 1, 2), stride=(2, 1, 1), dilation=(1, 1, 2), in_channels=2,
             out_channels=4, groups=2),
    ConvSpec.from_transposed((3,), 2, 2, 3, stride=2, output_padding=2, dilation=3),
]


@pytest.mark.slow
@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s.input_shape}-{s.weight_shape}")
@pytest.mark.parametrize("seed", [0, 1])
def test_substituting_random_weights_gives_the_loop_reference(spec, seed):
    weight = np.random.default_rng(seed).integers(-9, 10, size=spec.weight_shape)
    C = symbolic_conv_matrix(spec).xreplace(weight_substitution(spec, weight))
    dense = np.array(C.tolist(), dtype=np.int64)
    np.testing.assert_array_equal(dense, reference_conv_matrix(spec, weight).toarray())
    np.testing.assert_array_equal(dense, conv_matrix(spec, weight).toarray())


@pytest.mark.parametrize("spec", SPECS[:6], ids=lambda s: f"{s.input_shape}-{s.weight_shape}")
def test_float_substitution_matches_reference(spec):
    rng = np.random.default_rng(7)
    weight = rng.standard_normal(spec.weight_shape)
    C = symbolic_conv_matrix(spec).xreplace(weight_substitution(spec, weight))
    np.testing.assert_allclose(
        np.array(C.tolist(), dtype=float), reference_conv_matrix(spec, weight).toarray(), atol=0
    )


@pytest.mark.slow
@pytest.mark.parametrize("spec", SPECS[3:7], ids=lambda s: f"{s.input_shape}-{s.weight_shape}")
def test_equations_y_equals_cx_evaluate_to_the_loop_convolution(spec):
    rng = np.random.default_rng(3)
    weight = rng.integers(-5, 6, size=spec.weight_shape)
    x = rng.integers(-5, 6, size=(spec.in_channels, *spec.input_shape))
    values = weight_substitution(spec, weight)
    values.update(zip(symbolic_input(spec), (sympy.Integer(int(v)) for v in x.reshape(-1))))
    equations = symbolic_conv_equations(spec)
    assert [eq.lhs for eq in equations] == list(symbolic_output(spec))
    got = np.array([int(eq.rhs.xreplace(values)) for eq in equations])
    np.testing.assert_array_equal(got, reference_conv(spec, weight, x).reshape(-1))


@pytest.mark.slow
@given(
    n=st.integers(1, 7),
    k=st.integers(1, 3),
    s=st.integers(1, 3),
    p=st.integers(0, 2),
    d=st.integers(1, 2),
    seed=st.integers(0, 2**16),
)
def test_symbolic_equals_reference_for_random_1d_specs(n, k, s, p, d, seed):
    assume(n + 2 * p >= d * (k - 1) + 1)  # otherwise no placement fits
    spec = ConvSpec(n, k, stride=s, padding=p, dilation=d, in_channels=2, out_channels=2)
    weight = np.random.default_rng(seed).integers(-9, 10, size=spec.weight_shape)
    C = symbolic_conv_matrix(spec).xreplace(weight_substitution(spec, weight))
    np.testing.assert_array_equal(
        np.array(C.tolist(), dtype=np.int64), reference_conv_matrix(spec, weight).toarray()
    )


def test_every_weight_symbol_sits_only_where_the_reference_puts_that_weight():
    # Label weights 1, 2, ... in the reference; the symbolic entry at each
    # stored position must be the symbol with that label, nothing elsewhere.
    spec = ConvSpec((4, 3), 2, padding=1, in_channels=2, out_channels=2)
    labels = np.arange(1, int(np.prod(spec.weight_shape)) + 1).reshape(spec.weight_shape)
    reference = reference_conv_matrix(spec, labels).toarray()
    symbols = weight_symbols(spec).reshape(-1)
    C = symbolic_conv_matrix(spec)
    for (r, c), label in np.ndenumerate(reference):
        assert C[r, c] == (symbols[label - 1] if label else 0)


def test_weight_substitution_rejects_a_wrong_shape():
    with pytest.raises(ConvSpecError, match=r"weight shape \(1, 1, 3\) must be"):
        weight_substitution(ConvSpec(4, 2), np.zeros((1, 1, 3)))


@pytest.mark.slow
def test_sixteen_by_sixteen_three_by_three_is_sparse_and_complete():
    # The benchmark case: shape and entry count follow from the geometry
    # (14*14 rows, 9 taps each, no padding).
    C = symbolic_conv_matrix(ConvSpec((16, 16), 3))
    assert C.shape == (196, 256)
    assert len(C.todok()) == 196 * 9
