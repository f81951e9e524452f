"""Shared test setup: referees (torch, pdflatex) and hypothesis profiles.

A referee that is missing skips its tests on a developer's machine but fails
them when ``CI=true``: a green CI must mean the referee actually judged.
"""

from __future__ import annotations

import importlib
import os
import shutil

import pytest
from hypothesis import HealthCheck, settings

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=150,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=30, deadline=None)
settings.load_profile("ci" if IN_CI else os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def require(what: str, found: bool) -> None:
    """Skip when ``what`` is missing, except in CI, where that is a failure."""
    if found:
        return
    message = f"{what} is required for this test and is missing"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: a missing referee fails)")
    pytest.skip(message)


def _module(name: str):
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


@pytest.fixture(scope="session")
def torch():
    """The torch module, the outside referee."""
    module = _module("torch")
    require("torch", module is not None)
    return module


@pytest.fixture(scope="session")
def pdflatex() -> str:
    """Path of pdflatex, the referee for every LaTeX document emitted."""
    path = shutil.which("pdflatex")
    require("pdflatex", path is not None)
    return path


@pytest.fixture(scope="session")
def keras():
    """Keras 3 on the torch backend, a referee of the translations.

    The backend is read once, when keras is first imported, so it is set
    here before the import; a keras already running another backend is
    treated as missing.
    """
    os.environ["KERAS_BACKEND"] = "torch"
    try:
        module = importlib.import_module("keras")
        ok = module.backend.backend() == "torch"
    except ImportError:
        module, ok = None, False
    require("keras (on KERAS_BACKEND=torch)", ok)
    return module


@pytest.fixture(scope="session")
def jax():
    """JAX on the CPU, a referee of the translations."""
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    module = _module("jax")
    require("jax", module is not None)
    return module


@pytest.fixture(scope="session")
def onnx():
    """onnx with its pure-Python ``onnx.reference.ReferenceEvaluator``."""
    try:
        module = importlib.import_module("onnx")
        importlib.import_module("onnx.reference")
    except ImportError:
        module = None
    require("onnx (with onnx.reference)", module is not None)
    return module


@pytest.fixture(scope="session")
def pillow():
    """PIL's Image module: animations are drawn with Pillow."""
    module = _module("PIL.Image")
    require("Pillow", module is not None)
    return module


@pytest.fixture(scope="session")
def matplotlib():
    """matplotlib on the Agg backend (no display needed)."""
    module = _module("matplotlib")
    require("matplotlib", module is not None)
    module.use("Agg")
    return module


#: Debian's browser; tests never download one.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser():
    """Headless chromium driven by Playwright: the referee of the HTML page.

    Module-scoped: Playwright's sync API runs one driver at a time, so each
    test module that launches a browser must have closed it before the next.
    """
    sync_api = _module("playwright.sync_api")
    require(f"playwright (python) and {CHROMIUM}", sync_api is not None and os.path.exists(CHROMIUM))
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()
