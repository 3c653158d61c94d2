"""Categorical (yes/no) scores at thresholds: contingency table, POD, FAR, CSI, HSS, ETS, frequency bias.

An *event* is a value at or above the threshold, :math:`x \\ge u` (e.g. rain rate ≥ 1 mm h-1); pred and
truth are thresholded alike. The contingency table counts, over the reduced dims, the hits :math:`a`
(event predicted and observed), false alarms :math:`b` (predicted only), misses :math:`c` (observed
only) and correct negatives :math:`d`; with weights (by default cos latitude over ``lat``) the counts
are weighted sums. Several thresholds give a ``threshold`` dim. Scores are ratios of the table, taken
last, so tables of batches can be summed first (:func:`scores_from_table`).

Every score has the signature ``score(pred, truth, *, threshold, dim=None, weights="area", skipna=False,
units=None)``. A ratio with a zero denominator is NaN (e.g. POD when no event was observed).

Public names: :func:`contingency_table`, :func:`scores_from_table`, :func:`categorical_scores`,
:func:`pod`, :func:`far`, :func:`csi`, :func:`hss`, :func:`ets`, :func:`frequency_bias`.

References
----------
:cite:`jolliffe2012` (definitions), :cite:`wilks2011` (Heidke and Gilbert skill scores),
:cite:`pulkkinen2019` (pysteps, ``det_cat_fct``, used as the reference implementation in the tests).
"""

from __future__ import annotations

from collections.abc import Sequence

import xarray as xr

from ._core import Dim, Weights, as_coord, check_units, pair_weights, resolve_dims, safe_ratio, weighted_sum

__all__ = ["contingency_table", "scores_from_table", "categorical_scores", "pod", "far", "csi", "hss", "ets",
           "frequency_bias"]

Threshold = float | Sequence[float]
_ENTRIES = ("hits", "false_alarms", "misses", "correct_negatives")
_LONG = {"pod": "probability of detection", "far": "false alarm ratio", "csi": "critical success index",
         "hss": "Heidke skill score", "ets": "equitable threat score (Gilbert skill score)",
         "frequency_bias": "frequency bias"}


def contingency_table(pred: xr.DataArray, truth: xr.DataArray, *, threshold: Threshold, dim: Dim = None,
                      weights: Weights = "area", skipna: bool = False, units: str | None = None) -> xr.Dataset:
    """Count hits, false alarms, misses and correct negatives of the events :math:`x \\ge u`.

    .. math:: a = \\sum_i w_i\\,\\mathbb 1\\{p_i \\ge u\\}\\,\\mathbb 1\\{t_i \\ge u\\}, \\quad
              b = \\sum_i w_i\\,\\mathbb 1\\{p_i \\ge u\\}\\,\\mathbb 1\\{t_i < u\\}, \\ \\dots

    Parameters
    ----------
    pred, truth : xr.DataArray
        Prediction and reference, same dims and coordinates (aligned exactly), same units.
    threshold : float or sequence of float
        Event threshold(s) :math:`u`, in the units of ``truth``; a sequence adds a ``threshold`` dim.
    dim : str or sequence of str or None
        Dimensions to count over; all if None.
    weights : xr.DataArray or "area" or None
        Weights of the cells (default: cos latitude when there is a ``lat`` dim, normalised to mean 1,
        so counts stay close to numbers of cells); ``None``: plain counts.
    skipna : bool
        Drop pairs with a NaN on either side (else they give NaN counts).
    units : str, optional
        Units of ``threshold``; when given, ``pred`` and ``truth`` must carry the same ``units`` attr.

    Returns
    -------
    xr.Dataset
        ``hits``, ``false_alarms``, ``misses``, ``correct_negatives`` (units ``"1"``), ``dim`` reduced.

    Raises
    ------
    ValueError
        If the coordinates of ``pred`` and ``truth`` differ, ``dim`` is not a dimension, or the units differ
        from ``units``.

    Examples
    --------
    >>> p = xr.DataArray([0.0, 2.0, 3.0, 0.0], dims="x"); t = xr.DataArray([0.0, 2.0, 0.0, 5.0], dims="x")
    >>> tab = contingency_table(p, t, threshold=1.0)
    >>> [int(tab[k]) for k in ("hits", "false_alarms", "misses", "correct_negatives")]
    [1, 1, 1, 1]
    """
    pred, truth = xr.align(pred, truth, join="exact")
    check_units(units, pred, truth)
    thr, scalar = as_coord(threshold, "threshold", truth.attrs.get("units", "") if units is None else units)
    if scalar:
        thr = thr.squeeze("threshold")
    dims = resolve_dims(pred, truth, dim=dim)
    w = pair_weights(pred, truth, weights, skipna=skipna)
    valid = pred.notnull() & truth.notnull()
    pe, te = pred >= thr, truth >= thr
    fields = {"hits": pe & te, "false_alarms": pe & ~te, "misses": ~pe & te, "correct_negatives": ~pe & ~te}
    out = xr.Dataset()
    for name, ind in fields.items():
        count = weighted_sum(ind.astype(float).where(valid), dim=dims, weights=w, skipna=skipna)
        out[name] = count.assign_attrs(units="1", long_name=f"{name.replace('_', ' ')} (weighted count)")
    out.attrs = {"event": "value >= threshold"}
    return out


def scores_from_table(table: xr.Dataset) -> xr.Dataset:
    """All scores of a contingency table (e.g. the sum of the tables of several batches).

    With hits :math:`a`, false alarms :math:`b`, misses :math:`c`, correct negatives :math:`d`,
    :math:`n = a + b + c + d` and :math:`a_r = (a + b)(a + c)/n` the hits expected by chance:

    .. math::
        \\mathrm{POD} = \\frac{a}{a+c}, \\quad \\mathrm{FAR} = \\frac{b}{a+b}, \\quad
        \\mathrm{CSI} = \\frac{a}{a+b+c}, \\quad \\mathrm{bias} = \\frac{a+b}{a+c},

        \\mathrm{HSS} = \\frac{2(ad - bc)}{(a+c)(c+d) + (a+b)(b+d)}, \\quad
        \\mathrm{ETS} = \\frac{a - a_r}{a + b + c - a_r}.

    Returns
    -------
    xr.Dataset
        ``pod``, ``far``, ``csi``, ``hss``, ``ets``, ``frequency_bias``, all units ``"1"``.

    References
    ----------
    :cite:`jolliffe2012`, :cite:`wilks2011`
    """
    a, b, c, d = (table[k] for k in _ENTRIES)
    n = a + b + c + d
    a_r = safe_ratio((a + b) * (a + c), n)
    scores = {"pod": safe_ratio(a, a + c), "far": safe_ratio(b, a + b), "csi": safe_ratio(a, a + b + c),
              "hss": safe_ratio(2.0 * (a * d - b * c), (a + c) * (c + d) + (a + b) * (b + d)),
              "ets": safe_ratio(a - a_r, a + b + c - a_r), "frequency_bias": safe_ratio(a + b, a + c)}
    return xr.Dataset({k: v.assign_attrs(units="1", long_name=_LONG[k]) for k, v in scores.items()},
                      attrs=table.attrs)


def categorical_scores(pred: xr.DataArray, truth: xr.DataArray, *, threshold: Threshold, dim: Dim = None,
                       weights: Weights = "area", skipna: bool = False, units: str | None = None) -> xr.Dataset:
    """POD, FAR, CSI, HSS, ETS and frequency bias in one Dataset (one contingency table).

    Parameters as in :func:`contingency_table`; returns :func:`scores_from_table` of it.

    Examples
    --------
    >>> p = xr.DataArray([0.0, 2.0, 3.0, 0.0], dims="x"); t = xr.DataArray([0.0, 2.0, 0.0, 5.0], dims="x")
    >>> float(categorical_scores(p, t, threshold=1.0)["csi"])
    0.3333333333333333
    """
    return scores_from_table(contingency_table(pred, truth, threshold=threshold, dim=dim, weights=weights,
                                               skipna=skipna, units=units))


def _score(name: str, pred, truth, threshold, dim, weights, skipna, units) -> xr.DataArray:
    out = categorical_scores(pred, truth, threshold=threshold, dim=dim, weights=weights, skipna=skipna, units=units)
    return out[name].rename(name)


def pod(pred: xr.DataArray, truth: xr.DataArray, *, threshold: Threshold, dim: Dim = None,
        weights: Weights = "area", skipna: bool = False, units: str | None = None) -> xr.DataArray:
    """Probability of detection (hit rate), :math:`a/(a+c)`, in [0, 1], 1 best; see :func:`scores_from_table`.

    Examples
    --------
    >>> p = xr.DataArray([0.0, 2.0, 3.0, 0.0], dims="x"); t = xr.DataArray([0.0, 2.0, 0.0, 5.0], dims="x")
    >>> float(pod(p, t, threshold=1.0)), pod(p, t, threshold=[1.0, 4.0]).values.tolist()
    (0.5, [0.5, 0.0])
    """
    return _score("pod", pred, truth, threshold, dim, weights, skipna, units)


def far(pred: xr.DataArray, truth: xr.DataArray, *, threshold: Threshold, dim: Dim = None,
        weights: Weights = "area", skipna: bool = False, units: str | None = None) -> xr.DataArray:
    """False alarm ratio, :math:`b/(a+b)`, in [0, 1], 0 best; see :func:`scores_from_table`."""
    return _score("far", pred, truth, threshold, dim, weights, skipna, units)


def csi(pred: xr.DataArray, truth: xr.DataArray, *, threshold: Threshold, dim: Dim = None,
        weights: Weights = "area", skipna: bool = False, units: str | None = None) -> xr.DataArray:
    """Critical success index (threat score), :math:`a/(a+b+c)`, in [0, 1], 1 best."""
    return _score("csi", pred, truth, threshold, dim, weights, skipna, units)


def hss(pred: xr.DataArray, truth: xr.DataArray, *, threshold: Threshold, dim: Dim = None,
        weights: Weights = "area", skipna: bool = False, units: str | None = None) -> xr.DataArray:
    """Heidke skill score, proportion correct relative to chance, in [-1, 1], 0 no skill, 1 best.

    .. math:: \\mathrm{HSS} = \\frac{(a+d) - e}{n - e}, \\quad e = \\frac{(a+b)(a+c) + (c+d)(b+d)}{n}

    which equals the form given in :func:`scores_from_table` (that of pysteps ``det_cat_fct``).
    """
    return _score("hss", pred, truth, threshold, dim, weights, skipna, units)


def ets(pred: xr.DataArray, truth: xr.DataArray, *, threshold: Threshold, dim: Dim = None,
        weights: Weights = "area", skipna: bool = False, units: str | None = None) -> xr.DataArray:
    """Equitable threat score (Gilbert skill score), the CSI corrected for chance hits, in [-1/3, 1]."""
    return _score("ets", pred, truth, threshold, dim, weights, skipna, units)


def frequency_bias(pred: xr.DataArray, truth: xr.DataArray, *, threshold: Threshold, dim: Dim = None,
                   weights: Weights = "area", skipna: bool = False, units: str | None = None) -> xr.DataArray:
    """Frequency bias, predicted over observed events :math:`(a+b)/(a+c)`; 1 unbiased, > 1 too many events."""
    return _score("frequency_bias", pred, truth, threshold, dim, weights, skipna, units)
