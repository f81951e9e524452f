"""Size arithmetic of convolutions, one formula for integers and sympy symbols.

Each formula is written once. Python's ``//`` is floor division for ``int``
and becomes ``floor`` for sympy expressions, so the numeric and the symbolic
answers come from the same line of code and cannot drift apart.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

from .errors import ConvSpecError, ConvSpecTypeError

__all__ = [
    "MAX_DIMS",
    "as_int",
    "as_pair",
    "as_shape",
    "per_dim",
    "conv_output_size",
    "transposed_conv_output_size",
    "effective_kernel_size",
    "PADDING_MODES",
    "check_padding_mode",
]


def _is_symbolic(value: Any) -> bool:
    # Imported lazily: plain integer arithmetic must not pay for importing sympy.
    module = type(value).__module__
    return module.startswith("sympy")


def as_int(name: str, value: Any, minimum: int | None = None) -> int:
    """Return ``value`` as an ``int``, rejecting bools, floats and strings.

    Raises
    ------
    ConvSpecTypeError
        If ``value`` is not an integer (``True`` and ``2.0`` are refused too).
    ConvSpecError
        If ``value`` is below ``minimum``.
    """
    if isinstance(value, bool):
        raise ConvSpecTypeError(f"{name}={value!r} must be an integer, not a bool")
    try:
        number = operator.index(value)
    except TypeError:
        raise ConvSpecTypeError(
            f"{name}={value!r} must be an integer, not {type(value).__name__}"
        ) from None
    if minimum is not None and number < minimum:
        raise ConvSpecError(f"{name}={number} must be >= {minimum}")
    return number


#: Spatial dims a convolution may have (1-D, 2-D or 3-D, as in PyTorch).
MAX_DIMS = 3


def as_shape(name: str, value: Any) -> tuple[int, ...]:
    """A spatial shape: 1 to :data:`MAX_DIMS` positive ints (an int means 1-D).

    Raises
    ------
    ConvSpecTypeError
        ``value`` is not an int or a sequence of ints (a string is refused).
    ConvSpecError
        Too many or too few dims, or a size below 1.
    """
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        try:
            operator.index(value)
        except TypeError:
            raise ConvSpecTypeError(
                f"{name}={value!r} must be an int or a sequence of 1 to {MAX_DIMS} ints"
            ) from None
        value = (value,)
    if not 1 <= len(value) <= MAX_DIMS:
        raise ConvSpecError(
            f"{name}={tuple(value)!r} must have 1 to {MAX_DIMS} spatial dims, got {len(value)}"
        )
    return tuple(as_int(f"{name}[{i}]", v, 1) for i, v in enumerate(value))


def per_dim(name: str, value: Any, ndim: int, minimum: int) -> tuple[int, ...]:
    """Broadcast an int to ``ndim`` entries, or check a sequence's length and entries."""
    if isinstance(value, (tuple, list)):
        if len(value) != ndim:
            raise ConvSpecError(
                f"{name}={tuple(value)!r} must have {ndim} entries, one per spatial dim"
            )
        return tuple(as_int(f"{name}[{i}]", v, minimum) for i, v in enumerate(value))
    return (as_int(name, value, minimum),) * ndim


def _size(name: str, value: Any, minimum: int) -> Any:
    if _is_symbolic(value):
        # Symbols pass as they are, but a symbol known not to be an integer
        # (or a number below the minimum) is refused like its numeric twin.
        if getattr(value, "is_integer", None) is False:
            raise ConvSpecTypeError(f"{name}={value} must be an integer (symbol or number)")
        if getattr(value, "is_number", False) and value < minimum:
            raise ConvSpecError(f"{name}={value} must be >= {minimum}")
        return value
    return as_int(name, value, minimum)


def as_pair(name: str, value: Any) -> tuple[Any, Any]:
    """Return padding ``value`` as a ``(before, after)`` pair.

    An int (or symbol) pads both sides equally; a pair is taken as given.
    """
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ConvSpecError(
                f"{name}={tuple(value)!r} must be an int or a (before, after) pair"
            )
        return (_size(name, value[0], -(2**62)), _size(name, value[1], -(2**62)))
    if isinstance(value, str):
        raise ConvSpecTypeError(
            f"{name}={value!r} must be an int or a (before, after) pair; "
            "padding strings such as 'same' are not supported"
        )
    amount = _size(name, value, 0)
    return (amount, amount)


def effective_kernel_size(kernel_size: Any, dilation: Any = 1) -> Any:
    """Span of a dilated kernel: ``dilation * (kernel_size - 1) + 1``."""
    return dilation * (kernel_size - 1) + 1


def conv_output_size(
    n: Any, kernel_size: Any, stride: Any = 1, padding: Any = 0, dilation: Any = 1
) -> Any:
    """``floor((n + p_before + p_after - dilation*(kernel_size - 1) - 1) / stride) + 1``.

    The number of positions at which a dilated kernel fits inside the padded
    input, counting every ``stride``-th one.

    Parameters
    ----------
    n : int or sympy.Expr
        Input size along one dimension.
    kernel_size, stride, dilation : int or sympy.Expr
        Layer geometry along the same dimension.
    padding : int, sympy.Expr or (before, after) pair
        Zeros added before and after the input; ``after`` may be negative,
        which crops.

    Returns
    -------
    int or sympy.Expr
        The output size; a closed form with ``floor`` for symbolic input.

    Raises
    ------
    ConvSpecError
        For integer input when the dilated kernel is larger than the padded
        input, or a size is not positive.

    Examples
    --------
    >>> conv_output_size(4, 3)
    2
    >>> conv_output_size(5, 3, stride=2, padding=1)
    3
    >>> import sympy
    >>> n = sympy.Symbol("n", integer=True, positive=True)
    >>> conv_output_size(n, 3, stride=2, padding=1)
    floor(n/2 - 1/2) + 1
    """
    n = _size("n", n, 1)
    kernel_size = _size("kernel_size", kernel_size, 1)
    stride = _size("stride", stride, 1)
    dilation = _size("dilation", dilation, 1)
    before, after = as_pair("padding", padding)
    span = effective_kernel_size(kernel_size, dilation)
    padded = n + before + after
    if not any(map(_is_symbolic, (padded, span))) and padded < span:
        raise ConvSpecError(
            f"dilated kernel size {span} (kernel_size={kernel_size}, "
            f"dilation={dilation}) exceeds padded input size {padded} "
            f"(n={n}, padding=({before}, {after}))"
        )
    return (padded - span) // stride + 1


def transposed_conv_output_size(
    n: Any,
    kernel_size: Any,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    dilation: Any = 1,
) -> Any:
    """``(n - 1)*stride - p_before - p_after + dilation*(kernel_size - 1) + output_padding + 1``.

    The size of ``torch.nn.ConvTransposeNd``'s output along one dimension.
    It is the largest input size ``m`` with ``conv_output_size(m, ...) == n``
    when ``output_padding = stride - 1``, and the smallest when it is 0; the
    ``stride`` sizes in between all convolve to ``n``, and ``output_padding``
    picks one of them.

    Parameters
    ----------
    n : int or sympy.Expr
        Input size of the transposed layer (the output size of its forward
        convolution).
    kernel_size, stride, dilation : int or sympy.Expr
        Layer geometry.
    padding : int, sympy.Expr or (before, after) pair
        Padding of the forward convolution.
    output_padding : int or sympy.Expr
        Extra size added at the end; ``0 <= output_padding < max(stride,
        dilation)`` for integer input.

    Returns
    -------
    int or sympy.Expr

    Raises
    ------
    ConvSpecError
        For integer input when ``output_padding`` is out of range or the
        result is not positive.

    Examples
    --------
    >>> transposed_conv_output_size(2, 3)
    4
    >>> transposed_conv_output_size(3, 3, stride=2, padding=1, output_padding=1)
    6
    """
    n = _size("n", n, 1)
    kernel_size = _size("kernel_size", kernel_size, 1)
    stride = _size("stride", stride, 1)
    dilation = _size("dilation", dilation, 1)
    output_padding = _size("output_padding", output_padding, 0)
    before, after = as_pair("padding", padding)
    numeric = not any(
        map(_is_symbolic, (n, kernel_size, stride, dilation, output_padding, before, after))
    )
    if numeric and output_padding >= max(stride, dilation):
        raise ConvSpecError(
            f"output_padding={output_padding} must be smaller than either "
            f"stride={stride} or dilation={dilation}"
        )
    size = (
        (n - 1) * stride
        - before
        - after
        + effective_kernel_size(kernel_size, dilation)
        + output_padding
    )
    if numeric and size < 1:
        raise ConvSpecError(
            f"transposed output size {size} must be positive (n={n}, "
            f"kernel_size={kernel_size}, stride={stride}, padding=({before}, {after}), "
            f"output_padding={output_padding}, dilation={dilation})"
        )
    return size


#: torch's ``padding_mode`` values: what the padded border holds. ``zeros``:
#: zeros; ``reflect``: the input mirrored about its edge entry, which is not
#: repeated (``x[1], x[0], x[1], ...``); ``replicate``: the edge entry
#: repeated; ``circular``: the input wrapped around periodically.
PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def check_padding_mode(
    mode: Any, pairs: Sequence[tuple[int, int]] = (), shape: Sequence[int] = ()
) -> str:
    """Return ``mode`` after checking it, and the padding it fills, against torch's rules.

    For every dim ``i`` with input size ``n`` and padding ``(before, after)``:
    ``reflect`` needs ``before < n`` and ``after < n`` (a mirror that does not
    repeat the edge has ``n - 1`` entries to offer); ``circular`` needs
    ``before <= n`` and ``after <= n`` (torch wraps around at most once);
    ``replicate`` takes any amount. Modes other than ``zeros`` also need
    ``after >= 0``: a crop has nothing to fill.

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
            f"padding_mode={mode!r} must be a string, one of {', '.join(PADDING_MODES)}"
        )
    if mode not in PADDING_MODES:
        raise ConvSpecError(f"padding_mode={mode!r} must be one of {', '.join(PADDING_MODES)}")
    if mode == "zeros":
        return mode
    for axis, ((before, after), n) in enumerate(zip(pairs, shape)):
        if after < 0:
            raise ConvSpecError(
                f"padding_mode={mode!r} needs padding >= 0, but dim {axis} pads "
                f"({before}, {after}); only padding_mode='zeros' crops"
            )
        if mode == "reflect" and max(before, after) >= n:
            raise ConvSpecError(
                f"padding_mode='reflect' needs padding < input size in every dim (torch's "
                f"rule), but dim {axis} pads ({before}, {after}) on input size {n}"
            )
        if mode == "circular" and max(before, after) > n:
            raise ConvSpecError(
                f"padding_mode='circular' needs padding <= input size in every dim (torch "
                f"wraps around at most once), but dim {axis} pads ({before}, {after}) on "
                f"input size {n}"
            )
    return mode
