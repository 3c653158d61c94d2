"""Tests of eoretrieval.rain.seviri_data: rate conversion, resampling, sequence checks, sample sets."""

import shutil

import numpy as np
import pytest
import xarray as xr

pytest.importorskip("pysteps")

from eoretrieval.config import repo_root  # noqa: E402
from eoretrieval.errors import DataError  # noqa: E402
from eoretrieval.io.radar import read_radar  # noqa: E402
from eoretrieval.rain.seviri_data import (RainTransform, load_rain_sequence, make_test_set,  # noqa: E402
                                          make_training_set, resample_to_spacing, to_rain_rate)

KNMI_DIR = repo_root() / "data/radar_rain/knmi_rap_5min_20100826"
OPERA_DIR = repo_root() / "data/radar_rain/opera_odim_20180824"


def _ds(values, units="mm", accutime=5.0, pysteps_unit="mm"):
    values = np.asarray(values, dtype=np.float32)
    return xr.Dataset({"precip": (("time", "y", "x"), values,
                                  {"units": units, "accutime_min": accutime, "pysteps_unit": pysteps_unit,
                                   "threshold": 0.01, "zerovalue": 0.0})},
                      attrs={"source_file": "fake.h5"})


@pytest.mark.parametrize("values, units, acc, expected", [
    ([[[0.5]]], "mm", 5.0, 6.0),        # 0.5 mm in 5 min = 6 mm/h
    ([[[3.0]]], "mm", 60.0, 3.0),
    ([[[2.0]]], "mm h-1", 15.0, 2.0),   # already a rate
])
def test_to_rain_rate_known(values, units, acc, expected):
    pu = "mm/h" if units == "mm h-1" else units
    out = to_rain_rate(_ds(values, units, acc, pu))
    assert float(out[0, 0, 0]) == pytest.approx(expected) and out.attrs["units"] == "mm h-1"


def test_to_rain_rate_errors():
    with pytest.raises(DataError, match="fake.h5.*cannot be converted"):
        to_rain_rate(_ds([[[1.0]]], "inch", 5.0, "inch"))
    with pytest.raises(DataError, match="without an accumulation time"):
        to_rain_rate(_ds([[[1.0]]], "mm", 0.0, "mm"))


def test_knmi_rate_matches_raw_times_12():
    raw = read_radar(KNMI_DIR / "RAD_NL25_RAP_5min_201008260600.h5", importer="knmi_hdf5")
    rate = to_rain_rate(raw)
    v, r = raw.precip.values, rate.values
    ok = np.isfinite(v)
    np.testing.assert_allclose(r[ok], np.clip(v[ok] * 12.0, 0, 200), rtol=1e-5)


def test_resample_block_mean_and_nan():
    vals = np.arange(16.0).reshape(1, 4, 4)
    vals[0, 0, 0] = np.nan
    da = xr.DataArray(vals, dims=("time", "y", "x"), coords={"x": np.arange(4) * 1000.0, "y": np.arange(4) * 1000.0},
                      attrs={"units": "mm h-1"})
    out = resample_to_spacing(da, 2000.0)
    assert out.shape == (1, 2, 2) and np.isnan(out.values[0, 0, 0])
    np.testing.assert_allclose(out.values[0, 0, 1], np.mean([2, 3, 6, 7]))
    np.testing.assert_allclose(out.values[0, 1, 1], np.mean([10, 11, 14, 15]))
    with pytest.raises(DataError, match="coarser"):
        resample_to_spacing(da, 500.0)


def test_load_opera_sequence():
    rain = load_rain_sequence(str(OPERA_DIR / "*.hdf"), "opera_hdf5", spacing_m=4000.0)
    assert rain.dims == ("time", "y", "x") and rain.shape[1:] == (1100, 950) and rain.sizes["time"] >= 3
    assert rain.attrs["units"] == "mm h-1" and float(rain.max()) <= 200


def test_unusable_sequences(tmp_path):
    files = sorted(KNMI_DIR.glob("*.h5"))[:2]
    with pytest.raises(DataError, match="RAD_NL25_RAP_5min_201008260000.h5.*needs at least 3"):
        load_rain_sequence([str(f) for f in files], "knmi_hdf5")
    with pytest.raises(DataError, match="no files match"):
        load_rain_sequence(str(tmp_path / "*.h5"), "knmi_hdf5")
    # a dry sequence: the first three KNMI frames with a huge wet-fraction requirement
    three = [str(f) for f in sorted(KNMI_DIR.glob("*.h5"))[:3]]
    with pytest.raises(DataError, match="no rain in the sequence"):
        load_rain_sequence(three, "knmi_hdf5", min_wet_fraction=0.999)
    # quarter-hour files read at a 5-min step: every frame is kept, but no three are 5 min apart
    with pytest.raises(DataError, match=r"no 3 successive frames 5 min apart \(steps between the frames: \[15.0\]"):
        load_rain_sequence(three, "knmi_hdf5", time_step_min=5.0)
    # with one frame missing, two 15-min steps make no three successive frames either
    gap = [str(f) for f in sorted(KNMI_DIR.glob("*.h5"))[:5]]
    with pytest.raises(DataError, match=r"no 3 successive frames 15 min apart .*\[15.0, 30.0\]"):
        load_rain_sequence([gap[0], gap[1], gap[3], gap[4]], "knmi_hdf5")
    bad = tmp_path / "RAD_NL25_RAP_5min_201008260000.h5"
    bad.write_bytes(b"\x89HDF garbage")
    with pytest.raises(DataError, match=bad.name):
        load_rain_sequence([str(bad)] + three[1:], "knmi_hdf5")


def test_transform_roundtrip():
    r = np.array([0.0, 0.1, 1.0, 10.0, 100.0])
    t = RainTransform.fit(r)
    back = t.inverse(t.forward(r))
    np.testing.assert_allclose(back[1:], r[1:], rtol=1e-5)
    assert back[0] == 0.0


def _toy_rain(nt=4, n=40, seed=0):
    rng = np.random.default_rng(seed)
    from scipy import ndimage
    vals = ndimage.gaussian_filter(rng.gamma(0.6, 6.0, (nt, n, n)), (0, 2, 2))
    time = np.datetime64("2018-08-24T18:00") + np.arange(nt) * np.timedelta64(15, "m")
    return xr.DataArray(vals, dims=("time", "y", "x"),
                        coords={"time": time, "y": np.arange(n) * 4000.0, "x": np.arange(n) * 4000.0},
                        attrs={"units": "mm h-1", "time_step_min": 15.0})


def test_training_set_shapes_and_determinism():
    rain = _toy_rain()
    a = make_training_set(rain, n_samples=5, patch=16, n_frames=3, seed=1, progress=False)
    b = make_training_set(rain, n_samples=5, patch=16, n_frames=3, seed=1, progress=False)
    assert a.cond.shape == (5, 15, 16, 16) and a.rain.shape == (5, 16, 16)
    np.testing.assert_array_equal(a.cond, b.cond)
    assert np.isfinite(a.cond).all() and (a.rain >= 0).all()
    with pytest.raises(DataError, match="fully covered"):
        make_training_set(rain, n_samples=1, patch=40, n_frames=3, seed=0)


def test_intensity_augmentation_scales_rain_and_cools_tops():
    rain = _toy_rain()
    # lo == hi: the same number of draws, so the same patches and IR noise, only the rain factor differs
    light = make_training_set(rain, n_samples=6, patch=16, n_frames=3, seed=2, intensity_range=(1 / 3, 1 / 3),
                              progress=False)
    heavy = make_training_set(rain, n_samples=6, patch=16, n_frames=3, seed=2, intensity_range=(3.0, 3.0),
                              progress=False)
    np.testing.assert_allclose(heavy.rain, np.minimum(light.rain * 9.0, 200.0), rtol=1e-5)
    assert heavy.origins == light.origins
    wet = heavy.rain > 5.0
    assert wet.sum() > 20
    t108_heavy = heavy.cond[:, 10][wet]  # last frame's IR_108, normalised
    t108_light = light.cond[:, 10][wet]
    assert t108_heavy.mean() < t108_light.mean() - 0.2  # > 5 K colder where it rains hard
    plain = make_training_set(rain, n_samples=6, patch=16, n_frames=3, seed=2, progress=False)
    spread = make_training_set(rain, n_samples=6, patch=16, n_frames=3, seed=2, intensity_range=(0.5, 2.0),
                               progress=False)
    assert not np.allclose(plain.rain, spread.rain)
    with pytest.raises(ValueError, match="0 < lo <= hi"):
        make_training_set(rain, n_samples=1, patch=16, n_frames=3, seed=0, intensity_range=(2.0, 1.0))


def test_test_set_tiles():
    rain = _toy_rain(n=64)
    s = make_test_set(rain, tile=16, n_frames=3, seed=0, max_tiles=5)
    assert s.cond.shape == (5, 15, 16, 16) and len(s.times) == 5
    y0, x0 = s.origins[0]
    expected = rain.sel(time=np.datetime64(s.times[0])).values[y0:y0 + 16, x0:x0 + 16]
    np.testing.assert_allclose(s.rain[0], expected, rtol=1e-6)
    with pytest.raises(DataError, match="no 16x16 tile"):
        make_test_set(rain * 0 + 0.0, tile=16, n_frames=3, seed=0)


# --- real SEVIRI in place of the IR operator ------------------------------------------------------------------------
OPERA_PROJ = "+proj=laea +lat_0=55.0 +lon_0=10.0 +x_0=1950000.0 +y_0=-2100000.0 +units=m +ellps=WGS84"


def _laea_rain(n=40, times=("2018-08-24T18:00", "2018-08-24T18:15", "2018-08-24T18:30")):
    """Rain on a 4 km LAEA grid (OPERA's projection) centred on 5 E, 50 N, raining everywhere."""
    from pyproj import Transformer

    xc, yc = Transformer.from_crs("EPSG:4326", OPERA_PROJ, always_xy=True).transform(5.0, 50.0)
    x = xc + 4000.0 * (np.arange(n) - n / 2 + 0.5)
    y = yc + 4000.0 * (np.arange(n) - n / 2 + 0.5)
    rain = xr.DataArray(np.full((len(times), n, n), 1.0, np.float32), dims=("time", "y", "x"),
                        coords={"time": np.array(times, dtype="datetime64[s]"), "y": y, "x": x},
                        attrs={"units": "mm h-1", "projection": OPERA_PROJ, "source_file": "laea.h5",
                               "time_step_min": 15.0})
    return rain, (xc, yc)


def _seviri_files(folder, starts, lon_top=5.0, lat_top=50.0):
    """EUMETSAT level-1.5 netCDF files over 3-7 E, 48-52 N with a cold top at (lon_top, lat_top)."""
    from pyproj import Transformer

    from eoretrieval.io.seviri import GEOS_PROJ, SEVIRI_CHANNELS, geos_window, write_eumetsat_l15_nc

    win = geos_window([2.0, 8.0], [47.5, 52.5])
    yy, xx = np.meshgrid(win["y"], win["x"], indexing="ij")
    x0, y0 = Transformer.from_crs("EPSG:4326", GEOS_PROJ, always_xy=True).transform(lon_top, lat_top)
    top = 70.0 * np.exp(-((xx - x0) ** 2 + (yy - y0) ** 2) / (2 * 8000.0 ** 2))
    return [write_eumetsat_l15_nc({ch: 285.0 - top - k for ch in SEVIRI_CHANNELS}, folder, window=win, start=s)
            for k, s in enumerate(starts)]


def test_seviri_files_resampled_to_the_radar_grid_feed_the_test_tiles(tmp_path):
    pytest.importorskip("satpy")
    from eoretrieval.rain.seviri_data import IR_SCALE, load_seviri_on_rain_grid

    rain, (xc, yc) = _laea_rain()  # radar times 18:00, 18:15, 18:30
    # repeat cycles from 17:45 to 18:30: the grid (48-52 N) is scanned about 11.2 min after each cycle's start, so
    # the radar time 18:15 is seen 3.6 min before it by the 18:00 cycle and 11.4 min after it by the 18:15 cycle
    files = _seviri_files(tmp_path, ["2018-08-24T17:45:12", "2018-08-24T18:00:12", "2018-08-24T18:15:12",
                                     "2018-08-24T18:30:12"])
    ir = load_seviri_on_rain_grid(str(tmp_path / "W_XX-*.nc"), "seviri_l1b_nc", rain)
    assert ir.sizes == {"time": 3, "y": 40, "x": 40}
    assert [f.split("/")[-1] for f in ir.attrs["seviri_files"]] == [f.name for f in files[:3]]
    assert ir.attrs["scan_time_source"] == "satpy acq_time of the lines over the grid"
    from eoretrieval.io.seviri import geos_window, scan_offset_s

    seen_min = (12.0 + scan_offset_s(geos_window([5.0], [50.0], margin=0)["south"])) / 60  # the grid's centre line
    np.testing.assert_allclose(ir.attrs["slot_offsets_min"], [15.0 - seen_min] * 3, atol=0.1)
    # the cold top at 5 E, 50 N lands on the radar cell of 5 E, 50 N (nearest neighbour, 3 km onto 4 km)
    j, i = np.unravel_index(np.argmin(ir["IR_108"].values[0]), (40, 40))
    assert abs(ir.x.values[i] - xc) <= 4000.0 and abs(ir.y.values[j] - yc) <= 4000.0
    assert float(ir["IR_108"].min()) < 220.0 and abs(float(ir["IR_108"].values[0].max()) - 285.0) < 0.6
    # frame k of a tile is the slot nearest to radar frame k (each slot 1 K colder than the one before)
    test = make_test_set(rain, tile=16, n_frames=3, seed=0, margin=4, ir=ir)
    y0, x0 = test.origins[0]
    want = (ir["IR_108"].values[:, y0:y0 + 16, x0:x0 + 16] - IR_SCALE["offset"]) / IR_SCALE["scale"]
    ch = list(ir.data_vars).index("IR_108")
    np.testing.assert_allclose(test.cond[0].reshape(3, 5, 16, 16)[:, ch], want, rtol=1e-6)


def test_seviri_files_that_cannot_serve_the_radar_sequence(tmp_path):
    pytest.importorskip("satpy")
    from eoretrieval.rain.seviri_data import load_seviri_on_rain_grid

    rain, _ = _laea_rain()
    _seviri_files(tmp_path, ["2018-08-24T17:45:00", "2018-08-24T18:00:00"])  # seen at 17:56 and 18:11
    with pytest.raises(DataError, match=r"no SEVIRI slot seen within 7.5 min of the radar time 2018-08-24T18:30"):
        load_seviri_on_rain_grid(str(tmp_path / "W_XX-*.nc"), "seviri_l1b_nc", rain)
    with pytest.raises(DataError, match="no SEVIRI files match"):
        load_seviri_on_rain_grid(str(tmp_path / "none*.nc"), "seviri_l1b_nc", rain)
    with pytest.raises(DataError, match="laea.h5: the radar grid has no projection"):
        load_seviri_on_rain_grid(str(tmp_path / "W_XX-*.nc"), "seviri_l1b_nc", rain.assign_attrs(projection=""))
    far = rain.assign_coords(x=rain.x + 3.0e6)  # a radar grid far east of the files' window
    with pytest.raises(DataError, match="all NaN"):
        load_seviri_on_rain_grid(str(tmp_path / "W_XX-*.nc"), "seviri_l1b_nc", far.isel(time=[0, 1]))


def test_tiles_without_seviri_ir_are_counted_not_scored(tmp_path):
    pytest.importorskip("satpy")
    from eoretrieval.rain.seviri_data import load_seviri_on_rain_grid

    rain, _ = _laea_rain(n=200)  # 800 km: wider than the files' 2-8 E window
    _seviri_files(tmp_path, ["2018-08-24T17:45:00", "2018-08-24T18:00:00", "2018-08-24T18:15:00"])
    ir = load_seviri_on_rain_grid(str(tmp_path / "W_XX-*.nc"), "seviri_l1b_nc", rain)
    test = make_test_set(rain, tile=16, n_frames=3, seed=0, margin=4, ir=ir)
    assert test.no_ir_tiles > 0 and len(test.rain) > 0
    assert np.isfinite(test.cond).all()
    everywhere = make_test_set(rain, tile=16, n_frames=3, seed=0, margin=4)
    assert len(everywhere.rain) == len(test.rain) + test.no_ir_tiles and everywhere.no_ir_tiles == 0
    none = ir.copy()
    for ch in none.data_vars:
        none[ch] = none[ch] * np.nan
    with pytest.raises(DataError, match=r"and IR over it \(\d+ such tiles lack SEVIRI IR\)"):
        make_test_set(rain, tile=16, n_frames=3, seed=0, margin=4, ir=none)
