"""keras.activations: formulas, Keras's relu options, get/serialize/deserialize."""

import numpy as np
import pytest
import torch

import tritonlayers as keras
from tritonlayers import activations

X = np.linspace(-8.0, 8.0, 33).astype(np.float32)
X64 = X.astype(np.float64)


def assert_matches(result, expected, atol=1e-5):
    np.testing.assert_allclose(keras.ops.convert_to_numpy(result), expected, atol=atol, rtol=1e-5)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


FORMULAS = {
    "relu": lambda x: np.maximum(x, 0),
    "relu6": lambda x: np.clip(x, 0, 6),
    "sigmoid": _sigmoid,
    "tanh": np.tanh,
    "softplus": lambda x: np.log1p(np.exp(x)),
    "softsign": lambda x: x / (1 + np.abs(x)),
    "silu": lambda x: x * _sigmoid(x),
    "swish": lambda x: x * _sigmoid(x),
    "elu": lambda x: np.where(x > 0, x, np.expm1(x)),
    "selu": lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * np.expm1(x)),
    "leaky_relu": lambda x: np.where(x >= 0, x, 0.2 * x),
    "hard_sigmoid": lambda x: np.clip(x / 6 + 0.5, 0, 1),
    "hard_silu": lambda x: x * np.clip(x / 6 + 0.5, 0, 1),
    "exponential": np.exp,
    "linear": lambda x: x,
    "mish": lambda x: x * np.tanh(np.log1p(np.exp(x))),
    "log_sigmoid": lambda x: np.log(_sigmoid(x)),
    "gelu": lambda x: 0.5 * x * (1 + np.vectorize(__import__("math").erf)(x / np.sqrt(2))),
    "softmax": lambda x: np.exp(x - x.max()) / np.exp(x - x.max()).sum(),
    "log_softmax": lambda x: x - x.max() - np.log(np.exp(x - x.max()).sum()),
    "hard_tanh": lambda x: np.clip(x, -1, 1),
    "hard_shrink": lambda x: np.where(np.abs(x) > 0.5, x, 0.0),
    "soft_shrink": lambda x: np.sign(x) * np.maximum(np.abs(x) - 0.5, 0.0),
    "tanh_shrink": lambda x: x - np.tanh(x),
    "sparse_plus": lambda x: np.where(x <= -1, 0.0, np.where(x >= 1, x, (x + 1) ** 2 / 4)),
    "sparse_sigmoid": lambda x: np.clip((x + 1) / 2, 0, 1),
    "squareplus": lambda x: (x + np.sqrt(x * x + 4)) / 2,
}


@pytest.mark.parametrize("name", sorted(FORMULAS))
def test_activation_matches_formula(name):
    assert_matches(getattr(activations, name)(X), FORMULAS[name](X64), atol=1e-4)


@pytest.mark.parametrize(
    "kwargs,formula",
    [
        ({"negative_slope": 0.1}, lambda x: np.where(x > 0, x, 0.1 * x)),
        ({"max_value": 2.5}, lambda x: np.clip(x, 0, 2.5)),
        ({"threshold": 1.0}, lambda x: np.where(x > 1.0, x, 0.0)),
        (
            {"negative_slope": 0.1, "threshold": 1.0, "max_value": 3.0},
            lambda x: np.where(x > 1.0, np.minimum(x, 3.0), 0.1 * (x - 1.0)),
        ),
    ],
    ids=["negative_slope", "max_value", "threshold", "all_three"],
)
def test_relu_options_follow_keras(kwargs, formula):
    assert_matches(activations.relu(X, **kwargs), formula(X64))


def test_threshold_activation_replaces_values_at_or_below_it():
    assert_matches(activations.threshold(X, 1.0, -5.0), np.where(X64 > 1.0, X64, -5.0))


def _sparsemax_reference(z):
    ordered = np.sort(z)[::-1]
    totals = np.cumsum(ordered)
    k = np.arange(1, len(z) + 1)
    size = k[1 + k * ordered > totals].max()
    tau = (totals[size - 1] - 1) / size
    return np.maximum(z - tau, 0.0)


def test_sparsemax_projects_rows_onto_the_simplex():
    rows = np.array([[1.0, 2.0, 3.0], [0.1, 0.2, 0.15], [-1.0, 0.5, 0.4]])
    result = activations.sparsemax(rows.astype(np.float32))
    assert_matches(result, np.stack([_sparsemax_reference(r) for r in rows]))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(result).sum(-1), 1.0, rtol=1e-6)
    assert_matches(
        activations.sparsemax(rows.T.astype(np.float32), axis=0),
        keras.ops.convert_to_numpy(result).T,
    )


def test_activations_accept_numpy_and_return_tensors():
    assert isinstance(activations.sigmoid(X), torch.Tensor)


def test_activation_gradient_flows():
    x = torch.tensor(X64 + 0.123, requires_grad=True)  # away from the kinks
    assert torch.autograd.gradcheck(
        lambda t: activations.relu(t, 0.1, 4.0, 0.5) + activations.mish(t), (x,)
    )


@pytest.mark.parametrize("name", sorted(FORMULAS))
def test_get_by_name_and_serialize_round_trip(name):
    fn = activations.get(name)
    assert fn is getattr(activations, name)
    assert activations.deserialize(activations.serialize(fn)) is fn


def test_swish_and_hard_swish_are_the_silu_functions():
    assert activations.get("swish") is activations.silu
    assert activations.get("hard_swish") is activations.hard_silu


def test_get_none_is_linear_and_callable_passes_through():
    assert activations.get(None) is activations.linear

    def custom(x):
        return x * 3

    assert activations.get(custom) is custom


def test_get_accepts_keras_function_config():
    config = {
        "module": "builtins",
        "class_name": "function",
        "config": "tanh",
        "registered_name": "function",
    }
    assert activations.get(config) is activations.tanh


def test_registered_custom_activation_serializes_with_registered_name():
    @keras.saving.register_keras_serializable(package="TestActivations")
    def scaled_tanh(x):
        return 2 * keras.ops.tanh(x)

    config = activations.serialize(scaled_tanh)
    assert config["config"] == "TestActivations>scaled_tanh"
    assert activations.deserialize(config) is scaled_tanh


def test_unknown_activation_name_raises():
    with pytest.raises(ValueError, match="Could not interpret activation function identifier"):
        activations.get("not_an_activation")
