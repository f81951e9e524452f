"""Other frameworks' transposed convolutions as a PyTorch call and a ConvSpec.

Keras/TensorFlow ``Conv{1,2,3}DTranspose``, JAX ``lax.conv_transpose`` and
ONNX ``ConvTranspose`` describe the same operator in different words: where
the output window starts and how long it is. All three are settled here by
one pair of numbers per spatial dim. Write the *full* transposed convolution
(no padding, no cropping) as positions ``0 … F - 1`` with ``F = (n - 1)s +
d(k - 1) + 1``; each framework's layer outputs the window ``b … b + m - 1`` of
it (positions past ``F - 1`` are zeros no input reaches). Then

* the forward convolution whose Cᵀ the layer computes has input size ``m``
  and padding ``(b, (n - 1)s + d(k - 1) + 1 - m - b)``: that is the
  :class:`~transpose_matrix.ConvSpec` of the translation;
* PyTorch's ``ConvTransposeNd(padding=p, output_padding=o)`` outputs the
  window ``p … F - p + o - 1``: one layer suffices when ``b = p`` and
  ``0 <= o < max(s, d)``; otherwise the layer with a smaller ``p`` is
  followed by a crop (``F.pad`` with negative amounts) or zero padding.

What each framework calls its padding becomes ``(b, m)`` as follows (``k``
below is the dilated kernel ``d(k - 1) + 1``):

* JAX runs ``conv_general_dilated`` on the input with ``s - 1`` zeros between
  entries, padded ``(L, R)``: ``b = k - 1 - L``, ``m = (n - 1)s + L + R - k +
  2``. ``'SAME'``/``'VALID'`` (and pairs with ``use_consistent_padding``)
  choose ``(L, R)`` by JAX's rule.
* Keras 3 (every backend now) uses JAX's ``(L, R)`` for ``'valid'`` (``L = k
  - 1``, ``R = k - 1 + output_padding``, ``output_padding`` defaulting to
  ``max(k, s) - k``) and ``'same'`` (``L = min(ceil(P/2), k - 1)``, ``R = P -
  L``, ``P = s + k - 2`` without ``output_padding``, ``k + (k mod 2) - 2 +
  output_padding`` with it).
* ONNX (as ``onnx.reference`` computes it): ``b = pads_begin`` and ``m =
  s(n - 1) + output_padding + k - pads_begin - pads_end``, or ``m =
  output_shape``; ``auto_pad='SAME_UPPER'``/``'SAME_LOWER'`` set ``m = n s``
  and split the total ``T = F + output_padding - m`` as ``b = floor(T/2)``
  (UPPER) or ``T - floor(T/2)`` (LOWER).

A negative ``b`` (ONNX ``SAME_UPPER`` with a kernel smaller than the stride,
JAX padding wider than ``k - 1``) means the output begins with ``-b`` entries
no input reaches; the translation keeps them as ``leading_zeros`` in front of
Cᵀ of a spec that starts at 0.

The kernel layouts differ too; :func:`kernel_to_torch` maps each to the
project's (and ``ConvTransposeNd``'s) ``(in_channels, out_channels // groups,
*kernel_size)``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import scipy.sparse

from ..errors import ConvSpecError, ConvSpecTypeError
from ..geometry.shapes import as_int, per_dim
from ..geometry.spec import ConvSpec
from ..matrices.conv import refuse_masked, transposed_conv_matrix
from ..matrices.resampling import pad_matrix

__all__ = [
    "Translation",
    "translate_layer",
    "translate_keras",
    "translate_jax",
    "translate_onnx",
    "kernel_to_torch",
    "FRAMEWORKS",
]

#: The framework names :func:`translate_layer` and :func:`kernel_to_torch` take.
FRAMEWORKS = ("keras", "jax", "onnx")


@dataclass(frozen=True, eq=False)
class Translation:
    """A framework's transposed convolution as PyTorch and as a :class:`ConvSpec`.

    For one sample, channels first, the layer computes ``y = Z Cᵀ x`` where
    ``C`` is the matrix of :attr:`spec` (a forward convolution) and ``Z``
    puts :attr:`leading_zeros` zero entries before every spatial dim (the
    identity when there are none, which is the usual case). The PyTorch
    equivalent is ``ConvTransposeNd(**torch_arguments)`` followed, when
    :attr:`crop` is set, by ``F.pad`` with the negated amounts: a positive
    crop removes entries, a negative one adds zeros. A layer with a
    :attr:`bias` computes ``y = Z Cᵀ x + b`` with ``b`` the bias repeated over
    every output entry (:meth:`offset`).

    Made by :func:`translate_layer` and its per-framework functions; each
    field is a parameter of the constructor and an attribute of the result.

    Parameters
    ----------
    framework : str
        ``'keras'``, ``'jax'`` or ``'onnx'``.
    layer : str
        The layer as the framework writes it.
    spec : ConvSpec
        The forward convolution whose Cᵀ the layer computes.
    input_shape, output_shape : tuple of int
        One sample, channels first ``(C, *spatial)``.
    torch_arguments : dict
        Keyword arguments of ``torch.nn.ConvTranspose{1,2,3}d``; ``bias`` is
        true when the torch layer carries the framework's bias itself (a
        layer with a bias whose output is cropped or padded adds it after
        the ``F.pad`` instead, as the framework adds it to every entry).
    crop : tuple of (int, int), or None
        Per spatial dim, entries to remove ``(before, after)`` from the torch
        layer's output (negative: zeros to add); ``None`` when the layer
        alone is exact.
    leading_zeros : tuple of int
        Per spatial dim, output entries before the first one any input
        reaches (usually all 0).
    input_permutation, output_permutation : tuple of int, or None
        ``x.permute(...)`` taking the framework's input tensor to torch's
        ``(N, C, *spatial)``, and torch's output back to the framework's
        layout; ``None`` when the layouts agree.
    kernel : str
        How to get the torch weight from the framework's kernel.
    notes : tuple of str
        Conventions worth knowing about this layer.
    bias : bool
        Whether the layer adds a bias per output channel (Keras' ``use_bias``,
        true by default there).

    Examples
    --------
    >>> t = translate_onnx((2, 3), (2, 1, 3), strides=(2,))
    >>> t.framework, t.input_shape, t.output_shape, t.crop, t.leading_zeros
    ('onnx', (2, 3), (1, 7), None, (0,))
    >>> t.spec.input_shape, t.spec.output_shape  # the forward convolution: 7 -> 3
    ((7,), (3,))
    """

    framework: str
    layer: str
    spec: ConvSpec
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    torch_arguments: dict[str, Any]
    crop: tuple[tuple[int, int], ...] | None
    leading_zeros: tuple[int, ...]
    input_permutation: tuple[int, ...] | None
    output_permutation: tuple[int, ...] | None
    kernel: str
    notes: tuple[str, ...] = field(default=())
    bias: bool = False

    @property
    def single_layer(self) -> bool:
        """Whether ``ConvTransposeNd`` alone reproduces the layer (no crop or pad)."""
        return self.crop is None

    def matrix(self, weight: Any, *, max_bytes: int | None = None) -> scipy.sparse.csr_array:
        """The layer's matrix for a weight in torch's layout (see :func:`kernel_to_torch`).

        ``Z Cᵀ``: :func:`transpose_matrix.transposed_conv_matrix` of
        :attr:`spec`, with the :attr:`leading_zeros` rows put in front.
        """
        Ct = transposed_conv_matrix(self.spec, weight, max_bytes=max_bytes)
        if not any(self.leading_zeros):
            return Ct
        pad = pad_matrix(self.spec.input_shape, [(z, 0) for z in self.leading_zeros])
        eye = scipy.sparse.eye_array(self.output_shape[0], format="csr")
        return scipy.sparse.csr_array(scipy.sparse.kron(eye, pad, format="csr") @ Ct)

    def offset(self, bias: Any) -> np.ndarray:
        """``b`` of ``y = Z Cᵀ x + b``: the per-channel ``bias`` repeated over every output entry.

        Raises
        ------
        ConvSpecError
            The layer has no bias, or ``bias`` has not one entry per output
            channel.
        """
        if not self.bias:
            raise ConvSpecError(f"{self.layer} has no bias (its output is Z Cᵀ x alone)")
        values = np.asarray(refuse_masked(bias, "bias"), dtype=np.float64).reshape(-1)
        if values.shape != (self.output_shape[0],):
            raise ConvSpecError(
                f"bias of {values.size} entries must have one per output channel, "
                f"{self.output_shape[0]}"
            )
        return np.repeat(values, int(np.prod(self.output_shape[1:])))

    def torch_code(self) -> str:
        """Python lines computing the layer with PyTorch: ``x`` in, ``y`` out."""
        ndim = self.spec.ndim
        a = self.torch_arguments
        parts = [f"{a['in_channels']}", f"{a['out_channels']}",
                 f"kernel_size={_tuple(a['kernel_size'])}"]
        for name, default in (("stride", 1), ("padding", 0), ("output_padding", 0),
                              ("dilation", 1)):
            if any(v != default for v in a[name]):
                parts.append(f"{name}={_tuple(a[name])}")
        if a["groups"] != 1:
            parts.append(f"groups={a['groups']}")
        if not a.get("bias"):
            parts.append("bias=False")
        lines = [
            f"layer = torch.nn.ConvTranspose{ndim}d({', '.join(parts)})",
            f"layer.weight.data = torch.as_tensor({self.kernel})",
        ]
        if a.get("bias"):
            lines.append("layer.bias.data = torch.as_tensor(bias)")
        source = "x" if self.input_permutation is None else (
            f"x.permute{_tuple(self.input_permutation)}"
        )
        lines.append(f"y = layer({source})")
        if self.crop is not None:
            amounts = [-v for pair in reversed(self.crop) for v in pair]
            lines.append(
                f"y = torch.nn.functional.pad(y, {_tuple(amounts)})  # crop (before, after) "
                f"per dim: {', '.join(str(tuple(pair)) for pair in self.crop)}"
            )
        if self.bias and not a.get("bias"):
            shape = _tuple((-1,) + (1,) * ndim)
            lines.append(
                f"y = y + torch.as_tensor(bias).reshape{shape}  # every output entry gets "
                "the bias, padded ones too"
            )
        if self.output_permutation is not None:
            lines.append(f"y = y.permute{_tuple(self.output_permutation)}")
        return "\n".join(lines)

    def lines(self) -> list[str]:
        """The translation as text lines: the layer, PyTorch, the spec, the notes."""
        out = [f"{self.layer}", "PyTorch equivalent:"]
        out += [f"  {line}" for line in self.torch_code().splitlines()]
        if self.crop is None:
            out.append("  (one ConvTranspose layer reproduces it exactly)")
        else:
            out.append("  (no ConvTranspose setting gives this output window: torch pads both")
            out.append("   sides alike and adds output_padding after, so F.pad does the rest)")
        out.append(
            f"shapes (channels first): input {self.input_shape} -> output {self.output_shape}"
        )
        zeros = ""
        if any(self.leading_zeros):
            zeros = f", after {self.leading_zeros} leading zero entries per dim"
        out.append(f"matrix: Cᵀ of {self.spec!r}{zeros}")
        if self.bias:
            out.append(
                f"bias: y = Cᵀ x + b, b = one bias per output channel ({self.output_shape[0]}) "
                "repeated over every entry of its channel"
            )
        out += [f"note: {note}" for note in self.notes]
        return out

    def to_dict(self) -> dict[str, Any]:
        """The translation as JSON-ready data: lists, ints, strings, ``None``.

        Keys: every attribute (``spec`` as its constructor fields, padding as
        ``[before, after]`` pairs), plus ``single_layer`` and ``torch_code``.
        """
        spec = {f.name: _listed(getattr(self.spec, f.name)) for f in fields(self.spec) if f.init}
        return {
            "framework": self.framework,
            "layer": self.layer,
            "input_shape": list(self.input_shape),
            "output_shape": list(self.output_shape),
            "torch_arguments": {key: _listed(v) for key, v in self.torch_arguments.items()},
            "crop": _listed(self.crop),
            "single_layer": self.single_layer,
            "leading_zeros": list(self.leading_zeros),
            "input_permutation": _listed(self.input_permutation),
            "output_permutation": _listed(self.output_permutation),
            "kernel": self.kernel,
            "bias": self.bias,
            "torch_code": self.torch_code(),
            "spec": spec,
            "notes": list(self.notes),
        }

    def to_json(self, indent: int | None = 1) -> str:
        """:meth:`to_dict` as JSON text (what ``translate --format json`` prints)."""
        return json.dumps(self.to_dict(), indent=indent)

    def __str__(self) -> str:
        return "\n".join(self.lines())


def _listed(value: Any) -> Any:
    """Tuples (nested too) as lists, for JSON."""
    if isinstance(value, (tuple, list)):
        return [_listed(v) for v in value]
    return value


def _tuple(values: Sequence[Any]) -> str:
    values = tuple(values)
    return f"({values[0]},)" if len(values) == 1 else str(values)


def _window_translation(
    framework: str,
    layer: str,
    shape: tuple[int, ...],
    channels: tuple[int, int],
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
    groups: int,
    starts: Sequence[int],
    sizes: Sequence[int],
    *,
    input_permutation: tuple[int, ...] | None,
    output_permutation: tuple[int, ...] | None,
    kernel_text: str,
    notes: Sequence[str] = (),
    bias: bool = False,
) -> Translation:
    """The translation of a layer that outputs window ``b … b + m - 1`` of the full result."""
    in_channels, out_channels = channels
    pairs, torch_padding, torch_extra, crops, zeros = [], [], [], [], []
    for i, (n, k, s, d, b, m) in enumerate(zip(shape, kernel, stride, dilation, starts, sizes)):
        span = d * (k - 1) + 1
        full = (n - 1) * s + span
        if m < 1:
            raise ConvSpecError(f"dim {i}: the layer's output size {m} must be positive")
        zero = max(0, -b)
        if m - zero < 1 or b >= full:
            raise ConvSpecError(
                f"dim {i}: the output window [{b}, {b + m}) misses the entries [0, {full}) "
                "that inputs reach; no input reaches the output at all"
            )
        start, size = b + zero, m - zero
        pairs.append((start, full - size - start))
        extra = size - (full - 2 * start)
        if zero == 0 and 0 <= extra < max(s, d):
            torch_padding.append(start)
            torch_extra.append(extra)
            crops.append((0, 0))
        else:
            p = max(0, min(b, full - b - m))
            torch_padding.append(p)
            torch_extra.append(0)
            crops.append((b - p, full - p - b - m))
        zeros.append(zero)
    spec = ConvSpec(
        tuple(m - z for m, z in zip(sizes, zeros)),
        kernel,
        stride,
        tuple(pairs),
        dilation,
        in_channels=out_channels,
        out_channels=in_channels,
        groups=groups,
    )
    assert spec.output_shape == shape  # by construction: the after padding is exact
    arguments = {
        "in_channels": in_channels,
        "out_channels": out_channels,
        "kernel_size": kernel,
        "stride": stride,
        "padding": tuple(torch_padding),
        "output_padding": tuple(torch_extra),
        "groups": groups,
        "dilation": dilation,
    }
    crop = None if all(pair == (0, 0) for pair in crops) else tuple(crops)
    # The torch layer carries the bias when nothing is cropped or padded after it.
    arguments["bias"] = bool(bias) and crop is None and not any(zeros)
    return Translation(
        framework=framework,
        layer=layer,
        spec=spec,
        input_shape=(in_channels, *shape),
        output_shape=(out_channels, *sizes),
        torch_arguments=arguments,
        crop=crop,
        leading_zeros=tuple(zeros),
        input_permutation=input_permutation,
        output_permutation=output_permutation,
        kernel=kernel_text,
        notes=tuple(notes),
        bias=bool(bias),
    )


def _dims(name: str, value: Any, ndim: int, minimum: int) -> tuple[int, ...]:
    return per_dim(name, list(value) if isinstance(value, (tuple, list)) else value, ndim,
                   minimum)


def _shape(name: str, value: Any) -> tuple[int, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise ConvSpecTypeError(f"{name}={value!r} must be a sequence of ints")
    return tuple(as_int(f"{name}[{i}]", v, 1) for i, v in enumerate(value))


# --------------------------------------------------------------------------- Keras


def _keras_window(
    n: int, k: int, s: int, d: int, padding: str, extra: int | None
) -> tuple[int, int]:
    """``(b, m)`` of Keras' ``Conv*DTranspose`` along one dim (JAX's padding rule)."""
    span = d * (k - 1) + 1
    if padding == "valid":
        extra = max(span, s) - span if extra is None else extra
        left, right = span - 1, span - 1 + extra
    else:
        total = s + span - 2 if extra is None else span + span % 2 - 2 + extra
        left = min(total // 2 + total % 2, span - 1)
        right = total - left
    return span - 1 - left, (n - 1) * s + left + right - span + 2


def translate_keras(
    input_shape: Sequence[int],
    filters: int,
    kernel_size: int | Sequence[int],
    strides: int | Sequence[int] = 1,
    padding: str = "valid",
    output_padding: int | Sequence[int] | None = None,
    data_format: str = "channels_last",
    dilation_rate: int | Sequence[int] = 1,
    use_bias: bool = True,
    **_ignored: Any,
) -> Translation:
    """Keras 3 ``Conv{1,2,3}DTranspose`` as PyTorch and as a ConvSpec.

    Parameters
    ----------
    input_shape : sequence of int
        One sample's shape as Keras sees it (no batch dim): ``(*spatial, C)``
        for ``channels_last``, ``(C, *spatial)`` for ``channels_first``.
    filters, kernel_size, strides, padding, output_padding, data_format, dilation_rate
        The layer's arguments, as Keras names them; other keys of a layer's
        ``get_config()`` (initialisers, …) are ignored, so
        ``translate_keras(shape, **layer.get_config())`` works.
    use_bias : bool
        Keras' default ``True``: the layer adds a bias per filter, carried as
        :attr:`Translation.bias` (:meth:`Translation.offset` gives ``b``, the
        torch code sets or adds it).
    **_ignored
        Any other keyword (the rest of ``get_config()``); ignored.

    Returns
    -------
    Translation
        The PyTorch layer (plus crop and permutations when needed), the
        forward :class:`ConvSpec` and notes on conventions.

    Raises
    ------
    ConvSpecError
        What Keras refuses (``padding`` other than ``'valid'``/``'same'``,
        ``output_padding >= strides``, ``strides > 1`` with ``dilation_rate >
        1``), or a bad shape.

    Notes
    -----
    Keras' kernel is ``(*kernel_size, filters, in_channels)``; PyTorch's is
    ``(in_channels, filters, *kernel_size)``, the same numbers with the axes
    moved and no spatial flip (:func:`kernel_to_torch`). With ``'same'`` and
    an odd total padding Keras (like TensorFlow) crops the extra entry at the
    *end*, where PyTorch's ``padding`` crops both ends alike: e.g. ``kernel 3,
    stride 2`` needs ``ConvTranspose(padding=0)`` and a crop of one entry
    after, whereas ``padding=1, output_padding=1`` gives the same size
    shifted by one.

    Examples
    --------
    >>> t = translate_keras((4, 4, 2), filters=3, kernel_size=3, strides=2, padding="same")
    >>> t.output_shape, t.crop, t.spec.padding
    ((3, 8, 8), ((0, 1), (0, 1)), ((0, 1), (0, 1)))
    """
    shape = _shape("input_shape", input_shape)
    ndim = len(shape) - 1
    if not 1 <= ndim <= 3:
        raise ConvSpecError(
            f"input_shape={shape} must be one sample with 1 to 3 spatial dims and a channel dim"
        )
    if data_format not in ("channels_last", "channels_first"):
        raise ConvSpecError(
            f"data_format={data_format!r} must be 'channels_last' or 'channels_first'"
        )
    last = data_format == "channels_last"
    channels, spatial = (shape[-1], shape[:-1]) if last else (shape[0], shape[1:])
    filters = as_int("filters", filters, 1)
    kernel = _dims("kernel_size", kernel_size, ndim, 1)
    stride = _dims("strides", strides, ndim, 1)
    dilation = _dims("dilation_rate", dilation_rate, ndim, 1)
    if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
        raise ConvSpecError(f"padding={padding!r} must be 'valid' or 'same' (Keras' choices)")
    padding = padding.lower()
    if not isinstance(use_bias, (bool, np.bool_)):
        raise ConvSpecTypeError(f"use_bias={use_bias!r} must be True or False")
    extras: tuple[int | None, ...] = (None,) * ndim
    if output_padding is not None:
        extras = _dims("output_padding", output_padding, ndim, 0)
        for i, (a, s) in enumerate(zip(extras, stride)):
            if a >= s:
                raise ConvSpecError(
                    f"output_padding={extras} must be below strides={stride} in every dim "
                    f"(Keras' rule), dim {i} has {a} >= {s}"
                )
    if any(s > 1 for s in stride) and any(d > 1 for d in dilation):
        raise ConvSpecError(
            f"strides={stride} with dilation_rate={dilation}: Keras refuses strides > 1 "
            "together with dilation_rate > 1"
        )
    windows = [
        _keras_window(n, k, s, d, padding, a)
        for n, k, s, d, a in zip(spatial, kernel, stride, dilation, extras)
    ]
    name = f"Conv{ndim}DTranspose"
    arguments = [f"{filters}", f"kernel_size={_tuple(kernel)}"]
    if any(s != 1 for s in stride):
        arguments.append(f"strides={_tuple(stride)}")
    arguments.append(f"padding={padding!r}")
    if output_padding is not None:
        arguments.append(f"output_padding={_tuple(extras)}")
    if any(d != 1 for d in dilation):
        arguments.append(f"dilation_rate={_tuple(dilation)}")
    if not last:
        arguments.append("data_format='channels_first'")
    if not use_bias:
        arguments.append("use_bias=False")
    layer = f"keras.layers.{name}({', '.join(arguments)}) on input {shape}"
    notes = ["Keras' kernel (*kernel_size, filters, in) is torch's (in, filters, *kernel_size) "
             "with the axes moved, not flipped"]
    if last:
        notes.append("channels_last: the torch code permutes to channels first and back")
    if use_bias:
        notes.append("use_bias=True (Keras' default): bias is the layer's bias vector "
                     "(layer.get_weights()[1], one per filter), the same numbers in torch")
    return _window_translation(
        "keras",
        layer,
        spatial,
        (channels, filters),
        kernel,
        stride,
        dilation,
        1,
        [b for b, _ in windows],
        [m for _, m in windows],
        input_permutation=(0, ndim + 1, *range(1, ndim + 1)) if last else None,
        output_permutation=(0, *range(2, ndim + 2), 1) if last else None,
        kernel_text="tm.interop.kernel_to_torch('keras', kernel)",
        notes=notes,
        bias=bool(use_bias),
    )


# --------------------------------------------------------------------------- JAX


def _jax_dimension_numbers(dimension_numbers: Any, rank: int) -> tuple[tuple[int, ...], ...]:
    """Permutations taking lhs, rhs, out to ``(N, C, *sp)``, ``(O, I, *sp)``, ``(N, C, *sp)``.

    Spatial dims are ordered as the kernel's spec lists them (JAX's rule).
    """
    if dimension_numbers is None:
        letters = "HWD"[: rank - 2]
        dimension_numbers = (f"N{letters}C", f"{letters}IO", f"N{letters}C")
    if all(hasattr(dimension_numbers, a) for a in ("lhs_spec", "rhs_spec", "out_spec")):
        specs = (dimension_numbers.lhs_spec, dimension_numbers.rhs_spec,
                 dimension_numbers.out_spec)
        return tuple(tuple(int(i) for i in spec) for spec in specs)
    if (
        not isinstance(dimension_numbers, (tuple, list))
        or len(dimension_numbers) != 3
        or not all(isinstance(spec, str) for spec in dimension_numbers)
    ):
        raise ConvSpecTypeError(
            f"dimension_numbers={dimension_numbers!r} must be None, three strings such as "
            "('NHWC', 'HWIO', 'NHWC'), or a lax.ConvDimensionNumbers"
        )
    lhs, rhs, out = dimension_numbers
    pairs = (("N", "C"), ("O", "I"), ("N", "C"))
    for spec, (a, b) in zip(dimension_numbers, pairs):
        if len(spec) != rank or spec.count(a) != 1 or spec.count(b) != 1 or len(set(spec)) != rank:
            raise ConvSpecError(
                f"dimension_numbers entry {spec!r} must have {rank} distinct letters with "
                f"'{a}' and '{b}' once each"
            )
    if not set(lhs) - {"N", "C"} == set(rhs) - {"O", "I"} == set(out) - {"N", "C"}:
        raise ConvSpecError(
            f"dimension_numbers={tuple(dimension_numbers)!r} must name the same spatial letters"
        )
    order = [c for c in rhs if c not in "OI"]

    def permutation(spec: str, first: str, second: str) -> tuple[int, ...]:
        return (spec.index(first), spec.index(second), *(spec.index(c) for c in order))

    return permutation(lhs, "N", "C"), permutation(rhs, "O", "I"), permutation(out, "N", "C")


def _jax_padding(span: int, s: int, padding: Any, consistent: bool) -> tuple[int, int]:
    """``(L, R)`` padding of the zero-inserted input, by ``lax.conv_transpose``'s rule."""
    if padding == "SAME":
        total = span + s - 2
        left = span - 1 if s > span - 1 else -(-total // 2)
        return left, total - left
    if padding == "VALID":
        return span - 1, span + s - 2 + max(span - s, 0) - (span - 1)
    before, after = padding
    if consistent:
        return span - before - 1, span - after - 1
    return before, after


def translate_jax(
    lhs_shape: Sequence[int],
    rhs_shape: Sequence[int],
    strides: Sequence[int],
    padding: str | Sequence[tuple[int, int]],
    rhs_dilation: Sequence[int] | None = None,
    dimension_numbers: Any = None,
    transpose_kernel: bool = False,
    use_consistent_padding: bool = False,
) -> Translation:
    """``jax.lax.conv_transpose`` as PyTorch and as a ConvSpec.

    Takes ``conv_transpose``'s arguments with the two arrays replaced by
    their shapes (both with the batch/feature dims, as JAX takes them).

    Parameters
    ----------
    lhs_shape, rhs_shape : sequence of int
        Shapes of the input and of the kernel.
    strides : sequence of int
        Spacing of the inputs in the output (JAX's ``lhs_dilation``).
    padding : 'SAME', 'VALID', or sequence of (int, int)
        As JAX reads it: the strings describe the forward convolution; pairs
        pad the zero-inserted input (or, with ``use_consistent_padding``,
        are the forward convolution's padding, PyTorch's reading).
    rhs_dilation : sequence of int, optional
        Kernel dilation.
    dimension_numbers : None, three strings, or lax.ConvDimensionNumbers
        Layouts; default ``('NHWC', 'HWIO', 'NHWC')`` and its 1-D/3-D
        analogues, as JAX defaults. Spatial dims are ordered as the kernel's
        spec lists them.
    transpose_kernel : bool
        JAX flips the kernel spatially and swaps its I/O axes first.
    use_consistent_padding : bool
        JAX's flag for reading pairs as the forward padding.

    Returns
    -------
    Translation
        The PyTorch layer (plus crop and permutations when needed), the
        forward :class:`ConvSpec` and notes on conventions.

    Raises
    ------
    ConvSpecError
        Shapes of different or unsupported rank, input features that do not
        match the kernel, a ``padding`` string other than ``'SAME'`` or
        ``'VALID'`` or the wrong number of pairs, or a bad
        ``dimension_numbers``.
    ConvSpecTypeError
        A shape, stride, dilation or padding amount that is not an integer,
        or ``dimension_numbers`` of another type.

    Notes
    -----
    Without ``transpose_kernel`` JAX cross-correlates the zero-inserted,
    padded input with the kernel as it is, its ``I`` axis being the layer's
    input features: PyTorch's weight is the kernel flipped in every spatial
    dim, ``(I, O, *k)``. With ``transpose_kernel=True`` the kernel is the
    forward convolution's, ``O`` axis = the layer's input features, and
    PyTorch's weight is ``(O, I, *k)`` unflipped (Keras' convention).

    Examples
    --------
    >>> t = translate_jax((1, 5, 2), (4, 2, 4), (2,), "SAME")
    >>> t.output_shape, t.single_layer, t.torch_arguments["padding"]
    ((4, 10), True, (1,))
    >>> translate_jax((1, 5, 2), (3, 2, 4), (2,), "SAME").crop  # k = 3: crop the end
    ((0, 1),)
    """
    lhs = _shape("lhs_shape", lhs_shape)
    rhs = _shape("rhs_shape", rhs_shape)
    if len(lhs) != len(rhs) or not 3 <= len(lhs) <= 5:
        raise ConvSpecError(
            f"lhs_shape={lhs} and rhs_shape={rhs} must have the same rank, 3 to 5 "
            "(1 to 3 spatial dims)"
        )
    rank = len(lhs)
    ndim = rank - 2
    lhs_perm, rhs_perm, out_perm = _jax_dimension_numbers(dimension_numbers, rank)
    spatial = tuple(lhs[i] for i in lhs_perm[2:])
    kernel = tuple(rhs[i] for i in rhs_perm[2:])
    o_size, i_size = rhs[rhs_perm[0]], rhs[rhs_perm[1]]
    in_channels, out_channels = (o_size, i_size) if transpose_kernel else (i_size, o_size)
    if lhs[lhs_perm[1]] != in_channels:
        raise ConvSpecError(
            f"lhs_shape={lhs} has {lhs[lhs_perm[1]]} features but the kernel expects "
            f"{in_channels} (rhs_shape={rhs}, transpose_kernel={transpose_kernel})"
        )
    stride = _dims("strides", list(strides), ndim, 1)
    dilation = (1,) * ndim if rhs_dilation is None else _dims("rhs_dilation",
                                                               list(rhs_dilation), ndim, 1)
    if isinstance(padding, str):
        if padding not in ("SAME", "VALID"):
            raise ConvSpecError(
                f"padding={padding!r} must be 'SAME', 'VALID' (lax.conv_transpose's spellings) "
                "or one (low, high) pair per spatial dim"
            )
        pads: list[Any] = [padding] * ndim
    else:
        pads = [tuple(as_int(f"padding[{i}]", v) for v in pair) for i, pair in
                enumerate(padding)]
        if len(pads) != ndim or any(len(pair) != 2 for pair in pads):
            raise ConvSpecError(f"padding={padding!r} must have {ndim} (low, high) pairs")
    starts, sizes = [], []
    for n, k, s, d, pad in zip(spatial, kernel, stride, dilation, pads):
        span = d * (k - 1) + 1
        left, right = _jax_padding(span, s, pad, bool(use_consistent_padding))
        starts.append(span - 1 - left)
        sizes.append((n - 1) * s + left + right - span + 2)
    inverse = tuple(int(i) for i in np.argsort(out_perm))
    text = (
        f"jax.lax.conv_transpose(lhs{lhs}, rhs{rhs}, strides={_tuple(stride)}, "
        f"padding={padding!r}"
        + (f", rhs_dilation={_tuple(dilation)}" if rhs_dilation is not None else "")
        + (f", dimension_numbers={dimension_numbers!r}" if dimension_numbers is not None else "")
        + (", transpose_kernel=True" if transpose_kernel else "")
        + (", use_consistent_padding=True" if use_consistent_padding else "")
        + ")"
    )
    notes = [
        "kernel_to_torch flips the kernel spatially (JAX cross-correlates the zero-inserted "
        "input with it as it is)" if not transpose_kernel else
        "transpose_kernel=True: the kernel is the forward convolution's; torch's weight is it "
        "with the axes moved, not flipped"
    ]
    return _window_translation(
        "jax",
        text,
        spatial,
        (in_channels, out_channels),
        kernel,
        stride,
        dilation,
        1,
        starts,
        sizes,
        input_permutation=None if lhs_perm == tuple(range(rank)) else lhs_perm,
        output_permutation=None if inverse == tuple(range(rank)) else inverse,
        kernel_text=(
            f"tm.interop.kernel_to_torch('jax', kernel, dimension_numbers={dimension_numbers!r}, "
            f"transpose_kernel={bool(transpose_kernel)})"
        ),
        notes=notes,
    )


# --------------------------------------------------------------------------- ONNX


def translate_onnx(
    input_shape: Sequence[int],
    weight_shape: Sequence[int],
    *,
    auto_pad: str = "NOTSET",
    dilations: Sequence[int] | None = None,
    group: int = 1,
    kernel_shape: Sequence[int] | None = None,
    output_padding: Sequence[int] | None = None,
    output_shape: Sequence[int] | None = None,
    pads: Sequence[int] | None = None,
    strides: Sequence[int] | None = None,
) -> Translation:
    """ONNX ``ConvTranspose`` as PyTorch and as a ConvSpec, as ``onnx.reference`` computes it.

    Parameters
    ----------
    input_shape : sequence of int
        ``X``'s shape, ``(N, C, *spatial)`` or one sample's ``(C, *spatial)``.
    weight_shape : sequence of int
        ``W``'s shape, ``(C, M / group, *kernel)``: PyTorch's
        ``ConvTranspose`` layout already.
    auto_pad, dilations, group, kernel_shape, output_padding, output_shape, pads, strides
        The node's attributes, ONNX's names; ``pads`` lists all begins, then
        all ends.

    Returns
    -------
    Translation
        The PyTorch layer (plus crop and permutations when needed), the
        forward :class:`ConvSpec` and notes on conventions.

    Raises
    ------
    ConvSpecError
        What ``onnx.reference`` refuses: a shape of the wrong rank, ``W`` not
        starting with the input's channels, ``group`` not dividing them,
        ``kernel_shape`` unlike ``W``'s, ``output_padding >= strides``, an
        unknown ``auto_pad``, ``pads`` together with ``auto_pad``, or an
        ``output_shape`` the pads cannot produce.
    ConvSpecTypeError
        A shape or attribute that is not an integer.

    Notes
    -----
    The operator text and implementations have disagreed on this operator:
    with ``output_shape`` given the text derives ``pads`` from it, while
    ``onnx.reference`` keeps ``pads`` (zeros when absent) and only accepts an
    ``output_shape`` those pads produce; ``SAME_UPPER``/``SAME_LOWER`` split
    an odd total with the extra crop at the end/start, and ONNX Runtime had
    the two swapped for a while. This translation follows ``onnx.reference``
    (the tests check it against ``ReferenceEvaluator``), including its floor
    division of a negative total (kernel smaller than the stride), which
    leaves a leading zero for ``SAME_UPPER``. Give ``pads`` explicitly to
    remove every doubt.

    Examples
    --------
    >>> t = translate_onnx((1, 2, 4, 4), (2, 3, 3, 3), strides=(2, 2), auto_pad="SAME_UPPER")
    >>> t.output_shape, t.crop
    ((3, 8, 8), ((0, 1), (0, 1)))
    """
    weight = _shape("weight_shape", weight_shape)
    ndim = len(weight) - 2
    if not 1 <= ndim <= 3:
        raise ConvSpecError(f"weight_shape={weight} must have 1 to 3 spatial dims")
    shape = _shape("input_shape", input_shape)
    if len(shape) == ndim + 2:
        shape = shape[1:]
    if len(shape) != ndim + 1:
        raise ConvSpecError(
            f"input_shape={shape} must be (N, C, *spatial) or (C, *spatial) with {ndim} "
            "spatial dims, like weight_shape"
        )
    group = as_int("group", group, 1)
    channels, spatial = shape[0], shape[1:]
    if weight[0] != channels or channels % group:
        raise ConvSpecError(
            f"weight_shape={weight} must start with the input's {channels} channels, and "
            f"group={group} must divide them"
        )
    kernel = weight[2:]
    if kernel_shape is not None and tuple(kernel_shape) != kernel:
        raise ConvSpecError(f"kernel_shape={tuple(kernel_shape)} must match W's {kernel}")
    stride = (1,) * ndim if strides is None else _dims("strides", list(strides), ndim, 1)
    dilation = (1,) * ndim if dilations is None else _dims("dilations", list(dilations), ndim, 1)
    extra = (0,) * ndim if output_padding is None else _dims(
        "output_padding", list(output_padding), ndim, 0)
    for i, (a, s) in enumerate(zip(extra, stride)):
        if a >= s:
            # onnx.reference's col2im needs the output to come from exactly the
            # input's positions, which allows output_padding below the stride only.
            raise ConvSpecError(
                f"output_padding={extra} must be below strides={stride} in every dim "
                f"(onnx.reference's rule), dim {i} has {a} >= {s}"
            )
    if auto_pad not in ("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"):
        raise ConvSpecError(
            f"auto_pad={auto_pad!r} must be NOTSET, SAME_UPPER, SAME_LOWER or VALID"
        )
    if pads is not None and auto_pad != "NOTSET":
        raise ConvSpecError(f"pads and auto_pad={auto_pad!r} are exclusive (ONNX's rule)")
    spans = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    fulls = [(n - 1) * s + span + a for n, s, span, a in zip(spatial, stride, spans, extra)]
    notes = ["ONNX's W (C, M/group, *kernel) is torch's ConvTranspose weight as it is"]
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        sizes = (
            [n * s for n, s in zip(spatial, stride)]
            if output_shape is None
            else list(_dims("output_shape", list(output_shape), ndim, 1))
        )
        totals = [full - m for full, m in zip(fulls, sizes)]
        starts = [t // 2 if auto_pad == "SAME_UPPER" else t - t // 2 for t in totals]
        if any(t % 2 and t > 0 for t in totals):
            side = "end" if auto_pad == "SAME_UPPER" else "start"
            notes.append(f"{auto_pad}: an odd total crop puts the extra entry at the {side}")
        if any(t < 0 for t in totals):
            notes.append(
                f"{auto_pad} with a kernel shorter than the stride: the total padding is "
                "negative and onnx.reference splits it with floor division, so SAME_UPPER "
                "starts with a zero entry (a C-style truncation would not)"
            )
    else:
        flat = [0] * (2 * ndim) if pads is None else [as_int(f"pads[{i}]", v) for i, v in
                                                      enumerate(pads)]
        if len(flat) != 2 * ndim:
            raise ConvSpecError(f"pads={tuple(flat)} must list {ndim} begins then {ndim} ends")
        begins, ends = flat[:ndim], flat[ndim:]
        natural = [full - b - e for full, b, e in zip(fulls, begins, ends)]
        if output_shape is None:
            sizes = natural
        else:
            sizes = list(_dims("output_shape", list(output_shape), ndim, 1))
            # onnx.reference keeps the pads and needs output_shape to come from
            # the same number of input positions (col2im's check).
            for i, (m, b, e, n, s, span) in enumerate(
                zip(sizes, begins, ends, spatial, stride, spans)
            ):
                if (m + b + e - span) // s + 1 != n or m + b + e < span:
                    raise ConvSpecError(
                        f"output_shape={tuple(sizes)} does not fit pads={tuple(flat)} along "
                        f"dim {i}: onnx.reference needs (size + pads - kernel) // stride + 1 "
                        f"= input size {n}"
                    )
            if pads is None:
                notes.append(
                    "output_shape without pads: onnx.reference keeps pads 0 (the output "
                    "starts at the first entry), where the operator text would derive pads"
                )
        starts = begins
    attributes = [f"strides={list(stride)}"]
    for name, value, default in (("auto_pad", auto_pad, "NOTSET"), ("pads", pads, None),
                                 ("output_padding", output_padding, None),
                                 ("output_shape", output_shape, None),
                                 ("dilations", dilations, None), ("group", group, 1)):
        if value != default:
            shown = list(value) if isinstance(value, (tuple, list)) else repr(value)
            attributes.append(f"{name}={shown}")
    layer = f"onnx ConvTranspose(X{(*input_shape,)}, W{weight}, {', '.join(attributes)})"
    return _window_translation(
        "onnx",
        layer,
        spatial,
        (channels, weight[1] * group),
        kernel,
        stride,
        dilation,
        group,
        starts,
        sizes,
        input_permutation=None,
        output_permutation=None,
        kernel_text="tm.interop.kernel_to_torch('onnx', W)",
        notes=notes,
    )


# --------------------------------------------------------------------------- dispatch


def translate_layer(framework: str, *args: Any, **arguments: Any) -> Translation:
    """Translate a transposed convolution of ``framework`` to PyTorch and a ConvSpec.

    ``framework`` is ``'keras'``, ``'jax'`` or ``'onnx'``; the other
    arguments are those of :func:`translate_keras`, :func:`translate_jax` or
    :func:`translate_onnx`. The result prints as a readable report.

    Parameters
    ----------
    framework : {'keras', 'jax', 'onnx'}
        Whose layer it is.
    *args, **arguments
        Passed on to the framework's function.

    Returns
    -------
    Translation
        The PyTorch layer (plus crop and permutations when needed), the
        forward :class:`ConvSpec` and notes on conventions.

    Raises
    ------
    ConvSpecError
        ``framework`` is not one of the three, or the framework's function
        refuses its arguments (see each).
    ConvSpecTypeError
        An argument that is not an integer where one belongs.

    Examples
    --------
    >>> print(translate_layer("keras", (5, 1), filters=1, kernel_size=3, strides=2,
    ...                       padding="same"))  # doctest: +ELLIPSIS
    keras.layers.Conv1DTranspose(1, kernel_size=(3,), strides=(2,), padding='same') on input (5, 1)
    PyTorch equivalent:
      layer = torch.nn.ConvTranspose1d(1, 1, kernel_size=(3,), stride=(2,), bias=False)
    ...
    """
    functions: dict[str, Callable[..., Translation]] = {
        "keras": translate_keras, "jax": translate_jax, "onnx": translate_onnx,
    }
    if framework not in functions:
        raise ConvSpecError(f"framework={framework!r} must be one of {', '.join(FRAMEWORKS)}")
    return functions[framework](*args, **arguments)


def kernel_to_torch(
    framework: str,
    kernel: Any,
    *,
    dimension_numbers: Any = None,
    transpose_kernel: bool = False,
) -> np.ndarray:
    """A framework's transposed-convolution kernel in PyTorch's ``ConvTranspose`` layout.

    The result has shape ``(in_channels, out_channels // groups,
    *kernel_size)``: the layer's own weight in PyTorch, and the weight of
    the forward convolution in this project's convention.

    * ``'keras'``: ``(*k, filters, in)`` -> axes moved, no flip.
    * ``'jax'``: the kernel in ``dimension_numbers``' ``rhs`` layout (default
      ``HWIO``-style); without ``transpose_kernel`` it is flipped in every
      spatial dim and read ``(I, O, *k)``; with it, read ``(O, I, *k)``
      unflipped.
    * ``'onnx'``: ``W`` is already ``(C, M/group, *k)``; returned as an array.

    Parameters
    ----------
    framework : {'keras', 'jax', 'onnx'}
        Whose kernel it is.
    kernel : array_like
        The framework's kernel array.
    dimension_numbers : None, three strings, or lax.ConvDimensionNumbers
        JAX only: the layouts, as given to :func:`translate_jax`.
    transpose_kernel : bool
        JAX only: the flag given to ``lax.conv_transpose``.

    Returns
    -------
    numpy.ndarray
        A new array (never a view of ``kernel``) in PyTorch's layout.

    Raises
    ------
    ConvSpecError
        ``framework`` is not one of the three, or a bad ``dimension_numbers``.
    ConvSpecTypeError
        ``kernel`` is a masked array with masked entries, or
        ``dimension_numbers`` is of the wrong type.

    Examples
    --------
    >>> kernel = np.arange(12.0).reshape(2, 3, 2)  # Keras (k, filters, in)
    >>> kernel_to_torch("keras", kernel).shape
    (2, 3, 2)
    >>> kernel_to_torch("jax", np.array([[[1.0]], [[2.0]], [[3.0]]]))[0, 0]
    array([3., 2., 1.])
    """
    array = np.asarray(refuse_masked(kernel, "kernel"))
    if framework == "onnx":
        return np.array(array)
    if framework == "keras":
        ndim = array.ndim - 2
        return np.transpose(array, (ndim + 1, ndim, *range(ndim))).copy()
    if framework == "jax":
        _, rhs_perm, _ = _jax_dimension_numbers(dimension_numbers, array.ndim)
        o_axis, i_axis, *space = rhs_perm
        if transpose_kernel:
            return np.transpose(array, (o_axis, i_axis, *space)).copy()
        # A copy, not a view: a flipped view has negative strides, which
        # torch.as_tensor refuses.
        return np.transpose(np.flip(array, axis=tuple(space)), (i_axis, o_axis, *space)).copy()
    raise ConvSpecError(f"framework={framework!r} must be one of {', '.join(FRAMEWORKS)}")
