"""Tests of the real-data assembly of study 2: the model prior for any day, and the inputs built from oversampled
columns and winds (no true emission)."""

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from eoretrieval.errors import DataError
from eoretrieval.nox.features import INPUT_VARIABLES, REQUIRED_VARIABLES
from eoretrieval.nox.inventory import expected_inventory
from eoretrieval.nox.realism import model_prior, real_inputs, world_config
from eoretrieval.nox.world import NOX_PROFILES, nox_lifetime, world_grid

CONFIG = dataclasses.replace(NOX_PROFILES["ci"], lat0=36.0, lat1=38.0, lon0=114.0, lon1=116.0)


def test_model_prior_is_the_training_prior_and_maps_other_years_by_52_weeks():
    lat, lon = world_grid(CONFIG)
    period = pd.date_range(CONFIG.start, CONFIG.end, freq="D")
    full = expected_inventory(lat, lon, period, CONFIG)
    inside = period[[0, 200, len(period) - 1]]
    np.testing.assert_array_equal(model_prior(lat, lon, inside, CONFIG).values, full[[0, 200, len(period) - 1]])
    # 2020-01-25 (a Saturday) takes the prior of 2021-01-23, 52 weeks later; 2023-06-01 that of 2022-06-02
    out = model_prior(lat, lon, pd.DatetimeIndex(["2020-01-25", "2023-06-01"]), CONFIG)
    np.testing.assert_array_equal(out.values[0], full[period.get_loc(pd.Timestamp("2021-01-23"))])
    np.testing.assert_array_equal(out.values[1], full[period.get_loc(pd.Timestamp("2022-06-02"))])
    assert pd.Timestamp("2020-01-25").day_of_week == pd.Timestamp("2021-01-23").day_of_week
    short = dataclasses.replace(CONFIG, start="2021-01-01", end="2021-03-31")
    with pytest.raises(DataError, match="shorter than 52 weeks"):
        model_prior(lat, lon, pd.DatetimeIndex(["2021-06-01"]), short)


def _grid_and_met(days, lat, lon):
    shape = (len(days), len(lat), len(lon))
    coords = {"time": days, "lat": lat, "lon": lon}
    grid = xr.Dataset({"no2_column": (("time", "lat", "lon"), np.full(shape, 1e-4)),
                       "valid": (("time", "lat", "lon"), np.ones(shape, np.uint8))}, coords=coords,
                      attrs={"source_files": ["S5P_test.nc"]})
    met = xr.Dataset({"u": (("time", "lat", "lon"), np.full(shape, 2.0, np.float32)),
                      "v": (("time", "lat", "lon"), np.full(shape, -1.0, np.float32))}, coords=coords)
    return grid, met


def test_real_inputs_hold_what_the_network_needs_and_no_truth():
    lat, lon = world_grid(CONFIG)
    days = pd.date_range("2020-01-20", periods=4)
    grid, met = _grid_and_met(days, lat, lon)
    ds = real_inputs(grid, met, config=CONFIG)
    assert set(INPUT_VARIABLES) <= set(ds.data_vars) and "emission" not in ds
    assert not set(REQUIRED_VARIABLES) <= set(ds.data_vars)  # training variables are not needed for inputs
    tau = nox_lifetime(lat, days, tau_summer_h=CONFIG.tau_summer_h, tau_winter_h=CONFIG.tau_winter_h)
    np.testing.assert_allclose(ds["lifetime"].values[:, :, 0], tau, rtol=1e-6)
    np.testing.assert_array_equal(ds["prior_emission"].values, model_prior(lat, lon, days, CONFIG).values)
    assert ds.attrs["no2_background_mol_m2"] == CONFIG.no2_background
    with pytest.raises(DataError, match="S5P_test.nc.*columns are not on the model grid"):
        real_inputs(grid.isel(lat=slice(1, None)), met, config=CONFIG)
    many = grid.assign_attrs(source_files=["S5P_a.nc", "S5P_b.nc", "S5P_c.nc"])
    with pytest.raises(DataError, match=r"^S5P_a.nc \(and 2 more files\): the winds are not on the model grid"):
        real_inputs(many, met.isel(lon=slice(1, None)), config=CONFIG)
    with pytest.raises(DataError, match="winds cover other days"):
        real_inputs(grid, met.isel(time=slice(1, None)), config=CONFIG)


def test_world_config_reads_the_world_attribute():
    world = xr.Dataset(attrs={"config": json.dumps(dataclasses.asdict(CONFIG))})
    assert world_config(world) == CONFIG
    with pytest.raises(DataError, match="attribute 'config' missing"):
        world_config(xr.Dataset(attrs={"title": "w"}))
