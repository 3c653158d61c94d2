r"""CASA-like carbon pools for ecosystem respiration, fed by modelled GPP.

Two heterotrophic pools (litter, soil) receive net primary production NPP = (1 - f_a) GPP;
autotrophic respiration is a fixed fraction of GPP:

.. math::

    R_a = f_a\,\mathrm{GPP},\quad
    \frac{dC_l}{dt} = \mathrm{NPP} - k_l g C_l,\quad
    \frac{dC_s}{dt} = h\,k_l g C_l - k_s g C_s,\quad
    R_h = (1-h)\,k_l g C_l + k_s g C_s,

with the environmental modifier :math:`g = Q_{10}^{(T-T_{ref})/10}\,[1 - w_m(1-W)]`
(temperature Q10 and moisture limitation, W the relative moisture 0-1). Pools start at
``eta`` times their steady state under the site's mean forcing (``eta`` < 1: a sink,
as at aggrading sites). Integration is implicit (unconditionally stable) per time step.
The structure follows CASA (Potter et al. 1993) reduced to two pools.

Public names: :func:`casa_respiration`, :func:`casa_spinup_respiration`, :func:`linear_recurrence`.

References
----------
:cite:`potter1993`
"""

from __future__ import annotations

import numpy as np

__all__ = ["casa_respiration", "casa_spinup_respiration", "linear_recurrence"]


def linear_recurrence(a: np.ndarray, b: np.ndarray, c0: float) -> np.ndarray:
    """Return ``c[1..N]`` of ``c[n+1] = a[n] c[n] + b[n]`` (0 < a <= 1), vectorised in blocks.

    Examples
    --------
    >>> linear_recurrence(np.array([0.5, 0.5]), np.array([1.0, 1.0]), 0.0).tolist()
    [1.0, 1.5]
    """
    a = np.asarray(a, float)
    b = np.asarray(b, float)
    out = np.empty_like(a)
    if a.ndim == 2:  # (time, pixel): plain loop over time, vectorised over pixels
        c = np.broadcast_to(np.asarray(c0, float), a.shape[1:]).copy()
        for n in range(a.shape[0]):
            c = a[n] * c + b[n]
            out[n] = c
        return out
    s = -np.log(np.clip(a, 1e-300, 1.0))
    c = float(np.asarray(c0))
    i, n = 0, len(a)
    while i < n:
        cs = np.cumsum(s[i:])
        j = i + max(1, int(np.searchsorted(cs, 50.0)))
        j = min(j, n)
        logp = np.concatenate([[0.0], np.cumsum(s[i:j])])  # -log P_m, m = 0..len
        # c_m = P_m (c + sum_{k<m} b_k / P_{k+1})
        inv = np.exp(logp[1:])
        acc = np.cumsum(b[i:j] * inv)
        out[i:j] = np.exp(-logp[1:]) * (c + acc)
        c = out[j - 1]
        i = j
    return out


def casa_respiration(gpp, t, moisture, dt_days, *, f_auto: float, q10: float, k_litter: float,
                     eta: float, w_m: float, h: float = 0.3, k_soil: float = 0.03,
                     t_ref: float = 10.0) -> dict:
    """Respiration from two CASA-like pools for one site's continuous time series.

    Arrays may be 1-D (time) or 2-D (time, pixel); time is the first axis.

    Parameters
    ----------
    gpp : array, g C m-2 d-1
        Modelled GPP (never observed GPP, which would leak the truth at held-out sites).
    t : array, degC
    moisture : array, 0-1 (NaN = no limitation)
    dt_days : array, d
        Length of each time step (1 for daily, days in month for monthly).
    f_auto : float
        Autotrophic respiration fraction of GPP.
    q10 : float
        Temperature sensitivity.
    k_litter, k_soil : float, yr-1
        Turnover rates at ``t_ref`` and no moisture limitation.
    eta : float
        Initial pool size relative to steady state.
    w_m : float
        Moisture sensitivity (0: none).
    h : float
        Humified fraction of litter decomposition going to the soil pool.

    Returns
    -------
    dict
        ``ra``, ``rh``, ``reco`` (g C m-2 d-1), ``c_litter``, ``c_soil`` (g C m-2).
    """
    gpp = np.asarray(gpp, float)
    fill = np.nanmean(gpp, axis=0) if np.isfinite(gpp).any() else 0.0
    gpp = np.where(np.isfinite(gpp), gpp, np.nan_to_num(fill))
    t = np.asarray(t, float)
    t = np.where(np.isfinite(t), t, np.nanmean(t, axis=0))
    w = np.nan_to_num(np.asarray(moisture, float), nan=1.0)
    dt = np.asarray(dt_days, float)
    if gpp.ndim == 2:
        dt = dt.reshape(-1, 1) * np.ones_like(gpp)
        t = t * np.ones_like(gpp) if t.ndim == 2 else t.reshape(-1, 1) * np.ones_like(gpp)
    g = q10 ** ((t - t_ref) / 10.0) * (1.0 - w_m * (1.0 - w))
    kl, ks = k_litter / 365.25, k_soil / 365.25
    npp = (1.0 - f_auto) * gpp
    gm = np.mean(g, axis=0)
    cl0 = eta * np.mean(npp, axis=0) / (kl * gm)
    cs0 = eta * h * np.mean(npp, axis=0) / (ks * gm)
    al = 1.0 / (1.0 + kl * g * dt)
    cl = linear_recurrence(al, al * npp * dt, cl0)
    a_s = 1.0 / (1.0 + ks * g * dt)
    cs = linear_recurrence(a_s, a_s * h * kl * g * cl * dt, cs0)
    rh = (1.0 - h) * kl * g * cl + ks * g * cs
    ra = f_auto * gpp
    return {"ra": ra, "rh": rh, "reco": ra + rh, "c_litter": cl, "c_soil": cs}


def casa_spinup_respiration(gpp, t, moisture, *, f_auto: float, q10: float, k_litter: float, eta: float = 1.0,
                            w_m: float = 0.0, h: float = 0.3, k_soil: float = 0.03, t_ref: float = 10.0,
                            n_spinup: int = 5) -> dict:
    """Daily two-pool respiration with a spin-up: the first year of forcing is cycled ``n_spinup`` times.

    Same pools as :func:`casa_respiration` (daily step), but the litter pool starts from the end of a
    spin-up on the site's own first year (so its seasonal cycle is already periodic), and the slow soil
    pool at ``eta`` times its steady state under the mean forcing (``eta`` < 1: an aggrading, sink site).
    Missing GPP or temperature are filled with the record mean (flagged in ``filled``).

    Returns
    -------
    dict
        ``ra``, ``rh``, ``reco`` (g C m-2 d-1), ``c_litter``, ``c_soil`` (g C m-2), ``litter_input``
        (g C m-2 d-1), ``spinup_drift`` (relative change of the litter pool over the last spin-up cycle),
        ``filled`` (bool).
    """
    gpp = np.asarray(gpp, float)
    filled = ~np.isfinite(gpp)
    gpp = np.where(filled, np.nanmean(gpp) if np.isfinite(gpp).any() else 0.0, gpp)
    t = np.asarray(t, float)
    t = np.where(np.isfinite(t), t, np.nanmean(t))
    w = np.nan_to_num(np.asarray(moisture, float), nan=1.0)
    g = q10 ** ((t - t_ref) / 10.0) * (1.0 - w_m * (1.0 - w))
    kl, ks = k_litter / 365.25, k_soil / 365.25
    npp = (1.0 - f_auto) * gpp
    al = 1.0 / (1.0 + kl * g)
    n1 = min(365, len(gpp))
    cl = float(np.mean(npp[:n1]) / (kl * np.mean(g[:n1])))
    start = cl
    for _ in range(max(1, n_spinup)):
        start = cl
        cl = float(linear_recurrence(al[:n1], al[:n1] * npp[:n1], cl)[-1])
    drift = abs(cl - start) / max(abs(start), 1e-12)
    c_l = linear_recurrence(al, al * npp, cl)
    cs0 = eta * h * np.mean(npp) / (ks * np.mean(g))
    a_s = 1.0 / (1.0 + ks * g)
    c_s = linear_recurrence(a_s, a_s * h * kl * g * c_l, cs0)
    rh = (1.0 - h) * kl * g * c_l + ks * g * c_s
    ra = f_auto * gpp
    return {"ra": ra, "rh": rh, "reco": ra + rh, "c_litter": c_l, "c_soil": c_s, "litter_input": npp,
            "spinup_drift": drift, "filled": filled}
