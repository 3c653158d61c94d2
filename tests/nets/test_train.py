import csv

import pytest
import torch

from eoretrieval.nets import Regression, SmaAtUNet, resolve_device, train


def _data(n=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    cond = torch.randn(n, 2, 8, 8, generator=g)
    return cond[:, :1] * 2.0, cond


def _model(seed=0):
    torch.manual_seed(seed)
    return SmaAtUNet(2, 1, base_channels=4, depth=2, reduction=2)


def test_same_seed_same_weights():
    a, b = _model(), _model()
    for m in (a, b):
        train(m, Regression(), _data(), epochs=1, batch_size=4, seed=3, device="cpu", max_steps=2, progress=False)
    for pa, pb in zip(a.state_dict().values(), b.state_dict().values()):
        assert torch.equal(pa, pb)


def test_checkpoint_and_log(tmp_path):
    model = _model()
    result = train(model, Regression(), _data(), _data(4, seed=1), epochs=3, batch_size=4, seed=0, device="cpu",
                   checkpoint=tmp_path / "best.pt", log_csv=tmp_path / "log.csv", progress=False)
    assert result.epochs_run == 3 and 1 <= result.best_epoch <= 3
    with open(tmp_path / "log.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 3 and set(rows[0]) == {"epoch", "train_loss", "val_loss", "lr", "seconds", "best"}
    reloaded = _model(seed=99)
    reloaded.load_state_dict(torch.load(tmp_path / "best.pt", weights_only=True))
    for k, v in model.state_dict().items():  # the model holds the best weights, as the checkpoint does
        assert torch.equal(v, reloaded.state_dict()[k])


def test_loss_decreases():
    model = _model()
    result = train(model, Regression(), _data(16), epochs=30, batch_size=4, lr=1e-2, seed=0, device="cpu",
                   patience=None, progress=False)
    assert result.history[-1]["train_loss"] < 0.5 * result.history[0]["train_loss"]


def test_device():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type in ("cpu", "cuda")
    with pytest.raises(ValueError, match="valid"):
        resolve_device("tpu")
