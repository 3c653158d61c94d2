"""SatRain readers: scenes written in the SatRain layout, and the baseline score files of the wheel."""

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from eoretrieval.errors import DataError
from eoretrieval.io.satrain import (BASELINE_SCORES, find_satrain_files, read_satrain_baseline, read_satrain_scene,
                                    satrain_baseline_table)

BASELINES = Path(__file__).parents[2] / "data" / "satrain" / "baselines"


def _write_scene(root, time="20230101120000", split="testing", domain="korea", ny=4, nx=5, rqi=1.0):
    folder = root / "satrain" / "gmi" / split / domain / "gridded" / time[:4] / time[4:6] / time[6:8]
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(int(time[-4:]))
    obs = rng.uniform(150, 290, (ny, nx, 13)).astype("float32")
    obs[0, 0, 0] = -9999.0
    xr.Dataset({"observations": (("latitude", "longitude", "channel"), obs),
                "earth_incidence_angle": (("latitude", "longitude", "channel"), np.full((ny, nx, 13), 52.8))},
               coords={"latitude": np.arange(ny) * 0.036, "longitude": np.arange(nx) * 0.036}
               ).to_netcdf(folder / f"gmi_{time}.nc")
    sp = rng.gamma(0.5, 2.0, (ny, nx)).astype("float32")
    q = np.full((ny, nx), rqi, "float32")
    q[1, 1] = 0.2
    xr.Dataset({"surface_precip": (("latitude", "longitude"), sp), "radar_quality_index": (("latitude", "longitude"), q),
                "valid_fraction": (("latitude", "longitude"), np.ones((ny, nx))),
                "snow_fraction": (("latitude", "longitude"), np.zeros((ny, nx)))},
               coords={"latitude": np.arange(ny) * 0.036, "longitude": np.arange(nx) * 0.036}
               ).to_netcdf(folder / f"target_{time}.nc")
    return folder / f"gmi_{time}.nc", folder / f"target_{time}.nc", sp


def test_find_and_read_scene(tmp_path):
    g1, t1, sp = _write_scene(tmp_path, "20230101120000")
    _write_scene(tmp_path, "20230102120000")
    # a gmi file without a target is dropped
    orphan, t3, _ = _write_scene(tmp_path, "20230103120000")
    t3.unlink()
    files = find_satrain_files(tmp_path, split="testing", domain="korea")
    assert [p.name for p in files["gmi"]] == ["gmi_20230101120000.nc", "gmi_20230102120000.nc"]
    assert files["target"][0] == t1
    ds = read_satrain_scene(g1, target_path=t1)
    assert ds["tb"].dims[0] == "channel" and ds["tb"].attrs["units"] == "K"
    assert np.isnan(ds["tb"].values[0, 0, 0])
    assert ds["surface_precip"].attrs["units"] == "mm h-1"
    assert np.isnan(ds["surface_precip"].values[1, 1])  # low radar quality masked
    np.testing.assert_allclose(ds["surface_precip"].values[0, 0], sp[0, 0])
    assert ds.attrs["overpass_time"] == "20230101120000"


def test_scene_errors(tmp_path):
    with pytest.raises(DataError, match="no SatRain 'gmi_YYYYmmddHHMMSS.nc' files"):
        find_satrain_files(tmp_path, split="testing", domain="conus")
    with pytest.raises(ValueError, match="valid"):
        find_satrain_files(tmp_path, split="testing", domain="mars")
    g, t, _ = _write_scene(tmp_path, rqi=0.0)
    with pytest.raises(DataError, match="no valid target pixel"):
        read_satrain_scene(g, target_path=t)
    bad = tmp_path / "gmi_20230101000000.nc"
    xr.Dataset({"tb": ("x", [1.0])}).to_netcdf(bad)
    with pytest.raises(DataError, match="missing variable 'observations'"):
        read_satrain_scene(bad)


@pytest.mark.skipif(not BASELINES.exists(), reason="data/satrain not present")
def test_shipped_baselines():
    ds = read_satrain_baseline(BASELINES / "gprof_v07_gmi_conus.nc")
    assert ds.attrs["product"] == "gprof_v07" and ds.attrs["domain"] == "conus"
    assert ds["bias"].attrs["units"] == "%" and 0 < float(ds["correlation_coef"]) < 1
    table = satrain_baseline_table(BASELINES)
    assert set(table.index.get_level_values("domain")) == {"conus", "korea", "austria"}
    assert {"gprof_v07", "era5", "persiann_ccs", "gprof_v08"} <= set(table.index.get_level_values("product"))
    assert list(table.columns[1:]) == list(BASELINE_SCORES)
    assert (table["mae"] > 0).all() and (table["hss"].dropna() <= 1).all()


def test_baseline_errors(tmp_path):
    bad = tmp_path / "something.nc"
    xr.Dataset({"mae": 1.0}).to_netcdf(bad)
    with pytest.raises(DataError, match="does not follow"):
        read_satrain_baseline(bad)
    missing = tmp_path / "foo_gmi_conus.nc"
    xr.Dataset({"mae": 1.0}).to_netcdf(missing)
    with pytest.raises(DataError, match="missing variable 'bias'"):
        read_satrain_baseline(missing)
    with pytest.raises(DataError, match="no SatRain baseline files"):
        satrain_baseline_table(tmp_path / "empty")
