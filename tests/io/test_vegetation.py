"""Tests of the vegetation-index readers on the real shipped files and corrupted copies."""

import numpy as np
import pandas as pd
import pytest

from eoretrieval.config import data_dir
from eoretrieval.errors import DataError
from eoretrieval.io import vegetation as veg

VI = data_dir() / "vegetation_indices"
MOD = VI / "MOD13A1_flux_sites_phenofit.csv"
S2 = data_dir() / "sentinel2" / "s2_ndvi_timeseries_slovenia_eolearn_testpatch.nc"


def test_mod13a1_scale_and_qa():
    raw = pd.read_csv(MOD)
    ds = veg.read_mod13a1_table(MOD, sites=["DE-Obe"])
    assert ds.sizes["time"] == 422 and ds["evi"].attrs["units"] == "1"
    r = raw[raw.site == "DE-Obe"].sort_values("date")
    good = (r.SummaryQA <= 1).to_numpy()
    np.testing.assert_allclose(ds["evi"].sel(site="DE-Obe").values[good], r.EVI.to_numpy()[good] * 1e-4, atol=1e-12)
    assert np.isnan(ds["evi"].sel(site="DE-Obe").values[~good]).all()
    strict = veg.read_mod13a1_table(MOD, sites=["DE-Obe"], max_summary_qa=0)
    assert strict["evi"].count() < ds["evi"].count()
    assert float(ds["swir2"].max()) <= 1.0


def test_mod13a1_sites_and_unknown_site():
    st = veg.read_mod13a1_sites(VI / "MOD13A1_flux_sites_phenofit_sites.csv")
    assert str(st["igbp"].sel(site="CZ-wet").values) == "WET"
    with pytest.raises(DataError, match=r"site\(s\) \['XX-No'\] not in the MOD13A1 table"):
        veg.read_mod13a1_table(MOD, sites=["XX-No"])


def test_us_pfa_modis():
    e = veg.read_modis_evi_csv(VI / "US-PFa_vprm_modis" / "US-PFa_MOD13Q1_evi.csv")
    r = veg.read_modis_reflectance_csv(VI / "US-PFa_vprm_modis" / "US-PFa_MOD09A1_reflectance.csv")
    assert e.sizes["time"] == 304 and float(e["evi"].max()) <= 1
    assert set(r.data_vars) == {"red", "nir", "blue", "swir"} and r.sizes["time"] < 614


def test_mod15a2h():
    f = veg.read_mod15a2h(VI / "CH-Oe2_modis_lai_fapar" / "MOD15A2H_fapar_CH-Oe2_2004-2023.csv")
    assert f["fapar"].dims == ("time", "pixel") and f.sizes == {"time": 918, "pixel": 25}
    lai = veg.read_mod15a2h(VI / "CH-Oe2_modis_lai_fapar" / "MOD15A2H_lai_CH-Oe2_2004-2023.csv")
    assert lai["lai"].attrs["units"] == "m2 m-2"


def test_sentinel2_ndvi():
    ds = veg.read_sentinel2_ndvi(S2)
    assert ds["ndvi"].dims == ("time", "y", "x") and ds.sizes["time"] == 68
    assert bool((np.diff(ds["y"].values) > 0).all())
    assert ds["ndvi"].where(~ds["valid"]).count() == 0


# ---- bad input ----

def test_mod13a1_missing_column(tmp_path):
    f = tmp_path / "m.csv"
    pd.read_csv(MOD, nrows=50).drop(columns="SummaryQA").to_csv(f, index=False)
    with pytest.raises(DataError, match=r"\['SummaryQA'\] not found"):
        veg.read_mod13a1_table(f)


def test_mod13a1_all_bad_quality(tmp_path):
    f = tmp_path / "m.csv"
    df = pd.read_csv(MOD, nrows=50)
    df["SummaryQA"] = 3
    df.to_csv(f, index=False)
    with pytest.raises(DataError, match="no valid EVI left"):
        veg.read_mod13a1_table(f)


def test_evi_unscaled(tmp_path):
    f = tmp_path / "e.csv"
    df = pd.read_csv(VI / "US-PFa_vprm_modis" / "US-PFa_MOD13Q1_evi.csv")
    df["evi"] = df["evi"] * 1e4
    df.to_csv(f, index=False)
    with pytest.raises(DataError, match="expected unitless"):
        veg.read_modis_evi_csv(f)


def test_mod15a2h_ragged_window(tmp_path):
    f = tmp_path / "f.csv"
    pd.read_csv(VI / "CH-Oe2_modis_lai_fapar" / "MOD15A2H_fapar_CH-Oe2_2004-2023.csv").iloc[:-3].to_csv(f, index=False)
    with pytest.raises(DataError, match="varying number of rows per date"):
        veg.read_mod15a2h(f)


def test_truncated_reflectance(tmp_path):
    f = tmp_path / "r.csv"
    data = (VI / "US-PFa_vprm_modis" / "US-PFa_MOD09A1_reflectance.csv").read_bytes()
    f.write_bytes(data[: len(data) // 2 - 7])
    with pytest.raises(DataError, match="truncated"):
        veg.read_modis_reflectance_csv(f)


def test_sentinel2_missing_ndvi(tmp_path):
    import xarray as xr
    f = tmp_path / "s2.nc"
    with xr.open_dataset(S2, engine="h5netcdf") as raw:
        raw[["CLM"]].isel(time=slice(0, 2)).load().to_netcdf(f, engine="h5netcdf")
    with pytest.raises(DataError, match="variable 'NDVI' not found"):
        veg.read_sentinel2_ndvi(f)


def test_sentinel2_not_netcdf(tmp_path):
    f = tmp_path / "s2.nc"
    f.write_bytes(b"not a netcdf file at all")
    with pytest.raises(DataError, match="not a readable netCDF file"):
        veg.read_sentinel2_ndvi(f)
