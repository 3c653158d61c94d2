"""Tests of the FLUXNET2015-format readers on the real shipped files and corrupted copies."""

import shutil

import numpy as np
import pandas as pd
import pytest

from eoretrieval.config import data_dir
from eoretrieval.errors import DataError
from eoretrieval.io import fluxnet as fx

FLUX = data_dir() / "fluxnet"
DD = FLUX / "daily" / "FLX_FR-Tou_FLUXNET2015_FULLSET_DD_2018-2020_beta-3.csv"
MM = FLUX / "fluxnet_warmwinter2020_monthly_selected.csv"


def test_read_daily_fullset_units_and_time():
    ds = fx.read_fluxnet(DD, variables=["TA_F", "SW_IN_F", "VPD_F", "NEE_VUT_REF", "GPP_NT_VUT_REF"])
    assert ds.attrs["site"] == "FR-Tou" and ds.attrs["resolution"] == "DD"
    assert ds.sizes["time"] == 1096
    assert str(ds["time"].values[0])[:10] == "2018-01-01"
    assert ds["NEE_VUT_REF"].attrs["units"] == "g m-2 d-1"
    assert ds["TA_F"].attrs["units"] == "degC"
    assert ds["VPD_F"].attrs["units"] == "hPa"
    assert ds["GPP_NT_VUT_REF"].attrs["quality_control"].startswith("NEE_VUT_REF_QC")


def test_qc_threshold_masks_low_quality_days():
    raw = pd.read_csv(DD, usecols=["NEE_VUT_REF", "NEE_VUT_REF_QC"])
    ds = fx.read_fluxnet(DD, variables=["NEE_VUT_REF"], qc_threshold=0.8)
    low = (raw["NEE_VUT_REF_QC"] < 0.8).to_numpy()
    assert low.any()
    assert np.isnan(ds["NEE_VUT_REF"].values[low]).all()
    good = ~low & (raw["NEE_VUT_REF"] != -9999).to_numpy()
    np.testing.assert_allclose(ds["NEE_VUT_REF"].values[good], raw["NEE_VUT_REF"].to_numpy()[good])
    unfiltered = fx.read_fluxnet(DD, variables=["NEE_VUT_REF"], qc_threshold=None)
    assert unfiltered["NEE_VUT_REF"].count() > ds["NEE_VUT_REF"].count()


def test_missing_value_becomes_nan():
    f = FLUX / "daily" / "FLX_DK-Gds_FLUXNET2015_FULLSET_DD_2020-2020_beta-3.csv"
    raw = pd.read_csv(f, usecols=["TA_F_MDS"])
    ds = fx.read_fluxnet(f, variables=["TA_F_MDS"], qc_threshold=None)
    assert (raw["TA_F_MDS"] == -9999).sum() == 291 == int(ds["TA_F_MDS"].isnull().sum())
    assert float(ds["TA_F_MDS"].min()) > -100


def test_all_daily_files_read():
    for f in sorted((FLUX / "daily").glob("FLX_*.csv")):
        ds = fx.read_fluxnet(f, variables=["TA_F", "NEE_VUT_REF"])
        assert ds.attrs["resolution"] == "DD"


def test_monthly_table():
    ds = fx.read_fluxnet_monthly_table(MM, sites=["CH-Oe2", "DE-Obe"], variables=["NEE_VUT_REF", "TA_F"])
    assert list(ds["site"].values) == ["CH-Oe2", "DE-Obe"]
    assert ds["NEE_VUT_REF"].dims == ("site", "time")
    assert ds["NEE_VUT_REF"].attrs["units"] == "g m-2 d-1"
    assert int(ds["NEE_VUT_REF"].sel(site="DE-Obe").count()) > 100
    with pytest.raises(DataError, match=r"site\(s\) \['XX-Nop'\] not in the table"):
        fx.read_fluxnet_monthly_table(MM, sites=["XX-Nop"])


def test_other_layouts_map_to_fluxnet_names():
    neu = fx.read_flux_file(FLUX / "AT-Neu_bigleaf_HH" / "AT-Neu_HH_2010-07_bigleaf.csv")
    assert neu.attrs["resolution"] == "HH" and neu.sizes["time"] == 1488
    assert neu["VPD_F"].attrs["units"] == "hPa" and float(neu["VPD_F"].max()) > 5  # kPa -> hPa
    assert neu["NEE_VUT_USTAR50"].attrs["units"] == "umol m-2 s-1"
    pfa = fx.read_flux_file(FLUX / "US-PFa_vprm_hourly" / "US-PFa_tower_hourly_2005.csv")
    assert pfa.attrs["site"] == "US-PFa" and int(pfa["FC"].count()) == 8756 - 4208
    how = fx.read_flux_file(FLUX / "AU-How_plumber2_daily" / "AU-How_daily_aggregated_2003-2014_PLUMBER2_NEE_Qle_Qh.csv")
    assert int(how["NEE_VUT_REF"].count()) == 201
    oe2 = fx.read_flux_file(FLUX / "CH-Oe2_icos_daily" / "CH-Oe2_FLUXNET_DD_2004-2023_selected.csv")
    np.testing.assert_allclose(oe2["RECO_NT_VUT_REF"], oe2["NEE_VUT_REF"] + oe2["GPP_NT_VUT_REF"])
    sites = fx.read_fluxnet_sites(FLUX / "sites.csv")
    assert str(sites["igbp"].sel(site="DE-Obe").values) == "ENF"


def test_halfhourly_flags(tmp_path):
    f = tmp_path / "FLX_XX-Tst_FLUXNET2015_FULLSET_HH_2020-2020_beta-3.csv"
    f.write_text("TIMESTAMP_START,TIMESTAMP_END,NEE_VUT_REF,NEE_VUT_REF_QC,TA_F\n"
                 "202001010000,202001010030,1.5,0,2.0\n202001010030,202001010100,2.5,1,2.1\n"
                 "202001010100,202001010130,3.5,2,2.2\n202001010130,202001010200,-9999,0,2.3\n")
    ds = fx.read_fluxnet(f)
    assert ds.attrs["resolution"] == "HH" and ds.attrs["site"] == "XX-Tst"
    assert ds["NEE_VUT_REF"].attrs["units"] == "umol m-2 s-1"
    np.testing.assert_array_equal(np.isnan(ds["NEE_VUT_REF"].values), [False, False, True, True])


# ---- bad input ----

def _copy(tmp_path, src=DD, name="FLX_XX-Bad_FLUXNET2015_FULLSET_DD_2018-2020_beta-3.csv"):
    dst = tmp_path / name
    shutil.copy(src, dst)
    return dst


def test_missing_file():
    with pytest.raises(DataError, match="file not found"):
        fx.read_fluxnet("/nonexistent/FLX_x.csv")


def test_missing_timestamp(tmp_path):
    f = _copy(tmp_path)
    df = pd.read_csv(f, nrows=20).drop(columns="TIMESTAMP")
    df.to_csv(f, index=False)
    with pytest.raises(DataError, match=r"no 'TIMESTAMP' or 'TIMESTAMP_START' column"):
        fx.read_fluxnet(f)


def test_missing_variable(tmp_path):
    with pytest.raises(DataError, match=r"variable\(s\) \['GPP_XX'\] not found"):
        fx.read_fluxnet(DD, variables=["GPP_XX"])


def test_truncated_file(tmp_path):
    f = _copy(tmp_path)
    data = f.read_bytes()
    f.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="truncated file"):
        fx.read_fluxnet(f)


def test_header_only(tmp_path):
    f = tmp_path / "FLX_XX-Emp_FLUXNET2015_FULLSET_DD_2018-2018_beta-3.csv"
    f.write_text("TIMESTAMP,TA_F\n")
    with pytest.raises(DataError, match="no data rows"):
        fx.read_fluxnet(f)


def test_all_nan_variable(tmp_path):
    f = _copy(tmp_path)
    df = pd.read_csv(f, nrows=30, usecols=["TIMESTAMP", "TA_F", "NEE_VUT_REF"])
    df["NEE_VUT_REF"] = -9999
    df.to_csv(f, index=False)
    with pytest.raises(DataError, match="'NEE_VUT_REF' is all missing"):
        fx.read_fluxnet(f, variables=["NEE_VUT_REF"])


def test_wrong_units_kelvin(tmp_path):
    f = _copy(tmp_path)
    df = pd.read_csv(f, nrows=30, usecols=["TIMESTAMP", "TA_F"])
    df["TA_F"] = df["TA_F"] + 273.15
    df.to_csv(f, index=False)
    with pytest.raises(DataError, match=r"'TA_F' has values .* expected units 'degC'"):
        fx.read_fluxnet(f)


def test_bad_timestamp(tmp_path):
    f = _copy(tmp_path)
    df = pd.read_csv(f, nrows=5, usecols=["TIMESTAMP", "TA_F"])
    df["TIMESTAMP"] = df["TIMESTAMP"].astype(str)
    df.loc[2, "TIMESTAMP"] = "20181341"
    df.to_csv(f, index=False)
    with pytest.raises(DataError, match="is not a timestamp"):
        fx.read_fluxnet(f)


def test_monthly_table_without_site_id(tmp_path):
    f = tmp_path / "table.csv"
    pd.read_csv(MM, nrows=10).drop(columns="SITE_ID").to_csv(f, index=False)
    with pytest.raises(DataError, match="column 'SITE_ID' not found"):
        fx.read_fluxnet_monthly_table(f)


def test_bigleaf_missing_columns(tmp_path):
    f = tmp_path / "neu.csv"
    pd.read_csv(FLUX / "AT-Neu_bigleaf_HH" / "AT-Neu_HH_2010-07_bigleaf.csv", nrows=10).drop(columns="NEE").to_csv(f, index=False)
    with pytest.raises(DataError, match=r"\['NEE'\] not found"):
        fx.read_bigleaf_halfhourly(f)
