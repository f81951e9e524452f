"""Output-size formulas against PyTorch's actual output shapes, and symbolic vs int paths."""

from __future__ import annotations

import itertools

import pytest
import sympy

from transpose_matrix import ConvSpecError, ConvSpecTypeError
from transpose_matrix.geometry.shapes import conv_output_size, transposed_conv_output_size

N, K, S, D = sympy.symbols("n k s d", integer=True, positive=True)
P, A = sympy.symbols("p a", integer=True, nonnegative=True)
PB, PA = sympy.symbols("p_b p_a", integer=True, nonnegative=True)

# 1-D grid: every combination is tried against torch.
SIZES = range(1, 10)
KERNELS = range(1, 5)
STRIDES = range(1, 4)
PADDINGS = range(0, 3)
DILATIONS = range(1, 4)


def _torch_conv_size(torch, n, k, s, p, d):
    """torch's output length, or None when torch refuses the geometry."""
    x = torch.zeros(1, 1, n)
    w = torch.zeros(1, 1, k)
    try:
        return torch.nn.functional.conv1d(x, w, stride=s, padding=p, dilation=d).shape[-1]
    except RuntimeError:
        return None


def _torch_transposed_size(torch, n, k, s, p, a, d):
    x = torch.zeros(1, 1, n)
    w = torch.zeros(1, 1, k)
    try:
        out = torch.nn.functional.conv_transpose1d(
            x, w, stride=s, padding=p, output_padding=a, dilation=d
        )
    except RuntimeError:
        return None
    return out.shape[-1]


def _ours(function, *args):
    try:
        return function(*args)
    except ConvSpecError:
        return None


@pytest.mark.slow
def test_conv_output_size_matches_torch_conv1d_over_grid(torch):
    compared = 0
    for n, k, s, p, d in itertools.product(SIZES, KERNELS, STRIDES, PADDINGS, DILATIONS):
        expected = _torch_conv_size(torch, n, k, s, p, d)
        assert _ours(conv_output_size, n, k, s, p, d) == expected, (n, k, s, p, d)
        compared += expected is not None
    assert compared > 500  # most of the grid is valid; the refusals agree too


@pytest.mark.slow
def test_transposed_size_matches_torch_conv_transpose1d_over_grid(torch):
    compared = refused = 0
    for n, k, s, p, d in itertools.product(
        range(1, 7), KERNELS, STRIDES, PADDINGS, DILATIONS
    ):
        for a in range(max(s, d) + 2):
            expected = _torch_transposed_size(torch, n, k, s, p, a, d)
            ours = _ours(transposed_conv_output_size, n, k, s, p, a, d)
            assert ours == expected, (n, k, s, p, a, d)
            compared += expected is not None
            refused += expected is None
    assert compared > 500 and refused > 100


@pytest.mark.parametrize(
    ("shape", "kernel", "stride", "padding", "dilation"),
    [
        ((7, 9), (3, 2), (2, 1), (1, 0), (1, 2)),
        ((5, 8), (1, 4), (3, 2), (0, 2), (2, 1)),
        ((4, 5, 6), (2, 3, 1), (1, 2, 3), (1, 1, 0), (2, 1, 1)),
        ((6, 3, 7), (3, 3, 3), (2, 1, 2), (0, 1, 2), (1, 1, 2)),
    ],
)
def test_nd_shapes_match_torch_layers(torch, shape, kernel, stride, padding, dilation):
    ndim = len(shape)
    conv = (torch.nn.Conv2d, torch.nn.Conv3d)[ndim - 2](
        2, 3, kernel, stride=stride, padding=padding, dilation=dilation, bias=False
    )
    out = conv(torch.zeros(1, 2, *shape)).shape[2:]
    expected = tuple(
        conv_output_size(*args) for args in zip(shape, kernel, stride, padding, dilation)
    )
    assert tuple(out) == expected
    # And back up with every legal output_padding combination per dim.
    layer = (torch.nn.ConvTranspose2d, torch.nn.ConvTranspose3d)[ndim - 2]
    ranges = [range(max(s, d)) for s, d in zip(stride, dilation)]
    for extra in itertools.product(*ranges):
        up = layer(
            3,
            2,
            kernel,
            stride=stride,
            padding=padding,
            output_padding=extra,
            dilation=dilation,
            bias=False,
        )
        got = tuple(up(torch.zeros(1, 3, *out)).shape[2:])
        assert got == tuple(
            transposed_conv_output_size(*args)
            for args in zip(out, kernel, stride, padding, extra, dilation)
        )


@pytest.mark.parametrize(
    ("n", "k", "s", "before", "after", "d"),
    [(5, 3, 2, 0, 1, 1), (8, 2, 3, 2, 0, 2), (4, 4, 1, 3, 1, 1), (9, 3, 2, 1, 2, 3)],
)
def test_padding_pair_matches_torch_pad_then_conv(torch, n, k, s, before, after, d):
    x = torch.nn.functional.pad(torch.zeros(1, 1, n), (before, after))
    expected = torch.nn.functional.conv1d(x, torch.zeros(1, 1, k), stride=s, dilation=d)
    assert conv_output_size(n, k, s, (before, after), d) == expected.shape[-1]


@pytest.mark.slow
def test_conv_closed_form_agrees_with_int_path_by_substitution():
    closed = conv_output_size(N, K, S, P, D)
    assert closed.has(sympy.floor)
    for n, k, s, p, d in itertools.product(range(1, 9), range(1, 4), range(1, 4), range(3), (1, 2)):
        if n + 2 * p < d * (k - 1) + 1:
            continue
        value = closed.subs({N: n, K: k, S: s, P: p, D: d})
        assert value == conv_output_size(n, k, s, p, d), (n, k, s, p, d)


@pytest.mark.slow
def test_transposed_closed_form_agrees_with_int_path_by_substitution():
    closed = transposed_conv_output_size(N, K, S, P, A, D)
    for n, k, s, p, d in itertools.product(range(1, 7), range(1, 4), range(1, 4), range(3), (1, 2)):
        for a in range(max(s, d)):
            number = _ours(transposed_conv_output_size, n, k, s, p, a, d)
            if number is not None:
                assert closed.subs({N: n, K: k, S: s, P: p, A: a, D: d}) == number


def test_symbolic_padding_pair_closed_form():
    closed = conv_output_size(N, K, S, (PB, PA), D)
    expected = sympy.floor((N + PB + PA - D * (K - 1) - 1) / S) + 1
    assert sympy.simplify(closed - expected) == 0
    assert closed.subs({N: 6, K: 3, S: 2, PB: 2, PA: 0, D: 1}) == conv_output_size(
        6, 3, 2, (2, 0), 1
    )


def test_mixed_int_and_symbol_arguments():
    # A symbolic size with numeric geometry: the literature's "same" padding.
    assert conv_output_size(N, 3, 1, 1) == N
    assert transposed_conv_output_size(N, 4, 2, 1) == 2 * N


def test_kernel_larger_than_padded_input_is_refused():
    with pytest.raises(ConvSpecError, match=r"dilated kernel size 5 .* exceeds padded input size 4"):
        conv_output_size(2, 3, padding=1, dilation=2)


def test_output_padding_out_of_range_is_refused():
    with pytest.raises(ConvSpecError, match=r"output_padding=2 must be smaller than either"):
        transposed_conv_output_size(3, 3, stride=2, output_padding=2)


def test_non_positive_transposed_size_is_refused():
    with pytest.raises(ConvSpecError, match=r"transposed output size -1 must be positive"):
        transposed_conv_output_size(1, 1, padding=1)


@pytest.mark.parametrize("bad", [True, 2.0, "3"])
def test_non_integer_sizes_are_type_errors(bad):
    with pytest.raises(ConvSpecTypeError, match=r"must be an integer"):
        conv_output_size(bad, 1)


# ------------------------------------------------ the integer boundary


from transpose_matrix.geometry.shapes import MAX_INT, as_int, describe, field_of, parse_int  # noqa: E402


@pytest.mark.parametrize(
    ("text", "value"),
    [("7", 7), (" 12 ", 12), ("+3", 3), ("-4", -4), ("\t5\t", 5), ("0" * 40 + "9", 9),
     (str(MAX_INT), MAX_INT)],
)
def test_parse_int_reads_ascii_integers(text, value):
    assert parse_int("n", text, -10) == value


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("٣", "ASCII digits"),  # Arabic-Indic three
        ("३", "ASCII digits"),  # Devanagari three
        ("３", "ASCII digits"),  # fullwidth three
        ("³", "ASCII digits"),  # superscript three
        ("\u20033", "ASCII digits"),  # em space, then 3
        ("1_000", "must be an integer"),
        ("0x10", "must be an integer"),
        ("1e3", "must be an integer"),
        ("3.0", "must be an integer"),
        ("", "must be an integer"),
        ("- 3", "must be an integer"),
        ("__import__('os')", "must be an integer"),
        (str(MAX_INT + 1), r"must be <= 2\*\*60"),
        ("9" * 31, r"<a 31-digit integer> must be <= 2\*\*60"),
        ("9" * 100_000, r"<a 100000-digit integer> must be <= 2\*\*60"),
    ],
)
def test_parse_int_refuses_everything_else(text, pattern):
    with pytest.raises(ConvSpecError, match=pattern) as caught:
        parse_int("stride", text, 1)
    assert caught.value.field == "stride"
    assert len(str(caught.value)) < 200


def test_as_int_bounds_are_inclusive():
    assert as_int("n", MAX_INT) == MAX_INT
    assert as_int("n", -MAX_INT, -MAX_INT) == -MAX_INT
    assert as_int("seed", 2**70, 0, None) == 2**70  # no upper bound when asked
    with pytest.raises(ConvSpecError, match=r"n=1152921504606846977 must be <= 2\*\*60"):
        as_int("n", MAX_INT + 1)
    with pytest.raises(ConvSpecTypeError, match="not float") as caught:
        as_int("padding[1] before", 1.0)
    assert caught.value.field == "padding"


def test_field_of_and_describe():
    assert field_of("input_shape[2]") == "input_shape" and field_of("stride") == "stride"
    assert describe(10**5000) == "<a 5001-digit integer>"
    assert describe(-(10**40)) == "-<a 41-digit integer>"
    assert describe(tuple(range(10))) == "(0, 1, 2, 3, … (10 entries))"
    assert describe([10**50]) == "[<a 51-digit integer>]"

    class Hostile:
        def __repr__(self):
            raise RuntimeError("no")

    assert describe(Hostile()) == "<Hostile>"
    assert len(describe("x" * 10**6)) < 70


def test_symbolic_numbers_must_be_integers():
    assert conv_output_size(sympy.Integer(5), 3) == 3
    assert conv_output_size(5, sympy.Integer(3), padding=(sympy.Integer(1), 0)) == 4
    for bad in (sympy.nan, sympy.oo, -sympy.oo, sympy.zoo, sympy.Float(2.0), sympy.Rational(3, 2),
                sympy.I):
        with pytest.raises(ConvSpecTypeError, match="must be an integer") as caught:
            conv_output_size(5, 3, stride=bad)
        assert caught.value.field == "stride"
    with pytest.raises(ConvSpecTypeError, match="must be an integer or a sympy expression"):
        conv_output_size(5, 3, stride=sympy.true)
    with pytest.raises(ConvSpecError, match=r"n=<a 5001-digit integer>"):
        conv_output_size(sympy.Integer(10**5000), 3)
    # Symbols pass, unless known negative or known not integer.
    assert conv_output_size(N, K, S) == sympy.floor((N - K) / S) + 1
    with pytest.raises(ConvSpecTypeError):
        conv_output_size(sympy.Symbol("x", integer=False), 3)
