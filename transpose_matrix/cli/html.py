"""``html``: one self-contained interactive page of C and Cᵀ.

The page is :func:`transpose_matrix.render.html.html_page`.
"""

from __future__ import annotations

import argparse

from .options import Command, emit, geometry_options, out_option, spec_from_args, zero_padding_only

__all__ = ["COMMAND"]


def _html_arguments(parser: argparse.ArgumentParser) -> None:
    geometry_options(parser)
    out_option(parser)


def _run_html(args: argparse.Namespace) -> int:
    from ..render.html import html_page

    spec = spec_from_args(args)
    zero_padding_only(spec, "html")
    page = html_page(spec, transposed=args.transposed)
    emit(str(page), args.out)
    return 0
COMMAND = (
    Command(
        "html",
        "write an interactive HTML page of C and Cᵀ",
        "html --input 6x6 --kernel 3 --stride 2 --out conv.html",
        _html_arguments,
        _run_html,
    )
)

