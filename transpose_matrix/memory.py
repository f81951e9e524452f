"""The memory guard: refuse to build an explicit matrix that would not fit.

The sparse builders know the exact size of C from the spec alone (see
:func:`~transpose_matrix.matrix.conv_matrix_nbytes`), so they can check it
*before* allocating anything. Above the limit they raise
:class:`~transpose_matrix.errors.MemoryGuardError`, which names the estimate,
the limit and the matrix-free way out, :func:`~transpose_matrix.conv_operator`.
No half-built matrix is ever left behind and the operating system's
out-of-memory killer never gets a say.

The limit, from the most to the least specific:

1. the ``max_bytes=`` argument of the builder;
2. the module-level default :data:`DEFAULT_MAX_BYTES`, when set (assign to it,
   e.g. ``transpose_matrix.memory.DEFAULT_MAX_BYTES = 2**30``; it is plain
   Python state, no environment variable is read);
3. :data:`SAFE_FRACTION` of the memory available right now
   (``MemAvailable`` of ``/proc/meminfo``, else ``os.sysconf``).

When none of these can be determined (no ``/proc`` and no ``sysconf``) the
guard does not refuse anything.
"""

from __future__ import annotations

import operator
import os
from typing import Any

from .errors import ConvSpecTypeError, MemoryGuardError

__all__ = [
    "DEFAULT_MAX_BYTES",
    "SAFE_FRACTION",
    "available_memory",
    "memory_limit",
    "format_bytes",
    "check_memory",
]

#: Module-wide limit in bytes used when a builder gets no ``max_bytes``;
#: ``None`` means :data:`SAFE_FRACTION` of the available memory.
DEFAULT_MAX_BYTES: int | None = None

#: Share of the currently available memory a build may use by default. Half
#: leaves room for the caller's own arrays and for what C is multiplied with.
SAFE_FRACTION = 0.5

_MEMINFO = "/proc/meminfo"


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation, or ``None`` if unknown.

    Reads ``MemAvailable`` from ``/proc/meminfo`` (Linux; it counts reclaimable
    page cache, unlike ``MemFree``), else asks ``os.sysconf`` for the
    available physical pages.

    Examples
    --------
    >>> size = available_memory()
    >>> size is None or size > 0
    True
    """
    try:
        with open(_MEMINFO, encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    # The kernel reports kibibytes: "MemAvailable:  123456 kB".
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        pages = os.sysconf("SC_AVPHYS_PAGES")
        page_size = os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None
    if pages <= 0 or page_size <= 0:
        return None
    return pages * page_size


def _as_limit(name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise ConvSpecTypeError(f"{name}={value!r} must be an integer number of bytes, not a bool")
    try:
        number = operator.index(value)
    except TypeError:
        raise ConvSpecTypeError(
            f"{name}={value!r} must be an integer number of bytes, not {type(value).__name__}"
        ) from None
    if number < 0:
        raise MemoryGuardError(f"{name}={number} must be >= 0 bytes")
    return number


def memory_limit(max_bytes: int | None = None) -> int | None:
    """The byte limit a build must respect: argument, module default, or safe share.

    Returns ``None`` when no limit applies (nothing set and the available
    memory cannot be read).

    Raises
    ------
    ConvSpecTypeError
        ``max_bytes`` (or :data:`DEFAULT_MAX_BYTES`) is not an integer.
    MemoryGuardError
        It is negative.

    Examples
    --------
    >>> memory_limit(1000)
    1000
    """
    if max_bytes is not None:
        return _as_limit("max_bytes", max_bytes)
    if DEFAULT_MAX_BYTES is not None:
        return _as_limit("DEFAULT_MAX_BYTES", DEFAULT_MAX_BYTES)
    available = available_memory()
    if available is None:
        return None
    return int(available * SAFE_FRACTION)


def format_bytes(size: int) -> str:
    """``size`` in binary units with three significant digits.

    Examples
    --------
    >>> format_bytes(512)
    '512 B'
    >>> format_bytes(1_795_211_268)
    '1.67 GiB'
    """
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            break
        value /= 1024
    if unit == "B":
        return f"{int(size)} B"
    return f"{value:.3g} {unit}"


def check_memory(
    needed: int, *, what: str, max_bytes: int | None = None, peak: int | None = None
) -> None:
    """Raise :class:`MemoryGuardError` when ``peak`` (default ``needed``) exceeds the limit.

    Parameters
    ----------
    needed : int
        Bytes of the result, as the message reports it.
    what : str
        What would be built, e.g. ``"C (conv_matrix)"``.
    max_bytes : int, optional
        Limit for this call; see :func:`memory_limit` for the default.
    peak : int, optional
        Bytes held at the worst moment of the build, if more than ``needed``.

    Examples
    --------
    >>> check_memory(10, what="C", max_bytes=100)
    >>> check_memory(4096, what="C", max_bytes=100)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    transpose_matrix.errors.MemoryGuardError: C would need 4 KiB, above the memory limit ...
    """
    limit = memory_limit(max_bytes)
    peak = needed if peak is None else max(peak, needed)
    if limit is None or peak <= limit:
        return
    during = "" if peak == needed else f" ({format_bytes(peak)} at peak while building)"
    raise MemoryGuardError(
        f"{what} would need {format_bytes(needed)}{during}, above the memory limit of "
        f"{format_bytes(limit)}; apply the layer without building the matrix with "
        "transpose_matrix.conv_operator(spec, weight), or raise the limit with max_bytes="
    )
