"""The ``spectrum`` command's options and run function, which :mod:`transpose_matrix.cli` registers.

Kept apart from the report (:mod:`transpose_matrix.render.spectrum`) and the
maths (:mod:`transpose_matrix.spectrum`) because the CLI declares every
command's options on every run: this module imports nothing heavy.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from .errors import ConvSpecError

if TYPE_CHECKING:
    import numpy as np

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``spectrum`` command's options: geometry (with ``--padding-mode``), weights, ``--k``."""
    from .cli import _geometry, _out

    _geometry(parser)  # includes --padding-mode
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
    _out(parser)


def _load_weights(path: str) -> np.ndarray:
    import numpy as np

    from .cli import UsageError

    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        reason = " ".join(str(error).split())
        raise UsageError(f"--weights: {path!r} is not a readable .npy file ({reason})") from None


def run(args: argparse.Namespace) -> int:
    """Run ``spectrum``: print (or write) the report; 0 on success."""
    from .cli import UsageError, _emit, _integer, spec_from_args
    from .verification import random_weight

    spec = spec_from_args(args)
    seed = _integer("--seed", args.seed, 0)
    k = _integer("--k", args.k, 1)
    bins = _integer("--bins", args.bins, 1)
    if args.weights is None:
        weight = random_weight(spec, seed)
    else:
        from .matrix import check_weight

        try:
            weight = check_weight(spec, _load_weights(args.weights))
        except UsageError:
            raise
        except ConvSpecError as error:
            raise UsageError(f"--weights: {error}") from None
    from .render.spectrum import spectrum_latex, spectrum_report, spectrum_text

    report = spectrum_report(spec, weight, k, seed=seed)
    if args.format == "latex":
        text = spectrum_latex(report, bins=bins, transposed=args.transposed)
    else:
        text = spectrum_text(report, bins=bins, transposed=args.transposed)
    _emit(text, args.out)
    return 0
