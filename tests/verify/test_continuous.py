"""Tests of eoretrieval.verify.continuous: API matrix, known values, consistency with sklearn/numpy."""

import numpy as np
import pytest
import xarray as xr
from sklearn.metrics import mean_squared_error, r2_score

from eoretrieval.verify import bias, corr, get_metric, list_metrics, mae, mse, r2, relative_error, rmse


@pytest.mark.parametrize(
    "pred, truth, expected",
    [([1.0, 2.0, 3.0], [1.0, 2.0, 5.0], {"mse": 4 / 3, "bias": -2 / 3, "mae": 2 / 3}),
     ([0.0, 0.0], [3.0, 4.0], {"mse": 12.5, "bias": -3.5, "mae": 3.5})],
)
def test_known_values(pred, truth, expected):
    p, t = xr.DataArray(pred, dims="x"), xr.DataArray(truth, dims="x")
    assert float(mse(p, t)) == pytest.approx(expected["mse"])
    assert float(rmse(p, t)) == pytest.approx(np.sqrt(expected["mse"]))
    assert float(bias(p, t)) == pytest.approx(expected["bias"])
    assert float(mae(p, t)) == pytest.approx(expected["mae"])


def test_against_sklearn_and_numpy(field_pair):
    pred, truth = field_pair
    p, t = pred.values.ravel(), truth.values.ravel()
    # weights=None: equal weights (the default "area" weights the lat dim of field_pair by cos(lat))
    assert float(mse(pred, truth, weights=None)) == pytest.approx(mean_squared_error(t, p))
    assert float(r2(pred, truth, weights=None)) == pytest.approx(r2_score(t, p))
    assert float(corr(pred, truth, weights=None)) == pytest.approx(np.corrcoef(p, t)[0, 1])
    w = np.broadcast_to(np.cos(np.deg2rad(pred.lat.values))[None, :, None], pred.shape).ravel()
    assert float(mse(pred, truth)) == pytest.approx(mean_squared_error(t, p, sample_weight=w))
    assert float(r2(pred, truth)) == pytest.approx(r2_score(t, p, sample_weight=w))


def test_dim_reduces_only_named_dims(field_pair):
    pred, truth = field_pair
    out = rmse(pred, truth, dim=("lat", "lon"), weights=None)
    assert out.dims == ("time",)
    for i in range(4):
        ref = np.sqrt(np.mean((pred.values[i] - truth.values[i]) ** 2))
        assert float(out[i]) == pytest.approx(ref)
    assert out.attrs["units"] == "mol m-2 s-1"
    assert corr(pred, truth, dim="time").dims == ("lat", "lon")


def test_weights_equal_repeated_samples():
    p = xr.DataArray([1.0, 3.0], dims="x")
    t = xr.DataArray([0.0, 0.0], dims="x")
    w = xr.DataArray([1.0, 3.0], dims="x")
    rep_p, rep_t = xr.DataArray([1.0, 3.0, 3.0, 3.0], dims="x"), xr.DataArray([0.0] * 4, dims="x")
    assert float(mse(p, t, weights=w)) == pytest.approx(float(mse(rep_p, rep_t)))


def test_skipna(field_pair):
    pred, truth = field_pair
    pred = pred.copy()
    pred[0, 0, 0] = np.nan
    assert np.isnan(float(rmse(pred, truth)))
    m = np.isfinite(pred.values)
    ref = np.sqrt(np.mean((pred.values[m] - truth.values[m]) ** 2))
    assert float(rmse(pred, truth, skipna=True, weights=None)) == pytest.approx(ref)


def test_dask_equals_eager(field_pair):
    pred, truth = field_pair
    lazy = rmse(pred.chunk({"time": 2}), truth.chunk({"time": 2}), dim=("lat", "lon"))
    np.testing.assert_allclose(lazy.compute().values, rmse(pred, truth, dim=("lat", "lon")).values)


def test_misaligned_coordinates_raise(field_pair):
    pred, truth = field_pair
    with pytest.raises(ValueError):
        rmse(pred.assign_coords(lat=pred.lat + 1.0), truth)


def test_relative_error_of_totals():
    p = xr.DataArray([[1.0, 2.0], [3.0, 4.0]], dims=("lat", "lon"))
    t = xr.DataArray([[1.0, 1.0], [4.0, 4.0]], dims=("lat", "lon"))
    assert float(relative_error(p, t)) == pytest.approx(0.0)
    assert relative_error(p, t, dim="lon").values.tolist() == pytest.approx([0.5, -0.125])


def test_registry():
    assert get_metric("RMSE") is rmse
    assert {"rmse", "bias", "corr", "r2"} <= set(list_metrics())
    with pytest.raises(ValueError, match="valid metrics"):
        get_metric("nope")
