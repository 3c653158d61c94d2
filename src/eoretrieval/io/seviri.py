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

:func:`write_eumetsat_l15_nc` writes brightness temperatures on a window of the 3 km geostationary grid
(:func:`geos_window`) as a EUMETSAT level-1.5 netCDF file that satpy's ``seviri_l1b_nc`` reader reads: 10-bit
counts with a nominal gain and offset, the published Meteosat-11 effective-radiance coefficients, lines stored
south first with line numbers counted from the south and pixel numbers from the east (SE grid origin), CDS
times, and each line's acquisition time. It makes format-exact test files for the real-archive route, with content
nobody has to trust.

When was a grid seen? SEVIRI scans from south to north over about 12 minutes, so Europe is seen some 11 minutes
after the repeat cycle's nominal start (the ``time`` satpy reports). The satpy route also returns ``scan_time``
(along ``time``): the median acquisition time of the scan lines over the returned grid, from the lines' times in
the file; matching SEVIRI to radar times should use it.

Public names: :data:`SEVIRI_CHANNELS`, :func:`read_seviri`, :func:`read_seviri_netcdf`,
:func:`write_seviri_netcdf`, :func:`check_seviri_layout`, :func:`geos_window`, :func:`write_eumetsat_l15_nc`,
:func:`scan_offset_s`, :data:`GEOS_PROJ`.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import DataError, MissingOptionalDependency
from .interface import postprocess_reader

__all__ = ["SEVIRI_CHANNELS", "read_seviri", "read_seviri_netcdf", "write_seviri_netcdf", "check_seviri_layout",
           "geos_window", "write_eumetsat_l15_nc", "scan_offset_s", "GEOS_PROJ"]

#: satpy channel name -> central wavelength (µm)
SEVIRI_CHANNELS = {"IR_108": 10.8, "IR_120": 12.0, "WV_062": 6.2, "WV_073": 7.3, "IR_087": 8.7}

#: Meteosat-11 effective radiance -> brightness temperature: central wavenumber (cm-1), alpha, beta (EUMETSAT,
#: "The conversion from effective radiances to equivalent brightness temperatures", EUM/MET/TEN/11/0569)
MSG4_RADIANCE_COEFS = {"WV_062": (1596.080, 0.9959, 2.0780), "WV_073": (1361.748, 0.9990, 0.4929),
                       "IR_087": (1147.433, 0.9996, 0.1731), "IR_108": (931.122, 0.9983, 0.6256),
                       "IR_120": (839.113, 0.9988, 0.4002)}
_C1, _C2 = 1.19104273e-5, 1.43877523  # 2hc^2 in mW m-2 sr-1 (cm-1)-4; hc/k in cm K
_NC_KEY = {"WV_062": "ch5", "WV_073": "ch6", "IR_087": "ch7", "IR_108": "ch9", "IR_120": "ch10"}
#: SEVIRI's geostationary projection (0 degrees E) and the netCDF format's 3 km grid step (m)
GEOS_PROJ = "+proj=geos +lon_0=0 +h=35785831 +a=6378169 +b=6356583.8 +units=m +no_defs"
GEOS_STEP_M = 3000.4032
_CENTRE = 3712 / 2


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
        time = np.datetime64(scn.start_time.replace(tzinfo=None), "s")
        scan, scan_source = _scan_time(scn[channels[0]], area, time)
        if area is not None:
            with warnings.catch_warnings():  # pyresample's boundary code: a pending deprecation of its own API
                warnings.simplefilter("ignore", PendingDeprecationWarning)
                scn = scn.resample(area, resampler="nearest")
    except (ValueError, KeyError, IndexError, OSError) as err:
        raise DataError(f"{path}: satpy reader {reader!r} cannot read it: {type(err).__name__}: {err}") from err
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
    ds = xr.Dataset(out).assign_coords(scan_time=("time", [scan], {
        "long_name": "median acquisition time of the scan lines over the grid", "source": scan_source}))
    ds.attrs.update({"platform": str(scn[channels[0]].attrs.get("platform_name", "")), "satpy_reader": reader})
    return check_seviri_layout(ds, channels=channels, source=str(path))


def _scan_time(native: xr.DataArray, area, start: np.datetime64) -> tuple[np.datetime64, str]:
    """When the grid was seen: the median, over the grid's cells, of the acquisition time of the native line each
    falls on (satpy's per-line ``acq_time``); ``start`` (the repeat cycle's start) where the file has no line times
    or none of its lines cross the grid."""
    acq = native.coords.get("acq_time")
    if acq is None or acq.dims != ("y",):
        return start, "repeat-cycle start (the file gives no line acquisition times)"
    t = np.asarray(acq.values).astype("datetime64[ns]")
    ok = ~np.isnat(t)
    if not ok.any():
        return start, "repeat-cycle start (the file's line acquisition times are all missing)"
    yv = np.asarray(native["y"].values, dtype=float)[ok]
    sec = (t[ok] - t[ok].min()) / np.timedelta64(1, "s")
    if area is None:
        ys = yv
    else:
        from pyproj import Transformer

        lons, lats = area.get_lonlats()
        _, ys = Transformer.from_crs("EPSG:4326", native.attrs["area"].crs, always_xy=True).transform(
            np.ravel(lons), np.ravel(lats))
        half = 0.5 * (np.abs(np.diff(yv)).min() if yv.size > 1 else GEOS_STEP_M)
        ys = ys[np.isfinite(ys) & (ys >= yv.min() - half) & (ys <= yv.max() + half)]
        if ys.size == 0:
            return start, "repeat-cycle start (no scan line of the file crosses the grid)"
    order = np.argsort(yv)
    med = float(np.median(np.interp(ys, yv[order], sec[order])))
    scan = t[ok].min() + np.timedelta64(int(round(med * 1000)), "ms")
    return scan.astype("datetime64[s]"), "satpy acq_time of the lines over the grid"


def scan_offset_s(line) -> np.ndarray:
    """Seconds after the repeat cycle's start at which SEVIRI's nominal scan reaches ``line`` (1-based, counted from
    the south as the level-1.5 format counts them): three IR lines per mirror rotation (100 rpm, 0.6 s), south to
    north, so the full disc takes 12.4 min and 50 N is seen about 11 min after the slot's nominal time. Real files
    carry each line's measured time; this model is what :func:`write_eumetsat_l15_nc` writes."""
    return ((np.asarray(line) - 1) // 3) * 0.6


def _effective_radiance(bt, ch):
    """Effective radiance (mW m-2 sr-1 (cm-1)-1) of a brightness temperature (K): the published inverse."""
    nu, a, b = MSG4_RADIANCE_COEFS[ch]
    return _C1 * nu ** 3 / np.expm1(_C2 * nu / (a * np.asarray(bt, dtype=float) + b))


def geos_window(lon, lat, *, margin: int = 2) -> dict:
    """The window of SEVIRI's 3 km grid covering the points ``lon``, ``lat`` (degrees) plus ``margin`` pixels.

    Returns ``{"south", "north", "east", "west"}`` line/pixel numbers as the level-1.5 format counts them (lines
    from the south, pixels from the east, 1-based) and the cell centres ``x`` (m, west to east) and ``y`` (m,
    north to south, the row order of a north-up array).
    """
    from pyproj import Transformer

    x, y = Transformer.from_crs("EPSG:4326", GEOS_PROJ, always_xy=True).transform(np.ravel(lon), np.ravel(lat))
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("some points are not on the Earth disc seen from 0 degrees E")
    south = int(np.floor(np.min(y) / GEOS_STEP_M + _CENTRE + 0.5)) - margin
    north = int(np.ceil(np.max(y) / GEOS_STEP_M + _CENTRE - 0.5)) + margin
    east = int(np.floor(_CENTRE + 0.5 - np.max(x) / GEOS_STEP_M)) - margin
    west = int(np.ceil(_CENTRE - 0.5 - np.min(x) / GEOS_STEP_M)) + margin
    xs = (_CENTRE - west + np.arange(west - east + 1)) * GEOS_STEP_M
    ys = (north - _CENTRE - np.arange(north - south + 1)) * GEOS_STEP_M
    return {"south": south, "north": north, "east": east, "west": west, "x": xs, "y": ys}


def write_eumetsat_l15_nc(bt: dict, folder: str | os.PathLike, *, window: dict, start: str) -> Path:
    """Write ``bt`` (channel -> (lines, columns) K, row 0 north, column 0 west, on ``window``) as a EUMETSAT
    level-1.5 netCDF file of Meteosat-11 for the repeat cycle starting at ``start`` (ISO time); return its path.
    Each line's acquisition time follows the nominal scan (:func:`scan_offset_s`).

    The file name follows the EUMETSAT pattern satpy matches; counts are 10-bit with a nominal gain (1000 counts
    span 0 to the radiance of 330 K) and offset (-51 counts), so the round trip is exact to < 0.6 K at 200-330 K.
    """
    ny, nx = window["north"] - window["south"] + 1, window["west"] - window["east"] + 1
    t = np.datetime64(start, "ms")
    since = t - np.datetime64("1958-01-01", "ms")
    days = int(since // np.timedelta64(1, "D"))
    msec = int(since / np.timedelta64(1, "ms")) - days * 86_400_000
    rows, per_chan = ("num_rows_vis_ir", "num_columns_vis_ir"), ("num_rows_vis_ir", "channels_vis_ir_dim")
    data = {}
    for ch, field in bt.items():
        field = np.asarray(field, dtype=float)
        if field.shape != (ny, nx):
            raise ValueError(f"{ch}: shape {field.shape} does not match the window ({ny}, {nx})")
        gain = float(_effective_radiance(330.0, ch)) / 1000.0
        offset = -51.0 * gain
        counts = np.clip(np.round((_effective_radiance(field, ch) - offset) / gain), 1, 1023).astype(np.uint16)
        data[_NC_KEY[ch]] = (rows, counts[::-1], {"scale_factor": gain, "add_offset": offset, "long_name": ch,
                                                  "comment": "", "valid_min": 0, "valid_max": 1023})
    planned = np.zeros(12, dtype=np.int8)
    planned[3:11] = 2  # effective radiance for the IR and WV channels
    ones = np.ones((ny, 11), dtype=np.int32)
    # each line's mean acquisition time (the nominal scan, lines stored south first)
    line_ms = msec + np.round(1000 * scan_offset_s(window["south"] + np.arange(ny))).astype(np.int64)
    line_days, line_msec = days + line_ms // 86_400_000, line_ms % 86_400_000
    poly = np.zeros((2, 8))
    poly[:, 0] = 2 * 42164.0  # Chebyshev, km: the satellite at 42164 km on the x axis (0 E, 0 N)
    data.update({
        "planned_chan_processing": ("num_channels", planned),
        "channel_data_visir_data_l10_line_mean_acquisition_time_day": (per_chan, ones * line_days[:, None]),
        "channel_data_visir_data_l10_line_mean_acquisition_msec": (per_chan, ones * line_msec[:, None]),
        "channel_data_visir_data_line_validity": (per_chan, ones),
        "channel_data_visir_data_line_geometric_quality": (per_chan, ones * 0),
        "channel_data_visir_data_line_radiometric_quality": (per_chan, ones * 0),
        "orbit_polynomial_start_time_day": ("orbit_polynomial_dim_row", [days, days + 1]),
        "orbit_polynomial_start_time_msec": ("orbit_polynomial_dim_row", [0, 0]),
        "orbit_polynomial_end_time_day": ("orbit_polynomial_dim_row", [days + 1, days + 2]),
        "orbit_polynomial_end_time_msec": ("orbit_polynomial_dim_row", [0, 0]),
    })
    for k in "xyz":
        data[f"orbit_polynomial_{k}"] = (("orbit_polynomial_dim_row", "orbit_polynomial_dim_col"),
                                         poly if k == "x" else np.zeros((2, 8)))
    attrs = {"equatorial_radius": 6378.169, "north_polar_radius": 6356.5838, "south_polar_radius": 6356.5838,
             "longitude_of_SSP": 0.0, "nominal_longitude": 0.0, "satellite_id": 324,
             "true_repeat_cycle_start_day": days, "true_repeat_cycle_start_mi_sec": msec,
             "planned_repeat_cycle_end_day": days, "planned_repeat_cycle_end_mi_sec": msec + 15 * 60_000,
             "north_most_line": window["north"], "south_most_line": window["south"],
             "east_most_pixel": window["east"], "west_most_pixel": window["west"], "vis_ir_grid_origin": "0x02",
             "vis_ir_column_dir_grid_step": GEOS_STEP_M / 1000.0, "vis_ir_line_dir_grid_step": GEOS_STEP_M / 1000.0,
             "type_of_earth_model": "0x02", "nominal_image_scanning": "T", "reduced_scanning": "F"}
    stamp = str(t.astype("datetime64[s]")).replace("-", "").replace(":", "").replace("T", "")
    path = Path(folder) / f"W_XX-EUMETSAT-Darmstadt,VIS+IR+HRV+IMAGERY,MSG4+SEVIRI_C_EUMG_{stamp}.nc"
    path.parent.mkdir(parents=True, exist_ok=True)
    enc = {k: {"zlib": True, "complevel": 4} for k in _NC_KEY.values() if k in data}
    tmp = path.with_name(path.name + ".part")  # written whole, then renamed: never a half-written granule
    xr.Dataset(data, attrs=attrs).to_netcdf(tmp, encoding=enc)
    os.replace(tmp, path)
    return path
