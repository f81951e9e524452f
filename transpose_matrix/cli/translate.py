"""``translate``: another framework's transposed convolution as a PyTorch call.

Keras, JAX and ONNX arguments are parsed here and translated by
:func:`transpose_matrix.interop.translate.translate_layer`.
"""

from __future__ import annotations

import argparse
import re
from typing import TYPE_CHECKING, Any

from ..errors import ConvSpecError
from .options import SEPARATORS, Command, UsageError, emit, integer, out_option

if TYPE_CHECKING:
    from ..interop.translate import Translation

__all__ = ["COMMAND"]

# --------------------------------------------------------------------------- translate

_SHAPE = re.compile(rf"\d+(?:{SEPARATORS}\d+){{0,9}}")


def _ints(
    option: str, text: str | None, minimum: int, *, lengths: range
) -> tuple[int, ...] | None:
    """Ints like ``1x8x8x4`` or ``1,1,1,1``, as many as ``lengths`` allows; None if absent."""
    if text is None:
        return None
    cleaned = text.strip()
    low, high = lengths.start, lengths.stop - 1
    count = f"{low}" if low == high else f"{low} to {high}"
    if not _SHAPE.fullmatch(cleaned):
        raise UsageError(
            f"{option}: {text!r} is not allowed; give {count} integers >= {minimum} "
            "separated by x or commas, like 1x8x8x4"
        )
    values = tuple(int(part) for part in re.split(SEPARATORS, cleaned))
    if len(values) not in lengths:
        raise UsageError(
            f"{option}: {text!r} is not allowed; give {count} integers, not {len(values)}"
        )
    if min(values) < minimum:
        raise UsageError(f"{option}: {text!r} is not allowed; every entry must be >= {minimum}")
    return values


def _int_or_dims(option: str, text: str | None, minimum: int) -> int | tuple[int, ...] | None:
    """Keras' int-or-tuple arguments: ``3`` stays an int (every dim), ``3x2`` one per dim."""
    values = _ints(option, text, minimum, lengths=range(1, 4))
    return values[0] if values is not None and len(values) == 1 else values


def _translate_common(parser: argparse.ArgumentParser) -> None:
    out_option(parser)
    parser.add_argument(
        "--format", default="text", choices=("text", "json"), help="the report as text or JSON"
    )
    parser.add_argument(
        "--code", action="store_true", help="print only the PyTorch code (x in, y out)"
    )


#: Per framework: the library's argument names (as errors and fields say them) -> options.
_TRANSLATE_OPTIONS = {
    "keras": {
        "input_shape": "--input", "filters": "--filters", "kernel_size": "--kernel-size",
        "strides": "--strides", "padding": "--padding", "output_padding": "--output-padding",
        "dilation_rate": "--dilation-rate", "data_format": "--data-format",
        "use_bias": "--no-bias",
    },
    "jax": {
        "lhs_shape": "--lhs-shape", "rhs_shape": "--rhs-shape", "strides": "--strides",
        "padding": "--padding", "rhs_dilation": "--rhs-dilation",
        "dimension_numbers": "--dimension-numbers",
    },
    "onnx": {
        "input_shape": "--input", "weight_shape": "--weight", "auto_pad": "--auto-pad",
        "dilations": "--dilations", "group": "--group", "kernel_shape": "--kernel-shape",
        "output_padding": "--output-padding", "output_shape": "--output-shape",
        "pads": "--pads", "strides": "--strides",
    },
}

_TRANSLATE_EXAMPLES = {
    "keras": "translate keras --input 16x16 --in-channels 4 --filters 8 --kernel-size 3 "
    "--strides 2 --padding same",
    "jax": "translate jax --lhs-shape 1x8x8x4 --rhs-shape 3x3x4x8 --strides 2x2 --padding SAME",
    "onnx": "translate onnx --input 1x2x4x4 --weight 2x3x3x3 --strides 2x2 --auto-pad SAME_UPPER",
}


def _translate_arguments(parser: argparse.ArgumentParser) -> None:
    frameworks = parser.add_subparsers(dest="framework", metavar="FRAMEWORK", required=True)

    def framework(name: str, description: str) -> argparse.ArgumentParser:
        sub = frameworks.add_parser(
            name,
            help=description,
            description=description,
            epilog=f"example: python -m transpose_matrix {_TRANSLATE_EXAMPLES[name]}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        _translate_common(sub)
        return sub

    keras = framework("keras", "keras.layers.Conv{1,2,3}DTranspose (Keras 3)")
    keras.add_argument("--input", required=True, metavar="SHAPE",
                       help="spatial input of one sample, e.g. 8x8 (1 to 3 dims)")
    keras.add_argument("--in-channels", default="1", metavar="N", help="input channels")
    keras.add_argument("--filters", required=True, metavar="N", help="output channels")
    keras.add_argument("--kernel-size", required=True, metavar="K", help="e.g. 3 or 3x2")
    keras.add_argument("--strides", default="1", metavar="S")
    keras.add_argument("--padding", default="valid", choices=("valid", "same"))
    keras.add_argument("--output-padding", default=None, metavar="A",
                       help="default None (Keras infers it)")
    keras.add_argument("--dilation-rate", default="1", metavar="D")
    keras.add_argument("--data-format", default="channels_last",
                       choices=("channels_last", "channels_first"))
    keras.add_argument("--no-bias", action="store_true",
                       help="the layer has use_bias=False (Keras' default adds a bias)")

    jax = framework("jax", "jax.lax.conv_transpose (array shapes instead of arrays)")
    jax.add_argument("--lhs-shape", required=True, metavar="SHAPE",
                     help="the input's shape with batch and features, e.g. 1x8x8x4 (NHWC)")
    jax.add_argument("--rhs-shape", required=True, metavar="SHAPE",
                     help="the kernel's shape, e.g. 3x3x4x8 (HWIO)")
    jax.add_argument("--strides", required=True, metavar="S", help="one per spatial dim")
    jax.add_argument("--padding", required=True, metavar="P",
                     help="SAME, VALID, or (low, high) pairs per dim like 1:2x1:2")
    jax.add_argument("--rhs-dilation", default=None, metavar="D", help="one per spatial dim")
    jax.add_argument("--dimension-numbers", default=None, metavar="L,K,O",
                     help="layouts like NCHW,OIHW,NCHW (default NHWC,HWIO,NHWC)")
    jax.add_argument("--transpose-kernel", action="store_true",
                     help="the kernel is the forward convolution's (flip and swap I/O)")
    jax.add_argument("--use-consistent-padding", action="store_true",
                     help="read padding pairs as the forward convolution's")

    onnx = framework("onnx", "an ONNX ConvTranspose node (as onnx.reference computes it)")
    onnx.add_argument("--input", required=True, metavar="SHAPE",
                      help="X's shape, N x C x spatial or C x spatial, e.g. 1x2x4x4")
    onnx.add_argument("--weight", required=True, metavar="SHAPE",
                      help="W's shape, C x M/group x kernel, e.g. 2x3x3x3")
    onnx.add_argument("--strides", default=None, metavar="S")
    onnx.add_argument("--pads", default=None, metavar="P",
                      help="all begins then all ends, e.g. 1,1,1,1")
    onnx.add_argument("--auto-pad", default="NOTSET",
                      choices=("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"))
    onnx.add_argument("--output-shape", default=None, metavar="SHAPE", help="spatial, e.g. 8x8")
    onnx.add_argument("--output-padding", default=None, metavar="A")
    onnx.add_argument("--dilations", default=None, metavar="D")
    onnx.add_argument("--group", default="1", metavar="G")
    onnx.add_argument("--kernel-shape", default=None, metavar="K")


def _jax_padding_option(text: str) -> Any:
    cleaned = text.strip()
    if cleaned in ("SAME", "VALID"):
        return cleaned
    pair = r"-?\d+:-?\d+"
    if not re.fullmatch(rf"{pair}(?:{SEPARATORS}{pair}){{0,2}}", cleaned):
        raise UsageError(
            f"--padding: {text!r} is not allowed; give SAME, VALID or one low:high pair per "
            "spatial dim, like 1:2x1:2"
        )
    return [tuple(int(v) for v in item.split(":")) for item in re.split(SEPARATORS, cleaned)]


def _translation(args: argparse.Namespace) -> Translation:
    """Call the library's translator with the framework's arguments from the options."""
    from ..interop.translate import translate_layer

    dims = range(1, 4)
    if args.framework == "keras":
        spatial = _ints("--input", args.input, 1, lengths=dims)
        if spatial is None:
            raise UsageError("--input: required")
        channels = integer("--in-channels", args.in_channels, 1)
        shape = (*spatial, channels) if args.data_format == "channels_last" else (
            channels, *spatial)
        return translate_layer(
            "keras",
            shape,
            filters=integer("--filters", args.filters, 1),
            kernel_size=_int_or_dims("--kernel-size", args.kernel_size, 1),
            strides=_int_or_dims("--strides", args.strides, 1),
            padding=args.padding,
            output_padding=_int_or_dims("--output-padding", args.output_padding, 0),
            data_format=args.data_format,
            dilation_rate=_int_or_dims("--dilation-rate", args.dilation_rate, 1),
            use_bias=not args.no_bias,
        )
    if args.framework == "jax":
        # The library checks the layouts (and names --dimension-numbers in its error).
        numbers = None if args.dimension_numbers is None else tuple(
            part.strip() for part in args.dimension_numbers.split(",")
        )
        return translate_layer(
            "jax",
            _ints("--lhs-shape", args.lhs_shape, 1, lengths=range(3, 6)),
            _ints("--rhs-shape", args.rhs_shape, 1, lengths=range(3, 6)),
            _ints("--strides", args.strides, 1, lengths=dims),
            _jax_padding_option(args.padding),
            rhs_dilation=_ints("--rhs-dilation", args.rhs_dilation, 1, lengths=dims),
            dimension_numbers=numbers,
            transpose_kernel=args.transpose_kernel,
            use_consistent_padding=args.use_consistent_padding,
        )
    pads = _ints("--pads", args.pads, 0, lengths=range(2, 7))
    return translate_layer(
        "onnx",
        _ints("--input", args.input, 1, lengths=range(2, 6)),
        _ints("--weight", args.weight, 1, lengths=range(3, 6)),
        auto_pad=args.auto_pad,
        dilations=_ints("--dilations", args.dilations, 1, lengths=dims),
        group=integer("--group", args.group, 1),
        kernel_shape=_ints("--kernel-shape", args.kernel_shape, 1, lengths=dims),
        output_padding=_ints("--output-padding", args.output_padding, 0, lengths=dims),
        output_shape=_ints("--output-shape", args.output_shape, 1, lengths=dims),
        pads=pads,
        strides=_ints("--strides", args.strides, 1, lengths=dims),
    )


def _translation_option(framework: str, error: ConvSpecError) -> str:
    """The option a translator's error is about: its field, else the name it starts with."""
    options = _TRANSLATE_OPTIONS[framework]
    field = (getattr(error, "field", None) or "").split("[")[0]
    if field in options:
        return options[field]
    match = re.match(r"(?:dim \d+: )?([a-z_]+)", str(error))
    if match and match.group(1) in options:
        return options[match.group(1)]
    shapes = {"keras": "--input/--kernel-size/--strides/--padding",
              "jax": "--lhs-shape/--rhs-shape/--strides/--padding",
              "onnx": "--input/--weight/--strides/--pads"}
    return shapes[framework]


def _run_translate(args: argparse.Namespace) -> int:
    if args.code and args.format == "json":
        raise UsageError("--code: not allowed with --format json (the JSON holds torch_code)")
    try:
        translation = _translation(args)
    except UsageError:
        raise
    except ConvSpecError as error:
        option = _translation_option(args.framework, error)
        raise UsageError(f"{option}: {error}") from None
    if args.code:
        text = translation.torch_code()
    elif args.format == "json":
        text = translation.to_json()
    else:
        text = str(translation)
    emit(text, args.out)
    return 0


COMMAND = (
    Command(
        "translate",
        "another framework's transposed convolution as PyTorch and a ConvSpec",
        _TRANSLATE_EXAMPLES["keras"] + "\n         python -m transpose_matrix "
        + _TRANSLATE_EXAMPLES["jax"] + "\n         python -m transpose_matrix "
        + _TRANSLATE_EXAMPLES["onnx"],
        _translate_arguments,
        _run_translate,
    )
)

