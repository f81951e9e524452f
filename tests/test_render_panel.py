"""The panel: every kind of document the CLI emits, compiled by pdflatex and inspected.

Over 13 geometries (multi-channel, groups, 1-D, 3-D, numeric, transposed with
output_padding, dilated, strided with gaps, inputs large enough to elide) the
command line writes articles, fragments ``\\input`` into a plain 10 pt
article with only amsmath, amssymb and tikz, beamer talks, beamer frames
``\\input`` into a plain beamer document, and standalone and fragment
figures. pdflatex is the referee: no ``Overfull \\hbox`` (nor a beamer frame's
``Overfull \\vbox``) over 1 pt in its log, no Type 3 (bitmap) font in the PDF
(``pdffonts``), and in every figure the named parts (matrix, legend, caption,
marks, titles, strip) as measured by TikZ itself must not intersect.
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import require

from transpose_matrix.cli import main

GEOMETRIES = {
    "textbook": [],
    "stride2-pad1": ["--input", "5x5", "--stride", "2", "--padding", "1"],
    "channels": ["--input", "4x4", "--in-channels", "2", "--out-channels", "2", "--padding", "1"],
    "groups": ["--input", "4x3", "--kernel", "2", "--in-channels", "4", "--out-channels", "2",
               "--groups", "2"],
    "1d-dilated": ["--input", "9", "--kernel", "3", "--dilation", "2", "--padding", "2:1"],
    "3d": ["--input", "3x3x3", "--kernel", "2"],
    "numeric": ["--numeric", "--seed", "2", "--input", "5x5", "--stride", "2"],
    "transposed": ["--transposed", "--input", "3x3", "--kernel", "3", "--stride", "2",
                   "--padding", "1", "--output-padding", "1"],
    "transposed-1d": ["--transposed", "--input", "4", "--kernel", "4", "--stride", "3",
                      "--output-padding", "2", "--in-channels", "2", "--out-channels", "3"],
    "dilated-per-dim": ["--input", "7x8", "--kernel", "3x2", "--dilation", "2x1",
                        "--stride", "1x2"],
    "gaps": ["--input", "7x7", "--kernel", "2", "--stride", "3"],
    "large": ["--input", "32x32", "--padding", "1"],
    "large-channels": ["--input", "16x16", "--in-channels", "8", "--out-channels", "8",
                       "--padding", "1", "--numeric"],
}

_MEASURE = r"""\makeatletter
\providecommand\tmbox[2]{\pgfutil@ifundefined{pgf@sh@ns@#2}{}{%
\pgfpointanchor{#2}{south west}\pgfgetlastxy{\tmax}{\tmay}%
\pgfpointanchor{#2}{north east}\pgfgetlastxy{\tmbx}{\tmby}%
\typeout{TMBOX #1 #2 \tmax\space\tmay\space\tmbx\space\tmby}}}
\providecommand\tmclear[1]{\global\expandafter\let\csname pgf@sh@ns@#1\endcsname\relax}
\makeatother
"""
_NAMES = ("matrix", "legend", "caption", "cdots", "vdots", "strip", "bigtitle", "smalltitle")

_ARTICLE = "\\documentclass[10pt]{article}\n\\usepackage{amsmath,amssymb,tikz}\n" + _MEASURE + (
    "\\begin{document}\n\\input{BODY}\n\\end{document}\n"
)
_BEAMER = "\\documentclass{beamer}\n\\usepackage{amsmath,amssymb,tikz}\n" + _MEASURE + (
    "\\begin{document}\n\\input{BODY}\n\\end{document}\n"
)


def _documents() -> list[tuple[str, list[str], str | None]]:
    """(name, argv, wrapper): the wrapper \\input-s the output, None means it is standalone."""
    docs = []
    for geometry, args in GEOMETRIES.items():
        docs.append((f"{geometry}-article", ["export", *args], None))
        docs.append((f"{geometry}-fragment", ["export", "--fragment", *args], _ARTICLE))
    for geometry in ("textbook", "transposed", "channels", "3d", "large"):
        docs.append((f"{geometry}-beamer", ["export", "--beamer", *GEOMETRIES[geometry]], None))
    for geometry in ("stride2-pad1", "groups", "transposed-1d"):
        args = ["export", "--beamer", "--fragment", *GEOMETRIES[geometry]]
        docs.append((f"{geometry}-frames", args, _BEAMER))
    figures = [
        ("sparsity", "groups", None), ("sparsity", "large", None),
        ("sparsity", "1d-dilated", None), ("placement", "stride2-pad1", None),
        ("placement", "transposed", None), ("placement", "gaps", None),
        ("sparsity", "channels", _ARTICLE), ("placement", "transposed-1d", _ARTICLE),
    ]
    for kind, geometry, wrapper in figures:
        args = [a for a in GEOMETRIES[geometry] if a not in ("--numeric",)]
        suffix = "fragment" if wrapper else "standalone"
        argv = ["figure", kind, *args] + (["--fragment"] if wrapper else [])
        docs.append((f"{geometry}-{kind}-{suffix}", argv, wrapper))
    return docs


DOCUMENTS = _documents()


def _instrument(tex: str) -> str:
    """Have TikZ log the box of every named part of every picture."""
    pieces = tex.split("\\end{tikzpicture}")
    out = []
    for number, piece in enumerate(pieces[:-1]):
        clear = "".join(f"\\tmclear{{{name}}}" for name in _NAMES)
        piece = piece.replace("\\begin{tikzpicture}", "\\begin{tikzpicture}" + clear, 1)
        measure = "".join(f"\\tmbox{{{number}}}{{{name}}}" for name in _NAMES)
        out.append(piece + measure + "\n")
    out.append(pieces[-1])
    tex = "\\end{tikzpicture}".join(out)
    return tex.replace("\\begin{document}", _MEASURE + "\\begin{document}", 1)


def _run(argv: list[str]) -> str:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        status = main(argv)
    assert status == 0, argv
    return buffer.getvalue()


@pytest.fixture(scope="module")
def panel(tmp_path_factory):
    require("pdflatex", shutil.which("pdflatex") is not None)
    require("pdffonts", shutil.which("pdffonts") is not None)
    folder = tmp_path_factory.mktemp("panel")
    for name, argv, wrapper in DOCUMENTS:
        tex = _run(argv)
        if wrapper is None:
            (folder / f"{name}.tex").write_text(_instrument(tex))
        else:
            (folder / f"{name}-body.tex").write_text(_instrument(tex))
            (folder / f"{name}.tex").write_text(wrapper.replace("BODY", f"{name}-body"))

    def build(name: str) -> tuple[str, dict]:
        command = ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", f"{name}.tex"]
        done = subprocess.run(command, cwd=folder, capture_output=True, text=True,
                              timeout=300, check=False)
        log = (folder / f"{name}.log").read_text(errors="replace")
        fonts = subprocess.run(["pdffonts", f"{name}.pdf"], cwd=folder, capture_output=True,
                               text=True, check=False).stdout
        return name, {"status": done.returncode, "log": log, "fonts": fonts}

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(pool.map(build, [name for name, _, _ in DOCUMENTS]))
    results["folder"] = folder
    return results


NAMES = [name for name, _, _ in DOCUMENTS]


def test_panel_covers_the_issue():
    kinds = {name.rsplit("-", 1)[-1] for name in NAMES}
    assert len(NAMES) >= 30 and len(GEOMETRIES) >= 12
    assert {"article", "fragment", "beamer", "frames", "standalone"} <= kinds


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_compiles_and_fits(panel, name):
    result = panel[name]
    assert result["status"] == 0, result["log"][-2000:]
    overfull = [
        (kind, float(amount))
        for kind, amount in re.findall(r"Overfull \\([hv])box \(([\d.]+)pt too", result["log"])
    ]
    assert [item for item in overfull if item[1] > 1.0] == []


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_fonts_are_scalable(panel, name):
    fonts = panel[name]["fonts"]
    assert "Type 1" in fonts and "Type 3" not in fonts, fonts


def _boxes(log: str) -> dict[str, dict[str, tuple[float, ...]]]:
    pictures: dict[str, dict[str, tuple[float, ...]]] = {}
    number = r"(-?[\d.]+)pt"
    for picture, part, *corners in re.findall(
        rf"TMBOX (\d+) (\w+) {number} {number} {number} {number}", log
    ):
        pictures.setdefault(picture, {})[part] = tuple(float(c) for c in corners)
    return pictures


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in NAMES if not n.startswith("3d")])
def test_figure_parts_do_not_overlap(panel, name):
    pictures = _boxes(panel[name]["log"])
    assert pictures, "every document of a 1-D or 2-D layer has figures"
    for picture, parts in pictures.items():
        assert {"matrix", "legend", "caption"} <= set(parts), (picture, parts)
        names = sorted(parts)
        for i, first in enumerate(names):
            for second in names[i + 1 :]:
                a, b = parts[first], parts[second]
                # Boxes touching within half a point (a rule's width) do not count.
                apart = (
                    a[2] <= b[0] + 0.5 or b[2] <= a[0] + 0.5
                    or a[3] <= b[1] + 0.5 or b[3] <= a[1] + 0.5
                )
                assert apart, (picture, first, a, second, b)


@pytest.mark.slow
def test_overlap_check_can_fail(pdflatex, tmp_path):
    # The measuring itself: a caption drawn over the legend is caught.
    picture = (
        "\\begin{tikzpicture}\\begin{scope}[local bounding box=legend]"
        "\\fill (0,0) rectangle (2,1);\\end{scope}"
        "\\node[anchor=north west] (caption) at (1,0.5) {text};"
        "\\begin{scope}[local bounding box=matrix]\\fill (5,0) rectangle (6,1);\\end{scope}"
        "\\end{tikzpicture}"
    )
    tex = _instrument(
        "\\documentclass{article}\\usepackage{tikz}\\begin{document}" + picture
        + "\\end{document}"
    )
    (tmp_path / "probe.tex").write_text(tex)
    subprocess.run(["pdflatex", "-interaction=nonstopmode", "probe.tex"], cwd=tmp_path,
                   capture_output=True, check=False, timeout=120)
    parts = _boxes((tmp_path / "probe.log").read_text(errors="replace"))["0"]
    legend, caption = parts["legend"], parts["caption"]
    assert caption[0] < legend[2] and caption[3] > legend[1]  # they do intersect
