"""Lazy re-exports for the package and its subpackages (the scikit-image pattern).

A package lists which module defines each public name; :func:`attach` gives it
the module-level ``__getattr__`` and ``__dir__`` that import that module on
first use. Importing a package therefore costs nothing until a name is used,
while ``dir()``, tab completion and the documentation still see every name.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["attach"]


def attach(
    package: str,
    exports: Mapping[str, str],
    eager: Mapping[str, Any] | None = None,
    moved: Mapping[str, str] | None = None,
    submodules: Iterable[str] = (),
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
    moved : mapping of str to str, optional
        Names the package used to export and now leaves to a submodule
        (name -> that submodule, relative and dotted). They keep working,
        with a :class:`DeprecationWarning` naming their home, but are left
        out of ``__all__`` and ``__dir__``.
    submodules : iterable of str, optional
        Subpackages reachable as attributes (``transpose_matrix.analysis``)
        without importing them first; imported on first use.

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
    >>> getattr_, _, all_ = attach("transpose_matrix", {}, moved={"ConvSpec": "geometry"})
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     value = getattr_("ConvSpec")
    >>> value.__name__, str(caught[0].message).split("; ")[1]
    ('ConvSpec', 'use transpose_matrix.geometry.ConvSpec')
    """
    names = [*(eager or {}), *exports]
    moved = moved or {}
    submodules = frozenset(submodules)

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is not None:
            value = getattr(importlib.import_module(f".{module}", package), name)
            vars(importlib.import_module(package))[name] = value
            return value
        if name in submodules:
            return importlib.import_module(f".{name}", package)
        home = moved.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        # Not cached: every use of the old spelling says where the name lives now.
        warnings.warn(
            f"{package}.{name} is an alias kept for old code; use {package}.{home}.{name}",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(importlib.import_module(f".{home}", package), name)

    def __dir__() -> list[str]:
        return sorted(set(names) | submodules)

    return __getattr__, __dir__, names
