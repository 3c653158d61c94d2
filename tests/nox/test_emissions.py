"""Tests of eoretrieval.nox.emissions: totals, weekly cycle, imposed reduction, units."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from eoretrieval.errors import DataError
from eoretrieval.nox.emissions import (base_emission_map, domain_total, load_cities, load_point_sources,
                                        make_emissions, temporal_factors)


@pytest.fixture(scope="module")
def base_ci():
    lat = np.arange(28.125, 44.0, 0.25)
    lon = np.arange(108.125, 124.0, 0.25)
    return base_emission_map(lat, lon)


def test_proxies_load():
    plants = load_point_sources()
    cities = load_cities()
    assert 900 < (plants["fuel"] == "Coal").sum() <= 1003
    assert plants["weight"].gt(0).all()
    assert cities["population"].max() > 1e7 and set(cities["iso3"]) <= {"CHN", "HKG", "MAC", "TWN"}


def test_national_total_right_order():
    # a coarse grid covering all of China holds the national total (22 Tg NO2/yr) plus HK/Macau/Taiwan
    lat = np.arange(15.5, 55.0, 1.0)
    lon = np.arange(70.5, 136.0, 1.0)
    total = float(domain_total(base_emission_map(lat, lon)["total"].expand_dims(time=[0])).values[0])
    assert 22.0 <= total < 25.0


def test_ci_domain_total_and_units(base_ci):
    assert base_ci["total"].attrs["units"] == "mol m-2 s-1"
    total = float(domain_total(base_ci["total"].expand_dims(time=[0])).values[0])
    assert 8.0 < total < 18.0  # eastern China holds about half of the national NOx
    assert float(base_ci["power"].max()) > 10 * float(base_ci["power"].median())  # point sources stand out


def test_weekly_cycle_and_reduction(base_ci):
    dates = pd.date_range("2019-01-01", "2022-12-31", freq="D")
    f = temporal_factors(dates, reduction_pct=25.0)
    weekend = dates.day_of_week >= 5
    assert f["weekly"][weekend].mean() < f["weekly"][~weekend].mean()
    assert abs(f["weekly"].iloc[:7].mean() - 1) < 1e-12
    assert f["trend"].iloc[0] == 1.0 and abs(f["trend"].iloc[-1] - 0.75) < 1e-12
    base = base_ci["total"].isel(lat=slice(20, 36), lon=slice(20, 36))
    em = make_emissions(base, dates, rng_true=np.random.default_rng(0), rng_prior=np.random.default_rng(1))
    tot = domain_total(em["emission"])
    annual = tot.groupby("time.year").mean()
    ratio = float(annual.sel(year=2022) / annual.sel(year=2019))
    frac = np.asarray((dates - dates[0]) / (dates[-1] - dates[0]))
    years = dates.year.values
    expected = (1 - 0.25 * frac[years == 2022]).mean() / (1 - 0.25 * frac[years == 2019]).mean()
    assert abs(ratio - expected) < 0.01 and ratio < 0.82
    wk = tot.values[weekend].mean() / tot.values[~weekend].mean()
    assert wk < 0.97
    # prior: no trend, no noise, same order as the truth
    assert float(domain_total(em["prior_emission"]).std() / domain_total(em["prior_emission"]).mean()) < 0.15
    assert 0.7 < float(domain_total(em["prior_emission"]).mean() / tot.mean()) < 1.5


def test_wrong_units_raise(base_ci):
    bad = base_ci["total"].copy()
    bad.attrs["units"] = "kg m-2 s-1"
    with pytest.raises(DataError, match=r"base emission.*'mol m-2 s-1'"):
        make_emissions(bad, pd.date_range("2019-01-01", periods=3), rng_true=np.random.default_rng(0),
                       rng_prior=np.random.default_rng(0))
    with pytest.raises(DataError, match=r"variable 'emission' has units"):
        domain_total(xr.DataArray(np.ones((1, 2, 2)), dims=("time", "lat", "lon"),
                                  coords={"lat": [0.0, 1.0], "lon": [0.0, 1.0]}))


def test_largest_sources_distinct_cells_inside_grid():
    from eoretrieval.nox.emissions import largest_sources

    lat = np.arange(28.125, 44.0, 0.25)
    lon = np.arange(108.125, 124.0, 0.25)
    df = largest_sources(lat, lon, n_cities=4, n_plants=3)
    assert list(df["kind"]) == ["city"] * 4 + ["power_plant"] * 3
    assert df["name"].iloc[0] == "Shanghai" and "Beijing" in set(df["name"])
    assert not df.duplicated(["iy", "ix"]).any()
    assert df["iy"].between(0, 63).all() and df["ix"].between(0, 63).all()
