"""Reader of Sentinel-5P/TROPOMI L2 NO2 files (netCDF-4 with groups), with quality filtering and unit checks.

:func:`read_tropomi_no2` reads one orbit file of the offline/reprocessed L2 NO2 product
:cite:`vangeffen2020,vangeffen2022`: from group ``PRODUCT`` the tropospheric column and its precision,
``qa_value`` (``uint8`` with ``scale_factor`` 0.01, decoded), pixel centres, ``time_utc``, the air-mass factors
and (optionally) the averaging kernel; from ``PRODUCT/SUPPORT_DATA/GEOLOCATIONS`` the pixel corners. Fill
values become NaN and scale factors are applied (netCDF4 automatic mask-and-scale). Pixels with
``qa_value < qa_min`` (default 0.75, the product's recommendation for tropospheric columns) are set to NaN.

Units stay ``mol m-2``; :func:`to_molec_cm2` converts explicitly (x N_A / 1e4) and checks the file's own
``multiplication_factor_to_convert_to_molecules_percm2``.

Errors (:class:`~eoretrieval.errors.DataError`, naming the file): missing group, missing variable, wrong
units, no pixel passing the quality filter, truncated or unreadable file.

Public names: :func:`read_tropomi_no2`, :func:`to_molec_cm2`, :data:`TROPOMI_NO2_VARIABLES`.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import DataError
from .interface import postprocess_reader

__all__ = ["read_tropomi_no2", "to_molec_cm2", "TROPOMI_NO2_VARIABLES", "AVOGADRO"]

AVOGADRO = 6.02214076e23

#: (group, variable in the file) → (name in the result, expected units)
TROPOMI_NO2_VARIABLES = {
    ("PRODUCT", "nitrogendioxide_tropospheric_column"): ("no2", "mol m-2"),
    ("PRODUCT", "nitrogendioxide_tropospheric_column_precision"): ("no2_precision", "mol m-2"),
    ("PRODUCT", "qa_value"): ("qa_value", "1"),
    ("PRODUCT", "latitude"): ("lat", "degrees_north"),
    ("PRODUCT", "longitude"): ("lon", "degrees_east"),
    ("PRODUCT", "air_mass_factor_troposphere"): ("amf_trop", "1"),
    ("PRODUCT", "air_mass_factor_total"): ("amf_total", "1"),
    ("PRODUCT/SUPPORT_DATA/GEOLOCATIONS", "latitude_bounds"): ("lat_bounds", "degrees_north"),
    ("PRODUCT/SUPPORT_DATA/GEOLOCATIONS", "longitude_bounds"): ("lon_bounds", "degrees_east"),
}


def _group(nc, path: str, fname) -> object:
    g = nc
    for part in path.split("/"):
        if part not in g.groups:
            raise DataError(f"{fname}: missing group {path!r} (no {part!r} in {g.path!r}; groups there: "
                            f"{sorted(g.groups)}); expected a TROPOMI L2 NO2 file")
        g = g.groups[part]
    return g


def _read_var(group, name: str, units: str, fname, squeeze_time: bool = True) -> np.ndarray:
    if name not in group.variables:
        raise DataError(f"{fname}: missing variable {group.path}/{name} (expected units {units!r}); "
                        f"present: {sorted(group.variables)[:20]}")
    var = group.variables[name]
    found = getattr(var, "units", None)
    if found != units and not (units == "1" and found in (None, "", "1")):
        raise DataError(f"{fname}: variable {group.path}/{name} has units {found!r}, expected {units!r}")
    var.set_auto_maskandscale(True)
    data = var[:]
    arr = np.ma.filled(np.ma.asarray(data).astype(np.float64), np.nan)
    if squeeze_time and var.dimensions and var.dimensions[0] == "time":
        arr = arr[0]
    return arr


@postprocess_reader()
def read_tropomi_no2(path: str | os.PathLike, *, qa_min: float = 0.75, with_kernel: bool = False,
                     bbox: tuple[float, float, float, float] | None = None) -> xr.Dataset:
    """Read one TROPOMI L2 NO2 orbit file.

    Parameters
    ----------
    path : path-like
        ``S5P_*_L2__NO2____*.nc``.
    qa_min : float
        Keep pixels with ``qa_value >= qa_min`` (0.75 for tropospheric columns); the others become NaN.
    with_kernel : bool
        Also read ``averaging_kernel`` (scanline, ground_pixel, layer) and the TM5 coefficients.
    bbox : (lat_min, lat_max, lon_min, lon_max), optional
        Keep only the scanlines with at least one pixel centre inside the box.

    Returns
    -------
    xr.Dataset
        dims ``(scanline, ground_pixel[, corner][, layer])``: ``no2``, ``no2_precision`` (mol m-2, NaN where
        filtered), ``qa_value`` (1), ``amf_trop``, ``amf_total`` (1); coords ``lat``, ``lon`` (scanline,
        ground_pixel), ``lat_bounds``, ``lon_bounds`` (scanline, ground_pixel, corner), ``time`` (scanline,
        UTC). Attrs: ``orbit``, ``n_valid``, ``qa_min``, ``source_file``.

    Raises
    ------
    DataError
        Missing group or variable, wrong units, no pixel with ``qa_value >= qa_min`` (in ``bbox``), or an
        unreadable/truncated file.
    """
    import netCDF4

    fname = str(path)
    with netCDF4.Dataset(path, "r") as nc:
        arrays = {}
        for (gpath, var), (name, units) in TROPOMI_NO2_VARIABLES.items():
            arrays[name] = _read_var(_group(nc, gpath, fname), var, units, fname)
        prod = _group(nc, "PRODUCT", fname)
        conv = getattr(prod.variables["nitrogendioxide_tropospheric_column"],
                       "multiplication_factor_to_convert_to_molecules_percm2", None)
        if "time_utc" not in prod.variables:
            raise DataError(f"{fname}: missing variable PRODUCT/time_utc; present: {sorted(prod.variables)[:20]}")
        tu = np.asarray(prod.variables["time_utc"][:]).reshape(-1)
        times = pd.to_datetime([str(t).rstrip("Z") for t in tu]).values
        orbit = int(getattr(nc, "orbit", -1))
        kernel = None
        if with_kernel:
            kernel = _read_var(prod, "averaging_kernel", "1", fname)
            tm5_a = _read_var(prod, "tm5_constant_a", "Pa", fname, squeeze_time=False)
            tm5_b = _read_var(prod, "tm5_constant_b", "1", fname, squeeze_time=False)
    ny, nx = arrays["no2"].shape
    if arrays["lat_bounds"].shape != (ny, nx, 4) or times.shape != (ny,):
        raise DataError(f"{fname}: inconsistent shapes: column {(ny, nx)}, latitude_bounds "
                        f"{arrays['lat_bounds'].shape}, time_utc {times.shape}; expected (scanline, ground_pixel[, 4])")
    if conv is not None and abs(float(conv) / (AVOGADRO / 1e4) - 1) > 1e-4:
        raise DataError(f"{fname}: multiplication_factor_to_convert_to_molecules_percm2 = {float(conv):.6g}, "
                        f"expected {AVOGADRO / 1e4:.6g} for a column in mol m-2")
    rows = slice(None)
    if bbox is not None:
        la0, la1, lo0, lo1 = bbox
        inbox = ((arrays["lat"] >= la0) & (arrays["lat"] <= la1) & (arrays["lon"] >= lo0) & (arrays["lon"] <= lo1))
        keep = np.flatnonzero(inbox.any(axis=1))
        if keep.size == 0:
            raise DataError(f"{fname}: no pixel inside the box lat {la0}..{la1}, lon {lo0}..{lo1}")
        rows = slice(keep[0], keep[-1] + 1)
    sel = {k: v[rows] for k, v in arrays.items()}
    good = np.isfinite(sel["qa_value"]) & (sel["qa_value"] >= qa_min - 1e-9) & np.isfinite(sel["no2"])
    if not good.any():
        raise DataError(f"{fname}: no pixel with qa_value >= {qa_min} (all {good.size} pixels flagged"
                        f"{' in the box' if bbox is not None else ''}); nothing to use in this file")
    dims = ("scanline", "ground_pixel")
    ds = xr.Dataset(
        {
            "no2": (dims, np.where(good, sel["no2"], np.nan), {
                "units": "mol m-2", "long_name": "tropospheric vertical column of NO2 (qa-filtered)",
                "standard_name": "troposphere_mole_content_of_nitrogen_dioxide"}),
            "no2_precision": (dims, np.where(good, sel["no2_precision"], np.nan),
                              {"units": "mol m-2", "long_name": "precision of the tropospheric NO2 column"}),
            "qa_value": (dims, sel["qa_value"], {"units": "1", "long_name": "data quality value"}),
            "amf_trop": (dims, sel["amf_trop"], {"units": "1", "long_name": "tropospheric air-mass factor"}),
            "amf_total": (dims, sel["amf_total"], {"units": "1", "long_name": "total air-mass factor"}),
        },
        coords={
            "lat": (dims, sel["lat"], {"units": "degrees_north"}),
            "lon": (dims, sel["lon"], {"units": "degrees_east"}),
            "lat_bounds": (dims + ("corner",), sel["lat_bounds"], {"units": "degrees_north"}),
            "lon_bounds": (dims + ("corner",), sel["lon_bounds"], {"units": "degrees_east"}),
            "time": ("scanline", times[rows]),
        },
    )
    if kernel is not None:
        ds["averaging_kernel"] = (dims + ("layer",), kernel[rows], {"units": "1", "long_name": "averaging kernel"})
        ds["tm5_constant_a"] = (("layer", "vertices"), tm5_a, {"units": "Pa"})
        ds["tm5_constant_b"] = (("layer", "vertices"), tm5_b, {"units": "1"})
    ds.attrs.update(orbit=orbit, n_valid=int(good.sum()), qa_min=float(qa_min), product="TROPOMI L2 NO2")
    return ds


def to_molec_cm2(da: xr.DataArray) -> xr.DataArray:
    """Convert a column from mol m-2 to molec cm-2 (x N_A / 1e4 = 6.02214076e19).

    Raises
    ------
    DataError
        If ``da`` is not in mol m-2.
    """
    if da.attrs.get("units") != "mol m-2":
        raise DataError(f"to_molec_cm2: {da.name!r} has units {da.attrs.get('units')!r}, expected 'mol m-2'")
    return (da * (AVOGADRO / 1e4)).assign_attrs({**da.attrs, "units": "molec cm-2"})
