"""Writer of format-exact TROPOMI L2 NO2 files: geometry, atomic writes, known world values."""

import numpy as np
import pandas as pd
import pytest

from eoretrieval.errors import DataError
from eoretrieval.nox.tropomi_l2 import (N_GROUND_PIXEL, mock_world, orbit_geometry, write_tropomi_l2,
                                         write_world_orbits)


def test_swath_width_and_nadir_pixel():
    geo = orbit_geometry(36.0, 116.0, 10, heading_deg=0.0)
    assert geo["latitude"].shape == (10, N_GROUND_PIXEL)
    assert geo["width_km"].sum() == pytest.approx(2600.0)
    assert geo["width_km"].min() == pytest.approx(3.5, rel=0.01)
    # heading 0: the scanline is along a parallel; centre pixel at the track
    mid = geo["longitude"][5, 224:226].mean()
    assert mid == pytest.approx(116.0, abs=0.05)
    assert np.all(np.diff(geo["latitude"][:, 0]) > 0)  # ascending: northward


def test_orbits_cover_the_domain_each_day():
    world = mock_world(days=pd.date_range("2022-03-01", periods=3), seed=0)
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        files = write_world_orbits(world, world.time.values, tmp, seed=2, compress=1)
        assert 3 <= len(files) <= 9
        names = [f.name for f in files]
        assert all(n.startswith("S5P_OFFL_L2__NO2____2022030") for n in names)
        assert not list(Path(tmp).glob(".*tmp"))


def test_writer_is_atomic(tmp_path):
    fields = {"latitude": np.zeros((2, 10))}  # wrong ground_pixel: rejected before anything is written
    with pytest.raises(DataError, match="ground_pixel must be 450"):
        write_tropomi_l2(tmp_path / "x.nc", fields, start=pd.Timestamp("2022-01-01"), orbit=1)
    geo = orbit_geometry(36.0, 116.0, 4)
    bad = {**{k: geo[k] for k in ("latitude", "longitude", "latitude_bounds", "longitude_bounds")},
           "delta_time_ms": np.arange(4) * 840.0}  # missing the column: fails half-way through
    with pytest.raises(KeyError):
        write_tropomi_l2(tmp_path / "y.nc", bad, start=pd.Timestamp("2022-01-01"), orbit=1)
    assert list(tmp_path.iterdir()) == []
