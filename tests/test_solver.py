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
    solutions = solve_sizes(n, m, kernel_sizes=range(1, 8), strides=range(1, 5),
                            paddings=range(4), dilations=dilations)
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
    solutions = solve_sizes(n, m, transposed=False, kernel_sizes=range(1, 8),
                            strides=range(1, 5), paddings=range(4))
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


def test_ranked_exact_coverage_first_then_even_then_simplest():
    solutions = solve_sizes(8, 16, dilations=(1, 2), paddings=range(4))
    assert [x.rank() for x in solutions] == sorted(x.rank() for x in solutions)
    assert str(solutions[0]) == "ConvTranspose(kernel_size=2, stride=2, padding=0): 8 -> 16"
    covered = [x.exact_coverage for x in solutions]
    assert covered == sorted(covered, reverse=True)  # every True before every False
    # k=1, s=3 leaves most outputs without input: ranked after every exact one.
    gap = next(x for x in solutions if (x.kernel_size, x.stride) == (1, 3))
    assert solutions.index(gap) >= covered.index(False)
    assert (gap.silent_outputs, gap.ignored_inputs) == _coverage_from_the_matrix(gap) == (10, 2)


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
        "3 -> 13, uneven overlap, 4 of 13 outputs receive no input"  # 1, 9, 11 and 12
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
    found = solve_sizes(2, 1, transposed=False, kernel_sizes=range(1, 8), strides=[1, 2],
                        paddings=[0, 1])
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
    from transpose_matrix.analysis.solver import MAX_CANDIDATES

    listed = list(range(1, MAX_CANDIDATES + 1))
    assert solve_sizes(8, 16, kernel_sizes=listed, strides=[2], paddings=[1])
    with pytest.raises(ConvSpecError, match="kernel_size offers more than 10,000") as caught:
        solve_sizes(8, 16, kernel_sizes=[*listed, MAX_CANDIDATES + 1])
    assert caught.value.field == "kernel_size"
    # A range is never listed: a long one is fine when few sets can reach m.
    assert solve_sizes(8, 16, kernel_sizes=range(1, 5 * MAX_CANDIDATES), strides=[2],
                       paddings=[1])
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


def test_the_combination_limit_at_its_boundary():
    from transpose_matrix.analysis.solver import MAX_COMBINATIONS

    # A convolution to m = 1 can use any stride, so every (kernel, stride)
    # set is tried; padding 10**6 then fits none, which keeps the test fast.
    assert MAX_COMBINATIONS == 10 * 10_000
    assert solve_sizes(1, 1, transposed=False, kernel_sizes=range(1, 11),
                       strides=range(1, 10_001), paddings=[10**6]) == []
    assert 11 * 9091 == MAX_COMBINATIONS + 1
    with pytest.raises(ConvSpecError, match=r"would try 100,001 \(kernel_size, stride, dilation\)"):
        solve_sizes(1, 1, transposed=False, kernel_sizes=range(1, 12), strides=range(1, 9092),
                    paddings=[10**6])
    with pytest.raises(ConvSpecError, match="more than 100,000") as caught:
        solve_sizes(1, 1, kernel_sizes=range(1, 10**6))
    assert caught.value.field == "kernel_size"


def test_n_and_m_below_one_are_refused():
    for n, m, name in ((0, 4, "n"), (4, 0, "m")):
        with pytest.raises(ConvSpecError, match=rf"{name}=0 must be >= 1") as caught:
            solve_sizes(n, m)
        assert caught.value.field == name
    assert solve_sizes(1, 1, kernel_sizes=[1], strides=[1])  # 1 is allowed


def test_the_listing_stride_bound():
    from transpose_matrix.analysis.solver import _MAX_LISTED_STRIDE

    assert _MAX_LISTED_STRIDE == 65_536
    listed = SizeSolution(1, 3, True, 3, 65_536, 0, 1, 0).taps_per_position
    assert len(listed) == 65_536 and listed[:4] == (1, 1, 1, 0)
    with pytest.raises(ConvSpecError, match="stride=65537 has too many residues") as caught:
        _ = SizeSolution(1, 3, True, 3, 65_537, 0, 1, 0).taps_per_position
    assert caught.value.field == "stride"


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


# ------------------------------------------------- default ranges, coverage, the command


def _every_answer_by_the_definition(n, m, transposed, dilations=(1,)):
    """Every set in the documented default ranges, tried through the size formula."""
    size = m if transposed else n
    found = set()
    for d in dilations:
        for k in range(1, size + 1):
            if d * (k - 1) + 1 > size:
                break
            for s in range(1, size + 1):
                for p in range(d * (k - 1) // 2 + 1):
                    if not transposed:
                        if n + 2 * p - d * (k - 1) - 1 >= 0 and \
                                (n + 2 * p - d * (k - 1) - 1) // s + 1 == m:
                            found.add((k, s, p, d, None))
                        continue
                    for a in range(max(s, d)):
                        if (n - 1) * s - 2 * p + d * (k - 1) + a + 1 == m:
                            found.add((k, s, p, d, a))
    return found


def _torch_size(torch, x: SizeSolution) -> int:
    if x.transposed:
        layer = torch.nn.ConvTranspose1d(1, 1, x.kernel_size, stride=x.stride,
                                         padding=x.padding, output_padding=x.output_padding,
                                         dilation=x.dilation, bias=False)
    else:
        layer = torch.nn.Conv1d(1, 1, x.kernel_size, stride=x.stride, padding=x.padding,
                                dilation=x.dilation, bias=False)
    with torch.no_grad():
        return layer(torch.zeros(1, 1, x.n)).shape[-1]


def _coverage_from_the_matrix(x: SizeSolution) -> tuple[int, int]:
    """(outputs without input, inputs unused): zero rows and columns of the layer's matrix."""
    import numpy as np

    import transpose_matrix as tm

    if x.transposed:
        spec = tm.ConvSpec.from_transposed((x.n,), 1, 1, x.kernel_size, stride=x.stride,
                                           padding=x.padding, output_padding=x.output_padding,
                                           dilation=x.dilation)
        matrix = tm.transposed_conv_matrix(spec, np.ones(spec.weight_shape))
    else:
        spec = tm.ConvSpec((x.n,), x.kernel_size, stride=x.stride, padding=x.padding,
                           dilation=x.dilation)
        matrix = tm.conv_matrix(spec, np.ones(spec.weight_shape))
    dense = matrix.toarray() != 0
    assert dense.shape == (x.m, x.n)
    return int((~dense.any(axis=1)).sum()), int((~dense.any(axis=0)).sum())


@pytest.mark.parametrize(
    ("n", "m", "transposed", "dilations"),
    [(8, 16, True, (1,)), (5, 11, True, (1, 2)), (3, 12, True, (1, 3)), (1, 5, True, (1,)),
     (6, 6, True, (1, 2)), (16, 8, False, (1,)), (9, 3, False, (1, 2)), (7, 7, False, (1,))],
)
def test_default_search_is_complete_and_every_answer_checks_out(torch, n, m, transposed,
                                                                 dilations):
    solutions = solve_sizes(n, m, transposed=transposed, dilations=dilations)
    expected = _every_answer_by_the_definition(n, m, transposed, dilations)
    assert expected and {_key(x) for x in solutions} == expected
    for x in solutions:
        assert _torch_size(torch, x) == m, x
        assert (x.silent_outputs, x.ignored_inputs) == _coverage_from_the_matrix(x), x
        assert x.exact_coverage == (_coverage_from_the_matrix(x) == (0, 0))
    assert [x.rank() for x in solutions] == sorted(x.rank() for x in solutions)


def test_coverage_of_dilated_and_strided_layers_against_the_matrix():
    # Coverage with dilation (the modular path) and cropping padding, beyond the defaults.
    for n, m in ((4, 9), (5, 13), (3, 10)):
        for x in solve_sizes(n, m, kernel_sizes=range(1, 6), strides=range(1, 5),
                             paddings=range(6), dilations=range(1, 4)):
            assert (x.silent_outputs, x.ignored_inputs) == _coverage_from_the_matrix(x), x
    for x in solve_sizes(12, 3, transposed=False, kernel_sizes=range(1, 6),
                         strides=range(1, 7), paddings=range(6), dilations=range(1, 4)):
        assert (x.silent_outputs, x.ignored_inputs) == _coverage_from_the_matrix(x), x


@pytest.mark.slow
def test_seven_to_224_finds_the_kernel_32_stride_32_layer(torch):
    solutions = solve_sizes(7, 224)
    best = solutions[0]
    assert (best.kernel_size, best.stride, best.padding, best.output_padding) == (32, 32, 0, 0)
    for x in solutions[:25]:
        assert _torch_size(torch, x) == 224
        assert _coverage_from_the_matrix(x) == (0, 0) and x.exact_coverage
    pinned = solve_sizes(7, 224, kernel_size=32)
    assert (pinned[0].stride, pinned[0].padding) == (32, 0)


def _solve(capsys, *args):
    from transpose_matrix.cli import main

    status = main(["solve", *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _rows(out: str) -> list[list[str]]:
    lines = out.splitlines()
    return [line.split() for line in lines[1 : lines.index("")]]


@pytest.mark.slow
def test_command_solves_7_to_224(capsys):
    status, out, err = _solve(capsys, "7", "224")
    assert (status, err) == (0, "")
    assert _rows(out)[0][:6] == ["ConvTranspose", "32", "32", "0", "1", "0"]
    assert "searched --kernel 1:224, --stride 1:224, --padding 0:d(k-1)/2, --dilation 1" in out
    assert "Listed: the 10 best; --all lists every one." in out
    status, out, _ = _solve(capsys, "7", "224", "--kernel", "32")
    assert status == 0 and _rows(out)[0][:4] == ["ConvTranspose", "32", "32", "0"]
    status, out, _ = _solve(capsys, "7", "224", "--stride", "32")
    assert status == 0 and _rows(out)[0][:4] == ["ConvTranspose", "32", "32", "0"]


def test_command_8_to_16_hides_layers_with_holes_unless_asked(capsys):
    status, out, _ = _solve(capsys, "8", "16", "--padding", "0:3")
    rows = _rows(out)
    assert status == 0 and rows[0][:4] == ["ConvTranspose", "2", "2", "0"]
    assert not [row for row in rows if "input" in " ".join(row)]  # no row with holes
    assert "leave outputs without input or inputs unused" in out
    status, out, _ = _solve(capsys, "8", "16", "--padding", "0:3", "--all")
    rows = _rows(out)
    notes = [" ".join(row[7:]) for row in rows]
    k1s3 = next(i for i, row in enumerate(rows) if row[1:3] == ["1", "3"])
    assert notes[k1s3] == "uneven overlap, 10 of 16 outputs receive no input, 2 of 8 inputs unused"
    holes = [i for i, note in enumerate(notes) if "no input" in note or "unused" in note]
    assert holes == list(range(holes[0], len(rows))) and k1s3 in holes  # all ranked last


def test_command_ranges_and_nothing_found(capsys):
    status, out, _ = _solve(capsys, "7", "224", "--kernel", "2:20", "--stride", "1:6")
    assert status == 1
    assert out.startswith("no ConvTranspose layer takes 7 to 224 with --kernel 2:20, "
                          "--stride 1:6, --padding 0:d(k-1)/2, --dilation 1")
    assert "widen a range" in out
    status, out, err = _solve(capsys, "8", "16", "--kernel", "5:2")
    assert status == 2 and "--kernel: '5:2' is not allowed; give A:B with A <= B" in err
    status, out, err = _solve(capsys, "2", "512")
    assert status == 2 and "give narrower ranges, e.g. --kernel 1:64" in err
    status, out, _ = _solve(capsys, "--help")
    assert "--kernel V|A:B" in out and "default 1:N" in out and "--all" in out


def test_options_are_never_abbreviated(capsys):
    from transpose_matrix.cli import main

    for argv in (["show", "--strid", "2"], ["solve", "8", "16", "--kern", "4"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "unrecognized arguments: " in err and argv[-2] in err
    assert main(["show", "--stride", "2"]) == 0
