"""ZeroPadding1D, Cropping1D and UpSampling1D against torch slicing and padding."""

import pytest
import torch

from tritonlayers import layers


def test_zero_padding1d_pads_the_steps_axis():
    x = torch.randn(2, 3, 4)
    out = layers.ZeroPadding1D((1, 2))(x)
    torch.testing.assert_close(out.cpu(), torch.nn.functional.pad(x, (0, 0, 1, 2)))


def test_zero_padding1d_channels_first_pads_the_last_axis():
    x = torch.randn(2, 4, 3)
    out = layers.ZeroPadding1D(2, data_format="channels_first")(x)
    torch.testing.assert_close(out.cpu(), torch.nn.functional.pad(x, (2, 2)))


def test_cropping1d_removes_steps_from_both_ends():
    x = torch.randn(2, 6, 4)
    torch.testing.assert_close(layers.Cropping1D((1, 2))(x).cpu(), x[:, 1:4])


def test_cropping1d_rejects_cropping_everything():
    with pytest.raises(ValueError, match="must be smaller than the input length"):
        layers.Cropping1D((2, 2))(torch.ones(1, 4, 2))


def test_up_sampling1d_repeats_each_step():
    x = torch.randn(2, 3, 4)
    torch.testing.assert_close(layers.UpSampling1D(2)(x).cpu(), x.repeat_interleave(2, dim=1))


def test_sequence_reshaping_output_shapes_keep_unknown_lengths():
    assert layers.ZeroPadding1D(1).compute_output_shape((None, None, 3)) == (None, None, 3)
    assert layers.UpSampling1D(3).compute_output_shape((None, 5, 3)) == (None, 15, 3)
    assert layers.Cropping1D(1).compute_output_shape((None, 5, 3)) == (None, 3, 3)
