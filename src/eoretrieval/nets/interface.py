"""Registries of networks and objectives: names (papermill parameters are strings) to classes.

Public names: :data:`MODELS`, :data:`OBJECTIVES`, :func:`get_model`, :func:`list_models`,
:func:`get_objective`, :func:`list_objectives`.
"""

from __future__ import annotations

from ..registry import Registry
from .smaat_unet import SmaAtUNet
from .unet import UNet
from .diffusion import GaussianDiffusion
from .flow_matching import ConditionalFlowMatcher, ResidualFlowMatcher
from .objectives import ELBO, Regression
from .quantile import BalancedMSE, FocalR, QuantileLoss, TailMSE, WeightedMSE
from .vae import ConditionalVAE

__all__ = ["MODELS", "OBJECTIVES", "get_model", "list_models", "get_objective", "list_objectives"]

#: model name -> class
MODELS: Registry[type] = Registry("model", {
    "smaat_unet": SmaAtUNet,
    "unet": UNet,
    "vae": ConditionalVAE,
})

#: objective name -> class
OBJECTIVES: Registry[type] = Registry("objective", {
    "regression": Regression,
    "ddpm": GaussianDiffusion,
    "cfm": ConditionalFlowMatcher,
    "residual_cfm": ResidualFlowMatcher,
    "elbo": ELBO,
    "quantile": QuantileLoss,
    "weighted_mse": WeightedMSE,
    "balanced_mse": BalancedMSE,
    "focal_r": FocalR,
    "tail_mse": TailMSE,
})


def get_model(name: str) -> type:
    """Return the model class registered under ``name`` (case-insensitive).

    Raises
    ------
    ValueError
        If ``name`` is unknown; the message lists the valid names.

    Examples
    --------
    >>> get_model("smaat_unet").__name__
    'SmaAtUNet'
    """
    return MODELS.get(name)


def list_models() -> list[str]:
    """Return the registered model names, sorted."""
    return MODELS.names()


def get_objective(name: str) -> type:
    """Return the objective class registered under ``name`` (case-insensitive).

    Raises
    ------
    ValueError
        If ``name`` is unknown; the message lists the valid names.
    """
    return OBJECTIVES.get(name)


def list_objectives() -> list[str]:
    """Return the registered objective names, sorted."""
    return OBJECTIVES.names()
