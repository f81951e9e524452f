"""``spectrum``: singular values, norm and condition number of C.

Parses the options, calls :func:`transpose_matrix.render.spectrum.spectrum_report`
and prints it; the maths is :mod:`transpose_matrix.analysis.spectrum`.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ..errors import ConvSpecError
from .options import (
    Command,
    UsageError,
    emit,
    geometry_options,
    integer,
    out_option,
    spec_from_args,
)

if TYPE_CHECKING:
    import numpy as np

__all__ = ["COMMAND", "add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``spectrum`` command's options: geometry (with ``--padding-mode``), weights, ``--k``."""
    geometry_options(parser)  # includes --padding-mode
    parser.add_argument("--seed", default="0", metavar="N", help="seed of the N(0, 1) weights")
    parser.add_argument(
        "--weights", default=None, metavar="FILE.npy",
        help="the layer's weights from a .npy file instead of random ones",
    )
    parser.add_argument(
        "--k", default="5", metavar="K", help="how many largest and smallest values to list"
    )
    parser.add_argument("--bins", default="12", metavar="B", help="histogram bins")
    parser.add_argument("--format", default="text", choices=("text", "latex"))
    out_option(parser)


def _load_weights(path: str) -> np.ndarray:
    import numpy as np


    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        reason = " ".join(str(error).split())
        raise UsageError(f"--weights: {path!r} is not a readable .npy file ({reason})") from None


def run(args: argparse.Namespace) -> int:
    """Run ``spectrum``: print (or write) the report; 0 on success."""
    from ..analysis.verification import random_weight

    spec = spec_from_args(args)
    seed = integer("--seed", args.seed, 0)
    k = integer("--k", args.k, 1)
    bins = integer("--bins", args.bins, 1)
    if args.weights is None:
        weight = random_weight(spec, seed)
    else:
        from ..matrices.conv import check_weight

        try:
            weight = check_weight(spec, _load_weights(args.weights))
        except UsageError:
            raise
        except ConvSpecError as error:
            raise UsageError(f"--weights: {error}") from None
    from ..render.spectrum import spectrum_latex, spectrum_report, spectrum_text

    report = spectrum_report(spec, weight, k, seed=seed)
    if args.format == "latex":
        text = spectrum_latex(report, bins=bins, transposed=args.transposed)
    else:
        text = spectrum_text(report, bins=bins, transposed=args.transposed)
    emit(text, args.out)
    return 0


COMMAND = Command(
    "spectrum",
    "singular values, norm and condition number of C (the same for Cᵀ)",
    "spectrum --input 32x32 --kernel 3 --padding 1 --padding-mode circular "
    "--in-channels 16 --out-channels 16",
    add_arguments,
    run,
)
