"""Tests of the spun-up carbon pools and of the respiration fits."""

import numpy as np
import pandas as pd
import pytest

from eoretrieval.carbon import pools, respiration
from eoretrieval.carbon.vprm import UMOL_M2_S_TO_G_M2_D


def _forcing(years=4):
    t = pd.date_range("2003-01-01", periods=365 * years, freq="D")
    s = np.sin(2 * np.pi * (t.day_of_year.to_numpy() - 100) / 365)
    return t, np.clip(6 * s, 0, None), 8 + 10 * s


def test_pools_mass_balance_and_moving_states():
    t, gpp, temp = _forcing()
    kw = dict(f_auto=0.5, q10=2.0, k_litter=3.0, eta=0.8, w_m=0.0, h=0.3, k_soil=0.03)
    d = pools.casa_spinup_respiration(gpp, temp, np.ones_like(gpp), **kw)
    npp = 0.5 * gpp
    # carbon balance: change of total stock = NPP - Rh over every step after the first
    total = d["c_litter"] + d["c_soil"]
    np.testing.assert_allclose(np.diff(total), (npp - d["rh"])[1:], rtol=1e-9, atol=1e-9)
    assert d["c_litter"].min() > 0
    # the litter pool moves through the year (turnover of months, not centuries)
    lit = pd.Series(d["c_litter"], index=t).groupby(t.month).mean()
    assert (lit.max() - lit.min()) / lit.mean() > 0.2
    # spin-up reaches a periodic state on the first year
    assert d["spinup_drift"] < 1e-3
    # soil below steady state (eta < 1) grows: a sink
    assert d["c_soil"][-1] > d["c_soil"][0]


def test_linear_respiration_known_value():
    t24 = np.array([[-10.0, 5.0, 20.0]])
    r = respiration.predict_reco("linear", {"alpha": 0.1, "beta": 0.5}, gpp=np.zeros((1, 3)), t24=t24,
                                 wrel=np.ones((1, 3)), vprm_class=np.array(["evergreen"]))
    # Tlow = -3 degC for evergreen (pyVPRM)
    np.testing.assert_allclose(r[0], np.array([0.2, 1.0, 2.5]) * UMOL_M2_S_TO_G_M2_D)


def test_fit_reco_recovers_linear_parameters():
    t, gpp, temp = _forcing(3)
    t24 = np.vstack([temp, temp + 3])
    g = np.vstack([gpp, gpp])
    months = pd.date_range(t[0], t[-1], freq="MS")
    true = {"alpha": 0.12, "beta": 0.6}
    r = respiration.predict_reco("linear", true, gpp=g, t24=t24, wrel=np.ones_like(g),
                                 vprm_class=np.array(["deciduous", "deciduous"]))
    y = pd.DataFrame(r.T, index=t).resample("MS").mean().to_numpy().T
    f = respiration.fit_reco("linear", rows=[0, 1], gpp=g, t24=t24, wrel=np.ones_like(g),
                             vprm_class=np.array(["deciduous", "deciduous"]), time=t.values, truth_monthly=y,
                             months=months)
    assert f["params"]["alpha"] == pytest.approx(0.12, rel=1e-4) and f["params"]["beta"] == pytest.approx(0.6, rel=1e-4)
    with pytest.raises(ValueError, match="unknown respiration"):
        respiration.predict_reco("q10", {}, gpp=g, t24=t24, wrel=g, vprm_class=np.array(["deciduous"] * 2))


def _linear_world(n_sites=3):
    """Towers whose monthly Reco follows VPRM's linear form exactly (alpha 0.15, beta 0.4)."""
    import xarray as xr

    rng = np.random.default_rng(0)
    time = pd.date_range("2004-01-01", "2007-12-31", freq="D")
    s = np.sin(2 * np.pi * (time.day_of_year.to_numpy() - 100) / 365)
    sites = [f"A{i + 1}" for i in range(n_sites)]
    t24 = np.vstack([8 + 10 * s + rng.normal(0, 2, len(time)) + i for i in range(n_sites)])
    gpp = np.clip(np.vstack([6 * s + 1 + 0.5 * i for i in range(n_sites)]), 0, None)
    ds = xr.Dataset({"t_24h": (("site", "time"), t24), "wrel": (("site", "time"), np.ones_like(t24)),
                     "par_24h": (("site", "time"), np.full_like(t24, 300.0)),
                     "fapar": (("site", "time"), np.full_like(t24, 0.6))},
                    coords={"site": sites, "time": time.values})
    ds["igbp"] = ("site", np.array(["DBF"] * n_sites))
    ds["vprm_class"] = ("site", np.array(["deciduous"] * n_sites))
    reco = respiration.predict_reco("linear", {"alpha": 0.15, "beta": 0.4}, gpp=gpp, t24=t24, wrel=np.ones_like(t24),
                                    vprm_class=ds["vprm_class"].values)
    months = pd.date_range(time[0], time[-1], freq="MS")
    mon = lambda a: pd.DataFrame(a.T, index=time).resample("MS").mean().to_numpy().T  # noqa: E731
    truth = xr.Dataset({"reco_nt": (("site", "time"), mon(reco)), "reco_dt": (("site", "time"), mon(reco)),
                        "gpp_nt": (("site", "time"), mon(gpp)), "gpp_dt": (("site", "time"), mon(gpp)),
                        "nee": (("site", "time"), mon(reco) - mon(gpp))},
                       coords={"site": sites, "time": months.values})
    return ds, truth, gpp


def test_nee_within_class_recovers_a_known_linear_world():
    """Held-out NEE = Reco - GPP is recovered where Reco follows the linear form exactly."""
    ds, truth, gpp = _linear_world()
    out = respiration.nee_within_class({"vprm": gpp}, ds, truth, combos={"vprm": ("vprm", "linear")}, n_boot=20)
    e = out["classes"]["DBF"]["vprm"]
    assert e["nee_r2"] > 0.999 and e["reco_nt_r2"] > 0.999 and e["n_sites"] == 3
    assert out["null"]["DBF"]["seasonal_cycle"]["nee_r2"] < e["nee_r2"]
    # the sign convention: NEE = Reco - GPP, a summer sink is negative
    k = out["sites"].index("A1")
    summer = pd.DatetimeIndex(out["months"]).month == 7
    assert np.all(out["pred"]["vprm"][k][summer] < 0)


def test_nee_holdout_towers_play_no_part_and_are_scored_with_their_own_gpp():
    ds, truth, gpp = _linear_world(4)
    combos = {"vprm": ("vprm", "linear")}
    loso_gpp = gpp.copy()
    loso_gpp[3] = np.nan  # within_class_loso leaves a holdout tower's row empty
    out = respiration.nee_within_class({"vprm": loso_gpp}, ds, truth, combos=combos, n_boot=20, holdout=["A4"],
                                       holdout_pred={"vprm": gpp})
    alone = respiration.nee_within_class({"vprm": gpp[:3]}, ds.isel(site=slice(0, 3)), truth.isel(site=slice(0, 3)),
                                         combos=combos, n_boot=20)
    assert out["sites"] == ["A1", "A2", "A3"] and out["classes"]["DBF"]["vprm"]["n_sites"] == 3
    # the folds and nulls are those of the three towers alone: the holdout tower played no part
    for m in ("vprm", "seasonal_cycle", "linear"):
        np.testing.assert_allclose(out["pred"][m], alone["pred"][m], rtol=1e-10)
    h = out["holdout"]["A4"]
    assert h["vprm"]["nee_r2"] > 0.999 and h["vprm"]["n_months"] == 48
    assert h["seasonal_cycle"]["nee_r2"] < h["vprm"]["nee_r2"]
    # without its GPP the holdout tower is listed, never scored on missing GPP
    bare = respiration.nee_within_class({"vprm": loso_gpp}, ds, truth, combos=combos, n_boot=20, holdout=["A4"])
    assert bare["holdout"] == {} and bare["holdout_unscored"] == ["A4"]
