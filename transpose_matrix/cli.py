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

Errors
------
Bad input never prints a traceback: one line on stderr,
``transpose_matrix: error: --stride: ...``, naming the option, the value and
what is allowed, and exit status 2. User text is parsed with regular
expressions and ``int`` only.

Modules are imported inside the commands, so ``show`` does not pay for
torch or pdflatex (it does import sympy, which prints its size formula).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import ConvSpecError, TransposeMatrixError

__all__ = ["COMMANDS", "Command", "build_parser", "main", "parse_dims", "parse_padding", "register"]

PROG = "transpose_matrix"

_SEPARATORS = r"[x×,]"
_DIMS = re.compile(rf"\d+(?:{_SEPARATORS}\d+){{0,2}}")
_PAD_ITEM = r"\d+(?::-?\d+)?"
_PADDING = re.compile(rf"{_PAD_ITEM}(?:{_SEPARATORS}{_PAD_ITEM}){{0,2}}")


class UsageError(ConvSpecError):
    """Bad command-line input; the message starts with the option it concerns."""


# --------------------------------------------------------------------------- parsing


def parse_dims(option: str, text: str, minimum: int = 1) -> int | tuple[int, ...]:
    """An int, or one int per dim, from ``'3'``, ``'3x2'``, ``'3,2'`` or ``'3×2'``.

    Examples
    --------
    >>> parse_dims("--kernel", "3"), parse_dims("--input", "4x4")
    (3, (4, 4))
    >>> parse_dims("--stride", "2.5")
    Traceback (most recent call last):
    ...
    transpose_matrix.cli.UsageError: --stride: '2.5' is not allowed; give an integer >= 1 \
or one per dim, like 2x1 (up to 3 dims)
    """
    cleaned = text.strip()
    if not _DIMS.fullmatch(cleaned):
        raise UsageError(
            f"{option}: {text!r} is not allowed; give an integer >= {minimum} or one per "
            "dim, like 2x1 (up to 3 dims)"
        )
    values = tuple(int(part) for part in re.split(_SEPARATORS, cleaned))
    for value in values:
        if value < minimum:
            raise UsageError(f"{option}: {text!r} is not allowed; every entry must be >= {minimum}")
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
    cleaned = text.strip()
    if not _PADDING.fullmatch(cleaned):
        raise UsageError(
            f"--padding: {text!r} is not allowed; give an integer >= 0, one per dim like "
            "1x2, or before:after pairs per dim like 1:0x2:1"
        )
    items = re.split(_SEPARATORS, cleaned)
    if not any(":" in item for item in items):
        values = tuple(int(item) for item in items)
        return values[0] if len(values) == 1 else values
    pairs = []
    for item in items:
        before, _, after = item.partition(":")
        pairs.append((int(before), int(after or before)))
    if len(pairs) == 1:
        pairs *= ndim
    return tuple(pairs)


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
    parser.add_argument("--out", default=None, metavar="FILE", help="write to FILE")


# --------------------------------------------------------------------------- geometry


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
}


def _option_of(message: str) -> str:
    """The option a library error message is about (by the field it starts with)."""
    match = re.match(r"(?:dim \d+: )?([a-z_]+)", message)
    if match and match.group(1) in _FIELD_OPTIONS:
        return _FIELD_OPTIONS[match.group(1)]
    if "groups" in message:
        return "--groups"
    return "--input/--kernel/--stride/--padding/--dilation"


def _integer(option: str, text: str, minimum: int) -> int:
    if not re.fullmatch(r"\s*[+-]?\d+\s*", text) or int(text) < minimum:
        raise UsageError(f"{option}: {text!r} is not allowed; give a single integer >= {minimum}")
    return int(text)


def spec_from_args(args: argparse.Namespace) -> Any:
    """The forward :class:`ConvSpec` the geometry options describe."""
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
                    f"--padding: {args.padding!r} is not allowed with --transposed; "
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
                f"--output-padding: {args.output_padding!r} is only allowed with --transposed "
                "(it selects the output size of a ConvTransposeNd layer)"
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
        raise UsageError(f"{_option_of(str(error))}: {error}") from None


# --------------------------------------------------------------------------- commands


def _emit(text: str, out: str | None) -> None:
    if out is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    from .io import write_text_atomic

    try:
        write_text_atomic(out, text if text.endswith("\n") else text + "\n")
    except TransposeMatrixError as error:
        raise UsageError(f"--out: {error}") from None


def _seed(args: argparse.Namespace) -> int | None:
    """The seed of random weights with ``--numeric``, None for symbolic weights."""
    seed = _integer("--seed", args.seed, 0)
    return seed if args.numeric else None


def _show_arguments(parser: argparse.ArgumentParser) -> None:
    _geometry(parser)
    _weights(parser)
    _out(parser)
    parser.add_argument("--format", default="text", choices=("text", "latex", "json"))
    parser.add_argument("--full", action="store_true", help="never elide a matrix")


def _run_show(args: argparse.Namespace) -> int:
    from .render import report

    spec = spec_from_args(args)
    seed = _seed(args)
    if args.format == "text":
        text = report.show_text(spec, seed=seed, transposed=args.transposed, full=args.full)
    elif args.format == "latex":
        text = report.show_latex(spec, seed=seed, full=args.full, transposed=args.transposed)
    else:
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

    try:
        if args.kind == "sparsity":
            picture = sparsity_figure(spec)
        else:
            index = parse_dims("--index", args.index, 0)
            picture = placement_figure(spec, index, transposed=args.transposed)
    except ConvSpecError as error:
        option = "--index" if "output_index" in str(error) else "--input"
        raise UsageError(f"{option}: {error}") from None
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
    try:
        solutions = solve_sizes(n, m, transposed=not args.conv, **fixed)
    except ConvSpecError as error:
        raise UsageError(f"solve: {error}") from None
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
    parser.add_argument("--duration", default="700", metavar="MS", help="milliseconds per frame")


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
    duration = _integer("--duration", args.duration, 10)
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

        weight = random_weight(spec, _integer("--seed", args.seed, 0))
    try:
        animation = animate(spec, view, weight=weight, duration=duration)
    except ConvSpecError as error:
        raise UsageError(f"--input: {error}") from None
    if format == "beamer":
        _emit(animation.beamer(fragment=args.fragment), args.out)
        return 0
    try:
        size = animation.save(args.out, format).stat().st_size
    except OSError as error:
        raise UsageError(f"--out: {args.out!r} cannot be written: {error.strerror}") from None
    print(f"{args.out}: {len(animation)} frames, {format.upper()}, {-(-size // 1024)} KB")
    return 0


def _html_arguments(parser: argparse.ArgumentParser) -> None:
    _geometry(parser)
    _out(parser)


def _run_html(args: argparse.Namespace) -> int:
    from .render.html import html_page

    spec = spec_from_args(args)
    try:
        page = html_page(spec, transposed=args.transposed)
    except ConvSpecError as error:
        raise UsageError(f"--input: {error}") from None
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
    try:
        args = parser.parse_args(argv)
        return COMMANDS[args.command].run(args)
    except SystemExit as done:  # --help
        return int(done.code or 0)
    except TransposeMatrixError as error:
        message = " ".join(str(error).split())
        print(f"{PROG}: error: {message}", file=sys.stderr)
        return 2
    except MemoryError:
        # The guard estimates C before building it; this catches what it
        # cannot foresee (e.g. a huge derivation), still as one line.
        print(
            f"{PROG}: error: out of memory for this geometry; try a smaller --input or "
            "fewer channels",
            file=sys.stderr,
        )
        return 2
    except BrokenPipeError:
        # `show | head` closed the pipe; that's the reader's choice, not an error.
        sys.stderr.close()
        return 0
