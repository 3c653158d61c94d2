"""Tests of eoretrieval.io.radar: real KNMI/OPERA/SAF files through pysteps, layout, bad input."""

import warnings
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pysteps")

from eoretrieval.errors import DataError  # noqa: E402
from eoretrieval.io import get_reader, list_readers  # noqa: E402
from eoretrieval.io.radar import RADAR_IMPORTERS, radar_time_from_name, read_radar, read_radar_sequence  # noqa: E402
from eoretrieval.config import repo_root  # noqa: E402

DATA = repo_root() / "data"
KNMI = DATA / "radar_rain/knmi_rap_5min_20100826/RAD_NL25_RAP_5min_201008260600.h5"
OPERA = DATA / "radar_rain/opera_odim_20180824/T_PAAH21_C_EUOC_20180824180000.hdf"
CRR = DATA / "saf_crr/20180601/S_NWC_CRR_MSG4_Europe-VISIR_20180601T120000Z.nc"


def _pysteps(name, path):
    from pysteps.io import get_method
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return get_method(name, "importer")(str(path))


@pytest.mark.parametrize("name, expected", [
    ("RAD_NL25_RAP_5min_201008260600.h5", "2010-08-26T06:00:00"),
    ("T_PAAH21_C_EUOC_20180824181500.hdf", "2018-08-24T18:15:00"),
    ("S_NWC_CRR_MSG4_Europe-VISIR_20180601T120000Z.nc", "2018-06-01T12:00:00"),
])
def test_time_from_name(name, expected):
    assert str(radar_time_from_name(name)) == expected


def test_time_missing_raises():
    with pytest.raises(DataError, match="no date-time"):
        radar_time_from_name("radar.h5")


def test_knmi_matches_pysteps_flipped():
    ds = read_radar(KNMI, importer="knmi_hdf5")
    raw, _, meta = _pysteps("knmi_hdf5", KNMI)
    assert ds.precip.dims == ("time", "y", "x") and ds.precip.shape == (1, 765, 700)
    assert ds.precip.attrs["units"] == "mm" and ds.precip.attrs["accutime_min"] == 5.0
    np.testing.assert_array_equal(ds.precip.values[0], raw[::-1].astype(np.float32))
    assert np.all(np.diff(ds.y.values) > 0) and ds.attrs["grid_spacing_m"] == 1000.0
    assert str(ds.time.values[0])[:16] == "2010-08-26T06:00"


def test_opera_and_crr_rates():
    ds = get_reader("opera_hdf5")(OPERA)
    assert ds.precip.attrs["units"] == "mm h-1" and ds.attrs["grid_spacing_m"] == 2000.0
    assert ds.precip.shape == (1, 2200, 1900) and 0.3 < float(ds.precip.isnull().mean()) < 0.7
    crr = get_reader("saf_crri")(CRR)
    assert crr.precip.attrs["units"] == "mm h-1" and crr.attrs["grid_spacing_m"] == 3000.0


def test_registered():
    names = list_readers()
    for name in [*RADAR_IMPORTERS, "radar", "radar_sequence", "seviri", "seviri_netcdf"]:
        assert name in names


def test_sequence_sorted_and_glob():
    ds = read_radar_sequence(str(DATA / "radar_rain/opera_odim_20180824/*1[89][03]000.hdf"), importer="opera_hdf5")
    assert ds.sizes["time"] >= 2 and np.all(np.diff(ds.time.values).astype(int) > 0)


def test_bad_inputs(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        read_radar(tmp_path / "RAD_NL25_RAP_5min_201008260600.h5", importer="knmi_hdf5")
    trunc = tmp_path / "RAD_NL25_RAP_5min_201008260600.h5"
    trunc.write_bytes(Path(KNMI).read_bytes()[:2000])
    with pytest.raises(DataError, match=str(trunc.name)):
        read_radar(trunc, importer="knmi_hdf5")
    with pytest.raises(ValueError, match="unknown pysteps importer"):
        read_radar(KNMI, importer="no_such_format")
    with pytest.raises(DataError, match="no radar files match"):
        read_radar_sequence(str(tmp_path / "*.h5x"), importer="knmi_hdf5")
    with pytest.raises(DataError, match="a sequence needs one grid"):
        _mixed()


def _mixed():
    # a sequence whose second file is on another grid (KNMI 1 km among OPERA 2 km)
    a = read_radar(OPERA, importer="opera_hdf5")
    b = read_radar(KNMI, importer="knmi_hdf5")
    from eoretrieval.io import radar

    orig = radar.read_radar
    try:
        radar.read_radar = lambda p, importer, **k: a if "EUOC" in str(p) else b
        return radar.read_radar_sequence([OPERA, KNMI], importer="any")
    finally:
        radar.read_radar = orig
