"""matplotlib pictures of C: its sparsity by kernel tap, and Cᵀ's coverage map.

Both functions draw on an ``Axes`` (a new figure's when none is given) and
return it, as matplotlib's own plotting functions do. matplotlib is imported
inside them, so the core never pays for it; without it they raise
:class:`~transpose_matrix.ConvSpecError` with the install line.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import ConvSpecError, ConvSpecTypeError, optional_import
from ..geometry.spec import ConvSpec

__all__ = ["MAX_IMAGE_CELLS", "plot_coverage", "plot_matrix"]

#: Matrices with more cells than this are drawn as markers, not as an image.
MAX_IMAGE_CELLS = 4_000_000
#: Entries drawn as markers at most.
MAX_MARKERS = 2_000_000

def _pyplot() -> Any:
    return optional_import("matplotlib.pyplot", "plotting")


def _axes(ax: Any) -> Any:
    if ax is not None:
        return ax
    _, ax = _pyplot().subplots()
    return ax


def _tap_colors(count: int) -> list[tuple[float, float, float]]:
    from .animate import tap_rgb

    return [(r / 255, g / 255, b / 255) for r, g, b in tap_rgb(count)]


def _block_lines(ax: Any, channels: int, shape: tuple[int, ...], vertical: bool) -> None:
    """Lines between channels (dark) and between rows of the spatial grid (light)."""
    from .text import block_edges

    draw = ax.axvline if vertical else ax.axhline
    for position, heavy in block_edges(channels, shape, channels * math.prod(shape)):
        if heavy:
            draw(position - 0.5, color="0.15", linewidth=1.2)
        else:
            draw(position - 0.5, color="0.75", linewidth=0.5)


def plot_matrix(
    spec_or_matrix: Any,
    ax: Any = None,
    *,
    transposed: bool = False,
    legend: bool = True,
) -> Any:
    """Draw C's sparsity pattern, each stored entry coloured by its kernel tap.

    Entry ``C[(o, *j), (c, *i)]`` holds tap ``t`` with ``i = j*s - p + t*d``;
    its colour is tap ``t``'s, the same as in the animations and TikZ
    figures. Dark lines separate channels, light ones the rows of the
    spatial grid (2-D). A plain matrix (scipy sparse or array) is drawn with
    its values on a diverging colour map instead.

    Parameters
    ----------
    spec_or_matrix : ConvSpec, scipy.sparse array or numpy array
    ax : matplotlib.axes.Axes, optional
        Draw here; a new figure's Axes otherwise.
    transposed : bool
        Draw Cᵀ (a spec only).
    legend : bool
        Add the kernel taps as a legend (a spec with at most 25 taps).

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ConvSpecError
        matplotlib missing, or a matrix too large to draw.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from transpose_matrix import ConvSpec
    >>> ax = plot_matrix(ConvSpec((4, 4), 3))
    >>> ax.images[0].get_array().shape
    (4, 16)
    """
    plt = _pyplot()
    import scipy.sparse
    from matplotlib.colors import Colormap, ListedColormap

    ax = _axes(ax)
    if isinstance(spec_or_matrix, ConvSpec):
        spec = spec_or_matrix
        from ..matrices.conv import weight_label_matrix
        from .frames import layer_title

        taps = math.prod(spec.kernel_size)
        labels = weight_label_matrix(spec)
        matrix = (labels.T if transposed else labels).tocoo()
        values = (matrix.data - 1) % taps
        cmap: Colormap = ListedColormap(_tap_colors(taps), name="taps")
        norm = {"vmin": -0.5, "vmax": taps - 0.5}
        name = "Cᵀ" if transposed else "C"
        ax.set_title(f"{name} of {layer_title(spec)}", fontsize="medium")
    else:
        if transposed:
            raise ConvSpecError("transposed=True needs a ConvSpec; pass matrix.T instead")
        spec = None
        try:
            matrix = scipy.sparse.coo_array(spec_or_matrix)
        except (TypeError, ValueError) as error:
            raise ConvSpecTypeError(
                f"spec_or_matrix must be a ConvSpec or a 2-D matrix: {error}"
            ) from None
        if matrix.ndim != 2 or matrix.dtype.kind not in "biuf":
            raise ConvSpecTypeError("spec_or_matrix must be a ConvSpec or a real 2-D matrix")
        matrix.sum_duplicates()
        values = matrix.data.astype(float)
        bound = float(np.abs(values).max()) if values.size else 1.0
        cmap = plt.get_cmap("RdBu_r").copy()
        norm = {"vmin": -bound, "vmax": bound}
    rows, cols = matrix.shape
    if rows * cols <= MAX_IMAGE_CELLS:
        image = np.full((rows, cols), np.nan)
        image[matrix.row, matrix.col] = values
        cmap = cmap.with_extremes(bad="white")
        ax.imshow(np.ma.masked_invalid(image), cmap=cmap, interpolation="nearest",
                  aspect="equal", **norm)
    elif matrix.nnz <= MAX_MARKERS:
        ax.scatter(matrix.col, matrix.row, c=values, cmap=cmap, s=1, marker="s",
                   linewidths=0, **norm)
        ax.set_xlim(-0.5, cols - 0.5)
        ax.set_ylim(rows - 0.5, -0.5)
        ax.set_aspect("equal")
    else:
        raise ConvSpecError(
            f"the matrix has {matrix.nnz} stored entries, more than {MAX_MARKERS} to draw; "
            "plot a smaller layer"
        )
    if spec is not None:
        x_blocks = (spec.in_channels, spec.input_shape)
        y_blocks = (spec.out_channels, spec.output_shape)
        if transposed:
            x_blocks, y_blocks = y_blocks, x_blocks
        _block_lines(ax, *x_blocks, vertical=True)
        _block_lines(ax, *y_blocks, vertical=False)
        letters = ("y", "x") if transposed else ("x", "y")
        ax.set_xlabel(f"column: input position {letters[0]}")
        ax.set_ylabel(f"row: output position {letters[1]}")
        if legend and taps <= 25:
            from matplotlib.patches import Patch

            from .views import tap_name

            handles = [
                Patch(facecolor=color, edgecolor="0.4", label=tap_name(spec, tap))
                for tap, color in enumerate(_tap_colors(taps))
            ]
            ax.legend(handles=handles, title="kernel tap", loc="upper left",
                      bbox_to_anchor=(1.02, 1.0), fontsize="small", frameon=False)
    return ax


def coverage(spec: ConvSpec) -> np.ndarray:
    """Cᵀ·1 reshaped to ``(in_channels, *input_shape)``: what a ones input scatters where.

    With every weight 1, output pixel ``i`` of the transposed layer receives
    one term per (input pixel, tap) pair that lands on it, times the
    ``out_channels // groups`` channels summed; uneven counts are the
    checkerboard of a stride that does not divide the kernel's span.

    Examples
    --------
    >>> coverage(ConvSpec.from_transposed((3,), 1, 1, 3, stride=2))[0]
    array([1., 1., 2., 1., 2., 1., 1.])
    """
    from ..matrices.conv import transposed_conv_matrix

    if not isinstance(spec, ConvSpec):
        raise ConvSpecTypeError(f"spec={spec!r} must be a ConvSpec")
    matrix = transposed_conv_matrix(spec, np.ones(spec.weight_shape))
    ones = np.ones(matrix.shape[1])
    return (matrix @ ones).reshape(spec.in_channels, *spec.input_shape)


def plot_coverage(spec: ConvSpec, ax: Any = None, *, annotate: bool | None = None) -> Any:
    """Draw the coverage map Cᵀ·1 of the transposed layer (channel 0; all are alike).

    Parameters
    ----------
    spec : ConvSpec
        A 1-D or 2-D forward geometry of the transposed layer
        (:meth:`ConvSpec.from_transposed`).
    ax : matplotlib.axes.Axes, optional
    annotate : bool, optional
        Write the count in each cell; by default when the map has at most
        32 cells a side.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ConvSpecTypeError
        ``spec`` is not a :class:`ConvSpec`.
    ConvSpecError
        The layer is 3-D (only 1-D and 2-D layers are drawn).
    MemoryGuardError
        Cᵀ of the layer would not fit in memory.
    MissingDependencyError
        matplotlib is not installed (the message names the ``plot`` extra).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from transpose_matrix import ConvSpec
    >>> ax = plot_coverage(ConvSpec.from_transposed((3, 3), 1, 1, 3, stride=2))
    >>> ax.images[0].get_array()[:2, :4].tolist()
    [[1.0, 1.0, 2.0, 1.0], [1.0, 1.0, 2.0, 1.0]]
    """
    _pyplot()
    from .frames import check_drawable, layer_title

    check_drawable(spec, "coverage maps")

    counts = coverage(spec)[0]
    grid = counts if spec.ndim == 2 else counts[None, :]
    ax = _axes(ax)
    low, high = float(grid.min()), float(grid.max())
    image = ax.imshow(grid, cmap="Blues", vmin=min(0.0, low), vmax=max(high, 1.0),
                      interpolation="nearest")
    if annotate is None:
        annotate = max(grid.shape) <= 32
    if annotate:
        middle = (min(0.0, low) + max(high, 1.0)) / 2
        for (r, c), value in np.ndenumerate(grid):
            ax.text(c, r, f"{value:g}", ha="center", va="center", fontsize="small",
                    color="white" if value > middle else "0.15")
    from matplotlib.ticker import MaxNLocator

    one_d = spec.ndim == 1
    bar = ax.figure.colorbar(
        image, ax=ax, shrink=0.8, label="terms landing on the pixel",
        orientation="horizontal" if one_d else "vertical", pad=0.25 if one_d else 0.05,
    )
    bar.locator = MaxNLocator(integer=True)
    bar.update_ticks()
    ax.set_title(f"Cᵀ·1 of {layer_title(spec, transposed=True)}", fontsize="medium")
    ax.set_xlabel("output position (last dim)")
    if spec.ndim == 2:
        ax.set_ylabel("output position (first dim)")
    else:
        ax.set_yticks([])
    return ax
