"""Tests of the NOx proxy summaries on the real shipped tables."""

import pytest

from eoretrieval.errors import DataError
from eoretrieval.io import open_entry
from eoretrieval.io.summary import summarise_cities, summarise_power_plants


def test_power_plants_match_source_md():
    s = summarise_power_plants(open_entry("power_plants_china"))
    # data/point_sources/SOURCE.md: 1,003 coal plants, 983 GW (1,000 located with capacity)
    assert 990 <= s.attrs["n_coal"] <= 1003
    assert s.attrs["coal_capacity_gw"] == pytest.approx(983, abs=2)
    assert s["capacity_gw"].attrs["units"] == "GW"


def test_cities_china():
    s = summarise_cities(open_entry("cities_east_asia"), iso3="CHN")
    assert s.attrs["n_cities"] == 392


def test_missing_column_names_variable():
    ds = open_entry("cities_east_asia")
    with pytest.raises(DataError, match="missing variable 'Fuel'"):
        summarise_power_plants(ds)
