"""What each frame of an animation highlights, read off C (or Cᵀ).

An animation steps through one vector of the matrix per frame. Three views:

``gather``
    The convolution. Frame ``r`` is row ``r`` of C: output position ``(o,
    *j)``, the kernel placed on the padded input (tap ``t`` covers ``j*s -
    p_before + t*d``), and the input cells it reads.
``scatter``
    The transposed layer, one input pixel at a time. Frame ``r`` is column
    ``r`` of Cᵀ (row ``r`` of C): pixel ``(o, *j)`` of the transposed layer's
    input stamps its kernel-weighted patch into the output; taps that land
    in the forward padding are cropped away.
``zero-insertion``
    The transposed layer as a stride-1 convolution. The transposed input
    gets ``s - 1`` zeros between pixels and ``d*(k - 1) - p_before`` zeros
    of border (output position ``i`` then reads grid cells ``i + u*d``), and
    the kernel is flipped: window slot ``u`` carries tap ``k - 1 - u``.
    Frame ``r`` is row ``r`` of Cᵀ.

Every frame records the kernel's footprint from the geometry (padding and
inserted zeros included) and, separately, the cells the matrix vector
actually holds (read from :func:`~transpose_matrix.matrices.conv.weight_label_matrix`
and its transpose). The tests check that the two agree: the footprint's
data cells are exactly the vector's nonzeros, with the same weights.

Labels are ``1 + flat weight index`` (``0`` where there is none), so a
label names the weight ``weight.reshape(-1)[label - 1]`` and its kernel tap
``(label - 1) % prod(kernel_size)``, which picks the colour.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ConvSpecError, ConvSpecTypeError
from ..geometry.padding import require_zero_padding
from ..geometry.spec import ConvSpec
from ..narrative.readouts import frame_caption

if TYPE_CHECKING:
    from scipy.sparse import csr_array

__all__ = [
    "DATA",
    "PAD",
    "ZERO",
    "VIEWS",
    "MAX_FRAMES",
    "Frame",
    "FrameModel",
    "Mark",
    "Plane",
    "check_drawable",
    "check_zero_padding",
    "frame_model",
    "layer_title",
]

#: The views :func:`frame_model` knows.
VIEWS = ("gather", "scatter", "zero-insertion")

#: Kinds of drawn cells: a tensor element, padding, a zero inserted between pixels.
DATA, PAD, ZERO = 0, 1, 2

#: More frames than this is a layer too large to step through one position at a time.
MAX_FRAMES = 2048


@dataclass(frozen=True, eq=False)
class Plane:
    """One drawn grid, shared by every channel of a tensor.

    ``kinds`` and ``index`` have the drawn spatial shape (padding and
    inserted zeros included): the kind of each cell, and the flat spatial
    index of the tensor element it shows (``-1`` for padding and zeros).
    """

    name: str
    channels: int
    shape: tuple[int, ...]
    kinds: np.ndarray
    index: np.ndarray

    @property
    def drawn_shape(self) -> tuple[int, ...]:
        """Spatial shape of the drawn grid."""
        return self.kinds.shape

    @property
    def size(self) -> int:
        """Elements per channel: the stride between channels in the flat vector."""
        return math.prod(self.shape)

    def cell_of(self, flat: int) -> tuple[int, tuple[int, ...]]:
        """``(channel, drawn cell)`` of entry ``flat`` of the tensor's flat vector."""
        channel, spatial = divmod(int(flat), self.size)
        return channel, self._cells[spatial]

    def flat_of(self, channel: int, cell: tuple[int, ...]) -> int | None:
        """Entry of the flat vector a drawn cell shows, ``None`` for padding and zeros."""
        spatial = int(self.index[cell])
        return None if spatial < 0 else channel * self.size + spatial

    @functools.cached_property
    def _cells(self) -> dict[int, tuple[int, ...]]:
        cells = (tuple(int(c) for c in cell) for cell in np.argwhere(self.index >= 0))
        return {int(self.index[cell]): cell for cell in cells}


@dataclass(frozen=True)
class Mark:
    """A highlighted cell: channel, drawn cell, and weight label (0 for none)."""

    channel: int
    cell: tuple[int, ...]
    label: int


@dataclass(frozen=True)
class Frame:
    """One step: the vector shown, the active cell and the kernel's footprint.

    ``window`` is the kernel placement from the geometry, on padding and
    inserted zeros too; ``hits`` are the cells the vector holds (its
    nonzeros, read from the matrix); ``entries`` are those nonzeros as
    ``(position in the vector, label)``.
    """

    number: int
    vector: int
    active: Mark
    window: tuple[Mark, ...]
    hits: tuple[Mark, ...]
    entries: tuple[tuple[int, int], ...]
    caption: str


@dataclass(frozen=True, eq=False)
class FrameModel:
    """Everything an animation draws, for any renderer (pixels, TikZ, HTML).

    ``source`` is drawn first (left, or on top for 1-D) and ``target``
    second; the kernel's footprint lies on ``kernel_side``, the active cell
    on the other. ``matrix`` is ``"C"`` or ``"Cᵀ"`` and ``vector`` says
    whether a frame shows a ``"row"`` or a ``"column"`` of it; the vector
    has ``vector_length`` entries laid out as ``vector_plane`` flattens.
    """

    spec: ConvSpec
    view: str
    title: str
    source: Plane
    target: Plane
    kernel_side: str
    matrix: str
    vector: str
    vector_plane: Plane
    frames: tuple[Frame, ...]

    @property
    def taps(self) -> int:
        """Kernel taps per channel pair, ``prod(kernel_size)``: the number of colours."""
        return math.prod(self.spec.kernel_size)

    @property
    def vector_length(self) -> int:
        """Entries of the row or column shown."""
        return self.vector_plane.channels * self.vector_plane.size

    @property
    def kernel_plane(self) -> Plane:
        """The plane the kernel's footprint lies on."""
        return self.source if self.kernel_side == "source" else self.target

    def tap(self, label: int) -> int:
        """Flat kernel tap of a weight label (``label >= 1``)."""
        return (label - 1) % self.taps


# --------------------------------------------------------------------------- text


def layer_title(spec: ConvSpec, transposed: bool = False) -> str:
    """One line naming the layer: its torch class, geometry in words and output shape.

    Examples
    --------
    >>> layer_title(ConvSpec((5, 5), 3, stride=2, padding=1))
    'Conv2d: 5 × 5 input, 3 × 3 kernel, stride 2, padding 1 → 3 × 3'
    >>> layer_title(ConvSpec.from_transposed((3, 3), 1, 1, 3, stride=2, padding=1,
    ...                                      output_padding=1), transposed=True)
    'ConvTranspose2d: 3 × 3 input, 3 × 3 kernel, stride 2, padding 1, output_padding 1 → 6 × 6'
    """
    from .prose import heading
    from .text import dims_text

    if not transposed:
        name = f"Conv{spec.ndim}d"
    elif spec.transposed_arguments() is not None:
        name = f"ConvTranspose{spec.ndim}d"
    else:
        name = f"transpose of Conv{spec.ndim}d"
    result = spec.input_shape if transposed else spec.output_shape
    return f"{name}: {heading(spec, transposed)} → {dims_text(result)}"


# --------------------------------------------------------------------------- planes


def _plain_plane(name: str, channels: int, shape: tuple[int, ...]) -> Plane:
    index = np.arange(math.prod(shape)).reshape(shape)
    return Plane(name, channels, shape, np.full(shape, DATA, dtype=np.int8), index)


def _padded_plane(name: str, spec: ConvSpec) -> Plane:
    """The input with its padding: drawn cell ``i + p_before`` shows input ``i``.

    A negative ``after`` crops: the last cells are drawn but no placement reads them.
    """
    axes = []
    for (before, after), n in zip(spec.padding, spec.input_shape):
        coord = np.arange(n + before + max(after, 0)) - before
        axes.append(np.where((coord >= 0) & (coord < n), coord, -1))
    return _grid_plane(name, spec.in_channels, spec.input_shape, axes, zeros=None)


def _zero_inserted_plane(name: str, spec: ConvSpec) -> Plane:
    """The transposed layer's input stretched for the stride-1 view.

    Along each dim the grid has ``n + d*(k - 1)`` cells (``n`` the forward
    input size) and pixel ``j`` sits at cell ``d*(k - 1) - p_before + j*s``;
    cells between pixels are inserted zeros, the rest border padding.
    Pixels that would fall outside the grid are read by no output position.
    """
    axes, zeros = [], []
    for axis, m in enumerate(spec.output_shape):
        n, k = spec.input_shape[axis], spec.kernel_size[axis]
        s, d = spec.stride[axis], spec.dilation[axis]
        offset = d * (k - 1) - spec.padding[axis][0]
        shifted = np.arange(n + d * (k - 1)) - offset
        pixel, on_pixel = np.divmod(shifted, s)
        inside = (shifted >= 0) & (pixel < m)
        axes.append(np.where(inside & (on_pixel == 0), pixel, -1))
        zeros.append((shifted >= 0) & (shifted <= (m - 1) * s))
    return _grid_plane(name, spec.out_channels, spec.output_shape, axes, zeros)


def _grid_plane(
    name: str,
    channels: int,
    shape: tuple[int, ...],
    axes: list[np.ndarray],
    zeros: list[np.ndarray] | None,
) -> Plane:
    """A plane from per-dim element coordinates (``-1`` off the tensor)."""
    grids = np.meshgrid(*axes, indexing="ij")
    data = np.logical_and.reduce([g >= 0 for g in grids])
    index = np.where(data, np.ravel_multi_index([np.maximum(g, 0) for g in grids], shape), -1)
    kinds = np.full(data.shape, PAD, dtype=np.int8)
    if zeros is not None:
        # A cell is an inserted zero when it lies within the pixels' span along every dim.
        kinds[np.logical_and.reduce(np.meshgrid(*zeros, indexing="ij"))] = ZERO
    kinds[data] = DATA
    return Plane(name, channels, shape, kinds, index)


# --------------------------------------------------------------------------- model


def check_drawable(spec: Any, what: str) -> None:
    """Raise unless ``spec`` is a 1-D or 2-D :class:`ConvSpec`; ``what`` names the drawing.

    >>> check_drawable(ConvSpec((2, 2, 2), 1), "pages")
    Traceback (most recent call last):
    ...
    transpose_matrix.errors.ConvSpecError: pages draw 1-D and 2-D layers; this one is 3-D \
(input_shape=(2, 2, 2))
    """
    if not isinstance(spec, ConvSpec):
        raise ConvSpecTypeError(f"spec={spec!r} must be a ConvSpec", field="spec")
    if spec.ndim > 2:
        raise ConvSpecError(
            f"{what} draw 1-D and 2-D layers; this one is {spec.ndim}-D "
            f"(input_shape={spec.input_shape})",
            field="input_shape",
        )


def check_zero_padding(spec: Any, what: str) -> None:
    """Raise unless ``spec`` pads with zeros: ``what`` draws taps in the padding as empty.

    >>> check_zero_padding(ConvSpec((4,), 3, padding=1, padding_mode="reflect"), "html_page")
    Traceback (most recent call last):
    ...
    transpose_matrix.errors.ConvSpecError: html_page draws zero padding only; with \
padding_mode='reflect' a tap in the border reads an input entry, so an entry of C can sum \
several weights: use show, export, verify or figure sparsity
    """
    require_zero_padding(spec, what)


def _check(spec: ConvSpec, view: str) -> None:
    check_drawable(spec, "animations")
    check_zero_padding(spec, "animate")
    if view not in VIEWS:
        raise ConvSpecError(f"view={view!r} must be one of {', '.join(VIEWS)}")
    count = spec.matrix_shape[0] if view != "zero-insertion" else spec.matrix_shape[1]
    if count > MAX_FRAMES:
        raise ConvSpecError(
            f"the {view} animation would have {count} frames (one per "
            f"{'output' if view == 'gather' else 'pixel'}), more than {MAX_FRAMES}; "
            "animate a smaller layer"
        )


def _labels(spec: ConvSpec) -> tuple[csr_array, csr_array]:
    """C and Cᵀ holding weight labels, as CSR and CSC for fast row/column reads."""
    from ..matrices.conv import transposed_conv_matrix, weight_label_matrix

    labels = weight_label_matrix(spec)
    weight = np.arange(1, math.prod(spec.weight_shape) + 1, dtype=np.int64)
    transposed = transposed_conv_matrix(spec, weight.reshape(spec.weight_shape))
    return labels, transposed


def _vector(matrix: Any, index: int, column: bool) -> tuple[np.ndarray, np.ndarray]:
    """Positions and labels of the nonzeros of one row (or column) of a sparse matrix."""
    sliced = matrix[:, [index]] if column else matrix[[index], :]
    coo = sliced.tocoo()
    positions = coo.row if column else coo.col
    order = np.argsort(positions)
    return positions[order], coo.data[order]


def frame_model(spec: ConvSpec, view: str = "gather") -> FrameModel:
    """The frames of an animation of ``spec``: what each one highlights.

    Parameters
    ----------
    spec : ConvSpec
        A 1-D or 2-D geometry: the convolution, or for the transposed views
        the forward convolution of the transposed layer (see
        :meth:`ConvSpec.from_transposed`).
    view : {'gather', 'scatter', 'zero-insertion'}
        One frame per row of C, per column of Cᵀ, or per row of Cᵀ.

    Returns
    -------
    FrameModel

    Raises
    ------
    ConvSpecError
        A 3-D spec, an unknown view, or more than :data:`MAX_FRAMES` frames.

    Examples
    --------
    >>> model = frame_model(ConvSpec((4, 4), 3))
    >>> len(model.frames), model.frames[3].caption
    (4, 'output (1, 1) = row 3 of C')
    >>> sorted(mark.cell for mark in model.frames[0].hits)[:4]
    [(0, 0), (0, 1), (0, 2), (1, 0)]
    """
    _check(spec, view)
    if view == "gather":
        return _gather(spec)
    if view == "scatter":
        return _scatter(spec)
    return _zero_insertion(spec)


def _taps(spec: ConvSpec) -> list[tuple[int, ...]]:
    return list(itertools.product(*(range(k) for k in spec.kernel_size)))


def _group_channels(spec: ConvSpec, o: int) -> range:
    """Input channels of output channel ``o``'s group."""
    per_in = spec.in_channels // spec.groups
    group = o // (spec.out_channels // spec.groups)
    return range(group * per_in, (group + 1) * per_in)


def _label(spec: ConvSpec, o: int, c: int, tap: tuple[int, ...]) -> int:
    per_in = spec.in_channels // spec.groups
    return 1 + int(np.ravel_multi_index((o, c % per_in, *tap), spec.weight_shape))


def _placement(spec: ConvSpec, o: int, j: tuple[int, ...]) -> tuple[Mark, ...]:
    """The kernel of output ``(o, *j)`` on the padded input: tap ``t`` at drawn ``j*s + t*d``.

    (Input coordinate ``j*s - p_before + t*d``, drawn ``p_before`` further on.)
    """
    corner = np.array(j) * np.array(spec.stride)
    dilation = np.array(spec.dilation)
    return tuple(
        Mark(c, tuple(int(v) for v in corner + np.array(t) * dilation), _label(spec, o, c, t))
        for c in _group_channels(spec, o)
        for t in _taps(spec)
    )


def _marks(plane: Plane, positions: np.ndarray, labels: np.ndarray) -> tuple[Mark, ...]:
    marks = []
    for position, label in zip(positions, labels):
        channel, cell = plane.cell_of(position)
        marks.append(Mark(channel, cell, int(label)))
    return tuple(marks)


def _flipped_placement(spec: ConvSpec, c: int, i: tuple[int, ...]) -> tuple[Mark, ...]:
    """The window of output ``(c, *i)`` on the zero-inserted grid: slot ``u`` at ``i + u*d``.

    Slot ``u`` carries the flipped tap ``k - 1 - u``, of every output channel
    of the forward convolution in ``c``'s group.
    """
    per_out = spec.out_channels // spec.groups
    group = c // (spec.in_channels // spec.groups)
    corner, dilation = np.array(i), np.array(spec.dilation)
    last = np.array(spec.kernel_size) - 1
    return tuple(
        Mark(
            o,
            tuple(int(v) for v in corner + np.array(u) * dilation),
            _label(spec, o, c, tuple(int(v) for v in last - np.array(u))),
        )
        for o in range(group * per_out, (group + 1) * per_out)
        for u in _taps(spec)
    )


def _frames(
    matrix: Any,
    column: bool,
    plane: Plane,
    active: tuple[int, tuple[int, ...]],
    window: Any,
    caption: Any,
) -> tuple[Frame, ...]:
    """One frame per row (or column) of ``matrix``, whose entries lie on ``plane``.

    ``active`` is ``(channels, spatial shape)`` of the tensor whose cells the
    vectors are numbered by; ``window(channel, position)`` gives the kernel's
    footprint and ``caption(vector, channel, position)`` the caption.
    """
    channels, shape = active
    frames = []
    for r, (channel, *position) in enumerate(np.ndindex(channels, *shape)):
        positions, values = _vector(matrix, r, column)
        frames.append(
            Frame(
                r,
                r,
                Mark(channel, tuple(position), 0),
                window(channel, tuple(position)),
                _marks(plane, positions, values),
                tuple(zip(positions.tolist(), values.tolist())),
                caption(r, channel, tuple(position)),
            )
        )
    return tuple(frames)


def _gather(spec: ConvSpec) -> FrameModel:
    labels = _labels(spec)[0].tocsr()
    source = _padded_plane("input", spec)
    target = _plain_plane("output", spec.out_channels, spec.output_shape)
    frames = _frames(
        labels, False, source, (spec.out_channels, spec.output_shape),
        lambda o, j: _placement(spec, o, j),
        lambda r, o, j: frame_caption("gather", r, o, spec.out_channels, j),
    )
    return FrameModel(
        spec, "gather", layer_title(spec), source, target, "source", "C", "row", source, frames
    )


def _scatter(spec: ConvSpec) -> FrameModel:
    transposed = _labels(spec)[1].tocsc()
    source = _plain_plane("input", spec.out_channels, spec.output_shape)
    target = _padded_plane("output", spec)
    frames = _frames(
        transposed, True, target, (spec.out_channels, spec.output_shape),
        lambda o, j: _placement(spec, o, j),
        lambda r, o, j: frame_caption("scatter", r, o, spec.out_channels, j),
    )
    return FrameModel(
        spec, "scatter", layer_title(spec, transposed=True) + " (scatter)", source, target,
        "target", "Cᵀ", "column", target, frames,
    )


def _zero_insertion(spec: ConvSpec) -> FrameModel:
    transposed = _labels(spec)[1].tocsr()
    source = _zero_inserted_plane("input", spec)
    target = _plain_plane("output", spec.in_channels, spec.input_shape)
    frames = _frames(
        transposed, False, source, (spec.in_channels, spec.input_shape),
        lambda c, i: _flipped_placement(spec, c, i),
        lambda r, c, i: frame_caption("zero-insertion", r, c, spec.in_channels, i),
    )
    return FrameModel(
        spec, "zero-insertion", layer_title(spec, transposed=True) + " (zero insertion)",
        source, target, "source", "Cᵀ", "row", source, frames,
    )
