import pandas as pd
import pytest

from eoretrieval.nox.realism import roundtrip_days
from eoretrieval.nox.world import split_days


@pytest.mark.parametrize("history,block", [(1, 1), (6, 3)])
def test_roundtrip_days_hold_the_history_the_inputs_need(nox_world, history, block):
    days, with_history = roundtrip_days(nox_world, 4, history=history, block=block)
    test = split_days(nox_world, "test")
    assert len(days) == 4 and days.isin(test).all()
    for d in days:
        for k in range(history + 1):
            assert d - pd.Timedelta(days=k) in with_history
    assert len(with_history) <= len(days) * (history + 1)
    if block > 1:   # runs of consecutive days share their history: fewer files to write
        assert len(with_history) < len(days) * (history + 1)


def test_roundtrip_takes_either_a_number_of_days_or_the_days(nox_world, tmp_path):
    from eoretrieval.nox.realism import roundtrip
    for kwargs in ({}, {"n_days": 3, "days": nox_world["time"].values[5:8]}):
        with pytest.raises(ValueError, match="either n_days or days"):
            roundtrip(nox_world, tmp_path / "no-artifact", tmp_path / "l2", **kwargs)
