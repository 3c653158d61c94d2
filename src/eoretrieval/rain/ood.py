"""Out-of-distribution scores for retrieval inputs, and their judgement by the area under the ROC curve.

A score is fitted on features of the training scenes and grows for scenes unlike them:

- :class:`MahalanobisScore`: squared Mahalanobis distance to the training mean, with a shrunk
  covariance (Lee et al. 2018 use it on network features);
- :class:`KNNScore`: distance to the k-th nearest training scene in standardised feature space
  (Sun et al. 2022).

:func:`ood_aurocs` fits both on training scenes and judges them on each warmer regime.
:func:`scene_features` summarises a scene's brightness temperatures (per channel, quantiles over ocean and
land pixels separately); network features come from :func:`eoretrieval.rain.gmi_train` models.
:func:`auroc` is the Mann–Whitney probability that an OOD scene scores higher than an in-distribution one.

Public names: :class:`MahalanobisScore`, :class:`KNNScore`, :func:`scene_features`, :func:`auroc`.

References
----------
:cite:`lee2018` (Mahalanobis OOD detection), :cite:`sun2022` (k-NN OOD detection), :cite:`fawcett2006` (ROC).
"""

from __future__ import annotations

import warnings

import numpy as np
import xarray as xr
from scipy import stats

from ..conventions import CHANNEL, X, Y
from .gmi_simulator import SAMPLE

__all__ = ["MahalanobisScore", "KNNScore", "scene_features", "auroc", "ood_aurocs"]


def auroc(scores_in: np.ndarray, scores_out: np.ndarray) -> float:
    """Area under the ROC curve for separating ``scores_out`` (positives) from ``scores_in``.

    .. math:: \\mathrm{AUROC} = P(s_{out} > s_{in}) + \\tfrac12 P(s_{out} = s_{in})

    computed from mid-ranks (Mann–Whitney U).

    Examples
    --------
    >>> auroc(np.array([0.0, 1.0]), np.array([2.0, 3.0]))
    1.0
    >>> auroc(np.array([1.0, 1.0]), np.array([1.0]))
    0.5
    """
    a = np.asarray(scores_in, dtype=float).ravel()
    b = np.asarray(scores_out, dtype=float).ravel()
    if len(a) == 0 or len(b) == 0:
        raise ValueError("auroc: need at least one in-distribution and one OOD score")
    ranks = stats.rankdata(np.concatenate([a, b]))
    u = ranks[len(a):].sum() - len(b) * (len(b) + 1) / 2.0
    return float(u / (len(a) * len(b)))


def scene_features(ds: xr.Dataset, *, quantiles=(0.1, 0.5, 0.9)) -> np.ndarray:
    """Per-scene features: for each channel, ``quantiles`` of Tb over ocean and over land pixels.

    A surface type absent from a scene takes the other type's value (so features are always finite).

    Returns
    -------
    numpy.ndarray
        ``(sample, 2 * n_channel * n_quantile + 1)``; the last column is the land fraction.
    """
    tb = ds["tb"].transpose(SAMPLE, CHANNEL, Y, X).values
    land = ds["land_fraction"].transpose(SAMPLE, Y, X).values > 0.5
    n, c = tb.shape[:2]
    flat = tb.reshape(n, c, -1)
    lf = land.reshape(n, -1)
    feats = []
    for mask in (~lf, lf):
        m = np.where(mask[:, None, :], flat, np.nan)
        with warnings.catch_warnings():  # scenes without this surface type give NaN, filled below
            warnings.simplefilter("ignore", RuntimeWarning)
            q = np.nanquantile(m, quantiles, axis=2)
        feats.append(np.moveaxis(np.asarray(q), 0, -1).reshape(n, -1))
    ocean, landf = feats
    ocean = np.where(np.isnan(ocean), landf, ocean)
    landf = np.where(np.isnan(landf), ocean, landf)
    return np.concatenate([ocean, landf, lf.mean(axis=1, keepdims=True)], axis=1)


class MahalanobisScore:
    """Squared Mahalanobis distance :math:`(f - \\mu)^\\top \\Sigma^{-1} (f - \\mu)` with a shrunk covariance.

    :math:`\\Sigma = (1 - \\lambda) \\hat\\Sigma + \\lambda\\,\\mathrm{tr}(\\hat\\Sigma)/d\\,I`.

    Examples
    --------
    >>> s = MahalanobisScore(shrinkage=0.0).fit(np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]]))
    >>> round(float(s.score(np.array([[3.0, 0.0]]))[0]), 6)  # variance 2/3 per axis: 9 / (2/3)
    13.5
    """

    def __init__(self, *, shrinkage: float = 0.05) -> None:
        self.shrinkage = shrinkage

    def fit(self, features: np.ndarray) -> "MahalanobisScore":
        """Fit mean and covariance on training features ``(n, d)``."""
        f = np.asarray(features, dtype=float)
        self.mean_ = f.mean(axis=0)
        cov = np.cov(f, rowvar=False)
        cov = np.atleast_2d(cov)
        d = cov.shape[0]
        cov = (1 - self.shrinkage) * cov + self.shrinkage * np.trace(cov) / d * np.eye(d)
        self.precision_ = np.linalg.pinv(cov)
        return self

    def score(self, features: np.ndarray) -> np.ndarray:
        """Scores ``(n,)`` of features ``(n, d)``; larger = further from the training data."""
        z = np.asarray(features, dtype=float) - self.mean_
        return np.einsum("ij,jk,ik->i", z, self.precision_, z)


class KNNScore:
    """Euclidean distance to the ``k``-th nearest training point in standardised feature space."""

    def __init__(self, *, k: int = 10) -> None:
        self.k = k

    def fit(self, features: np.ndarray) -> "KNNScore":
        """Store standardised training features ``(n, d)``."""
        f = np.asarray(features, dtype=float)
        self.mean_, self.std_ = f.mean(axis=0), f.std(axis=0) + 1e-9
        self.train_ = (f - self.mean_) / self.std_
        return self

    def score(self, features: np.ndarray) -> np.ndarray:
        """Scores ``(n,)``; larger = further from the training data."""
        z = (np.asarray(features, dtype=float) - self.mean_) / self.std_
        d2 = (z ** 2).sum(1)[:, None] + (self.train_ ** 2).sum(1)[None, :] - 2 * z @ self.train_.T
        k = min(self.k, self.train_.shape[0]) - 1
        return np.sqrt(np.maximum(np.partition(d2, k, axis=1)[:, k], 0.0))


def ood_aurocs(train: xr.Dataset, tests: dict[str, xr.Dataset], *, reference: str = "present",
               k: int = 10) -> dict[str, float]:
    """Fit the scores on ``train`` scene features; AUROC of each warmer regime against ``tests[reference]``.

    Returns
    -------
    dict
        ``{"mahalanobis": ..., "knn": ...}`` for the warmest regime (``plus4K``) and
        ``{"mahalanobis_<regime>": ..., "knn_<regime>": ...}`` for every other non-reference regime.
    """
    feats_train = scene_features(train)
    feats = {name: scene_features(ds) for name, ds in tests.items()}
    out: dict[str, float] = {}
    for key, score in (("mahalanobis", MahalanobisScore()), ("knn", KNNScore(k=k))):
        score.fit(feats_train)
        s_ref = score.score(feats[reference])
        for name, f in feats.items():
            if name == reference:
                continue
            value = auroc(s_ref, score.score(f))
            out[key if name == "plus4K" else f"{key}_{name}"] = value
    # reference: the (unobservable) true surface temperature as the score
    if "surface_temperature" in tests[reference]:
        for name, ds in tests.items():
            if name != reference:
                value = auroc(tests[reference]["surface_temperature"].values, ds["surface_temperature"].values)
                out["oracle_surface_temperature" + ("" if name == "plus4K" else f"_{name}")] = value
    return out
