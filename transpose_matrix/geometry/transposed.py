r"""The transposed layer's size facts: the sizes ``output_padding`` may pick, zero insertion.

Both are arithmetic on a :class:`~transpose_matrix.geometry.spec.ConvSpec`
whose Cᵀ is a ``ConvTransposeNd`` layer (see
:meth:`~transpose_matrix.geometry.spec.ConvSpec.transposed_arguments`), and
both call the one size formula,
:func:`~transpose_matrix.geometry.shapes.transposed_conv_output_size`, and
the kernel span :func:`~transpose_matrix.geometry.shapes.effective_kernel_size`
rather than writing them again. Reports narrate these numbers; they do not
compute them.
"""

from __future__ import annotations

from dataclasses import dataclass

from .shapes import effective_kernel_size, transposed_conv_output_size
from .spec import ConvSpec

__all__ = ["ZeroInsertion", "output_padding_choices", "zero_insertion"]


def output_padding_choices(spec: ConvSpec, most: int = 6) -> list[list[tuple[int, int] | None]]:
    """Per dim, the legal ``(output_padding, output size)`` pairs of the transposed layer.

    ``m(a) = transposed_conv_output_size(o, k, s, p, a, d)`` for ``a`` in
    ``[0, max(stride, dilation))``, leaving out the values whose size would
    not be positive. Of more than ``most`` values, the first ``most - 2``
    and the last two are listed with ``None`` between them (a dilation of
    10⁹ allows 10⁹ values). The sizes with ``a < stride`` all convolve back
    to the layer's input size. An empty list when no transposed layer has
    this C.

    Examples
    --------
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
        # The size grows by one per step of a: the largest value fixes them all
        # (the formula refuses the sizes that are not positive).
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
    ``span = d(k - 1) + 1``: ``padded - span + 1 = out`` outputs, the
    layer's output size.
    """

    n: int
    stride: int
    stretched: int
    before: int
    after: int
    padded: int
    span: int
    out: int


def zero_insertion(spec: ConvSpec) -> list[ZeroInsertion] | None:
    """The zero-insertion view of Cᵀ per dim, or None when no transposed layer has this C.

    Examples
    --------
    >>> step, = zero_insertion(ConvSpec.from_transposed((3,), 1, 1, 3, stride=2, padding=1,
    ...                                                 output_padding=1))
    >>> step.stretched, step.before, step.after, step.padded, step.out
    (5, 1, 2, 8, 6)
    """
    layer = spec.transposed_arguments()
    if layer is None:
        return None
    steps = []
    for i in range(spec.ndim):
        n, s, k, d = spec.output_shape[i], spec.stride[i], spec.kernel_size[i], spec.dilation[i]
        span = effective_kernel_size(k, d)
        # Stretching is a transposed convolution with a one-tap kernel.
        stretched = transposed_conv_output_size(n, 1, s)
        before = span - 1 - layer["padding"][i]
        after = before + layer["output_padding"][i]
        out = transposed_conv_output_size(
            n, k, s, layer["padding"][i], layer["output_padding"][i], d
        )
        steps.append(
            ZeroInsertion(n, s, stretched, before, after, stretched + before + after, span, out)
        )
    return steps
