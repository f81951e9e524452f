"""The frozen geometry of one convolution layer.

Conventions, stated once for the whole package:

* **Cross-correlation**, as in PyTorch: output position ``j`` reads input
  position ``j*stride - padding_before + t*dilation`` for kernel tap ``t``;
  the kernel is not flipped.
* **Weight layout** ``(out_channels, in_channels // groups, *kernel_size)``,
  PyTorch's ``Conv`` layout and also the layout of the ``ConvTranspose`` layer
  whose matrix is the transpose.
* **Flattening**: rows and columns of the matrix C flatten ``(channel,
  *spatial)`` of one sample in C order, like ``tensor.reshape(-1)``.
* **Padding of a transposed layer** means the padding of its forward
  convolution. ``output_padding`` picks one of the ``stride`` input sizes that
  the forward convolution maps to the same output size.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import ConvSpecError, ConvSpecTypeError
from .padding import check_padding_mode, copies_input, string_padding
from .shapes import (
    MAX_INT,
    _plain,
    as_int,
    as_pair,
    as_shape,
    conv_output_size,
    describe,
    effective_kernel_size,
    per_dim,
    transposed_conv_output_size,
)

__all__ = ["ConvSpec", "as_spec"]

#: What ``padding=`` accepts: an int, one per dim, (before, after) pairs per
#: dim, or torch's strings ``'same'`` and ``'valid'`` (see :mod:`.padding`).
PaddingArgument = int | str | Sequence[int] | Sequence[tuple[int, int]] | Sequence[Sequence[int]]


def _padding_pairs(value: Any, ndim: int) -> tuple[tuple[int, int], ...]:
    """Per-dim ``(before, after)`` pairs of a numeric ``padding`` (``before >= 0``).

    An int pads both sides of every dim; a sequence gives one int or one
    pair per dim. ``after`` may be negative, which crops.

    Raises
    ------
    ConvSpecTypeError, ConvSpecError
        Not integers, the wrong number of entries, or ``before < 0``.
    """
    value = _plain("padding", value)
    if isinstance(value, (tuple, list)):
        if len(value) != ndim:
            raise ConvSpecError(
                f"padding={describe(tuple(value))} must have {ndim} entries, one per spatial "
                "dim (each an int or a (before, after) pair)",
                field="padding",
            )
        pairs = tuple(as_pair(f"padding[{i}]", v, symbolic=False) for i, v in enumerate(value))
    else:
        pairs = (as_pair("padding", value, symbolic=False),) * ndim
    for i, (before, _after) in enumerate(pairs):
        if before < 0:
            raise ConvSpecError(
                f"padding[{i}] before={before} must be >= 0 (only 'after' may be "
                "negative, which crops)",
                field="padding",
            )
    return pairs


def _in_dim(i: int, error: ConvSpecError) -> ConvSpecError:
    """``error`` with ``dim i: `` in front, same class and field."""
    return type(error)(f"dim {i}: {error}", field=error.field)


def as_spec(spec: Any, name: str = "spec") -> ConvSpec:
    """Return ``spec`` if it is a :class:`ConvSpec`, else raise :class:`ConvSpecTypeError`.

    The check every public function taking a spec makes first, so a tuple
    or a string passed by mistake gets a message instead of an
    ``AttributeError``.

    Parameters
    ----------
    spec : object
        What the caller was given as a spec.
    name : str, default "spec"
        The argument's name, for the message and ``error.field``.

    Returns
    -------
    ConvSpec
        ``spec`` itself, unchanged.

    Raises
    ------
    ConvSpecTypeError
        ``spec`` is not a :class:`ConvSpec`; ``error.field`` is ``name``.

    Examples
    --------
    >>> spec = ConvSpec((4, 4), 3)
    >>> as_spec(spec) is spec
    True
    >>> as_spec((4, 4))
    Traceback (most recent call last):
    ...
    transpose_matrix.errors.ConvSpecTypeError: spec=(4, 4) must be a ConvSpec, e.g. \
ConvSpec(input_shape=(4, 4), kernel_size=3)
    """
    if not isinstance(spec, ConvSpec):
        raise ConvSpecTypeError(
            f"{name}={describe(spec)} must be a ConvSpec, e.g. "
            "ConvSpec(input_shape=(4, 4), kernel_size=3)",
            field=name,
        )
    return spec


@dataclass(frozen=True)
class ConvSpec:
    """Geometry of one ``torch.nn.Conv{1,2,3}d`` layer applied to one sample.

    Parameters
    ----------
    input_shape : int or sequence of int
        Spatial input shape, 1 to 3 dims (an int means 1-D).
    kernel_size, stride, dilation : int or sequence of int
        An int applies to every spatial dim.
    padding : int, sequence of int or (before, after) pairs, or 'same' or 'valid'
        Entries added to each side; ``after`` may be negative, which crops the
        end of the input (used by :meth:`from_transposed`). The strings mean
        what they mean to ``torch.nn.Conv{1,2,3}d``: ``'valid'`` is no
        padding, ``'same'`` (stride 1 only) pads ``d*(k - 1)`` per dim, half
        before and, when that is odd, the extra entry after. The spec stores
        the resolved pairs; :attr:`padding_string` keeps the string.
    in_channels, out_channels, groups : int
        ``groups`` must divide both channel counts.
    padding_mode : str
        What the padding holds, one of
        :data:`~transpose_matrix.geometry.padding.PADDING_MODES` (torch's
        ``padding_mode`` values and more): zeros, the input mirrored without
        repeating its edge entry (``reflect``), the edge entry repeated
        (``replicate``), the input wrapped around (``circular``). Each mode's
        limits on the amounts are those of
        :func:`~transpose_matrix.geometry.padding.check_padding_mode`, e.g.
        ``reflect`` needs padding ``< n`` per side and dim (torch's rule).

    Raises
    ------
    ConvSpecTypeError
        A field is not an integer (bools, floats and strings are refused).
    ConvSpecError
        A field breaks a rule; the message names the field, value and rule.

    Notes
    -----
    Along each dim the output size is
    ``floor((n + p_before + p_after - d*(k - 1) - 1) / s) + 1``, see
    :func:`transpose_matrix.conv_output_size`. The matrix C of the layer has
    ``out_channels * prod(output_shape)`` rows and ``in_channels *
    prod(input_shape)`` columns.

    With a ``padding_mode`` other than ``'zeros'``, ``C = D·P``: ``P`` is the
    padding operator (:func:`transpose_matrix.pad_matrix` with ``mode=``, one
    1 per row, copying the input entry each padded position holds) and ``D``
    the convolution of the padded input without padding. An entry of C can
    then be a sum of several weights (taps that read the same input entry),
    and Cᵀ = PᵀDᵀ is still the input gradient but no ``ConvTransposeNd``
    layer: torch's transposed layers pad with zeros only.

    Examples
    --------
    >>> spec = ConvSpec((4, 4), 3)
    >>> spec.output_shape
    (2, 2)
    >>> spec.padding
    ((0, 0), (0, 0))
    >>> ConvSpec((5, 5), 3, stride=2, padding=1).output_shape
    (3, 3)
    >>> spec = ConvSpec((6,), 4, padding="same", padding_mode="reflect")
    >>> spec.padding, spec.padding_string, spec.output_shape
    (((1, 2),), 'same', (6,))
    """

    input_shape: tuple[int, ...]
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...] = 1  # type: ignore[assignment]
    padding: tuple[tuple[int, int], ...] = 0  # type: ignore[assignment]
    dilation: tuple[int, ...] = 1  # type: ignore[assignment]
    in_channels: int = 1
    out_channels: int = 1
    groups: int = 1
    padding_mode: str = "zeros"
    #: ``'same'`` or ``'valid'`` when the spec was made from that string, else ``None``.
    padding_string: str | None = field(default=None, init=False, repr=False, compare=False)

    if TYPE_CHECKING:
        # What the constructor accepts; the fields above hold what
        # __post_init__ normalises it to.
        def __init__(
            self,
            input_shape: int | Sequence[int],
            kernel_size: int | Sequence[int],
            stride: int | Sequence[int] = 1,
            padding: PaddingArgument = 0,
            dilation: int | Sequence[int] = 1,
            in_channels: int = 1,
            out_channels: int = 1,
            groups: int = 1,
            padding_mode: str = "zeros",
        ) -> None: ...

    def __post_init__(self) -> None:
        shape = as_shape("input_shape", self.input_shape)
        ndim = len(shape)
        kernel = per_dim("kernel_size", self.kernel_size, ndim, 1)
        stride = per_dim("stride", self.stride, ndim, 1)
        dilation = per_dim("dilation", self.dilation, ndim, 1)
        if isinstance(self.padding, str):
            padding = string_padding(self.padding, kernel, stride, dilation)
            object.__setattr__(self, "padding_string", self.padding)
        else:
            padding = _padding_pairs(self.padding, ndim)
        fields = {
            "input_shape": shape,
            "kernel_size": kernel,
            "stride": stride,
            "dilation": dilation,
            "padding": padding,
            "in_channels": as_int("in_channels", self.in_channels, 1),
            "out_channels": as_int("out_channels", self.out_channels, 1),
            "groups": as_int("groups", self.groups, 1),
            "padding_mode": check_padding_mode(self.padding_mode, padding, shape),
        }
        for name, value in fields.items():
            object.__setattr__(self, name, value)
        for name in ("in_channels", "out_channels"):
            if getattr(self, name) % self.groups:
                raise ConvSpecError(
                    f"groups={self.groups} must divide {name}={getattr(self, name)}",
                    field="groups",
                )
        # Computing the output shape checks that the kernel fits every dim.
        for i in range(ndim):
            try:
                self._output_size(i)
            except ConvSpecError as error:
                raise _in_dim(i, error) from None

    def _output_size(self, i: int) -> int:
        return conv_output_size(
            self.input_shape[i],
            self.kernel_size[i],
            self.stride[i],
            self.padding[i],
            self.dilation[i],
        )

    @property
    def ndim(self) -> int:
        """Number of spatial dims (1, 2 or 3)."""
        return len(self.input_shape)

    @property
    def output_shape(self) -> tuple[int, ...]:
        """Spatial output shape, one :func:`conv_output_size` per dim."""
        return tuple(self._output_size(i) for i in range(self.ndim))

    @property
    def weight_shape(self) -> tuple[int, ...]:
        """``(out_channels, in_channels // groups, *kernel_size)``."""
        return (self.out_channels, self.in_channels // self.groups, *self.kernel_size)

    @property
    def matrix_shape(self) -> tuple[int, int]:
        """Shape of C: ``(out_channels*prod(output_shape), in_channels*prod(input_shape))``."""
        return (
            self.out_channels * math.prod(self.output_shape),
            self.in_channels * math.prod(self.input_shape),
        )

    @property
    def is_symmetric_padding(self) -> bool:
        """Whether every dim pads the same amount before and after."""
        return all(before == after for before, after in self.padding)

    def _latex(self, printer: Any = None) -> str:
        """Math-mode description, so ``sympy.latex`` and ``to_latex`` print specs."""
        # Imported at call time: the core never loads the presentation layer.
        from ..render.latex import spec_latex

        return spec_latex(self)

    def _repr_latex_(self) -> str:
        from ..render.latex import repr_latex

        return repr_latex(self)

    def _repr_html_(self) -> str:
        from ..render.notebook import spec_html

        return spec_html(self)

    @classmethod
    def from_transposed(
        cls,
        input_shape: int | Sequence[int],
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: int | Sequence[int] = 0,
        output_padding: int | Sequence[int] = 0,
        groups: int = 1,
        dilation: int | Sequence[int] = 1,
    ) -> ConvSpec:
        """Spec of the forward convolution whose Cᵀ a ``ConvTransposeNd`` layer computes.

        Takes the arguments of ``torch.nn.ConvTranspose{1,2,3}d`` plus the
        layer's spatial ``input_shape``. The returned spec's ``output_shape``
        is ``input_shape``; its ``input_shape`` is the layer's output shape,
        ``(n - 1)*s - 2p + d*(k - 1) + output_padding + 1`` per dim; its
        channels are the layer's, swapped. The layer's weight, of shape
        ``(in_channels, out_channels // groups, *kernel_size)``, is the
        forward convolution's weight as it is.

        Notes
        -----
        When ``output_padding >= stride`` (legal when ``dilation > stride``)
        the forward convolution with padding ``p`` on both sides would produce
        ``floor(output_padding / stride)`` extra positions at the end, which
        the transposed layer never reads. The spec crops them by padding
        ``p - stride*floor(output_padding / stride)`` after, possibly a
        negative amount.

        Raises
        ------
        ConvSpecError
            ``output_padding`` outside ``[0, max(stride, dilation))``, a
            non-positive output size, or any rule of :class:`ConvSpec`.

        Examples
        --------
        >>> spec = ConvSpec.from_transposed((2, 2), 1, 1, 3)
        >>> spec.input_shape, spec.output_shape
        ((4, 4), (2, 2))
        >>> spec = ConvSpec.from_transposed((3,), 8, 4, 3, stride=2, padding=1, output_padding=1)
        >>> spec.input_shape, spec.in_channels, spec.out_channels
        ((6,), 4, 8)
        """
        shape = as_shape("input_shape", input_shape)
        ndim = len(shape)
        kernel = per_dim("kernel_size", kernel_size, ndim, 1)
        strides = per_dim("stride", stride, ndim, 1)
        dilations = per_dim("dilation", dilation, ndim, 1)
        pads = per_dim("padding", padding, ndim, 0)
        extras = per_dim("output_padding", output_padding, ndim, 0)
        # The channels are checked under the layer's own names before they
        # are swapped into the forward spec, so messages and fields match.
        layer_in = as_int("in_channels", in_channels, 1)
        layer_out = as_int("out_channels", out_channels, 1)
        layer_groups = as_int("groups", groups, 1)
        for name, count in (("in_channels", layer_in), ("out_channels", layer_out)):
            if count % layer_groups:
                raise ConvSpecError(
                    f"groups={layer_groups} must divide {name}={count}", field="groups"
                )
        sizes = []
        pairs = []
        for i in range(ndim):
            try:
                sizes.append(
                    transposed_conv_output_size(
                        shape[i], kernel[i], strides[i], pads[i], extras[i], dilations[i]
                    )
                )
            except ConvSpecError as error:
                raise _in_dim(i, error) from None
            if sizes[-1] > MAX_INT:
                raise ConvSpecError(
                    f"dim {i}: the layer's output size {describe(sizes[-1])} must be <= "
                    "2**60 (input size times stride is too large)",
                    field="input_shape",
                )
            pairs.append((pads[i], pads[i] - strides[i] * (extras[i] // strides[i])))
        return cls(
            input_shape=tuple(sizes),
            kernel_size=kernel,
            stride=strides,
            padding=tuple(pairs),
            dilation=dilations,
            in_channels=out_channels,
            out_channels=in_channels,
            groups=groups,
        )

    def transposed_arguments(self) -> dict[str, Any] | None:
        """The ``ConvTransposeNd`` arguments whose Cᵀ equals this spec's, if any.

        C depends on the padding only through ``before`` and the number of
        output positions, so the layer has ``padding = before`` and the
        ``output_padding`` that makes its output size ``input_shape``:
        ``n - ((out - 1)*s - 2*before + d*(k - 1) + 1)`` per dim. The spec
        :meth:`from_transposed` builds from these arguments has the same C,
        though its ``after`` padding may differ by amounts that crop or pad
        only positions no output reads.

        Returns ``None`` when that ``output_padding`` falls outside
        ``[0, max(stride, dilation))``: e.g. when ``after`` exceeds
        ``before``, the extra output positions read only padding on the
        right, which no transposed layer produces. Also ``None`` for every
        ``padding_mode`` other than ``'zeros'``: Cᵀ = PᵀDᵀ is then a
        zero-padded transposed convolution followed by Pᵀ, which folds the
        border entries back onto the input entries they copied, and torch's
        ``ConvTransposeNd`` pads with zeros only.

        Examples
        --------
        >>> ConvSpec((10,), 1, stride=2, padding=[(0, -1)]).transposed_arguments()["output_padding"]
        (1,)
        >>> ConvSpec((6,), 3, padding=[(0, 2)]).transposed_arguments() is None
        True
        >>> ConvSpec((6,), 3, padding=1, padding_mode="reflect").transposed_arguments() is None
        True
        """
        if copies_input(self.padding_mode):
            return None
        pads, extras = [], []
        for i, (before, _after) in enumerate(self.padding):
            span = effective_kernel_size(self.kernel_size[i], self.dilation[i])
            layer_size = (self.output_shape[i] - 1) * self.stride[i] - 2 * before + span
            extra = self.input_shape[i] - layer_size
            if not 0 <= extra < max(self.stride[i], self.dilation[i]):
                return None
            pads.append(before)
            extras.append(extra)
        return {
            "in_channels": self.out_channels,
            "out_channels": self.in_channels,
            "kernel_size": self.kernel_size,
            "stride": self.stride,
            "padding": tuple(pads),
            "output_padding": tuple(extras),
            "groups": self.groups,
            "dilation": self.dilation,
        }
