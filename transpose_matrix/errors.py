"""The project's error types, importable from anywhere without cycles.

Every error the library raises on purpose is a :class:`TransposeMatrixError`,
so ``except TransposeMatrixError`` catches them all. Below it:

* :class:`ConvSpecError` (also a :class:`ValueError`): bad geometry or a bad
  argument. ``error.field`` names the argument it is about (``"stride"``,
  ``"input_shape"``, ``"seed"``, ...) so a caller such as the command line can
  name its own option without reading the message.
* :class:`ConvSpecTypeError` (also a :class:`TypeError`): the argument has the
  wrong type (a float where an integer belongs, a string, a bool).
* :class:`MemoryGuardError` (also a :class:`MemoryError`): the result would not
  fit in the allowed memory (or cannot be indexed at all); refused before
  anything is allocated.
* :class:`LatexError`: pdflatex is missing or failed. Not a geometry error.
* :class:`OutputPathError` (also an :class:`OSError`): an output file cannot be
  written. Not a geometry error.
* :class:`MissingDependencyError` (also an :class:`ImportError`): an optional
  feature's package is not installed; the message is the one-line install
  hint (:func:`optional_import`).

Messages name the argument, the offending value and the rule it broke.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "TransposeMatrixError",
    "ConvSpecError",
    "ConvSpecTypeError",
    "MemoryGuardError",
    "LatexError",
    "OutputPathError",
    "MissingDependencyError",
    "optional_import",
]


class TransposeMatrixError(Exception):
    """Base of every error the library raises on purpose.

    Parameters
    ----------
    message : str
        One line: the argument, its value and the rule it broke.
    field : str, optional
        The argument the error is about, e.g. ``"stride"``; ``None`` when it
        concerns no single argument.

    Examples
    --------
    >>> error = ConvSpecError("stride=0 must be >= 1", field="stride")
    >>> error.field, str(error), isinstance(error, ValueError)
    ('stride', 'stride=0 must be >= 1', True)
    """

    def __init__(self, message: str = "", *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field

    def __reduce__(self) -> tuple:
        # Keep .field across pickling (multiprocessing, pytest-xdist).
        return (_rebuild, (type(self), str(self), self.field))


def _rebuild(cls: type, message: str, field: str | None) -> TransposeMatrixError:
    return cls(message, field=field)


class ConvSpecError(TransposeMatrixError, ValueError):
    """A parameter broke a rule: ``groups=2 must divide in_channels=3``.

    Parameters
    ----------
    message : str
        One line: the argument, its value and the rule it broke.
    field : str, optional
        The argument the error is about, e.g. ``"groups"``; ``None`` when it concerns no
        single argument.

    Examples
    --------
    >>> import transpose_matrix as tm
    >>> try:
    ...     tm.ConvSpec((5,), 3, in_channels=3, out_channels=4, groups=2)
    ... except tm.ConvSpecError as error:
    ...     print(error.field)
    groups
    """


class ConvSpecTypeError(ConvSpecError, TypeError):
    """A parameter has the wrong type: ``stride=2.5 must be an integer``.

    Parameters
    ----------
    message : str
        One line: the argument, its value and the rule it broke.
    field : str, optional
        The argument the error is about, e.g. ``"stride"``; ``None`` when it concerns no
        single argument.

    Examples
    --------
    >>> import transpose_matrix as tm
    >>> try:
    ...     tm.ConvSpec((5,), 3, stride=2.5)
    ... except tm.ConvSpecTypeError as error:
    ...     print(error.field, isinstance(error, TypeError))
    stride True
    """


class MemoryGuardError(ConvSpecError, MemoryError):
    """The result would need more memory than the allowed limit (checked before allocating).

    Parameters
    ----------
    message : str
        One line: the argument, its value and the rule it broke.
    field : str, optional
        The argument the error is about, e.g. ``"max_bytes"``; ``None`` when it concerns no
        single argument.

    Examples
    --------
    >>> try:
    ...     raise MemoryGuardError("C needs 8 GB > max_bytes=1 GB", field="max_bytes")
    ... except MemoryError as error:
    ...     print(error.field)
    max_bytes
    """


class LatexError(TransposeMatrixError):
    """pdflatex is missing, timed out, or failed on a document.

    Parameters
    ----------
    message : str
        One line: the argument, its value and the rule it broke.
    field : str, optional
        The argument the error is about; ``None`` when it concerns no
        single argument.

    Examples
    --------
    >>> try:
    ...     raise LatexError("pdflatex failed on matrix.tex")
    ... except TransposeMatrixError as error:
    ...     print(error.field, isinstance(error, ValueError))
    None False
    """


class OutputPathError(TransposeMatrixError, OSError):
    """An output path is a directory, has no parent directory, or cannot be written.

    Parameters
    ----------
    message : str
        One line: the argument, its value and the rule it broke.
    field : str, optional
        The argument the error is about, e.g. ``"output"``; ``None`` when it concerns no
        single argument.

    Examples
    --------
    >>> try:
    ...     raise OutputPathError("output='out/' is a directory", field="output")
    ... except OSError as error:
    ...     print(error.field)
    output
    """


class MissingDependencyError(TransposeMatrixError, ImportError):
    """An optional feature's package is missing; the message says how to install it.

    Parameters
    ----------
    message : str
        One line: the argument, its value and the rule it broke.
    field : str, optional
        The argument the error is about; ``None`` when it concerns no
        single argument.

    Examples
    --------
    >>> try:
    ...     optional_import("no_such_package_xyz", "flying")
    ... except MissingDependencyError as error:
    ...     print(error, error.field)
    flying needs no_such_package_xyz: pip install no_such_package_xyz None
    """


#: Per optional package: the extra that installs it.
_EXTRAS = {"torch": "torch", "PIL": "plot", "matplotlib": "plot", "numba": "fast"}
_PACKAGES = {"torch": "PyTorch", "PIL": "Pillow", "matplotlib": "matplotlib"}


def optional_import(module: str, feature: str) -> Any:
    """Import ``module`` for ``feature`` (e.g. ``"animations"``), or say how to install it.

    Raises
    ------
    MissingDependencyError
        One line: ``drawing animations needs Pillow: pip install
        "transpose_matrix[plot]"``.

    Examples
    --------
    >>> optional_import("math", "arithmetic").sqrt(4.0)
    2.0
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        top = module.split(".")[0]
        package = _PACKAGES.get(top, top)
        extra = _EXTRAS.get(top)
        install = f'pip install "transpose_matrix[{extra}]"' if extra else f"pip install {top}"
        raise MissingDependencyError(f"{feature} needs {package}: {install}") from None
