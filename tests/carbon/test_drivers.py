"""Tests of the tower + satellite pairs built from the real shipped files."""

import numpy as np
import pytest

from eoretrieval.carbon import drivers
from eoretrieval.errors import DataError


def test_default_monthly_site_real_files():
    spec = [s for s in drivers.default_sites("monthly") if s.site == "DE-Obe"][0]
    ds = drivers.load_site(spec)
    assert ds.attrs["vprm_class"] == "evergreen" and ds["nee"].attrs["units"] == "g m-2 d-1"
    assert str(ds["time"].values[0])[:7] == "2008-01"
    obs = ds["index_filled"].values <= 0.5
    assert obs.sum() > 100 and (ds["index_filled"].values[ds["time"].values > np.datetime64("2018-08-01")] == 1).all()
    assert 0 < ds.attrs["evi_threshold"] < 1 and ds.attrs["lswi_min"] < ds.attrs["lswi_max"]
    assert "LSWI2130 approximation" in ds.attrs["index_notes"]
    assert "Myneni" in ds.attrs["index_notes"]


def test_parse_sites_accepts_dicts():
    specs = drivers.parse_sites([{"site": "CZ-wet", "igbp": "WET", "flux": drivers.MONTHLY_TABLE,
                                  "index": drivers.MOD13A1_TABLE}], "monthly")
    assert specs[0].site == "CZ-wet" and specs[0].scale == "monthly"
    with pytest.raises(ValueError, match="sites must be 'default'"):
        drivers.parse_sites("all", "monthly")
    with pytest.raises(ValueError, match="unknown scale"):
        drivers.default_sites("hourly")


def test_halfhourly_site_aggregates_to_days():
    spec = [s for s in drivers.default_sites("daily") if s.site == "AT-Neu"][0]
    ds = drivers.load_site(spec)
    assert ds.sizes["time"] == 31 and float(ds["gpp"].mean()) > 2  # g C m-2 d-1 in July grassland


def test_site_without_index_rows():
    spec = drivers.SiteSpec("BE-Lcr", "DBF", drivers.MONTHLY_TABLE, drivers.MOD13A1_TABLE)
    with pytest.raises(DataError, match=r"site\(s\) \['BE-Lcr'\] not in the MOD13A1 table"):
        drivers.load_site(spec)


def test_index_of_another_site_by_name():
    # BE-Lcr given US-PFa's MODIS files: refused, naming both sites and the file
    spec = drivers.SiteSpec("BE-Lcr", "DBF", "fluxnet/daily/FLX_BE-Lcr_FLUXNET2015_FULLSET_DD_2019-2020_beta-3.csv",
                            "vegetation_indices/US-PFa_vprm_modis/US-PFa_MOD13Q1_evi.csv", "daily",
                            reflectance="vegetation_indices/US-PFa_vprm_modis/US-PFa_MOD09A1_reflectance.csv")
    with pytest.raises(DataError, match=r"US-PFa_MOD13Q1_evi.csv: index file of site\(s\) \['US-PFa'\], but it is "
                                        r"given for site BE-Lcr"):
        drivers.load_site(spec)


def test_index_of_another_site_by_coordinates():
    spec = drivers.SiteSpec("DE-Obe", "ENF", drivers.MONTHLY_TABLE, drivers.MOD13A1_TABLE, lat=47.0, lon=8.0)
    with pytest.raises(DataError, match=r"index pixel of DE-Obe at .* km from the site's coordinates"):
        drivers.load_site(spec)
    ok = drivers.SiteSpec("DE-Obe", "ENF", drivers.MONTHLY_TABLE, drivers.MOD13A1_TABLE, lat=50.7867, lon=13.7213)
    assert drivers.load_site(ok).attrs["site"] == "DE-Obe"


def test_missing_index_and_wrong_scale_are_clear_errors():
    with pytest.raises(DataError, match=r"site 'CZ-wet': keys \['index'\] missing"):
        drivers.parse_sites([{"site": "CZ-wet", "igbp": "WET", "flux": drivers.MONTHLY_TABLE}], "monthly")
    with pytest.raises(DataError, match=r"site 'CZ-wet': scale 'daily' given in a list for the 'monthly' scale"):
        drivers.parse_sites([{"site": "CZ-wet", "igbp": "WET", "flux": drivers.MONTHLY_TABLE,
                              "index": drivers.MOD13A1_TABLE, "scale": "daily"}], "monthly")
    with pytest.raises(DataError, match=r"site 'CZ-wet': unknown keys \['indx'\]"):
        drivers.parse_sites([{"site": "CZ-wet", "igbp": "WET", "flux": drivers.MONTHLY_TABLE,
                              "index": drivers.MOD13A1_TABLE, "indx": 1}], "monthly")
    with pytest.raises(DataError, match=r"scale 'weekly' not valid"):
        drivers.SiteSpec("CZ-wet", "WET", drivers.MONTHLY_TABLE, drivers.MOD13A1_TABLE, "weekly")
    with pytest.raises(DataError, match=r"nowhere.csv: vegetation-index file of site CZ-wet not found"):
        drivers.load_site(drivers.SiteSpec("CZ-wet", "WET", drivers.MONTHLY_TABLE, "nowhere.csv"))
