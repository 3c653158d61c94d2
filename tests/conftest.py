"""Shared fixtures: tiny, seeded, labelled arrays with standard dims and units."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr


@pytest.fixture
def rng():
    return np.random.default_rng(42)


@pytest.fixture
def field_pair(rng):
    """(pred, truth) on (time, lat, lon) with units, 4 x 5 x 6."""
    coords = {"time": np.arange(4), "lat": np.linspace(30.0, 40.0, 5), "lon": np.linspace(110.0, 120.0, 6)}
    truth = xr.DataArray(rng.gamma(2.0, 1.0, (4, 5, 6)), dims=("time", "lat", "lon"), coords=coords,
                         name="emission", attrs={"units": "mol m-2 s-1"})
    pred = (truth + rng.normal(0, 0.5, truth.shape)).assign_attrs(units="mol m-2 s-1")
    return pred, truth


@pytest.fixture(autouse=True)
def _doctest_namespace(doctest_namespace):
    doctest_namespace["np"] = np
    doctest_namespace["xr"] = xr
