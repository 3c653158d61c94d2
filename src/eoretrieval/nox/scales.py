"""Emission estimates aggregated to the scales their users read: coarse monthly maps, source-integrated totals
around the largest sources (as Beirle et al. use flux divergence), and regional totals.

A per-cell daily RMSE rewards smooth maps and punishes methods, such as flux divergence, that are only claimed to
be right once integrated in space and time :cite:`beirle2019`. These functions give every method the same
aggregation before it is scored.

Public names: :func:`cell_area`, :func:`coarsen_monthly`, :func:`source_boxes`, :func:`box_totals`,
:func:`source_totals_error`, :func:`regional_totals`, :func:`monthly_domain_totals`, :func:`fill_gaps`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr

from ..conventions import LAT, LON, TIME
from ..errors import DataError
from ..io.checks import require_units

__all__ = ["cell_area", "coarsen_monthly", "source_boxes", "box_totals", "source_totals_error", "regional_totals",
           "monthly_domain_totals", "fill_gaps"]

EARTH_RADIUS = 6.371e6  #: m


def cell_area(da: xr.DataArray) -> xr.DataArray:
    """Area (m2) of the cells of a regular latitude/longitude grid, dims (lat, lon)."""
    lat, lon = da[LAT].values, da[LON].values
    if lat.size < 2 or lon.size < 2:
        raise DataError(f"{da.name}: a grid of at least 2 x 2 cells is needed, got {lat.size} x {lon.size}")
    h = np.radians(lat[1] - lat[0]) / 2
    band = EARTH_RADIUS**2 * np.radians(lon[1] - lon[0]) * (np.sin(np.radians(lat) + h) - np.sin(np.radians(lat) - h))
    return xr.DataArray(np.repeat(band[:, None], lon.size, axis=1), dims=(LAT, LON),
                        coords={LAT: da[LAT], LON: da[LON]}, attrs={"units": "m2", "long_name": "cell area"})


def monthly_domain_totals(emission: xr.DataArray) -> xr.DataArray:
    """Each calendar month's mean of the daily domain totals (emission x cell area, summed over the grid) of a
    (time, lat, lon) field; months without a day are dropped."""
    return (emission * cell_area(emission)).sum((LAT, LON)).resample({TIME: "MS"}).mean().dropna(TIME)


def coarsen_monthly(emission: xr.DataArray, *, factor: int, monthly: bool = True) -> xr.DataArray:
    """Area-weighted mean over blocks of ``factor`` x ``factor`` cells, then calendar-month means.

    With 0.25 degree cells, ``factor=4`` gives 1 degree. Cells beyond a whole number of blocks are dropped
    (``boundary="trim"``). Units are kept.

    Examples
    --------
    >>> import pandas as pd
    >>> e = xr.DataArray(np.ones((2, 4, 4)), dims=("time", "lat", "lon"), attrs={"units": "mol m-2 s-1"},
    ...                  coords={"time": pd.date_range("2022-01-31", periods=2), "lat": [30.0, 30.25, 30.5, 30.75],
    ...                          "lon": [110.0, 110.25, 110.5, 110.75]})
    >>> coarsen_monthly(e, factor=2).shape
    (2, 2, 2)
    """
    area = cell_area(emission)
    blocks = {LAT: int(factor), LON: int(factor)}
    num = (emission * area).coarsen(blocks, boundary="trim").sum()
    den = area.coarsen(blocks, boundary="trim").sum()
    out = num / den
    if monthly and TIME in out.dims:
        out = out.resample({TIME: "MS"}).mean()
    return out.assign_attrs(units=emission.attrs.get("units", ""), long_name="area-weighted block mean"
                            + (", monthly mean" if monthly else ""))


def source_boxes(truth: xr.DataArray, *, n: int = 20, halfwidth: int = 2) -> xr.DataArray:
    """Label the ``n`` largest sources of the time-mean ``truth`` with non-overlapping boxes of cells.

    Greedy: the cell with the largest mean emission is the first source and its (2 halfwidth + 1)^2 box is taken;
    the next source is the largest cell outside every box taken so far, and so on (boxes are clipped at the edge).

    Returns
    -------
    xr.DataArray
        int (lat, lon): the source index 0..n-1 of the box a cell belongs to, -1 outside every box.
    """
    mean = truth.mean(TIME) if TIME in truth.dims else truth
    values = mean.transpose(LAT, LON).values.astype(float)
    labels = np.full(values.shape, -1, dtype=int)
    free = np.isfinite(values)
    for k in range(n):
        if not free.any():
            raise DataError(f"{truth.name}: only {k} non-overlapping source boxes fit in the grid; asked for {n}")
        i, j = np.unravel_index(np.argmax(np.where(free, values, -np.inf)), values.shape)
        box = (slice(max(i - halfwidth, 0), i + halfwidth + 1), slice(max(j - halfwidth, 0), j + halfwidth + 1))
        labels[box] = np.where(labels[box] < 0, k, labels[box])
        free[box] = False
    return xr.DataArray(labels, dims=(LAT, LON), coords={LAT: mean[LAT], LON: mean[LON]},
                        attrs={"long_name": f"box of each of the {n} largest sources", "halfwidth_cells": halfwidth})


def box_totals(emission: xr.DataArray, labels: xr.DataArray) -> xr.DataArray:
    """Area-integrated emission (mol s-1) in each labelled box, of the time mean, dims (source,).

    Raises
    ------
    DataError
        If ``emission`` is not in mol m-2 s-1.
    """
    require_units(emission, "mol m-2 s-1", source="box_totals")
    mean = emission.mean(TIME) if TIME in emission.dims else emission
    flux = (mean * cell_area(emission)).transpose(LAT, LON).values
    lab = labels.transpose(LAT, LON).values
    n = int(lab.max()) + 1
    totals = np.array([np.nansum(flux[lab == k]) for k in range(n)])
    return xr.DataArray(totals, dims=("source",), coords={"source": np.arange(n)},
                        attrs={"units": "mol s-1", "long_name": "period-mean emission integrated over the source box"})


def source_totals_error(pred: xr.DataArray, truth: xr.DataArray, *, n: int = 20, halfwidth: int = 2) -> dict:
    """Relative errors of the period-mean totals around the ``n`` largest true sources (Beirle et al. style).

    Returns
    -------
    dict
        ``abs_rel_err`` (mean over sources of abs(pred/truth - 1)), ``rel_err_of_sum`` (error of the summed total),
        ``rel_err`` (list, per source, largest first).
    """
    labels = source_boxes(truth, n=n, halfwidth=halfwidth)
    p, t = box_totals(pred, labels), box_totals(truth, labels)
    rel = (p / t - 1.0).values
    return {"abs_rel_err": float(np.mean(np.abs(rel))), "rel_err_of_sum": float(p.sum() / t.sum() - 1.0),
            "rel_err": [float(r) for r in rel]}


def regional_totals(emission: xr.DataArray, regions: Mapping[str, tuple[float, float, float, float]]) -> xr.DataArray:
    """Area-integrated emission (mol s-1) of each region ``(lat0, lat1, lon0, lon1)`` (cell centres inside), per time.

    Returns
    -------
    xr.DataArray
        dims (region, ...) with the non-spatial dims of ``emission``; units mol s-1.

    Raises
    ------
    DataError
        Wrong units, or a region that contains no cell of the grid.
    """
    require_units(emission, "mol m-2 s-1", source="regional_totals")
    flux = emission * cell_area(emission)
    out = []
    for name, (lat0, lat1, lon0, lon1) in regions.items():
        inside = ((emission[LAT] >= lat0) & (emission[LAT] <= lat1)) & ((emission[LON] >= lon0) & (emission[LON] <= lon1))
        if not bool(inside.any()):
            raise DataError(f"region {name!r} {(lat0, lat1, lon0, lon1)} contains no cell of the grid "
                            f"({float(emission[LAT].min())}-{float(emission[LAT].max())} N, "
                            f"{float(emission[LON].min())}-{float(emission[LON].max())} E)")
        out.append(flux.where(inside).sum((LAT, LON)))
    return xr.concat(out, dim=xr.DataArray(list(regions), dims="region", name="region")).assign_attrs(
        units="mol s-1", long_name="regional total emission")


def fill_gaps(estimate: xr.DataArray) -> xr.DataArray:
    """A flux-divergence estimate with its gaps filled: a cell never observed on a day takes the method's own mean
    over the days given (Beirle et al. average over time), and 0 where it was never observed at all."""
    return estimate.fillna(estimate.mean(TIME)).fillna(0.0).assign_attrs(estimate.attrs)
