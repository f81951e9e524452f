"""One self-contained HTML page: hover a cell, see its row or column of C light up.

The page holds inline SVG grids of the input (with its padding) and the
output, a window of C (or Cᵀ), the geometry and the size arithmetic, and a
small script; it loads nothing from the network and needs no server.
Hovering an output cell lights its row of C and its receptive field (with
the taps that land in the padding, paler); hovering an input cell lights its
column of C and the output cells it reaches. The transposed view shows the
same graph as the ``ConvTransposeNd`` layer sees it: its input is the
forward output, its output the forward input (the padding border is what it
crops), and the matrix is Cᵀ.

A large C is never drawn whole: the page shows a window of at most
:data:`MATRIX_ROWS` × :data:`MATRIX_COLS` entries around the hovered row or
column, eliding the stretches between the runs of its nonzeros.
"""

from __future__ import annotations

import functools
import hashlib
import html as html_lib
import itertools
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConvSpecError
from ..geometry.spec import ConvSpec
from .frames import PAD, check_drawable, check_zero_padding, frame_model

__all__ = ["MATRIX_COLS", "MATRIX_ROWS", "MAX_SIDE", "HtmlPage", "html_page"]

#: Largest window of the matrix drawn at once.
MATRIX_ROWS = 28
MATRIX_COLS = 36
#: Largest drawn grid side (cells, padding included); larger layers are refused.
MAX_SIDE = 64
#: Channels drawn per tensor; the others are elided (the matrix still has them).
MAX_CHANNELS = 4

_counter = itertools.count()


def _rgb_hex(rgb: tuple[int, int, int]) -> str:
    return "#" + "".join(f"{c:02x}" for c in rgb)


def _check(spec: ConvSpec) -> None:
    check_drawable(spec, "pages")
    check_zero_padding(spec, "html_page")
    drawn = [n + b + max(a, 0) for n, (b, a) in zip(spec.input_shape, spec.padding)]
    if max(drawn) > MAX_SIDE:
        raise ConvSpecError(
            f"the page draws grids up to {MAX_SIDE} cells a side; this input is "
            f"{'×'.join(str(n) for n in drawn)} with its padding"
        )


def _grid_svg(
    plane: Any,
    css: str,
    cell: int,
    attribute: str,
    pad_ids: dict[tuple[int, tuple[int, ...]], str],
) -> list[str]:
    """One ``<svg>`` per drawn channel of ``plane``: rects carrying their vector index."""
    shape = plane.drawn_shape if len(plane.drawn_shape) == 2 else (1, *plane.drawn_shape)
    height, width = shape
    parts = []
    for channel in range(min(plane.channels, MAX_CHANNELS)):
        cells = []
        for drawn in np.ndindex(*plane.drawn_shape):
            row, col = (0, drawn[0]) if len(drawn) == 1 else drawn
            x, y = col * cell, row * cell
            flat = plane.flat_of(channel, drawn)
            if flat is None:
                ident = f"p{channel}_{'_'.join(str(d) for d in drawn)}"
                pad_ids[(channel, drawn)] = ident
                kind, data = "tm-pad", f'data-pad="{ident}"'
            else:
                kind, data = css, f'data-{attribute}="{flat}"'
            cells.append(
                f'<g class="tm-cell {kind}" {data}><rect x="{x}" y="{y}" width="{cell}" '
                f'height="{cell}"/><text x="{x + cell / 2}" y="{y + cell / 2}"></text></g>'
            )
        label = f'<div class="tm-ch">channel {channel}</div>' if plane.channels > 1 else ""
        parts.append(
            f'<div class="tm-plane">{label}<svg width="{width * cell + 1}" '
            f'height="{height * cell + 1}" viewBox="-0.5 -0.5 {width * cell + 1} '
            f'{height * cell + 1}">{"".join(cells)}</svg></div>'
        )
    if plane.channels > MAX_CHANNELS:
        parts.append(
            f'<div class="tm-more">+{plane.channels - MAX_CHANNELS} more channels '
            "(in the matrix, not drawn)</div>"
        )
    return parts


def _text_lines(spec: ConvSpec) -> dict[str, Any]:
    from ..narrative.readouts import READOUTS
    from ..narrative.report import conv_call, transposed_call
    from .report import size_lines

    layer = transposed_call(spec)
    return {
        # What a row or column says, the report's own sentences: [lead, term, joiner].
        "readouts": {kind: list(parts) for kind, parts in READOUTS.items()},
        "forwardCall": conv_call(spec),
        "transposedCall": layer or "no single ConvTransposeNd layer has this Cᵀ",
        "forwardSizes": size_lines(spec),
        "transposedSizes": size_lines(spec, transposed=True) if layer else [],
    }


class HtmlPage:
    """An interactive page of one layer; ``str(page)`` is the HTML document.

    Shows inline in Jupyter (``_repr_html_``, without the document shell).
    """

    def __init__(self, spec: ConvSpec, *, transposed: bool = False) -> None:
        _check(spec)
        self.spec = spec
        self.transposed = bool(transposed)
        digest = hashlib.sha1(repr(spec).encode()).hexdigest()[:8]
        self.ident = f"tm-{digest}-{next(_counter)}"

    @functools.cached_property
    def body(self) -> str:
        """The page's ``<div>``, ``<style>`` and ``<script>``: embeddable anywhere."""
        return _body(self.spec, self.transposed, self.ident)

    def __str__(self) -> str:
        title = html_lib.escape(_title(self.spec, self.transposed))
        return (
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width\"><title>{title}</title>"
            "</head>\n<body>\n" + self.body + "\n</body></html>\n"
        )

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the HTML document to ``path``."""
        path = Path(path)
        path.write_text(str(self), encoding="utf-8")
        return path

    def _repr_html_(self) -> str:
        return self.body


def _title(spec: ConvSpec, transposed: bool) -> str:
    from .frames import layer_title

    return layer_title(spec, transposed=transposed)


def _body(spec: ConvSpec, transposed: bool, ident: str) -> str:
    from .animate import tap_rgb
    from .text import kernel_labels, position_labels
    from .views import tap_name

    gather = frame_model(spec, "gather")
    source, target = gather.source, gather.target
    # Channels stack vertically: keep the taller stack within a laptop screen.
    sides = [(p.drawn_shape[0] if len(p.drawn_shape) == 2 else 1, p.drawn_shape[-1],
              min(p.channels, MAX_CHANNELS)) for p in (source, target)]
    cell = min(40, 300 // max(side[1] for side in sides),
               440 // max(h * c + (c - 1) for h, _, c in sides))
    cell = max(8, cell)
    pad_ids: dict[tuple[int, tuple[int, ...]], str] = {}
    x_svg = _grid_svg(source, "tm-x", cell, "x", pad_ids)
    y_svg = _grid_svg(target, "tm-y", cell, "y", {})
    rows = [[list(entry) for entry in frame.entries] for frame in gather.frames]
    pads = [
        [[pad_ids[(m.channel, m.cell)], m.label] for m in frame.window
         if source.kinds[m.cell] == PAD and (m.channel, m.cell) in pad_ids]
        for frame in gather.frames
    ]
    columns: list[list[list[int]]] = [[] for _ in range(spec.matrix_shape[1])]
    for r, row in enumerate(rows):
        for column, label in row:
            columns[column].append([r, label])
    taps = math.prod(spec.kernel_size)
    tap_names = [tap_name(spec, t) for t in range(taps)]
    data = {
        "id": ident,
        "shape": list(spec.matrix_shape),
        "rows": rows,
        "cols": columns,
        "pads": pads,
        "taps": taps,
        "colors": [_rgb_hex(c) for c in tap_rgb(taps)],
        "weights": kernel_labels(spec.weight_shape),
        "tapNames": tap_names,
        "x": position_labels("x", spec.in_channels, spec.input_shape),
        "y": position_labels("y", spec.out_channels, spec.output_shape),
        "transposed": transposed,
        "cell": cell,
        "titles": {
            "forward": _title(spec, False),
            "transposed": _title(spec, True),
        },
        "channels": [spec.in_channels, spec.out_channels],
        # Entries per channel and per grid row (0 in 1-D), for the block lines of C:
        # its rows are outputs, its columns inputs.
        "blocks": {
            "rows": [math.prod(spec.output_shape),
                     spec.output_shape[-1] if spec.ndim > 1 else 0],
            "cols": [math.prod(spec.input_shape),
                     spec.input_shape[-1] if spec.ndim > 1 else 0],
        },
        **_text_lines(spec),
    }
    # "</" would end the script element early; JSON allows the escaped slash.
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    style = _STYLE.replace(".tm-page", f"#{ident}")
    title = html_lib.escape(_title(spec, transposed))
    return (
        f'<div class="tm-page" id="{ident}">\n<style>{style}</style>\n'
        f'<h1 class="tm-title">{title}</h1>\n'
        '<div class="tm-controls">'
        '<button type="button" class="tm-view" data-view="forward">Conv: C</button>'
        '<button type="button" class="tm-view" data-view="transposed">'
        "ConvTranspose: Cᵀ</button>"
        '<span class="tm-hint">hover a cell of either grid</span></div>\n'
        '<div class="tm-main"><div class="tm-left"><div class="tm-grids">'
        f'<div class="tm-tensor tm-xs"><h2></h2>{"".join(x_svg)}</div>'
        f'<div class="tm-tensor tm-ys"><h2></h2>{"".join(y_svg)}</div>'
        '</div><div class="tm-readout"></div><div class="tm-legend"></div>'
        '<div class="tm-info"></div></div>'
        '<div class="tm-right"><h2 class="tm-mtitle"></h2><div class="tm-matrix"></div></div>'
        "</div>\n"
        f'<script type="application/json" class="tm-data">{payload}</script>\n'
        f"<script>{_SCRIPT}</script>\n</div>"
    )


_STYLE = """
.tm-page{font:14px/1.4 "DejaVu Sans",Verdana,sans-serif;color:#222;max-width:1340px;
  margin:8px}
.tm-page h1{font-size:17px;margin:0 0 6px}
.tm-page h2{font-size:13px;font-weight:normal;color:#555;margin:0 0 4px}
.tm-page .tm-controls{margin:0 0 10px}
.tm-page button{font:inherit;padding:3px 10px;margin-right:6px;border:1px solid #8a96a3;
  background:#f4f6f8;border-radius:3px;cursor:pointer}
.tm-page button.tm-on{background:#2b4c7e;color:#fff;border-color:#2b4c7e}
.tm-page .tm-hint{color:#777;font-size:12px}
.tm-page .tm-main{display:flex;gap:28px;align-items:flex-start;flex-wrap:wrap}
.tm-page .tm-grids{display:flex;gap:28px;align-items:flex-start}
.tm-page .tm-tensor{display:flex;flex-direction:column;gap:6px}
.tm-page .tm-ch,.tm-page .tm-more{font-size:11px;color:#777}
.tm-page .tm-cell rect{stroke:#96a0ac;stroke-width:1}
.tm-page .tm-x rect{fill:#d6e5f5}
.tm-page .tm-y rect{fill:#d6efe5}
.tm-page .tm-pad rect{fill:#f2f2f2;stroke-dasharray:3 2}
.tm-page .tm-cell text{font-size:10px;text-anchor:middle;dominant-baseline:central;
  pointer-events:none;fill:#222}
.tm-page .tm-cell.hl rect{stroke:#19263a;stroke-width:2}
.tm-page .tm-cell.tm-pale text{fill:#777}
.tm-page .tm-cell.tm-active rect{fill:#2b4c7e;stroke:#19263a;stroke-width:2}
.tm-page .tm-cell.tm-active text{fill:#fff}
.tm-page .tm-readout{margin-top:10px;min-height:3.2em;max-width:600px;font-size:13px}
.tm-page .tm-legend{margin-top:6px;font-size:12px}
.tm-page .tm-legend span{display:inline-block;padding:1px 5px;margin:1px;border:1px solid #96a0ac}
.tm-page .tm-info{margin-top:10px;font-size:12px;max-width:600px}
.tm-page .tm-info pre{font:12px/1.35 "DejaVu Sans Mono",monospace;white-space:pre-wrap;
  margin:2px 0 8px}
.tm-page .tm-matrix svg text{font-size:9px;fill:#666}
.tm-page .tm-matrix svg text.tm-tap{text-anchor:middle;dominant-baseline:central;fill:#222}
.tm-page .tm-m rect{stroke:#dde1e6;stroke-width:1;fill:#fff}
.tm-page .tm-m.tm-line rect{fill:#fff6d5}
.tm-page .tm-m.nz rect{stroke:#96a0ac}
.tm-page .tm-m.hl rect{stroke:#19263a;stroke-width:2}
.tm-page .tm-matrix line.tm-rw{stroke:#b8c0ca;stroke-width:1}
.tm-page .tm-matrix line.tm-ch{stroke:#26303a;stroke-width:1.5}
"""


def html_page(
    spec: ConvSpec, *, transposed: bool = False, out: str | os.PathLike[str] | None = None
) -> HtmlPage:
    """An interactive HTML page of ``spec``'s C and Cᵀ; saved when ``out`` is given.

    Parameters
    ----------
    spec : ConvSpec
        A 1-D or 2-D geometry (for a transposed layer, its forward
        convolution, as :meth:`ConvSpec.from_transposed` returns).
    transposed : bool
        Open on the transposed view (Cᵀ) rather than the forward one.
    out : path, optional
        Write the self-contained HTML document there.

    Returns
    -------
    HtmlPage
        ``str(page)`` is the document; shows inline in Jupyter.

    Raises
    ------
    ConvSpecError
        A 3-D spec or a grid larger than :data:`MAX_SIDE` cells a side.

    Examples
    --------
    >>> page = html_page(ConvSpec((4, 4), 3))
    >>> text = str(page)
    >>> text.count('class="tm-cell tm-x"'), text.count('class="tm-cell tm-y"')
    (16, 4)
    >>> "http" in text
    False
    """
    page = HtmlPage(spec, transposed=transposed)
    if out is not None:
        page.save(out)
    return page


# The page's behaviour. It builds the matrix window as markup (no namespaces,
# no URLs), initialises every page on the document once, and reads its data
# from the JSON block beside it.
_SCRIPT = r"""
(function () {
  "use strict";
  function range(a, b) { var r = []; for (var i = a; i < b; i++) r.push(i); return r; }
  function esc(t) { return String(t).replace(/&/g, "&amp;").replace(/</g, "&lt;"); }
  function pale(hex) {
    var n = parseInt(hex.slice(1), 16), out = "#";
    [16, 8, 0].forEach(function (s) {
      var c = Math.round(0.4 * ((n >> s) & 255) + 0.6 * 242);
      out += (c < 16 ? "0" : "") + c.toString(16);
    });
    return out;
  }
  function around(i, n, total) {
    if (total <= n) return range(0, total);
    var s = Math.max(0, Math.min(i - (n >> 1), total - n));
    return range(s, s + n);
  }
  function runs(indices, n, total, fallback) {
    if (total <= n) return range(0, total);
    if (!indices.length) return around(fallback, n, total);
    var kept = [];
    for (var ctx = 2; ctx >= 0; ctx--) {
      var set = {};
      indices.forEach(function (k) {
        for (var d = -ctx; d <= ctx; d++) if (k + d >= 0 && k + d < total) set[k + d] = 1;
      });
      kept = Object.keys(set).map(Number).sort(function (a, b) { return a - b; });
      var gaps = 0;
      for (var i = 1; i < kept.length; i++) if (kept[i] !== kept[i - 1] + 1) gaps++;
      if (kept.length + gaps <= n) break;
    }
    var out = [], prev = -2;
    kept.forEach(function (k) {
      if (out.length >= n) return;
      if (prev >= 0 && k !== prev + 1) out.push(-1);
      out.push(k); prev = k;
    });
    return out;
  }
  function init(page) {
    if (page.getAttribute("data-ready")) return;
    page.setAttribute("data-ready", "1");
    var data = JSON.parse(page.querySelector(".tm-data").textContent);
    var nRows = data.shape[0], nCols = data.shape[1];
    var view = data.transposed ? "transposed" : "forward";
    var xs = page.querySelector(".tm-xs"), ys = page.querySelector(".tm-ys");
    var cells = { x: {}, y: {}, pad: {} };
    page.querySelectorAll(".tm-cell").forEach(function (g) {
      ["x", "y", "pad"].forEach(function (k) {
        var v = g.getAttribute("data-" + k);
        if (v !== null) cells[k][v] = g;
      });
    });
    var rowMaps = {};
    function rowMap(r) {
      if (!rowMaps[r]) {
        var m = {};
        data.rows[r].forEach(function (e) { m[e[0]] = e[1]; });
        rowMaps[r] = m;
      }
      return rowMaps[r];
    }
    var lit = [], current = ["row", 0];
    function tap(label) { return (label - 1) % data.taps; }
    function clear() {
      lit.forEach(function (g) {
        g.classList.remove("hl", "tm-pale", "tm-active");
        g.querySelector("rect").style.fill = "";
        g.querySelector("text").textContent = "";
        g.querySelector("text").style.fontSize = "";
      });
      lit = [];
    }
    function light(g, label, isPale) {
      if (!g) return;
      var color = data.colors[tap(label)];
      g.classList.add("hl");
      if (isPale) g.classList.add("tm-pale");
      g.querySelector("rect").style.fill = isPale ? pale(color) : color;
      if (data.cell >= 22) {
        // The weight's own name (w_{o,c,t} with channels), smaller when long.
        var text = g.querySelector("text"), name = data.weights[label - 1];
        text.textContent = name;
        text.style.fontSize = name.length <= 3 ? "" : data.cell >= 30 ? "8px" : "6.5px";
      }
      lit.push(g);
    }
    function activate(g) { if (g) { g.classList.add("tm-active"); lit.push(g); } }
    function fill(template, names) {
      return template.replace(/\{(\w+)\}/g, function (_, key) { return names[key]; });
    }
    // The sentence of the report model's readout `kind` (narrative.report.READOUTS).
    function sentence(kind, own, entries, others, limit) {
      var t = data.readouts[kind], names = { x: own, y: own };
      var parts = entries.slice(0, limit).map(function (e) {
        names.w = data.weights[e[1] - 1];
        names.other = others[e[0]];
        return fill(t[1], names);
      });
      if (entries.length > limit) parts.push("… (" + (entries.length - limit) + " more)");
      return fill(t[0], names) + (parts.length ? parts.join(t[2]) : "0");
    }
    function readout(kind, i) {
      var out;
      var entries = kind === "row" ? data.rows[i] : data.cols[i];
      if (kind === "row" && view === "forward") {
        out = sentence("row of C", data.y[i], entries, data.x, 9) + "<br>row " + i + " of C";
      } else if (kind === "row") {
        out = sentence("column of Cᵀ", data.y[i], entries, data.x, 9) +
          "<br>column " + i + " of Cᵀ (= row " + i + " of C)";
      } else if (view === "forward") {
        out = sentence("column of C", data.x[i], entries, data.y, 9) +
          "<br>column " + i + " of C";
      } else {
        out = sentence("row of Cᵀ", data.x[i], entries, data.y, 9) + "<br>row " + i +
          " of Cᵀ (= column " + i + " of C)";
      }
      page.querySelector(".tm-readout").innerHTML = out + ", " + entries.length + " nonzero";
    }
    function drawMatrix(kind, i) {
      var rows, cols;
      if (kind === "row") {
        rows = around(i, MROWS, nRows);
        cols = runs(data.rows[i].map(function (e) { return e[0]; }), MCOLS, nCols,
          Math.round(i * nCols / nRows));
      } else {
        cols = around(i, MCOLS, nCols);
        rows = runs(data.cols[i].map(function (e) { return e[0]; }), MROWS, nRows,
          Math.round(i * nRows / nCols));
      }
      var T = view === "transposed";
      var down = T ? cols : rows, across = T ? rows : cols;
      var size = Math.max(12, Math.min(26, Math.floor(600 / across.length),
        Math.floor(560 / down.length)));
      var gap = 12, left = 34, top = 26;
      function offsets(list) {
        var at = [], p = 0;
        list.forEach(function (k) { at.push(p); p += k < 0 ? gap : size; });
        return { at: at, end: p };
      }
      var od = offsets(down), oa = offsets(across);
      var svg = [];
      across.forEach(function (k, a) {
        var x = left + oa.at[a];
        if (k < 0) {
          svg.push('<text x="' + (x + gap / 2) + '" y="' + (top - 4) +
            '" text-anchor="middle">…</text>');
        } else if (k % (size >= 14 && across.length <= 40 ? 1 : 5) === 0) {
          svg.push('<text transform="translate(' + (x + size / 2 + 3) + ',' + (top - 3) +
            ') rotate(-90)">' + k + "</text>");
        }
      });
      down.forEach(function (k, d) {
        var y = top + od.at[d];
        if (k < 0) {
          svg.push('<text x="' + (left - 6) + '" y="' + (y + gap - 2) +
            '" text-anchor="end">⋮</text>');
          return;
        }
        svg.push('<text x="' + (left - 4) + '" y="' + (y + size - 4) + '" text-anchor="end">' +
          k + "</text>");
        across.forEach(function (m, a) {
          if (m < 0) return;
          var r = T ? m : k, c = T ? k : m;
          var label = rowMap(r)[c];
          var line = kind === "row" ? r === i : c === i;
          var cls = "tm-m" + (line ? " tm-line" : "") + (label ? " nz" : "") +
            (label && line ? " hl" : "");
          var fill = label ? (line ? data.colors[tap(label)] : pale(data.colors[tap(label)])) : "";
          var x = left + oa.at[a];
          svg.push('<g class="' + cls + '" data-r="' + r + '" data-c="' + c + '"><rect x="' +
            x + '" y="' + y + '" width="' + size + '" height="' + size + '"' +
            (fill ? ' style="fill:' + fill + '"' : "") + "/>" +
            (label && size >= 24 ? '<text class="tm-tap" x="' + (x + size / 2) + '" y="' +
              (y + size / 2) + '">' + esc(data.tapNames[tap(label)]) + "</text>" : "") +
            (label ? "<title>" + esc((T ? "Cᵀ[" + c + ", " + r : "C[" + r + ", " + c) + "] = " +
              data.weights[label - 1]) + "</title>" : "") + "</g>");
        });
      });
      // Lines between channels (dark) and between grid rows (light), as in plot_matrix.
      var height = od.end, width = oa.end;
      function rules(list, offsets, blocks, vertical) {
        list.forEach(function (k, n) {
          if (n === 0 || k <= 0) return;
          var level = k % blocks[0] === 0 ? "tm-ch"
            : (blocks[1] && k % blocks[1] === 0 ? "tm-rw" : "");
          if (!level) return;
          var at = (vertical ? left : top) + offsets.at[n];
          var ends = vertical ? [at, at, top, top + height] : [left, left + width, at, at];
          svg.push('<line class="' + level + '" x1="' + ends[0] + '" x2="' + ends[1] +
            '" y1="' + ends[2] + '" y2="' + ends[3] + '"/>');
        });
      }
      rules(across, oa, T ? data.blocks.rows : data.blocks.cols, true);
      rules(down, od, T ? data.blocks.cols : data.blocks.rows, false);
      var name = T ? "Cᵀ" : "C";
      var dims = T ? nCols + " × " + nRows : nRows + " × " + nCols;
      var shown = down.filter(function (k) { return k >= 0; }).length + " × " +
        across.filter(function (k) { return k >= 0; }).length;
      page.querySelector(".tm-mtitle").textContent = name + ": " + dims +
        (shown === dims ? "" : " (window " + shown + " around the hovered " +
          (kind === "row" ? (T ? "column" : "row") : (T ? "row" : "column")) + ")");
      page.querySelector(".tm-matrix").innerHTML = '<svg width="' + (left + oa.end + 2) +
        '" height="' + (top + od.end + 2) + '">' + svg.join("") + "</svg>";
    }
    var MROWS = MATRIX_ROWS, MCOLS = MATRIX_COLS;
    function show(kind, i) {
      current = [kind, i];
      clear();
      if (kind === "row") {
        activate(cells.y[i]);
        data.rows[i].forEach(function (e) { light(cells.x[e[0]], e[1], false); });
        data.pads[i].forEach(function (e) { light(cells.pad[e[0]], e[1], true); });
      } else {
        activate(cells.x[i]);
        data.cols[i].forEach(function (e) { light(cells.y[e[0]], e[1], false); });
      }
      readout(kind, i);
      drawMatrix(kind, i);
    }
    function setView(v) {
      view = v;
      var T = v === "transposed";
      page.querySelectorAll(".tm-view").forEach(function (b) {
        b.classList.toggle("tm-on", b.getAttribute("data-view") === v);
      });
      page.querySelector(".tm-title").textContent = data.titles[v];
      var grids = xs.parentNode;
      if (T) grids.insertBefore(ys, xs); else grids.insertBefore(xs, ys);
      var ch = function (c) { return c > 1 ? c + " channels" : ""; };
      xs.querySelector("h2").textContent = T
        ? "output x " + ch(data.channels[0]) + " (dashed border: cropped by padding)"
        : "input x " + ch(data.channels[0]) + " (dashed: padding)";
      ys.querySelector("h2").textContent = (T ? "input y " : "output y ") + ch(data.channels[1]);
      var lines = T
        ? [data.transposedCall].concat(data.transposedSizes)
        : [data.forwardCall].concat(data.forwardSizes);
      page.querySelector(".tm-info").innerHTML = "<pre>" + esc(lines.join("\n")) + "</pre>";
      show(current[0], current[1]);
    }
    page.querySelector(".tm-legend").innerHTML = "kernel taps: " +
      data.tapNames.map(function (n, k) {
        return '<span style="background:' + data.colors[k] + '">' + esc(n) + "</span>";
      }).join("");
    function hover(ev) {
      var button = ev.target.closest ? ev.target.closest(".tm-view") : null;
      if (button && ev.type === "click") { setView(button.getAttribute("data-view")); return; }
      var g = ev.target.closest ? ev.target.closest(".tm-cell") : null;
      if (!g || !page.contains(g)) return;
      if (g.hasAttribute("data-y")) show("row", Number(g.getAttribute("data-y")));
      else if (g.hasAttribute("data-x")) show("col", Number(g.getAttribute("data-x")));
    }
    page.addEventListener("mouseover", hover);
    page.addEventListener("click", hover);
    setView(view);
  }
  document.querySelectorAll(".tm-page").forEach(init);
})();
""".replace("MATRIX_ROWS", str(MATRIX_ROWS)).replace("MATRIX_COLS", str(MATRIX_COLS))
