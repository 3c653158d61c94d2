"""True and prior NOx emissions of the synthetic world, built from real proxies.

Spatial pattern (base year, annual mean)
----------------------------------------
The national anthropogenic NOx total ``national_total_tg`` (Tg NO2 yr-1; default 22 Tg, the
order of the MEIC estimate for China in 2017-2019, about 23 Tg in 2017 after a 17-21 % decline
since 2010–2011 :cite:`zheng2018`) is split into three sectors:

- **power plants** (``power_share``, default 0.2, of the order of MEIC's power-sector share
  :cite:`zheng2018`): the fossil plants of the WRI Global Power Plant Database China list
  (``data/point_sources/wri_gppd_raw_China.csv``, not shut down), weighted by capacity (MW) times
  a fuel factor (coal 1, oil 0.6, gas 0.3, coal-mine methane 0.3, landfill gas 0.1: relative NOx
  per MW, our assumption reflecting lower flame temperatures/fuel nitrogen), placed in the cell
  holding the plant (point sources);
- **urban** (``1 - power_share - diffuse_share``): the cities of
  ``data/cities/worldcities_basic_east_asia.csv`` (mainland China, Hong Kong, Macau, Taiwan),
  weighted by population and spread with a Gaussian kernel of width
  :math:`\\sigma = 10\\,\\mathrm{km}\\,\\sqrt{P/10^6}` clipped to [6, 40] km;
- **diffuse** (``diffuse_share``, default 0.15; rural traffic, small industry, residential): the
  same city weights with a 150 km kernel.

The national total is normalised over the Chinese sources (wherever they are); the grid then
holds the part inside the domain. Kernels are integrated exactly over each cell (error
functions), so mass is conserved.

The maps of this module are the building blocks; the per-world draws (sources switched on or off, new
plants, sector factors, trends, dips, day-to-day variability) and the prior are in
:mod:`eoretrieval.nox.inventory`.

Public names: :func:`load_point_sources`, :func:`load_cities`, :func:`base_emission_map`,
:func:`domain_total`, :func:`largest_sources`,
:data:`M_NO2`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
from scipy.special import ndtr

from eoretrieval.config import data_dir
from eoretrieval.errors import DataError
from eoretrieval.io.checks import require_units

__all__ = ["M_NO2", "load_point_sources", "load_cities", "base_emission_map", "domain_total", "largest_sources"]

#: Molar mass of NO2 (g mol-1): NOx totals are expressed as NO2 equivalent.
M_NO2 = 46.0055
_SECONDS_PER_YEAR = 365.25 * 86400.0
_FUEL_FACTOR = {"Coal": 1.0, "Oil": 0.6, "Fuel Oil": 0.6, "Heavy Fuel Oil": 0.6, "Distillate Oil": 0.6,
                "Diesel": 0.6, "Natural Gas": 0.3, "LNG": 0.3, "Coal Mine Methane": 0.3, "Landfill gas": 0.1}
_EARTH_RADIUS_KM = 6371.0


def load_point_sources(path=None) -> pd.DataFrame:
    """Fossil-fuel power plants of China with a relative NOx weight.

    Parameters
    ----------
    path : path-like, optional
        Default ``data_dir()/point_sources/wri_gppd_raw_China.csv``.

    Returns
    -------
    pd.DataFrame
        Columns ``name``, ``fuel``, ``capacity_mw``, ``lat``, ``lon``, ``weight`` (capacity x fuel factor).

    Raises
    ------
    DataError
        If a required column is missing.
    """
    path = data_dir() / "point_sources" / "wri_gppd_raw_China.csv" if path is None else path
    df = pd.read_csv(path, low_memory=False)
    need = ["Name", "Fuel", "Capacity (MW)", "Latitude", "Longitude", "Operational Status"]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise DataError(f"{path}: columns {missing} missing; expected WRI GPPD China list columns {need}")
    df = df[df["Fuel"].isin(list(_FUEL_FACTOR)) & (df["Operational Status"].fillna("") != "Shutdown")]
    df = df.dropna(subset=["Capacity (MW)", "Latitude", "Longitude"])
    out = pd.DataFrame({"name": df["Name"].values, "fuel": df["Fuel"].values,
                        "capacity_mw": df["Capacity (MW)"].astype(float).values,
                        "lat": df["Latitude"].astype(float).values, "lon": df["Longitude"].astype(float).values})
    out["weight"] = out["capacity_mw"] * out["fuel"].map(_FUEL_FACTOR).values
    return out[out["weight"] > 0].reset_index(drop=True)


def load_cities(path=None) -> pd.DataFrame:
    """Cities of mainland China, Hong Kong, Macau and Taiwan with population.

    Returns
    -------
    pd.DataFrame
        Columns ``city``, ``iso3``, ``lat``, ``lon``, ``population``.
    """
    path = data_dir() / "cities" / "worldcities_basic_east_asia.csv" if path is None else path
    df = pd.read_csv(path)
    need = ["city_ascii", "iso3", "lat", "lng", "population"]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise DataError(f"{path}: columns {missing} missing; expected simplemaps columns {need}")
    df = df[df["iso3"].isin(["CHN", "HKG", "MAC", "TWN"])].dropna(subset=["lat", "lng", "population"])
    return pd.DataFrame({"city": df["city_ascii"].values, "iso3": df["iso3"].values,
                         "lat": df["lat"].astype(float).values, "lon": df["lng"].astype(float).values,
                         "population": df["population"].astype(float).values}).reset_index(drop=True)


def _edges(c: np.ndarray) -> np.ndarray:
    d = c[1] - c[0]
    return np.concatenate([c - d / 2, [c[-1] + d / 2]])


def _gaussian_cell_fractions(lat, lon, src_lat, src_lon, sigma_km) -> np.ndarray:
    """Fractions of each source's Gaussian kernel per latitude band and longitude band: (source, lat), (source, lon)."""
    ye = np.radians(_edges(lat))[None, :] * _EARTH_RADIUS_KM
    xe = np.radians(_edges(lon))[None, :] * _EARTH_RADIUS_KM
    y0 = np.radians(src_lat)[:, None] * _EARTH_RADIUS_KM
    x0 = np.radians(src_lon)[:, None] * _EARTH_RADIUS_KM
    coslat = np.cos(np.radians(src_lat))[:, None]
    s = np.asarray(sigma_km, dtype=float)[:, None]
    fy = np.diff(ndtr((ye - y0) / s), axis=1)  # (src, lat)
    fx = np.diff(ndtr((xe - x0) * coslat / s), axis=1)  # (src, lon)
    return fy, fx


def base_emission_map(lat, lon, *, national_total_tg: float = 22.0, power_share: float = 0.2,
                      diffuse_share: float = 0.15) -> xr.Dataset:
    """Annual-mean base-year NOx emission map by sector (mol m-2 s-1).

    Parameters
    ----------
    lat, lon : array-like
        Cell centres (degrees), ascending and uniform.
    national_total_tg : float
        National anthropogenic total, Tg NO2 yr-1.
    power_share, diffuse_share : float
        Sector shares of the national total (the rest is urban).

    Returns
    -------
    xr.Dataset
        ``power``, ``urban``, ``diffuse`` and ``total`` (mol m-2 s-1), dims (lat, lon).
    """
    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    if not (0 <= power_share and 0 <= diffuse_share and power_share + diffuse_share <= 1):
        raise ValueError("power_share and diffuse_share must be >= 0 and sum to <= 1")
    total_mol_s = national_total_tg * 1e12 / M_NO2 / _SECONDS_PER_YEAR
    area = _cell_area(lat, lon)
    plants = load_point_sources()
    cities = load_cities()
    # power: point sources into their cell, normalised over all Chinese plants
    w = plants["weight"].values / plants["weight"].sum() * power_share * total_mol_s
    power, _, _ = np.histogram2d(plants["lat"].values, plants["lon"].values, bins=[_edges(lat), _edges(lon)],
                                 weights=w)
    # urban and diffuse: population-weighted, normalised over mainland China (same per-capita
    # factor for Hong Kong, Macau and Taiwan)
    pop_chn = cities.loc[cities["iso3"] == "CHN", "population"].sum()
    per_cap = cities["population"].values / pop_chn
    sig_urban = np.clip(10.0 * np.sqrt(cities["population"].values / 1e6), 6.0, 40.0)
    maps = {}
    for name, share, sigma in (("urban", 1 - power_share - diffuse_share, sig_urban),
                               ("diffuse", diffuse_share, np.full(len(cities), 150.0))):
        fy, fx = _gaussian_cell_fractions(lat, lon, cities["lat"].values, cities["lon"].values, sigma)
        maps[name] = np.einsum("s,sy,sx->yx", per_cap * share * total_mol_s, fy, fx)
    out = {"power": power, "urban": maps["urban"], "diffuse": maps["diffuse"]}
    out["total"] = out["power"] + out["urban"] + out["diffuse"]
    ds = xr.Dataset({k: xr.DataArray((v / area).astype(np.float64), dims=("lat", "lon"),
                                     coords={"lat": lat, "lon": lon},
                                     attrs={"units": "mol m-2 s-1",
                                            "long_name": f"base-year annual-mean NOx emission ({k})"})
                     for k, v in out.items()})
    ds.attrs["national_total_tg_no2_per_yr"] = national_total_tg
    return ds


def _cell_area(lat, lon) -> np.ndarray:
    phi = np.radians(lat)
    h = np.radians(lat[1] - lat[0]) / 2
    a = (6.371e6) ** 2 * np.radians(lon[1] - lon[0]) * (np.sin(phi + h) - np.sin(phi - h))
    return np.repeat(a[:, None], len(lon), axis=1)


def domain_total(emission: xr.DataArray, *, units: str = "Tg yr-1") -> xr.DataArray:
    """Area-integrated emission over (lat, lon).

    Parameters
    ----------
    emission : xr.DataArray
        mol m-2 s-1, dims (..., lat, lon).
    units : {"Tg yr-1", "mol s-1"}
        Output units (Tg NO2 yr-1 or mol s-1).

    Returns
    -------
    xr.DataArray
        Dims of ``emission`` without lat/lon.
    """
    require_units(emission.rename("emission"), "mol m-2 s-1", source="domain_total")
    area = xr.DataArray(_cell_area(emission["lat"].values, emission["lon"].values), dims=("lat", "lon"),
                        coords={"lat": emission["lat"], "lon": emission["lon"]})
    tot = (emission * area).sum(("lat", "lon"), skipna=True)
    if units == "mol s-1":
        tot.attrs["units"] = "mol s-1"
    elif units == "Tg yr-1":
        tot = tot * M_NO2 * _SECONDS_PER_YEAR / 1e12
        tot.attrs["units"] = "Tg yr-1"
    else:
        raise ValueError(f"unknown units {units!r}; valid: ['Tg yr-1', 'mol s-1']")
    tot.attrs["long_name"] = "domain-total NOx emission (NO2 eq.)"
    return tot


def largest_sources(lat, lon, *, n_cities: int = 5, n_plants: int = 5) -> pd.DataFrame:
    """Largest cities (population) and power plants (capacity x fuel factor) inside a grid.

    Plants sharing a cell are merged (the cell is the point source); a plant cell that is also the
    cell of a listed city is skipped, so every row is a distinct cell.

    Parameters
    ----------
    lat, lon : array-like
        Cell centres (degrees), ascending and uniform.
    n_cities, n_plants : int
        How many of each to return.

    Returns
    -------
    pd.DataFrame
        Columns ``name``, ``kind`` ("city" or "power_plant"), ``lat``, ``lon`` (of the source),
        ``iy``, ``ix`` (grid indices of its cell), ``size`` (population, or MW x fuel factor).
    """
    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    ye, xe = _edges(lat), _edges(lon)

    def locate(df):
        iy = np.searchsorted(ye, df["lat"].values) - 1
        ix = np.searchsorted(xe, df["lon"].values) - 1
        inside = (iy >= 0) & (iy < lat.size) & (ix >= 0) & (ix < lon.size)
        return df.assign(iy=iy, ix=ix)[inside]

    cities = locate(load_cities()).sort_values("population", ascending=False)
    cities = cities.drop_duplicates(["iy", "ix"]).head(n_cities)
    rows = [dict(name=r.city, kind="city", lat=r.lat, lon=r.lon, iy=int(r.iy), ix=int(r.ix), size=float(r.population))
            for r in cities.itertuples()]
    taken = {(r["iy"], r["ix"]) for r in rows}
    plants = locate(load_point_sources())
    cells = plants.groupby(["iy", "ix"]).agg(weight=("weight", "sum"), name=("name", "first"), lat=("lat", "mean"),
                                             lon=("lon", "mean"), n=("name", "size")).reset_index()
    cells = cells.sort_values("weight", ascending=False)
    for r in cells.itertuples():
        if len(rows) >= len(cities) + n_plants:
            break
        if (r.iy, r.ix) in taken:
            continue
        name = r.name if r.n == 1 else f"{r.name} (+{r.n - 1} plants)"
        rows.append(dict(name=name, kind="power_plant", lat=r.lat, lon=r.lon, iy=int(r.iy), ix=int(r.ix),
                         size=float(r.weight)))
        taken.add((r.iy, r.ix))
    return pd.DataFrame(rows)
