"""TROPOMI-like observation operator: NOx column at 13:30 -> observed tropospheric NO2 column.

For each day and grid cell,

.. math::

    y = \\big(r\\,c_{NOx} + b\\big)(1 + \\epsilon_{AMF}) + \\eta,\\qquad
    \\eta \\sim \\mathcal N\\big(0, \\sigma_{abs}^2 + (\\sigma_{rel}\\,(r\\,c_{NOx} + b))^2\\big),

observed only where the cloud fraction is below ``cloud_threshold`` (an analogue of the
qa_value >= 0.75 filter of the TROPOMI NO2 product, which removes most scenes with a cloud radiance
fraction above one half, i.e. cloud fractions above roughly 0.2-0.3; the threshold 0.3 is our
choice). Terms:

- :math:`r` the NO2/NOx ratio at overpass, ``no2_nox_ratio`` = 0.75 on average
  (:cite:`beirle2019` use NOx/NO2 = 1.32), with a smooth day-to-day/spatial variation of relative
  std ``ratio_std``;
- :math:`b` a free-tropospheric NO2 background column, ``background`` mol m-2;
- :math:`\\epsilon_{AMF}` a multiplicative air-mass-factor error, a smooth random field of
  std ``amf_rel_error`` (structural AMF uncertainty is of order 10-40 % in polluted scenes
  :cite:`lorente2017`);
- :math:`\\eta` random noise: ``noise_abs`` = 1.66e-5 mol m-2 (= 1e15 molec cm-2, the order of the
  single-pixel TROPOMI slant-column precision :cite:`vangeffen2020`) plus a relative part ``noise_rel``;
- clouds: a smooth Gaussian random field mapped to a cloud fraction in [0, 1] such that the
  expected fraction of masked cells equals ``cloud_cover`` (with an optional seasonal modulation,
  cloudier in summer; the mean over the year stays ``cloud_cover``).

The reported precision is :math:`\\sqrt{\\sigma_{abs}^2 + (\\sigma_{rel}\\,(r c + b))^2}`; the total
observation error used by the variational baseline adds the AMF part.

Public names: :func:`observe`, :func:`cloud_threshold_offset`, :data:`MOL_M2_PER_MOLEC_CM2`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
from scipy.special import ndtr, ndtri

from eoretrieval.errors import DataError
from eoretrieval.io.checks import require_units
from eoretrieval.nox._fields import smooth_fields

__all__ = ["observe", "cloud_threshold_offset", "MOL_M2_PER_MOLEC_CM2"]

#: 1 molec cm-2 in mol m-2 (1e4 / N_A).
MOL_M2_PER_MOLEC_CM2 = 1e4 / 6.02214076e23


def cloud_threshold_offset(cloud_cover: float, cloud_threshold: float) -> float:
    """Offset mu such that P(Phi(z - mu) > threshold) = cloud_cover for z ~ N(0, 1).

    With cloud fraction :math:`f = \\Phi(z - \\mu)`, :math:`f > f_0 \\iff z > \\mu + \\Phi^{-1}(f_0)`, so
    :math:`\\mu = \\Phi^{-1}(1 - p) - \\Phi^{-1}(f_0)` for a masked fraction p.
    """
    p = float(np.clip(cloud_cover, 1e-6, 1 - 1e-6))
    return float(ndtri(1 - p) - ndtri(cloud_threshold))


def observe(nox_column: xr.DataArray, *, seed: int, no2_nox_ratio: float = 0.75, ratio_std: float = 0.05,
            amf_rel_error: float = 0.15, amf_length_km: float = 100.0, noise_abs: float = 1.66e-5,
            noise_rel: float = 0.1, cloud_cover: float = 0.45, cloud_length_km: float = 100.0,
            cloud_seasonal_amplitude: float = 0.1, cloud_threshold: float = 0.3,
            background: float = 8.0e-6) -> xr.Dataset:
    """Simulate TROPOMI-like tropospheric NO2 observations of a NOx column field.

    Parameters
    ----------
    nox_column : xr.DataArray
        True NOx column at the overpass (mol m-2), dims (time, lat, lon).
    seed : int
        Seed of the observation noise, AMF error, ratio and cloud fields (independent streams).
    no2_nox_ratio : float
        Mean NO2/NOx ratio at overpass (1).
    ratio_std : float
        Relative std of the smooth variation of the ratio (1).
    amf_rel_error : float
        Std of the multiplicative AMF error (1).
    amf_length_km, cloud_length_km : float
        Kernel widths (km) of the AMF-error and cloud random fields.
    noise_abs : float
        Absolute random noise std (mol m-2).
    noise_rel : float
        Relative random noise std (1).
    cloud_cover : float
        Expected fraction of cells masked by clouds, in [0, 1).
    cloud_seasonal_amplitude : float
        Amplitude of the seasonal modulation of the cloud cover (peak in July).
    cloud_threshold : float
        Cloud fraction above which a cell is not observed (qa_value < 0.75 analogue).
    background : float
        Free-tropospheric NO2 column added to every cell (mol m-2).

    Returns
    -------
    xr.Dataset
        ``no2_column`` (mol m-2, NaN where not observed), ``no2_column_precision`` (mol m-2),
        ``valid`` (uint8), ``cloud_fraction`` (1), ``no2_nox_ratio`` (1), ``amf_error`` (1),
        ``no2_column_true`` (noise-free NO2 column incl. background, mol m-2); attrs hold the settings.

    Raises
    ------
    DataError
        If ``nox_column`` lacks units ``mol m-2`` or dims (time, lat, lon).
    """
    require_units(nox_column.rename("nox_column"), "mol m-2", source="NOx world")
    if tuple(nox_column.dims) != ("time", "lat", "lon"):
        raise DataError(f"nox_column: dims {nox_column.dims}, expected ('time', 'lat', 'lon')")
    if not 0 <= cloud_cover < 1:
        raise ValueError(f"cloud_cover must be in [0, 1), got {cloud_cover}")
    lat = nox_column["lat"].values
    n, ny, nx = nox_column.shape
    cell_km = 6371.0 * np.radians(lat[1] - lat[0])
    ss = np.random.SeedSequence([int(seed), 7031])
    r_ratio, r_amf, r_noise, r_cloud = (np.random.default_rng(s) for s in ss.spawn(4))
    col = nox_column.values.astype(np.float32)
    ratio = no2_nox_ratio * (1 + ratio_std * smooth_fields(r_ratio, n, (ny, nx), 300.0 / cell_km))
    amf = amf_rel_error * smooth_fields(r_amf, n, (ny, nx), amf_length_km / cell_km)
    true_no2 = ratio * col + background
    precision = np.sqrt(noise_abs**2 + (noise_rel * true_no2) ** 2).astype(np.float32)
    obs = true_no2 * (1 + amf) + precision * r_noise.standard_normal((n, ny, nx)).astype(np.float32)
    doy = pd.DatetimeIndex(nox_column["time"].values).day_of_year.values.astype(float)
    cover = np.clip(cloud_cover - cloud_seasonal_amplitude * np.cos(2 * np.pi * (doy - 15.0) / 365.25), 0.0, 0.99)
    mu = np.array([cloud_threshold_offset(c, cloud_threshold) for c in cover], dtype=np.float32)[:, None, None]
    z = smooth_fields(r_cloud, n, (ny, nx), cloud_length_km / cell_km)
    cloud = ndtr(z - mu).astype(np.float32)
    valid = (cloud <= cloud_threshold) & np.isfinite(obs)
    obs = np.where(valid, obs, np.nan).astype(np.float32)
    coords = {k: nox_column[k] for k in ("time", "lat", "lon")}

    def da(x, units, long_name, **extra):
        return xr.DataArray(x, dims=("time", "lat", "lon"), coords=coords,
                            attrs={"units": units, "long_name": long_name, **extra})

    settings = dict(seed=int(seed), no2_nox_ratio=no2_nox_ratio, ratio_std=ratio_std, amf_rel_error=amf_rel_error,
                    amf_length_km=amf_length_km, noise_abs=noise_abs, noise_rel=noise_rel, cloud_cover=cloud_cover,
                    cloud_length_km=cloud_length_km, cloud_seasonal_amplitude=cloud_seasonal_amplitude,
                    cloud_threshold=cloud_threshold, background=background)
    return xr.Dataset({
        "no2_column": da(obs, "mol m-2", "observed tropospheric NO2 column at 13:30 (TROPOMI-like)",
                         standard_name="troposphere_mole_content_of_nitrogen_dioxide"),
        "no2_column_precision": da(precision, "mol m-2", "random-noise std of no2_column"),
        "valid": da(valid.astype(np.uint8), "1", "1 = observed (qa_value >= 0.75 analogue)",
                    flag_values=np.array([0, 1], dtype=np.uint8), flag_meanings="not_observed observed"),
        "cloud_fraction": da(cloud, "1", "effective cloud fraction", standard_name="cloud_area_fraction"),
        "no2_nox_ratio": da(ratio.astype(np.float32), "1", "NO2/NOx column ratio at overpass"),
        "amf_error": da(amf.astype(np.float32), "1", "relative air-mass-factor error (multiplicative: 1 + amf_error)"),
        "no2_column_true": da(true_no2.astype(np.float32), "mol m-2",
                              "noise-free NO2 column incl. free-tropospheric background"),
    }, attrs={"observation_operator": "eoretrieval.nox.tropomi_operator.observe", **{
        f"obs_{k}": v for k, v in settings.items()}})
