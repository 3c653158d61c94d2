"""OOD scores and AUROC against scikit-learn."""

import numpy as np
import pytest

from eoretrieval.rain.ood import KNNScore, MahalanobisScore, auroc, scene_features


def test_auroc_matches_sklearn():
    sk = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 1, 300), rng.normal(0.8, 1, 200)
    b[:20] = a[:20]  # ties
    expected = sk.roc_auc_score(np.r_[np.zeros(len(a)), np.ones(len(b))], np.r_[a, b])
    assert auroc(a, b) == pytest.approx(expected, abs=1e-12)


def test_auroc_errors():
    with pytest.raises(ValueError):
        auroc(np.array([]), np.array([1.0]))


def test_mahalanobis_closed_form():
    rng = np.random.default_rng(1)
    cov = np.array([[4.0, 1.0], [1.0, 2.0]])
    x = rng.multivariate_normal([1.0, -1.0], cov, 200000)
    s = MahalanobisScore(shrinkage=0.0).fit(x)
    z = np.array([[3.0, 0.0]]) - np.array([1.0, -1.0])
    expected = (z @ np.linalg.inv(cov) @ z.T).item()
    assert s.score(np.array([[3.0, 0.0]]))[0] == pytest.approx(expected, rel=0.02)


def test_scores_separate_shifted_data():
    rng = np.random.default_rng(2)
    train = rng.normal(0, 1, (500, 5))
    ind, out = rng.normal(0, 1, (200, 5)), rng.normal(2.0, 1, (200, 5))
    for score in (MahalanobisScore(), KNNScore(k=5)):
        score.fit(train)
        assert auroc(score.score(ind), score.score(out)) > 0.95


def test_scene_features_shape_and_finite():
    import xarray as xr
    tb = xr.DataArray(np.random.default_rng(0).normal(250, 5, (3, 2, 4, 4)), dims=("sample", "channel", "y", "x"))
    land = xr.DataArray(np.zeros((3, 4, 4)), dims=("sample", "y", "x"))
    land[1] = 1.0
    land[2, :2] = 1.0
    f = scene_features(xr.Dataset({"tb": tb, "land_fraction": land}))
    assert f.shape == (3, 2 * 2 * 3 + 1) and np.isfinite(f).all()
    np.testing.assert_allclose(f[:, -1], [0.0, 1.0, 0.5])
