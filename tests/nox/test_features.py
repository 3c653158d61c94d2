import numpy as np
import pytest
import torch

from eoretrieval.errors import DataError
from eoretrieval.nets.normalisation import Normalisation
from eoretrieval.nox.features import DEFAULT_CHANNELS, compute_normalisation, decode_targets, \
    make_inputs, make_targets
from eoretrieval.nox.world import split_days


def test_split_days_disjoint(nox_world):
    tr, va, te = (split_days(nox_world, s) for s in ("train", "val", "test"))
    assert len(tr) + len(va) + len(te) == nox_world.sizes["time"]
    assert tr.max() < va.min() and va.max() < te.min()


def test_shapes_and_no_nan(nox_world):
    days = split_days(nox_world, "train")
    norm = compute_normalisation(nox_world)
    cond, x1 = make_inputs(nox_world, days, norm), make_targets(nox_world, days, norm)
    assert cond.shape == (len(days), len(DEFAULT_CHANNELS), 16, 16) and cond.dtype == torch.float32
    assert x1.shape == (len(days), 1, 16, 16)
    assert torch.isfinite(cond).all()
    valid = cond[:, norm.channels.index("valid")]
    assert set(valid.unique().tolist()) <= {0.0, 1.0}
    assert torch.all(cond[:, norm.channels.index("no2")][valid == 0] == 0)
    # previous-day channel is the day before
    assert torch.equal(cond[1:, norm.channels.index("no2_prev")], cond[:-1, norm.channels.index("no2")])


def test_statistics_from_training_days_only(nox_world):
    norm = compute_normalisation(nox_world)
    changed = nox_world.copy()
    test = split_days(nox_world, "test")
    changed["emission"] = changed["emission"].where(~changed.time.isin(test), 1.0)
    assert compute_normalisation(changed).target_scale == norm.target_scale


@pytest.mark.parametrize("transform", ["linear", "asinh"])
def test_round_trip(nox_world, tmp_path, transform):
    days = split_days(nox_world, "val")
    norm = compute_normalisation(nox_world, target_transform=transform)
    norm.to_json(tmp_path / "n.json")
    again = Normalisation.from_json(tmp_path / "n.json")
    assert again == norm
    truth = nox_world["emission"].sel(time=days)
    back = decode_targets(make_targets(nox_world, days, again), again, truth)
    np.testing.assert_allclose(back.values, truth.values, rtol=1e-5)
    assert back.attrs["units"] == "mol m-2 s-1"
    ens = decode_targets(torch.stack([make_targets(nox_world, days, again)] * 3), again, truth)
    assert ens.dims == ("member", "time", "lat", "lon")


def test_bad_input(nox_world, tmp_path):
    with pytest.raises(DataError, match="lacks variables \\['u'\\]"):
        compute_normalisation(nox_world.drop_vars("u"))
    with pytest.raises(DataError, match="split_train"):
        split_days(nox_world.assign_attrs(split_train="2019"), "train")
    with pytest.raises(ValueError, match="valid"):
        compute_normalisation(nox_world, channels=("no2", "temperature"))
    with pytest.raises(DataError, match="not found"):
        Normalisation.from_json(tmp_path / "missing.json")


@pytest.mark.parametrize("transform", ["linear", "asinh"])
def test_scale_augment_is_linear_above_background(nox_world, transform):
    from eoretrieval.nox.features import ScaleAugment

    days = split_days(nox_world, "train")[:4]
    norm = compute_normalisation(nox_world, target_transform=transform)
    cond, x1 = make_inputs(nox_world, days, norm), make_targets(nox_world, days, norm)
    aug = ScaleAugment(norm, low=1.5, high=1.5, background=0.0)
    x1a, conda = aug(x1, cond, torch.Generator().manual_seed(0))
    scaled = nox_world.copy()
    scaled["emission"] = nox_world["emission"] * 1.5
    scaled["no2_column"] = nox_world["no2_column"] * 1.5
    torch.testing.assert_close(x1a, make_targets(scaled, days, norm), rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(conda, make_inputs(scaled, days, norm), rtol=1e-4, atol=1e-4)
    assert torch.equal(cond, make_inputs(nox_world, days, norm))  # input not modified in place


def test_scale_invariant_formulation(nox_world):
    """Emissions and column excess doubled: the network sees the same inputs and target, and decodes twice the map."""
    from eoretrieval.nox.features import scene_scale

    days = split_days(nox_world, "train")[1:6]
    norm = compute_normalisation(nox_world, scale_invariant=True)
    assert norm.extra["scale_invariant"] and norm.extra["kappa_s-1"] > 0
    doubled = nox_world.copy()
    doubled["emission"] = nox_world["emission"] * 2.0     # the fake world's NO2 background is 0
    doubled["no2_column"] = nox_world["no2_column"] * 2.0
    np.testing.assert_allclose(scene_scale(doubled, days, norm), 2.0 * scene_scale(nox_world, days, norm), rtol=1e-12)
    a, b = make_inputs(nox_world, days, norm), make_inputs(doubled, days, norm)
    same = [i for i, ch in enumerate(norm.channels) if ch != "prior"]
    torch.testing.assert_close(a[:, same], b[:, same], rtol=1e-5, atol=1e-6)
    p = norm.channels.index("prior")   # the prior is not doubled: relative to the scene it halves
    torch.testing.assert_close(b[:, p], 0.5 * a[:, p], rtol=1e-5, atol=1e-7)
    ya, yb = make_targets(nox_world, days, norm), make_targets(doubled, days, norm)
    torch.testing.assert_close(ya, yb, rtol=1e-5, atol=1e-6)
    truth = nox_world["emission"].sel(time=days)
    back = decode_targets(yb, norm, truth, scale=scene_scale(doubled, days, norm))
    np.testing.assert_allclose(back.values, 2.0 * truth.values, rtol=1e-4)
    with pytest.raises(ValueError, match="scene_scale"):
        decode_targets(ya, norm, truth)


def test_flip_augment_turns_the_winds_with_the_grid(nox_world):
    """Each augmented sample is one of the 8 flips/transposes of the original, applied to every channel alike, with
    v negated by a north-south flip, u by an east-west flip and u, v swapped by a transpose (physical units)."""
    from eoretrieval.nox.features import FlipAugment

    days = split_days(nox_world, "train")[1:9]
    norm = compute_normalisation(nox_world, scale_invariant=True)
    cond, x1 = make_inputs(nox_world, days, norm), make_targets(nox_world, days, norm)
    x1a, conda = FlipAugment(norm)(x1, cond, torch.Generator().manual_seed(3))
    iu, iv, ino2 = norm.channels.index("u"), norm.channels.index("v"), norm.channels.index("no2")
    phys = lambda t, ch: t * norm.scale[ch] + norm.offset[ch]  # noqa: E731
    seen = set()
    for i in range(len(x1)):
        found = None
        for k in range(8):
            fy, fx, tr = bool(k & 1), bool(k & 2), bool(k & 4)
            t = lambda a: (a.flip([d for d, f in ((-2, fy), (-1, fx)) if f]) if (fy or fx) else a)  # noqa: E731
            f = (lambda a: t(a).transpose(-1, -2)) if tr else t
            if torch.equal(f(x1[i]), x1a[i]) and torch.equal(f(cond[i, ino2]), conda[i, ino2]):
                found = (fy, fx, tr, f)
                break
        assert found is not None, f"sample {i} is not a flip/transpose of the original"
        fy, fx, tr, f = found
        seen.add((fy, fx, tr))
        u, v = f(phys(cond[i, iu], "u")), f(phys(cond[i, iv], "v"))
        u, v = (-u if fx else u), (-v if fy else v)
        if tr:
            u, v = v, u
        torch.testing.assert_close(phys(conda[i, iu], "u"), u, rtol=1e-5, atol=1e-4)
        torch.testing.assert_close(phys(conda[i, iv], "v"), v, rtol=1e-5, atol=1e-4)
    assert len(seen) >= 4   # several transforms drawn among 8 samples
    assert torch.equal(cond, make_inputs(nox_world, days, norm))   # inputs not modified in place


def test_trailing_window_channels(nox_world):
    """no2_7d is the mean of the observed normalised columns of the day and the 6 before; valid_7d their share;
    a world cut to the days an estimate needs (history_days) gives the same inputs as the whole world."""
    from eoretrieval.nox.features import WINDOW_DAYS, history_days

    import pandas as pd

    norm = compute_normalisation(nox_world, scale_invariant=True)
    assert {"no2_7d", "valid_7d", "fluxdiv_7d"} <= set(norm.channels)
    assert history_days(norm.channels) == WINDOW_DAYS - 1 == 6
    assert history_days(["no2", "no2_prev"]) == 1 and history_days(["no2", "u"]) == 0
    days = nox_world.time.to_index()[[3, 10, 20, 30]]
    cond = make_inputs(nox_world, days, norm)
    c = {ch: cond[:, norm.channels.index(ch)].numpy() for ch in ("no2", "no2_7d", "valid_7d", "fluxdiv_7d", "fluxdiv")}
    all_days = nox_world.time.to_index()
    full = make_inputs(nox_world, all_days, norm)
    no2_all = full[:, norm.channels.index("no2")].numpy()      # excess / S of its own day
    valid_all = full[:, norm.channels.index("valid")].numpy()
    from eoretrieval.nox.features import scene_scale
    s_all = scene_scale(nox_world, all_days, norm)
    for k, d in enumerate(days):
        i = all_days.get_loc(d)
        lo = max(i - WINDOW_DAYS + 1, 0)
        exc = no2_all[lo:i + 1] * s_all[lo:i + 1, None, None]   # back to column excess
        n = valid_all[lo:i + 1].sum(0)
        expect = exc.sum(0) / np.maximum(n, 1) / s_all[i]
        np.testing.assert_allclose(c["no2_7d"][k], expect, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(c["valid_7d"][k], n / WINDOW_DAYS, rtol=1e-6)
    assert not np.allclose(c["no2_7d"], c["no2"])      # not today's column again
    assert not np.allclose(c["fluxdiv_7d"], c["fluxdiv"])
    # the world cut to the estimated days and their history gives the same inputs
    need = pd.DatetimeIndex(days)
    for j in range(1, WINDOW_DAYS):
        need = need.union(days - pd.Timedelta(days=j))
    cut = nox_world.sel(time=need[need.isin(all_days)])
    torch.testing.assert_close(make_inputs(cut, days, norm), cond, rtol=1e-5, atol=1e-6)
    # ... but not if the history is missing
    short = nox_world.sel(time=days.union(days - pd.Timedelta(days=1)))
    assert not torch.allclose(make_inputs(short, days, norm), cond, rtol=1e-5, atol=1e-6)


def test_prior_pattern_channel_carries_no_level(nox_world):
    """With ``prior_pattern`` in place of ``prior`` a world with doubled emissions and columns gives identical inputs
    even when its prior is not doubled (the network can no longer compare the scene with the prior's level)."""
    channels = [c if c != "prior" else "prior_pattern" for c in DEFAULT_CHANNELS]
    days = split_days(nox_world, "train")[7:12]
    norm = compute_normalisation(nox_world, channels=channels, scale_invariant=True)
    doubled = nox_world.copy()
    doubled["emission"] = nox_world["emission"] * 2.0
    doubled["no2_column"] = nox_world["no2_column"] * 2.0
    a, b = make_inputs(nox_world, days, norm), make_inputs(doubled, days, norm)
    torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    p = norm.channels.index("prior_pattern")
    prior = nox_world["prior_emission"].sel(time=days).values
    np.testing.assert_allclose(a[:, p].numpy(), prior / prior.mean(axis=(1, 2), keepdims=True), rtol=1e-5)
    np.testing.assert_allclose(a[:, p].numpy().mean(axis=(1, 2)), 1.0, rtol=1e-5)
    # and a prior of a different level but the same map gives the same channel
    scaled_prior = nox_world.copy()
    scaled_prior["prior_emission"] = nox_world["prior_emission"] * 3.0
    torch.testing.assert_close(make_inputs(scaled_prior, days, norm), a, rtol=1e-5, atol=1e-6)
    zero = nox_world.copy()
    zero["prior_emission"] = nox_world["prior_emission"] * 0.0
    with pytest.raises(DataError, match="prior_emission"):
        make_inputs(zero, days, norm)
