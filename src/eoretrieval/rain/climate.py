"""Climate regimes for the GMI study: a present climate for training, warmer ones (+2 K, +4 K) for testing.

A regime warms the surface by :math:`\\Delta T`, moistens the column at fixed relative humidity
(Clausius–Clapeyron, :math:`\\alpha \\approx 7\\,\\%\\,K^{-1}`), lifts the freezing level by
:math:`\\Delta T / \\Gamma` (:math:`\\Gamma = 6.5` K km-1) and intensifies rain so that the heaviest rates
follow Clausius–Clapeyron while light rain barely changes :cite:`trenberth2003,westra2014`:

.. math:: R' = R\\,(1 + \\alpha)^{\\Delta T\\, w(R)},\\qquad w(R) = \\frac{R}{R + R_{1/2}}

so the climate signal in the extremes is known exactly: :func:`true_scaling` measures it on the fields.

:data:`CONTROL_REGIMES` warm and moisten the environment as ``plus4K`` does but intensify the rain at another rate
(``rain_alpha``: none at all, or twice Clausius–Clapeyron as observed for hourly convective extremes
:cite:`lenderink2008`): a retrieval that reads the scaling from the brightness temperatures follows them; one that
learned the training's warming law from the environment does not.

Public names: :data:`REGIMES`, :data:`CONTROL_REGIMES`, :class:`Regime`, :func:`get_regime`, :func:`apply_regime`,
:func:`true_scaling`, :func:`scaling_pct_per_k`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from ..io.checks import require_units
from ..conventions import UNITS

__all__ = ["Regime", "REGIMES", "CONTROL_REGIMES", "get_regime", "apply_regime", "true_scaling", "scaling_pct_per_k", "CC_RATE",
           "LAPSE_RATE"]

#: Clausius–Clapeyron rate of saturation vapour pressure near 290 K (fraction per K) :cite:`trenberth2003`.
CC_RATE = 0.07
#: Moist-adiabatic-like lapse rate used to lift the freezing level (K km-1).
LAPSE_RATE = 6.5


@dataclass(frozen=True)
class Regime:
    """A climate regime: warming ``delta_t`` (K), CC rate ``alpha`` (K-1) of the column's moisture, half-weight rain
    rate (mm h-1), and ``rain_alpha`` (K-1), the rate at which the heaviest rain intensifies (``alpha`` if None)."""

    name: str
    delta_t: float
    alpha: float = CC_RATE
    r_half: float = 3.0
    rain_alpha: float | None = None

    @property
    def rain_rate(self) -> float:
        """The intensification rate of the heaviest rain (K-1)."""
        return self.alpha if self.rain_alpha is None else self.rain_alpha


#: The three regimes of the study.
REGIMES: dict[str, Regime] = {"present": Regime("present", 0.0), "plus2K": Regime("plus2K", 2.0),
                              "plus4K": Regime("plus4K", 4.0)}

#: Controls: +4 K environments whose rain does not intensify, or intensifies at twice the CC rate.
CONTROL_REGIMES: dict[str, Regime] = {"plus4K_rain0": Regime("plus4K_rain0", 4.0, rain_alpha=0.0),
                                      "plus4K_rain14": Regime("plus4K_rain14", 4.0, rain_alpha=2 * CC_RATE)}


def get_regime(name: str) -> Regime:
    """Return the regime ``name`` (``present``, ``plus2K``, ``plus4K`` or a control regime; case-insensitive).

    Raises
    ------
    ValueError
        If the name is unknown; the message lists the valid names.
    """
    for key, reg in {**REGIMES, **CONTROL_REGIMES}.items():
        if key.lower() == str(name).lower():
            return reg
    raise ValueError(f"unknown climate regime {name!r}; valid regimes: {list(REGIMES) + list(CONTROL_REGIMES)}")


def apply_regime(rain: xr.DataArray, env: xr.Dataset, regime: str | Regime) -> tuple[xr.DataArray, xr.Dataset]:
    """Return rain and environment of ``regime`` built from present-climate ``rain`` and ``env``.

    Parameters
    ----------
    rain : xr.DataArray
        Present-climate rain rate, units ``mm h-1``.
    env : xr.Dataset
        From :func:`eoretrieval.rain.gmi_simulator.make_environment`.
    regime : str or Regime

    Returns
    -------
    (xr.DataArray, xr.Dataset)
        New objects (inputs are not modified); ``attrs["regime"]`` and ``attrs["delta_t"]`` set.

    Raises
    ------
    ValueError
        If ``rain`` is not in ``mm h-1``.

    Examples
    --------
    >>> import xarray as xr, numpy as np
    >>> r = xr.DataArray(np.array([0.0, 1000.0]), dims="x", attrs={"units": "mm h-1"})
    >>> env = xr.Dataset({"surface_temperature": ((), 290.0), "tcwv": ((), 30.0), "freezing_level": ((), 2.6)})
    >>> r4, e4 = apply_regime(r, env, "plus4K")
    >>> float(r4[0]), round(float(r4[1] / r[1]), 3), float(e4["surface_temperature"])
    (0.0, 1.31, 294.0)
    """
    reg = regime if isinstance(regime, Regime) else get_regime(regime)
    require_units(rain, UNITS["rain_rate"], source="apply_regime: rain")
    r = rain.clip(min=0.0)
    w = r / (r + reg.r_half)
    new_rain = (r * (1.0 + reg.rain_rate) ** (reg.delta_t * w)).astype(rain.dtype)
    new_rain.attrs = dict(rain.attrs, regime=reg.name, delta_t=reg.delta_t)
    new_rain.name = rain.name
    new_env = env.copy(deep=True)
    new_env["surface_temperature"] = env["surface_temperature"] + reg.delta_t
    new_env["tcwv"] = env["tcwv"] * (1.0 + reg.alpha) ** reg.delta_t
    new_env["freezing_level"] = env["freezing_level"] + reg.delta_t / LAPSE_RATE
    for name in ("surface_temperature", "tcwv", "freezing_level"):
        new_env[name].attrs = dict(env[name].attrs)
    new_env.attrs = dict(env.attrs, regime=reg.name, delta_t=reg.delta_t)
    return new_rain, new_env


def scaling_pct_per_k(value_warm: float, value_present: float, delta_t: float) -> float:
    """Return the scaling rate in % K-1: :math:`100\\,[(v_w / v_p)^{1/\\Delta T} - 1]`.

    Examples
    --------
    >>> round(scaling_pct_per_k(1.07 ** 4, 1.0, 4.0), 6)
    7.0
    """
    if delta_t == 0:
        raise ValueError("scaling_pct_per_k: delta_t must be non-zero")
    if value_present <= 0 or value_warm <= 0:
        return float("nan")
    return 100.0 * ((value_warm / value_present) ** (1.0 / delta_t) - 1.0)


def true_scaling(rain_present: xr.DataArray, rain_warm: xr.DataArray, delta_t: float, *, q: float = 0.999,
                 wet_threshold: float = 0.1) -> float:
    """Return the scaling (% K-1) of the ``q`` quantile of wet pixels between two climates.

    Quantiles are taken over all pixels above ``wet_threshold`` mm h-1.
    """
    qp = float(np.quantile(rain_present.values[rain_present.values > wet_threshold], q))
    qw = float(np.quantile(rain_warm.values[rain_warm.values > wet_threshold], q))
    return scaling_pct_per_k(qw, qp, delta_t)
