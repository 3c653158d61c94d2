"""Area-weighted oversampling: hand-made known answers, the round trip on a mock world, dask in-process vs cluster."""

import os

import numpy as np
import pytest
import xarray as xr

from eoretrieval.nox.oversample import oversample_daily, oversample_orbit, pixel_subpoints
from eoretrieval.nox.tropomi_l2 import mock_world, write_world_orbits


def _orbit(lat_b, lon_b, values):
    lat_b, lon_b = np.asarray(lat_b, float)[None], np.asarray(lon_b, float)[None]
    v = np.asarray(values, float)[None]
    dims = ("scanline", "ground_pixel")
    return xr.Dataset({"no2": (dims, v, {"units": "mol m-2"}), "no2_precision": (dims, np.ones_like(v), {"units": "mol m-2"})},
                      coords={"lat_bounds": (dims + ("corner",), lat_b), "lon_bounds": (dims + ("corner",), lon_b)})


def test_rectangle_area():
    lat, lon, area = pixel_subpoints(np.array([[0.0, 0.0, 1.0, 1.0]]), np.array([[0.0, 1.0, 1.0, 0.0]]), 4)
    assert lat.shape == (1, 16)
    assert area[0] == pytest.approx(111.195 ** 2 * np.cos(np.deg2rad(0.5)), rel=1e-9)
    assert lat.mean() == pytest.approx(0.5) and lon.mean() == pytest.approx(0.5)


def test_known_answer_two_cells():
    # grid: two cells of 1 deg at lon 0-1 and 1-2 (lat 0-1). Pixel A covers lon 0.5-1.5 (half in each cell),
    # value 2; pixel B covers lon 1.0-2.0 (all in cell 2), value 4. Equal areas a.
    grid_lat, grid_lon = np.array([0.5, 1.5]), np.array([0.5, 1.5])
    orbit = _orbit([[0, 0, 1, 1], [0, 0, 1, 1]], [[0.5, 1.5, 1.5, 0.5], [1.0, 2.0, 2.0, 1.0]], [2.0, 4.0])
    s = oversample_orbit(orbit, grid_lat, grid_lon, n_sub=4)
    a = pixel_subpoints(np.array([[0, 0, 1, 1.0]]), np.array([[0, 1, 1, 0.0]]), 4)[2][0]
    mean = s[0] / np.where(s[1] > 0, s[1], np.nan)
    assert mean[0, 0] == pytest.approx(2.0)  # cell 1 sees only pixel A
    assert mean[0, 1] == pytest.approx((0.5 * 2 + 1.0 * 4) / 1.5)  # overlap areas a/2 and a
    assert s[2][0, 0] == pytest.approx(a / 2) and s[2][0, 1] == pytest.approx(1.5 * a)
    assert np.isnan(mean[1]).all()  # nothing observed in the northern row
    with pytest.raises(ValueError, match="weighting"):
        oversample_orbit(orbit, grid_lat, grid_lon, weighting="nearest")


@pytest.fixture(scope="module")
def world_files(tmp_path_factory):
    world = mock_world(days=["2022-03-01", "2022-03-02"], seed=5)
    folder = tmp_path_factory.mktemp("orbits")
    files = write_world_orbits(world, world.time.values, folder, seed=4, compress=1)
    return world, files, folder


def test_round_trip_recovers_world(world_files):
    world, files, folder = world_files
    grid = oversample_daily(str(folder / "*.nc"), world.lat.values, world.lon.values)
    assert list(grid.time.values) == list(world.time.values)
    assert grid["no2_column"].attrs["units"] == "mol m-2"
    both = (grid["valid"] == 1) & (world["valid"] == 1)
    agree = float((grid["valid"] == world["valid"]).mean())
    assert agree > 0.9
    d = (grid["no2_column"] - world["no2_column"]).where(both)
    rel = float(np.sqrt((d ** 2).mean()) / world["no2_column"].where(both).std())
    assert rel < 0.15


@pytest.fixture
def restored_environ():
    """Give back the process environment as it was: starting a LocalCluster sets OMP_NUM_THREADS=1 (and
    MKL/OpenBLAS) in *this* process's ``os.environ`` (distributed's ``nanny.pre-spawn-environ``), which every
    notebook kernel started later by the test session would inherit (it made notebook 01 run single-threaded)."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


def test_in_process_equals_local_cluster(world_files, restored_environ):
    distributed = pytest.importorskip("distributed")
    world, files, _ = world_files
    local = oversample_daily([str(f) for f in files], world.lat.values, world.lon.values)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None,
                                  processes=True) as cluster, distributed.Client(cluster) as client:
        remote = oversample_daily([str(f) for f in files], world.lat.values, world.lon.values, scheduler=client)
        by_address = oversample_daily([str(f) for f in files], world.lat.values, world.lon.values,
                                      scheduler=cluster.scheduler_address)
    xr.testing.assert_identical(local, remote)
    xr.testing.assert_identical(local, by_address)
