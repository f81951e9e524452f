"""The benchmark smoke run (what CI prints) shows no goals that read as failed.

A smoke run times tiny layers only to check that every benchmark still runs;
a ratio next to a goal ("209.30 | ≤ 2") reads as a failed goal, so smoke
tables have no goal and met columns, and say why under the mode line.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"_test_bench_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def run(monkeypatch):
    """``benchmarks/run.py`` with every measurement replaced by one slow-looking row."""
    module = _load("run")

    def row(table, *args):
        table.add("`conv_matrix` build vs floor", "tiny", "4.1 ms", "14 µs", "209.30", "≤ 2",
                  False)

    for name in ("bench_build_vs_floor", "bench_reference", "bench_symbolic", "bench_cli",
                 "bench_animate"):
        monkeypatch.setattr(module, name, row)
    monkeypatch.setattr(module, "bench_peak_memory", lambda table, size: None)
    monkeypatch.setattr(module, "bench_panel", lambda table, size, repeats: "")
    monkeypatch.setattr(module, "bench_spectrum", lambda size: "(spectra)")
    return module


def test_smoke_run_prints_no_goals_and_says_timings_are_not_judged(run, capsys):
    assert run.main(["--smoke", "--threads", "1"]) == 0
    out = capsys.readouterr().out
    table = [line for line in out.splitlines() if line.startswith("|")]
    assert table[0] == "| measurement | layer | ours | baseline | ratio |"
    assert "| 209.30 |" in table[2] and "≤ 2" not in out and "goal" not in table[0]
    assert "**no**" not in out
    assert "Smoke mode: tiny layers, only to check that every benchmark runs; timings are not " \
           "judged" in out


def test_full_run_judges_against_its_goals(run, capsys):
    assert run.main(["--threads", "1", "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    table = [line for line in out.splitlines() if line.startswith("|")]
    assert table[0] == "| measurement | layer | ours | baseline | ratio | goal | met |"
    assert table[2].endswith("| 209.30 | ≤ 2 | **no** |")
    assert "Smoke mode" not in out


def test_spectrum_smoke_table_has_no_goals():
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / "bench_spectrum.py"), "--smoke", "--threads", "1"],
        capture_output=True, text=True, encoding="utf-8", env=env, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr
    table = [line for line in result.stdout.splitlines() if line.startswith("|")]
    assert table[0] == "| measurement | layer | ours | baseline | ratio |"
    assert len(table) == 7  # header, rule, five measurements (the norm bracket among them)
    assert all(line.count("|") == 6 for line in table), table
    assert "timings are not judged" in result.stdout
