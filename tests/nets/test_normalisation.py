import numpy as np
import pytest

from eoretrieval.errors import DataError
from eoretrieval.nets.normalisation import Normalisation


def _inputs():
    rng = np.random.default_rng(0)
    a = rng.normal(5.0, 2.0, (50, 1, 4, 4))
    mask = (rng.uniform(size=(50, 1, 4, 4)) > 0.5).astype(float)
    return np.concatenate([a, mask], axis=1)


def test_fit_apply_standardises_only_named_channels():
    x = _inputs()
    norm = Normalisation.fit(x, ["tb", "mask"], normalise=["tb"], target=np.arange(10.0))
    z = norm.apply(x)
    assert z[:, 0].mean() == pytest.approx(0.0, abs=1e-5) and z[:, 0].std() == pytest.approx(1.0, rel=1e-4)
    np.testing.assert_array_equal(z[:, 1], x[:, 1])
    assert norm.target_scale == pytest.approx(np.std(np.arange(10.0)))
    assert z.dtype == np.float32


def test_shared_source_and_json_round_trip(tmp_path):
    norm = Normalisation(channels=["no2", "no2_prev"], offset={"no2_column": 1.0}, scale={"no2_column": 2.0},
                         sources={"no2": "no2_column", "no2_prev": "no2_column"})
    z = norm.apply(np.full((1, 2, 1, 1), 5.0))
    assert z.ravel().tolist() == [2.0, 2.0]
    again = Normalisation.from_json(norm.to_json(tmp_path / "n.json"))
    assert again == norm


def test_bad_input_is_named(tmp_path):
    with pytest.raises(ValueError, match="expected \\(sample, 3 channels"):
        Normalisation.fit(_inputs(), ["a", "b", "c"])
    with pytest.raises(ValueError, match="no finite value"):
        Normalisation.fit(np.full((2, 1, 2, 2), np.nan), ["a"])
    norm = Normalisation.fit(_inputs(), ["tb", "mask"])
    with pytest.raises(ValueError, match="fitted on 2 channels"):
        norm.apply(np.zeros((1, 3, 2, 2)))
    (tmp_path / "bad.json").write_text('{"channels": []}')
    with pytest.raises(DataError, match="bad.json"):
        Normalisation.from_json(tmp_path / "bad.json")
