"""SEVIRI infrared brightness temperatures: one layout for real and simulated data.

Layout (what :func:`read_seviri` returns and what :func:`eoretrieval.rain.ir_operator.seviri_ir_operator`
produces): an ``xr.Dataset`` with one variable per channel, named as satpy names them
(``IR_108``, ``IR_120``, ``WV_062``, ``WV_073``, ``IR_087``), each ``(time, y, x)`` float32 in ``K`` with
``standard_name = toa_brightness_temperature`` and ``wavelength`` (µm) attributes; projected ``y``
(ascending) and ``x`` coordinates in metres.

Two routes:

- **satpy** :cite:`raspaud2018` for the real archives (``reader="seviri_l1b_native"`` for EUMETSAT ``.nat``
  level-1.5 files, ``"seviri_l1b_nc"`` for the EUMETSAT netCDF level-1.5 format, ``"seviri_l1b_hrit"``):
  calibrated brightness temperatures, on the native geostationary grid or resampled to an ``area``.
- **netCDF** files written in the layout above (:func:`write_seviri_netcdf`), e.g. the output of the IR
  forward operator.

Public names: :data:`SEVIRI_CHANNELS`, :func:`read_seviri`, :func:`read_seviri_netcdf`,
:func:`write_seviri_netcdf`, :func:`check_seviri_layout`.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import DataError, MissingOptionalDependency
from .interface import postprocess_reader

__all__ = ["SEVIRI_CHANNELS", "read_seviri", "read_seviri_netcdf", "write_seviri_netcdf", "check_seviri_layout"]

#: satpy channel name -> central wavelength (µm)
SEVIRI_CHANNELS = {"IR_108": 10.8, "IR_120": 12.0, "WV_062": 6.2, "WV_073": 7.3, "IR_087": 8.7}


def check_seviri_layout(ds: xr.Dataset, *, channels=tuple(SEVIRI_CHANNELS), source: str | None = None) -> xr.Dataset:
    """Check the SEVIRI layout: channels present, units K, dims ``(time, y, x)``, plausible values.

    Raises
    ------
    DataError
        Naming the file/dataset, the channel and what was expected.
    """
    src = source or str(ds.attrs.get("source_file", "<in-memory dataset>"))
    for ch in channels:
        if ch not in ds.data_vars:
            raise DataError(f"{src}: missing SEVIRI channel {ch!r}; present: {sorted(map(str, ds.data_vars))}")
        da = ds[ch]
        if da.attrs.get("units") != "K":
            raise DataError(f"{src}: channel {ch!r} has units {da.attrs.get('units')!r}; expected 'K'")
        if tuple(da.dims) != ("time", "y", "x"):
            raise DataError(f"{src}: channel {ch!r} has dims {da.dims}; expected ('time', 'y', 'x')")
        vals = da.values
        finite = vals[np.isfinite(vals)]
        if finite.size == 0:
            raise DataError(f"{src}: channel {ch!r} is all NaN")
        if finite.min() < 150 or finite.max() > 350:
            raise DataError(f"{src}: channel {ch!r} has values {finite.min():.1f}-{finite.max():.1f} K, outside "
                            "the plausible brightness-temperature range 150-350 K")
    return ds


@postprocess_reader()
def read_seviri_netcdf(path: str | os.PathLike, *, channels=tuple(SEVIRI_CHANNELS)) -> xr.Dataset:
    """Read a SEVIRI-layout netCDF file (see the module docstring) and check its layout.

    Raises
    ------
    DataError
        Missing file, missing channel, wrong units or dims (naming the file).
    """
    with xr.open_dataset(path) as ds:
        ds = ds[list(c for c in channels if c in ds.data_vars)].load() if any(
            c in ds.data_vars for c in channels) else ds.load()
    if "y" in ds.dims and ds.sizes["y"] > 1 and ds.y[1] < ds.y[0]:
        ds = ds.isel(y=slice(None, None, -1))
    return check_seviri_layout(ds, channels=channels, source=str(path))


def write_seviri_netcdf(ds: xr.Dataset, path: str | os.PathLike) -> Path:
    """Write a SEVIRI-layout dataset to netCDF (after :func:`check_seviri_layout`); return the path."""
    check_seviri_layout(ds, channels=[c for c in SEVIRI_CHANNELS if c in ds.data_vars] or list(SEVIRI_CHANNELS))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    enc = {v: {"zlib": True, "complevel": 4} for v in ds.data_vars}
    ds.to_netcdf(path, encoding=enc)
    return path


@postprocess_reader()
def read_seviri(path: str | os.PathLike, *, reader: str = "seviri_l1b_native", channels=tuple(SEVIRI_CHANNELS),
                area=None) -> xr.Dataset:
    """Read real SEVIRI level-1.5 data with satpy (or a SEVIRI-layout netCDF with ``reader="netcdf"``).

    Parameters
    ----------
    path : path
        One file (native ``.nat``, EUMETSAT netCDF, or an HRIT segment set's prologue).
    reader : str
        satpy reader name (``seviri_l1b_native``, ``seviri_l1b_nc``, ``seviri_l1b_hrit``) or ``"netcdf"``.
    channels : sequence of str
        satpy channel names.
    area : pyresample AreaDefinition or str, optional
        Resample to this area (nearest neighbour) before returning.

    Returns
    -------
    xr.Dataset
        The SEVIRI layout (module docstring).

    Raises
    ------
    MissingOptionalDependency
        If satpy is not installed.
    DataError
        If satpy cannot read the file (naming it) or the result lacks a channel.
    """
    if reader == "netcdf":
        return read_seviri_netcdf(path, channels=channels)
    try:
        from satpy import Scene
    except ImportError as err:
        raise MissingOptionalDependency("reading SEVIRI level-1.5 files needs satpy: pip install satpy") from err
    try:
        scn = Scene(filenames=[str(path)], reader=reader)
        scn.load(list(channels), calibration="brightness_temperature")
        if area is not None:
            scn = scn.resample(area, resampler="nearest")
    except (ValueError, KeyError, IndexError, OSError) as err:
        raise DataError(f"{path}: satpy reader {reader!r} cannot read it: {type(err).__name__}: {err}") from err
    time = np.datetime64(scn.start_time.replace(tzinfo=None), "s")
    out = {}
    for ch in channels:
        da = scn[ch]
        vals = np.asarray(da.values, dtype=np.float32)
        yv = np.asarray(da["y"].values, dtype=float)
        xv = np.asarray(da["x"].values, dtype=float)
        if yv[0] > yv[-1]:
            vals, yv = vals[::-1], yv[::-1]
        out[ch] = xr.DataArray(vals[None], dims=("time", "y", "x"),
                               coords={"time": [time], "y": ("y", yv, {"units": "m"}), "x": ("x", xv, {"units": "m"})},
                               attrs={"units": "K", "standard_name": "toa_brightness_temperature",
                                      "long_name": f"SEVIRI {ch} brightness temperature",
                                      "wavelength": SEVIRI_CHANNELS.get(ch, np.nan)})
    ds = xr.Dataset(out)
    ds.attrs.update({"platform": str(scn[channels[0]].attrs.get("platform_name", "")), "satpy_reader": reader})
    return check_seviri_layout(ds, channels=channels, source=str(path))
