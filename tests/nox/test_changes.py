"""Tests of eoretrieval.nox.changes: periods, evaluated days, and the paired period change."""

import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from eoretrieval.errors import DataError
from eoretrieval.nox.changes import dip_summary, lockdown_periods, period_change, period_days


def _field(days, values, lat=(30.0, 40.0, 50.0), lon=(100.0, 110.0)):
    v = np.asarray(values, dtype=float)[:, None, None] * np.ones((1, len(lat), len(lon)))
    return xr.DataArray(v, dims=("time", "lat", "lon"), name="emission",
                        coords={"time": pd.DatetimeIndex(days), "lat": list(lat), "lon": list(lon)})


def _world(lockdown, start="2021-01-01", end="2022-12-31"):
    t = pd.date_range(start, end, freq="D")
    return xr.Dataset({"no2_column": (("time",), np.zeros(len(t)))}, coords={"time": t},
                      attrs={"title": "test world", "inventory": json.dumps({"lockdown": lockdown})})


def test_lockdown_periods_take_the_same_weekdays_52_weeks_away():
    p = lockdown_periods(_world({"start": "2022-05-31", "days": 58, "depth": 0.4}))
    assert p == {"lockdown": ["2022-05-31", "2022-07-27"], "reference": ["2021-06-01", "2021-07-28"]}
    first, ref = (pd.Timestamp(p[k][0]) for k in ("lockdown", "reference"))
    assert first.day_of_week == ref.day_of_week
    # a lockdown early in the world: the reference lies 52 weeks later
    p = lockdown_periods(_world({"start": "2021-01-03", "days": 20, "depth": 0.4}))
    assert p["reference"][0] == "2022-01-02"
    with pytest.raises(DataError, match="test world: its inventory has no lockdown"):
        lockdown_periods(_world(None))
    with pytest.raises(DataError, match="no reference period"):
        lockdown_periods(_world({"start": "2021-03-01", "days": 20, "depth": 0.4}, end="2021-06-30"))


def test_period_days_pair_up_at_the_same_offsets():
    periods = {"lockdown": ["2022-05-31", "2022-07-27"], "reference": ["2021-06-01", "2021-07-28"]}
    every = period_days(periods)
    assert len(every["lockdown"]) == 58
    some = period_days(periods, 12, block=3)
    assert len(some["lockdown"]) == len(some["reference"]) == 12
    offsets = [(d - pd.Timestamp(periods[k][0])).days for k in periods for d in some[k]]
    assert offsets[:12] == offsets[12:]  # the k-th days pair up
    runs = np.array(offsets[:12]).reshape(4, 3)
    assert (np.diff(runs, axis=1) == 1).all()  # runs of consecutive days
    # one run centred in each quarter of the 58 days: neither end of the period is over-weighted
    centres = (np.arange(4) + 0.5) * 58 / 4
    assert np.abs(runs[:, 1] - centres).max() <= 1.5
    with pytest.raises(ValueError, match="one length"):
        period_days({"a": ["2021-01-01", "2021-01-10"], "b": ["2022-01-01", "2022-01-05"]})


def test_period_change_recovers_a_known_change_and_its_interval_covers_it():
    rng = np.random.default_rng(0)
    ref_days = pd.date_range("2021-06-01", periods=40)
    days = ref_days + pd.Timedelta(days=364)
    ref_vals = 10 + rng.normal(0, 1, 40)
    vals = 0.7 * (10 + rng.normal(0, 1, 40))
    field = _field(days.append(ref_days), np.concatenate([vals, ref_vals]))
    out = period_change(field, days, ref_days, n_boot=500)
    assert out["pct"] == pytest.approx(100 * (vals.mean() / ref_vals.mean() - 1))
    assert out["ci"][0] < out["pct"] < out["ci"][1] and out["ci"][0] < -30 < out["ci"][1]
    assert out["n_days"] == 40 and out["mean"] == pytest.approx(vals.mean())
    # without day-to-day noise the interval collapses onto the change
    flat = period_change(_field(days.append(ref_days), [7.0] * 40 + [10.0] * 40), days, ref_days, n_boot=50)
    assert flat["pct"] == pytest.approx(-30) and flat["ci"] == pytest.approx([-30, -30])


def test_period_change_weights_by_area_and_selects_the_box():
    days, ref = pd.DatetimeIndex(["2022-01-10"]), pd.DatetimeIndex(["2021-01-11"])
    lat = (0.0, 60.0)
    v = np.ones((2, 2, 1))
    v[0, 1, 0] = 3.0   # the change sits at 60 N only, where cells are half as large
    field = xr.DataArray(v, dims=("time", "lat", "lon"), name="e",
                         coords={"time": days.append(ref), "lat": list(lat), "lon": [100.0]})
    assert period_change(field, days, ref, n_boot=10)["pct"] == pytest.approx(100 * ((1 + 0.5 * 3) / 1.5 - 1))
    assert period_change(field, days, ref, box=(50, 70, 90, 110), n_boot=10)["pct"] == pytest.approx(200)
    with pytest.raises(DataError, match="holds no grid cell"):
        period_change(field, days, ref, box=(10, 20, 90, 110))


def test_period_change_refuses_missing_days_and_gaps():
    days, ref = pd.date_range("2022-01-10", periods=3), pd.date_range("2021-01-11", periods=3)
    field = _field(days.append(ref), [1, 1, np.nan, 1, 1, 1])
    with pytest.raises(DataError, match="emission: no finite regional mean on 2022-01-12"):
        period_change(field, days, ref)
    with pytest.raises(DataError, match="no values for 1 of the days"):
        period_change(field, days + pd.Timedelta(days=1), ref)
    with pytest.raises(ValueError, match="equal in number"):
        period_change(field, days[:2], ref)


def _dip_world():
    t = pd.date_range("2021-01-01", "2022-12-31", freq="D")
    lock = {"start": "2022-05-31", "days": 58, "depth": 0.4}
    truth = xr.DataArray(np.ones((len(t), 2, 2)), dims=("time", "lat", "lon"), name="emission",
                         coords={"time": t, "lat": [30.0, 31.0], "lon": [110.0, 111.0]})
    inside = (t >= "2022-05-31") & (t <= "2022-07-27")
    truth[inside] = 0.6
    world = xr.Dataset({"emission": truth}, attrs={"title": "dip world", "seed": 9,
                                                   "inventory": json.dumps({"lockdown": lock})})
    return world, truth


def test_dip_recovery_scores_each_method_on_days_evaluated_in_both_periods():
    from eoretrieval.nox.changes import dip_recovery
    world, truth = _dip_world()
    days = truth["time"].values[1::4]   # the notebook's stride: day d and d - 364 are both evaluated
    t = truth.sel(time=days)
    half = 1 - 0.5 * (1 - t)            # recovers half the dip
    gappy = t.copy()
    gappy[:, 0, 0] = np.nan             # one cell never observed: filled from its own period mean (0 here)
    out = dip_recovery(world, {"half": half, "none": xr.ones_like(t), "gappy": gappy}, t, gap_filled=("gappy",),
                       n_boot=20)
    assert out["n_days"] in (14, 15)  # one in four of the 58 days
    assert out["truth"]["pct"] == pytest.approx(-40)
    assert out["methods"]["half"]["recovered"] == pytest.approx(0.5)
    assert out["methods"]["none"]["recovered"] == pytest.approx(0.0)
    assert out["methods"]["gappy"]["recovered"] == pytest.approx(1.0)   # the filled cell is 0 in both periods
    # the box is passed to every comparison
    boxed = dip_recovery(world, {"half": half}, t, box=(30.5, 31.5, 110.5, 111.5), n_boot=20)
    assert boxed["methods"]["half"]["recovered"] == pytest.approx(0.5) and boxed["truth"]["pct"] == pytest.approx(-40)
    assert dip_recovery(world.assign_attrs(inventory=json.dumps({"lockdown": None})), {}, t) is None
    with pytest.raises(DataError, match="seed 9.*no lockdown day is evaluated"):
        dip_recovery(world, {}, truth.sel(time=truth["time"].values[truth["time"].values < np.datetime64("2022-01-01")]))


def _dip(truth_pct, **methods):
    return {"truth": {"pct": truth_pct},
            "methods": {m: {"pct": v, "recovered": v / truth_pct} for m, v in methods.items()}}


def test_dip_summary_by_hand_and_robust_to_a_cancelled_dip():
    """Three worlds: true changes -20, -30 and +0.5 % (a trend cancels the third world's dip); a method that recovers
    half of every change. The mean of the fractions is 0.5 only by luck of exact halving; a method off by 2 pp on the
    third world has a mean fraction blown up by that world alone, while the slope and the pp error barely move."""
    dips = {"a": _dip(-20.0, half=-10.0, off=-10.0), "b": _dip(-30.0, half=-15.0, off=-15.0),
            "c": _dip(0.5, half=0.25, off=2.5)}
    s = dip_summary(dips)
    assert s["n_worlds"] == 3
    assert s["methods"]["half"]["slope"] == pytest.approx(0.5)
    assert s["methods"]["half"]["recovered_mean"] == pytest.approx(0.5)
    assert s["methods"]["half"]["abs_err_pp"] == pytest.approx((10 + 15 + 0.25) / 3)
    off = s["methods"]["off"]
    assert off["recovered_mean"] == pytest.approx((0.5 + 0.5 + 5.0) / 3)   # 2.0: the cancelled dip decides it
    assert off["slope"] == pytest.approx((200 + 450 + 1.25) / (400 + 900 + 0.25))   # 0.50
    assert off["abs_err_pp"] == pytest.approx((10 + 15 + 2.0) / 3)


def test_dip_summary_refuses_no_worlds_and_zero_changes():
    with pytest.raises(DataError, match="no world with a dip"):
        dip_summary({})
    with pytest.raises(DataError, match="not all zero"):
        dip_summary({"a": {"truth": {"pct": 0.0}, "methods": {}}})
