"""The public API: the curated top level, the subpackages, and the old names kept as aliases."""

from __future__ import annotations

import importlib
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import transpose_matrix as tm

ROOT = Path(__file__).resolve().parent.parent

# Every name `import transpose_matrix` exported before the API was curated
# (release 0.1.0), written out here so that none can silently vanish.
NAMES_OF_0_1_0 = [
    "ConvSpec", "conv_output_size", "transposed_conv_output_size", "conv_matrix",
    "transposed_conv_matrix", "symbolic_conv_matrix", "weight_symbols", "symbolic_vector",
    "symbolic_input", "symbolic_output", "symbolic_conv_equations", "weight_substitution",
    "patch_matrix", "gradient_derivation", "output_size_derivation", "Derivation", "Step",
    "Check", "Equation", "Grid", "sympy_check", "exhaustive_check", "computed_check",
    "solve_sizes", "SizeSolution", "format_solutions", "reference_conv_matrix", "conv_operator",
    "ConvOperator", "conv_matrix_nnz", "conv_matrix_nbytes", "conv_matrix_entries",
    "conv_matrix_terms", "memory_limit", "available_memory", "verify", "singular_values",
    "operator_norm", "reshaped_kernel_norm", "compare_norms", "NormComparison", "VerifyReport",
    "transpose_recipe", "zero_insertion_matrix", "pad_matrix", "nearest_upsample_matrix",
    "bilinear_upsample_matrix", "max_unpool_matrix", "avg_pool_matrix", "padding_source",
    "module_matrix", "from_module", "network_matrix", "coverage_map", "effective_kernel",
    "LayerSpec", "NetworkMatrix", "translate_layer", "translate_keras", "translate_jax",
    "translate_onnx", "Translation", "kernel_to_torch", "to_latex", "sparsity_figure",
    "placement_figure", "animate", "plot_matrix", "plot_coverage", "html_page",
    "TransposeMatrixError", "ConvSpecError", "ConvSpecTypeError", "MemoryGuardError",
    "LatexError", "OutputPathError", "MissingDependencyError", "__version__",
]

# The names DEVELOPERS.md promises at the top level, with no warning.
STABLE = [
    "ConvSpec", "conv_matrix", "transposed_conv_matrix", "symbolic_conv_matrix",
    "conv_output_size", "transposed_conv_output_size", "conv_operator", "solve_sizes",
    "module_matrix", "network_matrix", "singular_values", "operator_norm", "animate",
]

SUBPACKAGES = ["geometry", "matrices", "operator", "analysis", "interop", "narrative", "render"]


@pytest.mark.parametrize("name", NAMES_OF_0_1_0)
def test_every_old_name_still_works_from_the_top_level(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        assert getattr(tm, name) is not None


@pytest.mark.parametrize("name", STABLE)
def test_the_stable_names_are_everyday_names(name):
    assert name in tm.__all__
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        getattr(tm, name)


@pytest.mark.parametrize("name", sorted(set(NAMES_OF_0_1_0) - set(tm.__all__)))
def test_a_name_left_to_a_subpackage_warns_and_names_its_home(name):
    with pytest.warns(DeprecationWarning, match=rf"use transpose_matrix\.(\w+)\.{name}$") as caught:
        old = getattr(tm, name)
    home = str(caught[0].message).rsplit("use ", 1)[1].rsplit(".", 1)[0]
    assert getattr(importlib.import_module(home), name) is old
    assert name not in dir(tm)


def test_the_top_level_lists_only_its_own_names():
    listed = dir(tm)
    for stray in ("Any", "annotations", "importlib", "attach"):
        assert stray not in listed
    assert set(tm.__all__) <= set(listed)
    assert len(tm.__all__) == len(set(tm.__all__))


def test_the_catalogue_in_the_docstring_names_every_public_name():
    doc = tm.__doc__
    for name in tm.__all__:
        assert name in doc, name


@pytest.mark.parametrize("package", SUBPACKAGES)
def test_every_subpackage_exports_what_its_docstring_catalogues(package):
    module = importlib.import_module(f"transpose_matrix.{package}")
    assert module.__doc__ and len(module.__doc__.split("\n\n")[0]) > 20
    for name in module.__all__:
        assert getattr(module, name) is not None
        assert name in module.__doc__, (package, name)


def test_subpackages_are_attributes_of_the_package():
    code = "import transpose_matrix as tm; print(tm.analysis.__name__, tm.matrices.__name__)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, check=True)
    assert result.stdout.split() == ["transpose_matrix.analysis", "transpose_matrix.matrices"]


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="has no attribute 'conv_matrixx'"):
        tm.conv_matrixx  # noqa: B018
