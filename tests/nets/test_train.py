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


def _cfm_setup():
    from eoretrieval.nets.flow_matching import ConditionalFlowMatcher
    from eoretrieval.nets.unet import UNet

    torch.manual_seed(0)
    model = UNet(3, 1, base_channels=4, channel_mults=(1, 2), time_embedding=True)
    return model, ConditionalFlowMatcher()


def test_val_seed_makes_a_stochastic_validation_loss_deterministic():
    """A flow-matching validation pass draws its own time and noise: two passes over the same weights differ unless
    ``val_seed`` fixes the draws, and a seeded pass leaves the caller's random stream where it was."""
    from eoretrieval.nets.train import _mean_loss
    from torch.utils.data import DataLoader, TensorDataset

    model, cfm = _cfm_setup()
    loader = DataLoader(TensorDataset(*_data(8, seed=1)), batch_size=4)
    a, b = (_mean_loss(model, cfm, loader, "cpu") for _ in range(2))
    assert a != b
    torch.manual_seed(5)
    s1 = _mean_loss(model, cfm, loader, "cpu", seed=7)
    after = torch.rand(3)
    torch.manual_seed(6)                         # another state of the caller's stream: the same seeded loss
    s2 = _mean_loss(model, cfm, loader, "cpu", seed=7)
    assert s1 == s2
    torch.manual_seed(5)
    assert torch.equal(torch.rand(3), after)     # the seeded pass did not advance the stream


def test_val_seed_leaves_the_training_stream_untouched():
    """With ``val_seed`` the training losses are those of a run without validation (same draws); without it the
    validation passes consume the stream and the training losses change."""
    def run(val, val_seed):
        model, cfm = _cfm_setup()
        res = train(model, cfm, _data(8), val, epochs=3, batch_size=4, seed=0, device="cpu", patience=None,
                    progress=False, val_seed=val_seed)
        return [h["train_loss"] for h in res.history], [h["val_loss"] for h in res.history]

    no_val, _ = run(None, None)
    seeded, vals = run(_data(4, seed=1), 11)
    legacy, _ = run(_data(4, seed=1), None)
    assert seeded == no_val
    assert legacy[1:] != no_val[1:]
    assert len(set(vals)) == 3
