"""Station and point-series readers on the shipped real files, QC known answers, and bad files."""

import gzip

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from eoretrieval.config import repo_root
from eoretrieval.errors import DataError
from eoretrieval.io import get_reader
from eoretrieval.io.stations import (AVOGADRO, qc_hourly_no2, read_beijing_stations, read_oman_no2_cities,
                                     read_openeo_no2_point, read_prsa_station)

GROUND = repo_root() / "data" / "ground_no2"
OMAN = repo_root() / "data" / "tropomi_no2" / "openeo_point_timeseries_oman_2024"
DONGSI = GROUND / "PRSA_Data_Dongsi_20130301-20170228.csv.gz"


def _hourly(values):
    t = pd.date_range("2015-01-01", periods=len(values), freq="h")
    return xr.DataArray(np.asarray(values, float), dims="time", coords={"time": t}, attrs={"units": "ug m-3"})


def test_qc_known_answers():
    v = [20, 21, 22, 50, 50, 50, 50, 50, 50, 30, 2, 2, 2, 2, 2, 2, 2, 25, 400.5, 24, 26, 200, 27, 0.5]
    out = qc_hourly_no2(_hourly(v)).values
    assert np.isnan(out[3:9]).all()  # stuck sensor: 6 identical hours at 50
    assert np.isfinite(out[10:17]).all()  # runs at the detection limit are kept
    assert np.isnan(out[18]) and np.isnan(out[23])  # range
    assert np.isnan(out[21])  # spike: 200 between 24-27
    assert np.isfinite(out[[0, 1, 2, 9, 17, 19, 20, 22]]).all()
    with pytest.raises(DataError, match="expected 'ug m-3'"):
        qc_hourly_no2(_hourly(v).assign_attrs(units="ppb"))


def test_read_one_station_matches_the_raw_file():
    ds = get_reader("prsa_station")(DONGSI)
    raw = pd.read_csv(DONGSI)
    assert str(ds.site.values) == "Dongsi" and ds.sizes["time"] == len(raw) == 35064
    assert ds["no2"].attrs["units"] == "ug m-3" and ds["temp"].attrs["units"] == "degC"
    assert pd.Timestamp(ds.time.values[0]) == pd.Timestamp("2013-03-01 00:00")
    raw_no2 = raw["NO2"].to_numpy(float)
    kept = np.isfinite(ds["no2"].values)
    np.testing.assert_array_equal(ds["no2"].values[kept], raw_no2[kept])
    flagged = np.isfinite(raw_no2) & ~kept
    assert flagged.sum() == ds["no2"].attrs["qc_stuck"] + ds["no2"].attrs["qc_spike"] + ds["no2"].attrs["qc_range"]
    assert flagged.mean() < 0.01
    # wind from the north (N) blows southward: v < 0, u = 0
    north = raw["wd"].to_numpy() == "N"
    assert np.allclose(ds["u"].values[north], 0, atol=1e-9) and (ds["v"].values[north] <= 0).all()


def test_read_all_stations():
    ds = read_beijing_stations(str(GROUND / "*.csv.gz"))
    assert ds.sizes == {"site": 12, "time": 35064}
    assert 30 < float(ds["no2"].mean()) < 70


def test_bad_station_files(tmp_path):
    bad = tmp_path / "nocol.csv"
    pd.DataFrame({"year": [2013], "month": [3], "day": [1], "hour": [0], "NO2": [3.0]}).to_csv(bad, index=False)
    with pytest.raises(DataError, match=r"nocol\.csv: missing columns"):
        read_prsa_station(bad)
    trunc = tmp_path / "trunc.csv.gz"
    trunc.write_bytes(DONGSI.read_bytes()[:5000])
    with pytest.raises(DataError, match=r"trunc\.csv\.gz: cannot be read"):
        read_prsa_station(trunc)
    with pytest.raises(DataError, match="no file matches"):
        read_beijing_stations(str(tmp_path / "*.nothing"))


def test_oman_cities():
    ds = read_oman_no2_cities(str(OMAN / "*.nc"))
    assert ds.sizes["city"] == 6 and "Muscat" in ds.city.values
    assert ds["no2"].attrs["units"] == "mol m-2" and ds["no2_molec_cm2"].attrs["units"] == "molec cm-2"
    np.testing.assert_allclose(ds["no2_molec_cm2"], ds["no2"] * AVOGADRO / 1e4)
    assert float(ds["no2"].max()) < 2e-4 and float(ds["no2"].min()) > -1e-5
    assert int(ds["no2"].count()) == 322 + 319 + 301 + 238 + 324 + 324  # days with a retrieval (SOURCE.md)
    assert float(ds["lat"].sel(city="Muscat")) == pytest.approx(23.61, abs=0.01)


def test_oman_wrong_units_rejected(tmp_path):
    src = OMAN / "NO2_2024_Muscat.nc"
    with xr.open_dataset(src, engine="h5netcdf") as raw:
        raw = raw.load()
    raw["NO2"] = raw["NO2"] * AVOGADRO / 1e4  # molec cm-2 without saying so
    bad = tmp_path / "NO2_2024_Bad.nc"
    raw.to_netcdf(bad, engine="h5netcdf")
    with pytest.raises(DataError, match=r"NO2_2024_Bad\.nc: NO2 values .*wrong units"):
        read_openeo_no2_point(bad)
