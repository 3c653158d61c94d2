"""Tests of the reference VPRM scalars and fluxes (hand-computed values, sign convention)."""

import numpy as np
import pytest
import xarray as xr

from eoretrieval.carbon import vprm


@pytest.mark.parametrize("t, expected", [(20.0, 1.0), (-1.0, 0.0), (41.0, 0.0), (10.0, 0.75), (0.0, 0.0)])
def test_tscale_values(t, expected):
    # (10-0)(10-40)/((10-0)(10-40)-(10-20)^2) = -300/-400 = 0.75
    assert float(vprm.tscale(t, tmin=0.0, topt=20.0, tmax=40.0)) == pytest.approx(expected)


def test_scalars_and_fluxes_hand_computed():
    ws = vprm.wscale(0.3, lswi_max=0.5)
    assert ws == pytest.approx(1.3 / 1.5)
    assert vprm.wscale(0.3, lswi_max=0.5, lswi_min=0.1, xeric=True) == pytest.approx(0.5)
    assert float(vprm.pscale(0.2, 0.3, evi_threshold=0.5)) == pytest.approx(0.6)
    assert float(vprm.pscale(0.2, 0.6, evi_threshold=0.5)) == 1.0
    assert float(vprm.pscale(0.2, 0.3, evi_threshold=0.5, evergreen=True)) == 1.0
    assert float(vprm.pscale(0.2, 0.9, evi_threshold=0.5, always_lswi=True)) == pytest.approx(0.6)
    g = vprm.gee(0.5, 1000.0, ts=1.0, ws=1.0, ps=1.0, lam=0.2, par0=500.0)
    assert g == pytest.approx(0.2 * 0.5 * 1000 / 3)
    assert float(vprm.respiration(-10.0, alpha=0.2, beta=1.0, tlow=0.0)) == pytest.approx(1.0)
    assert float(vprm.respiration(-10.0, alpha=0.2, beta=-1.0, tlow=-20.0)) == 0.0
    assert vprm.nee(5.0, 2.0) == -3.0  # uptake exceeds respiration: sink, negative


def test_xarray_in_xarray_out():
    t = xr.DataArray([5.0, 15.0, 25.0], dims="time")
    out = vprm.tscale(t, tmin=0.0, topt=20.0, tmax=40.0)
    assert isinstance(out, xr.DataArray) and out.dims == ("time",)
    par = vprm.par_from_shortwave(xr.DataArray([505.0], dims="time"))
    assert par.attrs["units"] == "umol m-2 s-1" and float(par[0]) == pytest.approx(1000.0)


def test_classes_and_units():
    assert vprm.vprm_class("enf") == "evergreen" and vprm.vprm_class("WET") == "wetland"
    with pytest.raises(ValueError, match="unknown IGBP class 'XYZ'; valid"):
        vprm.vprm_class("XYZ")
    assert vprm.UMOL_M2_S_TO_G_M2_D == pytest.approx(1.0377504)


def test_site_constants():
    evi = np.array([0.1, 0.2, 0.5, 0.6, 0.3])
    th = vprm.evi_threshold(evi)
    assert th == pytest.approx(0.1 + 0.55 * 0.5)
    lo, hi = vprm.lswi_extremes(np.array([0.0, 0.1, 0.3, 0.4, 0.2]), evi, threshold=th)
    assert (lo, hi) == (0.3, 0.4)
