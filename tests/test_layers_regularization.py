"""Dropout family, GaussianNoise, ActivityRegularization: distributions, seeding, inference."""

import math

import pytest
import torch

from tritonlayers import kernels, layers, random

N = 50_000  # samples per distribution test; tolerances are ~5 standard errors


def test_dropout_is_identity_at_inference():
    x = torch.randn(4, 5)
    torch.testing.assert_close(layers.Dropout(0.5)(x), x)
    torch.testing.assert_close(layers.Dropout(0.5)(x, training=False), x)


def test_dropout_training_equals_kernel_dropout_with_first_seed_of_generator():
    x = torch.randn(64, 33)
    layer = layers.Dropout(0.3, seed=5)
    seed = layers.Dropout(0.3, seed=5).seed_generator.next()
    torch.testing.assert_close(layer(x, training=True), kernels.dropout(x, 0.3, seed))


def test_dropout_drop_fraction_and_scale_match_rate():
    y = layers.Dropout(0.3, seed=1)(torch.ones(N), training=True)
    dropped = (y == 0).float().mean().item()
    assert abs(dropped - 0.3) < 5 * math.sqrt(0.3 * 0.7 / N)
    torch.testing.assert_close(y[y != 0], torch.full_like(y[y != 0], 1 / 0.7))


def test_dropout_same_seed_same_masks_and_new_mask_each_call():
    x = torch.ones(1000)
    a, b = layers.Dropout(0.5, seed=3), layers.Dropout(0.5, seed=3)
    first_a, first_b = a(x, training=True), b(x, training=True)
    torch.testing.assert_close(first_a, first_b)
    agreement = (a(x, training=True) == first_a).float().mean().item()
    assert 0.4 < agreement < 0.6


def test_dropout_noise_shape_shares_one_decision_along_size_one_axes():
    y = layers.Dropout(0.5, noise_shape=(None, 1, 8), seed=2)(torch.ones(4, 6, 8), training=True)
    assert torch.equal(y, y[:, :1, :].expand_as(y))


def test_dropout_rejects_rate_above_one():
    with pytest.raises(ValueError, match="rate"):
        layers.Dropout(1.5)


def test_spatial_dropout1d_drops_whole_channels():
    y = layers.SpatialDropout1D(0.5, seed=4)(torch.ones(8, 5, 16), training=True)
    assert torch.equal(y, y[:, :1].expand_as(y))


def test_spatial_dropout2d_channels_first_drops_whole_maps():
    layer = layers.SpatialDropout2D(0.5, data_format="channels_first", seed=4)
    y = layer(torch.ones(4, 16, 3, 3), training=True)
    assert torch.equal(y, y[:, :, :1, :1].expand_as(y))


def test_gaussian_noise_has_requested_std_in_training_only():
    x = torch.zeros(N)
    layer = layers.GaussianNoise(0.2, seed=1)
    noise = layer(x, training=True)
    assert abs(noise.mean().item()) < 5 * 0.2 / math.sqrt(N)
    assert abs(noise.std().item() - 0.2) < 5 * 0.2 / math.sqrt(2 * N)
    torch.testing.assert_close(layer(x), x)


def test_gaussian_dropout_noise_has_mean_one_and_keras_std():
    y = layers.GaussianDropout(0.2, seed=1)(torch.ones(N), training=True)
    std = math.sqrt(0.2 / 0.8)
    assert abs(y.mean().item() - 1.0) < 5 * std / math.sqrt(N)
    assert abs(y.std().item() - std) < 5 * std / math.sqrt(2 * N)


def test_alpha_dropout_keeps_mean_and_variance_of_standard_normal_inputs():
    x = torch.randn(N)
    y = layers.AlphaDropout(0.2, seed=1)(x, training=True)
    assert abs(y.mean().item()) < 5 / math.sqrt(N)
    assert abs(y.var().item() - 1.0) < 5 * math.sqrt(2 / N)


def test_activity_regularization_adds_batch_normalized_l1_l2_loss_and_returns_input():
    x = torch.randn(3, 4)
    layer = layers.ActivityRegularization(l1=0.1, l2=0.01)
    torch.testing.assert_close(layer(x), x)
    expected = (0.1 * x.abs().sum() + 0.01 * x.square().sum()) / 3
    torch.testing.assert_close(layer.losses[0], expected)


@pytest.mark.interpret
def test_dropout_layer_triton_mode_in_interpreter_equals_torch_mode():
    x = torch.randn(6, 37)
    outputs = {}
    for mode in ("torch", "triton"):
        kernels.set_kernel_mode(mode)
        outputs[mode] = layers.Dropout(0.4, seed=8)(x, training=True)
    torch.testing.assert_close(outputs["triton"], outputs["torch"])


def test_gaussian_noise_is_random_normal_from_a_generator_with_the_same_seed():
    x = torch.randn(4, 5)
    noise = random.normal((4, 5), stddev=0.3, seed=random.SeedGenerator(12))
    torch.testing.assert_close(layers.GaussianNoise(0.3, seed=12)(x, training=True), x + noise)


def test_gaussian_dropout_is_x_times_random_normal_around_one():
    x = torch.randn(4, 5)
    std = math.sqrt(0.25 / 0.75)
    noise = random.normal((4, 5), mean=1.0, stddev=std, seed=random.SeedGenerator(13))
    torch.testing.assert_close(layers.GaussianDropout(0.25, seed=13)(x, training=True), x * noise)


def test_alpha_dropout_sets_dropped_units_to_the_affine_image_of_selu_saturation():
    x = torch.randn(4, 5)
    rate, alpha_p = 0.2, -1.6732632423543772 * 1.0507009873554805
    kept = random.uniform((4, 5), seed=random.SeedGenerator(14)) >= rate
    a = ((1 - rate) * (1 + rate * alpha_p**2)) ** -0.5
    b = -a * alpha_p * rate
    expected = torch.where(kept, a * x + b, a * alpha_p + b)
    torch.testing.assert_close(layers.AlphaDropout(rate, seed=14)(x, training=True), expected)
