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
