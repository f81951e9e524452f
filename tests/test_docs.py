"""The documentation site: built with warnings as errors, then judged by a real browser.

The site is built with the README's command (``python -m sphinx -W
--keep-going -b html docs OUT``) into a temporary folder, or taken from
``TM_DOCS_HTML`` when ``.ci/run`` has just built it. Debian's chromium,
driven by Playwright (never a downloaded browser), opens every page and
fails on a broken internal link or anchor, an image or animation that does
not load, a failed request, a request that leaves the machine, or a console
error. The reference is checked against the package itself: every name of
every public ``__all__`` has an entry in the built inventory that is the
same object. Code in the Markdown pages runs: ``pycon`` blocks as doctests,
``python -m transpose_matrix`` lines of ``sh`` blocks as commands.
"""

from __future__ import annotations

import doctest
import html
import importlib
import os
import pkgutil
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from conftest import CHROMIUM, _module, require

import transpose_matrix as tm
from transpose_matrix.cli import build_parser, main

# Every test here reads the built site (minutes to build): the slow tier only.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
BUILD = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html", "docs"]
# The launch arguments of every browser the tests start: nothing from the network.
BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The classic set: Dumoulin and Visin's convolution-arithmetic animations.
CLASSIC = [
    "no_padding_no_strides", "arbitrary_padding_no_strides", "same_padding_no_strides",
    "full_padding_no_strides", "no_padding_strides", "padding_strides", "padding_strides_odd",
]


# --------------------------------------------------------------------------- the build


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The built site's folder: ``TM_DOCS_HTML``, or built here with the README's command."""
    given = os.environ.get("TM_DOCS_HTML")
    if given:
        path = Path(given).resolve()
        assert (path / "index.html").exists(), f"TM_DOCS_HTML={given} holds no built site"
        return path
    require("sphinx and the docs extra", all(
        _module(name) is not None
        for name in ("sphinx", "pydata_sphinx_theme", "numpydoc", "sphinx_gallery", "myst_parser")
    ))
    out = tmp_path_factory.mktemp("site") / "html"
    start = time.monotonic()
    result = subprocess.run([*BUILD, str(out)], cwd=ROOT, capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, (result.stdout[-3000:], result.stderr[-6000:])
    print(f"docs built in {time.monotonic() - start:.0f} s")
    return out


@pytest.fixture(scope="module")
def chromium():
    sync_api = _module("playwright.sync_api")
    require(f"playwright (python) and {CHROMIUM}", sync_api is not None and os.path.exists(CHROMIUM))
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        yield browser
        browser.close()


def _pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html") if "_static" not in p.parts)


# --------------------------------------------------------------------------- every page


class Visit:
    """One page opened in a tab: its failed requests, outside requests, errors, links, ids."""

    def __init__(self, browser, path: Path) -> None:
        tab = browser.new_page(viewport={"width": 1280, "height": 900})
        self.failed, self.outside, self.errors = [], [], []
        tab.on("requestfailed", lambda r: self.failed.append(f"{r.url}: {r.failure}"))
        tab.on("request", lambda r: None if r.url.startswith(("file:", "data:", "blob:", "about:"))
               else self.outside.append(r.url))
        tab.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        tab.on("pageerror", lambda e: self.errors.append(str(e)))
        tab.goto(path.as_uri(), wait_until="load")
        # MathJax typesets after the load event; wait for its queue to empty.
        tab.evaluate("() => new Promise(done => (window.MathJax && MathJax.Hub) ? "
                     "MathJax.Hub.Queue(() => done(true)) : done(true))")
        self.ids = set(tab.eval_on_selector_all("[id]", "els => els.map(e => e.id)"))
        self.links = tab.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
        self.images = tab.eval_on_selector_all(
            "img", "els => els.map(e => [e.currentSrc || e.src, e.complete, e.naturalWidth])")
        self.math = tab.locator(".MathJax_SVG").count()
        self.tab = tab

    def close(self) -> None:
        self.tab.close()


@pytest.mark.slow
def test_every_page_loads_with_its_links_images_and_no_error(site, chromium):
    pages = _pages(site)
    assert len(pages) > 60, [p.name for p in pages]
    ids: dict[Path, set[str]] = {}
    links: list[tuple[Path, str]] = []
    problems = []
    for path in pages:
        visit = Visit(chromium, path)
        ids[path.resolve()] = visit.ids
        rel = path.relative_to(site)
        problems += [f"{rel}: failed request {f}" for f in visit.failed]
        problems += [f"{rel}: request off the machine {u}" for u in visit.outside]
        problems += [f"{rel}: console error {e}" for e in visit.errors]
        problems += [f"{rel}: image did not load {src}" for src, done, width in visit.images
                     if not (done and width > 0)]
        links += [(path, href) for href in visit.links]
        if "derivations" in path.parts and path.name != "index.html":
            # Every derivation is maths: MathJax (local) must have typeset it.
            if visit.math == 0:
                problems.append(f"{rel}: no maths typeset")
        visit.close()
    for page, href in links:
        parts = urlsplit(href)
        if parts.scheme != "file":
            continue
        target = Path(unquote(parts.path)).resolve()
        if not target.exists():
            problems.append(f"{page.relative_to(site)}: broken link {href}")
        elif parts.fragment and target in ids and unquote(parts.fragment) not in ids[target]:
            problems.append(f"{page.relative_to(site)}: missing anchor {href}")
    assert problems == [], "\n".join(problems[:50])



@pytest.mark.slow
def test_search_finds_conv_matrix(site, chromium):
    tab = chromium.new_page()
    errors = []
    tab.on("pageerror", lambda e: errors.append(str(e)))
    tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    tab.goto(f"{(site / 'search.html').as_uri()}?q=conv_matrix")
    tab.wait_for_selector("#search-results li a", timeout=30000)
    hits = tab.eval_on_selector_all("#search-results li a", "els => els.map(e => e.textContent)")
    tab.close()
    assert any("conv_matrix" in hit for hit in hits), hits
    assert errors == []


# --------------------------------------------------------------------------- what it holds


def _public_names():
    """(module, name, object) of every public module's ``__all__``, from the package itself."""
    modules = ["transpose_matrix"] + [
        info.name for info in pkgutil.walk_packages(tm.__path__, "transpose_matrix.")
        if not any(part.startswith("_") for part in info.name.split("."))
    ]
    for module_name in modules:
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", []):
            if name != "__version__":
                yield module_name, name, getattr(module, name)


def _lookup(dotted: str):
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


@pytest.mark.slow
def test_reference_has_an_entry_for_every_public_name(site):
    from sphinx.util.inventory import InventoryFile

    with open(site / "objects.inv", "rb") as stream:
        inventory = InventoryFile.load(stream, "", lambda *parts: "/".join(parts))
    documented = {name for kind, entries in inventory.items() if kind.startswith("py:")
                  for name in entries}
    by_id = {}
    for name in documented:
        if name.startswith("transpose_matrix"):
            try:
                by_id.setdefault(id(_lookup(name)), []).append(name)
            except (ImportError, AttributeError):
                pass
    missing = []
    for module_name, name, obj in _public_names():
        if f"{module_name}.{name}" in documented:
            continue
        if isinstance(obj, type(tm)):
            missing.append(f"{module_name}.{name}")
        elif callable(obj) and id(obj) in by_id:
            continue
        elif any(d.rsplit(".", 1)[-1] == name and _lookup(d) is obj for d in documented
                 if d.startswith("transpose_matrix")):
            continue
        else:
            missing.append(f"{module_name}.{name}")
    assert missing == []
    assert {f"transpose_matrix.{n}" for n in tm.__all__ if n != "__version__"} <= documented


@pytest.mark.slow
def test_gallery_holds_the_classic_set_and_at_least_16_animations(site):
    gallery = site / "auto_gallery"
    gifs = {}
    for page in gallery.rglob("*.html"):
        found = re.findall(r'<img[^>]+src="([^"]+\.gif)"', page.read_text(encoding="utf-8"))
        gifs[page.stem] = found
    total = sum(len(v) for v in gifs.values())
    assert total >= 16, gifs
    for name in CLASSIC + ["dilation"]:
        for suffix in ("", "_transposed"):
            if name == "dilation" and suffix:
                continue  # the classic set has no transposed dilation
            pages = [p for p in gifs if p.endswith(f"_{name}{suffix}") and gifs[p]]
            assert pages, f"no animated page for {name}{suffix}"
    # Beyond the set: dilation in the transposed layer.
    assert any("transposed_dilation" in p and gifs[p] for p in gifs)


@pytest.mark.slow
def test_cli_reference_is_the_parser(site):
    page = (site / "cli.html").read_text(encoding="utf-8")
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    parser = build_parser()
    commands = next(a for a in parser._actions if hasattr(a, "choices") and a.choices)
    for name, sub in commands.choices.items():
        assert f'id="cli-{name}"' in page, name
        for action in sub._actions:
            for option in action.option_strings:
                assert option in text, (name, option)


@pytest.mark.slow
def test_derivations_pdf_is_linked(site):
    index = (site / "explanation" / "derivations" / "index.html").read_text(encoding="utf-8")
    href = re.search(r'href="([^"]+notes\.pdf)"', index)
    assert href, "the lecture notes are not linked"
    pdf = (site / "explanation" / "derivations" / unquote(href.group(1))).resolve()
    assert pdf.read_bytes()[:5] == b"%PDF-"


# --------------------------------------------------------------------------- code in pages


def _blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", text, flags=re.S | re.M)


MARKDOWN = sorted([*DOCS.rglob("*.md"), ROOT / "README.md"])


@pytest.mark.parametrize("path", MARKDOWN, ids=lambda p: str(p.relative_to(ROOT)))
def test_python_in_markdown_runs_as_doctest(path, torch):
    text = path.read_text(encoding="utf-8")
    assert _blocks(text, "python") == [], "write Python as ```pycon doctest blocks"
    blocks = _blocks(text, "pycon")
    if not blocks:
        return
    parser = doctest.DocTestParser()
    test = parser.get_doctest("\n".join(blocks), {}, path.name, str(path), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    assert runner.failures == 0, f"{runner.failures} failing examples in {path}"


def _commands(text: str) -> list[list[str]]:
    commands = []
    for block in _blocks(text, "sh"):
        for line in re.sub(r"\\\n\s*", " ", block).splitlines():
            line = line.split("  #")[0].strip()
            if line.startswith("python -m transpose_matrix"):
                commands.append(shlex.split(line)[3:])
    return commands


@pytest.mark.slow
@pytest.mark.parametrize("path", [p for p in MARKDOWN if _commands(p.read_text("utf-8"))],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_commands_in_markdown_run(path, tmp_path, monkeypatch, capsys, torch):
    monkeypatch.chdir(tmp_path)
    for argv in _commands(path.read_text(encoding="utf-8")):
        assert main(argv) == 0, argv
    capsys.readouterr()


# --------------------------------------------------------------------------- --version


def test_version_flag_prints_the_version_pyproject_declares():
    declared = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M)
    result = subprocess.run([sys.executable, "-m", "transpose_matrix", "--version"],
                            cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert result.stdout.strip() == f"transpose_matrix {declared.group(1)}"
