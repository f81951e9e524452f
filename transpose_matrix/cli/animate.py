"""``animate``: one frame per kernel placement, as GIF, animated PNG or beamer overlays.

The frames are :mod:`transpose_matrix.render.frames`'; ``--preset`` names a
classic convolution-arithmetic animation.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from ..errors import (
    ConvSpecError,
    OutputPathError,
)
from .options import (
    Command,
    UsageError,
    emit,
    geometry_options,
    integer,
    out_option,
    seed_of,
    spec_from_args,
    weight_options,
    zero_padding_only,
)

__all__ = ["COMMAND", "MAX_ANIMATION_CELLS", "MAX_ANIMATION_PIXELS", "MAX_DURATION"]

#: Most pixels ``animate`` draws over all frames of a GIF or APNG: every
#: frame is held while the file is written (about 8 bytes a pixel at peak,
#: 2**26 pixels about 0.5 GiB and a few seconds).
MAX_ANIMATION_PIXELS = 2**26

#: Most cell drawings of ``animate`` (frames × the cells of both grids,
#: at least C's rows plus columns), checked before the frames are modelled.
MAX_ANIMATION_CELLS = 2**24

#: Longest frame of ``animate --duration`` in milliseconds (GIF stores a
#: frame's delay in 16 bits of centiseconds, 655,350 ms).
MAX_DURATION = 10_000


def _animate_arguments(parser: argparse.ArgumentParser) -> None:
    from ..render.animate import PRESETS

    geometry_options(parser)
    weight_options(parser)
    out_option(parser)
    parser.add_argument(
        "--preset", default=None, choices=tuple(PRESETS), metavar="NAME",
        help="a classic convolution-arithmetic animation (see the README); "
        "replaces the geometry options",
    )
    parser.add_argument(
        "--view", default=None, choices=("gather", "scatter", "zero-insertion"),
        help="gather (a convolution); with --transposed scatter (default) or zero-insertion",
    )
    parser.add_argument(
        "--format", default=None, choices=("gif", "apng", "beamer"),
        help="default: from the --out extension (.gif, .png/.apng, .tex)",
    )
    parser.add_argument(
        "--fragment", action="store_true", help="beamer: only the frame, for \\input into a talk"
    )
    parser.add_argument(
        "--duration", default="700", metavar="MS",
        help=f"milliseconds per frame (10 to {MAX_DURATION:,})",
    )


def _animation_spec(args: argparse.Namespace) -> tuple[Any, str]:
    """The spec and view of ``animate``: from ``--preset`` or the geometry options."""
    if args.preset is None:
        spec = spec_from_args(args)
        view = args.view or ("scatter" if args.transposed else "gather")
        if (view == "gather") == args.transposed:
            raise UsageError(
                f"--view: {view!r} is not allowed "
                + ("with --transposed; use scatter or zero-insertion" if args.transposed
                   else "without --transposed (it animates a ConvTransposeNd layer)")
            )
        return spec, view
    probe = argparse.ArgumentParser()
    _animate_arguments(probe)
    defaults = probe.parse_args([])
    for option in ("input", "kernel", "stride", "padding", "dilation", "in_channels",
                   "out_channels", "groups", "transposed", "output_padding", "padding_mode"):
        if getattr(args, option) != getattr(defaults, option):
            flag = "--" + option.replace("_", "-")
            raise UsageError(f"{flag}: not allowed with --preset (the preset fixes the geometry)")
    from ..render.animate import preset

    chosen = preset(args.preset)
    view = args.view or chosen.view
    if (view == "gather") == chosen.transposed:
        raise UsageError(
            f"--view: {view!r} does not fit --preset {chosen.name}; use "
            + ("scatter or zero-insertion" if chosen.transposed else "gather")
        )
    return chosen.spec, view


def _run_animate(args: argparse.Namespace) -> int:
    from ..render.animate import animate, format_of

    spec, view = _animation_spec(args)
    zero_padding_only(spec, "animate")
    duration = integer("--duration", args.duration, 10, MAX_DURATION)
    seed = seed_of(args)
    try:
        format = args.format or (format_of(args.out) if args.out else None)
    except ConvSpecError as error:
        raise UsageError(f"--out: {error}, or give --format") from None
    if args.fragment and format is None:
        format = "beamer"
    if format is None or format != "beamer" and args.out is None:
        raise UsageError(
            "--out: give the file to write, e.g. --out conv.gif (or .png, .tex); "
            "beamer LaTeX alone may go to stdout"
        )
    if args.fragment and format != "beamer":
        raise UsageError("--fragment: only with beamer output (--format beamer or --out x.tex)")
    weight = None
    if seed is not None:
        from ..analysis.verification import random_weight

        weight = random_weight(spec, seed)
    if format != "beamer" and _is_standard_output(args.out) and _is_terminal(sys.stdout):
        raise UsageError(
            f"--out: {args.out!r} is a terminal; {format.upper()} data is not written to one: "
            "redirect standard output or give a file name"
        )
    rows, cols = spec.matrix_shape
    frames = cols if view == "zero-insertion" else rows
    if frames * (rows + cols) > MAX_ANIMATION_CELLS:
        raise UsageError(
            f"--input: the animation would draw {frames:,} frames of at least "
            f"{rows + cols:,} cells each, above the limit of {MAX_ANIMATION_CELLS:,} cells in "
            "all; animate a smaller layer"
        )
    animation = animate(spec, view, weight=weight, duration=duration)
    if format == "beamer":
        emit(animation.beamer(fragment=args.fragment), args.out)
        return 0
    from ..memory import check_memory

    layout = animation.layout  # pixel sizes only; nothing drawn yet
    pixels = len(animation) * layout.width * layout.height
    if pixels > MAX_ANIMATION_PIXELS:
        raise UsageError(
            f"--input: the {format.upper()} would draw {len(animation):,} frames of "
            f"{layout.width:,} × {layout.height:,} pixels = {pixels:,}, above the limit of "
            f"{MAX_ANIMATION_PIXELS:,}; animate a smaller layer, or write beamer overlays "
            "(--format beamer)"
        )
    check_memory(8 * pixels, what=f"the {format.upper()}'s frames")
    from ..io import write_output

    data = animation.to_bytes(format)
    try:
        write_output(args.out, data)
    except OutputPathError as error:
        raise UsageError(f"--out: {error}") from None
    if not _is_standard_output(args.out):
        size = -(-len(data) // 1024)
        print(f"{args.out}: {len(animation)} frames, {format.upper()}, {size} KB")
    return 0


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def _is_standard_output(out: str) -> bool:
    """Whether ``out`` is where the summary line would go (``-``, /dev/stdout, a redirect)."""
    if out == "-":
        return True
    try:
        written, stdout = os.stat(out), os.fstat(sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        return False
    return (written.st_dev, written.st_ino) == (stdout.st_dev, stdout.st_ino)


COMMAND = (
    Command(
        "animate",
        "write an animation: GIF, animated PNG or beamer overlays",
        "animate --input 5x5 --kernel 3 --stride 2 --padding 1 --out conv.gif",
        _animate_arguments,
        _run_animate,
    )
)

