"""Summaries of the tabular NOx proxies (power plants, cities) as labelled data.

Public names: :func:`summarise_power_plants`, :func:`summarise_cities`.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from .checks import require_variables

__all__ = ["summarise_power_plants", "summarise_cities"]


def summarise_power_plants(plants: xr.Dataset) -> xr.Dataset:
    """Count plants and sum capacity by fuel.

    Parameters
    ----------
    plants : xr.Dataset
        The ``power_plants_china`` catalog entry (variables ``Fuel``, ``Capacity_MW``; dim ``record``).

    Returns
    -------
    xr.Dataset
        Dim ``fuel``; ``n_plants`` (count) and ``capacity_gw`` (GW), sorted by capacity. Attributes
        ``n_coal`` and ``coal_capacity_gw``.

    Examples
    --------
    >>> import xarray as xr
    >>> ds = xr.Dataset({"Fuel": ("record", ["Coal", "Coal", "Wind"]), "Capacity_MW": ("record", [600.0, 400.0, 50.0])})
    >>> s = summarise_power_plants(ds)
    >>> float(s.attrs["coal_capacity_gw"]), int(s.attrs["n_coal"])
    (1.0, 2)
    """
    require_variables(plants, ["Fuel", "Capacity_MW"])
    df = plants[["Fuel", "Capacity_MW"]].to_dataframe()
    table = df.groupby("Fuel")["Capacity_MW"].agg(["count", "sum"]).sort_values("sum", ascending=False)
    out = xr.Dataset(
        {"n_plants": ("fuel", table["count"].to_numpy(), {"units": "1", "long_name": "number of plants"}),
         "capacity_gw": ("fuel", table["sum"].to_numpy() / 1e3, {"units": "GW", "long_name": "installed capacity"})},
        coords={"fuel": table.index.to_numpy().astype(str)},
    )
    coal = table.loc["Coal"] if "Coal" in table.index else {"count": 0, "sum": 0.0}
    out.attrs.update(n_coal=int(coal["count"]), coal_capacity_gw=float(coal["sum"]) / 1e3)
    return out


def summarise_cities(cities: xr.Dataset, *, iso3: str | None = None) -> xr.Dataset:
    """Select cities (optionally of one country, ISO 3166 alpha-3) and record count and total population.

    Returns
    -------
    xr.Dataset
        The selected records, with attributes ``n_cities`` and ``population_total`` (persons).
    """
    require_variables(cities, ["population", "iso3"])
    sel = cities if iso3 is None else cities.where(cities["iso3"] == iso3, drop=True)
    pop = sel["population"].values.astype(float)
    sel.attrs.update(n_cities=int(sel.sizes["record"]), population_total=float(np.nansum(pop)))
    return sel
