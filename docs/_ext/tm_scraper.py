"""sphinx-gallery image scraper: animations and matplotlib figures, side by side.

After each code block it saves every :class:`transpose_matrix.render.animate.Animation`
that the block's globals hold and that has not been shown yet (as a GIF), then
every open matplotlib figure (as a PNG), and lays them out as one horizontal
list, so an animation stands beside the matrix drawn in the same block.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["scrape"]


def scrape(block: Any, block_vars: dict[str, Any], gallery_conf: dict[str, Any]) -> str:
    """Save the block's new animations and figures; their reST (sphinx-gallery's API)."""
    from sphinx_gallery.scrapers import figure_rst

    from transpose_matrix.render.animate import Animation

    shown = block_vars.setdefault("tm_shown_animations", set())
    paths: list[Path] = []
    names = block_vars["example_globals"]
    for value in list(names.values()):
        if isinstance(value, Animation) and id(value) not in shown:
            shown.add(id(value))
            path = Path(next(block_vars["image_path_iterator"])).with_suffix(".gif")
            value.save(path)
            paths.append(path)
    import matplotlib.pyplot as plt

    for number in plt.get_fignums():
        figure = plt.figure(number)
        path = Path(next(block_vars["image_path_iterator"]))
        figure.savefig(path, dpi=90, bbox_inches="tight")
        paths.append(path)
    plt.close("all")
    return figure_rst([str(p) for p in paths], gallery_conf["src_dir"])
