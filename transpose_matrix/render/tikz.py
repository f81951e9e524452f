r"""TikZ figures of C: its sparsity pattern and where one of its rows comes from.

:func:`sparsity_figure` draws every stored entry of C as a square coloured by
its kernel tap, with the kernel as the legend, so the block-Toeplitz
structure and the stride and padding patterns are visible at once.
:func:`placement_figure` draws the input grid with one placement of the
kernel (taps that fall in the padding dashed), the output position it
produces, and that row of C underneath. These are the pictures
convolution-arithmetic guides draw by hand, generated for any 1-D or 2-D
geometry.

Each function returns one ``tikzpicture`` environment (with its colours
defined inside it), which needs ``tikz`` and ``xcolor``:
:func:`transpose_matrix.render.document` loads both when it sees a picture.
Large matrices are cropped to a window and the cut is marked with
``\cdots`` and ``\vdots``.
"""

from __future__ import annotations

import colorsys
import math
from collections.abc import Sequence

import numpy as np

from ..errors import ConvSpecError, ConvSpecTypeError
from ..matrix import weight_label_matrix
from ..spec import ConvSpec

__all__ = ["placement_figure", "sparsity_figure", "tap_colors"]

#: Largest window of C that :func:`sparsity_figure` draws by default.
MAX_ROWS = 48
MAX_COLS = 64


def tap_colors(count: int) -> list[str]:
    """``count`` distinct light colours as 6-digit hex, evenly spaced in hue.

    >>> tap_colors(3)
    ['F27979', '79F279', '7979F2']
    """
    colors = []
    for i in range(count):
        red, green, blue = colorsys.hsv_to_rgb(i / count, 0.5, 0.95)
        colors.append("".join(f"{round(255 * c):02X}" for c in (red, green, blue)))
    return colors


def _check_spec(spec: ConvSpec) -> None:
    if not isinstance(spec, ConvSpec):
        raise ConvSpecTypeError(f"spec={spec!r} must be a ConvSpec")
    if spec.ndim > 2:
        raise ConvSpecError(
            f"figures draw 1-D and 2-D convolutions; this spec is {spec.ndim}-D "
            f"(input_shape={spec.input_shape})"
        )


def _color_definitions(count: int) -> list[str]:
    return [
        f"\\definecolor{{tap{_letters(i)}}}{{HTML}}{{{hexcode}}}"
        for i, hexcode in enumerate(tap_colors(count))
    ]


def _letters(i: int) -> str:
    # Colour names may not contain digits in every xcolor context; use letters.
    word = ""
    i += 1
    while i:
        i, rest = divmod(i - 1, 26)
        word = chr(ord("a") + rest) + word
    return word


def _tap_pattern(spec: ConvSpec) -> tuple[object, int]:
    """C with each stored entry labelled ``1 + flat weight index``, and taps per kernel."""
    return weight_label_matrix(spec), math.prod(spec.kernel_size)


def _kernel_index(spec: ConvSpec, tap: int) -> tuple[int, ...]:
    return tuple(int(i) for i in np.unravel_index(tap, spec.kernel_size))


def _w(index: Sequence[int]) -> str:
    return f"w_{{{','.join(str(i) for i in index)}}}"


def _fmt(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _legend(spec: ConvSpec, x0: float, y0: float) -> list[str]:
    """The kernel drawn as a grid of its tap colours, top-left corner at (x0, y0)."""
    shape = spec.kernel_size if spec.ndim == 2 else (1, spec.kernel_size[0])
    size = 0.7
    lines = [f"\\node[anchor=south west] at ({_fmt(x0)},{_fmt(y0)}) {{kernel taps}};"]
    for tap in range(math.prod(spec.kernel_size)):
        row, col = divmod(tap, shape[1])
        x, y = x0 + col * size, y0 - (row + 1) * size
        lines.append(
            f"\\filldraw[fill=tap{_letters(tap)}, draw=black!60] ({_fmt(x)},{_fmt(y)}) "
            f"rectangle +({size},{size}) node[midway] "
            f"{{\\scriptsize${_w(_kernel_index(spec, tap))}$}};"
        )
    return lines


def _block_lines(
    sizes: Sequence[int], count: int, length: float, cell: float, vertical: bool
) -> list[str]:
    lines = []
    for position in range(1, count):
        if any(block and position % block == 0 for block in sizes):
            at = _fmt(position * cell)
            end = _fmt(length)
            if vertical:
                lines.append(f"\\draw[black!35] ({at},0) -- ({at},-{end});")
            else:
                lines.append(f"\\draw[black!35] (0,-{at}) -- ({end},-{at});")
    return lines


def _blocks(channels: int, shape: Sequence[int]) -> list[int]:
    sizes = [math.prod(shape[k:]) for k in range(len(shape) - 1, 0, -1)]
    if channels > 1:
        sizes.append(math.prod(shape))
    return sizes


def sparsity_figure(spec: ConvSpec, *, max_rows: int = MAX_ROWS, max_cols: int = MAX_COLS) -> str:
    r"""TikZ picture of the sparsity pattern of C, entries coloured by kernel tap.

    Row ``r`` of the picture is row ``r`` of C (one output position), column
    ``c`` is column ``c`` (one input position); a square is drawn wherever C
    stores an entry, in the colour of the kernel tap ``w_{…}`` it holds (all
    channel pairs share the colours of their spatial tap). Grey lines
    separate the blocks of one row of the spatial grid, as in the text
    output. The legend is the kernel itself.

    Parameters
    ----------
    spec : ConvSpec
        A 1-D or 2-D geometry.
    max_rows, max_cols : int
        Only the top-left ``max_rows × max_cols`` window of C is drawn; the
        cut is marked with ``\cdots`` / ``\vdots`` and stated under the
        picture.

    Returns
    -------
    str
        A ``tikzpicture`` environment (needs ``tikz`` and ``xcolor``).

    Raises
    ------
    ConvSpecError
        For 3-D specs, or limits below 1.

    Examples
    --------
    >>> tex = sparsity_figure(ConvSpec((4, 4), 3))
    >>> tex.startswith(r"\begin{tikzpicture}"), tex.count("rectangle +(")
    (True, 45)
    """
    _check_spec(spec)
    for name, value in (("max_rows", max_rows), ("max_cols", max_cols)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConvSpecError(f"{name}={value!r} must be a positive integer")
    pattern, taps = _tap_pattern(spec)
    rows, cols = spec.matrix_shape
    shown_rows, shown_cols = min(rows, max_rows), min(cols, max_cols)
    cell = min(0.4, 15.0 / shown_cols, 18.0 / shown_rows)
    width, height = shown_cols * cell, shown_rows * cell
    lines = [r"\begin{tikzpicture}", *_color_definitions(taps)]
    window = pattern[:shown_rows][:, :shown_cols].tocoo()
    for r, c, label in zip(window.row, window.col, window.data, strict=True):
        tap = (int(label) - 1) % taps
        lines.append(
            f"\\fill[tap{_letters(tap)}] ({_fmt(c * cell)},-{_fmt((r + 1) * cell)}) "
            f"rectangle +({_fmt(cell)},{_fmt(cell)});"
        )
    lines += _block_lines(
        _blocks(spec.in_channels, spec.input_shape), shown_cols, height, cell, True
    )
    lines += _block_lines(
        _blocks(spec.out_channels, spec.output_shape), shown_rows, width, cell, False
    )
    lines.append(f"\\draw (0,0) rectangle ({_fmt(width)},-{_fmt(height)});")
    gap = 0.6 if shown_rows < rows else 0.15  # room for the \vdots under the frame
    lines.append(
        f"\\node[anchor=north west, font=\\small] at (0,-{_fmt(height + gap)}) "
        f"{{$C$: {rows} rows (output "
        f"positions) $\\times$ {cols} columns (input positions)}};"
    )
    if shown_cols < cols:
        lines.append(f"\\node[anchor=west] at ({_fmt(width)},-{_fmt(height / 2)}) {{$\\cdots$}};")
    if shown_rows < rows:
        lines.append(f"\\node[anchor=north] at ({_fmt(width / 2)},-{_fmt(height)}) {{$\\vdots$}};")
    if shown_rows < rows or shown_cols < cols:
        lines.append(
            f"\\node[anchor=north west, font=\\small] at (0,-{_fmt(height + gap + 0.5)}) "
            f"{{showing rows 0--{shown_rows - 1} of {rows}, "
            f"columns 0--{shown_cols - 1} of {cols}}};"
        )
    lines += _legend(spec, width + 0.8, 0.0)
    lines.append(r"\end{tikzpicture}")
    return "\n".join(lines)


def _as_2d(spec: ConvSpec) -> dict[str, tuple]:
    """Per-dim geometry with a leading unit dim for 1-D specs, so one drawing serves both."""
    if spec.ndim == 2:
        return {
            "input": spec.input_shape,
            "output": spec.output_shape,
            "kernel": spec.kernel_size,
            "stride": spec.stride,
            "dilation": spec.dilation,
            "padding": spec.padding,
        }
    return {
        "input": (1, *spec.input_shape),
        "output": (1, *spec.output_shape),
        "kernel": (1, *spec.kernel_size),
        "stride": (1, *spec.stride),
        "dilation": (1, *spec.dilation),
        "padding": ((0, 0), *spec.padding),
    }


def _resolve_index(spec: ConvSpec, output_index: int | Sequence[int]) -> tuple[int, ...]:
    """``(out_channel, *position)`` from a row of C or a (channel-less) position."""
    rows = spec.matrix_shape[0]
    if isinstance(output_index, bool):
        raise ConvSpecTypeError(f"output_index={output_index!r} must be an int or a tuple")
    if isinstance(output_index, (int, np.integer)):
        row = int(output_index)
        if not 0 <= row < rows:
            raise ConvSpecError(f"output_index={row} must be a row of C, in [0, {rows})")
        return tuple(int(i) for i in np.unravel_index(row, (spec.out_channels, *spec.output_shape)))
    index = tuple(output_index)
    if len(index) == spec.ndim:
        index = (0, *index)
    full = (spec.out_channels, *spec.output_shape)
    if len(index) != len(full) or not all(
        isinstance(i, (int, np.integer)) and not isinstance(i, bool) and 0 <= i < n
        for i, n in zip(index, full, strict=True)
    ):
        raise ConvSpecError(
            f"output_index={tuple(output_index)!r} must be a position in the output "
            f"{spec.output_shape} (optionally preceded by an out channel < "
            f"{spec.out_channels}), or a row of C in [0, {rows})"
        )
    return tuple(int(i) for i in index)


def placement_figure(spec: ConvSpec, output_index: int | Sequence[int] = 0) -> str:
    r"""TikZ picture of one kernel placement and the row of C it produces.

    Left: the input grid with its padding (dashed), the kernel placed for
    output position ``j``: tap ``t`` covers input position ``j*stride -
    padding_before + t*dilation``, filled in the tap's colour, dashed when it
    falls in the padding. Middle: the output grid with position ``j``
    marked. Below: that row of C, whose entries sit at exactly the covered
    input positions (of every input channel of the group).

    Parameters
    ----------
    spec : ConvSpec
        A 1-D or 2-D geometry.
    output_index : int or tuple of int
        A row of C, or an output position (``(i, j)`` in 2-D), optionally
        preceded by the output channel.

    Returns
    -------
    str
        A ``tikzpicture`` environment (needs ``tikz`` and ``xcolor``).

    Raises
    ------
    ConvSpecError
        For 3-D specs or an index outside the output.

    Examples
    --------
    >>> tex = placement_figure(ConvSpec((4, 4), 3), (1, 1))
    >>> tex.count("fill=tap"), tex.count(r"\fill[tap")
    (18, 9)
    """
    _check_spec(spec)
    channel, *position = _resolve_index(spec, output_index)
    geo = _as_2d(spec)
    if spec.ndim == 1:
        position = [0, *position]
    (height, width), (out_h, out_w) = geo["input"], geo["output"]
    taps = math.prod(spec.kernel_size)
    cell = min(0.6, 9.0 / (width + sum(geo["padding"][1])), 9.0 / (height + sum(geo["padding"][0])))
    lines = [r"\begin{tikzpicture}", *_color_definitions(taps)]

    def box(row: float, col: float, size: float, x0: float = 0.0, y0: float = 0.0) -> str:
        corner = f"({_fmt(x0 + col * size)},{_fmt(y0 - row * size)})"
        return f"{corner} rectangle +({_fmt(size)},-{_fmt(size)})"

    (pad_top, pad_bottom), (pad_left, pad_right) = geo["padding"]
    for r in range(-pad_top, height + max(pad_bottom, 0)):
        for c in range(-pad_left, width + max(pad_right, 0)):
            inside = 0 <= r < height and 0 <= c < width
            style = "draw=black!50" if inside else "draw=black!30, dashed"
            lines.append(f"\\draw[{style}] {box(r, c, cell)};")
    label_cells = width <= 8 and height <= 8
    if label_cells:
        for r in range(height):
            for c in range(width):
                index = f"{r},{c}" if spec.ndim == 2 else f"{c}"
                lines.append(
                    f"\\node[font=\\tiny, black!60] at "
                    f"({_fmt((c + 0.5) * cell)},{_fmt(-(r + 0.5) * cell)}) {{$x_{{{index}}}$}};"
                )
    for tap in range(taps):
        kr, kc = divmod(tap, geo["kernel"][1])
        r = position[0] * geo["stride"][0] - pad_top + kr * geo["dilation"][0]
        c = position[1] * geo["stride"][1] - pad_left + kc * geo["dilation"][1]
        inside = 0 <= r < height and 0 <= c < width
        style = (
            f"fill=tap{_letters(tap)}, fill opacity=0.8"
            if inside
            else (
                f"draw=tap{_letters(tap)}!70!black, dashed, thick, fill=tap{_letters(tap)}, "
                "fill opacity=0.25"
            )
        )
        lines.append(f"\\filldraw[{style}] {box(r, c, cell)};")
    lines.append(f"\\draw[thick] (0,0) rectangle ({_fmt(width * cell)},-{_fmt(height * cell)});")
    size = r" $\times$ ".join(str(n) for n in spec.input_shape)
    lines.append(
        f"\\node[anchor=south] at ({_fmt(width * cell / 2)},{_fmt(pad_top * cell + 0.1)}) "
        f"{{input {size}}};"
    )
    # The output grid, to the right of the padded input.
    x0 = (width + max(pad_right, 0) + 1.5) * cell + 0.5
    out_cell = min(0.6, 4.0 / max(out_w, 1), 6.0 / max(out_h, 1))
    for r in range(out_h):
        for c in range(out_w):
            chosen = [r, c] == list(position)
            style = "fill=black!25, draw=black" if chosen else "fill=none, draw=black!50"
            lines.append(f"\\filldraw[{style}] {box(r, c, out_cell, x0)};")
    where = ",".join(str(i) for i in (position if spec.ndim == 2 else position[1:]))
    if spec.out_channels > 1:
        where = f"{channel};{where}"
    lines.append(
        f"\\node[anchor=south] at ({_fmt(x0 + out_w * out_cell / 2)},0.1) "
        f"{{output, $y_{{{where}}}$ marked}};"
    )
    # The row of C for this output position.
    pattern, _ = _tap_pattern(spec)
    row = np.ravel_multi_index(
        (channel, *(position if spec.ndim == 2 else position[1:])),
        (spec.out_channels, *spec.output_shape),
    )
    entries = pattern[[int(row)]].tocoo()
    cols = spec.matrix_shape[1]
    lo, hi = 0, cols
    if cols > MAX_COLS and entries.nnz:
        lo = max(0, int(entries.col.min()) - 2)
        hi = min(cols, max(lo + 8, int(entries.col.max()) + 3))
    strip = min(0.4, 16.0 / (hi - lo))
    y0 = -(height + max(pad_bottom, 0) + 1) * cell - 1.2
    lines.append(
        f"\\node[anchor=south west] at (0,{_fmt(y0 + 0.05)}) "
        f"{{row {int(row)} of $C$ (columns {lo}--{hi - 1} of {cols})}};"
    )
    for c, label in zip(entries.col, entries.data, strict=True):
        if lo <= c < hi:
            tap = (int(label) - 1) % taps
            lines.append(f"\\fill[tap{_letters(tap)}] {box(0, c - lo, strip, 0.0, y0)};")
    lines.append(
        f"\\draw ({0},{_fmt(y0)}) rectangle ({_fmt((hi - lo) * strip)},{_fmt(y0 - strip)});"
    )
    if lo > 0:
        lines.append(f"\\node[anchor=east] at (0,{_fmt(y0 - strip / 2)}) {{$\\cdots$}};")
    if hi < cols:
        lines.append(
            f"\\node[anchor=west] at ({_fmt((hi - lo) * strip)},{_fmt(y0 - strip / 2)}) "
            "{$\\cdots$};"
        )
    lines += _legend(spec, x0 + out_w * out_cell + 1.0, 0.0)
    lines.append(r"\end{tikzpicture}")
    return "\n".join(lines)
