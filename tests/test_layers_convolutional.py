"""Convolution layers against torch.nn.functional with the Keras kernel permuted."""

import pytest
import torch
import torch.nn.functional as F

from tritonlayers import layers

TOL = {"rtol": 1e-4, "atol": 1e-5}


def _nchw(x):
    return x.permute(0, 3, 1, 2)


def _nhwc(x):
    return x.permute(0, 2, 3, 1)


def _w(layer):
    """Keras (kh, kw, in, out) kernel -> torch (out, in, kh, kw)."""
    return layer.kernel.detach().permute(3, 2, 0, 1)


def _b(layer):
    return layer.bias.detach()


def _randomize_bias(layer):
    with torch.no_grad():
        layer.bias.copy_(torch.randn_like(layer.bias))


def test_conv2d_valid_matches_torch_conv2d():
    x = torch.randn(2, 7, 6, 3)
    layer = layers.Conv2D(4, (3, 2), activation="relu")
    layer(x)
    _randomize_bias(layer)
    expected = torch.relu(F.conv2d(_nchw(x), _w(layer), _b(layer)))
    torch.testing.assert_close(layer(x), _nhwc(expected), **TOL)


@pytest.mark.parametrize("size, kernel, stride", [(7, 3, 2), (8, 3, 2), (6, 4, 3), (5, 1, 2)])
def test_conv2d_same_pads_like_keras_extra_element_after(size, kernel, stride):
    x = torch.randn(1, size, size, 2)
    layer = layers.Conv2D(3, kernel, strides=stride, padding="same")
    out = layer(x)
    total = max((-(-size // stride) - 1) * stride + kernel - size, 0)
    before, after = total // 2, total - total // 2
    padded = F.pad(_nchw(x), (before, after, before, after))
    expected = F.conv2d(padded, _w(layer), _b(layer), stride=stride)
    assert out.shape[1] == -(-size // stride)
    torch.testing.assert_close(out, _nhwc(expected), **TOL)


def test_conv2d_channels_first_groups_and_dilation_match_torch():
    x = torch.randn(2, 4, 9, 9)
    layer = layers.Conv2D(6, 3, dilation_rate=2, groups=2, data_format="channels_first")
    layer(x)
    _randomize_bias(layer)
    assert tuple(layer.kernel.shape) == (3, 3, 2, 6)
    expected = F.conv2d(x, _w(layer), _b(layer), dilation=2, groups=2)
    torch.testing.assert_close(layer(x), expected, **TOL)


def test_conv2d_rejects_channels_not_divisible_by_groups():
    layer = layers.Conv2D(4, 3, groups=2, name="grouped")
    with pytest.raises(ValueError, match="grouped.*groups"):
        layer(torch.zeros(1, 5, 5, 3))


def test_conv1d_causal_output_depends_only_on_past_steps():
    x = torch.randn(2, 10, 3)
    layer = layers.Conv1D(4, 3, padding="causal", dilation_rate=2)
    out = layer(x)
    w = layer.kernel.detach().permute(2, 1, 0)
    expected = F.conv1d(F.pad(x.transpose(1, 2), (4, 0)), w, _b(layer), dilation=2)
    torch.testing.assert_close(out, expected.transpose(1, 2), **TOL)
    changed = x.clone()
    changed[:, 6:] += 1.0
    torch.testing.assert_close(layer(changed)[:, :6], out[:, :6])


def test_conv1d_strided_valid_matches_torch_conv1d():
    x = torch.randn(2, 11, 3)
    layer = layers.Conv1D(5, 4, strides=2)
    out = layer(x)
    w = layer.kernel.detach().permute(2, 1, 0)
    torch.testing.assert_close(out, F.conv1d(x.transpose(1, 2), w, _b(layer), 2).transpose(1, 2))


def test_conv2d_transpose_valid_matches_torch_conv_transpose2d():
    x = torch.randn(2, 4, 5, 3)
    layer = layers.Conv2DTranspose(6, 3, strides=2)
    layer(x)
    _randomize_bias(layer)
    assert tuple(layer.kernel.shape) == (3, 3, 6, 3)
    expected = F.conv_transpose2d(_nchw(x), _w(layer), _b(layer), stride=2)
    torch.testing.assert_close(layer(x), _nhwc(expected), **TOL)


def test_conv2d_transpose_same_even_overlap_matches_torch_padding():
    x = torch.randn(1, 4, 4, 2)
    layer = layers.Conv2DTranspose(3, 4, strides=2, padding="same")
    out = layer(x)
    expected = F.conv_transpose2d(_nchw(x), _w(layer), _b(layer), stride=2, padding=1)
    assert tuple(out.shape) == (1, 8, 8, 3)
    torch.testing.assert_close(out, _nhwc(expected), **TOL)


def test_conv2d_transpose_same_odd_overlap_crops_at_the_end_like_tensorflow():
    x = torch.randn(1, 4, 4, 2)
    layer = layers.Conv2DTranspose(3, 3, strides=2, padding="same")
    out = layer(x)
    full = F.conv_transpose2d(_nchw(x), _w(layer), _b(layer), stride=2)
    torch.testing.assert_close(out, _nhwc(full[:, :, :8, :8]), **TOL)


def test_conv2d_transpose_is_the_gradient_of_conv2d_same():
    x = torch.randn(1, 6, 6, 2, requires_grad=True)
    conv = layers.Conv2D(3, 3, strides=2, padding="same", use_bias=False)
    y = conv(x)
    upstream = torch.randn_like(y)
    (grad,) = torch.autograd.grad(y, x, upstream)
    transpose = layers.Conv2DTranspose(2, 3, strides=2, padding="same", use_bias=False)
    transpose(upstream)
    transpose.kernel.assign(conv.kernel)
    torch.testing.assert_close(transpose(upstream), grad, **TOL)


def test_conv2d_transpose_output_padding_sets_output_size():
    layer = layers.Conv2DTranspose(2, 3, strides=2, padding="valid", output_padding=1)
    assert tuple(layer(torch.zeros(1, 4, 4, 1)).shape) == (1, 10, 10, 2)


def test_depthwise_conv2d_matches_per_channel_convolutions():
    x = torch.randn(2, 6, 6, 3)
    layer = layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same")
    out = layer(x)
    kernel = layer.kernel.detach()
    columns = []
    for c in range(3):
        for m in range(2):
            w = kernel[:, :, c, m][None, None]
            columns.append(F.conv2d(_nchw(x)[:, c : c + 1], w, padding=1))
    expected = torch.cat(columns, dim=1) + _b(layer).reshape(1, -1, 1, 1)
    torch.testing.assert_close(out, _nhwc(expected), **TOL)


def test_separable_conv2d_is_depthwise_then_pointwise():
    x = torch.randn(2, 7, 7, 3)
    layer = layers.SeparableConv2D(5, 3, strides=2, depth_multiplier=2)
    out = layer(x)
    depthwise = layer.depthwise_kernel.detach().reshape(3, 3, 1, 6).permute(3, 2, 0, 1)
    mid = F.conv2d(_nchw(x), depthwise, stride=2, groups=3)
    expected = torch.einsum("bchw,co->bohw", mid, layer.pointwise_kernel.detach()[0, 0])
    torch.testing.assert_close(out, _nhwc(expected) + _b(layer), **TOL)


def test_conv_rejects_strides_with_dilation():
    with pytest.raises(ValueError, match="dilation_rate"):
        layers.Conv2D(2, 3, strides=2, dilation_rate=2)
