"""TROPOMI-like observation operator: NOx column at 13:30 -> observed tropospheric NO2 column.

For each day and grid cell,

.. math::

    y = \\big(r\\,c_{NOx} + b\\big)(1 + \\beta + \\epsilon_{AMF}) + \\eta,\\qquad
    \\eta \\sim \\mathcal N\\big(0, [\\sigma_{abs}^2 + (\\sigma_{rel}\\,(r\\,c_{NOx} + b))^2] / n\\big),

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
- :math:`\\beta` a systematic air-mass-factor bias of the whole world (``amf_bias``, one number per world:
  the a-priori profiles, surface albedo and cloud model of a retrieval are biased the same way for years);
- :math:`\\eta` random noise of a single TROPOMI pixel, ``noise_abs`` = 1.66e-5 mol m-2 (= 1e15 molec cm-2,
  the order of the single-pixel precision :cite:`vangeffen2020`) plus a relative part ``noise_rel``,
  averaged over the :math:`n` clear pixels that fall in the cell that day (``pixel_area_km2`` > 0):
  :math:`n = A_{cell}(1 - f_{cloud}) / A_{pix}(x)`, with the pixel area growing across the swath,
  :math:`A_{pix}(x) = A_0\\,(1 + 3 (x/1300\\,\\mathrm{km})^2)` (3.5 km across track at nadir, about 14 km at
  the edge of the 2600 km swath; 5.5 km along track), and the cell's across-track position :math:`x` moving
  from day to day as the orbit track does (a golden-ratio shift of the swath per day). With
  ``pixel_area_km2 = 0`` the noise is that of one pixel per cell (the first version);
- clouds: a smooth Gaussian random field mapped to a cloud fraction in [0, 1] such that the
  expected fraction of masked cells equals ``cloud_cover`` (with an optional seasonal modulation,
  cloudier in summer; the mean over the year stays ``cloud_cover``). With winds and
  ``cloud_weather_corr`` = ρ > 0 the field is :math:`\\sqrt{1-\\rho^2}\\,z + \\rho\\,\\hat\\zeta`, with
  :math:`\\hat\\zeta` the standardised, smoothed relative vorticity of the wind: cyclonic weather is
  cloudy, anticyclonic (stagnant, polluted) weather is clear, so clear-sky days are not a random sample
  of days (the clear-sky bias every TROPOMI-based inversion lives with).

The reported precision is :math:`\\sqrt{(\\sigma_{abs}^2 + (\\sigma_{rel}\\,(r c + b))^2)/n}`; the total
observation error used by the variational baseline adds the AMF part.

Public names: :func:`observe`, :func:`cloud_threshold_offset`, :func:`pixel_counts`, :func:`weather_index`,
:data:`MOL_M2_PER_MOLEC_CM2`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
from scipy.special import ndtr, ndtri

from eoretrieval.errors import DataError
from eoretrieval.io.checks import require_units
from eoretrieval.nox._fields import smooth_fields

__all__ = ["observe", "cloud_threshold_offset", "pixel_counts", "weather_index", "MOL_M2_PER_MOLEC_CM2"]

#: 1 molec cm-2 in mol m-2 (1e4 / N_A).
MOL_M2_PER_MOLEC_CM2 = 1e4 / 6.02214076e23


def cloud_threshold_offset(cloud_cover: float, cloud_threshold: float) -> float:
    """Offset mu such that P(Phi(z - mu) > threshold) = cloud_cover for z ~ N(0, 1).

    With cloud fraction :math:`f = \\Phi(z - \\mu)`, :math:`f > f_0 \\iff z > \\mu + \\Phi^{-1}(f_0)`, so
    :math:`\\mu = \\Phi^{-1}(1 - p) - \\Phi^{-1}(f_0)` for a masked fraction p.
    """
    p = float(np.clip(cloud_cover, 1e-6, 1 - 1e-6))
    return float(ndtri(1 - p) - ndtri(cloud_threshold))


def pixel_counts(lat, lon, n_days: int, pixel_area_km2: float = 19.25, *, swath_km: float = 2600.0) -> np.ndarray:
    """TROPOMI pixels per cell and day (cloud-free sky), ``(n_days, lat, lon)``.

    The cell's across-track distance from the ground track is
    :math:`x = \\mathrm{wrap}(\\Delta\\lambda\\,111.32\\cos\\varphi + s_d)` into ``[-swath/2, swath/2)``,
    with :math:`\\Delta\\lambda` the longitude from the grid centre and :math:`s_d` a golden-ratio shift of the
    swath from day to day; the pixel area is ``pixel_area_km2 * (1 + 3 (x / (swath/2))**2)``.
    """
    lat = np.asarray(lat, float)
    lon = np.asarray(lon, float)
    dlat, dlon = np.radians(lat[1] - lat[0]), np.radians(lon[1] - lon[0])
    cell_area = 6371.0**2 * dlon * (np.sin(np.radians(lat) + dlat / 2) - np.sin(np.radians(lat) - dlat / 2))
    half = swath_km / 2
    shift = ((np.arange(n_days) * 0.6180339887) % 1.0) * swath_km
    x = (lon[None, None, :] - lon.mean()) * 111.32 * np.cos(np.radians(lat))[None, :, None] + shift[:, None, None]
    x = (x + half) % swath_km - half
    return cell_area[None, :, None] / (pixel_area_km2 * (1 + 3 * (x / half) ** 2))


def weather_index(u: xr.DataArray, v: xr.DataArray, *, smooth_cells: float = 4.0) -> np.ndarray:
    """Standardised, smoothed relative vorticity of the wind, ``(time, lat, lon)``: > 0 cyclonic (cloudy).

    Relative vorticity :math:`\\zeta = \\partial_x v - \\partial_y u` on the sphere (centred differences),
    Gaussian-smoothed per day by ``smooth_cells``, then standardised over all days and cells.
    """
    from scipy.ndimage import gaussian_filter

    lat = u["lat"].values
    lon = u["lon"].values
    dy = 6.371e6 * np.radians(lat[1] - lat[0])
    dx = 6.371e6 * np.radians(lon[1] - lon[0]) * np.cos(np.radians(lat))[None, :, None]
    uu = np.asarray(u.transpose("time", "lat", "lon").values, float)
    vv = np.asarray(v.transpose("time", "lat", "lon").values, float)
    zeta = np.gradient(vv, axis=2) / dx - np.gradient(uu, axis=1) / dy
    zeta = gaussian_filter(zeta, sigma=(0, smooth_cells, smooth_cells), mode="nearest")
    sd = float(zeta.std()) or 1.0
    return ((zeta - zeta.mean()) / sd).astype(np.float32)


def observe(nox_column: xr.DataArray, *, seed: int, no2_nox_ratio: float = 0.75, ratio_std: float = 0.05,
            amf_rel_error: float = 0.15, amf_length_km: float = 100.0, noise_abs: float = 1.66e-5,
            noise_rel: float = 0.1, cloud_cover: float = 0.45, cloud_length_km: float = 100.0,
            cloud_seasonal_amplitude: float = 0.1, cloud_threshold: float = 0.3,
            background: float = 8.0e-6, amf_bias: float = 0.0, pixel_area_km2: float = 0.0,
            winds: tuple[xr.DataArray, xr.DataArray] | None = None, cloud_weather_corr: float = 0.0) -> xr.Dataset:
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
    amf_bias : float
        Systematic relative AMF bias of the whole dataset (1).
    pixel_area_km2 : float
        Nadir pixel area (km2; 19.25 for 5.5 x 3.5 km); 0 gives one pixel per cell.
    winds : (u, v), optional
        Wind components (m s-1, dims like ``nox_column``) whose vorticity the clouds follow.
    cloud_weather_corr : float
        Correlation ρ of the cloud field with the standardised vorticity (needs ``winds``).

    Returns
    -------
    xr.Dataset
        ``no2_column`` (mol m-2, NaN where not observed), ``no2_column_precision`` (mol m-2),
        ``valid`` (uint8), ``cloud_fraction`` (1), ``no2_nox_ratio`` (1), ``amf_error`` (1),
        ``no2_column_true`` (noise-free NO2 column incl. background, mol m-2), ``n_pixels`` (clear pixels per
        cell, 1); attrs hold the settings.

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
    if not 0 <= cloud_weather_corr < 1:
        raise ValueError(f"cloud_weather_corr must be in [0, 1), got {cloud_weather_corr}")
    if cloud_weather_corr > 0 and winds is None:
        raise ValueError("cloud_weather_corr > 0 needs winds=(u, v)")
    lat = nox_column["lat"].values
    n, ny, nx = nox_column.shape
    cell_km = 6371.0 * np.radians(lat[1] - lat[0])
    ss = np.random.SeedSequence([int(seed), 7031])
    r_ratio, r_amf, r_noise, r_cloud = (np.random.default_rng(s) for s in ss.spawn(4))
    col = nox_column.values.astype(np.float32)
    ratio = no2_nox_ratio * (1 + ratio_std * smooth_fields(r_ratio, n, (ny, nx), 300.0 / cell_km))
    amf = amf_rel_error * smooth_fields(r_amf, n, (ny, nx), amf_length_km / cell_km)
    true_no2 = ratio * col + background
    doy = pd.DatetimeIndex(nox_column["time"].values).day_of_year.values.astype(float)
    cover = np.clip(cloud_cover - cloud_seasonal_amplitude * np.cos(2 * np.pi * (doy - 15.0) / 365.25), 0.0, 0.99)
    mu = np.array([cloud_threshold_offset(c, cloud_threshold) for c in cover], dtype=np.float32)[:, None, None]
    z = smooth_fields(r_cloud, n, (ny, nx), cloud_length_km / cell_km)
    if cloud_weather_corr > 0:
        zeta = weather_index(winds[0], winds[1], smooth_cells=cloud_length_km / cell_km)
        z = np.sqrt(1 - cloud_weather_corr**2) * z + cloud_weather_corr * zeta
    cloud = ndtr(z - mu).astype(np.float32)
    single = np.sqrt(noise_abs**2 + (noise_rel * true_no2) ** 2)
    if pixel_area_km2 > 0:
        n_pix = pixel_counts(nox_column["lat"].values, nox_column["lon"].values, n, pixel_area_km2) * (1 - cloud)
        n_pix = np.maximum(n_pix, 1.0)
    else:
        n_pix = np.ones((n, ny, nx))
    precision = (single / np.sqrt(n_pix)).astype(np.float32)
    obs = true_no2 * (1 + amf_bias + amf) + precision * r_noise.standard_normal((n, ny, nx)).astype(np.float32)
    valid = (cloud <= cloud_threshold) & np.isfinite(obs)
    obs = np.where(valid, obs, np.nan).astype(np.float32)
    coords = {k: nox_column[k] for k in ("time", "lat", "lon")}

    def da(x, units, long_name, **extra):
        return xr.DataArray(x, dims=("time", "lat", "lon"), coords=coords,
                            attrs={"units": units, "long_name": long_name, **extra})

    settings = dict(seed=int(seed), no2_nox_ratio=no2_nox_ratio, ratio_std=ratio_std, amf_rel_error=amf_rel_error,
                    amf_length_km=amf_length_km, noise_abs=noise_abs, noise_rel=noise_rel, cloud_cover=cloud_cover,
                    cloud_length_km=cloud_length_km, cloud_seasonal_amplitude=cloud_seasonal_amplitude,
                    cloud_threshold=cloud_threshold, background=background, amf_bias=amf_bias,
                    pixel_area_km2=pixel_area_km2, cloud_weather_corr=cloud_weather_corr)
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
        "n_pixels": da(np.where(valid, n_pix, 0).astype(np.float32), "1",
                       "clear TROPOMI pixels averaged in the cell (0 where not observed)"),
    }, attrs={"observation_operator": "eoretrieval.nox.tropomi_operator.observe", **{
        f"obs_{k}": v for k, v in settings.items()}})
