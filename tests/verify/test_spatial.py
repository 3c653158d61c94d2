"""Tests of eoretrieval.verify.spatial: FSS on hand-made fields, against pysteps and a periodic FFT reference."""

import numpy as np
import pytest
import xarray as xr

from eoretrieval.verify import fss, scale_in_cells


def _fields(seed, shape=(3, 48, 64)):
    rng = np.random.default_rng(seed)
    truth = xr.DataArray(rng.gamma(0.5, 2.0, shape), dims=("time", "y", "x")[-len(shape):], attrs={"units": "mm h-1"})
    pred = xr.DataArray(np.roll(truth.values, 2, axis=-1) + rng.gamma(0.3, 1.0, shape), dims=truth.dims,
                        attrs={"units": "mm h-1"})
    return pred, truth


def test_hand_made_displaced_square():
    # a 2x2 event square, predicted displaced by 2 cells: no overlap at scale 1; at scale 3 with
    # zero padding: sum F^2 = sum O^2 = 4 (cells) ... computed below by hand-counted windows
    t = xr.DataArray(np.zeros((9, 9)), dims=("y", "x"))
    t[3:5, 3:5] = 1.0
    p = t.roll(x=2)
    out = fss(p, t, threshold=0.5, scale=[1, 3, 9])
    assert out.dims == ("scale",) and out.scale.values.tolist() == [1, 3, 9]
    assert float(out.sel(scale=1)) == 0.0
    # scale 9 = whole domain around the centre cell; a perfect forecast has FSS 1 at every scale
    np.testing.assert_allclose(fss(t, t, threshold=0.5, scale=[1, 3, 5]).values, 1.0)
    # scale 3: O is 1/9 * (number of event cells in each 3x3 window); brute force
    def frac(a, s):
        pad = np.pad(a, s // 2)
        return np.array([[pad[i:i + s, j:j + s].mean() for j in range(a.shape[1])] for i in range(a.shape[0])])
    f3, o3 = frac(p.values, 3), frac(t.values, 3)
    expected = 1 - ((f3 - o3) ** 2).sum() / (f3 ** 2 + o3 ** 2).sum()
    assert float(out.sel(scale=3)) == pytest.approx(expected)
    assert 0.0 < expected < 1.0


def test_against_pysteps_fss():
    sp = pytest.importorskip("pysteps.verification.spatialscores")
    pred, truth = _fields(0)
    thresholds, scales = [0.5, 2.0], [1, 3, 7, 15]
    ours = fss(pred, truth, threshold=thresholds, scale=scales)
    assert ours.dims == ("threshold", "scale") and ours.attrs["units"] == "1"
    for thr in thresholds:
        for s in scales:
            # pooled over time: pysteps fss_accum over the fields, then fss_compute
            obj = sp.fss_init(thr, s)
            for i in range(pred.sizes["time"]):
                sp.fss_accum(obj, pred.values[i], truth.values[i])
            assert float(ours.sel(threshold=thr, scale=s)) == pytest.approx(sp.fss_compute(obj), rel=1e-12)
            # one field
            one = fss(pred.isel(time=0), truth.isel(time=0), threshold=thr, scale=s)
            assert float(one) == pytest.approx(sp.fss(pred.values[0], truth.values[0], thr, s), rel=1e-12)
    # per-field scores with dim=("y", "x")
    per = fss(pred, truth, threshold=0.5, scale=7, dim=("y", "x"))
    assert per.dims == ("time",)
    np.testing.assert_allclose(per.values, [sp.fss(pred.values[i], truth.values[i], 0.5, 7) for i in range(3)],
                               rtol=1e-12)


def test_periodic_boundary_equals_fft_convolution():
    # boundary="wrap" differs from pysteps (zero padding): the reference is a circular moving average by FFT
    pred, truth = _fields(1, shape=(32, 40))
    s, thr = 5, 1.0

    def circ_frac(a):
        kernel = np.zeros(a.shape)
        idx = np.r_[0:s // 2 + 1, -(s // 2):0]
        kernel[np.ix_(idx, idx)] = 1.0 / s ** 2
        return np.real(np.fft.ifft2(np.fft.fft2((a >= thr).astype(float)) * np.fft.fft2(kernel)))

    f, o = circ_frac(pred.values), circ_frac(truth.values)
    ref = 1 - ((f - o) ** 2).sum() / (f ** 2 + o ** 2).sum()
    assert float(fss(pred, truth, threshold=thr, scale=s, boundary="wrap")) == pytest.approx(ref, rel=1e-10)
    assert float(fss(pred, truth, threshold=thr, scale=s)) != pytest.approx(ref, rel=1e-6)


def test_nan_handling_relation_to_pysteps():
    sp = pytest.importorskip("pysteps.verification.spatialscores")
    pred, truth = _fields(2, shape=(30, 30))
    pred = pred.copy()
    pred[5, 5] = np.nan
    assert np.isnan(float(fss(pred, truth, threshold=1.0, scale=3)))
    # pysteps makes a NaN a non-event and keeps its cell in the sums; we do the same in the windows but drop
    # the cell from the sums with skipna=True, so we equal pysteps with that cell's pair removed
    ours = float(fss(pred, truth, threshold=1.0, scale=3, skipna=True))
    ref_full = sp.fss(pred.values, truth.values, 1.0, 3)
    assert ours != pytest.approx(ref_full, rel=1e-9)
    f = xr.DataArray(np.nan_to_num(pred.values, nan=-1.0), dims=("y", "x"))
    w = xr.DataArray(np.ones((30, 30)), dims=("y", "x"))
    w[5, 5] = 0.0
    assert ours == pytest.approx(float(fss(f, truth, threshold=1.0, scale=3, weights=w)), rel=1e-12)


def test_scale_in_cells_and_errors():
    assert scale_in_cells(25.0, spacing=3.0) == 9
    assert scale_in_cells([0.0, 3.0, 5.9, 6.1, 12.0], spacing=3.0) == [1, 1, 1, 3, 5]  # 4 cells: a tie, goes up
    assert scale_in_cells(100.0, spacing=2.0) == 51
    with pytest.raises(ValueError, match="positive"):
        scale_in_cells(10.0, spacing=0.0)
    t = xr.DataArray(np.zeros((4, 4)), dims=("lat", "lon"))
    with pytest.raises(ValueError, match="needs a 'lat' coordinate"):
        fss(t, t, threshold=1.0, scale=3, spatial_dims=("lat", "lon"))
    t = t.assign_coords(lat=[50.0, 51.0, 52.0, 53.0])
    with pytest.raises(ValueError, match="spatial dims"):
        fss(t, t, threshold=1.0, scale=3)
    assert float(fss(t + 2, t + 2, threshold=1.0, scale=3, spatial_dims=("lat", "lon"))) == 1.0
    with pytest.raises(ValueError, match="integers"):
        fss(t, t, threshold=1.0, scale=2.5, spatial_dims=("lat", "lon"))
    with pytest.raises(ValueError, match="boundary"):
        fss(t, t, threshold=1.0, scale=3, spatial_dims=("lat", "lon"), boundary="zero")
