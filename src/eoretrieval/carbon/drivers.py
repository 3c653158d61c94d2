"""Tower + satellite pairs: harmonised drivers, indices and flux truth per site.

A *site specification* names a flux file (any format read by :func:`eoretrieval.io.fluxnet.read_flux_file`
or the multi-site monthly table), a vegetation-index source (MOD13A1 table or MODIS EVI/reflectance
CSVs), an optional MOD15A2H fAPAR file, the IGBP class and the time scale ("daily" or "monthly").
:func:`load_site` turns it into one :class:`xarray.Dataset` on ``time`` with

* drivers ``ta`` (degC), ``par`` (umol m-2 s-1), ``vpd`` (hPa), ``swc`` (%),
* indices ``evi``, ``ndvi``, ``lswi``, ``nirv``, ``kndvi``, ``fapar`` (``"1"``) interpolated to days
  from the composites, and ``index_filled`` (fraction of the period filled by the site's
  day-of-year climatology: gaps longer than ``max_gap_days`` and dates after the index record),
* truth ``nee``, ``gpp``, ``reco`` (g C m-2 d-1, NaN where absent or failing QC),
* site constants in attrs: ``evi_threshold``, ``lswi_min``, ``lswi_max``, ``igbp``, ``vprm_class``.

Indices are never derived from fluxes. Where a band is absent the substitute is documented in
``attrs["index_notes"]`` (e.g. LSWI from the 2.1 um band; fAPAR from NDVI).

Public names: :class:`SiteSpec`, :func:`default_sites`, :func:`parse_sites`, :func:`load_site`,
:func:`stack_sites`, :func:`daily_index_series`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..config import data_dir as _data_dir
from ..errors import DataError
from ..io.fluxnet import read_flux_file, read_fluxnet_monthly_table
from ..io.vegetation import (read_mod13a1_table, read_mod15a2h, read_modis_evi_csv,
                             read_modis_reflectance_csv)
from . import indices as vi
from .towers import great_circle_km
from .vprm import UMOL_M2_S_TO_G_M2_D, SW_TO_PAR, evi_threshold, lswi_extremes, vprm_class

__all__ = ["SiteSpec", "default_sites", "parse_sites", "load_site", "stack_sites",
           "daily_index_series"]

MONTHLY_TABLE = "fluxnet/fluxnet_warmwinter2020_monthly_selected.csv"
MOD13A1_TABLE = "vegetation_indices/MOD13A1_flux_sites_phenofit.csv"


@dataclass(frozen=True)
class SiteSpec:
    """Where the flux and index data of one site are, and how to use them.

    Paths are absolute or relative to :func:`eoretrieval.config.data_dir`.
    ``index`` is a MOD13A1 table (rows for ``site``) or a MODIS EVI CSV; ``reflectance`` an
    optional reflectance CSV (red, nir, blue, swir) used for NDVI/NIRv/kNDVI/LSWI.
    """

    site: str
    igbp: str
    flux: str
    index: str
    scale: str = "monthly"
    reflectance: str | None = None
    fapar: str | None = None
    lswi_band: str = "MODIS band 7 (2.1 um): LSWI2130 approximation"
    notes: tuple = field(default_factory=tuple)
    lat: float | None = None
    lon: float | None = None

    def __post_init__(self):
        if self.scale not in ("daily", "monthly"):
            raise DataError(f"site {self.site}: scale {self.scale!r} not valid; expected 'daily' or 'monthly'")


def default_sites(scale: str = "monthly") -> list[SiteSpec]:
    """Every real tower + satellite pair shipped in ``data/`` at the given scale, located through the catalog.

    Monthly: CH-Oe2 (CRO), CZ-wet (WET), DE-Obe (ENF) from the Warm Winter 2020 monthly table,
    the only sites of that table with MOD13A1 indices. Daily: CH-Oe2 (ICOS daily extract),
    AT-Neu (half-hourly July 2010, aggregated), US-PFa (hourly 2005 FC, days with >= 20 valid hours).
    """
    from ..io.catalog import entry_path

    if scale not in ("daily", "monthly"):
        raise ValueError(f"unknown scale {scale!r}; valid: ['daily', 'monthly']")
    mod = entry_path("modis_mod13a1_flux_sites")
    fap = entry_path("modis_fapar_ch_oe2")
    if scale == "monthly":
        table = entry_path("fluxnet_monthly_70_sites")
        return [SiteSpec("CH-Oe2", "CRO", table, mod, "monthly", fapar=fap),
                SiteSpec("CZ-wet", "WET", table, mod, "monthly"),
                SiteSpec("DE-Obe", "ENF", table, mod, "monthly")]
    return [SiteSpec("CH-Oe2", "CRO", entry_path("fluxnet_ch_oe2_daily_2004_2023"), mod, "daily", fapar=fap),
            SiteSpec("AT-Neu", "GRA", entry_path("fluxnet_at_neu_halfhourly_2010_07"), mod, "daily"),
            SiteSpec("US-PFa", "MF", entry_path("fluxnet_us_pfa_hourly_2005"), entry_path("modis_evi_us_pfa"), "daily",
                     reflectance=entry_path("modis_reflectance_us_pfa"),
                     lswi_band="MOD09A1 'swir' (probably band 6, 1.6 um; inferred, not documented)")]


def parse_sites(sites, scale: str) -> list[SiteSpec]:
    """Turn the notebook parameter into site specs: ``"default"`` or a list of dicts with keys of :class:`SiteSpec`."""
    if isinstance(sites, str):
        if sites != "default":
            raise ValueError(f"sites must be 'default' or a list of dicts, got {sites!r}")
        return default_sites(scale)
    out = []
    fields = set(SiteSpec.__dataclass_fields__)
    for d in sites:
        d = dict(d)
        name = d.get("site", "<no site name>")
        missing = [k for k in ("site", "igbp", "flux", "index") if not d.get(k)]
        if missing:
            raise DataError(f"site {name!r}: keys {missing} missing or empty; a site needs site, igbp, flux (file) "
                            "and index (vegetation-index file)")
        unknown = sorted(set(d) - fields)
        if unknown:
            raise DataError(f"site {name!r}: unknown keys {unknown}; valid: {sorted(fields)}")
        d.setdefault("scale", scale)
        if d["scale"] != scale:
            raise DataError(f"site {name!r}: scale {d['scale']!r} given in a list for the {scale!r} scale "
                            f"(flux file {d['flux']}); move it to the other list or fix 'scale'")
        out.append(SiteSpec(**{k: (tuple(v) if k == "notes" else v) for k, v in d.items()}))
    return out


def _path(p: str | os.PathLike, root: Path) -> Path:
    p = Path(p)
    return p if p.is_absolute() else root / p


def _first(ds: xr.Dataset, names) -> xr.DataArray | None:
    for n in names:
        if n in ds:
            return ds[n]
    return None


def _harmonise(ds: xr.Dataset, path) -> xr.Dataset:
    """Map FLUXNET names to model driver/truth names (native resolution, native units)."""
    sub = ds.attrs.get("resolution") in ("HH", "HR")
    out = {}
    ta = _first(ds, ["TA_F", "TA_F_MDS", "TA"])
    if ta is None:
        raise DataError(f"{path}: no air temperature (TA_F/TA_F_MDS) for the VPRM drivers")
    out["ta"] = ta
    sw = _first(ds, ["SW_IN_F", "SW_IN_F_MDS", "SW_IN"])
    if sw is not None:
        out["par"] = sw * SW_TO_PAR
    elif "PPFD_IN" in ds:
        out["par"] = ds["PPFD_IN"]
    else:
        raise DataError(f"{path}: no radiation (SW_IN_F or PPFD_IN) for the VPRM drivers")
    for name, cands in (("vpd", ["VPD_F", "VPD_F_MDS"]), ("swc", ["SWC_F_MDS_1"])):
        v = _first(ds, cands)
        out[name] = v if v is not None else xr.full_like(ta, np.nan)
    for name, cands in (("nee", ["NEE_VUT_REF", "NEE_VUT_USTAR50", "FC"]),
                        ("gpp", ["GPP_NT_VUT_REF", "GPP_NT_VUT_USTAR50"]),
                        ("reco", ["RECO_NT_VUT_REF", "RECO_NT_VUT_USTAR50"])):
        v = _first(ds, cands)
        out[name] = v if v is not None else xr.full_like(ta, np.nan)
    res = xr.Dataset({k: v.variable for k, v in out.items()}, coords={"time": ds["time"].values})
    if sub:  # half-hourly/hourly -> daily means, fluxes to g m-2 d-1
        counts = res.resample(time="1D").count()
        full = res.resample(time="1D").mean()
        steps = res["ta"].resample(time="1D").count().max()
        need = 20.0 / 24.0 * float(steps)
        for k in ("nee", "gpp", "reco"):
            full[k] = full[k].where(counts[k] >= need) * UMOL_M2_S_TO_G_M2_D
        for k in ("ta", "par", "vpd", "swc"):
            full[k] = full[k].where(counts[k] >= need)
        res = full
    return res


def _load_flux(spec: SiteSpec, root: Path, qc_threshold) -> xr.Dataset:
    path = _path(spec.flux, root)
    with open(path, encoding="utf-8", errors="replace") as f:
        header = f.readline()
    if "SITE_ID" in header.split(","):
        tab = read_fluxnet_monthly_table(path, sites=[spec.site], qc_threshold=qc_threshold)
        ds = tab.sel(site=spec.site).drop_vars("site")
        ds.attrs["resolution"] = "MM"
    else:
        ds = read_flux_file(path, qc_threshold=qc_threshold, site=spec.site)
    h = _harmonise(ds, path)
    if spec.scale == "monthly" and ds.attrs.get("resolution") != "MM":
        cnt = h.resample(time="MS").count()
        h = h.resample(time="MS").mean()
        for k in ("nee", "gpp", "reco"):
            h[k] = h[k].where(cnt[k] >= 20)
    units = {"ta": "degC", "par": "umol m-2 s-1", "vpd": "hPa", "swc": "%",
             "nee": "g m-2 d-1", "gpp": "g m-2 d-1", "reco": "g m-2 d-1"}
    for k, u in units.items():
        h[k].attrs["units"] = u
    h.attrs["flux_source"] = str(path)
    return h


def _composites_to_daily(times, values, days, *, half_window: float, max_gap_days: float):
    """Linear interpolation of composite values (placed mid-composite) to daily dates."""
    t = (pd.DatetimeIndex(times) + pd.Timedelta(days=half_window)).values.astype("datetime64[D]").astype(float)
    v = np.asarray(values, float)
    ok = np.isfinite(v)
    t, v = t[ok], v[ok]
    d = days.values.astype("datetime64[D]").astype(float)
    out = np.interp(d, t, v, left=np.nan, right=np.nan)
    # mask days inside gaps longer than max_gap_days
    idx = np.searchsorted(t, d)
    lo = np.clip(idx - 1, 0, len(t) - 1)
    hi = np.clip(idx, 0, len(t) - 1)
    gap = t[hi] - t[lo]
    out[(gap > max_gap_days)] = np.nan
    return out


_SITE_CODE = re.compile(r"(?<![A-Za-z0-9])([A-Z]{2}-[A-Za-z0-9]{3})(?![A-Za-z0-9])")


def _check_index_belongs(spec: SiteSpec, ipath: Path, *, max_km: float = 5.0) -> None:
    """Raise if a single-site index file names another site, or its coordinates are far from the site's."""
    codes = set(_SITE_CODE.findall(str(ipath.relative_to(ipath.anchor))))
    if codes and spec.site not in codes:
        raise DataError(f"{ipath}: index file of site(s) {sorted(codes)}, but it is given for site {spec.site}")
    if spec.lat is None or spec.lon is None:
        return
    sites_csv = ipath.with_name(ipath.stem + "_sites.csv")
    if not sites_csv.exists():
        return
    tab = pd.read_csv(sites_csv)
    row = tab[tab["site"] == spec.site]
    if len(row):
        la, lo = float(row["lat"].iloc[0]), float(row["lon"].iloc[0])
        d = float(great_circle_km(spec.lat, spec.lon, la, lo))
        if d > max_km:
            raise DataError(f"{sites_csv}: index pixel of {spec.site} at ({la:.4f}, {lo:.4f}) is {d:.0f} km from the "
                            f"site's coordinates ({spec.lat:.4f}, {spec.lon:.4f}); expected <= {max_km:g} km")


def daily_index_series(spec: SiteSpec, days: pd.DatetimeIndex, root: Path, *,
                       max_gap_days: float = 64.0) -> tuple[pd.DataFrame, dict]:
    """Daily interpolated indices at a site (``evi, ndvi, lswi, nirv, kndvi, fapar``) and notes."""
    if not spec.index:
        raise DataError(f"site {spec.site}: no vegetation-index file given (SiteSpec.index) for flux file {spec.flux}")
    ipath = _path(spec.index, root)
    if not ipath.is_file():
        raise DataError(f"{ipath}: vegetation-index file of site {spec.site} not found")
    _check_index_belongs(spec, ipath)
    notes = {}
    with open(ipath, encoding="utf-8", errors="replace") as f:
        header = f.readline().split(",")
    if "site" in header:  # MOD13A1 table
        m = read_mod13a1_table(ipath, sites=[spec.site]).sel(site=spec.site)
        comp = {"evi": m["evi"].values, "ndvi": m["ndvi"].values,
                "lswi": vi.lswi(m["nir"].values, m["swir2"].values),
                "nirv": vi.nirv(m["nir"].values, m["red"].values),
                "kndvi": vi.kndvi(m["nir"].values, m["red"].values)}
        ctimes = {k: m["time"].values for k in comp}
        half = 8.0
        notes["source"] = "MOD13A1 C6 16-day 500 m (SummaryQA <= 1)"
        notes["lswi"] = spec.lswi_band
    else:  # EVI csv + reflectance csv
        e = read_modis_evi_csv(ipath)
        comp = {"evi": e["evi"].values}
        ctimes = {"evi": e["time"].values}
        half = 8.0
        notes["source"] = "MODIS MOD13Q1 EVI (16-day) + MOD09A1 reflectance (8-day)"
        if spec.reflectance is None:
            raise DataError(f"{ipath}: an EVI-only index file needs reflectances (red, nir, swir) for "
                            "LSWI/NDVI; give SiteSpec.reflectance")
        _check_index_belongs(spec, _path(spec.reflectance, root))
        r = read_modis_reflectance_csv(_path(spec.reflectance, root))
        for k, val in (("ndvi", vi.ndvi(r["nir"].values, r["red"].values)),
                       ("lswi", vi.lswi(r["nir"].values, r["swir"].values)),
                       ("nirv", vi.nirv(r["nir"].values, r["red"].values)),
                       ("kndvi", vi.kndvi(r["nir"].values, r["red"].values))):
            comp[k] = val
            ctimes[k] = r["time"].values
        notes["lswi"] = spec.lswi_band
    first = min(pd.Timestamp(np.min(ct)) for ct in ctimes.values())
    last = max(pd.Timestamp(np.max(ct)) for ct in ctimes.values()) + pd.Timedelta(days=16)
    req = days
    days = pd.date_range(min(first, req[0]), max(last, req[-1]), freq="D")
    daily = {}
    for k, v in comp.items():
        h = 4.0 if (k != "evi" and "site" not in header) else half
        daily[k] = _composites_to_daily(ctimes[k], v, days, half_window=h, max_gap_days=max_gap_days)
    if spec.fapar is not None:
        _check_index_belongs(spec, _path(spec.fapar, root))
        f = read_mod15a2h(_path(spec.fapar, root))
        fm = f["fapar"].mean("pixel", skipna=True)
        daily["fapar"] = _composites_to_daily(fm["time"].values, fm.values, days, half_window=4.0,
                                              max_gap_days=max_gap_days)
        notes["fapar"] = "MOD15A2H C6.1 8-day, mean of the 5x5 pixel window"
    else:
        daily["fapar"] = np.asarray(vi.fapar_from_ndvi(daily["ndvi"]), float)
        notes["fapar"] = "no fAPAR product: fAPAR = 1.1638 NDVI - 0.1426 (Myneni & Williams 1994)"
    df = pd.DataFrame(daily, index=days)
    # climatology fill (day of year), flagged
    filled = pd.DataFrame(False, index=days, columns=df.columns)
    doy = np.minimum(days.day_of_year, 365)
    for k in df.columns:
        clim = df[k].groupby(doy).mean()
        clim = clim.reindex(range(1, 366)).interpolate(limit_direction="both")
        clim = pd.concat([clim.iloc[-15:], clim, clim.iloc[:15]]).rolling(31, center=True).mean().iloc[15:-15]
        miss = df[k].isna()
        filled[k] = miss
        df.loc[miss, k] = clim.reindex(doy[miss.values]).values
    df["index_filled"] = filled[["evi", "lswi"]].any(axis=1).astype(float)
    df["fapar_filled"] = filled["fapar"].astype(float)
    # site constants from the whole observed index record (pyVPRM definitions)
    obs = df["index_filled"].to_numpy() < 0.5
    ev, ls = df["evi"].to_numpy()[obs], df["lswi"].to_numpy()[obs]
    if not np.isfinite(ev).any():
        raise DataError(f"{ipath}: no valid EVI for site {spec.site}")
    th = evi_threshold(ev)
    lmin, lmax = lswi_extremes(ls, ev, threshold=th, percentiles=(2.0, 98.0))
    notes_const = {"evi_threshold": th, "lswi_min": lmin, "lswi_max": lmax,
                   "index_record": f"{first.date()}..{last.date()}"}
    return df.reindex(req), {**notes, **notes_const}


def load_site(spec: SiteSpec, *, data_dir: str | os.PathLike | None = None,
              qc_threshold: float | None = 0.5) -> xr.Dataset:
    """Load one site: harmonised drivers, indices and truth on the site's time axis (see module doc)."""
    root = _data_dir(data_dir)
    h = _load_flux(spec, root, qc_threshold)
    t = pd.DatetimeIndex(h["time"].values)
    if spec.scale == "monthly":
        days = pd.date_range(t[0], t[-1] + pd.offsets.MonthEnd(0), freq="D")
    else:
        days = pd.date_range(t[0].normalize(), t[-1].normalize(), freq="D")
    idx, notes = daily_index_series(spec, days, root)
    const = {k: notes.pop(k) for k in ("evi_threshold", "lswi_min", "lswi_max")}
    if spec.scale == "monthly":
        idx = idx.resample("MS").mean()
    idx = idx.reindex(t)
    ds = h.copy()
    for k in idx.columns:
        ds[k] = ("time", idx[k].to_numpy(float), {"units": "1"})
    ds["dt_days"] = ("time", (t.days_in_month.to_numpy(float) if spec.scale == "monthly"
                              else np.ones(len(t))), {"units": "d"})
    th, lmin, lmax = const["evi_threshold"], const["lswi_min"], const["lswi_max"]
    # relative soil moisture (0-1) from the site's SWC percentiles, NaN where no SWC
    swc = ds["swc"].values
    if np.isfinite(swc).sum() > 10:
        p5, p95 = np.nanpercentile(swc, [5, 95])
        rel = np.clip((swc - p5) / max(p95 - p5, 1e-6), 0, 1)
    else:
        rel = np.full_like(swc, np.nan)
    ds["sm_rel"] = ("time", rel, {"units": "1", "long_name": "relative soil moisture (site 5-95th pct)"})
    ds.attrs.update(site=spec.site, igbp=spec.igbp, vprm_class=vprm_class(spec.igbp), scale=spec.scale,
                    evi_threshold=th, lswi_min=lmin, lswi_max=lmax,
                    index_notes="; ".join(f"{k}: {v}" for k, v in notes.items()))
    return ds


def stack_sites(sites: list[xr.Dataset]) -> xr.Dataset:
    """Concatenate site datasets along ``sample`` with per-sample site constants (ordered by site, time)."""
    parts = []
    for ds in sites:
        d = ds.rename({"time": "sample"}).assign_coords(time=("sample", ds["time"].values),
                                                        site=("sample", [ds.attrs["site"]] * ds.sizes["time"]))
        n = d.sizes["sample"]
        for k in ("evi_threshold", "lswi_min", "lswi_max"):
            d[k] = ("sample", np.full(n, ds.attrs[k]))
        d["vprm_class"] = ("sample", np.array([ds.attrs["vprm_class"]] * n))
        d["igbp"] = ("sample", np.array([ds.attrs["igbp"]] * n))
        d.attrs = {}
        parts.append(d)
    out = xr.concat(parts, dim="sample")
    out.attrs["sites"] = [ds.attrs["site"] for ds in sites]
    return out
