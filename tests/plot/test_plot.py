"""Tests of the plotting helpers: offline maps, colour-bar units, figure provenance."""

import json

import matplotlib

matplotlib.use("Agg")  # tests only; notebooks keep the inline backend

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import xarray as xr  # noqa: E402

from eoretrieval.errors import DataError  # noqa: E402
from eoretrieval.plot import map_axes, plot_map, plot_wind, regeneration_command, save_figure, use_style  # noqa: E402


@pytest.fixture
def field():
    return xr.DataArray(np.arange(12.0).reshape(3, 4), dims=("lat", "lon"),
                        coords={"lat": [30.0, 31.0, 32.0], "lon": [110.0, 111.0, 112.0, 113.0]},
                        name="emission", attrs={"units": "mol m-2 s-1", "long_name": "NOx emission"})


def test_map_draws_offline_with_unit_label(field, monkeypatch):
    import cartopy.io

    def no_download(*args, **kwargs):
        raise AssertionError("cartopy tried to download Natural Earth")

    monkeypatch.setattr(cartopy.io.Downloader, "acquire_resource", no_download)
    use_style()
    fig, axes = map_axes(1, 1, extent=(109, 114, 29, 33))
    plot_map(axes[0, 0], field)
    fig.canvas.draw()
    labels = [a.get_ylabel() for a in fig.axes]
    assert "NOx emission [mol m-2 s-1]" in labels
    plt.close(fig)


def test_plot_map_rejects_wrong_dims(field):
    fig, axes = map_axes(1, 1)
    with pytest.raises(DataError, match="must be 2-D with lat/lon"):
        plot_map(axes[0, 0], field.expand_dims(time=2))
    with pytest.raises(DataError, match="expected 'm s-1'"):
        plot_wind(axes[0, 0], field, field)
    plt.close(fig)


def test_save_figure_writes_provenance(tmp_path, field):
    inp = tmp_path / "input.txt"
    inp.write_text("x")
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    png = save_figure(fig, "demo", output_dir=tmp_path, notebook="01_nox_osse.ipynb",
                      parameters={"profile": "ci", "seed": 1, "output_dir": "x"}, inputs=[inp], caption="A line.")
    record = json.loads(png.with_suffix(".json").read_text())
    assert png.exists() and png.stat().st_size > 1000
    assert record["command"] == "python -m eoretrieval.run 01_nox_osse -p profile ci -p seed 1"
    assert record["inputs"][str(inp)] == "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"
    assert record["caption"] == "A line." and "git_commit" in record
    plt.close(fig)


def test_regeneration_command_quotes_values():
    cmd = regeneration_command("x.ipynb", {"sites": ["CH-Oe2", "US-PFa"]})
    assert cmd == """python -m eoretrieval.run x -p sites '["CH-Oe2", "US-PFa"]'"""
