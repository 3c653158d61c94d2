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


def _placed(ds, lat, lon):
    return ds.assign(lat=("site", np.asarray(lat, float)), lon=("site", np.asarray(lon, float)))


def test_tower_neighbourhoods_single_linkage_and_radius():
    ds = _placed(_towers(n_per_class=3), [50.0, 50.18, 50.36, 50.0, 10.0, -30.0], [10.0] * 4 + [100.0, -60.0])
    # ENF0-ENF1 and ENF1-ENF2 20 km apart (ENF0-ENF2 40 km); DBF0 on ENF0; DBF1, DBF2 far away
    nbh = cv.tower_neighbourhoods(ds, 30.0)
    assert nbh["ENF0"] == nbh["ENF2"] == nbh["DBF0"] == "DBF0+ENF0+ENF1+ENF2"  # linked through ENF1
    assert nbh["DBF1"] == "DBF1" and nbh["DBF2"] == "DBF2"
    near = cv.tower_neighbourhoods(ds, 15.0)
    assert near["ENF0"] == near["DBF0"] == "DBF0+ENF0" and near["ENF1"] == "ENF1"
    assert len(set(cv.tower_neighbourhoods(ds, 0.0).values())) == 6
    bad = ds.copy(deep=True)
    bad["lat"].loc[{"site": "ENF1"}] = np.nan
    with pytest.raises(ValueError, match=r"\['ENF1'\] have no coordinates"):
        cv.tower_neighbourhoods(bad, 30.0)


def test_neighbours_leave_training_with_the_held_out_tower():
    """Corrupting ENF0's twin changes ENF0's leave-one-site-out prediction, but not the one with neighbourhoods out."""
    ds = _placed(_towers(k_true=0.5), [50.0, 50.001, 40, 30, 20, 10, 0, -10], [10.0] * 8)
    nbh = cv.tower_neighbourhoods(ds, 30.0)
    assert nbh["ENF0"] == nbh["ENF1"] == "ENF0+ENF1"
    kw = dict(inner_folds=2, progress=False, candidates=[LUE_MODELS["vprm"], LUE_MODELS["vprm_sm"]])
    ds2 = ds.copy(deep=True)
    ds2["gpp"].loc[{"site": "ENF1"}] = ds2["gpp"].sel(site="ENF1") * 3.0
    a, b = (cv.within_class_loso(d, ["vprm"], neighbourhood=nbh, **kw) for d in (ds, ds2))
    for m in ("vprm", "vprm_plus", "seasonal_cycle", "linear"):
        np.testing.assert_allclose(a["pred"][m][0], b["pred"][m][0], err_msg=m)
    c, d = (cv.within_class_loso(x, ["vprm"], **kw) for x in (ds, ds2))
    assert np.nanmax(np.abs(c["pred"]["vprm"][0] - d["pred"]["vprm"][0])) > 0.1


def test_inner_folds_and_bootstrap_keep_neighbourhoods_whole():
    nbh = {"a": "a+b", "b": "a+b", "c": "c", "d": "d+e", "e": "d+e", "f": "f"}
    for seed in range(5):
        folds = cv._inner_folds(list(nbh), 2, seed, nbh)
        assert sorted(s for f in folds for s in f) == sorted(nbh)
        assert all({"a", "b"} <= set(f) or not {"a", "b"} & set(f) for f in folds)
    w = cv._boot_weights(6, 200, 0, blocks=[nbh[s] for s in nbh])
    np.testing.assert_array_equal(w[:, 0], w[:, 1])
    np.testing.assert_array_equal(w[:, 3], w[:, 4])
    assert (w[:, 0] != w[:, 2]).any()
    # without blocks, towers are resampled one by one as before
    rng = np.random.default_rng(0)
    idx = rng.integers(0, 6, size=(200, 6))
    np.testing.assert_array_equal(cv._boot_weights(6, 200, 0), np.stack([np.bincount(r, minlength=6) for r in idx]))


def test_a_tower_without_training_neighbourhoods_is_listed_not_scored():
    ds = _placed(_towers(n_per_class=3), [50.0, 50.01, 50.02, 0, 10, 20], [10.0] * 6)
    nbh = cv.tower_neighbourhoods(ds, 30.0)
    res = cv.within_class_loso(ds, ["vprm"], neighbourhood=nbh, inner_folds=2, progress=False,
                               candidates=[LUE_MODELS["vprm"]])
    assert set(res["unscored"]) == {"ENF0", "ENF1", "ENF2"}
    assert "in 0 neighbourhood(s)" in res["unscored"]["ENF0"]
    assert np.isnan(res["pred"]["vprm"][:3]).all() and np.isfinite(res["pred"]["vprm"][3:]).any()
    m = cv.loso_metrics(res, ds, n_boot=20)
    assert set(m["within_class_loso"]) == {"DBF"}
    assert cv.selection_summary(res)["ENF"] == {}


def test_neighbourhood_control_sees_a_flattering_twin():
    """Two co-located towers share a higher light-use efficiency: with the twin in training the pair is predicted
    better than with it left out, and the control says so."""
    ds = _placed(_towers(k_true=0.0), [50.0, 50.001, 40, 30, 20, 10, 0, -10], [10.0] * 8)
    for s in ("ENF0", "ENF1"):
        ds["gpp"].loc[{"site": s}] = ds["gpp"].sel(site=s) * 2.0
    kw = dict(inner_folds=2, progress=False, candidates=[LUE_MODELS["vprm"]])
    res = cv.within_class_loso(ds, ["lue", "vprm"], **kw)
    out = cv.neighbourhood_control(ds, res, radius_km=30.0, sensitivity_km=(5000.0,), n_boot=20, **kw)
    assert out["neighbourhoods"] == {"ENF0+ENF1": ["ENF0", "ENF1"]}
    assert out["neighbourhood_span_km"]["ENF0+ENF1"] == pytest.approx(0.111, abs=0.001)  # 0.001 deg of latitude
    ch = out["classes"]["ENF"]["changed"]
    assert ch["towers"] == ["ENF0", "ENF1"]
    assert ch["gpp_r2_neighbourhoods_out"] < ch["gpp_r2_loso"] - 0.05
    assert out["classes"]["DBF"]["changed"]["towers"] == []
    # DBF has no neighbours: the same training sets, so the reference form scores exactly as in leave-one-site-out
    declared = cv.loso_metrics(res, ds, n_boot=20)["within_class_loso"]["DBF"]["vprm"]["gpp_r2"]
    assert out["classes"]["DBF"]["vprm"]["gpp_r2"] == pytest.approx(declared, rel=1e-12)
    assert out["classes"]["ENF"]["vprm_plus"]["n_sites"] == 4 and out["unscored"] == {}
    assert set(out["sensitivity"]) == {"5000"} and out["sensitivity"]["5000"]["ENF"]["n_changed"] == 4
