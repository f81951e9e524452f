"""``solve``: the layer configurations that take one size to another.

The search and its ranking are
:func:`transpose_matrix.analysis.solver.solve_sizes`; this module reads the
ranges (``--kernel 2:40``), prints the best answers and says what it searched.
"""

from __future__ import annotations

import argparse
import re

from ..errors import ConvSpecError
from .options import Command, UsageError, emit, integer, out_option

__all__ = ["COMMAND", "DEFAULT_SHOWN"]

#: Answers listed without ``--all``.
DEFAULT_SHOWN = 10

# option -> (solve_sizes keyword, minimum, default range in words)
_RANGES = {
    "kernel": ("kernel_size", 1, "1:N, N = m (transposed) or n (--conv)"),
    "stride": ("stride", 1, "1:N"),
    "padding": ("padding", 0, "0:d(k-1)/2, at most half the kernel's reach"),
    "dilation": ("dilation", 1, "1"),
    "output_padding": ("output_padding", 0, "every legal one, 0:max(s,d)-1, solved for"),
}

_RANGE = re.compile(r"\s*([0-9]+)\s*:\s*([0-9]+)\s*")


def _solve_arguments(parser: argparse.ArgumentParser) -> None:
    out_option(parser)
    parser.add_argument("n", help="input size along one dim")
    parser.add_argument("m", help="wanted output size")
    parser.add_argument("--conv", action="store_true", help="solve for Conv instead")
    for attribute, (_, _, default) in _RANGES.items():
        option = f"--{attribute.replace('_', '-')}"
        parser.add_argument(
            option, default=None, metavar="V|A:B",
            help=f"one value or an inclusive range A:B (default {default})",
        )
    parser.add_argument(
        "--all", action="store_true",
        help=f"list every answer, also those leaving outputs without input (default: the "
        f"{DEFAULT_SHOWN} best that reach every output)",
    )
    parser.description = (
        "List the ConvTranspose (or Conv) layers taking size n to size m along one dim, "
        "best first: every output reached by an input, then even tap overlap, then the "
        "smallest kernel, stride and padding. Padding and output padding are solved for."
    )


def _candidates(option: str, text: str, minimum: int) -> range:
    """``'4'`` -> ``range(4, 5)``; ``'2:40'`` -> ``range(2, 41)``."""
    match = _RANGE.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        value = integer(option, text, minimum)
        return range(value, value + 1)
    low = integer(option, match.group(1), minimum)
    high = integer(option, match.group(2), minimum)
    if high < low:
        raise UsageError(f"{option}: {text!r} is not allowed; give A:B with A <= B")
    return range(low, high + 1)


def _count(number: int, one: str, more: str, what: str = "") -> str:
    """``'1 Conv layer takes'`` / ``'2,041 Conv layers take'``."""
    what = f" {what}" if what else ""
    return f"{number:,}{what} {one if number == 1 else more}"


def _range_text(values: range) -> str:
    return str(values[0]) if len(values) == 1 else f"{values[0]}:{values[-1]}"


def _run_solve(args: argparse.Namespace) -> int:
    from ..analysis.solver import format_solutions, search_ranges, solve_sizes

    n = integer("n", args.n, 1)
    m = integer("m", args.m, 1)
    given: dict[str, range] = {}
    for attribute, (name, minimum, _) in _RANGES.items():
        text = getattr(args, attribute)
        if text is not None:
            option = f"--{attribute.replace('_', '-')}"
            given[name] = _candidates(option, text, minimum)
    transposed = not args.conv
    try:
        solutions = solve_sizes(n, m, transposed=transposed, **given)  # type: ignore[arg-type]
    except ConvSpecError as error:
        if "would try" not in str(error):
            raise
        fact = str(error).split(";")[0]
        raise UsageError(
            f"solve: {fact}; give narrower ranges, e.g. --kernel 1:64, or pin one with "
            "--stride S"
        ) from None
    searched = {**search_ranges(n, m, transposed)}
    searched.update({name: _range_text(values) for name, values in given.items()})
    if transposed and "output_padding" not in given:
        searched["output_padding"] = "any legal"
    options = {name: f"--{attribute.replace('_', '-')}"
               for attribute, (name, _, _) in _RANGES.items()}
    ranges = ", ".join(f"{options[name]} {value}" for name, value in searched.items())
    layer = "ConvTranspose" if transposed else "Conv"
    if not solutions:
        emit(
            f"no {layer} layer takes {n} to {m} with {ranges}; widen a range, e.g. "
            "--kernel 1:64 --stride 1:64 --padding 0:32 (see --help)",
            args.out,
        )
        return 1
    covering = [x for x in solutions if x.exact_coverage is not False]
    if args.all:
        shown = solutions
    else:
        shown = (covering or solutions)[:DEFAULT_SHOWN]
    lines = [format_solutions(shown), ""]
    holes = len(solutions) - len(covering)
    reads = "reads" if len(covering) == 1 else "read"
    summary = (
        f"{_count(len(solutions), 'layer takes', 'layers take', layer)} {n} to {m} "
        f"(searched {ranges}); {_count(len(covering), 'reaches', 'reach')} every output from "
        f"an input and {reads} every input"
    )
    if holes:
        summary += f", {_count(holes, 'leaves', 'leave')} outputs without input or inputs unused"
    lines.append(summary + ".")
    if not covering:
        lines.append("None reaches every output and reads every input: the note column says "
                     "what each one leaves out (outputs without input hold only the bias).")
    if len(shown) < len(solutions):
        lines.append(f"Listed: the {len(shown)} best; --all lists every one.")
    emit("\n".join(lines), args.out)
    return 0


COMMAND = Command(
    "solve",
    "find layers that take one size to another",
    "solve 8 16   (ConvTranspose layers 8 -> 16; solve 7 224 --kernel 2:40)",
    _solve_arguments,
    _run_solve,
)
