"""Neural networks (PyTorch): architectures, objectives (classes that do not own the network), a generic
normalisation and the one training loop, shared by every study.

Importing this subpackage imports torch. Study-specific data pipelines, training commands and evaluation live in
the domain packages (e.g. :mod:`eoretrieval.nox.features`, :mod:`eoretrieval.nox.train`).

Modules: :mod:`~eoretrieval.nets.layers`, :mod:`~eoretrieval.nets.smaat_unet`, :mod:`~eoretrieval.nets.unet`,
:mod:`~eoretrieval.nets.vae`, :mod:`~eoretrieval.nets.objectives`, :mod:`~eoretrieval.nets.diffusion`,
:mod:`~eoretrieval.nets.flow_matching`, :mod:`~eoretrieval.nets.quantile`, :mod:`~eoretrieval.nets.normalisation`,
:mod:`~eoretrieval.nets.train`, :mod:`~eoretrieval.nets.interface` (registries).
"""

from .interface import MODELS, OBJECTIVES, get_model, get_objective, list_models, list_objectives
from .smaat_unet import SmaAtUNet
from .train import TrainResult, resolve_device, seed_everything, train
from .objectives import ELBO, Regression
from .vae import ConditionalVAE

__all__ = ["MODELS", "OBJECTIVES", "get_model", "get_objective", "list_models", "list_objectives",
           "SmaAtUNet", "ConditionalVAE", "ELBO", "Regression", "train", "TrainResult", "resolve_device",
           "seed_everything"]
