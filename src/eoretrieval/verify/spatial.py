"""Neighbourhood (spatial) scores: the fractions skill score over scales.

The fractions skill score compares, for every cell, the fraction of the cells of an :math:`s \\times s`
window around it where an event (:math:`x \\ge u`) occurs, in the prediction and in the truth; it
rewards a prediction that puts events at about the right place without the double penalty of a
point-by-point score. Scales and thresholds are given in grid cells and in the units of the data;
:func:`scale_in_cells` turns a length (e.g. km) into an odd window size for a given grid spacing.

Public names: :func:`fss`, :func:`scale_in_cells`.

References
----------
:cite:`roberts2008` (FSS; useful skill when FSS > 0.5 + f/2, f the event frequency),
:cite:`pulkkinen2019` (pysteps ``fss``, the reference implementation of the tests).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
import xarray as xr
from scipy.ndimage import uniform_filter

from ._core import (Dim, Weights, as_coord, check_units, pair_weights, resolve_dims, safe_ratio, weighted_mean,
                    with_units)
from .categorical import Threshold

__all__ = ["fss", "scale_in_cells"]

_BOUNDARIES = ("constant", "reflect", "nearest", "mirror", "wrap")


def scale_in_cells(length: float | Sequence[float], *, spacing: float) -> int | list[int]:
    """Odd window size (in grid cells) closest to ``length`` on a grid of ``spacing``.

    .. math:: s = 2\\,\\mathrm{round}\\left(\\frac{L/\\Delta - 1}{2}\\right) + 1 \\ \\ge 1

    An odd window is centred on its cell (an even ratio, a tie, goes up: 12 km at 3 km gives 5).
    ``length`` and ``spacing`` in the same units (e.g. km).

    Raises
    ------
    ValueError
        If ``spacing`` is not positive or a length is negative.

    Examples
    --------
    >>> scale_in_cells(25.0, spacing=3.0), scale_in_cells([3.0, 10.0, 40.0], spacing=3.0)
    (9, [1, 3, 13])
    """
    if not spacing > 0:
        raise ValueError(f"grid spacing must be positive, got {spacing}")
    lengths = np.atleast_1d(np.asarray(length, dtype=float))
    if (lengths < 0).any():
        raise ValueError(f"lengths must be non-negative, got {length}")
    cells = [max(1, 2 * int(np.floor((v / spacing - 1.0) / 2.0 + 0.5)) + 1) for v in lengths]
    return cells[0] if np.ndim(length) == 0 else cells


def _fractions(field: np.ndarray, threshold: float, scale: int, mode: str) -> np.ndarray:
    """Fraction of events in the ``scale`` x ``scale`` window over the last two axes (NaN propagates)."""
    ind = np.where(np.isnan(field), np.nan, (field >= threshold).astype(float))
    if scale == 1:
        return ind
    size = (1,) * (field.ndim - 2) + (scale, scale)
    return uniform_filter(ind, size=size, mode=mode, cval=0.0)


def fss(pred: xr.DataArray, truth: xr.DataArray, *, threshold: Threshold, scale: int | Sequence[int],
        spatial_dims: tuple[Hashable, Hashable] = ("y", "x"), dim: Dim = None, weights: Weights = "area",
        skipna: bool = False, boundary: str = "constant", units: str | None = None) -> xr.DataArray:
    """Fractions skill score at thresholds and window sizes.

    .. math:: \\mathrm{FSS} = 1 - \\frac{\\sum_i w_i (F_i - O_i)^2}{\\sum_i w_i (F_i^2 + O_i^2)}

    with :math:`F_i, O_i` the fractions of event cells (:math:`x \\ge u`) of ``pred`` and ``truth`` in
    the :math:`s \\times s` window centred on cell :math:`i`, and the sums over all cells of all fields
    pooled along ``dim`` (pysteps' accumulated FSS). 1 is perfect, 0 no overlap at that scale.

    Parameters
    ----------
    pred, truth : xr.DataArray
        Fields with the two ``spatial_dims`` (and any others), aligned exactly, units of ``threshold``.
    threshold : float or sequence of float
        Event threshold(s); a sequence adds a ``threshold`` dim.
    scale : int or sequence of int
        Window size(s) in grid cells (odd for a centred window; 1 is the point-wise score); a sequence
        adds a ``scale`` dim.
    spatial_dims : (str, str)
        The two dims of the window.
    dim : str or sequence of str or None
        Dims pooled in the sums (None: all, spatial ones included; give the spatial dims alone for
        one score per field).
    weights : xr.DataArray or "area" or None
        Weights of the cells in the sums (default: cos latitude when there is a ``lat`` dim).
    skipna : bool
        ``True``: a NaN cell counts as a non-event in the windows and is left out of the sums; ``False``:
        a NaN spreads over its window and gives NaN.
    boundary : {"constant", "reflect", "nearest", "mirror", "wrap"}
        How windows are filled beyond the edge (``scipy.ndimage.uniform_filter`` modes); ``"constant"``
        pads with non-events and divides by the full window, as pysteps does; ``"wrap"`` is periodic.
    units : str, optional
        Units of ``threshold``, checked against the ``units`` attrs of the fields.

    Returns
    -------
    xr.DataArray
        FSS (units ``"1"``) with dims ``(threshold, scale)`` (each only when given as a sequence) and the
        dims not reduced.

    Raises
    ------
    ValueError
        If a spatial dim is missing, a scale is not a positive integer, ``boundary`` is unknown, or the
        units differ from ``units``.

    References
    ----------
    :cite:`roberts2008`

    Examples
    --------
    >>> t = xr.DataArray(np.zeros((5, 5)), dims=("y", "x")); t[2, 2] = 1.0
    >>> p = xr.DataArray(np.zeros((5, 5)), dims=("y", "x")); p[2, 3] = 1.0   # one cell off
    >>> fss(p, t, threshold=0.5, scale=[1, 3]).values.round(4).tolist()
    [0.0, 0.6667]
    """
    pred, truth = xr.align(pred, truth, join="exact")
    check_units(units, pred, truth)
    if any(d not in pred.dims for d in spatial_dims) or len(spatial_dims) != 2:
        raise ValueError(f"fss needs the two spatial dims {tuple(spatial_dims)}; the fields have dims {pred.dims}")
    if boundary not in _BOUNDARIES:
        raise ValueError(f"boundary must be one of {_BOUNDARIES}, got {boundary!r}")
    thr, thr_scalar = as_coord(threshold, "threshold", truth.attrs.get("units", "") if units is None else units)
    scales, scale_scalar = as_coord(scale, "scale", "1", dtype=int)
    if (scales < 1).any():
        raise ValueError(f"scales must be positive integers (grid cells), got {scale!r}")
    dims = resolve_dims(pred, truth, dim=dim)
    order = [d for d in pred.dims if d not in spatial_dims] + list(spatial_dims)
    pred, truth = pred.transpose(*order), truth.transpose(*order)
    w = pair_weights(pred, truth, weights, skipna=skipna)
    pv, tv = pred.values, truth.values
    if skipna:  # NaN: a non-event in the windows (its own pair has weight 0)
        pv, tv = np.where(np.isnan(pv), -np.inf, pv), np.where(np.isnan(tv), -np.inf, tv)
    rows = []
    for u in thr.values:
        cols = []
        for s in scales.values:
            f = pred.copy(data=_fractions(pv, u, int(s), boundary))
            o = truth.copy(data=_fractions(tv, u, int(s), boundary))
            num = weighted_mean((f - o) ** 2, dim=dims, weights=w, skipna=skipna)
            den = weighted_mean(f ** 2 + o ** 2, dim=dims, weights=w, skipna=skipna)
            cols.append(1.0 - safe_ratio(num, den))
        rows.append(xr.concat(cols, dim=scales["scale"]))
    out = xr.concat(rows, dim=thr["threshold"])
    if scale_scalar:
        out = out.squeeze("scale")
    if thr_scalar:
        out = out.squeeze("threshold")
    return with_units(out, "fss", "1", "fractions skill score", boundary=boundary)
