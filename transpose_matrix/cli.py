r"""``python -m transpose_matrix``: show, export, verify, figure and solve.

Commands
--------
show
    The matrix C of a convolution and its transpose Cᵀ in the terminal (or
    as LaTeX or JSON), with the geometry, the output-size arithmetic and the
    ``ConvTransposeNd`` call Cᵀ equals. Without options: the textbook case,
    a 4×4 input and a 3×3 kernel.
export
    A standalone LaTeX document (or, with ``--fragment``, its body).
verify
    C and Cᵀ against PyTorch (or the loop reference); exit status 1 when a
    check fails.
figure
    A TikZ figure: ``sparsity`` (C's pattern coloured by kernel tap) or
    ``placement`` (one kernel placement and the row of C it produces).
solve
    The small layer configurations that take one size to another.

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
sympy, torch or pdflatex.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from typing import Any

from .errors import ConvSpecError, TransposeMatrixError

__all__ = ["main", "parse_dims", "parse_padding", "build_parser"]

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


# --------------------------------------------------------------------------- parser


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors raised as :class:`UsageError`."""

    def error(self, message: str) -> None:  # type: ignore[override]
        # argparse says "argument --x: ..."; the option name alone is clearer.
        message = re.sub(r"^argument ", "", message)
        if message.startswith(("unrecognized arguments", "the following arguments")):
            message += f"; see '{self.prog} --help' for what is allowed"
        raise UsageError(message)


_EPILOG = {
    "show": "example: python -m transpose_matrix show --input 5x5 --kernel 3 --stride 2 "
    "--padding 1",
    "export": "example: python -m transpose_matrix export --input 4x4 --kernel 3 --out notes.tex",
    "verify": "example: python -m transpose_matrix verify --input 7 --kernel 3 --stride 2",
    "figure": "example: python -m transpose_matrix figure placement --index 1,1 --out fig.tex",
    "solve": "example: python -m transpose_matrix solve 8 16   (ConvTranspose layers 8 -> 16)",
}


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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = _Parser(
        prog=PROG,
        description="Transposed convolution explained through its matrix C and Cᵀ.",
        epilog="example: python -m transpose_matrix show",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    helps = {
        "show": "print C, Cᵀ and what Cᵀ computes (default command)",
        "export": "write a standalone LaTeX document",
        "verify": "check C and Cᵀ against PyTorch",
        "figure": "write a TikZ figure",
        "solve": "find layers that take one size to another",
    }
    sub = {
        name: commands.add_parser(
            name,
            help=text,
            description=text,
            epilog=_EPILOG[name],
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        for name, text in helps.items()
    }
    for name in ("show", "export", "verify", "figure"):
        _geometry(sub[name])
    for name in ("show", "export"):
        sub[name].add_argument(
            "--numeric", action="store_true", help="random numeric weights instead of symbols"
        )
    for name in ("show", "export", "verify"):
        sub[name].add_argument("--seed", default="0", metavar="N", help="seed of random weights")
    for name in ("show", "export", "figure", "solve"):
        sub[name].add_argument("--out", default=None, metavar="FILE", help="write to FILE")
    sub["show"].add_argument("--format", default="text", choices=("text", "latex", "json"))
    sub["show"].add_argument("--full", action="store_true", help="never elide a matrix")
    sub["export"].add_argument(
        "--fragment", action="store_true", help="only the body, for \\input into notes"
    )
    sub["export"].add_argument("--no-figures", action="store_true", help="leave out TikZ")
    sub["export"].add_argument(
        "--derivations",
        action="store_true",
        help="append the checked output-size and gradient derivations",
    )
    sub["verify"].add_argument(
        "--no-torch", action="store_true", help="use the loop reference instead of PyTorch"
    )
    sub["figure"].add_argument("kind", choices=("sparsity", "placement"))
    sub["figure"].add_argument(
        "--index",
        default="0",
        metavar="I",
        help="placement: a row of C (5) or an output position (1,1)",
    )
    sub["figure"].add_argument(
        "--fragment", action="store_true", help="only the tikzpicture, no document"
    )
    solve = sub["solve"]
    solve.add_argument("n", help="input size along one dim")
    solve.add_argument("m", help="wanted output size")
    solve.add_argument("--conv", action="store_true", help="solve for Conv instead")
    for option in ("--kernel", "--stride", "--padding", "--dilation", "--output-padding"):
        solve.add_argument(option, default=None, metavar="V", help="pin this parameter")
    return parser


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


# --------------------------------------------------------------------------- text pieces


def _shape(channels: int, spatial: Sequence[int]) -> str:
    return " × ".join(str(n) for n in (channels, *spatial))


def _tuple(values: Sequence[Any]) -> str:
    return "(" + ", ".join(str(v) for v in values) + ("," if len(values) == 1 else "") + ")"


def conv_call(spec: Any) -> str:
    """``torch.nn.ConvNd(...)`` with this spec's arguments (padding pairs via ``F.pad``)."""
    if spec.is_symmetric_padding:
        padding = _tuple([before for before, _ in spec.padding])
    else:
        padding = _tuple([tuple(pair) for pair in spec.padding]) + " via F.pad"
    groups = f", groups={spec.groups}" if spec.groups != 1 else ""
    return (
        f"torch.nn.Conv{spec.ndim}d({spec.in_channels}, {spec.out_channels}, "
        f"kernel_size={_tuple(spec.kernel_size)}, stride={_tuple(spec.stride)}, "
        f"padding={padding}, dilation={_tuple(spec.dilation)}{groups}, bias=False)"
    )


def transposed_call(spec: Any) -> str | None:
    """``torch.nn.ConvTransposeNd(...)`` whose matrix is Cᵀ, or None if there is none."""
    layer = spec.transposed_arguments()
    if layer is None:
        return None
    groups = f", groups={layer['groups']}" if layer["groups"] != 1 else ""
    return (
        f"torch.nn.ConvTranspose{spec.ndim}d({layer['in_channels']}, {layer['out_channels']}, "
        f"kernel_size={_tuple(layer['kernel_size'])}, stride={_tuple(layer['stride'])}, "
        f"padding={_tuple(layer['padding'])}, "
        f"output_padding={_tuple(layer['output_padding'])}{groups}, "
        f"dilation={_tuple(layer['dilation'])}, bias=False)"
    )


def size_lines(spec: Any, transposed: bool = False) -> list[str]:
    """The output-size arithmetic of every dim with the numbers filled in."""
    lines = []
    if transposed:
        layer = spec.transposed_arguments()
        lines.append(
            "Output size of the transposed layer, per dim: "
            "(n - 1)·s - 2p + d·(k - 1) + output_padding + 1"
        )
        for i in range(spec.ndim):
            n, s, p = spec.output_shape[i], spec.stride[i], layer["padding"][i]
            k, d, a = spec.kernel_size[i], spec.dilation[i], layer["output_padding"][i]
            lines.append(
                f"  dim {i}: ({n} - 1)·{s} - 2·{p} + {d}·({k} - 1) + {a} + 1 = "
                f"{spec.input_shape[i]}"
            )
        return lines
    lines.append("Output size per dim: floor((n + p_before + p_after - d·(k - 1) - 1) / s) + 1")
    for i in range(spec.ndim):
        n, (before, after) = spec.input_shape[i], spec.padding[i]
        k, s, d = spec.kernel_size[i], spec.stride[i], spec.dilation[i]
        lines.append(
            f"  dim {i}: floor(({n} + {before} + {after} - {d}·({k} - 1) - 1) / {s}) + 1 = "
            f"{spec.output_shape[i]}"
        )
    return lines


def _label_matrix(spec: Any) -> Any:
    """C as CSR whose entries are ``1 + flat weight index`` (numpy/scipy only)."""
    from .matrix import weight_label_matrix

    return weight_label_matrix(spec)


def _weight(spec: Any, args: argparse.Namespace) -> Any:
    from .verification import random_weight

    return random_weight(spec, _integer("--seed", args.seed, 0))


# --------------------------------------------------------------------------- show


class _SparseCells:
    """Entry texts of a sparse label matrix, looked up only where shown.

    ``render`` indexes the rows and columns it keeps, so even a C with
    millions of rows costs only the printed window.
    """

    def __init__(self, matrix: Any, names: list[str]) -> None:
        self._matrix = matrix.tocsr()
        self._matrix.sort_indices()
        self._names = names

    def __len__(self) -> int:
        return self._matrix.shape[0]

    def __getitem__(self, i: int) -> _SparseRow:
        start, stop = self._matrix.indptr[i], self._matrix.indptr[i + 1]
        return _SparseRow(
            self._matrix.indices[start:stop],
            self._matrix.data[start:stop],
            self._names,
            self._matrix.shape[1],
        )


class _SparseRow:
    def __init__(self, columns: Any, labels: Any, names: list[str], length: int) -> None:
        self._columns, self._labels, self._names, self._length = columns, labels, names, length

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, j: int) -> str:
        import numpy as np

        k = int(np.searchsorted(self._columns, j))
        if k < len(self._columns) and self._columns[k] == j:
            return self._names[int(self._labels[k]) - 1]
        return ""


def _text_matrices(spec: Any, args: argparse.Namespace) -> tuple[Any, list[str]]:
    from .textmatrix import kernel_labels

    pattern = _label_matrix(spec)
    if args.numeric:
        values = _weight(spec, args).reshape(-1)
        names = [f"{v:.2f}" for v in values]
    else:
        names = kernel_labels(spec.weight_shape)
    return pattern, names


def _render(spec: Any, pattern: Any, names: list[str], transposed: bool, full: bool) -> str:
    from .textmatrix import blocks_of, position_labels, render, terminal_width

    x = position_labels("x", spec.in_channels, spec.input_shape)
    y = position_labels("y", spec.out_channels, spec.output_shape)
    x_blocks = blocks_of(spec.in_channels, spec.input_shape)
    y_blocks = blocks_of(spec.out_channels, spec.output_shape)
    width = None if full else terminal_width()
    max_rows = None if full else 40
    if transposed:
        pattern = pattern.T
        x, y, x_blocks, y_blocks = y, x, y_blocks, x_blocks
    return render(
        _SparseCells(pattern, names),
        row_labels=y,
        col_labels=x,
        row_blocks=y_blocks,
        col_blocks=x_blocks,
        width=width,
        max_rows=max_rows,
        cell_width=max(len(name) for name in names),
    )


def show_text(spec: Any, args: argparse.Namespace) -> str:
    """The text report of ``show``."""
    rows, cols = spec.matrix_shape
    weights = "symbolic weights"
    if args.numeric:
        weights = f"random numeric weights, seed {int(args.seed)}"
    out = []
    layer = transposed_call(spec)
    if args.transposed:
        out.append(f"Transposed convolution: {layer}")
        out.append(
            f"  maps {_shape(spec.out_channels, spec.output_shape)} -> "
            f"{_shape(spec.in_channels, spec.input_shape)}; its matrix is Cᵀ of the forward "
            "convolution"
        )
        out.append(f"Forward convolution: {conv_call(spec)}")
    else:
        out.append(f"Convolution: {conv_call(spec)}")
    out.append(
        f"  input  x: {_shape(spec.in_channels, spec.input_shape)}  (channels × spatial), "
        f"{cols} values"
    )
    out.append(
        f"  weight w: {' × '.join(str(n) for n in spec.weight_shape)}  "
        "(out_channels × in_channels/groups × kernel)"
    )
    out.append(f"  output y: {_shape(spec.out_channels, spec.output_shape)}, {rows} values")
    out.append("")
    out += size_lines(spec, args.transposed)
    if args.transposed:
        out.append("  (the forward convolution maps these sizes back:)")
        out += ["  " + line for line in size_lines(spec)[1:]]
    out.append("")
    pattern, names = _text_matrices(spec, args)
    nnz = pattern.nnz
    out.append(
        f"C: {rows} × {cols}, {nnz} stored entries, {weights}. y = C x "
        "(row = output position, column = input position)"
    )
    out.append(_render(spec, pattern, names, transposed=False, full=args.full))
    out.append("")
    out.append(f"Cᵀ: {cols} × {rows}. Column j of Cᵀ is row j of C.")
    out.append(_render(spec, pattern, names, transposed=True, full=args.full))
    out.append("")
    out.append("What Cᵀ computes:")
    if layer is None:
        out.append(
            "  Cᵀ y is no single ConvTransposeNd layer (this padding has no "
            "(padding, output_padding) equivalent)"
        )
    else:
        out.append(f"  Cᵀ y = {layer}(y)")
        out.append(
            f"        {_shape(spec.out_channels, spec.output_shape)} -> "
            f"{_shape(spec.in_channels, spec.input_shape)}, with the same weight w"
        )
    out.append(
        "  Cᵀ g = ∂L/∂x for g = ∂L/∂y: the gradient of the convolution with respect to "
        "its input"
    )
    return "\n".join(out)


def _symbolic_or_numeric(spec: Any, args: argparse.Namespace) -> Any:
    if args.numeric:
        from .matrix import conv_matrix

        return conv_matrix(spec, _weight(spec, args))
    from .symbolic import symbolic_conv_matrix

    return symbolic_conv_matrix(spec)


def show_latex(spec: Any, args: argparse.Namespace) -> str:
    """``show --format latex``: C and Cᵀ as display blocks."""
    from .latex import to_latex

    matrix = _symbolic_or_numeric(spec, args)
    limits = {"max_rows": 10**9, "max_cols": 10**9} if args.full else {}
    return (
        f"\\[\nC = {to_latex(matrix, **limits)}\n\\]\n"
        f"\\[\nC^{{\\mathsf{{T}}}} = {to_latex(matrix.T, **limits)}\n\\]"
    )


def show_json(spec: Any, args: argparse.Namespace) -> str:
    """``show --format json``: spec fields, shapes, nnz and C as triplets."""
    import json

    pattern = _label_matrix(spec).tocoo()
    if args.numeric:
        values = _weight(spec, args).reshape(-1)
        entry = [float(values[v - 1]) for v in pattern.data]
    else:
        import itertools

        single = spec.in_channels == 1 and spec.out_channels == 1
        names = []
        for index in itertools.product(*(range(n) for n in spec.weight_shape)):
            label = index[2:] if single else index
            names.append("w_{" + ",".join(str(i) for i in label) + "}")
        entry = [names[v - 1] for v in pattern.data]
    layer = spec.transposed_arguments()
    data = {
        "spec": {
            "input_shape": list(spec.input_shape),
            "kernel_size": list(spec.kernel_size),
            "stride": list(spec.stride),
            "padding": [list(pair) for pair in spec.padding],
            "dilation": list(spec.dilation),
            "in_channels": spec.in_channels,
            "out_channels": spec.out_channels,
            "groups": spec.groups,
        },
        "output_shape": list(spec.output_shape),
        "weight_shape": list(spec.weight_shape),
        "matrix_shape": list(spec.matrix_shape),
        "nnz": int(pattern.nnz),
        "weights": "numeric" if args.numeric else "symbolic",
        "seed": int(args.seed) if args.numeric else None,
        "transposed_layer": None
        if layer is None
        else {key: list(v) if isinstance(v, tuple) else v for key, v in layer.items()},
        "entries": [
            [int(r), int(c), e] for r, c, e in zip(pattern.row, pattern.col, entry, strict=True)
        ],
    }
    return json.dumps(data, indent=1)


# --------------------------------------------------------------------------- export


def export_body(spec: Any, args: argparse.Namespace) -> str:
    """The LaTeX body of ``export``: geometry, sizes, C, Cᵀ, gradient, figures."""
    from .latex import escape_text, math_block, spec_latex

    matrix = _symbolic_or_numeric(spec, args)
    out = [r"\section*{Geometry}", math_block(spec_latex(spec))]
    out.append(
        f"Input $x \\in \\mathbb{{R}}^{{{spec.in_channels} \\times "
        + " \\times ".join(str(n) for n in spec.input_shape)
        + "}$, weight $w \\in \\mathbb{R}^{"
        + " \\times ".join(str(n) for n in spec.weight_shape)
        + f"}}$ (PyTorch layout), output $y \\in \\mathbb{{R}}^{{{spec.out_channels} \\times "
        + " \\times ".join(str(n) for n in spec.output_shape)
        + "}$. Cross-correlation (no kernel flip); $x$ and $y$ are flattened in C order "
        "over (channel, position)."
    )
    out.append(r"\section*{Output size}")
    rows = []
    for i in range(spec.ndim):
        n, (before, after) = spec.input_shape[i], spec.padding[i]
        k, s, d = spec.kernel_size[i], spec.stride[i], spec.dilation[i]
        rows.append(
            f"o_{{{i}}} &= \\left\\lfloor \\frac{{{n} + {before} + {after} - {d}({k} - 1) - 1}}"
            f"{{{s}}} \\right\\rfloor + 1 = {spec.output_shape[i]}"
        )
    out.append(
        "Along each dimension, $o = \\lfloor (n + p_{\\mathrm{before}} + p_{\\mathrm{after}}"
        " - d(k - 1) - 1)/s \\rfloor + 1$:"
    )
    out.append("\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}")
    rows_, cols_ = spec.matrix_shape
    kind = "random numeric weights" if args.numeric else "the kernel entries"
    out.append(r"\section*{The matrix $C$}")
    out.append(
        f"The convolution is $y = C x$ with $C$ of size ${rows_} \\times {cols_}$, "
        f"holding {kind}:"
    )
    out.append(math_block("C = " + _to_latex(matrix)))
    out.append(r"\section*{The transpose $C^{\mathsf{T}}$}")
    out.append(math_block("C^{\\mathsf{T}} = " + _to_latex(matrix.T)))
    layer = transposed_call(spec)
    out.append(r"\section*{What $C^{\mathsf{T}}$ computes}")
    if layer is not None:
        out.append(
            f"$C^{{\\mathsf{{T}}}} y$ is the transposed convolution "
            f"\\texttt{{{escape_text(layer)}}} applied to $y$, with the same weight $w$."
        )
    else:
        out.append(
            "No single transposed-convolution layer has this padding, but "
            "$C^{\\mathsf{T}}$ is still the gradient below."
        )
    out.append(
        "For any loss $L$, the chain rule through $y = Cx$ gives the input gradient of "
        "the convolution:"
    )
    out.append(
        math_block(
            r"\frac{\partial L}{\partial x} = C^{\mathsf{T}} \frac{\partial L}{\partial y}"
        )
    )
    if not args.no_figures and spec.ndim <= 2:
        from .figures import placement_figure, sparsity_figure

        out.append(r"\section*{Figures}")
        out.append(
            "The sparsity pattern of $C$, each entry coloured by its kernel tap:\n\n"
            "\\medskip\\noindent\n" + sparsity_figure(spec)
        )
        out.append(
            "\\bigskip\\noindent One placement of the kernel (output position 0) and the "
            "row of $C$ it produces:\n\n\\medskip\\noindent\n" + placement_figure(spec, 0)
        )
    if args.derivations:
        from .derivation import output_size_derivation
        from .gradient import gradient_derivation

        out.append(output_size_derivation(spec).latex())
        out.append(gradient_derivation(spec).latex())
    return "\n\n".join(out) + "\n"


def _to_latex(matrix: Any) -> str:
    from .latex import to_latex

    return to_latex(matrix)


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


def _run_show(args: argparse.Namespace) -> int:
    spec = spec_from_args(args)
    _integer("--seed", args.seed, 0)
    render = {"text": show_text, "latex": show_latex, "json": show_json}[args.format]
    _emit(render(spec, args), args.out)
    return 0


def _run_export(args: argparse.Namespace) -> int:
    spec = spec_from_args(args)
    _integer("--seed", args.seed, 0)
    body = export_body(spec, args)
    if args.fragment:
        _emit(body, args.out)
        return 0
    from .latex import document

    title = f"Transposed convolution as a matrix: {spec.ndim}-D, input " + "x".join(
        str(n) for n in spec.input_shape
    )
    _emit(document(body, title=title), args.out)
    return 0


def _run_verify(args: argparse.Namespace) -> int:
    spec = spec_from_args(args)
    seed = _integer("--seed", args.seed, 0)
    from .verification import verify

    report = verify(spec, seed=seed, use_torch=False if args.no_torch else None)
    print(f"Convolution: {conv_call(spec)}")
    print(report)
    return 0 if report.ok else 1


def _run_figure(args: argparse.Namespace) -> int:
    spec = spec_from_args(args)
    from .figures import placement_figure, sparsity_figure

    try:
        if args.kind == "sparsity":
            picture = sparsity_figure(spec)
        else:
            index = parse_dims("--index", args.index, 0)
            picture = placement_figure(spec, index)
    except ConvSpecError as error:
        option = "--index" if "output_index" in str(error) else "--input"
        raise UsageError(f"{option}: {error}") from None
    if args.fragment:
        _emit(picture, args.out)
        return 0
    from .latex import document

    _emit(document(picture), args.out)
    return 0


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


_COMMANDS = {
    "show": _run_show,
    "export": _run_export,
    "verify": _run_verify,
    "figure": _run_figure,
    "solve": _run_solve,
}


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
        return _COMMANDS[args.command](args)
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
