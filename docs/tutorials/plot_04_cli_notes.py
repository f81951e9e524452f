"""
Lecture notes and slides from the command line
==============================================

``python -m transpose_matrix`` writes everything a lecture needs: the matrix
in the terminal, a LaTeX document that narrates a layer, beamer slides,
TikZ figures and animations. This tutorial runs the commands as you would in
a shell (each is a ``subprocess``), then compiles the notes with pdflatex
and shows their first page.
"""

# %%
import subprocess
import sys
import tempfile
from pathlib import Path

workdir = Path(tempfile.mkdtemp())


def run(*args):
    """Run ``python -m transpose_matrix ARGS`` in the work folder and print what it says."""
    command = [sys.executable, "-m", "transpose_matrix", *args]
    print("$ python -m transpose_matrix", " ".join(args))
    result = subprocess.run(command, cwd=workdir, capture_output=True, text=True, check=True)
    print(result.stdout)


# %%
# The transposed layer in the terminal
# ------------------------------------
run("show", "--transposed", "--input", "2x2", "--kernel", "3", "--stride", "2")

# %%
# A document
# ----------
# ``export`` writes a standalone ``article``: the geometry, the size arithmetic,
# C and Cᵀ, and the figures. ``--beamer`` writes slides instead,
# ``--fragment`` only the body, to ``\input`` into your own notes.
run("export", "--transposed", "--input", "3x3", "--stride", "2", "--padding", "1",
    "--output-padding", "1", "--out", "notes.tex")
run("export", "--beamer", "--out", "talk.tex")
run("figure", "sparsity", "--out", "sparsity.tex")
print((workdir / "talk.tex").read_text().splitlines()[0])

# %%
# Compile and look
# ----------------
# pdflatex turns ``notes.tex`` into a PDF; here its first page, as an image.
import matplotlib.pyplot as plt  # noqa: E402 (imported where it is used)

subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "notes.tex"],
               cwd=workdir, capture_output=True, check=True)
subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "notes.pdf", "page"],
               cwd=workdir, check=True)
page = plt.imread(next(workdir.glob("page*.png")))
fig, ax = plt.subplots(figsize=(6, 7.8))
ax.imshow(page)
ax.set_axis_off()

# %%
# Animations for the slides
# -------------------------
# ``animate`` writes a GIF, an animated PNG, or beamer overlays (``.tex``).
run("animate", "--preset", "padding_strides_transposed", "--out", "up.gif")
run("animate", "--preset", "padding_strides_transposed", "--out", "up.tex", "--fragment")
print(sorted(p.name for p in workdir.iterdir() if p.suffix in {".tex", ".gif", ".pdf"}))
