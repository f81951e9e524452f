r"""Printers of the report model: ``show`` as text, ``export`` as LaTeX (article, beamer).

The story is :mod:`transpose_matrix.narrative.report`'s
:class:`~transpose_matrix.narrative.report.Document`: sections of prose in
the project's markup, the checked size equations, the matrices and figures
as data. This module prints it: :func:`document_text` for the terminal,
:func:`document_latex` for an article body, :func:`document_frames` for
beamer; each block kind has one text and one LaTeX form. The entry points
the command line calls build the document and print it:
:func:`show_text`, :func:`show_latex`, :func:`show_json` (``show
--format``), :func:`export` and :func:`export_body` (``export``),
:func:`verify_text` (``verify``).

Matrices are shown through :class:`~transpose_matrix.render.views.ConvMatrixView`,
which computes only the cells printed, so any layer reports in about the
same time.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import ConvSpecError
from ..geometry.padding import copies_input
from ..geometry.spec import ConvSpec
from ..geometry.transposed import ZeroInsertion, output_padding_choices, zero_insertion
from ..narrative.derivation import Equation, Prose
from ..narrative.report import (
    Applied,
    Aside,
    Block,
    Checks,
    Choices,
    Document,
    Figure,
    Layer,
    MatrixShown,
    Recipe,
    Section,
    Sizes,
    Tensors,
    ZeroInsertionSteps,
    conv_call,
    show_document,
    transposed_call,
    verify_document,
)
from .derivation import display_latex, equation_latex, equation_line
from .documents import ARTICLE, BEAMER, Page, document, fragment, frame
from .latex import code_latex, dims_latex, to_latex
from .prose import math_text, prose_latex, prose_text, title
from .text import dims_text

__all__ = [
    "ZeroInsertion",
    "conv_call",
    "document_frames",
    "document_latex",
    "document_text",
    "export",
    "export_body",
    "output_padding_choices",
    "show_json",
    "show_latex",
    "show_text",
    "size_lines",
    "spec_data",
    "transposed_call",
    "verify_text",
    "zero_insertion",
]

# Terminal prose is wrapped to this width.
_WIDTH = 88


def _weight(spec: ConvSpec, seed: int | None) -> Any:
    if seed is None:
        return None
    from ..analysis.verification import random_weight

    return random_weight(spec, seed)


def _view(spec: ConvSpec, seed: int | None) -> Any:
    from .views import ConvMatrixView

    return ConvMatrixView(spec, _weight(spec, seed))


def _views(doc: Document) -> dict[tuple[int | None, bool], Any]:
    """One view per seed (shared by C and Cᵀ), indexed by (seed, transposed)."""
    views: dict[tuple[int | None, bool], Any] = {}
    for block in doc.blocks(MatrixShown):
        if (block.seed, False) not in views:
            view = _view(doc.spec, block.seed)
            views[(block.seed, False)], views[(block.seed, True)] = view, view.T
    return views


# --------------------------------------------------------------------------- text


def size_lines(spec: ConvSpec, transposed: bool = False) -> list[str]:
    """The output-size formula and its numbers per dim, as Unicode lines.

    Printed from :func:`~transpose_matrix.narrative.derivation.output_size_equations`,
    the sympy expressions the derivation checks; the last value of each
    line is that expression evaluated, the layer's output size.
    """
    from ..narrative.report import _sizes

    return _sizes_text(_sizes(spec, transposed))


def _sizes_text(sizes: Sizes) -> list[str]:
    general, *rows = sizes.equations
    symbols = ", ".join(f"${symbol}$ {words}" for symbol, words in sizes.symbols)
    lines = [f"Output size along each dim: {equation_line(general)}", f"  ({prose_text(symbols)})"]
    return lines + [f"  {equation_line(row)}" for row in rows]


def _wrap(markup: str, indent: str = "") -> list[str]:
    text = " ".join(prose_text(markup).split())
    return textwrap.wrap(text, width=_WIDTH, initial_indent=indent, subsequent_indent=indent)


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


def _matrix_header(block: MatrixShown, latex: bool) -> str:
    rows, cols = block.shape
    size = f"${rows} \\times {cols}$" if latex else f"{rows} × {cols}"
    stats = "" if block.nnz is None else f", {block.nnz} stored entries, {block.weights}"
    name = f"${block.name}$" if latex else math_text(block.name)
    return f"{name}: {size}{prose_latex(stats) if latex else prose_text(stats)}. "


def _tensor_lines(block: Tensors) -> list[str]:
    lines = []
    for t in block.items:
        line = f"  {t.role:<6} {t.letter}: {dims_text(t.shape)}"
        if t.axes:
            line += f"  ({prose_text(t.axes)})"
        if t.count:
            line += f", {t.size} values"
        if t.note:
            line += f" ({prose_text(t.note)})"
        lines.append(line)
    return lines


def _choices_text(block: Choices) -> list[str]:
    lines = []
    for i, dim in enumerate(block.dims):
        options = ", ".join(
            "…" if item is None
            else f"a = {item[0]} → {item[1]}"
            + (" (this layer)" if item[0] == block.chosen[i] else "")
            for item in dim
        )
        lines.append(f"  dim {i}: {options}")
    return lines


def _zero_insertion_text(block: ZeroInsertionSteps) -> list[str]:
    return [
        f"  dim {i}: {s.n} → zeros {s.stretched} → pad {s.before}, {s.after} → {s.padded}"
        f" → conv {s.padded} - {s.span} + 1 = {s.out}"
        for i, s in enumerate(block.steps)
    ]


def _block_text(block: Block, doc: Document, views: dict[Any, Any], full: bool) -> list[str]:
    if isinstance(block, (Aside, Figure)):
        return []  # details and pictures are for documents
    if isinstance(block, Prose):
        return _wrap(block.text)
    if isinstance(block, Layer):
        return [f"{prose_text(block.name)}: {block.call}"]
    if isinstance(block, Tensors):
        return _tensor_lines(block)
    if isinstance(block, Sizes):
        return _sizes_text(block)
    if isinstance(block, Choices):
        return _choices_text(block)
    if isinstance(block, ZeroInsertionSteps):
        return _zero_insertion_text(block)
    if isinstance(block, Applied):
        return [
            f"{math_text(block.product)} = {block.call}({block.vector})",
            f"      {dims_text(block.source)} -> {dims_text(block.target)}, "
            f"{prose_text(block.note)}",
        ]
    if isinstance(block, Recipe):
        lines = [line for sentence in block.lead for line in _wrap(sentence)]
        lines += [f"  {equation_line(equation)}" for equation in block.equations]
        lines += _wrap(block.code_lead)
        lines += [f"  {line}" for line in block.code.splitlines()]
        return lines + _wrap(block.after)
    if isinstance(block, MatrixShown):
        header = _matrix_header(block, latex=False) + prose_text(_sentence(block.caption))
        return [header, _text_matrix(views[(block.seed, block.transposed)], full)]
    if isinstance(block, Checks):
        width = max((len(name) for name, _ in block.rows), default=0)
        lines = [f"referee: {block.referee}"]
        for name, error in block.rows:
            verdict = "ok" if error <= block.tolerance else "FAIL"
            lines.append(f"  {name:<{width}}  max error {error:.3e}  {verdict}")
        return lines + ["all checks passed" if block.ok else "SOME CHECKS FAILED"]
    if isinstance(block, Equation):
        return [equation_line(block)]
    raise ConvSpecError(f"no text form for {type(block).__name__}")  # pragma: no cover


def _section_text(section: Section, doc: Document, views: dict[Any, Any], full: bool) -> str:
    lines = [line for block in section.blocks for line in _block_text(block, doc, views, full)]
    if not lines:
        return ""
    if section.listed:
        lines = [f"{prose_text(section.title)}:"] + [f"  {line}" for line in lines]
    return "\n".join(lines)


def document_text(doc: Document, *, full: bool = False) -> str:
    """The document for the terminal: sections apart, asides and figures left out.

    Only the printed cells of a matrix are computed; ``full`` prints every
    one (and then costs the whole matrix).
    """
    views = _views(doc)
    parts = [_section_text(section, doc, views, full) for section in doc.sections]
    return "\n\n".join(part for part in parts if part)


def _max_terms_note(spec: ConvSpec, seed: int | None) -> str:
    from .views import MAX_TERMS

    max_terms = _view(spec, seed).max_terms
    if not copies_input(spec.padding_mode) or max_terms <= MAX_TERMS:
        return ""
    return (
        f"\n  (An entry of C here sums up to {max_terms} weights; sums of more than "
        f"{MAX_TERMS} print as first + … + last, --format json lists every term.)"
    )


def show_text(
    spec: ConvSpec, *, seed: int | None = None, transposed: bool = False, full: bool = False
) -> str:
    """The text report of ``show``: symbolic weights, or random ones from ``seed``.

    Only the printed cells of C and Cᵀ are computed; ``full`` prints every
    one (and then costs the whole matrix).
    """
    doc = show_document(spec, seed=seed, transposed=transposed, figures=False)
    return document_text(doc, full=full) + _max_terms_note(spec, seed)


def verify_text(report: Any, *, transposed: bool = False) -> str:
    """What ``verify`` prints: the layers named, what was checked, the errors and the verdict."""
    return document_text(verify_document(report, transposed=transposed))


# --------------------------------------------------------------------------- show (latex, json)


def show_latex(
    spec: ConvSpec, *, seed: int | None = None, full: bool = False, transposed: bool = False
) -> str:
    """``show --format latex``: C and Cᵀ as display blocks, in the order the story shows them."""
    doc = show_document(spec, seed=seed, transposed=transposed, figures=False)
    views = _views(doc)
    most = 10**9 if full else None
    return "\n".join(
        f"\\[\n{block.name} = "
        f"{to_latex(views[(block.seed, block.transposed)], max_rows=most, max_cols=most)}\n\\]"
        for block in doc.blocks(MatrixShown)
    )


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

    if not copies_input(spec.padding_mode):
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
    if copies_input(spec.padding_mode):
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


# --------------------------------------------------------------------------- LaTeX pieces


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


# --------------------------------------------------------------------------- LaTeX


def _space(letter: str, shape: Sequence[int]) -> str:
    return f"{letter} \\in \\mathbb{{R}}^{{{dims_latex(shape)}}}"


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


def _sizes_latex(block: Sizes, width: float) -> str:
    named = [f"${symbol}$ the {words}" for symbol, words in block.symbols]
    words = prose_latex(", ".join(named[:-1]) + " and " + named[-1])
    return (
        f"Along each dimension, with {words}, the output has ${block.unknown}$ positions; the "
        "numbers of this layer, filled in:\n\n" + display_latex(block.equations, width)
    )


def _tensors_latex(block: Tensors) -> str:
    source, weight, target = block.items
    note = f" ({prose_latex(target.note)})" if target.note else ""
    return (
        f"It maps its input ${_space(source.letter, source.shape)}$ to its output "
        f"${_space(target.letter, target.shape)}${note} with weight "
        f"${_space(weight.letter, weight.shape)}$ (PyTorch's layout: "
        f"{prose_latex(weight.axes)})."
    )


def _choices_latex(block: Choices) -> str:
    rows = []
    for i, dim in enumerate(block.dims):
        sizes = ",\\ ".join(
            "\\dots" if item is None
            else f"a = {item[0]} \\mapsto {item[1]}"
            + ("\\ (\\text{this layer})" if item[0] == block.chosen[i] else "")
            for item in dim
        )
        rows.append(f"\\text{{dim {i}:}}\\quad & {sizes}")
    return _align(rows)


def _zero_insertion_latex(block: ZeroInsertionSteps) -> str:
    rows = []
    for i, step in enumerate(block.steps):
        rows.append(
            f"\\text{{dim {i}:}}\\quad {step.n} &\\xrightarrow{{\\text{{zeros}}}} {step.stretched}"
            f" \\xrightarrow{{\\text{{pad }} {step.before},\\,{step.after}}} {step.padded}"
            f" \\xrightarrow{{\\text{{conv}}}} {step.padded} - {step.span} + 1 = {step.out}"
        )
    return _align(rows)


def _code_lines(code: str, size: str = r"\small") -> str:
    """Several lines of code, each its own ragged paragraph (a long one wraps, indented)."""
    lines = "\n".join(
        f"\\hangindent=2em\\hangafter=1 {code_latex(line)}\\par" for line in code.splitlines()
    )
    return f"\\begin{{flushleft}}{size}\n{lines}\n\\end{{flushleft}}"


def _figure_latex(block: Figure, spec: ConvSpec, page: Page) -> str:
    """The figure's TikZ picture, laid out for ``page``."""
    from .tikz import placement_figure, sparsity_figure

    # Beamer's \footnotesize is 9 pt, not 8 pt: its labels need a tenth more room.
    beamer = page.kind != "article"
    width = min(page.width, 345.0) if not beamer else 275.0
    height = None if not beamer else 170.0
    if block.kind == "sparsity":
        return sparsity_figure(spec, rows=block.rows, cols=block.cols, width=width, height=height)
    return placement_figure(
        spec, block.position, transposed=block.transposed, width=width, height=height
    )


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _block_latex(block: Block, doc: Document, views: dict[Any, Any], page: Page) -> str:
    if isinstance(block, Aside):
        return _block_latex(block.block, doc, views, page)
    if isinstance(block, Prose):
        return prose_latex(block.text)
    if isinstance(block, Equation):
        return f"\\[\n{equation_latex(block)}\n\\]"
    if isinstance(block, Layer):
        about = f" ({prose_latex(block.about)})" if block.about else ""
        return _code_block(block.call, lead=f"{prose_latex(block.name)}{about} in PyTorch:")
    if isinstance(block, Tensors):
        return _tensors_latex(block)
    if isinstance(block, Sizes):
        return _sizes_latex(block, page.width)
    if isinstance(block, Choices):
        return _choices_latex(block)
    if isinstance(block, ZeroInsertionSteps):
        return _zero_insertion_latex(block)
    if isinstance(block, Applied):
        return (
            _code_block(block.call, lead=f"${block.product}$ is the layer")
            + f"\n\\noindent applied to ${block.vector}$ "
            f"(${dims_latex(block.source)} \\to {dims_latex(block.target)}$), "
            f"{prose_latex(block.note)}."
        )
    if isinstance(block, Recipe):
        lead = " ".join(prose_latex(sentence) for sentence in block.lead)
        return (
            f"{lead}\n{display_latex(block.equations, page.width)}\n\\noindent "
            f"{prose_latex(block.code_lead)}\n{_code_lines(block.code)}\n"
            f"{prose_latex(block.after)}"
        )
    if isinstance(block, MatrixShown):
        intro = _matrix_header(block, latex=True) + prose_latex(_sentence(block.caption))
        display = _matrix_display(block.name, views[(block.seed, block.transposed)], page)
        return _together(intro, display)
    if isinstance(block, Figure):
        caption = f"{prose_latex(block.title)}. {_sentence(prose_latex(block.caption))}"
        return _together(f"{caption}\\par\\medskip",
                         f"\\noindent\n{_figure_latex(block, doc.spec, page)}")
    if isinstance(block, Checks):
        from .notebook import verify_latex

        return f"\\[\n{verify_latex(block)}\n\\]"
    raise ConvSpecError(f"no LaTeX form for {type(block).__name__}")  # pragma: no cover


def document_latex(doc: Document, page: Page = ARTICLE) -> str:
    r"""The document as an article body: a ``\section*`` per section, blocks in order."""
    views = _views(doc)
    out = []
    for section in doc.sections:
        out.append(f"\\section*{{{prose_latex(section.title)}}}")
        pieces = []
        for number, block in enumerate(section.blocks):
            piece = _block_latex(block, doc, views, page)
            # A paragraph after a code block continues it: no indent.
            after_code = number and isinstance(section.blocks[number - 1], (Layer, Applied))
            if after_code and isinstance(block, (Prose, Aside, Tensors)):
                piece = "\\noindent " + piece
            pieces.append(piece)
        if section.title == "Figures":
            pieces = [("\\bigskip\n" if i else "") + piece for i, piece in enumerate(pieces)]
        out += pieces
    return "\n\n".join(out)


def _frame_geometry(doc: Document, page: Page) -> str:
    """The first frame's body: the layer's call, where it maps, its output size."""
    layer = doc.blocks(Layer)[0]
    source, _, target = doc.blocks(Tensors)[0].items
    if doc.transposed:
        product = f"C^{{\\mathsf{{T}}}} {source.letter}"
    else:
        product = f"{target.letter} = C{source.letter}"
    shapes = (
        f"${_space(source.letter, source.shape)} \\;\\mapsto\\; {product} \\in "
        f"\\mathbb{{R}}^{{{dims_latex(target.shape)}}}$"
    )
    sizes = display_latex(doc.blocks(Sizes)[0].equations, page.width)
    # A forward layer's title is its heading already; a transposed one's names only shapes.
    lead = f"{prose_latex(layer.about)}\n" if doc.transposed else ""
    return (
        f"{lead}{_code_block(layer.call, size=chr(92) + 'footnotesize')}\n{shapes}\n"
        f"{{\\small\n{sizes}\n}}"
    )


def document_frames(doc: Document, page: Page = BEAMER) -> str:
    """The document as beamer frames: the layer, each matrix, each figure."""
    views = _views(doc)
    frames = [frame(title(doc.spec, doc.transposed, latex=True), _frame_geometry(doc, page))]
    for block in doc.blocks(MatrixShown):
        rows, cols = block.shape
        frames.append(frame(
            f"${block.name}$: ${rows} \\times {cols}$",
            _matrix_display(block.name, views[(block.seed, block.transposed)], page,
                            size=r"\small"),
        ))
    for figure in doc.blocks(Figure):
        picture = _figure_latex(figure, doc.spec, page)
        frames.append(frame(
            prose_latex(figure.title),
            f"\\small {_sentence(prose_latex(figure.caption))}\\par\n\\centering\n{picture}",
        ))
    return "\n\n".join(frames) + "\n"


def export_body(
    spec: ConvSpec,
    *,
    seed: int | None = None,
    figures: bool = True,
    derivations: bool = False,
    transposed: bool = False,
    page: Page = ARTICLE,
    sparsity: Mapping[str, Any] | None = None,
) -> str:
    """The LaTeX body of ``export`` for an article (or a fragment of one).

    The document of :func:`~transpose_matrix.narrative.report.show_document`
    printed for ``page``; ``derivations`` appends the checked derivations;
    ``sparsity`` (``{"rows": …, "cols": …}``) picks what the sparsity figure shows.
    """
    doc = show_document(
        spec, seed=seed, transposed=transposed, figures=figures, sparsity=sparsity
    )
    out = [document_latex(doc, page)]
    if derivations:
        if copies_input(spec.padding_mode):
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


def export(
    spec: ConvSpec,
    *,
    seed: int | None = None,
    transposed: bool = False,
    figures: bool = True,
    derivations: bool = False,
    beamer: bool = False,
    fragment_only: bool = False,
    sparsity: Mapping[str, Any] | None = None,
) -> str:
    """The text ``export`` writes: an article, a beamer talk, or either's body as a fragment.

    ``sparsity`` (``{"rows": …, "cols": …}``) picks what the sparsity figure shows.

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
        doc = show_document(
            spec, seed=seed, transposed=transposed, figures=figures, sparsity=sparsity
        )
        frames = document_frames(doc)
        if fragment_only:
            return fragment(frames, what="beamer frames")
        return document(frames, latex_title=title(spec, transposed, latex=True), kind="beamer")
    body = export_body(
        spec, seed=seed, figures=figures, derivations=derivations, transposed=transposed,
        sparsity=sparsity,
    )
    if fragment_only:
        return fragment(body)
    return document(body, latex_title=title(spec, transposed, latex=True))
