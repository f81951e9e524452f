"""``solve``: the layer configurations that take one size to another.

The search is :func:`transpose_matrix.analysis.solver.solve_sizes`.
"""

from __future__ import annotations

import argparse

from .options import Command, emit, integer, out_option

__all__ = ["COMMAND"]


def _solve_arguments(parser: argparse.ArgumentParser) -> None:
    out_option(parser)
    parser.add_argument("n", help="input size along one dim")
    parser.add_argument("m", help="wanted output size")
    parser.add_argument("--conv", action="store_true", help="solve for Conv instead")
    for option in ("--kernel", "--stride", "--padding", "--dilation", "--output-padding"):
        parser.add_argument(option, default=None, metavar="V", help="pin this parameter")


def _run_solve(args: argparse.Namespace) -> int:
    from ..analysis.solver import format_solutions, solve_sizes

    n = integer("n", args.n, 1)
    m = integer("m", args.m, 1)
    fixed = {}
    names = {
        "kernel": ("kernel_size", 1),
        "stride": ("stride", 1),
        "padding": ("padding", 0),
        "dilation": ("dilation", 1),
        "output_padding": ("output_padding", 0),
    }
    for attribute, (name, minimum) in names.items():
        value = getattr(args, attribute)
        if value is not None:
            fixed[name] = integer(f"--{attribute.replace('_', '-')}", value, minimum)
    solutions = solve_sizes(n, m, transposed=not args.conv, **fixed)
    if not solutions:
        layer = "Conv" if args.conv else "ConvTranspose"
        emit(f"no small {layer} layer takes {n} to {m}", args.out)
        return 1
    emit(format_solutions(solutions), args.out)
    return 0
COMMAND = (
    Command(
        "solve",
        "find layers that take one size to another",
        "solve 8 16   (ConvTranspose layers 8 -> 16)",
        _solve_arguments,
        _run_solve,
    )
)

