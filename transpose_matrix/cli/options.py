"""Everything the commands share: number and shape parsing, the geometry,
weight and ``--out`` options, the spec they describe, one-line errors and the
command record.

A command module declares its options with these helpers, builds its spec with
:func:`spec_from_args`, calls the library and prints with :func:`emit`, which
names a file it wrote on stderr (:func:`report_written`, for every command that
writes one). Library
errors become one line through :func:`one_line`, which names the option from
the error's ``field``. Nothing here imports more than the standard library and
the package's errors and shapes, so building the parser stays cheap.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import (
    ConvSpecError,
    MemoryGuardError,
    MissingDependencyError,
    OutputPathError,
    TransposeMatrixError,
)
from ..geometry.padding import (
    PADDING_MODES,
    PADDING_STRINGS,
    copies_input,
    require_transposed_layer,
    require_zero_padding,
)
from ..geometry.shapes import MAX_INT, describe, parse_int, power_text

__all__ = [
    "Command",
    "FIELD_OPTIONS",
    "PADDING_MODES",
    "PROG",
    "Parser",
    "SEPARATORS",
    "SHRINK",
    "UsageError",
    "emit",
    "geometry_options",
    "integer",
    "is_standard_output",
    "one_line",
    "option_of",
    "out_option",
    "parse_dims",
    "parse_padding",
    "parse_seed",
    "report_written",
    "seed_of",
    "shown",
    "size_text",
    "spec_from_args",
    "weight_options",
    "zero_padding_only",
]

PROG = "transpose_matrix"

SEPARATORS = r"[x×,]"
_DIMS = re.compile(rf"[0-9]+(?:{SEPARATORS}[0-9]+){{0,2}}")
_PAD_ITEM = r"[0-9]+(?::-?[0-9]+)?"
_PADDING = re.compile(rf"{_PAD_ITEM}(?:{SEPARATORS}{_PAD_ITEM}){{0,2}}")
_SIGNED = re.compile(r"-?[0-9]+")
_LONG_DIGITS = re.compile(r"[0-9]{31,}")



class UsageError(ConvSpecError):
    """Bad command-line input; the message starts with the option it concerns."""


# --------------------------------------------------------------------------- parsing


def shown(text: str) -> str:
    """``text`` quoted for a one-line message: long digit runs named by length, the rest cut."""
    return describe(
        _LONG_DIGITS.sub(lambda run: f"<a {len(run.group(0))}-digit integer>", text)
    )


def _bound(value: int) -> str:
    return power_text(value) or str(value)


def _refused(option: str, text: str, rule: str) -> UsageError:
    """The error for ``text`` that does not fit ``option``'s grammar."""
    if any(char.isdecimal() and not char.isascii() for char in text):
        rule = "write numbers with ASCII digits 0-9"
    return UsageError(f"{option}: {shown(text)} is not allowed; {rule}")


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
        raise UsageError(f"{option}: {shown(text)} is not allowed; {what} {bound}") from None
    if value < minimum:
        raise UsageError(f"{option}: {shown(text)} is not allowed; {what} >= {_bound(minimum)}")
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
    transpose_matrix.cli.options.UsageError: --stride: '2.5' is not allowed; give an integer >= 1 \
or one per dim, like 2x1 (up to 3 dims)
    >>> parse_dims("--input", "9" * 5000)
    Traceback (most recent call last):
    ...
    transpose_matrix.cli.options.UsageError: --input: '<a 5000-digit integer>' is not allowed; \
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
        _entry(option, text, part, minimum) for part in re.split(SEPARATORS, cleaned)
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
    items = re.split(SEPARATORS, cleaned)
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


def integer(option: str, text: str, minimum: int, maximum: int = MAX_INT) -> int:
    """One integer in ``[minimum, maximum]`` from ``text`` (ASCII digits, optional sign)."""
    rule = f"give a single integer >= {_bound(minimum)}"
    if maximum != MAX_INT:
        rule += f" and <= {_bound(maximum)}"
    cleaned = _text(option, text).strip()
    if not _SIGNED.fullmatch(cleaned):
        raise _refused(option, text, rule)
    return _entry(option, text, cleaned, minimum, maximum, single=True)


# --------------------------------------------------------------------------- registry


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors raised as :class:`UsageError`, and no abbreviations.

    ``allow_abbrev=False`` on every parser (subcommands are built with this
    class too): ``--strid 2`` is an unknown option, never ``--stride``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

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


# --------------------------------------------------------------------------- shared options


def geometry_options(parser: argparse.ArgumentParser) -> None:
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


def weight_options(parser: argparse.ArgumentParser, numeric: bool = True) -> None:
    if numeric:
        parser.add_argument(
            "--numeric", action="store_true", help="random numeric weights instead of symbols"
        )
    parser.add_argument("--seed", default="0", metavar="N", help="seed of random weights")


def out_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out", default=None, metavar="FILE",
        help="write to FILE ('-': standard output; devices and pipes are written through)",
    )


# --------------------------------------------------------------------------- geometry


#: The option of each library argument (``error.field``), for one-line errors.
FIELD_OPTIONS = {
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
    "rows": "--rows",
    "cols": "--cols",
    "duration": "--duration",
    "n": "n",
    "m": "m",
}

#: What to shrink when a result would not fit in memory.
SHRINK = "give a smaller --input or --kernel, or fewer --in-channels/--out-channels"


def option_of(error: BaseException, default: str = "--input") -> str:
    """The option a library error is about, from its ``field`` (``default`` without one)."""
    if isinstance(error, OutputPathError):
        return "--out"
    field = getattr(error, "field", None)
    return FIELD_OPTIONS.get(field, default) if field is not None else default


def one_line(error: TransposeMatrixError, command: str | None) -> str:
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
        return f"too large{where}: {fact}; {SHRINK}"
    default = "solve" if command == "solve" else "--input"
    return f"{option_of(error, default)}: {message}"


def spec_from_args(args: argparse.Namespace) -> Any:
    """The forward :class:`ConvSpec` the geometry options describe.

    Refused when C would have more rows or columns than 64-bit indices
    address: no view, figure or check of it can be drawn.
    """
    from ..memory import check_index_range

    spec = _spec_from_args(args)
    check_index_range(spec.matrix_shape, what="C")
    return spec


def _spec_from_args(args: argparse.Namespace) -> Any:
    from ..geometry.spec import ConvSpec

    shape = parse_dims("--input", args.input)
    shape = (shape,) if isinstance(shape, int) else shape
    kernel = parse_dims("--kernel", args.kernel)
    stride = parse_dims("--stride", args.stride)
    dilation = parse_dims("--dilation", args.dilation)
    padding = _padding_or_string(args, len(shape))
    in_channels = integer("--in-channels", args.in_channels, 1)
    out_channels = integer("--out-channels", args.out_channels, 1)
    groups = integer("--groups", args.groups, 1)
    mode = getattr(args, "padding_mode", "zeros")
    try:
        if args.transposed:
            _plain_transposed(args, padding, mode)
            if isinstance(padding, tuple) and isinstance(padding[0], tuple):
                raise UsageError(
                    f"--padding: {shown(args.padding)} is not allowed with --transposed; "
                    "ConvTransposeNd pads symmetrically: give an int or one per dim"
                )
            extra: int | tuple[int, ...] = 0
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
                f"--output-padding: {shown(args.output_padding)} is only allowed with "
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
        raise UsageError(one_line(error, None)) from None


# --------------------------------------------------------------------------- padding modes

# PADDING_MODES and PADDING_STRINGS come from transpose_matrix.geometry.padding,
# which imports nothing heavy, so building the parser stays cheap.


def _padding_or_string(args: argparse.Namespace, ndim: int) -> Any:
    """``--padding``: ``'same'``/``'valid'`` as torch takes them, else :func:`parse_padding`."""
    text = args.padding.strip()
    if text in PADDING_STRINGS:
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
    if copies_input(mode):
        try:
            require_transposed_layer(mode, "drop --transposed: show the convolution to see its Cᵀ")
        except ConvSpecError as error:
            raise UsageError(one_line(error, None)) from None


def zero_padding_only(spec: Any, command: str) -> None:
    """Refuse a drawing of zero padding for a layer whose padding copies input entries."""
    try:
        require_zero_padding(spec, command)
    except ConvSpecError as error:
        raise UsageError(one_line(error, None)) from None


# --------------------------------------------------------------------------- commands


def emit(text: str, out: str | None, what: str | None = None) -> None:
    """Print ``text`` (one final newline), or write it where ``--out`` says (``-``: stdout).

    With ``what``, a file written is then named on stderr by :func:`report_written`.
    """
    text = text if text.endswith("\n") else text + "\n"
    if out is None:
        sys.stdout.write(text)
        return
    from ..io import write_output

    try:
        write_output(out, text)
    except OutputPathError as error:
        raise UsageError(f"--out: {error}") from None
    if what is not None:
        report_written(out, what, text)


def size_text(size: int) -> str:
    """``size`` bytes for people: ``1 byte``, ``812 bytes``, ``12 KB`` (rounded up), ``3.4 MB``.

    Examples
    --------
    >>> size_text(1), size_text(1023), size_text(1025), size_text(5 * 2**20)
    ('1 byte', '1023 bytes', '2 KB', '5.0 MB')
    """
    from ..narrative.markup import counted

    if size < 1024:
        return counted(size, "byte")
    if size < 2**20:
        return f"{-(-size // 1024):,} KB"
    return f"{size / 2**20:,.1f} MB"


def is_standard_output(out: str) -> bool:
    """Whether ``--out`` is standard output: ``-``, /dev/stdout, or the file stdout goes to."""
    return out == "-" or _same_file(out, sys.stdout)


def _same_file(out: str, stream: Any) -> bool:
    try:
        written, standard = os.stat(out), os.fstat(stream.fileno())
    except (OSError, ValueError, AttributeError):
        return False
    return (written.st_dev, written.st_ino) == (standard.st_dev, standard.st_ino)


def report_written(out: str, what: str, content: str | bytes) -> None:
    """Say on stderr what ``--out`` received: ``notes.tex: LaTeX article, 14 KB``.

    Stderr, because ``--out -`` writes the document itself to stdout. Nothing
    is said when ``out`` is standard output or standard error (the line would
    land in, or beside, the document itself).
    """
    if is_standard_output(out) or _same_file(out, sys.stderr):
        return
    size = len(content.encode("utf-8")) if isinstance(content, str) else len(content)
    print(f"{out}: {what}, {size_text(size)}", file=sys.stderr)


def seed_of(args: argparse.Namespace) -> int | None:
    """The seed of random weights with ``--numeric``, None for symbolic weights."""
    seed = parse_seed(args.seed)
    return seed if args.numeric else None


def parse_seed(text: str) -> int:
    """``--seed``: an integer from 0 to ``2**128 - 1``, as numpy's ``default_rng`` takes."""
    from ..analysis.verification import MAX_SEED

    return integer("--seed", text, 0, MAX_SEED)

