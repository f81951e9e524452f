r"""Documents around rendered bodies: article, beamer, standalone figure, fragment.

Every document loads ``lmodern`` with the T1 font encoding, so pdflatex
embeds scalable Type 1 fonts (no bitmap Type 3 fonts) and straight quotes
print straight. The page each kind offers a body, in pt at 10 pt type, is
described by a :class:`Page`; the report builders lay matrices and figures
out for it:

* ``article``: ``\documentclass{article}`` at 10 pt with its own margins,
  the ``\linewidth`` (345 pt) of the plain notes a fragment is pasted into.
* ``beamer``: 128 mm × 96 mm frames (beamer's default), 1 cm side margins.
* ``standalone``: a figure cropped to its drawing.

:func:`fragment` heads a body with the packages it needs, as comments, so
the reader of a ``.tex`` file sees at once what to load.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConvSpecError
from .latex import _AMSMATH_MAX_COLS, LatexError, escape_text

__all__ = [
    "ARGBREAK",
    "ARTICLE",
    "BEAMER",
    "FRAGMENT_PACKAGES",
    "Page",
    "compile_pdf",
    "document",
    "fragment",
    "frame",
    "pdf_string",
]

#: What a fragment needs from the preamble of the notes it is ``\input`` into.
FRAGMENT_PACKAGES = ("amsmath", "amssymb", "tikz")


@dataclass(frozen=True)
class Page:
    """The room a page gives a body, in pt at 10 pt type.

    ``width`` is ``\\linewidth``; ``height`` the height one display or
    figure may take; ``max_rows`` the rows a matrix shows before eliding.

    Parameters
    ----------
    kind : str
        The document class it describes: ``'article'`` or ``'beamer'``.
    width : float
        ``\\linewidth`` in pt.
    height : float
        The height one display or figure may take, in pt.
    max_rows : int
        Rows a matrix shows before eliding.

    Examples
    --------
    >>> BEAMER
    Page(kind='beamer', width=330.0, height=190.0, max_rows=12)
    >>> Page("article", 345.0, 480.0, 16) == ARTICLE
    True
    """

    kind: str
    width: float
    height: float
    max_rows: int


#: A 10 pt ``article`` page (also what a fragment is laid out for).
ARTICLE = Page("article", 345.0, 480.0, 16)
#: A beamer frame, 128 mm × 96 mm: 108 mm (307 pt) of text width and about
#: 200 pt of height under the frame title. Frame matrices are set in ``\small``
#: (10 pt) in beamer's sans-serif maths, whose letters are narrower than the
#: italic ones :mod:`~transpose_matrix.render.measure` assumes: 307 pt hold
#: what 330 pt of italic maths would.
BEAMER = Page("beamer", 330.0, 190.0, 12)


_CLASSES = {
    "article": r"\documentclass[10pt]{article}",
    "beamer": r"\documentclass{beamer}",
    "standalone": r"\documentclass[border=4pt]{standalone}",
}


def _package_line(package: str) -> str:
    # "[opts]name" carries options, like the \usepackage syntax itself.
    match = re.fullmatch(r"(\[[^\]]*\])?([A-Za-z0-9_-]+)", package.strip())
    if match is None:
        raise ConvSpecError(
            f"package={package!r} must be a package name, optionally with "
            "'[options]' in front, e.g. '[table]xcolor'"
        )
    options, name = match.groups()
    return f"\\usepackage{options or ''}{{{name}}}"


def _max_columns(body: str) -> int:
    rows = re.split(r"\\\\", body)
    return max((row.count("&") + 1 for row in rows), default=1)


def document(
    body: str,
    *,
    title: str | None = None,
    packages: Iterable[str] = (),
    kind: str = "article",
    latex_title: str | None = None,
) -> str:
    r"""A standalone LaTeX document around ``body`` that compiles with pdflatex as is.

    Parameters
    ----------
    body : str
        The body: text and displays for an article, frames for beamer, one
        ``tikzpicture`` for standalone.
    title : str, optional
        Plain text (escaped here); an article prints it with ``\maketitle``,
        beamer on a title frame.
    latex_title : str, optional
        The title already in LaTeX (e.g. with its numbers in maths), instead
        of ``title``.
    packages : iterable of str
        More packages, names optionally with ``[options]`` in front.
    kind : {"article", "beamer", "standalone"}
        The document class.

    Returns
    -------
    str
        The whole ``.tex`` source, ending with a newline.

    Raises
    ------
    ConvSpecError
        An unknown ``kind``, both ``title`` and ``latex_title`` given, or a
        package that is not a name (optionally with ``[options]``).

    Notes
    -----
    Always loads ``[T1]fontenc``, ``lmodern``, ``amsmath`` and ``amssymb``;
    ``tikz`` when the body draws. ``MaxMatrixCols`` is raised to the widest
    row of the body so that any ``matrix`` environment in it compiles.

    Examples
    --------
    >>> tex = document(r"\[ x^2 \]", title="Notes")
    >>> tex.splitlines()[0]
    '\\documentclass[10pt]{article}'
    >>> r"\title{Notes}" in tex and tex.rstrip().endswith(r"\end{document}")
    True
    """
    if kind not in _CLASSES:
        raise ConvSpecError(f"kind={kind!r} must be one of {', '.join(_CLASSES)}")
    if title is not None and latex_title is not None:
        raise ConvSpecError("give title (plain text) or latex_title, not both")
    if title is not None:
        latex_title = escape_text(title)
    names = ["[T1]fontenc", "lmodern", "amsmath", "amssymb"]
    if "tikzpicture" in body:
        names.append("tikz")
    for package in packages:
        if package not in names:
            names.append(package)
    lines = [_CLASSES[kind]]
    lines += [_package_line(name) for name in names]
    columns = max(_AMSMATH_MAX_COLS, _max_columns(body))
    lines.append(f"\\setcounter{{MaxMatrixCols}}{{{columns}}}")
    if kind == "beamer":
        lines.append(r"\setbeamertemplate{navigation symbols}{}")
    if "\\argbreak" in body:
        lines.append(ARGBREAK)
    if latex_title is not None and kind != "standalone":
        # hyperref (loaded by beamer) writes the title into the PDF's metadata,
        # where only plain text is allowed.
        shown = latex_title if kind != "beamer" else (
            f"\\texorpdfstring{{{latex_title}}}{{{pdf_string(latex_title)}}}"
        )
        lines += [f"\\title{{{shown}}}", r"\author{}", r"\date{}"]
    lines.append(r"\begin{document}")
    if latex_title is not None and kind == "article":
        lines.append(r"\maketitle")
    elif latex_title is not None and kind == "beamer":
        lines.append(r"\begin{frame}\titlepage\end{frame}")
    lines += [body.rstrip("\n"), r"\end{document}", ""]
    return "\n".join(lines)


def fragment(body: str, *, what: str = "body", packages: Iterable[str] = FRAGMENT_PACKAGES) -> str:
    r"""``body`` headed by comments naming the packages it needs.

    Parameters
    ----------
    body : str
        LaTeX to be ``\input`` into the reader's own document.
    what : str
        What the body is, named in the first comment line.
    packages : iterable of str
        The packages the body needs.

    Returns
    -------
    str
        Three comment lines, then ``body``.

    Raises
    ------
    TypeError
        Only Python's own, when a package is not a string: nothing is
        validated here (the body is the caller's LaTeX).

    Examples
    --------
    >>> print(fragment("x").splitlines()[1])
    %   \usepackage{amsmath,amssymb,tikz}
    >>> print(fragment(r"\[ x \]", what="matrix", packages=["amsmath"]))
    % transpose_matrix matrix: \input this into a document that loads
    %   \usepackage{amsmath}
    % (\usepackage[T1]{fontenc} and \usepackage{lmodern} are recommended too).
    \[ x \]
    """
    names = ",".join(packages)
    macro = f"{ARGBREAK}\n" if "\\argbreak" in body else ""
    return (
        f"% transpose_matrix {what}: \\input this into a document that loads\n"
        f"%   \\usepackage{{{names}}}\n"
        "% (\\usepackage[T1]{fontenc} and \\usepackage{lmodern} are recommended too).\n"
        f"{macro}{body}"
    )


#: Where a line of code may break between arguments (see
#: :func:`~transpose_matrix.render.latex.code_latex`): defined once per document.
ARGBREAK = (
    "% \\argbreak: a line of code may break here, ragged, or not at all\n"
    r"\providecommand\argbreak{\nobreak\hskip0pt plus1fil\penalty50\hskip0pt plus-1fil\relax}"
)

_PDF_WORDS = {r"\times": "x", r"\to": "->", r"\mathsf{T}": "T", r"\cdot": "*", "~": " "}


def pdf_string(latex: str) -> str:
    r"""Plain text for a PDF string (hyperref's metadata) from a LaTeX title.

    >>> pdf_string(r"ConvTranspose2d: \mbox{${3 \times 3}$ input} $\to$ \mbox{$6$ output}")
    'ConvTranspose2d: 3 x 3 input -> 6 output'
    """
    text = latex
    for command, plain in _PDF_WORDS.items():
        text = text.replace(command, f" {plain} ")
    text = re.sub(r"\\[A-Za-z]+\*?", " ", text)
    text = re.sub(r"[{}$^_\\]", "", text)
    return re.sub(r"\s+", " ", text).replace("( ", "(").replace(" )", ")").strip()


def frame(title: str, body: str) -> str:
    r"""One beamer frame; ``title`` is LaTeX (escape plain text first).

    Parameters
    ----------
    title : str
        The frame title, in LaTeX.
    body : str
        The frame's contents; surrounding blank space is stripped.

    Returns
    -------
    str
        ``\begin{frame}{title}`` … ``\end{frame}``.

    Raises
    ------
    AttributeError
        Only Python's own, when ``body`` is not a string: nothing is
        validated here.

    Examples
    --------
    >>> print(frame("Title", "  body \n"))
    \begin{frame}{Title}
    body
    \end{frame}
    """
    return f"\\begin{{frame}}{{{title}}}\n{body.strip()}\n\\end{{frame}}"


def compile_pdf(tex: str, workdir: str | os.PathLike[str], *, name: str = "document") -> Path:
    """Compile ``tex`` with pdflatex in ``workdir``; return the PDF's path.

    Runs ``pdflatex -interaction=nonstopmode -halt-on-error -no-shell-escape``
    once (nothing here needs cross-references). The log stays next to the
    PDF as ``NAME.log``.

    Parameters
    ----------
    tex : str
        The whole document, e.g. from :func:`document`.
    workdir : str or os.PathLike
        Directory for ``NAME.tex``, the PDF and the log; created if missing.
    name : str
        The files' stem.

    Returns
    -------
    pathlib.Path
        ``workdir / f"{name}.pdf"``.

    Raises
    ------
    LatexError
        pdflatex is missing, times out, or fails; the message ends with the
        last lines of its log, where the error is.
    OSError
        Python's own, when ``workdir`` or the ``.tex`` file cannot be written.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as workdir:
    ...     pdf = compile_pdf(document("Hello."), workdir, name="hello")
    ...     print(pdf.name, pdf.stat().st_size > 0)
    hello.pdf True
    """
    directory = Path(workdir)
    directory.mkdir(parents=True, exist_ok=True)
    source = directory / f"{name}.tex"
    source.write_text(tex, encoding="utf-8")
    command = [
        "pdflatex",
        "-interaction=nonstopmode",
        "-halt-on-error",
        "-no-shell-escape",
        source.name,
    ]
    try:
        result = subprocess.run(
            command, cwd=directory, capture_output=True, text=True, timeout=120, check=False
        )
    except FileNotFoundError:
        raise LatexError("pdflatex was not found on PATH; install texlive") from None
    except subprocess.TimeoutExpired:
        raise LatexError(f"pdflatex took longer than 120 s on {source}") from None
    pdf = directory / f"{name}.pdf"
    if result.returncode != 0 or not pdf.exists():
        log = directory / f"{name}.log"
        text = log.read_text(errors="replace") if log.exists() else result.stdout
        tail = "\n".join(text.splitlines()[-25:])
        raise LatexError(
            f"pdflatex failed on {source} (exit status {result.returncode}):\n{tail}"
        )
    return pdf
