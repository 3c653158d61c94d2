r"""The reference Vegetation Photosynthesis and Respiration Model (VPRM).

.. math::

    \mathrm{GEE} = \lambda\, T_{scale}\, W_{scale}\, P_{scale}\, \mathrm{EVI}\,
                   \frac{\mathrm{PAR}}{1 + \mathrm{PAR}/\mathrm{PAR}_0},\qquad
    R_{eco} = \max(\alpha\, T^{*} + \beta,\ 0),\qquad
    \mathrm{NEE} = R_{eco} - \mathrm{GEE}

(Mahadevan et al. 2008, eqs. 3-10).

**Sign convention (used everywhere in :mod:`eoretrieval.carbon`)**: NEE = Reco - GEE;
*positive NEE is a source of CO2 to the atmosphere*, negative a sink. GEE (= GPP) and Reco
are positive. This is the FLUXNET2015 convention for ``NEE_VUT_REF``.

Scalars:

* :math:`T_{scale} = (T-T_{min})(T-T_{max}) / [(T-T_{min})(T-T_{max}) - (T-T_{opt})^2]`,
  0 below :math:`T_{min}` or where negative (above :math:`T_{max}`);
* :math:`W_{scale} = (1+\mathrm{LSWI})/(1+\mathrm{LSWI}_{max})`;
* :math:`P_{scale} = (1+\mathrm{LSWI})/2` before full leaf expansion, 1 afterwards and for
  evergreen classes. Leaf expansion is detected, as in pyVPRM, by EVI above a site threshold
  :math:`\mathrm{EVI}_{min} + 0.55(\mathrm{EVI}_{max}-\mathrm{EVI}_{min})`; grassland and
  savanna always use :math:`(1+\mathrm{LSWI})/2`;
* :math:`T^{*} = \max(T, T_{low})` in respiration. The clip of Reco at 0 is not in
  Mahadevan et al. (2008); it follows pyVPRM and only acts on unphysical parameter sets.

PAR is taken as :math:`\mathrm{SW_{IN}}/0.505` (umol m-2 s-1 from W m-2), pyVPRM's conversion.
Fluxes come out in umol m-2 s-1 (mean over the period of the drivers); multiply by
:data:`UMOL_M2_S_TO_G_M2_D` for g C m-2 d-1.

Public names: :func:`tscale`, :func:`wscale`, :func:`pscale`, :func:`gee`, :func:`respiration`,
:func:`nee`, :func:`par_from_shortwave`, :func:`evi_threshold`, :func:`lswi_extremes`,
:func:`vprm_class`, :data:`TEMPERATURE_COEFFICIENTS`, :data:`IGBP_TO_VPRM`,
:data:`UMOL_M2_S_TO_G_M2_D`.

References
----------
:cite:`mahadevan2008`, :cite:`glauch2025`
"""

from __future__ import annotations

import numpy as np
import xarray as xr

__all__ = ["tscale", "wscale", "pscale", "gee", "respiration", "nee", "par_from_shortwave",
           "evi_threshold", "lswi_extremes", "vprm_class", "TEMPERATURE_COEFFICIENTS",
           "IGBP_TO_VPRM", "UMOL_M2_S_TO_G_M2_D", "SW_TO_PAR"]

#: umol CO2 m-2 s-1 -> g C m-2 d-1 (12.011 g mol-1 x 86400 s d-1 x 1e-6).
UMOL_M2_S_TO_G_M2_D = 12.011e-6 * 86400.0

#: PAR (umol m-2 s-1) per W m-2 of shortwave: 1/0.505 (pyVPRM ``get_par``).
SW_TO_PAR = 1.0 / 0.505

#: IGBP class -> VPRM vegetation class (pyVPRM numbering 1-9).
IGBP_TO_VPRM = {
    "ENF": "evergreen", "EBF": "evergreen", "DBF": "deciduous", "DNF": "deciduous",
    "MF": "mixed", "OSH": "shrubland", "CSH": "shrubland", "SAV": "savanna", "WSA": "savanna",
    "CRO": "cropland", "GRA": "grassland", "WET": "wetland", "SNO": "other", "BSV": "other",
    "URB": "other", "WAT": "other",
}

#: Per VPRM class: (pyVPRM class number, Tmin, Topt, Tmax, Tlow) in degC, from pyVPRM's
#: ``vprm_configs/copernicus_land_cover.yaml`` (Glauch et al. 2025).
TEMPERATURE_COEFFICIENTS = {
    "evergreen": (1, -4.0, 15.0, 38.0, -3.0),
    "deciduous": (2, 1.0, 21.0, 37.0, 0.0),
    "mixed": (3, -1.0, 18.0, 38.0, 0.0),
    "shrubland": (4, -1.0, 19.0, 44.0, 2.0),
    "savanna": (5, 0.0, 20.0, 40.0, 0.0),
    "cropland": (6, -3.0, 16.0, 50.0, -3.0),
    "grassland": (7, -2.0, 17.0, 36.0, -2.0),
    "other": (8, 2.0, 18.0, 40.0, -2.0),
    "wetland": (9, -2.0, 26.0, 40.0, 0.0),
}


def vprm_class(igbp: str) -> str:
    """Return the VPRM class name of an IGBP code (``"ENF"`` -> ``"evergreen"``).

    Raises
    ------
    ValueError
        Unknown IGBP code; the message lists the valid codes.
    """
    key = str(igbp).upper()
    if key not in IGBP_TO_VPRM:
        raise ValueError(f"unknown IGBP class {igbp!r}; valid: {sorted(IGBP_TO_VPRM)}")
    return IGBP_TO_VPRM[key]


def _where(cond, a, b):
    if isinstance(cond, xr.DataArray) or isinstance(a, xr.DataArray) or isinstance(b, xr.DataArray):
        return xr.where(cond, a, b)
    return np.where(cond, a, b)


def tscale(t, *, tmin: float, topt: float, tmax: float):
    """Temperature scalar of GEE (Mahadevan et al. 2008, eq. 4), 0-1.

    Parameters
    ----------
    t : array-like or xr.DataArray
        Air temperature, degC.
    tmin, topt, tmax : float
        Minimum, optimum and maximum temperature for photosynthesis, degC.

    Examples
    --------
    >>> float(tscale(20.0, tmin=0.0, topt=20.0, tmax=40.0))
    1.0
    """
    num = (t - tmin) * (t - tmax)
    ret = num / (num - (t - topt) ** 2)
    return _where((ret < 0) | (t < tmin), 0.0, ret)


def wscale(lswi, *, lswi_max, lswi_min=None, xeric: bool = False):
    """Water scalar of GEE from LSWI: ``(1+LSWI)/(1+LSWI_max)``.

    With ``xeric=True`` the pyVPRM variant for shrub- and grassland,
    ``(LSWI-LSWI_min)/(LSWI_max-LSWI_min)``, is returned instead.
    """
    if xeric:
        return (lswi - lswi_min) / (lswi_max - lswi_min)
    return (1.0 + lswi) / (1.0 + lswi_max)


def pscale(lswi, evi, *, evi_threshold, evergreen: bool = False, always_lswi: bool = False):
    """Phenology scalar of GEE: 1 for evergreen or after leaf-out (EVI > threshold), else (1+LSWI)/2."""
    base = (1.0 + lswi) / 2.0
    if evergreen:
        return base * 0 + 1.0
    if always_lswi:
        return base
    return _where(evi > evi_threshold, 1.0, base)


def par_from_shortwave(sw_in):
    """PAR (umol m-2 s-1) from incoming shortwave (W m-2): ``SW_IN / 0.505``."""
    out = sw_in * SW_TO_PAR
    if isinstance(out, xr.DataArray):
        out = out.assign_attrs(units="umol m-2 s-1", long_name="PAR = SW_IN/0.505")
    return out


def gee(greenness, par, *, ts, ws, ps, lam: float, par0: float):
    """Gross ecosystem exchange (= GPP, positive), units of ``par`` times ``lam``.

    ``GEE = lam * ts * ws * ps * greenness * par / (1 + par/par0)``. ``greenness`` is EVI in the
    reference model (or fAPAR, NIRv, kNDVI in the ablations).
    """
    return lam * ts * ws * ps * greenness * par / (1.0 + par / par0)


def respiration(t, *, alpha: float, beta: float, tlow: float):
    """Ecosystem respiration ``max(alpha * max(T, Tlow) + beta, 0)`` (umol m-2 s-1)."""
    tt = _where(t < tlow, tlow, t)
    out = alpha * tt + beta
    return _where(out < 0, 0.0, out)


def nee(gee_value, reco):
    """Net ecosystem exchange ``Reco - GEE`` (positive = source to the atmosphere)."""
    return reco - gee_value


def evi_threshold(evi_series, *, fraction: float = 0.55) -> float:
    """Leaf-out threshold ``EVI_min + fraction (EVI_max - EVI_min)`` of a site's EVI record."""
    e = np.asarray(evi_series, float)
    lo, hi = np.nanmin(e), np.nanmax(e)
    return float(lo + fraction * (hi - lo))


def lswi_extremes(lswi_series, evi_series, *, threshold: float,
                  percentiles: tuple[float, float] = (0.0, 100.0)) -> tuple[float, float]:
    """(LSWI_min, LSWI_max) over the growing season (EVI > threshold), as in pyVPRM.

    ``percentiles=(2, 98)`` gives a robust version (pyVPRM uses the plain min and max).
    """
    l = np.asarray(lswi_series, float)
    e = np.asarray(evi_series, float)
    m = np.isfinite(l) & np.isfinite(e) & (e > threshold)
    if not m.any():
        m = np.isfinite(l)
    lo, hi = np.nanpercentile(l[m], percentiles)
    return float(lo), float(hi)
