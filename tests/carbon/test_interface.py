"""Tests of the model registry and predict()."""

import numpy as np
import pytest

from eoretrieval.carbon import interface
from eoretrieval.carbon.synthetic import make_synthetic_sites


def test_registry():
    assert interface.list_models()[0] == "vprm" and "vprm_plus" in interface.list_models()
    assert interface.get_model("VPRM_Plus").respiration == "pools"
    with pytest.raises(ValueError, match=r"unknown model 'nope'; valid models: \["):
        interface.get_model("nope")


@pytest.mark.parametrize("name", interface.list_models())
def test_every_variant_predicts_with_sign_convention(name):
    data = make_synthetic_sites(n_months=24, model=None)
    spec = interface.param_spec(interface.get_model(name))
    out = interface.predict(name, {p[0]: p[1] for p in spec}, data)
    assert out["nee"].attrs["units"] == "g m-2 d-1"
    np.testing.assert_allclose(out["nee"].values, out["reco"].values - out["gpp"].values)
    assert np.isfinite(out["gpp"].values).all() and (out["gpp"].values >= 0).all()
    for p in spec:
        assert p[2] <= p[1] <= p[3]
