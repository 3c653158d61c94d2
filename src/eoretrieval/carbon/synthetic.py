"""Seeded synthetic tower data in the layout of :func:`eoretrieval.carbon.drivers.stack_sites` (for tests).

Public names: :func:`make_synthetic_sites`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

__all__ = ["make_synthetic_sites"]


def make_synthetic_sites(*, n_sites: int = 3, n_months: int = 48, seed: int = 0, model: str | None = "vprm",
                         params: dict | None = None, noise: float = 0.0,
                         classes=("evergreen", "deciduous", "cropland")) -> xr.Dataset:
    """Monthly sites with seasonal drivers and indices; truth from ``model`` with ``params`` plus noise.

    Returns a Dataset on ``sample`` (site-major, time-ordered) with every variable that
    :func:`eoretrieval.carbon.model.predict` reads and ``nee``, ``gpp``, ``reco`` in g C m-2 d-1.
    """
    rng = np.random.default_rng(seed)
    parts = []
    time = pd.date_range("2010-01-01", periods=n_months, freq="MS")
    phase = 2 * np.pi * (time.month.to_numpy() - 4) / 12.0
    for i in range(n_sites):
        amp = rng.uniform(8, 12)
        ta = rng.uniform(6, 12) + amp * np.sin(phase) + rng.normal(0, 1, n_months)
        sw = np.clip(150 + 110 * np.sin(phase) + rng.normal(0, 15, n_months), 10, None)
        green = np.clip(0.35 + 0.25 * np.sin(phase - 0.3) + rng.normal(0, 0.03, n_months), 0.05, 0.9)
        ndvi = np.clip(0.45 + 0.35 * np.sin(phase - 0.3), 0.1, 0.95)
        lswi = 0.1 + 0.25 * np.sin(phase - 0.5) + rng.normal(0, 0.03, n_months)
        n = n_months
        ds = xr.Dataset({
            "ta": ("sample", ta), "par": ("sample", sw / 0.505), "vpd": ("sample", np.clip(3 + 0.6 * ta, 0, None)),
            "swc": ("sample", np.full(n, np.nan)), "sm_rel": ("sample", np.clip(0.6 - 0.3 * np.sin(phase), 0, 1)),
            "evi": ("sample", green), "ndvi": ("sample", ndvi), "lswi": ("sample", lswi),
            "nirv": ("sample", ndvi * 0.35), "kndvi": ("sample", np.tanh(ndvi ** 2)),
            "fapar": ("sample", np.clip(1.1638 * ndvi - 0.1426, 0, 1)),
            "index_filled": ("sample", np.zeros(n)), "dt_days": ("sample", time.days_in_month.to_numpy(float)),
            "evi_threshold": ("sample", np.full(n, green.min() + 0.55 * (green.max() - green.min()))),
            "lswi_min": ("sample", np.full(n, lswi.min())), "lswi_max": ("sample", np.full(n, lswi.max())),
            "vprm_class": ("sample", np.array([classes[i % len(classes)]] * n)),
            "igbp": ("sample", np.array([["ENF", "DBF", "CRO"][i % 3]] * n)),
        }, coords={"site": ("sample", [f"S{i}"] * n), "time": ("sample", time.values)})
        parts.append(ds)
    data = xr.concat(parts, dim="sample")
    data.attrs["sites"] = [f"S{i}" for i in range(n_sites)]
    if model is not None:
        from .model import predict

        p = params or {"lam": 0.15, "par0": 800.0, "alpha": 0.25, "beta": 0.8}
        out = predict(model, p, data)
        for k in ("gpp", "reco"):
            data[k] = ("sample", out[k].values + rng.normal(0, noise, data.sizes["sample"]), {"units": "g m-2 d-1"})
        data["nee"] = ("sample", data["reco"].values - data["gpp"].values, {"units": "g m-2 d-1"})
    return data
