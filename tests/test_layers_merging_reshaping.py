"""Merge and reshape layers against torch expressions."""

import pytest
import torch
import torch.nn.functional as F

from tritonlayers import layers


def _pair():
    return torch.randn(3, 4), torch.randn(3, 4)


@pytest.mark.parametrize(
    "layer, reference",
    [
        (layers.Add, lambda a, b: a + b),
        (layers.Subtract, lambda a, b: a - b),
        (layers.Multiply, lambda a, b: a * b),
        (layers.Average, lambda a, b: (a + b) / 2),
        (layers.Maximum, torch.maximum),
        (layers.Minimum, torch.minimum),
    ],
)
def test_elementwise_merge_matches_torch(layer, reference):
    a, b = _pair()
    torch.testing.assert_close(layer()([a, b]), reference(a, b))


@pytest.mark.parametrize(
    "function, layer",
    [
        (layers.add, layers.Add),
        (layers.subtract, layers.Subtract),
        (layers.multiply, layers.Multiply),
        (layers.average, layers.Average),
        (layers.maximum, layers.Maximum),
        (layers.minimum, layers.Minimum),
    ],
)
def test_functional_merge_applies_a_new_layer(function, layer):
    a, b = _pair()
    torch.testing.assert_close(function([a, b], name="merged"), layer()([a, b]))


def test_functional_concatenate_and_dot_take_the_layer_arguments():
    a, b = torch.randn(2, 3, 4), torch.randn(2, 5, 4)
    torch.testing.assert_close(layers.concatenate([a, b], axis=1), torch.cat([a, b], 1))
    torch.testing.assert_close(layers.dot([a, b], axes=2), a @ b.transpose(1, 2))


def test_add_broadcasts_size_one_axes():
    a, b = torch.randn(3, 1, 4), torch.randn(3, 5, 4)
    torch.testing.assert_close(layers.Add()([a, b]), a + b)


def test_add_rejects_incompatible_shapes_naming_layer():
    with pytest.raises(ValueError, match="adder.*incompatible"):
        layers.Add(name="adder")([torch.zeros(2, 3), torch.zeros(2, 4)])


def test_subtract_needs_exactly_two_inputs():
    with pytest.raises(ValueError, match="exactly 2"):
        layers.Subtract()([torch.zeros(2)] * 3)


def test_merge_output_mask_is_and_of_input_masks():
    a, b = torch.randn(2, 3, 4), torch.randn(2, 3, 4)
    mask_a = torch.tensor([[True, True, False], [True, False, True]])
    mask_b = torch.tensor([[True, False, False], [True, True, True]])
    a._keras_mask, b._keras_mask = mask_a, mask_b
    out = layers.Add()([a, b])
    assert torch.equal(out._keras_mask, mask_a & mask_b)


def test_concatenate_matches_torch_cat():
    a, b = torch.randn(2, 3, 4), torch.randn(2, 5, 4)
    torch.testing.assert_close(layers.Concatenate(axis=1)([a, b]), torch.cat([a, b], 1))


def test_concatenate_rejects_mismatched_other_axes():
    with pytest.raises(ValueError, match="matching shapes"):
        layers.Concatenate()([torch.zeros(2, 3), torch.zeros(3, 3)])


def test_dot_matches_batched_matmul():
    a, b = torch.randn(2, 3, 4), torch.randn(2, 5, 4)
    torch.testing.assert_close(layers.Dot(axes=2)([a, b]), a @ b.transpose(1, 2))


def test_dot_with_normalize_is_cosine_similarity():
    a, b = torch.randn(2, 3, 4), torch.randn(2, 5, 4)
    cosine = F.normalize(a, dim=2) @ F.normalize(b, dim=2).transpose(1, 2)
    torch.testing.assert_close(layers.Dot(axes=(2, 2), normalize=True)([a, b]), cosine)


def test_dot_of_vectors_keeps_a_unit_axis():
    a, b = _pair()
    torch.testing.assert_close(layers.Dot(axes=1)([a, b]), (a * b).sum(1, keepdim=True))


def test_flatten_channels_first_moves_channels_last_first():
    x = torch.randn(2, 3, 4, 5)
    out = layers.Flatten(data_format="channels_first")(x)
    torch.testing.assert_close(out, x.permute(0, 2, 3, 1).reshape(2, -1))


def test_reshape_infers_minus_one():
    x = torch.randn(2, 12)
    torch.testing.assert_close(layers.Reshape((3, -1))(x), x.reshape(2, 3, 4))


def test_reshape_rejects_a_target_of_another_size():
    with pytest.raises(ValueError, match="total size"):
        layers.Reshape((5, 2))(torch.randn(2, 12))


def test_permute_uses_one_based_dims():
    x = torch.randn(2, 3, 4, 5)
    torch.testing.assert_close(layers.Permute((3, 1, 2))(x), x.permute(0, 3, 1, 2))


def test_permute_rejects_invalid_dims():
    with pytest.raises(ValueError, match="consecutive"):
        layers.Permute((0, 1))


def test_repeat_vector_repeats_along_new_axis():
    x = torch.randn(2, 4)
    torch.testing.assert_close(layers.RepeatVector(3)(x), x[:, None].repeat(1, 3, 1))


def test_cropping2d_matches_slicing():
    x = torch.randn(2, 6, 7, 3)
    torch.testing.assert_close(layers.Cropping2D(((1, 2), (3, 0)))(x), x[:, 1:4, 3:])


def test_zero_padding2d_channels_first_matches_torch_pad():
    x = torch.randn(2, 6, 7, 3)
    padded = layers.ZeroPadding2D(((1, 0), (2, 1)), data_format="channels_first")(x)
    torch.testing.assert_close(padded, F.pad(x, (2, 1, 1, 0)))


def test_cropping2d_rejects_cropping_everything():
    with pytest.raises(ValueError, match="cropping"):
        layers.Cropping2D(((3, 3), (0, 0)))(torch.zeros(1, 6, 6, 1))


def test_up_sampling2d_nearest_matches_torch_interpolate():
    x = torch.randn(2, 3, 4, 2)
    expected = F.interpolate(x.permute(0, 3, 1, 2), scale_factor=(2, 3), mode="nearest")
    torch.testing.assert_close(layers.UpSampling2D((2, 3))(x), expected.permute(0, 2, 3, 1))


def test_up_sampling2d_bilinear_matches_torch_interpolate():
    x = torch.randn(2, 3, 4, 2)
    expected = F.interpolate(x.permute(0, 3, 1, 2), scale_factor=2, mode="bilinear")
    bilinear = layers.UpSampling2D(2, interpolation="bilinear")(x)
    torch.testing.assert_close(bilinear, expected.permute(0, 2, 3, 1))
