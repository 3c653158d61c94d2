"""Tests of eoretrieval.verify._core: dims, area weights, the weighted mean and its NaN semantics."""

import numpy as np
import pytest
import xarray as xr

from eoretrieval.verify import area_weights, bias, corr, crps_ensemble, interval_coverage, rmse, spread_skill_ratio
from eoretrieval.verify._core import pair_weights, resolve_dims, weighted_mean, weighted_sum


def test_resolve_dims():
    a = xr.DataArray(np.zeros((2, 3)), dims=("time", "x"))
    b = xr.DataArray(np.zeros((3, 4)), dims=("x", "y"))
    assert resolve_dims(a, b) == ["time", "x", "y"]
    assert resolve_dims(a, dim="x") == ["x"] and resolve_dims(a, dim=("x", "time")) == ["x", "time"]
    assert resolve_dims(a, dim=[]) == []
    with pytest.raises(ValueError, match=r"cannot reduce over \['lat'\].*dims \['time', 'x'\]"):
        resolve_dims(a, dim="lat")


def test_area_weights_known_values_and_wb2_relation():
    lat = np.array([-60.0, 0.0, 30.0, 60.0])
    da = xr.DataArray(np.zeros((4, 3)), dims=("lat", "lon"), coords={"lat": lat, "lon": [0.0, 1.0, 2.0]})
    w = area_weights(da)
    cos = np.cos(np.deg2rad(lat))
    np.testing.assert_allclose(w.values, cos / cos.mean())
    assert w.dims == ("lat",) and float(w.mean()) == pytest.approx(1.0) and w.attrs["units"] == "1"
    # WeatherBench 2 get_lat_weights on a regular grid: sin(lat + d/2) - sin(lat - d/2) = 2 cos(lat) sin(d/2),
    # proportional to cos(lat), so the normalised weights are the same
    reg = np.arange(-87.5, 90.0, 5.0)
    wb2 = np.sin(np.deg2rad(reg + 2.5)) - np.sin(np.deg2rad(reg - 2.5))
    ours = area_weights(xr.DataArray(reg, dims="lat", coords={"lat": reg}))
    np.testing.assert_allclose(ours.values, wb2 / wb2.mean(), rtol=1e-12)
    with pytest.raises(ValueError, match="'lat' coordinate"):
        area_weights(xr.DataArray([1.0], dims="y"))
    with pytest.raises(ValueError, match=r"outside \[-90, 90\]"):
        area_weights(xr.DataArray([1.0], dims="lat", coords={"lat": [95.0]}))


def test_weighted_mean_semantics():
    x = xr.DataArray([[1.0, np.nan], [3.0, 5.0]], dims=("t", "x"))
    w = xr.DataArray([1.0, 3.0], dims="x")
    assert np.isnan(float(weighted_mean(x)))
    assert float(weighted_mean(x, skipna=True)) == pytest.approx(3.0)
    # weights broadcast over t; the NaN's weight is dropped: (1 + 3 + 3 * 5) / (1 + 1 + 3)
    assert float(weighted_mean(x, weights=w, skipna=True)) == pytest.approx(19.0 / 5.0)
    assert weighted_mean(x, dim="x", weights=w, skipna=True).values.tolist() == pytest.approx([1.0, 4.5])
    assert float(weighted_sum(x, weights=w, skipna=True)) == pytest.approx(19.0)
    assert np.isnan(float(weighted_mean(x, weights=xr.DataArray([0.0, 0.0], dims="x"))))  # no weight: NaN, no warning
    with pytest.raises(ValueError, match="non-negative"):
        weighted_mean(x, weights=-w)
    with pytest.raises(ValueError, match=r"weights have dims \['lat'\]"):
        weighted_mean(x, weights=xr.DataArray([1.0], dims="lat"))
    with pytest.raises(ValueError, match="'area' or None"):
        weighted_mean(x, weights="cos")


def test_pair_weights_drop_pairs_with_a_nan_on_either_side():
    p = xr.DataArray([1.0, np.nan, 3.0], dims="x")
    t = xr.DataArray([1.0, 2.0, np.nan], dims="x")
    assert pair_weights(p, t, None, skipna=True).values.tolist() == [1.0, 0.0, 0.0]
    assert pair_weights(p, t, None).values.tolist() == [1.0, 1.0, 1.0]


def test_area_default_equals_explicit_cos_weights_of_existing_callers(field_pair):
    """Callers (nox evaluation, notebook 01) pass w = cos(lat) broadcast; the default gives the same numbers."""
    pred, truth = field_pair
    w = np.cos(np.deg2rad(truth.lat)).broadcast_like(truth)
    for f in (rmse, bias):
        assert float(f(pred, truth)) == pytest.approx(float(f(pred, truth, weights=w)), rel=1e-13)
    np.testing.assert_allclose(corr(pred, truth, dim=("lat", "lon")),
                               corr(pred, truth, dim=("lat", "lon"), weights=w), rtol=1e-13)
    ens = pred.expand_dims(member=4) + xr.DataArray(np.linspace(-1, 1, 4), dims="member")
    for f in (interval_coverage, spread_skill_ratio, crps_ensemble):
        assert float(f(ens, truth)) == pytest.approx(float(f(ens, truth, weights=w)), rel=1e-13)
    # and differs from the unweighted mean (so the test can fail)
    assert float(rmse(pred, truth)) != pytest.approx(float(rmse(pred, truth, weights=None)), rel=1e-4)
    # only a reduction over lat is affected
    np.testing.assert_allclose(rmse(pred, truth, dim="time"), rmse(pred, truth, dim="time", weights=None))


def test_import_is_light():
    import subprocess
    import sys

    code = ("import sys, eoretrieval.verify; "
            "print([m for m in ('torch', 'cartopy', 'seaborn', 'pysteps', 'scoringrules', 'scipy.stats') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
