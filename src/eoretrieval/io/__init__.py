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
from .fluxnet_fapar import read_fluxnet_fapar, read_fluxnet_fapar_daily, read_fluxnet_fapar_sites
from .vegetation import (read_mod13a1_sites, read_mod13a1_table, read_mod15a2h, read_modis_evi_csv,
                         read_modis_reflectance_csv, read_sentinel2_ndvi)
from .interface import READERS, get_reader, list_readers, postprocess_reader, register_reader
from .gpm import read_gpm_1c_gmi, write_gpm_1c_gmi
from .satrain import find_satrain_files, read_satrain_baseline, read_satrain_scene, satrain_baseline_table
from .radar import RADAR_READERS, read_radar, read_radar_sequence
from .seviri import read_seviri, read_seviri_netcdf, write_seviri_netcdf
from .stations import (read_beijing_stations, read_oman_no2_cities, read_openeo_no2_point,
                       read_prsa_station)
from .tropomi import read_tropomi_no2, to_molec_cm2
from .era5 import read_era5_file

register_reader("netcdf", read_netcdf)
register_reader("csv_table", read_csv_table)
register_reader("shapefile", read_shapefile)
register_reader("era_interim_monthly", read_era_interim_monthly)
register_reader("era5_pressure_levels", read_era5_file)
register_reader("gpm_1c_gmi", read_gpm_1c_gmi)
register_reader("satrain_scene", read_satrain_scene)
register_reader("satrain_baseline", read_satrain_baseline)
for _name, _func in {
    "fluxnet": read_fluxnet, "fluxnet_monthly_table": read_fluxnet_monthly_table, "fluxnet_sites": read_fluxnet_sites,
    "bigleaf_halfhourly": read_bigleaf_halfhourly, "vprm_tower_hourly": read_vprm_tower_hourly,
    "plumber2_daily": read_plumber2_daily, "icos_daily_extract": read_icos_daily_extract, "flux_file": read_flux_file,
    "mod13a1": read_mod13a1_table, "mod13a1_sites": read_mod13a1_sites, "modis_evi_csv": read_modis_evi_csv,
    "modis_reflectance_csv": read_modis_reflectance_csv, "mod15a2h": read_mod15a2h, "sentinel2_ndvi": read_sentinel2_ndvi,
    "fluxnet_fapar": read_fluxnet_fapar, "fluxnet_fapar_daily": read_fluxnet_fapar_daily,
    "fluxnet_fapar_sites": read_fluxnet_fapar_sites,
}.items():
    register_reader(_name, _func)
register_reader("radar", read_radar)
register_reader("radar_sequence", read_radar_sequence)
for _name, _func in RADAR_READERS.items():
    register_reader(_name, _func)
register_reader("seviri", read_seviri)
register_reader("seviri_netcdf", read_seviri_netcdf)
register_reader("tropomi_no2", read_tropomi_no2)
register_reader("prsa_station", read_prsa_station)
register_reader("openeo_no2_point", read_openeo_no2_point)
register_reader("beijing_stations", read_beijing_stations)
register_reader("oman_no2_cities", read_oman_no2_cities)

__all__ = ["checks", "describe_catalog", "entry_path", "list_entries", "open_catalog", "open_entry",
           "read_csv_table", "read_netcdf", "read_shapefile", "read_era_interim_monthly",
           "read_bigleaf_halfhourly", "read_flux_file", "read_fluxnet", "read_fluxnet_monthly_table", "read_fluxnet_sites",
           "read_icos_daily_extract", "read_plumber2_daily", "read_vprm_tower_hourly", "read_mod13a1_sites",
           "read_mod13a1_table", "read_mod15a2h", "read_modis_evi_csv", "read_modis_reflectance_csv", "read_sentinel2_ndvi",
           "read_fluxnet_fapar", "read_fluxnet_fapar_daily", "read_fluxnet_fapar_sites",
           "read_radar", "read_radar_sequence", "read_seviri", "read_seviri_netcdf", "write_seviri_netcdf",
           "read_gpm_1c_gmi", "write_gpm_1c_gmi", "find_satrain_files", "read_satrain_scene",
           "read_satrain_baseline", "satrain_baseline_table", "read_tropomi_no2", "to_molec_cm2", "read_prsa_station",
           "read_era5_file",
           "read_beijing_stations", "read_openeo_no2_point", "read_oman_no2_cities", "READERS", "get_reader", "list_readers", "postprocess_reader", "register_reader"]
