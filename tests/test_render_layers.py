"""Layering: the core computes without ever loading the presentation layer."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# derivation and gradient are models: they print through render only when asked.
CORE = ["spec", "shapes", "matrix", "operator", "symbolic", "upsample", "memory", "errors", "derivation",
        "gradient"]


def test_core_never_imports_render():
    # A fresh interpreter: import every core module and use it, then look at
    # what got loaded. Printing a spec via str() must not pull render in either.
    code = "\n".join(
        [
            "import sys",
            *(f"import transpose_matrix.{name}" for name in CORE),
            "import numpy as np",
            "from transpose_matrix.spec import ConvSpec",
            "from transpose_matrix.matrix import conv_matrix",
            "from transpose_matrix.symbolic import symbolic_conv_matrix",
            "from transpose_matrix.operator import conv_operator",
            "spec = ConvSpec((5, 5), 3, stride=2, padding=1)",
            "conv_matrix(spec, np.ones(spec.weight_shape))",
            "symbolic_conv_matrix(spec)",
            "conv_operator(spec, np.ones(spec.weight_shape)).matvec(np.ones(25))",
            "str(spec)",
            "import json",
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith('transpose_matrix'))))",
        ]
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    loaded = json.loads(result.stdout)
    assert "transpose_matrix.matrix" in loaded
    assert not [name for name in loaded if name.startswith("transpose_matrix.render")]
    assert "transpose_matrix.latex" not in loaded


def test_no_core_module_names_render_at_module_level():
    # Static check as well: a core module may reach render only inside a
    # function (delegating _latex / _repr_latex_), never at import time.
    package = ROOT / "transpose_matrix"
    for name in CORE:
        module = package / f"{name}.py"
        files = [module] if module.exists() else sorted((package / name).glob("*.py"))
        assert files, name
        source = "\n".join(path.read_text() for path in files)
        for line in source.splitlines():
            if line.startswith(("import ", "from ")):
                assert "render" not in line and ".latex" not in line, (name, line)
