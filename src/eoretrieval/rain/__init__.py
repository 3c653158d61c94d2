"""Rain retrieval studies: rain from geostationary infrared (study 3) and from passive microwave (study 4).

Modules (import them directly; this package imports nothing so that its studies stay independent):

- :mod:`~eoretrieval.rain.ir_operator` — IR forward operator, real rain sequences → SEVIRI-like channels;
- :mod:`~eoretrieval.rain.seviri_data` — radar sequences → model-grid rain and (IR, rain) samples;
- :mod:`~eoretrieval.rain.seviri_train` — training command ``python -m eoretrieval.train rain_seviri``;
- :mod:`~eoretrieval.rain.seviri_eval` — inference, ensembles and the evaluation of study 3;
- :mod:`~eoretrieval.rain.targets` — the studies' targets;
- :mod:`~eoretrieval.rain.gmi_simulator`, :mod:`~eoretrieval.rain.gmi_data`, :mod:`~eoretrieval.rain.climate` —
  study 4 (GMI-like microwave simulator, its data sets and climate regimes).
"""
