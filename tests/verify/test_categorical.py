"""Tests of eoretrieval.verify.categorical: hand-made tables and pysteps' det_cat_fct on random fields."""

import numpy as np
import pytest
import xarray as xr

from eoretrieval.verify import categorical_scores, contingency_table, csi, ets, far, frequency_bias, hss, pod
from eoretrieval.verify.categorical import scores_from_table

ENTRIES = ("hits", "false_alarms", "misses", "correct_negatives")


def _fields(rng, shape=(6, 40, 50)):
    coords = {"time": np.arange(shape[0]), "y": np.arange(shape[1]), "x": np.arange(shape[2])}
    truth = xr.DataArray(rng.gamma(0.6, 2.0, shape), dims=("time", "y", "x"), coords=coords, attrs={"units": "mm h-1"})
    pred = (0.8 * truth + rng.gamma(0.5, 1.0, shape)).assign_attrs(units="mm h-1")
    return pred, truth


def test_hand_made_table_and_scores():
    # a=3 hits, b=1 false alarm, c=2 misses, d=4 correct negatives (event: value >= 1)
    p = xr.DataArray([1, 2, 5, 1, 0, 0, 0, 0, 0, 0.5], dims="x", attrs={"units": "mm h-1"})
    t = xr.DataArray([1, 3, 1, 0, 2, 7, 0, 0, 0.9, 0], dims="x", attrs={"units": "mm h-1"})
    tab = contingency_table(p, t, threshold=1.0, weights=None)
    assert [float(tab[k]) for k in ENTRIES] == [3, 1, 2, 4]
    a, b, c, d, n = 3, 1, 2, 4, 10
    ar = (a + b) * (a + c) / n
    chance = ((a + b) * (a + c) + (c + d) * (b + d)) / n  # correct by chance
    expected = {"pod": a / (a + c), "far": b / (a + b), "csi": a / (a + b + c), "frequency_bias": (a + b) / (a + c),
                "hss": ((a + d) - chance) / (n - chance), "ets": (a - ar) / (a + b + c - ar)}
    assert expected["hss"] == pytest.approx(0.4)  # hand value: (7 - 5) / (10 - 5)
    assert expected["ets"] == pytest.approx(0.25)  # (3 - 2) / (6 - 2)
    for name, f in [("pod", pod), ("far", far), ("csi", csi), ("hss", hss), ("ets", ets),
                    ("frequency_bias", frequency_bias)]:
        out = f(p, t, threshold=1.0)
        assert float(out) == pytest.approx(expected[name]), name
        assert out.attrs["units"] == "1" and out.name == name


def test_against_pysteps_det_cat_fct():
    det_cat_fct = pytest.importorskip("pysteps.verification.detcatscores").det_cat_fct
    pred, truth = _fields(np.random.default_rng(0))
    thresholds = [0.1, 1.0, 5.0]
    ours = categorical_scores(pred, truth, threshold=thresholds)
    assert ours["csi"].dims == ("threshold",) and ours["threshold"].attrs["units"] == "mm h-1"
    for thr in thresholds:
        # pysteps counts x > thr, we count x >= thr: identical on continuous random fields (no ties)
        ref = det_cat_fct(pred.values, truth.values, thr, scores=["POD", "FAR", "CSI", "HSS", "ETS", "BIAS"])
        for ours_name, ref_name in [("pod", "POD"), ("far", "FAR"), ("csi", "CSI"), ("hss", "HSS"), ("ets", "ETS"),
                                    ("frequency_bias", "BIAS")]:
            got = float(ours[ours_name].sel(threshold=thr))
            assert got == pytest.approx(ref[ref_name], rel=1e-12), (thr, ours_name)
    # per-time scores (axis=(1, 2) in pysteps)
    ref_t = det_cat_fct(pred.values, truth.values, 1.0, scores=["CSI"], axis=(1, 2))["CSI"]
    np.testing.assert_allclose(csi(pred, truth, threshold=1.0, dim=("y", "x")).values, ref_t, rtol=1e-12)


def test_ties_at_the_threshold_differ_from_pysteps_as_documented():
    det_cat_fct = pytest.importorskip("pysteps.verification.detcatscores").det_cat_fct
    # values exactly at the threshold are events for us (>=) and non-events for pysteps (>)
    p = xr.DataArray([1.0, 1.0, 0.0, 2.0, 0.0], dims="x")
    t = xr.DataArray([1.0, 0.0, 1.0, 2.0, 0.0], dims="x")
    assert float(csi(p, t, threshold=1.0)) == pytest.approx(2 / 4)
    assert det_cat_fct(p.values, t.values, 1.0, scores="CSI")["CSI"] == pytest.approx(1 / 1)
    # relation: ours at u equals pysteps just below u
    below = np.nextafter(1.0, -np.inf)
    assert float(csi(p, t, threshold=1.0)) == pytest.approx(det_cat_fct(p.values, t.values, below, scores="CSI")["CSI"])


def test_weights_equal_repeated_cells_and_area_default():
    p = xr.DataArray([2.0, 0.0, 2.0], dims="x")
    t = xr.DataArray([2.0, 2.0, 0.0], dims="x")
    w = xr.DataArray([3.0, 1.0, 2.0], dims="x")
    rep_p = xr.DataArray([2.0] * 3 + [0.0] + [2.0] * 2, dims="x")
    rep_t = xr.DataArray([2.0] * 3 + [2.0] + [0.0] * 2, dims="x")
    tab, rep = contingency_table(p, t, threshold=1.0, weights=w), contingency_table(rep_p, rep_t, threshold=1.0)
    for k in ENTRIES:
        assert float(tab[k]) == pytest.approx(float(rep[k]))
    # on a lat/lon grid the default weights are cos(lat), normalised to mean 1
    lat = [0.0, 60.0]
    pg = xr.DataArray([[2.0], [2.0]], dims=("lat", "lon"), coords={"lat": lat})
    tg = xr.DataArray([[2.0], [0.0]], dims=("lat", "lon"), coords={"lat": lat})
    tab = contingency_table(pg, tg, threshold=1.0)
    assert float(tab["hits"]) == pytest.approx(4 / 3) and float(tab["false_alarms"]) == pytest.approx(2 / 3)
    assert float(far(pg, tg, threshold=1.0)) == pytest.approx(1 / 3)
    assert float(far(pg, tg, threshold=1.0, weights=None)) == pytest.approx(1 / 2)


def test_streaming_tables_equal_one_shot():
    pred, truth = _fields(np.random.default_rng(1))
    one = categorical_scores(pred, truth, threshold=[0.5, 2.0])
    tabs = [contingency_table(pred.isel(time=s), truth.isel(time=s), threshold=[0.5, 2.0])
            for s in (slice(0, 2), slice(2, 6))]
    summed = scores_from_table(tabs[0] + tabs[1])
    for k in one:
        np.testing.assert_allclose(summed[k].values, one[k].values, rtol=1e-12)


def test_nan_semantics_and_undefined_scores():
    p = xr.DataArray([2.0, np.nan, 0.0], dims="x")
    t = xr.DataArray([2.0, 2.0, 0.0], dims="x")
    assert np.isnan(float(pod(p, t, threshold=1.0)))
    assert float(pod(p, t, threshold=1.0, skipna=True)) == pytest.approx(1.0)  # the missing pair is dropped
    # no observed event: POD undefined (NaN, no warning), FAR defined
    assert np.isnan(float(pod(t, t * 0, threshold=1.0))) and float(far(t, t * 0, threshold=1.0)) == 1.0


def test_units_are_checked():
    p = xr.DataArray([2.0], dims="x", attrs={"units": "mm h-1"}, name="rain")
    with pytest.raises(ValueError, match=r"rain: units 'mm h-1', expected 'mm d-1'"):
        csi(p, p, threshold=24.0, units="mm d-1")
    with pytest.raises(ValueError):  # misaligned coordinates
        csi(p.assign_coords(x=[0]), p.assign_coords(x=[5]), threshold=1.0)
