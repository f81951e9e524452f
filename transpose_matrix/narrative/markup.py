r"""The project's prose markup, and a layer's geometry written in it.

Derivations, headings and captions are written in one small markup: ``$…$``
is inline LaTeX maths, ```…``` is code, everything else is plain text. This
module owns its grammar (:func:`check_markup`, :func:`markup_pieces`) and the
sentence that describes a layer (:func:`describe_spec`); the printers of
:mod:`transpose_matrix.render.prose` turn markup into LaTeX, text and HTML.
It imports no printer, so the narrative model can validate its prose at
construction without loading the presentation layer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from ..errors import ConvSpecError, ConvSpecTypeError
from ..geometry.padding import copies_input
from ..geometry.spec import ConvSpec

__all__ = ["check_markup", "describe_spec", "dims_latex", "markup_pieces"]

_MARKUP = re.compile(r"\$([^$]*)\$|`([^`]*)`")


def check_markup(markup: Any) -> str:
    """``markup`` if it is a string whose ``$`` and backticks pair up, else an error.

    Raises
    ------
    ConvSpecTypeError
        ``markup`` is not a string.
    ConvSpecError
        A ``$`` or a backtick has no partner.

    Examples
    --------
    >>> check_markup("a `b` $c$")
    'a `b` $c$'
    """
    if not isinstance(markup, str):
        raise ConvSpecTypeError(f"prose={markup!r} must be a string")
    for mark in "$`":
        if markup.count(mark) % 2:
            raise ConvSpecError(f"prose {markup!r} has an unmatched '{mark}'")
    return markup


def markup_pieces(markup: str) -> list[tuple[str, str]]:
    """``(kind, content)`` pieces of ``markup``: ``"text"``, ``"math"`` or ``"code"``.

    Examples
    --------
    >>> markup_pieces("a `b` $c$")
    [('text', 'a '), ('code', 'b'), ('text', ' '), ('math', 'c')]
    """
    check_markup(markup)
    pieces = []
    position = 0
    for match in _MARKUP.finditer(markup):
        if match.start() > position:
            pieces.append(("text", markup[position : match.start()]))
        if match.group(1) is not None:
            pieces.append(("math", match.group(1)))
        else:
            pieces.append(("code", match.group(2)))
        position = match.end()
    if position < len(markup):
        pieces.append(("text", markup[position:]))
    return pieces


def dims_latex(values: Iterable[Any]) -> str:
    r"""``5 \times 5``: a shape in maths.

    >>> dims_latex((1, 4, 4))
    '1 \\times 4 \\times 4'
    """
    return r" \times ".join(str(v) for v in values)



def _times(values: Sequence[Any]) -> str:
    # Braced: a line never breaks inside 5 × 5.
    return "{" + dims_latex(values) + "}"


def _per_dim(values: Sequence[Any]) -> str:
    """``3`` when every dim agrees, else ``${3 \times 2}$``."""
    return str(values[0]) if len(set(values)) == 1 else f"${_times(values)}$"


def describe_spec(spec: ConvSpec, transposed: bool = False) -> str:
    r"""A layer's geometry in prose markup: ``$5 \times 5$ input, $3 \times 3$ kernel, …``.

    Stride, padding, dilation, channels and groups are named only when they
    are not the defaults; asymmetric padding says what goes before and after.
    With ``transposed`` it describes the transposed layer whose matrix is Cᵀ:
    its input is the forward output, its ``padding`` the forward
    convolution's, ``output_padding`` is named when not 0, and the channels
    run the other way. Print it with :func:`~transpose_matrix.render.prose.prose_latex` or
    :func:`~transpose_matrix.render.prose.prose_text`.

    Examples
    --------
    >>> describe_spec(ConvSpec((5, 5), 3, stride=2, padding=1))
    '${5 \\times 5}$ input, ${3 \\times 3}$ kernel, stride 2, padding 1'
    >>> describe_spec(ConvSpec(9, 3, padding=[(2, 1)], in_channels=2, out_channels=4, groups=2))
    'input of length 9, kernel of size 3, padding 2 before and 1 after, 2 to 4 channels in 2 groups'
    >>> spec = ConvSpec.from_transposed((3, 3), 1, 1, 3, stride=(2, 1), padding=1,
    ...                                 output_padding=(1, 0))
    >>> describe_spec(spec, transposed=True).split(", ")[2:]
    ['stride ${2 \\times 1}$', 'padding 1', '`output_padding` ${1 \\times 0}$']
    """
    if not isinstance(spec, ConvSpec):
        raise ConvSpecTypeError(f"spec={spec!r} must be a ConvSpec")
    layer = spec.transposed_arguments() if transposed else None
    shape = spec.output_shape if transposed else spec.input_shape
    if spec.ndim == 1:
        parts = [f"input of length {shape[0]}", f"kernel of size {spec.kernel_size[0]}"]
    else:
        parts = [f"${_times(shape)}$ input", f"${_times(spec.kernel_size)}$ kernel"]
    if any(s != 1 for s in spec.stride):
        parts.append(f"stride {_per_dim(spec.stride)}")
    if layer is not None:
        if any(layer["padding"]):
            parts.append(f"padding {_per_dim(layer['padding'])}")
    elif any(pair != (0, 0) for pair in spec.padding):
        if spec.is_symmetric_padding:
            parts.append(f"padding {_per_dim([before for before, _ in spec.padding])}")
        else:
            before = _per_dim([b for b, _ in spec.padding])
            after = _per_dim([a for _, a in spec.padding])
            parts.append(f"padding {before} before and {after} after")
    if copies_input(spec.padding_mode):
        parts.append(f"`padding_mode='{spec.padding_mode}'`")
    if any(d != 1 for d in spec.dilation):
        parts.append(f"dilation {_per_dim(spec.dilation)}")
    if layer is not None and any(layer["output_padding"]):
        parts.append(f"`output_padding` {_per_dim(layer['output_padding'])}")
    if spec.in_channels != 1 or spec.out_channels != 1:
        source, target = spec.in_channels, spec.out_channels
        if transposed:
            source, target = target, source
        channels = f"{source} channels" if source == target else f"{source} to {target} channels"
        if spec.groups != 1:
            channels += f" in {spec.groups} groups"
        parts.append(channels)
    return ", ".join(parts)
