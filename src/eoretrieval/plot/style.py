"""One house style for every figure of the book (seaborn + matplotlib rcParams).

Public names: :func:`use_style`, :data:`CMAPS`.
"""

from __future__ import annotations

import matplotlib as mpl

__all__ = ["use_style", "CMAPS"]

#: Colour maps by quantity, so the same quantity looks the same in every chapter.
CMAPS = {
    "emission": "magma_r",
    "column": "viridis",
    "error": "RdBu_r",
    "flux": "PRGn_r",
    "gpp": "YlGn",
    "rain": "Blues",
}


def use_style(*, context: str = "notebook") -> None:
    """Apply the house style: seaborn ``ticks`` theme, colour-blind palette, readable sizes.

    Call once in a notebook's imports cell.
    """
    try:
        import seaborn as sns
    except ImportError:  # plotting still works with plain matplotlib
        sns = None
    if sns is not None:
        sns.set_theme(context=context, style="ticks", palette="colorblind")
    mpl.rcParams.update({
        "figure.dpi": 100,
        "savefig.dpi": 130,
        "savefig.bbox": "tight",
        "axes.titlesize": "medium",
        "axes.spines.top": False,
        "axes.spines.right": False,
        "image.cmap": "viridis",
        "figure.constrained_layout.use": True,
    })
