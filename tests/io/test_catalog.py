"""Catalog tests: every shipped entry opens with its declared variables; bad files fail clearly."""

import shutil

import pytest

from eoretrieval.errors import DataError
from eoretrieval.io import (describe_catalog, entry_path, get_reader, list_entries, list_readers, open_catalog,
                            open_entry, read_era_interim_monthly, read_netcdf)

SAMPLES = list_entries(kind="sample")


def test_catalog_has_samples_and_archives():
    assert len(SAMPLES) >= 6
    assert len(list_entries(kind="archive")) >= 5
    table = describe_catalog()
    assert (table["licence"] != "").all(), "every entry states its licence"
    assert (table["provenance"] != "").all(), "every entry states its provenance"


@pytest.mark.parametrize("name", SAMPLES)
def test_every_sample_entry_opens(name):
    ds = open_entry(name)
    assert ds.attrs["catalog_entry"] == name
    assert ds.sizes, f"{name} opened empty"
    cat = open_catalog()
    for var in cat.entries[name].metadata.get("variables") or {}:
        assert var in ds.variables


def test_every_entry_names_a_registered_reader():
    cat = open_catalog()
    for name in cat.entries:
        get_reader(cat.entries[name].kwargs["reader"])


def test_archive_is_not_opened_without_permission():
    with pytest.raises(DataError, match="remote archive"):
        open_entry("tropomi_l2_no2_archive")


def test_unknown_entry_lists_valid_names():
    with pytest.raises(ValueError, match="valid entries"):
        open_entry("no_such_entry")


def test_truncated_netcdf_gives_clear_error(tmp_path):
    src = entry_path("era_interim_uvz_sample")
    bad = tmp_path / "truncated.nc"
    with open(src, "rb") as f:
        bad.write_bytes(f.read()[:5000])
    with pytest.raises(DataError, match=r"truncated\.nc: truncated or corrupt netCDF-3 file"):
        read_era_interim_monthly(bad)
    with pytest.raises(DataError, match=r"truncated\.nc: truncated or corrupt netCDF-3 file"):
        read_netcdf(bad)
    garbage = tmp_path / "garbage.nc"
    garbage.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 100)
    with pytest.raises(DataError, match=r"garbage\.nc: cannot be read by read_netcdf"):
        read_netcdf(garbage)


def test_missing_variable_in_file(tmp_path):
    src = entry_path("era_interim_uvz_sample")
    ds = read_era_interim_monthly(src)[["u", "z"]]
    for var in ds.data_vars.values():
        var.encoding = {}
    path = tmp_path / "no_v.nc"
    ds.rename({"lat": "latitude", "lon": "longitude"}).to_netcdf(path)
    with pytest.raises(DataError, match=r"no_v\.nc: missing variable 'v' \(expected units 'm s\*\*-1'\)"):
        read_era_interim_monthly(path)


def test_missing_file():
    with pytest.raises(DataError, match="file not found"):
        read_netcdf("/nonexistent/file.nc")


def test_wrong_units_in_catalog_entry(tmp_path):
    from eoretrieval.io.catalog import default_catalog_path

    cat_text = default_catalog_path().read_text()
    tmp_cat = tmp_path / "catalog.yml"
    shutil.copytree(entry_path("era_interim_uvz_sample").rsplit("/data/", 1)[0] + "/data/reanalysis_winds",
                    tmp_path / "data" / "reanalysis_winds")
    tmp_cat.write_text(cat_text.replace('variables: {u: "m s**-1"', 'variables: {u: "km h-1"'))
    with pytest.raises(DataError, match=r"variable 'u' has units 'm s\*\*-1', expected 'km h-1'"):
        open_entry("era_interim_uvz_sample", catalog=open_catalog(tmp_cat))


def test_registry_lists_readers():
    assert {"netcdf", "csv_table", "shapefile", "era_interim_monthly"} <= set(list_readers())
    with pytest.raises(ValueError, match="valid readers"):
        get_reader("grib9")
