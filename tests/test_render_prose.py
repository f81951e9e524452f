"""The prose markup: one symbol table read both ways, a layer in words, three printers."""

from __future__ import annotations

import pytest

from transpose_matrix.errors import ConvSpecError, ConvSpecTypeError
from transpose_matrix.geometry.spec import ConvSpec
from transpose_matrix.render.documents import document
from transpose_matrix.render.latex import MATH_SYMBOLS, escape_text
from transpose_matrix.render.prose import (
    check_markup,
    describe_spec,
    math_text,
    prose_html,
    prose_latex,
    prose_text,
)


def test_one_symbol_table_read_both_ways():
    # Text -> LaTeX sets each symbol as its command in maths; LaTeX -> text
    # reads the command back as the first symbol listed for it.
    first = {}
    for symbol, command in MATH_SYMBOLS.items():
        assert escape_text(symbol) == f"${command}$"
        first.setdefault(command, symbol)
    for command, symbol in first.items():
        assert math_text(command) == symbol
    assert math_text(r"a \cdot b") == "a · b" and escape_text("⋅") == r"$\cdot$"


def test_greek_letters_come_from_unicode_names():
    assert math_text(r"\alpha, \lambda, \Pi, \varsigma, \omega") == "α, λ, Π, ς, ω"
    with pytest.raises(ConvSpecError, match=r"maths command \\alphabet has no text form"):
        math_text(r"\alphabet")


def test_markup_is_checked_in_one_place():
    assert check_markup("a `b` $c$") == "a `b` $c$"
    with pytest.raises(ConvSpecError, match="unmatched '\\$'"):
        prose_latex("costs $5")
    with pytest.raises(ConvSpecError, match="unmatched '`'"):
        prose_text("`f(x)")
    with pytest.raises(ConvSpecTypeError, match="must be a string"):
        prose_html(3)
    # The derivation model's Prose is checked by the same function.
    from transpose_matrix.narrative.derivation import Prose

    with pytest.raises(ConvSpecError, match="unmatched '\\$'"):
        Prose("costs $5")


def test_three_printers_of_one_sentence():
    markup = r"With $s \ge 2$, `padding='same'` & $k_{\mathrm{eff}}$."
    assert prose_text(markup) == "With s ≥ 2, padding='same' & k_eff."
    assert prose_latex(markup) == (
        r"With $s \ge 2$, \texttt{padding=\textquotesingle{}same\textquotesingle{}} \& "
        r"$k_{\mathrm{eff}}$."
    )
    assert prose_html(markup) == (
        r"With \(s \ge 2\), <code>padding=&#x27;same&#x27;</code> &amp; \(k_{\mathrm{eff}}\)."
    )


def test_a_layer_in_words():
    spec = ConvSpec.from_transposed((3, 4), 4, 2, 3, stride=(2, 1), padding=1,
                                    output_padding=(1, 0), groups=2)
    # The transposed layer: its own input, padding and output_padding, channels 4 -> 2.
    assert prose_text(describe_spec(spec, transposed=True)) == (
        "3 × 4 input, 3 × 3 kernel, stride 2 × 1, padding 1, output_padding 1 × 0, "
        "4 to 2 channels in 2 groups"
    )
    # The forward convolution it transposes.
    assert prose_text(describe_spec(spec)) == (
        f"{spec.input_shape[0]} × {spec.input_shape[1]} input, 3 × 3 kernel, stride 2 × 1, "
        "padding 1, 2 to 4 channels in 2 groups"
    )
    reflect = ConvSpec((5, 5), 3, padding=1, padding_mode="reflect")
    assert describe_spec(reflect) == (
        r"${5 \times 5}$ input, ${3 \times 3}$ kernel, padding 1, `padding_mode='reflect'`"
    )
    with pytest.raises(ConvSpecTypeError, match="must be a ConvSpec"):
        describe_spec((5, 5))


def test_document_titles_in_text_or_in_latex():
    assert r"\title{C \& D}" in document("x", title="C & D")
    title = r"Conv2d: $5 \times 5$ input"
    assert f"\\title{{{title}}}" in document("x", latex_title=title)
    with pytest.raises(ConvSpecError, match="title .* or latex_title, not both"):
        document("x", title="a", latex_title="b")
