"""Tests of the one greenness input."""

import numpy as np
import pytest
import xarray as xr

from eoretrieval.carbon.greenness import GREENNESS_INPUTS, greenness
from eoretrieval.errors import DataError


def test_every_input_from_reflectances():
    ds = xr.Dataset({"nir": ("t", [0.4]), "red": ("t", [0.1]), "blue": ("t", [0.03])})
    assert float(greenness(ds, "ndvi")[0]) == pytest.approx(0.6)
    assert float(greenness(ds, "nirv")[0]) == pytest.approx(0.24)
    assert float(greenness(ds, "kndvi")[0]) == pytest.approx(np.tanh(0.36))
    assert float(greenness(ds, "evi")[0]) == pytest.approx(2.5 * 0.3 / (0.4 + 0.6 - 0.225 + 1))
    assert set(GREENNESS_INPUTS) == {"evi", "ndvi", "nirv", "kndvi", "fapar"}


def test_bad_greenness():
    ds = xr.Dataset({"fapar": ("t", [45.0, 80.0], {"units": "1"})}, attrs={"source_file": "towers/X.csv"})
    with pytest.raises(DataError, match=r"towers/X.csv: greenness 'fapar' ranges 45..80"):
        greenness(ds, "fapar")
    with pytest.raises(DataError, match="not stored and cannot be derived"):
        greenness(ds, "evi")
    with pytest.raises(ValueError, match="unknown greenness"):
        greenness(ds, "lai")
    with pytest.raises(DataError, match="units"):
        greenness(xr.Dataset({"fapar": ("t", [0.5], {"units": "%"})}), "fapar")
