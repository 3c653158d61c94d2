"""Tests of the Sentinel-2 tile helpers (stacking round trip, lat/lon resampling)."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from eoretrieval.carbon import sentinel2 as s2map


def _tile():
    t = pd.date_range("2016-01-01", periods=12, freq="MS")
    y = 5079250.0 + 10 * np.arange(6)
    x = 465186.0 + 10 * np.arange(5)
    rng = np.random.default_rng(0)
    nd = 0.5 + 0.3 * np.sin(2 * np.pi * (t.month.to_numpy() - 4) / 12)[:, None, None] + rng.normal(0, 0.02, (12, 6, 5))
    return xr.DataArray(nd, dims=("time", "y", "x"), coords={"time": t, "y": y, "x": x}, attrs={"units": "1"})


def test_tile_round_trip_and_predict():
    from eoretrieval.carbon.interface import predict
    nd = _tile()
    clim = pd.DataFrame({"TA_F": np.linspace(0, 20, 12), "SW_IN_F": np.linspace(50, 250, 12),
                         "VPD_F": np.linspace(2, 10, 12)}, index=range(1, 13))
    tr = {"evi": {"coef": [0.0, 0.8, -0.05]}, "lswi": {"coef": [0.0, 0.6, -0.1]}}
    tile = s2map.tile_dataset(nd, clim, tr)
    back = s2map.unstack_tile(tile["ndvi"].values, nd, name="ndvi", units="1", long_name="NDVI")
    np.testing.assert_allclose(back.values, nd.values)
    out = predict("vprm_plus", {"lam": 0.03, "par0": 5000, "k_vpd": 0.1, "s_sm": 0.1, "f_auto": 0.3, "q10": 2,
                                "k_litter": 1, "w_m": 0.1, "eta": 0.9}, tile)
    assert np.isfinite(out["nee"].values).all()


def test_to_latlon_and_nearest_site():
    da = _tile().isel(time=0)
    ll = s2map.to_latlon(da, step_deg=5e-5)
    assert ll.dims == ("lat", "lon") and 45.8 < float(ll["lat"].mean()) < 45.9
    assert np.nanmin(ll.values) >= da.values.min() - 1e-12
    sites = xr.Dataset({"lat": ("site", [45.7, 49.0]), "lon": ("site", [12.7, 14.8])}, coords={"site": ["A", "B"]})
    name, km = s2map.nearest_site(sites, 45.87, 14.56)
    assert name == "A" and km == pytest.approx(145, abs=10)
