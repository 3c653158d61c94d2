"""Tests of the CASA-like pools: recurrence, mass balance at steady state, 1-D vs 2-D."""

import numpy as np
import pytest

from eoretrieval.carbon.pools import casa_respiration, linear_recurrence


def test_recurrence_matches_loop():
    rng = np.random.default_rng(0)
    a = rng.uniform(0.3, 1.0, 3000)
    b = rng.uniform(0, 2, 3000)
    c, ref = 1.0, []
    for ai, bi in zip(a, b):
        c = ai * c + bi
        ref.append(c)
    np.testing.assert_allclose(linear_recurrence(a, b, 1.0), ref, rtol=1e-10)
    two = linear_recurrence(np.stack([a, a], 1), np.stack([b, b], 1), np.array([1.0, 1.0]))
    np.testing.assert_allclose(two[:, 1], ref, rtol=1e-10)


def test_steady_state_mass_balance():
    n = 3650
    gpp = np.full(n, 4.0)
    out = casa_respiration(gpp, np.full(n, 12.0), np.ones(n), np.ones(n), f_auto=0.4, q10=2.0,
                           k_litter=1.0, eta=1.0, w_m=0.3)
    # constant forcing, pools at steady state: Reco = GPP (no net carbon uptake)
    np.testing.assert_allclose(out["reco"], 4.0, rtol=1e-9)
    sink = casa_respiration(gpp, np.full(n, 12.0), np.ones(n), np.ones(n), f_auto=0.4, q10=2.0,
                            k_litter=1.0, eta=0.5, w_m=0.3)
    assert sink["reco"][0] < 4.0


def test_temperature_response_and_2d():
    n = 730
    t = 10 + 10 * np.sin(np.arange(n) / 58.0)
    gpp = np.clip(5 * np.sin(np.arange(n) / 58.0), 0, None)
    one = casa_respiration(gpp, t, np.ones(n), np.ones(n), f_auto=0.5, q10=2.0, k_litter=2.0, eta=1.0, w_m=0.0)
    assert np.corrcoef(one["rh"], t)[0, 1] > 0.5
    two = casa_respiration(np.stack([gpp, gpp], 1), t, np.ones((n, 2)), np.ones(n), f_auto=0.5, q10=2.0,
                           k_litter=2.0, eta=1.0, w_m=0.0)
    np.testing.assert_allclose(two["reco"][:, 0], one["reco"], rtol=1e-10)
    assert one["reco"].mean() == pytest.approx(gpp.mean(), rel=0.05)
