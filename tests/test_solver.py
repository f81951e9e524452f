"""The size solver against PyTorch: every answer right, no answer missing."""

from __future__ import annotations

import itertools

import pytest

from transpose_matrix import ConvSpecError, ConvSpecTypeError
from transpose_matrix.analysis.solver import SizeSolution, format_solutions, solve_sizes


def _torch_transposed_size(torch, n, k, s, p, a, d):
    x = torch.zeros(1, 1, n)
    try:
        out = torch.nn.functional.conv_transpose1d(
            x, torch.zeros(1, 1, k), stride=s, padding=p, output_padding=a, dilation=d
        )
    except RuntimeError:
        return None
    return out.shape[-1]


def _torch_conv_size(torch, n, k, s, p, d):
    try:
        out = torch.nn.functional.conv1d(
            torch.zeros(1, 1, n), torch.zeros(1, 1, k), stride=s, padding=p, dilation=d
        )
    except RuntimeError:
        return None
    return out.shape[-1]


def _key(x: SizeSolution) -> tuple:
    return (x.kernel_size, x.stride, x.padding, x.dilation, x.output_padding)


@pytest.mark.parametrize(("n", "m", "dilations"), [(8, 16, (1,)), (7, 14, (1, 2)), (5, 11, (1, 3))])
def test_transposed_solutions_are_exactly_those_torch_finds(torch, n, m, dilations):
    # Independent enumeration: ask torch for every candidate, output_padding
    # up to 4 (torch itself refuses the illegal ones).
    expected = {
        (k, s, p, d, a)
        for k, s, p, d, a in itertools.product(range(1, 8), range(1, 5), range(4), dilations, range(4))
        if _torch_transposed_size(torch, n, k, s, p, a, d) == m
    }
    solutions = solve_sizes(n, m, dilations=dilations)
    assert expected, "the query should have answers"
    assert {_key(x) for x in solutions} == expected
    assert all(x.transposed and x.n == n and x.m == m for x in solutions)


@pytest.mark.slow
@pytest.mark.parametrize(("n", "m"), [(16, 8), (28, 14), (9, 3)])
def test_conv_solutions_are_exactly_those_torch_finds(torch, n, m):
    expected = {
        (k, s, p, 1, None)
        for k, s, p in itertools.product(range(1, 8), range(1, 5), range(4))
        if _torch_conv_size(torch, n, k, s, p, 1) == m
    }
    solutions = solve_sizes(n, m, transposed=False)
    assert expected
    assert {_key(x) for x in solutions} == expected


def test_uneven_overlap_counts_match_torch_on_a_ones_input(torch):
    # A transposed convolution of ones by ones counts, at each output
    # position, the taps that land there; away from the borders these counts
    # cycle through taps_per_position.
    for k, s, d in itertools.product(range(1, 7), range(1, 5), range(1, 4)):
        solution = SizeSolution(20, 0, True, k, s, 0, d, 0)
        out = torch.nn.functional.conv_transpose1d(
            torch.ones(1, 1, 20), torch.ones(1, 1, k), stride=s, dilation=d
        )[0, 0]
        span = d * (k - 1) + 1
        interior = out[span : span + 2 * s].round().int().tolist()
        counts = solution.taps_per_position
        # Output position q receives taps with t*d = q - j*s, i.e. residue q mod s.
        assert interior == [counts[q % s] for q in range(span, span + 2 * s)], (k, s, d)
        assert solution.uneven_overlap == (len(set(interior)) > 1)
        if d == 1:
            assert solution.uneven_overlap == (k % s != 0)


def test_sorted_simplest_first():
    solutions = solve_sizes(8, 16, dilations=(1, 2))
    keys = [(x.kernel_size, x.stride, x.padding, x.output_padding, x.dilation) for x in solutions]
    assert keys == sorted(keys)
    assert str(solutions[0]).startswith("ConvTranspose(kernel_size=1, stride=2")


def test_the_usual_unet_upsampling_answers():
    found = {str(x) for x in solve_sizes(32, 64, kernel_sizes=[2, 3, 4], strides=[2])}
    assert found == {
        "ConvTranspose(kernel_size=2, stride=2, padding=0): 32 -> 64",
        "ConvTranspose(kernel_size=3, stride=2, padding=1, output_padding=1): 32 -> 64, "
        "uneven overlap",
        "ConvTranspose(kernel_size=4, stride=2, padding=1): 32 -> 64",
    }


def test_fixed_parameters_pin_the_search():
    solutions = solve_sizes(8, 16, stride=2, padding=1)
    assert solutions and all(x.stride == 2 and x.padding == 1 for x in solutions)
    only = solve_sizes(8, 16, stride=2, padding=1, output_padding=0)
    assert [x.kernel_size for x in only] == [4]
    assert solve_sizes(8, 16, stride=2, padding=1, output_padding=5) == []


def test_output_paddings_are_limited_to_the_legal_range():
    # (3 - 1)*2 + (3 - 1) + 2 + 1 = 9 would need output_padding 2 >= max(2, 1): illegal.
    assert solve_sizes(3, 9, kernel_sizes=[3], strides=[2], paddings=[0], output_paddings=[2]) == []
    # With dilation 3, (3 - 1)*2 + 3*(3 - 1) + 2 + 1 = 13 and 2 < max(2, 3) is legal.
    found = solve_sizes(
        3, 13, kernel_sizes=[3], strides=[2], paddings=[0], dilations=[3], output_paddings=[2]
    )
    assert [str(x) for x in found] == [
        "ConvTranspose(kernel_size=3, stride=2, padding=0, dilation=3, output_padding=2): "
        "3 -> 13, uneven overlap"
    ]


def test_format_solutions_table():
    table = format_solutions(solve_sizes(4, 8, kernel_sizes=[2, 4], strides=[2], paddings=[0, 1]))
    assert table.splitlines() == [
        "layer           k  s  p  d  out_pad  taps per position  note",
        "ConvTranspose   2  2  0  1        0  1,1",
        "ConvTranspose   4  2  1  1        0  2,2",
    ]
    conv = format_solutions(solve_sizes(8, 4, transposed=False, kernel_sizes=[2], strides=[2]))
    assert conv.splitlines()[1] == "Conv            2  2  0  1        -  1,1"
    assert format_solutions([]).endswith("(no parameter set in the given ranges gives this size)")


def test_bad_arguments():
    with pytest.raises(ConvSpecTypeError, match=r"unknown keyword\(s\) kernel; fixable"):
        solve_sizes(4, 8, kernel=3)
    with pytest.raises(ConvSpecError, match=r"m=0 must be >= 1"):
        solve_sizes(4, 0)
    with pytest.raises(ConvSpecTypeError, match=r"n=True must be an integer, not a bool"):
        solve_sizes(True, 4)
    with pytest.raises(ConvSpecError, match=r"stride=0 must be >= 1"):
        solve_sizes(4, 8, strides=[0, 1])
    with pytest.raises(ConvSpecError, match=r"kernel_size must offer at least one value"):
        solve_sizes(4, 8, kernel_sizes=[])


def test_conv_kernels_that_do_not_fit_are_skipped():
    # n=2: only k<=2 fits without padding; with padding 1 up to k=4.
    found = solve_sizes(2, 1, transposed=False, strides=[1, 2], paddings=[0, 1])
    assert {(x.kernel_size, x.stride, x.padding) for x in found} == {
        (2, 1, 0), (2, 2, 0), (4, 1, 1), (4, 2, 1), (3, 2, 1), (1, 2, 0)
    }


# ----------------------------------------------------- limits and closed form


def _solutions_by_trying_every_output_padding(n, m, kernels, strides, paddings, dilations):
    """The solver's answer found the slow way: every legal output_padding tried."""
    found = set()
    for k, s, p, d in itertools.product(kernels, strides, paddings, dilations):
        for a in range(max(s, d)):
            size = (n - 1) * s - 2 * p + d * (k - 1) + a + 1
            if size == m:
                found.add((k, s, p, d, a))
    return found


@pytest.mark.slow
@pytest.mark.parametrize(("n", "m"), [(8, 16), (5, 31), (3, 40), (1, 7), (12, 12), (9, 2)])
def test_solved_output_padding_equals_trying_every_one(n, m):
    kernels, strides, paddings, dilations = range(1, 9), range(1, 21), range(0, 6), range(1, 8)
    expected = _solutions_by_trying_every_output_padding(n, m, kernels, strides, paddings, dilations)
    found = solve_sizes(n, m, kernel_sizes=kernels, strides=strides, paddings=paddings,
                        dilations=dilations)
    assert {_key(x) for x in found} == expected


def test_a_pinned_huge_stride_costs_nothing():
    import time

    start = time.perf_counter()
    assert solve_sizes(8, 16, stride=1_000_000) == []
    found = solve_sizes(1, 3, stride=2**60)
    assert time.perf_counter() - start < 1.0
    # n = 1: the stride never multiplies anything, so it is free.
    assert found and all(x.stride == 2**60 for x in found)
    for x in found:
        assert (1 - 1) * x.stride - 2 * x.padding + (x.kernel_size - 1) + x.output_padding + 1 == 3
    table = format_solutions(found)
    assert "1 (x3), 0 (x1152921504606846973)" in table


@pytest.mark.slow
def test_candidate_and_search_limits():
    from transpose_matrix.analysis.solver import MAX_CANDIDATES, MAX_COMBINATIONS

    assert solve_sizes(8, 16, kernel_sizes=range(1, MAX_CANDIDATES + 1), strides=[2], paddings=[1])
    with pytest.raises(ConvSpecError, match="kernel_size offers more than 10,000") as caught:
        solve_sizes(8, 16, kernel_sizes=range(1, MAX_CANDIDATES + 2))
    assert caught.value.field == "kernel_size"
    # A generator is read only one value past the limit.
    consumed = []

    def endless():
        value = 0
        while True:
            value += 1
            consumed.append(value)
            yield value

    with pytest.raises(ConvSpecError, match="padding offers more than"):
        solve_sizes(8, 16, paddings=endless())
    assert len(consumed) == MAX_CANDIDATES + 1
    assert MAX_CANDIDATES * 10 * 2 > MAX_COMBINATIONS
    with pytest.raises(ConvSpecError, match=r"would try 200,000 \(kernel_size, stride, padding, dilation\)"):
        solve_sizes(8, 16, kernel_sizes=range(1, MAX_CANDIDATES + 1), strides=range(1, 11),
                    paddings=[0, 1])


def test_taps_histogram_agrees_with_the_listing():
    for k, s, d in itertools.product(range(1, 13), range(1, 13), range(1, 7)):
        x = SizeSolution(10, 0, True, k, s, 0, d, 0)
        listing = x.taps_per_position
        # Listing built tap by tap, independently of both properties.
        counts = [0] * s
        for t in range(k):
            counts[(t * d) % s] += 1
        assert listing == tuple(counts)
        histogram = {}
        for c in counts:
            histogram[c] = histogram.get(c, 0) + 1
        assert x.taps_histogram == histogram
        assert x.uneven_overlap == (len(set(counts)) > 1)


def test_huge_strides_have_a_histogram_not_a_listing():
    x = SizeSolution(1, 3, True, 3, 2**40, 0, 1, 0)
    assert x.taps_histogram == {1: 3, 0: 2**40 - 3}
    assert x.uneven_overlap
    with pytest.raises(ConvSpecError, match="use taps_histogram"):
        _ = x.taps_per_position
