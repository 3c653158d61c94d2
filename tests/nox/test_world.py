"""Tests of eoretrieval.nox.world: determinism, splits, consistency with the transport model, errors."""

import json

import numpy as np
import pandas as pd
import pytest
import torch
import xarray as xr

from eoretrieval.nox import NOX_PROFILES, make_nox_world, split_days
from eoretrieval.nox.world import nox_lifetime, world_path
from eoretrieval.nox.transport import SphericalGrid, simulate_day

torch.set_num_threads(1)

TINY = dict(start="2019-01-01", end="2019-03-31", lat0=36.0, lat1=40.0, lon0=114.0, lon1=118.0,
            split_train="2019-01-01/2019-02-15", split_val="2019-02-16/2019-02-28",
            split_test="2019-03-01/2019-03-31", chunk_days=30)


@pytest.fixture(scope="module")
def tiny():
    return make_nox_world(seed=0, cache=False, progress=False, **TINY)


def test_variables_units_and_dims(tiny):
    units = {"emission": "mol m-2 s-1", "prior_emission": "mol m-2 s-1", "nox_column": "mol m-2",
             "no2_column": "mol m-2", "no2_column_precision": "mol m-2", "valid": "1", "cloud_fraction": "1",
             "u": "m s-1", "v": "m s-1", "lifetime": "h", "no2_nox_ratio": "1", "n_pixels": "1"}
    for name, unit in units.items():
        assert tiny[name].dims == ("time", "lat", "lon"), name
        assert tiny[name].attrs["units"] == unit, name
    assert tiny.sizes == {"time": 90, "lat": 16, "lon": 16}
    assert (np.diff(tiny["lat"].values) > 0).all()
    assert tiny["valid"].dtype == np.uint8
    assert 0.3 < float(tiny["valid"].mean()) < 0.8
    assert json.loads(tiny.attrs["config"])["lat0"] == 36.0
    inv = json.loads(tiny.attrs["inventory"])
    assert set(inv["trends_pct"]) == {"power", "industry", "transport", "residential", "diffuse"}
    assert set(json.loads(tiny.attrs["regions"])) == {"southwest", "southeast", "northwest", "northeast"}
    assert abs(tiny.attrs["amf_bias"]) < 0.5


def test_determinism_from_seed(tiny):
    again = make_nox_world(seed=0, cache=False, progress=False, **TINY)
    other = make_nox_world(seed=1, cache=False, progress=False, **TINY)
    np.testing.assert_array_equal(tiny["prior_emission"].values, again["prior_emission"].values)
    for name in ("emission", "nox_column", "no2_column", "u", "valid"):
        np.testing.assert_array_equal(tiny[name].values, again[name].values)
        assert not np.array_equal(tiny[name].values, other[name].values, equal_nan=True), name
    # every world draws its own inventory from the same proxies; the prior (the generator's mean) is shared
    assert not np.array_equal(tiny["base_emission_power"].values, other["base_emission_power"].values)
    assert json.loads(tiny.attrs["inventory"])["trends_pct"] != json.loads(other.attrs["inventory"])["trends_pct"]
    np.testing.assert_array_equal(tiny["prior_emission"].values, other["prior_emission"].values)


def test_winds_vary_day_to_day(tiny):
    du = tiny["u"].diff("time")
    assert float(np.abs(du).mean()) > 0.3
    assert 1.0 < float(tiny["u"].std("time").mean()) < 6.0


def test_lifetime_ranges():
    lat = np.array([18.0, 30.0, 45.0])
    tau = nox_lifetime(lat, pd.to_datetime(["2019-01-15", "2019-07-16"]))
    assert tau[0, 2] == pytest.approx(24.0, abs=0.1) and tau[1, 0] == pytest.approx(3.0, abs=0.1)
    assert (tau[0] > tau[1]).all() and (np.diff(tau, axis=1) > 0).all()


@pytest.fixture(scope="module")
def tiny_upwind():
    return make_nox_world(seed=0, cache=False, progress=False, advection="upwind", **TINY)


@pytest.mark.parametrize("name", ["tiny", "tiny_upwind"])
def test_world_matches_transport_model(name, request):
    """The one forward model: simulate_day with the world's own settings reproduces each day's column."""
    tiny = request.getfixturevalue(name)
    grid = SphericalGrid.from_coords(tiny["lat"].values, tiny["lon"].values)
    t = lambda a: torch.from_numpy(np.asarray(a, dtype=np.float32))  # noqa: E731
    for d in (10, 30, 31):  # 30 is the first day of the second chunk: spin-up error only
        c = simulate_day(t(tiny["nox_column"][d - 1]), t(tiny["emission"][d]), t(tiny["u"][d - 1]), t(tiny["v"][d - 1]),
                         t(tiny["u"][d]), t(tiny["v"][d]), t(1 / (3600 * tiny["lifetime"][d])), grid,
                         n_substeps=tiny.attrs["transport_substeps_per_day"],
                         diffusivity=tiny.attrs["transport_diffusivity_m2_s"],
                         background=tiny.attrs["transport_background_nox_mol_m2"],
                         scheme=tiny.attrs["transport_scheme"]).numpy()
        truth = tiny["nox_column"][d].values
        tol = 1e-2 if d == 30 else 1e-5
        assert np.abs(c - truth).max() / truth.max() < tol


def test_worlds_not_dates_are_split():
    from eoretrieval.nox.profiles import WORLD_SEEDS

    for cfg in NOX_PROFILES.values():
        assert (cfg.split_train, cfg.split_val, cfg.split_test) == ("all", "all", "all")
        assert cfg.advection == "vanleer"
    roles = list(WORLD_SEEDS.values())
    seeds = [s for r in roles for s in r]
    assert len(seeds) == len(set(seeds)), "training, validation, test and shifted worlds must not share a seed"
    assert len(WORLD_SEEDS["test"]) >= 5 and len(WORLD_SEEDS["calibration"]) >= 10
    ci = NOX_PROFILES["ci"]
    assert ci.shape == (64, 64) and all(n % 16 == 0 for n in NOX_PROFILES["paper"].shape)


def test_split_days(tiny):
    tr, va, te = (split_days(tiny, s) for s in ("train", "val", "test"))
    assert len(tr) + len(va) + len(te) == tiny.sizes["time"]
    assert tr.max() < va.min() and va.max() < te.min()
    with pytest.raises(ValueError, match="valid"):
        split_days(tiny, "holdout")


def test_bad_config():
    with pytest.raises(ValueError, match=r"unknown profile 'huge'.*ci"):
        make_nox_world(profile="huge")
    with pytest.raises(ValueError, match=r"unknown NoxWorldConfig field\(s\) \['noise'\]"):
        make_nox_world(noise=1.0)
    with pytest.raises(ValueError, match="whole number"):
        make_nox_world(lat0=30.0, lat1=30.1, cache=False)


def test_cache_roundtrip(tmp_path, monkeypatch):
    monkeypatch.setenv("EORETRIEVAL_CACHE", str(tmp_path))
    small = dict(TINY, end="2019-01-20", split_val="2019-01-16/2019-01-17", split_test="2019-01-18/2019-01-20",
                 split_train="2019-01-01/2019-01-15")
    a = make_nox_world(seed=2, progress=False, **small)
    path = world_path(seed=2, **small)
    assert path.exists() and path.parent == tmp_path and not list(tmp_path.glob(".*tmp"))
    b = make_nox_world(seed=2, progress=False, **small)
    xr.testing.assert_identical(a.drop_attrs(), b.drop_attrs())
    assert world_path(seed=2, **small) != world_path(seed=3, **small)
    assert world_path(seed=2, **small) != world_path(seed=2, cloud_cover=0.6, **small)
