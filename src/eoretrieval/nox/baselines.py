"""Registry of the emission baselines of Study 1.

Every entry has the signature ``f(world, days=None, **kwargs) -> xr.DataArray`` (emission,
mol m-2 s-1, dims (time, lat, lon)), where ``world`` is a NOx world
(:func:`eoretrieval.nox.make_nox_world`) and ``days`` selects days (None, "train"/"val"/"test",
"YYYY-MM-DD/YYYY-MM-DD", a slice or dates).

===================  ========================================================
name                 method
===================  ========================================================
prior                climatological prior inventory (:func:`prior_emission`)
column_scaling       constant x NO2 column, fitted on training days
flux_divergence      Beirle et al. (2019) flux divergence
flux_divergence_7d   its trailing 7-day mean (the networks' observation window)
variational          4D-Var-style inversion on equal information (own analyses)
memorisation         training-period mean of the true map, no observation (null baseline)
===================  ========================================================

Public names: :func:`get_baseline`, :func:`list_baselines`.
"""

from __future__ import annotations

from typing import Callable

from eoretrieval.nox.flux_divergence import flux_divergence_trailing, flux_divergence_world
from eoretrieval.registry import Registry
from eoretrieval.nox.prior import column_scaling, memorisation, prior_emission
from eoretrieval.nox.variational import variational_inversion

__all__ = ["get_baseline", "list_baselines"]

_BASELINES: Registry[Callable] = Registry("baseline", {
    "prior": prior_emission,
    "column_scaling": column_scaling,
    "flux_divergence": flux_divergence_world,
    "flux_divergence_7d": flux_divergence_trailing,
    "variational": variational_inversion,
    "memorisation": memorisation,
})


def list_baselines() -> list[str]:
    """Names of the registered baselines."""
    return _BASELINES.names()


def get_baseline(name: str) -> Callable:
    """Return the baseline called ``name`` (case-insensitive).

    Raises
    ------
    ValueError
        Unknown name; the message lists the valid names.
    """
    return _BASELINES.get(name)
