"""``verify``: C and Cᵀ checked against PyTorch (or the loop reference).

Exit status 1 when a check fails; the checks are
:func:`transpose_matrix.analysis.verification.verify`'s.
"""

from __future__ import annotations

import argparse

from .options import Command, geometry_options, parse_seed, spec_from_args, weight_options

__all__ = ["COMMAND"]


def _verify_arguments(parser: argparse.ArgumentParser) -> None:
    geometry_options(parser)
    weight_options(parser, numeric=False)
    parser.add_argument(
        "--no-torch", action="store_true", help="use the loop reference instead of PyTorch"
    )


def _run_verify(args: argparse.Namespace) -> int:
    spec = spec_from_args(args)
    seed = parse_seed(args.seed)
    from ..analysis.verification import verify
    from ..render.report import verify_text

    report = verify(
        spec, seed=seed, use_torch=False if args.no_torch else None, transposed=args.transposed
    )
    print(verify_text(report, transposed=args.transposed))
    return 0 if report.ok else 1
COMMAND = (
    Command(
        "verify",
        "check C and Cᵀ against PyTorch",
        "verify --input 7 --kernel 3 --stride 2",
        _verify_arguments,
        _run_verify,
    )
)

