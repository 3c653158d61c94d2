"""Maps on cartopy axes with offline Natural Earth data.

Cartopy downloads Natural Earth on first use, which fails without internet. The repository ships
the 110m/50m shapefiles in ``data/natural_earth/shapefiles`` (public domain); :func:`configure_cartopy`
points cartopy there before any feature is drawn.

Public names: :func:`configure_cartopy`, :func:`map_axes`, :func:`plot_map`.
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np
import xarray as xr

from ..config import data_dir
from ..errors import DataError, MissingOptionalDependency

__all__ = ["configure_cartopy", "map_axes", "plot_map", "plot_wind", "natural_earth_dir", "grid_ticks"]


def natural_earth_dir() -> Path:
    """Return the folder that holds ``shapefiles/natural_earth/...`` (cartopy's layout)."""
    env = os.environ.get("CARTOPY_DATA_DIR")
    return Path(env) if env else data_dir() / "natural_earth"


def configure_cartopy():
    """Point cartopy at the shipped Natural Earth shapefiles; return the ``cartopy`` module.

    Raises
    ------
    MissingOptionalDependency
        If cartopy is not installed.
    DataError
        If the shipped shapefiles are missing.
    """
    try:
        import cartopy
    except ImportError as err:  # pragma: no cover - exercised only without cartopy
        raise MissingOptionalDependency("maps need cartopy: pip install -e '.[plot]'") from err
    folder = natural_earth_dir()
    coast = folder / "shapefiles" / "natural_earth" / "physical" / "ne_50m_coastline.shp"
    if not coast.exists():
        raise DataError(f"{coast}: Natural Earth shapefile not found; expected the shipped copy under "
                        f"{folder}/shapefiles/natural_earth (see data/natural_earth/SOURCE.md)")
    cartopy.config["pre_existing_data_dir"] = str(folder)
    cartopy.config["data_dir"] = str(folder)
    return cartopy


def map_axes(nrows: int = 1, ncols: int = 1, *, extent: tuple[float, float, float, float] | None = None,
             figsize: tuple[float, float] | None = None, resolution: str = "50m"):
    """Create a grid of PlateCarree map axes with coastlines and borders drawn offline.

    Parameters
    ----------
    nrows, ncols : int
        Grid of panels.
    extent : (lon0, lon1, lat0, lat1), optional
        Map extent in degrees.
    figsize : (float, float), optional
        Figure size in inches (default 4.2 in per column, 3.6 in per row).
    resolution : {"110m", "50m"}
        Natural Earth scale (only these two are shipped).

    Returns
    -------
    fig : matplotlib.figure.Figure
    axes : numpy.ndarray of cartopy GeoAxes, shape (nrows, ncols)
    """
    configure_cartopy()
    import cartopy.crs as ccrs
    import cartopy.feature as cfeature

    if resolution not in ("110m", "50m"):
        raise ValueError(f"resolution {resolution!r} not shipped; valid: '110m', '50m'")
    from cartopy.mpl.ticker import LatitudeFormatter, LongitudeFormatter

    figsize = figsize or (4.2 * ncols, 3.6 * nrows)
    fig, axes = plt.subplots(nrows, ncols, figsize=figsize, squeeze=False,
                             subplot_kw={"projection": ccrs.PlateCarree()})
    for ax in axes.flat:
        if extent is not None:
            ax.set_extent(extent, crs=ccrs.PlateCarree())
        lon0, lon1, lat0, lat1 = ax.get_extent(crs=ccrs.PlateCarree())
        width_in, height_in = _panel_size_in(figsize, nrows, ncols, lon1 - lon0, lat1 - lat0)
        xticks, xdec = grid_ticks(lon0, lon1, width_in, label_chars=2, fontsize=LABEL_SIZE)
        yticks, ydec = grid_ticks(lat0, lat1, height_in, vertical=True, fontsize=LABEL_SIZE)
        ax.add_feature(cfeature.COASTLINE.with_scale(resolution), linewidth=0.6)
        ax.add_feature(cfeature.BORDERS.with_scale(resolution), linewidth=0.4, linestyle=":")
        gl = ax.gridlines(draw_labels=True, linewidth=0.3, alpha=0.5, xlocs=mticker.FixedLocator(xticks),
                          ylocs=mticker.FixedLocator(yticks))
        gl.xformatter = LongitudeFormatter(number_format=f".{xdec}f")
        gl.yformatter = LatitudeFormatter(number_format=f".{ydec}f")
        gl.top_labels = gl.right_labels = False
        gl.xlabel_style = gl.ylabel_style = {"size": LABEL_SIZE}
    return fig, axes


#: Font size (points) of the longitude/latitude labels of :func:`map_axes`.
LABEL_SIZE = 7
_STEPS = (1, 2, 2.5, 5, 10)
_CHAR_EM = 0.62  # mean advance of a digit/degree sign in DejaVu Sans, in em


def _panel_size_in(figsize, nrows: int, ncols: int, dlon: float, dlat: float) -> tuple[float, float]:
    """Conservative size (inches) of one map panel: subplot grid, a colour bar beside it, equal aspect."""
    cell_w = figsize[0] * 0.775 / (ncols + 0.2 * (ncols - 1))   # matplotlib's default subplot margins
    cell_h = figsize[1] * 0.77 / (nrows + 0.2 * (nrows - 1))
    cell_w *= 0.75                                               # room for plot_map's colour bar
    aspect = dlon / dlat if dlat > 0 else 1.0                    # PlateCarree: one degree = one degree
    width = min(cell_w, cell_h * aspect)
    return width, width / aspect


def _decimals(step: float) -> int:
    for d in range(0, 8):
        if abs(step * 10 ** d - round(step * 10 ** d)) < 1e-6 * max(1.0, step * 10 ** d):
            return d
    return 8


def grid_ticks(lo: float, hi: float, length_in: float, *, vertical: bool = False, fontsize: float = LABEL_SIZE,
               label_chars: int = 2, max_ticks: int = 8) -> tuple[np.ndarray, int]:
    """Choose gridline positions whose labels do not overlap along an axis of ``length_in`` inches.

    Tries regular steps of 1, 2, 2.5 or 5 times a power of ten, from the densest down, and keeps the first
    whose labels (``"%.{d}f" % tick`` plus ``label_chars`` characters for ``°E``, or one line of text
    when ``vertical``) leave at least one em between neighbours.

    Parameters
    ----------
    lo, hi : float
        Axis range in degrees.
    length_in : float
        Length of the axis on the figure, in inches.
    vertical : bool
        Labels stacked vertically (latitudes): only their height matters.

    Returns
    -------
    ticks : numpy.ndarray
        Tick positions inside ``[lo, hi]`` (at least one).
    decimals : int
        Decimals needed to print them (for the label formatter).

    Examples
    --------
    >>> ticks, dec = grid_ticks(105.0, 124.0, 1.6)   # a narrow panel: 5-degree steps, no 107.5
    >>> ticks.tolist(), dec
    ([105.0, 110.0, 115.0, 120.0], 0)
    """
    if not hi > lo:
        raise ValueError(f"grid_ticks: empty range [{lo}, {hi}]")
    span, length_pt = hi - lo, max(length_in, 0.1) * 72.0
    best = None
    for nbins in range(max_ticks, 0, -1):
        ticks = mticker.MaxNLocator(nbins=nbins, steps=list(_STEPS)).tick_values(lo, hi)
        eps = 1e-9 * max(1.0, abs(hi), abs(lo))
        ticks = ticks[(ticks >= lo - eps) & (ticks <= hi + eps)]
        if len(ticks) == 0:
            continue
        step = float(ticks[1] - ticks[0]) if len(ticks) > 1 else span
        dec = _decimals(step)
        if vertical:
            need = 2.5 * fontsize
        else:
            chars = max(len(f"{abs(t):.{dec}f}") for t in ticks) + label_chars
            need = chars * _CHAR_EM * fontsize + fontsize
        best = (ticks, dec)
        if len(ticks) == 1 or step / span * length_pt >= need:
            return np.round(ticks, dec + 2), dec
    return np.round(best[0], best[1] + 2), best[1]


def plot_map(ax, da: xr.DataArray, *, cmap: str | None = None, vmin: float | None = None,
             vmax: float | None = None, cbar_label: str | None = None, title: str | None = None,
             center: float | None = None):
    """Draw a 2-D ``(lat, lon)`` DataArray on a map axis with a colour bar labelled with its units.

    Parameters
    ----------
    ax : cartopy GeoAxes
    da : xr.DataArray
        2-D field with ``lat`` and ``lon`` coordinates (degrees); ``attrs["units"]`` labels the colour bar.
    center : float, optional
        Make the colour scale symmetric about this value (for errors).

    Returns
    -------
    matplotlib.collections.QuadMesh
    """
    import cartopy.crs as ccrs

    if da.ndim != 2 or "lat" not in da.coords or "lon" not in da.coords:
        raise DataError(f"plot_map: {da.name!r} must be 2-D with lat/lon coordinates, got dims {da.dims}")
    if center is not None and vmin is None and vmax is None:
        span = float(np.nanmax(np.abs(da.values - center)))
        vmin, vmax = center - span, center + span
    mesh = ax.pcolormesh(da["lon"], da["lat"], da.transpose("lat", "lon").values, cmap=cmap, vmin=vmin,
                         vmax=vmax, shading="auto", transform=ccrs.PlateCarree())
    label = cbar_label
    if label is None:
        name = da.attrs.get("long_name", da.name or "")
        units = da.attrs.get("units", "")
        label = f"{name} [{units}]" if units else str(name)
    cb = ax.figure.colorbar(mesh, ax=ax, shrink=0.8, pad=0.02)
    cb.set_label(label, fontsize=8)
    cb.ax.tick_params(labelsize=7)
    if title:
        ax.set_title(title, fontsize=9)
    return mesh


def plot_wind(ax, u: xr.DataArray, v: xr.DataArray, *, stride: int = 3, scale: float | None = None,
              key_speed: float = 10.0, color: str = "k"):
    """Draw wind arrows for ``(lat, lon)`` fields ``u``, ``v`` (m s-1) every ``stride`` points, with a key.

    Returns
    -------
    matplotlib.quiver.Quiver
    """
    import cartopy.crs as ccrs

    for comp in (u, v):
        if comp.attrs.get("units") not in ("m s-1", "m s**-1", "m/s"):
            raise DataError(f"plot_wind: {comp.name!r} has units {comp.attrs.get('units')!r}, expected 'm s-1'")
    sub = dict(lat=slice(None, None, stride), lon=slice(None, None, stride))
    uu, vv = u.isel(sub), v.isel(sub)
    q = ax.quiver(uu["lon"].values, uu["lat"].values, uu.transpose("lat", "lon").values,
                  vv.transpose("lat", "lon").values, transform=ccrs.PlateCarree(), scale=scale,
                  color=color, width=0.003)
    ax.quiverkey(q, 0.80, -0.12, key_speed, f"{key_speed:g} m s$^{{-1}}$", labelpos="E", fontproperties={"size": 7})
    return q
