"""Atomic file writing for ``--out``: a whole new file or the old one untouched.

The text goes to a temporary file in the destination's directory, is flushed
to disk and then renamed over the destination with :func:`os.replace`, which
is atomic on POSIX and Windows within one file system. A failure at any step
removes the temporary file, so no partial output is ever left behind.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from .errors import ConvSpecError

__all__ = ["OutputPathError", "write_text_atomic"]


class OutputPathError(ConvSpecError):
    """The output path is a directory, has no parent directory, or is not writable."""


def _umask() -> int:
    # os.umask can only be read by setting it; restore it at once.
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; return the path.

    Parameters
    ----------
    path : str or path-like
        Destination file; an existing file is replaced, its directory must
        exist.
    text : str
        Everything the file will hold.

    Returns
    -------
    pathlib.Path
        ``path`` as given.

    Raises
    ------
    OutputPathError
        ``path`` is a directory, its directory does not exist, or it cannot
        be written (the message names the path and the reason). Nothing is
        left behind.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = tempfile.mkdtemp()
    >>> out = write_text_atomic(pathlib.Path(folder) / "notes.tex", "x")
    >>> out.read_text()
    'x'
    """
    target = Path(path)
    if str(path) == "" or target.is_dir():
        raise OutputPathError(f"output path {str(path)!r} is a directory; give a file name")
    parent = target.parent
    if not parent.is_dir():
        raise OutputPathError(
            f"output path {str(path)!r}: directory {str(parent)!r} does not exist"
        )
    try:
        handle, temporary = tempfile.mkstemp(
            dir=parent, prefix=f".{target.name}.", suffix=".tmp"
        )
    except OSError as error:
        raise OutputPathError(
            f"output path {str(path)!r} cannot be written: {error.strerror or error}"
        ) from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        # mkstemp creates the file 0600; give it the mode a plain open() would.
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, target)
    except OSError as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise OutputPathError(
            f"output path {str(path)!r} cannot be written: {error.strerror or error}"
        ) from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return target
