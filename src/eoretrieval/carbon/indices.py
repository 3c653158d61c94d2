"""Vegetation indices from surface reflectance (MODIS- or Sentinel-2-like bands).

All functions work on numpy arrays or :class:`xarray.DataArray` (returned with ``units="1"``).
Reflectances are unitless (0-1).

Public names: :func:`ndvi`, :func:`evi`, :func:`evi2`, :func:`lswi`, :func:`nirv`, :func:`kndvi`,
:func:`kndvi_from_ndvi`, :func:`ndre`, :func:`fapar_from_ndvi`, :func:`fit_index_transfer`,
:func:`apply_index_transfer`, :data:`INDEX_BANDS`.

References
----------
:cite:`huete2002` (EVI), :cite:`xiao2004` (LSWI), :cite:`badgley2017` (NIRv),
:cite:`campsvalls2021` (kNDVI), :cite:`myneni1994` (fAPAR-NDVI).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

__all__ = ["ndvi", "evi", "evi2", "lswi", "nirv", "kndvi", "kndvi_from_ndvi", "ndre",
           "fapar_from_ndvi", "fit_index_transfer", "apply_index_transfer", "INDEX_BANDS"]

#: Bands each index needs (Sentinel-2 band names in brackets). Red-edge needs B05-B07,
#: which neither MOD13A1 nor the shipped Sentinel-2 NDVI cube provides.
INDEX_BANDS = {
    "ndvi": ("nir [B08]", "red [B04]"),
    "evi": ("nir [B08]", "red [B04]", "blue [B02]"),
    "evi2": ("nir [B08]", "red [B04]"),
    "lswi": ("nir [B08]", "swir 1.6 um [B11]"),
    "nirv": ("nir [B08]", "red [B04]"),
    "kndvi": ("nir [B08]", "red [B04]"),
    "ndre": ("nir [B8A]", "red edge [B05]"),
}


def _label(out, long_name: str):
    if isinstance(out, xr.DataArray):
        return out.assign_attrs(units="1", long_name=long_name)
    return out


def _nd(a, b):
    return (a - b) / (a + b)


def ndvi(nir, red):
    r"""Normalised difference vegetation index, :math:`(\rho_{nir}-\rho_{red})/(\rho_{nir}+\rho_{red})`.

    Examples
    --------
    >>> round(float(ndvi(0.4, 0.1)), 3)
    0.6
    """
    return _label(_nd(nir, red), "NDVI")


def evi(nir, red, blue):
    r"""Enhanced vegetation index (MODIS), :math:`2.5(\rho_n-\rho_r)/(\rho_n+6\rho_r-7.5\rho_b+1)`.

    References
    ----------
    :cite:`huete2002`

    Examples
    --------
    >>> round(float(evi(0.4, 0.05, 0.03)), 4)
    0.5932
    """
    return _label(2.5 * (nir - red) / (nir + 6.0 * red - 7.5 * blue + 1.0), "EVI")


def evi2(nir, red):
    r"""Two-band EVI (no blue band), :math:`2.5(\rho_n-\rho_r)/(\rho_n+2.4\rho_r+1)`."""
    return _label(2.5 * (nir - red) / (nir + 2.4 * red + 1.0), "EVI2")


def lswi(nir, swir):
    r"""Land surface water index, :math:`(\rho_{nir}-\rho_{swir})/(\rho_{nir}+\rho_{swir})`.

    VPRM uses the 1.6 um band (MODIS band 6, Sentinel-2 B11). With the 2.1 um band (MODIS
    band 7) this is the related "LSWI2130"/NDII7 index: an approximation, lower than LSWI.

    References
    ----------
    :cite:`xiao2004`
    """
    return _label(_nd(nir, swir), "LSWI")


def nirv(nir, red):
    r"""Near-infrared reflectance of vegetation, :math:`\mathrm{NDVI}\cdot\rho_{nir}`.

    References
    ----------
    :cite:`badgley2017`

    Examples
    --------
    >>> round(float(nirv(0.4, 0.1)), 3)
    0.24
    """
    return _label(_nd(nir, red) * nir, "NIRv")


def kndvi_from_ndvi(ndvi_value):
    r"""Kernel NDVI with the recommended length scale :math:`\sigma=(\rho_n+\rho_r)/2`: :math:`\tanh(\mathrm{NDVI}^2)`.

    With that choice kNDVI depends on NDVI only, so it can be computed from an NDVI product.

    References
    ----------
    :cite:`campsvalls2021`

    Examples
    --------
    >>> round(float(kndvi_from_ndvi(0.8)), 4)
    0.5649
    """
    return _label(np.tanh(ndvi_value ** 2), "kNDVI")


def kndvi(nir, red):
    """Kernel NDVI from reflectances (see :func:`kndvi_from_ndvi`)."""
    return kndvi_from_ndvi(_nd(nir, red))


def ndre(nir, rededge):
    r"""Normalised difference red-edge index, :math:`(\rho_{nir}-\rho_{re})/(\rho_{nir}+\rho_{re})` (Sentinel-2 B8A, B05)."""
    return _label(_nd(nir, rededge), "NDRE")


def fapar_from_ndvi(ndvi_value):
    r"""fAPAR from NDVI by the linear relation :math:`1.1638\,\mathrm{NDVI}-0.1426`, clipped to 0-1.

    A substitute where no fAPAR product exists (documented as such wherever used).

    References
    ----------
    :cite:`myneni1994`

    Examples
    --------
    >>> round(float(fapar_from_ndvi(0.5)), 4)
    0.4393
    """
    out = np.clip(1.1638 * ndvi_value - 0.1426, 0.0, 1.0)
    return _label(out, "fAPAR estimated from NDVI (Myneni and Williams 1994)")


def fit_index_transfer(x, y, *, degree: int = 2) -> dict:
    """Fit a polynomial ``y = p(x)`` between two indices (e.g. EVI from NDVI) on paired samples.

    Used to build documented substitutes where a sensor lacks a band (Sentinel-2 NDVI only:
    EVI and LSWI are estimated from NDVI with a transfer fitted on MODIS pixels at towers).

    Returns
    -------
    dict
        ``coef`` (highest power first), ``rmse``, ``r2``, ``n``.
    """
    x = np.asarray(x, float).ravel()
    y = np.asarray(y, float).ravel()
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() <= degree + 1:
        raise ValueError(f"fit_index_transfer: need more than {degree + 1} paired finite samples, got {ok.sum()}")
    coef = np.polyfit(x[ok], y[ok], degree)
    pred = np.polyval(coef, x[ok])
    rmse = float(np.sqrt(np.mean((pred - y[ok]) ** 2)))
    r2 = float(1 - np.sum((pred - y[ok]) ** 2) / np.sum((y[ok] - y[ok].mean()) ** 2))
    return {"coef": coef.tolist(), "rmse": rmse, "r2": r2, "n": int(ok.sum())}


def apply_index_transfer(x, transfer: dict, *, long_name: str = "index estimated from NDVI"):
    """Evaluate a transfer from :func:`fit_index_transfer` on ``x`` (array or DataArray)."""
    coef = np.asarray(transfer["coef"], float)
    if isinstance(x, xr.DataArray):
        out = xr.apply_ufunc(np.polyval, coef, x)
        return out.assign_attrs(units="1", long_name=long_name)
    return np.polyval(coef, x)
