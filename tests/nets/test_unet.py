"""Tests of eoretrieval.nets.unet: shapes, time conditioning, a few-step overfit."""

import pytest

torch = pytest.importorskip("torch")

from eoretrieval.nets.unet import UNet  # noqa: E402


@pytest.mark.parametrize("shape, mults", [((2, 3, 16, 16), (1, 2, 4)), ((1, 5, 13, 11), (1, 2)),
                                          ((3, 1, 8, 8), (1,))])
@pytest.mark.parametrize("temb", [False, True])
def test_output_shape(shape, mults, temb):
    net = UNet(shape[1], 2, base_channels=8, channel_mults=mults, time_embedding=temb)
    t = torch.rand(shape[0]) if temb else None
    out = net(torch.randn(*shape), t)
    assert out.shape == (shape[0], 2, shape[2], shape[3])


def test_time_changes_output_and_is_required():
    torch.manual_seed(0)
    net = UNet(2, 1, base_channels=8, channel_mults=(1, 2), time_embedding=True)
    x = torch.randn(1, 2, 8, 8)
    a, b = net(x, torch.tensor([0.1])), net(x, torch.tensor([0.9]))
    assert not torch.allclose(a, b)
    with pytest.raises(ValueError, match="time_embedding"):
        net(x)


def test_bad_arguments():
    with pytest.raises(ValueError, match="channel_mults"):
        UNet(1, 1, channel_mults=())


def test_overfits_a_batch():
    torch.manual_seed(0)
    net = UNet(1, 1, base_channels=8, channel_mults=(1, 2))
    x = torch.randn(4, 1, 8, 8)
    y = torch.roll(x, 1, dims=-1) * 2.0
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    first = None
    for _ in range(150):
        loss = ((net(x) - y) ** 2).mean()
        first = first or loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.1 * first
