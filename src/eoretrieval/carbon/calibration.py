"""Least-squares calibration of VPRM variants with parameter uncertainties from the Jacobian.

The cost is the sum of squared residuals (g C m-2 d-1) of GPP and Reco where the tower gives
partitioned fluxes, and of NEE where it does not (e.g. US-PFa). It is minimised with
:func:`scipy.optimize.least_squares` (trust-region reflective, bounds) from several starts; the
covariance is :math:`s^2 (J^T J)^{-1}` with :math:`s^2 = \\mathrm{SSR}/(m - p)` at the optimum.

Public names: :class:`FitResult`, :func:`fit_variant`, :func:`fit_per_class`, :func:`training_mask`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import xarray as xr
from scipy.optimize import least_squares

from ..errors import DataError
from .interface import ModelVariant, get_model, param_spec
from .model import predict

__all__ = ["FitResult", "fit_variant", "fit_per_class", "training_mask"]


@dataclass
class FitResult:
    """Fitted parameters with 1-sigma standard errors and the fit diagnostics."""

    model: str
    params: dict
    stderr: dict
    n_obs: int
    rmse: float
    cost: float
    at_bound: list = field(default_factory=list)
    sites: list = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"model": self.model, "params": self.params, "stderr": self.stderr, "n_obs": self.n_obs,
                "rmse": self.rmse, "at_bound": self.at_bound, "sites": self.sites}


def training_mask(data: xr.Dataset, *, max_filled: float = 0.5) -> np.ndarray:
    """Samples usable for fitting/evaluation: indices observed (climatology fill <= ``max_filled``)."""
    return (data["index_filled"].values <= max_filled) & np.isfinite(data["evi"].values)


def _drivers_ok(variant, data) -> np.ndarray:
    """Samples whose drivers and indices are all present (excluded up front otherwise, never zero residuals)."""
    ok = np.ones(data.sizes["sample"], bool)
    for k in ("ta", "par", variant.greenness, "lswi", "evi"):
        if k in data:
            ok &= np.isfinite(data[k].values)
    return ok


def _residual_fn(variant, names, data, mask):
    gpp_o, reco_o, nee_o = (data[k].values for k in ("gpp", "reco", "nee"))
    mask = mask & _drivers_ok(variant, data)
    part = np.isfinite(gpp_o) & np.isfinite(reco_o) & mask
    only_nee = ~part & np.isfinite(nee_o) & mask

    def fun(x):
        out = predict(variant, dict(zip(names, x)), data)
        r = np.concatenate([(out["gpp"].values - gpp_o)[part], (out["reco"].values - reco_o)[part],
                            (out["nee"].values - nee_o)[only_nee]])
        if not np.all(np.isfinite(r)):
            # never turn a NaN prediction into a zero residual: it would reward missing output
            bad = sorted(set(data["site"].values[(part | only_nee) & ~np.isfinite(out["nee"].values)].tolist()))
            raise DataError(f"fit_variant({variant.name}): {int((~np.isfinite(r)).sum())} NaN predictions on "
                            f"samples with observed fluxes at {bad}; check drivers/indices there")
        return r
    return fun, int(2 * part.sum() + only_nee.sum())


def fit_variant(variant: ModelVariant | str, data: xr.Dataset, *, n_starts: int = 3, seed: int = 0,
                mask: np.ndarray | None = None, max_nfev: int = 400) -> FitResult:
    """Fit one variant to all samples of ``data`` (one parameter set for all of them).

    Parameters
    ----------
    variant : ModelVariant or str
    data : xr.Dataset
        Stacked site data (:func:`eoretrieval.carbon.drivers.stack_sites`).
    n_starts : int
        Starts: the default initial values, then uniform draws within the bounds (seeded).
    seed : int
    mask : bool array, optional
        Samples to fit (default :func:`training_mask`).
    """
    if isinstance(variant, str):
        variant = get_model(variant)
    spec = param_spec(variant)
    names = [s[0] for s in spec]
    x0 = np.array([s[1] for s in spec])
    lo = np.array([s[2] for s in spec])
    hi = np.array([s[3] for s in spec])
    mask = training_mask(data) if mask is None else mask
    fun, m = _residual_fn(variant, names, data, mask)
    if m <= len(names):
        raise ValueError(f"fit_variant({variant.name}): {m} residuals for {len(names)} parameters")
    rng = np.random.default_rng(seed)
    best = None
    for i in range(max(1, n_starts)):
        start = x0 if i == 0 else lo + (hi - lo) * rng.uniform(0.05, 0.5, size=len(x0))
        if variant.respiration == "gourdji" and i > 0:
            start = x0 + rng.normal(0, 0.1, size=len(x0)) * (hi - lo) * 0.05
        start = np.clip(start, lo + 1e-9, hi - 1e-9)
        res = least_squares(fun, start, bounds=(lo, hi), x_scale="jac", max_nfev=max_nfev)
        if best is None or res.cost < best.cost:
            best = res
    j = best.jac
    dof = max(m - len(names), 1)
    s2 = 2 * best.cost / dof
    cov = np.linalg.pinv(j.T @ j) * s2
    se = np.sqrt(np.clip(np.diag(cov), 0, None))
    at_bound = [n for n, v, a, b in zip(names, best.x, lo, hi) if np.isclose(v, a, rtol=1e-4, atol=1e-6)
                or np.isclose(v, b, rtol=1e-4, atol=1e-6)]
    return FitResult(variant.name, dict(zip(names, map(float, best.x))), dict(zip(names, map(float, se))),
                     m, float(np.sqrt(2 * best.cost / m)), float(best.cost), at_bound,
                     sorted(set(data["site"].values[mask].tolist())))


def fit_per_class(variant: ModelVariant | str, data: xr.Dataset, **kwargs) -> dict[str, FitResult]:
    """Fit one parameter set per VPRM vegetation class (all sites of that class pooled)."""
    out = {}
    for c in dict.fromkeys(data["vprm_class"].values.tolist()):
        sub = data.isel(sample=np.flatnonzero(data["vprm_class"].values == c))
        out[c] = fit_variant(variant, sub, **kwargs)
    return out
