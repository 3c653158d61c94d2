"""Fixtures of the NOx tests: a tiny fake NOx world with the variables and attrs of make_nox_world."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
import xarray as xr
from scipy.ndimage import gaussian_filter


def fake_nox_world(*, n_days: int = 40, ny: int = 16, nx: int = 16, seed: int = 0) -> xr.Dataset:
    """Seeded stand-in for ``eoretrieval.nox.make_nox_world`` (same names, dims, units and split attrs)."""
    rng = np.random.default_rng(seed)
    time = pd.date_range("2019-01-01", periods=n_days, freq="D")
    lat = 30.0 + 0.25 * np.arange(ny)
    lon = 110.0 + 0.25 * np.arange(nx)
    base = np.zeros((ny, nx))
    for _ in range(6):
        base[rng.integers(ny), rng.integers(nx)] += rng.uniform(1, 5)
    base = gaussian_filter(base, 1.0) * 1e-7 + 1e-9
    factor = 1 + 0.2 * rng.standard_normal((n_days, 1, 1))
    emission = base[None] * np.clip(factor, 0.3, None)
    lifetime = np.full((n_days, ny, nx), 6.0) + rng.uniform(0, 2, (n_days, 1, 1))
    column = np.stack([gaussian_filter(e, 1.5) for e in emission]) * lifetime[0, 0, 0] * 3600
    no2 = 0.75 * column + 2e-6 * rng.standard_normal(column.shape)
    cloud = rng.uniform(0, 1, column.shape)
    valid = cloud < 0.6
    dims = ("time", "lat", "lon")
    n1, n2 = int(n_days * 0.6), int(n_days * 0.8)
    return xr.Dataset(
        {"emission": (dims, emission, {"units": "mol m-2 s-1"}),
         "prior_emission": (dims, np.broadcast_to(base, emission.shape).copy(), {"units": "mol m-2 s-1"}),
         "nox_column": (dims, column, {"units": "mol m-2"}),
         "no2_column": (dims, np.where(valid, no2, np.nan), {"units": "mol m-2"}),
         "no2_column_precision": (dims, np.full(column.shape, 2e-6), {"units": "mol m-2"}),
         "valid": (dims, valid),
         "cloud_fraction": (dims, cloud, {"units": "1"}),
         "u": (dims, rng.normal(0, 3, column.shape), {"units": "m s-1"}),
         "v": (dims, rng.normal(0, 3, column.shape), {"units": "m s-1"}),
         "lifetime": (dims, lifetime, {"units": "h"})},
        coords={"time": time, "lat": lat, "lon": lon},
        attrs={"split_train": f"{time[0]:%Y-%m-%d}/{time[n1 - 1]:%Y-%m-%d}",
               "split_val": f"{time[n1]:%Y-%m-%d}/{time[n2 - 1]:%Y-%m-%d}",
               "split_test": f"{time[n2]:%Y-%m-%d}/{time[-1]:%Y-%m-%d}",
               "title": "fake NOx world (tests)", "seed": int(seed), "no2_background_mol_m2": 0.0,
               "regions": '{"all": [30.0, 34.0, 110.0, 114.0]}'},
    )


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


@pytest.fixture
def nox_world() -> xr.Dataset:
    return fake_nox_world()
