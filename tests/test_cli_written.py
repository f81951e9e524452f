"""What the commands say about what they wrote, and counts that read as English.

``export``, ``figure``, ``html`` and ``animate`` write a file with ``--out``
and then name it, what it holds and its size on stderr (stdout stays free
for ``--out -``, which writes the document itself there and says nothing
else). The show report writes "1 value", "1 stored entry", never "1 values".
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys

import pytest

from transpose_matrix.cli import main
from transpose_matrix.geometry.spec import ConvSpec


# The size a person reads, from the bytes on disk: exact below 1 KiB, whole
# KiB rounded up below 1 MiB (every file written here is between 1 KiB and 1 MiB).
def _size(path: os.PathLike[str]) -> str:
    size = os.path.getsize(path)
    assert 1024 <= size < 2**20, size
    return f"{math.ceil(size / 1024)} KB"


WRITTEN = {
    "article": (["export"], "notes.tex", "LaTeX article"),
    "beamer": (["export", "--beamer"], "talk.tex", "LaTeX beamer talk"),
    "article-fragment": (["export", "--fragment"], "body.tex",
                         "LaTeX fragment (article body, for \\input)"),
    "sparsity": (["figure", "sparsity"], "fig.tex",
                 "TikZ sparsity figure, standalone LaTeX document"),
    "placement-fragment": (["figure", "placement", "--fragment"], "place.tex",
                           "TikZ placement figure, tikzpicture fragment"),
    "html": (["html"], "conv.html", "self-contained HTML page"),
    # Input 3, kernel 2: 3 - 2 + 1 = 2 outputs, one frame each.
    "gif": (["animate", "--input", "3", "--kernel", "2"], "conv.gif", "2 frames, GIF"),
    "overlays": (["animate", "--input", "3", "--kernel", "2", "--format", "beamer"], "conv.tex",
                 "2 frames, beamer overlays"),
}


@pytest.mark.parametrize("case", WRITTEN)
def test_a_written_file_is_named_on_stderr_with_its_size(case, capsys, tmp_path, monkeypatch):
    argv, name, what = WRITTEN[case]
    monkeypatch.chdir(tmp_path)
    assert main([*argv, "--out", name]) == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert os.listdir(tmp_path) == [name]
    assert err == f"{name}: {what}, {_size(tmp_path / name)}\n"


@pytest.mark.parametrize("case", ["article", "sparsity", "html", "overlays"])
def test_out_dash_writes_the_document_alone(case, capsys, tmp_path, monkeypatch):
    argv, name, _ = WRITTEN[case]
    monkeypatch.chdir(tmp_path)
    assert main([*argv, "--out", name]) == 0
    capsys.readouterr()
    assert main([*argv, "--out", "-"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    # HTML element ids count pages drawn in this process ("-c21b1e76-2").
    same = re.compile(r"(-[0-9a-f]{8}-)[0-9]+\b")
    assert same.sub(r"\1N", out) == same.sub(r"\1N", (tmp_path / name).read_text(encoding="utf-8"))


def test_one_frame_is_one_frame(capsys, tmp_path, monkeypatch):
    # Input 2, kernel 2: a single output, so a single frame.
    monkeypatch.chdir(tmp_path)
    assert main(["animate", "--input", "2", "--kernel", "2", "--out", "one.gif"]) == 0
    err = capsys.readouterr().err
    assert err == f"one.gif: 1 frame, GIF, {_size(tmp_path / 'one.gif')}\n"


def test_real_entry_point_reports_on_stderr_and_not_for_dev_stdout(tmp_path):
    from limits import run_cli

    result = run_cli(["html", "--out", "page.html"], cwd=tmp_path)
    assert result.returncode == 0 and result.stdout == "", result.describe()
    assert result.stderr == f"page.html: self-contained HTML page, {_size(tmp_path / 'page.html')}\n"
    for out in ("-", "/dev/stdout"):
        piped = run_cli(["html", "--out", out], cwd=tmp_path)
        assert piped.returncode == 0 and piped.stderr == "", piped.describe()
        assert piped.stdout == (tmp_path / "page.html").read_text(encoding="utf-8")


def test_stderr_as_target_gets_the_document_without_a_summary(tmp_path):
    # The summary would land inside the document: nothing is added.
    from limits import PACKAGE_ROOT

    env = {**os.environ, "PYTHONPATH": PACKAGE_ROOT, "PYTHONIOENCODING": "utf-8"}
    page = subprocess.run(
        [sys.executable, "-m", "transpose_matrix", "html", "--out", "-"],
        capture_output=True, text=True, encoding="utf-8", cwd=tmp_path, env=env, timeout=60,
        check=True,
    ).stdout
    result = subprocess.run(
        [sys.executable, "-m", "transpose_matrix", "html", "--out", "/dev/stderr"],
        capture_output=True, text=True, encoding="utf-8", cwd=tmp_path, env=env, timeout=60,
        check=False,
    )
    assert result.returncode == 0 and result.stdout == ""
    assert result.stderr == page


# --------------------------------------------------------------------------- counts


def _count_lines(out: str) -> dict[str, str]:
    """The tensor lines and the C line of a show report, by their first word."""
    lines = {}
    for line in out.splitlines():
        match = re.match(r"\s*(input|weight|output)\s|C: ", line)
        if match:
            lines[match.group(1) or "C"] = line
    return lines


@pytest.mark.parametrize(
    ("argv", "spec"),
    [
        (["--input", "1", "--kernel", "1"], ConvSpec((1,), 1)),
        (["--input", "2", "--kernel", "1"], ConvSpec((2,), 1)),
        (["--input", "3", "--kernel", "2", "--out-channels", "2"],
         ConvSpec((3,), 2, out_channels=2)),
    ],
    ids=["one", "two", "many"],
)
def test_show_counts_are_singular_for_one(capsys, argv, spec):
    assert main(["show", *argv]) == 0
    out = capsys.readouterr().out
    assert not re.search(r"\b1 (values|stored entries)\b", out), out
    lines = _count_lines(out)

    def phrase(count: int, one: str, many: str) -> str:
        return f"{count} {one if count == 1 else many}"

    x_size = spec.in_channels * math.prod(spec.input_shape)
    y_size = spec.out_channels * math.prod(spec.output_shape)
    # No padding: every output position holds every tap of its input channels.
    nnz = y_size * (spec.in_channels // spec.groups) * math.prod(spec.kernel_size)
    assert lines["input"].endswith(f", {phrase(x_size, 'value', 'values')}")
    assert lines["output"].endswith(f", {phrase(y_size, 'value', 'values')}")
    assert f", {phrase(nnz, 'stored entry', 'stored entries')}, " in lines["C"]


def test_export_counts_are_singular_for_one(capsys):
    assert main(["export", "--input", "1", "--kernel", "1"]) == 0
    tex = capsys.readouterr().out
    assert "1 stored entry," in tex and "1 stored entries" not in tex
