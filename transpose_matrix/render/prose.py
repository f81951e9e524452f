r"""The project's prose markup, and the geometry of a layer in words.

Derivations, headings and captions are written in a small markup: ``$…$`` is
inline LaTeX maths, ```…``` is code, everything else is plain text. This
module prints it three ways, from the escape and symbol tables of
:mod:`~transpose_matrix.render.latex`:

* :func:`prose_latex`: text through the one escape table
  (:func:`~transpose_matrix.render.latex.escape_text`), maths copied as it
  is, code through :func:`~transpose_matrix.render.latex.code_latex`;
* :func:`prose_text`: maths turned into Unicode by :func:`math_text`, which
  reads the LaTeX commands of the one symbol table
  (:data:`~transpose_matrix.render.latex.MATH_SYMBOLS`) back into their
  symbols and refuses any command it does not know;
* :func:`prose_html`: maths for MathJax, code in ``<code>``.

:func:`heading` and :func:`title` print the sentence
:func:`~transpose_matrix.narrative.markup.describe_spec` writes in this
markup (``$5 \times 5$ input, $3 \times 3$ kernel, stride 2``): every
heading and title the project prints is that sentence, in LaTeX or in text.
The grammar of the markup is :mod:`transpose_matrix.narrative.markup`'s.
"""

from __future__ import annotations

import html
import re
import unicodedata
from typing import Any

from ..errors import ConvSpecError
from ..narrative.markup import check_markup, describe_spec, dims_latex, markup_pieces
from .latex import MATH_SYMBOLS, code_latex, escape_text
from .measure import latex_tokens
from .text import subscript

__all__ = [
    "check_markup",
    "describe_spec",
    "heading",
    "math_text",
    "prose_html",
    "prose_latex",
    "prose_text",
    "title",
]

_SUPERSCRIPTS = dict(zip("0123456789+-=()in", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁱⁿ", strict=True))
# Unicode's names of the Greek letters that TeX spells otherwise.
_GREEK_NAMES = {"lambda": "lamda", "varsigma": "final sigma"}


def _greek(name: str) -> str | None:
    """The Greek letter ``\\name`` stands for (``\\Pi`` is a capital), or None."""
    word = _GREEK_NAMES.get(name.lower(), name.lower()).upper()
    case = "CAPITAL" if name[:1].isupper() else "SMALL"
    try:
        return unicodedata.lookup(f"GREEK {case} LETTER {word}")
    except KeyError:
        return None


# --------------------------------------------------------------------------- inline maths

# Inline-maths commands as Unicode text: every command of the one symbol table
# (render.latex.MATH_SYMBOLS) as its symbol, other spellings of them, words,
# and spaces (``\x01`` is a space that survives). Greek letters come from
# Unicode's names. An unknown command is refused, so a new one fails here with
# its name rather than printing a backslash on the terminal.
_COMMANDS = {
    **{command[1:]: symbol for symbol, command in reversed(MATH_SYMBOLS.items())},
    "leq": "≤",
    "geq": "≥",
    "neq": "≠",
    "iff": "⇔",
    "sum": "Σ",
    "dots": "…",
    "ldots": "…",
    "min": "min",
    "max": "max",
    "bmod": "\x01mod\x01",
    "quad": "\x01\x01",
    "qquad": "\x01\x01\x01",
}
_SPACES = {
    ",": "\x01",
    ";": "\x01",
    ":": "\x01",
    "!": "",
    " ": "\x01",
    "{": "{",
    "}": "}",
}
# Commands that only style their argument, or size the next delimiter.
_STYLES = {"mathrm", "mathit", "mathbf", "mathsf", "text", "operatorname", "mathcal"}
_SIZES = {"left", "right", "bigl", "bigr", "Bigl", "Bigr", "big", "Big"}

_SPACE = "\x00"


def _parse(source: str) -> list[Any]:
    """Tokens of inline maths, ``{…}`` groups as nested lists."""
    stack: list[list[Any]] = [[]]
    for command, special, space, char in latex_tokens(source):
        if special == "{":
            stack.append([])
        elif special == "}":
            if len(stack) == 1:
                raise ConvSpecError(f"maths {source!r} has an unmatched '}}'")
            group = stack.pop()
            stack[-1].append(group)
        elif command:
            stack[-1].append("\\" + command)
        elif special:
            stack[-1].append(special)
        elif space:
            # Spaces in maths separate tokens only; which survive is decided later.
            stack[-1].append(_SPACE)
        else:
            stack[-1].append(char)
    if len(stack) != 1:
        raise ConvSpecError(f"maths {source!r} has an unmatched '{{'")
    return stack[0]


def _script(content: str, mark: str) -> str:
    """Unicode sub- or superscript of a number, or a plain fallback (``k_eff``, ``w[o,c,t]``)."""
    if mark == "_":
        if re.fullmatch(r"\d+(,\d+)*", content):
            return subscript([int(part) for part in content.split(",")])
        return f"_{content}" if content.isalnum() else f"[{content}]"
    if content == "T":
        return "ᵀ"
    if content and all(char in _SUPERSCRIPTS for char in content):
        return "".join(_SUPERSCRIPTS[char] for char in content)
    return f"^{content}" if len(content) == 1 else f"^({content})"


def _convert(tokens: list[Any]) -> str:
    out: list[str] = []
    items = iter(tokens)

    def argument() -> str:
        token = next(items, "")
        while token == _SPACE:
            token = next(items, "")
        return _convert(token) if isinstance(token, list) else _convert([token])

    for token in items:
        if isinstance(token, list):
            out.append(_convert(token))
        elif token in ("^", "_"):
            out.append(_script(argument(), token))
        elif token.startswith("\\"):
            name = token[1:]
            if name in _SPACES:
                out.append(_SPACES[name])
            elif name in _STYLES:
                out.append(argument())
            elif name in _SIZES:
                delimiter = argument()
                out.append("" if delimiter == "." else delimiter)
            elif name == "frac":
                top, bottom = argument(), argument()
                wrap = [
                    f"({part})" if re.search(r"[ +\-−]", part) else part for part in (top, bottom)
                ]
                out.append(f"{wrap[0]}/{wrap[1]}")
            elif name == "hat":
                out.append(argument() + "\u0302")
            elif name == "sqrt":
                out.append("√" + argument())
            elif name in _COMMANDS:
                out.append(_COMMANDS[name])
            elif (letter := _greek(name)) is not None:
                out.append(letter)
            else:
                raise ConvSpecError(f"maths command \\{name} has no text form; add it to _COMMANDS")
        else:
            out.append(token)
    return "".join(out)


def math_text(source: str) -> str:
    r"""Inline LaTeX maths as Unicode text for the terminal.

    Examples
    --------
    >>> math_text(r"C^{\mathsf T} = D \cdot P \cdot Z")
    'Cᵀ = D · P · Z'
    >>> math_text(r"\left\lfloor \frac{n - k}{s} \right\rfloor + 1, k_{\mathrm{eff}}, x_{0,1}")
    '⌊(n - k)/s⌋ + 1, k_eff, x₀₁'
    """
    text = _convert(_parse(source))
    # Adjacent atoms multiply ("2 r" is 2r); spaces around operators stay.
    text = re.sub(f"(?<=[\\w)∂]){_SPACE}+(?=[\\w(⌊⌈])", "", text)
    text = re.sub(f"{_SPACE}+(?=[)⌋⌉⟩])|(?<=[(⌊⌈⟨]){_SPACE}+", "", text)
    # Explicit spaces (\\, \\quad, \\bmod) survive; a run of spaces is one.
    return re.sub(f"[ {_SPACE}\x01]+", " ", text).strip()


# --------------------------------------------------------------------------- prose

def prose_latex(markup: str) -> str:
    r"""Prose markup as LaTeX text: maths in ``$…$``, code in straight-quoted typewriter.

    Examples
    --------
    >>> print(prose_latex(r"With $k_{\mathrm{eff}}$ taps, `'same'` is 50% off."))
    With $k_{\mathrm{eff}}$ taps, \texttt{\textquotesingle{}same\textquotesingle{}} is 50\% off.
    """
    out = []
    for kind, content in markup_pieces(markup):
        if kind == "math":
            out.append(f"${content}$")
        elif kind == "code":
            out.append(code_latex(content))
        else:
            out.append(escape_text(content))
    return "".join(out)


def prose_text(markup: str) -> str:
    r"""Prose markup as Unicode text: maths converted, code as it is.

    Examples
    --------
    >>> prose_text(r"$C^{\mathsf T}$ is `conv_transpose2d` for $s \ge 1$.")
    'Cᵀ is conv_transpose2d for s ≥ 1.'
    """
    out = []
    for kind, content in markup_pieces(markup):
        out.append(math_text(content) if kind == "math" else content)
    return "".join(out)


def prose_html(markup: str) -> str:
    r"""Prose markup as HTML: maths as ``\(…\)`` for MathJax, code in ``<code>``.

    Examples
    --------
    >>> prose_html("`f(x)` is $x < 1$ & small")
    '<code>f(x)</code> is \\(x &lt; 1\\) &amp; small'
    """
    out = []
    for kind, content in markup_pieces(markup):
        if kind == "math":
            out.append(rf"\({html.escape(content)}\)")
        elif kind == "code":
            out.append(f"<code>{html.escape(content)}</code>")
        else:
            out.append(html.escape(content))
    return "".join(out)


# --------------------------------------------------------------------------- a layer in words


def heading(spec: Any, transposed: bool = False, *, latex: bool = False) -> str:
    """``5 × 5 input, 3 × 3 kernel, stride 2, padding 1``: the geometry in words.

    The sentence is :func:`~transpose_matrix.render.prose.describe_spec`
    (defaults left out; with ``transposed``, the transposed layer: its input
    is the forward output, ``output_padding`` named when not 0), printed as
    Unicode text or, with ``latex``, as LaTeX with every number in maths.

    Examples
    --------
    >>> from transpose_matrix.geometry.spec import ConvSpec
    >>> heading(ConvSpec((5, 5), 3, stride=2, padding=1))
    '5 × 5 input, 3 × 3 kernel, stride 2, padding 1'
    >>> print(heading(ConvSpec((5, 6), 3, stride=(1, 2), in_channels=2, out_channels=4),
    ...               latex=True))
    ${5 \\times 6}$ input, ${3 \\times 3}$ kernel, stride ${1 \\times 2}$, 2 to 4 channels
    """
    markup = describe_spec(spec, transposed)
    return prose_latex(markup) if latex else prose_text(markup)


def title(spec: Any, transposed: bool = False, *, latex: bool = False) -> str:
    r"""Title: ``ConvTranspose2d: 3 × 3 input → 6 × 6 output`` or the forward heading.

    Unicode text, or LaTeX with the numbers in maths (``latex``), where a
    long title breaks only between its phrases, never inside "2 channels".

    Examples
    --------
    >>> from transpose_matrix.geometry.spec import ConvSpec
    >>> title(ConvSpec.from_transposed((3, 3), 1, 1, 3, stride=2, padding=1, output_padding=1),
    ...       transposed=True)
    'ConvTranspose2d: 3 × 3 input → 6 × 6 output'
    >>> title(ConvSpec((5, 5), 3, stride=2, padding=1))
    'Conv2d: 5 × 5 input, 3 × 3 kernel, stride 2, padding 1'
    >>> print(title(ConvSpec.from_transposed(4, 1, 1, 3, stride=3), transposed=True, latex=True))
    ConvTranspose1d: \mbox{input of length 4} $\to$ \mbox{output of length 12}
    """
    if transposed:
        if spec.ndim == 1:
            ends = [f"input of length {spec.output_shape[0]}",
                    f"output of length {spec.input_shape[0]}"]
        else:
            ends = [f"${{{dims_latex(spec.output_shape)}}}$ input",
                    f"${{{dims_latex(spec.input_shape)}}}$ output"]
        phrases, joiner = ends, " $\\to$ "
    else:
        phrases, joiner = describe_spec(spec).split(", "), ", "
    name = f"Conv{'Transpose' if transposed else ''}{spec.ndim}d: "
    if not latex:
        return name + prose_text(joiner.join(phrases))
    return name + prose_latex(joiner).join(f"\\mbox{{{prose_latex(part)}}}" for part in phrases)
