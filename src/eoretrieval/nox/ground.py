"""Ground-based NO2 columns at a few sites, and the air-mass-factor bias they reveal.

Every world multiplies all its satellite columns by :math:`1 + \\beta` (:mod:`eoretrieval.nox.tropomi_operator`),
and no method can separate that bias from the emission level with the columns alone (:mod:`eoretrieval.nox.levels`).
In reality the bias is measured: TROPOMI's tropospheric NO2 columns are validated against ground-based MAX-DOAS and
Pandora instruments, which see the same tropospheric column with their own, independent calibration. This module
adds such a network to the OSSE.

A site at the cell :math:`i` reports, on day :math:`t`, the world's noise-free NO2 column of its cell (the
``no2_column_true`` of the world, background included) times two multiplicative errors,

.. math::

    g_{st} = c_{i(s)t}\\,e^{r_s}\\,e^{\\epsilon_{st}},\\qquad r_s \\sim N(0, \\sigma_{site}^2),\\quad
    \\epsilon_{st} \\sim N(0, \\sigma_{day}^2),

:math:`r_s` fixed per site (a point measurement is not the mean of a 25 km cell, and the instrument has its own
calibration), :math:`\\epsilon_{st}` per day. The bias estimate is a mean over sites of each site's median log ratio
of the satellite column to the ground column on the days the satellite sees the cell,

.. math::

    \\hat\\beta = \\exp\\Big(\\frac{1}{S} \\sum_s \\operatorname{median}_t \\log \\frac{y_{i(s)t}}{g_{st}}\\Big) - 1,

and the calibrated columns are :math:`y / (1 + \\hat\\beta)` (:func:`calibrate_columns`), which every column
method then reads as it reads the raw ones. The daily error averages away over the coincident days; the site error
does not, so :math:`\\hat\\beta` keeps an error of about :math:`\\sigma_{site}/\\sqrt{S}` (:func:`sensitivity`
measures it by simulation).

The default sites (:data:`SITES`) are places in the study domain where MAX-DOAS columns have been measured for
years (Beijing, Xianghe, Hefei, Nanjing, Shanghai); the OSSE uses them as plausible locations, not as data.

Public names: :data:`SITES`, :func:`sites_inside`, :func:`site_series`, :func:`simulate_ground`, :func:`estimate_amf_bias`,
:func:`calibrate_columns`, :func:`ground_calibration`, :func:`sensitivity`, :func:`calibration_response`,
:func:`summarise`, :func:`largest_site_error`, :func:`why_unusable`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from ..conventions import TIME
from ..errors import DataError
from .levels import mean_abs_rel_err

__all__ = ["SITES", "sites_inside", "site_series", "simulate_ground", "estimate_amf_bias", "calibrate_columns",
           "ground_calibration", "sensitivity", "calibration_response", "summarise", "largest_site_error",
           "why_unusable"]

#: Ground-based NO2-column sites (name: latitude, longitude in degrees), all inside the ci domain (28-44 N, 108-124 E).
SITES: dict[str, tuple[float, float]] = {
    "Beijing": (39.98, 116.38), "Xianghe": (39.75, 116.96), "Hefei": (31.91, 117.16),
    "Nanjing": (32.06, 118.78), "Shanghai": (31.30, 121.50),
}

_UNITS = "mol m-2"


def _name(world: xr.Dataset) -> str:
    return str(world.attrs.get("title", "NOx world")) + f" (seed {world.attrs.get('seed', '?')})"


def sites_inside(world: xr.Dataset, sites: dict | None = None) -> dict:
    """The sites of ``sites`` (default :data:`SITES`) whose position lies inside the world's grid."""
    sites = SITES if sites is None else sites
    lat, lon = world["lat"].values, world["lon"].values
    half = 0.5 * abs(float(lat[1] - lat[0])) if lat.size > 1 else 0.5
    return {s: (la, lo) for s, (la, lo) in sites.items()
            if lat.min() - half <= la <= lat.max() + half and lon.min() - half <= lo <= lon.max() + half}


def why_unusable(world: xr.Dataset, sites: dict | None = None) -> str | None:
    """Why a world cannot be ground-calibrated (no site inside its grid; no noise-free column to simulate the sites
    from), or None when it can. A caller lists such worlds instead of dropping them."""
    if not sites_inside(world, sites):
        return "no ground site inside its domain"
    if "no2_column_true" not in world:
        return "no noise-free column (no2_column_true) to simulate the sites from"
    return None


def site_series(world: xr.Dataset, days, sites: dict | None = None) -> xr.Dataset:
    """The satellite and true NO2 columns of each site's cell on ``days``, dims (site, time).

    Parameters
    ----------
    world : xr.Dataset
        A world of :func:`eoretrieval.nox.make_nox_world` (needs ``no2_column``, ``valid`` and ``no2_column_true``
        in mol m-2).
    days : sequence of dates
    sites : dict, optional
        name -> (lat, lon); default :data:`SITES`.

    Returns
    -------
    xr.Dataset
        ``no2_column`` (NaN where the satellite did not observe the cell), ``no2_column_true``; attributes ``seed``
        and ``amf_bias`` of the world where it has them.

    Raises
    ------
    DataError
        A variable missing or not in mol m-2, or a site outside the world's grid (named with the grid's extent).
    """
    sites = SITES if sites is None else sites
    name = _name(world)
    for v in ("no2_column", "valid", "no2_column_true"):
        if v not in world:
            raise DataError(f"{name}: no variable {v!r}; expected a world made by eoretrieval.nox.make_nox_world")
    for v in ("no2_column", "no2_column_true"):
        if world[v].attrs.get("units") != _UNITS:
            raise DataError(f"{name}: {v} in {world[v].attrs.get('units')!r}, expected {_UNITS!r}")
    if not sites:
        raise ValueError("site_series: no sites")
    lat, lon = world["lat"].values, world["lon"].values
    half = 0.5 * abs(float(lat[1] - lat[0])) if lat.size > 1 else 0.5
    iy, ix = [], []
    for s, (la, lo) in sites.items():
        j, k = int(np.abs(lat - la).argmin()), int(np.abs(lon - lo).argmin())
        if abs(lat[j] - la) > half + 1e-9 or abs(lon[k] - lo) > half + 1e-9:
            raise DataError(f"{name}: site {s} ({la} N, {lo} E) lies outside the grid "
                            f"{lat.min() - half:g}-{lat.max() + half:g} N, {lon.min() - half:g}-{lon.max() + half:g} E; "
                            "expected sites inside the world's domain")
        iy.append(j)
        ix.append(k)
    days = pd.DatetimeIndex(days)
    sel = {TIME: days, "lat": xr.DataArray(iy, dims="site"), "lon": xr.DataArray(ix, dims="site")}
    sat = world["no2_column"].sel({TIME: days}).isel(lat=sel["lat"], lon=sel["lon"])
    ok = world["valid"].sel({TIME: days}).isel(lat=sel["lat"], lon=sel["lon"]) > 0
    true = world["no2_column_true"].sel({TIME: days}).isel(lat=sel["lat"], lon=sel["lon"])
    out = xr.Dataset({"no2_column": sat.where(ok).transpose("site", TIME).drop_vars(["lat", "lon"]),
                      "no2_column_true": true.transpose("site", TIME).drop_vars(["lat", "lon"])},
                     coords={"site": list(sites), "site_lat": ("site", [v[0] for v in sites.values()]),
                             "site_lon": ("site", [v[1] for v in sites.values()])})
    for v in out.data_vars:
        out[v].attrs["units"] = _UNITS
    out.attrs = {k: world.attrs[k] for k in ("seed", "amf_bias") if k in world.attrs}
    out.attrs["source"] = name
    return out


def simulate_ground(series: xr.Dataset, *, site_error: float = 0.15, daily_error: float = 0.15,
                    seed: int = 0) -> xr.DataArray:
    """Ground-based columns (site, time) of the sites of ``series`` (see the module text), in mol m-2.

    The draws depend on ``seed`` and on the world's seed, so two worlds never share their site errors.
    """
    if site_error < 0 or daily_error < 0:
        raise ValueError(f"simulate_ground: errors must be >= 0, got site_error={site_error}, daily_error={daily_error}")
    true = series["no2_column_true"]
    rng = np.random.default_rng(np.random.SeedSequence([int(series.attrs.get("seed", 0)) & 0xFFFFFFFF, int(seed), 4217]))
    n_site, n_day = true.shape
    r = site_error * rng.standard_normal(n_site)
    e = daily_error * rng.standard_normal((n_site, n_day))
    g = true.values * np.exp(r[:, None] + e)
    return xr.DataArray(g, dims=true.dims, coords=true.coords,
                        attrs={"units": _UNITS, "long_name": "ground-based tropospheric NO2 column (simulated)",
                               "site_error": float(site_error), "daily_error": float(daily_error)})


def estimate_amf_bias(series: xr.Dataset, ground: xr.DataArray, *, min_coincidences: int = 5) -> dict:
    """The bias estimate :math:`\\hat\\beta` of the module text from the satellite columns of ``series``.

    Sites with fewer than ``min_coincidences`` days on which both see a positive column are left out and listed.

    Returns
    -------
    dict
        ``beta_hat``; ``sites_used``, ``sites_left_out`` ({name: coincident days}); ``per_site`` ({name: {"n",
        "median_log_ratio"}}).

    Raises
    ------
    DataError
        If the ground columns are not in mol m-2 or do not match the series' sites and days, or no site has enough
        coincident days.
    """
    src = series.attrs.get("source", "site series")
    if ground.attrs.get("units") != _UNITS:
        raise DataError(f"{src}: ground columns in {ground.attrs.get('units')!r}, expected {_UNITS!r}")
    sat = series["no2_column"]
    if ground.shape != sat.shape or list(ground["site"].values) != list(sat["site"].values):
        raise DataError(f"{src}: ground columns of shape {ground.shape} and sites {list(ground['site'].values)}; "
                        f"expected the series' {sat.shape} and {list(sat['site'].values)}")
    y, g = sat.values, ground.values
    both = np.isfinite(y) & np.isfinite(g) & (y > 0) & (g > 0)
    per_site, used, left = {}, [], {}
    for k, s in enumerate(sat["site"].values):
        n = int(both[k].sum())
        if n < min_coincidences:
            left[str(s)] = n
            continue
        m = float(np.median(np.log(y[k, both[k]] / g[k, both[k]])))
        per_site[str(s)] = {"n": n, "median_log_ratio": m}
        used.append(str(s))
    if not used:
        raise DataError(f"{src}: no site has {min_coincidences} days with both a satellite and a ground column "
                        f"(coincident days: {left}); expected more observed days")
    beta_hat = float(np.exp(np.mean([per_site[s]["median_log_ratio"] for s in used])) - 1.0)
    return {"beta_hat": beta_hat, "sites_used": used, "sites_left_out": left, "per_site": per_site}


def calibrate_columns(world: xr.Dataset, beta_hat: float) -> xr.Dataset:
    """A copy of ``world`` whose satellite columns and their precision are divided by ``1 + beta_hat``.

    Everything else is shared with ``world`` (not copied); the attribute ``ground_calibration_beta_hat`` records the
    factor. Refuses a world already calibrated and a factor that is not positive.
    """
    if "ground_calibration_beta_hat" in world.attrs:
        raise ValueError(f"{_name(world)}: already calibrated (beta_hat "
                         f"{world.attrs['ground_calibration_beta_hat']}); expected raw columns")
    f = 1.0 + float(beta_hat)
    if not np.isfinite(f) or f <= 0:
        raise ValueError(f"calibrate_columns: 1 + beta_hat = {f}; expected a positive factor")
    out = world.copy(deep=False)
    for v in ("no2_column", "no2_column_precision"):
        if v in out:
            out[v] = (world[v] / f).astype(world[v].dtype).assign_attrs(world[v].attrs)
    out.attrs = {**world.attrs, "ground_calibration_beta_hat": float(beta_hat)}
    return out


def ground_calibration(world: xr.Dataset, days, *, sites: dict | None = None, site_error: float = 0.15,
                       daily_error: float = 0.15, seed: int = 0, min_coincidences: int = 5) -> tuple[xr.Dataset, dict]:
    """Simulate the ground network on ``days``, estimate the bias and return the calibrated world with a record.

    Returns
    -------
    (calibrated world, record)
        The record is :func:`estimate_amf_bias`'s with ``amf_bias`` (the world's, when it has it), ``log_error``
        (:math:`\\log\\frac{1+\\hat\\beta}{1+\\beta}`), ``site_error``, ``daily_error`` and ``n_days``.
    """
    ser = site_series(world, days, sites)
    rec = estimate_amf_bias(ser, simulate_ground(ser, site_error=site_error, daily_error=daily_error, seed=seed),
                            min_coincidences=min_coincidences)
    rec.update(site_error=float(site_error), daily_error=float(daily_error), n_days=int(ser.sizes[TIME]))
    if "amf_bias" in world.attrs:
        b = float(world.attrs["amf_bias"])
        rec.update(amf_bias=b, log_error=float(np.log((1 + rec["beta_hat"]) / (1 + b))))
    return calibrate_columns(world, rec["beta_hat"]), rec


def sensitivity(series: list[xr.Dataset], *, site_errors=(0.0, 0.05, 0.1, 0.15, 0.2, 0.3), n_sites=(1, 3, 5),
                daily_error: float = 0.15, n_draws: int = 20, ratios: dict | None = None, response: dict | None = None,
                seed: int = 0) -> pd.DataFrame:
    """How well a ground network pins the bias, by simulation over worlds, site errors and network sizes.

    Parameters
    ----------
    series : list of xr.Dataset
        :func:`site_series` of several worlds (each with its ``amf_bias`` attribute).
    site_errors, n_sites : sequences
        The settings; each draw takes a random subset of ``n`` of a world's sites.
    ratios : dict, optional
        method -> per world, the method's monthly domain-total ratios to the truth from the raw columns
        (:func:`eoretrieval.nox.levels.level_record`); the table adds, per method, the mean absolute monthly error
        after dividing those ratios by ``(1 + beta_hat) ** k`` (``total_abs_rel_err_<method>``), with ``k`` the
        method's ``response``.
    response : dict, optional
        method -> how far its totals follow a calibration of the columns (:func:`calibration_response`; 1, the
        default, for an estimate linear in the columns).

    Returns
    -------
    pd.DataFrame
        One row per (site_error, n_sites): ``rms_log_error`` and ``mean_abs_log_error`` of
        :math:`\\log\\frac{1+\\hat\\beta}{1+\\beta}` over worlds and draws, the errors of ``ratios``, and
        ``n_draws`` (draws per world).
    """
    ratios = {} if ratios is None else ratios
    response = {m: float((response or {}).get(m, 1.0)) for m in ratios}
    for m, r in ratios.items():
        if len(r) != len(series):
            raise ValueError(f"sensitivity: {len(r)} ratio lists of {m} for {len(series)} worlds")
    for k, ser in enumerate(series):
        if "amf_bias" not in ser.attrs:
            raise ValueError(f"sensitivity: series {k} ({ser.attrs.get('source', '?')}) has no 'amf_bias' attribute")
    rows = []
    for se in site_errors:
        for n in n_sites:
            errs, tot = [], {m: [] for m in ratios}
            for k, ser in enumerate(series):
                if n > ser.sizes["site"]:
                    raise ValueError(f"sensitivity: {n} sites asked, {ser.attrs.get('source', '?')} has {ser.sizes['site']}")
                pick = np.random.default_rng([int(seed), k, n, int(round(1000 * se))])
                b = float(ser.attrs["amf_bias"])
                for d in range(n_draws):
                    sub = ser.isel(site=np.sort(pick.choice(ser.sizes["site"], n, replace=False)))
                    g = simulate_ground(sub, site_error=se, daily_error=daily_error, seed=int(seed) * 100_003 + d)
                    bh = estimate_amf_bias(sub, g)["beta_hat"]
                    errs.append(np.log((1 + bh) / (1 + b)))
                    for m, r in ratios.items():
                        tot[m].extend(np.abs(np.asarray(r[k], dtype=float) / (1 + bh) ** response[m] - 1.0).tolist())
            row = {"site_error": float(se), "n_sites": int(n), "rms_log_error": float(np.sqrt(np.mean(np.square(errs)))),
                   "mean_abs_log_error": float(np.mean(np.abs(errs))), "n_draws": int(n_draws)}
            row.update({f"total_abs_rel_err_{m}": float(np.mean(v)) for m, v in tot.items()})
            rows.append(row)
    return pd.DataFrame(rows)


def calibration_response(raw: list[dict], calibrated: list[dict], beta_hat) -> dict[str, float]:
    """How much each method's level follows a calibration of its columns.

    With :math:`x_w = -\\log(1 + \\hat\\beta_w)` (the log factor applied to world :math:`w`'s columns) and
    :math:`y_w` the mean over months of the log ratio of the method's calibrated to its raw monthly totals, the
    least-squares slope through the origin :math:`\\sum x y / \\sum x^2`: 1 for an estimate linear in the columns,
    0 for one that ignores their level.

    Parameters
    ----------
    raw, calibrated : lists of :func:`eoretrieval.nox.levels.level_record` of the same worlds, from the raw and the
        calibrated columns.
    beta_hat : sequence of float, one per world.
    """
    if not (len(raw) == len(calibrated) == len(beta_hat)) or not raw:
        raise ValueError(f"calibration_response: {len(raw)} raw, {len(calibrated)} calibrated records and "
                         f"{len(beta_hat)} estimates; expected the same number (> 0)")
    x = -np.log1p(np.asarray(beta_hat, dtype=float))
    if not np.any(x != 0):
        raise ValueError("calibration_response: every beta_hat is 0; no calibration to respond to")
    out = {}
    for m in raw[0]["ratios"]:
        y = np.array([np.mean(np.log(np.asarray(c["ratios"][m], float) / np.asarray(r["ratios"][m], float)))
                      for r, c in zip(raw, calibrated)])
        out[m] = float(np.sum(x * y) / np.sum(x * x))
    return out


def summarise(raw: list[dict], grounded: list[dict], methods) -> dict:
    """Scores of a set of worlds with and without the ground-based calibration.

    Parameters
    ----------
    raw : list of :func:`eoretrieval.nox.levels.level_record` from the raw columns, one per world of ``grounded``
        (same order).
    grounded : list of ``{"record": <ground_calibration record>, "level": <level_record from calibrated columns>}``.
    methods : the methods to score.

    Returns
    -------
    dict
        ``n_worlds``; ``rms_log_error`` of the bias estimates; ``per_world`` (seed, amf_bias, beta_hat, sites_used);
        ``mean_abs_err_raw`` and ``mean_abs_err_ground`` per method (:func:`eoretrieval.nox.levels.mean_abs_rel_err`).
    """
    if len(raw) != len(grounded) or not raw:
        raise ValueError(f"summarise: {len(raw)} raw records for {len(grounded)} calibrated worlds; expected the same (> 0)")
    bad = [(r["seed"], g["level"]["seed"]) for r, g in zip(raw, grounded) if r["seed"] != g["level"]["seed"]]
    if bad:
        raise ValueError(f"summarise: raw and calibrated records of different worlds (seeds {bad[:3]})")
    recs = [g["record"] for g in grounded]
    return {"n_worlds": len(grounded),
            "rms_log_error": float(np.sqrt(np.mean([r["log_error"] ** 2 for r in recs]))),
            "per_world": [{"seed": g["level"]["seed"], "amf_bias": g["record"]["amf_bias"],
                           "beta_hat": g["record"]["beta_hat"], "sites_used": g["record"]["sites_used"]}
                          for g in grounded],
            "mean_abs_err_raw": {m: mean_abs_rel_err(raw, m) for m in methods},
            "mean_abs_err_ground": {m: mean_abs_rel_err([g["level"] for g in grounded], m) for m in methods}}


def largest_site_error(table: pd.DataFrame, method: str, threshold: float, *, n_sites: int | None = None) -> float | None:
    """The largest site error of a :func:`sensitivity` table at which ``method``'s mean absolute monthly total error
    is at most ``threshold``, for networks of ``n_sites`` (default: the table's largest); None if there is none."""
    col = f"total_abs_rel_err_{method}"
    if col not in table:
        raise ValueError(f"largest_site_error: the table has no column {col!r}; it scored {list(table.columns)}")
    n = int(table["n_sites"].max()) if n_sites is None else int(n_sites)
    ok = table[(table["n_sites"] == n) & (table[col] <= threshold)]
    return float(ok["site_error"].max()) if len(ok) else None
