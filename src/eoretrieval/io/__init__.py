"""Data access: the intake catalog, readers of real formats, and input checks.

Modules: :mod:`~eoretrieval.io.interface` (reader registry and decorator), :mod:`~eoretrieval.io.checks`,
:mod:`~eoretrieval.io.catalog`, :mod:`~eoretrieval.io.generic` (netCDF, CSV, shapefile).
Every reader is registered under a lower-snake-case name and returns an ``xr.Dataset``.
"""

from . import checks
from .catalog import describe_catalog, entry_path, list_entries, open_catalog, open_entry
from .generic import read_csv_table, read_netcdf, read_shapefile
from .fluxnet import (read_bigleaf_halfhourly, read_flux_file, read_fluxnet, read_fluxnet_monthly_table,
                      read_fluxnet_sites, read_icos_daily_extract, read_plumber2_daily, read_vprm_tower_hourly)
from .reanalysis import read_era_interim_monthly
from .vegetation import (read_mod13a1_sites, read_mod13a1_table, read_mod15a2h, read_modis_evi_csv,
                         read_modis_reflectance_csv, read_sentinel2_ndvi)
from .interface import READERS, get_reader, list_readers, postprocess_reader, register_reader

register_reader("netcdf", read_netcdf)
register_reader("csv_table", read_csv_table)
register_reader("shapefile", read_shapefile)
register_reader("era_interim_monthly", read_era_interim_monthly)
for _name, _func in {
    "fluxnet": read_fluxnet, "fluxnet_monthly_table": read_fluxnet_monthly_table, "fluxnet_sites": read_fluxnet_sites,
    "bigleaf_halfhourly": read_bigleaf_halfhourly, "vprm_tower_hourly": read_vprm_tower_hourly,
    "plumber2_daily": read_plumber2_daily, "icos_daily_extract": read_icos_daily_extract, "flux_file": read_flux_file,
    "mod13a1": read_mod13a1_table, "mod13a1_sites": read_mod13a1_sites, "modis_evi_csv": read_modis_evi_csv,
    "modis_reflectance_csv": read_modis_reflectance_csv, "mod15a2h": read_mod15a2h, "sentinel2_ndvi": read_sentinel2_ndvi,
}.items():
    register_reader(_name, _func)

__all__ = ["checks", "describe_catalog", "entry_path", "list_entries", "open_catalog", "open_entry",
           "read_csv_table", "read_netcdf", "read_shapefile", "read_era_interim_monthly",
           "read_bigleaf_halfhourly", "read_flux_file", "read_fluxnet", "read_fluxnet_monthly_table", "read_fluxnet_sites",
           "read_icos_daily_extract", "read_plumber2_daily", "read_vprm_tower_hourly", "read_mod13a1_sites",
           "read_mod13a1_table", "read_mod15a2h", "read_modis_evi_csv", "read_modis_reflectance_csv", "read_sentinel2_ndvi",
           "READERS", "get_reader", "list_readers", "postprocess_reader", "register_reader"]
