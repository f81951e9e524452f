r"""What ``show`` and ``export`` narrate: the reports around C and Cᵀ.

Each report is a function of the geometry and a few options, so the command
line only parses arguments and picks one: :func:`show_text`,
:func:`show_latex`, :func:`show_json` (``show --format``) and :func:`export`
(``export``, as an article, a fragment or beamer frames). A forward layer is
narrated around C; a transposed one (``transposed=True``) around its own
input and output, with Cᵀ as its matrix, the sizes its ``output_padding``
could have chosen, the scatter view (a column of Cᵀ) and the zero-insertion
view. The pieces they share live here too: the torch calls a matrix equals
(:func:`conv_call`, :func:`transposed_call`), the size arithmetic, the
headings (:func:`heading`).

Matrices are shown through :class:`~transpose_matrix.render.views.ConvMatrixView`,
which computes only the cells printed, so any layer reports in about the
same time.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import ConvSpecError
from ..geometry.padding import padding_mode, require_transposed_layer
from ..geometry.shapes import transposed_conv_output_size
from .documents import ARTICLE, BEAMER, Page, document, fragment, frame
from .latex import code_latex, dims_latex, escape_text, to_latex
from .prose import heading, prose_latex, prose_text, title
from .text import dims_text

__all__ = [
    "ZeroInsertion",
    "conv_call",
    "export",
    "export_body",
    "mode_transpose_text",
    "output_padding_choices",
    "show_json",
    "show_latex",
    "show_text",
    "size_lines",
    "spec_data",
    "transposed_call",
    "zero_insertion",
]

_T = r"^{\mathsf{T}}"


# --------------------------------------------------------------------------- shared pieces


def _shape(channels: int, spatial: Sequence[int]) -> str:
    return dims_text((channels, *spatial))


def _tuple(values: Sequence[Any]) -> str:
    return "(" + ", ".join(str(v) for v in values) + ("," if len(values) == 1 else "") + ")"


def conv_call(spec: Any) -> str:
    """``torch.nn.ConvNd(...)`` with this spec's arguments (padding pairs via ``F.pad``).

    A spec made from ``padding='same'``/``'valid'`` shows the string; a
    ``padding_mode`` other than ``'zeros'`` is shown as torch's argument (or
    as ``F.pad``'s ``mode`` for uneven pairs; a mode torch does not have as
    the pairs padded by ``numpy.pad``).

    >>> from transpose_matrix.geometry.spec import ConvSpec
    >>> conv_call(ConvSpec((5,), 4, padding="same", padding_mode="reflect"))  # doctest: +ELLIPSIS
    "torch.nn.Conv1d(1, 1, kernel_size=(4,), stride=(1,), padding='same', ..., \
padding_mode='reflect', bias=False)"
    """
    mode = getattr(spec, "padding_mode", "zeros")
    extra = ""
    if padding_mode(mode).torch is None:
        # torch has no such mode: the pairs, padded as numpy.pad does.
        padding = _tuple([tuple(pair) for pair in spec.padding])
        padding += f" via numpy.pad(mode={padding_mode(mode).numpy!r})"
        mode = "zeros"
    elif spec.padding_string is not None:
        padding = repr(spec.padding_string)
    elif spec.is_symmetric_padding:
        padding = _tuple([before for before, _ in spec.padding])
    else:
        padding = _tuple([tuple(pair) for pair in spec.padding]) + " via F.pad"
        if mode != "zeros":
            padding += f"(mode={mode!r})"
            mode = "zeros"
    if mode != "zeros":
        extra = f", padding_mode={mode!r}"
    groups = f", groups={spec.groups}" if spec.groups != 1 else ""
    return (
        f"torch.nn.Conv{spec.ndim}d({spec.in_channels}, {spec.out_channels}, "
        f"kernel_size={_tuple(spec.kernel_size)}, stride={_tuple(spec.stride)}, "
        f"padding={padding}, dilation={_tuple(spec.dilation)}{groups}{extra}, bias=False)"
    )


def transposed_call(spec: Any) -> str | None:
    """``torch.nn.ConvTransposeNd(...)`` whose matrix is Cᵀ, or None if there is none."""
    layer = spec.transposed_arguments()
    if layer is None:
        return None
    groups = f", groups={layer['groups']}" if layer["groups"] != 1 else ""
    return (
        f"torch.nn.ConvTranspose{spec.ndim}d({layer['in_channels']}, {layer['out_channels']}, "
        f"kernel_size={_tuple(layer['kernel_size'])}, stride={_tuple(layer['stride'])}, "
        f"padding={_tuple(layer['padding'])}, "
        f"output_padding={_tuple(layer['output_padding'])}{groups}, "
        f"dilation={_tuple(layer['dilation'])}, bias=False)"
    )


def _size_symbols(spec: Any, transposed: bool) -> list[tuple[str, str]]:
    """(symbol, what it is) of the size formula, in the order the formula reads them."""
    if transposed:
        return [("o", "input size"), ("s", "stride"), ("p", "padding"), ("d", "dilation"),
                ("k", "kernel size"), ("a", "`output_padding`")]
    padding = [("p", "padding")] if spec.is_symmetric_padding else [
        ("p_b", "padding before"), ("p_a", "padding after")
    ]
    return [("n", "input size"), *padding, ("d", "dilation"), ("k", "kernel size"),
            ("s", "stride")]


def size_lines(spec: Any, transposed: bool = False) -> list[str]:
    """The output-size formula and its numbers per dim, as Unicode lines.

    Printed from :func:`~transpose_matrix.narrative.derivation.output_size_equations`,
    the sympy expressions the derivation checks; the last value of each
    line is that expression evaluated, the layer's output size.
    """
    from ..narrative.derivation import output_size_equations
    from .derivation import equation_line

    general, *rows = output_size_equations(spec, transposed=transposed)
    symbols = ", ".join(
        f"{prose_text(f'${symbol}$')} {words}" for symbol, words in _size_symbols(spec, transposed)
    )
    lines = [f"Output size along each dim: {equation_line(general)}", f"  ({prose_text(symbols)})"]
    return lines + [f"  {equation_line(row)}" for row in rows]


def _size_words_latex(spec: Any, transposed: bool) -> str:
    """``$n$ the input size, …, and $s$ the stride``."""
    named = [f"${symbol}$ the {words}" for symbol, words in _size_symbols(spec, transposed)]
    return prose_latex(", ".join(named[:-1]) + " and " + named[-1])


def output_padding_choices(spec: Any, most: int = 6) -> list[list[tuple[int, int] | None]]:
    """Per dim, the legal ``output_padding`` values of the transposed layer and their sizes.

    ``output_padding`` runs over ``[0, max(stride, dilation))`` and adds one
    position per step; values whose size would not be positive are left
    out. Of more than ``most`` values, the first ``most - 2`` and the last
    two are listed with ``None`` between them (a dilation of 10⁹ allows 10⁹
    values). The sizes with ``output_padding < stride`` all convolve back to
    the layer's input size.

    Examples
    --------
    >>> from transpose_matrix.geometry.spec import ConvSpec
    >>> output_padding_choices(ConvSpec.from_transposed((3,), 1, 1, 3, stride=2, padding=1))
    [[(0, 5), (1, 6)]]
    >>> output_padding_choices(ConvSpec.from_transposed((2,), 1, 1, 2, dilation=100), most=4)
    [[(0, 102), (1, 103), None, (98, 200), (99, 201)]]
    """
    layer = spec.transposed_arguments()
    if layer is None:
        return []
    choices = []
    for i in range(spec.ndim):
        k, s, d = spec.kernel_size[i], spec.stride[i], spec.dilation[i]
        count = max(s, d)
        # The size grows by one per step: the largest value fixes them all.
        largest = transposed_conv_output_size(
            spec.output_shape[i], k, s, layer["padding"][i], count - 1, d
        )
        first = max(0, count - largest)
        if count - first <= most:
            extras: list[int | None] = list(range(first, count))
        else:
            extras = [*range(first, first + most - 2), None, count - 2, count - 1]
        choices.append(
            [None if a is None else (a, largest - (count - 1 - a)) for a in extras]
        )
    return choices


@dataclass(frozen=True)
class ZeroInsertion:
    """One dim of the zero-insertion view of a transposed layer.

    ``n`` inputs, spread to ``stretched = (n - 1)s + 1`` by ``s - 1`` zeros
    between neighbours, padded by ``before = d(k - 1) - p`` and ``after =
    before + output_padding`` (negative amounts crop) to ``padded``, then
    cross-correlated at stride 1 with the flipped, dilated kernel of span
    ``span = d(k - 1) + 1``: ``padded - span + 1 = out`` outputs.
    """

    n: int
    stride: int
    stretched: int
    before: int
    after: int
    padded: int
    span: int
    out: int


def zero_insertion(spec: Any) -> list[ZeroInsertion] | None:
    """The zero-insertion view of Cᵀ per dim, or None when no transposed layer has this C."""
    layer = spec.transposed_arguments()
    if layer is None:
        return None
    steps = []
    for i in range(spec.ndim):
        n, s = spec.output_shape[i], spec.stride[i]
        span = spec.dilation[i] * (spec.kernel_size[i] - 1) + 1
        before = span - 1 - layer["padding"][i]
        after = before + layer["output_padding"][i]
        stretched = (n - 1) * s + 1
        padded = stretched + before + after
        steps.append(
            ZeroInsertion(n, s, stretched, before, after, padded, span, padded - span + 1)
        )
    return steps


def _weights_note(seed: int | None) -> str:
    return "symbolic weights" if seed is None else f"random numeric weights, seed {seed}"


def _weight(spec: Any, seed: int | None) -> Any:
    if seed is None:
        return None
    from ..analysis.verification import random_weight

    return random_weight(spec, seed)


def _view(spec: Any, seed: int | None) -> Any:
    from .views import ConvMatrixView

    return ConvMatrixView(spec, _weight(spec, seed))


# --------------------------------------------------------------------------- padding modes


def _zeros_only(spec: Any) -> None:
    """Refuse a transposed-layer report for a padding mode: no ConvTransposeNd has it."""
    require_transposed_layer(spec.padding_mode, "report the convolution instead")


def _recipe_terms(spec: Any) -> tuple[Any, list[tuple[int, ...]]]:
    """The recipe of Cᵀ and, per dim, the numbers of its ``output_padding`` formula.

    ``(padded, out, s, d, k, o)`` with ``o = padded - ((out - 1)s + d(k - 1) + 1)``.
    """
    from ..analysis.verification import transpose_recipe

    recipe = transpose_recipe(spec)
    terms = [
        (recipe.padded_shape[i], spec.output_shape[i], spec.stride[i], spec.dilation[i],
         spec.kernel_size[i], recipe.output_padding[i])
        for i in range(spec.ndim)
    ]
    return recipe, terms


def mode_transpose_text(spec: Any) -> list[str]:
    """What Cᵀ is for a non-zero ``padding_mode``, as text lines (the torch recipe last).

    Cᵀ = Pᵀ·Dᵀ: the zero-padded ``conv_transposeNd`` onto the padded grid,
    then the fold Pᵀ (:func:`~transpose_matrix.analysis.verification.transpose_recipe`).
    """
    recipe, terms = _recipe_terms(spec)
    sizes = [
        f"    dim {i}: o = {padded} - (({out} - 1)·{s} + {d}·({k} - 1) + 1) = {o}"
        for i, (padded, out, s, d, k, o) in enumerate(terms)
    ]
    shape = dims_text((1, spec.out_channels, *spec.output_shape))
    return [
        "  Cᵀ is the input gradient but no ConvTransposeNd (torch's transposed layers pad "
        "with zeros):",
        "  Cᵀ = Pᵀ·Dᵀ — a zero-padded conv_transpose onto the padded grid, then Pᵀ folds "
        "each border entry back onto the input entry it copied.",
        f"  P pads by {spec.padding_mode} (copies input entries into the border), D "
        "convolves the padded grid without padding, so C = D·P.",
        "  output_padding o = padded size - ((out - 1)·s + d·(k - 1) + 1), per dim:",
        *sizes,
        f"  In torch, with y of shape {shape} and w the weight above:",
        *(f"    {line}" for line in recipe.code().splitlines()),
        "  x is Cᵀy, shaped like the input.",
    ]


def _mode_lines(spec: Any, max_terms: int) -> list[str]:
    from .views import MAX_TERMS

    lines = mode_transpose_text(spec)
    if max_terms > MAX_TERMS:
        lines.append(
            f"  (An entry of C here sums up to {max_terms} weights; sums of more than "
            f"{MAX_TERMS} print as first + … + last, --format json lists every term.)"
        )
    return lines


# --------------------------------------------------------------------------- show (text)


def _text_matrix(view: Any, full: bool) -> str:
    from .text import render, terminal_width

    return render(
        view,
        row_labels=view.row_labels,
        col_labels=view.col_labels,
        row_blocks=view.row_blocks,
        col_blocks=view.column_blocks,
        width=None if full else terminal_width(),
        max_rows=None if full else 40,
    )


def _nnz(spec: Any) -> int:
    from ..matrices.conv import conv_matrix_nnz

    return conv_matrix_nnz(spec)


def show_text(
    spec: Any, *, seed: int | None = None, transposed: bool = False, full: bool = False
) -> str:
    """The text report of ``show``: symbolic weights, or random ones from ``seed``.

    Only the printed cells of C and Cᵀ are computed; ``full`` prints every
    one (and then costs the whole matrix).
    """
    if transposed:
        _zeros_only(spec)
        return _show_transposed_text(spec, seed=seed, full=full)
    rows, cols = spec.matrix_shape
    view = _view(spec, seed)
    out = [f"Convolution: {conv_call(spec)}"]
    out.append(
        f"  input  x: {_shape(spec.in_channels, spec.input_shape)}  (channels × spatial), "
        f"{cols} values"
    )
    out.append(
        f"  weight w: {dims_text(spec.weight_shape)}  "
        "(out_channels × in_channels/groups × kernel)"
    )
    out.append(f"  output y: {_shape(spec.out_channels, spec.output_shape)}, {rows} values")
    out.append("")
    out += size_lines(spec)
    out.append("")
    out.append(
        f"C: {rows} × {cols}, {_nnz(spec)} stored entries, {_weights_note(seed)}. y = C x "
        "(row = output position, column = input position)"
    )
    out.append(_text_matrix(view, full))
    out.append("")
    out.append(f"Cᵀ: {cols} × {rows}. Column j of Cᵀ is row j of C.")
    out.append(_text_matrix(view.T, full))
    out.append("")
    out.append("What Cᵀ computes:")
    layer = transposed_call(spec)
    if spec.padding_mode != "zeros":
        out += _mode_lines(spec, _view(spec, seed).max_terms)
    elif layer is None:
        out.append(
            "  Cᵀ y is no single ConvTransposeNd layer (this padding has no "
            "(padding, output_padding) equivalent)"
        )
    else:
        out.append(f"  Cᵀ y = {layer}(y)")
        out.append(
            f"        {_shape(spec.out_channels, spec.output_shape)} -> "
            f"{_shape(spec.in_channels, spec.input_shape)}, with the same weight w"
        )
    out.append(
        "  Cᵀ g = ∂L/∂x for g = ∂L/∂y: the gradient of the convolution with respect to "
        "its input"
    )
    return "\n".join(out)


def _show_transposed_text(spec: Any, *, seed: int | None, full: bool) -> str:
    rows, cols = spec.matrix_shape
    view = _view(spec, seed)
    layer = spec.transposed_arguments()
    out = [f"Transposed convolution: {transposed_call(spec)}"]
    out.append(
        f"  input  y: {_shape(spec.out_channels, spec.output_shape)}  (channels × spatial), "
        f"{rows} values"
    )
    out.append(
        f"  weight w: {dims_text(spec.weight_shape)}  "
        "(in_channels × out_channels/groups × kernel)"
    )
    out.append(
        f"  output x: {_shape(spec.in_channels, spec.input_shape)}, {cols} values "
        "(the shape of the forward convolution's input)"
    )
    out.append("")
    out += size_lines(spec, transposed=True)
    out.append("")
    out += textwrap.wrap(
        "The input size alone does not fix the output size: the forward convolution rounds "
        f"down, so it maps every size with a < s back to {dims_text(spec.output_shape)}. "
        "output_padding a (0 ≤ a < max(s, d)) picks one:",
        width=88,
    )
    for i, dim in enumerate(output_padding_choices(spec)):
        chosen = layer["output_padding"][i]
        options = ", ".join(
            "…" if item is None
            else f"a = {item[0]} → {item[1]}" + (" (this layer)" if item[0] == chosen else "")
            for item in dim
        )
        out.append(f"  dim {i}: {options}")
    out.append("")
    out.append(
        f"Cᵀ: {cols} × {rows}, {_nnz(spec)} stored entries, {_weights_note(seed)}. "
        "x = Cᵀ y (row = output position, column = input position)"
    )
    out.append(_text_matrix(view.T, full))
    out.append(
        "Column j of Cᵀ is what input pixel yⱼ adds to the output: its value times the "
        "kernel, stamped at stride s."
    )
    out.append("")
    out.append(f"C: {rows} × {cols}, the forward convolution this layer transposes:")
    out.append(f"  {conv_call(spec)}")
    out.append(_text_matrix(view, full))
    out.append("")
    out.append(
        "Cᵀ g = ∂L/∂x for g = ∂L/∂y: the same matrix is the input gradient of that "
        "convolution"
    )
    return "\n".join(out)


# --------------------------------------------------------------------------- show (latex, json)


def show_latex(
    spec: Any, *, seed: int | None = None, full: bool = False, transposed: bool = False
) -> str:
    """``show --format latex``: C and Cᵀ as display blocks (Cᵀ first for a transposed layer)."""
    if transposed:
        _zeros_only(spec)
    view = _view(spec, seed)
    limits = {"max_rows": 10**9, "max_cols": 10**9} if full else {}
    blocks = [
        f"\\[\nC = {to_latex(view, **limits)}\n\\]",
        f"\\[\nC{_T} = {to_latex(view.T, **limits)}\n\\]",
    ]
    return "\n".join(blocks[::-1] if transposed else blocks)


def _json_entries(spec: Any, weight: Any) -> tuple[Any, Any, list[Any]]:
    """Rows, columns and entries of C for ``show --format json``.

    An entry is a weight's name (``w_{1,0}``) or value; with a padding mode
    it is the sum of the weights it holds (``w_{1,0} + w_{1,2}``) or the
    sum's value.
    """
    import numpy as np

    from .views import weight_name

    def name(flat: int) -> str:
        return weight_name(spec, flat, latex=True)

    if spec.padding_mode == "zeros":
        from ..matrices.conv import weight_label_matrix

        pattern = weight_label_matrix(spec).tocoo()
        flats = pattern.data - 1
        if weight is not None:
            values = weight.reshape(-1)
            return pattern.row, pattern.col, [float(values[f]) for f in flats]
        names = {f: name(f) for f in set(flats.tolist())}
        return pattern.row, pattern.col, [names[f] for f in flats.tolist()]
    from ..matrices.conv import mode_contributions

    rows, cols, which = mode_contributions(spec)
    order = np.lexsort((which, cols, rows))
    rows, cols, which = rows[order], cols[order], which[order]
    starts = np.flatnonzero(
        np.concatenate(([True], (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])))
    )
    groups = np.split(which, starts[1:])
    if weight is not None:
        values = weight.reshape(-1)
        entries: list[Any] = [float(values[group].sum()) for group in groups]
    else:
        entries = [" + ".join(name(f) for f in group.tolist()) for group in groups]
    return rows[starts], cols[starts], entries


def spec_data(spec: Any) -> dict[str, Any]:
    """A spec's fields as JSON-ready lists and ints (padding as ``[before, after]`` pairs)."""
    return {
        "input_shape": list(spec.input_shape),
        "kernel_size": list(spec.kernel_size),
        "stride": list(spec.stride),
        "padding": [list(pair) for pair in spec.padding],
        "dilation": list(spec.dilation),
        "in_channels": spec.in_channels,
        "out_channels": spec.out_channels,
        "groups": spec.groups,
        "padding_mode": spec.padding_mode,
    }


def show_json(spec: Any, *, seed: int | None = None) -> str:
    """``show --format json``: spec fields, shapes, nnz and every entry of C as triplets.

    With a ``padding_mode`` other than ``'zeros'`` an entry is the sum of the
    weights it holds (a string ``"w_{0} + w_{2}"``, or the sum's value), and
    ``transposed_recipe`` holds the torch code of Cᵀ = Pᵀ·Dᵀ.
    """
    import json

    rows, cols, entry = _json_entries(spec, _weight(spec, seed))
    layer = spec.transposed_arguments()
    recipe = None
    if spec.padding_mode != "zeros":
        from ..analysis.verification import transpose_recipe

        recipe = transpose_recipe(spec).code()
    data = {
        "spec": spec_data(spec),
        "output_shape": list(spec.output_shape),
        "weight_shape": list(spec.weight_shape),
        "matrix_shape": list(spec.matrix_shape),
        "nnz": len(entry),
        "weights": "symbolic" if seed is None else "numeric",
        "seed": seed,
        "transposed_layer": None
        if layer is None
        else {key: list(v) if isinstance(v, tuple) else v for key, v in layer.items()},
        "transposed_recipe": recipe,
        "entries": [[int(r), int(c), e] for r, c, e in zip(rows, cols, entry, strict=True)],
    }
    return json.dumps(data, indent=1)


# --------------------------------------------------------------------------- export


def _code_block(code: str, size: str = r"\small", lead: str = "") -> str:
    """``code`` ragged right with a hanging indent (a long call wraps between arguments).

    ``lead`` is a line of text set before it, ragged too: a heading with long
    typewriter names cannot be justified without overrunning a short line.
    """
    lead = f"{lead}\\par\\nopagebreak\\smallskip\n" if lead else ""
    # No page break inside the call, nor between it and its lead.
    return (
        f"\\begin{{flushleft}}\\interlinepenalty=10000\n{lead}{size}"
        f"\\hangindent=2em\\hangafter=1\n{code_latex(code)}\n\\end{{flushleft}}"
    )


def _together(*pieces: str) -> str:
    """Pieces kept on one page: a sentence and the display or figure it introduces."""
    body = "\n".join(pieces)
    return f"\\noindent\\begin{{minipage}}{{\\linewidth}}\n{body}\n\\end{{minipage}}"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _space(letter: str, channels: int, spatial: Sequence[int]) -> str:
    return f"{letter} \\in \\mathbb{{R}}^{{{dims_latex((channels, *spatial))}}}"


def _matrix_display(name: str, view: Any, page: Page, size: str = "") -> str:
    prefix = f"{name} = "
    from .measure import math_width

    body = to_latex(
        view,
        width=page.width - math_width(prefix) - 4,
        height=page.height,
        max_rows=page.max_rows,
    )
    display = f"\\[\n{prefix}{body}\n\\]"
    # Not in a group of its own: a brace group opening a beamer frame's body turns
    # its display the colour of the frame title.
    return f"{size}\n{display}" if size else display


def _align(rows: list[str]) -> str:
    """Lines aligned on their ``&`` (the ``=`` or the first column)."""
    return "\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}"


def _size_display(spec: Any, transposed: bool, width: float) -> str:
    """The size formula and the layer's numbers in it, printed by sympy in one display."""
    from ..narrative.derivation import output_size_equations
    from .derivation import display_latex

    return display_latex(output_size_equations(spec, transposed=transposed), width)


def _choices_latex(spec: Any) -> str:
    layer = spec.transposed_arguments()
    rows = []
    for i, dim in enumerate(output_padding_choices(spec)):
        sizes = ",\\ ".join(
            "\\dots" if item is None
            else f"a = {item[0]} \\mapsto {item[1]}"
            + ("\\ (\\text{this layer})" if item[0] == layer["output_padding"][i] else "")
            for item in dim
        )
        rows.append(f"\\text{{dim {i}:}}\\quad & {sizes}")
    return _align(rows)


def _zero_insertion_latex(spec: Any) -> str:
    rows = []
    for i, step in enumerate(zero_insertion(spec)):
        rows.append(
            f"\\text{{dim {i}:}}\\quad {step.n} &\\xrightarrow{{\\text{{zeros}}}} {step.stretched}"
            f" \\xrightarrow{{\\text{{pad }} {step.before},\\,{step.after}}} {step.padded}"
            f" \\xrightarrow{{\\text{{conv}}}} {step.padded} - {step.span} + 1 = {step.out}"
        )
    return _align(rows)


def _gradient() -> str:
    return (
        "For any loss $L$, the chain rule through $y = Cx$ gives the input gradient of "
        "the convolution:\n"
        "\\[\n\\frac{\\partial L}{\\partial x} = C^{\\mathsf{T}} "
        "\\frac{\\partial L}{\\partial y}\n\\]"
    )


def _figures(spec: Any, transposed: bool, page: Page) -> list[tuple[str, str, str]]:
    """(title, caption, picture) of the sparsity figure and the placement or scatter one.

    On a beamer page the title heads the frame, so the caption does not repeat it.
    """
    from .tikz import placement_figure, sparsity_figure

    beamer = page.kind != "article"
    # Beamer's \footnotesize is 9 pt, not 8 pt: its labels need a tenth more room.
    width = min(page.width, 345.0) if not beamer else 275.0
    height = None if not beamer else 170.0
    center = tuple(n // 2 for n in spec.output_shape)
    where = ",".join(map(str, center))
    coloured = "each entry coloured by its kernel tap:"
    pictures = [
        (
            "The sparsity pattern of $C$",
            _sentence(coloured) if beamer else f"The sparsity pattern of $C$, {coloured}",
            sparsity_figure(spec, width=width, height=height),
        )
    ]
    if transposed:
        name = "The scatter: a column of $C^{\\mathsf{T}}$"
        caption = (
            f"input pixel $y_{{{where}}}$ of the transposed layer stamps its kernel-weighted "
            "patch into the output; that patch is a column of $C^{\\mathsf{T}}$:"
        )
        caption = _sentence(caption) if beamer else f"The scatter: {caption}"
    else:
        name = "One placement: a row of $C$"
        caption = (
            f"The kernel placed for output position $({where})$, and the row of $C$ it produces:"
            if beamer
            else f"One placement of the kernel (output position $({where})$) and the row of $C$ "
            "it produces:"
        )
    if spec.padding_mode != "zeros":
        return pictures  # the placement figure draws zero padding only
    picture = placement_figure(spec, center, transposed=transposed, width=width, height=height)
    pictures.append((name, caption, picture))
    return pictures


def export_body(
    spec: Any,
    *,
    seed: int | None = None,
    figures: bool = True,
    derivations: bool = False,
    transposed: bool = False,
    page: Page = ARTICLE,
) -> str:
    """The LaTeX body of ``export`` for an article (or a fragment of one).

    Forward: geometry, output sizes, C, Cᵀ, what Cᵀ computes, figures.
    Transposed: the layer, its output size and the sizes ``output_padding``
    could choose, Cᵀ, the scatter view, the zero-insertion view, the forward
    C, the gradient. ``derivations`` appends the checked derivations.
    """
    if transposed:
        _zeros_only(spec)
    view = _view(spec, seed)
    kind = "random numeric weights" if seed is not None else "the kernel entries"
    if spec.padding_mode != "zeros":
        kind += " (an entry sums the weights of the taps that read the same input entry)"
    rows, cols = spec.matrix_shape
    out = (
        _transposed_sections(spec, view, kind, page)
        if transposed
        else _forward_sections(spec, view, kind, page)
    )
    if figures and spec.ndim <= 2:
        out.append(r"\section*{Figures}")
        for number, (_, caption, picture) in enumerate(_figures(spec, transposed, page)):
            space = "\\bigskip\n" if number else ""
            out.append(space + _together(f"{caption}\\par\\medskip", f"\\noindent\n{picture}"))
    if derivations:
        if spec.padding_mode != "zeros":
            raise ConvSpecError(
                f"padding_mode={spec.padding_mode!r}: the gradient derivation's sums are those "
                "of zero padding; export without derivations",
                field="padding_mode",
            )
        from ..narrative.derivation import output_size_derivation
        from ..narrative.gradient import gradient_derivation

        out.append(to_latex(output_size_derivation(spec)))
        out.append(to_latex(gradient_derivation(spec)))
    return "\n\n".join(out) + "\n"


def _forward_sections(spec: Any, view: Any, kind: str, page: Page) -> list[str]:
    rows, cols = spec.matrix_shape
    out = [r"\section*{Geometry}"]
    out.append(
        _code_block(conv_call(spec), lead=f"The layer ({heading(spec, latex=True)}) in PyTorch:")
        + "\n\\noindent "
        f"maps ${_space('x', spec.in_channels, spec.input_shape)}$ to "
        f"${_space('y', spec.out_channels, spec.output_shape)}$ with weight "
        f"$w \\in \\mathbb{{R}}^{{{dims_latex(spec.weight_shape)}}}$ (PyTorch's layout: "
        "out channels, in channels per group, kernel). It is a cross-correlation (no kernel "
        "flip); $x$ and $y$ are flattened in C order over (channel, position)."
    )
    out.append(r"\section*{Output size}")
    out.append(
        f"Along each dimension, with {_size_words_latex(spec, False)}, the output "
        "has $o$ positions; the numbers of this layer, filled in:"
    )
    out.append(_size_display(spec, False, page.width))
    out.append(r"\section*{The matrix $C$}")
    intro = (
        f"The convolution is $y = C x$ with $C$ of size ${rows} \\times {cols}$, holding {kind}"
        " (row: output position; column: input position):"
    )
    out.append(_together(intro, _matrix_display("C", view, page)))
    out.append(r"\section*{The transpose $C^{\mathsf{T}}$}")
    intro = f"Column $j$ of $C{_T}$ (size ${cols} \\times {rows}$) is row $j$ of $C$:"
    out.append(_together(intro, _matrix_display(f"C{_T}", view.T, page)))
    out.append(r"\section*{What $C^{\mathsf{T}}$ computes}")
    layer = transposed_call(spec)
    if spec.padding_mode != "zeros":
        out.append(_mode_transpose_latex(spec))
    elif layer is not None:
        out.append(
            _code_block(layer, lead="$C^{\\mathsf{T}} y$ is the transposed convolution")
            + "\n\\noindent applied to $y$, with the same weight $w$."
        )
    else:
        out.append(
            "No single transposed-convolution layer has this padding, but "
            "$C^{\\mathsf{T}}$ is still the gradient below."
        )
    out.append(_gradient())
    return out


def _mode_transpose_latex(spec: Any) -> str:
    """What Cᵀ is for a non-zero ``padding_mode``: Pᵀ·Dᵀ and the torch recipe, in LaTeX."""
    recipe, terms = _recipe_terms(spec)
    rows = [
        f"o_{{{i}}} &= {padded} - (({out} - 1) \\cdot {s} + {d} \\cdot ({k} - 1) + 1) = {o}"
        for i, (padded, out, s, d, k, o) in enumerate(terms)
    ]
    shape = dims_latex((1, spec.out_channels, *spec.output_shape))
    return (
        f"With \\texttt{{padding\\_mode}} {escape_text(spec.padding_mode)} the padding copies "
        "input entries into the border: $C = DP$, where "
        "$P$ pads the input and $D$ convolves the padded grid without padding. "
        "$C^{\\mathsf{T}}$ is the input gradient but no \\texttt{ConvTransposeNd} (torch's "
        "transposed layers pad with zeros): $C^{\\mathsf{T}} = P^{\\mathsf{T}} D^{\\mathsf{T}}$, a "
        "zero-padded transposed convolution onto the padded grid, then $P^{\\mathsf{T}}$ folds "
        "each border entry back onto the input entry it copied. Its "
        "\\texttt{output\\_padding} is $o = \\text{padded size} - ((\\mathit{out} - 1)s + "
        "d(k - 1) + 1)$ per dimension:\n"
        + _align(rows)
        + f"\n\\noindent In torch, with $y$ of shape ${shape}$ and $w$ the weight above:\n"
        + _code_lines(recipe.code())
    )


def _code_lines(code: str, size: str = r"\small") -> str:
    """Several lines of code, each its own ragged paragraph (a long one wraps, indented)."""
    lines = "\n".join(
        f"\\hangindent=2em\\hangafter=1 {code_latex(line)}\\par" for line in code.splitlines()
    )
    return f"\\begin{{flushleft}}{size}\n{lines}\n\\end{{flushleft}}"


def _transposed_sections(spec: Any, view: Any, kind: str, page: Page) -> list[str]:
    rows, cols = spec.matrix_shape
    out = [r"\section*{The layer}"]
    out.append(
        _code_block(
            transposed_call(spec),
            lead=f"The transposed layer ({heading(spec, transposed=True, latex=True)}) in PyTorch:",
        )
        + "\n\\noindent "
        f"maps its input ${_space('y', spec.out_channels, spec.output_shape)}$ to an output in "
        f"$\\mathbb{{R}}^{{{dims_latex((spec.in_channels, *spec.input_shape))}}}$ with weight "
        f"$w \\in \\mathbb{{R}}^{{{dims_latex(spec.weight_shape)}}}$ (PyTorch's "
        "\\texttt{ConvTranspose} layout: in channels, out channels per group, kernel). "
        "Its matrix is $C^{\\mathsf{T}}$, the transpose of the matrix $C$ of the forward "
        "convolution\n" + _code_block(conv_call(spec)) + "\n\\noindent "
        "which maps the output's shape back to the input's. Here \\texttt{padding} is that "
        "forward convolution's padding: it is cropped from the output."
    )
    out.append(r"\section*{Output size}")
    out.append(
        f"Along each dimension, with {_size_words_latex(spec, True)}, the output "
        "has $m$ positions; the numbers of this layer, filled in:"
    )
    out.append(_size_display(spec, True, page.width))
    out.append(
        "The forward convolution rounds down when it divides by the stride, so it maps the "
        f"$s$ sizes with $a < s$ all back to ${dims_latex(spec.output_shape)}$: the input size "
        "alone does not fix the output size, and $a \\in [0, \\max(s, d))$ picks it. The "
        "sizes this layer could have produced:"
    )
    out.append(_choices_latex(spec))
    out.append(r"\section*{The matrix $C^{\mathsf{T}}$}")
    intro = (
        f"The layer computes $C{_T} y$ with $C{_T}$ of size ${cols} \\times {rows}$, holding "
        f"{kind} (row: output position; column: input position of this layer):"
    )
    out.append(_together(intro, _matrix_display(f"C{_T}", view.T, page)))
    out.append(r"\section*{The scatter view}")
    out.append(
        "Column $j$ of $C^{\\mathsf{T}}$ is what input pixel $y_j$ contributes: $y_j w_t$ is "
        "added at output position $j s - p + t d$ for every kernel tap $t$ that lands inside "
        "the output. Each input pixel stamps a kernel-weighted patch, and neighbouring "
        "patches overlap where the kernel is wider than the stride"
        + (" (see the figure below)." if spec.ndim <= 2 else ".")
    )
    out.append(r"\section*{The zero-insertion view}")
    out.append(
        "The same output is a stride-1 convolution of a stretched input: insert $s - 1$ zeros "
        "between neighbouring entries of $y$, pad $d(k - 1) - p$ zeros before and "
        "$d(k - 1) - p + a$ after (a negative amount crops), and cross-correlate with the "
        "kernel flipped in every spatial dimension and its two channel axes swapped:"
    )
    out.append(_zero_insertion_latex(spec))
    out.append(r"\section*{The forward convolution $C$}")
    intro = (
        f"For reference, $C$ (size ${rows} \\times {cols}$; column $j$ of $C{_T}$ is row $j$ "
        "of $C$):"
    )
    out.append(_together(intro, _matrix_display("C", view, page)))
    out.append(r"\section*{Gradient}")
    out.append(
        "The same $C^{\\mathsf{T}}$ is the input gradient of the forward convolution. "
        + _gradient()
    )
    return out


def _beamer_frames(
    spec: Any, *, seed: int | None, figures: bool, transposed: bool
) -> str:
    if transposed:
        _zeros_only(spec)
    view = _view(spec, seed)
    rows, cols = spec.matrix_shape
    page = BEAMER
    frames = []
    heading_line = heading(spec, transposed=transposed, latex=True)
    if transposed:
        call = transposed_call(spec)
        sizes = _size_display(spec, True, page.width)
        shapes = (
            f"${_space('y', spec.out_channels, spec.output_shape)} \\;\\mapsto\\; "
            f"C^{{\\mathsf{{T}}}} y \\in \\mathbb{{R}}^"
            f"{{{dims_latex((spec.in_channels, *spec.input_shape))}}}$"
        )
    else:
        call = conv_call(spec)
        sizes = _size_display(spec, False, page.width)
        shapes = (
            f"${_space('x', spec.in_channels, spec.input_shape)} \\;\\mapsto\\; y = Cx \\in "
            f"\\mathbb{{R}}^{{{dims_latex((spec.out_channels, *spec.output_shape))}}}$"
        )
    # A forward layer's title is its heading already; a transposed one's names only shapes.
    lead = f"{heading_line}\n" if transposed else ""
    geometry = (
        f"{lead}{_code_block(call, size=chr(92) + 'footnotesize')}\n{shapes}\n"
        f"{{\\small\n{sizes}\n}}"
    )
    frames.append(frame(title(spec, transposed, latex=True), geometry))
    matrices = [
        ("C", view, f"$C$: ${rows} \\times {cols}$, $y = Cx$"),
        (f"C{_T}", view.T, f"$C^{{\\mathsf{{T}}}}$: ${cols} \\times {rows}$"),
    ]
    if transposed:
        matrices.reverse()
    for name, matrix, caption in matrices:
        frames.append(
            frame(caption, _matrix_display(name, matrix, page, size=r"\small"))
        )
    if figures and spec.ndim <= 2:
        for name, caption, picture in _figures(spec, transposed, page):
            frames.append(
                frame(name, f"\\small {caption}\\par\n\\centering\n{picture}")
            )
    return "\n\n".join(frames) + "\n"


def export(
    spec: Any,
    *,
    seed: int | None = None,
    transposed: bool = False,
    figures: bool = True,
    derivations: bool = False,
    beamer: bool = False,
    fragment_only: bool = False,
) -> str:
    """The text ``export`` writes: an article, a beamer talk, or either's body as a fragment.

    Raises
    ------
    ConvSpecError
        ``derivations`` with ``beamer`` (derivations are article sections).
    """
    if beamer:
        if derivations:
            raise ConvSpecError(
                "derivations are article sections; leave out --derivations with --beamer"
            )
        frames = _beamer_frames(spec, seed=seed, figures=figures, transposed=transposed)
        if fragment_only:
            return fragment(frames, what="beamer frames")
        return document(frames, latex_title=title(spec, transposed, latex=True), kind="beamer")
    body = export_body(
        spec, seed=seed, figures=figures, derivations=derivations, transposed=transposed
    )
    if fragment_only:
        return fragment(body)
    return document(body, latex_title=title(spec, transposed, latex=True))
