"""House style, offline cartopy maps and figures saved with provenance.

Modules: :mod:`~eoretrieval.plot.style`, :mod:`~eoretrieval.plot.maps`, :mod:`~eoretrieval.plot.provenance`.
"""

from .maps import configure_cartopy, map_axes, natural_earth_dir, plot_map, plot_wind
from .provenance import regeneration_command, save_figure
from .style import CMAPS, use_style

__all__ = ["configure_cartopy", "map_axes", "natural_earth_dir", "plot_map", "plot_wind",
           "regeneration_command", "save_figure", "CMAPS", "use_style"]
