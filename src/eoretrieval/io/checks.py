"""Input checks shared by every reader: required variables, units, grids, all-NaN scenes.

Every failure raises :class:`eoretrieval.errors.DataError` with a message that names the file
(or dataset), the variable and what was expected, so a user can fix the input without reading code.

Public names: :func:`require_variables`, :func:`require_units`, :func:`require_finite`,
:func:`require_grid`, :func:`source_of`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr

from ..config import repo_relative
from ..errors import DataError

__all__ = ["require_variables", "require_units", "require_finite", "require_grid", "source_of"]

#: unit spellings that mean the same thing (UDUNITS-equivalent aliases seen in real files)
_ALIASES = {
    "degc": "degC", "deg c": "degC", "deg_c": "degC", "celsius": "degC", "°c": "degC",
    "k": "K", "kelvin": "K",
    "m s-1": "m s-1", "m/s": "m s-1", "m s**-1": "m s-1",
    "mol m-2": "mol m-2", "mol/m2": "mol m-2", "mol m^-2": "mol m-2",
    "w m-2": "W m-2", "w/m2": "W m-2",
    "1": "1", "": "1", "-": "1", "unitless": "1", "dimensionless": "1",
}


def _norm_units(units: str | None) -> str:
    u = (units or "").strip()
    return _ALIASES.get(u.lower(), u)


def source_of(ds: xr.Dataset | xr.DataArray) -> str:
    """Return the file a dataset came from (``encoding['source']`` or ``attrs['source_file']``), relative to the
    repository when inside it (messages then read the same on every machine)."""
    src = ds.encoding.get("source") or ds.attrs.get("source_file")
    return repo_relative(src) if src else "<in-memory dataset>"


def require_variables(ds: xr.Dataset, required: Mapping[str, str | None] | list[str], *,
                      source: str | None = None) -> xr.Dataset:
    """Check that ``ds`` holds every required variable, with the expected units where given.

    Parameters
    ----------
    ds : xr.Dataset
    required : mapping of variable name to units (None: any units) or list of names
    source : str, optional
        File name for the error message (default: :func:`source_of`).

    Returns
    -------
    xr.Dataset
        ``ds`` unchanged (for chaining).

    Raises
    ------
    DataError
        ``"<file>: missing variable 'x' (expected units 'K'); present: [...]"`` or a units mismatch.

    Examples
    --------
    >>> import xarray as xr
    >>> ds = xr.Dataset({"t": ("x", [1.0], {"units": "K"})})
    >>> _ = require_variables(ds, {"t": "K"})
    """
    src = source or source_of(ds)
    items = required.items() if isinstance(required, Mapping) else [(name, None) for name in required]
    for name, units in items:
        if name not in ds.variables:
            want = f" (expected units {units!r})" if units else ""
            raise DataError(f"{src}: missing variable {name!r}{want}; present: {sorted(map(str, ds.data_vars))}")
        if units is not None:
            require_units(ds[name], units, source=src)
    return ds


def require_units(da: xr.DataArray, units: str, *, source: str | None = None) -> xr.DataArray:
    """Check ``da.attrs['units']`` against ``units`` (aliases such as ``degC``/``deg C`` match).

    Raises
    ------
    DataError
        Naming the file, the variable, the units found and the units expected.
    """
    found = da.attrs.get("units")
    if _norm_units(found) != _norm_units(units):
        src = source or source_of(da)
        raise DataError(f"{src}: variable {da.name!r} has units {found!r}, expected {units!r}")
    return da


def require_finite(da: xr.DataArray, *, dim: str | None = None, source: str | None = None) -> xr.DataArray:
    """Check that ``da`` is not entirely NaN (per element of ``dim`` if given).

    Raises
    ------
    DataError
        ``"<file>: variable 'x' is all-NaN (at time=...)"``.
    """
    src = source or source_of(da)
    if dim is None:
        if not bool(np.isfinite(da).any()):
            raise DataError(f"{src}: variable {da.name!r} is all-NaN; expected at least one valid value")
        return da
    other = [d for d in da.dims if d != dim]
    ok = np.isfinite(da).any(other) if other else np.isfinite(da)
    if not bool(ok.all()):
        bad = [v.item() if hasattr(v, "item") else v for v in da[dim].values[~ok.values][:5]]
        raise DataError(f"{src}: variable {da.name!r} is all-NaN at {dim}={list(bad)}; "
                        "expected at least one valid value per scene")
    return da


def require_grid(da: xr.DataArray | xr.Dataset, *, like: xr.DataArray | xr.Dataset, dims: tuple[str, ...] = ("lat", "lon"),
                 atol: float = 1e-6, source: str | None = None):
    """Check that ``da`` is on the same grid as ``like`` along ``dims`` (sizes and coordinates).

    Raises
    ------
    DataError
        Naming the file, the dimension, and the expected size/range.
    """
    src = source or source_of(da)
    for d in dims:
        if d not in da.dims:
            raise DataError(f"{src}: dimension {d!r} missing; expected dims {dims}, found {tuple(da.dims)}")
        a, b = da[d].values, like[d].values
        if a.shape != b.shape or not np.allclose(a, b, atol=atol):
            raise DataError(f"{src}: wrong grid along {d!r}: found {a.size} points "
                            f"[{a.min():.4g}, {a.max():.4g}], expected {b.size} points [{b.min():.4g}, {b.max():.4g}]")
    return da
