"""No code execution from input: every CLI option and every parser is fed injections."""

from __future__ import annotations

import argparse
import ast
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import transpose_matrix as tm
from transpose_matrix.cli import build_parser, main

PACKAGE = Path(tm.__file__).parent

INJECTIONS = [
    "__import__('os').system('touch {marker}')",
    "exec(\"open('{marker}', 'w').close()\")",
    "3; import os; os.system('touch {marker}')",
    "$(touch {marker})",
    "`touch {marker}`",
    "eval(\"__import__('pathlib').Path('{marker}').touch()\")",
]


def _value_options() -> list[tuple[str, str]]:
    """Every (command, --option) of the CLI that takes a value."""
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    options = []
    for command, subparser in sub.choices.items():
        for action in subparser._actions:
            if action.option_strings and action.nargs != 0 and action.dest != "help":
                options.append((command, max(action.option_strings, key=len)))
    return options


OPTIONS = _value_options()


def test_every_command_has_value_options():
    commands = {command for command, _ in OPTIONS}
    assert {"show", "export", "verify", "figure", "solve"} <= commands
    assert ("show", "--input") in OPTIONS and ("show", "--padding") in OPTIONS


@pytest.mark.slow
@pytest.mark.parametrize(("command", "option"), OPTIONS)
def test_injection_in_option_runs_nothing(command, option, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "marker"
    for template in INJECTIONS:
        text = template.format(marker=marker)
        argv = [command, option, text]
        if command == "solve" and option not in ("--n", "--m"):
            argv = [command, "4", "8", option, text]
        try:
            status = main(argv)
        except SystemExit as stop:  # pragma: no cover - main must not raise
            pytest.fail(f"main raised SystemExit({stop.code}) for {argv}")
        captured = capsys.readouterr()
        assert not marker.exists(), f"{argv} executed code"
        if option != "--out":
            assert status == 2, (argv, status, captured.err)
            assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
        else:
            # An injection string is a legal, odd file name: it is written as
            # a file of that name (or refused), never run.
            assert status in (0, 1, 2)


@pytest.mark.slow
def test_injection_via_real_subprocess_runs_nothing(tmp_path):
    marker = tmp_path / "marker"
    for option in ("--input", "--kernel", "--padding", "--stride"):
        text = INJECTIONS[0].format(marker=marker)
        result = subprocess.run(
            [sys.executable, "-m", "transpose_matrix", "show", option, text],
            capture_output=True, text=True, cwd=tmp_path, timeout=60,
            env={**os.environ, "PYTHONPATH": str(PACKAGE.parent)},
        )
        assert result.returncode == 2
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
        assert not marker.exists()


def test_library_refuses_strings_instead_of_parsing_them(tmp_path):
    marker = tmp_path / "marker"
    text = INJECTIONS[0].format(marker=marker)
    spec = tm.ConvSpec((3,), 2)
    calls = [
        lambda: tm.ConvSpec(text, 2),
        lambda: tm.ConvSpec((3,), text),
        lambda: tm.ConvSpec((3,), 2, padding=text),
        lambda: tm.conv_output_size(text, 2),
        lambda: tm.conv_matrix(spec, np.array([[[text, text]]])),
        lambda: tm.patch_matrix(spec, np.array([[text, 1, 2]], dtype=object)),
    ]
    for call in calls:
        with pytest.raises(TypeError):
            call()
    assert not marker.exists()


def _calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            yield name, node


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_package_source_never_evaluates_text(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for name, node in _calls(tree):
        assert name not in {"eval", "exec", "parse_expr", "literal_eval"}, f"{path.name}:{node.lineno}"
        if name in {"sympify", "S"} and name == "sympify":
            strict = [kw for kw in node.keywords if kw.arg == "strict"]
            assert strict and isinstance(strict[0].value, ast.Constant) and strict[0].value.value is True, (
                f"{path.name}:{node.lineno} calls sympify without strict=True"
            )


def test_the_library_text_parser_refuses_injections_and_foreign_digits(tmp_path):
    from transpose_matrix import ConvSpecError
    from transpose_matrix.geometry.shapes import parse_int

    marker = tmp_path / "marker"
    for template in INJECTIONS:
        with pytest.raises(ConvSpecError):
            parse_int("stride", template.format(marker=marker))
    for digits in ("٣", "۳", "३", "৩", "๓", "３", "𝟑"):
        with pytest.raises(ConvSpecError, match="ASCII digits"):
            parse_int("stride", digits)
        assert int(digits) == 3  # what Python's int() would have accepted
    assert not marker.exists()


def test_output_paths_are_names_never_commands(tmp_path, monkeypatch):
    from transpose_matrix.io import write_output

    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "marker"
    for template in ("$(touch {marker})", "`touch {marker}`", "; touch {marker}", "| touch {marker}"):
        name = template.format(marker="m").replace("/", "_")
        write_output(name, "x")
        assert (tmp_path / name).read_text() == "x"
    assert not marker.exists()
