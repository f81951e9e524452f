"""matplotlib plots: the colour of every stored entry is its kernel tap; coverage is Cᵀ·1."""

from __future__ import annotations

import itertools
import sys

import numpy as np
import pytest
from tap_ref import taps_by_definition

import transpose_matrix as tm
from transpose_matrix import ConvSpec, ConvSpecError, conv_matrix, transposed_conv_matrix
from transpose_matrix.render import plot as plot_module
from transpose_matrix.render.animate import tap_rgb

SPECS = {
    "textbook": ConvSpec((4, 4), 3),
    "channels": ConvSpec((4, 3), (2, 3), padding=1, in_channels=2, out_channels=3),
    "groups 1d": ConvSpec((7,), 3, stride=2, dilation=2, in_channels=4, out_channels=2, groups=2),
    "strided gaps": ConvSpec((7, 7), 2, stride=3),
}


@pytest.mark.slow
@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize("name", SPECS)
def test_every_entry_has_its_taps_colour(name, transposed, matplotlib):
    from matplotlib.axes import Axes

    spec = SPECS[name]
    ax = tm.plot_matrix(spec, transposed=transposed)
    assert isinstance(ax, Axes)
    image = ax.images[0]
    rgba = image.to_rgba(image.get_array())
    C = conv_matrix(spec, np.random.default_rng(0).uniform(0.5, 1.5, spec.weight_shape))
    matrix = (C.T if transposed else C).toarray()
    assert rgba.shape[:2] == matrix.shape
    colors = [tuple(c / 255 for c in rgb) for rgb in tap_rgb(int(np.prod(spec.kernel_size)))]
    taps = taps_by_definition(spec)
    for (r, c), value in np.ndenumerate(matrix):
        key = (c, r) if transposed else (r, c)
        if value:
            assert tuple(rgba[r, c, :3]) == pytest.approx(colors[taps[key]]), (r, c)
        else:
            assert tuple(rgba[r, c]) == (1.0, 1.0, 1.0, 1.0)
    matplotlib.pyplot.close(ax.figure)


@pytest.mark.slow
def test_block_lines_mark_channels_and_rows(matplotlib):
    spec = SPECS["channels"]  # input 2 x 4 x 3, output 3 x 5 x 3
    ax = tm.plot_matrix(spec, legend=False)
    vertical = {line.get_xdata()[0] for line in ax.lines if line.get_xdata()[0] == line.get_xdata()[1]}
    horizontal = {line.get_ydata()[0] for line in ax.lines if line.get_ydata()[0] == line.get_ydata()[1]}
    # Columns: input rows every 3 entries, channels every 12; rows likewise for the output.
    assert vertical == {p - 0.5 for p in range(3, 24, 3)}
    assert horizontal == {p - 0.5 for p in range(3, 45, 3)}
    dark = [line for line in ax.lines if line.get_color() == "0.15"]
    upright = [line for line in dark if line.get_xdata()[0] == line.get_xdata()[1]]
    assert [line.get_xdata()[0] for line in upright] == [11.5]
    across = [line.get_ydata()[0] for line in dark if line not in upright]
    assert across == [14.5, 29.5]
    assert ax.get_legend() is None
    matplotlib.pyplot.close(ax.figure)


def test_legend_names_the_taps(matplotlib):
    ax = tm.plot_matrix(SPECS["textbook"])
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels == ["w₀₀", "w₀₁", "w₀₂", "w₁₀", "w₁₁", "w₁₂", "w₂₀", "w₂₁", "w₂₂"]
    matplotlib.pyplot.close(ax.figure)


def test_plain_matrix_is_drawn_by_value_on_given_axes(matplotlib):
    import scipy.sparse

    plt = matplotlib.pyplot
    figure, axes = plt.subplots(1, 2)
    matrix = np.array([[0.0, 2.0, 0.0], [-1.0, 0.0, 0.5]])
    for ax, given in zip(axes, (matrix, scipy.sparse.csr_array(matrix))):
        assert tm.plot_matrix(given, ax=ax) is ax
        shown = ax.images[0].get_array()
        assert np.array_equal(shown.mask, matrix == 0)
        assert np.array_equal(shown.filled(0), matrix)
        assert ax.images[0].norm.vmin == -2.0 and ax.images[0].norm.vmax == 2.0
    plt.close(figure)


def test_large_matrix_is_drawn_as_markers(matplotlib, monkeypatch):
    monkeypatch.setattr(plot_module, "MAX_IMAGE_CELLS", 10)
    spec = SPECS["textbook"]
    ax = tm.plot_matrix(spec)
    assert not ax.images
    offsets = ax.collections[0].get_offsets()
    C = conv_matrix(spec, np.ones(spec.weight_shape)).tocoo()
    assert {(int(x), int(y)) for x, y in offsets} == set(zip(C.col.tolist(), C.row.tolist()))
    monkeypatch.setattr(plot_module, "MAX_MARKERS", 5)
    with pytest.raises(ConvSpecError, match="more than 5 to draw"):
        tm.plot_matrix(spec)
    matplotlib.pyplot.close("all")


TRANSPOSED = {
    "checkerboard 2d": ConvSpec.from_transposed((4, 4), 1, 1, 3, stride=2),
    "even 2d": ConvSpec.from_transposed((3, 3), 1, 1, 4, stride=2, padding=1),
    "1d uneven": ConvSpec.from_transposed((5,), 1, 1, 4, stride=3),
    "channels": ConvSpec.from_transposed((3, 3), 4, 6, 3, stride=2, groups=2, output_padding=1),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", TRANSPOSED)
def test_coverage_is_Ct_times_ones(name, matplotlib):
    spec = TRANSPOSED[name]
    Ct = transposed_conv_matrix(spec, np.ones(spec.weight_shape))
    expected = (Ct @ np.ones(Ct.shape[1])).reshape(spec.in_channels, *spec.input_shape)
    # All channels are alike: each sums out_channels // groups kernels.
    assert all(np.array_equal(expected[0], channel) for channel in expected)
    ax = tm.plot_coverage(spec)
    shown = np.asarray(ax.images[0].get_array())
    assert np.array_equal(shown.reshape(expected[0].shape), expected[0])
    if spec.ndim == 2 and max(spec.input_shape) <= 32:
        assert len(ax.texts) == expected[0].size
    matplotlib.pyplot.close(ax.figure)


def test_coverage_counts_by_definition():
    # Taps landing on output pixel i: pairs (j, t) with i = j*s - p + t*d.
    spec = ConvSpec.from_transposed((5,), 1, 1, 4, stride=3, padding=1)
    counts = np.zeros(spec.input_shape[0])
    for j, t in itertools.product(range(spec.output_shape[0]), range(4)):
        i = j * 3 - 1 + t
        if 0 <= i < spec.input_shape[0]:
            counts[i] += 1
    assert np.array_equal(plot_module.coverage(spec)[0], counts)


def test_plot_errors(matplotlib):
    with pytest.raises(ConvSpecError, match="transposed=True needs a ConvSpec"):
        tm.plot_matrix(np.eye(3), transposed=True)
    with pytest.raises(TypeError, match="real 2-D matrix"):
        tm.plot_matrix(np.eye(3) * 1j)
    with pytest.raises(TypeError, match="ConvSpec or a 2-D matrix"):
        tm.plot_matrix("C")
    with pytest.raises(ConvSpecError, match="1-D and 2-D layers; this one is 3-D"):
        tm.plot_coverage(ConvSpec((3, 3, 3), 2))
    with pytest.raises(TypeError, match="must be a ConvSpec"):
        tm.plot_coverage(np.eye(2))
    with pytest.raises(TypeError, match="must be a ConvSpec"):
        plot_module.coverage(None)
    matplotlib.pyplot.close("all")


def test_missing_matplotlib_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(tm.MissingDependencyError,
                       match=r'^plotting needs matplotlib: pip install "transpose_matrix\[plot\]"$'):
        tm.plot_matrix(SPECS["textbook"])
