"""The derivation model and the output-size derivation: checks, rendering, what is shown.

Referees: sympy (the displayed expressions against the library's, and
against the textbook formulas), pdflatex (every LaTeX body compiles, no line
runs into the margin), and Chromium for the notebook HTML.
"""

from __future__ import annotations

import html.parser
import importlib.util
import re
import shutil

import pytest
import sympy
from conftest import require

import transpose_matrix.narrative.derivation as model
from transpose_matrix import ConvSpec, ConvSpecError, ConvSpecTypeError
from transpose_matrix.geometry.shapes import conv_output_size, transposed_conv_output_size
from transpose_matrix.narrative.derivation import (
    Check,
    Derivation,
    Display,
    Equation,
    Grid,
    Matrices,
    Prose,
    Step,
    Table,
    computed_check,
    describe_spec,
    exhaustive_check,
    output_size_derivation,
    sympy_check,
)
from transpose_matrix.render import compile_pdf
from transpose_matrix.render.derivation import (
    check_latex,
    equation_latex,
    equation_text,
    math_text,
    prose_latex,
    prose_text,
)

n, k, s, d, o = sympy.symbols("n k s d o", integer=True, positive=True)
p, a = sympy.symbols("p a", integer=True, nonnegative=True)
SMALL = Grid(n=5, k=3, s=2, p=1, d=2)


def _failures(derivation: Derivation) -> str:
    return "\n".join(f"{title}: {check.text()}" for title, check in derivation.failures())


def _article(body: str) -> str:
    # A bare 10 pt article on purpose: a fragment must need nothing more.
    return (
        "\\documentclass{article}\n\\usepackage[T1]{fontenc}\n\\usepackage{lmodern}\n"
        "\\usepackage{amsmath}\n\\usepackage{amssymb}\n\\begin{document}\n"
        f"{body}\n\\end{{document}}\n"
    )


def _overfull(log: str) -> list[float]:
    return [float(x) for x in re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide", log)]


@pytest.fixture(scope="module")
def general() -> Derivation:
    return output_size_derivation()


# ----------------------------------------------------------------- the output-size derivation


def test_every_check_of_the_general_derivation_passes(general):
    assert general.checks, "the derivation must check something"
    assert general.all_checks_passed, _failures(general)
    # Every step carries at least one check: nothing is only printed.
    assert all(step.checks for step in general.steps)


def test_checks_state_claim_and_method_never_lhs_equals_rhs(general):
    methods = [check.method for check in general.checks]
    assert "verified symbolically" in methods
    exhaustive = [m for m in methods if m.startswith("verified exhaustively over ")]
    assert any(m.startswith(f"verified exhaustively over {Grid().describe()}") for m in exhaustive)
    assert all(re.search(r"\([\d,]+ cases\)$", m) for m in exhaustive)
    for check in general.checks:
        words = check.claim + check.method + check.detail
        assert "lhs" not in words and "simplify(" not in words and "==" not in words
    # Symbolic claims name the domain from the symbols' assumptions.
    conv = general.steps[1].checks[0]
    assert conv.claim == (
        "`conv_output_size(n, k, s, p, d)` is the first expression for all integers "
        "$d$, $k$, $n$, $s \\ge 1$ and $p \\ge 0$"
    )


def test_the_derivation_covers_the_asked_for_steps(general):
    titles = [step.title for step in general.steps]
    assert titles[:6] == [
        "Span of a dilated kernel",
        "Output size of a convolution: count the kernel placements",
        "Output size of a transposed convolution",
        "The inverse problem: every input size with the same output size",
        "`output_padding` selects one size of the interval",
        "Why `output_padding` lies in $[0, \\max(s, d))$",
    ]
    cases = [
        "no zero padding, unit stride",
        "zero padding, unit stride",
        "half padding",
        "full padding",
        "no zero padding, strided",
        "zero padding, strided",
        "dilated",
    ]
    for case in cases:
        found = [step for step in general.steps if step.title.startswith(f"Special case: {case}")]
        assert len(found) == 1, case
        assert len(found[0].equations) == 2 and len(found[0].checks) == 3


def test_displayed_formulas_are_the_librarys(general):
    # The right-hand side on the page, evaluated, is what the library computes.
    span, conv, transposed = (general.steps[i].equations[0].sides[1] for i in range(3))
    assert sympy.simplify(span.doit() - (d * (k - 1) + 1)) == 0
    assert sympy.simplify(conv.doit() - conv_output_size(n, k, s, p, d)) == 0
    assert sympy.simplify(transposed.doit() - transposed_conv_output_size(o, k, s, p, a, d)) == 0


def test_special_cases_are_the_literature_formulas(general):
    # Dumoulin and Visin's table, typed here from the paper as the referee.
    expected = {
        "full padding": (n + k - 1, o - k + 1),
        "no zero padding, unit stride": (n - k + 1, o + k - 1),
        "no zero padding, strided": (sympy.floor((n - k) / s) + 1, s * (o - 1) + k),
    }
    for case, (conv, transposed) in expected.items():
        step = next(x for x in general.steps if x.title.startswith(f"Special case: {case}"))
        shown = [equation.sides[1].doit() for equation in step.equations]
        assert sympy.simplify(shown[0] - conv) == 0 and sympy.simplify(shown[1] - transposed) == 0


def test_exhaustive_checks_evaluate_the_displayed_formula(monkeypatch):
    # Display a wrong formula: the checks that use it must fail, symbolic and exhaustive.
    wrong = sympy.floor((n + model._pb + model._pa - d * (k - 1)) / s) + 1
    monkeypatch.setattr(model, "_CONV_PAIR", wrong)
    derivation = output_size_derivation(grid=SMALL)
    failed = [check for _, check in derivation.failures()]
    assert any(c.method == "verified symbolically" and "(p_b, p_a)" in c.claim for c in failed)
    assert any(c.method.startswith("checked over") and "placements" in c.claim for c in failed)
    assert all(c.detail for c in failed)


@pytest.mark.parametrize(
    "spec",
    [
        ConvSpec((7, 5), 3, stride=2, padding=1),
        ConvSpec(9, 3, stride=2, padding=[(1, 0)], dilation=2),
        ConvSpec.from_transposed((3,), 1, 1, 3, stride=2, output_padding=2, dilation=3),
        ConvSpec((4, 4, 6), (2, 1, 3), stride=(1, 3, 2)),
    ],
    ids=["2d-strided", "asymmetric", "op>=stride", "3d"],
)
def test_spec_numbers_are_filled_in_and_checked(spec):
    derivation = output_size_derivation(spec, grid=SMALL)
    assert derivation.all_checks_passed, _failures(derivation)
    last = derivation.steps[-1]
    assert last.title == f"The numbers of one convolution: {describe_spec(spec)}"
    sizes = [e.sides[-1] for e in last.equations if e.sides[0] == o]
    # One chain per distinct dimension, ending in that dimension's output size.
    assert sorted(set(map(int, sizes))) == sorted(set(spec.output_shape))
    for equation in last.equations:
        if equation.sides[0] == o:
            assert all(side.doit() == equation.sides[-1] for side in equation.sides[1:])
    if spec.transposed_arguments() is not None:
        m = sympy.Symbol("m", integer=True, positive=True)
        backs = [e.sides[-1] for e in last.equations if e.sides[0] == m and e.relation == "="]
        assert sorted(set(map(int, backs))) == sorted(set(spec.input_shape))


def test_spec_step_text_for_a_strided_layer():
    derivation = output_size_derivation(ConvSpec(5, 3, stride=2, padding=1), grid=SMALL)
    text = equation_text(derivation.steps[-1].equations[0])
    assert text.splitlines() == [
        "    ⎢5 + 1 + 1 - 1⋅(3 - 1) - 1⎥       ⎢4⎥",
        "o = ⎢─────────────────────────⎥ + 1 = ⎢─⎥ + 1 = 3",
        "    ⎣            2            ⎦       ⎣2⎦",
    ]
    assert equation_latex(derivation.steps[-1].equations[0]) == (
        r"o = \left\lfloor{\frac{5 + 1 + 1 - 1 \cdot \left(3 - 1\right) - 1}{2}}\right\rfloor "
        r"+ 1 = \left\lfloor{\frac{4}{2}}\right\rfloor + 1 = 3"
    )
    # The transposed layer's size with its numbers, every product written out.
    assert equation_latex(derivation.steps[-1].equations[-1]) == (
        r"m = \left(3 - 1\right) \cdot 2 - 2 \cdot 1 + 1 \cdot \left(3 - 1\right) + 0 + 1 = 5"
    )


def test_text_rendering_shows_formulas_and_verdicts(general):
    text = general.text()
    assert text.startswith("Output sizes of convolution and transposed convolution\n=====")
    assert "m = (o - 1)⋅s - 2⋅p + d⋅(k - 1) + a + 1" in text
    assert "a ∈ [0, max(d, s))" in text
    assert "✓ effective_kernel_size(k, d) is this for all integers d, k ≥ 1; verified" in text
    assert "FAILED" not in text and "$" not in text and "\\" not in text


def test_latex_compiles_in_a_plain_article_without_overfull_lines(general, pdflatex, tmp_path):
    body = general.latex()
    assert body.startswith("\\section*{Output sizes of convolution and transposed convolution}")
    assert "\\begin{align*}" in body and "texorpdfstring" not in body
    pdf = compile_pdf(_article(body), tmp_path, name="derivation")
    assert _overfull((tmp_path / "derivation.log").read_text()) == []
    assert pdf.stat().st_size > 1000


def test_numbered_latex_has_outline_text_for_maths_headings(general):
    body = general.latex(numbered=True)
    assert body.startswith("\\providecommand{\\texorpdfstring}[2]{#1}\n\\section{Output sizes")
    assert (
        "\\subsection{\\texorpdfstring{Why \\texttt{output\\_padding} lies in $[0, \\max(s, d))$}"
        "{Why output\\_padding lies in [0, max(s, d))}}"
    ) in body


def test_repr_latex_is_display_math_for_jupyter(general):
    shown = general._repr_latex_()
    assert shown.startswith("$$\\begin{gathered}") and shown.endswith("\\end{gathered}$$")
    assert "\\section" not in shown and "\\texttt" not in shown
    assert r"\textbf{6. Why output padding lies in [0, max(s, d))}" in shown
    assert equation_latex(general.steps[1].equations[0]) in shown


class _Outline(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)


def test_repr_html_has_every_step_and_check(general):
    page = general._repr_html_()
    outline = _Outline()
    outline.feed(page)
    assert outline.tags.count("h4") == len(general.steps)
    assert page.count('class="check"') == len(general.checks)
    assert "\\begin{aligned}" in page and "<code>conv_output_size(n, k, s, p, d)</code>" in page


def test_repr_html_lays_out_in_a_browser(tmp_path):
    require("playwright", importlib.util.find_spec("playwright") is not None)
    chromium = shutil.which("chromium")
    require("chromium", chromium is not None)
    import playwright.sync_api as playwright

    d = Derivation("Demo")
    d.step("Table step")
    d.table(("$k$", "value"), [(1, "one"), (2, "two")], "Caption with $x^2$.")
    d.check(True, "It holds.")
    with playwright.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium)
        page = browser.new_page()
        page.set_content(d._repr_html_())
        assert page.locator("h4").inner_text() == "1. Table step"
        assert page.locator("tbody tr").count() == 2
        assert page.locator("caption").inner_text() == "Caption with \\(x^2\\)."
        assert page.locator("p.check").inner_text() == "✓ It holds."
        browser.close()


# ----------------------------------------------------------------- small golden pieces


def test_equation_latex_golden():
    with sympy.evaluate(False):
        rhs = sympy.floor((n + 2 * p - d * (k - 1) - 1) / s) + 1
    equation = Equation(sympy.Symbol("o"), rhs)
    assert equation_latex(equation) == (
        r"o = \left\lfloor{\frac{n + 2 p - d \left(k - 1\right) - 1}{s}}\right\rfloor + 1"
    )
    assert equation_latex(equation, align=True).startswith("o &= \\left\\lfloor")
    # Evaluated expressions print in sympy's order.
    assert equation_latex(Equation(sympy.Symbol("o"), n - k + 1)) == "o = - k + n + 1"
    noted = Equation(a, sympy.Interval.Ropen(0, s), relation="in", note="for $s \\ge 1$")
    assert equation_latex(noted) == r"a \in \left[0, s\right) \qquad \text{for $s \ge 1$}"


def test_transpose_and_derivative_print_as_the_notes_write_them():
    C = sympy.MatrixSymbol("C", 3, 2)
    g = sympy.MatrixSymbol(r"\mathbf{g}", 3, 1)
    x = sympy.MatrixSymbol(r"\mathbf{x}", 2, 1)
    L = sympy.Symbol("L")
    equation = Equation(sympy.Derivative(L, x, evaluate=False), C.T * g)
    assert equation_latex(equation) == (
        r"\frac{\partial L}{\partial \mathbf{x}} = C^{\mathsf{T}} \mathbf{g}"
    )
    assert equation_text(equation) == "∂L/∂x = Cᵀ⋅g"
    entry = Equation(sympy.Derivative(L, sympy.Symbol("x_{0,1}"), evaluate=False), 2)
    assert equation_latex(entry) == r"\partial L / \partial x_{0,1} = 2"
    assert equation_text(entry) == "∂L/∂x₀₁ = 2"


def test_prose_golden():
    assert prose_latex("Set `padding='same'` for $k_{\\mathrm{eff}} \\le 50$% of it & more.") == (
        r"Set \texttt{padding=\textquotesingle{}same\textquotesingle{}} for "
        r"$k_{\mathrm{eff}} \le 50$\% of it \& more."
    )
    # Code goes through the render layer's typewriter: a line may end, ragged,
    # between arguments, never inside (1, 2).
    ragged = r"\argbreak"  # defined once per document (documents.ARGBREAK)
    assert prose_latex("`f(a, (1, 2))`") == rf"\texttt{{f(a,{ragged}\ (1,~2))}}"
    assert prose_text("Set `padding='same'` for $k_{\\mathrm{eff}} \\le 50$.") == (
        "Set padding='same' for k_eff ≤ 50."
    )


def test_check_latex_golden():
    passed = Check("$x = 1$ holds", "verified symbolically", True)
    assert check_latex(passed) == (
        r"\par\noindent$\checkmark$\ $x = 1$ holds; verified symbolically.\par"
    )
    failed = Check("It holds.", "", False, "off by $3$")
    assert check_latex(failed) == r"\par\noindent\textbf{FAILED:}\ It holds (off by $3$).\par"
    assert failed.text() == "✗ FAILED: It holds (off by 3)."


def test_small_derivation_latex_golden():
    d = Derivation("Demo_1 & more", source="derivations/demo.py")
    d.say("An intro with 50%.")
    d.step("Step $k$")
    d.show(Equation(sympy.Symbol("y"), 2))
    d.check(True, "Two is two.")
    assert d.latex() == (
        "\\section*{Demo\\_1 \\& more}\n"
        "{\\small Computed and checked by \\texttt{derivations/demo.py}.}\\par\n"
        "\\begingroup\\emergencystretch=3em\\relax\n"
        "\n"
        "An intro with 50\\%.\n"
        "\n"
        "\\subsection*{1.\\ Step $k$}\n"
        "\\begin{align*}\ny &= 2\n\\end{align*}\n"
        "\n"
        "\\par\\noindent$\\checkmark$\\ Two is two.\\par\n"
        "\n"
        "\\endgroup\n"
    )


def test_math_text_reads_the_notes_maths():
    assert math_text(r"C^{\mathsf T} = D\,P\,Z") == "Cᵀ = D P Z"
    assert math_text(r"\left\lfloor \frac{n - k}{s} \right\rfloor + 1") == "⌊(n - k)/s⌋ + 1"
    assert math_text(r"w_{o,c,t},\ x_{0,12},\ k_{\mathrm{eff}},\ \|x\|^2") == (
        "w[o,c,t], x₀.₁₂, k_eff, ‖x‖²"
    )
    assert math_text(r"2 r + 1,\ a \bmod s,\ \hat{x}^{-1}") == "2r + 1, a mod s, x̂⁻¹"
    with pytest.raises(ConvSpecError, match=r"maths command \\foo has no text form"):
        math_text(r"\foo{x}")
    with pytest.raises(ConvSpecError, match="unmatched"):
        math_text("x_{1")
    with pytest.raises(ConvSpecError, match="unmatched"):
        math_text("x}")


def test_describe_spec_reads_as_words():
    # Shapes are braced maths, so a line never breaks inside "5 × 5".
    assert describe_spec(ConvSpec((5, 5), 3, stride=2, padding=1)) == (
        "${5 \\times 5}$ input, ${3 \\times 3}$ kernel, stride 2, padding 1"
    )
    assert describe_spec(ConvSpec((4, 6), (3, 1), stride=(1, 2), dilation=(1, 2))) == (
        "${4 \\times 6}$ input, ${3 \\times 1}$ kernel, stride ${1 \\times 2}$, "
        "dilation ${1 \\times 2}$"
    )
    assert describe_spec(
        ConvSpec(9, 3, padding=[(2, 1)], in_channels=2, out_channels=4, groups=2)
    ) == (
        "input of length 9, kernel of size 3, padding 2 before and 1 after, 2 to 4 channels in "
        "2 groups"
    )
    with pytest.raises(ConvSpecTypeError, match="must be a ConvSpec"):
        describe_spec((5, 5))


# ----------------------------------------------------------------- the records themselves


def test_a_failed_check_is_recorded_not_raised():
    wrong = sympy_check(n + 1, n)
    assert not wrong.passed and wrong.detail == "the difference is $1$"
    d = Derivation("Has a failure")
    d.step("right").check(sympy_check(2 * n, n + n))
    d.step("wrong").check(wrong)
    assert not d.all_checks_passed
    assert [title for title, _ in d.failures()] == ["wrong"]
    assert (
        "✗ FAILED: The equation holds for all integers n ≥ 1; verified symbolically (the "
        "difference is 1)." in " ".join(d.text().split())
    )
    assert "\\textbf{FAILED:}" in d.latex()


def test_sympy_check_compares_matrices_and_names_the_domain():
    x, y = sympy.symbols("x y", real=True)
    same = sympy_check(sympy.Matrix([x + x, 0]), sympy.Matrix([2 * x, 0]))
    assert same.passed and same.claim == "The equation holds for all real $x$"
    differ = sympy_check(sympy.Matrix([x, 1]), sympy.Matrix([x, 2]))
    assert not differ.passed and differ.detail == "1 entries differ, e.g. by $-1$"
    assert sympy_check(sympy.Integer(2), 2).claim == "The equation holds"
    free = sympy.Symbol("z")
    assert sympy_check(free, free).claim == "The equation holds for all $z$"
    many = sympy.symbols("w_0:7", real=True)
    assert sympy_check(sum(many), sum(many)).claim == (
        "The equation holds for all real values of its 7 symbols ($w$ entries)"
    )
    crash = sympy_check(sympy.Matrix([1, 2]), sympy.Matrix([1, 2, 3]))
    assert not crash.passed and crash.detail.startswith("`ShapeError")


def test_exhaustive_check_reports_the_first_counterexample():
    check = exhaustive_check(range(1, 10), lambda v: v < 5, says="small", over="$v \\le 9$")
    assert not check.passed and check.detail == "`counterexample 5`"
    assert check.method == "checked over $v \\le 9$"
    crash = exhaustive_check(range(3), lambda v: 1 // v > 0, says="c", over="three")
    assert not crash.passed and crash.detail.startswith("`counterexample 0: ZeroDivisionError")
    empty = exhaustive_check([], lambda v: True, says="e", over="nothing")
    assert not empty.passed and empty.detail == "there were no cases to check"
    held = exhaustive_check(range(1234), lambda v: True, says="all", over="$v < 1234$")
    assert held.method == "verified exhaustively over $v < 1234$ (1,234 cases)"


def test_grid_changes_what_is_checked_and_says_so():
    small = output_size_derivation(grid=Grid(n=4, k=2, s=2, p=1, d=1))
    assert small.all_checks_passed, _failures(small)
    assert any(
        "$n \\le 4$, $k \\le 2$, $s \\le 2$, $p \\le 1$, $d \\le 1$" in c.method
        for c in small.checks
    )


def test_bad_arguments_are_refused():
    with pytest.raises(ConvSpecTypeError, match=r"spec=\(4, 4\) must be a ConvSpec"):
        output_size_derivation((4, 4))
    with pytest.raises(ConvSpecTypeError, match=r"grid=\{'n': 3\} must be a Grid"):
        output_size_derivation(grid={"n": 3})
    with pytest.raises(ConvSpecError, match=r"grid s=0 must be >= 1"):
        Grid(s=0)
    with pytest.raises(ConvSpecTypeError, match=r"grid n=2.5 must be an integer"):
        Grid(n=2.5)


def test_records_refuse_malformed_input():
    with pytest.raises(ConvSpecError, match="unmatched '\\$'"):
        Prose("a $x")
    with pytest.raises(ConvSpecError, match="unmatched '`'"):
        Prose("a `x")
    with pytest.raises(ConvSpecTypeError, match="must be a string"):
        Prose(3)
    with pytest.raises(ConvSpecError, match="relation='~' must be one of"):
        Equation(n, n, relation="~")
    with pytest.raises(ConvSpecError, match="at least one side"):
        Equation()
    with pytest.raises(ConvSpecError, match="order='x' must be"):
        Equation(n, order="x")
    with pytest.raises(ConvSpecTypeError, match="equation side 'n' must be a number or a sympy expression, not str"):
        Equation("n", 1)
    step = Step("s")
    with pytest.raises(ConvSpecError, match="has 1 cells; the header has 2"):
        step.table(("a", "b"), [("1",)])
    with pytest.raises(ConvSpecError, match="zero='x' must be 'dot' or '0'"):
        step.matrix("A", sympy.eye(2), zero="x")
    with pytest.raises(ConvSpecTypeError, match="must be a Prose, Display"):
        Step("s", ["text"])
    with pytest.raises(ConvSpecTypeError, match="must be a Step"):
        Derivation("t", ["step"])


def test_building_and_reading_a_derivation():
    d = Derivation("Tiny")
    d.say("Before any step.")  # an untitled introduction
    d.step("fine").check(Check("by hand", "", True))
    bad = d.step("bad")
    bad.check(computed_check(True, "One."))
    bad.check(False, "Two.", "it was three")
    d.show(sympy.Eq(sympy.Symbol("o"), n), (n, n + 0))
    d.matrices([("A", sympy.eye(2)), (sympy.Symbol("B"), sympy.zeros(2))], zero="0")
    assert len(d) == 3 and d.steps[0].title == ""
    assert [step.passed for step in d.steps] == [True, True, False]
    assert repr(d) == "<Derivation 'Tiny': 3 steps, 2/3 checks passed>"
    assert repr(bad) == "<Step 'bad': 4 blocks>"
    assert str(d) == d.text()
    assert d.steps[0].prose == ("Before any step.",)
    assert [type(b) for b in bad.blocks] == [Check, Check, Display, Matrices]
    assert bad.equations[0] == Equation(sympy.Symbol("o"), n)
    assert bad.equations[0] != Equation(sympy.Symbol("o"), n + 1)
    assert (bad.equations[0] == "o = n") is False
    assert repr(bad.equations[1]) == "Equation(n = n)"
    assert bad.equations[1].text() == "n = n" and bad.equations[1].latex() == "n = n"
    assert "A  (2 × 2)" in d.text() and "B  (2 × 2)" in d.text()
    assert isinstance(Table(("a",), (("b",),)), Table)


# ----------------------------------------------------------------- every block, every output


@pytest.fixture(scope="module")
def rich() -> Derivation:
    import numpy as np
    import scipy.sparse

    x = sympy.symbols("x0:24", real=True)
    C = sympy.MatrixSymbol("C", 3, 2)
    d = Derivation("Every block", source="derivations/demo.py")
    d.step("Matrices, side by side while they fit")
    d.matrices(
        [("A", np.array([[1.0, 0.0], [0.5, -2.25]])), ("B", scipy.sparse.eye(2).tocsr())],
        zero="0",
        note="Two small matrices share a line.",
    )
    d.matrices([("W", np.arange(1, 31).reshape(1, 30)), ("V", np.ones((1, 30)))])
    d.step("A long sum continues on further lines")
    d.show(Equation(sympy.Symbol("y"), sum(x) - sympy.Symbol("z") * (x[0] + x[1])))
    d.show(Equation(sympy.Transpose(C * C.T)), Equation(sympy.sqrt(x[0]), relation="="))
    d.step("A table")
    d.table(("case", "value"), [("$\\alpha$", "$\\sqrt{2}$"), ("long name", 3)], "Caption.")
    return d


def test_a_rich_derivation_compiles_and_fits(rich, pdflatex, tmp_path):
    body = rich.latex()
    # Two 2 x 2 matrices fit one line; two 30-column ones do not, and each is split.
    assert body.splitlines().count("\\[") == 3
    assert "A = \\begin{bmatrix}" in body and ",\\qquad\nB = " in body
    assert "\\begin{aligned}[t]" in body and "W = " in body
    assert "&\\quad + x_{" in body  # the sum goes on
    assert "\\left(C C^{\\mathsf{T}}\\right)^{\\mathsf{T}}" in body
    assert "\\begin{tabular}{lc}" in body and "$\\sqrt{2}$" in body
    compile_pdf(_article(body), tmp_path, name="rich")
    assert _overfull((tmp_path / "rich.log").read_text()) == []


def test_a_rich_derivation_as_text_and_html(rich):
    text = rich.text()
    assert "A  (2 × 2)" in text and "  0.5 -2.25" in text
    assert "Two small matrices share a line." in text
    assert "case       value" in text and "  α             √2" in text
    assert "√x₀" not in text or "x0" in text  # sympy draws roots; names print plainly
    page = rich._repr_html_()
    assert "<table><caption>Caption.</caption>" in page
    assert "<p>Two small matrices share a line.</p>" in page
    assert page.count("<h4>") == 3
    assert "derivations/demo.py" in page


def test_math_text_knows_greek_and_roots_and_refuses_nothing_else():
    assert math_text(r"\alpha + \Pi + \sqrt{2} + x^{n}") == "α + Π + √2 + xⁿ"
    assert math_text(r"C^{ab} + w_{\mathrm{in}}") == "C^(ab) + w_in"


# ----------------------------------------------------------------- one layer's size equations


def test_size_equations_are_the_checked_formulas_with_numbers():
    from transpose_matrix.narrative.derivation import Filled, output_size_equations

    spec = ConvSpec((5, 4), 3, stride=2, padding=((1, 1), (1, 0)))
    general, first, second = output_size_equations(spec)
    # The general formula is the very expression the derivation checks.
    assert general.sides[1] is model._CONV_PAIR
    assert isinstance(first.sides[1], Filled) and first.sides[1].formula is model._CONV_PAIR
    assert first.sides[1].values[model._n] == 5 and second.sides[1].values[model._pa] == 0
    assert [row.sides[-1] for row in (first, second)] == list(spec.output_shape) == [3, 2]
    # Printed: symbols replaced by numbers in place, the numerator worked out.
    assert equation_latex(first) == (
        r"o_{0} = \left\lfloor{\frac{5 + 1 + 1 - 1 \cdot \left(3 - 1\right) - 1}{2}}"
        r"\right\rfloor + 1 = \left\lfloor{\frac{4}{2}}\right\rfloor + 1 = 3"
    )
    transposed = ConvSpec.from_transposed(1, 1, 1, 1, stride=2)
    assert output_size_equations(transposed, transposed=True)[1].text() == (
        "m = (1 - 1)⋅2 - 2⋅0 + 1⋅(1 - 1) + 0 + 1 = 1"
    )
    with pytest.raises(ConvSpecError, match="no ConvTranspose layer has this padding"):
        output_size_equations(ConvSpec((6,), 3, padding=[(0, 2)]), transposed=True)
    with pytest.raises(ConvSpecTypeError, match="must be a ConvSpec"):
        output_size_equations((5, 5))


def test_size_equations_print_under_every_hash_seed():
    # sympy judges unevaluated products of numbers with a zero factor wrongly
    # (2·0 "is not even"), and which of its deductions clash depends on the
    # hash seed; the filled-in formulas keep their symbols, so nothing clashes.
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "from transpose_matrix.geometry.spec import ConvSpec\n"
        "from transpose_matrix.narrative.derivation import output_size_equations\n"
        "from transpose_matrix.render.derivation import display_latex, equation_line\n"
        "specs = [(ConvSpec((4, 4), 3), False), (ConvSpec((5,), 1, stride=2), False),\n"
        "         (ConvSpec((6, 5), 3, padding=((0, 0), (1, -1))), False),\n"
        "         (ConvSpec.from_transposed((1, 3), 1, 1, (1, 3), stride=2), True)]\n"
        "for spec, transposed in specs:\n"
        "    equations = output_size_equations(spec, transposed=transposed)\n"
        "    display_latex(equations)\n"
        "    [equation_line(e) for e in equations]\n"
        "    [e.text() for e in equations]\n"
    )
    root = Path(__file__).resolve().parent.parent
    for seed in ("0", "1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(root)}
        result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                                text=True, timeout=120, check=False)
        assert result.returncode == 0, result.stderr[-2000:]
