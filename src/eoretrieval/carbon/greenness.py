"""One greenness input for every light-use model: EVI, NDVI, NIRv, kNDVI or fAPAR.

:func:`greenness` returns the named input from a dataset, computing it from what the dataset holds
(reflectances ``nir``/``red``/``blue``, or NDVI for kNDVI) when it is not stored, and checks that it
is a dimensionless 0-1 quantity (units through :func:`eoretrieval.io.checks.require_units`). A light-use
model takes any of them as its greenness term (:class:`eoretrieval.carbon.lue.LUEModel` ``greenness``,
:class:`eoretrieval.carbon.interface.ModelVariant` ``greenness``).

Public names: :data:`GREENNESS_INPUTS`, :func:`greenness`.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import DataError
from ..io.checks import require_units, source_of
from . import indices as vi

__all__ = ["GREENNESS_INPUTS", "greenness"]

#: name -> description (and how it is derived when not stored).
GREENNESS_INPUTS = {
    "evi": "enhanced vegetation index (stored, or from nir, red, blue reflectances)",
    "ndvi": "normalised difference vegetation index (stored, or from nir, red)",
    "nirv": "NIRv = NDVI x nir (stored, or from nir, red)",
    "kndvi": "kNDVI = tanh(NDVI^2) (stored, or from NDVI)",
    "fapar": "fraction of absorbed PAR (a product such as MODIS MCD15A3H/MOD15A2H)",
}


def greenness(ds: xr.Dataset, name: str) -> xr.DataArray:
    """Return greenness input ``name`` of ``ds`` (units ``"1"``), derived from reflectances if needed.

    Raises
    ------
    ValueError
        Unknown name (lists the valid ones).
    DataError
        Not stored and not derivable, wrong units, or values outside -0.2..1.05 (e.g. percent or
        unscaled integers); the message names the dataset's source file.
    """
    key = str(name).lower()
    if key not in GREENNESS_INPUTS:
        raise ValueError(f"unknown greenness input {name!r}; valid: {sorted(GREENNESS_INPUTS)}")
    src = source_of(ds)
    if key in ds:
        da = ds[key]
        if "units" in da.attrs:
            require_units(da, "1", source=src)
    elif key == "kndvi" and "ndvi" in ds:
        da = vi.kndvi_from_ndvi(ds["ndvi"])
    elif key in ("ndvi", "nirv", "kndvi", "evi") and {"nir", "red"} <= set(ds.data_vars):
        nir, red = ds["nir"], ds["red"]
        if key == "evi":
            if "blue" not in ds:
                raise DataError(f"{src}: EVI needs a blue band (nir, red, blue); have {sorted(ds.data_vars)}")
            da = vi.evi(nir, red, ds["blue"])
        else:
            da = {"ndvi": vi.ndvi, "nirv": vi.nirv, "kndvi": vi.kndvi}[key](nir, red)
    else:
        raise DataError(f"{src}: greenness input {key!r} is not stored and cannot be derived "
                        f"(have {sorted(ds.data_vars)})")
    v = np.asarray(da.values, float)
    if np.isfinite(v).any() and (np.nanmax(v) > 1.05 or np.nanmin(v) < -0.2):
        raise DataError(f"{src}: greenness {key!r} ranges {np.nanmin(v):.3g}..{np.nanmax(v):.3g}; expected a "
                        "dimensionless 0-1 index (percent or unscaled integers?)")
    return da.assign_attrs(units="1", greenness=key)
