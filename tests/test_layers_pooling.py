"""Pooling layers against torch pooling (with Keras "same" padding semantics)."""

import pytest
import torch
import torch.nn.functional as F

from tritonlayers import layers


def test_max_pooling2d_valid_matches_torch():
    x = torch.randn(2, 7, 6, 3)
    out = layers.MaxPooling2D((2, 3), strides=(2, 1))(x)
    expected = F.max_pool2d(x.permute(0, 3, 1, 2), (2, 3), (2, 1)).permute(0, 2, 3, 1)
    torch.testing.assert_close(out, expected)


def test_max_pooling2d_same_ignores_padding():
    x = -torch.rand(1, 5, 5, 1) - 1.0
    out = layers.MaxPooling2D(2, padding="same")(x)
    expected = F.max_pool2d(x.permute(0, 3, 1, 2), 2, 2, ceil_mode=True).permute(0, 2, 3, 1)
    torch.testing.assert_close(out, expected)


def test_average_pooling2d_same_averages_only_real_elements():
    x = torch.randn(1, 5, 5, 2)
    out = layers.AveragePooling2D(2, padding="same")(x)
    expected = F.avg_pool2d(x.permute(0, 3, 1, 2), 2, 2, ceil_mode=True).permute(0, 2, 3, 1)
    torch.testing.assert_close(out, expected)


def test_average_pooling2d_same_stride_one_pads_both_sides():
    x = torch.randn(1, 4, 4, 1)
    out = layers.AveragePooling2D(3, strides=1, padding="same")(x)
    expected = F.avg_pool2d(x.permute(0, 3, 1, 2), 3, 1, padding=1, count_include_pad=False)
    torch.testing.assert_close(out, expected.permute(0, 2, 3, 1))


def test_max_pooling1d_channels_first_matches_torch():
    x = torch.randn(2, 3, 9)
    out = layers.MaxPooling1D(3, strides=2, data_format="channels_first")(x)
    torch.testing.assert_close(out, F.max_pool1d(x, 3, 2))


def test_average_pooling1d_matches_torch():
    x = torch.randn(2, 9, 3)
    out = layers.AveragePooling1D(3)(x)
    torch.testing.assert_close(out, F.avg_pool1d(x.transpose(1, 2), 3).transpose(1, 2))


def test_global_average_pooling_of_integer_images_is_a_float_mean():
    images = torch.arange(16, dtype=torch.uint8).reshape(1, 2, 2, 4)
    out = layers.GlobalAveragePooling2D()(images)
    torch.testing.assert_close(out.cpu(), images.float().mean(dim=(1, 2)))


def test_global_average_pooling1d_mask_excludes_masked_steps():
    x = torch.randn(2, 5, 3)
    mask = torch.tensor([[True, True, False, True, False], [True, False, False, False, False]])
    out = layers.GlobalAveragePooling1D()(x, mask=mask)
    torch.testing.assert_close(out[0], x[0, mask[0]].mean(0))
    torch.testing.assert_close(out[1], x[1, 0])


def test_global_average_pooling1d_consumes_the_mask():
    x = torch.randn(2, 3, 4)
    out = layers.GlobalAveragePooling1D()(x, mask=torch.ones(2, 3, dtype=torch.bool))
    assert getattr(out, "_keras_mask", None) is None


@pytest.mark.parametrize(
    "layer, shape, reference",
    [
        (layers.GlobalAveragePooling2D(), (2, 4, 5, 3), lambda x: x.mean((1, 2))),
        (layers.GlobalMaxPooling2D(), (2, 4, 5, 3), lambda x: x.amax((1, 2))),
        (layers.GlobalMaxPooling1D(), (2, 5, 3), lambda x: x.amax(1)),
        (
            layers.GlobalAveragePooling2D(data_format="channels_first", keepdims=True),
            (2, 3, 4, 5),
            lambda x: x.mean((2, 3), keepdim=True),
        ),
    ],
)
def test_global_pooling_reduces_the_spatial_axes(layer, shape, reference):
    x = torch.randn(*shape)
    torch.testing.assert_close(layer(x), reference(x))
