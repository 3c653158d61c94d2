"""Scores at the scales users read: block/monthly means, source boxes, regional totals (hand-made fields)."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from eoretrieval.errors import DataError
from eoretrieval.nox.scales import (box_totals, cell_area, coarsen_monthly, regional_totals, source_boxes,
                                    source_totals_error)


def _field(values, time=None):
    ny, nx = values.shape[-2:]
    coords = {"lat": 30.0 + 0.25 * np.arange(ny), "lon": 110.0 + 0.25 * np.arange(nx)}
    dims = ("lat", "lon")
    if time is not None:
        coords["time"] = time
        dims = ("time",) + dims
    return xr.DataArray(values, dims=dims, coords=coords, attrs={"units": "mol m-2 s-1"}, name="emission")


def test_cell_area_sums_to_the_band_area():
    a = cell_area(_field(np.zeros((8, 8))))
    # 2 x 2 degree box from 29.875 to 31.875 N: R^2 * dlon * (sin(phi1) - sin(phi0))
    r = 6.371e6
    expected = r**2 * np.radians(2.0) * (np.sin(np.radians(31.875)) - np.sin(np.radians(29.875)))
    assert float(a.sum()) == pytest.approx(expected, rel=1e-12)


def test_coarsen_monthly_preserves_the_area_weighted_mean():
    time = pd.date_range("2022-01-01", "2022-02-28")
    rng = np.random.default_rng(0)
    e = _field(rng.uniform(0, 1, (len(time), 8, 8)), time)
    out = coarsen_monthly(e, factor=4)
    assert out.shape == (2, 2, 2) and out.attrs["units"] == "mol m-2 s-1"
    area = cell_area(e)
    jan = e.sel(time="2022-01").mean("time")
    block = (jan * area)[:4, :4].sum() / area[:4, :4].sum()
    assert float(out.isel(time=0, lat=0, lon=0)) == pytest.approx(float(block), rel=1e-12)


def test_source_boxes_do_not_overlap_and_find_the_largest():
    v = np.zeros((20, 20))
    v[5, 5], v[5, 6], v[15, 15] = 10.0, 9.0, 8.0  # (5, 6) is inside the first box: not a source of its own
    labels = source_boxes(_field(v), n=2, halfwidth=2)
    assert labels.values[5, 5] == 0 and labels.values[15, 15] == 1 and labels.values[5, 6] == 0
    assert (labels.values == 0).sum() == 25 and (labels.values == 1).sum() == 25
    small = np.zeros((5, 5))
    small[2, 2] = 1.0  # one box covers the whole 5 x 5 grid
    with pytest.raises(DataError, match="only 1 non-overlapping"):
        source_boxes(_field(small), n=2, halfwidth=2)


def test_source_totals_error_known_values():
    v = np.zeros((20, 20))
    v[5, 5], v[15, 15] = 10.0, 8.0
    truth = _field(v)
    pred = truth.copy()
    pred[5, 5], pred[5, 6] = 6.0, 4.0  # the first source smeared into a neighbour: box total unchanged
    pred[15, 15] = 12.0                # the second source 50 % too high
    out = source_totals_error(pred, truth, n=2)
    assert out["rel_err"][0] == pytest.approx(0.0, abs=1e-12) and out["rel_err"][1] == pytest.approx(0.5)
    assert out["abs_rel_err"] == pytest.approx(0.25)
    with pytest.raises(DataError, match="units"):
        box_totals(truth.assign_attrs(units="kg"), source_boxes(truth, n=1))


def test_regional_totals():
    e = _field(np.ones((8, 8)))
    out = regional_totals(e, {"south": (30.0, 30.75, 110.0, 111.75), "all": (0, 90, 0, 180)})
    area = cell_area(e)
    assert float(out.sel(region="south")) == pytest.approx(float(area[:4].sum()), rel=1e-12)
    assert float(out.sel(region="all")) == pytest.approx(float(area.sum()), rel=1e-12)
    with pytest.raises(DataError, match="contains no cell"):
        regional_totals(e, {"nowhere": (-10, -5, 0, 1)})
