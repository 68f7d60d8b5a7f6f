"""BatchNormalization, LayerNormalization, GroupNormalization, UnitNormalization vs torch."""

import pytest
import torch
import torch.nn.functional as F

from tritonlayers import layers

TOL = {"rtol": 1e-5, "atol": 1e-5}


def _randomize(layer):
    with torch.no_grad():
        for weight in layer.weights:
            if weight.is_floating_point():
                weight.copy_(torch.rand_like(weight) + 0.5)


def test_batch_norm_training_normalizes_with_batch_statistics():
    x = torch.randn(16, 5) * 3 + 2
    layer = layers.BatchNormalization()
    layer(x)
    _randomize(layer)
    expected = F.batch_norm(
        x, None, None, layer.gamma.detach(), layer.beta.detach(), training=True, eps=1e-3
    )
    torch.testing.assert_close(layer(x, training=True), expected, **TOL)


def test_batch_norm_updates_moving_stats_with_keras_momentum():
    x = torch.randn(32, 3, 4)
    layer = layers.BatchNormalization(momentum=0.8, axis=1)
    layer(x)
    layer(x, training=True)
    mean = x.mean(dim=(0, 2))
    variance = x.var(dim=(0, 2), unbiased=False)
    torch.testing.assert_close(layer.moving_mean.detach(), 0.2 * mean, **TOL)
    torch.testing.assert_close(layer.moving_variance.detach(), 0.8 + 0.2 * variance, **TOL)


def test_batch_norm_inference_uses_moving_stats_and_leaves_them_alone():
    x = torch.randn(8, 4)
    layer = layers.BatchNormalization(epsilon=1e-2)
    layer(x)
    _randomize(layer)
    before = [w.detach().clone() for w in layer.weights]
    expected = F.batch_norm(
        x,
        layer.moving_mean.detach(),
        layer.moving_variance.detach(),
        layer.gamma.detach(),
        layer.beta.detach(),
        training=False,
        eps=1e-2,
    )
    torch.testing.assert_close(layer(x), expected, **TOL)
    for now, then in zip(layer.weights, before):
        torch.testing.assert_close(now.detach(), then)


@pytest.mark.parametrize(
    "layer", [layers.BatchNormalization, layers.LayerNormalization, layers.UnitNormalization]
)
def test_normalization_of_integer_inputs_computes_in_float32(layer):
    pixels = torch.arange(24, dtype=torch.uint8).reshape(2, 3, 4)
    out = layer()(pixels)
    assert out.dtype == torch.float32
    torch.testing.assert_close(out.cpu(), layer()(pixels.float()).cpu())


def test_batch_norm_moving_stats_are_non_trainable_weights():
    layer = layers.BatchNormalization()
    layer(torch.zeros(2, 3))
    assert [w.name for w in layer.trainable_weights] == ["gamma", "beta"]
    assert [w.name for w in layer.non_trainable_weights] == ["moving_mean", "moving_variance"]


def test_batch_norm_frozen_layer_uses_moving_stats_even_in_training():
    x = torch.randn(8, 3)
    layer = layers.BatchNormalization()
    layer(x)
    layer.trainable = False
    torch.testing.assert_close(layer(x, training=True), layer(x, training=False))


def test_batch_norm_masked_steps_are_left_out_of_statistics():
    x = torch.randn(4, 6, 3)
    mask = torch.rand(4, 6) > 0.4
    layer = layers.BatchNormalization(momentum=0.0)
    layer(x)
    layer(x, training=True, mask=mask)
    torch.testing.assert_close(layer.moving_mean.detach(), x[mask].mean(0), **TOL)
    torch.testing.assert_close(
        layer.moving_variance.detach(), x[mask].var(0, unbiased=False), **TOL
    )


def test_layer_norm_matches_torch_layer_norm():
    x = torch.randn(3, 4, 6)
    layer = layers.LayerNormalization(axis=[-2, -1])
    layer(x)
    _randomize(layer)
    expected = F.layer_norm(x, (4, 6), layer.gamma.detach(), layer.beta.detach(), eps=1e-3)
    torch.testing.assert_close(layer(x), expected, **TOL)


def test_layer_norm_on_middle_axis_normalizes_that_axis():
    x = torch.randn(3, 4, 6)
    out = layers.LayerNormalization(axis=1, epsilon=0.0)(x)
    expected = (x - x.mean(1, keepdim=True)) / x.std(1, unbiased=False, keepdim=True)
    torch.testing.assert_close(out, expected, **TOL)


def test_layer_norm_rms_scaling_divides_by_std_and_only_scales():
    x = torch.randn(3, 6)
    layer = layers.LayerNormalization(rms_scaling=True)
    out = layer(x)
    assert [w.name for w in layer.weights] == ["gamma"]
    expected = x * torch.rsqrt(x.var(-1, unbiased=False, keepdim=True) + 1e-3)
    torch.testing.assert_close(out, expected, **TOL)


def test_layer_norm_under_mixed_bfloat16_computes_in_float32_and_returns_bfloat16():
    x = torch.randn(2, 8)
    out = layers.LayerNormalization(dtype="mixed_bfloat16")(x)
    assert out.dtype == torch.bfloat16
    expected = F.layer_norm(x.bfloat16().float(), (8,), eps=1e-3)
    torch.testing.assert_close(out, expected.bfloat16())


def test_group_norm_matches_torch_group_norm():
    x = torch.randn(2, 5, 5, 6)
    layer = layers.GroupNormalization(groups=3)
    layer(x)
    _randomize(layer)
    x_first = x.permute(0, 3, 1, 2)
    expected = F.group_norm(x_first, 3, layer.gamma.detach(), layer.beta.detach(), eps=1e-3)
    torch.testing.assert_close(layer(x), expected.permute(0, 2, 3, 1), **TOL)


def test_group_norm_rejects_groups_not_dividing_channels():
    layer = layers.GroupNormalization(groups=4, name="gn")
    with pytest.raises(ValueError, match="gn.*number of groups"):
        layer(torch.zeros(2, 6))


def test_unit_normalization_matches_torch_normalize():
    x = torch.randn(4, 7)
    torch.testing.assert_close(layers.UnitNormalization()(x), F.normalize(x, dim=-1), **TOL)


def test_batch_renorm_matches_float64_reference_over_steps():
    clipping = {"rmin": 0.8, "rmax": 1.25, "dmax": 0.2}
    layer = layers.BatchNormalization(
        renorm=True, renorm_clipping=clipping, renorm_momentum=0.8, momentum=0.7
    )
    layer(torch.zeros(2, 3))
    eps = 1e-3
    renorm_mean, renorm_std = (
        torch.zeros(3, dtype=torch.float64),
        torch.ones(3, dtype=torch.float64),
    )
    moving_mean, moving_std = renorm_mean.clone(), renorm_std.clone()
    for step in range(3):
        x = torch.randn(16, 3) * (step + 2) + step
        out = layer(x, training=True)
        x64 = x.double()
        mean, std = x64.mean(0), torch.sqrt(x64.var(0, unbiased=False) + eps)
        r = (std / renorm_std.clamp_min(eps**0.5)).clamp(0.8, 1.25)
        d = ((mean - renorm_mean) / renorm_std.clamp_min(eps**0.5)).clamp(-0.2, 0.2)
        torch.testing.assert_close(out.double(), (x64 - mean) / std * r + d, rtol=1e-5, atol=1e-5)
        renorm_mean, renorm_std = 0.8 * renorm_mean + 0.2 * mean, 0.8 * renorm_std + 0.2 * std
        moving_mean, moving_std = 0.7 * moving_mean + 0.3 * mean, 0.7 * moving_std + 0.3 * std
    torch.testing.assert_close(layer.moving_mean.detach().double(), moving_mean)
    expected_variance = (moving_std.square() - eps).clamp_min(0)
    torch.testing.assert_close(layer.moving_variance.detach().double(), expected_variance)


def test_batch_renorm_rejects_unknown_clipping_keys():
    with pytest.raises(ValueError, match="renorm_clipping"):
        layers.BatchNormalization(renorm=True, renorm_clipping={"rmaxx": 2.0})
