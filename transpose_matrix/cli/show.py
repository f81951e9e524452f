"""``show``: C, Cᵀ and what Cᵀ computes, in the terminal (text, LaTeX or JSON).

Parses the options, builds the spec and prints the report of
:mod:`transpose_matrix.render.report`.
"""

from __future__ import annotations

import argparse

from .options import (
    SHRINK,
    Command,
    UsageError,
    emit,
    geometry_options,
    out_option,
    seed_of,
    spec_from_args,
    weight_options,
)

__all__ = ["COMMAND", "MAX_FULL_CELLS", "MAX_JSON_ENTRIES"]

#: Most stored entries ``show --format json`` lists (one JSON triplet each,
#: about 40 bytes and 4 µs apiece): past it the command refuses, naming the
#: options to shrink, instead of printing hundreds of megabytes.
MAX_JSON_ENTRIES = 100_000

#: Most cells of C that ``show --full`` prints (C and Cᵀ: about 20 bytes a
#: cell as text); past it the command refuses instead of printing gigabytes.
MAX_FULL_CELLS = 250_000


def _show_arguments(parser: argparse.ArgumentParser) -> None:
    geometry_options(parser)
    weight_options(parser)
    out_option(parser)
    parser.add_argument(
        "--format",
        default="text",
        choices=("text", "latex", "json"),
        help=f"json lists every stored entry of C (at most {MAX_JSON_ENTRIES:,})",
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help=f"never elide a matrix (C of at most {MAX_FULL_CELLS:,} cells)",
    )


def _run_show(args: argparse.Namespace) -> int:
    from ..render import report

    spec = spec_from_args(args)
    seed = seed_of(args)
    rows, cols = spec.matrix_shape
    if args.full and rows * cols > MAX_FULL_CELLS:
        raise UsageError(
            f"--full: prints every cell of C and Cᵀ, and this C has {rows:,} × {cols:,} = "
            f"{rows * cols:,} cells, above the limit of {MAX_FULL_CELLS:,}; leave out --full "
            "(the view then elides rows and columns) or give a smaller --input"
        )
    if args.format == "text":
        text = report.show_text(spec, seed=seed, transposed=args.transposed, full=args.full)
    elif args.format == "latex":
        text = report.show_latex(spec, seed=seed, full=args.full, transposed=args.transposed)
    else:
        from ..matrices.conv import conv_matrix_nnz

        entries = conv_matrix_nnz(spec)
        if entries > MAX_JSON_ENTRIES:
            raise UsageError(
                f"--format: json lists every stored entry of C, and this C has {entries:,}, "
                f"above the limit of {MAX_JSON_ENTRIES:,}; {SHRINK}, or use --format text"
            )
        text = report.show_json(spec, seed=seed)
    emit(text, args.out)
    return 0


COMMAND = (
    Command(
        "show",
        "print C, Cᵀ and what Cᵀ computes (default command)",
        "show --input 5x5 --kernel 3 --stride 2 --padding 1",
        _show_arguments,
        _run_show,
    )
)

