r"""An animation as beamer overlays: one TikZ picture, one overlay per kernel placement.

The grids, the strip of the matrix vector and the legend are drawn once;
each frame's marks (the kernel's footprint, the active cell, the nonzeros
of the row or column, the caption) sit in ``\only<n>``, and what earlier
frames wrote stays from ``\only<n+1->`` on, so a lecturer steps through the
placements with the page-down key. The picture is scaled from the layer's
size to fit a 128 mm × 96 mm beamer frame.

What each overlay shows comes from
:func:`transpose_matrix.render.frames.frame_model`, the same model the GIF
frames are drawn from.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import numpy as np

from . import documents
from .frames import DATA, PAD, ZERO, FrameModel
from .latex import escape_text

__all__ = ["beamer_animation", "beamer_frame", "tex_text"]

# Room for the picture inside a 128 mm × 96 mm frame with a title (cm).
_WIDTH = 10.2
_HEIGHT = 5.6

_COLORS = {
    "tmin": "D6E5F5",
    "tmout": "D6EFE5",
    "tmpad": "F2F2F2",
    "tmgrid": "96A0AC",
    "tmactive": "2B4C7E",
    "tmwritten": "3E9C7C",
}

# The matrix's name in a caption ("row 6 of C", "column 2 of Cᵀ") is maths.
_MATRIX_NAME = re.compile(r"(?<![\w$])C(\$\^\{\\mathsf\{T\}\}\$)?(?![\w$])")


def tex_text(text: str) -> str:
    r"""Plain text for LaTeX text mode (the render layer's escape), with C and Cᵀ as maths.

    >>> tex_text("output (1, 2) = row 6 of Cᵀ")
    'output (1, 2) = row 6 of $C^{\\mathsf{T}}$'
    >>> tex_text("output 3 = row 3 of C")
    'output 3 = row 3 of $C$'
    """
    return _MATRIX_NAME.sub(
        lambda match: "$C^{\\mathsf{T}}$" if match.group(1) else "$C$", escape_text(text)
    )


def _num(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


class _Geometry:
    """Where the planes and the strip go, in cm (y grows downwards, drawn negated)."""

    def __init__(self, model: FrameModel) -> None:
        one_d = model.spec.ndim == 1
        self.one_d = one_d
        src, tgt = model.source, model.target
        self.shapes = {
            side: (1, *plane.drawn_shape) if one_d else plane.drawn_shape
            for side, plane in (("source", src), ("target", tgt))
        }
        channels = {"source": src.channels, "target": tgt.channels}
        hs, ws = self.shapes["source"]
        ht, wt = self.shapes["target"]
        gap_cells = 0.5  # between stacked channels, in cells
        count = model.vector_length
        if one_d:
            wide = max(ws, wt)
            tall = channels["source"] * (1 + gap_cells) + channels["target"] * (1 + gap_cells) + 1.5
            cell = min(1.0, _WIDTH / wide, (_HEIGHT - 1.0) / tall)
        else:
            tall = max(c * (h + gap_cells) for c, h in ((channels["source"], hs),
                                                        (channels["target"], ht)))
            cell = min(1.0, _WIDTH / (ws + wt + 2), (_HEIGHT - 1.2) / tall)
        self.cell = cell
        self.strip = min(cell, 0.4, _WIDTH / count)
        self.channels = channels
        step = {side: (self.shapes[side][0] + gap_cells) * cell for side in self.shapes}
        self.step = step
        if one_d:
            x_s = (wide - ws) * cell / 2
            x_t = (wide - wt) * cell / 2
            y_t = channels["source"] * step["source"] + cell
            self.origin = {"source": (x_s, 0.0), "target": (x_t, y_t)}
            bottom = y_t + channels["target"] * step["target"]
        else:
            height_s = channels["source"] * step["source"]
            height_t = channels["target"] * step["target"]
            y_s = max(0.0, (height_t - height_s) / 2)
            y_t = max(0.0, (height_s - height_t) / 2)
            self.origin = {"source": (0.0, y_s), "target": ((ws + 2) * cell, y_t)}
            bottom = max(height_s, height_t)
        self.strip_y = bottom + 0.35
        self.caption_y = self.strip_y + self.strip + 0.2

    def box(self, side: str, channel: int, cell: tuple[int, ...]) -> tuple[float, float]:
        """Top-left corner of a cell (x, y with y downwards)."""
        row, col = (0, cell[0]) if len(cell) == 1 else cell
        x0, y0 = self.origin[side]
        return x0 + col * self.cell, y0 + channel * self.step[side] + row * self.cell

    def strip_box(self, position: int) -> tuple[float, float]:
        return position * self.strip, self.strip_y


def _rect(x: float, y: float, size: float, height: float | None = None) -> str:
    height = size if height is None else height
    return f"({_num(x)},{_num(-y)}) rectangle ({_num(x + size)},{_num(-y - height)})"


def _label_tex(model: FrameModel, label: int, weight: np.ndarray | None, room: float) -> str:
    """A cell's label: the value, or the weight's own name (``w_{o,c,t}``) if it fits
    ``room`` (pt at the label's size, scaled to 10 pt), else the kernel tap's name."""
    from .measure import math_width
    from .views import tap_name, weight_name

    if weight is not None:
        return f"${_num(float(np.asarray(weight).reshape(-1)[label - 1]))}$"
    short = tap_name(model.spec, model.tap(label), latex=True)
    full = weight_name(model.spec, label - 1, latex=True)
    return f"${full if math_width(full) <= room else short}$"


def _box_name(model: FrameModel) -> str:
    """A control-sequence name (letters only) for this animation's static picture."""
    digest = hashlib.sha1(f"{model.spec!r}{model.view}".encode()).hexdigest()[:8]
    return r"\tmanim" + "".join(chr(ord("a") + int(c, 16)) for c in digest)


def _static_picture(model: FrameModel, geo: _Geometry, font: str | None) -> list[str]:
    """The planes, their headings and the strip's empty cells, in a fixed bounding box."""
    right = max(
        geo.origin[side][0] + geo.shapes[side][1] * geo.cell for side in ("source", "target")
    )
    right = max(right, model.vector_length * geo.strip)
    bottom = geo.strip_y + geo.strip
    lines = [r"\begin{tikzpicture}[line width=0.4pt]"]
    corner = f"({_num(right + 0.05)},{_num(-bottom - 0.05)})"
    lines.append(f"\\useasboundingbox (-0.05,0.4) rectangle {corner};")
    for side, plane in (("source", model.source), ("target", model.target)):
        base = "tmin" if side == "source" else "tmout"
        x0, y0 = geo.origin[side]
        heading = "input" if side == "source" else "output"
        lines.append(
            f"\\node[anchor=south west, inner sep=1pt, font=\\scriptsize, text=black!70] "
            f"at ({_num(x0)},{_num(-y0 + 0.02)}) {{{heading}}};"
        )
        for channel in range(plane.channels):
            for cell in np.ndindex(*plane.drawn_shape):
                kind = int(plane.kinds[cell])
                x, y = geo.box(side, channel, cell)
                fill = {DATA: base, PAD: "tmpad", ZERO: "white"}[kind]
                dash = ", densely dashed" if kind == PAD else ""
                lines.append(f"\\filldraw[fill={fill}, draw=tmgrid{dash}] {_rect(x, y, geo.cell)};")
                if kind == ZERO and font:
                    lines.append(
                        f"\\node[font={font}, text=black!40] at "
                        f"({_num(x + geo.cell / 2)},{_num(-y - geo.cell / 2)}) {{0}};"
                    )
    for position in range(model.vector_length):
        x, y = geo.strip_box(position)
        lines.append(f"\\draw[draw=black!25] {_rect(x, y, geo.strip)};")
    lines.append(r"\end{tikzpicture}")
    return lines


def beamer_frame(model: FrameModel, *, weight: np.ndarray | None = None) -> str:
    r"""One beamer ``frame`` with an overlay per frame of ``model``, and what it needs.

    The grids are typeset once into a box before the frame (beamer typesets
    a frame's body once per overlay); the colours are defined there too.
    Needs ``tikz`` (and ``xcolor``, which beamer loads).

    Examples
    --------
    >>> from transpose_matrix import ConvSpec
    >>> from transpose_matrix.render.frames import frame_model
    >>> tex = beamer_frame(frame_model(ConvSpec((4, 4), 3)))
    >>> tex.count(r"\only<4>{"), tex.count(r"\only<5>{")
    (1, 0)
    """
    from .tikz import _color_definitions

    geo = _Geometry(model)
    font = (r"\scriptsize" if geo.cell >= 0.7 else r"\tiny") if geo.cell >= 0.42 else None
    # The cell's width less a little, in pt at 10 pt type (beamer's \scriptsize
    # is 8 pt, \tiny 6 pt).
    room = (geo.cell * 28.45 - 2) * 10 / (8 if geo.cell >= 0.7 else 6)
    box = _box_name(model)
    lines = _color_definitions(model.taps)
    lines += [f"\\definecolor{{{name}}}{{HTML}}{{{code}}}" for name, code in _COLORS.items()]
    lines.append(f"\\ifdefined{box}\\else\\newsavebox{{{box}}}\\fi")
    lines.append(f"\\sbox{{{box}}}{{%")
    lines += _static_picture(model, geo, font)
    lines[-1] += "}"
    setup, lines = lines, []
    if model.view != "gather":
        lines.append(r"\framesubtitle{" + model.view.replace("-", " ") + " view}")
    lines.append(r"\centering")
    lines.append(r"\begin{tikzpicture}[line width=0.4pt]")
    lines.append(
        f"\\node[anchor=north west, inner sep=0pt, outer sep=0pt] at (-0.05,0.4) "
        f"{{\\usebox{{{box}}}}};"
    )
    active_side = "target" if model.kernel_side == "source" else "source"
    written_side = model.kernel_side if model.view == "scatter" else active_side
    # What earlier frames wrote stays; scattered taps darken where they overlap.
    for number, frame in enumerate(model.frames, start=1):
        if number == len(model.frames):
            break
        marks = frame.hits if model.view == "scatter" else (frame.active,)
        cells = " ".join(
            f"\\fill[tmwritten, fill opacity=0.3] "
            f"{_rect(*geo.box(written_side, m.channel, m.cell), geo.cell)};"
            for m in marks
        )
        if cells:
            lines.append(f"\\only<{number + 1}->{{{cells}}}")
    for number, frame in enumerate(model.frames, start=1):
        body = []
        hits = {(m.channel, m.cell) for m in frame.hits}
        for mark in frame.window:
            x, y = geo.box(model.kernel_side, mark.channel, mark.cell)
            color = f"tap{_letter(model.tap(mark.label))}"
            inside = (mark.channel, mark.cell) in hits
            shade = color if inside else f"{color}!40!tmpad"
            body.append(f"\\filldraw[fill={shade}, draw=black, thick] {_rect(x, y, geo.cell)};")
            if font:
                text = "black" if inside else "black!55"
                body.append(
                    f"\\node[font={font}, text={text}, inner sep=0pt] at "
                    f"({_num(x + geo.cell / 2)},{_num(-y - geo.cell / 2)}) "
                    f"{{{_label_tex(model, mark.label, weight, room)}}};"
                )
        x, y = geo.box(active_side, frame.active.channel, frame.active.cell)
        body.append(f"\\filldraw[fill=tmactive, draw=black, thick] {_rect(x, y, geo.cell)};")
        for position, label in frame.entries:
            x, y = geo.strip_box(position)
            body.append(
                f"\\filldraw[fill=tap{_letter(model.tap(label))}, draw=black!60] "
                f"{_rect(x, y, geo.strip)};"
            )
        caption = tex_text(frame.caption)
        body.append(
            f"\\node[anchor=north west, inner sep=0pt, font=\\small] at "
            f"(0,{_num(-geo.caption_y)}) {{{caption}}};"
        )
        lines.append(f"\\only<{number}>{{" + "\n".join(body) + "}")
    lines.append(r"\end{tikzpicture}")
    title = tex_text(model.title.split(" (")[0])
    return "\n".join([*setup, documents.frame(title, "\n".join(lines))])


def _letter(tap: int) -> str:
    from .tikz import _letters

    return _letters(tap)


def beamer_animation(model: FrameModel, *, fragment: bool = False, weight: Any = None) -> str:
    r"""A standalone beamer document (or with ``fragment=True`` the frame alone).

    The fragment starts with comments naming what it needs (``tikz``, in a
    beamer document).
    """
    body = beamer_frame(model, weight=weight)
    if fragment:
        what = f"animation (a beamer frame with {len(model.frames)} overlays)"
        return documents.fragment(body, what=what, packages=("tikz",)) + "\n"
    return documents.document(body, kind="beamer")
