"""Meteorological normalisation ("deweathering") of station NO2, trends, holiday effects, station cross-validation.

The established practice :cite:`grange2018,vu2019`: a tree ensemble learns concentration from weather
(temperature, dew point, pressure, rain, wind speed and components) and calendar (time since start, day of
year, day of week); the *deweathered* series is the model's prediction with the calendar kept and the weather
re-drawn many times from the same season of any year (:func:`deweather`). Its trend is what emissions did.

Daily means are modelled (hourly means of the local day, or of chosen hours such as the 13-14 h local overpass
window, :func:`daily_means`); a day needs ``min_hours`` valid hours.

- :func:`cycles` — diurnal, weekly and seasonal cycles of hourly NO2;
- :func:`daily_means` — daily table (site, time) of NO2 and weather;
- :func:`fit_model`, :func:`deweather` — per-station normalisation;
- :func:`trend_pct` — percentage change over the record of a (deweathered) series, with a moving-block
  bootstrap CI on deseasonalised monthly means;
- :func:`holiday_effect` — Chinese-New-Year effect against a business-as-usual model trained without the
  holiday season :cite:`grange2021`, holiday week vs surrounding weeks, block-bootstrap CI;
- :func:`leave_one_station_out` — pooled model trained on all stations but one, scored on that one (R, RMSE, bias).

Public names: those above, :func:`block_bootstrap_index`, :data:`FEATURES`, :data:`CHINESE_NEW_YEAR`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr
from sklearn.ensemble import HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits

from ..errors import DataError

__all__ = ["FEATURES", "MET_FEATURES", "CALENDAR_FEATURES", "CHINESE_NEW_YEAR", "cycles", "daily_means",
           "feature_table", "fit_model", "deweather", "trend_pct", "holiday_effect", "leave_one_station_out",
           "weekly_amplitude", "winter_summer_ratio", "weekly_cycle", "block_bootstrap_index"]

MET_FEATURES = ("temp", "dewp", "pres", "rain", "wspd", "u", "v")
CALENDAR_FEATURES = ("trend", "doy", "dow")
FEATURES = MET_FEATURES + CALENDAR_FEATURES

#: first day of the lunar new year (Spring Festival), Beijing
CHINESE_NEW_YEAR = {2014: "2014-01-31", 2015: "2015-02-19", 2016: "2016-02-08", 2017: "2017-01-28"}


def _check_no2(ds: xr.Dataset) -> None:
    if "no2" not in ds:
        raise DataError(f"{ds.attrs.get('source_file', '<dataset>')}: no variable 'no2'")
    if ds["no2"].attrs.get("units") != "ug m-3":
        raise DataError(f"variable 'no2' has units {ds['no2'].attrs.get('units')!r}, expected 'ug m-3'")


def cycles(no2: xr.DataArray) -> xr.Dataset:
    """Return the diurnal, weekly and seasonal cycles of hourly NO2 (mean over all years and, if present, sites).

    Returns
    -------
    xr.Dataset
        ``diurnal(hour)``, ``weekly(dayofweek)`` (0 = Monday), ``seasonal(month)``, units as the input;
        a ``site`` dim is kept if present.
    """
    units = no2.attrs.get("units", "")
    out = xr.Dataset()
    for name, key in (("diurnal", "hour"), ("weekly", "dayofweek"), ("seasonal", "month")):
        out[name] = no2.groupby(f"time.{key}").mean("time").assign_attrs(units=units)
    return out


def weekly_amplitude(weekly: xr.DataArray) -> float:
    """(max - min) / mean of a weekly cycle (7 values), a dimensionless fraction."""
    w = np.asarray(weekly, float)
    return float((w.max() - w.min()) / w.mean())


def winter_summer_ratio(series: xr.DataArray) -> float:
    """Mean over December-February divided by the mean over June-August."""
    m = series["time"].dt.month
    return float(series.where(m.isin([12, 1, 2])).mean() / series.where(m.isin([6, 7, 8])).mean())


def daily_means(ds: xr.Dataset, *, hours: Sequence[int] | None = None, min_hours: int | None = None) -> xr.Dataset:
    """Average hourly station data to daily values (local days).

    Parameters
    ----------
    ds : xr.Dataset
        From :func:`eoretrieval.io.stations.read_beijing_stations`, dims ``(site, time)`` hourly.
    hours : sequence of int, optional
        Local hours to keep (e.g. ``(13, 14)`` for the TROPOMI overpass at about 13:30); default all.
    min_hours : int, optional
        Valid NO2 hours a day needs (default 18 of 24, or all of ``hours``).

    Returns
    -------
    xr.Dataset
        dims ``(site, time)`` daily: ``no2`` (ug m-3) and the weather (rain summed over the hours, scaled to 24 h).
    """
    _check_no2(ds)
    if hours is not None:
        ds = ds.sel(time=ds["time"].dt.hour.isin(list(hours)))
    n_per_day = 24 if hours is None else len(hours)
    need = min_hours if min_hours is not None else (18 if hours is None else n_per_day)
    day = ds["time"].dt.floor("D")
    g = ds.groupby(day.rename("day"))
    mean = g.mean("time", skipna=True)
    count = ds["no2"].notnull().groupby(day.rename("day")).sum("time")
    mean["no2"] = mean["no2"].where(count >= need)
    if "rain" in ds:
        mean["rain"] = g.sum("time", skipna=True)["rain"] * (24.0 / n_per_day)
    out = mean.rename(day="time")
    for v in out.data_vars:
        out[v].attrs = dict(ds[v].attrs)
    if "rain" in out:
        out["rain"].attrs.update(units="mm d-1", long_name="daily precipitation")
    out.attrs = {**ds.attrs, "hours": "all" if hours is None else ",".join(map(str, hours)), "min_hours": need}
    return out


def feature_table(daily: xr.Dataset, site: str | None = None, *, t0: np.datetime64 | None = None) -> pd.DataFrame:
    """Return the model's feature table (one row per day) of one site (or of a dataset without ``site``).

    ``trend`` is days since ``t0`` (default: the first day of ``daily``), ``doy`` day of year, ``dow`` day of
    week (0 = Monday); the weather is :data:`MET_FEATURES`. Column ``no2`` is the target.
    """
    d = daily.sel(site=site) if site is not None else daily
    t = pd.DatetimeIndex(d["time"].values)
    start = pd.Timestamp(t0 if t0 is not None else daily["time"].values[0])
    df = pd.DataFrame({v: d[v].values for v in MET_FEATURES}, index=t)
    df["trend"] = (t - start).days.astype(float)
    df["doy"] = t.day_of_year.astype(float)
    df["dow"] = t.day_of_week.astype(float)
    df["no2"] = d["no2"].values
    return df


def fit_model(table: pd.DataFrame, *, features: Sequence[str] = FEATURES, seed: int = 0,
              max_iter: int = 300) -> HistGradientBoostingRegressor:
    """Fit the gradient-boosted tree ensemble on the rows of ``table`` with valid NO2.

    The hyper-parameters are fixed a priori (learning rate 0.05, 31 leaves, at least 20 days per leaf,
    ``max_iter`` trees), not tuned on the evaluation data.
    """
    ok = table["no2"].notna()
    if ok.sum() < 50:
        raise DataError(f"fit_model: only {int(ok.sum())} valid days; need at least 50")
    model = HistGradientBoostingRegressor(learning_rate=0.05, max_iter=max_iter, max_leaf_nodes=31,
                                          min_samples_leaf=20, random_state=seed)
    model.fit(table.loc[ok, list(features)].to_numpy(), table.loc[ok, "no2"].to_numpy())
    model.feature_names_ = list(features)
    return model


def _normalise(model, table: pd.DataFrame, *, n_draws: int, window: int, rng: np.random.Generator) -> np.ndarray:
    """Average predictions with the weather of each day replaced by ``n_draws`` days of the same season."""
    met = table[list(MET_FEATURES)].to_numpy()
    okmet = np.isfinite(met).all(axis=1)
    doy = table["doy"].to_numpy()
    pool_idx = np.flatnonzero(okmet)
    cal = table[list(CALENDAR_FEATURES)].to_numpy()
    out = np.full(len(table), np.nan)
    # for each day: candidate days within +-window of day of year (circular), any year
    diff = np.abs(doy[pool_idx][None, :] - doy[:, None])
    diff = np.minimum(diff, 366 - diff)
    X = np.empty((len(table) * n_draws, len(FEATURES)))
    for i in range(len(table)):
        cand = pool_idx[diff[i] <= window]
        pick = rng.choice(cand, size=n_draws, replace=True)
        X[i * n_draws:(i + 1) * n_draws, :len(MET_FEATURES)] = met[pick]
        X[i * n_draws:(i + 1) * n_draws, len(MET_FEATURES):] = cal[i]
    pred = model.predict(X).reshape(len(table), n_draws)
    out[:] = pred.mean(axis=1)
    return out


def _one_thread(func):
    """Run ``func`` with one OpenMP/BLAS thread: tree ensembles on ~1e3-1e4 rows are many times slower
    with thread contention on a shared machine than single-threaded."""
    import functools

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with threadpool_limits(limits=1):
            return func(*args, **kwargs)

    return wrapper


@_one_thread
def deweather(daily: xr.Dataset, *, n_draws: int = 100, window: int = 15, seed: int = 0,
              max_iter: int = 300) -> xr.Dataset:
    """Meteorologically normalise daily NO2 at every site :cite:`grange2018,vu2019`.

    For each site a model ``no2 ~ f(weather, trend, doy, dow)`` is fitted on all valid days; the deweathered
    value of a day is the mean prediction over ``n_draws`` weather vectors drawn (with replacement) from days
    within ``window`` days of the same day of year in any year, with the calendar of that day.

    Returns
    -------
    xr.Dataset
        ``observed``, ``predicted`` (actual weather) and ``deweathered`` (site, time) in ug m-3; ``r2`` (site)
        in-sample fit; ``city`` (time): the mean deweathered series over the sites.
    """
    _check_no2(daily)
    rng = np.random.default_rng(seed)
    t0 = daily["time"].values[0]
    dew, pred, r2 = [], [], []
    for site in daily["site"].values:
        tab = feature_table(daily, str(site), t0=t0)
        model = fit_model(tab, seed=seed, max_iter=max_iter)
        X = tab[list(FEATURES)].to_numpy()
        p = model.predict(X)
        ok = tab["no2"].notna().to_numpy()
        r2.append(1 - np.mean((p[ok] - tab["no2"].to_numpy()[ok]) ** 2) / np.var(tab["no2"].to_numpy()[ok]))
        pred.append(p)
        dew.append(_normalise(model, tab, n_draws=n_draws, window=window, rng=rng))
    units = {"units": "ug m-3"}
    out = xr.Dataset({
        "observed": daily["no2"].assign_attrs(units="ug m-3", long_name="observed daily NO2"),
        "predicted": (("site", "time"), np.array(pred), {**units, "long_name": "model NO2 with actual weather"}),
        "deweathered": (("site", "time"), np.array(dew), {**units, "long_name": "meteorologically normalised NO2"}),
        "r2": ("site", np.array(r2), {"units": "1", "long_name": "in-sample coefficient of determination"}),
    }, coords={"site": daily["site"], "time": daily["time"]})
    out["city"] = out["deweathered"].mean("site").assign_attrs(units="ug m-3",
                                                                long_name="mean deweathered NO2 over stations")
    out.attrs.update(method="HistGradientBoosting, weather resampled within +-%d days of year" % window,
                     n_draws=n_draws, seed=seed)
    return out


def block_bootstrap_index(n: int, block: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of one moving-block bootstrap resample of ``n`` consecutive values (blocks of ``block``)."""
    starts = rng.integers(0, n - block + 1, size=int(np.ceil(n / block)))
    return np.concatenate([np.arange(s, s + block) for s in starts])[:n]


def trend_pct(series: xr.DataArray, *, n_boot: int = 1000, block: int = 3, level: float = 0.95,
              seed: int = 0) -> dict:
    """Percentage change over the record of a daily series, with a moving-block bootstrap interval.

    Monthly means are regressed on a straight line plus one offset per calendar month (least squares, so the
    seasonal cycle does not leak into the slope :math:`b`); the change is
    ``100 * b * (x_last - x_first) / L(x_first)`` with :math:`L(x) = \\bar y + b (x - \\bar x)` the
    deseasonalised level. The interval comes from refitting on the fitted values plus moving-block resampled
    residuals (``block`` months).

    Returns
    -------
    dict
        ``pct``, ``ci`` ([lo, hi]), ``slope_per_year`` (units of the series per year), ``n_months``, ``first``,
        ``last``.
    """
    monthly = series.resample(time="MS").mean()
    m = monthly.to_series().dropna()
    if len(m) < 24:
        raise DataError(f"trend_pct: only {len(m)} valid months; need at least 24")
    y = m.to_numpy(float)
    mid = m.index + pd.to_timedelta((m.index.days_in_month - 1) / 2, unit="D")  # a monthly mean sits mid-month
    x = (mid - m.index[0]).total_seconds().to_numpy() / (365.25 * 86400)
    months = m.index.month.to_numpy()
    design = np.column_stack([x] + [(months == k).astype(float) for k in range(1, 13) if (months == k).any()])

    def fit(values):
        coef = np.linalg.lstsq(design, values, rcond=None)[0]
        return coef, design @ coef

    def pct(values, b):
        level0 = values.mean() + b * (x[0] - x.mean())
        return 100.0 * b * (x[-1] - x[0]) / level0

    coef, fitted = fit(y)
    resid = y - fitted
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(n_boot):
        yb = fitted + resid[block_bootstrap_index(len(x), block, rng)]
        boots.append(pct(yb, fit(yb)[0][0]))
    alpha = (1 - level) / 2
    return {"pct": float(pct(y, coef[0])), "ci": [float(np.quantile(boots, alpha)), float(np.quantile(boots, 1 - alpha))],
            "slope_per_year": float(coef[0]), "n_months": int(len(m)), "first": str(m.index[0].date()),
            "last": str(m.index[-1].date())}


def _season_window(time: pd.DatetimeIndex, cny: pd.Timestamp, lo: int, hi: int) -> np.ndarray:
    d = (time - cny).days
    return (d >= lo) & (d <= hi)


@_one_thread
def holiday_effect(daily: xr.DataArray | xr.Dataset, *, holidays: dict | None = None, holiday_days: tuple[int, int] = (-1, 5),
                   reference_days: tuple[tuple[int, int], ...] = ((-28, -15), (15, 28)), exclude: tuple[int, int] = (-28, 28),
                   n_boot: int = 1000, block: int = 3, level: float = 0.95, seed: int = 0, max_iter: int = 300) -> dict:
    """Chinese-New-Year effect on NO2 with weather removed, per year, with a block-bootstrap interval.

    A business-as-usual model per site (features :data:`FEATURES`) is trained on every day **except** the
    season ``exclude`` (days relative to the new year) of every year; it predicts those days with their actual
    weather. With ``q = observed / predicted`` averaged over the sites each day, the effect is

    .. math:: 100\\,(\\bar q_{\\mathrm{holiday}} / \\bar q_{\\mathrm{reference}} - 1)

    (holiday: new-year's eve to day 5, the official 7-day holiday; reference: weeks 3-4 before and after, which
    avoid the travel days before and the Lantern Festival after). The ratio of ratios cancels the model's bias
    in that season. The interval resamples blocks of ``block`` consecutive days within each group.

    Parameters
    ----------
    daily : xr.Dataset
        From :func:`daily_means`, dims ``(site, time)``.

    Returns
    -------
    dict
        ``{year: {"pct": ..., "ci": [lo, hi], "n_holiday_days": ..., "n_reference_days": ...}}`` (keys are str).
    """
    _check_no2(daily)
    holidays = holidays or CHINESE_NEW_YEAR
    t = pd.DatetimeIndex(daily["time"].values)
    excl = np.zeros(len(t), bool)
    for day in holidays.values():
        excl |= _season_window(t, pd.Timestamp(day), *exclude)
    t0 = daily["time"].values[0]
    ratios = []
    for site in daily["site"].values:
        tab = feature_table(daily, str(site), t0=t0)
        train = tab[~excl]
        model = fit_model(train, seed=seed, max_iter=max_iter)
        pred = model.predict(tab[list(FEATURES)].to_numpy())
        ratios.append(tab["no2"].to_numpy() / pred)
    q = pd.DataFrame(np.array(ratios).T, index=t).mean(axis=1, skipna=True)
    rng = np.random.default_rng(seed)
    alpha = (1 - level) / 2
    out = {}
    for year, day in holidays.items():
        cny = pd.Timestamp(day)
        hol = q[_season_window(t, cny, *holiday_days)].dropna().to_numpy()
        ref = q[np.any([_season_window(t, cny, lo, hi) for lo, hi in reference_days], axis=0)].dropna().to_numpy()
        if len(hol) < 3 or len(ref) < 7:
            out[str(year)] = {"pct": float("nan"), "ci": [float("nan")] * 2, "n_holiday_days": len(hol),
                              "n_reference_days": len(ref)}
            continue
        boots = [100 * (hol[block_bootstrap_index(len(hol), min(block, len(hol)), rng)].mean()
                        / ref[block_bootstrap_index(len(ref), block, rng)].mean() - 1) for _ in range(n_boot)]
        out[str(year)] = {"pct": float(100 * (hol.mean() / ref.mean() - 1)),
                          "ci": [float(np.quantile(boots, alpha)), float(np.quantile(boots, 1 - alpha))],
                          "n_holiday_days": int(len(hol)), "n_reference_days": int(len(ref))}
    return out


@_one_thread
def leave_one_station_out(daily: xr.Dataset, *, seed: int = 0, max_iter: int = 300) -> xr.Dataset:
    """Score the deweathering model on stations it never saw.

    For each site a pooled model (features :data:`FEATURES`, no site identity) is trained on the daily data of
    all other sites and predicts that site's daily NO2 from its own weather and calendar.

    Returns
    -------
    xr.Dataset
        ``r`` (Pearson), ``rmse`` and ``bias`` (prediction - observation, ug m-3), ``n`` per site; and the
        out-of-sample prediction ``predicted(site, time)``.
    """
    _check_no2(daily)
    t0 = daily["time"].values[0]
    sites = [str(s) for s in daily["site"].values]
    tables = {s: feature_table(daily, s, t0=t0) for s in sites}
    r, rmse, bias, n, preds = [], [], [], [], []
    for s in sites:
        train = pd.concat([tables[o] for o in sites if o != s])
        model = fit_model(train, seed=seed, max_iter=max_iter)
        tab = tables[s]
        p = model.predict(tab[list(FEATURES)].to_numpy())
        y = tab["no2"].to_numpy()
        ok = np.isfinite(y) & np.isfinite(p)
        r.append(np.corrcoef(p[ok], y[ok])[0, 1])
        rmse.append(np.sqrt(np.mean((p[ok] - y[ok]) ** 2)))
        bias.append(np.mean(p[ok] - y[ok]))
        n.append(int(ok.sum()))
        preds.append(p)
    return xr.Dataset({
        "r": ("site", np.array(r), {"units": "1"}),
        "rmse": ("site", np.array(rmse), {"units": "ug m-3"}),
        "bias": ("site", np.array(bias), {"units": "ug m-3"}),
        "n": ("site", np.array(n), {"units": "1"}),
        "predicted": (("site", "time"), np.array(preds), {"units": "ug m-3"}),
    }, coords={"site": sites, "time": daily["time"]})


def weekly_cycle(daily: xr.DataArray, *, weekend: tuple[int, ...] = (5, 6), window: int = 29, n_boot: int = 1000,
                 level: float = 0.95, seed: int = 0) -> dict:
    """Weekly cycle of a daily series relative to its running level, and the weekend effect with a CI.

    Each day is divided by the centred ``window``-day running mean (so seasons and trends cancel); the
    ratios are averaged by day of week (0 = Monday). The weekend effect is
    ``100 * (mean ratio on weekend days / mean ratio on the other days - 1)``; its interval resamples whole
    weeks (blocks of 7 days) with replacement.

    Parameters
    ----------
    daily : xr.DataArray
        Daily series, dims ``(time,)`` or ``(time, other)`` (averaged over ``other`` after normalising each).
    weekend : tuple of int
        Weekend days (``(5, 6)`` Saturday-Sunday in China; ``(4, 5)`` Friday-Saturday in Oman).

    Returns
    -------
    dict
        ``by_weekday`` (7 ratios), ``amplitude`` ((max - min) / mean of them), ``weekend_pct``, ``ci``, ``n_days``.
    """
    if "time" not in daily.dims:
        raise DataError(f"weekly_cycle: expected a 'time' dimension, found {daily.dims}")
    other = [d for d in daily.dims if d != "time"]
    full = daily.resample(time="D").mean()
    level_ = full.rolling(time=window, center=True, min_periods=window // 3).mean()
    ratio = full / level_
    if other:
        ratio = ratio.mean(other, skipna=True)
    r = ratio.to_series().dropna()
    if len(r) < 28:
        raise DataError(f"weekly_cycle: only {len(r)} valid days; need at least 28")
    dow = r.index.day_of_week.to_numpy()
    by_day = np.array([r[dow == k].mean() for k in range(7)])
    is_we = np.isin(dow, weekend)

    def effect(values, we):
        return 100.0 * (values[we].mean() / values[~we].mean() - 1.0)

    week = ((r.index - r.index[0]).days // 7).to_numpy()
    weeks = np.unique(week)
    rng = np.random.default_rng(seed)
    vals = r.to_numpy()
    boots = []
    for _ in range(n_boot):
        pick = rng.choice(weeks, size=len(weeks), replace=True)
        idx = np.concatenate([np.flatnonzero(week == w) for w in pick])
        if is_we[idx].any() and (~is_we[idx]).any():
            boots.append(effect(vals[idx], is_we[idx]))
    alpha = (1 - level) / 2
    return {"by_weekday": [float(v) for v in by_day], "amplitude": float((by_day.max() - by_day.min()) / by_day.mean()),
            "weekend_pct": float(effect(vals, is_we)),
            "ci": [float(np.quantile(boots, alpha)), float(np.quantile(boots, 1 - alpha))], "n_days": int(len(r))}
