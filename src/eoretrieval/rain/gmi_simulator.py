"""A GMI-like passive-microwave simulator: rain fields and environment → brightness temperatures.

The simulator is a simplified, single-layer radiative model that keeps the physics a rain retrieval
relies on :cite:`kummerow1996,petty1994`:

- **emission** by liquid water (cloud + rain below the freezing level) adds optical depth that warms
  the low frequencies (10–37 GHz) over the radiometrically cold, polarised ocean surface and reduces
  the polarisation difference V − H; over land (emissivity ≈ 0.9) the signal is weak;
- **scattering** by ice above the freezing level cools 89–183 GHz (extinction ∝ f² up to saturation);
- **water vapour** absorption (the 22.235 GHz line, the 183.31 GHz line) sets the clear-sky Tb and
  makes 183.31 ± 3 GHz nearly blind to the surface;
- **frequency-dependent footprints**: Tb is computed on the rain grid and convolved with a Gaussian beam
  of the channel's full width at half maximum (beam filling);
- **instrument noise**: Gaussian with the channel's NEΔT.

Rain fields come either from real radar composites (:func:`load_radar_fields`, any pysteps importer)
or from a stochastic generator (:func:`stochastic_rain_fields`). A second radiometer
(:data:`AMSR2_CHANNELS`) shares the model with its own channels and footprints.

Public names: :class:`Channel`, :data:`GMI_CHANNELS`, :data:`AMSR2_CHANNELS`, :data:`SENSORS`,
:func:`get_channels`, :func:`load_radar_fields`, :func:`extract_patches`, :func:`stochastic_rain_fields`,
:func:`make_environment`, :func:`clear_sky_tb`, :func:`simulate_tb`, :func:`ocean_emissivity`,
:func:`land_emissivity`.

References
----------
:cite:`draper2015` (GMI channels, footprints and NEΔT), :cite:`imaoka2010` (AMSR2),
:cite:`kummerow1996` (emission/scattering signatures of rain), :cite:`pulkkinen2019` (radar importers).
"""

from __future__ import annotations

import glob as _glob
import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import xarray as xr
from scipy import ndimage

from ..io.radar import import_pysteps
from ..io.checks import require_units
from ..registry import Registry
from ..conventions import CHANNEL, UNITS, X, Y
from ..errors import DataError, MissingOptionalDependency

__all__ = ["Channel", "GMI_CHANNELS", "AMSR2_CHANNELS", "SENSORS", "get_channels", "load_radar_fields",
           "extract_patches", "stochastic_rain_fields", "make_environment", "clear_sky_tb", "simulate_tb",
           "ocean_emissivity", "land_emissivity", "SAMPLE", "EARTH_INCIDENCE_DEG"]

SAMPLE = "sample"
#: Earth incidence angle of GMI's conical scan (deg); AMSR2's is 55°, the difference is neglected here.
EARTH_INCIDENCE_DEG = 52.8
_T_CMB = 2.7


@dataclass(frozen=True)
class Channel:
    """One radiometer channel: centre frequency (GHz), polarisation, effective footprint FWHM (km), NEΔT (K).

    ``fwhm_km`` is the geometric mean of the along- and cross-track 3-dB footprint axes. For the
    183.31 GHz channels ``offset_ghz`` is the side-band offset (it sets the water-vapour opacity).
    """

    name: str
    freq_ghz: float
    pol: str
    fwhm_km: float
    nedt_k: float
    offset_ghz: float = 0.0


#: The 13 GMI channels :cite:`draper2015` (footprints: sqrt of the 3-dB axes, e.g. 32 × 19 km at 10.65 GHz).
GMI_CHANNELS: tuple[Channel, ...] = (
    Channel("10.65V", 10.65, "V", 24.7, 0.96), Channel("10.65H", 10.65, "H", 24.7, 0.96),
    Channel("18.7V", 18.7, "V", 14.1, 0.84), Channel("18.7H", 18.7, "H", 14.1, 0.84),
    Channel("23.8V", 23.8, "V", 11.6, 1.05),
    Channel("36.64V", 36.64, "V", 11.2, 0.65), Channel("36.64H", 36.64, "H", 11.2, 0.65),
    Channel("89.0V", 89.0, "V", 5.3, 0.57), Channel("89.0H", 89.0, "H", 5.3, 0.57),
    Channel("166.0V", 166.0, "V", 4.9, 1.5), Channel("166.0H", 166.0, "H", 4.9, 1.5),
    Channel("183.31+-3V", 183.31, "V", 4.9, 1.5, offset_ghz=3.0),
    Channel("183.31+-7V", 183.31, "V", 4.9, 1.5, offset_ghz=7.0),
)

#: An AMSR2-like set :cite:`imaoka2010`: 6.9–89 GHz, V/H, larger footprints, no 166/183 GHz.
AMSR2_CHANNELS: tuple[Channel, ...] = (
    Channel("6.925V", 6.925, "V", 45.6, 0.34), Channel("6.925H", 6.925, "H", 45.6, 0.34),
    Channel("10.65V", 10.65, "V", 32.0, 0.7), Channel("10.65H", 10.65, "H", 32.0, 0.7),
    Channel("18.7V", 18.7, "V", 17.5, 0.7), Channel("18.7H", 18.7, "H", 17.5, 0.7),
    Channel("23.8V", 23.8, "V", 19.7, 0.6), Channel("23.8H", 23.8, "H", 19.7, 0.6),
    Channel("36.5V", 36.5, "V", 9.2, 0.7), Channel("36.5H", 36.5, "H", 9.2, 0.7),
    Channel("89.0V", 89.0, "V", 4.2, 1.2), Channel("89.0H", 89.0, "H", 4.2, 1.2),
)

#: sensor name -> channels
#: sensor name -> its channels (a registry: case-insensitive, unknown names list the valid ones)
SENSORS: Registry[tuple[Channel, ...]] = Registry("sensor", {"gmi": GMI_CHANNELS, "amsr2": AMSR2_CHANNELS})


def get_channels(sensor: str) -> tuple[Channel, ...]:
    """Return the channels of ``sensor`` (``"gmi"`` or ``"amsr2"``, case-insensitive).

    Raises
    ------
    ValueError
        If the sensor is unknown; the message lists the valid names.
    """
    return SENSORS.get(sensor)


# ----------------------------------------------------------------------------------------------------------
# rain fields
# ----------------------------------------------------------------------------------------------------------

def _expand(rain_files: str | os.PathLike | Sequence[str | os.PathLike]) -> list[str]:
    if isinstance(rain_files, (str, os.PathLike)):
        files = sorted(_glob.glob(os.fspath(rain_files)))
        if not files:
            raise DataError(f"rain_files={os.fspath(rain_files)!r}: the pattern matches no file; expected radar "
                            f"composites readable by a pysteps importer (e.g. data/radar_rain/*/*.h5)")
        return files
    files = [os.fspath(f) for f in rain_files]
    if not files:
        raise DataError("rain_files: empty list; expected at least one radar composite")
    return files


def load_radar_fields(rain_files: str | os.PathLike | Sequence[str | os.PathLike], *, importer: str = "knmi_hdf5",
                      coarsen: int = 2, max_files: int | None = None, importer_kwargs: dict | None = None
                      ) -> xr.DataArray:
    """Read radar composites with a pysteps importer and return rain rate on a coarsened grid.

    Parameters
    ----------
    rain_files : str, path or sequence of paths
        A glob pattern (sorted) or an explicit list of files.
    importer : str
        A pysteps importer name (``pysteps.io.get_method(importer, "importer")``): ``"knmi_hdf5"``,
        ``"opera_hdf5"``, ``"odim_hdf5"``, ``"mrms_grib"``, ``"fmi_geotiff"``, ...
    coarsen : int
        Block-average factor applied to the native grid (NaN where any native pixel is missing).
    max_files : int or None
        Read at most this many files (evenly spaced through the sorted list).
    importer_kwargs : dict, optional
        Passed to the importer.

    Returns
    -------
    xr.DataArray
        ``surface_precip``, dims ``(time, y, x)``, units ``mm h-1``, attrs ``pixel_km``, ``importer``,
        ``source_files``. Pixels outside the radar coverage are NaN.

    Raises
    ------
    MissingOptionalDependency
        If pysteps is not installed.
    DataError
        If no file matches, a file cannot be read, or its units are not convertible to a rain rate.
    """
    import_pysteps()
    try:
        from pysteps.io import get_method
        from pysteps.utils import conversion
    except ImportError as err:  # pragma: no cover - pysteps is in the 'field' extra
        raise MissingOptionalDependency("load_radar_fields needs pysteps (pip install -e .[field])") from err
    files = _expand(rain_files)
    if max_files is not None and len(files) > max_files:
        idx = np.unique(np.linspace(0, len(files) - 1, max_files).round().astype(int))
        files = [files[i] for i in idx]
    reader = get_method(importer, "importer")
    frames, times, pixel = [], [], None
    for path in files:
        try:
            precip, _, meta = reader(path, **(importer_kwargs or {}))
            precip, meta = conversion.to_rainrate(np.asarray(precip, dtype=float), meta)
        except Exception as err:  # noqa: BLE001 - name the file in the message
            raise DataError(f"{path}: cannot read a rain field with pysteps importer {importer!r} ({err})") from err
        if meta.get("unit") != "mm/h":
            raise DataError(f"{path}: importer {importer!r} gave units {meta.get('unit')!r}; expected a rain rate (mm/h)")
        px = float(meta.get("xpixelsize", 1.0))
        px_km = px / 1000.0 if px > 100 else px  # pysteps gives metres for most importers, km for KNMI
        pixel = px_km * coarsen if pixel is None else pixel
        if coarsen > 1:
            ny, nx = (s // coarsen * coarsen for s in precip.shape)
            precip = precip[:ny, :nx].reshape(ny // coarsen, coarsen, nx // coarsen, coarsen).mean(axis=(1, 3))
        frames.append(np.clip(precip, 0.0, None))
        times.append(np.datetime64(meta["timestamps"][0], "ns") if "timestamps" in meta
                     and meta["timestamps"] is not None else np.datetime64("NaT"))
    shapes = {f.shape for f in frames}
    if len(shapes) > 1:
        raise DataError(f"rain_files: frames have different grids {sorted(shapes)}; expected one radar product")
    data = np.stack(frames).astype(np.float32)
    return xr.DataArray(data, dims=("time", Y, X), coords={"time": np.array(times, dtype="datetime64[ns]")},
                        name="surface_precip",
                        attrs={"units": UNITS["rain_rate"], "long_name": "surface precipitation rate",
                               "pixel_km": pixel, "importer": importer,
                               "source_files": ",".join(os.path.basename(f) for f in files)})


def extract_patches(fields: xr.DataArray, *, size: int = 32, stride: int | None = None, min_wet: float = 0.05,
                    wet_threshold: float = 0.1) -> xr.DataArray:
    """Cut ``size × size`` patches without missing values and with enough rain from ``(time, y, x)`` fields.

    Parameters
    ----------
    fields : xr.DataArray
        Rain rate, dims ``(time, y, x)``, units ``mm h-1``.
    size, stride : int
        Patch size and step (default: non-overlapping).
    min_wet : float
        Minimum fraction of pixels above ``wet_threshold`` (mm h-1) for a patch to be kept.

    Returns
    -------
    xr.DataArray
        Dims ``(sample, y, x)``, units ``mm h-1``; coordinates ``time``, ``y0``, ``x0`` per sample.

    Raises
    ------
    DataError
        If no patch qualifies.
    """
    _check_units(fields, UNITS["rain_rate"], "extract_patches: fields")
    stride = stride or size
    data = fields.transpose("time", Y, X).values
    out, tt, yy, xx = [], [], [], []
    for k in range(data.shape[0]):
        for j in range(0, data.shape[1] - size + 1, stride):
            for i in range(0, data.shape[2] - size + 1, stride):
                patch = data[k, j:j + size, i:i + size]
                if np.isnan(patch).any() or (patch > wet_threshold).mean() < min_wet:
                    continue
                out.append(patch)
                tt.append(k)
                yy.append(j)
                xx.append(i)
    if not out:
        raise DataError(f"extract_patches: no {size}x{size} patch without missing values and with >= {min_wet:.0%} "
                        f"pixels above {wet_threshold} mm h-1 in {fields.sizes['time']} frames")
    times = fields["time"].values[tt] if "time" in fields.coords else np.array(tt)
    return xr.DataArray(np.stack(out), dims=(SAMPLE, Y, X),
                        coords={"frame": (SAMPLE, np.array(tt)), "time": (SAMPLE, times),
                                "y0": (SAMPLE, np.array(yy)), "x0": (SAMPLE, np.array(xx))},
                        name="surface_precip", attrs=dict(fields.attrs))


def stochastic_rain_fields(n: int, *, size: int = 32, seed: int | np.random.Generator = 0, beta: float = 3.2,
                           wet_fraction: tuple[float, float] = (0.15, 0.6), log_mean: float = 0.3,
                           log_std: tuple[float, float] = (1.0, 1.5), pixel_km: float = 2.0) -> xr.DataArray:
    """Generate ``n`` stochastic rain fields: power-law (spectral slope ``-beta``) Gaussian noise, log-normal.

    A Gaussian random field with power spectrum :math:`P(k) \\propto k^{-\\beta}` is standardised;
    pixels above the quantile ``1 - wet`` rain with :math:`R = \\exp(\\mu + \\sigma z')`, where
    :math:`z'` is the excess above the threshold rescaled to unit variance — the structure of
    the pysteps noise generators :cite:`pulkkinen2019` with a log-normal intensity distribution.

    Returns
    -------
    xr.DataArray
        Dims ``(sample, y, x)``, units ``mm h-1``.
    """
    rng = np.random.default_rng(seed)
    ky = np.fft.fftfreq(size)[:, None]
    kx = np.fft.fftfreq(size)[None, :]
    k = np.sqrt(kx ** 2 + ky ** 2)
    k[0, 0] = 1.0 / size
    amp = k ** (-beta / 2.0)
    out = np.empty((n, size, size), dtype=np.float32)
    for m in range(n):
        noise = np.fft.ifft2(np.fft.fft2(rng.standard_normal((size, size))) * amp).real
        z = (noise - noise.mean()) / noise.std()
        wet = rng.uniform(*wet_fraction)
        thr = np.quantile(z, 1.0 - wet)
        sigma = rng.uniform(*log_std)
        excess = np.clip(z - thr, 0.0, None)
        rain = np.where(z > thr, np.exp(log_mean - 1.0 + sigma * excess), 0.0)
        out[m] = rain
    return xr.DataArray(out, dims=(SAMPLE, Y, X), name="surface_precip",
                        attrs={"units": UNITS["rain_rate"], "long_name": "surface precipitation rate",
                               "pixel_km": pixel_km, "generator": f"power-law beta={beta}, log-normal"})


# ----------------------------------------------------------------------------------------------------------
# environment
# ----------------------------------------------------------------------------------------------------------

def make_environment(n: int, *, size: int = 32, seed: int | np.random.Generator = 0, t_mean: float = 289.0,
                     t_std: float = 3.0, p_land: float = 0.3, p_coast: float = 0.3) -> xr.Dataset:
    """Draw ``n`` scene environments: surface temperature, column water vapour, freezing level, land mask.

    Surface temperature :math:`T_s \\sim N(\\bar T, \\sigma_T)`; column water vapour follows
    Clausius–Clapeyron at fixed relative humidity, :math:`W = 25\\,e^{0.07 (T_s - 288)} u`,
    :math:`u \\sim U(0.8, 1.2)` kg m-2; the freezing level is :math:`(T_s - 273.15)/\\Gamma` with the
    moist lapse rate :math:`\\Gamma = 6.5` K km-1. Each scene is ocean, land, or a coast (a smooth random
    boundary).

    Returns
    -------
    xr.Dataset
        ``surface_temperature`` (sample) K, ``tcwv`` (sample) kg m-2, ``freezing_level`` (sample) km,
        ``land_fraction`` (sample, y, x) 1.
    """
    rng = np.random.default_rng(seed)
    ts = rng.normal(t_mean, t_std, n)
    tcwv = 25.0 * np.exp(0.07 * (ts - 288.0)) * rng.uniform(0.8, 1.2, n)
    fl = np.clip((ts - 273.15) / 6.5, 0.3, None)
    land = np.zeros((n, size, size), dtype=np.float32)
    kind = rng.choice(3, size=n, p=[1.0 - p_land - p_coast, p_land, p_coast])
    for m in np.flatnonzero(kind == 1):
        land[m] = 1.0
    for m in np.flatnonzero(kind == 2):
        smooth = ndimage.gaussian_filter(rng.standard_normal((size, size)), size / 6.0, mode="wrap")
        land[m] = (smooth > np.median(smooth)).astype(np.float32)
    return xr.Dataset({
        "surface_temperature": ((SAMPLE,), ts, {"units": "K", "long_name": "surface temperature"}),
        "tcwv": ((SAMPLE,), tcwv, {"units": "kg m-2", "long_name": "total column water vapour"}),
        "freezing_level": ((SAMPLE,), fl, {"units": "km", "long_name": "freezing level height"}),
        "land_fraction": ((SAMPLE, Y, X), land, {"units": "1", "long_name": "land fraction"}),
    })


# ----------------------------------------------------------------------------------------------------------
# radiative model
# ----------------------------------------------------------------------------------------------------------

# Zenith opacities at 30 kg m-2 of vapour minus the dry part, per kg m-2 (after Petty 2006, fig. 7.x, and
# the Liebe MPM line shapes): (dry opacity, vapour mass absorption m2 kg-1)
_GAS = {10.65: (0.010, 0.00010), 6.925: (0.009, 0.00005), 18.7: (0.012, 0.0010), 23.8: (0.014, 0.0035),
        36.5: (0.030, 0.0013), 36.64: (0.030, 0.0013), 89.0: (0.040, 0.0087), 166.0: (0.060, 0.031)}
_GAS_183 = {3.0: (0.06, 0.265), 7.0: (0.06, 0.098)}


def _gas(ch: Channel) -> tuple[float, float]:
    if ch.freq_ghz > 180:
        return _GAS_183[ch.offset_ghz]
    return _GAS[ch.freq_ghz]


def ocean_emissivity(freq_ghz: float, pol: str) -> float:
    """Calm-ocean emissivity at 53° incidence (Fresnel, seawater at ~290 K), smooth in frequency.

    .. math:: e_V = 0.56 + 0.30\\,(1 - e^{-f/120}),\\quad e_H = 0.29 + 0.40\\,(1 - e^{-f/120})

    giving e_V ≈ 0.59 / e_H ≈ 0.32 at 10.65 GHz and e_V ≈ 0.77 / e_H ≈ 0.56 at 89 GHz :cite:`meissner2004`.
    """
    g = 1.0 - np.exp(-freq_ghz / 120.0)
    if pol.upper() == "V":
        return 0.56 + 0.30 * g
    if pol.upper() == "H":
        return 0.29 + 0.40 * g
    raise ValueError(f"polarisation {pol!r}; expected 'V' or 'H'")


def land_emissivity(freq_ghz: float, pol: str) -> float:
    """Vegetated-land emissivity: ≈ 0.95 (V) and 0.90 (H) at 10 GHz, polarisation difference decaying with f."""
    dp = 0.05 * np.exp(-freq_ghz / 80.0)
    if pol.upper() == "V":
        return 0.95 - 0.01 * freq_ghz / 183.0
    if pol.upper() == "H":
        return 0.95 - dp - 0.01 * freq_ghz / 183.0
    raise ValueError(f"polarisation {pol!r}; expected 'V' or 'H'")


def _liquid_mass_absorption(freq_ghz: float) -> float:
    """Mass absorption of liquid (cloud + rain) in m2 kg-1: Rayleigh-like f^1.9 rising, saturating above ~90 GHz."""
    return 0.0006 * freq_ghz ** 1.9 / (1.0 + (freq_ghz / 90.0) ** 1.9)


def _ice_mass_extinction(freq_ghz: float) -> float:
    """Scattering extinction of precipitating ice in m2 kg-1: ∝ f² (Rayleigh-Gans), saturating at high f."""
    return 0.5 * (freq_ghz / 89.0) ** 2 / (1.0 + 0.25 * (freq_ghz / 89.0) ** 2)


def _check_units(da: xr.DataArray, units: str, what: str) -> None:
    require_units(da.rename(what) if da.name is None else da, units, source=what)


def clear_sky_tb(channel: Channel, *, surface_temperature: np.ndarray, tcwv: np.ndarray, land_fraction: np.ndarray,
                 liquid_path: np.ndarray | float = 0.0, freezing_level: np.ndarray | float = 2.3) -> np.ndarray:
    """Single-layer emission model (no scattering): Tb in K for one channel, broadcasting over inputs.

    .. math::

        T_B = e\\,T_s\\,\\Gamma + T_a (1 - \\Gamma) + (1 - e)\\,\\Gamma\\,[T_a (1 - \\Gamma) + T_c\\,\\Gamma],
        \\qquad \\Gamma = \\exp(-\\tau / \\cos\\theta)

    with :math:`\\tau = \\tau_{dry} + \\kappa_v W + \\kappa_l L` and a layer temperature :math:`T_a` that is
    the opacity-weighted mean of the vapour layer temperature (lower for opaque 183 GHz channels, whose
    emission comes from higher up) and the mean temperature of the liquid layer below the freezing level.

    Parameters
    ----------
    channel : Channel
    surface_temperature, tcwv : array
        K and kg m-2.
    land_fraction : array
        0 (ocean) to 1 (land); emissivity is mixed linearly.
    liquid_path : array or float
        Liquid water path (kg m-2).
    freezing_level : array or float
        km.
    """
    ts = np.asarray(surface_temperature, dtype=float)
    mu = np.cos(np.deg2rad(EARTH_INCIDENCE_DEG))
    dry, kv = _gas(channel)
    tau_v = dry + kv * np.asarray(tcwv, dtype=float)
    tau_l = _liquid_mass_absorption(channel.freq_ghz) * np.asarray(liquid_path, dtype=float)
    # effective emission height of the vapour layer: ~1.5 km for windows, the level where the slant optical
    # depth above reaches 1 for opaque channels (vapour scale height 2 km)
    h_v = np.maximum(1.5, 2.0 * np.log(np.maximum(tau_v / mu, 1e-6)))
    t_v = ts - 6.5 * h_v
    t_l = ts - 6.5 * 0.5 * np.asarray(freezing_level, dtype=float)
    tau = tau_v + tau_l
    t_a = (tau_v * t_v + tau_l * t_l) / np.maximum(tau, 1e-9)
    gam = np.exp(-tau / mu)
    lf = np.asarray(land_fraction, dtype=float)
    e = (1.0 - lf) * ocean_emissivity(channel.freq_ghz, channel.pol) + lf * land_emissivity(channel.freq_ghz, channel.pol)
    down = t_a * (1.0 - gam) + _T_CMB * gam
    return e * ts * gam + t_a * (1.0 - gam) + (1.0 - e) * gam * down


def simulate_tb(rain: xr.DataArray, env: xr.Dataset, *, sensor: str = "gmi", seed: int | np.random.Generator = 0,
                pixel_km: float | None = None, noise: bool = True, ice_factor: float = 0.06,
                liquid_factor: float = 0.25) -> xr.DataArray:
    """Simulate brightness temperatures of ``sensor`` for rain fields in their environment.

    Liquid water path :math:`L = a_L R^{0.8} (H_0 / 2.3\\,\\text{km}) + 0.05\\,\\mathbb 1_{R>0}` (rain column grows
    with the depth of the warm layer :math:`H_0`); precipitating ice path :math:`I = a_I R^{1.2}`. Ice
    scattering acts above the emission layer:

    .. math:: T_B = T_B^{em}\\,e^{-\\kappa_i I} + T_{ice}\\,(1 - e^{-\\kappa_i I}),\\quad T_{ice} = T_s - 6.5 (H_0 + 4) - 60

    (cold sky radiance scattered into the beam). The result is convolved with a Gaussian beam of the
    channel's FWHM on the rain grid and Gaussian noise of standard deviation NEΔT is added.

    Parameters
    ----------
    rain : xr.DataArray
        Dims ``(sample, y, x)``, units ``mm h-1``.
    env : xr.Dataset
        From :func:`make_environment` (same ``sample`` and grid).
    sensor : str
        ``"gmi"`` or ``"amsr2"``.
    seed : int or Generator
        Noise seed.
    pixel_km : float, optional
        Grid spacing; default ``rain.attrs["pixel_km"]``.
    noise : bool
        Add instrument noise.

    Returns
    -------
    xr.DataArray
        ``tb``, dims ``(sample, channel, y, x)``, units ``K``; coordinates ``channel`` (names),
        ``freq_ghz``, ``pol``, ``fwhm_km``.

    Raises
    ------
    ValueError
        On wrong units or mismatched shapes.
    """
    _check_units(rain, UNITS["rain_rate"], "rain")
    channels = get_channels(sensor)
    rng = np.random.default_rng(seed)
    px = float(pixel_km if pixel_km is not None else rain.attrs.get("pixel_km", 2.0))
    r = np.clip(rain.transpose(SAMPLE, Y, X).values.astype(float), 0.0, None)
    lf = env["land_fraction"].transpose(SAMPLE, Y, X).values
    if lf.shape != r.shape:
        raise ValueError(f"environment grid {lf.shape} does not match rain {r.shape}")
    ts = env["surface_temperature"].values[:, None, None]
    wv = env["tcwv"].values[:, None, None]
    h0 = env["freezing_level"].values[:, None, None]
    liquid = liquid_factor * r ** 0.8 * (h0 / 2.3) + 0.05 * (r > 0.05)
    ice = ice_factor * r ** 1.2
    t_ice = ts - 6.5 * (h0 + 4.0) - 60.0
    out = np.empty((r.shape[0], len(channels)) + r.shape[1:], dtype=np.float32)
    for c, ch in enumerate(channels):
        tb = clear_sky_tb(ch, surface_temperature=ts, tcwv=wv, land_fraction=lf, liquid_path=liquid,
                          freezing_level=h0)
        att = np.exp(-_ice_mass_extinction(ch.freq_ghz) * ice)
        tb = tb * att + t_ice * (1.0 - att)
        sigma = ch.fwhm_km / (2.0 * np.sqrt(2.0 * np.log(2.0))) / px
        tb = ndimage.gaussian_filter(tb, sigma=(0, sigma, sigma), mode="reflect")
        if noise:
            tb = tb + rng.normal(0.0, ch.nedt_k, tb.shape)
        out[:, c] = tb
    coords = {CHANNEL: [ch.name for ch in channels], "freq_ghz": (CHANNEL, [ch.freq_ghz for ch in channels]),
              "pol": (CHANNEL, [ch.pol for ch in channels]), "fwhm_km": (CHANNEL, [ch.fwhm_km for ch in channels])}
    for name in (SAMPLE, Y, X):
        if name in rain.coords:
            coords[name] = rain[name].values
    return xr.DataArray(out, dims=(SAMPLE, CHANNEL, Y, X), coords=coords, name="tb",
                        attrs={"units": UNITS["brightness_temperature"], "long_name": "brightness temperature",
                               "sensor": sensor.lower(), "pixel_km": px})
