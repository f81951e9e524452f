"""What ``show`` and ``export`` narrate: the reports around C and Cᵀ.

Each report is a function of the geometry and a few options, so the command
line only parses arguments and picks one: :func:`show_text`,
:func:`show_latex`, :func:`show_json` (``show --format``) and
:func:`export_body` (``export``). The pieces they share, the torch calls a
matrix equals (:func:`conv_call`, :func:`transposed_call`) and the size
arithmetic (:func:`size_lines`), live here too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "conv_call",
    "export_body",
    "show_json",
    "show_latex",
    "show_text",
    "size_lines",
    "transposed_call",
]


def _shape(channels: int, spatial: Sequence[int]) -> str:
    return " × ".join(str(n) for n in (channels, *spatial))


def _tuple(values: Sequence[Any]) -> str:
    return "(" + ", ".join(str(v) for v in values) + ("," if len(values) == 1 else "") + ")"


def conv_call(spec: Any) -> str:
    """``torch.nn.ConvNd(...)`` with this spec's arguments (padding pairs via ``F.pad``)."""
    if spec.is_symmetric_padding:
        padding = _tuple([before for before, _ in spec.padding])
    else:
        padding = _tuple([tuple(pair) for pair in spec.padding]) + " via F.pad"
    groups = f", groups={spec.groups}" if spec.groups != 1 else ""
    return (
        f"torch.nn.Conv{spec.ndim}d({spec.in_channels}, {spec.out_channels}, "
        f"kernel_size={_tuple(spec.kernel_size)}, stride={_tuple(spec.stride)}, "
        f"padding={padding}, dilation={_tuple(spec.dilation)}{groups}, bias=False)"
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


def size_lines(spec: Any, transposed: bool = False) -> list[str]:
    """The output-size arithmetic of every dim with the numbers filled in."""
    lines = []
    if transposed:
        layer = spec.transposed_arguments()
        lines.append(
            "Output size of the transposed layer, per dim: "
            "(n - 1)·s - 2p + d·(k - 1) + output_padding + 1"
        )
        for i in range(spec.ndim):
            n, s, p = spec.output_shape[i], spec.stride[i], layer["padding"][i]
            k, d, a = spec.kernel_size[i], spec.dilation[i], layer["output_padding"][i]
            lines.append(
                f"  dim {i}: ({n} - 1)·{s} - 2·{p} + {d}·({k} - 1) + {a} + 1 = "
                f"{spec.input_shape[i]}"
            )
        return lines
    lines.append("Output size per dim: floor((n + p_before + p_after - d·(k - 1) - 1) / s) + 1")
    for i in range(spec.ndim):
        n, (before, after) = spec.input_shape[i], spec.padding[i]
        k, s, d = spec.kernel_size[i], spec.stride[i], spec.dilation[i]
        lines.append(
            f"  dim {i}: floor(({n} + {before} + {after} - {d}·({k} - 1) - 1) / {s}) + 1 = "
            f"{spec.output_shape[i]}"
        )
    return lines


def _label_matrix(spec: Any) -> Any:
    """C as CSR whose entries are ``1 + flat weight index`` (numpy/scipy only)."""
    from ..matrix import weight_label_matrix

    return weight_label_matrix(spec)


def _weight(spec: Any, seed: int) -> Any:
    from ..verification import random_weight

    return random_weight(spec, seed)


# --------------------------------------------------------------------------- show


class _SparseCells:
    """Entry texts of a sparse label matrix, looked up only where shown.

    ``render`` indexes the rows and columns it keeps, so even a C with
    millions of rows costs only the printed window.
    """

    def __init__(self, matrix: Any, names: list[str]) -> None:
        self._matrix = matrix.tocsr()
        self._matrix.sort_indices()
        self._names = names

    def __len__(self) -> int:
        return self._matrix.shape[0]

    def __getitem__(self, i: int) -> _SparseRow:
        start, stop = self._matrix.indptr[i], self._matrix.indptr[i + 1]
        return _SparseRow(
            self._matrix.indices[start:stop],
            self._matrix.data[start:stop],
            self._names,
            self._matrix.shape[1],
        )


class _SparseRow:
    def __init__(self, columns: Any, labels: Any, names: list[str], length: int) -> None:
        self._columns, self._labels, self._names, self._length = columns, labels, names, length

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, j: int) -> str:
        import numpy as np

        k = int(np.searchsorted(self._columns, j))
        if k < len(self._columns) and self._columns[k] == j:
            return self._names[int(self._labels[k]) - 1]
        return ""


def _text_matrices(spec: Any, seed: int | None) -> tuple[Any, list[str]]:
    from .text import kernel_labels

    pattern = _label_matrix(spec)
    if seed is not None:
        values = _weight(spec, seed).reshape(-1)
        names = [f"{v:.2f}" for v in values]
    else:
        names = kernel_labels(spec.weight_shape)
    return pattern, names


def _render(spec: Any, pattern: Any, names: list[str], transposed: bool, full: bool) -> str:
    from .text import blocks_of, position_labels, render, terminal_width

    x = position_labels("x", spec.in_channels, spec.input_shape)
    y = position_labels("y", spec.out_channels, spec.output_shape)
    x_blocks = blocks_of(spec.in_channels, spec.input_shape)
    y_blocks = blocks_of(spec.out_channels, spec.output_shape)
    width = None if full else terminal_width()
    max_rows = None if full else 40
    if transposed:
        pattern = pattern.T
        x, y, x_blocks, y_blocks = y, x, y_blocks, x_blocks
    return render(
        _SparseCells(pattern, names),
        row_labels=y,
        col_labels=x,
        row_blocks=y_blocks,
        col_blocks=x_blocks,
        width=width,
        max_rows=max_rows,
        cell_width=max(len(name) for name in names),
    )


def show_text(
    spec: Any, *, seed: int | None = None, transposed: bool = False, full: bool = False
) -> str:
    """The text report of ``show``: symbolic weights, or random ones from ``seed``."""
    rows, cols = spec.matrix_shape
    weights = "symbolic weights"
    if seed is not None:
        weights = f"random numeric weights, seed {seed}"
    out = []
    layer = transposed_call(spec)
    if transposed:
        out.append(f"Transposed convolution: {layer}")
        out.append(
            f"  maps {_shape(spec.out_channels, spec.output_shape)} -> "
            f"{_shape(spec.in_channels, spec.input_shape)}; its matrix is Cᵀ of the forward "
            "convolution"
        )
        out.append(f"Forward convolution: {conv_call(spec)}")
    else:
        out.append(f"Convolution: {conv_call(spec)}")
    out.append(
        f"  input  x: {_shape(spec.in_channels, spec.input_shape)}  (channels × spatial), "
        f"{cols} values"
    )
    out.append(
        f"  weight w: {' × '.join(str(n) for n in spec.weight_shape)}  "
        "(out_channels × in_channels/groups × kernel)"
    )
    out.append(f"  output y: {_shape(spec.out_channels, spec.output_shape)}, {rows} values")
    out.append("")
    out += size_lines(spec, transposed)
    if transposed:
        out.append("  (the forward convolution maps these sizes back:)")
        out += ["  " + line for line in size_lines(spec)[1:]]
    out.append("")
    pattern, names = _text_matrices(spec, seed)
    nnz = pattern.nnz
    out.append(
        f"C: {rows} × {cols}, {nnz} stored entries, {weights}. y = C x "
        "(row = output position, column = input position)"
    )
    out.append(_render(spec, pattern, names, transposed=False, full=full))
    out.append("")
    out.append(f"Cᵀ: {cols} × {rows}. Column j of Cᵀ is row j of C.")
    out.append(_render(spec, pattern, names, transposed=True, full=full))
    out.append("")
    out.append("What Cᵀ computes:")
    if layer is None:
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


def _symbolic_or_numeric(spec: Any, seed: int | None) -> Any:
    if seed is not None:
        from ..matrix import conv_matrix

        return conv_matrix(spec, _weight(spec, seed))
    from ..symbolic import symbolic_conv_matrix

    return symbolic_conv_matrix(spec)


def show_latex(spec: Any, *, seed: int | None = None, full: bool = False) -> str:
    """``show --format latex``: C and Cᵀ as display blocks."""
    from .latex import to_latex

    matrix = _symbolic_or_numeric(spec, seed)
    limits = {"max_rows": 10**9, "max_cols": 10**9} if full else {}
    return (
        f"\\[\nC = {to_latex(matrix, **limits)}\n\\]\n"
        f"\\[\nC^{{\\mathsf{{T}}}} = {to_latex(matrix.T, **limits)}\n\\]"
    )


def show_json(spec: Any, *, seed: int | None = None) -> str:
    """``show --format json``: spec fields, shapes, nnz and C as triplets."""
    import json

    pattern = _label_matrix(spec).tocoo()
    if seed is not None:
        values = _weight(spec, seed).reshape(-1)
        entry = [float(values[v - 1]) for v in pattern.data]
    else:
        import itertools

        single = spec.in_channels == 1 and spec.out_channels == 1
        names = []
        for index in itertools.product(*(range(n) for n in spec.weight_shape)):
            label = index[2:] if single else index
            names.append("w_{" + ",".join(str(i) for i in label) + "}")
        entry = [names[v - 1] for v in pattern.data]
    layer = spec.transposed_arguments()
    data = {
        "spec": {
            "input_shape": list(spec.input_shape),
            "kernel_size": list(spec.kernel_size),
            "stride": list(spec.stride),
            "padding": [list(pair) for pair in spec.padding],
            "dilation": list(spec.dilation),
            "in_channels": spec.in_channels,
            "out_channels": spec.out_channels,
            "groups": spec.groups,
        },
        "output_shape": list(spec.output_shape),
        "weight_shape": list(spec.weight_shape),
        "matrix_shape": list(spec.matrix_shape),
        "nnz": int(pattern.nnz),
        "weights": "numeric" if seed is not None else "symbolic",
        "seed": seed,
        "transposed_layer": None
        if layer is None
        else {key: list(v) if isinstance(v, tuple) else v for key, v in layer.items()},
        "entries": [
            [int(r), int(c), e] for r, c, e in zip(pattern.row, pattern.col, entry, strict=True)
        ],
    }
    return json.dumps(data, indent=1)


# --------------------------------------------------------------------------- export


def export_body(
    spec: Any,
    *,
    seed: int | None = None,
    figures: bool = True,
    derivations: bool = False,
) -> str:
    """The LaTeX body of ``export``: geometry, sizes, C, Cᵀ, gradient, figures."""
    from .latex import escape_text, math_block, spec_latex, to_latex

    matrix = _symbolic_or_numeric(spec, seed)
    out = [r"\section*{Geometry}", math_block(spec_latex(spec))]
    out.append(
        f"Input $x \\in \\mathbb{{R}}^{{{spec.in_channels} \\times "
        + " \\times ".join(str(n) for n in spec.input_shape)
        + "}$, weight $w \\in \\mathbb{R}^{"
        + " \\times ".join(str(n) for n in spec.weight_shape)
        + f"}}$ (PyTorch layout), output $y \\in \\mathbb{{R}}^{{{spec.out_channels} \\times "
        + " \\times ".join(str(n) for n in spec.output_shape)
        + "}$. Cross-correlation (no kernel flip); $x$ and $y$ are flattened in C order "
        "over (channel, position)."
    )
    out.append(r"\section*{Output size}")
    rows = []
    for i in range(spec.ndim):
        n, (before, after) = spec.input_shape[i], spec.padding[i]
        k, s, d = spec.kernel_size[i], spec.stride[i], spec.dilation[i]
        rows.append(
            f"o_{{{i}}} &= \\left\\lfloor \\frac{{{n} + {before} + {after} - {d}({k} - 1) - 1}}"
            f"{{{s}}} \\right\\rfloor + 1 = {spec.output_shape[i]}"
        )
    out.append(
        "Along each dimension, $o = \\lfloor (n + p_{\\mathrm{before}} + p_{\\mathrm{after}}"
        " - d(k - 1) - 1)/s \\rfloor + 1$:"
    )
    out.append("\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}")
    rows_, cols_ = spec.matrix_shape
    kind = "random numeric weights" if seed is not None else "the kernel entries"
    out.append(r"\section*{The matrix $C$}")
    out.append(
        f"The convolution is $y = C x$ with $C$ of size ${rows_} \\times {cols_}$, "
        f"holding {kind}:"
    )
    out.append(math_block("C = " + to_latex(matrix)))
    out.append(r"\section*{The transpose $C^{\mathsf{T}}$}")
    out.append(math_block("C^{\\mathsf{T}} = " + to_latex(matrix.T)))
    layer = transposed_call(spec)
    out.append(r"\section*{What $C^{\mathsf{T}}$ computes}")
    if layer is not None:
        out.append(
            f"$C^{{\\mathsf{{T}}}} y$ is the transposed convolution "
            f"\\texttt{{{escape_text(layer)}}} applied to $y$, with the same weight $w$."
        )
    else:
        out.append(
            "No single transposed-convolution layer has this padding, but "
            "$C^{\\mathsf{T}}$ is still the gradient below."
        )
    out.append(
        "For any loss $L$, the chain rule through $y = Cx$ gives the input gradient of "
        "the convolution:"
    )
    out.append(
        math_block(
            r"\frac{\partial L}{\partial x} = C^{\mathsf{T}} \frac{\partial L}{\partial y}"
        )
    )
    if figures and spec.ndim <= 2:
        from .tikz import placement_figure, sparsity_figure

        out.append(r"\section*{Figures}")
        out.append(
            "The sparsity pattern of $C$, each entry coloured by its kernel tap:\n\n"
            "\\medskip\\noindent\n" + sparsity_figure(spec)
        )
        out.append(
            "\\bigskip\\noindent One placement of the kernel (output position 0) and the "
            "row of $C$ it produces:\n\n\\medskip\\noindent\n" + placement_figure(spec, 0)
        )
    if derivations:
        from ..derivation import output_size_derivation
        from ..gradient import gradient_derivation

        out.append(to_latex(output_size_derivation(spec)))
        out.append(to_latex(gradient_derivation(spec)))
    return "\n\n".join(out) + "\n"


