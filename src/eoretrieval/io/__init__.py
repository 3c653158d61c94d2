"""Data access: the intake catalog, readers of real formats, and input checks.

Modules: :mod:`~eoretrieval.io.interface` (reader registry and decorator), :mod:`~eoretrieval.io.checks`,
:mod:`~eoretrieval.io.catalog`, :mod:`~eoretrieval.io.generic` (netCDF, CSV, shapefile).
Every reader is registered under a lower-snake-case name and returns an ``xr.Dataset``.
"""

from . import checks
from .catalog import describe_catalog, entry_path, list_entries, open_catalog, open_entry
from .generic import read_csv_table, read_netcdf, read_shapefile
from .reanalysis import read_era_interim_monthly
from .interface import READERS, get_reader, list_readers, postprocess_reader, register_reader

register_reader("netcdf", read_netcdf)
register_reader("csv_table", read_csv_table)
register_reader("shapefile", read_shapefile)
register_reader("era_interim_monthly", read_era_interim_monthly)

__all__ = ["checks", "describe_catalog", "entry_path", "list_entries", "open_catalog", "open_entry",
           "read_csv_table", "read_netcdf", "read_shapefile", "read_era_interim_monthly",
           "READERS", "get_reader", "list_readers", "postprocess_reader", "register_reader"]
