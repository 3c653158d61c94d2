"""Tests of the ERA5 pressure-level reader (both CDS layouts, written by the project in the exact layout) and of
the daily boundary-layer winds of the NOx model."""

import shutil

import netCDF4
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from eoretrieval.errors import DataError
from eoretrieval.io.era5 import read_era5_pressure_levels
from eoretrieval.nox.era5_winds import daily_boundary_layer_winds, overpass_window_end_utc, write_era5_files

LAT = np.arange(36.125, 40, 0.25)
LON = np.arange(114.125, 118, 0.25)
DAYS = pd.date_range("2022-01-01", periods=3)


def _winds():
    yy, xx = np.meshgrid(LAT, LON, indexing="ij")
    u = np.stack([3 + np.sin(yy / 2 + k) + 0.2 * (xx - 116) for k in range(len(DAYS))])
    v = np.stack([-1 + np.cos(xx / 3 + k) - 0.1 * (yy - 38) for k in range(len(DAYS))])
    return xr.Dataset({"u": (("time", "lat", "lon"), u.astype(np.float32)),
                       "v": (("time", "lat", "lon"), v.astype(np.float32))},
                      coords={"time": DAYS, "lat": LAT, "lon": LON})


@pytest.mark.parametrize("layout", ["current", "legacy"])
def test_both_layouts_read_alike_and_return_the_winds(tmp_path, layout):
    files = write_era5_files(_winds(), tmp_path, layout=layout)
    with netCDF4.Dataset(files[0]) as nc:  # the layouts differ where the CDS's do
        assert ("valid_time" in nc.variables) == (layout == "current")
        assert nc["u"].dtype == (np.float32 if layout == "current" else np.int16)
        assert nc["latitude"][0] > nc["latitude"][-1]  # north to south in the file
    era5 = read_era5_pressure_levels(str(tmp_path / "*.nc"))
    assert list(era5["u"].dims) == ["time", "level", "lat", "lon"] and era5["u"].dtype == np.float32
    assert (np.diff(era5["lat"].values) > 0).all() and era5["level"].values.tolist() == [850.0, 925.0, 1000.0]
    assert era5.sizes["time"] == 24 * len(DAYS) and len(era5.attrs["source_files"]) == len(DAYS)
    back = daily_boundary_layer_winds(era5, LAT, LON, DAYS)
    w = _winds()
    for k in ("u", "v"):  # two linear interpolations of smooth fields, and the int16 packing of the legacy layout
        assert float(abs(back[k] - w[k]).max()) < 0.01
    assert back["u"].attrs["units"] == "m s-1"


def test_the_window_is_the_24_hours_before_the_overpass():
    times = pd.date_range("2021-12-30", "2022-01-04", freq="h")
    hours = np.arange(len(times), dtype=np.float32)  # the value is the hour's index
    field = np.broadcast_to(hours[:, None, None, None], (len(times), 3, 3, 3)).copy()
    era5 = xr.Dataset({"u": (("time", "level", "lat", "lon"), field), "v": (("time", "level", "lat", "lon"), -field)},
                      coords={"time": times, "level": [850.0, 925.0, 1000.0], "lat": [35.0, 38.0, 41.0],
                              "lon": [112.0, 116.0, 120.0]})
    out = daily_boundary_layer_winds(era5, [38.0], [116.0], DAYS[:1])
    end = overpass_window_end_utc(DAYS[0], 116.0)
    assert end == pd.Timestamp("2022-01-01 05:46")  # 13:30 local solar time at 116 E
    expect = hours[(times > end - pd.Timedelta(hours=24)) & (times <= end)]
    assert len(expect) == 24 and float(out["u"].values[0, 0, 0]) == pytest.approx(expect.mean())
    with pytest.raises(DataError, match="hours in the 24 h before the overpass of 2022-01-01"):
        daily_boundary_layer_winds(era5.isel(time=slice(40, None)), [38.0], [116.0], DAYS[:1])
    with pytest.raises(DataError, match=r"pressure levels \[700.0\] hPa missing"):
        daily_boundary_layer_winds(era5, [38.0], [116.0], DAYS[:1], levels=(850.0, 700.0))
    with pytest.raises(DataError, match="does not cover the model grid"):
        daily_boundary_layer_winds(era5, [38.0], [125.0], DAYS[:1])


def _edit(path, fn):
    with netCDF4.Dataset(path, "a") as nc:
        fn(nc)


def test_bad_files_are_refused_naming_the_file(tmp_path):
    files = write_era5_files(_winds(), tmp_path / "ok", layout="current")
    cases = {
        "units": (lambda nc: setattr(nc["u"], "units", "km h**-1"), "has units 'km h\\*\\*-1'"),
        "levels": (lambda nc: setattr(nc["pressure_level"], "units", "Pa"), "pressure levels in 'Pa'"),
        "fill": (lambda nc: nc["v"].__setitem__(slice(None), np.nan), "'v' holds only fill values"),
        "name": (lambda nc: nc.renameVariable("v", "v10"), r"missing variable\(s\) \['v'\]"),
    }
    for name, (fn, message) in cases.items():
        bad = tmp_path / f"{name}.nc"
        shutil.copy(files[0], bad)
        _edit(bad, fn)
        with pytest.raises(DataError, match=f"{name}.nc.*{message}"):
            read_era5_pressure_levels(str(bad))
    truncated = tmp_path / "truncated.nc"
    truncated.write_bytes(files[0].read_bytes()[:2000])
    with pytest.raises(DataError, match="truncated.nc"):
        read_era5_pressure_levels(str(truncated))
    with pytest.raises(DataError, match="appears more than once"):
        read_era5_pressure_levels([files[0], shutil.copy(files[0], tmp_path / "copy.nc")])
    legacy = write_era5_files(_winds(), tmp_path / "legacy", layout="legacy")
    short = tmp_path / "short.nc"
    short.write_bytes(legacy[0].read_bytes()[:-5000])   # netCDF-3: netCDF-C would read the missing bytes as fill
    with pytest.raises(DataError, match="short.nc"):
        read_era5_pressure_levels(str(short))
    with pytest.raises(DataError, match="no ERA5 file|nothing matches|matches"):
        read_era5_pressure_levels(str(tmp_path / "none" / "*.nc"))
