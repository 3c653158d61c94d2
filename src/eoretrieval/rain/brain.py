"""Bayesian database retrieval of rain (BRAIN / GPROF style).

An a-priori database holds simulated pixels: their brightness temperatures :math:`\\mathbf{T}_j` and rain
rates :math:`R_j`, per surface class. For an observation :math:`\\mathbf{T}_o` the retrieval is the
posterior mean :cite:`kummerow1996,kummerow2015`

.. math::
    \\hat R = \\frac{\\sum_j R_j\\,w_j}{\\sum_j w_j},\\qquad
    w_j = \\exp\\Big[-\\tfrac12 (\\mathbf{T}_o - \\mathbf{T}_j)^\\top \\mathbf{S}^{-1} (\\mathbf{T}_o - \\mathbf{T}_j)\\Big]

with :math:`\\mathbf{S}` the channel error covariance: instrument noise (NEΔT²) plus a forward-model
(representativeness) error on the diagonal, or a full matrix. The posterior standard deviation and the
probability of rain come from the same weights.

Public names: :class:`BayesianDatabase`, :func:`channel_covariance`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from ..conventions import CHANNEL, UNITS, X, Y
from .gmi_simulator import SAMPLE, get_channels

__all__ = ["BayesianDatabase", "channel_covariance"]


def channel_covariance(sensor: str = "gmi", *, model_error_k: float | Sequence[float] = 2.0) -> np.ndarray:
    """Diagonal channel error covariance (K²): :math:`S_{cc} = \\mathrm{NE\\Delta T}_c^2 + \\sigma_{m,c}^2`.

    Examples
    --------
    >>> s = channel_covariance("gmi", model_error_k=0.0)
    >>> s.shape, round(float(s[0, 0]), 4)
    ((13, 13), 0.9216)
    """
    nedt = np.array([ch.nedt_k for ch in get_channels(sensor)])
    model = np.broadcast_to(np.asarray(model_error_k, dtype=float), nedt.shape)
    return np.diag(nedt ** 2 + model ** 2)


class BayesianDatabase:
    """A-priori database of simulated pixels and the Bayesian (importance-weighted) retrieval.

    Parameters
    ----------
    covariance : array (n_channel, n_channel)
        Channel error covariance :math:`\\mathbf S` in K², e.g. :func:`channel_covariance`.
    n_per_class : int
        Database pixels kept per surface class (ocean, land); half rainy, half drawn from all pixels.
    seed : int
        Subsampling seed.

    Examples
    --------
    >>> import numpy as np
    >>> db = BayesianDatabase(np.eye(2))
    >>> db.fit_arrays(np.array([[0.0, 0.0], [10.0, 0.0]]), np.array([0.0, 5.0]), np.array([0, 0]))
    BayesianDatabase(n=2)
    >>> float(db.retrieve_arrays(np.array([[5.0, 0.0]]), np.array([0]))[0][0])
    2.5
    """

    def __init__(self, covariance: np.ndarray, *, n_per_class: int = 6000, seed: int = 0) -> None:
        cov = np.asarray(covariance, dtype=float)
        if cov.ndim != 2 or cov.shape[0] != cov.shape[1]:
            raise ValueError(f"covariance must be a square matrix, got shape {cov.shape}")
        self.covariance = cov
        # whitening: d^T S^-1 d = |L^-1 d|^2 with S = L L^T
        self._whiten = np.linalg.inv(np.linalg.cholesky(cov))
        self.n_per_class = n_per_class
        self.seed = seed
        self._db: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def __repr__(self) -> str:
        return f"BayesianDatabase(n={sum(len(v[1]) for v in self._db.values())})"

    def fit_arrays(self, tb: np.ndarray, rain: np.ndarray, surface: np.ndarray) -> "BayesianDatabase":
        """Fill the database from pixel arrays: ``tb`` (n, channel) K, ``rain`` (n,) mm h-1, ``surface`` (n,) int."""
        if tb.shape[1] != self.covariance.shape[0]:
            raise ValueError(f"database Tb have {tb.shape[1]} channels; the covariance has {self.covariance.shape[0]}")
        rng = np.random.default_rng(self.seed)
        for cls in np.unique(surface):
            idx = np.flatnonzero(surface == cls)
            if len(idx) > self.n_per_class:
                wet = idx[rain[idx] > 0.1]
                half = min(len(wet), self.n_per_class // 2)
                pick = rng.choice(wet, half, replace=False) if half else np.array([], dtype=int)
                rest = np.setdiff1d(idx, pick)
                pick = np.concatenate([pick, rng.choice(rest, self.n_per_class - half, replace=False)])
                # keep the prior unbiased: weight entries by the inverse of their inclusion probability
                p_wet = half / max(len(wet), 1) + (1 - half / max(len(wet), 1)) * (self.n_per_class - half) / len(rest)
                p_dry = (self.n_per_class - half) / len(rest)
                prior = np.where(rain[pick] > 0.1, 1.0 / p_wet, 1.0 / p_dry)
            else:
                pick, prior = idx, np.ones(len(idx))
            self._db[int(cls)] = ((tb[pick] @ self._whiten.T).astype(np.float32), rain[pick],
                                  prior / prior.sum())
        return self

    def fit(self, ds: xr.Dataset) -> "BayesianDatabase":
        """Fill the database from a simulated data set (``tb``, ``surface_precip``, ``land_fraction``)."""
        tb, rain, surf = _pixels(ds)
        return self.fit_arrays(tb, rain, surf)

    def retrieve_arrays(self, tb: np.ndarray, surface: np.ndarray, *, chunk: int = 2048
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Posterior mean, standard deviation and probability of rain (> 0.1 mm h-1) for pixels ``tb`` (n, channel)."""
        if not self._db:
            raise RuntimeError("BayesianDatabase: empty database; call fit() first")
        n = len(tb)
        mean, sd, pop = np.zeros(n), np.zeros(n), np.zeros(n)
        for cls in np.unique(surface):
            key = int(cls) if int(cls) in self._db else next(iter(self._db))
            dtb, drain, prior = self._db[key]
            dn2 = (dtb ** 2).sum(axis=1)
            idx = np.flatnonzero(surface == cls)
            for s in range(0, len(idx), chunk):
                sel = idx[s:s + chunk]
                # float32 distances (whitened Tb are O(100); the cancellation error is << 1)
                w_obs = (tb[sel] @ self._whiten.T).astype(np.float32)
                d2 = (w_obs ** 2).sum(axis=1)[:, None] + dn2[None, :] - 2.0 * (w_obs @ dtb.T)
                logw = -0.5 * np.maximum(d2, 0.0) + np.log(prior).astype(np.float32)[None, :]
                logw -= logw.max(axis=1, keepdims=True)
                w = np.exp(logw)
                w = (w / w.sum(axis=1, keepdims=True)).astype(np.float64)
                m = w @ drain
                mean[sel] = m
                sd[sel] = np.sqrt(np.maximum(w @ drain ** 2 - m ** 2, 0.0))
                pop[sel] = w @ (drain > 0.1).astype(float)
        return mean, sd, pop

    def retrieve(self, ds: xr.Dataset) -> xr.Dataset:
        """Retrieve rain for every pixel of ``ds``; returns ``surface_precip``, ``precip_sd``, ``pop`` (sample, y, x)."""
        tb, _, surf = _pixels(ds, need_rain=False)
        mean, sd, pop = self.retrieve_arrays(tb, surf)
        shape = (ds.sizes[SAMPLE], ds.sizes[Y], ds.sizes[X])
        units = {"units": UNITS["rain_rate"]}
        return xr.Dataset({
            "surface_precip": ((SAMPLE, Y, X), mean.reshape(shape).astype(np.float32),
                               dict(units, long_name="posterior-mean surface precipitation")),
            "precip_sd": ((SAMPLE, Y, X), sd.reshape(shape).astype(np.float32),
                          dict(units, long_name="posterior standard deviation")),
            "pop": ((SAMPLE, Y, X), pop.reshape(shape).astype(np.float32),
                    {"units": "1", "long_name": "probability of precipitation"}),
        })


def _pixels(ds: xr.Dataset, *, need_rain: bool = True) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    tb = ds["tb"].transpose(SAMPLE, Y, X, CHANNEL).values.reshape(-1, ds.sizes[CHANNEL]).astype(float)
    surf = (ds["land_fraction"].transpose(SAMPLE, Y, X).values.reshape(-1) > 0.5).astype(int)
    rain = ds["surface_precip"].transpose(SAMPLE, Y, X).values.reshape(-1).astype(float) if need_rain else None
    return tb, rain, surf
