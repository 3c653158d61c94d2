"""Tests of eoretrieval.io.seviri: the SEVIRI layout, netCDF round trip, the satpy route on EUMETSAT level-1.5 netCDF
files written in that format's layout (counts, gains, CDS times, line/pixel numbering), bad input."""

import re

import numpy as np
import pytest
import xarray as xr

from eoretrieval.errors import DataError
from eoretrieval.io import get_reader
from eoretrieval.io.seviri import (GEOS_PROJ, SEVIRI_CHANNELS, check_seviri_layout, geos_window, read_seviri,
                                   read_seviri_netcdf, scan_offset_s, write_eumetsat_l15_nc, write_seviri_netcdf)


def _scene(nt=2, ny=6, nx=5, units="K"):
    rng = np.random.default_rng(0)
    coords = {"time": np.array(["2018-08-24T18:00", "2018-08-24T18:15"], dtype="datetime64[s]")[:nt],
              "y": ("y", np.arange(ny) * 4000.0, {"units": "m"}), "x": ("x", np.arange(nx) * 4000.0, {"units": "m"})}
    return xr.Dataset({ch: (("time", "y", "x"), rng.uniform(200, 300, (nt, ny, nx)).astype(np.float32),
                            {"units": units, "standard_name": "toa_brightness_temperature", "wavelength": wl})
                       for ch, wl in SEVIRI_CHANNELS.items()}, coords=coords)


def test_roundtrip(tmp_path):
    ds = _scene()
    path = write_seviri_netcdf(ds, tmp_path / "seviri.nc")
    back = get_reader("seviri_netcdf")(path)
    for ch in SEVIRI_CHANNELS:
        np.testing.assert_array_equal(back[ch].values, ds[ch].values)
        assert back[ch].attrs["units"] == "K"
    assert back.attrs["source_file"] == str(path)
    assert read_seviri(path, reader="netcdf")["IR_108"].shape == (2, 6, 5)


def test_descending_y_is_flipped(tmp_path):
    ds = _scene().isel(y=slice(None, None, -1))
    back = read_seviri_netcdf(write_seviri_netcdf(ds, tmp_path / "flip.nc"))
    assert np.all(np.diff(back.y.values) > 0)


@pytest.mark.parametrize("change, message", [
    (lambda ds: ds.drop_vars("IR_120"), "missing SEVIRI channel 'IR_120'"),
    (lambda ds: ds.assign(IR_108=ds.IR_108.assign_attrs(units="degC")), "units 'degC'; expected 'K'"),
    (lambda ds: ds.assign(IR_108=ds.IR_108 * 0 + np.nan), "all NaN"),
    (lambda ds: ds.assign(IR_108=(ds.IR_108 - 273.15).assign_attrs(units="K")), "plausible"),
    (lambda ds: ds.transpose("y", "x", "time"), "dims"),
])
def test_layout_errors(change, message):
    ds = change(_scene())
    ds.attrs["source_file"] = "scene.nc"
    with pytest.raises(DataError, match=message) as err:
        check_seviri_layout(ds)
    assert "scene.nc" in str(err.value)


def test_missing_and_not_seviri(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        read_seviri_netcdf(tmp_path / "none.nc")
    other = tmp_path / "other.nc"
    xr.Dataset({"a": ("x", [1.0])}).to_netcdf(other)
    with pytest.raises(DataError, match="missing SEVIRI channel"):
        read_seviri_netcdf(other)


def test_satpy_route_rejects_non_seviri_file(tmp_path):
    pytest.importorskip("satpy")
    bad = tmp_path / "MSG4-SEVI-MSG15-0100-NA-20180824181243.000000000Z-NA.nat"
    bad.write_bytes(b"not a native file" * 10)
    with pytest.raises(DataError, match=bad.name):
        read_seviri(bad, reader="seviri_l1b_native")


# --- the EUMETSAT netCDF level-1.5 format, read through satpy's seviri_l1b_nc reader -----------------------------
def _window(ny=40, nx=48, south=3300, east=1700):
    return {"south": south, "north": south + ny - 1, "east": east, "west": east + nx - 1}


def _write_eumetsat_l15_nc(folder, bt, start="2018-08-24T18:00:00"):
    ny, nx = next(iter(bt.values())).shape
    return write_eumetsat_l15_nc(bt, folder, window=_window(ny, nx), start=start)


def _bt_scene(ny=40, nx=48):
    """Warm clear sky with a cold convective top in the north-west: an orientation error cannot pass."""
    yy, xx = np.mgrid[0:ny, 0:nx]
    top = 60.0 * np.exp(-((yy - 8) ** 2 + (xx - 10) ** 2) / 30.0)  # row 8 from the north, column 10 from the west
    return {ch: (285.0 - top - 10.0 * (ch.startswith("WV"))).astype(np.float64) for ch in SEVIRI_CHANNELS}


def test_eumetsat_netcdf_level15_through_satpy(tmp_path):
    pytest.importorskip("satpy")
    truth = _bt_scene()
    path = _write_eumetsat_l15_nc(tmp_path, truth)
    ds = read_seviri(path, reader="seviri_l1b_nc")
    assert ds.attrs["platform"] == "Meteosat-11"
    assert ds["time"].values[0] == np.datetime64("2018-08-24T18:00:00")
    assert np.all(np.diff(ds.y.values) > 0) and np.all(np.diff(ds.x.values) > 0)
    assert np.allclose(np.diff(ds.x.values), 3000.4, atol=0.1)
    for ch, field in truth.items():
        got = ds[ch].values[0]
        assert ds[ch].attrs["units"] == "K" and got.shape == field.shape
        # our layout is y ascending (south first): the scene's north-west blob sits at the last rows, first columns
        np.testing.assert_allclose(got[::-1], field, atol=0.6)  # 10-bit counts: < 0.6 K at 225-285 K
    coldest = np.unravel_index(np.argmin(ds["IR_108"].values[0]), truth["IR_108"].shape)
    assert coldest == (truth["IR_108"].shape[0] - 1 - 8, 10)


def test_eumetsat_netcdf_level15_resampled_to_an_area(tmp_path):
    """With ``area`` the satpy route resamples to another grid (what notebook 03 would do with real SEVIRI)."""
    pytest.importorskip("satpy")
    from pyresample.geometry import AreaDefinition

    path = _write_eumetsat_l15_nc(tmp_path, _bt_scene())
    native = read_seviri(path, reader="seviri_l1b_nc")
    x0, x1 = float(native.x.min()), float(native.x.max())
    y0, y1 = float(native.y.min()), float(native.y.max())
    proj = "+proj=geos +lon_0=0 +h=35785831 +a=6378169 +b=6356583.8 +units=m"
    area = AreaDefinition("half", "every other pixel", "geos", proj, 24, 20, (x0, y0, x1, y1))
    coarse = read_seviri(path, reader="seviri_l1b_nc", area=area)
    assert coarse["IR_108"].shape == (1, 20, 24)
    # nearest neighbour on a grid of twice the spacing: every value is one of the native values
    assert np.isin(coarse["IR_108"].values, native["IR_108"].values).all()
    assert float(coarse["IR_108"].min()) < 235.0 < 280.0 < float(coarse["IR_108"].max())


@pytest.mark.parametrize("attr", ["satellite_id", "north_most_line"])
def test_eumetsat_netcdf_without_a_header_attribute_names_the_file(tmp_path, attr):
    pytest.importorskip("satpy")
    path = _write_eumetsat_l15_nc(tmp_path, _bt_scene())
    ds = xr.load_dataset(path, mask_and_scale=False)
    del ds.attrs[attr]
    path.unlink()
    ds.to_netcdf(path)
    with pytest.raises(DataError, match=re.escape(f"{path.name}: satpy reader 'seviri_l1b_nc' cannot read it: KeyError: '{attr}'")):
        read_seviri(path, reader="seviri_l1b_nc")


def test_geos_window_centres_agree_with_satpy_and_pyproj(tmp_path):
    """The window's cell centres are satpy's, and a cold top put at 5 E, 50 N is found there by pyproj."""
    pytest.importorskip("satpy")
    from pyproj import Transformer

    win = geos_window([3.0, 7.0], [48.0, 52.0])
    yy, xx = np.meshgrid(win["y"], win["x"], indexing="ij")
    x0, y0 = Transformer.from_crs("EPSG:4326", GEOS_PROJ, always_xy=True).transform(5.0, 50.0)
    top = 70.0 * np.exp(-((xx - x0) ** 2 + (yy - y0) ** 2) / (2 * 6000.0 ** 2))
    path = write_eumetsat_l15_nc({ch: 285.0 - top for ch in SEVIRI_CHANNELS}, tmp_path, window=win,
                                 start="2018-08-24T18:00:00")
    ds = read_seviri(path, reader="seviri_l1b_nc")
    np.testing.assert_allclose(ds.x.values, win["x"], atol=1.0)
    np.testing.assert_allclose(ds.y.values, win["y"][::-1], atol=1.0)
    j, i = np.unravel_index(np.argmin(ds["IR_108"].values[0]), ds["IR_108"].shape[1:])
    lon, lat = Transformer.from_crs(GEOS_PROJ, "EPSG:4326", always_xy=True).transform(ds.x.values[i], ds.y.values[j])
    assert abs(lon - 5.0) < 0.05 and abs(lat - 50.0) < 0.05


def test_scan_time_is_when_the_grid_was_seen_not_the_slot_start(tmp_path):
    """SEVIRI scans south to north: 48-52 N is seen about 10 minutes after the repeat cycle's start, and the northern
    half of a grid later than its southern half. ``scan_time`` comes from the lines' times in the file (satpy's
    ``acq_time``), ``time`` stays the slot's nominal start."""
    pytest.importorskip("satpy")
    from pyresample.geometry import AreaDefinition

    win = geos_window([3.0, 7.0], [48.0, 52.0])
    path = write_eumetsat_l15_nc({ch: np.full((len(win["y"]), len(win["x"])), 280.0) for ch in SEVIRI_CHANNELS},
                                 tmp_path, window=win, start="2018-08-24T18:00:00")
    ds = read_seviri(path, reader="seviri_l1b_nc")
    assert ds["time"].values[0] == np.datetime64("2018-08-24T18:00:00")
    mid_line = (win["south"] + win["north"]) / 2
    seen = (ds["scan_time"].values[0] - ds["time"].values[0]) / np.timedelta64(1, "s")
    assert abs(seen - float(scan_offset_s(mid_line))) <= 2.0 and 540 < seen < 700
    assert ds["scan_time"].attrs["source"] == "satpy acq_time of the lines over the grid"
    # resampled onto the southern or the northern half of the window: the northern half is seen later
    x0, x1 = win["x"][0], win["x"][-1]
    ym = 0.5 * (win["y"][0] + win["y"][-1])
    south = AreaDefinition("s", "s", "s", GEOS_PROJ, 20, 20, (x0, win["y"][-1], x1, ym))
    north = AreaDefinition("n", "n", "n", GEOS_PROJ, 20, 20, (x0, ym, x1, win["y"][0]))
    t_s = read_seviri(path, reader="seviri_l1b_nc", area=south)["scan_time"].values[0]
    t_n = read_seviri(path, reader="seviri_l1b_nc", area=north)["scan_time"].values[0]
    lines = (win["north"] - win["south"]) / 2  # the halves' centres are this many lines apart
    assert abs((t_n - t_s) / np.timedelta64(1, "s") - lines / 3 * 0.6) <= 2.0
    # a file in our own layout has no line times: no scan_time, matching falls back to its time
    assert "scan_time" not in read_seviri_netcdf(write_seviri_netcdf(ds.drop_vars("scan_time"), tmp_path / "o.nc"))


def test_scan_offset_model():
    assert scan_offset_s(1) == 0.0 and scan_offset_s(3) == 0.0 and scan_offset_s(4) == pytest.approx(0.6)
    assert 12.0 < scan_offset_s(3712) / 60 < 12.6  # the full disc in about 12 minutes
