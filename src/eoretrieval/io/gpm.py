"""Reader (and a writer of the same layout, for tests and examples) of GPM 1C-GMI granules (HDF5).

A 1C-GMI granule (``1C.GPM.GMI.XCAL2016-C.<date>-S<start>-E<end>.<orbit>.V07A.HDF5``, PPS) holds the
inter-calibrated brightness temperatures :cite:`berg2016` in two swaths:

- ``S1``: 9 channels, 10.65V/H, 18.7V/H, 23.8V, 36.64V/H, 89.0V/H;
- ``S2``: 4 channels, 166.0V/H, 183.31±3V, 183.31±7V;

each with ``Latitude``, ``Longitude`` (nscan, npixel), ``Tc`` (nscan, npixel, nchannel, K, fill −9999.9),
``Quality`` (nscan, npixel), ``incidenceAngle`` and a ``ScanTime`` group (``Year``, ``Month``,
``DayOfMonth``, ``Hour``, ``Minute``, ``Second``, ``MilliSecond``). The reader returns both swaths on the
common (scan, pixel) index: S2's footprints are matched pixel by pixel, as the 1C product's scan
geometry allows; S2's own geolocation is kept as ``latitude_s2``/``longitude_s2``.

Public names: :func:`read_gpm_1c_gmi`, :func:`write_gpm_1c_gmi`, :data:`GMI_1C_CHANNELS`.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import DataError, MissingOptionalDependency
from .interface import postprocess_reader

__all__ = ["read_gpm_1c_gmi", "write_gpm_1c_gmi", "GMI_1C_CHANNELS"]

#: swath -> channel names in file order
GMI_1C_CHANNELS = {"S1": ["10.65V", "10.65H", "18.7V", "18.7H", "23.8V", "36.64V", "36.64H", "89.0V", "89.0H"],
                   "S2": ["166.0V", "166.0H", "183.31+-3V", "183.31+-7V"]}
_FILL = -9999.9
_TIME_FIELDS = ("Year", "Month", "DayOfMonth", "Hour", "Minute", "Second", "MilliSecond")


def _h5py():
    try:
        import h5py
    except ImportError as err:  # pragma: no cover - h5py is a core dependency
        raise MissingOptionalDependency("GPM 1C readers need h5py") from err
    return h5py


def _scan_time(group, path, swath) -> np.ndarray:
    missing = [f for f in _TIME_FIELDS if f not in group]
    if missing:
        raise DataError(f"{path}: group {swath}/ScanTime lacks {missing}; expected {list(_TIME_FIELDS)}")
    parts = {f: np.asarray(group[f][...]).astype(int) for f in _TIME_FIELDS}
    frame = pd.DataFrame({"year": parts["Year"], "month": parts["Month"], "day": parts["DayOfMonth"],
                          "hour": parts["Hour"], "minute": parts["Minute"], "second": parts["Second"],
                          "ms": parts["MilliSecond"]})
    return pd.to_datetime(frame, errors="coerce").values.astype("datetime64[ns]")


@postprocess_reader()
def read_gpm_1c_gmi(path: str | os.PathLike, *, swaths=("S1", "S2")) -> xr.Dataset:
    """Read a GPM 1C-GMI granule.

    Parameters
    ----------
    path : path
        HDF5 granule.
    swaths : sequence of {"S1", "S2"}
        Swaths to read; channels are concatenated in this order.

    Returns
    -------
    xr.Dataset
        ``tb`` (scan, pixel, channel) K with NaN for fill values and values outside 20–400 K;
        ``latitude``, ``longitude`` (scan, pixel) of the first swath (degrees); ``latitude_s2``/
        ``longitude_s2`` when S2 is read with S1; ``quality`` (scan, pixel) of the first swath;
        ``scan_time`` (scan); coords ``channel`` (names) and ``freq_ghz``.

    Raises
    ------
    DataError
        A missing group or variable, ``Tc`` with the wrong number of channels, swaths with different scan
        counts, or a granule without any valid Tb; the message names the file and what was expected.
    """
    h5py = _h5py()
    with h5py.File(path, "r") as f:
        tbs, names, first = [], [], None
        out: dict = {}
        for swath in swaths:
            if swath not in GMI_1C_CHANNELS:
                raise ValueError(f"unknown swath {swath!r}; valid: {sorted(GMI_1C_CHANNELS)}")
            if swath not in f:
                raise DataError(f"{path}: no group {swath!r}; a 1C-GMI granule has groups {sorted(GMI_1C_CHANNELS)} "
                                f"(found {sorted(f.keys())})")
            g = f[swath]
            for var in ("Tc", "Latitude", "Longitude"):
                if var not in g:
                    raise DataError(f"{path}: missing variable {swath}/{var}; expected Tc, Latitude, Longitude, ScanTime")
            tc = np.asarray(g["Tc"][...], dtype="float32")
            want = len(GMI_1C_CHANNELS[swath])
            if tc.ndim != 3 or tc.shape[2] != want:
                raise DataError(f"{path}: {swath}/Tc has shape {tc.shape}; expected (nscan, npixel, {want})")
            tc = np.where((tc <= _FILL + 1) | (tc < 20) | (tc > 400), np.nan, tc)
            lat = np.asarray(g["Latitude"][...], dtype="float32")
            lon = np.asarray(g["Longitude"][...], dtype="float32")
            if lat.shape != tc.shape[:2]:
                raise DataError(f"{path}: {swath}/Latitude has shape {lat.shape}; expected {tc.shape[:2]}")
            if first is None:
                first = tc.shape[:2]
                out["latitude"] = (("scan", "pixel"), np.where(lat < -90, np.nan, lat),
                                   {"units": "degrees_north", "standard_name": "latitude"})
                out["longitude"] = (("scan", "pixel"), np.where(lon < -180, np.nan, lon),
                                    {"units": "degrees_east", "standard_name": "longitude"})
                if "Quality" in g:
                    out["quality"] = (("scan", "pixel"), np.asarray(g["Quality"][...]).astype("int16"),
                                      {"units": "1", "long_name": "1C quality flag (0 = good)"})
                if "ScanTime" in g:
                    out["scan_time"] = (("scan",), _scan_time(g["ScanTime"], path, swath), {"long_name": "scan time"})
            else:
                if tc.shape[:2] != first:
                    raise DataError(f"{path}: {swath} has {tc.shape[:2]} (scan, pixel); expected {first} as in "
                                    f"{swaths[0]}")
                out[f"latitude_{swath.lower()}"] = (("scan", "pixel"), lat, {"units": "degrees_north"})
                out[f"longitude_{swath.lower()}"] = (("scan", "pixel"), lon, {"units": "degrees_east"})
            tbs.append(tc)
            names += GMI_1C_CHANNELS[swath]
    tb = np.concatenate(tbs, axis=2)
    if not np.isfinite(tb).any():
        raise DataError(f"{path}: every Tc value is missing (fill {_FILL}); expected brightness temperatures in K")
    freq = [float(n.split("+")[0].rstrip("VH")) for n in names]
    out["tb"] = (("scan", "pixel", "channel"), tb, {"units": "K", "long_name": "brightness temperature (1C Tc)"})
    return xr.Dataset(out, coords={"channel": names, "freq_ghz": ("channel", freq)},
                      attrs={"product": "1C-GMI", "swaths": ",".join(swaths)})


def write_gpm_1c_gmi(path: str | os.PathLike, tb: np.ndarray, latitude: np.ndarray, longitude: np.ndarray, *,
                     start: str = "2019-06-01T00:00:00", scan_seconds: float = 1.9, version: str = "V07A") -> None:
    """Write brightness temperatures ``tb`` (nscan, npixel, 13) in the 1C-GMI HDF5 layout.

    NaN is written as the fill value −9999.9; S2 gets the same geolocation as S1. Used by the tests
    and to hand simulated scenes to tools that read 1C granules.
    """
    h5py = _h5py()
    tb = np.asarray(tb, dtype="float32")
    if tb.ndim != 3 or tb.shape[2] != 13:
        raise ValueError(f"tb has shape {tb.shape}; expected (nscan, npixel, 13)")
    nscan, npix = tb.shape[:2]
    times = pd.to_datetime(start) + pd.to_timedelta(np.arange(nscan) * scan_seconds, unit="s")
    with h5py.File(path, "w") as f:
        f.attrs["FileHeader"] = np.bytes_(f"AlgorithmID=1CGMI;AlgorithmVersion=2016;ProductVersion={version};")
        for swath, sl in (("S1", slice(0, 9)), ("S2", slice(9, 13))):
            g = f.create_group(swath)
            tc = np.where(np.isfinite(tb[..., sl]), tb[..., sl], _FILL).astype("float32")
            d = g.create_dataset("Tc", data=tc)
            d.attrs["units"] = np.bytes_("K")
            d.attrs["CodeMissingValue"] = np.bytes_("-9999.9")
            g.create_dataset("Latitude", data=np.asarray(latitude, dtype="float32"))
            g.create_dataset("Longitude", data=np.asarray(longitude, dtype="float32"))
            g.create_dataset("Quality", data=np.zeros((nscan, npix), dtype="int8"))
            g.create_dataset("incidenceAngle", data=np.full((nscan, npix, 1), 52.8, dtype="float32"))
            st = g.create_group("ScanTime")
            for name, values, dtype in (("Year", times.year, "int16"), ("Month", times.month, "int8"),
                                        ("DayOfMonth", times.day, "int8"), ("Hour", times.hour, "int8"),
                                        ("Minute", times.minute, "int8"), ("Second", times.second, "int8"),
                                        ("MilliSecond", times.microsecond // 1000, "int16"),
                                        ("DayOfYear", times.day_of_year, "int16")):
                st.create_dataset(name, data=np.asarray(values, dtype=dtype))
