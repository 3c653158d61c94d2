"""Cross-check of the reference VPRM against the published pyVPRM package on identical inputs.

pyVPRM's ``vprm_base_model`` computes Tscale, Wscale, Pscale, PAR, GEE and respiration from an
object holding satellite images and temperature coefficients. We give it a minimal stand-in for
that object (the only attributes the methods read) holding our inputs, and compare with
:mod:`eoretrieval.carbon.vprm` and :func:`eoretrieval.carbon.interface.predict`.

Agreement is to numerical precision for every class, with one explained difference: for
shrubland (4) and grassland (7) pyVPRM replaces Mahadevan's W_scale = (1+LSWI)/(1+LSWI_max) by
the "xeric" (LSWI-LSWI_min)/(LSWI_max-LSWI_min); our reference keeps Mahadevan's form for all
classes and offers the xeric one through ``wscale(..., xeric=True)``.
"""

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import xarray as xr

pyvprm = pytest.importorskip("pyVPRM")
from pyVPRM.vprm_models.vprm_base_model import vprm_base_model  # noqa: E402

from eoretrieval.carbon import vprm  # noqa: E402
from eoretrieval.carbon.interface import predict  # noqa: E402

CLASS_NUMBER = {name: v[0] for name, v in vprm.TEMPERATURE_COEFFICIENTS.items()}
PARAMS = {"lamb": 0.21, "par0": 570.0, "alpha": 0.27, "beta": 0.9}


class _Img:
    def __init__(self, ds):
        self.sat_img = ds


def _inputs(seed=0, n=400):
    rng = np.random.default_rng(seed)
    t = xr.DataArray(rng.uniform(-10, 45, n), dims="time")
    evi = xr.DataArray(rng.uniform(0.05, 0.8, n), dims="time")
    lswi = xr.DataArray(rng.uniform(-0.2, 0.6, n), dims="time")
    sw = xr.DataArray(rng.uniform(0, 900, n), dims="time")
    return t, evi, lswi, sw


def _pyvprm(cls_name, t, evi, lswi, sw):
    num, tmin, topt, tmax, tlow = vprm.TEMPERATURE_COEFFICIENTS[cls_name]
    th = vprm.evi_threshold(evi.values)
    lmin, lmax = vprm.lswi_extremes(lswi.values, evi.values, threshold=th)
    pre = SimpleNamespace(
        temp_coefficients={num: [tmin, topt, tmax, tlow]}, time_key="time", counter=slice(None),
        sat_imgs=_Img(xr.Dataset({"evi": evi, "lswi": lswi})),
        max_lswi=_Img(xr.Dataset({"max_lswi": xr.DataArray(lmax)})),
        min_lswi=_Img(xr.Dataset({"min_lswi": xr.DataArray(lmin)})),
        min_max_evi=_Img(xr.Dataset({"th": xr.DataArray(th)})))
    model = vprm_base_model(vprm_pre=pre, fit_params_dict={num: PARAMS})
    tcorr, ts = model.get_t_scale(land_cover_type=num, temperature=t)
    ws = model.get_w_scale(land_cover_type=num)
    ps = model.get_p_scale(land_cover_type=num)
    par = model.get_par(ssrd=sw)
    res = model.make_vprm_predictions(inputs={"evi": evi, "Ps": ps, "Ws": ws, "Ts": ts, "par": par,
                                              "tcorr": tcorr}, land_cover_type=num)
    gpp = np.asarray(res["gpp"])
    return {"ts": np.asarray(ts), "ws": np.asarray(ws), "ps": np.asarray(ps), "par": np.asarray(par),
            "gpp": gpp, "reco": np.asarray(res["nee"]) + gpp, "nee": np.asarray(res["nee"]),
            "th": th, "lmin": lmin, "lmax": lmax}


def _ours(cls_name, t, evi, lswi, sw, ref, *, xeric=False):
    _, tmin, topt, tmax, tlow = vprm.TEMPERATURE_COEFFICIENTS[cls_name]
    ts = vprm.tscale(t.values, tmin=tmin, topt=topt, tmax=tmax)
    ws = vprm.wscale(lswi.values, lswi_max=ref["lmax"], lswi_min=ref["lmin"], xeric=xeric)
    ps = vprm.pscale(lswi.values, evi.values, evi_threshold=ref["th"], evergreen=cls_name == "evergreen",
                     always_lswi=cls_name in ("grassland", "savanna"))
    par = vprm.par_from_shortwave(sw.values)
    g = vprm.gee(evi.values, par, ts=ts, ws=ws, ps=ps, lam=PARAMS["lamb"], par0=PARAMS["par0"])
    r = vprm.respiration(t.values, alpha=PARAMS["alpha"], beta=PARAMS["beta"], tlow=tlow)
    return {"ts": ts, "ws": ws, "ps": ps, "par": par, "gpp": g, "reco": r, "nee": vprm.nee(g, r)}


@pytest.mark.parametrize("cls_name", ["evergreen", "deciduous", "mixed", "savanna", "cropland", "wetland"])
def test_reference_vprm_equals_pyvprm(cls_name):
    t, evi, lswi, sw = _inputs()
    ref = _pyvprm(cls_name, t, evi, lswi, sw)
    ours = _ours(cls_name, t, evi, lswi, sw, ref)
    for k in ("ts", "ws", "ps", "par", "gpp", "reco", "nee"):
        np.testing.assert_allclose(ours[k], ref[k], rtol=1e-12, atol=1e-12, err_msg=k)


@pytest.mark.parametrize("cls_name", ["shrubland", "grassland"])
def test_xeric_classes_differ_only_in_wscale(cls_name):
    t, evi, lswi, sw = _inputs(1)
    ref = _pyvprm(cls_name, t, evi, lswi, sw)
    mahadevan = _ours(cls_name, t, evi, lswi, sw, ref)
    assert np.max(np.abs(mahadevan["ws"] - ref["ws"])) > 0.05  # the explained difference
    xeric = _ours(cls_name, t, evi, lswi, sw, ref, xeric=True)
    for k in ("ts", "ws", "ps", "par", "gpp", "reco", "nee"):
        np.testing.assert_allclose(xeric[k], ref[k], rtol=1e-12, atol=1e-12, err_msg=k)


def test_registry_predict_equals_pyvprm_in_g_per_day():
    t, evi, lswi, sw = _inputs(2)
    ref = _pyvprm("deciduous", t, evi, lswi, sw)
    n = t.size
    data = xr.Dataset({"ta": ("sample", t.values), "par": ("sample", ref["par"]), "evi": ("sample", evi.values),
                       "lswi": ("sample", lswi.values), "vprm_class": ("sample", np.array(["deciduous"] * n)),
                       "lswi_min": ("sample", np.full(n, ref["lmin"])), "lswi_max": ("sample", np.full(n, ref["lmax"])),
                       "evi_threshold": ("sample", np.full(n, ref["th"]))})
    _assert_ours_equal_pyvprm(data, ref)


def test_temperature_coefficients_match_pyvprm_config():
    yaml = pytest.importorskip("yaml")
    cfg = yaml.safe_load((Path(pyvprm.__file__).parent / "vprm_configs/copernicus_land_cover.yaml").read_text())
    theirs = {v["vprm_class"]: (v["tmin"], v["topt"], v["tmax"], v["tlow"]) for v in cfg.values()}
    for num, tmin, topt, tmax, tlow in vprm.TEMPERATURE_COEFFICIENTS.values():
        assert theirs[num] == (tmin, topt, tmax, tlow)


def test_pyvprm_on_a_real_sites_drivers_and_indices():
    """DE-Obe (ENF): the study's own monthly drivers and MOD13A1 EVI/LSWI through pyVPRM and our pipeline."""
    from eoretrieval.carbon import drivers

    spec = [s for s in drivers.default_sites("monthly") if s.site == "DE-Obe"][0]
    site = drivers.load_site(spec)
    ok = np.isfinite(site["ta"].values) & np.isfinite(site["par"].values) & np.isfinite(site["evi"].values)
    t = xr.DataArray(site["ta"].values[ok], dims="time")
    evi = xr.DataArray(site["evi"].values[ok], dims="time")
    lswi = xr.DataArray(site["lswi"].values[ok], dims="time")
    sw = xr.DataArray(site["par"].values[ok] * 0.505, dims="time")
    assert t.size > 100
    ref = _pyvprm("evergreen", t, evi, lswi, sw)
    n = t.size
    data = xr.Dataset({"ta": ("sample", t.values), "par": ("sample", site["par"].values[ok]),
                       "evi": ("sample", evi.values), "lswi": ("sample", lswi.values),
                       "vprm_class": ("sample", np.array(["evergreen"] * n)),
                       "lswi_min": ("sample", np.full(n, ref["lmin"])), "lswi_max": ("sample", np.full(n, ref["lmax"])),
                       "evi_threshold": ("sample", np.full(n, ref["th"]))})
    _assert_ours_equal_pyvprm(data, ref)


def test_forest_light_use_model_equals_pyvprm_on_de_tha():
    """The daily forest model (day-time PAR, fAPAR greenness) against pyVPRM's GEE on DE-Tha's real drivers.

    pyVPRM is given fAPAR as its greenness, the day-time PAR (as SW = PAR x 0.505) and a constant LSWI equal
    to its maximum, so that W_scale = 1 (no LSWI at the towers); our day-length aggregation N/24 is applied
    to pyVPRM's instantaneous-rate output.
    """
    from eoretrieval.carbon.lue import lue_inputs, predict_gpp
    from eoretrieval.carbon.towers import load_forest_towers

    ds = load_forest_towers(sites=["DE-Tha"])
    x = lue_inputs(ds)
    ok = np.isfinite(x["t_day"]) & np.isfinite(x["par_day"]) & np.isfinite(x["green"])
    xs = {k: v[ok] for k, v in x.items()}
    ours = predict_gpp("vprm", {"lam": PARAMS["lamb"], "par0": PARAMS["par0"]}, xs)
    ref = _pyvprm("evergreen", xr.DataArray(xs["t_day"], dims="time"), xr.DataArray(xs["green"], dims="time"),
                  xr.DataArray(np.full(ok.sum(), 0.3), dims="time"), xr.DataArray(xs["par_day"] * 0.505, dims="time"))
    expect = ref["gpp"] * xs["daylength"] / 24 * vprm.UMOL_M2_S_TO_G_M2_D
    assert ok.sum() > 3000
    np.testing.assert_allclose(ours, expect, rtol=1e-10, atol=1e-12)


def _assert_ours_equal_pyvprm(data, ref):
    """Our reference VPRM on ``data`` equals pyVPRM's GPP and NEE in ``ref`` to 1e-12 (after the unit change)."""
    out = predict("vprm", {"lam": PARAMS["lamb"], "par0": PARAMS["par0"], "alpha": PARAMS["alpha"],
                           "beta": PARAMS["beta"]}, data)
    k = vprm.UMOL_M2_S_TO_G_M2_D
    np.testing.assert_allclose(out["gpp"].values / k, ref["gpp"], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(out["nee"].values / k, ref["nee"], rtol=1e-12, atol=1e-12)
