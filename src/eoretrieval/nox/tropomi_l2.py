"""Write files in the exact layout of the TROPOMI L2 NO2 product from a study-1 world (known truth).

No real TROPOMI granule over China can be shipped, so the real-data path (reader → oversampling → network)
is exercised on files that have the product's layout :cite:`vangeffen2020,vangeffen2022`: netCDF-4 with group
``PRODUCT`` (dims ``time=1``, ``scanline``, ``ground_pixel=450``, ``corner=4``, ``layer=34``, ``vertices=2``) and
``PRODUCT/SUPPORT_DATA/{GEOLOCATIONS,DETAILED_RESULTS,INPUT_DATA}``; the variable names, dtypes
(``float32`` fields, ``uint8`` ``qa_value`` with ``scale_factor`` 0.01, ``int32`` indices), ``_FillValue``
(9.96921e36 for floats, 255 for ``qa_value``), ``units`` (``mol m-2``) and the conversion attribute
``multiplication_factor_to_convert_to_molecules_percm2`` are those of the product (user manual, PUM).

Swath geometry: 450 ground pixels across track, 3.5 km wide at nadir growing quadratically to the swath
edge so that the swath is 2600 km wide; scanlines 5.5 km apart along track (840 ms); a ground track heading
``heading_deg`` from north (ascending, sun-synchronous near 13:30 local solar time). Orbits are spaced
``ORBIT_SPACING_DEG`` in longitude (14.2 orbits per day), and the track's longitude drifts from day to day, so
a day is covered by one or two orbits with overlaps and gaps, as in the real product.

Pixel values are the world's cell values at the pixel centres (the observed column with its noise where the
world's cell is clear, qa_value 1.0; the noise-free column with qa_value 0.5 where it is cloudy); a
fraction ``bad_pixel_fraction`` of pixels gets qa_value 0 (processing errors). Pixels outside the world's
domain are fill values with qa_value 0. Every file is written to a temporary name and renamed when complete.

Public names: :func:`write_tropomi_l2`, :func:`write_world_orbits`, :func:`orbit_geometry`, :func:`mock_world`,
:data:`ORBIT_SPACING_DEG`, :data:`FLOAT_FILL`.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import DataError
from ..io.stations import AVOGADRO

__all__ = ["write_tropomi_l2", "write_world_orbits", "orbit_geometry", "mock_world", "ORBIT_SPACING_DEG", "FLOAT_FILL",
           "N_GROUND_PIXEL", "N_LAYER"]

FLOAT_FILL = np.float32(9.96921e36)
N_GROUND_PIXEL = 450
N_LAYER = 34
ORBIT_SPACING_DEG = 360.0 / 14.2
KM_PER_DEG = 111.195
_TIME_REF = pd.Timestamp("2010-01-01")


def _across_track_widths(n: int = N_GROUND_PIXEL, nadir_km: float = 3.5, swath_km: float = 2600.0) -> np.ndarray:
    x = (np.arange(n) + 0.5) / n * 2 - 1
    a = 3.0 * (swath_km / (n * nadir_km) - 1.0)  # sum of nadir*(1 + a x^2) over the swath = swath_km
    w = nadir_km * (1 + a * x ** 2)
    return w * swath_km / w.sum()


def orbit_geometry(lat_c: float, lon_c: float, n_scanline: int, *, heading_deg: float = -12.0,
                   along_km: float = 5.5, first_scanline_offset_km: float | None = None) -> dict[str, np.ndarray]:
    """Pixel centres and corners of a swath crossing ``(lat_c, lon_c)`` at its middle scanline.

    Returns
    -------
    dict
        ``latitude``, ``longitude`` (scanline, ground_pixel) and ``latitude_bounds``, ``longitude_bounds``
        (scanline, ground_pixel, 4) in degrees; ``along_km`` (scanline) the along-track distance from
        ``(lat_c, lon_c)``; ``width_km`` (ground_pixel). Corners are in the order of the product: (s-, c-),
        (s-, c+), (s+, c+), (s+, c-) in along-track s and across-track c.
    """
    widths = _across_track_widths()
    edges = np.concatenate([[0.0], np.cumsum(widths)]) - widths.sum() / 2
    c_mid = (edges[:-1] + edges[1:]) / 2
    off = -(n_scanline * along_km) / 2 if first_scanline_offset_km is None else first_scanline_offset_km
    s_edges = off + along_km * np.arange(n_scanline + 1)
    s_mid = (s_edges[:-1] + s_edges[1:]) / 2
    h = np.deg2rad(heading_deg)

    def to_latlon(s, c):
        east = s * np.sin(h) + c * np.cos(h)
        north = s * np.cos(h) - c * np.sin(h)
        lat = lat_c + north / KM_PER_DEG
        lon = lon_c + east / (KM_PER_DEG * np.cos(np.deg2rad(lat)))
        return lat, lon

    S, C = np.meshgrid(s_mid, c_mid, indexing="ij")
    lat, lon = to_latlon(S, C)
    corners = [(s_edges[:-1], edges[:-1]), (s_edges[:-1], edges[1:]), (s_edges[1:], edges[1:]), (s_edges[1:], edges[:-1])]
    lat_b, lon_b = [], []
    for s_e, c_e in corners:
        Sb, Cb = np.meshgrid(s_e, c_e, indexing="ij")
        la, lo = to_latlon(Sb, Cb)
        lat_b.append(la)
        lon_b.append(lo)
    return {"latitude": lat, "longitude": lon, "latitude_bounds": np.stack(lat_b, -1),
            "longitude_bounds": np.stack(lon_b, -1), "along_km": s_mid, "width_km": widths}


def _averaging_kernel(amf_trop: np.ndarray, amf_total: np.ndarray, tropopause: int) -> np.ndarray:
    """A smooth column averaging kernel (total-column AK = box-AMF / total AMF), shape (..., layer)."""
    z = np.arange(N_LAYER) / (N_LAYER - 1)
    box = 0.4 + 1.6 * np.tanh(4 * z)  # box AMFs grow with altitude (less sensitivity near the surface)
    ak = box[None, :] / amf_total.reshape(-1, 1)
    return ak.reshape(amf_trop.shape + (N_LAYER,)).astype(np.float32)


def _tm5_coefficients() -> tuple[np.ndarray, np.ndarray]:
    """Hybrid sigma-pressure coefficients (34 TM5 layers, bounds per layer): p = a + b p_s."""
    b = np.linspace(1.0, 0.0, N_LAYER + 1) ** 1.6
    a = 1.5e4 * np.sin(np.pi * np.linspace(0, 1, N_LAYER + 1)) ** 2
    a[-1] = 0.0
    return (np.stack([a[:-1], a[1:]], -1).astype(np.float32), np.stack([b[:-1], b[1:]], -1).astype(np.float32))


def write_tropomi_l2(path: str | os.PathLike, fields: dict[str, np.ndarray], *, start: pd.Timestamp, orbit: int,
                     compress: int = 4) -> Path:
    """Write one orbit in the TROPOMI L2 NO2 layout (atomic: temporary file, then rename).

    Parameters
    ----------
    path : path-like
        Output file (``S5P_OFFL_L2__NO2____<start>_<end>_<orbit>_...nc``).
    fields : dict of arrays
        ``latitude``, ``longitude`` (scanline, ground_pixel), ``latitude_bounds``, ``longitude_bounds``
        (scanline, ground_pixel, 4), ``no2`` (mol m-2, NaN → fill), ``no2_precision`` (mol m-2),
        ``qa_value`` (0-1), ``amf_trop``, ``amf_total`` (1), ``u``, ``v`` (m s-1), ``surface_pressure`` (Pa),
        ``solar_zenith_angle``, ``viewing_zenith_angle`` (degree), ``delta_time_ms`` (scanline).
    start : pd.Timestamp
        UTC time of the first scanline.
    orbit : int
        Orbit number (global attribute ``orbit``).

    Returns
    -------
    pathlib.Path
        The written file.
    """
    import netCDF4

    path = Path(path)
    ny, nx = fields["latitude"].shape
    if nx != N_GROUND_PIXEL:
        raise DataError(f"{path}: ground_pixel must be {N_GROUND_PIXEL}, got {nx}")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    t_ref = pd.Timestamp(start).normalize()
    dt_ms = np.asarray(fields["delta_time_ms"], dtype=np.int64)
    end = start + pd.Timedelta(milliseconds=int(dt_ms[-1] - dt_ms[0]))
    try:
        with netCDF4.Dataset(tmp, "w", format="NETCDF4") as nc:
            nc.setncatts({
                "Conventions": "CF-1.7", "institution": "KNMI",
                "source": "Sentinel 5 precursor, TROPOMI, space-borne remote sensing, L2 (synthetic: eoretrieval study-1 world)",
                "title": "TROPOMI/S5P NO2 1-Orbit L2 Swath 5.5x3.5km", "product_version": "2.4.0",
                "processor_version": "2.4.0", "orbit": np.int32(orbit), "sensor": "TROPOMI", "platform": "S5P",
                "time_reference": t_ref.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "time_coverage_start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "time_coverage_end": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "id": path.stem, "summary": "Format-exact synthetic file written from a known-truth world "
                                            "(eoretrieval.nox.tropomi_l2); not real Sentinel-5P data.",
            })
            prod = nc.createGroup("PRODUCT")
            for dim, size in (("time", 1), ("scanline", ny), ("ground_pixel", nx), ("corner", 4),
                              ("layer", N_LAYER), ("vertices", 2)):
                prod.createDimension(dim, size)
            for dim, size in (("scanline", ny), ("ground_pixel", nx), ("corner", 4), ("layer", N_LAYER),
                              ("vertices", 2)):
                v = prod.createVariable(dim, "i4", (dim,))
                v[:] = np.arange(size, dtype=np.int32)
                v.units = "1"
            tv = prod.createVariable("time", "i4", ("time",))
            tv.units = "seconds since 2010-01-01 00:00:00"
            tv.standard_name = "time"
            tv[:] = np.int32((t_ref - _TIME_REF).total_seconds())
            dims3 = ("time", "scanline", "ground_pixel")
            kw = dict(zlib=compress > 0, complevel=max(compress, 1))

            def fvar(group, name, data, units, dims=dims3, long_name="", standard_name=None, **attrs):
                v = group.createVariable(name, "f4", dims, fill_value=FLOAT_FILL, **kw)
                v.units = units
                v.long_name = long_name or name.replace("_", " ")
                if standard_name:
                    v.standard_name = standard_name
                for k, val in attrs.items():
                    v.setncattr(k, val)
                arr = np.asarray(data, dtype=np.float32)
                v[:] = np.where(np.isfinite(arr), arr, FLOAT_FILL)[None]
                return v

            fvar(prod, "latitude", fields["latitude"], "degrees_north", standard_name="latitude",
                 long_name="pixel center latitude", bounds="/PRODUCT/SUPPORT_DATA/GEOLOCATIONS/latitude_bounds")
            fvar(prod, "longitude", fields["longitude"], "degrees_east", standard_name="longitude",
                 long_name="pixel center longitude", bounds="/PRODUCT/SUPPORT_DATA/GEOLOCATIONS/longitude_bounds")
            dv = prod.createVariable("delta_time", "i4", ("time", "scanline"))
            dv.units = "milliseconds since " + t_ref.strftime("%Y-%m-%d %H:%M:%S")
            dv.long_name = "offset from reference start time of measurement"
            dv[:] = (dt_ms - 0)[None].astype(np.int32)
            tu = prod.createVariable("time_utc", str, ("time", "scanline"))
            tu.long_name = "Time of observation as ISO 8601 date-time string"
            stamps = [(t_ref + pd.Timedelta(milliseconds=int(ms))).strftime("%Y-%m-%dT%H:%M:%S.%fZ") for ms in dt_ms]
            tu[0, :] = np.array(stamps, dtype=object)
            qa = prod.createVariable("qa_value", "u1", dims3, fill_value=np.uint8(255), **kw)
            qa.units = "1"
            qa.long_name = "data quality value"
            qa.comment = ("A continuous quality descriptor, varying between 0 (no data) and 1 (full quality data). "
                          "Recommend to ignore data with qa_value < 0.5")
            qa.scale_factor = np.float32(0.01)
            qa.add_offset = np.float32(0.0)
            qa.valid_min = np.uint8(0)
            qa.valid_max = np.uint8(100)
            qa[:] = np.clip(np.asarray(fields["qa_value"], float), 0, 1)[None]
            conv = np.float32(AVOGADRO / 1e4)
            fvar(prod, "nitrogendioxide_tropospheric_column", fields["no2"], "mol m-2",
                 standard_name="troposphere_mole_content_of_nitrogen_dioxide",
                 long_name="Tropospheric vertical column of nitrogen dioxide",
                 multiplication_factor_to_convert_to_molecules_percm2=conv,
                 ancillary_variables="nitrogendioxide_tropospheric_column_precision air_mass_factor_troposphere")
            fvar(prod, "nitrogendioxide_tropospheric_column_precision", fields["no2_precision"], "mol m-2",
                 standard_name="troposphere_mole_content_of_nitrogen_dioxide standard_error",
                 long_name="Precision of the tropospheric vertical column of nitrogen dioxide",
                 multiplication_factor_to_convert_to_molecules_percm2=conv)
            fvar(prod, "nitrogendioxide_tropospheric_column_precision_kernel", fields["no2_precision"], "mol m-2",
                 multiplication_factor_to_convert_to_molecules_percm2=conv)
            fvar(prod, "air_mass_factor_troposphere", fields["amf_trop"], "1", long_name="Tropospheric air mass factor")
            fvar(prod, "air_mass_factor_total", fields["amf_total"], "1", long_name="Total air mass factor")
            trop = prod.createVariable("tm5_tropopause_layer_index", "i4", dims3, fill_value=np.int32(-2147483647), **kw)
            trop.units = "1"
            trop[:] = np.full((1, ny, nx), 22, np.int32)
            ak = prod.createVariable("averaging_kernel", "f4", dims3 + ("layer",), fill_value=FLOAT_FILL,
                                     chunksizes=(1, min(ny, 64), nx, N_LAYER), **kw)
            ak.units = "1"
            ak.long_name = "Averaging kernel"
            ak.coordinates = "longitude latitude"
            ak[:] = _averaging_kernel(fields["amf_trop"], fields["amf_total"], 22)[None]
            a, b = _tm5_coefficients()
            for name, arr, units in (("tm5_constant_a", a, "Pa"), ("tm5_constant_b", b, "1")):
                v = prod.createVariable(name, "f4", ("layer", "vertices"))
                v.units = units
                v[:] = arr
            sup = prod.createGroup("SUPPORT_DATA")
            geo = sup.createGroup("GEOLOCATIONS")
            fvar(geo, "latitude_bounds", fields["latitude_bounds"], "degrees_north", dims=dims3 + ("corner",))
            fvar(geo, "longitude_bounds", fields["longitude_bounds"], "degrees_east", dims=dims3 + ("corner",))
            fvar(geo, "solar_zenith_angle", fields["solar_zenith_angle"], "degree", standard_name="solar_zenith_angle")
            fvar(geo, "viewing_zenith_angle", fields["viewing_zenith_angle"], "degree")
            det = sup.createGroup("DETAILED_RESULTS")
            slant = np.asarray(fields["no2"], float) * np.asarray(fields["amf_trop"], float)
            fvar(det, "nitrogendioxide_slant_column_density", slant, "mol m-2",
                 multiplication_factor_to_convert_to_molecules_percm2=conv)
            fvar(det, "nitrogendioxide_stratospheric_column", np.full((ny, nx), 5.0e-5), "mol m-2",
                 multiplication_factor_to_convert_to_molecules_percm2=conv)
            fvar(det, "cloud_radiance_fraction_nitrogendioxide_window", fields.get("cloud_fraction", np.zeros((ny, nx))), "1")
            inp = sup.createGroup("INPUT_DATA")
            fvar(inp, "surface_pressure", fields["surface_pressure"], "Pa", standard_name="surface_air_pressure")
            fvar(inp, "eastward_wind", fields["u"], "m s-1", standard_name="eastward_wind")
            fvar(inp, "northward_wind", fields["v"], "m s-1", standard_name="northward_wind")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def _cell_index(lat, lon, grid_lat, grid_lon):
    res_y = float(grid_lat[1] - grid_lat[0])
    res_x = float(grid_lon[1] - grid_lon[0])
    iy = np.floor((lat - (grid_lat[0] - res_y / 2)) / res_y).astype(int)
    ix = np.floor((lon - (grid_lon[0] - res_x / 2)) / res_x).astype(int)
    inside = (iy >= 0) & (iy < len(grid_lat)) & (ix >= 0) & (ix < len(grid_lon))
    return np.clip(iy, 0, len(grid_lat) - 1), np.clip(ix, 0, len(grid_lon) - 1), inside


def write_world_orbits(world: xr.Dataset, days, folder: str | os.PathLike, *, seed: int = 0,
                       heading_deg: float = -12.0, bad_pixel_fraction: float = 0.02, margin_km: float = 60.0,
                       compress: int = 4, progress: bool = False) -> list[Path]:
    """Write the TROPOMI L2 NO2 orbits that see a study-1 world's domain on ``days``.

    Parameters
    ----------
    world : xr.Dataset
        From :func:`eoretrieval.nox.make_nox_world` (needs ``no2_column``, ``no2_column_true``,
        ``no2_column_precision``, ``valid``, ``u``, ``v``, ``cloud_fraction``).
    days : sequence of datetime-like
    folder : path-like
        Output folder (created).
    seed : int
        Seed of the orbit phase and of the flagged pixels.

    Returns
    -------
    list of pathlib.Path
        The files, sorted by time.
    """
    from tqdm import tqdm

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    glat, glon = world["lat"].values, world["lon"].values
    lat_c = float(glat.mean())
    lon_mid = float(glon.mean())
    rng = np.random.default_rng(seed)
    phase0 = rng.uniform(0, ORBIT_SPACING_DEG)
    half_span = (glat[-1] - glat[0] + 0.5) / 2 * KM_PER_DEG + margin_km
    n_scan = int(np.ceil(2 * half_span / 5.5 / np.cos(np.deg2rad(heading_deg))))
    files = []
    orbit = 10000 + int(rng.integers(0, 1000))
    for day in tqdm(pd.DatetimeIndex(days), desc="write L2 orbits", disable=not progress):
        w = world.sel(time=day)
        # the track longitude drifts by ~ -2.5 deg per day (16-day repeat cycle of 227 orbits)
        phase = (phase0 + (day - pd.Timestamp("2018-01-01")).days * (227 / 16 - 14) * ORBIT_SPACING_DEG) % ORBIT_SPACING_DEG
        lon_tracks = lon_mid - ORBIT_SPACING_DEG / 2 + phase + ORBIT_SPACING_DEG * np.arange(1, -2, -1)  # east first (earlier in UTC)
        for lon_c in lon_tracks:
            geo = orbit_geometry(lat_c, lon_c, n_scan, heading_deg=heading_deg)
            iy, ix, inside = _cell_index(geo["latitude"], geo["longitude"], glat, glon)
            if not inside.any():
                continue
            orbit += 1
            obs = w["no2_column"].values[iy, ix]
            clear = (w["valid"].values[iy, ix] > 0) & np.isfinite(obs)
            no2 = np.where(clear, obs, w["no2_column_true"].values[iy, ix])
            qa = np.where(clear, 1.0, 0.5)
            qa = np.where(rng.random(qa.shape) < bad_pixel_fraction, 0.0, qa)
            no2 = np.where(inside, no2, np.nan)
            qa = np.where(inside, qa, 0.0)
            prec = np.where(inside, w["no2_column_precision"].values[iy, ix], np.nan)
            cf = w["cloud_fraction"].values[iy, ix] if "cloud_fraction" in w else np.zeros_like(no2)
            vza = np.abs(np.linspace(-66.0, 66.0, N_GROUND_PIXEL))[None, :].repeat(n_scan, 0)
            doy = day.day_of_year
            decl = 23.44 * np.sin(np.deg2rad(360 / 365.25 * (doy - 81)))
            sza = np.abs(geo["latitude"] - decl)
            amf_trop = 1.0 + 0.5 * np.cos(np.deg2rad(sza)) * np.cos(np.deg2rad(vza))
            amf_total = amf_trop + 0.9
            # local solar time 13:30 at the track centre at the middle scanline; 840 ms per scanline
            t_mid = day + pd.Timedelta(hours=13.5 - lon_c / 15.0)
            dt_ms = (np.arange(n_scan) - n_scan / 2) * 840.0 + (t_mid - day).total_seconds() * 1e3
            start = day + pd.Timedelta(milliseconds=float(dt_ms[0]))
            fields = {**{k: geo[k] for k in ("latitude", "longitude", "latitude_bounds", "longitude_bounds")},
                      "no2": no2, "no2_precision": prec, "qa_value": qa, "amf_trop": amf_trop, "amf_total": amf_total,
                      "u": np.where(inside, w["u"].values[iy, ix], np.nan), "v": np.where(inside, w["v"].values[iy, ix], np.nan),
                      "surface_pressure": np.full_like(no2, 1.0e5), "solar_zenith_angle": sza,
                      "viewing_zenith_angle": vza, "delta_time_ms": dt_ms, "cloud_fraction": cf}
            end = start + pd.Timedelta(milliseconds=float(dt_ms[-1] - dt_ms[0]))
            name = (f"S5P_OFFL_L2__NO2____{start:%Y%m%dT%H%M%S}_{end:%Y%m%dT%H%M%S}_{orbit:05d}_03_020400_"
                    f"{pd.Timestamp('2024-01-01'):%Y%m%dT%H%M%S}.nc")
            files.append(write_tropomi_l2(folder / name, fields, start=start, orbit=orbit, compress=compress))
    return sorted(files)


def mock_world(*, lat0: float = 36.0, lat1: float = 40.0, lon0: float = 114.0, lon1: float = 118.0,
               resolution: float = 0.25, days=("2022-03-01",), cloud_fraction: float = 0.3, seed: int = 0) -> xr.Dataset:
    """A small world with the variables :func:`write_world_orbits` needs (for tests and examples).

    The column is a smooth plume pattern plus noise (mol m-2); a random ``cloud_fraction`` of cells is
    invalid (cloudy).
    """
    rng = np.random.default_rng(seed)
    lat = np.round(np.arange(lat0 + resolution / 2, lat1, resolution), 6)
    lon = np.round(np.arange(lon0 + resolution / 2, lon1, resolution), 6)
    time = pd.DatetimeIndex(days)
    Y, X = np.meshgrid(lat, lon, indexing="ij")
    base = 1e-5 + 1.2e-4 * np.exp(-(((Y - Y.mean()) / 0.8) ** 2 + ((X - X.mean()) / 1.2) ** 2))
    shape = (len(time), lat.size, lon.size)
    true = np.broadcast_to(base, shape) * (1 + 0.1 * rng.standard_normal((len(time), 1, 1)))
    obs = true + 1.66e-5 * rng.standard_normal(shape)
    valid = (rng.random(shape) >= cloud_fraction).astype(np.uint8)
    dims = ("time", "lat", "lon")
    mol = {"units": "mol m-2"}
    return xr.Dataset({
        "no2_column": (dims, np.where(valid > 0, obs, np.nan), mol),
        "no2_column_true": (dims, true, mol),
        "no2_column_precision": (dims, np.full(shape, 1.66e-5), mol),
        "valid": (dims, valid, {"units": "1"}),
        "cloud_fraction": (dims, np.where(valid > 0, 0.1, 0.6), {"units": "1"}),
        "u": (dims, np.full(shape, 3.0), {"units": "m s-1"}),
        "v": (dims, np.full(shape, -1.0), {"units": "m s-1"}),
    }, coords={"time": time, "lat": lat, "lon": lon})
