"""Readers for the IPWG SatRain benchmark: its scene layout and the baseline score files of its wheel.

SatRain :cite:`pfreundschuh2025satrain` stores collocated scenes as netCDF files::

    <root>/satrain/<sensor>/<split>/<subset or domain>/<geometry>/YYYY/MM/DD/<source>_YYYYmmddHHMMSS.nc

with ``split`` in ``training``/``validation`` (``subset`` xs…xl) or ``testing`` (``domain`` conus, korea,
austria), ``geometry`` ``gridded`` or ``on_swath``, and ``source`` ``gmi`` (variable ``observations``
with a ``channel`` dim, ``earth_incidence_angle``), ``target`` (``surface_precip`` in mm h-1 and quality
fields ``radar_quality_index``, ``valid_fraction``, ``snow_fraction``, ``hail_fraction``,
``gauge_correction_factor``) or ``ancillary``. The data download at run time (package ``satrain``), so
this project reads files already on disk and never downloads.

The wheel of ``satrain`` ships baseline scores (``files/baselines/<product>_<sensor>_<domain>.nc``: scalar
``bias`` (%), ``mae``, ``mse``, ``correlation_coef``, ``pod``/``far``/``hss`` and their ``_heavy`` versions, …);
:func:`read_satrain_baseline` and :func:`satrain_baseline_table` read them.

Public names: :func:`find_satrain_files`, :func:`read_satrain_scene`, :func:`read_satrain_baseline`,
:func:`satrain_baseline_table`, :data:`BASELINE_NAMES`, :data:`BASELINE_SCORES`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import DataError
from .checks import require_variables
from .interface import postprocess_reader

__all__ = ["find_satrain_files", "read_satrain_scene", "read_satrain_baseline", "satrain_baseline_table",
           "BASELINE_NAMES", "BASELINE_SCORES", "SPLITS", "DOMAINS", "GEOMETRIES"]

SPLITS = ("training", "validation", "testing")
DOMAINS = ("conus", "korea", "austria")
GEOMETRIES = ("gridded", "on_swath")
_SIZES = ("xs", "s", "m", "l", "xl")
_TIME_RE = re.compile(r"_(\d{14})\.nc$")

#: product key -> display name (as in ``satrain.baselines``)
BASELINE_NAMES = {"gprof_v07": "GPROF V07 (GMI)", "gprof_v07a": "GPROF V07A (GMI)", "gprof_v08": "GPROF V08 (GMI)",
                  "era5": "ERA5", "persiann_ccs": "PERSIANN CCS", "persiann_pdir_now": "PERSIANN PDIR-Now",
                  "punet": "PU-Net", "gprof_ir": "GPROF-IR"}
#: scalar scores read from each baseline file, with the units stated in the files
BASELINE_SCORES = {"bias": "%", "mae": "mm h-1", "mse": "mm2 h-2", "correlation_coef": "1", "pod": "1", "far": "1",
                   "hss": "1", "pod_heavy": "1", "far_heavy": "1", "hss_heavy": "1"}


def find_satrain_files(root: str | os.PathLike, *, sensor: str = "gmi", split: str = "testing", domain: str = "conus",
                       geometry: str = "gridded", subset: str = "xl", sources=("gmi", "target")) -> dict[str, list[Path]]:
    """List the SatRain files under ``root`` for one split, paired by overpass time.

    ``subset`` (training/validation) includes every smaller subset, as SatRain does.

    Returns
    -------
    dict
        ``{source: [paths sorted by time]}``; only times present for every source are kept.

    Raises
    ------
    ValueError
        For an unknown split, domain or geometry.
    DataError
        If no file of the first source is found (the message names the folder searched).
    """
    if split not in SPLITS:
        raise ValueError(f"unknown SatRain split {split!r}; valid: {list(SPLITS)}")
    if geometry not in GEOMETRIES:
        raise ValueError(f"unknown SatRain geometry {geometry!r}; valid: {list(GEOMETRIES)}")
    root = Path(root)
    if split == "testing":
        if domain not in DOMAINS:
            raise ValueError(f"unknown SatRain domain {domain!r}; valid: {list(DOMAINS)}")
        folders = [root / "satrain" / sensor / split / domain / geometry]
    else:
        if subset not in _SIZES:
            raise ValueError(f"unknown SatRain subset {subset!r}; valid: {list(_SIZES)}")
        folders = [root / "satrain" / sensor / split / s / geometry for s in _SIZES[:_SIZES.index(subset) + 1]]
    found: dict[str, dict[str, Path]] = {}
    for source in sources:
        found[source] = {}
        for folder in folders:
            for path in folder.glob(f"**/{source}_??????????????.nc"):
                found[source][_TIME_RE.search(path.name).group(1)] = path
    if not found[sources[0]]:
        raise DataError(f"{folders[0]}: no SatRain '{sources[0]}_YYYYmmddHHMMSS.nc' files found; expected the layout "
                        f"satrain/<sensor>/<split>/<subset|domain>/<geometry>/YYYY/MM/DD/")
    times = sorted(set.intersection(*(set(v) for v in found.values())))
    return {source: [found[source][t] for t in times] for source in sources}


@postprocess_reader()
def read_satrain_scene(path: str | os.PathLike, *, target_path: str | os.PathLike | None = None, min_rqi: float = 0.5,
                       min_valid_fraction: float = 0.5, no_snow: bool = True) -> xr.Dataset:
    """Read one SatRain scene: the GMI observations and, if given, the target with its quality mask.

    Parameters
    ----------
    path : path
        A ``gmi_<time>.nc`` file (variable ``observations`` with a ``channel`` dim).
    target_path : path, optional
        The matching ``target_<time>.nc``.
    min_rqi, min_valid_fraction, no_snow
        Target pixels failing these quality criteria are set to NaN (SatRain ``TargetConfig`` defaults).

    Returns
    -------
    xr.Dataset
        ``tb`` (channel, ...) K; with a target also ``surface_precip`` (...) mm h-1 (NaN where masked) and
        ``valid`` (bool).

    Raises
    ------
    DataError
        Missing ``observations``/``surface_precip``, no ``channel`` dim, a target on another grid, or a
        scene without any valid target pixel; the message names the file.
    """
    with xr.open_dataset(path) as raw:
        ds = raw.load()
    require_variables(ds, ["observations"], source=str(path))
    obs = ds["observations"]
    if "channel" not in obs.dims:
        raise DataError(f"{path}: variable 'observations' has dims {obs.dims}; expected a 'channel' dim")
    tb = obs.transpose("channel", ...).astype("float32")
    tb = tb.where((tb > 0) & (tb < 400))
    out = xr.Dataset({"tb": tb.assign_attrs(units="K", long_name="brightness temperature")})
    if "earth_incidence_angle" in ds:
        out["earth_incidence_angle"] = ds["earth_incidence_angle"].assign_attrs(units="degree")
    if target_path is not None:
        tpath = Path(target_path)
        if not tpath.exists():
            raise DataError(f"{tpath}: target file not found")
        with xr.open_dataset(tpath) as raw_t:
            tgt = raw_t.load()
        require_variables(tgt, ["surface_precip"], source=str(tpath))
        sp = tgt["surface_precip"]
        spatial = [d for d in tb.dims if d != "channel"]
        if tuple(sp.dims) != tuple(spatial) or any(sp.sizes[d] != tb.sizes[d] for d in spatial):
            raise DataError(f"{tpath}: 'surface_precip' has dims {dict(sp.sizes)}; expected the grid of {path} "
                            f"{ {d: tb.sizes[d] for d in spatial} }")
        valid = np.isfinite(sp)
        if "radar_quality_index" in tgt:
            valid &= tgt["radar_quality_index"] - min_rqi > -1e-3
        if "valid_fraction" in tgt:
            valid &= tgt["valid_fraction"] - min_valid_fraction > -1e-3
        if no_snow and "snow_fraction" in tgt:
            valid &= tgt["snow_fraction"] == 0.0
        if not bool(valid.any()):
            raise DataError(f"{tpath}: no valid target pixel (min_rqi={min_rqi}, min_valid_fraction="
                            f"{min_valid_fraction}, no_snow={no_snow})")
        out["surface_precip"] = sp.where(valid).astype("float32").assign_attrs(
            units="mm h-1", long_name="gauge-corrected radar surface precipitation")
        out["valid"] = valid.assign_attrs(units="1", long_name="valid target pixel")
        out.attrs["target_file"] = str(tpath)
    match = _TIME_RE.search(Path(path).name)
    if match:
        out.attrs["overpass_time"] = match.group(1)
    return out


@postprocess_reader()
def read_satrain_baseline(path: str | os.PathLike) -> xr.Dataset:
    """Read one SatRain baseline score file (``<product>_<sensor>_<domain>.nc``) — its scalar scores.

    Returns
    -------
    xr.Dataset
        The scalar variables of :data:`BASELINE_SCORES` with ``units`` attrs; attrs ``product``, ``sensor``,
        ``domain`` from the file name.

    Raises
    ------
    DataError
        If a score is missing or the file name does not follow the pattern.
    """
    name = Path(path).stem
    m = re.fullmatch(r"(?P<product>.+)_(?P<sensor>gmi|atms)_(?P<domain>conus|korea|austria)", name)
    if m is None:
        raise DataError(f"{path}: file name {name!r} does not follow '<product>_<gmi|atms>_<conus|korea|austria>.nc'")
    with xr.open_dataset(path) as raw:
        ds = raw.load()
    require_variables(ds, list(BASELINE_SCORES), source=str(path))
    out = xr.Dataset({k: ((), float(ds[k]), {"units": u, "long_name": ds[k].attrs.get("full_name", k)})
                      for k, u in BASELINE_SCORES.items()})
    # rain-rate distributions of the product and of the reference, on SatRain's logarithmic bins
    for var, dim in (("retrieved_distribution", "retrieved"), ("target_distribution", "target")):
        if var in ds and dim in ds[var].dims:
            out[var] = xr.DataArray(ds[var].values, dims=("rain_rate",), coords={"rain_rate": ds[dim].values},
                                    attrs={"units": "1", "long_name": ds[var].attrs.get("full_name", var)
                                           + " (histogram as stored in the file, not normalised)"})
    if "rain_rate" in out.coords:
        out["rain_rate"].attrs["units"] = "mm h-1"
    out.attrs.update(m.groupdict())
    return out


def satrain_baseline_table(folder: str | os.PathLike, *, sensor: str = "gmi") -> pd.DataFrame:
    """Read every baseline file of ``sensor`` in ``folder`` into a table (rows: product × domain).

    Raises
    ------
    DataError
        If the folder holds no baseline file of the sensor.
    """
    files = sorted(Path(folder).glob(f"*_{sensor}_*.nc"))
    if not files:
        raise DataError(f"{folder}: no SatRain baseline files '*_{sensor}_<domain>.nc'")
    rows = []
    for f in files:
        ds = read_satrain_baseline(f)
        rows.append({"product": ds.attrs["product"], "name": BASELINE_NAMES.get(ds.attrs["product"], ds.attrs["product"]),
                     "domain": ds.attrs["domain"], **{k: float(ds[k]) for k in BASELINE_SCORES}})
    return pd.DataFrame(rows).set_index(["product", "domain"]).sort_index()
