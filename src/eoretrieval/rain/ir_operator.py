"""IR forward operator: real rain sequences → SEVIRI-like brightness temperatures (10.8, 12.0, 6.2, 7.3, 8.7 µm).

No real SEVIRI brightness temperatures can be shipped with the compendium, so the retrieval is trained and
tested on IR images simulated from real radar rain. The operator keeps the reasons why IR rain retrieval is
*indirect and uncertain* :cite:`kidd2011`:

- **cold convective tops**: the 10.8 µm cloud-top temperature of raining cloud follows the inverse of the
  Auto-Estimator relation :cite:`vicente1998`, with a multiplicative log-normal scatter (the same top can rain
  very differently);
- **lag**: cloud tops cool before the rain peaks; the IR at time *t* sees the rain at *t + lag* (interpolated
  between frames; :func:`frames_ahead` says how many later frames a sequence must carry);
- **non-raining anvils**: cold cirrus spreads tens of km downwind of convective cores where nothing rains
  (and thin anvil edges have a large 10.8-12.0 µm split-window difference :cite:`inoue1987`);
- **warm rain**: part of the light rain falls from shallow, warm clouds that IR cannot tell from clear sky;
- **clear sky** shows the surface temperature; non-raining low/mid clouds cover part of the scene;
- **parallax**: a cloud top of height *h* seen from geostationary orbit at zenith angle θ appears displaced
  poleward by *h tan θ*;
- **instrument noise** of SEVIRI's NEdT.

Water-vapour channels see the upper troposphere (clear sky ≈ 235-255 K) and the tops of deep clouds,
warmer than 10.8 µm over overshooting tops :cite:`schmetz1997`; 8.7 µm is warmer than 10.8 µm over ice and
colder over water clouds and clear sky :cite:`strabala1994`.

The output has the layout of :func:`eoretrieval.io.seviri.read_seviri`, so real SEVIRI data slot in unchanged.

Public names: :class:`IROperatorConfig`, :func:`seviri_ir_operator`, :func:`frames_ahead`,
:func:`auto_estimator_rain`, :func:`auto_estimator_temperature`, :func:`gpi_rain`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import xarray as xr
from scipy import ndimage

from ..errors import DataError
from ..io.seviri import SEVIRI_CHANNELS

__all__ = ["IROperatorConfig", "seviri_ir_operator", "frames_ahead", "auto_estimator_rain",
           "auto_estimator_temperature", "gpi_rain"]

_AE_A, _AE_B, _AE_C = 1.1183e11, 3.6382e-2, 1.2  # Vicente et al. (1998), R = A exp(-B T^C), T in K, R in mm h-1


def auto_estimator_rain(t108: np.ndarray) -> np.ndarray:
    """Auto-Estimator rain rate :math:`R = 1.1183\\times10^{11} \\exp(-3.6382\\times10^{-2} T^{1.2})` (mm h-1).

    Vicente et al. (1998), eq. 1; ``t108`` in K.

    Examples
    --------
    >>> round(float(auto_estimator_rain(np.array(220.0))), 2)
    6.69
    """
    t = np.asarray(t108, dtype=float)
    return _AE_A * np.exp(-_AE_B * t ** _AE_C)


def auto_estimator_temperature(rain: np.ndarray) -> np.ndarray:
    """Inverse of :func:`auto_estimator_rain`: the 10.8 µm temperature (K) of a rain rate (mm h-1 > 0)."""
    r = np.asarray(rain, dtype=float)
    return (np.log(_AE_A / r) / _AE_B) ** (1.0 / _AE_C)


def gpi_rain(t108: np.ndarray, *, threshold: float = 235.0, rate: float = 3.0) -> np.ndarray:
    """GOES Precipitation Index :cite:`arkin1987`: ``rate`` mm h-1 where ``t108 < threshold`` K, else 0."""
    return np.where(np.asarray(t108) < threshold, rate, 0.0)


@dataclass(frozen=True)
class IROperatorConfig:
    """Parameters of :func:`seviri_ir_operator` (defaults: mid-latitude European summer convection).

    Attributes
    ----------
    lag_min : float
        Cloud-top cooling leads the surface rain by this many minutes.
    rain_scatter : float
        Standard deviation of the log-normal factor between rain and the rain the cloud top "shows".
    footprint_px : float
        Gaussian smoothing (pixels) of the rain seen through the cloud top.
    convective_threshold : float
        mm h-1; rain within ``convective_radius_px`` of a rate above this is convective (cold tops).
    convective_radius_px : int
    warm_rain_fraction : float
        Fraction of the non-convective rain area falling from warm (shallow) clouds.
    anvil_px, anvil_shift_px : float
        Anvil spread (Gaussian sigma) and downwind shift, pixels.
    cloud_fraction : float
        Fraction of the non-raining area under non-raining low/mid cloud.
    surface_temperature : float
        Mean clear-sky 10.8 µm temperature, K.
    zenith_deg : float
        Satellite zenith angle (≈ 60° over the Netherlands and central Europe for Meteosat at 0° E).
    lapse_rate : float
        K km-1, converts the cloud-top temperature deficit into a height for the parallax.
    nedt : float
        Instrument noise (K) of the window channels; water-vapour channels get 1.5 times it.
    """

    lag_min: float = 15.0
    rain_scatter: float = 0.6
    footprint_px: float = 1.0
    convective_threshold: float = 5.0
    convective_radius_px: int = 2
    warm_rain_fraction: float = 0.3
    anvil_px: float = 3.0
    anvil_shift_px: float = 3.0
    cloud_fraction: float = 0.3
    surface_temperature: float = 290.0
    zenith_deg: float = 60.0
    lapse_rate: float = 6.5
    nedt: float = 0.15


def _smooth_noise(rng: np.random.Generator, shape, sigma: float) -> np.ndarray:
    """Gaussian-filtered white noise rescaled to zero mean and unit standard deviation."""
    f = ndimage.gaussian_filter(rng.standard_normal(shape), sigma, mode="wrap")
    f = f - f.mean()
    return f / (f.std() + 1e-12)


def _uniformise(f: np.ndarray) -> np.ndarray:
    """Map a field to [0, 1) by rank (a smooth uniform field from smooth Gaussian noise)."""
    ranks = np.argsort(np.argsort(f, axis=None)).reshape(f.shape)
    return ranks / f.size


def _frame_bt(rain_seen: np.ndarray, rain_now: np.ndarray, *, cfg: IROperatorConfig, dx_km: float,
              rng: np.random.Generator, wind: tuple[float, float], background: dict) -> dict[str, np.ndarray]:
    """Brightness temperatures (K) of one frame; inputs ``(y, x)`` mm h-1 without NaN."""
    shape = rain_seen.shape
    rs = ndimage.gaussian_filter(rain_seen, cfg.footprint_px)
    scatter = np.exp(cfg.rain_scatter * _smooth_noise(rng, shape, 1.5))
    r_top = rs * scatter
    raining = (rain_now >= 0.1) | (rs >= 0.1)
    convective = ndimage.maximum_filter(rs, size=2 * cfg.convective_radius_px + 1) >= cfg.convective_threshold
    warm = raining & ~convective & (background["warm_u"] < cfg.warm_rain_fraction)
    # cold tops of raining cloud (inverse Auto-Estimator), clipped to the tropopause and a warm cap
    t_core = np.where(r_top > 0.05, auto_estimator_temperature(np.maximum(r_top, 0.05)), 300.0)
    t_core = np.clip(t_core, 196.0, 300.0)
    t_core = np.where(warm, background["t_warm"], t_core)
    t_core = np.where(raining | (r_top > 0.05), t_core, 300.0)
    # anvils: spread the coldness of convective tops downwind, where it does not rain
    cold = np.clip((250.0 - np.where(convective, t_core, 300.0)) / 50.0, 0.0, 1.0)
    anvil = ndimage.gaussian_filter(cold, cfg.anvil_px) * 2.5
    anvil = ndimage.shift(anvil, wind, order=1, mode="constant")
    anvil = np.clip(anvil, 0.0, 1.0)
    t_anvil = np.where(anvil > 0.08, 258.0 - 36.0 * anvil, 300.0)
    # non-raining low/mid clouds, clear-sky surface
    t_low = np.where(background["cloud_u"] > 1 - cfg.cloud_fraction, background["t_low"], 300.0)
    t_surf = background["t_surf"]
    t108 = np.minimum.reduce([t_surf, t_low, t_core, t_anvil])
    ice = t108 < 240.0
    # parallax: cloud tops appear displaced poleward (+y) by h tan(zenith)
    height_km = np.clip((t_surf - t108) / cfg.lapse_rate, 0.0, 16.0)
    shift_px = height_km * np.tan(np.deg2rad(cfg.zenith_deg)) / dx_km
    shift_px = ndimage.gaussian_filter(shift_px, 1.0)
    yy, xx = np.meshgrid(np.arange(shape[0], dtype=float), np.arange(shape[1], dtype=float), indexing="ij")

    def parallax(field):
        return ndimage.map_coordinates(field, [yy - shift_px, xx], order=1, mode="nearest")

    t108 = parallax(t108)
    anvil_p = parallax(anvil)
    ice = parallax(ice.astype(float)) > 0.5
    clear = t108 > t_surf - 3.0
    # split window: large for thin anvil edges, small for thick cloud, moderate for humid clear sky
    thin = np.clip(anvil_p * (1 - anvil_p) * 4.0, 0.0, 1.0) * (t108 > 215.0)
    btd = 0.4 + 1.5 * clear + 4.0 * thin
    t120 = t108 - btd
    t087 = t108 + np.where(ice, 1.5, -2.0)
    overshoot = np.clip(215.0 - t108, 0.0, 10.0) * 0.3
    t062 = np.minimum(background["t_wv62"], t108 + 1.0) + overshoot
    t073 = np.minimum(background["t_wv73"], t108 + 0.5) + 0.5 * overshoot
    out = {"IR_108": t108, "IR_120": t120, "WV_062": t062, "WV_073": t073, "IR_087": t087}
    for name in out:
        noise = cfg.nedt * (1.5 if name.startswith("WV") else 1.0)
        out[name] = (out[name] + noise * rng.standard_normal(shape)).astype(np.float32)
    return out


def frames_ahead(step_min: float, config: IROperatorConfig | None = None) -> int:
    """How many frames after a time the operator reads to simulate its IR: the cooling lag in time steps, rounded up
    (one for the 15-minute lag at 15-minute steps, three at 5-minute steps, none without a lag).

    Examples
    --------
    >>> frames_ahead(15.0), frames_ahead(5.0), frames_ahead(30.0), frames_ahead(15.0, IROperatorConfig(lag_min=0.0))
    (1, 3, 1, 0)
    """
    cfg = config or IROperatorConfig()
    return int(np.ceil(cfg.lag_min / step_min - 1e-9)) if step_min > 0 else 0


def seviri_ir_operator(rain: xr.DataArray, *, seed: int | np.random.Generator = 0,
                       config: IROperatorConfig | None = None) -> xr.Dataset:
    """Simulate SEVIRI IR brightness temperatures from a rain-rate sequence.

    Parameters
    ----------
    rain : xr.DataArray
        Rain rate, dims ``(time, y, x)`` with ``y`` ascending (north up), units ``mm h-1``, on a regular
        projected grid (``x`` coordinate in m). NaN (outside radar coverage) stays NaN in every channel.
    seed : int or numpy.random.Generator
        Randomness (scatter, warm-rain areas, clouds, surface, wind direction, noise).
    config : IROperatorConfig, optional

    Returns
    -------
    xr.Dataset
        SEVIRI layout: ``IR_108``, ``IR_120``, ``WV_062``, ``WV_073``, ``IR_087`` ``(time, y, x)`` in K
        (see :mod:`eoretrieval.io.seviri`); attrs hold the configuration.

    Raises
    ------
    DataError
        Wrong dims or units, or fewer than 2 grid points along x.

    Examples
    --------
    >>> rain = xr.DataArray(np.zeros((2, 16, 16)), dims=("time", "y", "x"),
    ...                     coords={"x": np.arange(16) * 4000.0}, attrs={"units": "mm h-1"})
    >>> ir = seviri_ir_operator(rain, seed=0)
    >>> sorted(ir.data_vars), ir["IR_108"].attrs["units"]
    (['IR_087', 'IR_108', 'IR_120', 'WV_062', 'WV_073'], 'K')
    >>> 240 < float(ir["IR_108"].min()) and float(ir["IR_108"].max()) < 305  # no rain: clouds and surface
    True
    """
    cfg = config or IROperatorConfig()
    src = str(rain.attrs.get("source_file", rain.name or "rain"))
    if tuple(rain.dims) != ("time", "y", "x"):
        raise DataError(f"{src}: rain must have dims ('time', 'y', 'x'), got {rain.dims}")
    if rain.attrs.get("units") != "mm h-1":
        raise DataError(f"{src}: rain has units {rain.attrs.get('units')!r}; expected 'mm h-1' "
                        "(convert accumulations with eoretrieval.rain.seviri_data.to_rain_rate)")
    if rain.sizes["x"] < 2:
        raise DataError(f"{src}: need at least 2 grid points along x")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    dx_km = abs(float(rain.x[1] - rain.x[0])) / 1000.0
    values = np.asarray(rain.values, dtype=float)
    missing = ~np.isfinite(values)
    values = np.where(missing, 0.0, np.maximum(values, 0.0))
    nt, ny, nx = values.shape
    if nt > 1 and "time" in rain.coords and np.issubdtype(rain.time.dtype, np.datetime64):
        step_min = float(np.median(np.diff(rain.time.values)) / np.timedelta64(1, "m"))
    else:
        step_min = float(rain.attrs.get("time_step_min", 15.0))
    lead = cfg.lag_min / step_min if step_min > 0 else 0.0  # the lag in time steps
    k_lead, w = int(np.floor(lead)), lead - np.floor(lead)
    # scene background (constant over the sequence, as the weather regime is)
    shape = (ny, nx)
    direction = rng.uniform(0, 2 * np.pi)
    wind = (cfg.anvil_shift_px * np.sin(direction), cfg.anvil_shift_px * np.cos(direction))
    background = {
        "warm_u": _uniformise(_smooth_noise(rng, shape, 6.0)),
        "t_warm": 268.0 + 5.0 * _smooth_noise(rng, shape, 4.0),
        "cloud_u": _uniformise(_smooth_noise(rng, shape, 5.0)),
        "t_low": 262.0 + 7.0 * _smooth_noise(rng, shape, 5.0),
        "t_surf": cfg.surface_temperature + 3.0 * _smooth_noise(rng, shape, 12.0),
        "t_wv62": 238.0 + 3.0 * _smooth_noise(rng, shape, 8.0),
        "t_wv73": 254.0 + 3.0 * _smooth_noise(rng, shape, 8.0),
    }
    frames = {name: np.empty((nt, ny, nx), dtype=np.float32) for name in SEVIRI_CHANNELS}
    for k in range(nt):
        # the rain at t + lag, interpolated between the frames around it (the last frame past the sequence's end)
        seen = (1 - w) * values[min(k + k_lead, nt - 1)] + w * values[min(k + k_lead + 1, nt - 1)]
        bts = _frame_bt(seen, values[k], cfg=cfg, dx_km=dx_km, rng=rng, wind=wind, background=background)
        for name, arr in bts.items():
            frames[name][k] = np.where(missing[k], np.nan, arr)
    coords = {d: rain.coords[d] for d in ("time", "y", "x") if d in rain.coords}
    data = {name: xr.DataArray(frames[name], dims=("time", "y", "x"), coords=coords,
                               attrs={"units": "K", "standard_name": "toa_brightness_temperature",
                                      "long_name": f"simulated SEVIRI {name} brightness temperature",
                                      "wavelength": wl})
            for name, wl in SEVIRI_CHANNELS.items()}
    ds = xr.Dataset(data)
    ds.attrs.update({"source": "eoretrieval.rain.ir_operator.seviri_ir_operator",
                     "operator_config": str(asdict(cfg)), "source_file": src})
    return ds
