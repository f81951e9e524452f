"""'same' padding for transposed convolution: Keras vs PyTorch.

Question: Keras' ``Conv2DTranspose(padding='same')`` gives an output of exactly
n·s; PyTorch has no 'same' for transposed layers, only ``padding`` and
``output_padding``. Which PyTorch settings give the same layer? Answer with
the two matrices: both are crops of the unpadded transposed convolution;
Keras crops the extra pixel at the end, PyTorch can only crop it at the
start, so for odd k − s they differ by a one-pixel shift. Checked against
Keras itself (Keras 3 on the torch backend).

Run: ``python derivations/same_padding.py [--latex FILE]``.
"""

from __future__ import annotations

import os
import sys

import _common
import numpy as np
import sympy
from _common import difference, max_error

import transpose_matrix as tm
from transpose_matrix import Derivation
from transpose_matrix.narrative.derivation import sympy_check


def keras_module():
    """Keras 3 on the torch backend, computing in float64."""
    # The backend is read once, at import: it must be set before.
    os.environ["KERAS_BACKEND"] = "torch"
    try:
        import keras
    except ImportError as error:
        raise SystemExit(
            f"error: keras is needed to check the Keras side (pip install keras): {error}"
        ) from None
    if keras.backend.backend() != "torch":
        raise SystemExit(f"error: keras runs on {keras.backend.backend()!r}, not torch")
    keras.config.set_floatx("float64")
    return keras


def keras_padding(k: int, s: int) -> tuple[int, int]:
    """TF/Keras 'same': forward padding max(k - s, 0) split with the extra at the end."""
    total = max(k - s, 0)
    return total // 2, total - total // 2


def run_keras(keras, layer_cls, x: np.ndarray, filters: int, k: int, s: int):
    """Output (channels first) and weight (PyTorch layout) of a Keras 'same' layer."""
    layer = layer_cls(filters, k, strides=s, padding="same", use_bias=False)
    channels_last = np.moveaxis(x, 0, -1)[None]
    out = keras.ops.convert_to_numpy(layer(channels_last))[0]
    kernel = layer.get_weights()[0]  # (*k, filters, in_channels)
    ndim = kernel.ndim - 2
    # Keras' transposed kernel (*k, out, in) is PyTorch's (in, out, *k), unflipped.
    weight = np.transpose(kernel, (ndim + 1, ndim, *range(ndim)))
    return np.moveaxis(out, -1, 0), weight


def build() -> Derivation:
    """The derivation: both matrices for k = 3, s = 2; Keras in 2-D; the k, s table."""
    import torch
    import torch.nn.functional as F

    keras = keras_module()
    doc = Derivation("`'same'` padding for transposed convolution")
    doc.say(
        "A transposed convolution with no padding has output length $L = (n - 1)s + k$. "
        "`'same'` asks for $ns$, so $k - s$ outputs must go. Seen from the forward "
        "convolution, which maps $ns$ to $n$, TensorFlow and Keras pad $k - s$ in total and "
        r"put the extra pixel at the end: $\lfloor (k - s)/2 \rfloor$ before, "
        r"$\lceil (k - s)/2 \rceil$ after. The transposed layer crops the same amounts from "
        "its full output. PyTorch's `padding` $p$ crops $p$ from both ends and "
        "`output_padding` gives back up to $s - 1$ at the end, so it can only crop at least "
        "as much at the start as at the end."
    )

    doc.step("$k = 3$, $s = 2$: the two matrices and the shift")
    n, k, s = 3, 3, 2
    full_spec = tm.ConvSpec.from_transposed(n, 1, 1, k, stride=s)
    full = tm.symbolic_conv_matrix(full_spec).T
    torch_spec = tm.ConvSpec.from_transposed(n, 1, 1, k, stride=s, padding=1, output_padding=1)
    keras_spec = tm.ConvSpec(n * s, k, stride=s, padding=[keras_padding(k, s)])
    Ct_torch = tm.symbolic_conv_matrix(torch_spec).T
    Ct_keras = tm.symbolic_conv_matrix(keras_spec).T
    doc.say(
        "On an input of length 3, PyTorch's `ConvTranspose1d(1, 1, 3, stride=2, padding=1, "
        "output_padding=1)` and Keras' `Conv1DTranspose(1, 3, strides=2, padding='same')` "
        "both give length 6. Their matrices, and the full one they are cut from:"
    )
    doc.matrices(
        [
            (r"C^{\mathsf T}_{\mathrm{torch}}", Ct_torch),
            (r"C^{\mathsf T}_{\mathrm{Keras}}", Ct_keras),
            (r"C^{\mathsf T}_{\mathrm{full}}", full),
        ]
    )
    L = full.shape[0]
    crop_torch = sympy.Matrix(tm.pad_matrix(L, [(-1, 0)]).toarray().astype(int))
    crop_keras = sympy.Matrix(tm.pad_matrix(L, [(0, -1)]).toarray().astype(int))
    doc.check(
        sympy_check(
            sympy.Matrix.vstack(crop_torch * full, crop_keras * full),
            sympy.Matrix.vstack(sympy.Matrix(Ct_torch), sympy.Matrix(Ct_keras)),
            says=r"Both are crops of the full (unpadded) 7-row $C^{\mathsf T}$: PyTorch drops "
            "row 0, Keras drops row 6 (`pad_matrix` with padding $(-1, 0)$ and $(0, -1)$),",
        )
    )
    doc.check(
        (sympy.Matrix(Ct_keras)[1:, :] - sympy.Matrix(Ct_torch)[:-1, :]).is_zero_matrix
        and Ct_keras != Ct_torch,
        "Keras' output is PyTorch's shifted by one pixel: `keras[m + 1] == torch[m]` for "
        "$m \\le 4$; `keras[0]` is an output PyTorch never produces, and `torch[5]` one Keras "
        "never produces.",
    )
    torch_arguments = torch_spec.transposed_arguments() or {}
    doc.check(
        torch_arguments.get("padding") == (1,)
        and torch_arguments.get("output_padding") == (1,)
        and keras_spec.transposed_arguments() is None,
        "`ConvSpec.transposed_arguments()` recovers `padding=1`, `output_padding=1` from "
        "PyTorch's forward padding $(1, 1)$, and finds no `ConvTranspose1d` settings at all "
        "for Keras' forward padding $(0, 1)$.",
    )

    doc.step("Checked against Keras itself, in two dimensions")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4, 4))
    out, weight = run_keras(keras, keras.layers.Conv2DTranspose, x, 2, 3, 2)
    spec2 = tm.ConvSpec(
        (8, 8), 3, stride=2, padding=[keras_padding(3, 2)] * 2, in_channels=2, out_channels=3
    )
    Ct2 = tm.transposed_conv_matrix(spec2, weight)
    error = max_error(Ct2 @ x.reshape(-1), out.reshape(-1))
    doc.check(
        error < 1e-12,
        "Keras' `Conv2DTranspose(2, 3, strides=2, padding='same')` on a "
        r"$3 \times 4 \times 4$ input equals $C^{\mathsf T}$ of the forward convolution padded "
        "$(0, 1)$ in each dimension.",
        difference(error),
    )
    torch_out = F.conv_transpose2d(
        torch.tensor(x)[None], torch.tensor(weight), stride=2, padding=1, output_padding=1
    )[0].numpy()
    shift = max_error(out[:, 1:, 1:], torch_out[:, :-1, :-1])
    doc.check(
        shift < 1e-12 and max_error(out, torch_out) > 1e-3,
        "PyTorch's `ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1)` with the "
        "same weights gives a different output, the Keras one moved by one pixel down and "
        "right.",
        difference(shift, "largest difference after the shift"),
    )

    doc.step("Which $k$ and $s$ agree")
    rows = []
    worst = 0.0
    rule_ok = shifts = True
    for k in range(1, 6):
        for s in range(1, 4):
            xs = rng.standard_normal((1, 5))
            out, weight = run_keras(keras, keras.layers.Conv1DTranspose, xs, 1, k, s)
            spec = tm.ConvSpec(5 * s, k, stride=s, padding=[keras_padding(k, s)])
            Ct = tm.transposed_conv_matrix(spec, weight)
            worst = max(worst, max_error(Ct @ xs.reshape(-1), out.reshape(-1)))
            arguments = spec.transposed_arguments()
            if arguments is not None:
                p, op = arguments["padding"][0], arguments["output_padding"][0]
            else:
                # PyTorch's nearest setting crops the odd pixel at the start instead;
                # at stride 1 output_padding cannot add it back, so it is one shorter.
                p = (k - s + 1) // 2
                op = min(2 * p - (k - s), s - 1)
            torch_out = F.conv_transpose1d(
                torch.tensor(xs)[None],
                torch.tensor(weight),
                stride=s,
                padding=p,
                output_padding=op,
            ).reshape(-1)
            if arguments is not None:
                worst = max(worst, max_error(torch_out, out.reshape(-1)))
                verdict = f"$p = {p}$, $a = {op}$"
            else:
                flat = out.reshape(-1)
                shifts &= max_error(torch_out[: flat.size - 1], flat[1:]) < 1e-12
                shorter = ", 1 short" if torch_out.numel() < flat.size else ""
                verdict = f"none ($p = {p}$, $a = {op}$: shifted{shorter})"
            rule_ok &= (arguments is not None) == (k <= s or (k - s) % 2 == 0)
            before, after = keras_padding(k, s)
            rows.append((k, s, f"$({before}, {after})$", verdict))
    doc.table(
        ("$k$", "$s$", "Keras' forward padding", "PyTorch's `padding` $p$, `output_padding` $a$"),
        rows,
        "`Conv1DTranspose(padding='same')` on length 5, each row checked against Keras.",
    )
    doc.check(
        worst < 1e-12,
        r"In every row, $C^{\mathsf T}$ of the Keras padding equals Keras' output, and where a "
        "PyTorch layer is listed, torch's `conv_transpose1d` with it equals Keras' output too.",
        difference(worst),
    )
    doc.check(
        shifts,
        r"Where none matches, PyTorch's `padding` $\lceil (k - s)/2 \rceil$ with "
        "`output_padding` 1 (0 at stride 1, where the output then is one pixel short) gives "
        "Keras' output shifted by one pixel: `keras[m + 1] == torch[m]`.",
    )
    doc.check(
        rule_ok,
        r"PyTorch can match Keras' `'same'` exactly when $k \le s$ or $k - s$ is even "
        "(`padding` $(k - s)/2$ and `output_padding` 0; for $k < s$, `padding` 0 and "
        "`output_padding` $s - k$); for odd $k - s > 0$ no setting can.",
    )
    return doc


if __name__ == "__main__":
    sys.exit(_common.main(build, __file__))
