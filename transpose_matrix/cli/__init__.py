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
``３`` are refused), read by :func:`transpose_matrix.geometry.shapes.parse_int`; any
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
import sys

from .. import __version__
from ..errors import TransposeMatrixError
from . import animate, export, figure, html, show, solve, spectrum, translate, verify
from .options import (
    PROG,
    SHRINK,
    Command,
    Parser,
    UsageError,
    one_line,
    parse_dims,
    parse_padding,
    spec_from_args,
)
from .show import MAX_JSON_ENTRIES

__all__ = [
    "COMMANDS",
    "MAX_JSON_ENTRIES",
    "Command",
    "UsageError",
    "build_parser",
    "main",
    "parse_dims",
    "parse_padding",
    "register",
    "spec_from_args",
]

#: Subcommands by name, in the order ``--help`` lists them.
COMMANDS: dict[str, Command] = {
    module.COMMAND.name: module.COMMAND
    for module in (show, export, verify, figure, solve, animate, html, spectrum, translate)
}


def register(command: Command) -> Command:
    """Add ``command`` to :data:`COMMANDS` (replacing one of the same name)."""
    COMMANDS[command.name] = command
    return command


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every registered command."""
    parser = Parser(
        prog=PROG,
        description="Transposed convolution explained through its matrix C and Cᵀ.",
        epilog="example: python -m transpose_matrix show",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
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
        print(f"{PROG}: error: {one_line(error, command)}", file=sys.stderr)
        return 2
    except MemoryError:
        # The guard estimates C before building it; this catches what it
        # cannot foresee, still as one line.
        print(f"{PROG}: error: out of memory for this geometry; {SHRINK}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `show | head` closed the pipe; that's the reader's choice, not an error.
        sys.stderr.close()
        return 0
