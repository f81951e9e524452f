"""Sphinx configuration of the transpose_matrix documentation site.

Build: ``python -m sphinx -W --keep-going -b html docs docs/_build/html``
(warnings are errors). Generated at build time, never edited by hand:
``api/`` (from the package's ``__all__``, ``_ext/tm_apigen.py``), ``cli.rst``
(from the argument parser, ``_ext/tm_cligen.py``), ``explanation/derivations/``
(from ``derivations/``, ``_ext/tm_derivations.py``), ``auto_gallery/`` and
``auto_tutorials/`` (sphinx-gallery runs the scripts of ``gallery/`` and
``tutorials/``). The site asks for nothing over the network: MathJax is
Debian's ``libjs-mathjax``, copied in.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# Document the package of this checkout, even where another copy is installed.
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE / "_ext"))
os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("MPLBACKEND", "Agg")

import transpose_matrix  # noqa: E402

project = "transpose_matrix"
author = "the transpose_matrix developers"
copyright = f"the transpose_matrix developers ({ROOT.joinpath('LICENSE').name}: MIT)"
release = version = transpose_matrix.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.doctest",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
    "tm_apigen",
    "tm_cligen",
    "tm_derivations",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = [
    "_build",
    "gallery/*.rst",
    "tutorials/*.rst",
    "**/GALLERY_HEADER.rst",
    "auto_*/**.ipynb",
    "auto_*/**.py",
    "auto_*/**.zip",
    "auto_*/**.md5",
    "auto_*/**.json",
]
templates_path: list[str] = []

# Every cross-reference must resolve.
nitpicky = True
# No network at build time, so no intersphinx: names from other packages
# (numpy, scipy, sympy, torch, matplotlib, PIL, the standard library) cannot
# be resolved here and are not ours to check.
nitpick_ignore_regex = [
    (r"py:.*", r"(numpy|np|scipy|sympy|torch|matplotlib|PIL|jax|keras|onnx|argparse)(\..*)?"),
    (r"py:.*", r"(typing|collections|os|pathlib|dataclasses|enum|io|functools)(\..*)?"),
    (r"py:class", r"(int|float|str|string|bytes|bool|tuple|list|dict|object|Exception|ValueError"
                  r"|TypeError|ImportError|MemoryError|OSError|RuntimeError)"),
]

# --- autodoc and numpydoc: types are read from the docstrings (numpydoc's
# Parameters), signatures are kept short.
autodoc_typehints = "none"
autodoc_member_order = "bysource"
autodoc_default_options = {"undoc-members": False}
autosummary_generate = False
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks: set[str] = set()

# --- myst
myst_enable_extensions = ["dollarmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# --- the gallery and the tutorials: scripts run at every build.
sphinx_gallery_conf = {
    "examples_dirs": ["gallery", "tutorials"],
    "gallery_dirs": ["auto_gallery", "auto_tutorials"],
    "filename_pattern": r".*\.py$",
    "ignore_pattern": r"__init__\.py",
    "within_subsection_order": "FileNameSortKey",
    "image_scrapers": ("tm_scraper.scrape",),
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "download_all_examples": False,
    "remove_config_comments": True,
    "capture_repr": ("__repr__",),
    "ignore_repr_types": r"matplotlib|Axes|Figure|Animation|Text|list",
    "min_reported_time": 3600,
    "write_computation_times": False,
    "show_memory": False,
    "show_signature": False,
    "thumbnail_size": (320, 224),
    "reset_modules": ("matplotlib",),
}

# --- HTML
html_theme = "pydata_sphinx_theme"
html_title = f"transpose_matrix {release}"
html_static_path = ["_static"]
html_css_files = ["tm.css"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "navbar_align": "left",
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
    "secondary_sidebar_items": ["page-toc"],
}
# One colour scheme, stated (an unset mode makes the theme log a console error).
html_context = {"default_mode": "light"}
html_show_sourcelink = False
# The search page would fetch each hit's page for a summary, which browsers
# refuse to do for a site opened from files (file://): titles only.
html_show_search_summary = False
html_copy_source = False

# MathJax from Debian's libjs-mathjax (2.7, SVG output: no web fonts), copied
# in: the site must load nothing from the network.
MATHJAX = Path("/usr/share/javascript/mathjax")
_MATHJAX_PARTS = [
    "MathJax.js",
    "config/TeX-AMS_SVG.js",
    "extensions",
    "jax/element",
    "jax/input/TeX",
    "jax/output/SVG/jax.js",
    "jax/output/SVG/autoload",
    "jax/output/SVG/fonts/TeX",
    "localization/en",
]


def _copy_mathjax() -> str:
    if not (MATHJAX / "MathJax.js").exists():
        raise RuntimeError(
            f"MathJax is missing ({MATHJAX}): apt-get install libjs-mathjax "
            "(bash .ci/run installs it)"
        )
    target = HERE / "_build" / "mathjax_static"
    stamp = target / "mathjax" / "MathJax.js"
    if not stamp.exists():
        for part in _MATHJAX_PARTS:
            source, dest = MATHJAX / part, target / "mathjax" / part
            dest.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, dest, dirs_exist_ok=True)
            else:
                shutil.copyfile(source, dest)
    return str(target)


html_static_path.append(_copy_mathjax())
mathjax_path = "mathjax/MathJax.js?config=TeX-AMS_SVG"
