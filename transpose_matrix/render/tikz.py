r"""TikZ figures of C: its sparsity pattern, and where one row (or column) comes from.

:func:`sparsity_figure` draws every stored entry of C as a square coloured by
its kernel tap, with the kernel as the legend, so the block-Toeplitz
structure and the stride and padding patterns are visible at once; channel
blocks are ruled and, with groups, the blocks that may hold entries are
framed. :func:`placement_figure` draws the input grid with one placement of
the kernel (taps in the padding dashed), the output position it produces,
and that row of C underneath; with ``transposed=True`` it draws the
transposed layer instead: one input pixel of it stamping its kernel-weighted
patch into the output, which is a column of Cᵀ.

Every layout is computed from extents: the caller gives the room (``width``
and ``height`` in pt, 345 pt being a 10 pt article's line), the cell sizes
follow, the legend sits right of the drawing and the caption under both, so
nothing overlaps. The named parts (``matrix``, ``legend``, ``caption``,
``cdots``, ``vdots``, ``strip``, ``bigtitle``, ``smalltitle``) are TikZ nodes
or ``local bounding box``-es a test can measure. Labels on
coloured cells are black or white by the fill's luminance.

Each function returns one ``tikzpicture`` (colours defined inside it) that
needs only ``tikz``; :func:`transpose_matrix.render.document` loads it.
"""

from __future__ import annotations

import colorsys
import math
from collections.abc import Sequence

import numpy as np

from ..errors import ConvSpecError, ConvSpecTypeError
from ..geometry.shapes import describe
from ..geometry.spec import ConvSpec
from ..matrices.conv import conv_matrix_entries, conv_matrix_terms
from ..memory import check_index_range
from .frames import check_drawable, check_zero_padding
from .latex import dims_latex
from .measure import text_width
from .text import block_edges

__all__ = ["check_figure_size", "placement_figure", "sparsity_figure", "tap_colors", "text_color"]

#: Largest window of C that :func:`sparsity_figure` draws by default.
MAX_ROWS = 48
MAX_COLS = 64

_PT = 1 / 28.4527  # cm per TeX point
_GAP = 0.6  # cm between the drawing, the legend and the caption


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


def text_color(fill: str) -> str:
    """``black`` or ``white``, whichever reads better on the hex colour ``fill``.

    Uses the relative luminance of sRGB (WCAG), so contrast is at least 4.5:1
    for one of the two on any fill.

    >>> text_color("F27979"), text_color("1F1F7A")
    ('black', 'white')
    """

    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    red, green, blue = (linear(int(fill[i : i + 2], 16)) for i in (0, 2, 4))
    luminance = 0.2126 * red + 0.7152 * green + 0.0722 * blue
    # Contrast with black (L + 0.05) / 0.05 beats white 1.05 / (L + 0.05) above L = 0.179.
    return "black" if luminance > 0.179 else "white"


#: Most kernel taps a figure draws (each is a colour and a legend cell).
MAX_TAPS = 1024
#: Widest span of a dilated kernel, in cells, that a placement figure draws.
MAX_SPAN = 1024
#: Most stored entries in the row of C a placement figure draws.
MAX_ROW_ENTRIES = 2**16


def check_figure_size(spec: ConvSpec, placement: bool = True) -> None:
    """Refuse, in O(dims), figures whose drawing would grow with the kernel or channels.

    A figure draws every kernel tap (at most :data:`MAX_TAPS`); a placement
    figure also draws the dilated kernel's span (at most :data:`MAX_SPAN`
    cells) and one row of C (at most :data:`MAX_ROW_ENTRIES` entries). C's
    rows and columns must be addressable by 64-bit indices.

    Raises
    ------
    ConvSpecError
        For a 3-D spec (``field`` ``input_shape``), or with ``field``
        ``kernel_size``, ``dilation`` or ``in_channels``.
    MemoryGuardError
        C has more rows or columns than 64-bit indices address.
    """
    check_drawable(spec, "figures")
    taps = math.prod(spec.kernel_size)
    if taps > MAX_TAPS:
        raise ConvSpecError(
            f"figures draw every kernel tap; kernel_size={spec.kernel_size} has {taps:,} "
            f"taps, above {MAX_TAPS:,}",
            field="kernel_size",
        )
    # Rows and columns of C are unravelled with numpy's 64-bit index arithmetic.
    check_index_range(spec.matrix_shape, what="the figure's C")
    if not placement:
        return
    for k, d in zip(spec.kernel_size, spec.dilation):
        if d * (k - 1) + 1 > MAX_SPAN:
            raise ConvSpecError(
                f"placement figures draw the kernel's whole span; a kernel of {k} taps at "
                f"dilation {d} spans {d * (k - 1) + 1:,} cells, above {MAX_SPAN:,}",
                field="dilation" if d > 1 else "kernel_size",
            )
    entries = spec.in_channels // spec.groups * taps
    if entries > MAX_ROW_ENTRIES:
        raise ConvSpecError(
            f"placement figures draw one row of C, and each row here reads "
            f"{spec.in_channels // spec.groups:,} input channels × {taps:,} taps = {entries:,} "
            f"entries, above {MAX_ROW_ENTRIES:,}",
            field="in_channels",
        )


def _check_room(width: float, height: float | None) -> None:
    for name, value in (("width", width), ("height", height)):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConvSpecTypeError(f"{name}={value!r} must be a number of points", field=name)
        if not 100 <= value <= 2000:
            raise ConvSpecError(f"{name}={value} must be between 100 and 2000 pt", field=name)


def _letters(i: int) -> str:
    # Colour names may not contain digits in every xcolor context; use letters.
    word = ""
    i += 1
    while i:
        i, rest = divmod(i - 1, 26)
        word = chr(ord("a") + rest) + word
    return word


def _color_definitions(count: int) -> list[str]:
    return [
        f"\\definecolor{{tap{_letters(i)}}}{{HTML}}{{{hexcode}}}"
        for i, hexcode in enumerate(tap_colors(count))
    ]


def _fmt(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _kernel_grid(spec: ConvSpec) -> tuple[int, int]:
    """Rows and columns the kernel is drawn as (a 1-D kernel is one row)."""
    if spec.ndim == 2:
        return spec.kernel_size[0], spec.kernel_size[1]
    return 1, spec.kernel_size[0]


def _tap_name(spec: ConvSpec, tap: int) -> str:
    index = ",".join(str(int(i)) for i in np.unravel_index(tap, spec.kernel_size))
    if spec.in_channels == 1 and spec.out_channels == 1:
        return f"w_{{{index}}}"
    return index


def _legend_title(spec: ConvSpec) -> str:
    single = spec.in_channels == 1 and spec.out_channels == 1
    return "kernel taps" if single else r"tap $t$ of $w_{o,c,t}$"


def _small_text(text: str) -> float:
    """Width in cm of ``\footnotesize`` text (8 pt), estimated on the wide side."""
    plain = text.replace("$", "")
    return text_width(plain) * 0.8 * _PT + 0.1


def _legend_size(spec: ConvSpec, room: float) -> tuple[float, float, float]:
    """Cell size, width and height (cm) of the kernel legend within ``room`` cm of width."""
    rows, cols = _kernel_grid(spec)
    cell = max(0.3, min(0.65, room / cols))
    return cell, max(cols * cell, _small_text(_legend_title(spec))), rows * cell + 0.5


def _legend(spec: ConvSpec, x0: float, y0: float, cell: float) -> list[str]:
    """The kernel as a grid of its tap colours, its title's top-left corner at (x0, y0)."""
    _, cols = _kernel_grid(spec)
    colors = tap_colors(math.prod(spec.kernel_size))
    lines = [
        r"\begin{scope}[local bounding box=legend]",
        f"\\node[anchor=north west, inner sep=0pt, font=\\footnotesize] at "
        f"({_fmt(x0)},{_fmt(y0)}) {{{_legend_title(spec)}}};",
    ]
    top = y0 - 0.5
    labels = cell >= 0.5
    for tap, color in enumerate(colors):
        row, col = divmod(tap, cols)
        x, y = x0 + col * cell, top - (row + 1) * cell
        label = ""
        if labels:
            label = (
                f" node[midway, text={text_color(color)}, font=\\tiny] "
                f"{{${_tap_name(spec, tap)}$}}"
            )
        lines.append(
            f"\\filldraw[fill=tap{_letters(tap)}, draw=black!60] ({_fmt(x)},{_fmt(y)}) "
            f"rectangle +({_fmt(cell)},{_fmt(cell)}){label};"
        )
    lines.append(r"\end{scope}")
    return lines


def _caption(x: float, y: float, width: float, text: str) -> str:
    return (
        f"\\node[anchor=north west, inner sep=0pt, text width={_fmt(width)}cm, align=left, "
        f"font=\\footnotesize] (caption) at ({_fmt(x)},{_fmt(y)}) {{{text}}};"
    )


def _rules(
    channels: int, shape: Sequence[int], count: int, length: float, cell: float, vertical: bool
) -> list[str]:
    """Thin grey rules between spatial rows, heavy ones between channels."""
    lines = []
    for position, heavy in block_edges(channels, shape, count):
        style = "black!75, line width=0.8pt" if heavy else "black!30"
        at, end = _fmt(position * cell), _fmt(length)
        if vertical:
            lines.append(f"\\draw[{style}] ({at},0) -- ({at},-{end});")
        else:
            lines.append(f"\\draw[{style}] (0,-{at}) -- ({end},-{at});")
    return lines


def sparsity_figure(
    spec: ConvSpec,
    *,
    max_rows: int = MAX_ROWS,
    max_cols: int = MAX_COLS,
    width: float = 345.0,
    height: float | None = None,
) -> str:
    r"""TikZ picture of the sparsity pattern of C, entries coloured by kernel tap.

    Row ``r`` of the picture is row ``r`` of C (one output position), column
    ``c`` is column ``c`` (one input position); a square is drawn wherever C
    stores an entry, in the colour of the kernel tap it holds (all channel
    pairs share the colours of their spatial tap). Grey rules separate the
    blocks of one row of the spatial grid, heavy rules the channels, and with
    ``groups > 1`` dashed frames mark the blocks where a group's output
    channels read its input channels. The legend is the kernel itself.

    With a ``padding_mode`` other than ``'zeros'`` an entry can sum several
    taps (those reading the same input entry through the padding); its
    square is split into vertical stripes, one in each tap's colour, left to
    right in tap order, and outlined; the caption says so.

    Parameters
    ----------
    spec : ConvSpec
        A 1-D or 2-D geometry.
    max_rows, max_cols : int
        Only the top-left ``max_rows × max_cols`` window of C is drawn; the
        cut is marked with ``\cdots`` / ``\vdots`` and stated in the caption.
    width, height : float
        Room for the whole picture in pt (default: a 10 pt article's line;
        height unlimited).

    Returns
    -------
    str
        A ``tikzpicture`` environment (needs ``tikz``).

    Raises
    ------
    ConvSpecError
        For 3-D specs, limits below 1, or a room outside 100–2000 pt.

    Examples
    --------
    >>> tex = sparsity_figure(ConvSpec((4, 4), 3))
    >>> tex.startswith(r"\begin{tikzpicture}"), tex.count(r"\fill[tap")
    (True, 36)
    """
    check_figure_size(spec, placement=False)
    for name, value in (("max_rows", max_rows), ("max_cols", max_cols)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConvSpecError(f"{name}={value!r} must be a positive integer", field=name)
    _check_room(width, height)
    rows, cols = spec.matrix_shape
    shown_rows, shown_cols = min(rows, max_rows), min(cols, max_cols)
    cut_rows, cut_cols = shown_rows < rows, shown_cols < cols
    taps = math.prod(spec.kernel_size)
    total = width * _PT - 0.1
    legend_cell, legend_width, legend_height = _legend_size(spec, min(4.0, total / 3))
    left = 0.9 if spec.out_channels > 1 else 0.0  # room for the row channel labels
    top = 0.45 if spec.in_channels > 1 else 0.0  # and for the column channel labels
    room = total - left - legend_width - _GAP - (0.45 if cut_cols else 0.0)
    cell = min(0.4, room / shown_cols)
    if height is not None:
        cell = min(cell, (height * _PT - 1.6 - top) / shown_rows)
    matrix_width, matrix_height = shown_cols * cell, shown_rows * cell

    lines = [r"\begin{tikzpicture}", *_color_definitions(taps)]
    lines.append(f"\\begin{{scope}}[xshift={_fmt(left)}cm, local bounding box=matrix]")
    terms = conv_matrix_terms(spec, np.arange(shown_rows), np.arange(shown_cols))
    mixed = False
    for r, row in enumerate(terms):
        for c, flats in enumerate(row):
            # One stripe per tap the entry sums (a single full square for one).
            stripe = cell / max(1, len(flats))
            mixed = mixed or len(flats) > 1
            for position, flat in enumerate(flats):
                lines.append(
                    f"\\fill[tap{_letters(flat % taps)}] ({_fmt(c * cell + position * stripe)},"
                    f"-{_fmt((r + 1) * cell)}) rectangle +({_fmt(stripe)},{_fmt(cell)});"
                )
            if len(flats) > 1:
                # Outlined, so a striped square does not read as several squares.
                lines.append(
                    f"\\draw[black!70, line width=0.4pt] ({_fmt(c * cell)},-{_fmt((r + 1) * cell)})"
                    f" rectangle +({_fmt(cell)},{_fmt(cell)});"
                )
    lines += _rules(spec.in_channels, spec.input_shape, shown_cols, matrix_height, cell, True)
    lines += _rules(spec.out_channels, spec.output_shape, shown_rows, matrix_width, cell, False)
    if spec.groups > 1:
        lines += _group_frames(spec, shown_rows, shown_cols, cell)
    lines.append(f"\\draw (0,0) rectangle ({_fmt(matrix_width)},-{_fmt(matrix_height)});")
    lines += _channel_labels(spec, shown_rows, shown_cols, cell)
    lines.append(r"\end{scope}")

    if cut_cols:
        lines.append(
            f"\\node[anchor=west, inner sep=1pt] (cdots) at ({_fmt(left + matrix_width)},"
            f"-{_fmt(matrix_height / 2)}) {{$\\cdots$}};"
        )
    if cut_rows:
        lines.append(
            f"\\node[anchor=north, inner sep=1pt] (vdots) at ({_fmt(left + matrix_width / 2)},"
            f"-{_fmt(matrix_height)}) {{$\\vdots$}};"
        )
    legend_x = left + matrix_width + (0.45 if cut_cols else 0.0) + _GAP
    lines += _legend(spec, legend_x, top, legend_cell)

    caption = (
        f"$C$: {rows} rows (output positions) $\\times$ {cols} columns (input positions)."
    )
    if cut_rows or cut_cols:
        caption += (
            f" Shown: rows 0--{shown_rows - 1}, columns 0--{shown_cols - 1}."
        )
    if spec.padding_mode != "zeros":
        caption += (
            f" With {spec.padding_mode} padding the border copies input entries, so an entry "
            "can sum several taps"
            + (": an outlined, striped square shows each tap's colour." if mixed else ".")
        )
    bottom = max(matrix_height + (0.55 if cut_rows else 0.0), legend_height - top) + 0.2
    lines.append(_caption(0.0, -bottom, legend_x + legend_width, caption))
    lines.append(r"\end{tikzpicture}")
    return "\n".join(lines)


def _group_frames(spec: ConvSpec, shown_rows: int, shown_cols: int, cell: float) -> list[str]:
    """Dashed frames around the (group × group) blocks that may hold entries."""
    rows_per = spec.out_channels // spec.groups * math.prod(spec.output_shape)
    cols_per = spec.in_channels // spec.groups * math.prod(spec.input_shape)
    lines = []
    for group in range(spec.groups):
        r0, c0 = group * rows_per, group * cols_per
        if r0 >= shown_rows or c0 >= shown_cols:
            break
        r1, c1 = min(shown_rows, r0 + rows_per), min(shown_cols, c0 + cols_per)
        lines.append(
            f"\\draw[black, dashed, line width=0.8pt] ({_fmt(c0 * cell)},-{_fmt(r0 * cell)}) "
            f"rectangle ({_fmt(c1 * cell)},-{_fmt(r1 * cell)});"
        )
    return lines


def _channel_labels(spec: ConvSpec, shown_rows: int, shown_cols: int, cell: float) -> list[str]:
    """``c = 0, 1, …`` above the input-channel columns, ``o = …`` left of the output rows."""
    lines = []
    axes = [
        (spec.in_channels, math.prod(spec.input_shape), shown_cols, "c",
         "anchor=south", "({at},0.05)"),
        (spec.out_channels, math.prod(spec.output_shape), shown_rows, "o",
         "anchor=east", "(-0.05,-{at})"),
    ]
    for channels, size, shown, letter, anchor, where in axes:
        if channels == 1:
            continue
        for channel in range(min(channels, -(-shown // size))):
            start, stop = channel * size, min(shown, (channel + 1) * size)
            if stop - start < 2:  # too narrow for a label
                continue
            at = _fmt((start + stop) / 2 * cell)
            lines.append(
                f"\\node[{anchor}, inner sep=1pt, font=\\scriptsize] at "
                f"{where.format(at=at)} {{${letter}={channel}$}};"
            )
    return lines


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



# Grids larger than this many cells per side are drawn as a window.
_WINDOW = 14
_SMALL_WINDOW = 10


def _window(first: int, stop: int, low: int, high: int, limit: int) -> tuple[int, int]:
    """A range of at most ``limit`` (more if ``low..high`` needs it) in ``[first, stop)``."""
    if stop - first <= limit:
        return first, stop
    size = max(limit, high - low + 3)
    start = max(first, min((low + high) // 2 - size // 2, stop - size))
    return start, min(stop, start + size)


def _window_note(ndim: int, rows: tuple[int, int], cols: tuple[int, int],
                 shape: tuple[int, int], pads: tuple[int, int]) -> list[str]:
    """``["rows 9--22", "columns 9--22"]`` for what a windowed grid shows, else ``[]``."""
    cut_rows = rows[0] > -pads[0] or rows[1] < shape[0]
    cut_cols = cols[0] > -pads[1] or cols[1] < shape[1]
    parts = []
    if ndim == 2 and cut_rows:
        parts.append(f"rows {max(rows[0], 0)}--{min(rows[1], shape[0]) - 1}")
    if cut_cols:
        parts.append(f"{'columns' if ndim == 2 else 'positions'} "
                     f"{max(cols[0], 0)}--{min(cols[1], shape[1]) - 1}")
    return parts


def _grid(x0: float, y0: float, cell: float, rows: tuple[int, int], cols: tuple[int, int],
          style: str) -> list[str]:
    """The lines of the cells ``rows × cols`` of a grid whose cell (0, 0) is at (x0, y0)."""
    if rows[0] >= rows[1] or cols[0] >= cols[1]:
        return []
    left, right = _fmt(x0 + cols[0] * cell), _fmt(x0 + cols[1] * cell)
    top, bottom = _fmt(y0 - rows[0] * cell), _fmt(y0 - rows[1] * cell)
    path = [f"({left},{_fmt(y0 - r * cell)}) -- ({right},{_fmt(y0 - r * cell)})"
            for r in range(rows[0], rows[1] + 1)]
    path += [f"({_fmt(x0 + c * cell)},{top}) -- ({_fmt(x0 + c * cell)},{bottom})"
             for c in range(cols[0], cols[1] + 1)]
    return [f"\\draw[{style}] " + " ".join(path) + ";"]


def _border(x0: float, y0: float, cell: float, shape: tuple[int, int],
            rows: tuple[int, int], cols: tuple[int, int]) -> list[str]:
    """The input's edges that fall inside the window (a cut edge is not an edge)."""
    height, width = shape
    top, bottom = max(0, rows[0]), min(height, rows[1])
    left, right = max(0, cols[0]), min(width, cols[1])

    def point(r: int, c: int) -> str:
        return f"({_fmt(x0 + c * cell)},{_fmt(y0 - r * cell)})"

    lines = []
    if rows[0] <= 0:
        lines.append(f"\\draw[thick] {point(0, left)} -- {point(0, right)};")
    if rows[1] >= height:
        lines.append(f"\\draw[thick] {point(height, left)} -- {point(height, right)};")
    if cols[0] <= 0:
        lines.append(f"\\draw[thick] {point(top, 0)} -- {point(bottom, 0)};")
    if cols[1] >= width:
        lines.append(f"\\draw[thick] {point(top, width)} -- {point(bottom, width)};")
    return lines

def _resolve_index(spec: ConvSpec, output_index: int | Sequence[int]) -> tuple[int, ...]:
    """``(out_channel, *position)`` from a row of C or a (channel-less) position."""
    rows = spec.matrix_shape[0]
    if isinstance(output_index, bool):
        raise ConvSpecTypeError(
            f"output_index={output_index!r} must be an int or a tuple", field="output_index"
        )
    if isinstance(output_index, (int, np.integer)):
        row = int(output_index)
        if not 0 <= row < rows:
            raise ConvSpecError(
                f"output_index={row} must be a row of C, in [0, {rows})", field="output_index"
            )
        return tuple(int(i) for i in np.unravel_index(row, (spec.out_channels, *spec.output_shape)))
    if not isinstance(output_index, (tuple, list)):
        raise ConvSpecTypeError(
            f"output_index={describe(output_index)} must be an int (a row of C) or a tuple "
            "of ints",
            field="output_index",
        )
    index = tuple(output_index)
    if len(index) == spec.ndim:
        index = (0, *index)
    full = (spec.out_channels, *spec.output_shape)
    if len(index) != len(full) or not all(
        isinstance(i, (int, np.integer)) and not isinstance(i, bool) and 0 <= i < n
        for i, n in zip(index, full, strict=True)
    ):
        raise ConvSpecError(
            f"output_index={describe(tuple(output_index))} must be a position in the output "
            f"{spec.output_shape} (optionally preceded by an out channel < "
            f"{spec.out_channels}), or a row of C in [0, {rows})",
            field="output_index",
        )
    return tuple(int(i) for i in index)


def _row_entries(spec: ConvSpec, row: int) -> tuple[np.ndarray, np.ndarray]:
    """Columns and weights (flat indices) of the stored entries of row ``row`` of C."""
    channel, *position = np.unravel_index(row, (spec.out_channels, *spec.output_shape))
    per_group = spec.in_channels // spec.groups
    group = int(channel) // (spec.out_channels // spec.groups)
    candidates = []
    for c in range(group * per_group, (group + 1) * per_group):
        for tap in np.ndindex(*spec.kernel_size):
            where = [
                int(position[a]) * spec.stride[a] - spec.padding[a][0] + tap[a] * spec.dilation[a]
                for a in range(spec.ndim)
            ]
            if all(0 <= i < n for i, n in zip(where, spec.input_shape, strict=True)):
                candidates.append(np.ravel_multi_index((c, *where), (spec.in_channels,
                                                                     *spec.input_shape)))
    columns = np.array(sorted(candidates), dtype=np.int64)
    weights = conv_matrix_entries(spec, [row], columns)[0]
    return columns, weights


def placement_figure(
    spec: ConvSpec,
    output_index: int | Sequence[int] = 0,
    *,
    transposed: bool = False,
    width: float = 345.0,
    height: float | None = None,
) -> str:
    r"""TikZ picture of one kernel placement and the row of C it produces.

    Forward (default): the input grid with its padding (dashed), the kernel
    placed for output position ``j``: tap ``t`` covers input position
    ``j*stride - padding_before + t*dilation``, filled in the tap's colour,
    dashed when it falls in the padding. Right: the output grid with ``j``
    marked. Below: that row of C, whose entries sit at exactly the covered
    input positions (of every input channel of the group).

    Transposed (``transposed=True``): the same entries read the other way, as
    the transposed layer computes them. Left: its input grid (the forward
    output) with pixel ``j`` marked. Right: its output grid, where ``j``
    stamps its value times ``w_t`` at every covered position (taps that land
    in the cropped border are dashed): the scatter that column ``j`` of Cᵀ
    performs. Below: that column of Cᵀ, laid on its side.

    Parameters
    ----------
    spec : ConvSpec
        A 1-D or 2-D geometry (the forward convolution; for a transposed
        layer use :meth:`ConvSpec.from_transposed`).
    output_index : int or tuple of int
        A row of C, or a forward output position (``(i, j)`` in 2-D),
        optionally preceded by the output channel.
    transposed : bool
        Draw the transposed layer's scatter instead of the forward gather.
    width, height : float
        Room for the picture in pt.

    Returns
    -------
    str
        A ``tikzpicture`` environment (needs ``tikz``).

    Raises
    ------
    ConvSpecError
        For 3-D specs, an index outside the output, or a ``padding_mode``
        other than ``'zeros'`` (the figure draws taps in the padding as
        reading nothing; :func:`sparsity_figure` draws those layers).

    Examples
    --------
    >>> tex = placement_figure(ConvSpec((4, 4), 3), (1, 1))
    >>> tex.count("fill=tap"), tex.count(r"\fill[tap")
    (18, 9)
    """
    check_figure_size(spec, placement=True)
    check_zero_padding(spec, "placement_figure")
    _check_room(width, height)
    channel, *position = _resolve_index(spec, output_index)
    geo = _as_2d(spec)
    if spec.ndim == 1:
        position = [0, *position]
    (in_h, in_w), (out_h, out_w) = geo["input"], geo["output"]
    (pad_top, pad_bottom), (pad_left, pad_right) = geo["padding"]
    taps = math.prod(spec.kernel_size)
    colors = tap_colors(taps)
    reach = [
        [position[a] * geo["stride"][a] - geo["padding"][a][0] + t * geo["dilation"][a]
         for t in range(geo["kernel"][a])]
        for a in range(2)
    ]
    # Large grids are drawn as a window around the placement, its range in the title.
    rows = _window(-pad_top, in_h + max(pad_bottom, 0), min(reach[0]), max(reach[0]), _WINDOW)
    wide = 1 if spec.ndim == 2 else 2  # a 1-D grid is one row: it may be twice as long
    cols = _window(
        -pad_left, in_w + max(pad_right, 0), min(reach[1]), max(reach[1]), wide * _WINDOW
    )
    out_rows = _window(0, out_h, position[0], position[0], _SMALL_WINDOW)
    out_cols = _window(0, out_w, position[1], position[1], wide * _SMALL_WINDOW)
    grid_h, grid_w = rows[1] - rows[0], cols[1] - cols[0]
    small_h, small_w = out_rows[1] - out_rows[0], out_cols[1] - out_cols[0]
    total = width * _PT - 0.1
    legend_cell, legend_width, legend_height = _legend_size(spec, min(3.0, total / 4))
    where = ",".join(str(i) for i in (position if spec.ndim == 2 else position[1:]))
    if spec.out_channels > 1:
        where = f"{channel};{where}"
    big_title = ("output" if transposed else "input") + f" ${dims_latex(spec.input_shape)}$"
    notes = _window_note(spec.ndim, rows, cols, (in_h, in_w), (pad_top, pad_left))
    title_width = max(_small_text(line) for line in [big_title, *notes])
    big_title = "\\\\".join([big_title, *notes])  # the window's range under the title
    small_title = f"input $y_{{{where}}}$" if transposed else f"output, $y_{{{where}}}$ marked"
    if (out_rows[1] - out_rows[0], out_cols[1] - out_cols[0]) != (out_h, out_w):
        small_title += " (part)"
    # Each grid sits centred in a slot as wide as it or its title, whichever is wider.
    small = min(0.55, min(0.55 * small_w, 0.28 * total) / small_w)
    if height is not None:
        small = min(small, (height * _PT - 2.2) / small_h / 2)
    small_slot = max(small_w * small, _small_text(small_title))
    room = total - legend_width - small_slot - 2 * _GAP
    cell = min(0.6, room / grid_w)
    if height is not None:
        cell = min(cell, (height * _PT - 2.6) / grid_h)
    big_slot = max(grid_w * cell, title_width)

    def box(row: float, col: float, size: float, x0: float = 0.0, y0: float = 0.0) -> str:
        corner = f"({_fmt(x0 + col * size)},{_fmt(y0 - row * size)})"
        return f"{corner} rectangle +({_fmt(size)},-{_fmt(size)})"

    # The big grid: the forward input (the transposed layer's output), padded.
    # The transposed layer reads left to right: its small input, then its big output.
    big_slot_x, small_slot_x = 0.0, big_slot + _GAP
    if transposed:
        big_slot_x, small_slot_x = small_slot + _GAP, 0.0
    # Where cell (0, 0) of each grid is drawn, so that the window starts at its slot.
    origin_x = big_slot_x + (big_slot - grid_w * cell) / 2 - cols[0] * cell
    origin_y = -0.5 + rows[0] * cell
    small_x = small_slot_x + (small_slot - small_w * small) / 2 - out_cols[0] * small
    small_y = -0.5 + out_rows[0] * small
    lines = [r"\begin{tikzpicture}", *_color_definitions(taps)]
    lines.append(r"\begin{scope}[local bounding box=matrix]")
    # Grid lines, not cell outlines: neighbours then share one stroke.
    lines += _grid(origin_x, origin_y, cell, rows, cols, "black!30, dashed")
    inside_rows = (max(0, rows[0]), min(in_h, rows[1]))
    inside_cols = (max(0, cols[0]), min(in_w, cols[1]))
    lines += _grid(origin_x, origin_y, cell, inside_rows, inside_cols, "black!50")
    covered: dict[tuple[int, int], int] = {}
    for tap in range(taps):
        kr, kc = divmod(tap, geo["kernel"][1])
        r, c = reach[0][kr], reach[1][kc]
        inside = 0 <= r < in_h and 0 <= c < in_w
        if inside:
            covered[(r, c)] = tap
            style = f"fill=tap{_letters(tap)}, draw=black!60"
        else:
            style = (
                f"draw=tap{_letters(tap)}!60!black, dashed, thick, fill=tap{_letters(tap)}, "
                "fill opacity=0.3"
            )
        lines.append(f"\\filldraw[{style}] {box(r, c, cell, origin_x, origin_y)};")
    if cell >= 0.55 and grid_w <= 12 and grid_h <= 12:
        for r in range(max(0, rows[0]), min(in_h, rows[1])):
            for c in range(max(0, cols[0]), min(in_w, cols[1])):
                index = f"{r},{c}" if spec.ndim == 2 else f"{c}"
                tap = covered.get((r, c))
                color = "black!70" if tap is None else text_color(colors[tap])
                if transposed:  # the stamped weights, on the transposed layer's output
                    if tap is None:
                        continue
                    label = f"${_tap_name(spec, tap)}$"
                else:
                    label = f"$x_{{{index}}}$"
                lines.append(
                    f"\\node[font=\\tiny, text={color}] at "
                    f"({_fmt(origin_x + (c + 0.5) * cell)},{_fmt(origin_y - (r + 0.5) * cell)})"
                    f" {{{label}}};"
                )
    lines += _border(origin_x, origin_y, cell, (in_h, in_w), rows, cols)
    # The small grid: the forward output (the transposed layer's input).
    lines.append(f"\\fill[black!70] {box(position[0], position[1], small, small_x, small_y)};")
    lines += _grid(small_x, small_y, small, out_rows, out_cols, "black!50")
    if transposed:
        source = (small_x + (position[1] + 0.5) * small, small_y - (position[0] + 0.5) * small)
        # The tip stops at the first tap's left edge, clear of its label.
        target = (origin_x + reach[1][0] * cell, origin_y - (reach[0][0] + 0.5) * cell)
        lines.append(
            f"\\draw[->, thick, black!70] ({_fmt(source[0])},{_fmt(source[1])}) "
            f"to[bend right=25] ({_fmt(target[0])},{_fmt(target[1])});"
        )
    lines.append(r"\end{scope}")
    # Titles above the grids.
    lines.append(
        f"\\node[anchor=south, inner sep=1pt, font=\\footnotesize, align=center] (bigtitle) at "
        f"({_fmt(big_slot_x + big_slot / 2)},-0.45) {{{big_title}}};"
    )
    lines.append(
        f"\\node[anchor=south, inner sep=1pt, font=\\footnotesize] (smalltitle) at "
        f"({_fmt(small_slot_x + small_slot / 2)},-0.45) {{{small_title}}};"
    )
    legend_x = big_slot + small_slot + 2 * _GAP
    lines += _legend(spec, legend_x, 0.0, legend_cell)

    # The row of C (the column of C^T) under everything drawn so far.
    row = int(
        np.ravel_multi_index(
            (channel, *(position if spec.ndim == 2 else position[1:])),
            (spec.out_channels, *spec.output_shape),
        )
    )
    columns, weights = _row_entries(spec, row)
    n_cols = spec.matrix_shape[1]
    lo, hi = 0, n_cols
    if n_cols > MAX_COLS and len(columns):
        lo = max(0, int(columns.min()) - 2)
        hi = min(n_cols, max(lo + 8, int(columns.max()) + 3))
    strip_width = legend_x + legend_width
    strip = min(0.4, (strip_width - 1.4) / (hi - lo))  # room for a \\cdots each side
    drawn_bottom = max(grid_h * cell + 0.5, small_h * small + 0.5, legend_height)
    label_y = -drawn_bottom - 0.25
    noun = "entries" if transposed else "columns"
    shown = f"all {n_cols} {noun}" if (lo, hi) == (0, n_cols) else (
        f"{noun} {lo}--{hi - 1} of {n_cols}"
    )
    if transposed:
        name = f"column {row} of $C^{{\\mathsf{{T}}}}$ (row {row} of $C$) on its side, {shown}"
    else:
        name = f"row {row} of $C$, {shown}"
    lines.append(_caption(0.0, label_y, strip_width, name))
    lines_of_caption = math.ceil(_small_text(name) / strip_width)
    y0 = label_y - 0.4 * lines_of_caption - 0.15
    strip_x = 0.5 if lo > 0 else 0.0
    lines.append(r"\begin{scope}[local bounding box=strip]")
    for c, flat in zip(columns, weights, strict=True):
        if lo <= c < hi:
            tap = int(flat) % taps
            lines.append(f"\\fill[tap{_letters(tap)}] {box(0, c - lo, strip, strip_x, y0)};")
    lines.append(
        f"\\draw ({_fmt(strip_x)},{_fmt(y0)}) rectangle "
        f"({_fmt(strip_x + (hi - lo) * strip)},{_fmt(y0 - strip)});"
    )
    if lo > 0:
        lines.append(
            f"\\node[anchor=east, inner sep=1pt] at ({_fmt(strip_x)},{_fmt(y0 - strip / 2)}) "
            "{$\\cdots$};"
        )
    if hi < n_cols:
        lines.append(
            f"\\node[anchor=west, inner sep=1pt] at ({_fmt(strip_x + (hi - lo) * strip)},"
            f"{_fmt(y0 - strip / 2)}) {{$\\cdots$}};"
        )
    lines.append(r"\end{scope}")
    lines.append(r"\end{tikzpicture}")
    return "\n".join(lines)
