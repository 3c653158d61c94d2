"""Tests of eoretrieval.rain.seviri_eval: the evaluation suite on hand-made fields with known answers."""

import numpy as np
import pytest

pytest.importorskip("torch")

from eoretrieval.errors import DataError  # noqa: E402
from eoretrieval.rain.seviri_eval import (SEVIRI_PROFILES, as_fields, crr_statistics, score,  # noqa: E402
                                          validation_frames)
from eoretrieval.rain.targets import TARGETS  # noqa: E402
from eoretrieval.targets import evaluate_targets  # noqa: E402


def _truth(n=3, size=32, seed=0):
    rng = np.random.default_rng(seed)
    from scipy import ndimage
    f = ndimage.gaussian_filter(rng.gamma(0.5, 8.0, (n, size, size)), (0, 1.5, 1.5))
    return np.where(f > 3.0, f, 0.0).astype(np.float32)


def test_perfect_ensemble():
    t = _truth()
    m = score(as_fields(np.stack([t, t, t]), spacing_km=4.0), as_fields(t, spacing_km=4.0), spacing_km=4.0)
    assert m["csi_1"] == pytest.approx(1.0) and m["hss_1"] == pytest.approx(1.0)
    assert m["fss_1mm_16km"] == pytest.approx(1.0)
    assert 0.3 < m["wet_fraction_truth"] < 0.9
    # pooled quantiles of identical members differ from the truth's only by interpolation
    assert m["q99_ratio"] == pytest.approx(1.0, rel=0.01) and m["q999_ratio"] == pytest.approx(1.0, rel=0.01)
    assert m["psd_slope_err"] == pytest.approx(0.0, abs=1e-9) and m["crps"] == pytest.approx(0.0, abs=1e-7)
    assert m["n_members"] == 3 and len(m["rank_histogram"]) == 4


def test_deterministic_crps_is_mae_and_doubling_doubles_quantiles():
    t = _truth()
    m = score(as_fields((2 * t)[None], spacing_km=4.0), as_fields(t, spacing_km=4.0), spacing_km=4.0)
    assert m["crps"] == pytest.approx(float(np.mean(np.abs(2 * t - t))), rel=1e-5)
    assert m["q99_ratio"] == pytest.approx(2.0, rel=1e-5) and m["q999_ratio"] == pytest.approx(2.0, rel=1e-5)
    # a scaled field has the same spectral slope; categorical scores only change at thresholds
    assert m["psd_slope_err"] == pytest.approx(0.0, abs=1e-9)
    assert "crps_fair" not in m


def test_white_noise_has_flat_spectrum_and_large_slope_error():
    t = _truth(size=64)
    noise = np.random.default_rng(3).exponential(1.0, t.shape).astype(np.float32)
    m = score(as_fields(noise[None], spacing_km=4.0), as_fields(t, spacing_km=4.0), spacing_km=4.0)
    assert abs(m["psd_slope"]) < 0.5 and m["psd_slope_truth"] < -2
    assert m["psd_slope_err"] == pytest.approx(abs(m["psd_slope"] - m["psd_slope_truth"]))


def test_ensemble_spread_and_categorical_table():
    t = _truth()
    rng = np.random.default_rng(1)
    ens = np.stack([t * rng.lognormal(0, 0.5, t.shape) for _ in range(5)]).astype(np.float32)
    m = score(as_fields(ens, spacing_km=4.0), as_fields(t, spacing_km=4.0), spacing_km=4.0)
    assert 0 < m["crps_fair"] < m["crps"] and m["spread_skill"] > 0
    assert set(m["categorical"]) == {"0.1", "1", "5", "10"}
    assert sum(m["rank_histogram"]) == pytest.approx(1.0)


def test_profiles_keep_the_nfe_ratio_of_the_targets():
    for prof in SEVIRI_PROFILES.values():
        assert prof.nfe["flow_matching"] * 10 <= prof.nfe["ddpm"]
        assert prof.nfe["ddpm"] in prof.nfe_curve_ddpm and prof.nfe["flow_matching"] in prof.nfe_curve_fm


def test_targets_read_the_metrics_layout():
    metrics = {"methods": {name: {"csi_1": 0.3, "crps": 0.2, "q999_ratio": 1.0, "psd_slope_err": 0.1, "nfe": n}
                           for name, n in (("unet", 1), ("ddpm", 50), ("flow_matching", 5),
                                           ("residual_fm", 5), ("flow_matching_1frame", 5))}}
    results = evaluate_targets(metrics, TARGETS["03_seviri_flow_matching"])
    assert all(r.measured is not None for r in results)


def test_crr_statistics():
    import xarray as xr
    crr = xr.DataArray(np.array([0.0, 0.0, 1.0, 5.0]))
    out = crr_statistics(crr, crr)
    assert out["overlap_with_test"] is False and out["crr"]["wet_fraction"] == 0.5


def _sequence(n=8, step_min=15.0):
    import pandas as pd
    import xarray as xr

    times = pd.date_range("2010-08-26T05:00", periods=n, freq=f"{int(step_min)}min")
    return xr.DataArray(np.zeros((n, 2, 2), np.float32), dims=("time", "y", "x"), coords={"time": times},
                        attrs={"time_step_min": step_min, "source_files": ["seq_000.h5"]})


def test_validation_frames_keep_history_but_no_training_target():
    rain = _sequence()
    sel = validation_frames(rain, {"val_period": ["2010-08-26T06:00:00", "2010-08-26T06:45:00"]}, n_frames=3)
    assert [str(t)[11:16] for t in sel.time.values] == ["05:30", "05:45", "06:00", "06:15", "06:30", "06:45"]
    # targets need n_frames - 1 earlier frames, so the first target is the validation start
    assert str(sel.time.values[3 - 1])[11:16] == "06:00"


def test_validation_frames_reject_another_sequence_or_an_old_manifest():
    rain = _sequence()
    with pytest.raises(DataError, match="seq_000.h5.*validation start"):
        validation_frames(rain, {"val_period": ["2011-01-01T00:00:00", "2011-01-01T01:00:00"]}, n_frames=3)
    with pytest.raises(DataError, match="val_period"):
        validation_frames(rain, {"command": "python -m eoretrieval.train rain_seviri"}, n_frames=3)
