r"""How wide a piece of math will be once typeset, estimated without running TeX.

Layout decisions (elide a matrix, split it into column blocks, shrink a
figure) are taken by typeset width, not by counting characters: a column of
``w_{0,0,1,2}`` needs three times the room of a column of zeros. The
estimate reads the LaTeX the printers emit (letters, digits, sub- and
superscripts, ``\frac``, spacing commands, binary operators) with the glyph
widths of Computer Modern / Latin Modern at 10 pt, and errs on the wide
side, so that a layout that fits by the estimate fits on paper; the panel
test checks that against pdflatex's own ``Overfull \hbox`` report.

All widths are in TeX points (1/72.27 in) at a 10 pt body size.
"""

from __future__ import annotations

import re

__all__ = ["ARRAY_GAP", "BRACKETS", "latex_tokens", "math_width", "text_width"]

#: Space between two columns of an ``array`` (twice ``\arraycolsep``).
ARRAY_GAP = 10.0
#: Both brackets of a bracketed matrix (extensible ``[ ]`` plus null delimiter space).
BRACKETS = 12.0

# Glyph widths of cmmi10 (math italic), cmr10 (digits, upright symbols).
_ITALIC = dict(
    zip(
        "abcdefghijklmnopqrstuvwxyz",
        [5.29, 4.29, 4.33, 5.2, 4.66, 4.9, 4.77, 5.76, 3.45, 4.12, 5.21, 2.98, 8.78,
         6.0, 4.85, 5.03, 4.46, 4.51, 4.69, 3.61, 5.72, 4.85, 7.16, 5.72, 4.9, 4.65],
        strict=True,
    )
)
_ITALIC_UPPER = 8.1  # widest capitals (M, W) are ~9.7, most are 7-8
_UPRIGHT = 5.6  # \mathrm / \text letters, generous
_UPRIGHT_UPPER = 7.6
_ORD = {".": 2.78, "/": 5.0, "(": 3.89, ")": 3.89, "[": 2.78, "]": 2.78, "|": 2.78,
        "'": 2.75, "!": 2.78, "?": 4.72}
_BINARY = {"+": 7.78, "-": 7.78, "*": 5.0}
_RELATION = {"=": 7.78, "<": 7.78, ">": 7.78, ":": 2.78}
_COMMANDS = {
    "cdot": ("bin", 2.78),
    "times": ("bin", 7.78),
    "pm": ("bin", 7.78),
    "cdots": ("ord", 13.39),
    "ldots": ("ord", 13.39),
    "dots": ("ord", 13.39),
    "ddots": ("ord", 13.39),
    "vdots": ("ord", 2.78),
    "infty": ("ord", 10.0),
    "partial": ("ord", 5.69),
    "to": ("rel", 10.0),
    "mapsto": ("rel", 10.0),
    "leftarrow": ("rel", 10.0),
    "rightarrow": ("rel", 10.0),
    "in": ("rel", 6.67),
    "le": ("rel", 7.78),
    "ge": ("rel", 7.78),
    "leq": ("rel", 7.78),
    "geq": ("rel", 7.78),
    "ne": ("rel", 7.78),
    "neq": ("rel", 7.78),
    "approx": ("rel", 7.78),
    "colon": ("ord", 5.56),
    "quad": ("space", 10.0),
    "qquad": ("space", 20.0),
    ",": ("space", 1.67),
    ";": ("space", 2.78),
    ":": ("space", 2.22),
    " ": ("space", 3.33),
    "!": ("space", -1.67),
    "lfloor": ("ord", 4.44),
    "rfloor": ("ord", 4.44),
    "lceil": ("ord", 4.44),
    "rceil": ("ord", 4.44),
    "langle": ("ord", 3.89),
    "rangle": ("ord", 3.89),
    "sum": ("op", 10.56),
    "prod": ("op", 9.44),
    "mathbb": ("ord", 7.5),  # one capital, the only use here
}
# Spacing around classes of atom at text style (thin 1.67, medium 2.22, thick 2.78).
_BIN_SPACE = 2 * 2.22
_REL_SPACE = 2 * 2.78
# Script and scriptscript glyphs are 7 and 5 pt, but their fonts are drawn
# wider than a scaled 10 pt font; these factors are on the safe side.
_SCRIPT = 0.78
_SCRIPTSCRIPT = 0.62
# TeX's \scriptspace, added after every sub- and superscript.
_SCRIPT_SPACE = 0.5
# Everything is widened by this much, so that estimates err on the wide side.
_SAFETY = 1.06

_TOKEN = re.compile(r"\\([A-Za-z]+|.)|([{}_^&])|(\s+)|(.)", re.S)


def latex_tokens(tex: str) -> list[tuple[str, str, str, str]]:
    r"""The tokens of a LaTeX string: the one tokenizer of the printers.

    Each token is ``(command, special, space, char)`` with exactly one part
    non-empty: a control word or symbol without its backslash, one of
    ``{ } _ ^ &``, a run of whitespace, or any other character.

    >>> latex_tokens(r"w_{1} \cdot x")[:3]
    [('', '', '', 'w'), ('', '_', '', ''), ('', '{', '', '')]
    >>> latex_tokens(r"\cdot")
    [('cdot', '', '', '')]
    """
    return [match.groups("") for match in _TOKEN.finditer(tex)]  # type: ignore[misc]


# Groups whose content is text-like (upright letters, same size).
_UPRIGHT_GROUPS = {"mathrm", "text", "textrm", "operatorname", "mathsf", "texttt", "mathtt",
                   "textit", "mathit", "boldsymbol", "mathbf", "textbf"}
# Commands that take one argument and are as wide as it.
_TRANSPARENT = {"mathbf", "boldsymbol", "displaystyle", "textstyle", "bm", "hat", "tilde",
                "bar", "vec", "underline", "overline", "mathnormal", "mathcal", "mathscr"}
# Zero-width commands (and any argument-free ones that do not print).
_INVISIBLE = {"left", "right", "big", "Big", "bigl", "bigr", "Bigl", "Bigr", "limits",
              "nolimits", "scriptstyle", "scriptscriptstyle", "phantom", "hfill",
              "allowbreak", "nobreak", "label", "nonumber", "notag", "strut", "relax",
              "begingroup", "endgroup"}


class _Reader:
    """A cursor over the tokens of one LaTeX string."""

    def __init__(self, tex: str) -> None:
        self.tokens = latex_tokens(tex)
        self.position = 0

    def next(self) -> tuple[str | None, ...] | None:
        if self.position >= len(self.tokens):
            return None
        token = self.tokens[self.position]
        self.position += 1
        return token

    def group(self) -> str:
        """The source of the next argument: a braced group or a single token."""
        while self.position < len(self.tokens) and self.tokens[self.position][2]:
            self.position += 1
        token = self.next()
        if token is None:
            return ""
        command, special, _space, char = token
        if special != "{":
            return f"\\{command}" if command else (special or char or "")
        depth, pieces = 1, list[str]()
        while True:
            token = self.next()
            if token is None:
                return "".join(pieces)
            command, special, space, char = token
            if special == "{":
                depth += 1
            elif special == "}":
                depth -= 1
                if depth == 0:
                    return "".join(pieces)
            if command:
                pieces.append(f"\\{command}" + (" " if command.isalpha() else ""))
            else:
                pieces.append(special or space or char or "")


def _width(tex: str, scale: float, upright: bool = False) -> float:
    reader = _Reader(tex)
    total = 0.0
    previous = "start"  # class of the previous atom: start, ord, bin, rel, op, open
    while True:
        token = reader.next()
        if token is None:
            break
        command, special, space, char = token
        kind, width = "ord", 0.0
        if space:
            if upright:
                width = 3.33
            else:
                continue
        elif special in ("_", "^"):
            inner = _SCRIPT if scale >= 1 else _SCRIPTSCRIPT / _SCRIPT
            total += _width(reader.group(), scale * inner) + _SCRIPT_SPACE
            continue
        elif special == "{":
            reader.position -= 1
            width = _width(reader.group(), scale, upright)
        elif special in ("}", "&"):
            continue
        elif command:
            kind, width = _command(command, reader, scale, upright)
            if kind == "skip":
                continue
        elif char:
            if char.isdigit():
                width = 5.0 * scale
            elif char.isalpha():
                if upright:
                    width = (_UPRIGHT_UPPER if char.isupper() else _UPRIGHT) * scale
                else:
                    width = _ITALIC.get(char, _ITALIC_UPPER) * scale
            elif char == ",":
                width = (2.78 + 1.67) * scale
            elif char in _BINARY:
                kind, width = "bin", _BINARY[char] * scale
            elif char in _RELATION:
                kind, width = "rel", _RELATION[char] * scale
            else:
                width = _ORD.get(char, 5.0) * scale
        if kind == "bin" and previous in ("start", "bin", "rel", "open"):
            kind = "ord"  # unary minus, or a lone \cdot in a cell
        if kind == "bin" and scale >= 1:
            width += _BIN_SPACE
        elif kind == "rel" and scale >= 1:
            width += _REL_SPACE
        total += width
        previous = kind
    return total


def _command(name: str, reader: _Reader, scale: float, upright: bool) -> tuple[str, float]:
    if name in _INVISIBLE:
        if name in ("phantom", "label"):
            reader.group()
        return "skip", 0.0
    if name in ("begin", "end"):
        reader.group()
        return "skip", 0.0
    if name == "frac" or name in ("dfrac", "tfrac"):
        top, bottom = reader.group(), reader.group()
        inner = scale * (_SCRIPT if name != "dfrac" else 1.0)
        return "ord", max(_width(top, inner), _width(bottom, inner)) + 2.4 * scale
    if name in _UPRIGHT_GROUPS:
        return "ord", _width(reader.group(), scale, upright=True)
    if name in _TRANSPARENT:
        return "ord", _width(reader.group(), scale, upright)
    if name in ("hspace", "hskip", "kern"):
        return "skip", 0.0
    if name == "mathbb":
        return "ord", 7.5 * scale * max(1, len(reader.group().strip()))
    if name in _COMMANDS:
        kind, width = _COMMANDS[name]
        if kind == "space":
            return "skip" if width == 0 else "ord", width * scale
        return kind, width * scale
    if name in ("textbackslash", "textunderscore", "_", "&", "%", "$", "#", "{", "}"):
        return "ord", 5.0 * scale
    # Greek and other single symbols, unknown macros: one wide glyph.
    return "ord", (6.0 if upright else 7.0) * scale


def math_width(tex: str) -> float:
    r"""Estimated width in pt of math-mode ``tex`` in text style at 10 pt.

    Generous by design: pdflatex typesets the result at most this wide for
    the material the printers emit (checked in the panel test).

    Examples
    --------
    >>> round(math_width("w_{0,0}"), 1) > round(math_width("0"), 1)
    True
    >>> math_width(r"\cdots") > math_width(r"\vdots")
    True
    """
    return _width(tex, 1.0) * _SAFETY


def text_width(text: str, monospace: bool = False) -> float:
    """Estimated width in pt of plain text at 10 pt (``monospace``: ``\\ttfamily``)."""
    if monospace:
        return 5.25 * len(text) * _SAFETY
    return _width(text, 1.0, upright=True) * _SAFETY
