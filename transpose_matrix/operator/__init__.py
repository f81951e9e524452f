"""The convolution as a matrix-free linear operator: C and Cᴴ without building C.

:func:`conv_operator` returns a :class:`scipy.sparse.linalg.LinearOperator`
whose ``matvec`` is the convolution (``C @ x``) and whose ``rmatvec`` is the
transposed convolution (``Cᴴ @ y``, which is ``Cᵀ @ y`` for real weights).
Use it where C would not fit in memory (the memory guard of
:func:`~transpose_matrix.conv_matrix` points here) or inside iterative
solvers and eigensolvers.

One design, three named methods. Every direction is a *correlation* of a
zero-padded source: the forward correlates the padded input with the
kernel; the adjoint either takes the forward's exact transpose or splits
into ``prod(stride)`` stride-1 correlations of the padded ``y``, one per
*phase* of the input (``Cᵀ = D·P·Z`` without multiplying the inserted
zeros: inputs ``i`` with ``(i + padding_before) % stride = r`` receive only
the taps with ``tap*dilation % stride = r``). A correlation is computed by

* *im2col*: gather every tap's window of the source (one strided copy per
  tap) into ``(in/groups * taps, positions)`` and multiply once per group
  by the weight as ``(out/groups, in/groups * taps)``; or
* *summed* (stride 1 on the first dim): gather only the other dims' taps,
  multiply once by the weight as ``(taps[0] * out/groups, ...)``, and add
  each first-dim tap's products ``tap * dilation`` rows further on:
  ``taps[0]`` times fewer copies, for additions of output size.

The ``method`` names the combination:

* ``'im2col'``: forward by im2col; adjoint its transpose, *col2im* (multiply
  ``y`` by the weight's adjoint, add every tap's contribution back at its
  window);
* ``'polyphase'``: forward by im2col; adjoint by phases, each by im2col;
* ``'summed'``: as polyphase, with every stride-1 correlation summed.

``method='auto'`` picks by :func:`auto_method`. They live in
:mod:`.numpy_backend`; ``backend='torch'`` (:mod:`.torch_backend`) runs
torch's own ``convNd``/``conv_transposeNd`` behind the same interface. A
``padding_mode`` other than ``'zeros'`` composes ``C = D·P``
(:mod:`.padding`): the input is padded by index, ``D`` (the padding-free
convolution of the padded input) is the backend's, and the adjoint folds
the border back, ``Cᴴ = Pᵀ·Dᴴ``.

Public names: :func:`conv_operator` returns a :class:`ConvOperator`;
:data:`METHODS` lists its ``method=`` choices and :func:`auto_method` the
rule ``'auto'`` follows.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.sparse.linalg import LinearOperator

from ..errors import ConvSpecError, ConvSpecTypeError
from ..geometry.spec import ConvSpec
from ..matrices.conv import check_weight
from ..memory import check_memory
from .numpy_backend import NumpyKernel, summed_pays
from .padding import ModePadded

__all__ = ["METHODS", "ConvOperator", "auto_method", "conv_operator"]

#: The ``method=`` choices of :func:`conv_operator` besides ``'auto'``.
METHODS = ("im2col", "polyphase", "summed")
_BACKENDS = ("numpy", "torch")
# Bytes per weight entry at construction: the finiteness mask, the private
# copy and the plans' rearranged copies (complex128 at most).
_WEIGHT_BYTES = 1 + 2 * 16


def auto_method(spec: ConvSpec) -> str:
    """The method ``method='auto'`` picks, by the rule the benchmark panel supports.

    ``'im2col'`` when ``out_channels > 2 * in_channels``; otherwise
    ``'summed'`` when :func:`~.numpy_backend.summed_pays` estimates that its
    saved copies outweigh its extra products and additions (one group only);
    otherwise ``'polyphase'``. col2im writes ``in_channels * taps`` rows per
    output position where the polyphase form gathers ``out_channels * taps``,
    so it wins only when ``y`` is much the wider side (a ResNet stem's 3 ->
    64 channels: 4-7x faster there in the panel). The summed form gathers
    only the taps of the dims after the first, and pays on 'same' layers
    with as many outputs as inputs per tap (U-Net 3x3, the 3-D 3x3x3 layer:
    10-20 % faster), not on large products with a long reach (DeepLab's
    dilated 3x3) nor on grouped layers.

    Parameters
    ----------
    spec : ConvSpec
        The convolution's geometry (with zero padding: :class:`ConvOperator`
        passes the unpadded layer of a ``padding_mode`` other than zeros).

    Returns
    -------
    {'im2col', 'summed', 'polyphase'}
        The numpy backend's method for this layer.

    Raises
    ------
    AttributeError
        Only Python's own, when ``spec`` is not a :class:`ConvSpec`: it is not
        validated here (:func:`conv_operator` validates it).

    Examples
    --------
    >>> auto_method(ConvSpec((8, 8), 3, in_channels=3, out_channels=64))  # a stem
    'im2col'
    >>> auto_method(ConvSpec((16, 16), 3, padding=1, in_channels=8, out_channels=8))
    'summed'
    >>> auto_method(ConvSpec((8, 8), 3, stride=2))
    'polyphase'
    """
    if spec.out_channels > 2 * spec.in_channels:
        return "im2col"
    return "summed" if summed_pays(spec) else "polyphase"


def _as_weight(spec: Any, weight: Any) -> np.ndarray:
    """The weight as a private read-only array (a torch tensor is detached and copied)."""
    if type(weight).__module__.startswith("torch") and hasattr(weight, "detach"):
        try:
            weight = weight.detach().cpu().numpy()
        except (TypeError, RuntimeError) as error:  # e.g. bfloat16, which numpy lacks
            raise ConvSpecTypeError(f"weight could not be read as an array: {error}") from None
    array = np.array(check_weight(spec, weight), copy=True)
    array.flags.writeable = False
    return array


class ConvOperator(LinearOperator):
    """C of a convolution as a :class:`~scipy.sparse.linalg.LinearOperator`.

    Build it with :func:`conv_operator`. Shape ``spec.matrix_shape``; dtype
    of the weight. ``dims = (in_channels, *input_shape)`` and ``dimsd =
    (out_channels, *output_shape)`` are the shapes of one input and one
    output sample (PyLops' names). ``matvec``/``matmat`` compute ``C @ x``
    for one sample or a batch of samples as columns; ``rmatvec``/``rmatmat``
    compute ``Cᴴ @ y``. ``op.H`` and ``op.T`` are Cᴴ and Cᵀ as operators.

    Parameters
    ----------
    spec : ConvSpec
        The convolution's geometry, any ``padding_mode``.
    weight : array_like
        Shape ``spec.weight_shape``; copied read-only (a torch tensor is
        detached first).
    method : {'auto', 'im2col', 'polyphase', 'summed'}, default 'auto'
        How the numpy backend computes; ``'auto'`` picks by
        :func:`auto_method`.
    backend : {'numpy', 'torch'}, default 'numpy'
        ``'torch'`` runs torch's own convolutions (``method='auto'`` only).
    device : str or torch.device, optional
        Where the torch backend computes; torch backend only.

    Raises
    ------
    ConvSpecError, ConvSpecTypeError
        A bad weight, an unknown ``method`` or ``backend``, a ``method`` or
        ``device`` given to the backend that does not take it; when applied,
        an operand of the wrong length or a non-numeric dtype.
    MemoryGuardError
        The private copy of the weight would not fit in memory.

    Examples
    --------
    >>> import numpy as np
    >>> op = ConvOperator(ConvSpec((4,), 2), np.array([[[1.0, 2.0]]]))
    >>> op.shape, op.dims, op.dimsd
    ((3, 4), (1, 4), (1, 3))
    >>> op @ np.arange(4.0)
    array([2., 5., 8.])
    >>> op.H @ np.ones(3)
    array([1., 3., 3., 2.])
    """

    def __init__(
        self, spec: ConvSpec, weight: Any, method: str = "auto", *, backend: str = "numpy",
        device: Any = None,
    ) -> None:
        if isinstance(spec, ConvSpec):
            # A broadcast view can stand for a weight far larger than memory:
            # refuse before its checks and private copy are allocated.
            check_memory(
                math.prod(spec.weight_shape) * _WEIGHT_BYTES,
                what=f"conv_operator's copy of the weight {spec.weight_shape}",
                hint="use fewer channels or a smaller kernel",
            )
        weight = _as_weight(spec, weight)
        if backend not in _BACKENDS:
            raise ConvSpecError(f"backend={backend!r} must be one of {', '.join(_BACKENDS)}")
        if method != "auto" and method not in METHODS:
            raise ConvSpecError(
                f"method={method!r} must be 'auto' or one of {', '.join(map(repr, METHODS))}"
            )
        super().__init__(dtype=weight.dtype, shape=spec.matrix_shape)
        self.spec, self.weight, self.backend = spec, weight, backend
        self.dims = (spec.in_channels, *spec.input_shape)
        self.dimsd = (spec.out_channels, *spec.output_shape)
        # Another padding mode: C = D·P, the kernel computes D (no padding).
        inner = spec if spec.padding_mode == "zeros" else ConvSpec(
            tuple(n + b + e for n, (b, e) in zip(spec.input_shape, spec.padding)),
            spec.kernel_size, spec.stride, 0, spec.dilation, spec.in_channels,
            spec.out_channels, spec.groups)
        if backend == "torch":
            if method != "auto":
                raise ConvSpecError(
                    f"method={method!r} applies to backend='numpy'; backend='torch' runs "
                    "torch's own convolutions (method='auto')"
                )
            from .torch_backend import TorchKernel

            self.method, self.device = "auto", device
            self._kernel: Any = TorchKernel(inner, weight, device)
        else:
            if device is not None:
                raise ConvSpecError(f"device={device!r} applies to backend='torch' only")
            self.method = auto_method(inner) if method == "auto" else method
            self.device = None
            self._kernel = NumpyKernel(inner, weight, self.method)
        if inner is not spec:
            self._kernel = ModePadded(spec, self._kernel)

    def _apply(self, X: Any, adjoint: bool, vector: bool, conjugate: bool = False) -> np.ndarray:
        """Check ``X``, then ``C @ X`` (or ``Cᴴ @ X``), conjugated around when asked."""
        rows, cols = self.shape
        n, m = (rows, cols) if adjoint else (cols, rows)
        dims = self.dimsd if adjoint else self.dims
        name = "y" if adjoint else "x"
        try:
            array = np.asarray(X)
        except (TypeError, ValueError) as error:
            raise ConvSpecTypeError(f"{name} could not be read as an array: {error}") from None
        if array.dtype.kind not in "biufc":
            raise ConvSpecTypeError(
                f"{name} dtype {array.dtype} must be numeric (bool, integer, float or complex)"
            )
        fits = array.shape in ((n,), (n, 1)) if vector else (
            array.ndim == 2 and array.shape[0] == n)
        if not fits:
            channels, *shape = dims
            expected = f"({n},)" if vector else f"({n}, k)"
            raise ConvSpecError(
                f"{name} of shape {array.shape} must have shape {expected}: length {n} = "
                f"{'out' if adjoint else 'in'}_channels * prod({'output' if adjoint else 'input'}"
                f"_shape) = {channels} * prod({tuple(shape)})"
            )
        batch = 1 if array.ndim == 1 else array.shape[1]
        dtype = np.result_type(self.dtype, array.dtype)
        if batch == 0:
            result = np.zeros((m, 0), dtype=dtype)
        else:
            columns = array.reshape(*dims, batch).astype(dtype, copy=False)
            conjugate = conjugate and dtype.kind == "c"
            if conjugate:
                columns = np.conj(columns)
            run = self._kernel.rmatmat if adjoint else self._kernel.matmat
            result = run(columns).reshape(m, batch)
            if conjugate:
                result = np.conj(result)
        return result.reshape(m) if array.ndim == 1 else result

    def matvec(self, x: Any) -> np.ndarray:
        return self._apply(x, adjoint=False, vector=True)

    def rmatvec(self, x: Any) -> np.ndarray:
        return self._apply(x, adjoint=True, vector=True)

    def matmat(self, X: Any) -> np.ndarray:
        return self._apply(X, adjoint=False, vector=False)

    def rmatmat(self, X: Any) -> np.ndarray:
        return self._apply(X, adjoint=True, vector=False)

    _matvec, _rmatvec, _matmat, _rmatmat = matvec, rmatvec, matmat, rmatmat

    def _adjoint(self) -> LinearOperator:
        return _Flipped(self, conjugate=False)

    def _transpose(self) -> LinearOperator:
        return _Flipped(self, conjugate=True)


class _Flipped(LinearOperator):
    """Cᴴ (or Cᵀ, which conjugates around Cᴴ) of a :class:`ConvOperator`, checked as it is."""

    def __init__(self, op: ConvOperator, conjugate: bool) -> None:
        super().__init__(dtype=op.dtype, shape=op.shape[::-1])
        self._op, self._conjugate = op, conjugate
        self.dims, self.dimsd = op.dimsd, op.dims

    def matvec(self, x: Any) -> np.ndarray:
        return self._op._apply(x, adjoint=True, vector=True, conjugate=self._conjugate)

    def rmatvec(self, x: Any) -> np.ndarray:
        return self._op._apply(x, adjoint=False, vector=True, conjugate=self._conjugate)

    def matmat(self, X: Any) -> np.ndarray:
        return self._op._apply(X, adjoint=True, vector=False, conjugate=self._conjugate)

    def rmatmat(self, X: Any) -> np.ndarray:
        return self._op._apply(X, adjoint=False, vector=False, conjugate=self._conjugate)

    _matvec, _rmatvec, _matmat, _rmatmat = matvec, rmatvec, matmat, rmatmat


def conv_operator(
    spec: ConvSpec, weight: Any, method: str = "auto", *, backend: str = "numpy",
    device: Any = None,
) -> ConvOperator:
    """C as a matrix-free operator: ``op @ x = conv(x)``, ``op.H @ y = conv_transpose(y)``.

    Parameters
    ----------
    spec : ConvSpec
        The convolution's geometry: per-side padding pairs, crops, and any
        ``padding_mode`` (``C = D·P``, the padding applied by index).
    weight : array_like
        Shape ``(out_channels, in_channels // groups, *kernel_size)``; a
        dtype of :data:`~transpose_matrix.matrices.conv.WEIGHT_DTYPES`, all finite.
        Copied (read-only), so later edits of the caller's array change
        nothing; a torch tensor is detached first.
    method : {'auto', 'im2col', 'polyphase', 'summed'}
        How the numpy backend computes (the module docstring has the
        maths): ``'im2col'`` gathers every tap's window and multiplies once,
        and its adjoint adds every tap's products back into place (col2im,
        the exact transpose); ``'polyphase'`` computes the adjoint as
        ``prod(stride)`` stride-1 correlations of ``y``, one per input
        phase (``Cᵀ = D·P·Z`` without the inserted zeros); ``'summed'``
        computes every stride-1 correlation (the forward when
        ``stride[0] == 1``, each adjoint phase) by products of the first
        dim's taps added at their shifts, gathering only the other dims'
        taps. ``'auto'`` picks by :func:`auto_method`: ``'im2col'`` when
        ``out_channels > 2 * in_channels``, ``'summed'`` where
        :func:`~.numpy_backend.summed_pays` estimates its saved copies
        outweigh its extra work (one group only), else ``'polyphase'``.
        All give the same C.
    backend : {'numpy', 'torch'}
        ``'torch'`` runs torch's ``convNd`` / ``conv_transposeNd`` (CPU, or a
        GPU through ``device``) behind the same numpy-in, numpy-out
        interface; torch is imported only then.
    device : str or torch.device, optional
        Where the torch backend computes (default CPU).

    Returns
    -------
    ConvOperator
        A :class:`scipy.sparse.linalg.LinearOperator` of shape
        ``spec.matrix_shape`` equal to :func:`~transpose_matrix.conv_matrix`
        (to rounding), without building it. ``matvec(x)`` with ``x`` of
        length ``in_channels * prod(input_shape)`` is the convolution of one
        sample flattened in C order; ``rmatvec(y)`` is ``Cᴴ y``, the
        transposed convolution (the input gradient); ``matmat``/``rmatmat``
        take a batch of samples as columns. ``op.H`` applies Cᴴ, ``op.T``
        Cᵀ; ``op.dims`` and ``op.dimsd`` are the input and output shapes
        ``(channels, *spatial)``.

    Raises
    ------
    ConvSpecError, ConvSpecTypeError
        A bad weight (from :func:`~transpose_matrix.matrices.conv.check_weight`), an
        unknown ``method`` or ``backend``; later, a vector of the wrong length
        or a non-numeric dtype (the message names the expected length).
    ImportError
        ``backend='torch'`` without torch installed (with the install hint).

    Notes
    -----
    The result's dtype is ``numpy.result_type(weight, x)``: float32 in
    gives float32 throughout and out, and the products run in that dtype
    (sgemm for float32). Memory is the padded input plus the gathered block
    (and, summed, the products), at most
    :data:`~transpose_matrix.operator.numpy_backend.GATHER_ENTRIES` entries
    at a time (a band of output rows), never C. The cost is the products
    ``(out/groups, in/groups * taps) @ (in/groups * taps, prod(output_shape))``
    per group, the same floating-point work as C's nonzeros (summed: over
    the first dim's reach too); results are the convolution's to rounding,
    not bit-identical to ``C @ x``. With a ``padding_mode`` the work is that
    of the padding-free convolution of the padded input, plus the padding.

    Examples
    --------
    >>> import numpy as np
    >>> spec = ConvSpec((4,), 2)
    >>> op = conv_operator(spec, np.array([[[1.0, 2.0]]]))
    >>> op @ np.array([1.0, 0.0, 0.0, 1.0])
    array([1., 0., 2.])
    >>> op.rmatvec(np.array([1.0, 0.0, 0.0]))
    array([1., 2., 0., 0.])
    >>> op.dims, op.dimsd, op.method
    ((1, 4), (1, 3), 'summed')
    >>> mirrored = ConvSpec((4,), 3, padding=1, padding_mode="reflect")
    >>> conv_operator(mirrored, np.array([[[1.0, 0.0, 0.0]]])) @ np.array([1.0, 2.0, 3.0, 4.0])
    array([2., 1., 2., 3.])
    """
    return ConvOperator(spec, weight, method, backend=backend, device=device)
