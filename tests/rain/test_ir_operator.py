"""Tests of eoretrieval.rain.ir_operator: published relations, physics of each effect, layout, bad input."""

import numpy as np
import pytest
import xarray as xr

from eoretrieval.errors import DataError
from eoretrieval.io.seviri import SEVIRI_CHANNELS, check_seviri_layout
from eoretrieval.rain.ir_operator import (IROperatorConfig, auto_estimator_rain, auto_estimator_temperature,
                                          gpi_rain, seviri_ir_operator)

QUIET = dict(cloud_fraction=0.0, nedt=0.0, rain_scatter=0.0, warm_rain_fraction=0.0)


def _rain(frames, dx=4000.0, step_min=15):
    frames = np.asarray(frames, dtype=float)
    nt, ny, nx = frames.shape
    time = np.datetime64("2018-08-24T18:00") + np.arange(nt) * np.timedelta64(step_min, "m")
    return xr.DataArray(frames, dims=("time", "y", "x"),
                        coords={"time": time, "y": np.arange(ny) * dx, "x": np.arange(nx) * dx},
                        attrs={"units": "mm h-1"})


def _disk(ny=64, nx=64, cy=32, cx=32, radius=4, rate=30.0):
    yy, xx = np.mgrid[:ny, :nx]
    return np.where((yy - cy) ** 2 + (xx - cx) ** 2 <= radius ** 2, rate, 0.0)


@pytest.mark.parametrize("t, rain", [(220.0, 6.692132), (235.0, 0.962799), (250.0, 0.135108)])
def test_auto_estimator_known_values(t, rain):
    # R = 1.1183e11 exp(-3.6382e-2 T^1.2), Vicente et al. (1998)
    assert float(auto_estimator_rain(np.array(t))) == pytest.approx(1.1183e11 * np.exp(-3.6382e-2 * t ** 1.2))
    assert float(auto_estimator_rain(np.array(t))) == pytest.approx(rain, rel=1e-3)
    assert float(auto_estimator_temperature(auto_estimator_rain(np.array(t)))) == pytest.approx(t)


def test_gpi():
    np.testing.assert_array_equal(gpi_rain(np.array([230.0, 235.0, 240.0])), [3.0, 0.0, 0.0])


def test_clear_sky_is_surface_temperature():
    ds = seviri_ir_operator(_rain(np.zeros((2, 32, 32))), seed=0, config=IROperatorConfig(**QUIET))
    t = ds["IR_108"].values
    assert 275 < t.min() and t.max() < 305 and abs(t.mean() - 290) < 8
    # clear sky: 8.7 colder than 10.8, WV channels much colder (upper-troposphere emission)
    assert (ds["IR_087"] < ds["IR_108"]).all() and (ds["WV_062"] < ds["IR_108"] - 20).all()


def test_convective_core_is_cold_and_shifted_poleward():
    cfg = IROperatorConfig(**QUIET, anvil_shift_px=0.0)
    ds = seviri_ir_operator(_rain(np.stack([_disk()] * 2)), seed=0, config=cfg)
    t = ds["IR_108"].values[0]
    assert t.min() < 220
    cy, _ = np.unravel_index(np.argmin(ndimage_smooth(t)), t.shape)
    # height ~ (290 - 205)/6.5 ~ 13 km, tan(60) ~ 1.73 -> ~ 22 km ~ 5-6 px north (+y)
    assert 3 <= cy - 32 <= 8
    # overshooting top: 6.2 µm warmer than 10.8 µm; ice: 8.7 µm warmer than 10.8 µm
    iy, ix = np.unravel_index(np.argmin(t), t.shape)
    assert ds["WV_062"].values[0, iy, ix] > t[iy, ix] and ds["IR_087"].values[0, iy, ix] > t[iy, ix]


def ndimage_smooth(t):
    from scipy import ndimage
    return ndimage.uniform_filter(t, 5)


def test_anvil_cold_where_it_does_not_rain():
    cfg = IROperatorConfig(**QUIET, zenith_deg=0.0)
    rain = _disk()
    ds = seviri_ir_operator(_rain(np.stack([rain] * 2)), seed=1, config=cfg)
    t = ds["IR_108"].values[0]
    ring = ~(ndimage_dilate(rain > 0, 2)) & ndimage_dilate(rain > 0, 8)
    assert np.mean(t[ring] < 250) > 0.3


def ndimage_dilate(mask, n):
    from scipy import ndimage
    return ndimage.binary_dilation(mask, iterations=n)


def test_warm_rain_invisible():
    light = np.full((2, 32, 32), 2.0)  # widespread light rain, below the convective threshold
    warm = seviri_ir_operator(_rain(light), seed=0, config=IROperatorConfig(**{**QUIET, "warm_rain_fraction": 1.0}))
    cold = seviri_ir_operator(_rain(light), seed=0, config=IROperatorConfig(**QUIET))
    assert float(warm["IR_108"].mean()) > 255 and float(cold["IR_108"].mean()) < 250


def test_cloud_top_cooling_leads_rain():
    frames = np.stack([np.zeros((64, 64)), _disk()])  # rain only in the second frame
    with_lag = seviri_ir_operator(_rain(frames), seed=0, config=IROperatorConfig(**QUIET, lag_min=15.0))
    no_lag = seviri_ir_operator(_rain(frames), seed=0, config=IROperatorConfig(**QUIET, lag_min=0.0))
    assert float(with_lag["IR_108"][0].min()) < 230 and float(no_lag["IR_108"][0].min()) > 270


def test_the_lag_is_in_minutes_whatever_the_time_step():
    """At 5-minute steps the 15-minute lag is three frames: the IR at t shows the rain at t + 15 min, not t + 5."""
    from eoretrieval.rain.ir_operator import frames_ahead

    frames = np.stack([np.zeros((64, 64))] * 3 + [_disk()] + [np.zeros((64, 64))] * 3)  # rain only in frame 3
    ir = seviri_ir_operator(_rain(frames, step_min=5), seed=0, config=IROperatorConfig(**QUIET, lag_min=15.0))
    assert float(ir["IR_108"][0].min()) < 230  # t sees t + 15 min
    assert float(ir["IR_108"][1].min()) > 270 and float(ir["IR_108"][2].min()) > 270  # t + 5 sees t + 20: nothing
    half = seviri_ir_operator(_rain(frames, step_min=10), seed=0, config=IROperatorConfig(**QUIET, lag_min=15.0))
    # at 10-minute steps frame 2 (t + 20 min) sees t + 35 min, halfway between frame 3 (rain) and frame 4 (none)
    assert float(half["IR_108"][2].min()) < 230 and float(half["IR_108"][0].min()) > 270
    assert frames_ahead(5.0) == 3 and frames_ahead(15.0) == 1 and frames_ahead(10.0) == 2


def test_layout_nan_and_seed():
    frames = np.stack([_disk()] * 3)
    frames[:, :4, :4] = np.nan
    a = seviri_ir_operator(_rain(frames), seed=3)
    b = seviri_ir_operator(_rain(frames), seed=3)
    c = seviri_ir_operator(_rain(frames), seed=4)
    check_seviri_layout(a)
    assert set(a.data_vars) == set(SEVIRI_CHANNELS)
    assert np.isnan(a["IR_108"].values[:, :4, :4]).all()
    xr.testing.assert_equal(a, b)
    assert not np.allclose(np.nan_to_num(a["IR_108"].values), np.nan_to_num(c["IR_108"].values))


def test_noise_level():
    cfg = IROperatorConfig(**{**QUIET, "nedt": 0.15})
    a = seviri_ir_operator(_rain(np.zeros((1, 32, 32))), seed=0, config=cfg)
    b = seviri_ir_operator(_rain(np.zeros((1, 32, 32))), seed=0, config=IROperatorConfig(**QUIET))
    assert float((a["IR_108"] - b["IR_108"]).std()) == pytest.approx(0.15, rel=0.15)


def test_relation_is_uncertain():
    # with the default scatter, the same rain rate maps onto a wide range of cloud-top temperatures
    rng = np.random.default_rng(0)
    rain = np.clip(rng.gamma(0.5, 4.0, (2, 64, 64)), 0, 80)
    from scipy import ndimage
    rain = ndimage.gaussian_filter(rain, (0, 2, 2))
    t = seviri_ir_operator(_rain(rain), seed=0)["IR_108"].values[0]
    sel = (rain[0] > 1) & (rain[0] < 3)
    assert np.percentile(t[sel], 90) - np.percentile(t[sel], 10) > 15


@pytest.mark.parametrize("da, message", [
    (_rain(np.zeros((1, 4, 4))).assign_attrs(units="mm"), "expected 'mm h-1'"),
    (_rain(np.zeros((1, 4, 4))).transpose("y", "x", "time"), "dims"),
])
def test_bad_input(da, message):
    with pytest.raises(DataError, match=message):
        seviri_ir_operator(da)
