"""Lazy re-exports for the package and its subpackages (the scikit-image pattern).

A package lists which module defines each public name; :func:`attach` gives it
the module-level ``__getattr__`` and ``__dir__`` that import that module on
first use. Importing a package therefore costs nothing until a name is used,
while ``dir()``, tab completion and the documentation still see every name.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["attach"]


def attach(
    package: str, exports: Mapping[str, str], eager: Mapping[str, Any] | None = None
) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """``(__getattr__, __dir__, __all__)`` for ``package`` re-exporting ``exports``.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    exports : mapping of str to str
        Public name -> the submodule (relative to ``package``, dotted) that
        defines it.
    eager : mapping of str to object, optional
        Names the package already holds (its errors, its version): listed in
        ``__all__`` and ``__dir__`` but never imported.

    Returns
    -------
    tuple
        ``__getattr__`` (imports the defining module on first use and caches
        the value in the package), ``__dir__`` and ``__all__``.

    Examples
    --------
    >>> getattr_, dir_, all_ = attach("transpose_matrix.geometry", {"ConvSpec": "spec"})
    >>> getattr_("ConvSpec").__name__
    'ConvSpec'
    >>> all_
    ['ConvSpec']
    """
    names = [*(eager or {}), *exports]

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f".{module}", package), name)
        vars(importlib.import_module(package))[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(names))

    return __getattr__, __dir__, names
