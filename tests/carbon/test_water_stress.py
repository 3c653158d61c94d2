"""Tests of the water-stress scalars and the Gourdji et al. (2022) respiration."""

import numpy as np
import pytest

from eoretrieval.carbon import water_stress as ws


def test_vpd_scalar():
    np.testing.assert_allclose(ws.vpd_scalar(np.array([5.0, 20.0, np.nan]), k=0.1), [1.0, np.exp(-1.0), 1.0])


def test_moisture_and_soil_scalar():
    w = ws.moisture_index(np.array([0.3, np.nan]), np.array([0.0, 0.25]), lswi_min=0.0, lswi_max=0.5)
    np.testing.assert_allclose(w, [0.3, 0.5])
    np.testing.assert_allclose(ws.soil_moisture_scalar(np.array([0.0, 1.0, np.nan]), s=0.4), [0.6, 1.0, 1.0])


def test_gourdji_respiration():
    r = ws.respiration_gourdji(10.0, 0.5, 0.5, beta=1, alpha1=0.1, alpha2=0.01, gamma=2, theta1=1, theta2=0.1, theta3=0.0)
    assert float(r) == pytest.approx(1 + 1 + 1 + 1 + 0.5 + 0.5)
    assert float(ws.respiration_gourdji(0.0, 0.0, 0.0, beta=-1, alpha1=0, alpha2=0, gamma=0, theta1=0,
                                        theta2=0, theta3=0)) == 0.0
