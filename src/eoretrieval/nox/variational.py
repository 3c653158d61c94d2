"""Variational (4D-Var-style) emission inversion with the world's transport model.

For each day d the emission map :math:`E` (mol m-2 s-1) minimises

.. math::

    J(E) = \\tfrac12 \\sum_{i \\in \\mathrm{obs}} \\Big(\\frac{H(M(E; c_{d-1}))_i - y_i}{\\sigma_{o,i}}\\Big)^2
         + \\tfrac12 \\sum_j \\Big(\\frac{E_j - E^{p}_j}{\\sigma_{p,j}}\\Big)^2,

with :math:`M` the 24-h integration of the world's own transport model
(:func:`eoretrieval.nox.transport.simulate_day`, same winds, lifetime, sub-steps, diffusivity, advection scheme
and boundary inflow) from the state :math:`c_{d-1}` at the previous overpass, and :math:`H(c) = r c + b` the
observation operator with the *nominal* NO2/NOx ratio :math:`r` (the world's ``obs_no2_nox_ratio``, the value flux
divergence assumes too; the true field varies) and the known background. The gradient comes from autograd (the
adjoint of the discrete model); the minimiser is L-BFGS with a strong-Wolfe line search on the preconditioned
control variable :math:`x = (E - E^p)/\\sigma_p` (the usual preconditioning variable change; L-BFGS
:cite:`nocedal1980`).

Error statistics use only what a user has: :math:`\\sigma_o^2 = \\sigma_{precision}^2 + (\\epsilon_{AMF}\\,y)^2`
(reported precision plus the AMF error std times the *observed* column, spatial correlations neglected; the
world's systematic AMF bias is unknown to it, as to every method) and :math:`\\sigma_p = s\\,E^p` with :math:`s`
the rms relative prior error, given as ``prior_rel_error`` (the study passes the mean over the training worlds)
or measured on the world's training days. The initial state of each day is either the true column of the previous
overpass (``spinup_days=None``: an idealised configuration kept for the tests) or the inversion's *own* analysis
(``spinup_days=n``: starting from the background column n days before, each day's analysed emission is run
through the model to give the next day's initial state, so the inversion never sees the true state — the
equal-information configuration the study uses).

Cost: the run time per day is recorded in the ``seconds_per_day`` attribute of the result.

Public names: :func:`variational_inversion`, :func:`estimate_prior_rel_error`.
"""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import xarray as xr

from eoretrieval.nox._common import check_units, emission_array, select_days
from eoretrieval.errors import DataError

__all__ = ["variational_inversion", "estimate_prior_rel_error"]


def estimate_prior_rel_error(world: xr.Dataset, *, train_days="train") -> float:
    """Rms of the relative prior error (E - E_prior)/E_prior over the training days (1)."""
    w = select_days(world, train_days)
    e = w["emission"].values.astype(float)
    p = w["prior_emission"].values.astype(float)
    rel = (e - p) / np.maximum(p, 1e-30)
    return float(np.sqrt(np.mean(rel[np.isfinite(rel)] ** 2)))


def variational_inversion(world: xr.Dataset, days=None, *, prior_rel_error: float | None = None,
                          n_iter: int = 50, device: str = "cpu", dtype: str = "float64",
                          progress: bool = True, spinup_days: int | None = None) -> xr.DataArray:
    """Invert each selected day's observations for the emission map with the true model.

    Parameters
    ----------
    world : xr.Dataset
        Output of :func:`eoretrieval.nox.make_nox_world`.
    days
        Days to invert (see :func:`eoretrieval.nox._common.select_days`); a day needs ``1 + (spinup_days or 0)``
        days of the world before it.
    prior_rel_error : float, optional
        Relative prior error std s (1); default :func:`estimate_prior_rel_error` on the training split.
    n_iter : int
        Maximum L-BFGS iterations per day.
    device : str
        torch device.
    dtype : {"float64", "float32"}
    progress : bool
        tqdm progress bar over days.
    spinup_days : int, optional
        None: start each day from the true previous column (idealised). n >= 0: cycle the inversion's own
        analyses over the n days before each selected day, starting from the background column.

    Returns
    -------
    xr.DataArray
        Posterior emission (mol m-2 s-1), dims (time, lat, lon). Attrs: ``seconds_per_day`` (mean
        wall time per inverted day, spin-up included), ``prior_rel_error``, ``n_iter``, ``initial_state``,
        ``final_cost`` (JSON list).

    Raises
    ------
    DataError
        Wrong units of a world variable, or a day without enough days before it in the world.
    """
    import torch
    from tqdm import tqdm

    from eoretrieval.nox.transport import SphericalGrid, simulate_day

    for name, unit in (("no2_column", "mol m-2"), ("nox_column", "mol m-2"), ("prior_emission", "mol m-2 s-1"),
                       ("u", "m s-1"), ("v", "m s-1"), ("lifetime", "h"), ("no2_column_precision", "mol m-2")):
        check_units(world[name], name, unit)
    if prior_rel_error is None:
        prior_rel_error = estimate_prior_rel_error(world)
    if spinup_days is not None and int(spinup_days) < 0:
        raise ValueError(f"spinup_days must be None or >= 0, got {spinup_days}")
    tdtype = getattr(torch, dtype)
    sel = select_days(world, days)
    all_times = pd.DatetimeIndex(world["time"].values)
    grid = SphericalGrid.from_coords(world["lat"].values, world["lon"].values)
    geom = grid.tensors(dtype=tdtype, device=device)
    n_sub = int(world.attrs["transport_substeps_per_day"])
    background = float(world.attrs["transport_background_nox_mol_m2"])
    kw = dict(n_substeps=n_sub, diffusivity=float(world.attrs["transport_diffusivity_m2_s"]),
              boundary=world.attrs.get("transport_boundary", "open"), background=background, geom=geom,
              scheme=world.attrs.get("transport_scheme", "upwind"))
    b = float(world.attrs["no2_background_mol_m2"])
    amf = float(world.attrs.get("obs_amf_rel_error", 0.0))
    nominal_ratio = float(world.attrs.get("obs_no2_nox_ratio", 0.75))

    def t(a):
        return torch.as_tensor(np.asarray(a), dtype=tdtype, device=device)

    def model_inputs(i):
        return (t(world["u"].values[i - 1]), t(world["v"].values[i - 1]), t(world["u"].values[i]),
                t(world["v"].values[i]), 1.0 / (3600.0 * t(world["lifetime"].values[i])))

    def invert_day(i, c0):
        """Analysed emission of day index i from the initial state c0; returns (emission, cost)."""
        e_p = t(world["prior_emission"].values[i])
        y = world["no2_column"].values[i].astype(float)
        ok = np.isfinite(y)
        if not ok.any():  # nothing observed: the posterior is the prior
            return e_p, 0.0
        # equal information: the observation error from the reported precision and the observed column (not
        # the true one), and the nominal NO2/NOx ratio the other methods assume (not the world's true field)
        sig_o = np.sqrt(world["no2_column_precision"].values[i].astype(float) ** 2
                        + (amf * np.abs(np.where(ok, y, 0.0))) ** 2)
        obs, m, so = t(np.where(ok, y, 0.0)), torch.as_tensor(ok, device=device), t(sig_o)
        ratio = nominal_ratio
        s_p = t(prior_rel_error * world["prior_emission"].values[i]).clamp_min(1e-14)
        u0, v0, u1, v1, inv_tau = model_inputs(i)
        x = torch.zeros_like(e_p, requires_grad=True)
        opt = torch.optim.LBFGS([x], lr=1.0, max_iter=n_iter, history_size=20, line_search_fn="strong_wolfe",
                                tolerance_grad=1e-7, tolerance_change=1e-12)

        def cost():
            c = simulate_day(c0, e_p + s_p * x, u0, v0, u1, v1, inv_tau, grid, **kw)
            r = torch.where(m, (ratio * c + b - obs) / so, torch.zeros_like(c))
            return 0.5 * (r**2).sum() + 0.5 * (x**2).sum()

        def closure():
            opt.zero_grad()
            j = cost()
            j.backward()
            return j

        opt.step(closure)
        with torch.no_grad():
            return (e_p + s_p * x).detach(), float(cost())

    need = 1 + (int(spinup_days) if spinup_days is not None else 0)
    out = np.full(sel["no2_column"].shape, np.nan)
    costs, seconds = [], []
    for k, day in enumerate(tqdm(pd.DatetimeIndex(sel["time"].values), desc="4D-Var", disable=not progress)):
        i = all_times.get_loc(day)
        if i < need:
            raise DataError(f"variational_inversion: day {day.date()} has {i} day(s) before it in the world; "
                            f"expected at least {need} (a previous overpass state"
                            f"{'' if spinup_days is None else f' and {spinup_days} spin-up day(s)'})")
        t0 = time.perf_counter()
        if spinup_days is None:
            e, j = invert_day(i, t(world["nox_column"].values[i - 1]))
        else:
            c = torch.full(world["nox_column"].shape[1:], background, dtype=tdtype, device=device)
            for d in range(i - int(spinup_days), i + 1):
                e, j = invert_day(d, c)
                with torch.no_grad():
                    c = simulate_day(c, e, *model_inputs(d), grid, **kw)
        out[k] = e.cpu().numpy()
        costs.append(j)
        seconds.append(time.perf_counter() - t0)
    initial = "true previous column" if spinup_days is None else f"own analysis after {spinup_days} spin-up days"
    return emission_array(out, sel["no2_column"], long_name="NOx emission, variational inversion (true model)",
                          method=f"variational (4D-Var, true transport, L-BFGS; initial state: {initial})",
                          seconds_per_day=float(np.mean(seconds)) if seconds else float("nan"),
                          prior_rel_error=float(prior_rel_error), n_iter=int(n_iter), initial_state=initial,
                          final_cost=json.dumps([round(c, 3) for c in costs]))
