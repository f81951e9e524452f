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

Geometry options (all commands but solve)
-----------------------------------------
``--input 4x4`` (also ``4,4`` or ``4`` for 1-D), ``--kernel 3`` or ``3x2``,
``--stride``, ``--dilation`` (an int for every dim, or one per dim),
``--padding`` (an int, one per dim like ``1x2``, or ``before:after`` pairs
per dim like ``1:0x2:1``; a single pair applies to every dim),
``--in-channels``, ``--out-channels``, ``--groups``. With ``--transposed``
the options are read as ``torch.nn.ConvTransposeNd`` arguments: ``--input``
is that layer's input, ``--output-padding`` is allowed and ``--padding``
must be symmetric.

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
sympy, torch or pdflatex.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import ConvSpecError, MemoryGuardError, OutputPathError, TransposeMatrixError
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
        help="int, per dim (1x2) or before:after per dim (1:0x2:1)",
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
    if isinstance(error, UsageError):
        return message
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
    padding = parse_padding(args.padding, len(shape))
    in_channels = _integer("--in-channels", args.in_channels, 1)
    out_channels = _integer("--out-channels", args.out_channels, 1)
    groups = _integer("--groups", args.groups, 1)
    try:
        if args.transposed:
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
        )
    except UsageError:
        raise
    except ConvSpecError as error:
        raise UsageError(_one_line(error, None)) from None


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
        from .render.tikz import check_drawable

        try:
            check_drawable(spec)
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
                   "out_channels", "groups", "transposed", "output_padding"):
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
    if format != "beamer" and args.out == "-" and _is_terminal(sys.stdout):
        raise UsageError(
            f"--out: '-' is a terminal; {format.upper()} data is not written to one: "
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
    page = html_page(spec, transposed=args.transposed)
    _emit(str(page), args.out)
    return 0


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


# --------------------------------------------------------------------------- entry point


def main(argv: list[str] | None = None) -> int:
    """Run ``python -m transpose_matrix``; return the exit status.

    0 on success, 1 when ``verify`` finds a failing check (or ``solve``
    finds nothing), 2 on bad input with one line on stderr.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help"):
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
