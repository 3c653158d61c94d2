"""Turn a NOx OSSE world into normalised network tensors, and network outputs back into emission maps.

Inputs (channels of ``cond``, ``(time, channel, lat, lon)``) are built from what a retrieval would have:
the TROPOMI-like NO2 column (gaps filled with 0 after normalisation) and its validity mask, the previous
day's column and mask, the winds ``u``, ``v``, the NOx lifetime proxy, and optionally the prior emission
inventory and the calendar (day of year, weekend). The target ``x1`` is the emission map, scaled
(``"linear"``) or compressed (``"asinh"``). Normalisation statistics are computed on TRAINING days only
and saved as JSON next to the weights.

The statistics are a generic :class:`~eoretrieval.nets.normalisation.Normalisation`.

Public names: :data:`DEFAULT_CHANNELS`,
:func:`compute_normalisation`, :func:`make_inputs`, :func:`make_targets`, :func:`decode_targets`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
import xarray as xr

from ..conventions import LAT, LON, MEMBER, TIME
from ..errors import DataError
from ..nets.normalisation import Normalisation
from .world import split_days

__all__ = ["DEFAULT_CHANNELS", "ALL_CHANNELS", "compute_normalisation",
           "make_inputs", "make_targets", "decode_targets", "REQUIRED_VARIABLES", "ScaleAugment"]

#: Every input channel this module knows how to build.
ALL_CHANNELS = ("no2", "valid", "no2_prev", "valid_prev", "u", "v", "lifetime", "prior",
                "doy_sin", "doy_cos", "weekend")
#: Default input channels.
DEFAULT_CHANNELS = ("no2", "valid", "no2_prev", "valid_prev", "u", "v", "lifetime", "prior",
                    "doy_sin", "doy_cos", "weekend")
#: Variables a world must hold for :func:`make_inputs` and :func:`make_targets`.
REQUIRED_VARIABLES = ("emission", "no2_column", "valid", "u", "v", "lifetime")

# channel -> world variable whose mean/std normalise it (None: not normalised)
_SOURCE = {"no2": "no2_column", "no2_prev": "no2_column", "u": "u", "v": "v", "lifetime": "lifetime",
           "prior": "prior_emission"}


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


def compute_normalisation(world: xr.Dataset, *, days=None, channels=DEFAULT_CHANNELS,
                          target_transform: str = "linear") -> Normalisation:
    """Compute input offsets/scales and the target scale on ``days`` (default: the training split).

    The NO2 statistics use valid (cloud-free) pixels only; the target scale is the standard deviation of the
    training emissions (``linear``) or their 90th percentile (``asinh``: linear below, logarithmic above).

    Raises
    ------
    DataError
        If a needed variable is missing. ValueError for an unknown channel or transform.
    """
    _check(world, REQUIRED_VARIABLES)
    unknown = [c for c in channels if c not in ALL_CHANNELS]
    if unknown:
        raise ValueError(f"unknown input channels {unknown}; valid: {list(ALL_CHANNELS)}")
    if target_transform not in ("linear", "asinh"):
        raise ValueError(f"unknown target_transform {target_transform!r}; valid: 'linear', 'asinh'")
    if "prior" in channels:
        _check(world, ("prior_emission",))
    days = split_days(world, "train") if days is None else pd.DatetimeIndex(days)
    sub = world.sel({TIME: days})
    offset, scale = {}, {}
    for ch in channels:
        src = _SOURCE.get(ch)
        if src is None or src in offset:
            continue
        vals = _field(sub, src).values
        if src == "no2_column":
            vals = vals[_field(sub, "valid").values > 0.5]
        vals = vals[np.isfinite(vals)]
        if vals.size == 0:
            raise DataError(f"NOx world: variable {src!r} has no finite values on the training days")
        if src == "prior_emission":   # same scale as the target, no offset
            offset[src], scale[src] = 0.0, float(np.std(_field(sub, "emission").values))
        else:
            offset[src], scale[src] = float(np.mean(vals)), float(np.std(vals) or 1.0)
    emis = sub["emission"].values
    tscale = float(np.std(emis)) if target_transform == "linear" else float(np.percentile(emis, 90))
    return Normalisation(channels=list(channels), offset=offset, scale=scale, target_transform=target_transform,
                            target_scale=tscale or 1.0, target_units=world["emission"].attrs.get("units", ""),
                            train_period=f"{days.min():%Y-%m-%d}/{days.max():%Y-%m-%d}")


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
    _check(world, REQUIRED_VARIABLES)
    days = pd.DatetimeIndex(days)
    no2 = _field(world, "no2_column")
    valid = (_field(world, "valid") > 0.5) & no2.notnull()
    built: dict[str, xr.DataArray] = {}

    def normed(src, da):
        return (da - norm.offset[src]) / norm.scale[src]

    no2n = normed("no2_column", no2).where(valid, 0.0)
    built["no2"] = no2n
    built["valid"] = valid.astype(np.float64)
    built["no2_prev"] = no2n.shift({TIME: 1}, fill_value=0.0)
    built["valid_prev"] = built["valid"].shift({TIME: 1}, fill_value=0.0)
    arrays = []
    for ch in norm.channels:
        if ch in built:
            arr = built[ch].sel({TIME: days}).values
        elif ch in ("u", "v", "lifetime"):
            arr = normed(ch, _field(world, ch).sel({TIME: days})).values
        elif ch == "prior":
            _check(world, ("prior_emission",))
            arr = normed("prior_emission", _field(world, "prior_emission").sel({TIME: days})).values
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
    return torch.from_numpy(norm.forward_target(emis)[:, None].astype(np.float32))


def decode_targets(y: torch.Tensor | np.ndarray, norm: Normalisation, template: xr.DataArray,
                   *, name: str = "emission") -> xr.DataArray:
    """Network output → labelled emission map in ``norm.target_units``.

    Parameters
    ----------
    y : tensor or array
        ``(time, 1, lat, lon)`` or ``(member, time, 1, lat, lon)``.
    template : xr.DataArray
        ``(time, lat, lon)`` array whose coordinates label the result (e.g. ``world.emission.sel(time=days)``).

    Returns
    -------
    xr.DataArray
        dims ``(time, lat, lon)`` or ``(member, time, lat, lon)``, ``attrs["units"]`` set.
    """
    arr = y.detach().cpu().numpy() if isinstance(y, torch.Tensor) else np.asarray(y)
    arr = norm.inverse_target(arr[..., 0, :, :])
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
    the training-period climatology, which is what recovering a multi-year trend needs. The prior channel
    is left unscaled on purpose.

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
        self._no2 = [norm.channels.index(c) for c in ("no2", "no2_prev") if c in norm.channels]
        self._valid = [norm.channels.index(c) for c in ("valid", "valid_prev") if c in norm.channels]

    def __call__(self, x1: torch.Tensor, cond: torch.Tensor, generator: torch.Generator | None = None):
        s = self.low + (self.high - self.low) * torch.rand(len(x1), 1, 1, generator=generator)
        cond = cond.clone()
        off, sc = self.norm.offset["no2_column"], self.norm.scale["no2_column"]
        b = (self.background - off) / sc          # background in normalised units
        for ch, vch in zip(self._no2, self._valid):
            scaled = b + s * (cond[:, ch] - b)
            cond[:, ch] = torch.where(cond[:, vch] > 0.5, scaled, cond[:, ch])
        if self.norm.target_transform == "asinh":
            x1 = torch.asinh(s[:, None] * torch.sinh(x1))
        else:
            x1 = s[:, None] * x1
        return x1, cond
