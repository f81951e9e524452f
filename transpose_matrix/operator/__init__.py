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

Two engines compute the numpy backend (PyLops' ``engine=``):
``engine='numpy'`` as above, and ``engine='numba'`` (:mod:`.numba_backend`,
the ``fast`` extra), which computes the layers with fewer than 16 input
and output channels per group (depthwise, grouped, small) by compiled
loops that read the padded source in place instead of gathering it once per
tap, and is the numpy engine elsewhere. ``engine='auto'`` picks by
:func:`auto_engine`. Both use ``threads`` cores: the numba loops in
parallel, the numpy gathers split between a thread pool's threads (numpy's
copies release the GIL; the products use BLAS's own threads).

Public names: :func:`conv_operator` returns a :class:`ConvOperator`;
:data:`METHODS` lists its ``method=`` choices and :func:`auto_method` the
rule ``'auto'`` follows; :data:`ENGINES` its ``engine=`` choices and
:func:`auto_engine` the rule ``engine='auto'`` follows.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.sparse.linalg import LinearOperator

from ..errors import ConvSpecError, ConvSpecTypeError, optional_import
from ..geometry.spec import ConvSpec
from ..matrices.conv import check_weight
from ..memory import check_memory
from .engines import ENGINES, auto_engine
from .numpy_backend import NumpyKernel, summed_pays
from .padding import ModePadded

__all__ = ["ENGINES", "METHODS", "ConvOperator", "auto_engine", "auto_method", "conv_operator"]

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


def _expected(n: int, dims: tuple[int, ...], vector: bool = True) -> str:
    """The shapes an operand may have, for error messages."""
    if vector:
        return f"expected an array of shape ({n},), ({n}, K) or dims {tuple(dims)}"
    return f"expected an array of shape ({n}, K)"


class _Shaped(LinearOperator):
    """``op @ x`` and ``op.dot(x)`` that also take ``dims``-shaped ``x`` (answering
    ``dimsd``-shaped) and refuse what is not an array with the shapes expected."""

    dims: tuple[int, ...]

    def dot(self, x: Any) -> Any:
        if isinstance(x, LinearOperator) or np.isscalar(x):
            # A product of operators, or op * 3.0 (scaled): scipy's own.
            return super().dot(x)  # type: ignore[arg-type]
        try:
            shape = np.shape(x)
        except ValueError:  # ragged: matvec says it cannot be read
            shape = ()
        if len(shape) == 2 and shape[1] != 1 and shape != tuple(self.dims):
            return self.matmat(x)
        return self.matvec(x)

    def __matmul__(self, x: Any) -> Any:
        if isinstance(x, LinearOperator):
            return super().__matmul__(x)
        if x is None or np.isscalar(x):
            scale = "" if x is None else f" (to scale the operator: op * {x!r})"
            raise ConvSpecTypeError(f"op @ {x!r}: {_expected(self.shape[1], self.dims)}{scale}")
        return self.dot(x)


class ConvOperator(_Shaped):
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
    engine : {'numpy', 'numba', 'auto'}, default 'numpy'
        What computes the numpy backend; ``'auto'`` picks by
        :func:`auto_engine` (:func:`conv_operator` has the details).
    threads : int, optional
        Cores the numpy backend computes on (default: every usable core).

    Raises
    ------
    ConvSpecError, ConvSpecTypeError
        A bad weight, an unknown ``method``, ``backend`` or ``engine``, a
        ``method``, ``engine``, ``threads`` or ``device`` given to the
        backend that does not take it, ``threads`` not a positive integer;
        when applied, an operand of the wrong shape or a non-numeric dtype,
        or ``op @ None`` / ``op @ 3.0``.
    MemoryGuardError
        The private copy of the weight would not fit in memory.
    MissingDependencyError
        ``engine='numba'`` without numba, ``backend='torch'`` without torch.

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
        device: Any = None, engine: str = "numpy", threads: int | None = None,
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
        if engine != "auto" and engine not in ENGINES:
            raise ConvSpecError(
                f"engine={engine!r} must be 'auto' or one of {', '.join(map(repr, ENGINES))}"
            )
        if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int)):
            raise ConvSpecTypeError(f"threads={threads!r} must be an integer or None")
        if threads is not None and threads < 1:
            raise ConvSpecError(f"threads={threads} must be >= 1")
        if method != "auto" and method not in METHODS:
            raise ConvSpecError(
                f"method={method!r} must be 'auto' or one of {', '.join(map(repr, METHODS))}"
            )
        super().__init__(dtype=weight.dtype, shape=spec.matrix_shape)  # type: ignore[call-arg]
        self.spec, self.weight, self.backend = spec, weight, backend
        self.dims = (spec.in_channels, *spec.input_shape)
        self.dimsd = (spec.out_channels, *spec.output_shape)
        # Another padding mode: C = D·P, the kernel computes D (no padding).
        inner = spec if spec.padding_mode == "zeros" else ConvSpec(
            tuple(n + b + e for n, (b, e) in zip(spec.input_shape, spec.padding)),
            spec.kernel_size, spec.stride, 0, spec.dilation, spec.in_channels,
            spec.out_channels, spec.groups)
        if backend == "torch":
            for name, value, default in (("method", method, "auto"), ("engine", engine, "numpy"),
                                         ("threads", threads, None)):
                if value != default and not (name == "engine" and value == "auto"):
                    raise ConvSpecError(
                        f"{name}={value!r} applies to backend='numpy'; backend='torch' runs "
                        f"torch's own convolutions ({name}={default!r})"
                    )
            from .torch_backend import TorchKernel

            self.method, self.device, self.engine = "auto", device, "torch"
            self._kernel: Any = TorchKernel(inner, weight, device)
        else:
            if device is not None:
                raise ConvSpecError(f"device={device!r} applies to backend='torch' only")
            self.method = auto_method(inner) if method == "auto" else method
            self.device = None
            self.engine = auto_engine(inner) if engine == "auto" else engine
            if self.engine == "numba":
                optional_import("numba", "engine='numba'")
                from .numba_backend import NumbaKernel

                self._kernel = NumbaKernel(inner, weight, self.method, threads)
                self.method = self._kernel.method
            else:
                self._kernel = NumpyKernel(inner, weight, self.method, threads)
        if inner is not spec:
            self._kernel = ModePadded(spec, self._kernel)

    def _apply(self, X: Any, adjoint: bool, vector: bool, conjugate: bool = False) -> np.ndarray:
        """Check ``X``, then ``C @ X`` (or ``Cᴴ @ X``), conjugated around when asked.

        A vector may also come shaped ``dims`` (``dimsd`` for the adjoint):
        the answer is then shaped ``dimsd`` (``dims``), as PyLops does.
        """
        rows, cols = self.shape
        n, m = (rows, cols) if adjoint else (cols, rows)
        dims, dims_out = (self.dimsd, self.dims) if adjoint else (self.dims, self.dimsd)
        name = "y" if adjoint else "x"
        if X is None:
            raise ConvSpecTypeError(f"{name} is None: {_expected(n, dims, vector)}")
        try:
            array = np.asarray(X)
        except (TypeError, ValueError) as error:
            raise ConvSpecTypeError(f"{name} could not be read as an array: {error}") from None
        if array.dtype.kind not in "biufc":
            raise ConvSpecTypeError(
                f"{name} dtype {array.dtype} must be numeric (bool, integer, float or complex)"
            )
        flat = array.shape in ((n,), (n, 1)) if vector else (
            array.ndim == 2 and array.shape[0] == n)
        shaped = vector and not flat and array.shape == tuple(dims)
        if not (flat or shaped):
            channels, *shape = dims
            expected = f"({n},)" if vector else f"({n}, k)"
            raise ConvSpecError(
                f"{name} of shape {array.shape} must have shape {expected}: length {n} = "
                f"{'out' if adjoint else 'in'}_channels * prod({'output' if adjoint else 'input'}"
                f"_shape) = {channels} * prod({tuple(shape)})"
                + (f"; or shape {'dimsd' if adjoint else 'dims'} = {tuple(dims)}" if vector
                   else "")
            )
        if shaped:
            array = array.reshape(n)
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
        if shaped:
            return result.reshape(dims_out)
        return result.reshape(m) if array.ndim == 1 else result

    def matvec(self, x: Any) -> np.ndarray:  # type: ignore[override]
        return self._apply(x, adjoint=False, vector=True)

    def rmatvec(self, x: Any) -> np.ndarray:  # type: ignore[override]
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


class _Flipped(_Shaped):
    """Cᴴ (or Cᵀ, which conjugates around Cᴴ) of a :class:`ConvOperator`, checked as it is."""

    def __init__(self, op: ConvOperator, conjugate: bool) -> None:
        super().__init__(dtype=op.dtype, shape=op.shape[::-1])  # type: ignore[call-arg]
        self._op, self._conjugate = op, conjugate
        self.dims, self.dimsd = op.dimsd, op.dims

    def matvec(self, x: Any) -> np.ndarray:  # type: ignore[override]
        return self._op._apply(x, adjoint=True, vector=True, conjugate=self._conjugate)

    def rmatvec(self, x: Any) -> np.ndarray:  # type: ignore[override]
        return self._op._apply(x, adjoint=False, vector=True, conjugate=self._conjugate)

    def matmat(self, X: Any) -> np.ndarray:
        return self._op._apply(X, adjoint=True, vector=False, conjugate=self._conjugate)

    def rmatmat(self, X: Any) -> np.ndarray:
        return self._op._apply(X, adjoint=False, vector=False, conjugate=self._conjugate)

    _matvec, _rmatvec, _matmat, _rmatmat = matvec, rmatvec, matmat, rmatmat


def conv_operator(
    spec: ConvSpec, weight: Any, method: str = "auto", *, backend: str = "numpy",
    device: Any = None, engine: str = "numpy", threads: int | None = None,
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
    engine : {'numpy', 'numba', 'auto'}
        What computes the numpy backend (PyLops' convention). ``'numpy'``:
        numpy and BLAS only. ``'numba'`` (``pip install
        "transpose_matrix[fast]"``; numba is imported only then): a layer
        with ``in_channels / groups`` and ``out_channels / groups`` both
        below 16 (depthwise, grouped, small) runs compiled loops over
        channels, output rows and kernel taps, reading the padded input in
        place, forward and adjoint; other layers are the numpy engine's.
        The first call per dtype compiles (seconds), then the kernels are
        cached on disk (beside the package, or numba's user cache folder
        when that is read-only, or ``NUMBA_CACHE_DIR``). ``'auto'`` picks by :func:`auto_engine`:
        ``'numba'`` when it is installed and the layer runs compiled, else
        ``'numpy'``.
    threads : int, optional
        Cores to compute on (default: every core this process may use): the
        numba engine's parallel loops, and the numpy engine's gathers split
        between a thread pool's threads. BLAS's products use BLAS's own
        thread count (``OPENBLAS_NUM_THREADS``).

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
        ``(channels, *spatial)``: ``op @ x`` with ``x`` shaped ``dims``
        answers shaped ``dimsd``, and ``op.H @ y`` back (PyLops' way);
        ``op.engine`` is the engine chosen.

    Raises
    ------
    ConvSpecError, ConvSpecTypeError
        A bad weight (from :func:`~transpose_matrix.matrices.conv.check_weight`), an
        unknown ``method`` or ``backend``; later, a vector of the wrong length
        or a non-numeric dtype (the message names the expected length).
    MissingDependencyError
        ``backend='torch'`` without torch, or ``engine='numba'`` without
        numba installed (an :class:`ImportError` whose message is the
        install line). ``op @ None`` or ``op @ 3.0`` raise
        :class:`ConvSpecTypeError` naming the shapes expected.

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
    >>> op.dims, op.dimsd, op.method, op.engine
    ((1, 4), (1, 3), 'summed', 'numpy')
    >>> op @ np.array([[1.0, 0.0, 0.0, 1.0]])  # shaped dims: answered shaped dimsd
    array([[1., 0., 2.]])
    >>> mirrored = ConvSpec((4,), 3, padding=1, padding_mode="reflect")
    >>> conv_operator(mirrored, np.array([[[1.0, 0.0, 0.0]]])) @ np.array([1.0, 2.0, 3.0, 4.0])
    array([2., 1., 2., 3.])
    """
    return ConvOperator(spec, weight, method, backend=backend, device=device, engine=engine,
                        threads=threads)
