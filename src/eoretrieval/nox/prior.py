"""Trivial references: the climatological prior and "column x constant".

- :func:`prior_emission`: the inventory the world was given (``world.prior_emission``: base-year
  pattern x seasonal cycle x static error; no trend, no weekly cycle, no daily variability).
- :func:`column_scaling`: :math:`\\hat E = a\\,(\\mathrm{NO_2} - b)` with one constant
  :math:`a` (s-1) fitted by least squares on the *training* days only (observed cells),
  :math:`a = \\sum y' E / \\sum y'^2`; unobserved cells are gap-filled first as in the flux-divergence
  method.

- :func:`memorisation`: the training-period mean of the *true* emission map, with no observation at all. A
  network that has memorised one source map scores about as well as this; every table carries it as the null
  baseline a retrieval must beat.

Public names: :func:`prior_emission`, :func:`column_scaling`, :func:`fit_column_scale`, :func:`memorisation`.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from eoretrieval.nox._common import check_units, emission_array, fill_gaps, select_days

__all__ = ["prior_emission", "column_scaling", "fit_column_scale", "memorisation"]


def prior_emission(world: xr.Dataset, days=None) -> xr.DataArray:
    """The climatological prior on the selected days (mol m-2 s-1), dims (time, lat, lon)."""
    check_units(world["prior_emission"], "prior_emission", "mol m-2 s-1")
    out = select_days(world, days)["prior_emission"].copy()
    out.attrs = {**out.attrs, "method": "prior (climatological inventory)"}
    return out


def fit_column_scale(world: xr.Dataset, *, train_days="train", background: float | None = None) -> float:
    """Least-squares constant a (s-1) such that E ~ a (NO2 - b) on the observed cells of the training days."""
    w = select_days(world, train_days)
    check_units(w["no2_column"], "no2_column", "mol m-2")
    check_units(w["emission"], "emission", "mol m-2 s-1")
    b = float(world.attrs.get("no2_background_mol_m2", 0.0)) if background is None else float(background)
    y = w["no2_column"].values.astype(float) - b
    e = w["emission"].values.astype(float)
    ok = np.isfinite(y)
    return float(np.sum(y[ok] * e[ok]) / np.sum(y[ok] ** 2))


def column_scaling(world: xr.Dataset, days=None, *, train_days="train", background: float | None = None,
                   fill_sigma: float = 1.5) -> xr.DataArray:
    """Estimate emissions as a constant times the background-corrected NO2 column.

    Parameters
    ----------
    world : xr.Dataset
        NOx world.
    days
        Days to estimate (see :func:`eoretrieval.nox._common.select_days`).
    train_days
        Days on which the constant is fitted (default: the world's training split).
    background : float, optional
        NO2 background (mol m-2); default the world's ``no2_background_mol_m2``.
    fill_sigma : float
        Gap-filling kernel width (cells).

    Returns
    -------
    xr.DataArray
        Emission (mol m-2 s-1), dims (time, lat, lon); attrs ``scale_s-1``.
    """
    a = fit_column_scale(world, train_days=train_days, background=background)
    b = float(world.attrs.get("no2_background_mol_m2", 0.0)) if background is None else float(background)
    w = select_days(world, days)
    y = w["no2_column"].values.astype(float) - b
    out = np.stack([fill_gaps(y[i], np.isfinite(y[i]), sigma=fill_sigma) for i in range(y.shape[0])]) * a
    return emission_array(out, w["no2_column"], long_name="NOx emission, column x constant",
                          method="column_scaling", **{"scale_s-1": a})


def memorisation(world: xr.Dataset, days=None, *, train_days="train") -> xr.DataArray:
    """The memorisation baseline: the mean true emission over ``train_days``, the same map on every selected day.

    Parameters
    ----------
    world : xr.Dataset
        NOx world (``emission``, mol m-2 s-1).
    days
        Days to estimate (see :func:`eoretrieval.nox._common.select_days`); nothing of these days is used.
    train_days
        Days whose true emissions are averaged (default: the world's training split).

    Returns
    -------
    xr.DataArray
        (time, lat, lon), mol m-2 s-1.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.date_range("2019-01-01", periods=4)
    >>> w = xr.Dataset({"emission": (("time", "lat", "lon"), np.arange(4.0).reshape(4, 1, 1), {"units": "mol m-2 s-1"})},
    ...                coords={"time": t, "lat": [30.0], "lon": [110.0]})
    >>> memorisation(w, "2019-01-03/2019-01-04", train_days="2019-01-01/2019-01-02").values.ravel().tolist()
    [0.5, 0.5]
    """
    check_units(world["emission"], "emission", "mol m-2 s-1")
    mean = select_days(world, train_days)["emission"].mean("time")
    sel = select_days(world, days)["emission"]
    out = mean.broadcast_like(sel).transpose(*sel.dims)
    return emission_array(out.values, sel, long_name="NOx emission, memorisation baseline (training-period mean truth)",
                          method="memorisation (training-period mean of the true map; no observation)")
