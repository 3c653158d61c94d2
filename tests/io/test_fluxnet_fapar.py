"""Tests of the fluxnet_fapar reader on the shipped folder and on corrupted copies."""

import gzip
import shutil

import numpy as np
import pandas as pd
import pytest

from eoretrieval.config import data_dir
from eoretrieval.errors import DataError
from eoretrieval.io import fluxnet_fapar as ff
from eoretrieval.io import open_entry

FOLDER = data_dir() / "fluxnet_fapar"


def test_sites_table_matches_source_md():
    t = ff.read_fluxnet_fapar_sites(FOLDER / "sites.csv")
    assert t.sizes["site"] == 42
    counts = pd.Series(t["igbp"].values).value_counts().to_dict()
    assert counts == {"ENF": 25, "DBF": 12, "MF": 5}
    assert t["whc"].attrs["units"] == "mm" and t["lat"].attrs["units"] == "degrees_north"


def test_daily_file_units_and_values():
    ds = ff.read_fluxnet_fapar_daily(FOLDER / "DE-Tha_daily_fapar.csv.gz", site="DE-Tha")
    raw = pd.read_csv(FOLDER / "DE-Tha_daily_fapar.csv.gz")
    assert ds.sizes["time"] == len(raw) == 4018
    np.testing.assert_array_equal(ds["GPP"].values, raw["GPP_gC_m2_d"].to_numpy())
    assert ds["PPFD"].attrs["units"] == "mol m-2 s-1" and ds["FAPAR"].attrs["units"] == "1"
    assert str(ds["time"].values[0])[:10] == "2003-01-01"


def test_raw_fapar_fill_codes_become_missing():
    ds = ff.read_fluxnet_fapar_daily(FOLDER / "FI-Sod_daily_fapar.csv.gz")
    raw = pd.read_csv(FOLDER / "FI-Sod_daily_fapar.csv.gz")["FAPAR_MODIS_raw"]
    n_fill = int(((raw > 2.485) & (raw <= 2.55 + 1e-6)).sum())
    assert n_fill > 0 and ds["FAPAR_raw"].attrs["modis_fill_codes_set_missing"] == n_fill
    assert float(ds["FAPAR_raw"].max()) <= 1.0


def test_folder_reader_and_catalog():
    ds = open_entry("fluxnet_fapar_forest_towers")
    assert ds.sizes["site"] == 42 and ds.sizes["time"] == 4383
    assert int(np.isfinite(ds["GPP"].sel(site="US-Wi3").values).sum()) == 0  # SOURCE.md: US-Wi3 has no GPP
    assert ds["igbp"].sel(site="DE-Hai").item() == "DBF"


def test_file_of_another_tower(tmp_path):
    with pytest.raises(DataError, match=r"belongs to tower 'DE-Tha', but tower 'DE-Hai'"):
        ff.read_fluxnet_fapar_daily(FOLDER / "DE-Tha_daily_fapar.csv.gz", site="DE-Hai")
    bad = tmp_path / "tharandt.csv.gz"
    shutil.copy(FOLDER / "DE-Tha_daily_fapar.csv.gz", bad)
    with pytest.raises(DataError, match="file name does not follow"):
        ff.read_fluxnet_fapar_daily(bad)


def _copy_folder(tmp_path, sites=("DE-Tha", "DE-Hai", "DK-Sor")):
    d = tmp_path / "towers"
    d.mkdir(parents=True)
    tab = pd.read_csv(FOLDER / "sites.csv")
    tab[tab["site"].isin(sites)].to_csv(d / "sites.csv", index=False)
    for s in sites:
        shutil.copy(FOLDER / f"{s}_daily_fapar.csv.gz", d)
    return d


def test_percent_fapar_is_refused(tmp_path):
    d = _copy_folder(tmp_path)
    df = pd.read_csv(d / "DE-Hai_daily_fapar.csv.gz")
    df["FAPAR_MODIS_interp"] *= 100
    with gzip.open(d / "DE-Hai_daily_fapar.csv.gz", "wt") as f:
        df.to_csv(f, index=False)
    with pytest.raises(DataError, match=r"DE-Hai_daily_fapar.csv.gz \(tower DE-Hai\): FAPAR_MODIS_interp .*0-1 fraction"):
        ff.read_fluxnet_fapar(d)


@pytest.mark.parametrize("col, factor, offset, expected", [
    ("TA_degC", 1.0, 273.15, "kelvin"), ("PA_Pa", 0.01, 0.0, "hPa or kPa"),
    ("PPFD_mol_m2_s", 1e6, 0.0, "umol"), ("P_kg_m2_s", 86400.0, 0.0, "mm per day"), ("VPD_Pa", 0.01, 0.0, "hPa or kPa"),
])
def test_drivers_in_other_units_are_refused(tmp_path, col, factor, offset, expected):
    d = _copy_folder(tmp_path)
    df = pd.read_csv(d / "DE-Hai_daily_fapar.csv.gz")
    df[col] = df[col] * factor + offset
    with gzip.open(d / "DE-Hai_daily_fapar.csv.gz", "wt") as f:
        df.to_csv(f, index=False)
    with pytest.raises(DataError, match=rf"DE-Hai_daily_fapar.csv.gz \(tower DE-Hai\): {col} .*{expected}"):
        ff.read_fluxnet_fapar(d)


def test_missing_tower_file_and_orphan(tmp_path):
    d = _copy_folder(tmp_path)
    (d / "DK-Sor_daily_fapar.csv.gz").unlink()
    with pytest.raises(DataError, match=r"DK-Sor_daily_fapar.csv.gz: daily file of tower 'DK-Sor'"):
        ff.read_fluxnet_fapar(d)
    d2 = _copy_folder(tmp_path / "b")
    shutil.copy(FOLDER / "FI-Hyy_daily_fapar.csv.gz", d2)
    with pytest.raises(DataError, match=r"tower files \['FI-Hyy'\] have no row"):
        ff.read_fluxnet_fapar(d2)
    with pytest.raises(DataError, match=r"tower\(s\) \['XX-Yyy'\] not listed"):
        ff.read_fluxnet_fapar(_copy_folder(tmp_path / "c"), sites=["XX-Yyy"])


def test_missing_column(tmp_path):
    d = _copy_folder(tmp_path)
    df = pd.read_csv(d / "DE-Tha_daily_fapar.csv.gz").drop(columns=["PPFD_mol_m2_s"])
    with gzip.open(d / "DE-Tha_daily_fapar.csv.gz", "wt") as f:
        df.to_csv(f, index=False)
    with pytest.raises(DataError, match=r"tower DE-Tha\): columns \['PPFD_mol_m2_s'\] missing"):
        ff.read_fluxnet_fapar_daily(d / "DE-Tha_daily_fapar.csv.gz")
