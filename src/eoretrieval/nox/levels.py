"""How well can any method know a world's emission *level*? The information floor of the monthly domain totals.

A world's monthly domain total can be learned from two independent sources, and from nothing else in this OSSE:

- **the columns**: an estimate linear in the column excess (flux divergence; a scale-invariant network) carries the
  world's systematic air-mass-factor bias :math:`\\beta` (one number per world, drawn with standard deviation
  :math:`\\sigma_\\beta`, the generator's ``amf_bias_std``) into its total, plus its own error once the bias is
  divided out (:math:`\\sigma_{obs}`): in logarithms its error has variance
  :math:`\\sigma_{col}^2 = \\sigma_\\beta^2 + \\sigma_{obs}^2`;
- **the a-priori level**: the generator's mean inventory (the ``prior`` method), whose total misses each world's
  own level by :math:`\\sigma_{prior}` (in logarithms).

The two errors are independent (the AMF bias is drawn apart from the inventory), so no estimate built from both can
do better, for Gaussian errors, than their inverse-variance combination, whose log error has
:math:`\\sigma_{post}^{-2} = \\sigma_{col}^{-2} + \\sigma_{prior}^{-2}`; its expected absolute relative error is
:math:`E|e^X - 1| = e^{\\sigma_{post}^2/2}\\,(2\\Phi(\\sigma_{post}) - 1)` for :math:`X \\sim N(0, \\sigma_{post}^2)`
(:func:`expected_abs_rel_err`). :func:`level_floor` measures :math:`\\sigma_{obs}` and :math:`\\sigma_{prior}`
as standard deviations about their means (so the floor assumes a method that knows each source's mean bias: it
is optimistic, a floor) on worlds that are *not* test worlds; :func:`combine_levels` applies the combination's
weights to other worlds' totals, an equal-information method for the domain totals alone.

A method can beat the floor only with information beyond the columns and the prior: an estimate of the AMF bias
(from ground-based columns, which :mod:`eoretrieval.nox.ground` simulates with their own errors; or from the columns
over clean regions, which the OSSE's constant background would make unrealistically easy), or a level prior
narrower than the generator's spread of worlds.

Public names: :func:`monthly_total_ratios`, :func:`level_record`, :func:`level_floor`, :func:`combine_levels`,
:func:`expected_abs_rel_err`, :func:`mean_abs_rel_err`.
"""

from __future__ import annotations

import json
import math

import numpy as np
import xarray as xr

from ..conventions import TIME
from .scales import monthly_domain_totals

__all__ = ["monthly_total_ratios", "level_record", "level_floor", "combine_levels", "expected_abs_rel_err",
           "mean_abs_rel_err"]


def monthly_total_ratios(pred: xr.DataArray, truth: xr.DataArray) -> np.ndarray:
    """Each month's mean domain total of ``pred`` over that of ``truth`` (both (time, lat, lon), same units), on the
    days of ``truth``; months without a day are dropped.

    Raises
    ------
    ValueError
        Different units, or a month whose true total is not positive.
    """
    if pred.attrs.get("units") != truth.attrs.get("units"):
        raise ValueError(f"monthly_total_ratios: estimate in {pred.attrs.get('units')!r}, truth in "
                         f"{truth.attrs.get('units')!r}; expected the same units")
    mt, mp = monthly_domain_totals(truth), monthly_domain_totals(pred.sel({TIME: truth[TIME]}))
    if not bool((mt > 0).all()):
        raise ValueError("monthly_total_ratios: a month's true domain total is not positive; expected emissions > 0")
    return np.asarray((mp / mt).values, dtype=float)


def level_record(world: xr.Dataset, truth: xr.DataArray, estimates: dict) -> dict:
    """One world's monthly total ratios of each estimate, with its AMF bias and the generator's ``amf_bias_std``.

    Returns
    -------
    dict
        ``{"seed", "amf_bias", "amf_bias_std", "ratios": {method: [ratio per month, ...]}}``.

    Raises
    ------
    ValueError
        If the world lacks the ``amf_bias`` attribute or its ``config`` lacks ``amf_bias_std``.
    """
    name = world.attrs.get("title", "NOx world")
    if "amf_bias" not in world.attrs:
        raise ValueError(f"{name}: no 'amf_bias' attribute; expected a world made by eoretrieval.nox.make_nox_world")
    config = json.loads(world.attrs.get("config", "{}"))
    if "amf_bias_std" not in config:
        raise ValueError(f"{name}: its 'config' attribute has no 'amf_bias_std'; expected the generator's settings")
    return {"seed": int(world.attrs.get("seed", -1)), "amf_bias": float(world.attrs["amf_bias"]),
            "amf_bias_std": float(config["amf_bias_std"]),
            "ratios": {m: monthly_total_ratios(e, truth).tolist() for m, e in estimates.items()}}


def mean_abs_rel_err(records: list[dict], method: str) -> float:
    """The mean over worlds of each world's mean absolute relative error of its monthly totals (as
    :func:`~eoretrieval.nox.osse.scale_scores` averages ``total_abs_rel_err``) of ``method`` in :func:`level_record`
    results."""
    _require_ratios(records, method, "mean_abs_rel_err")
    return float(np.mean([np.mean(np.abs(np.asarray(r["ratios"][method], dtype=float) - 1.0)) for r in records]))


def expected_abs_rel_err(sigma: float) -> float:
    """:math:`E|e^X - 1|` for :math:`X \\sim N(0, \\sigma^2)`: :math:`e^{\\sigma^2/2}(2\\Phi(\\sigma) - 1)`
    (about :math:`\\sigma\\sqrt{2/\\pi}` for small :math:`\\sigma`)."""
    if sigma < 0:
        raise ValueError(f"expected_abs_rel_err: sigma must be >= 0, got {sigma}")
    return float(math.exp(sigma ** 2 / 2) * math.erf(sigma / math.sqrt(2)))


def _require_ratios(records: list[dict], method: str, caller: str) -> None:
    missing = [r["seed"] for r in records if method not in r["ratios"]]
    if missing or not records:
        raise ValueError(f"{caller}: no {method!r} ratios for worlds {missing or 'none given'}")


def _pooled(records: list[dict], method: str, *, divide_bias: bool) -> np.ndarray:
    _require_ratios(records, method, "level records")
    parts = [np.log(np.asarray(r["ratios"][method], dtype=float) / ((1.0 + r["amf_bias"]) if divide_bias else 1.0))
             for r in records]
    x = np.concatenate(parts) if parts else np.array([])
    if x.size < 2 or not np.all(np.isfinite(x)):
        raise ValueError(f"level records: {x.size} finite monthly ratios of {method!r}; expected at least 2, all > 0")
    return x


def level_floor(records: list[dict], *, obs: str = "flux_divergence_7d", prior: str = "prior") -> dict:
    """The information floor of the monthly domain totals, measured on ``records`` (:func:`level_record` of worlds
    that are not test worlds).

    Parameters
    ----------
    records : list of dict
        :func:`level_record` results holding the ratios of ``obs`` and ``prior``.
    obs : str
        An estimate linear in the columns (it must carry the AMF bias: its bias-divided error is :math:`\\sigma_{obs}`).
    prior : str
        The a-priori estimate.

    Returns
    -------
    dict
        ``sigma_amf`` (the generator's), ``sigma_obs``, ``sigma_col``, ``sigma_prior``, ``sigma_post`` (log units),
        ``w_obs`` (weight of the columns' log total in the combination), ``expected_abs_rel_err`` (the floor),
        ``obs_mean_log_err_bias_removed`` and ``prior_mean_log_err`` (the means the floor assumes known),
        ``worlds``, ``n_months``, ``obs``, ``prior``.

    Raises
    ------
    ValueError
        No records, records of generators with different ``amf_bias_std``, or missing ratios.
    """
    if not records:
        raise ValueError("level_floor: no worlds; expected level records of calibration worlds")
    stds = sorted({round(r["amf_bias_std"], 12) for r in records})
    if len(stds) != 1:
        raise ValueError(f"level_floor: worlds made with different amf_bias_std {stds}; expected one generator")
    s_amf = float(stds[0])
    xo = _pooled(records, obs, divide_bias=True)
    xp = _pooled(records, prior, divide_bias=False)
    s_obs, s_prior = float(xo.std(ddof=1)), float(xp.std(ddof=1))
    s_col = math.hypot(s_amf, s_obs)
    if s_prior == 0 or s_col == 0:
        raise ValueError("level_floor: a level source without error; the floor is 0 and the records are degenerate")
    s_post = (s_col ** -2 + s_prior ** -2) ** -0.5
    return {"obs": obs, "prior": prior, "worlds": [r["seed"] for r in records], "n_months": int(xo.size),
            "sigma_amf": s_amf, "sigma_obs": s_obs, "sigma_col": s_col, "sigma_prior": s_prior, "sigma_post": s_post,
            "w_obs": s_prior ** 2 / (s_prior ** 2 + s_col ** 2),
            "obs_mean_log_err_bias_removed": float(xo.mean()), "prior_mean_log_err": float(xp.mean()),
            "expected_abs_rel_err": expected_abs_rel_err(s_post)}


def combine_levels(records: list[dict], floor: dict) -> dict:
    """Apply the floor's inverse-variance weights to other worlds' totals: the combined ratio of a month is
    :math:`r_{obs}^{w}\\, r_{prior}^{1-w}` (truth cancels in a ratio), no mean correction.

    Returns
    -------
    dict
        ``w_obs``, ``per_world`` (``seed`` and the mean absolute relative error of its months), ``total_abs_rel_err``
        (mean over the worlds, as :func:`~eoretrieval.nox.osse.scale_scores` averages).
    """
    w = float(floor["w_obs"])
    rows = []
    for r in records:
        ro = np.asarray(r["ratios"][floor["obs"]], dtype=float)
        rp = np.asarray(r["ratios"][floor["prior"]], dtype=float)
        if ro.shape != rp.shape:
            raise ValueError(f"combine_levels: world {r['seed']} has {ro.size} months of {floor['obs']!r} "
                             f"but {rp.size} of {floor['prior']!r}")
        comb = np.exp(w * np.log(ro) + (1.0 - w) * np.log(rp))
        rows.append({"seed": r["seed"], "total_abs_rel_err": float(np.mean(np.abs(comb - 1.0)))})
    return {"w_obs": w, "per_world": rows,
            "total_abs_rel_err": float(np.mean([r["total_abs_rel_err"] for r in rows])) if rows else None}
