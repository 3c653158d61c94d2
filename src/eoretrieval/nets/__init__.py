"""Neural networks (PyTorch): SmaAt-UNet, conditional VAE, their objectives, the training loop, and the
NOx-study data pipeline and training command.

Importing this subpackage imports torch.

Modules: :mod:`~eoretrieval.nets.layers`, :mod:`~eoretrieval.nets.smaat_unet`, :mod:`~eoretrieval.nets.vae`,
:mod:`~eoretrieval.nets.train`, :mod:`~eoretrieval.nets.interface`, :mod:`~eoretrieval.nets.nox_data`,
:mod:`~eoretrieval.nets.nox_train`, :mod:`~eoretrieval.nets.nox_eval`.
"""

from .interface import MODELS, OBJECTIVES, get_model, get_objective, list_models, list_objectives
from .smaat_unet import SmaAtUNet
from .train import TrainResult, resolve_device, seed_everything, train
from .vae import ELBO, ConditionalVAE, Regression

__all__ = ["MODELS", "OBJECTIVES", "get_model", "get_objective", "list_models", "list_objectives",
           "SmaAtUNet", "ConditionalVAE", "ELBO", "Regression", "train", "TrainResult", "resolve_device",
           "seed_everything"]
