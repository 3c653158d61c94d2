"""Changes of emissions between two periods: a lockdown against the same weekdays 52 weeks away.

Real studies of the 2020 lockdown compare its weeks with the same weeks of 2019. :func:`lockdown_periods` finds
a synthetic world's lockdown-like dip (from its ``inventory`` attribute) and that reference, :func:`period_days`
picks the evaluated days (paired by their offset in each period), and :func:`period_change` gives the relative
change of a field's area-weighted regional mean with a paired moving-block bootstrap interval. Study 1 scores
how much of each test world's dip every method recovers (:func:`dip_recovery`); study 2 runs the comparison through the real-data path.

Over several worlds, :func:`dip_summary` gives three views of the recovery: the mean of the per-world
fractions (unstable where a world's trend cancels its dip and the true change is near zero), the least-squares
slope of the estimated on the true changes through the origin (worlds with small true changes weigh little), and
the mean absolute error of the change in percentage points.

Public names: :func:`lockdown_periods`, :func:`period_days`, :func:`period_change`, :func:`compare_periods`,
:func:`dip_recovery`, :func:`dip_summary`.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import DataError
from .scales import fill_gaps

__all__ = ["lockdown_periods", "period_days", "period_change", "compare_periods", "dip_recovery", "dip_summary"]


def lockdown_periods(world: xr.Dataset, *, shift_days: int = 364) -> dict:
    """The lockdown of a world (from its ``inventory`` attribute) and the reference: the same weekdays
    ``shift_days`` earlier (52 weeks), or later when the world begins after that.

    Returns
    -------
    dict
        ``{"lockdown": [first, last], "reference": [first, last]}`` (``YYYY-MM-DD`` strings, inclusive).

    Raises
    ------
    DataError
        If the world has no lockdown, or neither reference period lies in its time span (naming the world).
    """
    name = world.attrs.get("title", "NOx world")
    lockdown = json.loads(world.attrs.get("inventory", "{}")).get("lockdown")
    if not lockdown:
        raise DataError(f"{name}: its inventory has no lockdown; choose a world with one (attribute 'inventory')")
    first = pd.Timestamp(lockdown["start"])
    last = first + pd.Timedelta(days=int(lockdown["days"]) - 1)
    t0, t1 = pd.Timestamp(world["time"].values[0]), pd.Timestamp(world["time"].values[-1])
    for shift in (-shift_days, shift_days):
        r0, r1 = first + pd.Timedelta(days=shift), last + pd.Timedelta(days=shift)
        if r0 >= t0 + pd.Timedelta(days=7) and r1 <= t1:
            return {"lockdown": [f"{first:%Y-%m-%d}", f"{last:%Y-%m-%d}"],
                    "reference": [f"{r0:%Y-%m-%d}", f"{r1:%Y-%m-%d}"]}
    raise DataError(f"{name}: no reference period {shift_days} days before or after its lockdown "
                    f"({first:%Y-%m-%d} to {last:%Y-%m-%d}) lies in {t0:%Y-%m-%d} to {t1:%Y-%m-%d}")


def period_days(periods: dict, n: int = 0, *, block: int = 3) -> dict:
    """Evaluated days of each period: all of them (``n = 0``), or ``n`` days in runs of ``block`` consecutive days,
    one run centred in each of ``n / block`` equal parts of the period (so a subsample weighs the period's start,
    middle and end alike), at the same offsets in every period (so the k-th days of two periods pair up).

    Raises
    ------
    ValueError
        If the periods differ in length or a period is empty.
    """
    spans = {k: pd.date_range(v[0], v[1], freq="D") for k, v in periods.items()}
    lengths = {len(v) for v in spans.values()}
    if len(lengths) != 1 or 0 in lengths:
        raise ValueError(f"periods must be non-empty and of one length, got {({k: len(v) for k, v in spans.items()})}")
    length = lengths.pop()
    if n <= 0 or n >= length:
        return spans
    block = max(1, min(int(block), n))
    n_blocks = int(np.ceil(n / block))
    centres = (np.arange(n_blocks) + 0.5) * length / n_blocks
    starts = np.clip(np.floor(centres - block / 2).astype(int), 0, length - block)
    idx = np.unique(np.concatenate([starts + b for b in range(block)]))[:n]
    return {k: v[idx] for k, v in spans.items()}


def period_change(field: xr.DataArray, days, reference_days, *, box: tuple | None = None, block: int = 3,
                  n_boot: int = 1000, level: float = 0.95, seed: int = 0) -> dict:
    """Relative change (%) of the area-weighted mean of ``field`` over ``days`` against ``reference_days``.

    The k-th day of each list pair up; the interval is a paired moving-block bootstrap (the same blocks of
    ``block`` consecutive pairs drawn for both), so the day-to-day weather of each period enters it.

    Parameters
    ----------
    field : xr.DataArray
        ``(time, lat, lon)`` (an emission estimate, the truth, a column).
    days, reference_days : sequence of datetime-like
        Equal numbers of days.
    box : (lat_min, lat_max, lon_min, lon_max), optional
        Region; the whole domain when None.

    Returns
    -------
    dict
        ``pct``, ``ci`` ([lo, hi] at ``level``), ``mean``, ``mean_reference`` (field units), ``n_days``.

    Raises
    ------
    ValueError
        If the day lists differ in length.
    DataError
        If a day is missing from ``field``, the box holds no cell, or a day's regional mean is not finite (e.g. a
        method without an estimate that day), naming the day.
    """
    from .deweather import block_bootstrap_index

    days, ref = pd.DatetimeIndex(days), pd.DatetimeIndex(reference_days)
    if len(days) != len(ref) or len(days) == 0:
        raise ValueError(f"days ({len(days)}) and reference_days ({len(ref)}) must be equal in number and non-empty")
    name = field.name or "field"
    missing = days.append(ref).difference(pd.DatetimeIndex(field["time"].values))
    if len(missing):
        raise DataError(f"{name}: no values for {len(missing)} of the days ({missing[0]:%Y-%m-%d} ...)")
    sub = field
    if box is not None:
        sub = field.sel(lat=slice(box[0], box[1]), lon=slice(box[2], box[3]))
        if sub.sizes["lat"] == 0 or sub.sizes["lon"] == 0:
            raise DataError(f"{name}: the box {box} holds no grid cell")
    w = np.cos(np.deg2rad(sub["lat"]))
    series = sub.weighted(w).mean(("lat", "lon"))
    a, b = series.sel(time=days).values.astype(float), series.sel(time=ref).values.astype(float)
    bad = ~np.isfinite(a) | ~np.isfinite(b)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise DataError(f"{name}: no finite regional mean on {days[k]:%Y-%m-%d} or {ref[k]:%Y-%m-%d}")
    rng = np.random.default_rng(seed)
    blk = max(1, min(int(block), len(a)))
    draws = np.empty(n_boot)
    for i in range(n_boot):
        idx = block_bootstrap_index(len(a), blk, rng)
        draws[i] = 100 * (a[idx].mean() / b[idx].mean() - 1)
    alpha = (1 - level) / 2
    return {"pct": float(100 * (a.mean() / b.mean() - 1)),
            "ci": [float(np.quantile(draws, alpha)), float(np.quantile(draws, 1 - alpha))],
            "mean": float(a.mean()), "mean_reference": float(b.mean()), "n_days": int(len(a))}


def compare_periods(fields: dict, days, reference_days, *, gap_filled=(), box: tuple | None = None,
                    n_boot: int = 1000, seed: int = 0) -> dict:
    """:func:`period_change` of every field of ``fields`` (name → ``(time, lat, lon)``) between ``days`` and
    ``reference_days``; the fields named in ``gap_filled`` are first filled within each period from their own mean
    over that period's days (:func:`~eoretrieval.nox.scales.fill_gaps`), as flux divergence is averaged over time."""
    days, ref = pd.DatetimeIndex(days), pd.DatetimeIndex(reference_days)
    out = {}
    for name, field in fields.items():
        if name in gap_filled:
            field = xr.concat([fill_gaps(field.sel(time=d)) for d in (days, ref)], "time")
        out[name] = period_change(field.rename(str(name)), days, ref, box=box, n_boot=n_boot, seed=seed)
    return out


def dip_recovery(world: xr.Dataset, estimates: dict, truth: xr.DataArray, *, gap_filled=(), box: tuple | None = None,
                 n_boot: int = 1000, seed: int = 0) -> dict | None:
    """How much of a world's lockdown-like dip each estimate recovers, on the days evaluated in both periods.

    Parameters
    ----------
    world : xr.Dataset
        A world with an ``inventory`` attribute; None is returned when it holds no lockdown.
    estimates : dict
        Method → ``(time, lat, lon)`` on evaluated days (any subset of the world's days).
    truth : xr.DataArray
        The true emission on the same days.
    gap_filled : sequence of str
        Methods filled within each period (:func:`compare_periods`).
    box : (lat_min, lat_max, lon_min, lon_max), optional
        Region; the whole domain when None.

    Returns
    -------
    dict or None
        ``periods``, ``n_days`` (pairs evaluated in both periods), ``depth``, ``truth`` and per method
        (:func:`period_change` results, each with ``recovered``, the estimated change over the true one).

    Raises
    ------
    DataError
        If no day of the lockdown is evaluated together with its reference day (naming the world).
    """
    if not json.loads(world.attrs.get("inventory", "{}")).get("lockdown"):
        return None
    periods = lockdown_periods(world)
    every = period_days(periods)
    have = pd.DatetimeIndex(truth["time"].values)
    pairs = [(a, b) for a, b in zip(every["lockdown"], every["reference"]) if a in have and b in have]
    if not pairs:
        raise DataError(f"{world.attrs.get('title', 'NOx world')} (seed {world.attrs.get('seed')}): no lockdown day "
                        "is evaluated together with its reference day 52 weeks away")
    days, ref = (pd.DatetimeIndex(x) for x in zip(*pairs))
    true = period_change(truth, days, ref, box=box, n_boot=n_boot, seed=seed)
    methods = compare_periods(estimates, days, ref, gap_filled=gap_filled, box=box, n_boot=n_boot, seed=seed)
    for res in methods.values():
        res["recovered"] = res["pct"] / true["pct"] if true["pct"] else float("nan")
    return {"periods": periods, "n_days": len(days),
            "depth": float(json.loads(world.attrs["inventory"])["lockdown"]["depth"]), "truth": true,
            "methods": methods}


def dip_summary(dips: dict) -> dict:
    """How much of the dips of several worlds each method recovers, from :func:`dip_recovery` results.

    Parameters
    ----------
    dips : dict
        World name → :func:`dip_recovery` result (the same methods in each).

    Returns
    -------
    dict
        Per method: ``recovered_mean`` (mean of the per-world fractions), ``slope`` (:math:`\\sum_w e_w t_w /
        \\sum_w t_w^2`, estimated change :math:`e_w` on true change :math:`t_w`, in %), ``abs_err_pp`` (mean
        :math:`|e_w - t_w|`, percentage points); and ``n_worlds``.

    Raises
    ------
    DataError
        If ``dips`` is empty, a world's true change is not finite, or the worlds' true changes are all zero.
    """
    if not dips:
        raise DataError("dip_summary: no world with a dip; expected at least one dip_recovery result")
    t = np.array([d["truth"]["pct"] for d in dips.values()], dtype=float)
    if not np.isfinite(t).all() or not np.any(t):
        raise DataError(f"dip_summary: true changes {t.tolist()} of worlds {list(dips)}; expected finite, not all zero")
    out = {}
    for m in next(iter(dips.values()))["methods"]:
        e = np.array([d["methods"][m]["pct"] for d in dips.values()], dtype=float)
        out[m] = {"recovered_mean": float(np.mean([d["methods"][m]["recovered"] for d in dips.values()])),
                  "slope": float(np.sum(e * t) / np.sum(t * t)), "abs_err_pp": float(np.mean(np.abs(e - t)))}
    return {"n_worlds": len(dips), "methods": out}
