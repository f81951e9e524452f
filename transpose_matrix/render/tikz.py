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
import itertools
import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConvSpecError, ConvSpecTypeError
from ..geometry.shapes import describe
from ..geometry.spec import ConvSpec
from ..matrices.conv import conv_matrix_entries, conv_matrix_terms
from ..matrices.names import tap_index
from ..matrices.resampling import padding_source
from ..memory import check_index_range
from .elision import Kept, keep_around, keep_ranges
from .frames import check_drawable, check_zero_padding
from .latex import dims_latex
from .measure import text_width
from .views import tap_name

__all__ = [
    "MAX_PICKED",
    "PlacementLayout",
    "SparsityLayout",
    "check_figure_size",
    "placement_figure",
    "placement_layout",
    "sparsity_figure",
    "sparsity_layout",
    "sparsity_window",
    "tap_colors",
    "text_color",
]

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
    """The tap's name (``w_{1,2}``), or its bare index when weights also name channels."""
    if spec.in_channels == 1 and spec.out_channels == 1:
        return tap_name(spec, tap, latex=True)
    return ",".join(str(i) for i in tap_index(spec.kernel_size, tap))


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


#: Most rows and columns a sparsity figure draws when the user picks them.
MAX_PICKED = 256
# Width (in cells) of the gap drawn between two shown ranges of rows or columns.
_GAP_CELLS = 1.0


@dataclass(frozen=True)
class _AxisLayout:
    """Where each shown index of one axis of C is drawn, in cells from the start."""

    kept: Kept
    offsets: tuple[float, ...]  # one per kept index
    gaps: tuple[float, ...]  # centre of each gap between two shown ranges
    extent: float  # length of the drawn axis, in cells

    @classmethod
    def of(cls, kept: Kept) -> _AxisLayout:
        offsets, gaps, at = [], [], 0.0
        previous: int | None = None
        for index in kept.indices:
            if previous is not None and index != previous + 1:
                gaps.append(at + _GAP_CELLS / 2)
                at += _GAP_CELLS
            offsets.append(at)
            at += 1.0
            previous = index
        return cls(kept, tuple(offsets), tuple(gaps), at)

    def edges(self, channels: int, shape: Sequence[int]) -> list[tuple[float, bool]]:
        """Offsets of the rules: before a channel (heavy) or a row of the grid (light)."""
        size = math.prod(shape)
        row = shape[-1] if len(shape) > 1 else 0
        found = []
        indices = self.kept.indices
        for position in range(1, len(indices)):
            index = indices[position]
            if index != indices[position - 1] + 1:
                continue  # a gap separates them already
            if channels > 1 and index % size == 0:
                found.append((self.offsets[position], True))
            elif row and index % row == 0:
                found.append((self.offsets[position], False))
        return found

    def span(self, start: int, stop: int) -> tuple[float, float] | None:
        """Drawn extent ``(from, to)`` of the shown indices in ``[start, stop)``."""
        inside = [o for i, o in zip(self.kept.indices, self.offsets, strict=True)
                  if start <= i < stop]
        return (min(inside), max(inside) + 1.0) if inside else None


@dataclass(frozen=True)
class SparsityLayout:
    """What a sparsity figure draws, as data: the TikZ printer only prints it.

    ``rows`` and ``cols`` lay out the shown rows and columns of C (ranges
    with gaps between them); ``squares`` are ``(row position, column
    position, taps)`` of every stored entry shown; sizes are in cm.
    """

    spec: ConvSpec
    rows: _AxisLayout
    cols: _AxisLayout
    squares: tuple[tuple[int, int, tuple[int, ...]], ...]
    cell: float
    left: float
    top: float
    legend: tuple[float, float, float]  # cell, width, height
    caption: str


def _parse_ranges(name: str, value: Any, size: int) -> Kept:
    """``[(start, stop), …]`` (or one ``range``) of an axis of ``size`` as a :class:`Kept`."""
    if isinstance(value, range):
        value = [(value.start, value.stop)]
    try:
        pairs = [(operator.index(a), operator.index(b)) for a, b in value]
    except (TypeError, ValueError):
        raise ConvSpecTypeError(
            f"{name}={describe(value)} must be a list of (start, stop) ranges of ints",
            field=name,
        ) from None
    for a, b in pairs:
        if not 0 <= a < b <= size:
            raise ConvSpecError(
                f"{name}: the range {a}:{b} must satisfy 0 <= start < stop <= {size} (C has "
                f"{size} {'rows' if name == 'rows' else 'columns'})",
                field=name,
            )
    kept = keep_ranges(size, pairs)
    if len(kept) > MAX_PICKED:
        raise ConvSpecError(
            f"{name}: {len(kept)} picked, above the {MAX_PICKED} a figure draws", field=name
        )
    return kept


def _read_columns(spec: ConvSpec, rows: Sequence[int], channels: Sequence[int]) -> set[int]:
    """Columns of C (of ``channels`` only) that the ``rows`` read, from the geometry."""
    found: set[int] = set()
    in_shape = (spec.in_channels, *spec.input_shape)
    for row in rows:
        position = np.unravel_index(row, (spec.out_channels, *spec.output_shape))[1:]
        axes = []
        for a in range(spec.ndim):
            coord = (int(position[a]) * spec.stride[a] - spec.padding[a][0]
                     + np.arange(spec.kernel_size[a]) * spec.dilation[a])
            source = padding_source(coord, spec.input_shape[a], spec.padding_mode)
            axes.append(sorted({int(i) for i in source if i >= 0}))
        for c in channels:
            for where in itertools.product(*axes):
                found.add(int(np.ravel_multi_index((c, *where), in_shape)))
    return found


def _clusters(indices: set[int], size: int, margin: int = 1) -> list[tuple[int, int]]:
    """Ranges around runs of ``indices`` (with ``margin`` each side), near runs merged."""
    ranges: list[list[int]] = []
    for i in sorted(indices):
        a, b = max(0, i - margin), min(size, i + margin + 1)
        if ranges and a <= ranges[-1][1] + 1:
            ranges[-1][1] = max(ranges[-1][1], b)
        else:
            ranges.append([a, b])
    return [(a, b) for a, b in ranges]


def sparsity_window(spec: ConvSpec, max_rows: int = MAX_ROWS,
                    max_cols: int = MAX_COLS) -> tuple[Kept, Kept]:
    """The rows and columns of C a sparsity figure shows by default.

    A C that fits ``max_rows × max_cols`` is shown whole. A larger one
    shows its structure, for every group (the first two and the last when
    there are more than three):

    * when a channel's grid is small, whole channel blocks: the first output
      channels' rows and the first input channels' columns of the group;
    * otherwise runs of output positions along a row of the output grid, at
      the top-left corner (where the padding is) and in the interior, for
      the group's first two output channels; and the columns those runs read
      in the group's first input channel(s), one range per kernel row's
      reach (the first ranges and the last when they do not all fit).
    """
    n_rows, n_cols = spec.matrix_shape
    if n_rows <= max_rows and n_cols <= max_cols:
        return Kept.all(n_rows), Kept.all(n_cols)
    groups = list(range(spec.groups)) if spec.groups <= 3 else [0, 1, spec.groups - 1]
    count = len(groups)
    out_per, in_per = spec.out_channels // spec.groups, spec.in_channels // spec.groups
    out_size, in_size = math.prod(spec.output_shape), math.prod(spec.input_shape)
    if count * out_size <= max_rows and count * in_size <= max_cols * 5 // 4:
        outs = min(out_per, max_rows // (count * out_size))
        ins = min(in_per, max(1, max_cols // (count * in_size)))
        rows = [(g * out_per * out_size, (g * out_per + outs) * out_size) for g in groups]
        cols = [(g * in_per * in_size, (g * in_per + ins) * in_size) for g in groups]
        return keep_ranges(n_rows, rows), keep_ranges(n_cols, cols)
    width = spec.output_shape[-1]
    kernel_rows = spec.kernel_size[0] if spec.ndim == 2 else 1
    channels = min(in_per, 2) if kernel_rows <= 3 else 1
    span = spec.dilation[-1] * (spec.kernel_size[-1] - 1) + 1
    per_range = max_cols // count // max(1, min(3, kernel_rows) * channels)
    run = max(1, min(width, (per_range - span - 2) // spec.stride[-1] + 1))
    starts = [0]  # the top-left corner: the padding's border
    if spec.ndim == 2 and spec.output_shape[0] > 4:
        starts.append(spec.output_shape[0] // 2 * width + max(0, width // 2 - run // 2))
    elif spec.ndim == 1 and width > 2 * run:
        starts.append(width // 2 - run // 2)
    outs = max(1, min(out_per, 2, max_rows // (count * len(starts) * run)))
    run = min(run, max(1, max_rows // (count * len(starts) * outs)))
    row_ranges: list[tuple[int, int]] = []
    col_ranges: list[tuple[int, int]] = []
    for g in groups:
        first = g * out_per * out_size
        picked: list[int] = []
        for o in range(outs):
            for start in starts:
                stop = min(start + run, (start // width + 1) * width)
                row_ranges.append((first + o * out_size + start, first + o * out_size + stop))
                picked += range(first + o * out_size + start, first + o * out_size + stop)
        reach = _clusters(_read_columns(spec, picked, range(g * in_per, g * in_per + channels)),
                          n_cols, margin=0)
        room = max_cols // count
        kept: list[tuple[int, int]] = []
        for a, b in reach:  # the first ranges while they fit, then the last one
            if sum(y - x for x, y in kept) + (b - a) + (reach[-1][1] - reach[-1][0]) > room:
                break
            kept.append((a, b))
        if reach and reach[-1] not in kept:
            kept.append((reach[-1][0], min(reach[-1][1], reach[-1][0] + room)))
        col_ranges += kept
    return keep_ranges(n_rows, row_ranges), keep_ranges(n_cols, col_ranges)


def _ranges_text(kept: Kept, letter: str, channels: int, shape: Sequence[int]) -> str:
    """``0--7 ($y_{0,0}$--$y_{0,7}$), 28--35 (…)``: the shown ranges and what they hold."""
    def name(flat: int) -> str:
        index = [int(i) for i in np.unravel_index(flat, (channels, *shape))]
        where = ",".join(str(i) for i in index[1:])
        if channels > 1:
            where = f"{index[0]};{where}"
        return f"${letter}_{{{where}}}$"

    parts = []
    for part in kept.ranges:
        first, last = part.start, part.stop - 1
        text = f"{first}" if first == last else f"{first}--{last}"
        label = name(first) if first == last else f"{name(first)}--{name(last)}"
        parts.append(f"{text} ({label})")
    return ", ".join(parts)


def sparsity_layout(spec: ConvSpec, *, rows: Any = None, cols: Any = None,
                    max_rows: int = MAX_ROWS, max_cols: int = MAX_COLS, width: float = 345.0,
                    height: float | None = None) -> SparsityLayout:
    """The layout of :func:`sparsity_figure` (same parameters), computed as data."""
    check_figure_size(spec, placement=False)
    for name, value in (("max_rows", max_rows), ("max_cols", max_cols)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConvSpecError(f"{name}={value!r} must be a positive integer", field=name)
    _check_room(width, height)
    n_rows, n_cols = spec.matrix_shape
    auto_rows, auto_cols = (None, None)
    if rows is None or cols is None:
        auto_rows, auto_cols = sparsity_window(spec, max_rows, max_cols)
    kept_rows = auto_rows if rows is None else _parse_ranges("rows", rows, n_rows)
    kept_cols = auto_cols if cols is None else _parse_ranges("cols", cols, n_cols)
    assert kept_rows is not None and kept_cols is not None
    row_axis, col_axis = _AxisLayout.of(kept_rows), _AxisLayout.of(kept_cols)
    cut_cols = not kept_cols.whole
    total = width * _PT - 0.1
    legend = _legend_size(spec, min(4.0, total / 3))
    left = 0.9 if spec.out_channels > 1 else 0.0  # room for the row channel labels
    top = 0.45 if spec.in_channels > 1 else 0.0  # and for the column channel labels
    room = total - left - legend[1] - _GAP - (0.45 if cut_cols else 0.0)
    cell = min(0.4, room / col_axis.extent)
    if height is not None:
        cell = min(cell, (height * _PT - 1.6 - top) / row_axis.extent)
    terms = conv_matrix_terms(spec, np.asarray(kept_rows.indices), np.asarray(kept_cols.indices))
    squares = tuple(
        (r, c, tuple(flats)) for r, line in enumerate(terms) for c, flats in enumerate(line)
        if flats
    )
    caption = (
        f"$C$: {n_rows} rows (output positions) $\\times$ {n_cols} columns (input positions)."
    )
    if not (kept_rows.whole and kept_cols.whole):
        caption += (
            f" Shown: rows {_ranges_text(kept_rows, 'y', spec.out_channels, spec.output_shape)};"
            f" columns {_ranges_text(kept_cols, 'x', spec.in_channels, spec.input_shape)}."
        )
        if rows is None and cols is None and spec.groups > 1:
            caption += " Each group's block is shown (dashed)."
        if len(kept_rows.ranges) > 1 or len(kept_cols.ranges) > 1:
            caption += " Dotted lines mark the rows and columns left out."
    if spec.padding_mode != "zeros":
        mixed = any(len(flats) > 1 for _, _, flats in squares)
        caption += (
            f" With {spec.padding_mode} padding the border copies input entries, so an entry "
            "can sum several taps"
            + (": an outlined, striped square shows each tap's colour." if mixed else ".")
        )
    return SparsityLayout(spec, row_axis, col_axis, squares, cell, left, top, legend, caption)


def sparsity_figure(
    spec: ConvSpec,
    *,
    rows: Any = None,
    cols: Any = None,
    max_rows: int = MAX_ROWS,
    max_cols: int = MAX_COLS,
    width: float = 345.0,
    height: float | None = None,
) -> str:
    r"""TikZ picture of the sparsity pattern of C, entries coloured by kernel tap.

    Each shown row of C (one output position) is a row of squares, each
    shown column (one input position) a column; a square is drawn wherever C
    stores an entry, in the colour of the kernel tap it holds (all channel
    pairs share the colours of their spatial tap). Grey rules separate the
    blocks of one row of the spatial grid, heavy rules the channels, and with
    ``groups > 1`` dashed frames mark the blocks where a group's output
    channels read its input channels. The legend is the kernel itself.

    A C larger than ``max_rows × max_cols`` is shown by a window chosen to
    show its structure (:func:`sparsity_window`: every group's block, the
    border and an interior run of positions, each kernel row's reach); the
    caption says which rows and columns are shown, and ``rows``/``cols``
    pick them instead.

    With a ``padding_mode`` other than ``'zeros'`` an entry can sum several
    taps (those reading the same input entry through the padding); its
    square is split into vertical stripes, one in each tap's colour, left to
    right in tap order, and outlined; the caption says so.

    Parameters
    ----------
    spec : ConvSpec
        A 1-D or 2-D geometry.
    rows, cols : list of (start, stop), optional
        The rows / columns of C to draw (ranges, gaps drawn between them; at
        most :data:`MAX_PICKED` in all); default: :func:`sparsity_window`.
    max_rows, max_cols : int
        The size of the default window.
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
        For 3-D specs, limits below 1, ranges outside C, or a room outside
        100–2000 pt.

    Examples
    --------
    >>> tex = sparsity_figure(ConvSpec((4, 4), 3))
    >>> tex.startswith(r"\begin{tikzpicture}"), tex.count(r"\fill[tap")
    (True, 36)
    >>> "Shown: rows 0--1" in sparsity_figure(ConvSpec((4, 4), 3), rows=[(0, 2)])
    True
    """
    layout = sparsity_layout(spec, rows=rows, cols=cols, max_rows=max_rows,
                             max_cols=max_cols, width=width, height=height)
    return _print_sparsity(layout)


def _print_sparsity(layout: SparsityLayout) -> str:
    """The TikZ of a :class:`SparsityLayout`."""
    spec, cell = layout.spec, layout.cell
    rows, cols = layout.rows, layout.cols
    taps = math.prod(spec.kernel_size)
    matrix_width, matrix_height = cols.extent * cell, rows.extent * cell
    cut_rows, cut_cols = not rows.kept.whole, not cols.kept.whole
    lines = [r"\begin{tikzpicture}", *_color_definitions(taps)]
    lines.append(f"\\begin{{scope}}[xshift={_fmt(layout.left)}cm, local bounding box=matrix]")
    for r, c, flats in layout.squares:
        x, y = cols.offsets[c] * cell, (rows.offsets[r] + 1) * cell
        stripe = cell / len(flats)  # one stripe per tap the entry sums
        for position, flat in enumerate(flats):
            lines.append(
                f"\\fill[tap{_letters(flat % taps)}] ({_fmt(x + position * stripe)},"
                f"-{_fmt(y)}) rectangle +({_fmt(stripe)},{_fmt(cell)});"
            )
        if len(flats) > 1:
            # Outlined, so a striped square does not read as several squares.
            lines.append(
                f"\\draw[black!70, line width=0.4pt] ({_fmt(x)},-{_fmt(y)})"
                f" rectangle +({_fmt(cell)},{_fmt(cell)});"
            )
    for at, heavy in cols.edges(spec.in_channels, spec.input_shape):
        style = "black!75, line width=0.8pt" if heavy else "black!30"
        lines.append(f"\\draw[{style}] ({_fmt(at * cell)},0) -- ({_fmt(at * cell)},"
                     f"-{_fmt(matrix_height)});")
    for at, heavy in rows.edges(spec.out_channels, spec.output_shape):
        style = "black!75, line width=0.8pt" if heavy else "black!30"
        lines.append(f"\\draw[{style}] (0,-{_fmt(at * cell)}) -- ({_fmt(matrix_width)},"
                     f"-{_fmt(at * cell)});")
    for at in cols.gaps:  # the columns left out
        lines.append(f"\\draw[black!60, dotted, thick] ({_fmt(at * cell)},0) -- "
                     f"({_fmt(at * cell)},-{_fmt(matrix_height)});")
    for at in rows.gaps:
        lines.append(f"\\draw[black!60, dotted, thick] (0,-{_fmt(at * cell)}) -- "
                     f"({_fmt(matrix_width)},-{_fmt(at * cell)});")
    if spec.groups > 1:
        lines += _group_frames(spec, rows, cols, cell)
    lines.append(f"\\draw (0,0) rectangle ({_fmt(matrix_width)},-{_fmt(matrix_height)});")
    lines += _channel_labels(spec, rows, cols, cell)
    lines.append(r"\end{scope}")
    if cut_cols:
        lines.append(
            f"\\node[anchor=west, inner sep=1pt] (cdots) at ({_fmt(layout.left + matrix_width)},"
            f"-{_fmt(matrix_height / 2)}) {{$\\cdots$}};"
        )
    if cut_rows:
        lines.append(
            f"\\node[anchor=north, inner sep=1pt] (vdots) at "
            f"({_fmt(layout.left + matrix_width / 2)},-{_fmt(matrix_height)}) {{$\\vdots$}};"
        )
    legend_cell, legend_width, legend_height = layout.legend
    legend_x = layout.left + matrix_width + (0.45 if cut_cols else 0.0) + _GAP
    lines += _legend(spec, legend_x, layout.top, legend_cell)
    bottom = max(matrix_height + (0.55 if cut_rows else 0.0), legend_height - layout.top) + 0.2
    lines.append(_caption(0.0, -bottom, legend_x + legend_width, layout.caption))
    lines.append(r"\end{tikzpicture}")
    return "\n".join(lines)


def _group_frames(spec: ConvSpec, rows: _AxisLayout, cols: _AxisLayout,
                  cell: float) -> list[str]:
    """Dashed frames around the shown part of each (group × group) block."""
    rows_per = spec.out_channels // spec.groups * math.prod(spec.output_shape)
    cols_per = spec.in_channels // spec.groups * math.prod(spec.input_shape)
    lines = []
    # Only the groups a shown row and a shown column belong to (not all 2**40).
    shown = {i // rows_per for i in rows.kept.indices} & {j // cols_per for j in cols.kept.indices}
    for group in sorted(shown):
        down = rows.span(group * rows_per, (group + 1) * rows_per)
        across = cols.span(group * cols_per, (group + 1) * cols_per)
        if down is None or across is None:
            continue
        lines.append(
            f"\\draw[black, dashed, line width=0.8pt] ({_fmt(across[0] * cell)},"
            f"-{_fmt(down[0] * cell)}) rectangle ({_fmt(across[1] * cell)},"
            f"-{_fmt(down[1] * cell)});"
        )
    return lines


def _channel_labels(spec: ConvSpec, rows: _AxisLayout, cols: _AxisLayout,
                    cell: float) -> list[str]:
    """``c = 0, 1, …`` above the input-channel columns, ``o = …`` left of the output rows."""
    lines = []
    axes = [
        (spec.in_channels, math.prod(spec.input_shape), cols, "c", "anchor=south",
         "({at},0.05)"),
        (spec.out_channels, math.prod(spec.output_shape), rows, "o", "anchor=east",
         "(-0.05,-{at})"),
    ]
    for channels, size, axis, letter, anchor, where in axes:
        if channels == 1:
            continue
        shown = sorted({i // size for i in axis.kept.indices})
        for channel in shown:
            span = axis.span(channel * size, (channel + 1) * size)
            if span is None or span[1] - span[0] < 2:  # too narrow for a label
                continue
            at = _fmt((span[0] + span[1]) / 2 * cell)
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

def _strip_window(columns: np.ndarray, n_cols: int) -> Kept:
    """The columns the strip of a placement figure shows: all, or ranges around its entries.

    A row of C reads a few runs of columns (one per kernel row and input
    channel); each is shown with a column of margin, the first runs and the
    last while they fit :data:`MAX_COLS`.
    """
    if n_cols <= MAX_COLS or not len(columns):
        return Kept.all(n_cols) if n_cols <= MAX_COLS else Kept(n_cols, (range(MAX_COLS),))
    runs = _clusters({int(c) for c in columns}, n_cols, margin=1)
    kept: list[tuple[int, int]] = []
    last = runs[-1][1] - runs[-1][0]
    for a, b in runs[:-1]:
        if sum(y - x for x, y in kept) + (b - a) + last > MAX_COLS:
            break
        kept.append((a, b))
    kept.append((runs[-1][0], min(runs[-1][1], runs[-1][0] + MAX_COLS)))
    return keep_ranges(n_cols, kept)


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
    return _print_placement(
        placement_layout(spec, output_index, transposed=transposed, width=width, height=height)
    )


@dataclass(frozen=True)
class _Grid:
    """One grid of a placement figure: the window drawn, cell size, origin and title (cm)."""

    rows: tuple[int, int]
    cols: tuple[int, int]
    cell: float
    x: float  # where cell (0, 0) is drawn (it may lie outside the window)
    y: float
    slot_x: float  # the grid is centred in a slot as wide as it or its title
    slot: float
    title: str


@dataclass(frozen=True)
class PlacementLayout:
    """What a placement figure draws, as data: the TikZ printer only prints it.

    ``big`` is the forward input (the transposed layer's output) with its
    padding, ``small`` the forward output; ``taps`` lists ``(tap, row, col,
    inside)`` of the placed kernel on the big grid; the strip under both is
    the row of C (column of Cᵀ) laid out by ``strip``; sizes are in cm.
    """

    spec: ConvSpec
    transposed: bool
    position: tuple[int, int]  # on the small grid (a 1-D layer is one row)
    shape: tuple[int, int]  # of the big grid, without padding
    big: _Grid
    small: _Grid
    taps: tuple[tuple[int, int, int, bool], ...]
    labels: bool  # the big grid's cells are large enough for their names
    legend_x: float
    legend_cell: float
    row: int
    entries: tuple[tuple[int, int], ...]  # (column, tap) of the strip's entries
    strip: _AxisLayout
    strip_cell: float
    strip_x: float
    strip_y: float
    caption_y: float
    caption_width: float
    caption: str


def placement_layout(spec: ConvSpec, output_index: int | Sequence[int] = 0, *,
                     transposed: bool = False, width: float = 345.0,
                     height: float | None = None) -> PlacementLayout:
    """The layout of :func:`placement_figure` (same parameters), computed as data."""
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
    reach = [
        [position[a] * geo["stride"][a] - geo["padding"][a][0] + t * geo["dilation"][a]
         for t in range(geo["kernel"][a])]
        for a in range(2)
    ]
    # Large grids are drawn as a window around the placement, its range in the title.
    rows = keep_around(-pad_top, in_h + max(pad_bottom, 0), min(reach[0]), max(reach[0]), _WINDOW)
    wide = 1 if spec.ndim == 2 else 2  # a 1-D grid is one row: it may be twice as long
    cols = keep_around(
        -pad_left, in_w + max(pad_right, 0), min(reach[1]), max(reach[1]), wide * _WINDOW
    )
    out_rows = keep_around(0, out_h, position[0], position[0], _SMALL_WINDOW)
    out_cols = keep_around(0, out_w, position[1], position[1], wide * _SMALL_WINDOW)
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
    # The transposed layer reads left to right: its small input, then its big output.
    big_slot_x, small_slot_x = 0.0, big_slot + _GAP
    if transposed:
        big_slot_x, small_slot_x = small_slot + _GAP, 0.0
    # Where cell (0, 0) of each grid is drawn, so that the window starts at its slot.
    big = _Grid(rows, cols, cell, big_slot_x + (big_slot - grid_w * cell) / 2 - cols[0] * cell,
                -0.5 + rows[0] * cell, big_slot_x, big_slot, big_title)
    small_grid = _Grid(
        out_rows, out_cols, small,
        small_slot_x + (small_slot - small_w * small) / 2 - out_cols[0] * small,
        -0.5 + out_rows[0] * small, small_slot_x, small_slot, small_title,
    )
    placed = []
    for tap in range(taps):
        kr, kc = divmod(tap, geo["kernel"][1])
        r, c = reach[0][kr], reach[1][kc]
        placed.append((tap, r, c, 0 <= r < in_h and 0 <= c < in_w))
    legend_x = big_slot + small_slot + 2 * _GAP

    # The row of C (the column of C^T) under everything drawn so far.
    row = int(
        np.ravel_multi_index(
            (channel, *(position if spec.ndim == 2 else position[1:])),
            (spec.out_channels, *spec.output_shape),
        )
    )
    columns, weights = _row_entries(spec, row)
    kept = _strip_window(columns, spec.matrix_shape[1])
    strip_axis = _AxisLayout.of(kept)
    strip_width = legend_x + legend_width
    strip = min(0.4, (strip_width - 1.4) / strip_axis.extent)  # room for a \\cdots each side
    drawn_bottom = max(grid_h * cell + 0.5, small_h * small + 0.5, legend_height)
    label_y = -drawn_bottom - 0.25
    noun = "entries" if transposed else "columns"
    shown = f"all {kept.size} {noun}" if kept.whole else (
        f"{noun} " + ", ".join(f"{part.start}--{part.stop - 1}" for part in kept.ranges)
        + f" of {kept.size}"
    )
    if transposed:
        name = f"column {row} of $C^{{\\mathsf{{T}}}}$ (row {row} of $C$) on its side, {shown}"
    else:
        name = f"row {row} of $C$, {shown}"
    lines_of_caption = math.ceil(_small_text(name) / strip_width)
    return PlacementLayout(
        spec=spec, transposed=transposed, position=(position[0], position[1]),
        shape=(in_h, in_w), big=big, small=small_grid, taps=tuple(placed),
        labels=cell >= 0.55 and grid_w <= 12 and grid_h <= 12, legend_x=legend_x,
        legend_cell=legend_cell, row=row,
        entries=tuple((int(c), int(flat) % taps) for c, flat in zip(columns, weights, strict=True)),
        strip=strip_axis, strip_cell=strip, strip_x=0.5 if kept.span()[0] > 0 else 0.0,
        strip_y=label_y - 0.4 * lines_of_caption - 0.15, caption_y=label_y,
        caption_width=strip_width, caption=name,
    )


def _box(row: float, col: float, size: float, x0: float = 0.0, y0: float = 0.0) -> str:
    corner = f"({_fmt(x0 + col * size)},{_fmt(y0 - row * size)})"
    return f"{corner} rectangle +({_fmt(size)},-{_fmt(size)})"


def _print_placement(layout: PlacementLayout) -> str:
    """The TikZ of a :class:`PlacementLayout`."""
    spec, big, small = layout.spec, layout.big, layout.small
    taps = math.prod(spec.kernel_size)
    colors = tap_colors(taps)
    (in_h, in_w), (r0, c0) = layout.shape, layout.position
    lines = [r"\begin{tikzpicture}", *_color_definitions(taps)]
    lines.append(r"\begin{scope}[local bounding box=matrix]")
    # Grid lines, not cell outlines: neighbours then share one stroke.
    lines += _grid(big.x, big.y, big.cell, big.rows, big.cols, "black!30, dashed")
    inside_rows = (max(0, big.rows[0]), min(in_h, big.rows[1]))
    inside_cols = (max(0, big.cols[0]), min(in_w, big.cols[1]))
    lines += _grid(big.x, big.y, big.cell, inside_rows, inside_cols, "black!50")
    covered: dict[tuple[int, int], int] = {}
    for tap, r, c, inside in layout.taps:
        if inside:
            covered[(r, c)] = tap
            style = f"fill=tap{_letters(tap)}, draw=black!60"
        else:
            style = (
                f"draw=tap{_letters(tap)}!60!black, dashed, thick, fill=tap{_letters(tap)}, "
                "fill opacity=0.3"
            )
        lines.append(f"\\filldraw[{style}] {_box(r, c, big.cell, big.x, big.y)};")
    if layout.labels:
        for r in range(*inside_rows):
            for c in range(*inside_cols):
                index = f"{r},{c}" if spec.ndim == 2 else f"{c}"
                hit = covered.get((r, c))
                color = "black!70" if hit is None else text_color(colors[hit])
                if layout.transposed:  # the stamped weights, on the transposed layer's output
                    if hit is None:
                        continue
                    label = f"${_tap_name(spec, hit)}$"
                else:
                    label = f"$x_{{{index}}}$"
                lines.append(
                    f"\\node[font=\\tiny, text={color}] at ({_fmt(big.x + (c + 0.5) * big.cell)},"
                    f"{_fmt(big.y - (r + 0.5) * big.cell)}) {{{label}}};"
                )
    lines += _border(big.x, big.y, big.cell, (in_h, in_w), big.rows, big.cols)
    # The small grid: the forward output (the transposed layer's input).
    lines.append(f"\\fill[black!70] {_box(r0, c0, small.cell, small.x, small.y)};")
    lines += _grid(small.x, small.y, small.cell, small.rows, small.cols, "black!50")
    if layout.transposed:
        first = layout.taps[0]
        source = (small.x + (c0 + 0.5) * small.cell, small.y - (r0 + 0.5) * small.cell)
        # The tip stops at the first tap's left edge, clear of its label.
        target = (big.x + first[2] * big.cell, big.y - (first[1] + 0.5) * big.cell)
        lines.append(
            f"\\draw[->, thick, black!70] ({_fmt(source[0])},{_fmt(source[1])}) "
            f"to[bend right=25] ({_fmt(target[0])},{_fmt(target[1])});"
        )
    lines.append(r"\end{scope}")
    # Titles above the grids.
    lines.append(
        f"\\node[anchor=south, inner sep=1pt, font=\\footnotesize, align=center] (bigtitle) at "
        f"({_fmt(big.slot_x + big.slot / 2)},-0.45) {{{big.title}}};"
    )
    lines.append(
        f"\\node[anchor=south, inner sep=1pt, font=\\footnotesize] (smalltitle) at "
        f"({_fmt(small.slot_x + small.slot / 2)},-0.45) {{{small.title}}};"
    )
    lines += _legend(spec, layout.legend_x, 0.0, layout.legend_cell)
    lines.append(_caption(0.0, layout.caption_y, layout.caption_width, layout.caption))
    lines += _print_strip(layout)
    lines.append(r"\end{tikzpicture}")
    return "\n".join(lines)


def _print_strip(layout: PlacementLayout) -> list[str]:
    """The row of C (the column of Cᵀ) on its side, with gaps where entries are left out."""
    axis, cell, x0, y0 = layout.strip, layout.strip_cell, layout.strip_x, layout.strip_y
    at = dict(zip(axis.kept.indices, axis.offsets, strict=True))
    lines = [r"\begin{scope}[local bounding box=strip]"]
    for column, tap in layout.entries:
        if column in at:
            lines.append(f"\\fill[tap{_letters(tap)}] {_box(0, at[column], cell, x0, y0)};")
    right = x0 + axis.extent * cell
    lines.append(f"\\draw ({_fmt(x0)},{_fmt(y0)}) rectangle ({_fmt(right)},{_fmt(y0 - cell)});")
    for gap in axis.gaps:  # entries left out between two shown ranges
        lines.append(
            f"\\fill[white] ({_fmt(x0 + (gap - _GAP_CELLS / 2) * cell)},{_fmt(y0 + 0.05)}) "
            f"rectangle +({_fmt(_GAP_CELLS * cell)},-{_fmt(cell + 0.1)});"
        )
        lines.append(
            f"\\node[inner sep=0pt, font=\\tiny] at ({_fmt(x0 + gap * cell)},"
            f"{_fmt(y0 - cell / 2)}) {{$\\cdots$}};"
        )
    lo, hi = axis.kept.span()
    if lo > 0:
        lines.append(
            f"\\node[anchor=east, inner sep=1pt] at ({_fmt(x0)},{_fmt(y0 - cell / 2)}) "
            "{$\\cdots$};"
        )
    if hi < axis.kept.size - 1:
        lines.append(
            f"\\node[anchor=west, inner sep=1pt] at ({_fmt(right)},{_fmt(y0 - cell / 2)}) "
            "{$\\cdots$};"
        )
    lines.append(r"\end{scope}")
    return lines
