"""Tests of eoretrieval.io.seviri: the SEVIRI layout, netCDF round trip, the satpy route on EUMETSAT level-1.5 netCDF
files written in that format's layout (counts, gains, CDS times, line/pixel numbering), bad input."""

import re

import numpy as np
import pytest
import xarray as xr

from eoretrieval.errors import DataError
from eoretrieval.io import get_reader
from eoretrieval.io.seviri import (SEVIRI_CHANNELS, check_seviri_layout, read_seviri, read_seviri_netcdf,
                                   write_seviri_netcdf)


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
#: Meteosat-11 effective-radiance -> brightness-temperature coefficients (central wavenumber cm-1, alpha, beta),
#: EUMETSAT "The conversion from effective radiances to equivalent brightness temperatures" (EUM/MET/TEN/11/0569).
_MSG4 = {"WV_062": (1596.080, 0.9959, 2.0780), "WV_073": (1361.748, 0.9990, 0.4929),
         "IR_087": (1147.433, 0.9996, 0.1731), "IR_108": (931.122, 0.9983, 0.6256), "IR_120": (839.113, 0.9988, 0.4002)}
_C1, _C2 = 1.19104273e-5, 1.43877523  # 2hc^2 in mW m-2 sr-1 (cm-1)-4, hc/k in cm K
_NC_KEY = {"WV_062": "ch5", "WV_073": "ch6", "IR_087": "ch7", "IR_108": "ch9", "IR_120": "ch10"}


def _radiance(bt, ch):
    """Effective radiance (mW m-2 sr-1 (cm-1)-1) of a brightness temperature (K): the published inverse."""
    nu, a, b = _MSG4[ch]
    return _C1 * nu ** 3 / np.expm1(_C2 * nu / (a * bt + b))


def _write_eumetsat_l15_nc(folder, bt, *, south=3300, east=1700, start="2018-08-24T18:00:00"):
    """Write ``bt`` (channel -> (lines, columns) K, row 0 = north, column 0 = west) as a EUMETSAT level-1.5 netCDF
    window: 10-bit counts with nominal gain/offset, lines stored south first, line numbers counted from the south
    and pixel numbers from the east, SE grid origin, CDS times (days and ms since 1958-01-01)."""
    ny, nx = next(iter(bt.values())).shape
    t = np.datetime64(start, "ms")
    days = int((t - np.datetime64("1958-01-01", "ms")) // np.timedelta64(1, "D"))
    msec = int((t - np.datetime64("1958-01-01", "ms")) / np.timedelta64(1, "ms") - days * 86_400_000)
    rows, chans = ("num_rows_vis_ir", "num_columns_vis_ir"), ("num_rows_vis_ir", "channels_vis_ir_dim")
    data = {}
    for ch, field in bt.items():
        gain = float(_radiance(np.array(330.0), ch)) / 1000.0  # 1000 counts span 0 .. L(330 K)
        offset = -51.0 * gain
        counts = np.clip(np.round((_radiance(field, ch) - offset) / gain), 1, 1023).astype(np.uint16)[::-1]
        data[_NC_KEY[ch]] = (rows, counts, {"scale_factor": gain, "add_offset": offset, "long_name": ch,
                                            "comment": "", "valid_min": 0, "valid_max": 1023})
    planned = np.zeros(12, dtype=np.int8)
    planned[3:11] = 2  # effective radiance for the IR and WV channels
    ones = np.ones((ny, 11), dtype=np.int32)
    data.update({
        "planned_chan_processing": ("num_channels", planned),
        "channel_data_visir_data_l10_line_mean_acquisition_time_day": (chans, ones * days),
        "channel_data_visir_data_l10_line_mean_acquisition_msec": (chans, ones * (msec + 1000)),
        "channel_data_visir_data_line_validity": (chans, ones),
        "channel_data_visir_data_line_geometric_quality": (chans, ones * 0),
        "channel_data_visir_data_line_radiometric_quality": (chans, ones * 0),
    })
    # one orbit polynomial covering the slot (Chebyshev, km): the satellite at 42164 km on the x axis (0 E, 0 N)
    poly = np.zeros((2, 8))
    poly[:, 0] = 2 * 42164.0
    data.update({f"orbit_polynomial_{k}": (("orbit_polynomial_dim_row", "orbit_polynomial_dim_col"),
                                           poly if k == "x" else np.zeros((2, 8))) for k in "xyz"})
    data.update({"orbit_polynomial_start_time_day": ("orbit_polynomial_dim_row", [days, days + 1]),
                 "orbit_polynomial_start_time_msec": ("orbit_polynomial_dim_row", [0, 0]),
                 "orbit_polynomial_end_time_day": ("orbit_polynomial_dim_row", [days + 1, days + 2]),
                 "orbit_polynomial_end_time_msec": ("orbit_polynomial_dim_row", [0, 0])})
    attrs = {"equatorial_radius": 6378.169, "north_polar_radius": 6356.5838, "south_polar_radius": 6356.5838,
             "longitude_of_SSP": 0.0, "nominal_longitude": 0.0, "satellite_id": 324,
             "true_repeat_cycle_start_day": days, "true_repeat_cycle_start_mi_sec": msec,
             "planned_repeat_cycle_end_day": days, "planned_repeat_cycle_end_mi_sec": msec + 15 * 60_000,
             "north_most_line": south + ny - 1, "south_most_line": south, "east_most_pixel": east,
             "west_most_pixel": east + nx - 1, "vis_ir_grid_origin": "0x02", "vis_ir_column_dir_grid_step": 3.0004032,
             "vis_ir_line_dir_grid_step": 3.0004032, "type_of_earth_model": "0x02", "nominal_image_scanning": "T",
             "reduced_scanning": "F"}
    stamp = str(t.astype("datetime64[s]")).replace("-", "").replace(":", "").replace("T", "")
    path = folder / f"W_XX-EUMETSAT-Darmstadt,VIS+IR+HRV+IMAGERY,MSG4+SEVIRI_C_EUMG_{stamp}.nc"
    xr.Dataset(data, attrs=attrs).to_netcdf(path)
    return path


def _bt_scene(ny=40, nx=48):
    """Warm clear sky with a cold convective top in the north-west: an orientation error cannot pass."""
    yy, xx = np.mgrid[0:ny, 0:nx]
    top = 60.0 * np.exp(-((yy - 8) ** 2 + (xx - 10) ** 2) / 30.0)  # row 8 from the north, column 10 from the west
    return {ch: (285.0 - top - 10.0 * (ch.startswith("WV"))).astype(np.float64) for ch in _NC_KEY}


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
