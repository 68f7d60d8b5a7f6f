"""Dense, Embedding, Masking, Identity, InputLayer, Lambda against plain torch."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import tritonlayers as keras
from tritonlayers import layers

TORCH_ACTIVATIONS = {
    None: lambda z: z,
    "relu": torch.relu,
    "leaky_relu": lambda z: F.leaky_relu(z, 0.2),
    "gelu": F.gelu,
    "silu": F.silu,
    "swish": F.silu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "softplus": F.softplus,
    "elu": F.elu,
    "softmax": lambda z: torch.softmax(z, dim=-1),
}


@pytest.mark.parametrize("activation", list(TORCH_ACTIVATIONS))
def test_dense_matches_torch_linear_then_activation(activation):
    layer = layers.Dense(7, activation=activation)
    x = torch.randn(5, 3)
    out = layer(x)
    kernel, bias = layer.kernel.detach(), layer.bias.detach()
    expected = TORCH_ACTIVATIONS[activation](F.linear(x, kernel.T, bias))
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-6)


def test_dense_applies_on_last_axis_of_rank_4_input():
    layer = layers.Dense(4, bias_initializer="ones")
    x = torch.randn(2, 3, 5, 6)
    out = layer(x)
    expected = torch.einsum("abcd,de->abce", x, layer.kernel.detach()) + 1.0
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-5)


def test_dense_under_mixed_bfloat16_computes_in_bfloat16_from_float32_weights():
    layer = layers.Dense(6, activation="relu", dtype="mixed_bfloat16")
    x = torch.randn(4, 5)
    out = layer(x)
    assert layer.kernel.dtype == torch.float32
    assert out.dtype == torch.bfloat16
    kernel, bias = layer.kernel.detach().bfloat16(), layer.bias.detach().bfloat16()
    expected = torch.relu(x.bfloat16().float() @ kernel.float() + bias.float())
    torch.testing.assert_close(out.float(), expected, rtol=2e-2, atol=2e-2)


def test_dense_without_bias_has_only_a_kernel():
    layer = layers.Dense(2, use_bias=False)
    layer(torch.ones(1, 3))
    assert [w.name for w in layer.weights] == ["kernel"]
    assert layer.bias is None


def test_dense_passes_the_mask_through():
    x = torch.randn(2, 4, 3)
    mask = torch.tensor([[True, True, False, False], [True, False, False, False]])
    x._keras_mask = mask
    out = layers.Dense(2)(x)
    assert torch.equal(out._keras_mask, mask)


def test_dense_rejects_wrong_last_axis_after_build():
    layer = layers.Dense(2)
    layer(torch.ones(1, 3))
    with pytest.raises(ValueError, match=layer.name):
        layer(torch.ones(1, 4))


def test_dense_rejects_non_positive_units():
    with pytest.raises(ValueError, match="units"):
        layers.Dense(0)


def test_dense_kernel_regularizer_loss_is_l2_of_kernel():
    layer = layers.Dense(3, kernel_regularizer=keras.regularizers.l2(1e-3))
    layer(torch.zeros(1, 2))
    torch.testing.assert_close(layer.losses[0], 1e-3 * torch.sum(layer.kernel.detach() ** 2))


@pytest.mark.interpret
def test_dense_triton_mode_in_interpreter_equals_torch_mode():
    layer = layers.Dense(5, activation="gelu")
    x = torch.randn(6, 7)
    keras.config.set_kernel_mode("torch")
    expected = layer(x)
    keras.config.set_kernel_mode("triton")
    got = layer(x)
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.interpret
def test_dense_triton_mode_in_interpreter_gradients_equal_torch_mode():
    layer = layers.Dense(3, activation="tanh")
    x = torch.randn(4, 5, requires_grad=True)
    grads = {}
    for mode in ("torch", "triton"):
        keras.config.set_kernel_mode(mode)
        loss = layer(x).square().sum()
        grads[mode] = torch.autograd.grad(loss, [x, layer.kernel, layer.bias])
    for got, expected in zip(grads["triton"], grads["torch"]):
        torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)


def test_dense_promotes_integer_inputs_to_float():
    layer = layers.Dense(2)
    out = layer(np.array([[1, 2, 3]]))
    expected = (
        torch.tensor([[1.0, 2.0, 3.0]]) @ layer.kernel.detach().cpu() + layer.bias.detach().cpu()
    )
    assert out.dtype == torch.float32
    torch.testing.assert_close(out.cpu(), expected)


def test_embedding_matches_torch_embedding_lookup():
    layer = layers.Embedding(10, 4)
    ids = torch.tensor([[1, 9, 0], [3, 3, 2]])
    torch.testing.assert_close(layer(ids), F.embedding(ids, layer.embeddings.detach()))


def test_embedding_under_mixed_bfloat16_keeps_float32_table_and_returns_bfloat16():
    layer = layers.Embedding(10, 4, dtype="mixed_bfloat16")
    out = layer(torch.tensor([[1, 2]]))
    assert layer.embeddings.dtype == torch.float32
    assert out.dtype == torch.bfloat16
    torch.testing.assert_close(out, layer.embeddings.detach()[torch.tensor([[1, 2]])].bfloat16())


def test_embedding_mask_zero_marks_padding():
    ids = torch.tensor([[4, 2, 0, 0], [1, 0, 0, 0]])
    out = layers.Embedding(5, 2, mask_zero=True)(ids)
    assert torch.equal(out._keras_mask, ids != 0)


def test_embedding_compute_mask_accepts_a_numpy_array():
    ids = np.array([[4, 2, 0], [1, 0, 0]])
    mask = layers.Embedding(5, 2, mask_zero=True).compute_mask(ids)
    assert mask.cpu().tolist() == [[True, True, False], [True, False, False]]


def test_embedding_without_mask_zero_gives_no_mask():
    out = layers.Embedding(5, 2)(torch.tensor([[0, 1]]))
    assert getattr(out, "_keras_mask", None) is None


def test_embedding_default_initializer_is_uniform_005():
    layer = layers.Embedding(200, 50)
    layer(torch.zeros(1, dtype=torch.long))
    weights = layer.embeddings.detach()
    assert weights.abs().max() <= 0.05
    assert abs(weights.std().item() - 0.1 / 12**0.5) < 0.003


def test_masking_masks_and_zeroes_steps_equal_to_mask_value():
    x = torch.tensor([[[1.0, 2.0], [-1.0, -1.0], [0.0, -1.0]]])
    out = layers.Masking(mask_value=-1.0)(x)
    assert out._keras_mask.tolist() == [[True, False, True]]
    torch.testing.assert_close(out, torch.tensor([[[1.0, 2.0], [0.0, 0.0], [0.0, -1.0]]]))


def test_identity_returns_input_and_mask():
    x = torch.randn(2, 3)
    mask = torch.tensor([[True, False, True], [False, True, True]])
    x._keras_mask = mask
    out = layers.Identity()(x)
    torch.testing.assert_close(out, x)
    assert torch.equal(out._keras_mask, mask)


def test_input_layer_holds_batch_shape_and_symbolic_output():
    layer = layers.InputLayer(shape=(3, 4), batch_size=2, name="images")
    assert layer.batch_shape == (2, 3, 4)
    assert tuple(layer.output.shape) == (2, 3, 4)
    assert layer.get_config()["batch_shape"] == (2, 3, 4)


def test_input_layer_config_round_trip_keeps_shape_dtype_and_name():
    layer = layers.InputLayer(batch_shape=(4, 3), dtype="int32", name="ids")
    clone = layers.InputLayer.from_config(layer.get_config())
    assert (clone.batch_shape, clone.output.dtype, clone.name) == ((4, 3), "int32", "ids")


def test_input_layer_passes_a_real_tensor_through():
    x = torch.randn(2, 3)
    assert layers.InputLayer(shape=(3,))(x) is x


def test_input_layer_rejects_shape_and_batch_shape_together():
    with pytest.raises(ValueError, match="both `shape` and `batch_shape`"):
        layers.InputLayer(shape=(2,), batch_shape=(None, 2))


def test_lambda_applies_function_with_arguments():
    layer = layers.Lambda(lambda x, power: x**power, arguments={"power": 3})
    torch.testing.assert_close(layer(torch.tensor([2.0])), torch.tensor([8.0]))


def test_lambda_config_with_python_lambda_is_refused_in_safe_mode():
    config = layers.Lambda(lambda x: x + 1).get_config()
    with pytest.raises(ValueError, match="safe_mode"):
        layers.Lambda.from_config(config)


def test_lambda_config_with_python_lambda_loads_when_unsafe():
    config = layers.Lambda(lambda x: x + 1).get_config()
    clone = layers.Lambda.from_config(config, safe_mode=False)
    torch.testing.assert_close(clone(torch.tensor([1.0])), torch.tensor([2.0]))


def test_lambda_passes_mask_and_training_when_the_function_takes_them():
    seen = {}

    def function(x, mask=None, training=None):
        seen.update(mask=mask, training=training)
        return x

    x = torch.ones(2, 3)
    x._keras_mask = torch.tensor([True, False])
    layers.Lambda(function)(x, training=True)
    assert seen["training"] is True
    assert seen["mask"].tolist() == [True, False]


def test_lambda_declared_output_shape_is_used_for_symbolic_inputs():
    layer = layers.Lambda(lambda x: x[:, :2], output_shape=(2,))
    assert layer.compute_output_shape((None, 5)) == (None, 2)
    assert layer(keras.Input(shape=(5,))).shape == (None, 2)


def test_lambda_output_shape_is_inferred_by_tracing_without_declaration():
    layer = layers.Lambda(lambda x: x.reshape(x.shape[0], -1, 2))
    assert layer.compute_output_shape((4, 6)) == (4, 3, 2)


def _spy_fused_linear(monkeypatch):
    calls = []
    real = keras.kernels.fused_linear

    def spy(x, weight, bias=None, activation=None):
        calls.append(activation)
        return real(x, weight, bias, activation)

    monkeypatch.setattr("tritonlayers.layers.core.kernels.fused_linear", spy)
    return calls


def test_dense_with_fused_activation_is_one_fused_linear_call(monkeypatch):
    calls = _spy_fused_linear(monkeypatch)
    layers.Dense(3, activation="swish")(torch.randn(2, 4))
    assert calls == ["silu"]


def test_dense_with_other_activation_applies_it_after_fused_linear(monkeypatch):
    calls = _spy_fused_linear(monkeypatch)
    layers.Dense(3, activation="elu")(torch.randn(2, 4))
    assert calls == [None]


def test_dense_never_fuses_a_user_function_that_shares_a_builtin_name(monkeypatch):
    def relu(x):
        return x * 2.0

    calls = _spy_fused_linear(monkeypatch)
    layer = layers.Dense(3, activation=relu)
    out = layer(torch.randn(2, 4))
    assert calls == [None]
    assert bool((out < 0).any())
