"""Readers of radar (and radar-like) precipitation composites through the pysteps importers :cite:`pulkkinen2019`.

Every importer that ``pysteps.io.get_method(name, "importer")`` knows (``knmi_hdf5``, ``opera_hdf5``,
``odim_hdf5``, ``saf_crri``, ``bom_rf3``, ``mrms_grib``, ``fmi_pgm``, ...) is reachable through
:func:`read_radar`; the common ones are also registered as readers of their own.

The result is an ``xr.Dataset`` with one variable ``precip`` of dims ``(time, y, x)``: ``y`` ascending
(north up, whatever the file's ``yorigin``), coordinates in metres, ``units`` from the file
(``mm h-1`` for rates, ``mm`` for accumulations with ``accutime`` in minutes) and the pysteps metadata
(``projection``, ``accutime``, ``zerovalue``, ``threshold``, ``institution``) as attributes.

Public names: :func:`read_radar`, :func:`read_radar_sequence`, :func:`radar_time_from_name`,
:data:`RADAR_IMPORTERS`.
"""

from __future__ import annotations

import datetime as _dt
import glob as _glob
import os
import re
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import DataError, MissingOptionalDependency
from .interface import postprocess_reader

__all__ = ["read_radar", "read_radar_sequence", "radar_time_from_name", "RADAR_IMPORTERS", "RADAR_READERS",
           "import_pysteps"]

#: pysteps importers registered here as readers of their own (name -> short description)
RADAR_IMPORTERS = {
    "knmi_hdf5": "KNMI national radar composite (HDF5), 5-min accumulation",
    "opera_hdf5": "EUMETNET OPERA composite (ODIM HDF5)",
    "odim_hdf5": "ODIM HDF5 composite (any producer)",
    "saf_crri": "NWC SAF convective rain rate (netCDF)",
    "bom_rf3": "Australian BoM Rainfields 3 (netCDF)",
}

_UNITS = {"mm/h": "mm h-1", "mm": "mm", "dBZ": "dBZ"}


def radar_time_from_name(path: str | os.PathLike) -> np.datetime64:
    """Parse the nominal time from a radar file name (``YYYYmmddHHMM[SS]``, optionally with a ``T``).

    Raises
    ------
    DataError
        If no date-time is found in the name.

    Examples
    --------
    >>> str(radar_time_from_name("RAD_NL25_RAP_5min_201008260600.h5"))
    '2010-08-26T06:00:00'
    >>> str(radar_time_from_name("S_NWC_CRR_MSG4_Europe-VISIR_20180601T120000Z.nc"))
    '2018-06-01T12:00:00'
    """
    name = Path(path).name
    m = re.search(r"(\d{8})T?(\d{6})", name)
    if m:
        stamp = m.group(1) + m.group(2)
        fmt = "%Y%m%d%H%M%S"
    else:
        m = re.search(r"(?<!\d)(\d{12})(?!\d)", name)
        if not m:
            raise DataError(f"{path}: no date-time (YYYYmmddHHMM[SS]) found in the file name")
        stamp, fmt = m.group(1), "%Y%m%d%H%M"
    return np.datetime64(_dt.datetime.strptime(stamp, fmt), "s")


def import_pysteps():
    """Import pysteps (its ``io`` and ``utils``) without the banner it prints at import time.

    pysteps prints ``Pysteps configuration file found at: <absolute path>`` on its first import; in an executed
    notebook that line would carry the build machine's paths into the book. Every import of pysteps in the library
    goes through this function.

    Raises
    ------
    MissingOptionalDependency
        If pysteps is not installed.
    """
    import contextlib
    import io as _io

    try:
        with contextlib.redirect_stdout(_io.StringIO()):
            import pysteps
            import pysteps.io
            import pysteps.utils
    except ImportError as err:  # pragma: no cover - pysteps is in the 'field' extra
        raise MissingOptionalDependency("reading radar files needs pysteps: pip install pysteps") from err
    return pysteps


def _importer(name: str):
    import_pysteps()
    try:
        from pysteps.io import get_method
    except ImportError as err:  # pragma: no cover - pysteps is a core dependency of the rain study
        raise MissingOptionalDependency("reading radar files needs pysteps: pip install pysteps") from err
    try:
        return get_method(name, "importer")
    except ValueError as err:
        raise ValueError(f"unknown pysteps importer {name!r}: {err}") from None


@postprocess_reader(required={"precip": None})
def read_radar(path: str | os.PathLike, *, importer: str = "odim_hdf5", **importer_kwargs) -> xr.Dataset:
    """Read one radar file with the pysteps importer ``importer``.

    Parameters
    ----------
    path : path
        The file.
    importer : str
        A pysteps importer name (see :data:`RADAR_IMPORTERS`; any other pysteps importer works too).
    **importer_kwargs
        Passed to the importer (e.g. ``qty="RATE"`` for ``odim_hdf5``).

    Returns
    -------
    xr.Dataset
        ``precip`` ``(time, y, x)`` float32, NaN where missing/outside, ``units`` from the file; ``quality``
        where the file has one; coordinates ``y``, ``x`` in m (cell centres, ``y`` ascending).

    Raises
    ------
    DataError
        Missing/unreadable file (naming it), no time in the name, or a unit pysteps does not state.
    """
    func = _importer(importer)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = func(str(path), **importer_kwargs)
    precip, quality, meta = out
    precip = np.asarray(precip, dtype=np.float32)
    if precip.ndim != 2:
        raise DataError(f"{path}: expected one 2-D field from importer {importer!r}, got shape {precip.shape}")
    unit = meta.get("unit")
    if unit not in _UNITS:
        raise DataError(f"{path}: unknown precipitation unit {unit!r} from importer {importer!r}; "
                        f"expected one of {sorted(_UNITS)}")
    scale = 1000.0 if meta.get("cartesian_unit", "m") == "km" else 1.0
    ny, nx = precip.shape
    dx, dy = meta["xpixelsize"] * scale, meta["ypixelsize"] * scale
    x = meta["x1"] * scale + dx * (np.arange(nx) + 0.5)
    y = meta["y1"] * scale + dy * (np.arange(ny) + 0.5)  # ascending
    if meta.get("yorigin", "upper") == "upper":
        precip = precip[::-1]
        if quality is not None:
            quality = np.asarray(quality)[::-1]
    time = radar_time_from_name(path)
    attrs = {"units": _UNITS[unit], "long_name": "precipitation" if unit != "dBZ" else "reflectivity",
             "accutime_min": float(meta.get("accutime") or 0.0), "zerovalue": float(meta.get("zerovalue", 0.0)),
             "threshold": float(meta.get("threshold", 0.0)), "pysteps_unit": unit}
    if unit == "mm/h":
        attrs["standard_name"] = "rainfall_rate"
    data = {"precip": (("time", "y", "x"), precip[None].copy(), attrs)}
    if quality is not None and np.shape(quality) == precip.shape:
        data["quality"] = (("time", "y", "x"), np.asarray(quality, dtype=np.float32)[None],
                           {"units": "1", "long_name": "quality index"})
    ds = xr.Dataset(data, coords={"time": [time], "y": ("y", y, {"units": "m"}), "x": ("x", x, {"units": "m"})})
    ds.attrs.update({"projection": meta.get("projection", ""), "institution": str(meta.get("institution", "")),
                     "importer": importer, "grid_spacing_m": float(dx)})
    return ds


def read_radar_sequence(files: str | Sequence[str | os.PathLike], *, importer: str = "odim_hdf5",
                        **importer_kwargs) -> xr.Dataset:
    """Read a time sequence of radar files (a glob or a list), sorted by the time in the names.

    Raises
    ------
    DataError
        If the glob matches nothing, or the files do not share one grid (naming the odd file).
    """
    paths = sorted(_glob.glob(files)) if isinstance(files, str) else [str(f) for f in files]
    if not paths:
        raise DataError(f"{files}: no radar files match")
    parts = [read_radar(p, importer=importer, **importer_kwargs) for p in paths]
    parts.sort(key=lambda d: d.time.values[0])
    ref = parts[0]
    for p in parts[1:]:
        if p.sizes != ref.sizes or not (np.allclose(p.x, ref.x) and np.allclose(p.y, ref.y)):
            raise DataError(f"{p.attrs['source_file']}: grid {dict(p.sizes)} differs from "
                            f"{ref.attrs['source_file']} {dict(ref.sizes)}; a sequence needs one grid")
    ds = xr.concat(parts, dim="time", combine_attrs="drop_conflicts")
    ds.attrs["source_files"] = [p.attrs["source_file"] for p in parts]
    ds.attrs["source_file"] = parts[0].attrs["source_file"]
    return ds


def _named(importer: str):
    def reader(path: str | os.PathLike, **kwargs) -> xr.Dataset:
        return read_radar(path, importer=importer, **kwargs)
    reader.__name__ = f"read_{importer}"
    reader.__doc__ = f"Read one {RADAR_IMPORTERS[importer]} file (:func:`read_radar` with importer={importer!r})."
    return reader


#: name -> reader, registered by :mod:`eoretrieval.io`
RADAR_READERS = {name: _named(name) for name in RADAR_IMPORTERS}
