"""Layering: the layers of ARCHITECTURE.md hold, and the core computes without the printers.

The contracts live in ``pyproject.toml`` (``[tool.importlinter]``) and
import-linter checks them, counting imports inside functions; these tests run
it and check at run time that computing never loads the presentation layer.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_hold():
    lint = shutil.which("lint-imports")
    assert lint is not None, "import-linter is not installed (pip install -e '.[test]')"
    result = subprocess.run([lint], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_contracts_see_imports_inside_functions():
    # cli/show.py imports the report only inside its run function; the graph
    # import-linter checks must still hold that edge, or the contracts would
    # let an upward import hide in a function body.
    graph = grimp.build_graph("transpose_matrix")
    assert "transpose_matrix.render.report" in graph.find_modules_directly_imported_by(
        "transpose_matrix.cli.show"
    )
    chain = graph.find_shortest_chain(
        importer="transpose_matrix.narrative.derivation", imported="transpose_matrix.render.derivation"
    )
    assert chain is not None  # the display protocol, allowed by name in pyproject.toml


@pytest.mark.slow
def test_core_never_loads_render_when_computing():
    # A fresh interpreter: use the core (spec, matrices, operator, derivations),
    # then look at what got loaded. str(spec) must not pull render in either.
    code = "\n".join(
        [
            "import sys, json",
            "import numpy as np",
            "from transpose_matrix.geometry import ConvSpec",
            "from transpose_matrix.matrices import conv_matrix, symbolic_conv_matrix",
            "from transpose_matrix.operator import conv_operator",
            "from transpose_matrix.narrative import output_size_derivation",
            "spec = ConvSpec((5, 5), 3, stride=2, padding=1)",
            "conv_matrix(spec, np.ones(spec.weight_shape))",
            "symbolic_conv_matrix(spec)",
            "conv_operator(spec, np.ones(spec.weight_shape)).matvec(np.ones(25))",
            "output_size_derivation(spec)",
            "str(spec)",
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith('transpose_matrix'))))",
        ]
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True, env=env
    )
    loaded = json.loads(result.stdout)
    assert "transpose_matrix.matrices.conv" in loaded
    assert "transpose_matrix.narrative.derivation" in loaded
    assert not [name for name in loaded if name.startswith(("transpose_matrix.render",
                                                            "transpose_matrix.cli"))]
