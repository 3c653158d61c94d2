"""GPM 1C-GMI reader on granules written in the real HDF5 layout (groups S1/S2, Tc, Latitude, ScanTime)."""

import h5py
import numpy as np
import pytest

from eoretrieval.errors import DataError
from eoretrieval.io import get_reader
from eoretrieval.io.gpm import GMI_1C_CHANNELS, read_gpm_1c_gmi, write_gpm_1c_gmi


@pytest.fixture
def granule(tmp_path):
    rng = np.random.default_rng(0)
    tb = rng.uniform(150, 290, (6, 5, 13)).astype("float32")
    tb[0, 0, 3] = np.nan
    lat = np.linspace(-10, 10, 30).reshape(6, 5)
    lon = np.linspace(100, 110, 30).reshape(6, 5)
    path = tmp_path / "1C.GPM.GMI.XCAL2016-C.20190601-S000000-E013232.029920.V07A.HDF5"
    write_gpm_1c_gmi(path, tb, lat, lon, start="2019-06-01T00:00:00")
    return path, tb


def test_layout_is_the_real_one(granule):
    path, _ = granule
    with h5py.File(path) as f:
        assert set(f) == {"S1", "S2"}
        assert f["S1/Tc"].shape == (6, 5, 9) and f["S2/Tc"].shape == (6, 5, 4)
        assert {"Year", "Month", "DayOfMonth", "Hour", "Minute", "Second", "MilliSecond"} <= set(f["S1/ScanTime"])
        assert f["S1/Tc"][0, 0, 3] == pytest.approx(-9999.9)


def test_read_roundtrip(granule):
    path, tb = granule
    ds = get_reader("gpm_1c_gmi")(path)
    assert ds["tb"].dims == ("scan", "pixel", "channel") and ds["tb"].attrs["units"] == "K"
    assert list(ds.channel.values) == GMI_1C_CHANNELS["S1"] + GMI_1C_CHANNELS["S2"]
    np.testing.assert_allclose(ds["tb"].values, tb, rtol=1e-6)
    assert np.isnan(ds["tb"].values[0, 0, 3])
    assert ds["latitude"].attrs["units"] == "degrees_north"
    assert str(ds["scan_time"].values[1]) .startswith("2019-06-01T00:00:01.9")
    assert ds.freq_ghz.values[-1] == pytest.approx(183.31)


def test_missing_group(tmp_path):
    path = tmp_path / "bad.HDF5"
    with h5py.File(path, "w") as f:
        f.create_group("S1")
    with pytest.raises(DataError, match=r"bad.HDF5.*missing variable S1/Tc"):
        read_gpm_1c_gmi(path)
    with pytest.raises(DataError, match="no group 'S2'"):
        read_gpm_1c_gmi(path, swaths=("S2",))


def test_wrong_channel_count(tmp_path, granule):
    path = tmp_path / "wrong.HDF5"
    with h5py.File(path, "w") as f:
        g = f.create_group("S1")
        g.create_dataset("Tc", data=np.zeros((2, 3, 7), "float32"))
        g.create_dataset("Latitude", data=np.zeros((2, 3)))
        g.create_dataset("Longitude", data=np.zeros((2, 3)))
    with pytest.raises(DataError, match=r"S1/Tc has shape \(2, 3, 7\); expected \(nscan, npixel, 9\)"):
        read_gpm_1c_gmi(path, swaths=("S1",))


def test_all_missing_and_truncated(tmp_path):
    path = tmp_path / "empty.HDF5"
    write_gpm_1c_gmi(path, np.full((2, 2, 13), np.nan), np.zeros((2, 2)), np.zeros((2, 2)))
    with pytest.raises(DataError, match="every Tc value is missing"):
        read_gpm_1c_gmi(path)
    trunc = tmp_path / "trunc.HDF5"
    trunc.write_bytes((tmp_path / "empty.HDF5").read_bytes()[:500])
    with pytest.raises(DataError, match="trunc.HDF5"):
        read_gpm_1c_gmi(trunc)
    with pytest.raises(DataError, match="file not found"):
        read_gpm_1c_gmi(tmp_path / "nope.HDF5")
