"""Tests of eoretrieval.rain.seviri_eval: the evaluation suite on hand-made fields with known answers."""

import numpy as np
import pytest

pytest.importorskip("torch")

from eoretrieval.errors import DataError  # noqa: E402
from eoretrieval.rain.seviri_eval import (SEVIRI_PROFILES, as_fields, crr_statistics, score,  # noqa: E402
                                          validation_frames)
from eoretrieval.rain.targets import TARGETS  # noqa: E402
from eoretrieval.targets import evaluate_targets  # noqa: E402
from eoretrieval.config import repo_root  # noqa: E402

KNMI_DIR = repo_root() / "data/radar_rain/knmi_rap_5min_20100826"
OPERA_DIR = repo_root() / "data/radar_rain/opera_odim_20180824"


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


def _bootstrap_case(n=12, size=32):
    """A truth, a close ensemble, a smoothed deterministic field and a poor ensemble, as score() would get them."""
    from scipy import ndimage
    t = _truth(n=n, size=size)
    rng = np.random.default_rng(7)
    good = np.stack([t * rng.lognormal(0, 0.3, t.shape) for _ in range(4)]).astype(np.float32)
    smooth = ndimage.gaussian_filter(t, (0, 2, 2))[None].astype(np.float32)
    poor = np.stack([np.roll(t, 5, axis=-1) * rng.lognormal(0, 0.8, t.shape) for _ in range(4)]).astype(np.float32)
    preds = {"flow_matching": as_fields(good, spacing_km=4.0, name="flow_matching"),
             "unet": as_fields(smooth, spacing_km=4.0, name="unet"),
             "ddpm": as_fields(poor, spacing_km=4.0, name="ddpm"),
             "flow_matching_1frame": as_fields(poor[:, ::-1].copy(), spacing_km=4.0, name="flow_matching_1frame")}
    return preds, as_fields(t, spacing_km=4.0, name="truth")


def test_tile_scores_on_all_tiles_equal_score():
    from eoretrieval.rain.seviri_eval import _TAIL_Q, _summarise, tile_scores
    preds, truth = _bootstrap_case()
    n_keep = int(np.ceil((max(p.size for p in preds.values()) - 1) * (1 - min(_TAIL_Q)))) + 2
    summaries = {m: _summarise(p, truth, n_keep) for m, p in preds.items()}
    got = tile_scores(summaries, _summarise(truth.expand_dims(member=1), None, n_keep),
                      np.arange(truth.sizes["sample"])[None], band_km=(8.0, 96.0))
    for method, pred in preds.items():
        want = score(pred, truth, spacing_km=4.0)
        for key in ("csi_1", "crps", "q99_ratio", "q999_ratio", "psd_slope_err"):
            assert got[method][key][0] == pytest.approx(want[key], rel=1e-5, abs=1e-9), (method, key)


def test_pooled_quantile_with_repeated_tiles_matches_numpy():
    from eoretrieval.rain.seviri_eval import _summarise, _pooled_quantile
    preds, truth = _bootstrap_case()
    s = _summarise(preds["flow_matching"], truth, n_keep=200)
    idx = np.array([3, 3, 3, 0, 11, 5, 5, 1, 2, 9, 9, 9])
    pooled = np.concatenate([np.moveaxis(preds["flow_matching"].values, 1, 0)[i].ravel() for i in idx])
    for q in (0.99, 0.999):
        assert _pooled_quantile(s, idx, q) == pytest.approx(float(np.quantile(pooled, q)), rel=1e-6)


def test_tile_bootstrap_intervals_and_verdicts():
    from eoretrieval.rain.seviri_eval import tile_bootstrap
    preds, truth = _bootstrap_case()
    targets = TARGETS["03_seviri_flow_matching"]
    nfe = {"unet": 1, "ddpm": 50, "flow_matching": 5, "flow_matching_1frame": 5}
    out = tile_bootstrap(preds, truth, targets=targets, nfe=nfe, band_km=(8.0, 96.0), n_boot=200, seed=1)
    assert out["n_tiles"] == 12 and out["n_boot"] == 200 and set(out["targets"]) == {t.name for t in targets}
    for name, r in out["targets"].items():
        if r["lo"] is not None:
            assert r["lo"] <= r["hi"], name
    crps = out["targets"]["Flow matching CRPS < DDPM's"]
    # the close ensemble beats the displaced one on every resample; the NFE ratio never moves
    assert crps["value"] < 1 and crps["hi"] < 1 and crps["frac_met"] == 1.0
    nfe_row = out["targets"]["... at <= 1/10 of the DDPM's NFE"]
    assert nfe_row["lo"] == nfe_row["hi"] == pytest.approx(0.1)
    # resampling moves the CSI ratio: the interval has width and brackets the all-tile value
    csi = out["targets"]["Flow matching CSI(1 mm/h) >= 0.95x U-Net's"]
    assert csi["lo"] < csi["value"] < csi["hi"]
    again = tile_bootstrap(preds, truth, targets=targets, nfe=nfe, band_km=(8.0, 96.0), n_boot=200, seed=1)
    assert again == out


def test_tile_bootstrap_rejects_incomplete_tiles():
    from eoretrieval.rain.seviri_eval import tile_bootstrap
    preds, truth = _bootstrap_case()
    bad = preds["unet"].copy()
    bad[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="unet has NaN"):
        tile_bootstrap({**preds, "unet": bad}, truth, targets=TARGETS["03_seviri_flow_matching"], nfe={},
                       band_km=(8.0, 96.0), n_boot=5)
    with pytest.raises(ValueError, match="at least 2 test tiles"):
        tile_bootstrap({k: v.isel(sample=[0]) for k, v in preds.items()}, truth.isel(sample=[0]),
                       targets=TARGETS["03_seviri_flow_matching"], nfe={}, band_km=(8.0, 96.0), n_boot=5)


@pytest.mark.parametrize("profile", sorted(SEVIRI_PROFILES))
def test_every_profile_finds_training_domain_tiles_in_the_knmi_validation_frames(profile):
    """Notebook 03's training-domain check must run in every profile (the paper profile once failed there: the
    KNMI validation frames hold no rainy 64 x 64 tile)."""
    import json
    from pathlib import Path

    from eoretrieval.rain.seviri_data import load_rain_sequence, make_test_set
    root = Path(__file__).resolve().parents[2]
    files = str(root / "data" / "radar_rain" / "knmi_rap_5min_20100826" / "*.h5")
    manifest = json.loads((root / "artifacts" / "rain_seviri" / "flow_matching" / "manifest.json").read_text())
    cfg = SEVIRI_PROFILES[profile]
    rain = validation_frames(load_rain_sequence(files, "knmi_hdf5", spacing_m=4000.0, time_step_min=15.0, n_frames=3),
                             manifest, n_frames=3)
    tiles = make_test_set(rain, tile=cfg.indomain_tile or cfg.tile, n_frames=3, seed=0, max_tiles=cfg.n_tiles)
    assert len(tiles.rain) >= 3


# --- what the infrared can tell ------------------------------------------------------------------------------------


def test_ir_lookup_draws_the_training_rain_of_the_pixels_temperature_bin():
    from eoretrieval.rain.seviri_eval import IRLookup

    rng = np.random.default_rng(0)
    cold_t, warm_t = rng.uniform(200, 201.9, 300), rng.uniform(260, 261.9, 500)
    cold_r, warm_r = rng.gamma(2.0, 5.0, 300), np.where(rng.random(500) < 0.1, 0.5, 0.0)
    lut = IRLookup.fit(np.r_[cold_t, warm_t], np.r_[cold_r, warm_r], width_k=2.0, min_count=200)
    # one cold bin; everything warmer than its right edge falls into the warm bin
    assert [len(v) for v in lut.values] == [300, 500] and lut.edges[0] == -np.inf and lut.edges[-1] == np.inf
    t = np.array([[150.0, 200.5], [230.0, 400.0]])              # outside the training range: the end bins
    ens = lut.sample(t, n_members=4000, seed=1)
    assert ens.shape == (4000, 2, 2)
    assert set(np.unique(ens[:, 0, 1])) <= set(cold_r.astype(np.float32))
    assert set(np.unique(ens[:, 1, 0])) <= {0.0, 0.5}
    # the members' distribution is the bin's: quantiles agree with the training rain's
    np.testing.assert_allclose(np.quantile(ens[:, 0, 1], [0.5, 0.9]), np.quantile(cold_r, [0.5, 0.9]), rtol=0.08)
    np.testing.assert_array_equal(ens, lut.sample(t, n_members=4000, seed=1))


def test_ir_lookup_merges_sparse_bins_and_rejects_bad_input():
    from eoretrieval.rain.seviri_eval import IRLookup

    rng = np.random.default_rng(2)
    t = np.r_[rng.uniform(195, 240, 90), rng.uniform(240, 300, 5000)]   # a sparse cold tail
    lut = IRLookup.fit(t, rng.gamma(1.0, 1.0, t.size), width_k=1.0, min_count=100)
    assert min(len(v) for v in lut.values) >= 100 and sum(len(v) for v in lut.values) == t.size
    assert np.all(np.diff(lut.edges) > 0)
    with pytest.raises(ValueError, match="shape"):
        IRLookup.fit(t, t[:-1])
    with pytest.raises(ValueError, match="non-finite"):
        IRLookup.fit(np.r_[t[:-1], np.nan], t)
    with pytest.raises(ValueError, match="non-finite"):
        lut.sample(np.array([np.nan]), n_members=2)


def test_conditional_rain_by_hand():
    from eoretrieval.rain.seviri_eval import conditional_rain

    t = np.array([[[205.0, 205.0, 250.0, 250.0]]])              # (sample, y, x)
    truth = np.array([[[4.0, 8.0, 0.0, 1.0]]])
    ens = np.stack([truth, 2 * truth])                            # (member, sample, y, x): members pooled
    out = conditional_rain(t, {"truth": truth, "ens": ens}, edges=(200, 210, 240, 260), q=0.5, min_count=2)
    assert out["n"] == [2, 0, 2]
    assert out["truth"]["mean"] == [6.0, None, 0.5] and out["truth"]["q99"] == [6.0, None, 0.5]
    assert out["ens"]["mean"] == [9.0, None, 0.75] and out["ens"]["q99"] == [8.0, None, 0.5]
    with pytest.raises(ValueError, match="expected"):
        conditional_rain(t, {"bad": truth[..., :3]})


def test_target_t108_undoes_the_input_normalisation():
    from eoretrieval.rain.seviri_data import IR_SCALE
    from eoretrieval.rain.seviri_eval import target_t108

    cond = np.zeros((2, 15, 4, 4), dtype=np.float32)
    cond[:, 10] = (215.0 - IR_SCALE["offset"]) / IR_SCALE["scale"]   # 10.8 µm of the last of three frames
    np.testing.assert_allclose(target_t108(cond), 215.0, rtol=1e-6)
    np.testing.assert_allclose(target_t108(cond[:, 10:]), 215.0, rtol=1e-6)
    with pytest.raises(ValueError, match="expected"):
        target_t108(cond[:, :7])


def test_tail_ratio_draws_equal_brute_force_resamples():
    from eoretrieval.rain.seviri_eval import _tile_draws, tail_ratio_draws

    rng = np.random.default_rng(4)
    truth = rng.gamma(0.4, 3.0, (6, 12, 12))
    ens = rng.gamma(0.4, 3.0, (3, 6, 12, 12))
    out = tail_ratio_draws({"ens": ens, "double": 2 * truth}, truth, q=0.99, n_boot=50, seed=7)
    assert out["ratios"]["ens"]["value"] == pytest.approx(np.quantile(ens, 0.99) / np.quantile(truth, 0.99))
    np.testing.assert_allclose(out["draws"]["double"], 2.0, rtol=1e-12)
    for r, idx in enumerate(_tile_draws(6, 50, 7)[:10]):
        brute = np.quantile(ens[:, idx], 0.99) / np.quantile(truth[idx], 0.99)
        assert out["draws"]["ens"][r] == pytest.approx(brute, rel=1e-12)
    lo, hi = out["ratios"]["ens"]["lo"], out["ratios"]["ens"]["hi"]
    assert lo <= out["ratios"]["ens"]["value"] <= hi and lo < hi
    with pytest.raises(ValueError, match="expected"):
        tail_ratio_draws({"bad": ens[:, :5]}, truth)


def test_cold_top_tail_by_hand():
    from eoretrieval.rain.seviri_eval import cold_top_tail

    t = np.full((4, 2, 2), 260.0)
    t[:, 0, 0] = 215.0                                   # one cold pixel per tile
    truth = np.zeros((4, 2, 2))
    truth[:, 0, 0] = 8.0
    patch_t = np.array([215.0, 225.0, 250.0])
    patch_r = np.array([4.0, 4.0, 50.0])                 # the warm patch pixel does not count
    half = truth[None] * np.array([0.5, 0.5])[:, None, None, None]
    out = cold_top_tail(t, truth, {"half": half}, patch_t, patch_r, n_boot=20)
    assert out["patches_q"] == 4.0 and out["n_pixels"] == 4
    assert out["ratios"]["truth"] == {"value": 2.0, "lo": 2.0, "hi": 2.0}
    assert out["ratios"]["half"]["value"] == pytest.approx(1.0)
    warm = cold_top_tail(np.full((4, 2, 2), 260.0), truth, {}, patch_t, patch_r, n_boot=20)
    assert warm["ratios"] == {} and warm["n_pixels"] == 0
    with pytest.raises(ValueError, match="no training pixel"):
        cold_top_tail(t, truth, {}, patch_t + 100, patch_r)


def test_training_overlap_finds_the_training_files_by_content(tmp_path):
    """The committed models were trained and validated on the KNMI quarter-hour files: a KNMI test sequence
    overlaps every model (even under another file name), the OPERA composites none."""
    import shutil

    from eoretrieval.artifacts import artifact_path
    from eoretrieval.rain.seviri_eval import METHOD_ORDER, training_overlap

    root = artifact_path("rain_seviri", "unet").parent
    knmi = sorted(str(f) for f in KNMI_DIR.glob("*.h5"))[-3:]
    renamed = tmp_path / "renamed.h5"
    shutil.copy(knmi[0], renamed)
    over = training_overlap([str(renamed), *knmi[1:]], root)
    assert set(over) == set(METHOD_ORDER)
    assert over["flow_matching"] == sorted(["renamed.h5", *(f.split("/")[-1] for f in knmi[1:])])
    opera = sorted(str(f) for f in OPERA_DIR.glob("*.hdf"))[:3]
    assert training_overlap(opera, root) == {}
    # methods without an artefact are skipped, not an error
    assert training_overlap(knmi, root, methods=("unet", "no_such_method")).keys() == {"unet"}
