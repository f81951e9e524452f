"""Size arithmetic of convolutions, one formula for integers and sympy symbols.

Each formula is written once. Python's ``//`` is floor division for ``int``
and becomes ``floor`` for sympy expressions, so the numeric and the symbolic
answers come from the same line of code and cannot drift apart.

This module is also the package's boundary for integers: :func:`as_int`,
:func:`as_shape`, :func:`per_dim` and :func:`as_pair` turn what a user passes
(Python or numpy integers, 1-D integer arrays, sequences) into plain ints, and
refuse everything else with a :class:`~transpose_matrix.errors.ConvSpecError`
whose ``field`` names the argument. Every size, kernel size, stride, dilation,
padding amount and channel count must lie within ``±``:data:`MAX_INT`
(``2**60``): then every coordinate on a padded input (at most ``3 * 2**60``)
and every index the builders compute fits a signed 64-bit integer, and no
value is too long to print. :func:`parse_int` is the one place that reads an
integer from text (ASCII digits only).
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Sequence
from typing import Any

from ..errors import ConvSpecError, ConvSpecTypeError

# The padding modes and their rules live in .padding; these names stay
# importable from here, where they were first defined.
from .padding import PADDING_MODES, check_padding_mode

__all__ = [
    "power_text",
    "strict_sympify",
    "MAX_DIMS",
    "MAX_INT",
    "as_int",
    "as_pair",
    "as_shape",
    "per_dim",
    "parse_int",
    "describe",
    "field_of",
    "conv_output_size",
    "transposed_conv_output_size",
    "effective_kernel_size",
    "PADDING_MODES",
    "check_padding_mode",
]

#: Spatial dims a convolution may have (1-D, 2-D or 3-D, as in PyTorch).
MAX_DIMS = 3

#: Largest magnitude of any integer argument (sizes, kernel sizes, strides,
#: dilations, padding amounts, channel counts, size-solver candidates).
MAX_INT = 2**60

_MAX_INT_TEXT = "2**60 = 1152921504606846976"


def _is_symbolic(value: Any) -> bool:
    # Imported lazily: plain integer arithmetic must not pay for importing sympy.
    module = type(value).__module__
    return module.startswith("sympy")


def field_of(name: str) -> str:
    """The argument a parameter name is about: ``'padding[1] before'`` -> ``'padding'``.

    Examples
    --------
    >>> field_of("input_shape[2]"), field_of("padding[0] before"), field_of("n")
    ('input_shape', 'padding', 'n')
    """
    match = re.match(r"[A-Za-z_][A-Za-z0-9_]*", name)
    return match.group(0) if match else name


def _int_text(number: int) -> str:
    # str() of an int above 4,300 digits raises (CPython's conversion limit)
    # and a long one would flood a one-line message: name its size instead.
    size = abs(number)
    if size < 10**30:
        return str(number)
    # floor(log10(size)) from the bit length, corrected upwards: no decimal
    # conversion of the whole number.
    exponent = int((size.bit_length() - 1) * math.log10(2))
    while 10 ** (exponent + 1) <= size:
        exponent += 1
    return f"{'-' if number < 0 else ''}<a {exponent + 1}-digit integer>"


def describe(value: Any, limit: int = 60) -> str:
    """A short, safe ``repr`` of ``value`` for an error message.

    Huge integers are named by their length (no conversion to decimal),
    long sequences and strings are cut, and an object whose ``repr`` fails
    is named by its type.

    Examples
    --------
    >>> describe((4, 10**5000))
    '(4, <a 5001-digit integer>)'
    >>> describe("x" * 100, limit=8)
    "'xxxxxxxx…"
    """
    if isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return _int_text(value)
    if isinstance(value, (tuple, list)):
        items = [describe(v, limit) for v in value[:4]]
        if len(value) > 4:
            items.append(f"… ({len(value)} entries)")
        inner = ", ".join(items) + ("," if isinstance(value, tuple) and len(value) == 1 else "")
        text = f"({inner})" if isinstance(value, tuple) else f"[{inner}]"
        return text if len(text) <= 4 * limit else text[: 4 * limit] + "…"
    if isinstance(value, str):
        return repr(value[:limit]) if len(value) <= limit else repr(value[:limit])[:-1] + "…"
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - any failure of a foreign repr
        return f"<{type(value).__name__}>"
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def _is_bool(value: Any) -> bool:
    # numpy's bool scalar is not a Python bool and refuses __index__ with an
    # unhelpful message; name it as what it is.
    kind = type(value)
    numpy_bool = kind.__module__ == "numpy" and kind.__name__ in {"bool", "bool_"}
    return isinstance(value, bool) or numpy_bool


def as_int(
    name: str,
    value: Any,
    minimum: int | None = None,
    maximum: int | None = MAX_INT,
    *,
    field: str | None = None,
) -> int:
    """Return ``value`` as an ``int``, rejecting bools, floats and strings.

    Accepts anything with ``__index__`` (Python and numpy integers, 0-d
    integer arrays, sympy Integers).

    Parameters
    ----------
    name : str
        How the message names the value, e.g. ``"input_shape[1]"``.
    value : object
    minimum, maximum : int, optional
        Inclusive bounds; ``maximum`` defaults to :data:`MAX_INT`. The lower
        bound of a signed amount defaults to ``-MAX_INT`` through its caller.
    field : str, optional
        The argument for ``error.field``; default :func:`field_of` ``(name)``.

    Raises
    ------
    ConvSpecTypeError
        If ``value`` is not an integer (``True`` and ``2.0`` are refused too).
    ConvSpecError
        If ``value`` is outside ``[minimum, maximum]``.

    Examples
    --------
    >>> as_int("stride", 2)
    2
    >>> as_int("stride", 10**30)
    Traceback (most recent call last):
    ...
    transpose_matrix.errors.ConvSpecError: stride=<a 31-digit integer> must be <= 2**60 = \
1152921504606846976
    """
    field = field_of(name) if field is None else field
    if _is_bool(value):
        raise ConvSpecTypeError(
            f"{name}={bool(value)!r} must be an integer, not a bool", field=field
        )
    try:
        number = operator.index(value)
    except TypeError:
        hint = ""
        if _is_symbolic(value):
            hint = " (symbols belong to conv_output_size and transposed_conv_output_size)"
        raise ConvSpecTypeError(
            f"{name}={describe(value)} must be an integer, not {type(value).__name__}{hint}",
            field=field,
        ) from None
    if minimum is not None and number < minimum:
        raise ConvSpecError(
            f"{name}={_int_text(number)} must be >= {_bound_text(minimum)}", field=field
        )
    if maximum is not None and number > maximum:
        raise ConvSpecError(
            f"{name}={_int_text(number)} must be <= {_bound_text(maximum)}", field=field
        )
    return number


def power_text(number: int) -> str | None:
    """``2**60`` or ``2**128 - 1`` for a large power of two (minus one), else ``None``.

    How messages spell the bounds of numbers (the ``2**60`` of every size,
    the largest seed), so no message prints a 39-digit integer.

    Examples
    --------
    >>> power_text(2**60), power_text(-(2**60)), power_text(2**128 - 1), power_text(1000)
    ('2**60', '-2**60', '2**128 - 1', None)
    """
    size = abs(number)
    sign = "-" if number < 0 else ""
    if size > 2**32 and size & (size - 1) == 0:
        return f"{sign}2**{size.bit_length() - 1}"
    if size > 2**32 and size & (size + 1) == 0:
        return f"{sign}2**{size.bit_length()} - 1"
    return None


def _bound_text(bound: int) -> str:
    if bound == MAX_INT:
        return _MAX_INT_TEXT
    if bound == -MAX_INT:
        return f"-{_MAX_INT_TEXT}"
    return power_text(bound) or _int_text(bound)


def parse_int(
    name: str, text: str, minimum: int | None = None, maximum: int | None = MAX_INT
) -> int:
    """Read one integer from ``text``: optional sign and ASCII digits ``0-9`` only.

    The one place the package reads an integer from text. Python's ``int``
    also takes other scripts' digits (``int('٣') == 3``), underscores and
    thousands of digits (slowly, up to its 4,300-digit limit); this refuses
    all of them with a :class:`ConvSpecError` before converting.

    Raises
    ------
    ConvSpecTypeError
        ``text`` is not a string.
    ConvSpecError
        Anything but ``[+-]?[0-9]+`` (surrounding ASCII blanks allowed), or
        the value is outside ``[minimum, maximum]``.

    Examples
    --------
    >>> parse_int("stride", " 12 ")
    12
    >>> parse_int("stride", "٣")
    Traceback (most recent call last):
    ...
    transpose_matrix.errors.ConvSpecError: stride='٣' must be written with ASCII digits 0-9
    """
    if not isinstance(text, str):
        raise ConvSpecTypeError(
            f"{name}={describe(text)} must be text, not {type(text).__name__}",
            field=field_of(name),
        )
    if not text.isascii():
        raise ConvSpecError(
            f"{name}={describe(text)} must be written with ASCII digits 0-9",
            field=field_of(name),
        )
    match = re.fullmatch(r"[ \t]*([+-]?)0*([0-9]+)[ \t]*", text)
    if match is None:
        raise ConvSpecError(
            f"{name}={describe(text)} must be an integer (ASCII digits 0-9, optional sign)",
            field=field_of(name),
        )
    sign, digits = match.groups()
    bound = minimum if sign == "-" else maximum
    if bound is not None and len(digits) > max(30, len(str(abs(bound)))):
        # Far outside the bound: refuse by length, without converting.
        side = "-" if sign == "-" else ""
        relation = ">=" if sign == "-" else "<="
        raise ConvSpecError(
            f"{name}={side}<a {len(digits)}-digit integer> must be {relation} "
            f"{_bound_text(bound)}",
            field=field_of(name),
        )
    return as_int(name, int(sign + digits), minimum, maximum)


def _plain(name: str, value: Any) -> Any:
    """numpy arrays and scalars, and other array-likes, as Python objects.

    Anything with ``ndim`` and ``tolist`` (numpy) is converted when it has at
    most one dim; a :class:`~collections.abc.Sequence` with ``tolist`` but no
    ``ndim`` (``array.array``) is one-dimensional, converted the same way.
    The rest is returned as it is, for the caller to accept or refuse.
    """
    if isinstance(value, (int, str, bytes, tuple, list)) or not hasattr(value, "tolist"):
        return value
    ndim = getattr(value, "ndim", None)
    if ndim is None and isinstance(value, Sequence):
        ndim = 1
    if ndim is None or ndim > 1:
        return value  # refused by the caller as neither an int nor a sequence of ints
    if ndim == 1 and len(value) > 2 * MAX_DIMS:
        raise ConvSpecError(
            f"{name} has {len(value)} entries; give at most {MAX_DIMS}, one per spatial dim",
            field=field_of(name),
        )
    return value.tolist()


def as_shape(name: str, value: Any) -> tuple[int, ...]:
    """A spatial shape: 1 to :data:`MAX_DIMS` positive ints (an int means 1-D).

    A 1-D integer numpy array (or a numpy integer) is accepted like a tuple.

    Raises
    ------
    ConvSpecTypeError
        ``value`` is not an int or a sequence of ints (a string is refused).
    ConvSpecError
        Too many or too few dims, or a size outside ``[1, MAX_INT]``.

    Examples
    --------
    >>> import numpy as np
    >>> as_shape("input_shape", np.array([4, 4])), as_shape("input_shape", 5)
    ((4, 4), (5,))
    """
    field = field_of(name)
    value = _plain(name, value)
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        try:
            if _is_bool(value) or isinstance(value, (str, bytes)):
                raise TypeError
            operator.index(value)
        except TypeError:
            raise ConvSpecTypeError(
                f"{name}={describe(value)} must be an int or a sequence of 1 to {MAX_DIMS} ints",
                field=field,
            ) from None
        value = (value,)
    if not 1 <= len(value) <= MAX_DIMS:
        raise ConvSpecError(
            f"{name}={describe(tuple(value[:MAX_DIMS + 1]))} must have 1 to {MAX_DIMS} "
            f"spatial dims, got {len(value)}",
            field=field,
        )
    return tuple(as_int(f"{name}[{i}]", v, 1, field=field) for i, v in enumerate(value))


def _entries(name: str, value: Any) -> list[Any] | None:
    """``value`` as a list when it is a per-dim sequence (tuple, list, 1-D array)."""
    value = _plain(name, value)
    if isinstance(value, (tuple, list)):
        return list(value)
    return None


def per_dim(name: str, value: Any, ndim: int, minimum: int) -> tuple[int, ...]:
    """Broadcast an int to ``ndim`` entries, or check a sequence's length and entries.

    Raises
    ------
    ConvSpecTypeError, ConvSpecError
        As :func:`as_int`, or the sequence does not have ``ndim`` entries;
        ``error.field`` is ``name``.
    """
    entries = _entries(name, value)
    if entries is not None:
        if len(entries) != ndim:
            raise ConvSpecError(
                f"{name}={describe(tuple(entries))} must have {ndim} entries, one per spatial dim",
                field=name,
            )
        return tuple(as_int(f"{name}[{i}]", v, minimum, field=name) for i, v in enumerate(entries))
    return (as_int(name, value, minimum, field=name),) * ndim


def _size(name: str, value: Any, minimum: int, field: str | None = None) -> Any:
    field = field_of(name) if field is None else field
    if not _is_symbolic(value):
        return as_int(name, value, minimum, field=field)
    import sympy

    # Symbols pass as they are, but a symbol known not to be an integer, a
    # number that is not an integer (nan, oo, 1/2, 2.0) or one below the
    # minimum is refused like its numeric twin.
    if not isinstance(value, sympy.Expr):
        raise ConvSpecTypeError(
            f"{name}={describe(value)} must be an integer or a sympy expression, "
            f"not {type(value).__name__}",
            field=field,
        )
    if value.is_number:
        if value.is_integer is not True:
            raise ConvSpecTypeError(
                f"{name}={describe(value)} must be an integer (symbol or number)", field=field
            )
        as_int(name, int(value), minimum, field=field)
        return value
    if value.is_integer is False:
        raise ConvSpecTypeError(
            f"{name}={describe(value)} must be an integer (symbol or number)", field=field
        )
    if (value < minimum) is sympy.true:
        raise ConvSpecError(f"{name}={describe(value)} must be >= {minimum}", field=field)
    return value


def as_pair(name: str, value: Any, *, symbolic: bool = True) -> tuple[Any, Any]:
    """Return padding ``value`` as a ``(before, after)`` pair.

    An int (or symbol) pads both sides equally and must be >= 0; a pair is
    taken as given, each side within ``±MAX_INT`` (a negative side crops).
    With ``symbolic=False`` only integers are accepted (what
    :class:`~transpose_matrix.ConvSpec` needs).

    Raises
    ------
    ConvSpecTypeError, ConvSpecError
        ``error.field`` is :func:`field_of` ``(name)``, e.g. ``"padding"``.
    """
    field = field_of(name)

    def side(label: str, amount: Any, minimum: int) -> Any:
        if symbolic:
            return _size(label, amount, minimum, field)
        return as_int(label, amount, minimum, field=field)

    entries = _entries(name, value)
    if entries is not None:
        if len(entries) != 2:
            raise ConvSpecError(
                f"{name}={describe(tuple(entries))} must be an int or a (before, after) pair",
                field=field,
            )
        return (side(name, entries[0], -MAX_INT), side(name, entries[1], -MAX_INT))
    if isinstance(value, str):
        raise ConvSpecTypeError(
            f"{name}={describe(value)} must be an int or a (before, after) pair; "
            "padding strings such as 'same' are not supported",
            field=field,
        )
    amount = side(name, value, 0)
    return (amount, amount)


def _is_true(relation: Any) -> bool:
    """Whether a comparison of ints or sympy numbers is known to hold."""
    if isinstance(relation, bool):
        return relation
    return bool(getattr(relation, "is_Boolean", False) and relation == True)  # noqa: E712


def effective_kernel_size(kernel_size: Any, dilation: Any = 1) -> Any:
    """Span of a dilated kernel: ``dilation * (kernel_size - 1) + 1``.

    Parameters
    ----------
    kernel_size : int or sympy.Expr
        Kernel size along one dimension.
    dilation : int or sympy.Expr, default 1
        Spacing between kernel taps along the same dimension.

    Returns
    -------
    int or sympy.Expr
        How many input entries the kernel spans, first tap to last.

    Raises
    ------
    TypeError
        Only Python's own, when the arguments do not support ``*``, ``-`` and
        ``+``: the values are not validated here (:class:`ConvSpec` and
        :func:`as_int` validate them at the boundary).

    Examples
    --------
    >>> effective_kernel_size(3, dilation=2)
    5
    >>> import sympy
    >>> k, d = sympy.symbols("k d", integer=True, positive=True)
    >>> effective_kernel_size(k, d)
    d*(k - 1) + 1
    """
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
    if _is_true(padded < span):
        # Blame what made the kernel too wide: a crop (negative padding) the
        # uncropped input would have held, a dilation the plain kernel fits
        # without, or else the kernel itself.
        if _is_true(after < 0) and not _is_true(n + before < span):
            field = "padding"
        elif not _is_true(padded < kernel_size):
            field = "dilation"
        else:
            field = "kernel_size"
        raise ConvSpecError(
            f"dilated kernel size {span} (kernel_size={kernel_size}, "
            f"dilation={dilation}) exceeds padded input size {padded} "
            f"(n={n}, padding=({before}, {after}))",
            field=field,
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
            f"stride={stride} or dilation={dilation}",
            field="output_padding",
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
            f"output_padding={output_padding}, dilation={dilation})",
            field="padding",
        )
    return size


def strict_sympify(value: Any, what: str) -> Any:
    """``value`` as a sympy object; numbers and sympy objects only.

    A string would be parsed (and evaluated) by ``sympify``, so it is refused.

    Raises
    ------
    ConvSpecTypeError
        ``"<what> must be a number or a sympy expression, not str"``.
    """
    import sympy  # only symbolic callers pay for it

    try:
        return sympy.sympify(value, strict=True)
    except sympy.SympifyError:
        raise ConvSpecTypeError(
            f"{what} must be a number or a sympy expression, not {type(value).__name__}"
        ) from None
