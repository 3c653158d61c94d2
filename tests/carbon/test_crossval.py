"""Tests of the within-class evaluation: skill sums, bootstrap, nulls, nesting without leakage."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from eoretrieval.carbon import crossval as cv
from eoretrieval.carbon.lue import LUE_MODELS, predict_gpp


def test_r2_from_sums_equals_direct_formula():
    rng = np.random.default_rng(0)
    t = rng.normal(5, 2, (4, 50))
    p = t + rng.normal(0, 1, (4, 50))
    mask = rng.uniform(size=(4, 50)) > 0.2
    s = cv.skill_sums(p, t, mask)
    tt, pp = t[mask], p[mask]
    assert cv.r2_from_sums(s) == pytest.approx(1 - np.sum((pp - tt) ** 2) / np.sum((tt - tt.mean()) ** 2))
    # bootstrap weights of one copy of each tower reproduce the estimate
    assert cv.r2_from_sums(s, np.ones(4)) == pytest.approx(cv.r2_from_sums(s))
    r2, ci = cv.r2_with_ci(s, n_boot=300)
    assert ci[0] <= r2 <= ci[1]
    g, gci = cv.gain_ci(s, s)
    assert g == 0 and gci == [0.0, 0.0]


def test_seasonal_cycle_null_hand_made():
    time = pd.date_range("2001-01-01", "2002-12-31", freq="D")
    doy = np.minimum(time.day_of_year.to_numpy(), 365)
    g = np.vstack([np.sin(2 * np.pi * doy / 365), np.sin(2 * np.pi * doy / 365) + 2.0])
    clim = cv.seasonal_cycle_null(g, [0, 1], time.values, window=0)
    np.testing.assert_allclose(clim, np.sin(2 * np.pi * doy / 365) + 1.0, atol=1e-12)


def test_anomalies_remove_the_cycle():
    time = pd.date_range("2001-01-01", "2004-12-31", freq="D")
    doy = np.minimum(time.day_of_year.to_numpy(), 365)
    v = (3 + np.sin(2 * np.pi * doy / 365))[None, :]
    a = cv.anomalies(v, np.ones_like(v, bool), time.values, window=0)
    assert np.nanmax(np.abs(a)) < 1e-9


def _towers(n_per_class=4, seed=0, k_true=0.0):
    """Synthetic towers in the layout of towers.load_forest_towers; GPP from vprm_sm with s_sm = k_true."""
    rng = np.random.default_rng(seed)
    time = pd.date_range("2005-01-01", "2007-12-31", freq="D")
    doy = time.day_of_year.to_numpy()
    sites, igbp = [], []
    for c in ("ENF", "DBF"):
        for i in range(n_per_class):
            sites.append(f"{c}{i}")
            igbp.append(c)
    ns, nt = len(sites), len(time)
    season = np.sin(2 * np.pi * (doy - 100) / 365)
    t = 10 + 10 * season[None] + rng.normal(0, 2, (ns, nt))
    dl = np.broadcast_to(12 + 4 * season, (ns, nt))
    par24 = np.clip(200 + 150 * season[None] + rng.normal(0, 40, (ns, nt)), 5, None)
    ds = xr.Dataset({
        "t_day": (("site", "time"), t), "t_24h": (("site", "time"), t - 2), "daylength": (("site", "time"), dl),
        "par_24h": (("site", "time"), par24), "par_day": (("site", "time"), par24 * 24 / dl),
        "vpd": (("site", "time"), np.clip(t / 2, 0, None)), "wrel": (("site", "time"), rng.uniform(0.1, 1, (ns, nt))),
        "fapar": (("site", "time"), np.clip(0.5 + 0.3 * season[None] + rng.normal(0, 0.02, (ns, nt)), 0, 1),
                  {"units": "1"}),
    }, coords={"site": sites, "time": time.values})
    ds["igbp"] = ("site", np.array(igbp))
    ds["vprm_class"] = ("site", np.array(["evergreen" if c == "ENF" else "deciduous" for c in igbp]))
    from eoretrieval.carbon.lue import lue_inputs
    x = lue_inputs(ds)
    y = predict_gpp(LUE_MODELS["vprm_sm"], {"lam": 0.06, "par0": 500.0, "s_sm": k_true}, x)
    ds["gpp"] = (("site", "time"), (y + rng.normal(0, 0.3, y.shape)).reshape(ns, nt), {"units": "g m-2 d-1"})
    return ds


def test_nested_selection_finds_the_generating_term_and_skill_is_high():
    ds = _towers(k_true=0.8)
    res = cv.within_class_loso(ds, ["lue", "vprm", "vprm_sm"], inner_folds=2, progress=False,
                               candidates=[LUE_MODELS["vprm"], LUE_MODELS["vprm_sm"]])
    assert set(res["groups"]) == {"ENF", "DBF"}
    assert all(v == "vprm_sm" for v in res["selected"].values())
    m = cv.loso_metrics(res, ds, n_boot=50)
    assert m["within_class_loso"]["ENF"]["vprm_plus"]["gpp_r2"] > 0.9
    assert m["within_class_loso"]["ENF"]["vprm_plus"]["gain_over_vprm_ci"][0] > 0
    assert set(m["null"]["DBF"]) == {"seasonal_cycle", "lue", "linear"}


def test_simpler_model_chosen_when_term_is_not_needed():
    ds = _towers(k_true=0.0)
    res = cv.within_class_loso(ds, ["vprm"], inner_folds=2, progress=False,
                               candidates=[LUE_MODELS["vprm"], LUE_MODELS["vprm_sm"]])
    assert sum(v == "vprm" for v in res["selected"].values()) >= 6


def test_held_out_tower_never_enters_its_own_prediction():
    ds = _towers(k_true=0.5)
    kw = dict(inner_folds=2, progress=False, candidates=[LUE_MODELS["vprm"], LUE_MODELS["vprm_sm"]])
    a = cv.within_class_loso(ds, ["vprm"], **kw)
    ds2 = ds.copy(deep=True)
    ds2["gpp"].loc[{"site": "ENF0"}] = ds2["gpp"].sel(site="ENF0") * 3.0  # corrupt the held-out truth
    b = cv.within_class_loso(ds2, ["vprm"], **kw)
    for m in ("vprm", "vprm_plus", "seasonal_cycle", "linear"):
        np.testing.assert_allclose(a["pred"][m][0], b["pred"][m][0], err_msg=m)


def test_holdout_towers_are_excluded_from_every_fit():
    ds = _towers(k_true=0.5)
    res = cv.within_class_loso(ds, ["vprm"], holdout=["DBF3"], inner_folds=2, progress=False,
                               candidates=[LUE_MODELS["vprm"]])
    assert "DBF3" not in res["groups"]["DBF"] and all("DBF3" not in s for s in [res["selected"]])
    h = cv.holdout_metrics(res, ds)
    assert set(h) == {"DBF3"} and h["DBF3"]["vprm"]["gpp_r2"] > 0.5 and "gpp_rmse" in h["DBF3"]["vprm"]


def test_bound_table():
    fits = {"m": {"a": {"params": {"x": 1, "y": 2}, "at_bound": ["x"]}, "b": {"params": {"x": 1, "y": 2}, "at_bound": []}}}
    assert cv.bound_table(fits) == {"m": {"x": 0.5, "y": 0.0}}


def test_cross_class_transfer_is_labelled():
    ds = _towers(k_true=0.0)
    out = cv.cross_class_transfer(ds, cv.class_groups(ds), models=("vprm",))
    assert out["label"].startswith("cross-class transfer (side result")
    assert set(out) == {"label", "ENF", "DBF"} and out["ENF"]["vprm"]["n_sites"] == 4


def test_bad_holdout_is_refused():
    ds = _towers(n_per_class=3)
    with pytest.raises(ValueError, match="'XX' is not in the data"):
        cv.within_class_loso(ds, ["vprm"], holdout=["XX"], progress=False)
    with pytest.raises(ValueError, match="fewer than 3 other towers"):
        cv.within_class_loso(ds, ["vprm"], holdout=["DBF0"], progress=False)
