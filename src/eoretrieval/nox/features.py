"""Turn a NOx OSSE world into normalised network tensors, and network outputs back into emission maps.

Inputs (channels of ``cond``, ``(time, channel, lat, lon)``) are built from what a retrieval would have:
the TROPOMI-like NO2 column (gaps filled with 0 after normalisation) and its validity mask, the previous
day's column and mask, the winds ``u``, ``v``, the NOx lifetime proxy, and optionally the prior emission
inventory, the flux-divergence estimate of the day (:func:`~eoretrieval.nox.flux_divergence.flux_divergence_world`)
and the calendar (day of year, weekend). The ``*_7d`` channels are trailing means over the day and the
:data:`WINDOW_DAYS` - 1 days before it (what an operational system has at the end of a day): the column over
its observed days, the fraction of days observed, and the flux divergence; emissions persist from day to
day, so a week of observations pins down a world's sources better than one cloudy, noisy day. The target ``x1`` is the emission map, scaled
(``"linear"``) or compressed (``"asinh"``). Normalisation statistics are computed on the TRAINING worlds'
days only and saved as JSON next to the weights.

Scale-invariant formulation (``scale_invariant=True``)
------------------------------------------------------
Transport and chemistry are linear in the emissions, so a scene whose emissions are all multiplied by
``a`` has a column excess over the background multiplied by ``a``. The network is made blind to the overall
level: each day's scene scale :math:`S = \\kappa\\,\\overline{(\\mathrm{NO_2} - b)^+}` (the mean positive column
excess over the cells observed that day or the day before, times a constant :math:`\\kappa` in s-1 fitted on
the training days so that :math:`S` is in emission units) divides the NO2 channels, the flux-divergence
channel, the prior channel and the target; the predicted pattern is multiplied back by :math:`S`. The level
of the estimate then comes from the observed columns of that day, and a trend or a lockdown in a test world is
inherited from the observations. One channel can still carry a level: ``prior`` divided by :math:`S` is large
where the observed scene is weak against the prior, and a network trained on many worlds learns to pull its
estimate toward the prior's level (shrinkage: measured on study 1's test worlds, the monthly-total ratio of a
network with this channel fell with the world's level relative to the training worlds). The ``prior_pattern``
channel (the prior map over its own domain mean each day) gives where sources are without how much.

Public names: :data:`DEFAULT_CHANNELS`, :data:`WINDOW_DAYS`, :func:`history_days`, :func:`compute_normalisation`,
:func:`make_inputs`, :func:`make_targets`, :func:`decode_targets`, :func:`scene_scale`, :class:`ScaleAugment`,
:class:`FlipAugment`.

The statistics are a generic :class:`~eoretrieval.nets.normalisation.Normalisation`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
import xarray as xr

from ..conventions import LAT, LON, MEMBER, TIME
from ..errors import DataError
from ..nets.normalisation import Normalisation
from ._common import trailing_mean
from .world import split_days

__all__ = ["DEFAULT_CHANNELS", "ALL_CHANNELS", "WINDOW_DAYS", "history_days", "compute_normalisation",
           "scene_scale",
           "make_inputs", "make_targets", "decode_targets", "REQUIRED_VARIABLES", "ScaleAugment", "FlipAugment"]

#: Every input channel this module knows how to build.
ALL_CHANNELS = ("no2", "valid", "no2_prev", "valid_prev", "u", "v", "lifetime", "prior", "fluxdiv",
                "doy_sin", "doy_cos", "weekend", "no2_7d", "valid_7d", "fluxdiv_7d", "prior_pattern")
#: Length of the trailing window of the ``*_7d`` channels (the day itself and the days before it).
WINDOW_DAYS = 7
#: Default input channels.
DEFAULT_CHANNELS = ("no2", "valid", "no2_prev", "valid_prev", "u", "v", "lifetime", "prior", "fluxdiv",
                    "doy_sin", "doy_cos", "weekend", "no2_7d", "valid_7d", "fluxdiv_7d")
#: Variables a world must hold for :func:`make_inputs` and :func:`make_targets`.
REQUIRED_VARIABLES = ("emission", "no2_column", "valid", "u", "v", "lifetime")
#: Variables :func:`make_inputs` needs (real-data inputs have no true ``emission``).
INPUT_VARIABLES = ("no2_column", "valid", "u", "v", "lifetime")

# channel -> world variable whose mean/std normalise it (None: not normalised)
_SOURCE = {"no2": "no2_column", "no2_prev": "no2_column", "no2_7d": "no2_column", "u": "u", "v": "v",
           "lifetime": "lifetime", "prior": "prior_emission", "fluxdiv": "prior_emission",
           "fluxdiv_7d": "prior_emission"}


def history_days(channels) -> int:
    """How many days before an estimated day its inputs need (0, 1 for ``*_prev``, ``WINDOW_DAYS - 1`` for ``*_7d``)."""
    channels = list(channels)
    if any(c.endswith("_7d") for c in channels):
        return WINDOW_DAYS - 1
    return 1 if any(c.endswith("_prev") for c in channels) else 0


def _background(world: xr.Dataset) -> float:
    return float(world.attrs.get("no2_background_mol_m2", world.attrs.get("no2_background", 0.0)))


def _excess(world: xr.Dataset) -> tuple[xr.DataArray, xr.DataArray]:
    """Positive NO2 column excess over the background (0 where not observed) and the validity mask."""
    no2 = _field(world, "no2_column")
    valid = (_field(world, "valid") > 0.5) & no2.notnull()
    return (no2 - _background(world)).clip(min=0.0).where(valid, 0.0), valid


def _raw_scale(world: xr.Dataset, days) -> np.ndarray:
    """Mean positive column excess (mol m-2) over the cells observed on each day or the day before."""
    exc, valid = _excess(world)
    tot = exc + exc.shift({TIME: 1}, fill_value=0.0)
    n = valid.astype(float) + valid.shift({TIME: 1}, fill_value=False).astype(float)
    s = tot.sum((LAT, LON)) / n.sum((LAT, LON)).clip(min=1.0)
    return s.sel({TIME: pd.DatetimeIndex(days)}).values.astype(np.float64)


def scene_scale(world: xr.Dataset, days, norm: Normalisation) -> np.ndarray:
    """The scene scale :math:`S` (emission units) of each day, for a scale-invariant ``norm``; ones otherwise.

    :math:`S = \\kappa\\max(\\bar e, 0.05\\,\\bar e_{train})` with :math:`\\bar e` the day's mean positive
    column excess (see the module text) and :math:`\\kappa`, :math:`\\bar e_{train}` from ``norm.extra``.
    """
    if not norm.extra.get("scale_invariant"):
        return np.ones(len(pd.DatetimeIndex(days)))
    kappa, median = norm.extra["kappa_s-1"], norm.extra["median_excess_mol_m2"]
    return kappa * np.maximum(_raw_scale(world, days), 0.05 * median)


def _fluxdiv_fields(world: xr.Dataset, days, *, window: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """The flux divergence of ``days`` and (``window``) its trailing :data:`WINDOW_DAYS`-day mean, from one
    computation over the days needed (:func:`~eoretrieval.nox.flux_divergence.flux_divergence_trailing`)."""
    from .flux_divergence import flux_divergence_trailing, flux_divergence_world

    def arr(da):
        return np.nan_to_num(da.transpose(TIME, LAT, LON).values.astype(np.float64))

    if not window:
        return arr(flux_divergence_world(world, pd.DatetimeIndex(days))), None
    mean, today = flux_divergence_trailing(world, days, window=WINDOW_DAYS, return_daily=True)
    return arr(today), arr(mean)


def _check(world: xr.Dataset, names) -> None:
    name = world.attrs.get("title", "NOx world")
    missing = [v for v in names if v not in world]
    if missing:
        raise DataError(f"{name}: dataset lacks variables {missing}; expected {list(names)} "
                        f"(make it with eoretrieval.nox.make_nox_world)")


def _field(world: xr.Dataset, name: str) -> xr.DataArray:
    """World variable broadcast to (time, lat, lon), float64."""
    da = world[name].astype(np.float64)
    template = world["no2_column"]
    return da.broadcast_like(template).transpose(TIME, LAT, LON)


def compute_normalisation(worlds, *, days=None, channels=DEFAULT_CHANNELS, target_transform: str = "linear",
                          scale_invariant: bool = False) -> Normalisation:
    """Compute input offsets/scales and the target scale on ``days`` (default: each world's training split).

    ``worlds`` is one NOx world or a sequence of them (the statistics pool every world's training days).
    The NO2 statistics use valid (cloud-free) pixels only; the target scale is the standard deviation of the
    training emissions (``linear``) or their 90th percentile (``asinh``: linear below, logarithmic above).
    With ``scale_invariant`` the constants of :func:`scene_scale` are fitted too (``norm.extra``) and the
    target statistics are those of the scaled emissions.

    Raises
    ------
    DataError
        If a needed variable is missing. ValueError for an unknown channel or transform.
    """
    worlds = [worlds] if isinstance(worlds, xr.Dataset) else list(worlds)
    unknown = [c for c in channels if c not in ALL_CHANNELS]
    if unknown:
        raise ValueError(f"unknown input channels {unknown}; valid: {list(ALL_CHANNELS)}")
    if target_transform not in ("linear", "asinh"):
        raise ValueError(f"unknown target_transform {target_transform!r}; valid: 'linear', 'asinh'")
    pooled: dict[str, list] = {}
    emis, kappas, excess, first, last = [], [], [], [], []
    for world in worlds:
        _check(world, REQUIRED_VARIABLES)
        if {"prior", "fluxdiv", "fluxdiv_7d", "prior_pattern"} & set(channels):
            _check(world, ("prior_emission",))
        wd = split_days(world, "train") if days is None else pd.DatetimeIndex(days)
        first.append(wd.min())
        last.append(wd.max())
        sub = world.sel({TIME: wd})
        for ch in channels:
            src = _SOURCE.get(ch)
            if src is None or src == "prior_emission":
                continue
            vals = _field(sub, src).values
            if src == "no2_column":
                vals = vals[_field(sub, "valid").values > 0.5]
            pooled.setdefault(src, []).append(vals[np.isfinite(vals)])
        e = sub["emission"].values.astype(np.float64)
        if scale_invariant:
            raw = _raw_scale(world, wd)
            ok = raw > 0
            kappas.append(e.mean(axis=(1, 2))[ok] / raw[ok])
            excess.append(raw[ok])
        emis.append(e)
    offset, scale = {}, {}
    for src, parts in pooled.items():
        vals = np.concatenate(parts)
        if vals.size == 0:
            raise DataError(f"NOx world: variable {src!r} has no finite values on the training days")
        offset[src], scale[src] = float(np.mean(vals)), float(np.std(vals) or 1.0)
    extra = {}
    if scale_invariant:
        extra = {"scale_invariant": True, "kappa_s-1": float(np.median(np.concatenate(kappas))),
                 "median_excess_mol_m2": float(np.median(np.concatenate(excess)))}
    norm = Normalisation(channels=list(channels), offset=offset, scale=scale, target_transform=target_transform,
                         target_units=worlds[0]["emission"].attrs.get("units", ""), extra=extra,
                         train_period=f"{min(first):%Y-%m-%d}/{max(last):%Y-%m-%d}")
    if scale_invariant:
        for i, world in enumerate(worlds):
            wd = split_days(world, "train") if days is None else pd.DatetimeIndex(days)
            emis[i] = emis[i] / scene_scale(world, wd, norm)[:, None, None]
    e = np.concatenate([x.ravel() for x in emis])
    if {"prior", "fluxdiv", "fluxdiv_7d"} & set(channels):   # same scale as the target, no offset
        offset["prior_emission"], scale["prior_emission"] = 0.0, float(np.std(e)) or 1.0
    norm.target_scale = (float(np.std(e)) if target_transform == "linear" else float(np.percentile(e, 90))) or 1.0
    return norm


def make_inputs(world: xr.Dataset, days, norm: Normalisation) -> torch.Tensor:
    """Network condition tensor ``(len(days), n_channels, lat, lon)`` (float32) for ``days`` of ``world``.

    Gaps (cloudy or NaN pixels) of the NO2 column are set to 0 after normalisation and flagged by the
    ``valid`` channel. The previous day's column comes from the day before in ``world`` (invalid for
    the first day of the world).

    Raises
    ------
    DataError
        If a needed variable is missing from ``world``.
    """
    _check(world, INPUT_VARIABLES)
    days = pd.DatetimeIndex(days)
    no2 = _field(world, "no2_column")
    valid = (_field(world, "valid") > 0.5) & no2.notnull()
    invariant = bool(norm.extra.get("scale_invariant"))
    S = scene_scale(world, days, norm)
    built: dict[str, xr.DataArray] = {}

    def normed(src, da):
        return (da - norm.offset[src]) / norm.scale[src]

    if invariant:   # column excess in units of the day's scene scale (the same S for today and yesterday)
        exc, _ = _excess(world)
        s_all = xr.DataArray(np.full(world.sizes[TIME], np.nan), dims=TIME, coords={TIME: world[TIME]})
        s_all.loc[{TIME: days}] = S / norm.extra["kappa_s-1"]
        no2n = exc
    else:
        no2n = normed("no2_column", no2).where(valid, 0.0)
    built["no2"] = no2n
    built["valid"] = valid.astype(np.float64)
    built["no2_prev"] = no2n.shift({TIME: 1}, fill_value=0.0)
    built["valid_prev"] = built["valid"].shift({TIME: 1}, fill_value=0.0)
    if "no2_7d" in norm.channels or "valid_7d" in norm.channels:
        mean7, frac7 = trailing_mean(no2n, valid, days, WINDOW_DAYS)
        built["no2_7d"], built["valid_7d"] = mean7.reindex({TIME: world[TIME]}), frac7.reindex({TIME: world[TIME]})
    arrays = []
    for ch in norm.channels:
        if ch in built:
            arr = built[ch].sel({TIME: days}).values
            if invariant and ch in ("no2", "no2_prev", "no2_7d"):
                arr = arr / s_all.sel({TIME: days}).values[:, None, None]
        elif ch in ("u", "v", "lifetime"):
            arr = normed(ch, _field(world, ch).sel({TIME: days})).values
        elif ch in ("prior", "fluxdiv", "fluxdiv_7d"):
            _check(world, ("prior_emission",))
            if ch == "prior":
                raw = _field(world, "prior_emission").sel({TIME: days}).values
            else:
                if "fd" not in built:
                    built["fd"] = _fluxdiv_fields(world, days, window="fluxdiv_7d" in norm.channels)
                raw = built["fd"][0] if ch == "fluxdiv" else built["fd"][1]
            arr = raw / S[:, None, None] / norm.scale["prior_emission"]
        elif ch == "prior_pattern":   # the prior's map over its own domain mean: where, never how much
            _check(world, ("prior_emission",))
            raw = _field(world, "prior_emission").sel({TIME: days}).values.astype(np.float64)
            level = np.nanmean(raw, axis=(1, 2))
            if not (np.isfinite(level).all() and (level > 0).all()):
                raise DataError("NOx world: variable 'prior_emission' has a day with no positive mean; expected a "
                                "positive prior map every day")
            arr = raw / level[:, None, None]
        elif ch in ("doy_sin", "doy_cos", "weekend"):
            doy = days.day_of_year.values / 365.25 * 2 * np.pi
            per_day = {"doy_sin": np.sin(doy), "doy_cos": np.cos(doy),
                       "weekend": (days.day_of_week.values >= 5).astype(float)}[ch]
            arr = np.broadcast_to(per_day[:, None, None], (len(days), world.sizes[LAT], world.sizes[LON]))
        else:  # pragma: no cover - guarded by compute_normalisation
            raise ValueError(f"unknown channel {ch!r}")
        arrays.append(np.asarray(arr, dtype=np.float32))
    out = np.stack(arrays, axis=1)
    return torch.from_numpy(np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0))


def make_targets(world: xr.Dataset, days, norm: Normalisation) -> torch.Tensor:
    """Network target tensor ``(len(days), 1, lat, lon)`` (float32) from ``world["emission"]``."""
    _check(world, ("emission",))
    emis = _field(world, "emission").sel({TIME: pd.DatetimeIndex(days)}).values
    if not np.isfinite(emis).all():
        raise DataError("NOx world: variable 'emission' has non-finite values; expected finite emissions")
    emis = emis / scene_scale(world, days, norm)[:, None, None]
    return torch.from_numpy(norm.forward_target(emis)[:, None].astype(np.float32))


def decode_targets(y: torch.Tensor | np.ndarray, norm: Normalisation, template: xr.DataArray,
                   *, name: str = "emission", scale=None) -> xr.DataArray:
    """Network output → labelled emission map in ``norm.target_units``.

    Parameters
    ----------
    y : tensor or array
        ``(time, 1, lat, lon)`` or ``(member, time, 1, lat, lon)``.
    template : xr.DataArray
        ``(time, lat, lon)`` array whose coordinates label the result (e.g. ``world.emission.sel(time=days)``).
    scale : array, optional
        The days' :func:`scene_scale` (needed for a scale-invariant ``norm``).

    Returns
    -------
    xr.DataArray
        dims ``(time, lat, lon)`` or ``(member, time, lat, lon)``, ``attrs["units"]`` set.
    """
    arr = y.detach().cpu().numpy() if isinstance(y, torch.Tensor) else np.asarray(y)
    arr = norm.inverse_target(arr[..., 0, :, :])
    if norm.extra.get("scale_invariant"):
        if scale is None:
            raise ValueError("a scale-invariant normalisation needs the days' scene_scale to decode")
        arr = arr * np.asarray(scale)[:, None, None]
    template = template.transpose(TIME, LAT, LON)
    coords = {TIME: template[TIME], LAT: template[LAT], LON: template[LON]}
    dims = (TIME, LAT, LON)
    if arr.ndim == 4:
        dims = (MEMBER,) + dims
        coords[MEMBER] = np.arange(arr.shape[0])
    return xr.DataArray(arr, dims=dims, coords=coords, name=name,
                        attrs={"units": norm.target_units, "long_name": "NOx emission (estimated)"})


class ScaleAugment:
    """Training augmentation: scale a sample's emissions and its NO2 columns above background by one factor.

    Transport and chemistry in the OSSE are linear in the emissions, so ``s E`` produces (up to the
    background and the noise) the column ``b + s (c - b)``. Drawing ``s`` uniformly in ``[low, high]`` per
    sample teaches the network to take the magnitude of the emissions from the observed columns, not from
    the training-period climatology, which is what recovering a multi-year trend needs. The flux-divergence
    channel, linear in the column excess, scales too; the prior channel is left unscaled on purpose. (The
    scale-invariant formulation makes this augmentation unnecessary: it is off by default.)

    Parameters
    ----------
    norm : Normalisation
        Statistics of the tensors being augmented.
    low, high : float
        Range of the scale factor.
    background : float
        NO2 background column (units of the world's ``no2_column``) that does not scale.
    """

    def __init__(self, norm: Normalisation, *, low: float = 0.7, high: float = 1.3, background: float = 0.0) -> None:
        self.norm, self.low, self.high, self.background = norm, low, high, background
        pairs = [(c, v) for c, v in (("no2", "valid"), ("no2_prev", "valid_prev"), ("no2_7d", "valid_7d"))
                 if c in norm.channels and v in norm.channels]
        self._no2 = [norm.channels.index(c) for c, _ in pairs]
        self._valid = [norm.channels.index(v) for _, v in pairs]
        self._linear = [norm.channels.index(c) for c in ("fluxdiv", "fluxdiv_7d") if c in norm.channels]

    def __call__(self, x1: torch.Tensor, cond: torch.Tensor, generator: torch.Generator | None = None):
        s = self.low + (self.high - self.low) * torch.rand(len(x1), 1, 1, generator=generator)
        cond = cond.clone()
        off, sc = self.norm.offset["no2_column"], self.norm.scale["no2_column"]
        b = (self.background - off) / sc          # background in normalised units
        for ch, vch in zip(self._no2, self._valid):
            scaled = b + s * (cond[:, ch] - b)
            cond[:, ch] = torch.where(cond[:, vch] > 0, scaled, cond[:, ch])   # valid_7d: a fraction
        for ch in self._linear:   # flux divergence is linear in the column excess
            cond[:, ch] = s * cond[:, ch]
        if self.norm.target_transform == "asinh":
            x1 = torch.asinh(s[:, None] * torch.sinh(x1))
        else:
            x1 = s[:, None] * x1
        return x1, cond


class FlipAugment:
    """Training augmentation: the eight flips and transposes of the square grid, with the winds turned alike.

    A scene flipped north–south is a valid scene (with :math:`v \\to -v`), as is one flipped east–west
    (:math:`u \\to -u`) or transposed (:math:`u \\leftrightarrow v`); only the metric factor of the sphere
    (cos latitude, a few per cent over the domain) is not exact. Seeing every source arrangement in eight
    orientations, the network cannot learn where the training worlds' sources were, only how columns, winds
    and lifetimes relate to emissions. Each sample draws its own transform.

    Parameters
    ----------
    norm : Normalisation
        Statistics of the tensors (the wind channels are turned in physical units, then re-normalised).
    """

    def __init__(self, norm: Normalisation) -> None:
        self.norm = norm
        ch = norm.channels
        self._u = ch.index("u") if "u" in ch else None
        self._v = ch.index("v") if "v" in ch else None

    def _phys(self, x, name):
        src = self.norm.source_of(name) if hasattr(self.norm, "source_of") else name
        return x * self.norm.scale[src] + self.norm.offset[src]

    def _norm(self, x, name):
        src = self.norm.source_of(name) if hasattr(self.norm, "source_of") else name
        return (x - self.norm.offset[src]) / self.norm.scale[src]

    def __call__(self, x1: torch.Tensor, cond: torch.Tensor, generator: torch.Generator | None = None):
        k = torch.randint(0, 8, (len(x1),), generator=generator)
        square = x1.shape[-1] == x1.shape[-2]
        x1, cond = x1.clone(), cond.clone()
        for i in range(len(x1)):
            ki = int(k[i])
            fy, fx, tr = bool(ki & 1), bool(ki & 2), bool(ki & 4) and square
            if not (fy or fx or tr):
                continue
            dims = [d for d, f in ((-2, fy), (-1, fx)) if f]
            a, c = x1[i], cond[i]
            if dims:
                a, c = a.flip(dims), c.flip(dims)
            if tr:
                a, c = a.transpose(-1, -2), c.transpose(-1, -2)
            if self._u is not None and self._v is not None:
                u, v = self._phys(c[self._u], "u"), self._phys(c[self._v], "v")
                if fy:
                    v = -v
                if fx:
                    u = -u
                if tr:
                    u, v = v, u
                c[self._u], c[self._v] = self._norm(u, "u"), self._norm(v, "v")
            x1[i], cond[i] = a.clone(), c.clone()
        return x1, cond
