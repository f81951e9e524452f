"""Writing output files: a whole new file or the old one untouched, devices written through.

:func:`write_output` is what ``--out`` does: the string ``"-"`` means
standard output, anything else goes to :func:`write_text_atomic` (text, as
UTF-8) or :func:`write_bytes_atomic` (bytes: images, animations), which act
by what the path names:

* a **regular file** (or nothing yet) is replaced atomically: the text goes to
  a temporary file in the same folder, is flushed to disk, takes the old
  file's permission bits (and owner, when allowed), and is renamed over the
  destination with :func:`os.replace`, atomic on POSIX. A failure at any step
  removes the temporary file, so no partial output is ever left behind;
* a **symbolic link** is followed: its target is replaced atomically and the
  link stays a link;
* a **character device or FIFO** (``/dev/null``, ``/dev/stdout``, a named
  pipe) is opened and written through, as every Unix tool does; nothing is
  replaced. ``/dev/stdout`` and ``/proc/self/fd/N`` are written through
  whatever they point at;
* a directory, block device or socket is refused.

Temporary files are named ``.NAME.tm-XXXXXX.tmp`` (``NAME`` shortened so the
whole name fits the file system's ``NAME_MAX``) and are locked while in use.
Each write removes the leftovers of writers that were killed: in its
folder, the unlocked temporary files of its own target whatever their age,
and those of other targets older than :data:`STALE_SECONDS`. A writer locks
its temporary file as soon as it exists and then checks that the name is
still its own, so a reaper can never take a live writer's file.

Every failure is an :class:`~transpose_matrix.errors.OutputPathError` with
one line naming the path and the reason.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat
import string
import sys
import time
from pathlib import Path
from typing import IO, Any

from .errors import ConvSpecTypeError, OutputPathError

try:  # advisory locks mark temporary files in use; not on every platform
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "OutputPathError",
    "STALE_SECONDS",
    "TEMPORARY_NAME",
    "remove_stale_temporaries",
    "write_bytes_atomic",
    "write_output",
    "write_text_atomic",
]

#: Age in seconds after which an unlocked temporary file counts as a leftover.
STALE_SECONDS = 3600

#: Names of this module's temporary files: ``.NAME.tm-XXXXXX.tmp``.
TEMPORARY_NAME = re.compile(r"\..*\.tm-[A-Za-z0-9]{6}\.tmp", re.DOTALL)

_RANDOM = string.ascii_letters + string.digits
_TAIL = len(".tm-XXXXXX.tmp")
# Linux's NAME_MAX and PATH_MAX, used when the file system cannot be asked.
_NAME_MAX = 255
_PATH_MAX = 4096
# Paths that name an open file descriptor of a process. This process's own
# are written through the descriptor itself (at its offset, like a print);
# another's are opened and written through. Never replaced: the descriptor's
# owner would go on writing to a ghost.
_DESCRIPTOR = re.compile(
    r"/dev/(stdin|stdout|stderr)|/dev/fd/(\d+)|/proc/(self|thread-self|\d+)/fd/(\d+)"
)
_STANDARD = {"stdin": 0, "stdout": 1, "stderr": 2}


def _show(path: str) -> str:
    text = repr(path)
    return text if len(text) <= 120 else text[:117] + "…'"


def _reason(error: OSError) -> str:
    return error.strerror or str(error)


def _umask() -> int:
    # os.umask can only be read by setting it; restore it at once.
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _name_max(folder: str) -> int:
    try:
        size = os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        return _NAME_MAX
    return size if isinstance(size, int) and size >= _TAIL + 2 else _NAME_MAX


def _checked(path: Any) -> str:
    """``path`` as a string after the checks no file system call should see fail."""
    if not isinstance(path, (str, os.PathLike)):
        raise OutputPathError(
            f"output path {path!r:.120} must be a file name (str or path-like), "
            f"not {type(path).__name__}"
        )
    name = os.fspath(path)
    if not isinstance(name, str):
        raise OutputPathError(f"output path {name!r:.120} must be text, not bytes")
    if name == "":
        raise OutputPathError("output path '' is empty; give a file name")
    if "\x00" in name:
        raise OutputPathError(f"output path {_show(name)} contains a NUL byte")
    try:
        raw = os.fsencode(name)
    except UnicodeError:
        raise OutputPathError(
            f"output path {_show(name)} cannot be encoded for the file system"
        ) from None
    if len(raw) > _PATH_MAX:
        raise OutputPathError(
            f"output path {_show(name)} is {len(raw)} bytes long, above the limit of "
            f"{_PATH_MAX} bytes"
        )
    for part in raw.split(b"/"):
        if len(part) > _NAME_MAX:
            raise OutputPathError(
                f"output path {_show(name)}: a name in it is {len(part)} bytes long, above "
                f"the file system's limit of {_NAME_MAX} bytes"
            )
    return name


def _write_all(handle: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(handle, view)
        view = view[written:]


def _own_descriptor(name: str) -> int | None:
    """The descriptor number when ``name`` is one of this process's descriptor paths."""
    match = _DESCRIPTOR.fullmatch(os.path.normpath(os.path.abspath(name)))
    if match is None:
        return None
    standard, fd, process, number = match.groups()
    if standard is not None:
        return _STANDARD[standard]
    if fd is not None:
        return int(fd)
    if process in ("self", "thread-self") or int(process) == os.getpid():
        return int(number)
    return None


def _write_descriptor(name: str, descriptor: int, data: bytes) -> None:
    # Whatever Python has buffered for the same stream goes first.
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            if stream is not None and stream.fileno() == descriptor:
                stream.flush()
    try:
        _write_all(descriptor, data)
    except BrokenPipeError:
        raise
    except OSError as error:
        raise OutputPathError(
            f"output path {_show(name)} cannot be written: {_reason(error)}"
        ) from None


def _write_through(name: str, data: bytes, truncate: bool) -> None:
    """Open ``name`` as it is (a device, FIFO or descriptor) and write ``data`` to it."""
    flags = os.O_WRONLY | getattr(os, "O_CLOEXEC", 0) | (os.O_TRUNC if truncate else 0)
    try:
        handle = os.open(name, flags)
    except OSError as error:
        raise OutputPathError(
            f"output path {_show(name)} cannot be written: {_reason(error)}"
        ) from None
    try:
        _write_all(handle, data)
    except OSError as error:
        raise OutputPathError(
            f"output path {_show(name)} cannot be written: {_reason(error)}"
        ) from None
    finally:
        os.close(handle)


def _temporary_prefix(target: str, folder: str) -> bytes:
    """``.NAME.tm-`` of ``target``'s temporary files, ``NAME`` shortened to fit ``NAME_MAX``."""
    keep = _name_max(folder) - _TAIL - 1
    return b"." + os.fsencode(os.path.basename(target))[:keep] + b".tm-"


def _temporary_name(target: str, folder: str) -> str:
    """``.NAME.tm-XXXXXX.tmp`` in bytes that fit ``NAME_MAX``."""
    token = "".join(secrets.choice(_RANDOM) for _ in range(6)).encode()
    return os.path.join(folder, os.fsdecode(_temporary_prefix(target, folder) + token + b".tmp"))


def _still_named(handle: int, path: str) -> bool:
    """Whether ``path`` still names the file open as ``handle`` (no reaper took it)."""
    try:
        named = os.stat(path, follow_symlinks=False)
    except OSError:
        return False
    held = os.fstat(handle)
    return (named.st_dev, named.st_ino) == (held.st_dev, held.st_ino)


def _lock(handle: int) -> bool:
    """Take this process's exclusive lock on ``handle``; False if another holds it."""
    if fcntl is None:  # pragma: no cover - Windows
        return True
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def remove_stale_temporaries(
    folder: str, now: float | None = None, target: str | None = None
) -> list[str]:
    """Remove leftover temporary files of this module from ``folder``; return their paths.

    A leftover matches :data:`TEMPORARY_NAME`, is a regular file and is not
    locked (a live writer holds a lock on its temporary file until the
    rename); it is removed when it belongs to ``target`` (``.NAME.tm-XXXXXX.tmp``
    of that file: a killed writer of the file being written now), or when it
    was last modified more than :data:`STALE_SECONDS` ago.

    Parameters
    ----------
    folder : str
        The folder to clean.
    now : float, optional
        The time ages are measured from (default: the clock).
    target : str, optional
        The file about to be written; its own leftovers go whatever their age.

    Returns
    -------
    list of str
        The paths removed.

    Raises
    ------
    Nothing of its own: a folder or file that cannot be read or removed is
    passed over.

    Examples
    --------
    >>> import os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> leftover = os.path.join(folder, ".a.tex.tm-Abc123.tmp")
    >>> open(leftover, "w").close()
    >>> remove_stale_temporaries(folder) == []  # young, and another file's
    True
    >>> remove_stale_temporaries(folder, target=os.path.join(folder, "a.tex")) == [leftover]
    True
    """
    now = time.time() if now is None else now
    own = _temporary_prefix(target, folder) if target is not None else None
    removed: list[str] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if not TEMPORARY_NAME.fullmatch(entry.name):
            continue
        raw = os.fsencode(entry.name)
        # Its own name exactly: .NAME.tm- then the token and .tmp.
        mine = own is not None and raw.startswith(own) and len(raw) == len(own) + len("XXXXXX.tmp")
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not stat.S_ISREG(info.st_mode) or not mine and now - info.st_mtime < STALE_SECONDS:
            continue
        try:
            handle = os.open(entry.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            continue
        try:
            same = os.fstat(handle).st_ino == info.st_ino
            if same and _lock(handle):
                os.unlink(entry.path)
                removed.append(entry.path)
        except OSError:
            pass
        finally:
            os.close(handle)
    return removed


def _replace_atomically(name: str, target: str, data: bytes, old: os.stat_result | None) -> None:
    folder = os.path.dirname(target) or "."
    remove_stale_temporaries(folder, target=target)
    handle: int | None = None
    temporary = ""
    for _ in range(100):
        temporary = _temporary_name(target, folder)
        try:
            handle = os.open(
                temporary,
                os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0),
                0o600,
            )
        except FileExistsError:
            continue
        except OSError as error:
            raise OutputPathError(
                f"output path {_show(name)} cannot be written: {_reason(error)}"
            ) from None
        # Another writer of the same target may reap an unlocked temporary in
        # the moment between its creation and the lock: then take a new name.
        _lock(handle)
        if _still_named(handle, temporary):
            break
        os.close(handle)
        handle = None
    if handle is None:  # pragma: no cover - 100 random names taken
        raise OutputPathError(f"output path {_show(name)}: no free temporary name")
    try:
        _write_all(handle, data)
        os.fsync(handle)
        if old is None:
            # mkstemp-like 0600 at first; now the mode a plain open() would give.
            os.fchmod(handle, 0o666 & ~_umask())
        else:
            os.fchmod(handle, stat.S_IMODE(old.st_mode))
            if (old.st_uid, old.st_gid) != (os.geteuid(), os.getegid()):
                with contextlib.suppress(OSError):  # allowed to root only
                    os.fchown(handle, old.st_uid, old.st_gid)
        os.replace(temporary, target)
    except OSError as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise OutputPathError(
            f"output path {_show(name)} cannot be written: {_reason(error)}"
        ) from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    finally:
        os.close(handle)
    # Make the rename itself durable; not every file system allows it.
    with contextlib.suppress(OSError):
        directory = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def _write_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """The one writer behind :func:`write_text_atomic` and :func:`write_bytes_atomic`."""
    name = _checked(path)
    descriptor = _own_descriptor(name)
    if descriptor is not None:
        _write_descriptor(name, descriptor, data)
        return Path(path)
    try:
        info = os.stat(name)
    except FileNotFoundError:
        info = None
    except OSError as error:
        raise OutputPathError(
            f"output path {_show(name)} cannot be written: {_reason(error)}"
        ) from None
    if info is not None:
        kind = info.st_mode
        if stat.S_ISDIR(kind):
            raise OutputPathError(f"output path {_show(name)} is a directory; give a file name")
        if stat.S_ISCHR(kind) or stat.S_ISFIFO(kind):
            _write_through(name, data, truncate=False)
            return Path(path)
        if stat.S_ISBLK(kind):
            raise OutputPathError(
                f"output path {_show(name)} is a block device; refusing to write onto it"
            )
        if stat.S_ISSOCK(kind):
            raise OutputPathError(
                f"output path {_show(name)} is a socket; use '-' for standard output"
            )
        if not stat.S_ISREG(kind):  # pragma: no cover - no other kind on Linux
            raise OutputPathError(f"output path {_show(name)} is not a regular file")
        if _DESCRIPTOR.fullmatch(os.path.normpath(os.path.abspath(name))):
            _write_through(name, data, truncate=True)  # another process's descriptor
            return Path(path)
    # A regular file or a new one: replace the real file (through any
    # symbolic links) in its own folder, so the rename is atomic.
    target = os.path.realpath(name)
    folder = os.path.dirname(target)
    if not os.path.isdir(folder):
        shown = os.path.dirname(name) or "."
        if os.path.islink(name):
            shown = folder
        raise OutputPathError(
            f"output path {_show(name)}: directory {_show(shown)} does not exist"
        )
    if info is not None and not os.access(target, os.W_OK):
        raise OutputPathError(f"output path {_show(name)} cannot be written: Permission denied")
    _replace_atomically(name, target, data, info)
    return Path(path)


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path``: atomically for files, through for devices.

    Parameters
    ----------
    path : str or path-like
        Destination. A regular file (or a new name) is replaced atomically,
        keeping an old file's permission bits; a symbolic link's target is
        replaced and the link kept; a character device, FIFO or file
        descriptor path (``/dev/null``, ``/dev/stdout``) is written through.
        Its directory must exist.
    text : str
        Everything the file will hold.

    Returns
    -------
    pathlib.Path
        ``path`` as given.

    Raises
    ------
    OutputPathError
        ``path`` is empty, holds a NUL byte, has a name longer than 255
        bytes, is a directory, block device or socket, its directory does
        not exist, or it cannot be written (the message names the path and
        the reason, e.g. ``No space left on device``). Nothing is left
        behind and an existing file is untouched.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = tempfile.mkdtemp()
    >>> out = write_text_atomic(pathlib.Path(folder) / "notes.tex", "x")
    >>> out.read_text()
    'x'
    >>> write_text_atomic("/dev/null", "gone") == pathlib.Path("/dev/null")
    True
    """
    if not isinstance(text, str):
        raise ConvSpecTypeError(
            f"text must be a str, not {type(text).__name__}", field="text"
        )
    return _write_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` as :func:`write_text_atomic` writes text.

    The same rules: a regular file (or a new name) is replaced atomically
    keeping its permission bits, a symbolic link's target is replaced, a
    character device, FIFO or descriptor path is written through.

    Parameters
    ----------
    path : str or path-like
        Destination.
    data : bytes, bytearray or memoryview
        Everything the file will hold (a GIF, a PNG).

    Returns
    -------
    pathlib.Path
        ``path`` as given.

    Raises
    ------
    ConvSpecTypeError
        ``data`` is not bytes-like (``error.field == "data"``).
    OutputPathError
        As :func:`write_text_atomic`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = write_bytes_atomic(pathlib.Path(tempfile.mkdtemp()) / "a.bin", b"\\x00\\x01")
    >>> out.read_bytes()
    b'\\x00\\x01'
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ConvSpecTypeError(
            f"data must be bytes, not {type(data).__name__}", field="data"
        )
    return _write_atomic(path, bytes(data))


def write_output(
    path: str | os.PathLike[str],
    content: str | bytes,
    *,
    stdout: IO[str] | None = None,
) -> Path | None:
    """Write ``content`` where ``--out`` says: the string ``"-"`` is standard output.

    Anything else goes to :func:`write_text_atomic` (text) or
    :func:`write_bytes_atomic` (bytes); ``pathlib.Path("-")`` is a file
    named ``-``.

    Parameters
    ----------
    path : str or path-like
        ``"-"`` or a destination.
    content : str or bytes
        Written as given (no newline is added). Bytes for standard output go
        to the text stream's binary ``buffer`` (after flushing the text).
    stdout : stream, optional
        Where ``"-"`` writes; default ``sys.stdout`` at call time.

    Returns
    -------
    pathlib.Path or None
        The path written, ``None`` for standard output.

    Raises
    ------
    ConvSpecTypeError
        ``content`` is neither text nor bytes (``error.field == "content"``).
    OutputPathError
        As :func:`write_text_atomic`, or standard output cannot be written
        (a closed pipe is left to the caller as :class:`BrokenPipeError`).

    Examples
    --------
    >>> write_output("-", "hello\\n")
    hello
    """
    if not isinstance(content, (str, bytes, bytearray, memoryview)):
        raise ConvSpecTypeError(
            f"content must be a str or bytes, not {type(content).__name__}", field="content"
        )
    if not (isinstance(path, str) and path == "-"):
        if isinstance(content, str):
            return write_text_atomic(path, content)
        return write_bytes_atomic(path, bytes(content))
    stream: Any = sys.stdout if stdout is None else stdout
    try:
        if isinstance(content, str):
            stream.write(content)
            stream.flush()
        else:
            # A text stream writes bytes through its buffer; what it holds goes first.
            target = getattr(stream, "buffer", stream)
            if target is not stream:
                stream.flush()
            target.write(bytes(content))
            target.flush()
    except BrokenPipeError:
        raise
    except OSError as error:
        raise OutputPathError(f"standard output cannot be written: {_reason(error)}") from None
    except TypeError:
        takes, given = ("bytes", "text") if isinstance(content, str) else ("text", "bytes")
        raise OutputPathError(
            f"standard output cannot be written: it takes {takes} only, not {given}"
        ) from None
    return None
