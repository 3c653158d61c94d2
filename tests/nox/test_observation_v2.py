"""Tests of the second version of the TROPOMI-like operator (eoretrieval.nox.tropomi_operator).

What is tested
--------------
- :func:`pixel_counts`: at the swath centre the count is the cell area over the nadir pixel area (cell area
  computed by hand), it never exceeds that, at the swath edge the pixel is 4x larger (count 1/4), and the swath
  moves by a golden-ratio fraction per day;
- :func:`weather_index`: sign (cyclonic > 0) on solid-body rotation, standardisation;
- :func:`observe` with ``pixel_area_km2 > 0``: the precision is ``noise_abs / sqrt(n_pixels)`` with
  ``n_pixels = pixel_counts x (1 - cloud_fraction)`` (at least 1), and the standardised residual has std 1;
- ``amf_bias``: the observed-to-true ratio is ``1 + amf_bias`` (exactly without AMF error, on average with it);
- ``winds`` and ``cloud_weather_corr``: the cloud field's latent Gaussian correlates with the weather index
  with about ρ, not at all for ρ = 0, while the masked fraction stays ``cloud_cover``;
- ``cloud_weather_corr > 0`` without winds raises ValueError.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy.special import ndtri

from eoretrieval.nox._fields import smooth_fields
from eoretrieval.nox.tropomi_operator import cloud_threshold_offset, observe, pixel_counts, weather_index

DIMS = ("time", "lat", "lon")
R_KM = 6371.0
CELL_KM = R_KM * np.radians(0.25)


def _coords(n, ny, nx):
    return {"time": pd.date_range("2021-03-01", periods=n), "lat": 30.125 + 0.25 * np.arange(ny),
            "lon": 110.125 + 0.25 * np.arange(nx)}


def _column(n=60, ny=24, nx=24, seed=0):
    """A positive, spatially varying NOx column (mol m-2)."""
    rng = np.random.default_rng(seed)
    vals = 1.5e-4 * np.exp(0.5 * smooth_fields(rng, n, (ny, nx), 3.0))
    return xr.DataArray(vals.astype(np.float32), dims=DIMS, coords=_coords(n, ny, nx), attrs={"units": "mol m-2"})


def _winds(n=60, ny=24, nx=24, seed=1):
    rng = np.random.default_rng(seed)
    c = _coords(n, ny, nx)
    u = xr.DataArray(5.0 * smooth_fields(rng, n, (ny, nx), 4.0), dims=DIMS, coords=c, attrs={"units": "m s-1"})
    v = xr.DataArray(5.0 * smooth_fields(rng, n, (ny, nx), 4.0), dims=DIMS, coords=c, attrs={"units": "m s-1"})
    return u, v


def _cell_area_km2(lat, dlat=0.25, dlon=0.25):
    """Small-cell area by hand: (R dlat)(R dlon cos lat) (relative error h^2/6 < 1e-6 for 0.25 deg)."""
    return (R_KM * np.radians(dlat)) * (R_KM * np.radians(dlon) * np.cos(np.radians(lat)))


# ------------------------------------------------------------------------------------------------ pixel_counts


def test_pixel_counts_nadir_edge_and_bounds():
    """A grid whose first and last columns lie exactly at the swath edges on day 0 (1300 km from the centre)."""
    lon = 100.0 + 0.25 * np.arange(97)                     # centre 112 E, +-12 deg
    lat0 = np.degrees(np.arccos(1300.0 / (12.0 * 111.32)))  # 12 deg of longitude = 1300 km at this latitude
    lat = lat0 + 0.25 * np.arange(4)
    pa = 19.25
    n = pixel_counts(lat, lon, 200, pa)
    assert n.shape == (200, 4, 97)
    full = _cell_area_km2(lat) / pa                          # count at nadir
    # day 0: the centre column is at nadir, the edge columns of the first row at +-1300 km (pixel area x 4)
    np.testing.assert_allclose(n[0, :, 48], full, rtol=1e-5)
    np.testing.assert_allclose(n[0, 0, [0, -1]], full[0] / 4.0, rtol=1e-5)
    # never more than at nadir, never less than at the edge
    assert np.all(n <= full[None, :, None] * (1 + 1e-9))
    assert np.all(n >= full[None, :, None] / 4.0 * (1 - 1e-6))
    # the swath moves by the golden ratio of its width per day: day 1 puts the centre column at 1606.8 - 2600 km
    x1 = 0.6180339887 * 2600.0 - 2600.0
    np.testing.assert_allclose(n[1, :, 48], full / (1 + 3 * (x1 / 1300.0) ** 2), rtol=1e-5)
    # over 200 days the centre column sees the whole swath: from (almost) nadir to (almost) the edge
    rel = n[1:, 0, 48] / full[0]
    assert rel.max() > 0.99 and rel.min() < 0.26


def test_pixel_counts_scale_with_pixel_area():
    lat = 30.125 + 0.25 * np.arange(8)
    lon = 110.125 + 0.25 * np.arange(9)                    # odd: the centre column is at nadir on day 0
    np.testing.assert_allclose(pixel_counts(lat, lon, 5, 10.0), 2.0 * pixel_counts(lat, lon, 5, 20.0), rtol=1e-12)
    # ~35 pixels of 19.25 km2 in a 0.25 deg cell at 30 N (27.8 km x 24.1 km)
    assert pixel_counts(lat, lon, 1)[0, 0].max() == pytest.approx(_cell_area_km2(lat[0]) / 19.25, rel=1e-5)


# ----------------------------------------------------------------------------------------------- weather_index


def test_weather_index_sign_on_solid_body_rotation():
    """Day 0 turns anticlockwise (cyclonic in the north: vorticity +2 Omega), day 1 clockwise: index +1 / -1."""
    c = _coords(2, 16, 16)
    lat, lon = c["lat"], c["lon"]
    y = 6.371e6 * np.radians(lat - lat.mean())[:, None] * np.ones((1, 16))
    x = 6.371e6 * np.radians(lon - lon.mean())[None, :] * np.cos(np.radians(lat))[:, None]
    om = 1e-5
    u = np.stack([-om * y, om * y])
    v = np.stack([om * x, -om * x])
    idx = weather_index(xr.DataArray(u, dims=DIMS, coords=c), xr.DataArray(v, dims=DIMS, coords=c))
    assert idx.shape == (2, 16, 16)
    np.testing.assert_allclose(idx[0], 1.0, atol=1e-4)
    np.testing.assert_allclose(idx[1], -1.0, atol=1e-4)


def test_weather_index_standardised():
    u, v = _winds(30, 16, 16)
    idx = weather_index(u, v)
    assert abs(float(idx.mean())) < 1e-5 and abs(float(idx.std()) - 1.0) < 1e-4


# ----------------------------------------------------------------------------------------------------- observe


def test_precision_from_pixel_counts_and_standardised_residual():
    col = _column()
    pa, noise_abs = 19.25, 1.66e-5
    ds = observe(col, seed=3, amf_rel_error=0.0, ratio_std=0.0, noise_rel=0.0, noise_abs=noise_abs,
                 pixel_area_km2=pa, amf_bias=0.05, cloud_cover=0.4)
    valid = ds["valid"].values.astype(bool)
    assert 0.4 < valid.mean() < 0.8
    npx = ds["n_pixels"].values
    assert np.all(npx[~valid] == 0)
    # n = pixels of the cell that day x clear fraction, at least one
    expect_n = np.maximum(pixel_counts(col["lat"].values, col["lon"].values, col.sizes["time"], pa)
                          * (1.0 - ds["cloud_fraction"].values.astype(float)), 1.0)
    np.testing.assert_allclose(npx[valid], expect_n[valid], rtol=1e-5)
    assert np.all(npx[valid] <= _cell_area_km2(col["lat"].values).max() / pa * (1 + 1e-6))
    assert np.median(npx[valid]) > 5                            # many pixels per clear cell: the test has power
    prec = ds["no2_column_precision"].values
    np.testing.assert_allclose(prec[valid], noise_abs / np.sqrt(npx[valid]), rtol=1e-5)
    true = ds["no2_column_true"].values.astype(float)
    np.testing.assert_allclose(true, 0.75 * col.values + 8e-6, rtol=1e-5)   # ratio_std = 0: r = 0.75 exactly
    z = (ds["no2_column"].values[valid] - true[valid] * 1.05) / prec[valid]
    n = z.size
    assert n > 10000
    assert abs(z.mean()) < 4 / np.sqrt(n)
    assert abs(z.std() - 1.0) < 4 / np.sqrt(2 * n)          # sd of a sample std: 1 / sqrt(2 n)


def test_more_pixels_less_noise_than_one_pixel():
    col = _column(n=20)
    one = observe(col, seed=3, noise_rel=0.0, pixel_area_km2=0.0)
    many = observe(col, seed=3, noise_rel=0.0, pixel_area_km2=19.25)
    np.testing.assert_allclose(one["no2_column_precision"].values, 1.66e-5, rtol=1e-6)
    assert np.all(one["n_pixels"].values[one["valid"].values == 1] == 1)
    v = many["valid"].values.astype(bool)
    np.testing.assert_array_equal(v, one["valid"].values.astype(bool))      # same seed: same clouds
    ratio = many["no2_column_precision"].values[v] / one["no2_column_precision"].values[v]
    np.testing.assert_allclose(ratio, 1 / np.sqrt(many["n_pixels"].values[v]), rtol=1e-5)
    assert np.median(ratio) < 0.3                              # ~35 pixels x clear fraction: several times less


@pytest.mark.parametrize("bias", [-0.2, 0.1])
def test_amf_bias_exact_without_noise(bias):
    col = _column(n=20)
    ds = observe(col, seed=4, amf_rel_error=0.0, noise_abs=0.0, noise_rel=0.0, amf_bias=bias, cloud_cover=0.3)
    v = ds["valid"].values.astype(bool)
    ratio = ds["no2_column"].values[v] / ds["no2_column_true"].values[v]
    np.testing.assert_allclose(ratio, 1 + bias, rtol=1e-5)
    assert ds.attrs["obs_amf_bias"] == bias


def test_amf_bias_is_the_mean_ratio_with_amf_error():
    """With a random AMF error (std 0.15, mean 0) the mean of obs / true is 1 + bias within 4 standard errors;
    the standard error is the day-to-day std of the daily spatial means over sqrt(days) (AMF fields are
    independent from day to day but spatially smooth, so days are the independent samples)."""
    n = 200
    col = _column(n=n)
    bias = 0.12
    ds = observe(col, seed=5, amf_rel_error=0.15, noise_abs=0.0, noise_rel=0.0, amf_bias=bias, cloud_cover=0.0,
                 cloud_seasonal_amplitude=0.0)
    ratio = (ds["no2_column"] / ds["no2_column_true"]).values
    assert np.isfinite(ratio).mean() > 0.99
    daily = np.nanmean(ratio, axis=(1, 2))
    se = daily.std(ddof=1) / np.sqrt(n)
    assert se < 0.01
    assert abs(daily.mean() - (1 + bias)) < 4 * se
    # and the AMF error itself is returned: obs / true = 1 + bias + amf_error exactly
    np.testing.assert_allclose(ratio, 1 + bias + ds["amf_error"].values, rtol=1e-5)


@pytest.fixture(scope="module")
def cloudy_worlds():
    """Observations of a 32 x 32 grid over 600 days with the same winds, ρ = 0 and ρ = 0.6."""
    n, ny = 600, 32
    col = _column(n=n, ny=ny, nx=ny)
    u, v = _winds(n, ny, ny)
    kw = dict(seed=7, cloud_cover=0.45, cloud_seasonal_amplitude=0.0, cloud_threshold=0.3)
    out = {rho: observe(col, winds=(u, v), cloud_weather_corr=rho, **kw) for rho in (0.0, 0.6)}
    zeta = weather_index(u, v, smooth_cells=100.0 / CELL_KM)   # the smoothing observe uses (cloud_length_km)
    return out, zeta


def _latent(ds, cover=0.45, threshold=0.3):
    """The Gaussian field behind the cloud fraction: cloud = Phi(z - mu)  =>  z = Phi^-1(cloud) + mu."""
    return ndtri(ds["cloud_fraction"].values.astype(float)) + cloud_threshold_offset(cover, threshold)


@pytest.mark.parametrize("rho", [0.0, 0.6])
def test_clouds_follow_the_weather(cloudy_worlds, rho):
    worlds, zeta = cloudy_worlds
    ds = worlds[rho]
    z = _latent(ds)
    ok = np.isfinite(z)
    assert ok.mean() > 0.999
    r = np.corrcoef(z[ok], zeta[ok])[0, 1]
    # standard error from the spread of the per-day correlations (days are independent draws)
    r_day = np.array([np.corrcoef(z[i].ravel(), zeta[i].ravel())[0, 1] for i in range(z.shape[0])])
    se = r_day.std(ddof=1) / np.sqrt(z.shape[0])
    assert se < 0.0125
    if rho == 0:
        assert abs(r) < 0.05
    else:
        assert r > 0.3 and abs(r - rho) < 4 * se + 0.02
    # the masked fraction stays the cloud cover (tolerance: 4 standard errors of the daily masked fractions)
    masked = 1.0 - ds["valid"].values.mean(axis=(1, 2))
    se_m = masked.std(ddof=1) / np.sqrt(len(masked))
    assert se_m < 0.015
    assert abs(masked.mean() - 0.45) < 4 * se_m
    # cloudy days are cyclonic ones with ρ > 0: the weather index is higher where masked
    v = ds["valid"].values.astype(bool)
    diff = zeta[~v].mean() - zeta[v].mean()
    assert (diff > 0.5) if rho > 0 else (abs(diff) < 0.1)


def test_cloud_weather_corr_needs_winds():
    with pytest.raises(ValueError, match="winds"):
        observe(_column(n=5), seed=0, cloud_weather_corr=0.3)
    with pytest.raises(ValueError, match="cloud_weather_corr"):
        observe(_column(n=5), seed=0, winds=_winds(5), cloud_weather_corr=1.0)


def test_settings_recorded_in_attrs():
    ds = observe(_column(n=5), seed=2, pixel_area_km2=19.25, winds=_winds(5), cloud_weather_corr=0.5, amf_bias=-0.1)
    assert ds.attrs["obs_pixel_area_km2"] == 19.25
    assert ds.attrs["obs_cloud_weather_corr"] == 0.5
    assert ds.attrs["obs_amf_bias"] == -0.1
    assert ds["n_pixels"].attrs["units"] == "1"
