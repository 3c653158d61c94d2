"""Tests of leave-one-site-out, skill tables, monthly aggregation and drought anomalies."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from eoretrieval.carbon import evaluate
from eoretrieval.carbon.synthetic import make_synthetic_sites


def test_skill_perfect_and_biased():
    data = make_synthetic_sites(n_months=24)
    perfect = data[["nee", "gpp", "reco"]]
    sk = evaluate.skill(perfect, data)
    assert sk["nee_r2"] == pytest.approx(1.0) and sk["gpp_rmse"] == pytest.approx(0.0)
    shifted = perfect.copy()
    shifted["nee"] = shifted["nee"] + 1.0
    assert evaluate.skill(shifted, data)["nee_bias"] == pytest.approx(1.0)
    tab = evaluate.skill_table(perfect, data, classes={"S0": "ENF", "S1": "DBF", "S2": "CRO"})
    assert set(tab["per_site"]) == {"S0", "S1", "S2"} and set(tab["per_class"]) == {"CRO", "DBF", "ENF"}


def test_leave_one_site_out_transfers_shared_parameters():
    data = make_synthetic_sites(n_months=36, noise=0.05, seed=2)
    pred, fits = evaluate.leave_one_site_out("vprm", data, n_starts=1)
    assert set(fits) == {"S0", "S1", "S2"} and "S0" not in fits["S0"].sites
    assert evaluate.skill(pred, data)["gpp_r2"] > 0.95


def test_to_monthly_and_anomaly():
    t = pd.date_range("2018-01-01", "2019-12-31", freq="D")
    n = len(t)
    truth = xr.Dataset({k: ("sample", np.where(t.year == 2018, 2.0, 1.0)) for k in ("nee", "gpp", "reco")},
                       coords={"site": ("sample", ["A"] * n), "time": ("sample", t.values)})
    truth["index_filled"] = ("sample", np.zeros(n))
    pm, tm = evaluate.to_monthly(truth[["nee", "gpp", "reco"]], truth)
    assert pm.sizes["sample"] == 24 and float(tm["gpp"][0]) == 2.0
    an = evaluate.anomaly_test(pm, tm, year=2018)
    assert an["A"]["gpp"]["obs"] == pytest.approx(1.0) and an["A"]["gpp"]["n_months"] == 3


def test_profiles():
    from eoretrieval.config import get_profile
    assert get_profile("ci", evaluate.VPRM_PROFILES).n_starts_monthly <= get_profile("paper", evaluate.VPRM_PROFILES).n_starts_monthly
