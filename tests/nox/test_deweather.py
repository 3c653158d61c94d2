"""Deweathering on synthetic stations with a known emission trend, weather effect and holiday dip."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from eoretrieval.errors import DataError
from eoretrieval.nox import deweather as dw


@pytest.fixture(scope="module")
def synthetic():
    """3 sites, 2013-03 to 2017-02, daily. NO2 = 40 (1 - 0.2 t/T) exp(-0.3 (wspd - 2)) x 0.7 in CNY weeks.
    Wind speed increases over the record, so the observed trend exaggerates the emission trend."""
    rng = np.random.default_rng(0)
    t = pd.date_range("2013-03-01", "2017-02-28", freq="D")
    frac = np.arange(len(t)) / (len(t) - 1)
    holiday = np.zeros(len(t), bool)
    for day in dw.CHINESE_NEW_YEAR.values():
        d = (t - pd.Timestamp(day)).days
        holiday |= (d >= -1) & (d <= 5)
    data = {v: [] for v in ("no2", *dw.MET_FEATURES)}
    for k in range(3):
        wspd = rng.gamma(4, 0.5, len(t)) * (1 + 0.4 * frac)
        temp = 12 - 15 * np.cos(2 * np.pi * (t.day_of_year - 15) / 365.25) + rng.normal(0, 3, len(t))
        no2 = (40 + 5 * k) * (1 - 0.2 * frac) * np.exp(-0.3 * (wspd - 2)) * np.where(holiday, 0.7, 1.0)
        no2 = no2 * rng.lognormal(0, 0.05, len(t))
        for name, val in (("no2", no2), ("wspd", wspd), ("temp", temp), ("dewp", temp - 8 + rng.normal(0, 2, len(t))),
                          ("pres", 1013 + rng.normal(0, 5, len(t))), ("rain", rng.exponential(0.5, len(t))),
                          ("u", wspd * 0.6), ("v", -wspd * 0.8)):
            data[name].append(val)
    units = {"no2": "ug m-3", "wspd": "m s-1", "u": "m s-1", "v": "m s-1", "temp": "degC", "dewp": "degC",
             "pres": "hPa", "rain": "mm d-1"}
    return xr.Dataset({k: (("site", "time"), np.array(v), {"units": units[k]}) for k, v in data.items()},
                      coords={"site": ["a", "b", "c"], "time": t})


def test_trend_pct_linear_known_answer():
    t = pd.date_range("2013-03-01", "2017-02-28", freq="D")
    s = xr.DataArray(100 - 20 * np.arange(len(t)) / (len(t) - 1), dims="time", coords={"time": t})
    m = s.resample(time="MS").mean().values
    out = dw.trend_pct(s, n_boot=200)
    assert out["pct"] == pytest.approx(100 * (m[-1] - m[0]) / m[0], rel=1e-3)
    # no residuals: every bootstrap replicate is the estimate itself, up to round-off
    assert out["ci"][0] == pytest.approx(out["pct"], abs=1e-9) and out["ci"][1] == pytest.approx(out["pct"], abs=1e-9)


def test_deweathered_trend_recovers_emission_trend(synthetic):
    res = dw.deweather(synthetic, n_draws=20, max_iter=150)
    observed = dw.trend_pct(synthetic["no2"].mean("site"))["pct"]
    dewx = dw.trend_pct(res["city"], n_boot=300)
    assert observed < -27  # weather makes the raw trend look steeper
    assert dewx["pct"] == pytest.approx(-19.6, abs=5)
    assert dewx["ci"][0] < dewx["pct"] < dewx["ci"][1]
    assert (res["r2"] > 0.8).all()
    assert res["deweathered"].attrs["units"] == "ug m-3"


def test_holiday_effect_recovers_imposed_drop(synthetic):
    eff = dw.holiday_effect(synthetic, n_boot=300, max_iter=150)
    assert set(eff) == {"2014", "2015", "2016", "2017"}
    for year, e in eff.items():
        assert e["pct"] == pytest.approx(-30, abs=8), year
        assert e["ci"][0] < e["pct"] < e["ci"][1]


def test_leave_one_station_out(synthetic):
    res = dw.leave_one_station_out(synthetic, max_iter=150)
    assert (res["r"] > 0.8).all()
    # site c is 5 units higher than b, a 5 lower: the pooled model is biased low at c, high at a
    assert float(res["bias"].sel(site="a")) > 0 > float(res["bias"].sel(site="c"))


def test_cycles_and_bad_units(synthetic):
    t = pd.date_range("2015-01-05", periods=24 * 14, freq="h")
    x = xr.DataArray(np.tile(np.arange(24.0), 14) + 10 * (t.day_of_week >= 5), dims="time", coords={"time": t},
                     attrs={"units": "ug m-3"})
    c = dw.cycles(x)
    np.testing.assert_allclose(c["diurnal"].values, np.arange(24.0) + 10 * 2 / 7)
    assert dw.weekly_amplitude(c["weekly"]) == pytest.approx(10 / c["weekly"].mean().item())
    with pytest.raises(DataError, match="expected 'ug m-3'"):
        dw.deweather(synthetic.assign(no2=synthetic["no2"].assign_attrs(units="ppb")))


def test_weekly_cycle_friday_saturday_weekend():
    t = pd.date_range("2024-01-01", "2024-12-31", freq="D")
    rng = np.random.default_rng(1)
    x = 3e-5 * (1 + 0.3 * np.sin(2 * np.pi * t.day_of_year / 365)) * np.where(t.day_of_week.isin([4, 5]), 0.9, 1.0)
    da = xr.DataArray(x * rng.lognormal(0, 0.02, len(t)), dims="time", coords={"time": t}, attrs={"units": "mol m-2"})
    out = dw.weekly_cycle(da, weekend=(4, 5), n_boot=200)
    assert out["weekend_pct"] == pytest.approx(-10, abs=1.5)
    assert out["ci"][0] < out["weekend_pct"] < out["ci"][1]
    assert int(np.argmin(out["by_weekday"])) in (4, 5)
