"""Tests of eoretrieval.nox.tropomi_operator: noise statistics, cloud fraction, units."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from eoretrieval.errors import DataError
from eoretrieval.nox.tropomi_operator import MOL_M2_PER_MOLEC_CM2, observe


def _column(n=200, shape=(32, 32), value=2e-4):
    return xr.DataArray(np.full((n, *shape), value, dtype=np.float32), dims=("time", "lat", "lon"),
                        coords={"time": pd.date_range("2019-01-01", periods=n), "lat": 30 + 0.25 * np.arange(shape[0]),
                                "lon": 110 + 0.25 * np.arange(shape[1])}, attrs={"units": "mol m-2"})


def test_unit_constant():
    assert abs(1e15 * MOL_M2_PER_MOLEC_CM2 - 1.66e-5) < 0.01e-5


def test_noise_statistics():
    col = _column()
    ds = observe(col, seed=3, amf_rel_error=0.0, ratio_std=0.0, cloud_cover=0.0, noise_abs=1.66e-5, noise_rel=0.1,
                 background=8e-6)
    true = 0.75 * 2e-4 + 8e-6
    np.testing.assert_allclose(ds["no2_column_true"].values, true, rtol=1e-6)
    expected_sigma = np.sqrt(1.66e-5**2 + (0.1 * true) ** 2)
    np.testing.assert_allclose(ds["no2_column_precision"].values, expected_sigma, rtol=1e-5)
    z = ((ds["no2_column"] - true) / ds["no2_column_precision"]).values
    z = z[np.isfinite(z)]
    assert z.size > 0.9 * col.size
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01
    for k in ("no2_column", "no2_column_precision"):
        assert ds[k].attrs["units"] == "mol m-2"
    assert ds["valid"].dtype == np.uint8 and ds["cloud_fraction"].attrs["units"] == "1"


def test_amf_error_std():
    ds = observe(_column(), seed=4, amf_rel_error=0.2, cloud_cover=0.0)
    assert abs(float(ds["amf_error"].std()) - 0.2) < 0.02


@pytest.mark.parametrize("cover", [0.2, 0.5, 0.8])
def test_cloud_fraction_achieved(cover):
    ds = observe(_column(n=300), seed=5, cloud_cover=cover, cloud_seasonal_amplitude=0.0)
    masked = 1 - float(ds["valid"].mean())
    assert abs(masked - cover) < 0.03
    assert np.isnan(ds["no2_column"].values[ds["valid"].values == 0]).all()
    assert np.isfinite(ds["no2_column"].values[ds["valid"].values == 1]).all()


def test_same_seed_same_fields_other_settings():
    col = _column(n=20)
    a = observe(col, seed=1, noise_abs=1e-5)
    b = observe(col, seed=1, noise_abs=1e-5)
    c = observe(col, seed=2, noise_abs=1e-5)
    np.testing.assert_array_equal(a["no2_column"].values, b["no2_column"].values)
    assert not np.array_equal(a["valid"].values, c["valid"].values)


def test_bad_input():
    col = _column(n=2)
    col.attrs["units"] = "molec cm-2"
    with pytest.raises(DataError, match=r"variable 'nox_column' has units 'molec cm-2', expected 'mol m-2'"):
        observe(col, seed=0)
    with pytest.raises(DataError, match="nox_column: dims"):
        observe(_column(n=2).transpose("lat", "lon", "time"), seed=0)
    with pytest.raises(ValueError, match="cloud_cover"):
        observe(_column(n=2), seed=0, cloud_cover=1.5)
