"""Tests of eoretrieval.io.checks: every failure names the file, the variable and what was expected."""

import numpy as np
import pytest
import xarray as xr

from eoretrieval.errors import DataError
from eoretrieval.io.checks import require_finite, require_grid, require_units, require_variables


@pytest.fixture
def ds():
    return xr.Dataset({"t": (("time", "lat"), np.ones((2, 3)), {"units": "K"})},
                      coords={"time": [0, 1], "lat": [1.0, 2.0, 3.0]}, attrs={"source_file": "scene.nc"})


def test_missing_variable_message(ds):
    with pytest.raises(DataError, match=r"scene\.nc: missing variable 'q' \(expected units 'kg kg-1'\)"):
        require_variables(ds, {"q": "kg kg-1"})


def test_wrong_units_message(ds):
    with pytest.raises(DataError, match=r"scene\.nc: variable 't' has units 'K', expected 'degC'"):
        require_variables(ds, {"t": "degC"})


def test_unit_aliases_accepted(ds):
    require_units(ds["t"].assign_attrs(units="kelvin"), "K")
    require_units(xr.DataArray([1.0], dims="x", attrs={"units": "deg C"}), "degC")


def test_all_nan_scene(ds):
    bad = ds["t"].copy()
    bad[1] = np.nan
    require_finite(bad)
    with pytest.raises(DataError, match=r"all-NaN at time=\[1\]"):
        require_finite(bad, dim="time", source="scene.nc")
    with pytest.raises(DataError, match="is all-NaN"):
        require_finite(bad * np.nan, source="scene.nc")


def test_wrong_grid(ds):
    other = ds.assign_coords(lat=[1.0, 2.0, 3.5])
    require_grid(ds, like=ds, dims=("lat",))
    with pytest.raises(DataError, match=r"wrong grid along 'lat'"):
        require_grid(other, like=ds, dims=("lat",))
    with pytest.raises(DataError, match=r"dimension 'lon' missing"):
        require_grid(ds, like=ds, dims=("lon",))
