"""The memory guard: refuse to build a result that would not fit, before building it.

The builders know the exact size of their result from the arguments alone
(see :func:`~transpose_matrix.matrices.conv.conv_matrix_nbytes`, a closed form in
O(dimensions)), so they check it *before* allocating anything. Above the
limit they raise :class:`~transpose_matrix.errors.MemoryGuardError`, which
names the estimate, the limit and the matrix-free way out,
:func:`~transpose_matrix.conv_operator`. No half-built matrix is ever left
behind and the operating system's out-of-memory killer never gets a say.

The byte limit, from the most to the least specific:

1. the ``max_bytes=`` argument of the builder;
2. the module-level default :data:`DEFAULT_MAX_BYTES`, when set (assign to it,
   e.g. ``transpose_matrix.memory.DEFAULT_MAX_BYTES = 2**30``; it is plain
   Python state, no environment variable is read);
3. :data:`SAFE_FRACTION` of the memory available right now: the least of
   ``MemAvailable`` (``/proc/meminfo``, else ``os.sysconf``), what every
   memory cgroup this process belongs to still allows (cgroup v2
   ``memory.max`` minus ``memory.current``, v1 ``memory.limit_in_bytes``
   minus ``memory.usage_in_bytes``, at its own level and every ancestor's,
   plus the cgroup's reclaimable ``inactive_file`` page cache), and the
   headroom under ``RLIMIT_AS``. Inside a container the machine's free
   memory is not what the kernel will grant.

When none of these can be determined the guard does not refuse anything.

Symbolic builders are guarded by their number of stored entries instead
(:func:`check_entries`, default :data:`DEFAULT_MAX_ENTRIES`), since a sympy
entry costs hundreds of bytes and microseconds; and every builder refuses a
result whose rows or columns could not be indexed by 64-bit integers
(:func:`check_index_range`).
"""

from __future__ import annotations

import operator
import os
import re
from typing import Any

from .errors import ConvSpecError, ConvSpecTypeError, MemoryGuardError

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_ENTRIES",
    "SAFE_FRACTION",
    "MAX_INDEX",
    "available_memory",
    "cgroup_available",
    "memory_limit",
    "format_bytes",
    "check_memory",
    "check_entries",
    "check_index_range",
]

#: Module-wide limit in bytes used when a builder gets no ``max_bytes``;
#: ``None`` means :data:`SAFE_FRACTION` of the available memory.
DEFAULT_MAX_BYTES: int | None = None

#: Share of the currently available memory a build may use by default. Half
#: leaves room for the caller's own arrays and for what C is multiplied with.
SAFE_FRACTION = 0.5

#: Entries a symbolic matrix or vector may hold by default (``max_entries=``
#: overrides it per call). A stored sympy entry costs roughly 0.2 ms and a few
#: KB to build, so the default caps a build at about ten seconds and 200 MB;
#: a symbolic C that large is past reading anyway.
DEFAULT_MAX_ENTRIES = 50_000

#: Largest row or column index a sparse matrix may have (signed 64-bit).
MAX_INDEX = 2**63 - 1

_MEMINFO = "/proc/meminfo"
_PROC_STATUS = "/proc/self/status"
# Where this process's cgroups are listed and where cgroup file systems are
# mounted; module state so that the tests can point them at fake files.
_PROC_CGROUP = "/proc/self/cgroup"
_MOUNTINFO = "/proc/self/mountinfo"
# Conventional mount points, used when mountinfo cannot be read.
_CGROUP_ROOT = "/sys/fs/cgroup"
# cgroup v1 reports "no limit" as a page-rounded 2**63 - 1; anything this
# large is no limit.
_UNLIMITED = 2**62


def _meminfo_available() -> int | None:
    try:
        with open(_MEMINFO, encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    # The kernel reports kibibytes: "MemAvailable:  123456 kB".
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError, UnicodeDecodeError):
        pass
    try:
        pages = os.sysconf("SC_AVPHYS_PAGES")
        page_size = os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None
    if pages <= 0 or page_size <= 0:
        return None
    return pages * page_size


def _read_number(path: str) -> int | None:
    """A file holding one decimal number (ASCII digits only), else ``None``."""
    try:
        with open(path, encoding="ascii") as stream:
            text = stream.read(64).strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if re.fullmatch(r"[0-9]{1,20}", text) else None


def _read_stat(path: str, keys: tuple[str, ...]) -> int:
    """The first of ``keys`` found in a ``memory.stat`` file, 0 if none."""
    try:
        with open(path, encoding="ascii") as stream:
            values = dict(line.split(None, 1) for line in stream if " " in line)
    except (OSError, UnicodeDecodeError, ValueError):
        return 0
    for key in keys:
        text = values.get(key, "").strip()
        if re.fullmatch(r"[0-9]{1,20}", text):
            return int(text)
    return 0


def _unescape(field: str) -> str:
    # mountinfo writes space, tab, newline and backslash as octal escapes.
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def _cgroup_mounts() -> list[tuple[str, str, str]]:
    """``(version, root, mount_point)`` of every cgroup2 and memory-cgroup v1 mount."""
    mounts = []
    try:
        with open(_MOUNTINFO, encoding="utf-8", errors="replace") as stream:
            for line in stream:
                before, _, after = line.partition(" - ")
                fields, tail = before.split(), after.split()
                if len(fields) < 5 or len(tail) < 3:
                    continue
                root, point = _unescape(fields[3]), _unescape(fields[4])
                if tail[0] == "cgroup2":
                    mounts.append(("2", root, point))
                elif tail[0] == "cgroup" and "memory" in tail[2].split(","):
                    mounts.append(("1", root, point))
    except OSError:
        root = _CGROUP_ROOT
        mounts = [("2", "/", root), ("2", "/", f"{root}/unified"), ("1", "/", f"{root}/memory")]
    return mounts


def _own_cgroups() -> dict[str, str]:
    """This process's cgroup path per version: ``{"2": "/a/b", "1": "/c"}``."""
    paths: dict[str, str] = {}
    try:
        with open(_PROC_CGROUP, encoding="utf-8", errors="replace") as stream:
            for line in stream:
                parts = line.rstrip("\n").split(":", 2)
                if len(parts) != 3:
                    continue
                _, controllers, path = parts
                if controllers == "":
                    paths.setdefault("2", path)
                elif "memory" in controllers.split(","):
                    paths.setdefault("1", path)
    except OSError:
        pass
    return paths


def _level_available(version: str, folder: str) -> int | None:
    """What one cgroup level still allows: limit - usage + reclaimable cache."""
    if version == "2":
        limit = _read_number(os.path.join(folder, "memory.max"))  # "max" reads as None
        usage = _read_number(os.path.join(folder, "memory.current"))
        cache = _read_stat(os.path.join(folder, "memory.stat"), ("inactive_file",))
    else:
        limit = _read_number(os.path.join(folder, "memory.limit_in_bytes"))
        usage = _read_number(os.path.join(folder, "memory.usage_in_bytes"))
        cache = _read_stat(
            os.path.join(folder, "memory.stat"), ("total_inactive_file", "inactive_file")
        )
    if limit is None or limit >= _UNLIMITED:
        return None
    return max(0, limit - (usage or 0) + min(cache, usage or 0))


def cgroup_available() -> int | None:
    """Bytes this process's memory cgroups still allow, or ``None`` if none limits it.

    Finds the process's cgroups in ``/proc/self/cgroup`` and their folders
    through ``/proc/self/mountinfo``, then takes the least headroom (limit
    minus usage plus reclaimable ``inactive_file`` cache) over the cgroup and
    all its ancestors up to the mount point, for cgroup v2 and v1 alike.

    Examples
    --------
    >>> size = cgroup_available()
    >>> size is None or size >= 0
    True
    """
    own = _own_cgroups()
    least = None
    for version, root, point in _cgroup_mounts():
        path = own.get(version)
        if path is None:
            continue
        relative = path[len(root) :] if path.startswith(root) else path
        folder = os.path.normpath(os.path.join(point, relative.lstrip("/")))
        if not os.path.isdir(folder):
            folder = point
        top = os.path.normpath(point)
        while True:
            level = _level_available(version, folder)
            if level is not None:
                least = level if least is None else min(least, level)
            if folder == top or len(folder) <= len(top):
                break
            folder = os.path.dirname(folder)
    return least


def _address_space_available() -> int | None:
    """Headroom under ``RLIMIT_AS`` (``ulimit -v``): the limit minus ``VmSize``."""
    try:
        import resource
    except ImportError:  # not on every platform
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY or soft < 0:
        return None
    used = 0
    try:
        with open(_PROC_STATUS, encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    used = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError, IndexError):
        pass
    return max(0, soft - used)


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation, or ``None`` if unknown.

    The least of ``MemAvailable`` from ``/proc/meminfo`` (Linux; it counts
    reclaimable page cache, unlike ``MemFree``; else ``os.sysconf``'s
    available physical pages), :func:`cgroup_available`, and the headroom
    under the address-space limit ``RLIMIT_AS`` (``ulimit -v``).

    Examples
    --------
    >>> size = available_memory()
    >>> size is None or size > 0
    True
    """
    sizes = [
        size
        for size in (_meminfo_available(), cgroup_available(), _address_space_available())
        if size is not None
    ]
    return min(sizes) if sizes else None


def _as_limit(name: str, value: Any, what: str = "bytes") -> int:
    field = "max_entries" if what == "entries" else "max_bytes"
    if isinstance(value, bool):
        raise ConvSpecTypeError(
            f"{name}={value!r} must be an integer number of {what}, not a bool", field=field
        )
    try:
        number = operator.index(value)
    except TypeError:
        raise ConvSpecTypeError(
            f"{name}={_describe(value)} must be an integer number of {what}, "
            f"not {type(value).__name__}",
            field=field,
        ) from None
    if number < 0:
        raise ConvSpecError(f"{name}={_describe(number)} must be >= 0 {what}", field=field)
    return number


def _describe(value: Any) -> str:
    from .geometry.shapes import describe

    return describe(value)


def memory_limit(max_bytes: int | None = None) -> int | None:
    """The byte limit a build must respect: argument, module default, or safe share.

    Returns ``None`` when no limit applies (nothing set and the available
    memory cannot be read).

    Raises
    ------
    ConvSpecTypeError
        ``max_bytes`` (or :data:`DEFAULT_MAX_BYTES`) is not an integer.
    ConvSpecError
        It is negative (``error.field == "max_bytes"``).

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
    >>> format_bytes(2**2000)
    'more than 1e+300 TiB'
    """
    if size >= 2**1000:
        return "more than 1e+300 TiB"
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            break
        value /= 1024
    if unit == "B":
        return f"{int(size)} B"
    return f"{value:.3g} {unit}"


_CONV_HINT = (
    "apply the layer without building the matrix with "
    "transpose_matrix.conv_operator(spec, weight), or raise the limit with max_bytes="
)


def check_memory(
    needed: int,
    *,
    what: str,
    max_bytes: int | None = None,
    peak: int | None = None,
    hint: str | None = None,
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
    hint : str, optional
        The way out the message suggests; default: the matrix-free
        :func:`~transpose_matrix.conv_operator`, or ``max_bytes=``.

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
        f"{format_bytes(limit)}; {_CONV_HINT if hint is None else hint}"
    )


def check_index_range(shape: tuple[int, ...], *, what: str) -> None:
    """Raise :class:`MemoryGuardError` when a dimension of ``shape`` exceeds :data:`MAX_INDEX`.

    A sparse matrix stores its row and column indices as 64-bit integers,
    however few entries it has.

    Examples
    --------
    >>> check_index_range((4, 16), what="C")
    >>> check_index_range((1, 2**70), what="C")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    transpose_matrix.errors.MemoryGuardError: C has more rows or columns than 64-bit ...
    """
    if all(size <= MAX_INDEX for size in shape):
        return
    raise MemoryGuardError(
        f"{what} has more rows or columns than 64-bit sparse indices can address "
        "(2**63 - 1); use a smaller geometry"
    )


def check_entries(count: int, *, what: str, max_entries: int | None = None) -> None:
    """Raise :class:`MemoryGuardError` when a symbolic result would hold too many entries.

    Parameters
    ----------
    count : int
        Entries (sympy objects) the result would store.
    what : str
        What would be built, e.g. ``"symbolic C (symbolic_conv_matrix)"``.
    max_entries : int, optional
        Limit for this call; default :data:`DEFAULT_MAX_ENTRIES`.

    Raises
    ------
    ConvSpecTypeError, ConvSpecError
        ``max_entries`` is not an integer >= 0 (``error.field == "max_entries"``).
    MemoryGuardError
        ``count`` is above the limit.

    Examples
    --------
    >>> check_entries(36, what="symbolic C")
    >>> check_entries(10**9, what="symbolic C", max_entries=1000)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    transpose_matrix.errors.MemoryGuardError: symbolic C would hold 1,000,000,000 entries, ...
    """
    if max_entries is None:
        limit = _as_limit("DEFAULT_MAX_ENTRIES", DEFAULT_MAX_ENTRIES, "entries")
    else:
        limit = _as_limit("max_entries", max_entries, "entries")
    if count <= limit:
        return
    amount = f"{count:,}" if count < 10**30 else _describe(count)
    raise MemoryGuardError(
        f"{what} would hold {amount} entries, above the limit of {limit:,} "
        "symbolic entries; build it numerically with transpose_matrix.conv_matrix, "
        "or raise the limit with max_entries="
    )
