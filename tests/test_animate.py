"""Animations: every frame highlights exactly a row (or column) of C, in the model and in pixels.

The frame model is checked three ways: its highlighted cells against the
nonzeros of ``conv_matrix`` / ``transposed_conv_matrix`` built with random
weights; its kernel footprint against the definition written out here as
plain loops; and the picture it describes, evaluated as arithmetic on a
padded or zero-inserted grid, against PyTorch. The rendered frames are then
read back pixel by pixel (in memory, from the GIF and from the APNG), and the
beamer overlays are compiled by pdflatex.
"""

from __future__ import annotations

import itertools
import math
import re

import numpy as np
import pytest

import transpose_matrix as tm
from transpose_matrix import ConvSpec, ConvSpecError, conv_matrix, transposed_conv_matrix
from transpose_matrix.cli import main
from transpose_matrix.render import animate as animate_module
from transpose_matrix.render.frames import DATA, MAX_FRAMES, PAD, ZERO, frame_model

FORWARD = {
    "textbook": ConvSpec((4, 4), 3),
    "1d": ConvSpec((7,), 3),
    "1d stride pad": ConvSpec((9,), 3, stride=2, padding=1),
    "padded": ConvSpec((5, 5), 3, padding=1),
    "strided gaps": ConvSpec((7, 7), 2, stride=3),
    "dilated": ConvSpec((7, 7), 3, dilation=2),
    "asymmetric": ConvSpec((5, 4), (3, 2), stride=(2, 1), padding=((1, 0), (0, 2))),
    "cropping after": ConvSpec((10,), 3, stride=2, padding=[(1, -1)]),
    "channels": ConvSpec((4, 4), 3, padding=1, in_channels=2, out_channels=3),
    "groups": ConvSpec((5,), 3, in_channels=4, out_channels=2, groups=2),
}
TRANSPOSED = {
    "odd": ConvSpec.from_transposed((3, 3), 1, 1, 3, stride=2, padding=1, output_padding=1),
    "no padding": ConvSpec.from_transposed((2, 2), 1, 1, 3, stride=2),
    "full": ConvSpec.from_transposed((7, 7), 1, 1, 3, padding=2),
    "1d dilated": ConvSpec.from_transposed((4,), 1, 1, 3, stride=2, dilation=2, output_padding=1),
    "crop beyond kernel": ConvSpec.from_transposed((4,), 1, 1, 2, stride=1, padding=2),
    "channels groups": ConvSpec.from_transposed(
        (3, 3), 4, 2, 2, stride=2, padding=1, groups=2, output_padding=1
    ),
}
ALL = {**FORWARD, **{f"T {k}": v for k, v in TRANSPOSED.items()}}


def _weight(spec: ConvSpec, seed: int = 3) -> np.ndarray:
    # Nonzero everywhere, so every tap that lands inside is a stored nonzero.
    rng = np.random.default_rng(seed)
    return rng.uniform(0.5, 2.0, spec.weight_shape) * rng.choice([-1, 1], spec.weight_shape)


def _vector_of(plane, marks) -> dict[int, int]:
    """Vector position -> label of marks on data cells."""
    return {plane.flat_of(m.channel, m.cell): m.label for m in marks}


def _nonzeros(matrix, index: int, column: bool) -> dict[int, float]:
    line = (matrix[:, [index]] if column else matrix[[index], :]).tocoo()
    positions = line.row if column else line.col
    return {int(p): float(v) for p, v in zip(positions, line.data) if v != 0}


# --------------------------------------------------------------------------- the model


def _gather_window(spec: ConvSpec, o: int, j: tuple[int, ...]) -> set[tuple[int, tuple[int, ...], tuple[int, ...]]]:
    """From the definition: tap t of output (o, j) covers input j*s - p + t*d (drawn + p)."""
    per_in = spec.in_channels // spec.groups
    group = o // (spec.out_channels // spec.groups)
    cells = set()
    for c in range(group * per_in, (group + 1) * per_in):
        for t in itertools.product(*(range(k) for k in spec.kernel_size)):
            coord = tuple(
                j[a] * spec.stride[a] - spec.padding[a][0] + t[a] * spec.dilation[a]
                for a in range(spec.ndim)
            )
            drawn = tuple(coord[a] + spec.padding[a][0] for a in range(spec.ndim))
            cells.add((c, drawn, t))
    return cells


@pytest.mark.parametrize("name", FORWARD)
def test_gather_window_follows_the_definition(name):
    spec = FORWARD[name]
    model = frame_model(spec, "gather")
    taps = math.prod(spec.kernel_size)
    for frame, (o, *j) in zip(model.frames, np.ndindex(spec.out_channels, *spec.output_shape)):
        window = {
            (m.channel, m.cell, np.unravel_index((m.label - 1) % taps, spec.kernel_size))
            for m in frame.window
        }
        window = {(c, cell, tuple(int(v) for v in t)) for c, cell, t in window}
        assert window == _gather_window(spec, o, tuple(j))
        assert frame.active.channel == o and frame.active.cell == tuple(j)
        # Its data cells are the hits, with the same weights; the rest is padding.
        data = {(m.channel, m.cell, m.label) for m in frame.window
                if model.source.kinds[m.cell] == DATA}
        assert data == {(m.channel, m.cell, m.label) for m in frame.hits}
        assert all(model.source.kinds[m.cell] == PAD for m in frame.window
                   if (m.channel, m.cell, m.label) not in data)


# view -> (the matrix built here, whether frames are its columns, the side the
# kernel lies on, the caption's words).
VIEWS = {
    "gather": (conv_matrix, False, "source", "row {} of C"),
    "scatter": (transposed_conv_matrix, True, "target", "column {} of Cᵀ"),
    "zero-insertion": (transposed_conv_matrix, False, "source", "row {} of Cᵀ"),
}
VECTOR_CASES = [(name, "gather") for name in FORWARD] + [
    (name, view) for name in TRANSPOSED for view in ("scatter", "zero-insertion")
]


@pytest.mark.parametrize(("name", "view"), VECTOR_CASES)
def test_frames_are_the_rows_or_columns_of_the_matrix(name, view):
    spec = {**FORWARD, **TRANSPOSED}[name]
    build, column, side, words = VIEWS[view]
    weight = _weight(spec)
    matrix = build(spec, weight)
    matrix = matrix.tocsc() if column else matrix.tocsr()
    model = frame_model(spec, view)
    plane = model.source if side == "source" else model.target
    assert len(model.frames) == matrix.shape[1 if column else 0]
    assert (model.vector, model.kernel_side) == ("column" if column else "row", side)
    flat_weight = weight.reshape(-1)
    for r, frame in enumerate(model.frames):
        hits = _vector_of(plane, frame.hits)
        expected = _nonzeros(matrix, r, column=column)
        assert set(hits) == set(expected), (name, r)
        assert all(flat_weight[hits[c] - 1] == expected[c] for c in hits)
        assert dict(frame.entries) == hits
        assert words.format(r) in frame.caption
        # The footprint's data cells are the hits, with the same weights.
        inside = {(m.channel, m.cell, m.label) for m in frame.window
                  if plane.kinds[m.cell] == DATA}
        assert inside == {(m.channel, m.cell, m.label) for m in frame.hits}


def test_zero_insertion_grid_of_the_classic_odd_case():
    # Dumoulin & Visin's padding_strides_odd_transposed: a 3x3 input with one
    # zero between pixels, a border of 1 and one extra row and column at the
    # bottom and right (a = 1): 8x8 cells.
    model = frame_model(TRANSPOSED["odd"], "zero-insertion")
    kinds = model.source.kinds
    assert kinds.shape == (8, 8)
    pixels = [1, 3, 5]
    assert {tuple(c) for c in np.argwhere(kinds == DATA)} == set(itertools.product(pixels, pixels))
    assert (kinds[[0, 6, 7], :] == PAD).all() and (kinds[:, [0, 6, 7]] == PAD).all()
    assert (kinds[2, 1:6] == ZERO).all() and kinds[1, 2] == ZERO


@pytest.mark.slow
@pytest.mark.parametrize("name", ["textbook", "strided gaps", "dilated", "channels", "groups",
                                  "1d stride pad"])
def test_gather_picture_computes_torch_conv(name, torch):
    spec = FORWARD[name]
    weight = _weight(spec)
    x = np.random.default_rng(1).standard_normal((spec.in_channels, *spec.input_shape))
    conv = getattr(torch.nn.functional, f"conv{spec.ndim}d")
    padded = torch.nn.functional.pad(
        torch.from_numpy(x)[None], [v for pair in reversed(spec.padding) for v in pair]
    )
    y = conv(padded, torch.from_numpy(weight), stride=spec.stride, dilation=spec.dilation,
             groups=spec.groups)[0].numpy().reshape(-1)
    model = frame_model(spec, "gather")
    flat_weight, flat_x = weight.reshape(-1), x.reshape(-1)
    for r, frame in enumerate(model.frames):
        value = sum(
            flat_weight[m.label - 1] * flat_x[model.source.flat_of(m.channel, m.cell)]
            for m in frame.window if model.source.kinds[m.cell] == DATA
        )
        assert value == pytest.approx(y[r], abs=1e-12)


def _transposed_torch(spec, weight, y, torch):
    layer = spec.transposed_arguments()
    function = getattr(torch.nn.functional, f"conv_transpose{spec.ndim}d")
    out = function(torch.from_numpy(y)[None], torch.from_numpy(weight), stride=layer["stride"],
                   padding=layer["padding"], output_padding=layer["output_padding"],
                   groups=layer["groups"], dilation=layer["dilation"])
    return out[0].numpy()


@pytest.mark.parametrize("name", TRANSPOSED)
def test_zero_insertion_picture_computes_torch_conv_transpose(name, torch):
    # Fill the drawn grid (zeros and padding stay 0), then run the stride-1
    # correlation the frames draw, window slot by window slot.
    spec = TRANSPOSED[name]
    weight = _weight(spec)
    y = np.random.default_rng(2).standard_normal((spec.out_channels, *spec.output_shape))
    expected = _transposed_torch(spec, weight, y, torch).reshape(-1)
    model = frame_model(spec, "zero-insertion")
    flat_weight, flat_y = weight.reshape(-1), y.reshape(-1)
    for r, frame in enumerate(model.frames):
        value = 0.0
        for m in frame.window:
            flat = model.source.flat_of(m.channel, m.cell)
            if flat is not None:
                value += flat_weight[m.label - 1] * flat_y[flat]
        assert value == pytest.approx(expected[r], abs=1e-12), (name, r)


@pytest.mark.parametrize("name", TRANSPOSED)
def test_scatter_picture_computes_torch_conv_transpose(name, torch):
    # Stamp every pixel's kernel-weighted patch into the padded output, then
    # crop the padding: that is the transposed layer's output.
    spec = TRANSPOSED[name]
    weight = _weight(spec)
    y = np.random.default_rng(4).standard_normal((spec.out_channels, *spec.output_shape))
    expected = _transposed_torch(spec, weight, y, torch)
    model = frame_model(spec, "scatter")
    grid = np.zeros((spec.in_channels, *model.target.drawn_shape))
    flat_weight, flat_y = weight.reshape(-1), y.reshape(-1)
    for r, frame in enumerate(model.frames):
        for m in frame.window:
            if all(0 <= v < n for v, n in zip(m.cell, model.target.drawn_shape)):
                grid[(m.channel, *m.cell)] += flat_weight[m.label - 1] * flat_y[r]
    inside = tuple(
        slice(before, before + n) for (before, _), n in zip(spec.padding, spec.input_shape)
    )
    assert np.allclose(grid[(slice(None), *inside)], expected, atol=1e-12)


# --------------------------------------------------------------------------- pixels


def _inside(box):
    x0, y0, _, _ = box
    return x0 + 4, y0 + 4


def _check_pixels(anim, rgb_of_frame, frames):
    model, layout = anim.model, anim.layout
    colors = animate_module.tap_rgb(model.taps)
    kernel_side = model.kernel_side
    active_side = "target" if kernel_side == "source" else "source"
    plane = model.kernel_plane
    for k in frames:
        image = rgb_of_frame(k)
        frame = model.frames[k]
        lit = {}
        for channel in range(plane.channels):
            for cell in np.ndindex(*plane.drawn_shape):
                if plane.kinds[cell] != DATA:
                    continue
                pixel = image.getpixel(_inside(layout.cell_box(kernel_side, channel, cell)))
                if pixel in colors:
                    lit[plane.flat_of(channel, cell)] = colors.index(pixel)
        expected = {pos: model.tap(label) for pos, label in frame.entries}
        assert lit == expected, k
        active = layout.cell_box(active_side, frame.active.channel, frame.active.cell)
        assert image.getpixel(_inside(active)) == animate_module.ACTIVE
        strip = {}
        for position in range(model.vector_length):
            pixel = image.getpixel(_inside(layout.strip_box(position)))
            if pixel != animate_module.WHITE:
                strip[position] = colors.index(pixel)
        assert strip == expected, k


PIXEL_CASES = {
    "textbook gather": (FORWARD["textbook"], "gather"),
    "channels gather": (FORWARD["channels"], "gather"),
    "1d gather": (FORWARD["1d stride pad"], "gather"),
    "odd zero insertion": (TRANSPOSED["odd"], "zero-insertion"),
    "odd scatter": (TRANSPOSED["odd"], "scatter"),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", PIXEL_CASES)
def test_rendered_highlights_are_the_nonzeros(name, pillow):
    spec, view = PIXEL_CASES[name]
    anim = tm.animate(spec, view)
    count = len(anim.model.frames)
    frames = sorted({0, 1, count // 2, count - 1})
    _check_pixels(anim, lambda k: anim.images[k], frames)


@pytest.mark.slow
@pytest.mark.parametrize("format", ["gif", "apng"])
@pytest.mark.parametrize("name", ["textbook gather", "odd scatter", "odd zero insertion"])
def test_files_open_with_pillow_frames_durations_and_pixels(name, format, pillow, tmp_path):
    from PIL import Image, ImageSequence

    spec, view = PIXEL_CASES[name]
    path = tmp_path / f"anim.{'gif' if format == 'gif' else 'png'}"
    anim = tm.animate(spec, view, out=path, duration=300)
    with Image.open(path) as image:
        assert image.format == ("GIF" if format == "gif" else "PNG")
        assert image.n_frames == len(anim)  # no two frames are alike here
        frames = [frame.convert("RGB") for frame in ImageSequence.Iterator(image)]
        durations = []
        for k in range(image.n_frames):
            image.seek(k)
            durations.append(image.info["duration"])
    assert durations == [300] * len(anim)
    assert frames[0].size == anim.images[0].size
    count = len(anim)
    _check_pixels(anim, lambda k: frames[k], sorted({0, count // 2, count - 1}))


def test_identical_frames_are_merged_with_their_durations(pillow, tmp_path):
    from PIL import Image, ImageSequence

    red = Image.new("RGB", (20, 10), (200, 30, 30))
    blue = Image.new("RGB", (20, 10), (30, 30, 200))
    for format, name in (("gif", "x.gif"), ("apng", "x.png")):
        path = tmp_path / name
        kept = animate_module.save_frames(
            [red, red.copy(), blue, red], path, format=format, duration=[100, 200, 300, 400]
        )
        assert kept == [300, 300, 400]
        with Image.open(path) as image:
            assert image.n_frames == 3
            got = []
            for frame in ImageSequence.Iterator(image):
                got.append((frame.convert("RGB").getpixel((5, 5)), frame.info["duration"]))
        assert got == [((200, 30, 30), 300), ((30, 30, 200), 300), ((200, 30, 30), 400)]


def test_save_frames_refuses_bad_input(pillow, tmp_path):
    from PIL import Image

    image = Image.new("RGB", (4, 4))
    with pytest.raises(ConvSpecError, match="format='webp'"):
        animate_module.save_frames([image], tmp_path / "x", format="webp")
    with pytest.raises(ConvSpecError, match="no frames"):
        animate_module.save_frames([], tmp_path / "x")
    with pytest.raises(ConvSpecError, match="duration"):
        animate_module.save_frames([image, image], tmp_path / "x", duration=[100])
    # A single frame is a still picture, written all the same.
    assert animate_module.save_frames([image], tmp_path / "one.gif", duration=50) == [50]


def _label_crops(anim, frame):
    """Pixels inside each labelled cell of the kernel's footprint in one frame,
    by (channel, tap): the cell's colour and whatever text is drawn on it."""
    model = anim.model
    crops = {}
    for mark in model.frames[frame].window:
        if mark.label:
            x0, y0, x1, y1 = anim.layout.cell_box(model.kernel_side, mark.channel, mark.cell)
            crop = anim.images[frame].crop((x0 + 3, y0 + 3, x1 - 2, y1 - 2))
            crops[mark.channel, model.tap(mark.label)] = crop.tobytes()
    return crops


def test_numeric_weights_label_the_cells(pillow):
    spec = ConvSpec((4,), 2)
    anim = tm.animate(spec, weight=np.array([[[1.5, -2.0]]]))
    assert len(anim.images) == 3
    # The slides print each value on its tap's cell, once per overlay.
    tex = anim.beamer(fragment=True)
    assert tex.count("{$1.5$}") == 3 and tex.count("{$-2$}") == 3
    assert "w_{" not in tex
    # In the pictures a cell shows its own weight: changing the second
    # weight changes the second tap's cell only, and a value is not a name.
    crops = _label_crops(anim, 0)
    same_first = _label_crops(tm.animate(spec, weight=np.array([[[1.5, 1.5]]])), 0)
    named = _label_crops(tm.animate(spec), 0)
    assert set(crops) == {(0, 0), (0, 1)}
    assert crops[0, 0] == same_first[0, 0]
    assert crops[0, 1] != same_first[0, 1]
    assert crops[0, 0] != named[0, 0]
    with pytest.raises(ConvSpecError, match="weight shape"):
        tm.animate(spec, weight=np.ones((1, 1, 3)))
    with pytest.raises(TypeError, match="real"):
        tm.animate(spec, weight=np.ones((1, 1, 2), dtype=complex))


@pytest.mark.slow
def test_symbolic_labels_name_the_weight_with_channels(pillow):
    # With channels a cell is labelled with its own weight, w with subscripts
    # (o, c in the group, *tap), falling back to the tap alone where that is
    # too wide; with one channel each the two names are one.
    spec = ConvSpec((4, 4), 3, padding=1, in_channels=2, out_channels=2)
    single = ConvSpec((4, 4), 3, padding=1)
    # Wide cells: the two input channels' cells of one tap carry different
    # names (w₀₀₁₂ and w₀₁₁₂), so they differ.
    wide = _label_crops(tm.animate(spec, cell=40), 5)
    taps = [t for t in range(9) if (0, t) in wide and (1, t) in wide]
    assert len(taps) == 9
    assert all(wide[0, t] != wide[1, t] for t in taps)
    # Narrow cells: both show the tap's name, the same the single-channel
    # layer shows, which is a name (not the number a weight would show).
    narrow = _label_crops(tm.animate(spec, cell=16), 5)
    alone = _label_crops(tm.animate(single, cell=16), 5)
    valued = _label_crops(tm.animate(single, cell=16, weight=np.full((1, 1, 3, 3), 7.0)), 5)
    assert all(narrow[0, t] == narrow[1, t] == alone[0, t] for t in taps)
    assert all(alone[0, t] != valued[0, t] for t in taps)
    # The slides' cells are narrow: they name the taps.
    tex = tm.animate(ConvSpec((4,), 2, in_channels=2, out_channels=2)).beamer(fragment=True)
    assert "{$w_{1}$}" in tex and "{$w_{0,1,1}$}" not in tex


def test_notebook_display_and_repr(pillow):
    anim = tm.animate(FORWARD["textbook"], cell=12)
    assert anim.layout.cell == 12
    assert anim._repr_html_().startswith('<img src="data:image/gif;base64,')
    assert repr(anim) == "<Animation gather: Conv2d: 4 × 4 input, 3 × 3 kernel → 2 × 2, 4 frames>"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: tm.animate(ConvSpec((3, 3, 3), 2)), "1-D and 2-D layers; this one is 3-D"),
        (lambda: tm.animate(FORWARD["textbook"], "sideways"), "view='sideways' must be one of"),
        (lambda: tm.animate("4x4"), "must be a ConvSpec"),
        (lambda: tm.animate(ConvSpec((64, 64), 3, padding=1)), f"more than {MAX_FRAMES}"),
        (lambda: tm.animate(FORWARD["textbook"], duration=5), "duration=5 must be"),
        (lambda: tm.animate(FORWARD["textbook"], format="mp4"), "format='mp4' must be one of"),
        (lambda: tm.animate(FORWARD["textbook"], out="x.mp4"), "cannot tell the format"),
        (lambda: tm.animate(FORWARD["textbook"], cell=2).layout, "cell=2 must be"),
        (lambda: tm.animate(FORWARD["textbook"], weight=[1.0]).layout, "weight shape"),
        (lambda: animate_module.preset("nope"), "preset='nope' is not one of"),
    ],
)
def test_errors_name_the_argument(call, message, pillow):
    with pytest.raises(ConvSpecError, match=re.escape(message)):
        call()


# --------------------------------------------------------------------------- presets

# The classic set's geometries, from the paper's captions (arXiv:1603.07285):
# name -> (transposed?, forward input size, kernel, padding, stride, dilation).
CLASSIC = {
    "no_padding_no_strides": (4, 3, 0, 1, 1),
    "arbitrary_padding_no_strides": (5, 4, 2, 1, 1),
    "same_padding_no_strides": (5, 3, 1, 1, 1),
    "full_padding_no_strides": (5, 3, 2, 1, 1),
    "no_padding_strides": (5, 3, 0, 2, 1),
    "padding_strides": (5, 3, 1, 2, 1),
    "padding_strides_odd": (6, 3, 1, 2, 1),
    "dilation": (7, 3, 0, 1, 2),
}


def _classic(name):
    base = name.removesuffix("_transposed")
    i, k, p, s, d = CLASSIC[base]
    o = (i + 2 * p - d * (k - 1) - 1) // s + 1
    # The classic animations step over the output of the layer drawn: the
    # convolution's output, or the transposed layer's output (i x i).
    return name != base, i, k, p, s, d, (i * i if name != base else o * o)


def test_every_classic_animation_is_a_preset():
    names = set(CLASSIC) | {f"{n}_transposed" for n in CLASSIC if n != "dilation"}
    assert set(animate_module.PRESETS) == names
    assert len(names) == 15


@pytest.mark.parametrize("name", sorted(animate_module.PRESETS))
def test_presets_have_the_classic_geometry(name):
    transposed, i, k, p, s, d, steps = _classic(name)
    chosen = animate_module.preset(name)
    spec = chosen.spec
    assert spec == ConvSpec((i, i), k, stride=s, padding=p, dilation=d)
    assert chosen.transposed == transposed
    assert len(frame_model(spec, chosen.view).frames) == steps


@pytest.mark.slow
@pytest.mark.parametrize("name", ["no_padding_no_strides", "padding_strides_odd_transposed",
                                  "dilation", "full_padding_no_strides_transposed"])
def test_preset_command_writes_the_animation(name, pillow, tmp_path, capsys):
    from PIL import Image

    *_, steps = _classic(name)
    path = tmp_path / f"{name}.gif"
    assert main(["animate", "--preset", name, "--out", str(path)]) == 0
    assert f"{steps} frames" in capsys.readouterr().err
    with Image.open(path) as image:
        assert image.n_frames == steps
    # The options the README lists make the same animation.
    again = tmp_path / "again.gif"
    options = animate_module.preset(name).options().split()
    assert main(["animate", *options, "--out", str(again)]) == 0
    assert again.read_bytes() == path.read_bytes()


# --------------------------------------------------------------------------- beamer


def _pages(log: str) -> int:
    match = re.search(r"Output written on \S+ \((\d+) pages?", log)
    assert match, log[-2000:]
    return int(match.group(1))


BEAMER_CASES = {
    "textbook": (FORWARD["textbook"], "gather"),
    "channels": (ConvSpec((3, 3), 2, in_channels=2, out_channels=2), "gather"),
    "1d": (FORWARD["1d stride pad"], "gather"),
    "odd zero insertion": (TRANSPOSED["odd"], "zero-insertion"),
    "odd scatter": (TRANSPOSED["odd"], "scatter"),
    "dilated": (FORWARD["dilated"], "gather"),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", BEAMER_CASES)
def test_beamer_overlays_compile_fit_and_count(name, pdflatex, tmp_path):
    from transpose_matrix.render import compile_pdf

    spec, view = BEAMER_CASES[name]
    anim = tm.animate(spec, view)
    compile_pdf(anim.beamer(), tmp_path, name="slides")
    log = (tmp_path / "slides.log").read_text(errors="replace")
    assert "Overfull \\hbox" not in log
    assert "Overfull \\vbox" not in log
    assert _pages(log) == len(anim)


@pytest.mark.slow
def test_beamer_fragment_inputs_into_a_talk(pdflatex, tmp_path):
    from transpose_matrix.render import compile_pdf

    assert main(["animate", "--preset", "no_padding_no_strides", "--fragment",
                 "--out", str(tmp_path / "frame.tex")]) == 0
    fragment = (tmp_path / "frame.tex").read_text()
    assert fragment.startswith("% transpose_matrix animation") and "\\documentclass" not in fragment
    talk = "\n".join([
        r"\documentclass{beamer}", r"\usepackage[T1]{fontenc}", r"\usepackage{lmodern}",
        r"\usepackage{tikz}", r"\begin{document}", r"\begin{frame}{Before}x\end{frame}",
        r"\input{frame.tex}", r"\end{document}",
    ])
    compile_pdf(talk, tmp_path, name="talk")
    log = (tmp_path / "talk.log").read_text(errors="replace")
    assert "Overfull \\hbox" not in log
    assert _pages(log) == 1 + 4


def test_beamer_without_pillow(monkeypatch):
    # LaTeX output needs no pixels.
    monkeypatch.setitem(__import__("sys").modules, "PIL", None)
    tex = tm.animate(FORWARD["textbook"], weight=np.arange(9.0).reshape(1, 1, 3, 3)).beamer()
    assert tex.count("\\only<") == 4 + 3  # four frames, three 'written' layers
    assert "$8$" in tex and "$w_{" not in tex


# --------------------------------------------------------------------------- CLI


@pytest.mark.slow
def test_cli_animate_formats(pillow, tmp_path, capsys):
    from PIL import Image

    assert main(["animate", "--input", "5", "--kernel", "2", "--out", str(tmp_path / "a.png")]) == 0
    with Image.open(tmp_path / "a.png") as image:
        assert image.format == "PNG" and image.n_frames == 4
    assert main(["animate", "--transposed", "--input", "2x2", "--view", "zero-insertion",
                 "--format", "apng", "--out", str(tmp_path / "b.anim")]) == 0
    with Image.open(tmp_path / "b.anim") as image:
        assert image.n_frames == 16
    assert main(["animate", "--transposed", "--input", "3", "--stride", "2", "--numeric",
                 "--duration", "200", "--out", str(tmp_path / "c.gif")]) == 0
    with Image.open(tmp_path / "c.gif") as image:
        assert image.n_frames == 3 and image.info["duration"] == 200
    capsys.readouterr()
    assert main(["animate", "--format", "beamer"]) == 0
    assert capsys.readouterr().out.startswith("\\documentclass{beamer}")
    assert main(["animate", "--fragment"]) == 0
    assert capsys.readouterr().out.startswith("% transpose_matrix animation (a beamer frame")
    assert main(["animate", "--out", str(tmp_path / "d.tex")]) == 0
    assert "\\only<4>" in (tmp_path / "d.tex").read_text()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["animate"], "--out: give the file to write"),
        (["animate", "--out", "x.txt"], "--out: cannot tell the format of 'x.txt'"),
        (["animate", "--out", "/no/such/dir/x.gif"],
         "--out: output path '/no/such/dir/x.gif': directory '/no/such/dir' does not exist"),
        (["animate", "--fragment", "--out", "x.gif"], "--fragment: only with beamer output"),
        (["animate", "--view", "scatter", "--out", "x.gif"], "--view: 'scatter' is not allowed without --transposed"),
        (["animate", "--transposed", "--view", "gather", "--out", "x.gif"], "--view: 'gather' is not allowed with --transposed"),
        (["animate", "--preset", "dilation", "--stride", "2", "--out", "x.gif"], "--stride: not allowed with --preset"),
        (["animate", "--preset", "dilation", "--view", "scatter", "--out", "x.gif"], "--view: 'scatter' does not fit --preset dilation"),
        (["animate", "--preset", "padding_strides_transposed", "--view", "gather", "--out", "x.gif"], "use scatter or zero-insertion"),
        (["animate", "--preset", "sideways"], "--preset: invalid choice"),
        (["animate", "--input", "3x3x3", "--out", "x.gif"], "--input: animations draw 1-D and 2-D layers"),
        (["animate", "--duration", "0", "--out", "x.gif"], "--duration: '0' is not allowed"),
    ],
)
def test_cli_animate_errors_are_one_line(argv, message, capsys, pillow, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err


def test_font_falls_back_to_pillows_own(pillow, monkeypatch):
    monkeypatch.setattr(animate_module, "_font_paths", lambda bold: ["/no/such/font.ttf"])
    animate_module._font.cache_clear()
    try:
        font = animate_module._font(13)
        assert font.getbbox("w₀₀")[2] > 0
    finally:
        animate_module._font.cache_clear()


def test_save_by_extension(pillow, tmp_path):
    anim = tm.animate(FORWARD["1d"])
    assert anim.save(tmp_path / "a.tex").read_text().startswith("\\documentclass{beamer}")
    assert anim.save(tmp_path / "a.apng").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert anim.save(tmp_path / "a.bin", format="gif").read_bytes()[:6] == b"GIF89a"
    with pytest.raises(TypeError, match="must be a ConvSpec"):
        tm.animate("4x4", weight=np.ones((1, 1, 3)))


def test_a_transpose_with_no_ConvTranspose_layer_is_named_so():
    # 'after' padding beyond 'before': no (padding, output_padding) gives this Cᵀ.
    spec = ConvSpec((6,), 3, padding=[(0, 2)])
    assert spec.transposed_arguments() is None
    model = frame_model(spec, "scatter")
    assert model.title.startswith("transpose of Conv1d: input of length 6")
    assert len(model.frames) == spec.matrix_shape[0]
