"""Tests of eoretrieval.nox.emissions: the real proxies, national and domain totals, units (the per-world draws and
their temporal factors are tested in test_inventory.py)."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from eoretrieval.errors import DataError
from eoretrieval.nox.emissions import base_emission_map, domain_total, load_cities, load_point_sources


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


def test_wrong_units_raise():
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
