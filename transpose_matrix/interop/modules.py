"""Real layers in: the matrix of a torch module, of one layer or of a whole linear stack.

A user comes with a model rather than a :class:`~transpose_matrix.ConvSpec`.
:func:`module_matrix` reads a ``torch.nn`` module's arguments and weights and
returns the sparse matrix M of one sample through it: ``module(x) = M x + b``
with ``x`` and the output flattened ``(channel, *spatial)`` in C order, as
everywhere in this package. :func:`from_module` returns the layer as a
:class:`LayerSpec` (spec, weight, bias) when it is a convolution or a
transposed one; :func:`network_matrix` multiplies the matrices of an
``nn.Sequential`` and carries the biases along as an offset;
:func:`coverage_map` and :func:`effective_kernel` read a stack's structure
off that product.

torch is imported only when one of these functions runs. Supported modules
(exact types, or subclasses that keep the forward, such as parametrized
layers):

* ``Conv{1,2,3}d``: every ``padding_mode``, integer or ``'same'``/``'valid'``
  padding;
* ``ConvTranspose{1,2,3}d``: also with ``output_size`` given at call time;
* ``Upsample`` (and ``UpsamplingNearest2d``/``UpsamplingBilinear2d``):
  ``nearest``, ``nearest-exact``, ``linear``, ``bilinear``, ``trilinear``,
  either ``align_corners``, ``scale_factor`` (any positive number) or
  ``size``, ``recompute_scale_factor``;
* ``AvgPool{1,2,3}d``: ``padding``, ``stride``, ``ceil_mode``,
  ``count_include_pad``, ``divisor_override``;
* ``PixelShuffle``, ``PixelUnshuffle``, ``Identity``, ``Flatten``,
  ``Unflatten``, ``Linear``;
* ``BatchNorm{1,2,3}d`` in eval mode (with running statistics): the
  per-channel affine map ``γ (x - μ)/√(σ² + ε) + β``, folded into M (a
  diagonal of ``γ/√(σ² + ε)``) and the offset;
* ``Dropout``, ``Dropout{1,2,3}d``, ``AlphaDropout``, ``FeatureAlphaDropout``
  in eval mode (or with ``p=0``): the identity;
* the padding layers ``ZeroPad``, ``ConstantPad``, ``ReflectionPad``,
  ``ReplicationPad``, ``CircularPad`` (1, 2, 3-D);
* ``Sequential`` of these, nested too.

A nonlinear layer (``ReLU``, ``MaxPool2d``, ``LayerNorm``, …) is refused as
such, naming its place in the stack: its Jacobian depends on ``x``, so no
one matrix describes it. So are ``BatchNorm`` and ``Dropout`` in training
mode (batch statistics, random masks).

Matrices are float64 whatever the module's dtype (float32 weights convert
exactly).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse

from ..errors import ConvSpecError, ConvSpecTypeError, optional_import
from ..geometry.shapes import as_int, per_dim
from ..geometry.spec import ConvSpec
from ..matrices.conv import conv_matrix, transposed_conv_matrix
from ..matrices.resampling import (
    avg_pool_matrix,
    bilinear_upsample_matrix,
    nearest_upsample_matrix,
    pad_matrix,
    resized_shape,
)
from ..memory import check_memory

__all__ = [
    "LayerSpec",
    "NetworkMatrix",
    "module_matrix",
    "from_module",
    "network_matrix",
    "coverage_map",
    "effective_kernel",
    "SUPPORTED_MODULES",
]

#: Names of the ``torch.nn`` classes the functions here read (``BatchNorm`` and
#: ``Dropout`` in eval mode only).
SUPPORTED_MODULES = (
    "Conv1d", "Conv2d", "Conv3d",
    "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d",
    "Upsample", "AvgPool1d", "AvgPool2d", "AvgPool3d",
    "PixelShuffle", "PixelUnshuffle", "Identity", "Flatten", "Unflatten", "Linear",
    "BatchNorm1d", "BatchNorm2d", "BatchNorm3d",
    "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout",
    "ZeroPad1d", "ZeroPad2d", "ZeroPad3d", "ConstantPad1d", "ConstantPad2d", "ConstantPad3d",
    "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d",
    "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d",
    "CircularPad1d", "CircularPad2d", "CircularPad3d",
    "Sequential",
)  # fmt: skip


def _torch() -> Any:
    return optional_import("torch", "reading torch modules")


def _array(tensor: Any) -> np.ndarray:
    return tensor.detach().cpu().to(dtype=_torch().float64).numpy()


def _sample_shape(input_shape: Any) -> tuple[int, ...]:
    if isinstance(input_shape, (str, bytes)) or not isinstance(input_shape, Sequence):
        raise ConvSpecTypeError(
            f"input_shape={input_shape!r} must be one sample's shape, channels first: "
            "(C, *spatial)"
        )
    if len(input_shape) < 1:
        raise ConvSpecError("input_shape=() must have at least one dim (C, *spatial)")
    return tuple(as_int(f"input_shape[{i}]", v, 1) for i, v in enumerate(input_shape))


@dataclass(frozen=True, eq=False)
class LayerSpec:
    """A torch layer that is a convolution (``transposed=False``) or a transposed one.

    ``module(x) = M x + offset`` for one sample, where ``M = conv_matrix(spec,
    weight)`` or, when ``transposed``, ``M = transposed_conv_matrix(spec,
    weight)``: ``spec`` is then the *forward* convolution whose Cᵀ the layer
    computes (see :meth:`ConvSpec.from_transposed`). ``weight`` has
    ``spec.weight_shape`` (for a ``ConvTransposeNd`` that is its own weight
    as it is); ``bias`` has one entry per output channel of the layer, or is
    ``None``.

    Made by :func:`from_module`; each field is a parameter of the constructor
    and an attribute of the result.

    Parameters
    ----------
    module : str
        The torch class name, e.g. ``'ConvTranspose2d'``.
    spec : ConvSpec
        The convolution (the forward one when ``transposed``).
    weight : numpy.ndarray
        float64, shape ``spec.weight_shape``.
    bias : numpy.ndarray or None
        float64, one per output channel of the layer.
    transposed : bool
        Whether the layer computes Cᵀ of ``spec`` rather than C.

    Examples
    --------
    >>> import numpy as np
    >>> layer = LayerSpec("Conv1d", ConvSpec((4,), 2), np.array([[[1.0, 2.0]]]),
    ...                   np.array([0.5]), transposed=False)
    >>> layer.input_shape, layer.output_shape, layer.offset
    ((1, 4), (1, 3), array([0.5, 0.5, 0.5]))
    >>> layer.matrix().toarray()
    array([[1., 2., 0., 0.],
           [0., 1., 2., 0.],
           [0., 0., 1., 2.]])
    """

    module: str
    spec: ConvSpec
    weight: np.ndarray
    bias: np.ndarray | None
    transposed: bool

    @property
    def input_shape(self) -> tuple[int, ...]:
        """One sample's input shape ``(C, *spatial)``."""
        s = self.spec
        if self.transposed:
            return (s.out_channels, *s.output_shape)
        return (s.in_channels, *s.input_shape)

    @property
    def output_shape(self) -> tuple[int, ...]:
        """One sample's output shape ``(C, *spatial)``."""
        s = self.spec
        if self.transposed:
            return (s.in_channels, *s.input_shape)
        return (s.out_channels, *s.output_shape)

    @property
    def offset(self) -> np.ndarray:
        """``b`` of ``y = M x + b``: the bias repeated over every output position."""
        size = math.prod(self.output_shape[1:])
        if self.bias is None:
            return np.zeros(self.output_shape[0] * size)
        return np.repeat(self.bias, size)

    def matrix(self, *, max_bytes: int | None = None) -> scipy.sparse.csr_array:
        """M: ``conv_matrix`` or ``transposed_conv_matrix`` of the spec and weight."""
        build = transposed_conv_matrix if self.transposed else conv_matrix
        return build(self.spec, self.weight, max_bytes=max_bytes)

    def __repr__(self) -> str:
        kind = "transposed, matrix Cᵀ" if self.transposed else "matrix C"
        bias = "no bias" if self.bias is None else "bias"
        return f"LayerSpec({self.module}: {self.spec!r}, {kind}, {bias})"


@dataclass(frozen=True, eq=False)
class NetworkMatrix:
    """A linear stack as one affine map: ``network(x) = matrix @ x + offset``.

    ``x`` is one sample of ``input_shape`` and the result one sample of
    ``output_shape``, both flattened in C order. Unpacks as ``M, b =
    network_matrix(...)``.

    Made by :func:`network_matrix`; each field is a parameter of the
    constructor and an attribute of the result.

    Parameters
    ----------
    matrix : scipy.sparse.csr_array
        M, shape ``(prod(output_shape), prod(input_shape))``.
    offset : numpy.ndarray
        Every bias pushed through the layers after it (zeros without biases).
    input_shape, output_shape : tuple of int
        One sample's shapes, channels first.
    layers : tuple of str
        The torch class names, in the order applied.

    Examples
    --------
    >>> import numpy as np, scipy.sparse
    >>> M = scipy.sparse.csr_array(np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 2.0]]))
    >>> net = NetworkMatrix(M, np.array([0.5, 0.5]), (1, 3), (1, 2), ("Conv1d",))
    >>> net
    NetworkMatrix(Conv1d: (1, 3) -> (1, 2), 4 stored entries)
    >>> net.apply([1.0, 1.0, 1.0])
    array([[3.5, 3.5]])
    >>> matrix, offset = net
    """

    matrix: scipy.sparse.csr_array
    offset: np.ndarray
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    layers: tuple[str, ...]

    def __iter__(self):
        return iter((self.matrix, self.offset))

    def apply(self, x: Any) -> np.ndarray:
        """``matrix @ x + offset`` for one sample, shaped ``output_shape``."""
        flat = np.asarray(x, dtype=np.float64).reshape(-1)
        return (self.matrix @ flat + self.offset).reshape(self.output_shape)

    def __repr__(self) -> str:
        return (
            f"NetworkMatrix({' -> '.join(self.layers)}: {self.input_shape} -> "
            f"{self.output_shape}, {self.matrix.nnz} stored entries)"
        )


@dataclass(frozen=True)
class _Step:
    """One layer's contribution: its matrix (built on demand), offset and output shape."""

    name: str
    build: Callable[[int | None], scipy.sparse.csr_array]
    offset: np.ndarray | None
    output_shape: tuple[int, ...]
    layer: LayerSpec | None = None


def _channels(matrix: scipy.sparse.csr_array, channels: int) -> scipy.sparse.csr_array:
    """``kron(I_channels, matrix)``: a one-channel operator on every channel."""
    if channels == 1:
        return scipy.sparse.csr_array(matrix)
    eye = scipy.sparse.eye_array(channels, format="csr")
    return scipy.sparse.csr_array(scipy.sparse.kron(eye, matrix, format="csr"))


def _identity(size: int) -> Callable[[int | None], scipy.sparse.csr_array]:
    return lambda max_bytes: scipy.sparse.eye_array(size, format="csr")


def _need_dims(module: Any, shape: tuple[int, ...], spatial: int) -> tuple[int, ...]:
    if len(shape) != spatial + 1:
        raise ConvSpecError(
            f"{type(module).__name__} takes one sample of shape (C, {spatial} spatial "
            f"dims), got input_shape={shape}"
        )
    return shape[1:]


def _need_channels(module: Any, shape: tuple[int, ...], expected: int) -> None:
    if shape[0] != expected:
        raise ConvSpecError(
            f"{type(module).__name__} has in_channels={expected}, but input_shape={shape} "
            f"has {shape[0]} channels"
        )


def _conv_step(module: Any, shape: tuple[int, ...], ones: bool, **_: Any) -> _Step:
    ndim = len(module.kernel_size)
    spatial = _need_dims(module, shape, ndim)
    _need_channels(module, shape, module.in_channels)
    # ConvSpec takes a padding string or per-dim amounts (it normalises both).
    padding: Any = module.padding if isinstance(module.padding, str) else tuple(module.padding)
    spec = ConvSpec(
        spatial,
        module.kernel_size,
        module.stride,
        padding,
        module.dilation,
        module.in_channels,
        module.out_channels,
        module.groups,
        padding_mode=module.padding_mode,
    )
    return _spec_step(module, spec, False, ones)


def _output_padding(module: Any, spatial: tuple[int, ...], output_size: Any) -> tuple[int, ...]:
    """torch's ``ConvTransposeNd._output_padding``: the extra size ``output_size`` asks for."""
    ndim = len(spatial)
    sizes = list(output_size)
    if len(sizes) in (ndim + 1, ndim + 2):  # (C, *spatial) or (N, C, *spatial)
        sizes = sizes[len(sizes) - ndim :]
    if len(sizes) != ndim:
        raise ConvSpecError(
            f"output_size={tuple(output_size)!r} must have {ndim} entries (or {ndim + 1}, "
            f"{ndim + 2} with leading channel/batch dims)"
        )
    sizes = [as_int(f"output_size[{i}]", v, 1) for i, v in enumerate(sizes)]
    smallest = [
        (n - 1) * s - 2 * p + d * (k - 1) + 1
        for n, s, p, d, k in zip(
            spatial, module.stride, module.padding, module.dilation, module.kernel_size
        )
    ]
    largest = [m + s - 1 for m, s in zip(smallest, module.stride)]
    if any(not lo <= size <= hi for size, lo, hi in zip(sizes, smallest, largest)):
        raise ConvSpecError(
            f"{type(module).__name__}: output_size={tuple(sizes)} must lie between "
            f"{tuple(smallest)} and {tuple(largest)} for input size {spatial} (torch's range: "
            "the smallest size plus 0 to stride - 1)"
        )
    return tuple(size - lo for size, lo in zip(sizes, smallest))


def _conv_transpose_step(
    module: Any, shape: tuple[int, ...], ones: bool, output_size: Any = None, **_: Any
) -> _Step:
    ndim = len(module.kernel_size)
    spatial = _need_dims(module, shape, ndim)
    _need_channels(module, shape, module.in_channels)
    if isinstance(module.padding, str) or any(isinstance(p, str) for p in module.padding):
        # torch's constructor splits padding='same' into ('s', 'a', 'm', 'e').
        text = "".join(module.padding)
        raise ConvSpecError(
            f"{type(module).__name__} padding={text!r}: transposed layers take integer "
            "padding only (torch accepts the string here but cannot run it)"
        )
    extra = (
        tuple(module.output_padding)
        if output_size is None
        else _output_padding(module, spatial, output_size)
    )
    spec = ConvSpec.from_transposed(
        spatial,
        module.in_channels,
        module.out_channels,
        module.kernel_size,
        module.stride,
        tuple(module.padding),
        extra,
        module.groups,
        module.dilation,
    )
    return _spec_step(module, spec, True, ones)


def _spec_step(module: Any, spec: ConvSpec, transposed: bool, ones: bool) -> _Step:
    weight = np.ones(spec.weight_shape) if ones else _array(module.weight)
    bias = None if (ones or module.bias is None) else _array(module.bias)
    layer = LayerSpec(type(module).__name__, spec, weight, bias, transposed)
    offset = None if bias is None else layer.offset
    return _Step(
        layer.module,
        lambda max_bytes: layer.matrix(max_bytes=max_bytes),
        offset,
        layer.output_shape,
        layer,
    )


def _fixed_step(
    module: Any,
    channels: int,
    one_channel: scipy.sparse.csr_array,
    output_shape: tuple[int, ...],
    layer: LayerSpec | None = None,
    offset: np.ndarray | None = None,
) -> _Step:
    """A fixed one-channel operator (resampling, pooling, padding) on every channel."""
    name = type(module).__name__

    def build(max_bytes: int | None) -> scipy.sparse.csr_array:
        rows = one_channel.shape[0] * channels
        check_memory(
            one_channel.nnz * channels * 16 + (rows + 1) * 8,
            what=f"the matrix of {name} ({rows} rows)",
            max_bytes=max_bytes,
        )
        return _channels(one_channel, channels)

    return _Step(name, build, offset, output_shape, layer)


def _upsample_step(module: Any, shape: tuple[int, ...], ones: bool, **_: Any) -> _Step:
    name = type(module).__name__
    linear = {"linear": 1, "bilinear": 2, "trilinear": 3}
    mode = module.mode
    if mode not in ("nearest", "nearest-exact", *linear):
        raise ConvSpecError(
            f"{name}(mode={mode!r}) is not supported; modes: nearest, nearest-exact, linear, "
            "bilinear, trilinear"
        )
    if len(shape) not in (2, 3, 4):
        raise ConvSpecError(
            f"{name} takes one sample of shape (C, *spatial) with 1 to 3 spatial dims, got "
            f"input_shape={shape}"
        )
    spatial = shape[1:]
    if mode in linear and linear[mode] != len(spatial):
        raise ConvSpecError(
            f"{name}(mode={mode!r}) needs {linear[mode]} spatial dims (torch's rule), got "
            f"input_shape={shape}; use mode='linear', 'bilinear' or 'trilinear' for 1, 2, 3"
        )
    if mode not in linear and module.align_corners is not None:
        raise ConvSpecError(
            f"{name}(mode={mode!r}) takes no align_corners (torch's rule: only the "
            "interpolating modes do)"
        )
    scale, size = module.scale_factor, module.size
    if isinstance(scale, (tuple, list)):
        scale = tuple(scale)
    if isinstance(size, (tuple, list)):
        size = tuple(size)
    if module.recompute_scale_factor:
        if size is not None:
            raise ConvSpecError(f"{name}: recompute_scale_factor is not meaningful with size=")
        # torch computes the output size from the scale, then forgets the scale.
        size = resized_shape(spatial, scale, None)
        scale = None
    if mode in linear:
        one = bilinear_upsample_matrix(spatial, scale, bool(module.align_corners), size=size)
    else:
        one = nearest_upsample_matrix(spatial, scale, size=size, exact=mode == "nearest-exact")
    out = resized_shape(spatial, scale, size)
    layer = None
    if mode == "nearest" and all(m % n == 0 for m, n in zip(out, spatial)):
        factors = tuple(m // n for m, n in zip(out, spatial))
        expanded = scipy.sparse.csr_array(nearest_upsample_matrix(spatial, factors))
        if (abs(one - expanded) > 0).nnz == 0:
            # Nearest upsampling by whole factors is a depthwise transposed
            # convolution with kernel = stride = factor and a kernel of ones.
            spec = ConvSpec.from_transposed(
                spatial, shape[0], shape[0], factors, factors, groups=shape[0]
            )
            layer = LayerSpec(name, spec, np.ones(spec.weight_shape), None, True)
    return _fixed_step(module, shape[0], one, (shape[0], *out), layer)


def _avg_pool_step(module: Any, shape: tuple[int, ...], ones: bool, **_: Any) -> _Step:
    name = type(module).__name__
    ndim = int(name[-2])
    spatial = _need_dims(module, shape, ndim)
    override = getattr(module, "divisor_override", None)
    kernel = per_dim("kernel_size", _listed(module.kernel_size), ndim, 1)
    stride = per_dim("stride", _listed(module.stride or module.kernel_size), ndim, 1)
    padding = per_dim("padding", _listed(module.padding), ndim, 0)
    if ndim == 3 and any(n < k for n, k in zip(spatial, kernel)):
        # Unlike avg_pool1d/2d, torch's avg_pool3d checks the unpadded input.
        raise ConvSpecError(
            f"AvgPool3d(kernel_size={kernel}) needs every input size >= kernel size, padding "
            f"or not (torch's rule for 3-D average pooling), got input_shape={shape}"
        )
    one = avg_pool_matrix(
        spatial, kernel, stride, padding, bool(module.ceil_mode),
        bool(module.count_include_pad), override,
    )
    out = _pool_output(spatial, kernel, stride, padding, bool(module.ceil_mode))
    layer = _pool_as_conv(name, shape[0], spatial, kernel, stride, padding, out, module, override)
    return _fixed_step(module, shape[0], one, (shape[0], *out), layer)


def _listed(value: Any) -> Any:
    return list(value) if isinstance(value, (tuple, list)) else value


def _pool_output(spatial, kernel, stride, padding, ceil_mode) -> tuple[int, ...]:
    out = []
    for n, k, s, p in zip(spatial, kernel, stride, padding):
        size = (n + 2 * p - k + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (size - 1) * s >= n + p:
            size -= 1
        out.append(size)
    return tuple(out)


def _pool_as_conv(name, channels, spatial, kernel, stride, padding, out, module, override):
    """The pool as a depthwise convolution, when every window's divisor is the same."""
    # A window reaching past n + p (ceil_mode) is divided by its clipped
    # length; without count_include_pad a window touching padding by its
    # inside count. Both break the one-kernel form unless the divisor is fixed.
    after = [
        (o - 1) * s + k - n - p for o, s, k, n, p in zip(out, stride, kernel, spatial, padding)
    ]
    overhang = any(a > p for a, p in zip(after, padding))
    if override is None and (overhang or (not module.count_include_pad and any(padding))):
        return None
    divisor = override if override is not None else math.prod(kernel)
    pairs = [(p, max(p, a)) for p, a in zip(padding, after)]
    spec = ConvSpec(spatial, kernel, stride, pairs, 1, channels, channels, channels)
    return LayerSpec(name, spec, np.full(spec.weight_shape, 1.0 / divisor), None, False)


def _shuffle_step(module: Any, shape: tuple[int, ...], ones: bool, **_: Any) -> _Step:
    name = type(module).__name__
    if len(shape) != 3:
        raise ConvSpecError(f"{name} takes one sample of shape (C, H, W), got input_shape={shape}")
    if name == "PixelShuffle":
        r = module.upscale_factor
        if shape[0] % (r * r):
            raise ConvSpecError(
                f"PixelShuffle(upscale_factor={r}) needs channels divisible by {r * r}, got "
                f"input_shape={shape}"
            )
        channels = shape[0] // (r * r)
        # out[c, h*r + a, w*r + b] = in[c*r*r + a*r + b, h, w]: a transposed
        # convolution with kernel = stride = r and a one-hot kernel.
        spec = ConvSpec.from_transposed(shape[1:], shape[0], channels, r, r)
        transposed = True
    else:
        r = module.downscale_factor
        if shape[1] % r or shape[2] % r:
            raise ConvSpecError(
                f"PixelUnshuffle(downscale_factor={r}) needs H and W divisible by {r}, got "
                f"input_shape={shape}"
            )
        channels = shape[0]
        spec = ConvSpec(shape[1:], r, r, in_channels=channels, out_channels=channels * r * r)
        transposed = False
    weight = np.zeros(spec.weight_shape)
    for c in range(channels):
        for a in range(r):
            for b in range(r):
                weight[c * r * r + a * r + b, c, a, b] = 1.0
    layer = LayerSpec(name, spec, weight, None, transposed)
    return _Step(name, lambda max_bytes: layer.matrix(max_bytes=max_bytes), None,
                 layer.output_shape, layer)


def _identity_step(module: Any, shape: tuple[int, ...], ones: bool, **_: Any) -> _Step:
    name = type(module).__name__
    size = math.prod(shape)
    layer = None
    if 2 <= len(shape) <= 4:
        spec = ConvSpec(shape[1:], (1,) * (len(shape) - 1), in_channels=shape[0],
                        out_channels=shape[0], groups=shape[0])
        layer = LayerSpec(name, spec, np.ones(spec.weight_shape), None, False)
    return _Step(name, _identity(size), None, shape, layer)


def _dropout_step(module: Any, shape: tuple[int, ...], ones: bool, **_: Any) -> _Step:
    """Dropout in eval mode (or with ``p=0``) passes its input through: the identity."""
    if module.training and module.p > 0:
        name = type(module).__name__
        raise ConvSpecError(
            f"{name}(p={module.p}) is in training mode: it zeros a random choice of entries "
            "(a new one each call) and scales the rest, so no fixed matrix describes it; "
            "call .eval() on the network first (dropout is then the identity)"
        )
    return _identity_step(module, shape, ones)


def _batch_norm_step(module: Any, shape: tuple[int, ...], ones: bool, **_: Any) -> _Step:
    """Eval-mode BatchNorm: ``y = a_c x + t_c`` per channel, a diagonal M and an offset.

    ``a_c = γ_c / √(σ²_c + ε)`` and ``t_c = β_c - a_c μ_c`` with the running
    mean ``μ`` and variance ``σ²`` (``γ = 1, β = 0`` without ``affine``).
    """
    name = type(module).__name__
    ndim = int(name[-2])
    ranks = {1: (1, 2), 2: (3,), 3: (4,)}[ndim]
    if len(shape) not in ranks:
        expected = "(C,) or (C, L)" if ndim == 1 else f"(C, {ndim} spatial dims)"
        raise ConvSpecError(
            f"{name} takes one sample of shape {expected}, got input_shape={shape}"
        )
    if shape[0] != module.num_features:
        raise ConvSpecError(
            f"{name}(num_features={module.num_features}) normalises {module.num_features} "
            f"channels, but input_shape={shape} has {shape[0]}"
        )
    if module.training:
        raise ConvSpecError(
            f"{name} is in training mode: it normalises by the mean and variance of the "
            "batch, which depend on x (and on the other samples), so no fixed matrix "
            "describes it; call .eval() on the network to use the running statistics"
        )
    if module.running_mean is None or module.running_var is None:
        raise ConvSpecError(
            f"{name}(track_running_stats=False) normalises by the batch's own mean and "
            "variance even in eval mode, which depend on x: no fixed matrix describes it; "
            "only a BatchNorm with running statistics folds into M and b"
        )
    channels, size = shape[0], math.prod(shape[1:])
    if ones:
        # coverage_map: learned values become ones and biases go, as for convolutions.
        scale, shift = np.ones(channels), np.zeros(channels)
    else:
        scale = 1.0 / np.sqrt(_array(module.running_var) + float(module.eps))
        shift = -_array(module.running_mean) * scale
        if module.weight is not None:
            scale = scale * _array(module.weight)
            shift = shift * _array(module.weight)
        if module.bias is not None:
            shift = shift + _array(module.bias)
    diagonal = np.repeat(scale, size)
    offset = None if ones else np.repeat(shift, size)
    layer = None
    if 2 <= len(shape) <= 4:
        # Per channel a x + t: a depthwise 1x1 convolution with bias.
        spec = ConvSpec(shape[1:], (1,) * (len(shape) - 1), in_channels=channels,
                        out_channels=channels, groups=channels)
        layer = LayerSpec(name, spec, scale.reshape(spec.weight_shape), shift, False)

    def build(max_bytes: int | None) -> scipy.sparse.csr_array:
        return scipy.sparse.csr_array(scipy.sparse.diags_array(diagonal, format="csr"))

    return _Step(name, build, offset, shape, layer)


#: Where torch keeps the layers whose output is no affine function of the input.
_NONLINEAR_SOURCES = (
    "torch.nn.modules.activation",  # ReLU, GELU, Sigmoid, Softmax, MultiheadAttention, ...
    "torch.nn.modules.normalization",  # LayerNorm, GroupNorm, RMSNorm, LocalResponseNorm
    "torch.nn.modules.instancenorm",
)
_NONLINEAR_POOLS = ("MaxPool", "AdaptiveMaxPool", "FractionalMaxPool", "LPPool")


def _nonlinear(cls: type) -> bool:
    """Whether ``cls`` is one of torch's nonlinear layers (activations, max pools, norms)."""
    return cls.__module__ in _NONLINEAR_SOURCES or (
        cls.__module__ == "torch.nn.modules.pooling" and cls.__name__.startswith(_NONLINEAR_POOLS)
    )


def _batch_dim(module: Any, dim: int, rank: int, what: str) -> int:
    """A dim of the batched tensor ``(N, *sample)`` as a dim of the sample."""
    position = dim if dim >= 0 else dim + rank + 1
    if not 1 <= position <= rank:
        raise ConvSpecError(
            f"{type(module).__name__}({what}={dim}) must name a dim of the sample: the batch "
            "dim would mix samples (and one sample's matrix cannot show that)"
        )
    return position - 1


def _flatten_step(module: Any, shape: tuple[int, ...], ones: bool, **_: Any) -> _Step:
    first = _batch_dim(module, module.start_dim, len(shape), "start_dim")
    last = _batch_dim(module, module.end_dim, len(shape), "end_dim")
    if last < first:
        raise ConvSpecError(
            f"Flatten(start_dim={module.start_dim}, end_dim={module.end_dim}): start_dim "
            "comes after end_dim (torch refuses it)"
        )
    output = (*shape[:first], math.prod(shape[first : last + 1]), *shape[last + 1 :])
    return _Step("Flatten", _identity(math.prod(shape)), None, output)


def _unflatten_step(module: Any, shape: tuple[int, ...], ones: bool, **_: Any) -> _Step:
    position = _batch_dim(module, module.dim, len(shape), "dim")
    sizes = list(module.unflattened_size)
    if sizes.count(-1) == 1:
        known = math.prod(v for v in sizes if v != -1)
        sizes[sizes.index(-1)] = shape[position] // known if known else 0
    if math.prod(sizes) != shape[position]:
        raise ConvSpecError(
            f"Unflatten(unflattened_size={tuple(module.unflattened_size)}) does not fit dim "
            f"{position} of size {shape[position]} in input_shape={shape}"
        )
    output = (*shape[:position], *sizes, *shape[position + 1 :])
    return _Step("Unflatten", _identity(math.prod(shape)), None, tuple(output))


def _linear_step(module: Any, shape: tuple[int, ...], ones: bool, **_: Any) -> _Step:
    if shape[-1] != module.in_features:
        raise ConvSpecError(
            f"Linear(in_features={module.in_features}) acts on the last dim, but "
            f"input_shape={shape} ends in {shape[-1]}"
        )
    weight = np.ones((module.out_features, module.in_features)) if ones else _array(
        module.weight
    )
    leading = math.prod(shape[:-1])
    output = (*shape[:-1], module.out_features)
    offset = None
    if module.bias is not None and not ones:
        offset = np.tile(_array(module.bias), leading)

    def build(max_bytes: int | None) -> scipy.sparse.csr_array:
        check_memory(
            leading * weight.size * 12,
            what=f"the matrix of Linear on input_shape={shape}",
            max_bytes=max_bytes,
        )
        return _channels(scipy.sparse.csr_array(weight), leading)

    return _Step("Linear", build, offset, output)


_PAD_MODES = {"Reflection": "reflect", "Replication": "replicate", "Circular": "circular"}


def _pad_step(module: Any, shape: tuple[int, ...], ones: bool, **_: Any) -> _Step:
    name = type(module).__name__
    amounts = list(module.padding)
    ndim = len(amounts) // 2
    mode = next((m for key, m in _PAD_MODES.items() if name.startswith(key)), "zeros")
    if mode != "zeros" and len(shape) != ndim + 1:
        raise ConvSpecError(
            f"{name} takes one sample of shape (C, {ndim} spatial dims), got input_shape={shape}"
        )
    if len(shape) < ndim:
        raise ConvSpecError(f"{name} pads {ndim} dims, but input_shape={shape} has {len(shape)}")
    if mode != "zeros" and min(amounts) < 0:
        raise ConvSpecError(
            f"{name}(padding={tuple(amounts)}): negative padding crops, which only the "
            "constant padding layers do"
        )
    # torch lists (before, after) from the last dim backwards.
    pairs = [(amounts[2 * i], amounts[2 * i + 1]) for i in range(ndim)][::-1]
    split = len(shape) - ndim
    leading = math.prod(shape[:split])
    one = pad_matrix(shape[split:], pairs, mode=mode)
    output = (*shape[:split], *(n + b + a for n, (b, a) in zip(shape[split:], pairs)))
    offset = None
    value = float(getattr(module, "value", 0.0))
    if value and not ones:
        # A constant other than zero makes the layer affine: the padded
        # entries (rows of P without a 1) hold the value.
        border = (one.sum(axis=1) == 0).astype(np.float64) * value
        offset = np.tile(border, leading)
    return _fixed_step(module, leading, one, output, offset=offset)


def _handlers() -> dict[Any, Callable[..., _Step]]:
    nn = _torch().nn
    table: dict[Any, Callable[..., _Step]] = {
        nn.Upsample: _upsample_step,
        nn.PixelShuffle: _shuffle_step,
        nn.PixelUnshuffle: _shuffle_step,
        nn.Identity: _identity_step,
        nn.Flatten: _flatten_step,
        nn.Unflatten: _unflatten_step,
        nn.Linear: _linear_step,
        nn.Dropout: _dropout_step,
        nn.AlphaDropout: _dropout_step,
        nn.FeatureAlphaDropout: _dropout_step,
    }
    for d in (1, 2, 3):
        table[getattr(nn, f"Conv{d}d")] = _conv_step
        table[getattr(nn, f"ConvTranspose{d}d")] = _conv_transpose_step
        table[getattr(nn, f"AvgPool{d}d")] = _avg_pool_step
        table[getattr(nn, f"BatchNorm{d}d")] = _batch_norm_step
        table[getattr(nn, f"Dropout{d}d")] = _dropout_step
        for kind in ("ZeroPad", "ConstantPad", "ReflectionPad", "ReplicationPad", "CircularPad"):
            table[getattr(nn, f"{kind}{d}d")] = _pad_step
    return table


#: What the refusal of an unknown layer lists (SUPPORTED_MODULES has every class).
_FAMILIES = (
    "Conv and ConvTranspose (1-3d), Linear, Upsample, AvgPool, the padding layers, "
    "PixelShuffle/PixelUnshuffle, Flatten/Unflatten, Identity, BatchNorm and Dropout in "
    "eval mode, and Sequential stacks of them"
)


def _handler(module: Any) -> Callable[..., _Step]:
    torch = _torch()
    if not isinstance(module, torch.nn.Module):
        raise ConvSpecTypeError(
            f"module={module!r} must be a torch.nn.Module, not {type(module).__name__}"
        )
    name = type(module).__name__
    table = _handlers()
    for base in type(module).__mro__:
        if base in table or _nonlinear(base):
            # A subclass that keeps the forward (e.g. a parametrized layer) is
            # the same layer; one that overrides it may compute anything.
            if type(module).forward is not getattr(base, "forward", None):
                raise ConvSpecError(
                    f"{name} is not supported: it overrides the forward of {base.__name__}, "
                    "so it may compute anything (subclasses that keep the forward are read)"
                )
            if base in table:
                return table[base]
            raise ConvSpecError(
                f"{name} is nonlinear: its Jacobian depends on x, so no one matrix M gives "
                f"{name}(x) = M x + b for every x; network_matrix reads linear (affine) "
                "layers only: take the matrices of the linear parts on either side of it, or "
                "torch.autograd.functional.jacobian at one x"
            )
    raise ConvSpecError(
        f"{name} is not supported: network_matrix reads {_FAMILIES} "
        "(every class: transpose_matrix.interop.modules.SUPPORTED_MODULES)"
    )


def _steps(
    module: Any,
    shape: tuple[int, ...],
    ones: bool,
    output_size: Any = None,
    *,
    path: str = "",
    before: int = 0,
) -> list[_Step]:
    """The module's steps; ``path`` indexes it in the stack (``net[1][0]``), ``before`` counts
    the layers ahead of it, so errors can say ``layer 3 (net[2])``."""
    nn = _torch().nn
    if isinstance(module, nn.Sequential) and type(module).forward is nn.Sequential.forward:
        if output_size is not None:
            raise ConvSpecError(
                "output_size= applies to a single ConvTransposeNd, not a Sequential"
            )
        steps: list[_Step] = []
        for index, child in enumerate(module):
            steps.extend(
                _steps(child, shape, ones, path=f"{path or 'net'}[{index}]",
                       before=before + len(steps))
            )
            shape = steps[-1].output_shape if steps else shape
        return steps
    name = type(module).__name__
    try:
        handler = _handler(module)
        if output_size is not None and handler is not _conv_transpose_step:
            raise ConvSpecError(f"output_size= applies to ConvTransposeNd only, not {name}")
        return [handler(module, shape, ones, output_size=output_size)]
    except ConvSpecError as error:
        message = str(error)
        if not message.startswith(name):
            message = f"{name}: {message}"
        if path:
            message = f"layer {before + 1} ({path}): {message}"
        raise type(error)(message) from None


def _product(
    steps: list[_Step], size: int, max_bytes: int | None
) -> tuple[scipy.sparse.csr_array, np.ndarray]:
    """The product of the steps' matrices and the offset they accumulate, memory-guarded."""
    matrix: scipy.sparse.csr_array | None = None
    offset: np.ndarray = np.zeros(size)
    for i, step in enumerate(steps):
        layer = step.build(max_bytes)
        offset = layer @ offset
        if step.offset is not None:
            offset = offset + step.offset
        if matrix is None:
            matrix = scipy.sparse.csr_array(layer)
            continue
        # nnz(A·B) is at most Σ_k nnz(A[:, k])·nnz(B[k, :]): check that bound
        # before scipy allocates the product.
        per_column = np.bincount(layer.indices, minlength=layer.shape[1])
        per_row = np.diff(matrix.indptr)
        bound = int(min(np.dot(per_column, per_row), layer.shape[0] * matrix.shape[1]))
        check_memory(
            bound * 16 + (layer.shape[0] + 1) * 8,
            what=f"the product of layers 1 to {i + 1} (shape {(layer.shape[0], matrix.shape[1])})",
            max_bytes=max_bytes,
        )
        matrix = scipy.sparse.csr_array(layer @ matrix)
    if matrix is None:
        matrix = scipy.sparse.eye_array(size, format="csr")
    return matrix, offset


def network_matrix(
    module: Any, input_shape: Sequence[int], *, max_bytes: int | None = None
) -> NetworkMatrix:
    """``network(x) = M x + b`` for an ``nn.Sequential`` (nested too) of supported layers.

    M is the product of the layers' matrices, last layer leftmost; b pushes
    every layer's bias through the layers after it: ``b = M_n(…(M_2 b_1 +
    b_2)…) + b_n``. A single supported layer works too.

    Parameters
    ----------
    module : torch.nn.Module
        ``nn.Sequential`` of the layers listed in :data:`SUPPORTED_MODULES`.
    input_shape : sequence of int
        One sample's shape, channels first: ``(C, *spatial)``.
    max_bytes : int, optional
        The memory guard's limit for every layer's matrix and every partial
        product (see :func:`transpose_matrix.memory.memory_limit`).

    Returns
    -------
    NetworkMatrix
        ``matrix`` (CSR, float64), ``offset``, shapes and layer names;
        unpacks as ``M, b``.

    Raises
    ------
    ConvSpecError
        An unsupported module or option, a nonlinear layer (``ReLU``,
        ``MaxPool2d``, ``LayerNorm``, …), ``BatchNorm`` or ``Dropout`` in
        training mode, or a shape the layer does not take; inside a stack the
        message starts with the layer's place, e.g. ``layer 3 (net[2]): ReLU
        is nonlinear``.
    MemoryGuardError
        A layer's matrix or a partial product would exceed the limit. The
        product's size is bounded by ``Σ_k nnz(A[:, k]) nnz(B[k, :])`` before
        it is formed.

    Notes
    -----
    The result is what autograd's Jacobian of the network is at any input
    (the layers are linear), and the offset is the network's output at
    ``x = 0``. Eval-mode ``BatchNorm`` is the per-channel affine map ``a_c x
    + t_c`` with ``a_c = γ_c/√(σ²_c + ε)``, ``t_c = β_c - a_c μ_c`` (running
    statistics): ``a`` scales M's rows, ``t`` joins the offset. Eval-mode
    ``Dropout`` is the identity. Stacks whose biases you do not want: set them to ``None``
    (``bias=False``) or ignore ``offset``.

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.ConvTranspose1d(1, 1, 2, stride=2, bias=False),
    ...                           torch.nn.ConvTranspose1d(1, 1, 2, stride=2, bias=False))
    >>> M, b = network_matrix(net, (1, 2))
    >>> M.shape, float(abs(b).max())
    ((8, 2), 0.0)
    """
    shape = _sample_shape(input_shape)
    steps = _steps(module, shape, ones=False)
    matrix, offset = _product(steps, math.prod(shape), max_bytes)
    output = steps[-1].output_shape if steps else shape
    return NetworkMatrix(matrix, offset, shape, output, tuple(step.name for step in steps))


def module_matrix(
    module: Any,
    input_shape: Sequence[int],
    *,
    output_size: Sequence[int] | None = None,
    max_bytes: int | None = None,
) -> scipy.sparse.csr_array:
    """M with ``module(x) = M x + b`` for one sample ``x`` of ``input_shape``.

    The linear part of the module: its Jacobian, bias left out (see
    :func:`from_module` and :func:`network_matrix` for the bias as an
    offset). Rows and columns flatten ``(channel, *spatial)`` in C order,
    like ``tensor.reshape(-1)``.

    Parameters
    ----------
    module : torch.nn.Module
        One of :data:`SUPPORTED_MODULES` (a ``Sequential`` gives the product).
    input_shape : sequence of int
        One sample's shape, channels first: ``(C, *spatial)``.
    output_size : sequence of int, optional
        For a ``ConvTransposeNd``: the ``output_size`` passed when calling
        it, which picks the output padding as torch does (the module's own
        ``output_padding`` is then ignored, as torch ignores it).
    max_bytes : int, optional
        The memory guard's limit.

    Returns
    -------
    scipy.sparse.csr_array
        float64, shape ``(prod(output shape), prod(input_shape))``.

    Raises
    ------
    ConvSpecError
        An unsupported module or option (named in the message), a shape the
        module does not take, or an ``output_size`` outside torch's range.
    MemoryGuardError
        The matrix would exceed the memory limit.

    Notes
    -----
    Each layer is built from its arguments, never by running it: a
    convolution through :func:`transpose_matrix.conv_matrix`, a transposed
    one through :func:`transpose_matrix.transposed_conv_matrix`,
    ``Upsample``, ``AvgPool`` and padding layers through the one-channel
    builders of :mod:`transpose_matrix.matrices.resampling` repeated over the channels.
    ``Upsample`` follows torch's float64 arithmetic; for float32 tensors
    torch rounds in float32 and, with scales whose reciprocal is inexact,
    can pick the neighbouring source entry.

    Examples
    --------
    >>> import torch
    >>> layer = torch.nn.Upsample(scale_factor=2, mode="nearest")
    >>> module_matrix(layer, (1, 2)).toarray()
    array([[1., 0.],
           [1., 0.],
           [0., 1.],
           [0., 1.]])
    """
    shape = _sample_shape(input_shape)
    steps = _steps(module, shape, ones=False, output_size=output_size)
    return _product(steps, math.prod(shape), max_bytes)[0]


def from_module(
    module: Any, input_shape: Sequence[int], *, output_size: Sequence[int] | None = None
) -> LayerSpec:
    """The layer as a :class:`LayerSpec`: spec, weight, bias, and whether it is transposed.

    For ``Conv{1,2,3}d`` the spec is the layer's own (padding mode and
    ``'same'``/``'valid'`` included); for ``ConvTranspose{1,2,3}d`` it is the
    forward convolution whose Cᵀ the layer computes (``output_size`` as in
    :func:`module_matrix`). Layers that are exactly a convolution with a
    fixed kernel come back as one too: ``PixelShuffle`` (transposed, kernel =
    stride = r, one-hot kernel), ``PixelUnshuffle`` (its transpose),
    ``Upsample(mode='nearest')`` with integer scales (transposed, depthwise,
    kernel of ones), ``AvgPool`` whose every window has the same divisor
    (depthwise, kernel ``1/divisor``), ``Identity`` and eval-mode
    ``Dropout`` (a 1x1 depthwise kernel of ones), and eval-mode ``BatchNorm``
    (a 1x1 depthwise kernel ``γ/√(σ² + ε)`` with bias ``β - γμ/√(σ² + ε)``).

    Parameters
    ----------
    module : torch.nn.Module
        One layer.
    input_shape : sequence of int
        One sample's shape, channels first: ``(C, *spatial)``.
    output_size : sequence of int, optional
        For a ``ConvTransposeNd``: the ``output_size`` passed when calling it.

    Returns
    -------
    LayerSpec
        The spec, float64 weight and bias, and whether the layer is transposed.

    Raises
    ------
    ConvSpecError
        The module is supported by :func:`module_matrix` but is no single
        convolution (bilinear upsampling, a pool whose border windows are
        divided differently, padding, reshaping, ``Linear``, ``Sequential``),
        or it is not supported at all; a shape the layer does not take.
    ConvSpecTypeError
        ``module`` is not a ``torch.nn.Module`` or ``input_shape`` is not a
        sequence of integers.
    MissingDependencyError
        torch is not installed.

    Examples
    --------
    >>> import torch
    >>> layer = torch.nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1)
    >>> found = from_module(layer, (8, 5, 5))
    >>> found.transposed, found.spec.input_shape, found.output_shape
    (True, (10, 10), (4, 10, 10))
    """
    shape = _sample_shape(input_shape)
    steps = _steps(module, shape, ones=False, output_size=output_size)
    if len(steps) != 1 or steps[0].layer is None:
        name = type(module).__name__
        raise ConvSpecError(
            f"{name} on input_shape={shape} is no single convolution or transposed "
            "convolution; module_matrix (or network_matrix) gives its matrix"
        )
    return steps[0].layer


def coverage_map(
    module: Any, input_shape: Sequence[int], *, max_bytes: int | None = None
) -> np.ndarray:
    """How many paths reach each output entry: the network with all-ones kernels applied to ones.

    Every convolution's, ``Linear``'s and ``BatchNorm``'s weight (its
    per-channel scale) is replaced by ones and every bias dropped; fixed
    layers (upsampling, pooling, padding, shuffles) keep their values. For
    one ``ConvTransposeNd`` this is ``Cᵀ 1`` with an all-ones kernel: entry
    ``(o, *i)`` counts the (input entry, kernel tap) pairs that write it,
    times the input channels of its group.
    Uneven counts are the checkerboard that transposed convolutions whose
    kernel size is not a multiple of the stride leave behind; for a stack
    they compound.

    Parameters
    ----------
    module : torch.nn.Module
        A layer or ``nn.Sequential`` of the layers in :data:`SUPPORTED_MODULES`.
    input_shape : sequence of int
        One sample's shape, channels first: ``(C, *spatial)``.
    max_bytes : int, optional
        The memory guard's limit, as in :func:`network_matrix`.

    Returns
    -------
    numpy.ndarray
        Shape: the network's output shape ``(C, *spatial)``.

    Raises
    ------
    ConvSpecError, ConvSpecTypeError
        As in :func:`network_matrix`: an unsupported or nonlinear layer, or a
        shape it does not take.
    MemoryGuardError
        A matrix or a partial product would exceed the limit.
    MissingDependencyError
        torch is not installed.

    Examples
    --------
    >>> import torch
    >>> layer = torch.nn.ConvTranspose1d(1, 1, 3, stride=2)
    >>> coverage_map(layer, (1, 4))
    array([[1., 1., 2., 1., 2., 1., 2., 1., 1.]])
    """
    shape = _sample_shape(input_shape)
    steps = _steps(module, shape, ones=True)
    matrix, _ = _product(steps, math.prod(shape), max_bytes)
    output = steps[-1].output_shape if steps else shape
    return (matrix @ np.ones(matrix.shape[1])).reshape(output)


def effective_kernel(
    module: Any,
    input_shape: Sequence[int],
    position: Sequence[int] | None = None,
    *,
    channel: int = 0,
    max_bytes: int | None = None,
) -> np.ndarray:
    """The stack's response to one unit input entry: its effective kernel there.

    Column ``(channel, *position)`` of the network's matrix, shaped like the
    output: what a single input entry contributes to every output entry
    (biases left out). For a stack of transposed convolutions it is the
    composite kernel each input pixel stamps onto the output; away from the
    border it is the same for every position of a phase.

    Parameters
    ----------
    module : torch.nn.Module
    input_shape : sequence of int
        ``(C, *spatial)``.
    position : sequence of int, optional
        Spatial position of the impulse; default the centre
        ``(n // 2 for n in spatial)``.
    channel : int
        Input channel of the impulse.
    max_bytes : int, optional
        The memory guard's limit, as in :func:`network_matrix`.

    Returns
    -------
    numpy.ndarray
        Shape: the network's output shape ``(C, *spatial)``.

    Raises
    ------
    ConvSpecError, ConvSpecTypeError
        ``position`` or ``channel`` outside the input, or, as in
        :func:`network_matrix`, an unsupported layer or shape.
    MemoryGuardError
        The network's matrix would exceed the limit.
    MissingDependencyError
        torch is not installed.

    Examples
    --------
    >>> import torch
    >>> layer = torch.nn.ConvTranspose1d(1, 1, 3, stride=2, bias=False)
    >>> with torch.no_grad():
    ...     _ = layer.weight.copy_(torch.tensor([[[1.0, 2.0, 3.0]]]))
    >>> effective_kernel(layer, (1, 3))
    array([[0., 0., 1., 2., 3., 0., 0.]])
    """
    shape = _sample_shape(input_shape)
    spatial = shape[1:]
    where = tuple(n // 2 for n in spatial) if position is None else tuple(position)
    if len(where) != len(spatial) or not all(
        0 <= as_int(f"position[{i}]", p) < n for i, (p, n) in enumerate(zip(where, spatial))
    ):
        raise ConvSpecError(f"position={where} must index the spatial shape {spatial}")
    c = as_int("channel", channel, 0)
    if c >= shape[0]:
        raise ConvSpecError(f"channel={c} must be below the {shape[0]} input channels")
    net = network_matrix(module, shape, max_bytes=max_bytes)
    column = int(np.ravel_multi_index((c, *where), shape))
    impulse = net.matrix[:, [column]].toarray()[:, 0]
    return impulse.reshape(net.output_shape)
