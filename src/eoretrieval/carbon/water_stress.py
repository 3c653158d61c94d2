r"""Water stress beyond LSWI: VPD and soil-moisture scalars, and Gourdji et al. (2022) respiration.

* :func:`vpd_scalar`: :math:`f_{VPD} = \exp(-k\,\max(\mathrm{VPD}-\mathrm{VPD}_0, 0))`, VPD0 = 10 hPa
  (the exponential VPD limitation of Lasslop et al. 2010);
* :func:`moisture_index`: relative soil moisture (0-1) where measured, else the LSWI-based
  :math:`W_2 = (\mathrm{LSWI}-\mathrm{LSWI}_{min})/(\mathrm{LSWI}_{max}-\mathrm{LSWI}_{min})` of
  Gourdji et al. (2022);
* :func:`soil_moisture_scalar`: :math:`f_{SM} = 1 - s\,(1 - W)`;
* :func:`respiration_gourdji`: :math:`R = \beta + \alpha_1 T + \alpha_2 T^2 + \gamma\,\mathrm{EVI}
  + \theta_1 W_2 + \theta_2 W_2 T + \theta_3 W_2 T^2` (Gourdji et al. 2022, as in pyVPRM's
  ``vprm_modified_model``), clipped at 0.

Missing VPD or moisture (NaN) gives no stress (scalar 1).

Public names: :func:`vpd_scalar`, :func:`soil_moisture_scalar`, :func:`moisture_index`,
:func:`respiration_gourdji`.

References
----------
:cite:`gourdji2022`, :cite:`lasslop2010`
"""

from __future__ import annotations

import numpy as np

__all__ = ["vpd_scalar", "soil_moisture_scalar", "moisture_index", "respiration_gourdji"]


def vpd_scalar(vpd, *, k: float, vpd0: float = 10.0):
    """VPD limitation of GEE, 0-1 (1 where VPD <= vpd0 or missing). ``vpd`` in hPa, ``k`` in hPa-1.

    Examples
    --------
    >>> float(vpd_scalar(5.0, k=0.05))
    1.0
    """
    excess = np.maximum(np.nan_to_num(np.asarray(vpd, float), nan=0.0) - vpd0, 0.0)
    return np.exp(-k * excess)


def moisture_index(sm_rel, lswi, *, lswi_min, lswi_max):
    """Relative moisture 0-1: measured relative soil moisture, else the LSWI-based W2."""
    w2 = np.clip((np.asarray(lswi, float) - lswi_min) / np.maximum(np.asarray(lswi_max) - lswi_min, 1e-2), 0, 1)
    sm = np.asarray(sm_rel, float)
    return np.where(np.isfinite(sm), sm, w2)


def soil_moisture_scalar(w, *, s: float):
    """Soil-moisture limitation ``1 - s (1 - w)`` (1 where ``w`` is missing)."""
    w = np.nan_to_num(np.asarray(w, float), nan=1.0)
    return 1.0 - s * (1.0 - w)


def respiration_gourdji(t, evi, w2, *, beta, alpha1, alpha2, gamma, theta1, theta2, theta3):
    """Gourdji et al. (2022) respiration (umol m-2 s-1), clipped at 0; ``t`` in degC."""
    r = (beta + alpha1 * t + alpha2 * t ** 2 + gamma * evi
         + theta1 * w2 + theta2 * w2 * t + theta3 * w2 * t ** 2)
    return np.maximum(r, 0.0)
