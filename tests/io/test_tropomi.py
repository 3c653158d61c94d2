"""TROPOMI L2 NO2 reader: format-exact files written from a known world, and bad files."""

import shutil

import netCDF4
import numpy as np
import pytest

from eoretrieval.errors import DataError
from eoretrieval.io import get_reader
from eoretrieval.io.tropomi import AVOGADRO, read_tropomi_no2, to_molec_cm2
from eoretrieval.nox.tropomi_l2 import FLOAT_FILL, mock_world, write_world_orbits


@pytest.fixture(scope="module")
def orbit_file(tmp_path_factory):
    world = mock_world(seed=3)
    files = write_world_orbits(world, world.time.values, tmp_path_factory.mktemp("l2"), seed=1, compress=1)
    assert files
    return world, files[0]


def test_layout_is_the_products(orbit_file):
    _, path = orbit_file
    with netCDF4.Dataset(path) as nc:
        prod = nc["PRODUCT"]
        assert set(prod.dimensions) >= {"time", "scanline", "ground_pixel", "corner", "layer", "vertices"}
        assert prod.dimensions["ground_pixel"].size == 450 and prod.dimensions["layer"].size == 34
        col = prod["nitrogendioxide_tropospheric_column"]
        assert col.dtype == np.float32 and col.units == "mol m-2"
        assert col.dimensions == ("time", "scanline", "ground_pixel")
        assert np.isclose(col._FillValue, FLOAT_FILL)
        assert np.isclose(col.multiplication_factor_to_convert_to_molecules_percm2, 6.02214e19, rtol=1e-5)
        qa = prod["qa_value"]
        assert qa.dtype == np.uint8 and qa._FillValue == 255 and np.isclose(qa.scale_factor, 0.01)
        assert prod["averaging_kernel"].dimensions == ("time", "scanline", "ground_pixel", "layer")
        geo = nc["PRODUCT/SUPPORT_DATA/GEOLOCATIONS"]
        assert geo["latitude_bounds"].dimensions == ("time", "scanline", "ground_pixel", "corner")
        assert "INPUT_DATA" in nc["PRODUCT/SUPPORT_DATA"].groups and "DETAILED_RESULTS" in nc["PRODUCT/SUPPORT_DATA"].groups
        # raw bytes: qa stored as integers 0..100 with the scale factor
        qa.set_auto_maskandscale(False)
        raw = qa[:]
        assert raw.dtype == np.uint8 and raw.max() <= 100


def test_pixel_size_at_nadir(orbit_file):
    _, path = orbit_file
    with netCDF4.Dataset(path) as nc:
        lat = nc["PRODUCT/SUPPORT_DATA/GEOLOCATIONS/latitude_bounds"][0]
        lon = nc["PRODUCT/SUPPORT_DATA/GEOLOCATIONS/longitude_bounds"][0]
    j, i = lat.shape[0] // 2, 225
    km = 111.195
    coslat = np.cos(np.deg2rad(lat[j, i, 0]))
    along = np.hypot(lat[j, i, 3] - lat[j, i, 0], (lon[j, i, 3] - lon[j, i, 0]) * coslat) * km
    across = np.hypot(lat[j, i, 1] - lat[j, i, 0], (lon[j, i, 1] - lon[j, i, 0]) * coslat) * km
    assert along == pytest.approx(5.5, rel=0.02)
    assert across == pytest.approx(3.5, rel=0.1)


def test_reader_values_units_and_filter(orbit_file):
    world, path = orbit_file
    ds = get_reader("tropomi_no2")(path)
    assert ds["no2"].attrs["units"] == "mol m-2" and ds.attrs["n_valid"] > 0
    ok = np.isfinite(ds["no2"].values)
    assert (ds["qa_value"].values[ok] >= 0.75).all()
    # pixels flagged below 0.75 are NaN; the kept values are the world's cell values at the pixel centres
    lat, lon = ds["lat"].values[ok], ds["lon"].values[ok]
    iy = np.floor((lat - 36.0) / 0.25).astype(int)
    ix = np.floor((lon - 114.0) / 0.25).astype(int)
    expect = world["no2_column"].values[0, iy, ix]
    # pixel centres within float32 round-off of a cell edge may fall on either side
    far = (np.abs((lat - 36.0) / 0.25 - np.round((lat - 36.0) / 0.25)) > 1e-4) & \
          (np.abs((lon - 114.0) / 0.25 - np.round((lon - 114.0) / 0.25)) > 1e-4)
    assert far.mean() > 0.99
    np.testing.assert_allclose(ds["no2"].values[ok][far], expect[far], rtol=1e-6)
    molec = to_molec_cm2(ds["no2"])
    assert molec.attrs["units"] == "molec cm-2"
    np.testing.assert_allclose(molec.values[ok], ds["no2"].values[ok] * AVOGADRO / 1e4)
    loose = read_tropomi_no2(path, qa_min=0.5)
    assert loose.attrs["n_valid"] > ds.attrs["n_valid"]
    with pytest.raises(DataError, match="expected 'mol m-2'"):
        to_molec_cm2(molec)


def _copy(src, tmp_path, name="bad.nc"):
    dst = tmp_path / name
    shutil.copy(src, dst)
    return dst


def test_wrong_units(orbit_file, tmp_path):
    bad = _copy(orbit_file[1], tmp_path)
    with netCDF4.Dataset(bad, "a") as nc:
        nc["PRODUCT/nitrogendioxide_tropospheric_column"].units = "molec cm-2"
    with pytest.raises(DataError, match=r"bad\.nc.*units 'molec cm-2', expected 'mol m-2'"):
        read_tropomi_no2(bad)


def test_all_pixels_flagged(orbit_file, tmp_path):
    bad = _copy(orbit_file[1], tmp_path)
    with netCDF4.Dataset(bad, "a") as nc:
        qa = nc["PRODUCT/qa_value"]
        qa[:] = np.full(qa.shape, 0.4)
    with pytest.raises(DataError, match=r"bad\.nc: no pixel with qa_value >= 0.75"):
        read_tropomi_no2(bad)


def test_truncated_file(orbit_file, tmp_path):
    data = orbit_file[1].read_bytes()
    bad = tmp_path / "truncated.nc"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match=r"truncated\.nc: cannot be read"):
        read_tropomi_no2(bad)


def _minimal(path, group="PRODUCT", skip=()):
    with netCDF4.Dataset(path, "w") as nc:
        g = nc.createGroup(group)
        for d, n in (("time", 1), ("scanline", 2), ("ground_pixel", 3), ("corner", 4)):
            g.createDimension(d, n)
        for name, units in (("nitrogendioxide_tropospheric_column", "mol m-2"),
                            ("nitrogendioxide_tropospheric_column_precision", "mol m-2"), ("qa_value", "1"),
                            ("latitude", "degrees_north"), ("longitude", "degrees_east"),
                            ("air_mass_factor_troposphere", "1"), ("air_mass_factor_total", "1")):
            if name in skip:
                continue
            v = g.createVariable(name, "f4", ("time", "scanline", "ground_pixel"))
            v.units = units
            v[:] = np.ones((1, 2, 3))
    return path


def test_wrong_group(tmp_path):
    bad = _minimal(tmp_path / "wronggroup.nc", group="DATA")
    with pytest.raises(DataError, match=r"wronggroup\.nc: missing group 'PRODUCT'"):
        read_tropomi_no2(bad)


def test_missing_variable(tmp_path):
    bad = _minimal(tmp_path / "novar.nc", skip=("qa_value",))
    with pytest.raises(DataError, match=r"novar\.nc: missing variable /PRODUCT/qa_value"):
        read_tropomi_no2(bad)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        read_tropomi_no2(tmp_path / "nothere.nc")
