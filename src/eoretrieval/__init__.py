"""eoretrieval: the thin library behind the Earth-observation retrieval compendium.

Importing the package is cheap: it does not import torch, cartopy or seaborn.
Layers (import-linter contracts in pyproject.toml):

- core: :mod:`~eoretrieval.conventions`, :mod:`~eoretrieval.errors`, :mod:`~eoretrieval.config`,
  :mod:`~eoretrieval.registry`, :mod:`~eoretrieval.provenance`, :mod:`~eoretrieval.artifacts`,
  :mod:`~eoretrieval.targets`
- shared layers: :mod:`eoretrieval.io` (catalog, readers of real formats, input checks), :mod:`eoretrieval.verify`
  (metrics over labelled data), :mod:`eoretrieval.plot` (house style, maps, figure provenance),
  :mod:`eoretrieval.nets` (torch: architectures, objectives, normalisation, the training loop)
- domains: :mod:`eoretrieval.nox` (studies 1-2, NOx emissions), :mod:`eoretrieval.rain` (studies 3-4, rain from
  infrared and microwave radiometers), :mod:`eoretrieval.carbon` (study 5, VPRM and its upgrades)
- commands: ``run``, ``book``, ``bookdata``, ``bookapi``, ``results``, ``train``
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
