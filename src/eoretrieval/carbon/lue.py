r"""Light-use GPP models for daily tower data, with a fast least-squares calibration.

Every model is

.. math::

    \mathrm{GPP} = \lambda\,T_{scale}(T_{day})\,g\,\frac{\mathrm{PAR}}{1+\mathrm{PAR}/\mathrm{PAR}_0}\,
                   f_{VPD}\,f_{SM}\,\frac{N}{24}\ \ [\mu mol\,m^{-2}s^{-1}\to g\,C\,m^{-2}d^{-1}]

with ``g`` the greenness input (:mod:`eoretrieval.carbon.greenness`), ``PAR`` the day-time mean
(``par="day"``, aggregated by the day length ``N``) or the 24-h mean (``par="24h"``, the old time scale),
:math:`f_{VPD}=\exp(-k_{VPD}\max(\mathrm{VPD}-\mathrm{VPD}_0,0))` and
:math:`f_{SM}=1-s_{SM}(1-\min(1,W/W_c))` (bucket soil water ``W``). ``light="linear"`` drops the
saturation (``PAR0`` -> infinity). The null model ``lue`` is :math:`\varepsilon\,\mathrm{PAR}_{24h}\,g`.

Calibration (:func:`fit_lue`): :math:`\lambda` enters linearly and is profiled out in closed form
(variable projection, :math:`\lambda\ge0`), so :func:`scipy.optimize.least_squares` only searches the 0-3
non-linear parameters. Samples are those with finite truth and finite drivers; a model that returns NaN
on such a sample raises an error (it is never turned into a zero residual).

Public names: :class:`LUEModel`, :data:`LUE_MODELS`, :func:`lue_inputs`, :func:`predict_gpp`,
:func:`fit_lue`, :class:`LUEFit`, :data:`BOUNDS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import xarray as xr
from scipy.optimize import least_squares

from ..errors import DataError
from .greenness import greenness as greenness_input
from .vprm import TEMPERATURE_COEFFICIENTS, UMOL_M2_S_TO_G_M2_D, tscale

__all__ = ["LUEModel", "LUE_MODELS", "lue_inputs", "predict_gpp", "fit_lue", "LUEFit", "BOUNDS"]

#: (initial, lower, upper) of the non-linear parameters.
BOUNDS = {"par0": (600.0, 20.0, 3000.0), "k_vpd": (0.03, 0.0, 0.3), "s_sm": (0.3, 0.0, 1.0)}


@dataclass(frozen=True)
class LUEModel:
    """A light-use GPP model: which terms, on which time scale, with which constants.

    Parameters
    ----------
    name : str
    description : str
    light : {"hyperbolic", "linear", "lue"}
        VPRM's rectangular hyperbola, no saturation, or the null model eps * PAR24 * g (no T scale).
    par : {"day", "24h"}
        Day-time mean PAR aggregated by day length, or the 24-h mean PAR.
    vpd, sm : bool
        VPD and soil-water limitation terms.
    greenness : str
        Greenness input (``fapar`` at the forest towers).
    constants : dict
        ``vpd0`` (hPa), ``w_crit`` (1); chosen inside training folds when several candidates are given.
    """

    name: str
    description: str
    light: str = "hyperbolic"
    par: str = "day"
    vpd: bool = False
    sm: bool = False
    greenness: str = "fapar"
    constants: dict = field(default_factory=lambda: {"vpd0": 10.0, "w_crit": 0.5})

    @property
    def nonlinear(self) -> list[str]:
        """Names of the non-linear parameters (``lam``/``eps`` is profiled out)."""
        out = ["par0"] if self.light == "hyperbolic" else []
        return out + (["k_vpd"] if self.vpd else []) + (["s_sm"] if self.sm else [])

    def with_constants(self, **kw) -> "LUEModel":
        """Copy with updated constants (name suffixed with them)."""
        c = {**self.constants, **kw}
        tag = ",".join(f"{k}={v:g}" for k, v in kw.items())
        return replace(self, constants=c, name=f"{self.name}[{tag}]")


#: Registered daily GPP models (ablation order). ``vprm`` is the reference form with the class's greenness.
LUE_MODELS = {m.name: m for m in [
    LUEModel("lue", "null: GPP = eps * PAR(24 h) * fAPAR", light="lue", par="24h"),
    LUEModel("vprm_24h", "reference VPRM driven by 24-h mean PAR (the old time scale)", par="24h"),
    LUEModel("vprm", "reference VPRM: T scale, hyperbolic light response on day-time PAR, fAPAR"),
    LUEModel("vprm_linear", "VPRM without light saturation (PAR0 -> infinity)", light="linear"),
    LUEModel("vprm_vpd", "VPRM + VPD limitation", vpd=True),
    LUEModel("vprm_sm", "VPRM + bucket soil-water limitation", sm=True),
    LUEModel("vprm_vpd_sm", "VPRM + VPD + soil-water limitation", vpd=True, sm=True),
]}


def lue_inputs(ds: xr.Dataset, *, greenness: str = "fapar") -> dict:
    """Flatten a ``(site, time)`` tower Dataset into the sample arrays the models read.

    Returns a dict of 1-D arrays: ``green``, ``par_day``, ``par_24h``, ``daylength``, ``t_day``, ``vpd``,
    ``wrel``, ``tmin``, ``topt``, ``tmax`` (class temperature coefficients), ``site``, ``time``.
    """
    ns, nt = ds.sizes["site"], ds.sizes["time"]
    coef = np.array([TEMPERATURE_COEFFICIENTS[c][1:4] for c in ds["vprm_class"].values], float)
    out = {k: ds[k].values.ravel() for k in ("par_day", "par_24h", "daylength", "t_day", "vpd", "wrel")}
    out["green"] = np.clip(greenness_input(ds, greenness).values.ravel(), 0.0, None)
    for j, k in enumerate(("tmin", "topt", "tmax")):
        out[k] = np.repeat(coef[:, j], nt)
    out["site"] = np.repeat(ds["site"].values, nt)
    out["time"] = np.tile(ds["time"].values, ns)
    return out


def _parts(model: LUEModel, x: dict) -> dict:
    """The parameter-free factors of the model (computed once per fit)."""
    if model.light == "lue":
        return {"base": x["par_24h"] * x["green"] * 1e-6 * 86400.0}  # mol m-2 d-1 x fAPAR
    par = x["par_day"] if model.par == "day" else x["par_24h"]
    agg = x["daylength"] / 24.0 if model.par == "day" else 1.0
    base = tscale(x["t_day"], tmin=x["tmin"], topt=x["topt"], tmax=x["tmax"]) * x["green"] * agg * UMOL_M2_S_TO_G_M2_D
    out = {"base": base, "par": par}
    if model.vpd:
        out["vex"] = np.maximum(np.nan_to_num(x["vpd"]) - model.constants["vpd0"], 0.0)
    if model.sm:
        out["wdef"] = 1.0 - np.minimum(1.0, np.nan_to_num(x["wrel"], nan=1.0) / model.constants["w_crit"])
    return out


def _from_parts(model: LUEModel, parts: dict, theta: dict) -> np.ndarray:
    if model.light == "lue":
        return parts["base"]
    par = parts["par"]
    f = parts["base"] * (par / (1.0 + par / theta["par0"]) if model.light == "hyperbolic" else par)
    if model.vpd:
        f = f * np.exp(-theta["k_vpd"] * parts["vex"])
    if model.sm:
        f = f * (1.0 - theta["s_sm"] * parts["wdef"])
    return f


def _design(model: LUEModel, x: dict, theta: dict) -> np.ndarray:
    """GPP for lam = 1 (g C m-2 d-1 per unit lam)."""
    return _from_parts(model, _parts(model, x), theta)


def predict_gpp(model: LUEModel | str, params: dict, x: dict) -> np.ndarray:
    """Daily GPP (g C m-2 d-1) of ``model`` with ``params`` (``lam`` plus the non-linear ones)."""
    model = LUE_MODELS[model] if isinstance(model, str) else model
    return params["lam"] * _design(model, x, params)


@dataclass
class LUEFit:
    """Fitted parameters, which of them sit at a bound, and the fit size."""

    model: str
    params: dict
    at_bound: list
    n_obs: int
    rmse: float

    def as_dict(self) -> dict:
        return {"model": self.model, "params": self.params, "at_bound": self.at_bound, "n_obs": self.n_obs,
                "rmse": self.rmse}


def _valid(model: LUEModel, x: dict, y: np.ndarray, mask) -> np.ndarray:
    need = ["green", "par_24h"] if model.light == "lue" else ["green", "par_day", "par_24h", "daylength", "t_day"]
    ok = np.isfinite(y)
    for k in need:
        ok &= np.isfinite(x[k])
    return ok if mask is None else ok & mask


def fit_lue(model: LUEModel | str, x: dict, y: np.ndarray, *, mask: np.ndarray | None = None, n_starts: int = 2,
            seed: int = 0, subsample: int = 1) -> LUEFit:
    """Least-squares fit of ``model`` to daily GPP ``y`` (g C m-2 d-1) on the masked samples.

    Parameters
    ----------
    model : LUEModel or str
    x : dict
        :func:`lue_inputs`.
    y : array
        Observed GPP.
    mask : bool array, optional
        Samples allowed in the fit (e.g. the training towers).
    n_starts : int
        Starts: the default initial values, then seeded uniform draws inside the bounds.
    subsample : int
        Use every ``subsample``-th valid sample (speed in the inner selection folds).

    Raises
    ------
    DataError
        Fewer valid samples than parameters, or NaN predictions on valid samples.
    """
    model = LUE_MODELS[model] if isinstance(model, str) else model
    ok = np.flatnonzero(_valid(model, x, y, mask))[::max(1, subsample)]
    names = model.nonlinear
    if ok.size <= len(names) + 1:
        raise DataError(f"fit_lue({model.name}): {ok.size} valid samples for {len(names) + 1} parameters")
    xs = {k: (v[ok] if isinstance(v, np.ndarray) and v.shape == y.shape else v) for k, v in x.items()}
    yy = y[ok]

    parts = _parts(model, xs)

    def profile(vals):
        theta = dict(zip(names, vals))
        f = _from_parts(model, parts, theta)
        if not np.all(np.isfinite(f)):
            bad = np.unique(np.asarray(xs["site"])[~np.isfinite(f)]).tolist()
            raise DataError(f"fit_lue({model.name}): NaN/inf predictions on valid samples at {bad}")
        ff = float(f @ f)
        lam = max(float(f @ yy) / ff, 0.0) if ff > 0 else 0.0
        return lam, f

    def resid(vals):
        lam, f = profile(vals)
        return lam * f - yy

    if names:
        lo = np.array([BOUNDS[n][1] for n in names])
        hi = np.array([BOUNDS[n][2] for n in names])
        x0 = np.array([BOUNDS[n][0] for n in names])
        rng = np.random.default_rng(seed)
        best = None
        for i in range(max(1, n_starts)):
            start = x0 if i == 0 else lo + (hi - lo) * rng.uniform(0.05, 0.95, len(names))
            res = least_squares(resid, np.clip(start, lo, hi), bounds=(lo, hi), x_scale=np.maximum(hi - lo, 1e-3) / 10,
                                max_nfev=60 * len(names), diff_step=1e-3)
            if best is None or res.cost < best.cost:
                best = res
        vals = best.x
        at = [n for n, v, a, b in zip(names, vals, lo, hi) if abs(v - a) <= 1e-3 * (b - a) or abs(v - b) <= 1e-3 * (b - a)]
    else:
        vals, at = np.array([]), []
    lam, f = profile(vals)
    params = {"lam": lam, **dict(zip(names, map(float, vals)))}
    if lam == 0.0:
        at.append("lam")
    r = lam * f - yy
    return LUEFit(model.name, params, at, int(ok.size), float(np.sqrt(np.mean(r ** 2))))
