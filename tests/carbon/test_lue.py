"""Tests of the daily light-use models: hand-computed values, parameter recovery, NaN handling."""

import numpy as np
import pytest

from eoretrieval.carbon.lue import LUE_MODELS, fit_lue, predict_gpp
from eoretrieval.carbon.vprm import UMOL_M2_S_TO_G_M2_D
from eoretrieval.errors import DataError


def _x(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    dl = rng.uniform(8, 16, n)
    par_day = rng.uniform(50, 1500, n)
    return {"green": rng.uniform(0.2, 0.9, n), "par_day": par_day, "par_24h": par_day * dl / 24, "daylength": dl,
            "t_day": rng.uniform(-5, 30, n), "vpd": rng.uniform(0, 30, n), "wrel": rng.uniform(0, 1, n),
            "tmin": np.full(n, -1.0), "topt": np.full(n, 18.0), "tmax": np.full(n, 38.0),
            "site": np.array(["A"] * (n // 2) + ["B"] * (n - n // 2))}


def test_hand_computed_sample():
    x = {k: np.array([v]) for k, v in dict(green=0.5, par_day=1000.0, par_24h=500.0, daylength=12.0, t_day=18.0,
                                            vpd=20.0, wrel=0.25, tmin=-1.0, topt=18.0, tmax=38.0).items()}
    p = {"lam": 0.1, "par0": 500.0, "k_vpd": 0.05, "s_sm": 0.4}
    # T at optimum: Tscale = 1; light 1000/(1+2) = 333.33; day fraction 0.5; f_vpd = exp(-0.5); f_sm = 1-0.4*0.5
    expect = 0.1 * 0.5 * (1000 / 3) * 0.5 * np.exp(-0.5) * 0.8 * UMOL_M2_S_TO_G_M2_D
    np.testing.assert_allclose(predict_gpp(LUE_MODELS["vprm_vpd_sm"], p, x), expect, rtol=1e-12)
    # the 24-h ablation puts the 24-h mean PAR in the hyperbola and does not scale by day length
    expect24 = 0.1 * 0.5 * 500 / 2 * UMOL_M2_S_TO_G_M2_D
    np.testing.assert_allclose(predict_gpp("vprm_24h", {"lam": 0.1, "par0": 500.0}, x), expect24, rtol=1e-12)
    # null: eps * PAR24 (mol m-2 d-1) * fAPAR
    np.testing.assert_allclose(predict_gpp("lue", {"lam": 2.0}, x), 2.0 * 500e-6 * 86400 * 0.5)


@pytest.mark.parametrize("name", ["vprm", "vprm_vpd", "vprm_sm"])
def test_recovers_parameters(name):
    x = _x()
    true = {"lam": 0.08, "par0": 400.0, "k_vpd": 0.04, "s_sm": 0.5}
    y = predict_gpp(name, true, x)
    fit = fit_lue(name, x, y, n_starts=2)
    for k, v in fit.params.items():
        assert v == pytest.approx(true[k], rel=1e-3), k
    assert fit.rmse < 1e-6 and fit.at_bound == []


def test_bound_is_reported():
    x = _x()
    y = predict_gpp("vprm", {"lam": 0.05, "par0": 400.0}, x)  # truth without VPD limitation
    fit = fit_lue("vprm_vpd", x, y)
    assert "k_vpd" in fit.at_bound and fit.params["k_vpd"] < 1e-3


def test_nan_prediction_is_an_error_not_a_zero_residual():
    x = _x()
    y = predict_gpp("vprm", {"lam": 0.05, "par0": 400.0}, x)
    x["tmin"] = x["tmin"].copy()
    x["tmin"][:5] = np.nan  # a bad class coefficient gives NaN predictions on valid days
    with pytest.raises(DataError, match=r"NaN/inf predictions on valid samples at \['A'\]"):
        fit_lue("vprm", x, y)


def test_mask_and_missing_truth():
    x = _x()
    y = predict_gpp("vprm", {"lam": 0.05, "par0": 400.0}, x)
    y[::3] = np.nan
    fit = fit_lue("vprm", x, y, mask=x["site"] == "A")
    assert fit.n_obs == int(np.isfinite(y[x["site"] == "A"]).sum())
    with pytest.raises(DataError, match="valid samples"):
        fit_lue("vprm", x, y, mask=np.zeros(len(y), bool))
