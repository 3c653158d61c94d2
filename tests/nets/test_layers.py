import pytest
import torch

from eoretrieval.nets.layers import CBAM, ChannelAttention, DepthwiseSeparableConv, DoubleConvDS, DownDS, \
    SpatialAttention, UpDS


@pytest.mark.parametrize("block, shape_in, shape_out", [
    (DepthwiseSeparableConv(3, 8, kernels_per_layer=2), (2, 3, 10, 12), (2, 8, 10, 12)),
    (ChannelAttention(8, reduction=4), (2, 8, 10, 12), (2, 8, 10, 12)),
    (SpatialAttention(), (2, 8, 10, 12), (2, 8, 10, 12)),
    (CBAM(8, reduction=4), (2, 8, 10, 12), (2, 8, 10, 12)),
    (DoubleConvDS(3, 8), (2, 3, 10, 12), (2, 8, 10, 12)),
    (DownDS(3, 8), (2, 3, 10, 12), (2, 8, 5, 6)),
])
def test_block_shapes(block, shape_in, shape_out):
    assert block(torch.randn(shape_in)).shape == shape_out


def test_up_pads_to_skip():
    up = UpDS(8 + 4, 6)
    out = up(torch.randn(1, 8, 4, 5), torch.randn(1, 4, 9, 11))
    assert out.shape == (1, 6, 9, 11)


def test_attention_scales_between_zero_and_one():
    x = torch.rand(2, 8, 6, 6) + 0.1
    y = CBAM(8, reduction=4)(x)
    assert torch.all(y >= 0) and torch.all(y <= x + 1e-6)
