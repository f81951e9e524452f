"""Write the API reference from the package's ``__all__`` lists, at build time.

The pages follow the package's layout instead of naming it: every module
whose dotted name has no ``_private`` part is a page, headed by its
docstring, with a table of its ``__all__``. Each public object is documented
once, under its shortest public name: ``transpose_matrix.NAME`` when the top
level exports it, else the module that defines it (the one of ``__all__``
lists holding it that its ``__module__`` is, or lies inside). The other
pages that export it link there. A ``missing-reference`` handler resolves any
other dotted path of the same object (``transpose_matrix.spec.ConvSpec``,
``ConvSpec.from_transposed`` written inside a module's docstring) to that
one entry, so docstrings may name objects by their defining module.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Entry", "collect", "setup", "write_pages"]

PACKAGE = "transpose_matrix"


@dataclass
class Entry:
    """One documented object: its canonical name and the module page it is on."""

    name: str
    page: str
    kind: str
    exporters: list[str] = field(default_factory=list)


def public_modules() -> list[str]:
    """Dotted names of the package and its modules with no ``_private`` part, sorted."""
    package = importlib.import_module(PACKAGE)
    names = [PACKAGE]
    for info in pkgutil.walk_packages(package.__path__, f"{PACKAGE}."):
        if any(part.startswith("_") for part in info.name.split(".")):
            continue
        names.append(info.name)
    return sorted(names)


def _kind(obj: Any) -> str:
    if inspect.isclass(obj):
        return "exception" if issubclass(obj, BaseException) else "class"
    if inspect.ismodule(obj):
        return "module"
    if callable(obj) and hasattr(obj, "__module__") and hasattr(obj, "__qualname__"):
        return "function"
    return "data"


def _public_home(module_name: str, modules: list[str]) -> str | None:
    """The public module at or above ``module_name`` (``a._b.c`` -> ``a``)."""
    parts = module_name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules and not any(p.startswith("_") for p in parts[:end]):
            return candidate
    return None


def collect() -> tuple[list[str], dict[str, list[str]], dict[int, Entry], dict[str, Entry]]:
    """Modules, their ``__all__``, and where every public object is documented.

    Returns the module names, ``{module: __all__}``, entries keyed by
    ``id(obj)`` (functions, classes) and entries keyed by ``module.NAME``
    (data, whose identity means nothing: small ints are shared).
    """
    modules = public_modules()
    exports = {}
    for name in modules:
        module = importlib.import_module(name)
        exports[name] = list(getattr(module, "__all__", []))
    top = importlib.import_module(PACKAGE)
    by_id: dict[int, Entry] = {}
    by_name: dict[str, Entry] = {}
    # Deepest modules first: data goes to the most specific module listing it.
    for module_name in sorted(modules, key=lambda m: (-m.count("."), m)):
        module = importlib.import_module(module_name)
        for name in exports[module_name]:
            obj = getattr(module, name)
            kind = _kind(obj)
            if kind == "module":
                continue
            if kind == "data":
                key = f"{module_name}.{name}"
                owner = next(
                    (e for e in by_name.values() if e.name.endswith(f".{name}")
                     and getattr(importlib.import_module(e.page), name, None) is obj),
                    None,
                )
                if owner is None:
                    owner = Entry(key, module_name, kind)
                    if name in top.__all__ and getattr(top, name) is obj:
                        owner.name = f"{PACKAGE}.{name}"
                by_name[key] = owner
                owner.exporters.append(module_name)
                continue
            entry = by_id.get(id(obj))
            if entry is None:
                home = _public_home(getattr(obj, "__module__", module_name), modules)
                if home is None or name not in exports.get(home, []):
                    home = module_name
                canonical = f"{home}.{name}"
                if name in top.__all__ and getattr(top, name) is obj:
                    canonical = f"{PACKAGE}.{name}"
                entry = by_id[id(obj)] = Entry(canonical, home, kind)
            entry.exporters.append(module_name)
    return modules, exports, by_id, by_name


def _title(text: str, mark: str = "=") -> str:
    return f"{text}\n{mark * len(text)}\n"


def write_pages(outdir: Path) -> list[str]:
    """Write ``outdir/index.rst`` and one page per public module; their names."""
    modules, exports, by_id, by_name = collect()
    outdir.mkdir(parents=True, exist_ok=True)
    # Pages of modules that no longer exist must not outlive them.
    for stale in outdir.glob("*.rst"):
        stale.unlink()
    top = importlib.import_module(PACKAGE)
    written = []
    for module_name in modules:
        module = importlib.import_module(module_name)
        lines = [
            f".. This page is generated by docs/_ext/tm_apigen.py from {module_name}.__all__.\n",
            _title(f"``{module_name}``"),
        ]
        if module_name == PACKAGE:
            # The package docstring is a plain-text catalogue in columns (it is
            # what help(transpose_matrix) shows): kept as it is written.
            doc = inspect.cleandoc(module.__doc__ or "")
            lines += [f".. py:module:: {module_name}\n", "::\n"]
            lines += [f"   {line}" if line else "" for line in doc.splitlines()]
            lines.append("")
        else:
            lines.append(f".. automodule:: {module_name}\n   :no-members:\n")
        names = exports[module_name]
        if module_name == PACKAGE:
            names = [n for n in names if n != "__version__"]
        rows, own = [], []
        for name in names:
            obj = getattr(module, name)
            kind = _kind(obj)
            if kind == "module":
                rows.append(f"{module_name}.{name}")
                continue
            entry = by_name[f"{module_name}.{name}"] if kind == "data" else by_id[id(obj)]
            rows.append(entry.name)
            if entry.page == module_name and entry.name not in own:
                own.append(entry.name)
        if rows:
            # Full names in the table: no current module to be relative to.
            lines.append(".. py:currentmodule:: None\n")
            lines.append(".. autosummary::\n   :nosignatures:\n")
            lines += [f"   {row}" for row in rows]
            lines.append("")
        if own:
            lines.append(_title("Reference", "-"))
        for name in own:
            obj = _resolve(name)
            kind = _kind(obj)
            if kind == "class":
                lines.append(f".. autoclass:: {name}\n   :members:\n   :show-inheritance:\n")
            elif kind == "exception":
                lines.append(f".. autoexception:: {name}\n   :show-inheritance:\n")
            elif kind == "function":
                lines.append(f".. autofunction:: {name}\n")
            else:
                lines.append(f".. autodata:: {name}\n   :no-value:\n")
        page = module_name
        (outdir / f"{page}.rst").write_text("\n".join(lines), encoding="utf-8")
        written.append(page)
    index = [
        ".. This page is generated by docs/_ext/tm_apigen.py.\n",
        _title("API reference"),
        f"Every public name of ``{PACKAGE}``: the top level (``import {PACKAGE} as tm``; "
        f"version |release|) and each public module, generated from their ``__all__`` "
        "and docstrings. Each object is documented once, under its shortest public name; "
        "the other modules that export it link there.\n",
        ".. toctree::\n   :maxdepth: 1\n",
        *[f"   {page}" for page in written],
        "",
    ]
    (outdir / "index.rst").write_text("\n".join(index), encoding="utf-8")
    del top
    return written


def _resolve(dotted: str) -> Any:
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:end]))
        except ImportError:
            continue
        for attr in parts[end:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(dotted)


# --------------------------------------------------------------------------- references


def _canonical(target: str, by_id: dict[int, Entry], by_name: dict[str, Entry]) -> str | None:
    """The documented name of whatever ``target`` names, or None."""
    if target in by_name:
        return by_name[target].name
    parts = target.split(".")
    try:
        obj = importlib.import_module(parts[0])
    except ImportError:
        return None
    chain = [obj]
    for end in range(1, len(parts)):
        try:
            obj = getattr(obj, parts[end])
        except AttributeError:
            try:
                obj = importlib.import_module(".".join(parts[: end + 1]))
            except ImportError:
                return None
        chain.append(obj)
    # The deepest object of the chain that is documented, plus the attributes after it.
    for depth in range(len(chain) - 1, -1, -1):
        entry = by_id.get(id(chain[depth]))
        if entry is not None and _kind(chain[depth]) != "data":
            return ".".join([entry.name, *parts[depth + 1 :]])
        if inspect.ismodule(chain[depth]):
            return target if depth == len(chain) - 1 else None
    return None


def _missing_reference(app: Any, env: Any, node: Any, contnode: Any) -> Any:
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"]
    tables = env.tm_api_tables if hasattr(env, "tm_api_tables") else None
    if tables is None:
        _, _, by_id, by_name = collect()
        env.tm_api_tables = tables = (by_id, by_name)
    by_id, by_name = tables
    candidates = [target]
    module, klass = node.get("py:module"), node.get("py:class")
    if module:
        if klass:
            candidates.append(f"{module}.{klass}.{target}")
        candidates.append(f"{module}.{target}")
    # A docstring's names are relative to where it is written:
    # "…/matrix.py:docstring of transpose_matrix.matrix.conv_matrix".
    source = str(node.source or "")
    if "docstring of " in source:
        owner = source.rsplit("docstring of ", 1)[1].split(":")[0].strip().split(".")
        for end in range(len(owner), 0, -1):
            candidates.append(".".join([*owner[:end], target]))
    # A short name documented exactly once (``ConvSpec`` in a summary line).
    if "." not in target:
        ends = {e.name for e in [*by_id.values(), *by_name.values()]
                if e.name.rsplit(".", 1)[-1] == target}
        if len(ends) == 1:
            candidates.append(ends.pop())
    for candidate in candidates:
        if not candidate.startswith(PACKAGE):
            continue
        name = _canonical(candidate, by_id, by_name)
        if name is None:
            continue
        domain = env.get_domain("py")
        new = node.deepcopy()
        new["reftarget"] = name
        found = domain.resolve_xref(
            env, node["refdoc"], app.builder, node["reftype"], name, new, contnode
        )
        if found is None:
            found = domain.resolve_any_xref(env, node["refdoc"], app.builder, name, new, contnode)
            found = found[0][1] if found else None
        if found is not None:
            return found
    # A real object of the package that is not public (not in any __all__,
    # so it has no entry): the reference is right, it stays plain text.
    for candidate in candidates:
        if candidate.startswith(f"{PACKAGE}.") and _exists(candidate):
            return contnode
    return None


def _exists(dotted: str) -> bool:
    try:
        _resolve(dotted)
    except (ImportError, AttributeError):
        return False
    return True


def _generate(app: Any) -> None:
    write_pages(Path(app.srcdir) / "api")


def setup(app: Any) -> dict[str, Any]:
    app.connect("builder-inited", _generate, priority=100)
    app.connect("missing-reference", _missing_reference)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
