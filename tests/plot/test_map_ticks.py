"""Map gridline labels must not overlap: measured on the drawn figure (text extents in pixels)."""

import itertools

import matplotlib

matplotlib.use("Agg")  # tests only; notebooks keep the inline backend

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import xarray as xr  # noqa: E402

from eoretrieval.plot import map_axes, plot_map, use_style  # noqa: E402
from eoretrieval.plot.maps import grid_ticks  # noqa: E402


def _overlaps(fig, gridliners, min_gap_em=0.5):
    """Pairs of visible labels closer than ``min_gap_em`` (em of their font) on the drawn figure."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    bad = []
    for gl in gridliners:
        for side in ("bottom_label_artists", "left_label_artists"):
            boxes = []
            for a in getattr(gl, side):
                if a.get_visible():
                    pad = min_gap_em * a.get_fontsize() * fig.dpi / 72.0 / 2.0
                    boxes.append((a.get_text(), a.get_window_extent(renderer).expanded(1.0, 1.0).padded(pad)))
            for (ta, ba), (tb, bb) in itertools.combinations(boxes, 2):
                if ba.overlaps(bb):
                    bad.append((side, ta, tb))
    return bad


# (extent, nrows, ncols, figsize): the study figures' layouts (NOx OSSE panels, the Sentinel-2 tile of
# central Slovenia) and a deliberately cramped one
LAYOUTS = {
    "nox_5_columns": ((105.0, 124.0, 26.0, 43.0), 2, 5, (15.0, 5.4)),
    "sentinel2_tile": ((14.5514, 14.5642, 45.8659, 45.8749), 2, 3, (13.0, 7.0)),
    "cramped_wide_domain": ((100.0, 125.0, 18.0, 45.0), 1, 5, (10.0, 2.6)),
    "tiny_extent_narrow": ((8.2001, 8.2133, 47.001, 47.012), 1, 4, (8.0, 2.5)),
}


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_no_overlapping_lon_lat_labels(name):
    use_style()
    extent, nrows, ncols, figsize = LAYOUTS[name]
    fig, axes = map_axes(nrows, ncols, extent=extent, figsize=figsize, resolution="110m")
    lon = np.linspace(extent[0], extent[1], 12)
    lat = np.linspace(extent[2], extent[3], 10)
    da = xr.DataArray(np.add.outer(lat, lon), dims=("lat", "lon"), coords={"lat": lat, "lon": lon},
                      name="f", attrs={"units": "1"})
    for ax in axes.flat:
        plot_map(ax, da, title="panel")
    from cartopy.mpl.gridliner import Gridliner

    gridliners = [a for ax in axes.flat for a in ax.artists if isinstance(a, Gridliner)]
    assert len(gridliners) == axes.size
    bad = _overlaps(fig, gridliners)
    n_lon = [len([a for a in gl.bottom_label_artists if a.get_visible()]) for gl in gridliners]
    steps = [np.diff(np.sort(np.asarray(gl.xlocator.tick_values(*extent[:2])))) for gl in gridliners]
    uneven = [s for s in steps if len(s) > 1 and not np.allclose(s, s[0])]
    plt.close(fig)
    assert not bad, f"{name}: overlapping labels {bad[:5]}"
    assert min(n_lon) >= 1, f"{name}: a panel without longitude labels"
    assert not uneven, f"{name}: unevenly spaced longitude gridlines {uneven[0]}"


def test_grid_ticks_known_answers():
    ticks, dec = grid_ticks(100.0, 125.0, 6.0)       # wide panel: dense regular steps
    assert dec == 0 and np.allclose(np.diff(ticks), ticks[1] - ticks[0]) and len(ticks) >= 5
    ticks, dec = grid_ticks(105.0, 124.0, 1.6)       # narrow: 5-degree steps
    assert ticks.tolist() == [105.0, 110.0, 115.0, 120.0] and dec == 0
    ticks, dec = grid_ticks(14.5514, 14.5642, 2.4)   # 10-m tile: 0.005-degree steps, printed with 3 decimals
    assert ticks.tolist() == [14.555, 14.56] and dec == 3
    ticks, dec = grid_ticks(45.8659, 45.8749, 1.7, vertical=True)
    assert len(ticks) >= 4 and dec == 3
    with pytest.raises(ValueError, match="empty range"):
        grid_ticks(3.0, 3.0, 1.0)
