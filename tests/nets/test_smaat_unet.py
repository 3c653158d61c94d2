import pytest
import torch

from eoretrieval.nets import SmaAtUNet, get_model, list_models


@pytest.mark.parametrize("shape, depth", [((2, 5, 32, 32), 4), ((1, 5, 19, 23), 3), ((3, 5, 16, 16), 1)])
def test_output_shape(shape, depth):
    model = SmaAtUNet(shape[1], 2, base_channels=8, depth=depth, reduction=4)
    assert model(torch.randn(shape)).shape == (shape[0], 2, *shape[2:])


def test_registry():
    assert get_model("SmaAt_UNet") is SmaAtUNet
    assert {"smaat_unet", "vae"} <= set(list_models())
    with pytest.raises(ValueError, match="valid models"):
        get_model("unet9000")


def test_overfits_one_batch():
    torch.manual_seed(0)
    model = SmaAtUNet(3, 1, base_channels=8, depth=2, reduction=4)
    x = torch.randn(4, 3, 16, 16)
    y = torch.tanh(x[:, :1]) + 0.5 * x[:, 1:2].roll(1, dims=-1)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    first = None
    for _ in range(150):
        loss = torch.nn.functional.mse_loss(model(x), y)
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.1 * first
