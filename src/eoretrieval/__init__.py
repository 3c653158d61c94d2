"""eoretrieval: the thin library behind the Earth-observation retrieval compendium.

Importing the package is cheap: it does not import torch, cartopy or seaborn.
Subpackages:

- :mod:`eoretrieval.io`        catalog access and readers of real formats, with input checks
- :mod:`eoretrieval.osse`      synthetic worlds whose truth is known
- :mod:`eoretrieval.nets`      neural networks, objectives and the one training loop (torch)
- :mod:`eoretrieval.baselines` physics and classic methods the networks must beat
- :mod:`eoretrieval.carbon`    VPRM and its upgrades
- :mod:`eoretrieval.verify`    metrics over labelled xarray data
- :mod:`eoretrieval.plot`      house style, maps and figure provenance
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
