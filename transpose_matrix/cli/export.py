"""``export``: a LaTeX article or beamer talk about one layer, or its body alone.

Parses the options and writes the document that
:mod:`transpose_matrix.render.report` builds.
"""

from __future__ import annotations

import argparse

from ..errors import (
    ConvSpecError,
)
from ..geometry.padding import copies_input
from .figure import sparsity_options, sparsity_window
from .options import (
    Command,
    UsageError,
    emit,
    geometry_options,
    one_line,
    out_option,
    seed_of,
    spec_from_args,
    weight_options,
)

__all__ = ["COMMAND"]


def _export_arguments(parser: argparse.ArgumentParser) -> None:
    geometry_options(parser)
    weight_options(parser)
    out_option(parser)
    parser.add_argument(
        "--fragment",
        action="store_true",
        help="only the body (or the frames), for \\input into notes or a talk",
    )
    parser.add_argument(
        "--beamer", action="store_true", help="beamer frames (128 mm × 96 mm) instead of an article"
    )
    parser.add_argument("--no-figures", action="store_true", help="leave out TikZ")
    parser.add_argument(
        "--derivations",
        action="store_true",
        help="append the checked output-size and gradient derivations",
    )
    sparsity_options(parser)


def _run_export(args: argparse.Namespace) -> int:
    from ..render import report

    spec = spec_from_args(args)
    seed = seed_of(args)
    if args.beamer and args.derivations:
        raise UsageError(
            "--derivations: not available with --beamer (derivations are article sections)"
        )
    if args.derivations and copies_input(spec.padding_mode):
        raise UsageError(
            f"--derivations: not available with --padding-mode {spec.padding_mode} (the "
            "gradient derivation's sums are those of zero padding)"
        )
    if args.derivations:
        from ..narrative.gradient import GRADIENT_MAX_ENTRIES

        rows, cols = spec.matrix_shape
        if rows * cols > GRADIENT_MAX_ENTRIES:
            # Refused before the output-size derivation is worked out in vain.
            raise UsageError(
                f"--derivations: the gradient derivation writes C out symbolically, at most "
                f"{GRADIENT_MAX_ENTRIES:,} cells, and this C has {rows:,} × {cols:,} = "
                f"{rows * cols:,}; give a smaller --input or --kernel, or leave out --derivations"
            )
    if not args.no_figures and spec.ndim <= 2:
        from ..render.tikz import check_figure_size

        try:
            # The placement figure is drawn for zero padding only (report._figures).
            check_figure_size(spec, placement=not copies_input(spec.padding_mode))
        except ConvSpecError as error:
            raise UsageError(
                f"{one_line(error, 'export')}; or leave out the figures with --no-figures"
            ) from None
    text = report.export(
        spec,
        seed=seed,
        transposed=args.transposed,
        figures=not args.no_figures,
        derivations=args.derivations,
        beamer=args.beamer,
        fragment_only=args.fragment,
        sparsity=sparsity_window(args),
    )
    emit(text, args.out)
    return 0
COMMAND = (
    Command(
        "export",
        "write a LaTeX document: an article, or beamer frames with --beamer",
        "export --input 4x4 --kernel 3 --out notes.tex   (--beamer: slides)",
        _export_arguments,
        _run_export,
    )
)

