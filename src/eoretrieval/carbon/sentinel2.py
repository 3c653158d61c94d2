"""VPRM over a Sentinel-2 NDVI tile: NDVI-derived index substitutes, site-like drivers, lat/lon grid.

The shipped Sentinel-2 cube holds NDVI only (L1C, top of atmosphere); EVI, LSWI and red-edge
bands are absent. The substitutes used here, all documented in ``attrs["long_name"]``:

* kNDVI = tanh(NDVI^2): exact (depends on NDVI only);
* fAPAR = 1.1638 NDVI - 0.1426 (Myneni & Williams 1994);
* EVI and LSWI: polynomials in NDVI fitted on MOD13A1 good-quality pixels at the 10 phenofit
  sites (:func:`eoretrieval.carbon.indices.fit_index_transfer`); their fit RMSE is reported;
* meteorological drivers: multi-year monthly means (TA_F, SW_IN_F, VPD_F) of the nearest site
  of the monthly FLUXNET table: a "site-like climatology", not weather of the acquisition day.

Public names: :func:`mod13a1_transfers`, :func:`monthly_ndvi`, :func:`site_climatology`,
:func:`tile_dataset`, :func:`unstack_tile`, :func:`to_latlon`, :func:`nearest_site`, :func:`forest_tile_inputs`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from . import indices as vi
from .towers import great_circle_km

__all__ = ["mod13a1_transfers", "monthly_ndvi", "site_climatology", "tile_dataset", "unstack_tile", "to_latlon", "forest_tile_inputs",
           "nearest_site"]


def mod13a1_transfers(mod: xr.Dataset, *, degree: int = 2) -> dict:
    """Fit EVI(NDVI) and LSWI2130(NDVI) transfers on all valid MOD13A1 pixels of ``mod``."""
    nd = mod["ndvi"].values.ravel()
    return {"evi": vi.fit_index_transfer(nd, mod["evi"].values.ravel(), degree=degree),
            "lswi": vi.fit_index_transfer(nd, np.asarray(vi.lswi(mod["nir"].values, mod["swir2"].values)).ravel(),
                                          degree=degree)}


def monthly_ndvi(s2: xr.Dataset) -> xr.DataArray:
    """Monthly mean of valid NDVI per pixel; gaps interpolated linearly in time, ends filled with the pixel mean."""
    m = s2["ndvi"].resample(time="MS").mean()
    m = m.interpolate_na("time", method="linear")
    m = m.fillna(m.mean("time", skipna=True))
    return m.assign_attrs(units="1", long_name="monthly mean Sentinel-2 NDVI (L1C TOA), gaps interpolated")


def nearest_site(sites: xr.Dataset, lat: float, lon: float, *, candidates=None) -> tuple[str, float]:
    """Nearest site (great-circle, km) among ``candidates`` (default: all)."""
    s = sites if candidates is None else sites.sel(site=[c for c in candidates if c in sites["site"].values])
    d = great_circle_km(lat, lon, s["lat"].values, s["lon"].values)
    i = int(np.argmin(d))
    return str(s["site"].values[i]), float(d[i])


def site_climatology(table: xr.Dataset, site: str) -> pd.DataFrame:
    """Multi-year monthly means of TA_F (degC), SW_IN_F (W m-2), VPD_F (hPa) at ``site`` (index 1-12)."""
    d = table.sel(site=site)
    df = pd.DataFrame({k: d[k].values for k in ("TA_F", "SW_IN_F", "VPD_F")},
                      index=pd.DatetimeIndex(d["time"].values))
    return df.groupby(df.index.month).mean()


def tile_dataset(ndvi_m: xr.DataArray, clim: pd.DataFrame, transfers: dict, *, vprm_class: str = "mixed") -> xr.Dataset:
    """Stack a monthly NDVI tile into the ``sample`` layout of :func:`eoretrieval.carbon.model.predict`.

    Every pixel becomes a "site" (pools and site constants per pixel). Returns a Dataset with
    dims ``sample`` (= time x pixel, time-major within each pixel block).
    """
    nt = ndvi_m.sizes["time"]
    stacked = ndvi_m.stack(pixel=("y", "x")).transpose("time", "pixel")
    nd = stacked.values
    npx = nd.shape[1]
    evi = vi.apply_index_transfer(nd, transfers["evi"])
    lswi = vi.apply_index_transfer(nd, transfers["lswi"])
    months = pd.DatetimeIndex(ndvi_m["time"].values).month
    ta = np.repeat(clim.loc[months, "TA_F"].to_numpy()[:, None], npx, 1)
    par = np.repeat(clim.loc[months, "SW_IN_F"].to_numpy()[:, None], npx, 1) / 0.505
    vpd = np.repeat(clim.loc[months, "VPD_F"].to_numpy()[:, None], npx, 1)
    th = np.nanmin(evi, 0) + 0.55 * (np.nanmax(evi, 0) - np.nanmin(evi, 0))
    gs = evi > th
    lmin = np.nanmin(np.where(gs, lswi, np.nan), 0)
    lmax = np.nanmax(np.where(gs, lswi, np.nan), 0)
    # pixel-major order so that each pixel's time series is contiguous
    def f(a):
        return np.asarray(a, float).T.ravel()
    site = np.repeat(np.arange(npx), nt).astype(str)
    time = np.tile(ndvi_m["time"].values, npx)
    dt = np.tile(pd.DatetimeIndex(ndvi_m["time"].values).days_in_month.to_numpy(float), npx)
    ds = xr.Dataset({"ta": ("sample", f(ta)), "par": ("sample", f(par)), "vpd": ("sample", f(vpd)),
                     "sm_rel": ("sample", np.full(nt * npx, np.nan)), "ndvi": ("sample", f(nd)),
                     "evi": ("sample", f(evi)), "lswi": ("sample", f(lswi)),
                     "kndvi": ("sample", f(vi.kndvi_from_ndvi(nd))), "fapar": ("sample", f(vi.fapar_from_ndvi(nd))),
                     "nirv": ("sample", np.full(nt * npx, np.nan)),
                     "dt_days": ("sample", dt), "evi_threshold": ("sample", np.repeat(th, nt)),
                     "lswi_min": ("sample", np.repeat(lmin, nt)), "lswi_max": ("sample", np.repeat(lmax, nt)),
                     "vprm_class": ("sample", np.array([vprm_class] * (nt * npx)))},
                    coords={"site": ("sample", site), "time": ("sample", time)})
    ds.attrs.update(shape=(nt, ndvi_m.sizes["y"], ndvi_m.sizes["x"]))
    return ds


def unstack_tile(values: np.ndarray, ndvi_m: xr.DataArray, *, name: str, units: str, long_name: str) -> xr.DataArray:
    """Inverse of the pixel-major stacking of :func:`tile_dataset`: back to (time, y, x)."""
    nt, ny, nx = ndvi_m.sizes["time"], ndvi_m.sizes["y"], ndvi_m.sizes["x"]
    arr = np.asarray(values).reshape(ny * nx, nt).T.reshape(nt, ny, nx)
    return xr.DataArray(arr, dims=("time", "y", "x"), coords={k: ndvi_m[k] for k in ("time", "y", "x")},
                        name=name, attrs={"units": units, "long_name": long_name})


def to_latlon(da: xr.DataArray, *, crs: str = "EPSG:32633", step_deg: float = 1e-4) -> xr.DataArray:
    """Resample a (y, x) UTM field to a regular lat/lon grid by nearest neighbour (pyproj)."""
    from pyproj import Transformer

    fwd = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    inv = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    xx, yy = np.meshgrid(da["x"].values, da["y"].values)
    lon, lat = fwd.transform(xx, yy)
    lats = np.arange(lat.min(), lat.max(), step_deg)
    lons = np.arange(lon.min(), lon.max(), step_deg)
    glon, glat = np.meshgrid(lons, lats)
    gx, gy = inv.transform(glon, glat)
    dx = float(abs(da["x"].values[1] - da["x"].values[0]))
    dy = float(abs(da["y"].values[1] - da["y"].values[0]))
    ix = np.rint((gx - da["x"].values[0]) / dx).astype(int)
    iy = np.rint((gy - da["y"].values[0]) / dy * np.sign(da["y"].values[1] - da["y"].values[0])).astype(int)
    ok = (ix >= 0) & (ix < da.sizes["x"]) & (iy >= 0) & (iy < da.sizes["y"])
    vals = np.full(glon.shape, np.nan)
    src = da.transpose("y", "x").values
    vals[ok] = src[iy[ok], ix[ok]]
    return xr.DataArray(vals, dims=("lat", "lon"), coords={"lat": lats, "lon": lons}, name=da.name,
                        attrs=dict(da.attrs))


def forest_tile_inputs(ndvi_m: xr.DataArray, clim: pd.DataFrame, *, lat: float, vprm_class: str = "mixed") -> dict:
    """Inputs of :func:`eoretrieval.carbon.lue.predict_gpp` for every pixel and month of a monthly NDVI tile.

    Greenness: fAPAR = 1.1638 NDVI - 0.1426 (Myneni & Williams 1994; the towers' models use MODIS fAPAR).
    Drivers: the site climatology ``clim`` (TA_F degC, SW_IN_F W m-2, VPD_F hPa) of each month, PAR24 =
    SW_IN / 0.505, day length at ``lat`` on the 15th, PAR_day = PAR24 x 24 / day length; TA_F (24-h) stands in
    for the day-time temperature and soil water is unlimited (no soil data on the tile). Arrays are
    ``(time, y, x)`` flattened.
    """
    from .towers import daylength_hours
    from .vprm import TEMPERATURE_COEFFICIENTS

    t = pd.DatetimeIndex(ndvi_m["time"].values)
    shape = ndvi_m.shape
    per_t = lambda v: np.broadcast_to(np.asarray(v, float)[:, None, None], shape).ravel()  # noqa: E731
    mon = t.month
    dl = daylength_hours(lat, (t + pd.Timedelta(days=14)).day_of_year.to_numpy())
    par24 = clim.loc[mon, "SW_IN_F"].to_numpy() / 0.505
    _, tmin, topt, tmax, _ = TEMPERATURE_COEFFICIENTS[vprm_class]
    n = int(np.prod(shape))
    return {"green": np.clip(np.asarray(vi.fapar_from_ndvi(ndvi_m.values), float).ravel(), 0, None),
            "par_24h": per_t(par24), "par_day": per_t(par24 * 24.0 / dl), "daylength": per_t(dl),
            "t_day": per_t(clim.loc[mon, "TA_F"].to_numpy()), "vpd": per_t(clim.loc[mon, "VPD_F"].to_numpy()),
            "wrel": np.full(n, np.nan), "tmin": np.full(n, tmin), "topt": np.full(n, topt), "tmax": np.full(n, tmax),
            "t_24h": per_t(clim.loc[mon, "TA_F"].to_numpy()), "shape": shape}
