"""``figure``: a TikZ figure of C, its sparsity pattern or one kernel placement.

The figures are :mod:`transpose_matrix.render.tikz`'s.
"""

from __future__ import annotations

import argparse

from .options import (
    Command,
    emit,
    geometry_options,
    out_option,
    parse_dims,
    spec_from_args,
    zero_padding_only,
)

__all__ = ["COMMAND"]


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


def _run_figure(args: argparse.Namespace) -> int:
    spec = spec_from_args(args)
    from ..render import document, fragment, placement_figure, sparsity_figure

    if args.kind == "placement":
        zero_padding_only(spec, "figure placement")
    if args.kind == "sparsity":
        picture = sparsity_figure(spec)
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

