r"""``python -m transpose_matrix``: show, export, verify, figure and solve.

Commands
--------
show
    The matrix C of a convolution and its transpose Cᵀ in the terminal (or
    as LaTeX or JSON), with the geometry, the output-size arithmetic and the
    ``ConvTransposeNd`` call Cᵀ equals. Without options: the textbook case,
    a 4×4 input and a 3×3 kernel.
export
    A LaTeX article, or with ``--beamer`` a beamer talk (128 mm × 96 mm
    frames); with ``--fragment`` only its body (or frames), headed by the
    packages it needs. With ``--transposed`` the document narrates the
    transposed layer: its sizes, the sizes ``output_padding`` could choose,
    Cᵀ, the scatter and zero-insertion views.
verify
    C and Cᵀ against PyTorch (or the loop reference); exit status 1 when a
    check fails.
figure
    A TikZ figure, a cropped ``standalone`` document (or ``--fragment``):
    ``sparsity`` (C's pattern coloured by kernel tap) or ``placement`` (one
    kernel placement and the row of C it produces; with ``--transposed``,
    one input pixel of the transposed layer scattering its patch).

The command table
-----------------
Each command is one :class:`Command` in :data:`COMMANDS`: its name, help,
example, a function adding its options and one running it. The report text
itself is built by :mod:`transpose_matrix.render.report`.

solve
    The small layer configurations that take one size to another.
animate
    An animation, one frame per kernel placement: GIF, animated PNG or
    beamer overlays; ``--preset`` names a classic convolution-arithmetic one.
html
    One self-contained interactive page: hover a cell, its row or column of
    C lights up.
translate
    Another framework's transposed convolution (``keras``, ``jax``,
    ``onnx``) as the equivalent PyTorch call, plus the crop torch needs when
    one layer cannot express it, and the ConvSpec whose Cᵀ it computes.

Geometry options (all commands but solve)
-----------------------------------------
``--input 4x4`` (also ``4,4`` or ``4`` for 1-D), ``--kernel 3`` or ``3x2``,
``--stride``, ``--dilation`` (an int for every dim, or one per dim),
``--padding`` (an int, one per dim like ``1x2``, or ``before:after`` pairs
per dim like ``1:0x2:1``; a single pair applies to every dim),
``--in-channels``, ``--out-channels``, ``--groups``. ``--padding`` also
takes ``same`` or ``valid`` as ``torch.nn.ConvNd`` does, and
``--padding-mode zeros|reflect|replicate|circular`` is torch's
``padding_mode`` (``show``, ``export``, ``verify`` and ``figure sparsity``
draw the sums of weights it makes; ``figure placement``, ``animate`` and
``html`` draw zero padding only and say so). With ``--transposed`` the
options are read as ``torch.nn.ConvTransposeNd`` arguments: ``--input`` is
that layer's input, ``--output-padding`` is allowed, ``--padding`` must be
symmetric numbers and the padding mode zeros.

Output
------
``--out FILE`` writes through :func:`transpose_matrix.io.write_output`:
``--out -`` is standard output; a regular file is replaced atomically
(keeping its permission bits), a symbolic link's target is replaced and the
link kept, a character device or FIFO (``/dev/null``, ``/dev/stdout``, a
named pipe) is written through, never replaced. Animations (GIF, APNG) are
written the same way; their bytes are not sent to a terminal.

Errors and limits
-----------------
Bad input never prints a traceback: one line on stderr,
``transpose_matrix: error: --stride: ...``, naming the option, the value and
what is allowed, and exit status 2. Numbers are ASCII digits only (``٣`` and
``３`` are refused), read by :func:`transpose_matrix.shapes.parse_int`; any
entry above ``2**60`` is refused by its length, before conversion. Library
errors name the option through their ``field``; a result too large for
memory is refused before it is built, naming what to shrink.

Every command costs what it prints, or refuses first: the text and LaTeX
views compute only the entries they show, ``show --format json`` lists at
most :data:`MAX_JSON_ENTRIES` entries, ``show --full`` prints C of at most
:data:`MAX_FULL_CELLS` cells, figures draw kernels of at most 1,024 taps,
``html`` grids of at most 64 cells a side and ``animate`` at most 2,048
frames and :data:`MAX_ANIMATION_PIXELS` pixels in all.

Modules are imported inside the commands, so ``show`` does not pay for
torch or pdflatex (it does import sympy, which prints its size formula).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import __version__
from .errors import (
    ConvSpecError,
    MemoryGuardError,
    MissingDependencyError,
    OutputPathError,
    TransposeMatrixError,
)
from .shapes import MAX_INT, describe, parse_int

__all__ = ["COMMANDS", "Command", "build_parser", "main", "parse_dims", "parse_padding", "register"]

PROG = "transpose_matrix"

_SEPARATORS = r"[x×,]"
_DIMS = re.compile(rf"[0-9]+(?:{_SEPARATORS}[0-9]+){{0,2}}")
_PAD_ITEM = r"[0-9]+(?::-?[0-9]+)?"
_PADDING = re.compile(rf"{_PAD_ITEM}(?:{_SEPARATORS}{_PAD_ITEM}){{0,2}}")
_SIGNED = re.compile(r"-?[0-9]+")
_LONG_DIGITS = re.compile(r"[0-9]{31,}")

#: Most stored entries ``show --format json`` lists (one JSON triplet each,
#: about 40 bytes and 4 µs apiece): past it the command refuses, naming the
#: options to shrink, instead of printing hundreds of megabytes.
MAX_JSON_ENTRIES = 100_000

#: Most cells of C that ``show --full`` prints (C and Cᵀ: about 20 bytes a
#: cell as text); past it the command refuses instead of printing gigabytes.
MAX_FULL_CELLS = 250_000

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


class UsageError(ConvSpecError):
    """Bad command-line input; the message starts with the option it concerns."""


# --------------------------------------------------------------------------- parsing


def _shown(text: str) -> str:
    """``text`` quoted for a one-line message: long digit runs named by length, the rest cut."""
    return describe(
        _LONG_DIGITS.sub(lambda run: f"<a {len(run.group(0))}-digit integer>", text)
    )


def _bound(value: int) -> str:
    if abs(value) == MAX_INT:
        return f"{'-' if value < 0 else ''}2**60"
    return str(value)


def _refused(option: str, text: str, rule: str) -> UsageError:
    """The error for ``text`` that does not fit ``option``'s grammar."""
    if any(char.isdecimal() and not char.isascii() for char in text):
        rule = "write numbers with ASCII digits 0-9"
    return UsageError(f"{option}: {_shown(text)} is not allowed; {rule}")


def _entry(
    option: str, text: str, part: str, minimum: int, maximum: int = MAX_INT,
    *, single: bool = False,
) -> int:
    """One integer ``part`` (ASCII digits, optional sign) of ``text``, read by ``parse_int``.

    Bounds are checked before any conversion of a long number: a value
    beyond ``±2**60`` is refused by its length, never turned into an int.
    """
    what = "give a single integer" if single else "every entry must be"
    negative = part.lstrip().startswith("-")
    try:
        value = parse_int(option.lstrip("-").replace("-", "_"), part, -MAX_INT, maximum)
    except ConvSpecError:
        bound = f">= {_bound(minimum)}" if negative else f"<= {_bound(maximum)}"
        raise UsageError(f"{option}: {_shown(text)} is not allowed; {what} {bound}") from None
    if value < minimum:
        raise UsageError(f"{option}: {_shown(text)} is not allowed; {what} >= {_bound(minimum)}")
    return value


def _text(option: str, text: Any) -> str:
    if not isinstance(text, str):
        raise UsageError(f"{option}: {describe(text)} is not allowed; give it as text")
    return text


def parse_dims(option: str, text: str, minimum: int = 1) -> int | tuple[int, ...]:
    """An int, or one int per dim, from ``'3'``, ``'3x2'``, ``'3,2'`` or ``'3×2'``.

    Only ASCII digits: ``'٣'`` or a full-width ``'３'`` is refused, and so is
    any entry above ``2**60`` (by its length, without converting it).

    Examples
    --------
    >>> parse_dims("--kernel", "3"), parse_dims("--input", "4x4")
    (3, (4, 4))
    >>> parse_dims("--stride", "2.5")
    Traceback (most recent call last):
    ...
    transpose_matrix.cli.UsageError: --stride: '2.5' is not allowed; give an integer >= 1 \
or one per dim, like 2x1 (up to 3 dims)
    >>> parse_dims("--input", "9" * 5000)
    Traceback (most recent call last):
    ...
    transpose_matrix.cli.UsageError: --input: '<a 5000-digit integer>' is not allowed; \
every entry must be <= 2**60
    """
    cleaned = _text(option, text).strip()
    if not _DIMS.fullmatch(cleaned):
        raise _refused(
            option,
            text,
            f"give an integer >= {minimum} or one per dim, like 2x1 (up to 3 dims)",
        )
    values = tuple(
        _entry(option, text, part, minimum) for part in re.split(_SEPARATORS, cleaned)
    )
    return values[0] if len(values) == 1 else values


def parse_padding(text: str, ndim: int) -> Any:
    """Padding from ``'1'``, ``'1x2'`` or ``'before:after'`` pairs like ``'1:0x2:1'``.

    Returns an int, a tuple of ints (one per dim), or a tuple of ``(before,
    after)`` pairs; a single pair is repeated for every dim. ``after`` may be
    negative (it crops), ``before`` may not.

    Examples
    --------
    >>> parse_padding("1", 2), parse_padding("1x2", 2)
    (1, (1, 2))
    >>> parse_padding("1:0x2:1", 2), parse_padding("1:0", 2)
    (((1, 0), (2, 1)), ((1, 0), (1, 0)))
    """
    cleaned = _text("--padding", text).strip()
    if not _PADDING.fullmatch(cleaned):
        raise _refused(
            "--padding",
            text,
            "give an integer >= 0, one per dim like 1x2, or before:after pairs per dim "
            "like 1:0x2:1",
        )
    items = re.split(_SEPARATORS, cleaned)
    if not any(":" in item for item in items):
        values = tuple(_entry("--padding", text, item, 0) for item in items)
        return values[0] if len(values) == 1 else values
    pairs = []
    for item in items:
        before, _, after = item.partition(":")
        first = _entry("--padding", text, before, 0)
        pairs.append((first, _entry("--padding", text, after, -MAX_INT) if after else first))
    if len(pairs) == 1:
        pairs *= ndim
    return tuple(pairs)


def _integer(option: str, text: str, minimum: int, maximum: int = MAX_INT) -> int:
    """One integer in ``[minimum, maximum]`` from ``text`` (ASCII digits, optional sign)."""
    rule = f"give a single integer >= {_bound(minimum)}"
    if maximum != MAX_INT:
        rule += f" and <= {_bound(maximum)}"
    cleaned = _text(option, text).strip()
    if not _SIGNED.fullmatch(cleaned):
        raise _refused(option, text, rule)
    return _entry(option, text, cleaned, minimum, maximum, single=True)


# --------------------------------------------------------------------------- registry


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors raised as :class:`UsageError`."""

    def error(self, message: str) -> None:  # type: ignore[override]
        # argparse says "argument --x: ..."; the option name alone is clearer.
        message = re.sub(r"^argument ", "", message)
        if message.startswith(("unrecognized arguments", "the following arguments")):
            message += f"; see '{self.prog} --help' for what is allowed"
        raise UsageError(message)


@dataclass(frozen=True)
class Command:
    """One subcommand: its help line, an example, its options and what it runs.

    ``add_arguments(parser)`` declares the options; ``run(args)`` returns
    the exit status. A new command is one :func:`register` call.
    """

    name: str
    help: str
    example: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


#: Subcommands by name, in the order ``--help`` lists them.
COMMANDS: dict[str, Command] = {}


def register(command: Command) -> Command:
    """Add ``command`` to :data:`COMMANDS` (replacing one of the same name)."""
    COMMANDS[command.name] = command
    return command


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every registered command."""
    parser = _Parser(
        prog=PROG,
        description="Transposed convolution explained through its matrix C and Cᵀ.",
        epilog="example: python -m transpose_matrix show",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for command in COMMANDS.values():
        sub = commands.add_parser(
            command.name,
            help=command.help,
            description=command.help,
            epilog=f"example: python -m transpose_matrix {command.example}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        command.add_arguments(sub)
    return parser


# --------------------------------------------------------------------------- shared options


def _geometry(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "geometry (defaults: the textbook 4x4 input, 3x3 kernel, stride 1, no padding)"
    )
    group.add_argument("--input", default="4x4", metavar="SHAPE", help="spatial input, e.g. 4x4")
    group.add_argument("--kernel", default="3", metavar="K", help="kernel size, e.g. 3 or 3x2")
    group.add_argument("--stride", default="1", metavar="S")
    group.add_argument(
        "--padding",
        default="0",
        metavar="P",
        help="int, per dim (1x2), before:after per dim (1:0x2:1), or same / valid",
    )
    group.add_argument("--dilation", default="1", metavar="D")
    group.add_argument("--in-channels", default="1", metavar="N")
    group.add_argument("--out-channels", default="1", metavar="N")
    group.add_argument("--groups", default="1", metavar="G")
    group.add_argument(
        "--transposed",
        action="store_true",
        help="read the options as torch.nn.ConvTransposeNd arguments",
    )
    group.add_argument(
        "--output-padding", default=None, metavar="A", help="ConvTransposeNd only"
    )
    group.add_argument(
        "--padding-mode",
        default="zeros",
        choices=PADDING_MODES,
        help="what the padding holds, as torch's padding_mode (default zeros)",
    )


def _weights(parser: argparse.ArgumentParser, numeric: bool = True) -> None:
    if numeric:
        parser.add_argument(
            "--numeric", action="store_true", help="random numeric weights instead of symbols"
        )
    parser.add_argument("--seed", default="0", metavar="N", help="seed of random weights")


def _out(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out", default=None, metavar="FILE",
        help="write to FILE ('-': standard output; devices and pipes are written through)",
    )


# --------------------------------------------------------------------------- geometry


#: The option of each library argument (``error.field``), for one-line errors.
_FIELD_OPTIONS = {
    "input_shape": "--input",
    "kernel_size": "--kernel",
    "stride": "--stride",
    "padding": "--padding",
    "dilation": "--dilation",
    "in_channels": "--in-channels",
    "out_channels": "--out-channels",
    "groups": "--groups",
    "output_padding": "--output-padding",
    "padding_mode": "--padding-mode",
    "seed": "--seed",
    "output_index": "--index",
    "duration": "--duration",
    "n": "n",
    "m": "m",
}

#: What to shrink when a result would not fit in memory.
_SHRINK = "give a smaller --input or --kernel, or fewer --in-channels/--out-channels"


def _option_of(error: BaseException, default: str = "--input") -> str:
    """The option a library error is about, from its ``field`` (``default`` without one)."""
    if isinstance(error, OutputPathError):
        return "--out"
    field = getattr(error, "field", None)
    return _FIELD_OPTIONS.get(field, default) if field is not None else default


def _one_line(error: TransposeMatrixError, command: str | None) -> str:
    """The stderr line of ``error``: the option first, the library's facts after."""
    # One line: breaks become spaces; quoted values keep their own spacing.
    message = re.sub(r"\s*[\r\n]+\s*", " ", str(error)).strip()
    if isinstance(error, (UsageError, MissingDependencyError)):
        return message  # an install hint is about no option
    if isinstance(error, MemoryGuardError) and error.field is None:
        # Guard messages read "facts; a library way out": keep the facts and
        # give the way out a command-line user has.
        fact = message.split("; ")[0]
        where = f" for {command}" if command else ""
        return f"too large{where}: {fact}; {_SHRINK}"
    default = "solve" if command == "solve" else "--input"
    return f"{_option_of(error, default)}: {message}"


def spec_from_args(args: argparse.Namespace) -> Any:
    """The forward :class:`ConvSpec` the geometry options describe.

    Refused when C would have more rows or columns than 64-bit indices
    address: no view, figure or check of it can be drawn.
    """
    from .memory import check_index_range

    spec = _spec_from_args(args)
    check_index_range(spec.matrix_shape, what="C")
    return spec


def _spec_from_args(args: argparse.Namespace) -> Any:
    from .spec import ConvSpec

    shape = parse_dims("--input", args.input)
    shape = (shape,) if isinstance(shape, int) else shape
    kernel = parse_dims("--kernel", args.kernel)
    stride = parse_dims("--stride", args.stride)
    dilation = parse_dims("--dilation", args.dilation)
    padding = _padding_or_string(args, len(shape))
    in_channels = _integer("--in-channels", args.in_channels, 1)
    out_channels = _integer("--out-channels", args.out_channels, 1)
    groups = _integer("--groups", args.groups, 1)
    mode = getattr(args, "padding_mode", "zeros")
    try:
        if args.transposed:
            _plain_transposed(args, padding, mode)
            if isinstance(padding, tuple) and isinstance(padding[0], tuple):
                raise UsageError(
                    f"--padding: {_shown(args.padding)} is not allowed with --transposed; "
                    "ConvTransposeNd pads symmetrically: give an int or one per dim"
                )
            extra = 0
            if args.output_padding is not None:
                extra = parse_dims("--output-padding", args.output_padding, 0)
            return ConvSpec.from_transposed(
                shape,
                in_channels,
                out_channels,
                kernel,
                stride=stride,
                padding=padding,
                output_padding=extra,
                groups=groups,
                dilation=dilation,
            )
        if args.output_padding is not None:
            raise UsageError(
                f"--output-padding: {_shown(args.output_padding)} is only allowed with "
                "--transposed (it selects the output size of a ConvTransposeNd layer)"
            )
        return ConvSpec(
            shape,
            kernel,
            stride=stride,
            padding=padding,
            dilation=dilation,
            in_channels=in_channels,
            out_channels=out_channels,
            groups=groups,
            padding_mode=mode,
        )
    except UsageError:
        raise
    except ConvSpecError as error:
        raise UsageError(_one_line(error, None)) from None


# --------------------------------------------------------------------------- padding modes

#: torch's ``padding_mode`` values (as ``transpose_matrix.shapes.PADDING_MODES``,
#: spelled here so that building the parser imports nothing).
PADDING_MODES = ("zeros", "reflect", "replicate", "circular")

_PADDING_STRINGS = ("same", "valid")


def _padding_or_string(args: argparse.Namespace, ndim: int) -> Any:
    """``--padding``: ``'same'``/``'valid'`` as torch takes them, else :func:`parse_padding`."""
    text = args.padding.strip()
    if text in _PADDING_STRINGS:
        return text
    if re.fullmatch(r"[A-Za-z_]+", text):
        raise UsageError(
            f"--padding: {args.padding!r} is not allowed; give same or valid (torch's strings, "
            "lowercase), an integer >= 0, one per dim like 1x2, or before:after pairs per dim "
            "like 1:0x2:1"
        )
    return parse_padding(args.padding, ndim)


def _plain_transposed(args: argparse.Namespace, padding: Any, mode: str) -> None:
    """Refuse what torch's ``ConvTransposeNd`` does not take: string padding, padding modes."""
    if isinstance(padding, str):
        raise UsageError(
            f"--padding: {padding!r} is not allowed with --transposed; torch's "
            "ConvTransposeNd takes numbers only (it has no 'same' or 'valid')"
        )
    if mode != "zeros":
        raise UsageError(
            f"--padding-mode: {mode!r} is not allowed with --transposed; torch's "
            "ConvTransposeNd pads with zeros only (show the convolution to see its Cᵀ)"
        )


def _zero_padding_only(spec: Any, command: str) -> None:
    """Refuse a drawing of zero padding for a layer whose padding copies input entries."""
    if spec.padding_mode != "zeros":
        raise UsageError(
            f"--padding-mode: {command} draws zero padding only; with "
            f"{spec.padding_mode!r} an entry of C can sum several weights: use show, export, "
            "verify or figure sparsity"
        )


# --------------------------------------------------------------------------- commands


def _emit(text: str, out: str | None) -> None:
    """Print ``text`` (one final newline), or write it where ``--out`` says (``-``: stdout)."""
    text = text if text.endswith("\n") else text + "\n"
    if out is None:
        sys.stdout.write(text)
        return
    from .io import write_output

    try:
        write_output(out, text)
    except OutputPathError as error:
        raise UsageError(f"--out: {error}") from None


def _seed(args: argparse.Namespace) -> int | None:
    """The seed of random weights with ``--numeric``, None for symbolic weights."""
    seed = _integer("--seed", args.seed, 0)
    return seed if args.numeric else None


def _show_arguments(parser: argparse.ArgumentParser) -> None:
    _geometry(parser)
    _weights(parser)
    _out(parser)
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
    from .render import report

    spec = spec_from_args(args)
    seed = _seed(args)
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
        from .matrix import conv_matrix_nnz

        entries = conv_matrix_nnz(spec)
        if entries > MAX_JSON_ENTRIES:
            raise UsageError(
                f"--format: json lists every stored entry of C, and this C has {entries:,}, "
                f"above the limit of {MAX_JSON_ENTRIES:,}; {_SHRINK}, or use --format text"
            )
        text = report.show_json(spec, seed=seed)
    _emit(text, args.out)
    return 0


def _export_arguments(parser: argparse.ArgumentParser) -> None:
    _geometry(parser)
    _weights(parser)
    _out(parser)
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


def _run_export(args: argparse.Namespace) -> int:
    from .render import report

    spec = spec_from_args(args)
    seed = _seed(args)
    if args.beamer and args.derivations:
        raise UsageError(
            "--derivations: not available with --beamer (derivations are article sections)"
        )
    if args.derivations and spec.padding_mode != "zeros":
        raise UsageError(
            f"--derivations: not available with --padding-mode {spec.padding_mode} (the "
            "gradient derivation's sums are those of zero padding)"
        )
    if args.derivations:
        from .gradient import GRADIENT_MAX_ENTRIES

        rows, cols = spec.matrix_shape
        if rows * cols > GRADIENT_MAX_ENTRIES:
            # Refused before the output-size derivation is worked out in vain.
            raise UsageError(
                f"--derivations: the gradient derivation writes C out symbolically, at most "
                f"{GRADIENT_MAX_ENTRIES:,} cells, and this C has {rows:,} × {cols:,} = "
                f"{rows * cols:,}; give a smaller --input or --kernel, or leave out --derivations"
            )
    if not args.no_figures and spec.ndim <= 2:
        from .render.tikz import check_figure_size

        try:
            # The placement figure is drawn for zero padding only (report._figures).
            check_figure_size(spec, placement=spec.padding_mode == "zeros")
        except ConvSpecError as error:
            raise UsageError(
                f"{_one_line(error, 'export')}; or leave out the figures with --no-figures"
            ) from None
    text = report.export(
        spec,
        seed=seed,
        transposed=args.transposed,
        figures=not args.no_figures,
        derivations=args.derivations,
        beamer=args.beamer,
        fragment_only=args.fragment,
    )
    _emit(text, args.out)
    return 0


def _verify_arguments(parser: argparse.ArgumentParser) -> None:
    _geometry(parser)
    _weights(parser, numeric=False)
    parser.add_argument(
        "--no-torch", action="store_true", help="use the loop reference instead of PyTorch"
    )


def _run_verify(args: argparse.Namespace) -> int:
    spec = spec_from_args(args)
    seed = _integer("--seed", args.seed, 0)
    from .render.report import conv_call
    from .verification import verify

    report = verify(spec, seed=seed, use_torch=False if args.no_torch else None)
    print(f"Convolution: {conv_call(spec)}")
    print(report)
    return 0 if report.ok else 1


def _figure_arguments(parser: argparse.ArgumentParser) -> None:
    _geometry(parser)
    _out(parser)
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
    from .render import document, fragment, placement_figure, sparsity_figure

    if args.kind == "placement":
        _zero_padding_only(spec, "figure placement")
    if args.kind == "sparsity":
        picture = sparsity_figure(spec)
    else:
        index = parse_dims("--index", args.index, 0)
        picture = placement_figure(spec, index, transposed=args.transposed)
    if args.fragment:
        # Unindented, so a picture as wide as the line fits in a paragraph.
        _emit(fragment(f"\\noindent\n{picture}", what="figure"), args.out)
        return 0
    _emit(document(picture, kind="standalone"), args.out)
    return 0


def _solve_arguments(parser: argparse.ArgumentParser) -> None:
    _out(parser)
    parser.add_argument("n", help="input size along one dim")
    parser.add_argument("m", help="wanted output size")
    parser.add_argument("--conv", action="store_true", help="solve for Conv instead")
    for option in ("--kernel", "--stride", "--padding", "--dilation", "--output-padding"):
        parser.add_argument(option, default=None, metavar="V", help="pin this parameter")


def _run_solve(args: argparse.Namespace) -> int:
    from .solver import format_solutions, solve_sizes

    n = _integer("n", args.n, 1)
    m = _integer("m", args.m, 1)
    fixed = {}
    names = {
        "kernel": ("kernel_size", 1),
        "stride": ("stride", 1),
        "padding": ("padding", 0),
        "dilation": ("dilation", 1),
        "output_padding": ("output_padding", 0),
    }
    for attribute, (name, minimum) in names.items():
        value = getattr(args, attribute)
        if value is not None:
            fixed[name] = _integer(f"--{attribute.replace('_', '-')}", value, minimum)
    solutions = solve_sizes(n, m, transposed=not args.conv, **fixed)
    if not solutions:
        layer = "Conv" if args.conv else "ConvTranspose"
        _emit(f"no small {layer} layer takes {n} to {m}", args.out)
        return 1
    _emit(format_solutions(solutions), args.out)
    return 0


register(
    Command(
        "show",
        "print C, Cᵀ and what Cᵀ computes (default command)",
        "show --input 5x5 --kernel 3 --stride 2 --padding 1",
        _show_arguments,
        _run_show,
    )
)
register(
    Command(
        "export",
        "write a LaTeX document: an article, or beamer frames with --beamer",
        "export --input 4x4 --kernel 3 --out notes.tex   (--beamer: slides)",
        _export_arguments,
        _run_export,
    )
)
register(
    Command(
        "verify",
        "check C and Cᵀ against PyTorch",
        "verify --input 7 --kernel 3 --stride 2",
        _verify_arguments,
        _run_verify,
    )
)
register(
    Command(
        "figure",
        "write a TikZ figure",
        "figure placement --index 1,1 --out fig.tex",
        _figure_arguments,
        _run_figure,
    )
)
register(
    Command(
        "solve",
        "find layers that take one size to another",
        "solve 8 16   (ConvTranspose layers 8 -> 16)",
        _solve_arguments,
        _run_solve,
    )
)


def _animate_arguments(parser: argparse.ArgumentParser) -> None:
    from .render.animate import PRESETS

    _geometry(parser)
    _weights(parser)
    _out(parser)
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
    defaults = build_parser().parse_args(["animate"])
    for option in ("input", "kernel", "stride", "padding", "dilation", "in_channels",
                   "out_channels", "groups", "transposed", "output_padding", "padding_mode"):
        if getattr(args, option) != getattr(defaults, option):
            flag = "--" + option.replace("_", "-")
            raise UsageError(f"{flag}: not allowed with --preset (the preset fixes the geometry)")
    from .render.animate import preset

    chosen = preset(args.preset)
    view = args.view or chosen.view
    if (view == "gather") == chosen.transposed:
        raise UsageError(
            f"--view: {view!r} does not fit --preset {chosen.name}; use "
            + ("scatter or zero-insertion" if chosen.transposed else "gather")
        )
    return chosen.spec, view


def _run_animate(args: argparse.Namespace) -> int:
    from .render.animate import animate, format_of

    spec, view = _animation_spec(args)
    _zero_padding_only(spec, "animate")
    duration = _integer("--duration", args.duration, 10, MAX_DURATION)
    seed = _seed(args)
    try:
        format = args.format or (format_of(args.out) if args.out else None)
    except ConvSpecError as error:
        raise UsageError(f"--out: {error}, or give --format") from None
    if args.fragment and format is None:
        format = "beamer"
    if format != "beamer" and args.out is None:
        raise UsageError(
            "--out: give the file to write, e.g. --out conv.gif (or .png, .tex); "
            "beamer LaTeX alone may go to stdout"
        )
    if args.fragment and format != "beamer":
        raise UsageError("--fragment: only with beamer output (--format beamer or --out x.tex)")
    weight = None
    if args.numeric:
        from .verification import random_weight

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
        _emit(animation.beamer(fragment=args.fragment), args.out)
        return 0
    from .memory import check_memory

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
    from .io import write_output

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


def _html_arguments(parser: argparse.ArgumentParser) -> None:
    _geometry(parser)
    _out(parser)


def _run_html(args: argparse.Namespace) -> int:
    from .render.html import html_page

    spec = spec_from_args(args)
    _zero_padding_only(spec, "html")
    page = html_page(spec, transposed=args.transposed)
    _emit(str(page), args.out)
    return 0


def _spectrum(name: str) -> Callable[[Any], Any]:
    """``spectrum_cli``'s ``name``, imported when the parser is built or the command runs."""

    def call(value: Any) -> Any:
        from . import spectrum_cli

        return getattr(spectrum_cli, name)(value)

    return call


register(
    Command(
        "animate",
        "write an animation: GIF, animated PNG or beamer overlays",
        "animate --input 5x5 --kernel 3 --stride 2 --padding 1 --out conv.gif",
        _animate_arguments,
        _run_animate,
    )
)
register(
    Command(
        "html",
        "write an interactive HTML page of C and Cᵀ",
        "html --input 6x6 --kernel 3 --stride 2 --out conv.html",
        _html_arguments,
        _run_html,
    )
)
register(
    Command(
        "spectrum",
        "singular values, norm and condition number of C (the same for Cᵀ)",
        "spectrum --input 32x32 --kernel 3 --padding 1 --padding-mode circular "
        "--in-channels 16 --out-channels 16",
        _spectrum("add_arguments"),
        _spectrum("run"),
    )
)


# --------------------------------------------------------------------------- translate

_SHAPE = re.compile(rf"\d+(?:{_SEPARATORS}\d+){{0,9}}")


def _ints(
    option: str, text: str | None, minimum: int, *, lengths: range
) -> tuple[int, ...] | None:
    """Ints like ``1x8x8x4`` or ``1,1,1,1``, as many as ``lengths`` allows; None if absent."""
    if text is None:
        return None
    cleaned = text.strip()
    low, high = lengths.start, lengths.stop - 1
    count = f"{low}" if low == high else f"{low} to {high}"
    if not _SHAPE.fullmatch(cleaned):
        raise UsageError(
            f"{option}: {text!r} is not allowed; give {count} integers >= {minimum} "
            "separated by x or commas, like 1x8x8x4"
        )
    values = tuple(int(part) for part in re.split(_SEPARATORS, cleaned))
    if len(values) not in lengths:
        raise UsageError(
            f"{option}: {text!r} is not allowed; give {count} integers, not {len(values)}"
        )
    if min(values) < minimum:
        raise UsageError(f"{option}: {text!r} is not allowed; every entry must be >= {minimum}")
    return values


def _int_or_dims(option: str, text: str | None, minimum: int) -> int | tuple[int, ...] | None:
    """Keras' int-or-tuple arguments: ``3`` stays an int (every dim), ``3x2`` one per dim."""
    values = _ints(option, text, minimum, lengths=range(1, 4))
    return values[0] if values is not None and len(values) == 1 else values


def _translate_common(parser: argparse.ArgumentParser) -> None:
    _out(parser)
    parser.add_argument(
        "--format", default="text", choices=("text", "json"), help="the report as text or JSON"
    )
    parser.add_argument(
        "--code", action="store_true", help="print only the PyTorch code (x in, y out)"
    )


#: Per framework: the library's argument names (as errors and fields say them) -> options.
_TRANSLATE_OPTIONS = {
    "keras": {
        "input_shape": "--input", "filters": "--filters", "kernel_size": "--kernel-size",
        "strides": "--strides", "padding": "--padding", "output_padding": "--output-padding",
        "dilation_rate": "--dilation-rate", "data_format": "--data-format",
    },
    "jax": {
        "lhs_shape": "--lhs-shape", "rhs_shape": "--rhs-shape", "strides": "--strides",
        "padding": "--padding", "rhs_dilation": "--rhs-dilation",
        "dimension_numbers": "--dimension-numbers",
    },
    "onnx": {
        "input_shape": "--input", "weight_shape": "--weight", "auto_pad": "--auto-pad",
        "dilations": "--dilations", "group": "--group", "kernel_shape": "--kernel-shape",
        "output_padding": "--output-padding", "output_shape": "--output-shape",
        "pads": "--pads", "strides": "--strides",
    },
}

_TRANSLATE_EXAMPLES = {
    "keras": "translate keras --input 16x16 --in-channels 4 --filters 8 --kernel-size 3 "
    "--strides 2 --padding same",
    "jax": "translate jax --lhs-shape 1x8x8x4 --rhs-shape 3x3x4x8 --strides 2x2 --padding SAME",
    "onnx": "translate onnx --input 1x2x4x4 --weight 2x3x3x3 --strides 2x2 --auto-pad SAME_UPPER",
}


def _translate_arguments(parser: argparse.ArgumentParser) -> None:
    frameworks = parser.add_subparsers(dest="framework", metavar="FRAMEWORK", required=True)

    def framework(name: str, description: str) -> argparse.ArgumentParser:
        sub = frameworks.add_parser(
            name,
            help=description,
            description=description,
            epilog=f"example: python -m transpose_matrix {_TRANSLATE_EXAMPLES[name]}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        _translate_common(sub)
        return sub

    keras = framework("keras", "keras.layers.Conv{1,2,3}DTranspose (Keras 3)")
    keras.add_argument("--input", required=True, metavar="SHAPE",
                       help="spatial input of one sample, e.g. 8x8 (1 to 3 dims)")
    keras.add_argument("--in-channels", default="1", metavar="N", help="input channels")
    keras.add_argument("--filters", required=True, metavar="N", help="output channels")
    keras.add_argument("--kernel-size", required=True, metavar="K", help="e.g. 3 or 3x2")
    keras.add_argument("--strides", default="1", metavar="S")
    keras.add_argument("--padding", default="valid", choices=("valid", "same"))
    keras.add_argument("--output-padding", default=None, metavar="A",
                       help="default None (Keras infers it)")
    keras.add_argument("--dilation-rate", default="1", metavar="D")
    keras.add_argument("--data-format", default="channels_last",
                       choices=("channels_last", "channels_first"))

    jax = framework("jax", "jax.lax.conv_transpose (array shapes instead of arrays)")
    jax.add_argument("--lhs-shape", required=True, metavar="SHAPE",
                     help="the input's shape with batch and features, e.g. 1x8x8x4 (NHWC)")
    jax.add_argument("--rhs-shape", required=True, metavar="SHAPE",
                     help="the kernel's shape, e.g. 3x3x4x8 (HWIO)")
    jax.add_argument("--strides", required=True, metavar="S", help="one per spatial dim")
    jax.add_argument("--padding", required=True, metavar="P",
                     help="SAME, VALID, or (low, high) pairs per dim like 1:2x1:2")
    jax.add_argument("--rhs-dilation", default=None, metavar="D", help="one per spatial dim")
    jax.add_argument("--dimension-numbers", default=None, metavar="L,K,O",
                     help="layouts like NCHW,OIHW,NCHW (default NHWC,HWIO,NHWC)")
    jax.add_argument("--transpose-kernel", action="store_true",
                     help="the kernel is the forward convolution's (flip and swap I/O)")
    jax.add_argument("--use-consistent-padding", action="store_true",
                     help="read padding pairs as the forward convolution's")

    onnx = framework("onnx", "an ONNX ConvTranspose node (as onnx.reference computes it)")
    onnx.add_argument("--input", required=True, metavar="SHAPE",
                      help="X's shape, N x C x spatial or C x spatial, e.g. 1x2x4x4")
    onnx.add_argument("--weight", required=True, metavar="SHAPE",
                      help="W's shape, C x M/group x kernel, e.g. 2x3x3x3")
    onnx.add_argument("--strides", default=None, metavar="S")
    onnx.add_argument("--pads", default=None, metavar="P",
                      help="all begins then all ends, e.g. 1,1,1,1")
    onnx.add_argument("--auto-pad", default="NOTSET",
                      choices=("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"))
    onnx.add_argument("--output-shape", default=None, metavar="SHAPE", help="spatial, e.g. 8x8")
    onnx.add_argument("--output-padding", default=None, metavar="A")
    onnx.add_argument("--dilations", default=None, metavar="D")
    onnx.add_argument("--group", default="1", metavar="G")
    onnx.add_argument("--kernel-shape", default=None, metavar="K")


def _jax_padding_option(text: str) -> Any:
    cleaned = text.strip()
    if cleaned in ("SAME", "VALID"):
        return cleaned
    pair = r"-?\d+:-?\d+"
    if not re.fullmatch(rf"{pair}(?:{_SEPARATORS}{pair}){{0,2}}", cleaned):
        raise UsageError(
            f"--padding: {text!r} is not allowed; give SAME, VALID or one low:high pair per "
            "spatial dim, like 1:2x1:2"
        )
    return [tuple(int(v) for v in item.split(":")) for item in re.split(_SEPARATORS, cleaned)]


def _translation(args: argparse.Namespace) -> Any:
    """Call the library's translator with the framework's arguments from the options."""
    from .translate import translate_layer

    dims = range(1, 4)
    if args.framework == "keras":
        spatial = _ints("--input", args.input, 1, lengths=dims)
        channels = _integer("--in-channels", args.in_channels, 1)
        shape = (*spatial, channels) if args.data_format == "channels_last" else (
            channels, *spatial)
        return translate_layer(
            "keras",
            shape,
            filters=_integer("--filters", args.filters, 1),
            kernel_size=_int_or_dims("--kernel-size", args.kernel_size, 1),
            strides=_int_or_dims("--strides", args.strides, 1),
            padding=args.padding,
            output_padding=_int_or_dims("--output-padding", args.output_padding, 0),
            data_format=args.data_format,
            dilation_rate=_int_or_dims("--dilation-rate", args.dilation_rate, 1),
        )
    if args.framework == "jax":
        numbers = None
        if args.dimension_numbers is not None:
            numbers = tuple(part.strip() for part in args.dimension_numbers.split(","))
            if len(numbers) != 3 or not all(re.fullmatch(r"[A-Z]{3,5}", n) for n in numbers):
                raise UsageError(
                    f"--dimension-numbers: {args.dimension_numbers!r} is not allowed; give three "
                    "layouts of capital letters like NCHW,OIHW,NCHW"
                )
        return translate_layer(
            "jax",
            _ints("--lhs-shape", args.lhs_shape, 1, lengths=range(3, 6)),
            _ints("--rhs-shape", args.rhs_shape, 1, lengths=range(3, 6)),
            _ints("--strides", args.strides, 1, lengths=dims),
            _jax_padding_option(args.padding),
            rhs_dilation=_ints("--rhs-dilation", args.rhs_dilation, 1, lengths=dims),
            dimension_numbers=numbers,
            transpose_kernel=args.transpose_kernel,
            use_consistent_padding=args.use_consistent_padding,
        )
    pads = _ints("--pads", args.pads, 0, lengths=range(2, 7))
    return translate_layer(
        "onnx",
        _ints("--input", args.input, 1, lengths=range(2, 6)),
        _ints("--weight", args.weight, 1, lengths=range(3, 6)),
        auto_pad=args.auto_pad,
        dilations=_ints("--dilations", args.dilations, 1, lengths=dims),
        group=_integer("--group", args.group, 1),
        kernel_shape=_ints("--kernel-shape", args.kernel_shape, 1, lengths=dims),
        output_padding=_ints("--output-padding", args.output_padding, 0, lengths=dims),
        output_shape=_ints("--output-shape", args.output_shape, 1, lengths=dims),
        pads=pads,
        strides=_ints("--strides", args.strides, 1, lengths=dims),
    )


def _translation_option(framework: str, error: ConvSpecError) -> str:
    """The option a translator's error is about: its field, else the name it starts with."""
    options = _TRANSLATE_OPTIONS[framework]
    field = (getattr(error, "field", None) or "").split("[")[0]
    if field in options:
        return options[field]
    match = re.match(r"(?:dim \d+: )?([a-z_]+)", str(error))
    if match and match.group(1) in options:
        return options[match.group(1)]
    shapes = {"keras": "--input/--kernel-size/--strides/--padding",
              "jax": "--lhs-shape/--rhs-shape/--strides/--padding",
              "onnx": "--input/--weight/--strides/--pads"}
    return shapes[framework]


def _translation_json(translation: Any) -> str:
    import json

    from .render.report import spec_data

    def listed(value: Any) -> Any:
        if isinstance(value, tuple):
            return [listed(v) for v in value]
        return value

    data = {
        "framework": translation.framework,
        "layer": translation.layer,
        "input_shape": list(translation.input_shape),
        "output_shape": list(translation.output_shape),
        "torch_arguments": {key: listed(v) for key, v in translation.torch_arguments.items()},
        "crop": listed(translation.crop),
        "single_layer": translation.single_layer,
        "leading_zeros": list(translation.leading_zeros),
        "input_permutation": listed(translation.input_permutation),
        "output_permutation": listed(translation.output_permutation),
        "kernel": translation.kernel,
        "torch_code": translation.torch_code(),
        "spec": spec_data(translation.spec),
        "notes": list(translation.notes),
    }
    return json.dumps(data, indent=1)


def _run_translate(args: argparse.Namespace) -> int:
    if args.code and args.format == "json":
        raise UsageError("--code: not allowed with --format json (the JSON holds torch_code)")
    try:
        translation = _translation(args)
    except UsageError:
        raise
    except ConvSpecError as error:
        option = _translation_option(args.framework, error)
        raise UsageError(f"{option}: {error}") from None
    if args.code:
        text = translation.torch_code()
    elif args.format == "json":
        text = _translation_json(translation)
    else:
        text = str(translation)
    _emit(text, args.out)
    return 0


register(
    Command(
        "translate",
        "another framework's transposed convolution as PyTorch and a ConvSpec",
        _TRANSLATE_EXAMPLES["keras"] + "\n         python -m transpose_matrix "
        + _TRANSLATE_EXAMPLES["jax"] + "\n         python -m transpose_matrix "
        + _TRANSLATE_EXAMPLES["onnx"],
        _translate_arguments,
        _run_translate,
    )
)


# --------------------------------------------------------------------------- entry point


def main(argv: list[str] | None = None) -> int:
    """Run ``python -m transpose_matrix``; return the exit status.

    0 on success, 1 when ``verify`` finds a failing check (or ``solve``
    finds nothing), 2 on bad input with one line on stderr.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version"):
        argv = ["show", *argv]
    parser = build_parser()
    command = None
    try:
        args = parser.parse_args(argv)
        command = args.command
        return COMMANDS[command].run(args)
    except SystemExit as done:  # --help
        return int(done.code or 0)
    except TransposeMatrixError as error:
        print(f"{PROG}: error: {_one_line(error, command)}", file=sys.stderr)
        return 2
    except MemoryError:
        # The guard estimates C before building it; this catches what it
        # cannot foresee, still as one line.
        print(f"{PROG}: error: out of memory for this geometry; {_SHRINK}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `show | head` closed the pipe; that's the reader's choice, not an error.
        sys.stderr.close()
        return 0
