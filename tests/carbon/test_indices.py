"""Tests of the vegetation indices (hand-computed values and transfers)."""

import numpy as np
import pytest
import xarray as xr

from eoretrieval.carbon import indices as vi


def test_known_values():
    assert vi.ndvi(0.5, 0.1) == pytest.approx(0.4 / 0.6)
    assert vi.evi(0.5, 0.1, 0.05) == pytest.approx(2.5 * 0.4 / (0.5 + 0.6 - 0.375 + 1))
    assert vi.evi2(0.5, 0.1) == pytest.approx(2.5 * 0.4 / (0.5 + 0.24 + 1))
    assert vi.lswi(0.5, 0.3) == pytest.approx(0.25)
    assert vi.nirv(0.5, 0.1) == pytest.approx(0.5 * 0.4 / 0.6)
    assert vi.ndre(0.5, 0.3) == pytest.approx(0.25)
    assert vi.kndvi(0.5, 0.1) == pytest.approx(np.tanh((0.4 / 0.6) ** 2))
    assert float(vi.fapar_from_ndvi(0.05)) == 0.0 and float(vi.fapar_from_ndvi(0.99)) == 1.0


def test_dataarray_units():
    nir = xr.DataArray([0.4, 0.5], dims="time")
    red = xr.DataArray([0.1, 0.05], dims="time")
    out = vi.kndvi(nir, red)
    assert out.attrs["units"] == "1" and out.dims == ("time",)


def test_index_transfer_recovers_polynomial():
    x = np.linspace(0, 0.9, 50)
    y = 0.3 * x ** 2 + 0.5 * x - 0.02
    tr = vi.fit_index_transfer(x, y)
    np.testing.assert_allclose(tr["coef"], [0.3, 0.5, -0.02], atol=1e-10)
    assert tr["r2"] == pytest.approx(1.0)
    out = vi.apply_index_transfer(xr.DataArray(x, dims="t"), tr)
    np.testing.assert_allclose(out.values, y, atol=1e-10)
    with pytest.raises(ValueError, match="need more than 3"):
        vi.fit_index_transfer([0.1, 0.2], [0.1, 0.2])
