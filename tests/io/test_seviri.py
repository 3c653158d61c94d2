"""Tests of eoretrieval.io.seviri: the SEVIRI layout, netCDF round trip, satpy route, bad input."""

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
