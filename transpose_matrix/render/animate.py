"""Animations of C: one frame per kernel placement, drawn with Pillow.

Each frame shows the (padded, dilated or zero-inserted) grid the kernel
lies on, the cell being computed or scattered, and the row or column of the
matrix being read as a strip of cells, with the kernel taps coloured alike
in all three. What each frame highlights comes from
:func:`transpose_matrix.render.frames.frame_model`; this module only draws.

Files are small: every frame shares one palette (the exact colours of the
drawing first, so highlight colours survive the palette), identical
consecutive frames are merged with their durations summed, and Pillow
writes only the region that changed between frames. Pillow is imported
when pixels are first needed, so the beamer output works without it.
"""

from __future__ import annotations

import base64
import functools
import importlib.util
import io
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConvSpecError, ConvSpecTypeError, optional_import
from ..geometry.spec import ConvSpec
from .frames import DATA, PAD, ZERO, FrameModel, frame_model

__all__ = [
    "FORMATS",
    "PRESETS",
    "Animation",
    "Layout",
    "Preset",
    "animate",
    "format_of",
    "preset",
    "save_frames",
    "tap_rgb",
]

#: Output formats by name; ``beamer`` writes LaTeX, the others pixels.
FORMATS = ("gif", "apng", "beamer")


# The drawing's fixed colours (RGB). Cells of the tensor being read are blue,
# of the tensor being written green, as in most convolution-arithmetic pictures.
WHITE = (255, 255, 255)
TEXT = (34, 34, 34)
SUBTLE = (102, 102, 102)
GRID = (150, 160, 172)
INPUT = (214, 229, 245)
OUTPUT = (214, 239, 229)
PADDING = (242, 242, 242)
HATCH = (214, 214, 214)
ZERO_TEXT = (170, 170, 170)
ACTIVE = (43, 76, 126)
OUTLINE = (25, 38, 52)
STRIP_GRID = (200, 206, 214)
BLOCK = (90, 100, 112)
BEAM = (120, 140, 165)
# Output cells already written, by how many taps have landed there (1, 2, 3, 4+).
WRITTEN = ((170, 216, 199), (125, 190, 166), (86, 162, 135), (52, 128, 101))

MARGIN = 14


def tap_rgb(count: int) -> list[tuple[int, int, int]]:
    """The kernel taps' colours as RGB, the same as the TikZ figures'.

    >>> tap_rgb(3)[0]
    (242, 121, 121)
    """
    from .tikz import tap_colors

    return [(int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)) for h in tap_colors(count)]


def _blend(color: Sequence[int], base: Sequence[int], amount: float) -> tuple[int, int, int]:
    """``amount`` of ``color`` over ``base``."""
    red, green, blue = (round(amount * c + (1 - amount) * b) for c, b in zip(color, base))
    return red, green, blue


def _pillow() -> Any:
    return tuple(optional_import(f"PIL.{name}", "drawing animations")
                 for name in ("Image", "ImageDraw", "ImageFont"))


def _font_paths(bold: bool) -> list[str]:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    paths = []
    # matplotlib ships DejaVu Sans; find it without importing matplotlib.
    found = importlib.util.find_spec("matplotlib")
    if found is not None and found.submodule_search_locations:
        for location in found.submodule_search_locations:
            paths.append(os.path.join(location, "mpl-data", "fonts", "ttf", name))
    paths += [f"/usr/share/fonts/truetype/dejavu/{name}", name]
    return paths


@functools.lru_cache(maxsize=32)
def _font(size: int, bold: bool = False) -> Any:
    """DejaVu Sans (it has subscript digits), else Pillow's own font."""
    _, _, image_font = _pillow()
    for path in _font_paths(bold):
        try:
            return image_font.truetype(path, size)
        except OSError:
            continue
    return image_font.load_default(size)


def _text_width(text: str, font: Any) -> int:
    left, _, right, _ = font.getbbox(text)
    return int(math.ceil(right - left))


# --------------------------------------------------------------------------- labels


def _weight_texts(model: FrameModel, weight: np.ndarray | None) -> list[tuple[str, ...]]:
    """Per label (index ``label - 1``): texts from longest to shortest, to fit a cell.

    A name is the weight's own (``w₁₀₁₂``: output channel, input channel in
    its group, tap) where it fits, else the kernel tap alone (``w₁₂``); with
    one channel each the two are the same.
    """
    from .views import tap_name, weight_name

    spec = model.spec
    taps = math.prod(spec.kernel_size)
    texts: list[tuple[str, ...]] = []
    for flat in range(math.prod(spec.weight_shape)):
        if weight is not None:
            value = float(np.asarray(weight).reshape(-1)[flat])
            texts.append((f"{value:.2g}", f"{value:.1g}"))
        else:
            short, full = tap_name(spec, flat % taps), weight_name(spec, flat)
            texts.append((full, short) if full != short else (short,))
    return texts


def _heading(model: FrameModel, side: str) -> str:
    plane = model.source if side == "source" else model.target
    dims = "×".join(str(n) for n in plane.shape)
    channels = f"{plane.channels} × " if plane.channels > 1 else ""
    spec = model.spec
    if model.view == "gather":
        if side == "target":
            return f"output {channels}{dims}"
        padded = any(b or a for b, a in spec.padding)
        return f"input {channels}{dims}" + (", padded" if padded else "")
    if model.view == "scatter":
        if side == "source":
            return f"input {channels}{dims}"
        cropped = any(b or a for b, a in spec.padding)
        return f"output {channels}{dims}" + (" (grey border: cropped)" if cropped else "")
    if side == "source":
        return f"input {channels}{dims}, zeros inserted"
    return f"output {channels}{dims}"


def _vector_heading(model: FrameModel, vector: int, entries: int) -> str:
    return (
        f"{model.vector} {vector} of {model.matrix}: {model.vector_length} entries, "
        f"{entries} nonzero"
    )


# --------------------------------------------------------------------------- layout


@dataclass(frozen=True)
class _Stack:
    """Where one plane's channels are drawn: top-left of channel 0, and cell size."""

    x: int
    y: int
    cell: int
    rows: int
    cols: int
    step: int  # vertical distance between channels

    def box(self, channel: int, cell: tuple[int, ...]) -> tuple[int, int, int, int]:
        row, col = (0, cell[0]) if len(cell) == 1 else cell
        x0 = self.x + col * self.cell
        y0 = self.y + channel * self.step + row * self.cell
        return x0, y0, x0 + self.cell, y0 + self.cell


class Layout:
    """Pixel positions of everything a frame draws; the same for every frame.

    :meth:`cell_box` and :meth:`strip_box` give the box ``(x0, y0, x1, y1)``
    (``x1``, ``y1`` exclusive) of a grid cell and of an entry of the vector
    strip, so tests can read the rendered pixels back.
    """

    def __init__(self, model: FrameModel, cell: int | None = None) -> None:
        self.model = model
        src, tgt = model.source, model.target
        one_d = model.spec.ndim == 1
        shape_s = (1, *src.drawn_shape) if one_d else src.drawn_shape
        shape_t = (1, *tgt.drawn_shape) if one_d else tgt.drawn_shape
        tall = max(src.channels * shape_s[0], tgt.channels * shape_t[0])
        if cell is None:
            if one_d:
                cell = min(40, 720 // max(shape_s[1], shape_t[1]), 420 // tall)
            else:
                cell = min(40, 640 // (shape_s[1] + shape_t[1]), 560 // tall)
            cell = max(cell, 6)
        elif isinstance(cell, bool) or not isinstance(cell, (int, np.integer)) or cell < 4:
            raise ConvSpecError(f"cell={cell!r} must be an integer >= 4 (pixels)")
        self.cell = int(cell)
        self.title_font = _font(15, bold=True)
        self.font = _font(13)
        self.caption_font = _font(15)
        self.label_font = _font(max(7, min(13, round(self.cell * 0.36))))
        line = 20
        channel_gap = max(6, self.cell // 3)
        label_w = 34 if max(src.channels, tgt.channels) > 1 else 0
        top = MARGIN + line + 8
        heading_top = top
        top += line
        stacks = {}
        if one_d:
            width_s, width_t = shape_s[1] * self.cell, shape_t[1] * self.cell
            wide = max(width_s, width_t)
            step = self.cell + channel_gap
            x_s = MARGIN + label_w + (wide - width_s) // 2
            stacks["source"] = _Stack(x_s, top, self.cell, 1, shape_s[1], step)
            height_s = src.channels * step - channel_gap
            tgt_top = top + height_s + max(44, 2 * self.cell) + line
            x_t = MARGIN + label_w + (wide - width_t) // 2
            stacks["target"] = _Stack(x_t, tgt_top, self.cell, 1, shape_t[1], step)
            self.headings = {"source": (x_s, heading_top), "target": (x_t, tgt_top - line)}
            planes_right = MARGIN + label_w + wide
            planes_bottom = tgt_top + tgt.channels * step - channel_gap
        else:
            gap = max(56, 2 * self.cell)
            step_s = shape_s[0] * self.cell + channel_gap
            step_t = shape_t[0] * self.cell + channel_gap
            height_s = src.channels * step_s - channel_gap
            height_t = tgt.channels * step_t - channel_gap
            x_s = MARGIN + label_w
            x_t = x_s + shape_s[1] * self.cell + gap + label_w
            y_s = top + max(0, (height_t - height_s) // 2)
            y_t = top + max(0, (height_s - height_t) // 2)
            stacks["source"] = _Stack(x_s, y_s, self.cell, shape_s[0], shape_s[1], step_s)
            stacks["target"] = _Stack(x_t, y_t, self.cell, shape_t[0], shape_t[1], step_t)
            self.headings = {"source": (x_s, heading_top), "target": (x_t, heading_top)}
            planes_right = x_t + shape_t[1] * self.cell
            planes_bottom = top + max(height_s, height_t)
        self.stacks = stacks
        self.label_w = label_w

        # The strip: one cell per vector entry, wrapped into lines when long.
        count = model.vector_length
        available = max(planes_right - MARGIN, 560)
        self.strip_cell = max(4, min(self.cell, 28, available // count))
        self.strip_per_line = min(count, available // self.strip_cell)
        self.strip_lines = math.ceil(count / self.strip_per_line)
        self.strip_height = max(self.strip_cell, 14)
        self.strip_heading_y = planes_bottom + 18
        self.strip_y = self.strip_heading_y + line
        strip_bottom = self.strip_y + self.strip_lines * (self.strip_height + 6) - 6
        self.caption_y = strip_bottom + 14
        widest = max(
            _text_width(model.title, self.title_font),
            *(_text_width(frame.caption, self.caption_font) for frame in model.frames),
        )
        headings = [_heading(model, side) for side in ("source", "target")]
        heading_right = max(
            self.headings[side][0] + _text_width(text, self.font)
            for side, text in zip(("source", "target"), headings)
        )
        content = max(
            planes_right, MARGIN + self.strip_per_line * self.strip_cell, heading_right,
            MARGIN + widest + 10,
        )
        self.width = content + MARGIN
        self.height = self.caption_y + line + MARGIN

    def cell_box(self, side: str, channel: int, cell: tuple[int, ...]) -> tuple[int, int, int, int]:
        """Box of a drawn cell of the ``"source"`` or ``"target"`` plane."""
        return self.stacks[side].box(channel, cell)

    def strip_box(self, position: int) -> tuple[int, int, int, int]:
        """Box of entry ``position`` of the vector strip."""
        line, column = divmod(position, self.strip_per_line)
        x0 = MARGIN + column * self.strip_cell
        y0 = self.strip_y + line * (self.strip_height + 6)
        return x0, y0, x0 + self.strip_cell, y0 + self.strip_height


# --------------------------------------------------------------------------- drawing


class _Painter:
    """Draws the frames of one model: a static base once, then each frame's marks."""

    def __init__(self, model: FrameModel, layout: Layout, weight: np.ndarray | None) -> None:
        self.model = model
        self.layout = layout
        self.taps = tap_rgb(model.taps)
        self.texts = _weight_texts(model, weight)
        image, draw, _ = _pillow()
        self.image_module, self.draw_module = image, draw
        self.base = self._base()

    def fill_of(self, side: str, kind: int) -> tuple[int, int, int]:
        if kind == PAD:
            return PADDING
        if kind == ZERO:
            return WHITE
        # The source plane is always a layer input, the target its output.
        return INPUT if side == "source" else OUTPUT

    def _label(self, draw: Any, box: tuple[int, int, int, int], label: int, color: Any) -> None:
        for text in self.texts[label - 1]:
            if _text_width(text, self.layout.label_font) <= box[2] - box[0] - 3:
                self._centred(draw, box, text, self.layout.label_font, color)
                return

    @staticmethod
    def _centred(draw: Any, box: Sequence[int], text: str, font: Any, color: Any) -> None:
        draw.text(((box[0] + box[2]) / 2, (box[1] + box[3]) / 2), text, fill=color, font=font,
                  anchor="mm")

    def _cell(
        self, draw: Any, box: tuple[int, int, int, int], kind: int, fill: Any, zero: bool = True
    ) -> None:
        x0, y0, x1, y1 = box
        draw.rectangle((x0, y0, x1, y1), fill=fill, outline=GRID)
        if kind == PAD and x1 - x0 >= 10:
            # A light hatch tells padding from data at a glance, even without colour.
            for offset in range(0, 2 * (x1 - x0), 6):
                draw.line(
                    (x0 + max(0, offset - (y1 - y0)), y0 + min(offset, y1 - y0),
                     x0 + min(offset, x1 - x0), y0 + max(0, offset - (x1 - x0))),
                    fill=HATCH,
                )
            draw.rectangle((x0, y0, x1, y1), outline=GRID)
        elif kind == ZERO and zero and x1 - x0 >= 14:
            self._centred(draw, box, "0", self.layout.label_font, ZERO_TEXT)

    def _base(self) -> Any:
        layout, model = self.layout, self.model
        image = self.image_module.new("RGB", (layout.width, layout.height), WHITE)
        draw = self.draw_module.Draw(image)
        draw.text((MARGIN, MARGIN), model.title, fill=TEXT, font=layout.title_font)
        for side in ("source", "target"):
            plane = model.source if side == "source" else model.target
            draw.text(layout.headings[side], _heading(model, side), fill=SUBTLE, font=layout.font)
            for channel in range(plane.channels):
                for cell in np.ndindex(*plane.drawn_shape):
                    kind = int(plane.kinds[cell])
                    box = layout.cell_box(side, channel, cell)
                    self._cell(draw, box, kind, self.fill_of(side, kind))
                if plane.channels > 1:
                    box = layout.cell_box(side, channel, (0,) * len(plane.drawn_shape))
                    draw.text((box[0] - 6, (box[1] + box[3]) / 2), f"c{channel}", fill=SUBTLE,
                              font=layout.font, anchor="rm")
        for position in range(model.vector_length):
            draw.rectangle(layout.strip_box(position), fill=WHITE, outline=STRIP_GRID)
        self._strip_blocks(draw)
        return image

    def _strip_blocks(self, draw: Any) -> None:
        """Darker lines between the strip's channels, lighter between grid rows."""
        layout, plane = self.layout, self.model.vector_plane
        rows = plane.shape[-1] if len(plane.shape) > 1 else 0
        for position in range(1, self.model.vector_length):
            if position % plane.size == 0:
                color, extra = OUTLINE, 1
            elif rows and position % rows == 0:
                color, extra = BLOCK, 0
            else:
                continue
            x0, y0, _, y1 = layout.strip_box(position)
            draw.line((x0, y0 - 3 - extra, x0, y1 + 3 + extra), fill=color, width=1 + extra)

    def frames(self) -> list[Any]:
        model, layout = self.model, self.layout
        kernel_side = model.kernel_side
        active_side = "target" if kernel_side == "source" else "source"
        kernel_plane = model.kernel_plane
        written: dict[tuple[int, tuple[int, ...]], int] = {}
        images = []
        for frame in model.frames:
            image = self.base.copy()
            draw = self.draw_module.Draw(image)
            # What earlier frames wrote: output cells (gather, zero insertion) or the
            # taps already scattered (scatter), darker where more taps overlap.
            for (channel, cell), count in written.items():
                side = kernel_side if model.view == "scatter" else active_side
                box = layout.cell_box(side, channel, cell)
                self._cell(draw, box, DATA, WRITTEN[min(count, len(WRITTEN)) - 1])
            self._beam(draw, frame)
            hits = {(m.channel, m.cell) for m in frame.hits}
            for mark in frame.window:
                box = layout.cell_box(kernel_side, mark.channel, mark.cell)
                kind = int(kernel_plane.kinds[mark.cell])
                color = self.taps[model.tap(mark.label)]
                if (mark.channel, mark.cell) in hits:
                    draw.rectangle(box, fill=color, outline=GRID)
                    self._label(draw, box, mark.label, TEXT)
                else:
                    self._cell(draw, box, kind, _blend(color, PADDING, 0.4), zero=False)
                    self._label(draw, box, mark.label, SUBTLE)
            for mark in frame.window:
                box = layout.cell_box(kernel_side, mark.channel, mark.cell)
                draw.rectangle(box, outline=OUTLINE, width=2)
            box = layout.cell_box(active_side, frame.active.channel, frame.active.cell)
            draw.rectangle(box, fill=ACTIVE, outline=OUTLINE, width=2)
            for position, label in frame.entries:
                strip = layout.strip_box(position)
                draw.rectangle(strip, fill=self.taps[model.tap(label)], outline=BLOCK)
                self._label(draw, strip, label, TEXT)
            heading = _vector_heading(model, frame.vector, len(frame.entries))
            draw.text((MARGIN, layout.strip_heading_y), heading, fill=SUBTLE, font=layout.font)
            draw.text((MARGIN, layout.caption_y), frame.caption, fill=TEXT,
                      font=layout.caption_font)
            images.append(image)
            if model.view == "scatter":
                for mark in frame.hits:
                    key = (mark.channel, mark.cell)
                    written[key] = written.get(key, 0) + 1
            else:
                written[(frame.active.channel, frame.active.cell)] = 1
        return images

    def _beam(self, draw: Any, frame: Any) -> None:
        """Thin lines joining the kernel's footprint on each channel to the active cell."""
        layout, model = self.layout, self.model
        kernel_side = model.kernel_side
        active_side = "target" if kernel_side == "source" else "source"
        a0, b0, a1, b1 = layout.cell_box(active_side, frame.active.channel, frame.active.cell)
        for channel in sorted({m.channel for m in frame.window}):
            boxes = [
                layout.cell_box(kernel_side, m.channel, m.cell)
                for m in frame.window
                if m.channel == channel
            ]
            x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
            x1, y1 = max(b[2] for b in boxes), max(b[3] for b in boxes)
            if model.spec.ndim == 1:
                # Kernel side above or below the active cell: join bottom and top edges.
                if layout.stacks[kernel_side].y < layout.stacks[active_side].y:
                    pairs = (((x0, y1), (a0, b0)), ((x1, y1), (a1, b0)))
                else:
                    pairs = (((a0, b1), (x0, y0)), ((a1, b1), (x1, y0)))
            elif layout.stacks[kernel_side].x < layout.stacks[active_side].x:
                pairs = (((x1, y0), (a0, b0)), ((x1, y1), (a0, b1)))
            else:
                pairs = (((a1, b0), (x0, y0)), ((a1, b1), (x0, y1)))
            for start, end in pairs:
                draw.line((*start, *end), fill=BEAM, width=1)


# --------------------------------------------------------------------------- files


def _packed(image: Any) -> np.ndarray:
    """An image's pixels as integers ``R | G << 8 | B << 16`` (RGBA bytes read as one word)."""
    words = np.asarray(image.convert("RGBA")).view(np.dtype("<u4"))[..., 0]
    return words & 0xFFFFFF


def _pack(r: int, g: int, b: int) -> int:
    return r | (g << 8) | (b << 16)


def _unpack(values: np.ndarray) -> np.ndarray:
    """``(..., 3)`` RGB of packed values."""
    return np.stack([values & 255, (values >> 8) & 255, (values >> 16) & 255], -1)


def _palette(images: Sequence[Any], extra: Sequence[tuple[int, int, int]]) -> np.ndarray:
    """One palette for every frame (packed RGB): the drawing's colours, then the most used."""
    fixed = [WHITE, TEXT, SUBTLE, GRID, INPUT, OUTPUT, PADDING, HATCH, ZERO_TEXT, ACTIVE,
             OUTLINE, STRIP_GRID, BLOCK, BEAM, *WRITTEN, *extra]
    pinned = {_pack(*rgb) for rgb in fixed}
    # Sample at most a few frames; pinned colours are exact whatever is sampled.
    step = max(1, len(images) // 8)
    counts: dict[int, int] = {}
    for image in images[::step]:
        values, number = np.unique(_packed(image), return_counts=True)
        for value, n in zip(values.tolist(), number.tolist()):
            counts[value] = counts.get(value, 0) + n
    ranked = sorted((v for v in counts if v not in pinned), key=lambda v: -counts[v])
    return np.array((sorted(pinned) + ranked)[:256], dtype=np.uint32)


class _Quantizer:
    """Maps frames to one palette: exact where a colour is in it, else the nearest entry.

    A table over all 2**24 colours (32 MB while a file is written) makes the
    mapping one gather per frame; colours not in the palette (anti-aliased
    text edges) are looked up once and remembered. Pillow's own palette
    mapping rounds colours through a coarse cache, so even exact palette
    colours can move, and the tests read highlights back from the files.
    """

    def __init__(self, palette: np.ndarray) -> None:
        self.palette = palette
        self.table = np.full(1 << 24, -1, dtype=np.int16)
        self.table[palette] = np.arange(len(palette), dtype=np.int16)
        self.rgb = _unpack(palette).astype(np.int32)
        self.flat = _unpack(palette).astype(np.uint8).reshape(-1).tolist()

    def __call__(self, image: Any) -> Any:
        image_module, _, _ = _pillow()
        packed = _packed(image)
        index = self.table[packed]
        missing = index < 0
        if missing.any():
            new = np.unique(packed[missing])
            rgb = _unpack(new).astype(np.int32)
            distance = ((rgb[:, None, :] - self.rgb[None, :, :]) ** 2).sum(-1)
            self.table[new] = distance.argmin(axis=1).astype(np.int16)
            index = self.table[packed]
        mapped = image_module.fromarray(index.astype(np.uint8), mode="P")
        mapped.putpalette(self.flat)
        return mapped


def save_frames(
    images: Sequence[Any],
    target: str | os.PathLike[str] | io.BytesIO,
    *,
    format: str = "gif",
    duration: int | Sequence[int] = 700,
    palette_colors: Sequence[tuple[int, int, int]] = (),
) -> list[int]:
    """Write frames as an animated GIF or PNG; return the durations written (ms).

    Frames are mapped to one shared palette without dithering, identical
    consecutive frames are merged (their durations summed), and the file
    loops forever.

    Parameters
    ----------
    images : sequence of PIL.Image.Image
        RGB frames of one size.
    target : path or binary file
    format : {'gif', 'apng'}
    duration : int or sequence of int
        Milliseconds per frame (GIF stores multiples of 10).
    palette_colors : sequence of RGB
        Extra colours to keep exact in the palette.

    Returns
    -------
    list of int
        One duration per frame written, after merging.
    """
    image_module, _, _ = _pillow()
    if format not in ("gif", "apng"):
        raise ConvSpecError(f"format={format!r} must be 'gif' or 'apng' for frames")
    if not images:
        raise ConvSpecError("there are no frames to write")
    durations = [duration] * len(images) if isinstance(duration, int) else list(duration)
    if len(durations) != len(images) or any(d <= 0 for d in durations):
        raise ConvSpecError("duration must be a positive int or one per frame")
    quantize = _Quantizer(_palette(images, palette_colors))
    frames: list[Any] = []
    kept: list[int] = []
    previous = None
    for image, milliseconds in zip(images, durations):
        mapped = quantize(image)
        data = mapped.tobytes()
        if data == previous:
            kept[-1] += milliseconds
            continue
        frames.append(mapped)
        kept.append(milliseconds)
        previous = data
    options: dict[str, Any] = {
        "save_all": True,
        "append_images": frames[1:],
        "duration": kept if len(kept) > 1 else kept[0],
        "loop": 0,
        "optimize": True,
    }
    if format == "gif":
        frames[0].save(target, format="GIF", **options)
    else:
        frames[0].save(target, format="PNG", default_image=False, **options)
    return kept


# --------------------------------------------------------------------------- presets


@dataclass(frozen=True)
class Preset:
    """One configuration of the classic convolution-arithmetic animations.

    ``spec_args`` are the forward convolution's ``ConvSpec`` arguments; a
    ``transposed`` preset animates the transposed layer of that convolution
    (whose input is the convolution's output), drawn as zero insertion
    followed by a stride-1 convolution, as the classic set draws it.
    """

    name: str
    description: str
    spec_args: tuple[tuple[str, Any], ...]
    transposed: bool = False

    @property
    def spec(self) -> ConvSpec:
        """The forward convolution (of the transposed layer, for transposed presets)."""
        return ConvSpec(**dict(self.spec_args))

    @property
    def view(self) -> str:
        """``'zero-insertion'`` for transposed presets, ``'gather'`` otherwise."""
        return "zero-insertion" if self.transposed else "gather"

    def options(self) -> str:
        """The geometry options that make the same animation without ``--preset``.

        >>> PRESETS["padding_strides_odd_transposed"].options()
        '--transposed --input 3x3 --kernel 3 --stride 2 --padding 1 --output-padding 1 \
--view zero-insertion'
        """
        spec = self.spec
        if self.transposed:
            layer = spec.transposed_arguments()
            assert layer is not None  # presets pad with zeros
            parts = ["--transposed", f"--input {_dims_text(spec.output_shape)}"]
            parts.append(f"--kernel {_uniform_text(spec.kernel_size)}")
            values: tuple[tuple[str, Any, int], ...] = (
                ("--stride", layer["stride"], 1), ("--padding", layer["padding"], 0),
                ("--output-padding", layer["output_padding"], 0),
                ("--dilation", layer["dilation"], 1),
            )
        else:
            parts = [f"--input {_dims_text(spec.input_shape)}"]
            parts.append(f"--kernel {_uniform_text(spec.kernel_size)}")
            values = (("--stride", spec.stride, 1),
                      ("--padding", tuple(b for b, _ in spec.padding), 0),
                      ("--dilation", spec.dilation, 1))
        for option, value, default in values:
            if any(v != default for v in value):
                parts.append(f"{option} {_uniform_text(value)}")
        if self.transposed:
            parts.append("--view zero-insertion")
        return " ".join(parts)


def _dims_text(values: Sequence[int]) -> str:
    return "x".join(str(v) for v in values)


def _uniform_text(values: Sequence[int]) -> str:
    return str(values[0]) if len(set(values)) == 1 else _dims_text(values)


def _presets() -> dict[str, Preset]:
    # The geometries of Dumoulin & Visin's "A guide to convolution arithmetic
    # for deep learning" (arXiv:1603.07285) and its animations: 2-D, square,
    # one channel. Transposed ones are the transposed layer of the convolution
    # with the same name.
    forward = {
        "no_padding_no_strides": ("4x4 input, 3x3 kernel", {"input_shape": (4, 4),
                                                            "kernel_size": 3}),
        "arbitrary_padding_no_strides": ("5x5 input, 4x4 kernel, padding 2",
                                         {"input_shape": (5, 5), "kernel_size": 4,
                                          "padding": 2}),
        "same_padding_no_strides": ("5x5 input, 3x3 kernel, padding 1 (half padding)",
                                    {"input_shape": (5, 5), "kernel_size": 3, "padding": 1}),
        "full_padding_no_strides": ("5x5 input, 3x3 kernel, padding 2 (full padding)",
                                    {"input_shape": (5, 5), "kernel_size": 3, "padding": 2}),
        "no_padding_strides": ("5x5 input, 3x3 kernel, stride 2",
                               {"input_shape": (5, 5), "kernel_size": 3, "stride": 2}),
        "padding_strides": ("5x5 input, 3x3 kernel, stride 2, padding 1",
                            {"input_shape": (5, 5), "kernel_size": 3, "stride": 2,
                             "padding": 1}),
        "padding_strides_odd": ("6x6 input, 3x3 kernel, stride 2, padding 1",
                                {"input_shape": (6, 6), "kernel_size": 3, "stride": 2,
                                 "padding": 1}),
        "dilation": ("7x7 input, 3x3 kernel, dilation 2",
                     {"input_shape": (7, 7), "kernel_size": 3, "dilation": 2}),
    }
    presets = {}
    for name, (description, args) in forward.items():
        items = tuple(args.items())
        presets[name] = Preset(name, f"Conv2d: {description}", items)
        if name != "dilation":  # the classic set has no transposed dilation
            transposed = f"{name}_transposed"
            presets[transposed] = Preset(
                transposed, f"ConvTranspose2d of the convolution {name}", items, True
            )
    return presets


#: The classic convolution-arithmetic animations by name (``animate --preset NAME``).
PRESETS: dict[str, Preset] = _presets()


def preset(name: str) -> Preset:
    """The preset called ``name`` (see :data:`PRESETS`).

    >>> preset("dilation").spec.output_shape
    (3, 3)
    """
    if name not in PRESETS:
        raise ConvSpecError(f"preset={name!r} is not one of {', '.join(PRESETS)}")
    return PRESETS[name]


# --------------------------------------------------------------------------- API


class Animation:
    """An animation of one layer: frames on demand, saved as GIF, APNG or beamer.

    Attributes
    ----------
    model : FrameModel
        What each frame highlights (from C).
    duration : int
        Milliseconds per frame.
    """

    def __init__(
        self,
        model: FrameModel,
        *,
        duration: int = 700,
        weight: np.ndarray | None = None,
        cell: int | None = None,
    ) -> None:
        self.model = model
        self.duration = duration
        self.weight = weight
        self._cell = cell

    def __len__(self) -> int:
        return len(self.model.frames)

    def __repr__(self) -> str:
        return f"<Animation {self.model.view}: {self.model.title}, {len(self)} frames>"

    @functools.cached_property
    def layout(self) -> Layout:
        """Pixel positions of the drawing (see :meth:`Layout.cell_box`)."""
        _pillow()
        return Layout(self.model, self._cell)

    @functools.cached_property
    def images(self) -> list[Any]:
        """The frames as RGB ``PIL.Image.Image``, one per frame of the model."""
        return _Painter(self.model, self.layout, self.weight).frames()

    def to_bytes(self, format: str = "gif") -> bytes:
        """The animation as the bytes of a GIF or APNG file."""
        buffer = io.BytesIO()
        save_frames(self.images, buffer, format=format, duration=self.duration,
                    palette_colors=tap_rgb(self.model.taps))
        return buffer.getvalue()

    def beamer(self, *, fragment: bool = False) -> str:
        """The frames as beamer overlays (see :mod:`transpose_matrix.render.slides`)."""
        from .slides import beamer_animation

        return beamer_animation(self.model, fragment=fragment, weight=self.weight)

    def save(self, path: str | os.PathLike[str], format: str | None = None) -> Path:
        """Write to ``path``; the format comes from ``format`` or the extension."""
        path = Path(path)
        format = format or format_of(path)
        if format == "beamer":
            path.write_text(self.beamer(), encoding="utf-8")
        else:
            path.write_bytes(self.to_bytes(format))
        return path

    def _repr_html_(self) -> str:
        data = base64.b64encode(self.to_bytes("gif")).decode("ascii")
        return f'<img src="data:image/gif;base64,{data}" alt="{self.model.title}">'


def format_of(path: str | os.PathLike[str]) -> str:
    """``'gif'``, ``'apng'`` or ``'beamer'`` from a file name's extension.

    >>> format_of("conv.png")
    'apng'
    """
    suffix = Path(path).suffix.lower()
    formats = {".gif": "gif", ".png": "apng", ".apng": "apng", ".tex": "beamer"}
    if suffix not in formats:
        raise ConvSpecError(
            f"cannot tell the format of {str(path)!r} from its extension; use .gif, .png "
            "(animated PNG), .apng or .tex (beamer)"
        )
    return formats[suffix]


def animate(
    spec: ConvSpec,
    view: str = "gather",
    *,
    out: str | os.PathLike[str] | None = None,
    format: str | None = None,
    weight: Any = None,
    duration: int = 700,
    cell: int | None = None,
) -> Animation:
    """An animation of ``spec``, one frame per kernel placement; saved when ``out`` is given.

    Frame ``r`` of the ``gather`` view shows row ``r`` of C: output position
    ``r`` (C order over ``(out_channel, *position)``), the kernel placed on
    the padded input, and the input cells the row reads. The ``scatter`` view
    shows column ``r`` of Cᵀ: input pixel ``r`` of the transposed layer
    stamping its kernel-weighted patch into the output. The
    ``zero-insertion`` view shows row ``r`` of Cᵀ: the transposed layer as
    a stride-1 convolution of its zero-inserted, padded input with the
    flipped kernel.

    Parameters
    ----------
    spec : ConvSpec
        A 1-D or 2-D geometry; for the transposed views the forward
        convolution of the transposed layer (:meth:`ConvSpec.from_transposed`).
    view : {'gather', 'scatter', 'zero-insertion'}
    out : path, optional
        Write the animation here: ``.gif``, ``.png`` or ``.apng`` (animated
        PNG), or ``.tex`` (beamer overlays).
    format : {'gif', 'apng', 'beamer'}, optional
        Overrides the extension.
    weight : array_like, optional
        Weight of ``spec.weight_shape`` whose values label the cells instead
        of the names ``w₀₀ …``.
    duration : int
        Milliseconds per frame.
    cell : int, optional
        Cell size in pixels; chosen from the layer's size by default.

    Returns
    -------
    Animation
        ``.images`` (PIL images), ``.save(path)``, ``.to_bytes(format)``,
        ``.beamer()``; shows inline in Jupyter.

    Raises
    ------
    ConvSpecError
        A 3-D spec, an unknown view or format, a layer with more than
        :data:`~transpose_matrix.render.frames.MAX_FRAMES` frames, or
        Pillow missing (for pixels).

    Examples
    --------
    >>> from transpose_matrix import ConvSpec
    >>> anim = animate(ConvSpec((4, 4), 3))
    >>> len(anim), anim.model.frames[1].caption
    (4, 'output (0, 1) = row 1 of C')
    """
    if format is not None and format not in FORMATS:
        raise ConvSpecError(f"format={format!r} must be one of {', '.join(FORMATS)}")
    if isinstance(duration, bool) or not isinstance(duration, (int, np.integer)) or duration < 10:
        raise ConvSpecError(f"duration={duration!r} must be an integer >= 10 (milliseconds)")
    if weight is not None:
        from ..matrices.conv import check_weight

        if not isinstance(spec, ConvSpec):
            raise ConvSpecTypeError(f"spec={spec!r} must be a ConvSpec")
        weight = check_weight(spec, weight)
        if weight.dtype.kind == "c":
            raise ConvSpecTypeError("weight must be real to label an animation")
    animation = Animation(frame_model(spec, view), duration=int(duration), weight=weight,
                          cell=cell)
    if out is not None:
        animation.save(out, format)
    return animation
