"""Tests of the forest-tower drivers: day length, bucket soil water, loading through the catalog."""

import numpy as np
import pytest

from eoretrieval.carbon import towers


def test_daylength_known_answers():
    assert towers.daylength_hours(0.0, 172) == pytest.approx(12.0, abs=0.15)
    assert towers.daylength_hours(51.0, 172) == pytest.approx(16.5, abs=0.3)  # London midsummer ~16.6 h
    assert towers.daylength_hours(51.0, 355) == pytest.approx(7.8, abs=0.3)
    assert towers.daylength_hours(75.0, 172) == 24.0 and towers.daylength_hours(75.0, 355) == 0.0


def test_bucket_conserves_water_and_stays_in_bounds():
    rng = np.random.default_rng(0)
    p = rng.exponential(2.0, 1000)
    e = np.full(1000, 3.0)
    w = towers.bucket_soil_water(p, e, 150.0, n_spinup_years=0)
    assert w.min() >= 0 and w.max() <= 1
    # no rain, full bucket: ET = PET until half capacity
    w2 = towers.bucket_soil_water(np.zeros(10), np.full(10, 5.0), 100.0, n_spinup_years=0)
    np.testing.assert_allclose(w2[:5], 1 - 0.05 * np.arange(1, 6))
    with pytest.raises(ValueError, match="water-holding capacity"):
        towers.bucket_soil_water(p, e, 0.0)


def test_load_forest_towers_day_time_drivers():
    ds = towers.load_forest_towers(sites=["DE-Tha", "FI-Sod"])
    assert list(ds["site"].values) == ["DE-Tha", "FI-Sod"]
    i = 0
    ok = np.isfinite(ds["par_24h"].values[i])
    np.testing.assert_allclose(ds["par_day"].values[i, ok] * ds["daylength"].values[i, ok] / 24,
                               ds["par_24h"].values[i, ok], rtol=1e-12)
    assert ds["vpd"].attrs["units"] == "hPa" and ds["vprm_class"].values.tolist() == ["evergreen", "evergreen"]
    assert 0 <= np.nanmin(ds["wrel"].values) and np.nanmax(ds["wrel"].values) <= 1
    # polar night at FI-Sod: no day-time light
    assert np.nanmin(ds["daylength"].values[1]) < 1.0


def test_monthly_truth_has_both_partitionings():
    t = towers.monthly_truth(["DE-Tha", "US-Ha1"])
    assert t["site"].values.tolist() == ["DE-Tha"] and t.attrs["absent"] == ["US-Ha1"]
    assert {"nee", "gpp_nt", "gpp_dt", "reco_nt", "reco_dt"} <= set(t.data_vars)


def test_monthly_temperature_gap_per_shared_tower():
    ds = towers.load_forest_towers(sites=["DE-Tha", "FI-Sod"])
    truth = towers.monthly_truth(["DE-Tha", "FI-Sod"])
    gap = towers.monthly_temperature_gap(ds, truth)
    shared = [s for s in ["DE-Tha", "FI-Sod"] if s in truth["site"].values]
    assert gap.index.tolist() == shared
    # by hand at DE-Tha
    monthly = ds["t_day"].sel(site="DE-Tha").to_series().resample("MS").mean()
    ref = truth["ta_24h"].sel(site="DE-Tha").to_series().reindex(monthly.index)
    assert gap["DE-Tha"] == pytest.approx(float((monthly - ref).dropna().mean()), rel=1e-12)
    assert 0.3 < gap["DE-Tha"] < 1.5  # TA is a day-time mean: warmer than the 24-h TA_F
    # shifting the towers' temperature by 2 K shifts the gap by 2 K
    warm = ds.assign(t_day=ds["t_day"] + 2.0)
    assert towers.monthly_temperature_gap(warm, truth)["DE-Tha"] == pytest.approx(gap["DE-Tha"] + 2.0, abs=1e-9)
    # a folder whose towers the table does not hold: no rows, no error
    assert towers.monthly_temperature_gap(ds.sel(site=["FI-Sod"]), truth.sel(site=["DE-Tha"])).empty
    with pytest.raises(Exception, match="ta_24h"):
        towers.monthly_temperature_gap(ds, truth.drop_vars("ta_24h"))
