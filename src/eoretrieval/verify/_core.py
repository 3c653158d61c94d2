"""The one weighted-mean core of :mod:`eoretrieval.verify`: dims, weights, weighted means and sums, units.

Every metric of the package reduces through these helpers, so ``dim``, ``weights`` and ``skipna`` mean
the same everywhere (xskillscore's signature, WeatherBench 2's latitude weights):

- ``dim``: ``None`` reduces every dimension of the inputs, a name or a sequence of names reduces those
  (an empty sequence reduces nothing); the other dimensions broadcast.
- ``weights``: ``"area"`` (the default of the metrics) means :func:`area_weights` when the data have a
  ``lat`` dimension and equal weights otherwise; ``None`` means equal weights; a DataArray gives the
  weights themselves (non-negative, its dims a subset of the data's, broadcast against them).
- ``skipna``: ``False`` propagates NaN (one NaN among the reduced values gives NaN); ``True`` drops
  the missing values, or the missing *pairs* when a metric compares two fields (the pair's weight is
  set to 0, so every mean of one metric uses the same pairs).

Public names: :func:`resolve_dims`, :func:`resolve_weights`, :func:`pair_weights`, :func:`weighted_mean`,
:func:`weighted_sum`, :func:`area_weights`, :func:`safe_ratio`, :func:`with_units`, :func:`power_units`,
:func:`check_ensemble`, :func:`check_units`, :func:`as_coord`, :data:`Dim`, :data:`Weights`.

References
----------
:cite:`rasp2024` (latitude weights of WeatherBench 2).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Literal, Union

import numpy as np
import xarray as xr

from ..conventions import LAT

__all__ = ["Dim", "Weights", "resolve_dims", "resolve_weights", "pair_weights", "weighted_mean", "weighted_sum",
           "area_weights", "with_units", "safe_ratio", "power_units",
           "check_ensemble", "check_units", "as_coord"]

#: Dimensions to reduce: one name, several, or ``None`` (all).
Dim = Union[Hashable, Sequence[Hashable], None]
#: Weights of a mean: a DataArray, ``"area"`` (cos-latitude when there is a ``lat`` dim) or ``None`` (equal).
Weights = Union[xr.DataArray, Literal["area"], None]


def resolve_dims(*arrays: xr.DataArray, dim: Dim = None) -> list[Hashable]:
    """Return the list of dimensions that ``dim`` names, checking that each exists in ``arrays``.

    Parameters
    ----------
    *arrays : xr.DataArray
        The inputs of a metric.
    dim : str or sequence of str or None
        ``None``: the union of the dims of ``arrays`` (in order of appearance).

    Raises
    ------
    ValueError
        If a named dimension is in none of ``arrays`` (the message lists the dims found).

    Examples
    --------
    >>> a = xr.DataArray(np.zeros((2, 3)), dims=("time", "x"))
    >>> resolve_dims(a), resolve_dims(a, dim="x"), resolve_dims(a, dim=())
    (['time', 'x'], ['x'], [])
    """
    present = list(dict.fromkeys(d for a in arrays for d in a.dims))
    if dim is None:
        return present
    dims = [dim] if isinstance(dim, str) or not isinstance(dim, Sequence) else list(dim)
    missing = [d for d in dims if d not in present]
    if missing:
        raise ValueError(f"cannot reduce over {missing}: not a dimension of the inputs (dims {present})")
    return dims


def area_weights(da: xr.DataArray | xr.Dataset, *, lat: str = LAT) -> xr.DataArray:
    """Cell-area weights of a regular latitude–longitude grid, cos(latitude), normalised to mean 1.

    .. math:: w_j = \\frac{\\cos\\varphi_j}{\\frac1{n}\\sum_{k=1}^{n}\\cos\\varphi_k}

    over the ``n`` latitudes present. On a regular grid this is proportional to WeatherBench 2's
    ``get_lat_weights`` (the cosine integrated over the cell), so weighted means are the same.

    Parameters
    ----------
    da : xr.DataArray or xr.Dataset
        Data with a ``lat`` coordinate in degrees north (1-D, or 2-D on a curvilinear grid).
    lat : str
        Name of the latitude coordinate.

    Returns
    -------
    xr.DataArray
        Weights on the dims of the ``lat`` coordinate (broadcast them against the data as needed);
        dimensionless, units ``"1"``, mean 1.

    Raises
    ------
    ValueError
        If there is no ``lat`` coordinate or a latitude is outside [-90, 90].

    References
    ----------
    :cite:`rasp2024`

    Examples
    --------
    >>> a = xr.DataArray(np.zeros((2, 3)), dims=("lat", "lon"), coords={"lat": [0.0, 60.0]})
    >>> area_weights(a).values.round(4).tolist()
    [1.3333, 0.6667]
    """
    if lat not in da.coords:
        raise ValueError(f"area weights need a {lat!r} coordinate (degrees north); found coords {list(da.coords)}")
    phi = da[lat]
    if bool((abs(phi) > 90.0).any()):
        raise ValueError(f"coordinate {lat!r} has values outside [-90, 90] degrees north")
    w = np.cos(np.deg2rad(phi))
    w = (w / w.mean()).reset_coords(drop=True).rename("area_weights")
    w.attrs = {"units": "1", "long_name": "cell-area weights, cos(latitude) normalised to mean 1"}
    return w


def resolve_weights(data: xr.DataArray, weights: Weights) -> xr.DataArray | None:
    """Turn the ``weights`` argument of a metric into a DataArray or ``None`` (equal weights).

    ``"area"`` gives :func:`area_weights` when ``data`` has a ``lat`` *dimension*, else ``None``;
    cos(latitude) only changes a mean that runs over ``lat``.

    Raises
    ------
    ValueError
        If ``weights`` is another string, has dims that ``data`` lacks, or has negative values.
    """
    if weights is None:
        return None
    if isinstance(weights, str):
        if weights != "area":
            raise ValueError(f"weights must be a DataArray, 'area' or None; got {weights!r}")
        if LAT not in data.dims:
            return None
        if LAT not in data.coords:
            raise ValueError(f"weights='area' needs a {LAT!r} coordinate (degrees north) on the {LAT!r} dim; "
                             "add it, or pass weights=None for equal weights")
        return area_weights(data)
    extra = set(weights.dims) - set(data.dims)
    if extra:
        raise ValueError(f"weights have dims {sorted(map(str, extra))} that the data (dims {data.dims}) lack")
    if bool((weights < 0).any()):
        raise ValueError("weights must be non-negative")
    return weights


def pair_weights(pred: xr.DataArray, truth: xr.DataArray, weights: Weights = "area", *,
                 skipna: bool = False) -> xr.DataArray:
    """Weights of the pairs ``(pred, truth)``, broadcast to both, zero at missing pairs when ``skipna``.

    Means of one metric taken with these weights all use the same pairs (a pair with a NaN on
    either side is dropped from every one of them).

    Returns
    -------
    xr.DataArray
        Float weights with the broadcast dims of ``pred`` and ``truth``.
    """
    template = truth if set(pred.dims) <= set(truth.dims) else xr.broadcast(pred, truth)[1]
    w = resolve_weights(template, weights)
    w = xr.ones_like(template, dtype=float) if w is None else w.broadcast_like(template).astype(float)
    # where() also copies a broadcast view into a contiguous array: sums then run in the same order as before
    valid = pred.notnull() & truth.notnull() if skipna else xr.ones_like(template, dtype=bool)
    return w.where(valid, 0.0)


def _weights_for(field: xr.DataArray, weights) -> xr.DataArray:
    w = resolve_weights(field, weights)
    return xr.ones_like(field, dtype=float) if w is None else w.broadcast_like(field).astype(float)


def weighted_sum(field: xr.DataArray, *, dim: Dim = None, weights: Weights = None,
                 skipna: bool = False) -> xr.DataArray:
    """Weighted sum :math:`\\sum_i w_i x_i` over ``dim`` (NaN semantics as in :func:`weighted_mean`)."""
    dims = resolve_dims(field, dim=dim)
    w = _weights_for(field, weights)
    if skipna:
        w = w.where(field.notnull(), 0.0)
        return (field.where(w > 0, 0.0) * w).sum(dims)
    return (field * w).sum(dims, skipna=False)


def weighted_mean(field: xr.DataArray, *, dim: Dim = None, weights: Weights = None,
                  skipna: bool = False) -> xr.DataArray:
    """Weighted mean of ``field`` over ``dim``.

    .. math:: \\bar x = \\frac{\\sum_i w_i x_i}{\\sum_i w_i}

    Parameters
    ----------
    field : xr.DataArray
        Values to average, any units.
    dim : str or sequence of str or None
        Dimensions to reduce; all if None.
    weights : xr.DataArray or "area" or None
        Non-negative weights whose dims are a subset of ``field``'s; ``"area"``: :func:`area_weights`
        when ``field`` has a ``lat`` dim; ``None``: equal weights.
    skipna : bool
        ``True``: NaN values get weight 0 (dropped); ``False``: a NaN gives a NaN mean.

    Returns
    -------
    xr.DataArray
        Mean with ``dim`` reduced (NaN where the weights sum to 0); attrs are not kept.

    Examples
    --------
    >>> x = xr.DataArray([1.0, 3.0, np.nan], dims="x")
    >>> float(weighted_mean(x, weights=xr.DataArray([1.0, 3.0, 1.0], dims="x"), skipna=True))
    2.5
    >>> bool(np.isnan(weighted_mean(x)))
    True
    """
    dims = resolve_dims(field, dim=dim)
    w = _weights_for(field, weights)
    if skipna:
        w = w.where(field.notnull(), 0.0)
        num = (field.where(w > 0, 0.0) * w).sum(dims)
    else:
        num = (field * w).sum(dims, skipna=False)
    return safe_ratio(num, w.sum(dims))


def safe_ratio(num: xr.DataArray, den: xr.DataArray) -> xr.DataArray:
    """``num / den`` with NaN (and no floating-point warning) where ``den`` is 0."""
    return num / den.where(den != 0)


def with_units(result: xr.DataArray, name: str, units: str, long_name: str | None = None,
               **attrs) -> xr.DataArray:
    """Name ``result`` and set its attrs to ``units`` and ``long_name`` (xarray drops attrs in arithmetic).

    Examples
    --------
    >>> with_units(xr.DataArray(1.0), "rmse", "K").attrs
    {'units': 'K', 'long_name': 'rmse'}
    """
    result = result.rename(name)
    result.attrs = {"units": units, "long_name": long_name or name, **attrs}
    return result


def power_units(units: str, power: int) -> str:
    """Units raised to ``power`` (``"K"``, 2 -> ``"(K)^2"``); empty stays empty."""
    if not units or power == 1:
        return units
    return f"({units})^{power}"


def check_ensemble(pred: xr.DataArray, member_dim: str) -> int:
    """Return the number of members of the ensemble ``pred``.

    Raises
    ------
    ValueError
        If ``pred`` has no ``member_dim`` dimension or fewer than 2 members.
    """
    if member_dim not in pred.dims:
        raise ValueError(f"ensemble 'pred' has dims {pred.dims}; expected a {member_dim!r} dimension")
    n = pred.sizes[member_dim]
    if n < 2:
        raise ValueError(f"ensemble 'pred' has {n} member(s) along {member_dim!r}; expected at least 2")
    return n


def check_units(units: str | None, *arrays: xr.DataArray, what: str = "threshold") -> None:
    """Check that every array with a ``units`` attr has ``units`` (skipped when ``units`` is None).

    Raises
    ------
    ValueError
        Naming the array, the units found and the units expected.
    """
    if units is None:
        return
    for a in arrays:
        found = a.attrs.get("units")
        if found is not None and found != units:
            raise ValueError(f"{a.name or 'input'}: units {found!r}, expected {units!r} (the units of the {what})")


def as_coord(values, name: str, units: str = "", dtype=float) -> tuple[xr.DataArray, bool]:
    """A scalar or sequence of parameters as a DataArray on dim ``name``; also whether it was a scalar."""
    arr = np.asarray(values)
    if dtype is int and not (np.issubdtype(arr.dtype, np.number) and np.all(np.mod(arr, 1) == 0)):
        raise ValueError(f"{name} must be integers, got {values!r}")
    arr = arr.astype(dtype)
    scalar = arr.ndim == 0
    arr = np.atleast_1d(arr)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a number or a non-empty 1-D sequence, got {values!r}")
    da = xr.DataArray(arr, dims=name, coords={name: arr})
    da[name].attrs["units"] = units
    return da, scalar
