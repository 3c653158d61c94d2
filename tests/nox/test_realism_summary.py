"""``roundtrip_summary``: the round trip's headline numbers come from the right rows of the scores."""

import pandas as pd
import pytest
import xarray as xr

from eoretrieval.nox.realism import roundtrip_summary


def _rt():
    scores = {"roundtrip/network": {"rmse": 3.0, "corr": 0.8}, "study1/network": {"rmse": 2.0, "corr": 0.9},
              "roundtrip/flux_divergence": {"rmse": 10.0, "corr": 0.3},
              "study1/flux_divergence": {"rmse": 8.0, "corr": 0.4}}
    truth = xr.DataArray([1.0], dims="time", attrs={"units": "mol m-2 s-1"})
    return {"scores": scores, "column": {"column_corr": 0.99, "valid_agreement": 0.97}, "truth": truth,
            "days": pd.date_range("2022-01-01", periods=4), "files": ["a.nc", "b.nc", "c.nc"]}


def test_ratios_use_the_l2_path_over_the_gridded_inputs():
    s = roundtrip_summary(_rt())
    assert s["ratio"] == pytest.approx(1.5)
    assert s["flux_divergence_ratio"] == pytest.approx(1.25)
    assert (s["rmse"], s["rmse_study1"], s["corr"], s["corr_study1"]) == (3.0, 2.0, 0.8, 0.9)
    assert (s["n_days"], s["n_files"], s["units"]) == (4, 3, "mol m-2 s-1")
    assert s["column_corr"] == 0.99 and s["valid_agreement"] == 0.97


def test_a_missing_path_is_an_error():
    rt = _rt()
    del rt["scores"]["study1/network"]
    with pytest.raises(KeyError, match="study1/network"):
        roundtrip_summary(rt)
