"""Padding as its own operator: ``C = D·P``, and everything about ``P``.

A padded convolution is ``C = D·P``: ``P`` pads every channel of the input
(``n + before + after`` entries per dim) and ``D`` convolves the padded grid
without padding. This module owns ``P``, so a change to padding is made here
and nowhere else:

* the **modes** (:data:`PADDING_MODES`, one :class:`PaddingMode` each in
  :data:`MODES`): what the border holds, which amounts each takes, whether
  torch has it;
* the **padding strings** ``'same'`` and ``'valid'`` (:data:`PADDING_STRINGS`)
  and how they, or numbers, resolve to per-dim ``(before, after)`` pairs
  (:func:`string_padding`; numbers are read at the integer boundary,
  :class:`~transpose_matrix.geometry.spec.ConvSpec`);
* the **index map of P** (:func:`padding_source`: which input entry a padded
  position copies) and its preimages (:func:`padding_preimages`: which padded
  positions copy an input entry, what ``C``'s summed entries are made of);
* **P and Pᵀ on arrays** (:func:`pad_array`, :func:`fold_array`; Pᵀ folds
  every border entry back onto the input entry it copied) and Pᵀ as slices
  (:func:`fold_blocks`, the torch recipe of
  :func:`~transpose_matrix.analysis.verification.transpose_recipe`);
* **what a mode may be combined with**, and the one set of refusals:
  :func:`check_padding_mode`, :func:`require_zero_padding` (drawings of single
  weights), :func:`require_transposed_layer` (torch's ``ConvTransposeNd``),
  :func:`require_torch_mode` (anything that runs torch's own padding).

The sparse matrix of ``P`` is :func:`transpose_matrix.pad_matrix`; C's entries
through the padding are built in :mod:`transpose_matrix.matrices.conv`; both
read the index map here. Only :mod:`transpose_matrix.errors` is imported
(numpy when an array is asked for), so building the CLI parser stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import ConvSpecError, ConvSpecTypeError

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "PaddingMode",
    "MODES",
    "PADDING_MODES",
    "PADDING_STRINGS",
    "padding_mode",
    "check_padding_mode",
    "string_padding",
    "copies_input",
    "padding_source",
    "padding_preimages",
    "padding_borders",
    "pad_array",
    "fold_array",
    "fold_blocks",
    "require_zero_padding",
    "require_transposed_layer",
    "require_torch_mode",
]


class Padded(Protocol):
    """What the refusals read of a spec (a :class:`~transpose_matrix.ConvSpec`)."""

    @property
    def padding_mode(self) -> str: ...


# --------------------------------------------------------------------------- the modes


def _zeros(coord: np.ndarray, n: int) -> np.ndarray:
    import numpy as np

    return np.where((coord >= 0) & (coord < n), coord, -1)


def _reflect(coord: np.ndarray, n: int) -> np.ndarray:
    import numpy as np

    return np.where(coord < 0, -coord, np.where(coord >= n, 2 * (n - 1) - coord, coord))


def _replicate(coord: np.ndarray, n: int) -> np.ndarray:
    import numpy as np

    return np.clip(coord, 0, n - 1)


def _circular(coord: np.ndarray, n: int) -> np.ndarray:
    import numpy as np

    return np.mod(coord, n)


def _symmetric(coord: np.ndarray, n: int) -> np.ndarray:
    import numpy as np

    return np.where(coord < 0, -1 - coord, np.where(coord >= n, 2 * n - 1 - coord, coord))


def _points(*images: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(image, image) for image in images]


def _zeros_images(i: np.ndarray, n: int, before: int, after: int) -> list[tuple[Any, Any]]:
    return _points(i)


def _reflect_images(i: np.ndarray, n: int, before: int, after: int) -> list[tuple[Any, Any]]:
    import numpy as np

    # The edge entries are not repeated: their mirror image is themselves,
    # made empty (low = 1 > high = 0) so that no tap is counted twice.
    head, tail = -i, 2 * (n - 1) - i
    return [
        (i, i),
        (np.where(i > 0, head, 1), np.where(i > 0, head, 0)),
        (np.where(i < n - 1, tail, 1), np.where(i < n - 1, tail, 0)),
    ]


def _replicate_images(i: np.ndarray, n: int, before: int, after: int) -> list[tuple[Any, Any]]:
    import numpy as np

    return [(np.where(i == 0, -before, i), np.where(i == n - 1, n - 1 + after, i))]


def _circular_images(i: np.ndarray, n: int, before: int, after: int) -> list[tuple[Any, Any]]:
    return _points(i, i - n, i + n)


def _symmetric_images(i: np.ndarray, n: int, before: int, after: int) -> list[tuple[Any, Any]]:
    # The mirror repeats the edge entry, so an image is never i itself.
    return _points(i, -1 - i, 2 * n - 1 - i)


@dataclass(frozen=True)
class PaddingMode:
    """One padding mode: what ``P`` copies into the border, and what the mode allows.

    Parameters
    ----------
    name : str
        The ``padding_mode`` value.
    holds : str
        What the padded border holds, as a phrase for documents.
    source : callable
        ``source(coord, n)``: the input entry padded coordinate ``coord``
        copies (counted from the first input entry; ``-1`` for a zero). The
        index map of P, vectorised over numpy arrays.
    images : callable
        ``images(i, n, before, after)``: the padded coordinates copying input
        entry ``i``, as a list of ``(low, high)`` intervals (empty when
        ``low > high``), pairwise disjoint; the preimage of ``i`` under
        ``source``.
    limit : callable or None
        ``limit(n)``: the most entries one side may pad on input size ``n``,
        or ``None`` for any amount.
    rule : str
        The limit as words, for messages.
    fold : {'flip', 'sum', 'copy'}
        How a border block folds back in Pᵀ: reversed onto a run of entries
        (a mirror), summed onto one entry (the edge repeated), or as it is
        (a wrap).
    torch : str or None
        torch's name for the mode (``ConvNd(padding_mode=)``; ``F.pad(mode=)``
        is the same except ``'constant'`` for zeros), ``None`` if torch has none.
    numpy : str
        ``numpy.pad``'s name for the mode.

    Raises
    ------
    ConvSpecError
        Never itself: :func:`check_padding_mode` applies ``limit``.

    Examples
    --------
    >>> mode = MODES["circular"]
    >>> mode.limit(4), mode.fold, mode.torch, mode.numpy
    (4, 'copy', 'circular', 'wrap')
    """

    name: str
    holds: str
    source: Callable[[Any, int], Any]
    images: Callable[[Any, int, int, int], list[tuple[Any, Any]]]
    limit: Callable[[int], int] | None
    rule: str
    fold: str
    torch: str | None
    numpy: str


#: Every padding mode, by name. ``zeros`` first; the rest copy input entries.
MODES: dict[str, PaddingMode] = {
    mode.name: mode
    for mode in (
        PaddingMode(
            "zeros", "zeros", _zeros, _zeros_images, None, "", "copy", "zeros", "constant"
        ),
        PaddingMode(
            "reflect",
            "the input mirrored about its edge entry, which is not repeated",
            _reflect,
            _reflect_images,
            lambda n: n - 1,
            "padding < input size in every dim (torch's rule)",
            "flip",
            "reflect",
            "reflect",
        ),
        PaddingMode(
            "replicate",
            "the edge entry repeated",
            _replicate,
            _replicate_images,
            None,
            "",
            "sum",
            "replicate",
            "edge",
        ),
        PaddingMode(
            "circular",
            "the input wrapped around",
            _circular,
            _circular_images,
            lambda n: n,
            "padding <= input size in every dim (torch wraps around at most once)",
            "copy",
            "circular",
            "wrap",
        ),
        PaddingMode(
            "symmetric",
            "the input mirrored about its edge, the edge entry repeated",
            _symmetric,
            _symmetric_images,
            lambda n: n,
            "padding <= input size in every dim (TensorFlow's rule: the mirror repeats "
            "the input at most once)",
            "flip",
            None,
            "symmetric",
        ),
    )
}

#: The ``padding_mode`` values: what the padded border holds. ``zeros``:
#: zeros; ``reflect``: the input mirrored about its edge entry, which is not
#: repeated (``x[1], x[0], x[1], ...``); ``replicate``: the edge entry
#: repeated; ``circular``: the input wrapped around periodically;
#: ``symmetric`` (numpy's and TensorFlow's, not torch's): the input mirrored
#: with its edge entry repeated (``x[1], x[0], x[0], x[1], ...``).
PADDING_MODES: tuple[str, ...] = tuple(MODES)

#: The padding strings ``torch.nn.Conv{1,2,3}d`` accepts.
PADDING_STRINGS = ("same", "valid")


def padding_mode(mode: str) -> PaddingMode:
    """The :class:`PaddingMode` called ``mode`` (checked by :func:`check_padding_mode`).

    Parameters
    ----------
    mode : str
        A ``padding_mode`` value.

    Returns
    -------
    PaddingMode

    Raises
    ------
    ConvSpecTypeError, ConvSpecError
        As :func:`check_padding_mode`: not a string, or not a mode.

    Examples
    --------
    >>> padding_mode("replicate").numpy
    'edge'
    """
    return MODES[check_padding_mode(mode)]


def copies_input(mode: str) -> bool:
    """Whether the border copies input entries (every mode but ``zeros``).

    Then a tap in the border reads an input entry, an entry of C can sum
    several weights, and ``Cᵀ = PᵀDᵀ`` is no ``ConvTransposeNd`` layer.

    Parameters
    ----------
    mode : str
        A ``padding_mode`` value.

    Returns
    -------
    bool

    Raises
    ------
    ConvSpecTypeError, ConvSpecError
        As :func:`check_padding_mode`: not a string, or not a mode.

    Examples
    --------
    >>> copies_input("zeros"), copies_input("reflect")
    (False, True)
    """
    return check_padding_mode(mode) != "zeros"


# --------------------------------------------------------------------------- rules


def check_padding_mode(
    mode: Any, pairs: Sequence[tuple[int, int]] = (), shape: Sequence[int] = ()
) -> str:
    """Return ``mode`` after checking it, and the padding it fills, against its rules.

    For every dim ``i`` with input size ``n`` and padding ``(before, after)``:
    ``reflect`` needs ``before < n`` and ``after < n`` (a mirror that does not
    repeat the edge has ``n - 1`` entries to offer); ``circular`` needs
    ``before <= n`` and ``after <= n`` (torch wraps around at most once), and
    so does ``symmetric`` (TensorFlow's rule for ``tf.pad(mode='SYMMETRIC')``);
    ``replicate`` takes any amount. Modes other than ``zeros`` also need
    ``before, after >= 0``: a crop has nothing to fill.

    Parameters
    ----------
    mode : str
        The ``padding_mode`` to check.
    pairs : sequence of (int, int), optional
        Per-dim ``(before, after)`` amounts it fills.
    shape : sequence of int, optional
        Per-dim input sizes.

    Returns
    -------
    str
        ``mode``, unchanged.

    Raises
    ------
    ConvSpecTypeError
        ``mode`` is not a string.
    ConvSpecError
        ``mode`` is not one of :data:`PADDING_MODES`, or an amount breaks the
        mode's rule; the message names the dim, the padding and the size.

    Examples
    --------
    >>> check_padding_mode("reflect", [(2, 2)], [3])
    'reflect'
    >>> check_padding_mode("reflect", [(3, 3)], [3])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    transpose_matrix.errors.ConvSpecError: padding_mode='reflect' needs padding < input size ...
    """
    if not isinstance(mode, str):
        raise ConvSpecTypeError(
            f"padding_mode={mode!r} must be a string, one of {', '.join(PADDING_MODES)}",
            field="padding_mode",
        )
    if mode not in MODES:
        raise ConvSpecError(
            f"padding_mode={mode!r} must be one of {', '.join(PADDING_MODES)}",
            field="padding_mode",
        )
    if mode == "zeros":
        return mode
    limit = MODES[mode].limit
    for axis, ((before, after), n) in enumerate(zip(pairs, shape)):
        if min(before, after) < 0:
            raise ConvSpecError(
                f"padding_mode={mode!r} needs padding >= 0, but dim {axis} pads "
                f"({before}, {after}); only padding_mode='zeros' crops",
                field="padding",
            )
        if limit is not None and max(before, after) > limit(n):
            raise ConvSpecError(
                f"padding_mode={mode!r} needs {MODES[mode].rule}, but dim {axis} pads "
                f"({before}, {after}) on input size {n}",
                field="padding",
            )
    return mode


def require_zero_padding(spec: Padded, what: str) -> None:
    """Refuse ``what`` (a drawing of single weights) unless ``spec`` pads with zeros.

    With a mode that copies input entries, a tap in the border reads an input
    entry, so an entry of C can sum several weights; the drawings that show
    each tap in the padding as empty refuse it.

    Parameters
    ----------
    spec : ConvSpec
        The layer (anything with a ``padding_mode``).
    what : str
        The drawing, named first in the message.

    Raises
    ------
    ConvSpecError
        With ``field='padding_mode'``.

    Examples
    --------
    >>> from transpose_matrix.geometry import ConvSpec
    >>> require_zero_padding(ConvSpec((4,), 3, padding=1, padding_mode="reflect"), "html_page")
    Traceback (most recent call last):
    ...
    transpose_matrix.errors.ConvSpecError: html_page draws zero padding only; with \
padding_mode='reflect' a tap in the border reads an input entry, so an entry of C can sum \
several weights: use show, export, verify or figure sparsity
    """
    mode = spec.padding_mode
    if copies_input(mode):
        raise ConvSpecError(
            f"{what} draws zero padding only; with padding_mode={mode!r} a tap in the border "
            "reads an input entry, so an entry of C can sum several weights: use show, "
            "export, verify or figure sparsity",
            field="padding_mode",
        )


def require_transposed_layer(mode: str, instead: str) -> None:
    """Refuse a ``ConvTransposeNd`` layer with padding ``mode``: torch's pads with zeros only.

    ``instead`` says what to do (it ends the message).

    Parameters
    ----------
    mode : str
        The ``padding_mode``.
    instead : str
        What to do instead; it ends the message.

    Raises
    ------
    ConvSpecError
        With ``field='padding_mode'``.

    Examples
    --------
    >>> require_transposed_layer("circular", "report the convolution instead")
    Traceback (most recent call last):
    ...
    transpose_matrix.errors.ConvSpecError: padding_mode='circular' has no transposed layer: \
torch's ConvTransposeNd pads with zeros only; report the convolution instead
    """
    if copies_input(mode):
        raise ConvSpecError(
            f"padding_mode={mode!r} has no transposed layer: torch's ConvTransposeNd pads "
            f"with zeros only; {instead}",
            field="padding_mode",
        )


def require_torch_mode(mode: str, what: str) -> str:
    """torch's name of padding ``mode``; refuse ``what`` if torch has no such mode.

    Parameters
    ----------
    mode : str
        The ``padding_mode``.
    what : str
        What needs torch, named first in the message.

    Returns
    -------
    str
        torch's name of the mode.

    Raises
    ------
    ConvSpecError
        With ``field='padding_mode'``, naming the modes torch has.

    Examples
    --------
    >>> require_torch_mode("circular", "verify(use_torch=True)")
    'circular'
    """
    name = padding_mode(mode).torch
    if name is None:
        known = ", ".join(m.name for m in MODES.values() if m.torch is not None)
        raise ConvSpecError(
            f"{what}: torch has no padding_mode={mode!r} (its modes are {known}); "
            "C, Cᵀ and the operator take it, checked against numpy.pad and a loop "
            "convolution",
            field="padding_mode",
        )
    return name


# --------------------------------------------------------------------------- padding strings


def string_padding(
    value: str, kernel: Sequence[int], stride: Sequence[int], dilation: Sequence[int]
) -> tuple[tuple[int, int], ...]:
    """The ``(before, after)`` pairs torch uses for ``padding='same'`` or ``'valid'``.

    ``'valid'`` is no padding. ``'same'`` pads ``d*(k - 1)`` in total per dim,
    ``floor(total / 2)`` before and the rest after, so an even total splits
    evenly and an odd one puts the extra entry after (torch's split); the
    output size then equals the input size, which needs stride 1.

    Parameters
    ----------
    value : str
        ``'same'`` or ``'valid'``.
    kernel, stride, dilation : sequence of int
        Per-dim kernel sizes, strides and dilations.

    Returns
    -------
    tuple of (int, int)
        One ``(before, after)`` pair per dim.

    Raises
    ------
    ConvSpecTypeError
        Another string (it is never parsed).
    ConvSpecError
        ``'same'`` with a stride other than 1.

    Examples
    --------
    >>> string_padding("same", (4, 3), (1, 1), (1, 2))
    ((1, 2), (2, 2))
    """
    if value not in PADDING_STRINGS:
        raise ConvSpecTypeError(
            f"padding={value!r} must be 'same', 'valid', an int, or one int or "
            "(before, after) pair per dim",
            field="padding",
        )
    if value == "valid":
        return ((0, 0),) * len(kernel)
    if any(s != 1 for s in stride):
        raise ConvSpecError(
            f"padding='same' needs stride 1 in every dim, got stride={tuple(stride)} (torch "
            "refuses 'same' for strided convolutions)",
            field="padding",
        )
    totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
    return tuple((total // 2, total - total // 2) for total in totals)


# --------------------------------------------------------------------------- the index map


def padding_source(coord: Any, n: int, mode: str) -> np.ndarray:
    """Input index that padded coordinate ``coord`` copies, per ``padding_mode``.

    ``coord`` counts from the first input entry (so the padding before has
    negative coordinates and the padding after coordinates ``>= n``):
    ``reflect`` mirrors about the edge entries without repeating them
    (``-c`` before, ``2(n - 1) - c`` after), ``replicate`` clamps to
    ``[0, n - 1]``, ``circular`` wraps (``c mod n``), ``symmetric`` mirrors
    repeating the edge entries (``-1 - c`` before, ``2n - 1 - c`` after). Inside the input every
    mode returns ``coord``; for ``zeros``, padded positions get ``-1`` (they
    copy nothing). Valid for the amounts :func:`check_padding_mode` allows,
    which never reflect or wrap twice.

    Parameters
    ----------
    coord : array_like of int
        Coordinates along one dim, counted from the first input entry.
    n : int
        Input size along that dim.
    mode : str
        One of :data:`PADDING_MODES`; any other string is treated as
        ``'zeros'`` (modes are checked by :func:`check_padding_mode` at the
        boundary).

    Returns
    -------
    numpy.ndarray
        ``int64``, the shape of ``coord``: the input index each coordinate
        copies, or ``-1`` for a zero-padded one.

    Raises
    ------
    ValueError
        numpy's own, when ``coord`` cannot be read as integers; nothing else
        is validated here.

    Examples
    --------
    >>> import numpy as np
    >>> padding_source(np.arange(-2, 6), 4, "zeros")
    array([-1, -1,  0,  1,  2,  3, -1, -1])
    >>> padding_source(np.arange(-2, 6), 4, "reflect")
    array([2, 1, 0, 1, 2, 3, 2, 1])
    >>> padding_source(np.arange(-2, 6), 4, "circular")
    array([2, 3, 0, 1, 2, 3, 0, 1])
    >>> padding_source(np.arange(-2, 6), 4, "symmetric")
    array([1, 0, 0, 1, 2, 3, 3, 2])
    """
    import numpy as np

    return MODES.get(mode, MODES["zeros"]).source(np.asarray(coord, dtype=np.int64), n)


def padding_preimages(i: Any, n: int, pair: tuple[int, int], mode: str) -> list[tuple[Any, Any]]:
    """The padded coordinates that copy input entry ``i``: ``{q : padding_source(q) = i}``.

    Returned as ``(low, high)`` intervals of coordinates (arrays shaped like
    ``i``, empty where ``low > high``), pairwise disjoint; ``pair`` is the
    dim's ``(before, after)``. An image beyond the padding copies nothing
    any convolution reads, so it needs no check. A convolution's taps
    reading ``i`` are those whose coordinate ``j*s - before + t*d`` falls in
    one of these intervals; their weights add up in C.

    Parameters
    ----------
    i : array_like of int
        Input entries along one dim.
    n : int
        Input size along that dim.
    pair : (int, int)
        The dim's ``(before, after)`` padding.
    mode : str
        One of :data:`PADDING_MODES`.

    Returns
    -------
    list of (numpy.ndarray, numpy.ndarray)
        ``(low, high)`` per interval, each shaped like ``i``.

    Raises
    ------
    KeyError
        ``mode`` is not one of :data:`PADDING_MODES`.

    Examples
    --------
    >>> import numpy as np
    >>> [tuple(map(int, (low[0], high[0])))
    ...  for low, high in padding_preimages(np.array([1]), 4, (2, 2), "reflect")]
    [(1, 1), (-1, -1), (5, 5)]
    """
    import numpy as np

    before, after = pair
    return MODES[mode].images(np.asarray(i, dtype=np.int64), n, before, after)


# --------------------------------------------------------------------------- P and Pᵀ


def padding_borders(
    input_shape: Sequence[int], padding: Sequence[tuple[int, int]], mode: str
) -> list[list[tuple[int, int]]]:
    """Per dim, ``(padded position, padded position it copies)`` for every border entry.

    Both positions count on the padded grid (the input starts at
    ``before``). The pairs of :func:`pad_array` and :func:`fold_array`.

    Parameters
    ----------
    input_shape : sequence of int
        Spatial input shape.
    padding : sequence of (int, int)
        Per-dim ``(before, after)``, within the mode's limits.
    mode : str
        One of :data:`PADDING_MODES` (zeros copy nothing: empty lists).

    Returns
    -------
    list of list of (int, int)
        Per dim, the border's pairs, before then after.

    Raises
    ------
    ConvSpecTypeError, ConvSpecError
        ``mode`` is not a mode.

    Examples
    --------
    >>> padding_borders((3,), ((1, 1),), "replicate")
    [[(0, 1), (4, 3)]]
    """
    import numpy as np

    pairs: list[list[tuple[int, int]]] = []
    for n, (before, after) in zip(input_shape, padding):
        if not copies_input(mode):
            pairs.append([])  # zeros copy nothing
            continue
        border = [*range(before), *range(before + n, before + n + after)]
        sources = padding_source(np.array(border, dtype=np.int64) - before, n, mode)
        pairs.append([(r, before + int(s)) for r, s in zip(border, sources)])
    return pairs


def _at(first: int, axis: int, index: int) -> tuple[Any, ...]:
    """Index of one hyperplane along spatial ``axis``, spatial dims starting at ``first``."""
    return (slice(None),) * (first + axis) + (index,)


def pad_array(
    x: np.ndarray,
    input_shape: Sequence[int],
    padding: Sequence[tuple[int, int]],
    borders: list[list[tuple[int, int]]],
    first: int = 0,
) -> np.ndarray:
    """``P x``: ``x``'s spatial dims (from axis ``first`` on) padded by ``borders``' mode.

    Dims are filled in order, whole hyperplanes at a time, so a corner
    copies a border entry that an earlier dim has already filled: ``P`` is
    the Kronecker product of the per-dim paddings. ``borders`` is
    :func:`padding_borders` of the same geometry (empty lists for zeros).

    Parameters
    ----------
    x : numpy.ndarray
        The input; its spatial dims are ``x.shape[first : first + len(input_shape)]``.
    input_shape : sequence of int
        Spatial input shape.
    padding : sequence of (int, int)
        Per-dim ``(before, after)``.
    borders : list of list of (int, int)
        :func:`padding_borders` of this geometry.
    first : int, optional
        Axis of the first spatial dim.

    Returns
    -------
    numpy.ndarray
        ``x`` padded, a new array of ``x``'s dtype.

    Raises
    ------
    ValueError
        numpy's own, when ``x`` does not have ``input_shape`` at ``first``.

    Examples
    --------
    >>> import numpy as np
    >>> shape, pads = (4,), ((2, 1),)
    >>> pad_array(np.arange(4.0), shape, pads, padding_borders(shape, pads, "reflect"))
    array([2., 1., 0., 1., 2., 3., 2.])
    """
    import numpy as np

    lengths = [n + b + e for n, (b, e) in zip(input_shape, padding)]
    spatial = len(lengths)
    shape = (*x.shape[:first], *lengths, *x.shape[first + spatial :])
    # Every border entry is written below unless the mode pads with zeros.
    filled = len(borders) == spatial and all(
        len(border) == length - n for border, n, length in zip(borders, input_shape, lengths)
    )
    out = (np.empty if filled else np.zeros)(shape, dtype=x.dtype)
    middle = tuple(slice(b, b + n) for n, (b, _) in zip(input_shape, padding))
    out[(slice(None),) * first + middle] = x
    for axis, border in enumerate(borders):
        for position, source in border:
            out[_at(first, axis, position)] = out[_at(first, axis, source)]
    return out


def fold_array(
    z: np.ndarray,
    input_shape: Sequence[int],
    padding: Sequence[tuple[int, int]],
    borders: list[list[tuple[int, int]]],
    first: int = 0,
) -> np.ndarray:
    """``Pᵀ z``: every border hyperplane of ``z`` (padded shape) added onto the one it copied.

    The per-dim folds commute (``Pᵀ`` is a Kronecker product too); entries
    already folded along one dim are carried along, then dropped with the
    border at the end. ``z`` is added into in place.

    Parameters
    ----------
    z : numpy.ndarray
        On the padded grid (spatial dims from axis ``first``); added into.
    input_shape : sequence of int
        Spatial input shape.
    padding : sequence of (int, int)
        Per-dim ``(before, after)``.
    borders : list of list of (int, int)
        :func:`padding_borders` of this geometry.
    first : int, optional
        Axis of the first spatial dim.

    Returns
    -------
    numpy.ndarray
        The input's part of ``z`` after the fold (a view of ``z``).

    Raises
    ------
    IndexError
        numpy's own, when ``z`` is not on the padded grid.

    Examples
    --------
    >>> import numpy as np
    >>> shape, pads = (3,), ((1, 1),)
    >>> fold_array(np.ones(5), shape, pads, padding_borders(shape, pads, "replicate"))
    array([2., 1., 2.])
    """
    for axis, border in enumerate(borders):
        for position, source in border:
            z[_at(first, axis, source)] += z[_at(first, axis, position)]
    middle = tuple(slice(b, b + n) for n, (b, _) in zip(input_shape, padding))
    return z[(slice(None),) * first + middle]


def fold_blocks(
    n: int, pair: tuple[int, int], mode: str
) -> list[tuple[tuple[int, int], tuple[int, int], str]]:
    """Pᵀ along one dim as slices: ``(target, source, op)`` per non-empty border block.

    ``source`` is the block on the padded grid (``(0, before)`` and
    ``(before + n, before + n + after)``), ``target`` the input entries it
    copied (from :func:`padding_source`), ``op`` the mode's
    :attr:`PaddingMode.fold`: ``'flip'`` adds the block reversed onto
    ``target``, ``'sum'`` adds its sum onto the one entry, ``'copy'`` adds it
    as it is.

    Parameters
    ----------
    n : int
        Input size along the dim.
    pair : (int, int)
        The dim's ``(before, after)`` padding.
    mode : str
        A mode that copies input entries.

    Returns
    -------
    list of ((int, int), (int, int), str)
        ``(target, source, op)`` for the block before, then the one after.

    Raises
    ------
    ConvSpecTypeError, ConvSpecError
        ``mode`` is not a mode.

    Examples
    --------
    >>> fold_blocks(5, (1, 1), "reflect")
    [((1, 2), (0, 1), 'flip'), ((3, 4), (6, 7), 'flip')]
    """
    import numpy as np

    before, after = pair
    op = padding_mode(mode).fold
    blocks = []
    for low, high in ((-before, 0), (n, n + after)):
        if high > low:
            sources = padding_source(np.arange(low, high), n, mode)
            target = (int(sources.min()), int(sources.max()) + 1)
            blocks.append((target, (before + low, before + high), op))
    return blocks
