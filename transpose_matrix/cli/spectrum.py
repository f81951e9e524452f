"""``spectrum``: singular values, norm and condition number of C.

Parses the options, calls :func:`transpose_matrix.render.spectrum.spectrum_report`
and prints it; the maths is :mod:`transpose_matrix.analysis.spectrum`.
"""

from __future__ import annotations

import argparse
import math
import sys
from typing import TYPE_CHECKING

from ..errors import ConvSpecError
from .options import (
    Command,
    UsageError,
    emit,
    geometry_options,
    integer,
    out_option,
    parse_seed,
    spec_from_args,
)

if TYPE_CHECKING:
    import numpy as np

    from ..geometry.spec import ConvSpec

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
        "--k", default=None, metavar="K",
        help="how many largest (and smallest) values to list (default 5 when every value is "
        "computed, else 1: the norm)",
    )
    parser.add_argument(
        "--smallest", action="store_true",
        help="also the smallest values, σ_min and the condition number (computed by default "
        "only on small layers)",
    )
    parser.add_argument(
        "--all", action="store_true",
        help="every singular value and a histogram (computed by default only when cheap)",
    )
    parser.add_argument(
        "--method", default="auto",
        choices=("auto", "fft", "dense", "iterative", "shift-invert", "bracket"),
        help="how: fft (circular padding, exact), dense (small layers, exact), iterative "
        "(Lanczos), shift-invert (smallest values), bracket (the norm between a certified "
        "lower and upper bound: what auto takes for the norm of a large layer); auto picks",
    )
    parser.add_argument(
        "--tol", default=None, metavar="T",
        help="relative tolerance of the Lanczos methods (default 1e-10); for the bracket, "
        "its relative gap (default 1e-3)",
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
    seed = parse_seed(args.seed)
    k = None if args.k is None else integer("--k", args.k, 1)
    bins = integer("--bins", args.bins, 1)
    tol = None
    if args.tol is not None:
        try:
            tol = float(args.tol)
        except ValueError:
            tol = math.nan
        if not 0 < tol < 1:
            raise UsageError(f"--tol: {args.tol!r} is not allowed; give a number in (0, 1), "
                             "like 1e-8")
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

    rows, cols = spec.matrix_shape
    if rows * cols > _ANNOUNCED and _lanczos_to_the_end(args, spec):
        _say(f"C is {rows:,} × {cols:,}; ‖C‖₂ by Lanczos on the Gram matrix takes products "
             "with C and Cᵀ (each one about as long as the layer's forward and backward pass); "
             "a layer this size can take minutes: progress follows every few seconds")
    try:
        report = spectrum_report(
            spec, weight, k, tol=tol, seed=seed, smallest=True if args.smallest else None,
            everything=True if args.all else None, method=args.method, progress=_say,
        )
    except ConvSpecError as error:
        raise UsageError(_in_command_terms(error)) from None
    if args.format == "latex":
        text = spectrum_latex(report, bins=bins, transposed=args.transposed)
    else:
        text = spectrum_text(report, bins=bins, transposed=args.transposed)
    emit(text, args.out)
    return 0


# C with more entries than this (as a dense count) gets a note before it starts.
_ANNOUNCED = 1 << 26


def _lanczos_to_the_end(args: argparse.Namespace, spec: ConvSpec) -> bool:
    """Whether the norm is Lanczos to its tolerance (long), not the bracket (seconds)."""
    from ..analysis.spectrum import choose_method

    if args.method == "iterative":
        return True
    if args.method != "auto" or args.all:
        return False
    try:
        return choose_method(spec, "largest", 1) == "iterative" and args.k not in (None, "1")
    except ConvSpecError:
        return False


def _say(text: str) -> None:
    print(f"spectrum: {text}", file=sys.stderr, flush=True)


def _in_command_terms(error: ConvSpecError) -> str:
    """A library refusal with its Python advice replaced by the command's options."""
    message = str(error)
    fact = message.split("; ")[0]
    if "DENSE_LIMIT" in message or "SHIFT_INVERT_LIMIT" in message:
        fact = fact.replace("DENSE_LIMIT = ", "the dense limit of ").replace(
            "SHIFT_INVERT_LIMIT = ", "the shift-invert limit of ")
        return (f"--all/--smallest: {fact}; "
                "give --method iterative for Lanczos (slow at the small end), or use "
                "--padding-mode circular for the exact FFT spectrum")
    if "maxiter" in message:
        return f"--tol: {fact}; give a larger --tol, like 1e-6"
    if message.startswith("method="):
        return f"--method: {fact}; give --method auto"
    return message


COMMAND = Command(
    "spectrum",
    "singular values, norm and condition number of C (the same for Cᵀ)",
    "spectrum --input 32x32 --kernel 3 --padding 1 --padding-mode circular "
    "--in-channels 16 --out-channels 16",
    add_arguments,
    run,
)
