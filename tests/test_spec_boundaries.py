"""Boundaries of ConvSpec that the property tests never draw.

Each test here pins a behaviour a mutation of ``geometry/spec.py`` or
``geometry/shapes.py`` once changed without any test failing: the edge of
the ``output_padding`` range, the minimum of every argument (message and
``field``), the 2**60 bound on every dim, array-likes as shapes, and how
:func:`describe` shortens what it prints. Expected values come from torch
or are written from the rule, never read back from the code.
"""

from __future__ import annotations

import array
import itertools

import numpy as np
import pytest

import transpose_matrix as tm
from transpose_matrix import ConvSpec, ConvSpecError, ConvSpecTypeError
from transpose_matrix.geometry.shapes import describe

# --------------------------------------------- transposed_arguments at the edge


def _torch_transposed_matrix(torch, layer_args, n_in, weight):
    """Cᵀ as torch computes it: ConvTranspose1d applied to every unit vector."""
    layer = torch.nn.ConvTranspose1d(**layer_args, bias=False)
    with torch.no_grad():
        layer.weight.copy_(torch.as_tensor(weight))
        eye = torch.eye(layer_args["in_channels"] * n_in, dtype=torch.float64)
        units = eye.reshape(-1, layer_args["in_channels"], n_in)
        out = layer.double()(units)
    return out.reshape(out.shape[0], -1).T.numpy()


def test_output_padding_at_the_stride_is_refused_like_torch(torch):
    # Stride 1, kernel 1, the last input cropped: 3 outputs, and the layer
    # without output padding gives back 3 positions, not 4. Reaching 4 needs
    # output_padding=1 = max(stride, dilation), which torch refuses.
    spec = ConvSpec((4,), 1, padding=[(0, -1)])
    assert spec.output_shape == (3,)
    assert spec.transposed_arguments() is None
    layer = torch.nn.ConvTranspose1d(1, 1, 1, output_padding=1)
    with pytest.raises(RuntimeError, match="output padding must be smaller"):
        layer(torch.zeros(1, 1, 3))


CROP_GRID = [
    (n, k, s, d, before, after)
    for n, k, s, d, before, after in itertools.product(
        (3, 4, 6), (1, 2, 3), (1, 2, 3), (1, 2), (0, 1), (-2, -1, 0, 1)
    )
    if n + before + after >= d * (k - 1) + 1
]


@pytest.mark.parametrize(("n", "k", "s", "d", "before", "after"), CROP_GRID[::6])
def test_transposed_arguments_are_a_layer_torch_builds_with_c_transposed(
    torch, n, k, s, d, before, after
):
    # Whatever transposed_arguments returns, torch accepts and its layer is
    # Cᵀ; when it returns None, the output_padding the layer would need
    # (the docstring's n - ((out - 1)*s - 2*before + d*(k - 1) + 1)) is one
    # torch refuses.
    spec = ConvSpec((n,), k, s, [(before, after)], d, in_channels=1, out_channels=2)
    out = spec.output_shape[0]
    needed = n - ((out - 1) * s - 2 * before + d * (k - 1) + 1)
    args = spec.transposed_arguments()
    if args is None:
        layer = torch.nn.ConvTranspose1d(
            2, 1, k, stride=s, padding=before, output_padding=max(needed, 0), dilation=d
        )
        if 0 <= needed:
            with pytest.raises(RuntimeError, match="output padding must be smaller"):
                layer(torch.zeros(1, 2, out))
        else:
            # A negative output_padding is no layer either.
            with pytest.raises(RuntimeError, match="negative output_padding"):
                torch.nn.functional.conv_transpose1d(
                    torch.zeros(1, 2, out), torch.zeros(2, 1, k), stride=s, padding=before,
                    output_padding=needed, dilation=d,
                )
        return
    assert args["output_padding"] == (needed,)
    weight = np.random.default_rng(n * 100 + k * 10 + s).standard_normal(spec.weight_shape)
    expected = tm.conv_matrix(spec, weight).toarray().T
    got = _torch_transposed_matrix(torch, {**args, "kernel_size": k}, out, weight)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=1e-12)


# ------------------------------------------------ minimum of every argument


def test_a_spec_argument_must_be_a_conv_spec():
    with pytest.raises(ConvSpecTypeError, match=r"^spec=\(4, 4\) must be a ConvSpec") as caught:
        tm.conv_matrix_nnz((4, 4))
    assert caught.value.field == "spec"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("kernel_size", 0, "kernel_size=0 must be >= 1"),
        ("stride", 0, "stride=0 must be >= 1"),
        ("dilation", 0, "dilation=0 must be >= 1"),
        ("in_channels", 0, "in_channels=0 must be >= 1"),
        ("out_channels", 0, "out_channels=0 must be >= 1"),
        ("groups", 0, "groups=0 must be >= 1"),
        ("padding", -1, "padding=-1 must be >= 0"),
    ],
)
def test_conv_spec_minimum_names_the_argument(name, value, message):
    arguments = {"input_shape": (4, 4), "kernel_size": 1, name: value}
    with pytest.raises(ConvSpecError) as caught:
        ConvSpec(**arguments)
    # The check of the argument itself, not a later one that happens to fail.
    assert str(caught.value).startswith(message), str(caught.value)
    assert caught.value.field == name


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("input_shape", (3, 0), "input_shape[1]=0 must be >= 1"),
        ("kernel_size", 0, "kernel_size=0 must be >= 1"),
        ("stride", 0, "stride=0 must be >= 1"),
        ("stride", (1, 0), "stride[1]=0 must be >= 1"),
        ("dilation", 0, "dilation=0 must be >= 1"),
        ("padding", -1, "padding=-1 must be >= 0"),
        ("output_padding", -1, "output_padding=-1 must be >= 0"),
        ("in_channels", 0, "in_channels=0 must be >= 1"),
        ("out_channels", 0, "out_channels=0 must be >= 1"),
        # Not a ZeroDivisionError from "groups must divide the channels".
        ("groups", 0, "groups=0 must be >= 1"),
        ("groups", -2, "groups=-2 must be >= 1"),
    ],
)
def test_from_transposed_minimum_names_the_layer_argument(name, value, message):
    arguments = {
        "input_shape": (3, 3), "in_channels": 2, "out_channels": 2, "kernel_size": 1, name: value
    }
    with pytest.raises(ConvSpecError) as caught:
        ConvSpec.from_transposed(**arguments)
    assert str(caught.value).startswith(message), str(caught.value)
    assert caught.value.field == name


def test_from_transposed_groups_must_divide_the_layer_channels():
    # The layer's own names: its in_channels=6 is the forward spec's out_channels.
    with pytest.raises(ConvSpecError, match=r"^groups=4 must divide in_channels=6$") as caught:
        ConvSpec.from_transposed((3,), 6, 8, 1, groups=4)
    assert caught.value.field == "groups"
    with pytest.raises(ConvSpecError, match=r"^groups=4 must divide out_channels=6$"):
        ConvSpec.from_transposed((3,), 8, 6, 1, groups=4)


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("d", [1, 2])
@pytest.mark.parametrize("mode", ["same", "valid"])
def test_padding_strings_pad_as_torch_does(torch, k, d, mode):
    spec = ConvSpec((9,), k, padding=mode, dilation=d, in_channels=2, out_channels=3)
    weight = np.random.default_rng(k * 10 + d).standard_normal(spec.weight_shape)
    x = np.random.default_rng(1).standard_normal((2, 9))
    expected = torch.nn.functional.conv1d(
        torch.as_tensor(x)[None], torch.as_tensor(weight), padding=mode, dilation=d
    )[0].numpy()
    assert spec.output_shape == expected.shape[1:]
    np.testing.assert_allclose(tm.conv_matrix(spec, weight) @ x.reshape(-1), expected.reshape(-1),
                               atol=1e-12)
    if mode == "valid":
        assert spec.padding == ((0, 0),)


@pytest.mark.parametrize("mode", ["reflect", "circular"])
def test_padding_mode_bounds_are_torchs(torch, mode):
    # reflect: padding < n; circular: padding <= n. At the bound torch pads,
    # one past it torch refuses, and so does ConvSpec.
    n = 3
    largest = n - 1 if mode == "reflect" else n
    x = torch.arange(float(n)).reshape(1, 1, n)
    torch.nn.functional.pad(x, (largest, largest), mode=mode)
    assert ConvSpec((n,), 3, padding=largest, padding_mode=mode).padding == ((largest, largest),)
    with pytest.raises(RuntimeError):
        torch.nn.functional.pad(x, (largest + 1, 0), mode=mode)
    with pytest.raises(ConvSpecError, match=rf"padding_mode='{mode}' needs padding") as caught:
        ConvSpec((n,), 3, padding=[(largest + 1, 0)], padding_mode=mode)
    assert caught.value.field == "padding"
    with pytest.raises(ConvSpecError, match=rf"padding_mode='{mode}' needs padding"):
        ConvSpec((n,), 3, padding=[(0, largest + 1)], padding_mode=mode)


def test_padding_mode_must_be_a_string():
    with pytest.raises(ConvSpecTypeError, match=r"^padding_mode=3 must be a string") as caught:
        ConvSpec((4,), 3, padding_mode=3)
    assert caught.value.field == "padding_mode"


def test_symmetric_padding_means_equal_sides_in_every_dim():
    assert ConvSpec((4, 4), 3, padding=1).is_symmetric_padding
    assert ConvSpec((4, 4), 3).is_symmetric_padding
    assert not ConvSpec((4, 4), 3, padding=[1, (1, 0)]).is_symmetric_padding
    assert not ConvSpec((4,), 4, padding="same").is_symmetric_padding  # (1, 2): torch's split


# ------------------------------------------------------ 2**60 on every dim


@pytest.mark.parametrize("dim", [0, 1, 2])
def test_from_transposed_output_size_bound_on_every_dim(dim):
    # (n - 1)*s + k: n = 2**59, s = 2, k = 2 gives exactly 2**60 (allowed);
    # k = 3 gives 2**60 + 1 (refused), in whichever dim it happens.
    def sizes(kernel):
        shape, ks, strides = [3, 3, 3], [1, 1, 1], [1, 1, 1]
        shape[dim], ks[dim], strides[dim] = 2**59, kernel, 2
        return tuple(shape), tuple(ks), tuple(strides)

    shape, kernel, stride = sizes(2)
    spec = ConvSpec.from_transposed(shape, 1, 1, kernel, stride)
    assert spec.input_shape[dim] == 2**60
    assert spec.output_shape == shape
    shape, kernel, stride = sizes(3)
    with pytest.raises(ConvSpecError, match=rf"^dim {dim}: the layer's output size .* <= 2\*\*60"
                       ) as caught:
        ConvSpec.from_transposed(shape, 1, 1, kernel, stride)
    assert caught.value.field == "input_shape"


# ------------------------------------------------ array-likes as shapes


def test_array_module_arrays_are_sequences_of_ints():
    # array.array is a sequence with tolist() but no ndim: accepted like a
    # list wherever a per-dim sequence is, and its entries checked as ints.
    spec = ConvSpec(array.array("i", [4, 5]), array.array("l", [3, 2]),
                    stride=array.array("q", [1, 2]), padding=array.array("b", [1, 0]))
    assert spec == ConvSpec((4, 5), (3, 2), stride=(1, 2), padding=[1, 0])
    assert all(type(v) is int for v in (*spec.input_shape, *spec.kernel_size, *spec.stride))
    assert ConvSpec.from_transposed(array.array("i", [2, 2]), 1, 1, 3).input_shape == (4, 4)


def test_array_module_arrays_of_floats_or_too_long_are_refused():
    with pytest.raises(ConvSpecTypeError, match=r"input_shape\[0\]=4.0 must be an integer, not float"):
        ConvSpec(array.array("d", [4.0, 4.0]), 3)
    with pytest.raises(ConvSpecTypeError, match=r"kernel_size\[0\]=3.0 must be an integer"):
        ConvSpec((4, 4), array.array("f", [3.0, 3.0]))
    # The same length guard as a numpy array: refused before tolist().
    with pytest.raises(ConvSpecError, match=r"input_shape has 10 entries; give at most 3"):
        ConvSpec(array.array("i", [4] * 10), 3)
    with pytest.raises(ConvSpecError, match=r"input_shape has 10 entries; give at most 3"):
        ConvSpec(np.full(10, 4), 3)


def test_objects_with_tolist_that_are_not_sequences_are_refused():
    class Listy:
        def tolist(self):
            return [4, 4]

    with pytest.raises(ConvSpecTypeError, match=r"input_shape=.* must be an int or a sequence"):
        ConvSpec(Listy(), 3)
    with pytest.raises(ConvSpecTypeError, match=r"input_shape=.* must be an int or a sequence"):
        ConvSpec(np.ones((2, 2), dtype=int), 3)


# ------------------------------------------------------ describe's limits


def test_describe_cuts_strings_at_the_limit():
    assert describe("x" * 60) == repr("x" * 60)
    assert describe("x" * 61) == "'" + "x" * 60 + "…"
    assert describe("abcdef", limit=5) == "'abcde…"
    assert describe("abcde", limit=5) == "'abcde'"


def test_describe_shows_four_entries_then_the_count():
    assert describe((1, 2, 3, 4)) == "(1, 2, 3, 4)"
    assert describe((1, 2, 3, 4, 5)) == "(1, 2, 3, 4, … (5 entries))"
    assert describe([1, 2, 3, 4, 5, 6]) == "[1, 2, 3, 4, … (6 entries)]"
    assert describe((7,)) == "(7,)"


def test_describe_cuts_sequences_at_four_limits_and_reprs_at_one():
    # Four entries of 'y' * 9 (11 characters each): 4*11 + 3*2 + 2 = 52
    # characters, cut at 4*limit = 40.
    words = ("y" * 9,) * 4
    full = "(" + ", ".join([repr("y" * 9)] * 4) + ")"
    assert describe(words) == full
    assert describe(words, limit=10) == full[:40] + "…"
    assert describe(words, limit=13) == full  # 52 <= 52

    class Long:
        def __repr__(self):
            return "r" * 70

    assert describe(Long()) == "r" * 60 + "…"
    assert describe(Long(), limit=70) == "r" * 70


def test_describe_names_huge_integers_by_their_digits():
    assert describe(10**29) == str(10**29)
    assert describe(10**30) == "<a 31-digit integer>"
    assert describe(-(10**30)) == "-<a 31-digit integer>"
    assert describe(-(10**30) + 1) == "-" + "9" * 30
