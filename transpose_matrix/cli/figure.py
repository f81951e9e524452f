"""``figure``: a TikZ figure of C, its sparsity pattern or one kernel placement.

The figures are :mod:`transpose_matrix.render.tikz`'s.
"""

from __future__ import annotations

import argparse
from typing import Any

from .options import (
    Command,
    UsageError,
    emit,
    geometry_options,
    out_option,
    parse_dims,
    spec_from_args,
    zero_padding_only,
)

__all__ = ["COMMAND", "sparsity_options", "sparsity_window"]


def sparsity_options(parser: argparse.ArgumentParser) -> None:
    """``--rows`` and ``--cols``: the rows and columns of C the sparsity figure draws."""
    ranges = "START:STOP[,START:STOP…]"
    parser.add_argument(
        "--rows", default=None, metavar=ranges,
        help="sparsity figure: the rows of C to draw, e.g. 0:48 or 0:24,400:424 (default: "
        "a window chosen to show the structure, named in the caption)",
    )
    parser.add_argument(
        "--cols", default=None, metavar=ranges,
        help="sparsity figure: the columns of C to draw, e.g. 100:164",
    )


def _ranges(option: str, text: str) -> list[tuple[int, int]]:
    """``[(0, 48), (100, 164)]`` from ``'0:48,100:164'``.

    >>> _ranges("--rows", "0:48,100:164")
    [(0, 48), (100, 164)]
    """
    pairs = []
    for part in text.split(","):
        start, colon, stop = part.strip().partition(":")
        if not (colon and start.isdigit() and stop.isdigit() and start.isascii()
                and stop.isascii() and len(start) < 19 and len(stop) < 19):
            raise UsageError(
                f"{option} {text!r}: give ranges START:STOP of rows or columns of C, "
                "separated by commas, e.g. 0:48 or 0:24,400:424"
            )
        pairs.append((int(start), int(stop)))
    return pairs


def sparsity_window(args: argparse.Namespace) -> dict[str, Any]:
    """The ``rows``/``cols`` keyword arguments of the sparsity figure the options pick."""
    picked: dict[str, Any] = {}
    for option, name in (("--rows", "rows"), ("--cols", "cols")):
        text = getattr(args, name, None)
        if text is not None:
            picked[name] = _ranges(option, text)
    return picked


def _figure_arguments(parser: argparse.ArgumentParser) -> None:
    geometry_options(parser)
    out_option(parser)
    parser.add_argument("kind", choices=("sparsity", "placement"))
    parser.add_argument(
        "--index",
        default="0",
        metavar="I",
        help="placement: a row of C (5) or a forward output position (1,1); with "
        "--transposed, the input pixel of the transposed layer that scatters",
    )
    parser.add_argument(
        "--fragment", action="store_true", help="only the tikzpicture, no document"
    )
    sparsity_options(parser)


def _run_figure(args: argparse.Namespace) -> int:
    spec = spec_from_args(args)
    from ..render import document, fragment, placement_figure, sparsity_figure

    if args.kind == "placement":
        zero_padding_only(spec, "figure placement")
        if args.rows is not None or args.cols is not None:
            raise UsageError("--rows/--cols: they pick what the sparsity figure shows")
    if args.kind == "sparsity":
        picture = sparsity_figure(spec, **sparsity_window(args))
    else:
        index = parse_dims("--index", args.index, 0)
        picture = placement_figure(spec, index, transposed=args.transposed)
    if args.fragment:
        # Unindented, so a picture as wide as the line fits in a paragraph.
        emit(fragment(f"\\noindent\n{picture}", what="figure"), args.out)
        return 0
    emit(document(picture, kind="standalone"), args.out)
    return 0
COMMAND = (
    Command(
        "figure",
        "write a TikZ figure",
        "figure placement --index 1,1 --out fig.tex",
        _figure_arguments,
        _run_figure,
    )
)

