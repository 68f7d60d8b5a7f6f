"""Activation, ReLU, LeakyReLU, Softmax and ELU against torch."""

import pytest
import torch
import torch.nn.functional as F

from tritonlayers import layers


def test_activation_layer_applies_named_function():
    x = torch.randn(4, 5)
    torch.testing.assert_close(layers.Activation("sigmoid")(x), torch.sigmoid(x))


def test_activation_layer_accepts_a_callable():
    x = torch.randn(4, 5)
    torch.testing.assert_close(layers.Activation(torch.tanh)(x), torch.tanh(x))


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"max_value": 1.5}, {"negative_slope": 0.1}, {"threshold": 0.3, "negative_slope": 0.2}],
)
def test_relu_matches_piecewise_reference(kwargs):
    x = torch.linspace(-3, 3, 61)
    threshold = kwargs.get("threshold", 0.0)
    slope = kwargs.get("negative_slope", 0.0)
    expected = torch.where(x >= threshold, x, slope * (x - threshold))
    if "max_value" in kwargs:
        expected = expected.clamp(max=kwargs["max_value"])
    torch.testing.assert_close(layers.ReLU(**kwargs)(x), expected)


def test_relu_rejects_negative_max_value():
    with pytest.raises(ValueError, match="max_value"):
        layers.ReLU(max_value=-1.0)


def test_leaky_relu_default_slope_is_keras_0_3():
    x = torch.randn(10)
    torch.testing.assert_close(layers.LeakyReLU()(x), F.leaky_relu(x, 0.3))


def test_softmax_matches_torch_softmax_on_axis():
    x = torch.randn(3, 4, 5)
    torch.testing.assert_close(layers.Softmax(axis=1)(x), torch.softmax(x, dim=1))


def test_softmax_over_two_axes_normalizes_jointly():
    x = torch.randn(2, 3, 4)
    expected = torch.softmax(x.reshape(2, -1), dim=-1).reshape(2, 3, 4)
    torch.testing.assert_close(layers.Softmax(axis=(1, 2))(x), expected)


def test_softmax_with_mask_gives_zero_to_masked_and_renormalizes_the_rest():
    x = torch.randn(2, 5)
    mask = torch.tensor([[True, True, False, True, False], [False, True, True, True, True]])
    out = layers.Softmax()(x, mask=mask)
    for row in range(2):
        expected = torch.zeros(5)
        expected[mask[row]] = torch.softmax(x[row, mask[row]], dim=0)
        torch.testing.assert_close(out[row], expected)


def test_softmax_fully_masked_row_is_zero():
    out = layers.Softmax()(torch.randn(1, 3), mask=torch.zeros(1, 3, dtype=torch.bool))
    assert out.tolist() == [[0.0, 0.0, 0.0]]


def test_elu_matches_torch_elu():
    x = torch.randn(20)
    torch.testing.assert_close(layers.ELU(alpha=0.7)(x), F.elu(x, alpha=0.7))


def test_prelu_scales_negatives_by_its_learned_alpha():
    layer = layers.PReLU(alpha_initializer="random_uniform")
    x = torch.randn(4, 3)
    out = layer(x)
    alpha = layer.alpha.detach().cpu()
    torch.testing.assert_close(out.cpu(), torch.where(x > 0, x, alpha * x))
    assert tuple(layer.alpha.shape) == (3,) and layer.alpha.trainable


def test_prelu_shared_axes_give_one_alpha_per_channel():
    layer = layers.PReLU(shared_axes=[1, 2])
    layer(torch.ones(2, 4, 4, 3))
    assert tuple(layer.alpha.shape) == (1, 1, 3)
