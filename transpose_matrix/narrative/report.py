r"""The story told about one layer, once, as data: what ``show``, ``export`` and ``verify`` say.

A :class:`Document` is a titled list of :class:`Section` objects; a section
holds, in reading order, blocks of these kinds, every sentence in the
project's prose markup (``$…$`` maths, backtick code):

* :class:`~transpose_matrix.narrative.derivation.Prose`: a paragraph;
  :class:`Aside`: a paragraph a terminal summary may leave out;
* :class:`Layer`: a torch layer the matrix equals, as its call;
* :class:`Applied`: a matrix applied to a vector *is* a torch layer;
* :class:`Tensors`: the layer's input, weight and output shapes;
* :class:`Sizes`: the output-size formula and this layer's numbers in it,
  the checked sympy equations of
  :func:`~transpose_matrix.narrative.derivation.output_size_equations`;
* :class:`Choices`: the sizes the transposed layer's ``output_padding`` may
  pick, and :class:`ZeroInsertionSteps`, the zero-insertion view, both
  computed by :mod:`transpose_matrix.geometry.transposed`;
* :class:`Recipe`: Cᵀ = PᵀDᵀ of a padding mode, as torch code;
* :class:`MatrixShown`: which matrix (C or Cᵀ), which weights, what its
  rows and columns mean; the printer chooses the window;
* :class:`Figure`: which figure (sparsity, placement, scatter) around which
  position, and its caption;
* :class:`Checks`: what ``verify`` compared, and how closely it agreed.

Builders: :func:`show_document` (``show`` and ``export``, forward or
transposed), :func:`verify_document`. The sentences that say what goes where
in a row of C or a column of Cᵀ (:data:`READOUTS`, :func:`readout`) serve the
reports and the HTML page; :func:`frame_caption` captions the animations.

The printers are :mod:`transpose_matrix.render.report` (text, LaTeX
article, beamer); nothing here knows a format.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import sympy

from ..errors import ConvSpecError
from ..geometry.padding import copies_input, padding_mode, require_transposed_layer
from ..geometry.spec import ConvSpec
from ..geometry.transposed import ZeroInsertion, output_padding_choices, zero_insertion
from .derivation import Equation, Filled, Prose, output_size_equations
from .markup import describe_spec
from .readouts import READOUTS, VIEW_CAPTIONS, frame_caption, readout

if TYPE_CHECKING:
    from ..analysis.verification import VerifyReport

__all__ = [
    "READOUTS",
    "Applied",
    "Aside",
    "Block",
    "Checks",
    "Choices",
    "Document",
    "Figure",
    "Layer",
    "MatrixShown",
    "Recipe",
    "Section",
    "Sizes",
    "Tensor",
    "Tensors",
    "VIEW_CAPTIONS",
    "ZeroInsertionSteps",
    "conv_call",
    "frame_caption",
    "readout",
    "show_document",
    "transposed_call",
    "verify_document",
]

_T = r"^{\mathsf{T}}"


# --------------------------------------------------------------------------- torch calls


def _tuple(values: Sequence[Any]) -> str:
    return "(" + ", ".join(str(v) for v in values) + ("," if len(values) == 1 else "") + ")"


def conv_call(spec: ConvSpec) -> str:
    """``torch.nn.ConvNd(...)`` with this spec's arguments (padding pairs via ``F.pad``).

    A spec made from ``padding='same'``/``'valid'`` shows the string; a
    ``padding_mode`` other than ``'zeros'`` is shown as torch's argument (or
    as ``F.pad``'s ``mode`` for uneven pairs; a mode torch does not have as
    the pairs padded by ``numpy.pad``).

    >>> conv_call(ConvSpec((5,), 4, padding="same", padding_mode="reflect"))  # doctest: +ELLIPSIS
    "torch.nn.Conv1d(1, 1, kernel_size=(4,), stride=(1,), padding='same', ..., \
padding_mode='reflect', bias=False)"
    """
    mode = spec.padding_mode
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
        if copies_input(mode):
            padding += f"(mode={mode!r})"
            mode = "zeros"
    if copies_input(mode):
        extra = f", padding_mode={mode!r}"
    groups = f", groups={spec.groups}" if spec.groups != 1 else ""
    return (
        f"torch.nn.Conv{spec.ndim}d({spec.in_channels}, {spec.out_channels}, "
        f"kernel_size={_tuple(spec.kernel_size)}, stride={_tuple(spec.stride)}, "
        f"padding={padding}, dilation={_tuple(spec.dilation)}{groups}{extra}, bias=False)"
    )


def transposed_call(spec: ConvSpec) -> str | None:
    """``torch.nn.ConvTransposeNd(...)`` whose matrix is Cᵀ, or None if there is none.

    >>> transposed_call(ConvSpec.from_transposed((3,), 1, 1, 3, stride=2))
    'torch.nn.ConvTranspose1d(1, 1, kernel_size=(3,), stride=(2,), padding=(0,), \
output_padding=(0,), dilation=(1,), bias=False)'
    """
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


# --------------------------------------------------------------------------- blocks


@dataclass(frozen=True)
class Aside:
    """A block a terminal summary leaves out: a convention, an equation its words already say."""

    block: Prose | Equation


@dataclass(frozen=True)
class Layer:
    """A torch layer, by its call: ``name`` (markup) and what it is (``about``, markup)."""

    name: str
    call: str
    about: str = ""


@dataclass(frozen=True)
class Applied:
    """``product`` (maths, e.g. ``C^{\\mathsf{T}} y``) is the layer ``call`` applied to ``vector``.

    It maps ``source`` to ``target`` (shapes), with ``note`` (markup) said after.
    """

    product: str
    call: str
    vector: str
    source: tuple[int, ...]
    target: tuple[int, ...]
    note: str = ""


@dataclass(frozen=True)
class Tensor:
    """One tensor of the layer: its role, letter, shape, what its axes are, and a note."""

    role: str
    letter: str
    shape: tuple[int, ...]
    axes: str = ""
    count: bool = True
    note: str = ""

    @property
    def size(self) -> int:
        """Its number of values."""
        return int(np.prod(self.shape))


@dataclass(frozen=True)
class Tensors:
    """The input, weight and output of a layer, in the order a reader meets them."""

    items: tuple[Tensor, ...]


@dataclass(frozen=True)
class Sizes:
    """The output-size formula, what its symbols are, and the layer's numbers in it.

    ``equations`` are :func:`~transpose_matrix.narrative.derivation.output_size_equations`:
    the general formula first, the expression the derivation checks.
    """

    equations: tuple[Equation, ...]
    symbols: tuple[tuple[str, str], ...]
    unknown: str


@dataclass(frozen=True)
class Choices:
    """Per dim, the ``(output_padding, size)`` pairs the transposed layer may pick.

    ``None`` stands for values left out; ``chosen`` is this layer's
    ``output_padding`` per dim.
    """

    dims: tuple[tuple[tuple[int, int] | None, ...], ...]
    chosen: tuple[int, ...]


@dataclass(frozen=True)
class ZeroInsertionSteps:
    """The zero-insertion view, per dim.

    From :func:`~transpose_matrix.geometry.transposed.zero_insertion`.
    """

    steps: tuple[ZeroInsertion, ...]


@dataclass(frozen=True)
class Recipe:
    """Cᵀ = PᵀDᵀ of a padding mode: the ``output_padding`` equations and the torch code.

    ``lead`` is prose; ``equations`` give, per dim, ``a = N - ((o - 1)s +
    d(k - 1) + 1)`` with the numbers filled in; ``code`` runs Cᵀy in torch,
    introduced by ``code_lead`` and followed by ``after`` (markup).
    """

    lead: tuple[str, ...]
    equations: tuple[Equation, ...]
    code_lead: str
    code: str
    after: str


@dataclass(frozen=True)
class MatrixShown:
    """A matrix of the layer: ``C`` or Cᵀ (``transposed``), its weights and what it reads.

    ``name`` is maths; ``caption`` markup said after the size; ``nnz`` and
    ``weights`` (markup) are stated when given. ``seed`` None means symbolic
    weights. Which rows and columns are shown is the printer's choice.
    """

    name: str
    transposed: bool
    shape: tuple[int, int]
    caption: str
    seed: int | None = None
    nnz: int | None = None
    weights: str = ""


@dataclass(frozen=True)
class Figure:
    """A figure as data: ``kind`` (``"sparsity"``, ``"placement"``), around ``position``.

    ``transposed`` makes the placement figure the scatter one (a column of
    Cᵀ). ``title`` and ``caption`` are markup; ``title`` heads a slide.
    ``rows``/``cols`` pick what a sparsity figure shows (``--rows``/``--cols``).
    """

    kind: str
    title: str
    caption: str
    position: tuple[int, ...] = ()
    transposed: bool = False
    #: The rows and columns of C a sparsity figure draws (its structure window when None).
    rows: Any = None
    cols: Any = None


@dataclass(frozen=True)
class Checks:
    """What ``verify`` compared: ``(name, largest error)`` rows, the referee, the verdict."""

    referee: str
    rows: tuple[tuple[str, float], ...]
    tolerance: float
    ok: bool


Block = (
    Prose | Aside | Layer | Applied | Tensors | Sizes | Choices | ZeroInsertionSteps | Recipe
    | MatrixShown | Figure | Checks | Equation
)


@dataclass(frozen=True)
class Section:
    """A titled run of blocks.

    ``listed``: a terminal prints the title as a line and the blocks
    indented under it (a list of statements); otherwise a terminal leaves the
    title out and the blocks speak for themselves.
    """

    title: str
    blocks: tuple[Block, ...]
    listed: bool = False


@dataclass(frozen=True)
class Document:
    """The story of one layer: its spec, whether told as the transposed layer, its sections."""

    spec: ConvSpec
    transposed: bool
    sections: tuple[Section, ...]

    def blocks(self, kind: type) -> list[Any]:
        """Every block of type ``kind``, in reading order."""
        return [b for s in self.sections for b in s.blocks if isinstance(b, kind)]


# --------------------------------------------------------------------------- names in prose


def _index_name(letter: str, channels: int, shape: Sequence[int], flat: int) -> str:
    """``x_{1,2}``: entry ``flat`` of a ``(channels, *shape)`` tensor, channel left out when 1."""
    index = [int(i) for i in np.unravel_index(flat, (channels, *shape))]
    return f"{letter}_{{{','.join(map(str, index[1:] if channels == 1 else index))}}}"


def _weight_name(spec: ConvSpec, flat: int) -> str:
    index = [int(i) for i in np.unravel_index(flat, spec.weight_shape)]
    single = spec.in_channels == 1 and spec.out_channels == 1
    return f"w_{{{','.join(map(str, index[2:] if single else index))}}}"


def _scatter_sentence(spec: ConvSpec, j: int) -> str:
    """Markup: what input pixel ``j`` of the transposed layer adds where (column ``j`` of Cᵀ).

    Asks C only for the block of row ``j`` its kernel window can reach, so a
    layer of any size costs the window.
    """
    from ..matrices.conv import conv_matrix_entries

    out_channel, *position = np.unravel_index(j, (spec.out_channels, *spec.output_shape))
    per_group = spec.in_channels // spec.groups
    group = int(out_channel) // (spec.out_channels // spec.groups)
    reach = [
        [p * s - before + t * d for t in range(k) if 0 <= p * s - before + t * d < n]
        for p, s, (before, _), d, k, n in zip(
            position, spec.stride, spec.padding, spec.dilation, spec.kernel_size,
            spec.input_shape, strict=True,
        )
    ]
    window = np.ix_(range(group * per_group, (group + 1) * per_group), *reach)
    shape = (spec.in_channels, *spec.input_shape)
    cols = np.ravel_multi_index(np.broadcast_arrays(*window), shape).reshape(-1)
    labels = conv_matrix_entries(spec, [j], np.sort(cols))[0] if cols.size else cols
    terms = [
        (f"${_weight_name(spec, int(f))}$",
         f"${_index_name('x', spec.in_channels, spec.input_shape, int(c))}$")
        for c, f in zip(np.sort(cols).tolist(), labels.tolist(), strict=True) if f >= 0
    ]
    own = f"${_index_name('y', spec.out_channels, spec.output_shape, j)}$"
    # One maths span per product: y·w reads as a product, not as two names.
    return readout("column of Cᵀ", own, terms, limit=6).replace("$·$", r" \cdot ")


# --------------------------------------------------------------------------- show and export


def _size_symbols(spec: ConvSpec, transposed: bool) -> tuple[tuple[str, str], ...]:
    """(symbol, what it is) of the size formula, in the order the formula reads them."""
    if transposed:
        return (("o", "input size"), ("s", "stride"), ("p", "padding"), ("d", "dilation"),
                ("k", "kernel size"), ("a", "`output_padding`"))
    padding = (("p", "padding"),) if spec.is_symmetric_padding else (
        ("p_b", "padding before"), ("p_a", "padding after")
    )
    return (("n", "input size"), *padding, ("d", "dilation"), ("k", "kernel size"),
            ("s", "stride"))


def _sizes(spec: ConvSpec, transposed: bool) -> Sizes:
    return Sizes(
        output_size_equations(spec, transposed=transposed),
        _size_symbols(spec, transposed),
        "m" if transposed else "o",
    )


def _times(shape: Sequence[int]) -> str:
    return r" \times ".join(map(str, shape))


def _weights(seed: int | None) -> str:
    return "symbolic weights" if seed is None else f"random numeric weights, seed {seed}"


def _zeros_only(spec: ConvSpec) -> None:
    """Refuse a transposed-layer report for a padding mode: no ConvTransposeNd has it."""
    require_transposed_layer(spec.padding_mode, "report the convolution instead")


_GRADIENT_WORDS = "the gradient of the convolution with respect to its input"


def _gradient(words: str = _GRADIENT_WORDS) -> tuple[Prose, Equation]:
    """``Cᵀ g = ∂L/∂x`` in words, and the chain rule's equation, printed by sympy."""
    L = sympy.Symbol("L")
    # Vectors: their derivatives print as fractions, ∂L/∂x.
    x, y = sympy.MatrixSymbol("x", 1, 1), sympy.MatrixSymbol("y", 1, 1)
    C = sympy.MatrixSymbol("C", 1, 1)
    with sympy.evaluate(False):
        rhs = sympy.MatMul(sympy.Transpose(C), sympy.Derivative(L, y, evaluate=False))
    sentence = Prose(
        rf"$C{_T}\,g = \partial L/\partial x$ for $g = \partial L/\partial y$: {words}"
    )
    return sentence, Equation(sympy.Derivative(L, x, evaluate=False), rhs)


# The padded size N, less where the unpadded transposed convolution reaches.
_N, _o, _s, _d, _k = sympy.symbols("N o s d k", integer=True, positive=True)
with sympy.evaluate(False):
    _RECIPE = _N - ((_o - 1) * _s + _d * (_k - 1) + 1)


def _recipe(spec: ConvSpec) -> Recipe:
    """Cᵀ = PᵀDᵀ for a padding mode, with each ``output_padding`` checked against the recipe's."""
    from ..analysis.verification import transpose_recipe

    recipe = transpose_recipe(spec)
    equations = []
    for i in range(spec.ndim):
        values = {_N: recipe.padded_shape[i], _o: spec.output_shape[i], _s: spec.stride[i],
                  _d: spec.dilation[i], _k: spec.kernel_size[i]}
        filled = Filled(_RECIPE, values)
        if filled.doit() != recipe.output_padding[i]:  # pragma: no cover - a broken recipe
            raise ConvSpecError(f"the recipe's output_padding {recipe.output_padding} "
                                f"disagrees with {sympy.sstr(_RECIPE)} in dim {i}")
        name = sympy.Symbol(f"a_{i}" if spec.ndim > 1 else "a")
        equations.append(Equation(name, filled, filled.doit()))
    mode = spec.padding_mode
    lead = (
        f"$C{_T}$ is the input gradient but no `ConvTransposeNd` (torch's transposed layers "
        f"pad with zeros): $C{_T} = P{_T} D{_T}$, a zero-padded transposed convolution onto "
        f"the padded grid, then $P{_T}$ folds each border entry back onto the input entry it "
        "copied.",
        f"$P$ pads by {mode} (copies input entries into the border), $D$ convolves the padded "
        "grid without padding, so $C = DP$.",
        "Its `output_padding` $a$ is the padded size $N$ less where the transposed "
        "convolution without padding reaches, per dim:",
    )
    shape = _times((1, spec.out_channels, *spec.output_shape))
    return Recipe(
        lead, tuple(equations), f"In torch, with $y$ of shape ${shape}$ and $w$ the weight above:",
        recipe.code(), f"$x$ is $C{_T}y$, shaped like the input.",
    )


def _figures(
    spec: ConvSpec, transposed: bool, sparsity: Mapping[str, Any] | None = None
) -> list[Figure]:
    """The sparsity figure (its window from ``sparsity``), then the placement or scatter one."""
    center = tuple(n // 2 for n in spec.output_shape)
    where = ",".join(map(str, center))
    window = dict(sparsity or {})
    figures = [
        Figure("sparsity", "The sparsity pattern of $C$",
               "each entry coloured by its kernel tap:",
               rows=window.get("rows"), cols=window.get("cols"))
    ]
    if copies_input(spec.padding_mode):
        return figures  # the placement figure draws zero padding only
    if transposed:
        figures.append(Figure(
            "placement", f"The scatter: a column of $C{_T}$",
            f"input pixel $y_{{{where}}}$ of the transposed layer stamps its kernel-weighted "
            f"patch into the output; that patch is a column of $C{_T}$:",
            center, True,
        ))
    else:
        figures.append(Figure(
            "placement", "One placement: a row of $C$",
            f"the kernel placed for output position $({where})$, and the row of $C$ it produces:",
            center, False,
        ))
    return figures


def show_document(
    spec: ConvSpec,
    *,
    seed: int | None = None,
    transposed: bool = False,
    figures: bool = True,
    sparsity: Mapping[str, Any] | None = None,
) -> Document:
    """The story of ``show`` and ``export``: around C (forward) or the transposed layer.

    Forward: the layer, its output size, C, Cᵀ, what Cᵀ computes, figures.
    Transposed: the layer, its output size and the sizes ``output_padding``
    could pick, Cᵀ, the scatter view, the zero-insertion view, the forward C,
    the gradient, figures. ``figures`` adds the figure blocks (2-D and 1-D);
    ``sparsity`` (``{"rows": …, "cols": …}``) picks what the sparsity figure
    shows.

    Raises
    ------
    ConvSpecError
        ``transposed`` with a ``padding_mode`` other than ``'zeros'``.

    Examples
    --------
    >>> doc = show_document(ConvSpec((4, 4), 3))
    >>> [section.title for section in doc.sections][:3]
    ['Geometry', 'Output size', 'The matrix $C$']
    """
    from ..matrices.conv import conv_matrix_nnz

    if transposed:
        _zeros_only(spec)
    rows, cols = spec.matrix_shape
    nnz = conv_matrix_nnz(spec)
    weights = _weights(seed)
    if copies_input(spec.padding_mode):
        weights += " (an entry sums the weights of the taps that read the same input entry)"
    sections = (
        _transposed_sections(spec, seed, nnz, weights)
        if transposed
        else _forward_sections(spec, seed, nnz, weights)
    )
    if figures and spec.ndim <= 2:
        sections.append(Section("Figures", tuple(_figures(spec, transposed, sparsity))))
    return Document(spec, transposed, tuple(sections))


_CONVENTION = (
    "It is a cross-correlation (no kernel flip); $x$ and $y$ are flattened in C order over "
    "(channel, position)."
)


def _forward_sections(
    spec: ConvSpec, seed: int | None, nnz: int, weights: str
) -> list[Section]:
    rows, cols = spec.matrix_shape
    tensors = Tensors((
        Tensor("input", "x", (spec.in_channels, *spec.input_shape), "channels × spatial"),
        Tensor("weight", "w", spec.weight_shape,
               "out_channels × in_channels/groups × kernel", count=False),
        Tensor("output", "y", (spec.out_channels, *spec.output_shape)),
    ))
    layer = transposed_call(spec)
    computes: list[Block]
    if copies_input(spec.padding_mode):
        computes = [_recipe(spec)]
    elif layer is None:
        computes = [Prose(
            f"$C{_T}\\,y$ is no single `ConvTransposeNd` layer (this padding has no "
            f"(`padding`, `output_padding`) equivalent), but $C{_T}$ is still the gradient "
            "below"
        )]
    else:
        computes = [Applied(
            f"C{_T}\\,y", layer, "y", (spec.out_channels, *spec.output_shape),
            (spec.in_channels, *spec.input_shape), "with the same weight $w$",
        )]
    sentence, chain = _gradient()
    return [
        Section("Geometry", (
            Layer("Convolution", conv_call(spec), describe_spec(spec)),
            tensors,
            Aside(Prose(_CONVENTION)),
        )),
        Section("Output size", (_sizes(spec, False),)),
        Section("The matrix $C$", (MatrixShown(
            "C", False, (rows, cols),
            r"$y = C\,x$ (row = output position, column = input position)", seed, nnz, weights,
        ),)),
        Section(f"The transpose $C{_T}$", (MatrixShown(
            f"C{_T}", True, (cols, rows), f"Column $j$ of $C{_T}$ is row $j$ of $C$.", seed,
        ),)),
        Section(f"What $C{_T}$ computes", (*computes, sentence, Aside(chain)), listed=True),
    ]


def _transposed_sections(
    spec: ConvSpec, seed: int | None, nnz: int, weights: str
) -> list[Section]:
    rows, cols = spec.matrix_shape
    layer = spec.transposed_arguments()
    assert layer is not None  # _zeros_only and from_transposed specs guarantee one
    call = transposed_call(spec)
    assert call is not None
    tensors = Tensors((
        Tensor("input", "y", (spec.out_channels, *spec.output_shape), "channels × spatial"),
        Tensor("weight", "w", spec.weight_shape,
               "in_channels × out_channels/groups × kernel", count=False),
        Tensor("output", "x", (spec.in_channels, *spec.input_shape),
               note="the shape of the forward convolution's input"),
    ))
    center = tuple(n // 2 for n in spec.output_shape)
    j = int(np.ravel_multi_index((0, *center), (spec.out_channels, *spec.output_shape)))
    sentence, chain = _gradient("the same matrix is the input gradient of that convolution")
    return [
        Section("The layer", (
            Layer("Transposed convolution", call, describe_spec(spec, transposed=True)),
            tensors,
            Aside(Prose(
                f"Its matrix is $C{_T}$, the transpose of the matrix $C$ of the forward "
                "convolution below, which maps the output's shape back to the input's. Here "
                "`padding` is that forward convolution's padding: it is cropped from the output."
            )),
        )),
        Section("Output size", (
            _sizes(spec, True),
            Prose(
                "The input size alone does not fix the output size: the forward convolution "
                f"rounds down, so it maps every size with $a < s$ back to "
                f"${_times(spec.output_shape)}$. `output_padding` "
                r"$a$ ($0 \le a < \max(s, d)$) picks one:"
            ),
            Choices(
                tuple(tuple(dim) for dim in output_padding_choices(spec)),
                tuple(layer["output_padding"]),
            ),
        )),
        Section(f"The matrix $C{_T}$", (MatrixShown(
            f"C{_T}", True, (cols, rows),
            f"$x = C{_T}\\,y$ (row = output position, column = input position)",
            seed, nnz, weights,
        ),)),
        Section("The scatter view", (
            Prose(
                f"Column $j$ of $C{_T}$ is what input pixel $y_j$ contributes: $y_j \\cdot w_t$ is "
                "added at output position $j s - p + t d$ for every kernel tap $t$ that lands "
                "inside the output. Each input pixel stamps a kernel-weighted patch, and "
                "neighbouring patches overlap where the kernel is wider than the stride."
            ),
            Prose(f"Column {j}: {_scatter_sentence(spec, j)}."),
        )),
        Section("The zero-insertion view", (
            Prose(
                "The same output is a stride-1 convolution of a stretched input: insert "
                "$s - 1$ zeros between neighbouring entries of $y$, pad $d(k - 1) - p$ zeros "
                "before and $d(k - 1) - p + a$ after (a negative amount crops), and "
                "cross-correlate with the kernel flipped in every spatial dimension and its "
                "two channel axes swapped:"
            ),
            ZeroInsertionSteps(tuple(zero_insertion(spec) or ())),
        )),
        Section("The forward convolution $C$", (
            Layer("Forward convolution", conv_call(spec)),
            MatrixShown(
                "C", False, (rows, cols),
                f"the convolution this layer transposes; column $j$ of $C{_T}$ is row $j$ "
                "of $C$.", seed,
            ),
        )),
        Section("Gradient", (sentence, Aside(chain))),
    ]


# --------------------------------------------------------------------------- verify

#: What each check of the transposed layer says about it.
_TRANSPOSED_CHECKS = {
    "C.T @ y vs conv_transpose": f"its output is $C{_T}y$",
    "C @ h vs conv_transpose's autograd input gradient": "its input gradient is $Ch$",
}


def verify_document(report: VerifyReport, *, transposed: bool = False) -> Document:
    """What ``verify`` says: the layers it names and the checks it made, as a document.

    The forward convolution is always named. With ``transposed`` the
    transposed layer is named too (or the reason there is none), with what
    was checked for it: Cᵀ is that layer (``C.T @ y``) and the gradient
    relations, Cᵀ the input gradient of C and C that of the transposed layer.

    Examples
    --------
    >>> from transpose_matrix.analysis.verification import VerifyReport
    >>> spec = ConvSpec.from_transposed((3,), 1, 1, 3, stride=2)
    >>> doc = verify_document(VerifyReport(spec, "test", {"a": 0.0}), transposed=True)
    >>> [block.name for block in doc.blocks(Layer)]
    ['Convolution', 'Transposed convolution']
    """
    spec = report.spec
    blocks: list[Block] = [Layer("Convolution", conv_call(spec))]
    if transposed:
        call = transposed_call(spec)
        if call is None:
            blocks.append(Prose(
                "Transposed convolution: none; no `ConvTransposeNd` has this $C^{\\mathsf{T}}$"
            ))
        else:
            blocks.append(Layer("Transposed convolution", call))
            checked = [
                f"{words} (`{name}`)" for name, words in _TRANSPOSED_CHECKS.items()
                if name in report.errors
            ]
            blocks.append(Prose(
                "Checked for it: " + "; ".join(checked) + "."
                if checked
                else "Checked for it: nothing apart from $C$ itself; the layer is compared "
                "only against torch."
            ))
    blocks.append(Checks(
        report.referee, tuple(report.errors.items()), report.tolerance, report.ok
    ))
    return Document(spec, transposed, (Section("Verification", tuple(blocks)),))
