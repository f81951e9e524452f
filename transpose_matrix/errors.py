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
    """A parameter broke a rule: ``groups=2 must divide in_channels=3``."""


class ConvSpecTypeError(ConvSpecError, TypeError):
    """A parameter has the wrong type: ``stride=2.5 must be an integer``."""


class MemoryGuardError(ConvSpecError, MemoryError):
    """The result would need more memory than the allowed limit (checked before allocating)."""


class LatexError(TransposeMatrixError):
    """pdflatex is missing, timed out, or failed on a document."""


class OutputPathError(TransposeMatrixError, OSError):
    """An output path is a directory, has no parent directory, or cannot be written."""


class MissingDependencyError(TransposeMatrixError, ImportError):
    """An optional feature's package is missing; the message says how to install it."""


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
