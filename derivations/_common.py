"""Shared scaffolding of the derivation scripts: text and LaTeX in step, checked claims.

A derivation is written once, as calls on :class:`Derivation`. Each call
prints plain text and appends the same content as LaTeX; matrices go through
the project's one entry point ``transpose_matrix.latex.to_latex``. A claim is
stated with :meth:`Derivation.check`, which raises :class:`ClaimFailed` when
the computed condition is false, so notes that build are notes whose every
claim held on this machine.

Prose is written in Unicode (Cᵀ, D·P·Z, ⌊s/2⌋); :func:`tex_text` turns it into
ASCII LaTeX, so a fragment needs nothing beyond amsmath and amssymb.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

try:
    import transpose_matrix  # noqa: F401
except ImportError:
    # Run from a checkout without installing: the package sits next door.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from transpose_matrix.latex import escape_text, to_latex  # noqa: E402

__all__ = ["ClaimFailed", "Derivation", "tex_text", "text_grid", "max_error"]

# Unicode used in the prose -> LaTeX. Anything else non-ASCII is refused, so
# a new character fails here with its name instead of deep inside pdflatex.
_UNICODE = {
    "ᵀ": r"$^{\mathsf{T}}$",
    "⁺": r"$^{+}$",
    "⁻": r"$^{-}$",
    "¹": r"$^{1}$",
    "²": r"$^{2}$",
    "³": r"$^{3}$",
    "·": r"$\cdot$",
    "×": r"$\times$",
    "−": r"$-$",
    "≤": r"$\le$",
    "≥": r"$\ge$",
    "≠": r"$\ne$",
    "≈": r"$\approx$",
    "≡": r"$\equiv$",
    "ᵈ": r"$^{d}$",
    "⊗": r"$\otimes$",
    "λ": r"$\lambda$",
    "α": r"$\alpha$",
    "Π": r"$\Pi$",
    "⌊": r"$\lfloor$",
    "⌋": r"$\rfloor$",
    "⌈": r"$\lceil$",
    "⌉": r"$\rceil$",
    "→": r"$\to$",
    "⟨": r"$\langle$",
    "⟩": r"$\rangle$",
    "‖": r"$\|$",
    "∈": r"$\in$",
    "—": "---",
    "–": "--",
    "’": "'",
    "✓": r"$\checkmark$",
}


# Section titles also go into the PDF outline, which takes plain text only.
_PLAIN = {"ᵀ": "T", "⁺": "+", "·": ".", "×": "x", "−": "-", "⊗": "(x)", "≠": "!=", "’": "'"}


def _heading(text: str) -> str:
    plain = "".join(_PLAIN.get(char, char) for char in text)
    plain = escape_text("".join(char for char in plain if ord(char) < 128))
    return f"\\texorpdfstring{{{tex_text(text)}}}{{{plain}}}"


class ClaimFailed(AssertionError):
    """A claim of a derivation did not hold when it was computed."""


def tex_text(text: str) -> str:
    """Plain Unicode prose as LaTeX text: specials escaped, symbols in math mode."""
    out = []
    # x̂ is x plus a combining accent; give it one placeholder character first.
    for char in escape_text(text).replace("x\u0302", "\x00"):
        if char == "\x00":
            out.append(r"$\hat{x}$")
        elif char in _UNICODE:
            out.append(_UNICODE[char])
        elif ord(char) > 127:
            raise ValueError(f"character {char!r} (U+{ord(char):04X}) has no LaTeX form here")
        else:
            out.append(char)
    # `code` in prose becomes typewriter text.
    return re.sub(r"`([^`]+)`", r"\\texttt{\1}", "".join(out))


def _entry_text(value: Any) -> str:
    if type(value).__module__.startswith("sympy"):
        return "." if value == 0 else str(value)
    number = complex(value)
    if number == 0:
        return "."
    real = number.real
    if real == int(real) and abs(real) < 1e12:
        return str(int(real))
    return f"{real:.3g}"


def text_grid(matrix: Any, max_rows: int = 16, max_cols: int = 16) -> str:
    """A matrix as aligned text, zeros as dots, large ones elided like to_latex."""
    if hasattr(matrix, "toarray"):
        array = matrix.toarray()
    elif type(matrix).__module__.startswith("sympy"):
        array = np.array(matrix.tolist(), dtype=object)
    else:
        array = np.asarray(matrix)
    if array.ndim == 1:
        array = array[:, None]
    rows = _keep(array.shape[0], max_rows)
    cols = _keep(array.shape[1], max_cols)
    cells = []
    for i in rows:
        if i is None:
            cells.append([":" if j is not None else "" for j in cols])
        else:
            cells.append(["..." if j is None else _entry_text(array[i, j]) for j in cols])
    width = max(len(cell) for row in cells for cell in row)
    return "\n".join("  [ " + " ".join(c.rjust(width) for c in row) + " ]" for row in cells)


def _keep(size: int, limit: int) -> list[int | None]:
    if size <= limit:
        return list(range(size))
    head = (limit + 1) // 2
    return [*range(head), None, *range(size - (limit - head), size)]


def max_error(a: Any, b: Any) -> float:
    """Largest absolute difference of two arrays or sparse matrices."""
    a = a.toarray() if hasattr(a, "toarray") else np.asarray(a)
    b = b.toarray() if hasattr(b, "toarray") else np.asarray(b)
    if a.shape != b.shape:
        raise ClaimFailed(f"shapes differ: {a.shape} vs {b.shape}")
    return float(np.abs(a - b).max(initial=0.0))


class Derivation:
    """Text on stdout and a LaTeX fragment, written side by side.

    Parameters
    ----------
    name : str
        The script's file stem, shown in the notes.
    title : str
        Section title (Unicode prose).
    argv : list of str, optional
        Command line; ``--latex FILE`` writes the fragment there.
    """

    def __init__(self, name: str, title: str, argv: Sequence[str] | None = None) -> None:
        parser = argparse.ArgumentParser(description=title)
        parser.add_argument("--latex", metavar="FILE", help="write the LaTeX fragment here")
        self.args = parser.parse_args(argv)
        self.claims = 0
        script = escape_text(f"derivations/{name}.py")
        self._tex: list[str] = [
            # Without hyperref (a standalone document) section titles need no PDF form.
            r"\providecommand{\texorpdfstring}[2]{#1}",
            f"\\section{{{_heading(title)}}}",
            f"\\label{{sec:{name}}}",
            f"{{\\small Computed and checked by \\texttt{{{script}}}.}}",
            "",
        ]
        self._print(title)
        self._print("=" * len(title))

    @staticmethod
    def _print(text: str = "") -> None:
        print(text)

    def heading(self, text: str) -> None:
        """A subsection."""
        self._print()
        self._print(text)
        self._print("-" * len(text))
        self._tex += [f"\\subsection{{{_heading(text)}}}", ""]

    def say(self, text: str, tex: str | None = None) -> None:
        """A paragraph; ``tex`` replaces the converted text when inline maths is needed."""
        self._print(text)
        self._tex += [tex if tex is not None else tex_text(text), ""]

    def display(self, text: str, tex: str) -> None:
        """A displayed formula: ``text`` on stdout, ``tex`` (math mode) in the notes."""
        self._print(f"    {text}")
        self._tex += ["\\[", tex, "\\]", ""]

    def matrix(
        self,
        label: str,
        tex_label: str,
        matrix: Any,
        *,
        max_rows: int = 16,
        max_cols: int = 16,
        zero: str = r"\cdot",
        note: str = "",
    ) -> None:
        """``label = matrix`` on stdout and as a display in the notes."""
        shape = tuple(matrix.shape)
        self._print(f"{label}  ({shape[0]} x {shape[1]}){'  ' + note if note else ''}")
        self._print(text_grid(matrix, max_rows, max_cols))
        body = to_latex(matrix, max_rows=max_rows, max_cols=max_cols, zero=zero)
        caption = f"\\quad\\text{{\\small ({shape[0]}$\\times${shape[1]})}}"
        self._tex += ["\\[", f"{tex_label} = {body}{caption}", "\\]", ""]

    def matrices(
        self,
        items: Sequence[tuple[str, str, Any]],
        *,
        zero: str = r"\cdot",
        max_rows: int = 16,
        max_cols: int = 16,
    ) -> None:
        """Several matrices side by side in one display (text: one after another)."""
        parts = []
        for label, tex_label, matrix in items:
            self._print(f"{label}  ({matrix.shape[0]} x {matrix.shape[1]})")
            self._print(text_grid(matrix, max_rows, max_cols))
            body = to_latex(matrix, max_rows=max_rows, max_cols=max_cols, zero=zero)
            parts.append(f"{tex_label} = {body}")
        self._tex += ["\\[", ",\\qquad ".join(parts), "\\]", ""]

    def table(self, header: Sequence[str], rows: Sequence[Sequence[Any]], caption: str) -> None:
        """A small table; cells are Unicode text."""
        cells = [[str(c) for c in header]] + [[str(c) for c in row] for row in rows]
        widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
        self._print(caption)
        for index, row in enumerate(cells):
            self._print("  " + "  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))
            if index == 0:
                self._print("  " + "  ".join("-" * w for w in widths))
        spec = "c" * len(header)
        lines = [
            "\\begin{center}",
            f"{{\\small {tex_text(caption)}}}\\\\[2pt]",
            "{\\small",
            f"\\begin{{tabular}}{{{spec}}}",
            "\\hline",
            " & ".join(tex_text(c) for c in cells[0]) + " \\\\",
            "\\hline",
        ]
        lines += [" & ".join(tex_text(c) for c in row) + " \\\\" for row in cells[1:]]
        lines += ["\\hline", "\\end{tabular}}", "\\end{center}", ""]
        self._tex += lines

    def check(self, ok: Any, claim: str, detail: str = "", tex: str | None = None) -> None:
        """State ``claim``; raise :class:`ClaimFailed` unless ``ok`` is true.

        ``detail`` (e.g. the largest error) is printed and typeset after the claim.
        """
        if not bool(ok):
            raise ClaimFailed(f"claim failed: {claim}" + (f" ({detail})" if detail else ""))
        self.claims += 1
        suffix = f" [{detail}]" if detail else ""
        self._print(f"  ✓ {claim}{suffix}")
        body = tex if tex is not None else tex_text(claim)
        extra = f" {{\\footnotesize({tex_text(detail)})}}" if detail else ""
        self._tex += [f"\\par\\noindent$\\checkmark$\\ \\textit{{{body}}}{extra}\\par", ""]

    def close(self) -> int:
        """Write the fragment if asked; return the exit status 0."""
        self._print()
        self._print(f"{self.claims} claims checked.")
        self._tex.append(
            f"\\par\\noindent{{\\small\\textit{{{self.claims} claims checked when this "
            "section was built.}}\\par"
        )
        if self.args.latex:
            Path(self.args.latex).write_text("\n".join(self._tex) + "\n", encoding="utf-8")
            self._print(f"LaTeX written to {self.args.latex}")
        return 0


def run(main: Any) -> None:
    """``sys.exit(main())`` with a one-line message for a failed claim."""
    try:
        status = main()
    except ClaimFailed as error:
        print(f"error: {error}", file=sys.stderr)
        status = 1
    sys.exit(status)
