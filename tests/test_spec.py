"""ConvSpec: normalisation, validation, from_transposed against torch's shapes."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from transpose_matrix import ConvSpec, ConvSpecError, ConvSpecTypeError


def test_ints_broadcast_and_padding_becomes_pairs():
    spec = ConvSpec((5, 6, 7), 3, stride=2, padding=1, dilation=2)
    assert spec.ndim == 3
    assert spec.kernel_size == (3, 3, 3)
    assert spec.stride == (2, 2, 2)
    assert spec.dilation == (2, 2, 2)
    assert spec.padding == ((1, 1), (1, 1), (1, 1))


def test_per_dim_padding_forms():
    spec = ConvSpec((5, 6), (3, 2), padding=[1, (2, 0)])
    assert spec.padding == ((1, 1), (2, 0))
    assert ConvSpec(5, 3).input_shape == (5,)


def test_frozen_and_hashable():
    a = ConvSpec((4, 4), 3)
    b = ConvSpec([4, 4], (3, 3), padding=((0, 0), (0, 0)))
    assert a == b and hash(a) == hash(b)
    assert {a: 1}[b] == 1
    with pytest.raises(AttributeError):
        a.stride = (2, 2)


def test_output_shape_counts_kernel_placements():
    # Count placements by brute force: start positions of a dilated kernel that
    # fit in the padded line, every stride-th one.
    for n, k, s, before, after, d in itertools.product(
        range(1, 9), range(1, 4), range(1, 4), range(3), range(-1, 3), range(1, 3)
    ):
        padded = n + before + after
        starts = [j for j in range(0, padded, s) if j + d * (k - 1) < padded]
        if not starts:
            with pytest.raises(ConvSpecError):
                ConvSpec((n,), k, s, [(before, after)], d)
            continue
        assert ConvSpec((n,), k, s, [(before, after)], d).output_shape == (len(starts),)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"input_shape": (4, 4), "kernel_size": 5}, ConvSpecError, "exceeds padded input size"),
        ({"input_shape": (4, 4), "kernel_size": 3, "groups": 2, "in_channels": 3,
          "out_channels": 2}, ConvSpecError, r"groups=2 must divide in_channels=3"),
        ({"input_shape": (4, 4), "kernel_size": 3, "stride": 0}, ConvSpecError, r"stride=0 must be >= 1"),
        ({"input_shape": (4, 4), "kernel_size": 2.5}, ConvSpecTypeError, r"kernel_size=2.5 must be an integer"),
        ({"input_shape": (4, 4), "kernel_size": True}, ConvSpecTypeError, "not a bool"),
        ({"input_shape": (4, 4), "kernel_size": "3"}, ConvSpecTypeError, "must be an integer"),
        ({"input_shape": (4, 4), "kernel_size": (3, 3, 3)}, ConvSpecError, "must have 2 entries"),
        ({"input_shape": (4, 4, 4, 4), "kernel_size": 1}, ConvSpecError, "1 to 3 spatial dims"),
        ({"input_shape": (), "kernel_size": 1}, ConvSpecError, "1 to 3 spatial dims"),
        ({"input_shape": (0, 4), "kernel_size": 1}, ConvSpecError, r"input_shape\[0\]=0 must be >= 1"),
        ({"input_shape": (4,), "kernel_size": 1, "padding": "full"}, ConvSpecTypeError,
         "padding='full' must be 'same', 'valid'"),
        ({"input_shape": (4,), "kernel_size": 3, "stride": 2, "padding": "same"}, ConvSpecError,
         "padding='same' needs stride 1"),
        ({"input_shape": (4,), "kernel_size": 1, "padding_mode": "constant"}, ConvSpecError,
         "padding_mode='constant' must be one of zeros, reflect"),
        ({"input_shape": (4,), "kernel_size": 1, "padding": [(-1, 0)]}, ConvSpecError,
         "before=-1 must be >= 0"),
        ({"input_shape": (4,), "kernel_size": 1, "padding": -1}, ConvSpecError, "padding=-1 must be >= 0"),
        ({"input_shape": "4x4", "kernel_size": 1}, ConvSpecTypeError, "input_shape='4x4'"),
    ],
)
def test_invalid_specs_name_field_value_and_rule(kwargs, error, match):
    with pytest.raises(error, match=match):
        ConvSpec(**kwargs)


def test_type_errors_are_also_type_errors_and_value_errors():
    with pytest.raises(TypeError):
        ConvSpec((4,), 1.0)
    with pytest.raises(ValueError):
        ConvSpec((4,), 1.0)


TRANSPOSED_GRID = [
    (n, k, s, p, d, op)
    for n, k, s, p, d in itertools.product((1, 2, 5), (1, 2, 3, 4), (1, 2, 3), (0, 1, 2), (1, 2, 3))
    for op in range(max(s, d))
]


@pytest.mark.slow
def test_from_transposed_matches_torch_output_shapes(torch):
    checked = 0
    for n, k, s, p, d, op in TRANSPOSED_GRID:
        layer = torch.nn.ConvTranspose1d(
            1, 1, k, stride=s, padding=p, output_padding=op, dilation=d, bias=False
        )
        try:
            out = layer(torch.zeros(1, 1, n)).shape[-1]
        except RuntimeError:
            out = None
        if out is None or out < 1:
            with pytest.raises(ConvSpecError):
                ConvSpec.from_transposed((n,), 1, 1, k, s, p, op, 1, d)
            continue
        spec = ConvSpec.from_transposed((n,), 1, 1, k, s, p, op, 1, d)
        assert spec.input_shape == (out,)
        assert spec.output_shape == (n,), (n, k, s, p, d, op)
        # torch's forward convolution of the layer's output size gives back n
        # positions, or more when output_padding >= stride, which the spec crops.
        fwd = torch.nn.functional.conv1d(
            torch.zeros(1, 1, out), torch.zeros(1, 1, k), stride=s, padding=p, dilation=d
        ).shape[-1]
        assert fwd == n + op // s
        checked += 1
    assert checked > 200


def test_from_transposed_rejects_output_padding_out_of_range(torch):
    with pytest.raises(ConvSpecError, match=r"output_padding=2 must be smaller than either stride=2"):
        ConvSpec.from_transposed((3,), 1, 1, 3, stride=2, output_padding=2)
    # torch agrees that it is illegal.
    layer = torch.nn.ConvTranspose1d(1, 1, 3, stride=2, output_padding=2)
    with pytest.raises((RuntimeError, ValueError)):
        layer(torch.zeros(1, 1, 3))


def test_from_transposed_swaps_channels_and_keeps_groups():
    spec = ConvSpec.from_transposed((3, 3), 8, 4, 2, stride=2, groups=2)
    assert (spec.in_channels, spec.out_channels, spec.groups) == (4, 8, 2)
    assert spec.weight_shape == (8, 2, 2, 2)
    assert spec.input_shape == (6, 6)


def _legal(n, k, s, p, d, op):
    # The layer's output size must be positive: (n-1)s - 2p + d(k-1) + op + 1 >= 1.
    return (n - 1) * s - 2 * p + d * (k - 1) + op >= 0


@pytest.mark.parametrize(
    ("n", "k", "s", "p", "d", "op"), [case for case in TRANSPOSED_GRID if _legal(*case)][::5]
)
def test_transposed_arguments_round_trip(n, k, s, p, d, op):
    spec = ConvSpec.from_transposed((n,), 2, 1, k, s, p, op, 1, d)
    layer = spec.transposed_arguments()
    assert layer is not None
    assert ConvSpec.from_transposed((n,), **layer) == spec


def test_transposed_arguments_none_for_unmatched_padding():
    assert ConvSpec((6,), 3, padding=[(0, 2)]).transposed_arguments() is None


def test_spec_prints_itself_to_latex():
    import sympy

    spec = ConvSpec((4, 4), 3)
    assert spec._repr_latex_().startswith("$") and spec._repr_latex_().endswith("$")
    # sympy's printer finds _latex, so specs embed in sympy expressions' LaTeX.
    assert sympy.latex(spec) == spec._latex()
    assert r"4 \times 4" in spec._latex()


def test_transposed_arguments_ignore_unread_after_padding(torch):
    # Cropping the last input position of a stride-2, kernel-1 convolution on
    # 10 inputs changes no output: C is that of ConvTranspose1d(padding=0,
    # output_padding=1) on 5 inputs, whose output has 10 positions.
    spec = ConvSpec((10,), 1, stride=2, padding=[(0, -1)])
    layer = spec.transposed_arguments()
    assert layer["padding"] == (0,) and layer["output_padding"] == (1,)
    out = torch.nn.functional.conv_transpose1d(
        torch.zeros(1, 1, 5), torch.zeros(1, 1, 1), stride=2, output_padding=1
    )
    assert out.shape[-1] == 10
    from transpose_matrix import conv_matrix

    w = np.array([[[2.0]]])
    rebuilt = ConvSpec.from_transposed((5,), **layer)
    np.testing.assert_array_equal(conv_matrix(rebuilt, w).toarray(), conv_matrix(spec, w).toarray())


# ------------------------------------------------ boundary: sizes, arrays, errors


def test_the_largest_sizes_are_exact():
    spec = ConvSpec((2**60,), 3, stride=2**59, padding=2**60, in_channels=2**60, out_channels=2**60,
                    groups=2**60)
    # floor((2**60 + 2**61 - 3) / 2**59) + 1 = 6
    assert spec.output_shape == (6,)
    assert spec.matrix_shape == (6 * 2**60, 2**120)
    with pytest.raises(ConvSpecError, match=r"input_shape\[0\]=1152921504606846977 must be <= 2\*\*60"):
        ConvSpec((2**60 + 1,), 3)


def test_numpy_sizes_become_python_ints():
    spec = ConvSpec(np.array([5, 6]), np.array([3, 2]), stride=np.int16(2), dilation=np.array([1, 1]))
    assert spec == ConvSpec((5, 6), (3, 2), stride=2)
    assert all(type(v) is int for v in (*spec.input_shape, *spec.kernel_size, *spec.stride))
    hash(spec)


def test_errors_carry_their_field_and_survive_pickling():
    import pickle

    from transpose_matrix import MemoryGuardError, OutputPathError, TransposeMatrixError

    with pytest.raises(ConvSpecError) as caught:
        ConvSpec((4,), 3, stride=0)
    error = pickle.loads(pickle.dumps(caught.value))
    assert type(error) is ConvSpecError and error.field == "stride" and str(error) == str(caught.value)
    for kind in (ConvSpecTypeError, MemoryGuardError, OutputPathError, TransposeMatrixError):
        again = pickle.loads(pickle.dumps(kind("message", field="x")))
        assert type(again) is kind and again.field == "x" and str(again) == "message"


def test_dim_prefix_keeps_class_and_field():
    with pytest.raises(ConvSpecError, match=r"^dim 1: dilated kernel size 5") as caught:
        ConvSpec((5, 4), 5)
    assert type(caught.value) is ConvSpecError and caught.value.field == "kernel_size"
