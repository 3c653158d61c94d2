"""Physics of the GMI-like simulator: monotonic responses, polarisation, land/ocean contrast, beams, noise."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from eoretrieval.errors import DataError
from eoretrieval.rain import gmi_simulator as gs

RATES = np.array([0.0, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0], dtype=np.float32)


def _uniform_scenes(rates, *, land: float, ts: float = 289.0, tcwv: float = 25.0, size: int = 8):
    n = len(rates)
    rain = xr.DataArray(np.broadcast_to(np.asarray(rates, np.float32)[:, None, None], (n, size, size)).copy(),
                        dims=("sample", "y", "x"), attrs={"units": "mm h-1", "pixel_km": 2.0})
    env = gs.make_environment(n, size=size, seed=0)
    env["surface_temperature"][:] = ts
    env["tcwv"][:] = tcwv
    env["freezing_level"][:] = (ts - 273.15) / 6.5
    env["land_fraction"][:] = land
    return rain, env


def _tb(rates, land, **kw):
    rain, env = _uniform_scenes(rates, land=land, **kw)
    return gs.simulate_tb(rain, env, noise=False).isel(y=4, x=4)


def test_channels_are_the_13_gmi_channels():
    names = [c.name for c in gs.GMI_CHANNELS]
    assert len(names) == 13
    assert names[:2] == ["10.65V", "10.65H"] and names[-2:] == ["183.31+-3V", "183.31+-7V"]
    assert len(gs.get_channels("amsr2")) == 12
    with pytest.raises(ValueError, match="valid sensors"):
        gs.get_channels("ssmi")


@pytest.mark.parametrize("channel", ["10.65V", "10.65H", "18.7H", "36.64H"])
def test_ocean_emission_warms_low_frequencies_monotonically(channel):
    tb = _tb(RATES[:6], land=0.0).sel(channel=channel).values  # up to 10 mm/h
    assert np.all(np.diff(tb) > 0), tb
    assert tb[-1] - tb[0] > 20.0


@pytest.mark.parametrize("channel", ["89.0V", "166.0V", "183.31+-7V"])
def test_ice_scattering_cools_high_frequencies_monotonically(channel):
    tb = _tb(RATES[4:], land=0.0).sel(channel=channel).values  # 5 to 50 mm/h
    assert np.all(np.diff(tb) < 0), tb
    assert tb[0] - tb[-1] > 40.0


def test_scattering_signal_grows_with_frequency():
    tb = _tb(np.array([0.0, 20.0]), land=1.0)
    depression = (tb.isel(sample=0) - tb.isel(sample=1)).sel(channel=["36.64V", "89.0V", "166.0V"]).values
    assert depression[0] < depression[1] < depression[2]


def test_polarisation_difference_over_ocean_shrinks_with_rain():
    tb = _tb(RATES[:6], land=0.0)
    pd_ = (tb.sel(channel="18.7V") - tb.sel(channel="18.7H")).values
    assert pd_[0] > 50.0  # calm ocean is strongly polarised at 53 deg
    assert np.all(np.diff(pd_) < 0)


def test_land_ocean_contrast():
    ocean, land = _tb(np.array([0.0, 5.0]), land=0.0), _tb(np.array([0.0, 5.0]), land=1.0)
    # clear sky: the ocean is radiometrically cold and polarised, land warm and nearly unpolarised
    assert float(land.sel(channel="10.65H")[0] - ocean.sel(channel="10.65H")[0]) > 100.0
    assert float(land.sel(channel="10.65V")[0] - land.sel(channel="10.65H")[0]) < 15.0
    # the emission signal of 5 mm/h at 10.65 GHz H is large over ocean, small over land
    d_ocean = float(ocean.sel(channel="10.65H")[1] - ocean.sel(channel="10.65H")[0])
    d_land = float(land.sel(channel="10.65H")[1] - land.sel(channel="10.65H")[0])
    assert d_ocean > 20.0 and abs(d_land) < 0.3 * d_ocean


def test_water_vapour_opacity_183ghz():
    ocean, land = _tb(np.array([0.0]), land=0.0), _tb(np.array([0.0]), land=1.0)
    surface_contrast = (land - ocean).sel(channel=["183.31+-3V", "183.31+-7V", "89.0V"]).values[0]
    assert abs(surface_contrast[0]) < 0.5 < abs(surface_contrast[2])
    assert abs(surface_contrast[0]) <= abs(surface_contrast[1])
    # a moister column raises the emission level: 183.31+-3 gets colder
    dry = _tb(np.array([0.0]), land=1.0, tcwv=10.0).sel(channel="183.31+-3V").values[0]
    wet = _tb(np.array([0.0]), land=1.0, tcwv=50.0).sel(channel="183.31+-3V").values[0]
    assert wet < dry


def test_footprints_smooth_low_frequencies_more():
    rain = xr.DataArray(np.zeros((1, 32, 32), np.float32), dims=("sample", "y", "x"),
                        attrs={"units": "mm h-1", "pixel_km": 2.0})
    rain[0, 16, 16] = 30.0
    env = gs.make_environment(1, size=32, seed=1)
    env["land_fraction"][:] = 0.0
    tb = gs.simulate_tb(rain, env, noise=False)[0]
    peak_10 = float(tb.sel(channel="10.65H")[16, 16] - tb.sel(channel="10.65H")[0, 0])
    peak_89 = float(tb.sel(channel="89.0V")[0, 0] - tb.sel(channel="89.0V")[16, 16])
    # a 2-km cell fills a small part of the 25-km beam (weak signal) but most of the 5-km beam
    assert 0 < peak_10 < 2.0 and peak_89 > 5.0


def test_noise_has_the_channel_nedt():
    rain, env = _uniform_scenes(np.zeros(4), land=0.0, size=32)
    clean = gs.simulate_tb(rain, env, noise=False)
    noisy = gs.simulate_tb(rain, env, noise=True, seed=3)
    sd = (noisy - clean).std(dim=("sample", "y", "x")).values
    expected = np.array([c.nedt_k for c in gs.GMI_CHANNELS])
    np.testing.assert_allclose(sd, expected, rtol=0.05)
    again = gs.simulate_tb(rain, env, noise=True, seed=3)
    np.testing.assert_array_equal(noisy.values, again.values)


def test_units_checked():
    rain, env = _uniform_scenes([1.0], land=0.0)
    with pytest.raises(ValueError, match="expected 'mm h-1'"):
        gs.simulate_tb(rain.assign_attrs(units="mm"), env)


def test_stochastic_fields_are_seeded_and_skewed():
    a = gs.stochastic_rain_fields(50, seed=5)
    b = gs.stochastic_rain_fields(50, seed=5)
    np.testing.assert_array_equal(a.values, b.values)
    wet = a.values[a.values > 0.1]
    assert a.attrs["units"] == "mm h-1"
    assert np.quantile(wet, 0.999) > 5 * np.median(wet)


def test_environment_follows_clausius_clapeyron():
    env = gs.make_environment(4000, size=4, seed=0)
    ts = env["surface_temperature"].values
    slope = np.polyfit(ts, np.log(env["tcwv"].values), 1)[0]
    assert slope == pytest.approx(0.07, abs=0.01)
    np.testing.assert_allclose(env["freezing_level"].values, (ts - 273.15) / 6.5, rtol=1e-6)


KNMI = sorted((Path(__file__).parents[2] / "data" / "radar_rain" / "knmi_rap_5min_20100826").glob("*.h5"))


@pytest.mark.skipif(not KNMI, reason="KNMI radar files not in data/radar_rain")
def test_real_radar_fields_through_pysteps():
    pytest.importorskip("pysteps")
    fields = gs.load_radar_fields([str(p) for p in KNMI[:2]], importer="knmi_hdf5", coarsen=2)
    assert fields.dims == ("time", "y", "x") and fields.attrs["units"] == "mm h-1"
    assert fields.shape == (2, 382, 350) and fields.attrs["pixel_km"] == 2.0
    assert np.nanmax(fields.values) > 1.0 and np.isnan(fields.values).any()
    patches = gs.extract_patches(fields, size=32)
    assert not np.isnan(patches.values).any() and patches.sizes["sample"] > 5


def test_bad_rain_files_raise():
    with pytest.raises(DataError, match="matches no file"):
        gs.load_radar_fields("/nonexistent/*.h5")
