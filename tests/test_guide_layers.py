"""The Layer parts of the subclassing guide, in Python, with only `import tritonlayers as keras`."""

import numpy as np
import pytest
import torch

import tritonlayers as keras
from tritonlayers import ops
from tritonlayers.layers.naming import clear_uids


@pytest.fixture(autouse=True)
def _fresh_names():
    clear_uids()


class Linear(keras.layers.Layer):
    def __init__(self, units=32, input_dim=32, **kwargs):
        super().__init__(**kwargs)
        self.w = self.add_weight(
            shape=(input_dim, units), initializer="random_normal", trainable=True
        )
        self.b = self.add_weight(shape=(units,), initializer="zeros", trainable=True)

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b


class ComputeSum(keras.layers.Layer):
    def __init__(self, input_dim):
        super().__init__()
        self.total = self.add_weight(initializer="zeros", shape=(input_dim,), trainable=False)

    def call(self, inputs):
        self.total.assign_add(ops.sum(inputs, axis=0))
        return self.total


class LazyLinear(keras.layers.Layer):
    def __init__(self, units=32, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(
            shape=(input_shape[-1], self.units), initializer="random_normal", trainable=True
        )
        self.b = self.add_weight(shape=(self.units,), initializer="zeros", trainable=True)

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b

    def get_config(self):
        return {**super().get_config(), "units": self.units}


class MLPBlock(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.linear_1 = LazyLinear(32)
        self.linear_2 = LazyLinear(32)
        self.linear_3 = LazyLinear(1)

    def call(self, inputs):
        x = self.linear_1(inputs)
        x = keras.activations.relu(x)
        x = self.linear_2(x)
        x = keras.activations.relu(x)
        return self.linear_3(x)


class ActivityRegularizationLayer(keras.layers.Layer):
    def __init__(self, rate=1e-2):
        super().__init__()
        self.rate = rate

    def call(self, inputs):
        self.add_loss(self.rate * ops.mean(inputs))
        return inputs


class OuterLayer(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.activity_reg = ActivityRegularizationLayer(1e-2)

    def call(self, inputs):
        return self.activity_reg(inputs)


class CustomDropout(keras.layers.Layer):
    def __init__(self, rate, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate
        self.seed_generator = keras.random.SeedGenerator(1337)

    def call(self, inputs, training=None):
        if training:
            return keras.random.dropout(inputs, rate=self.rate, seed=self.seed_generator)
        return inputs


def test_linear_computes_matmul_plus_bias_and_tracks_weights():
    x = ops.ones((2, 2))
    linear_layer = Linear(4, 2)
    y = linear_layer(x)
    expected = torch.ones(2, 2) @ linear_layer.w.detach().cpu() + linear_layer.b.detach().cpu()
    torch.testing.assert_close(y.detach().cpu(), expected, rtol=1e-6, atol=1e-6)
    assert [w.path for w in linear_layer.weights] == ["linear/variable", "linear/variable_1"]


def test_compute_sum_accumulates_in_its_non_trainable_weight():
    x = ops.ones((2, 2))
    my_sum = ComputeSum(2)
    assert ops.convert_to_numpy(my_sum(x)).tolist() == [2.0, 2.0]
    assert ops.convert_to_numpy(my_sum(x)).tolist() == [4.0, 4.0]
    assert len(my_sum.weights) == 1 and len(my_sum.non_trainable_weights) == 1
    assert my_sum.trainable_weights == []


def test_lazy_linear_creates_weights_on_first_call():
    linear_layer = LazyLinear(32)
    assert linear_layer.weights == []
    y = linear_layer(ops.ones((2, 2)))
    assert tuple(y.shape) == (2, 32) and tuple(linear_layer.w.shape) == (2, 32)


def test_mlp_block_has_six_trainable_weights():
    mlp = MLPBlock()
    y = mlp(ops.ones(shape=(3, 64)))
    assert tuple(y.shape) == (3, 1)
    assert len(mlp.weights) == 6 and len(mlp.trainable_weights) == 6


def test_random_normal_initializer_has_keras_moments():
    w = Linear(128, 64).w.detach().cpu().numpy()
    np.testing.assert_allclose([w.mean(), w.std()], [0.0, 0.05], atol=2e-3)


def test_outer_layer_losses_are_reset_every_call():
    layer = OuterLayer()
    assert len(layer.losses) == 0
    layer(ops.zeros((1, 1)))
    assert len(layer.losses) == 1
    layer(ops.zeros((1, 1)))
    assert len(layer.losses) == 1


def test_get_config_and_from_config_round_trip():
    layer = LazyLinear(units=64)
    config = layer.get_config()
    assert config["units"] == 64
    new_layer = LazyLinear.from_config(config)
    assert new_layer.units == 64 and new_layer.get_config() == config


def test_custom_dropout_drops_only_in_training_with_keras_scaling():
    layer = CustomDropout(0.5)
    x = ops.ones((64, 64))
    torch.testing.assert_close(layer(x), x)
    y = ops.convert_to_numpy(layer(x, training=True))
    assert set(np.unique(y).tolist()) <= {0.0, 2.0}
    assert abs((y == 0).mean() - 0.5) < 0.03


def test_custom_dropout_is_reproducible_from_seed_generator():
    x = ops.ones((16, 16))
    first = ops.convert_to_numpy(CustomDropout(0.5)(x, training=True))
    second = ops.convert_to_numpy(CustomDropout(0.5)(x, training=True))
    np.testing.assert_array_equal(first, second)


def test_custom_dropout_seed_state_is_a_variable_not_a_weight():
    layer = CustomDropout(0.5)
    assert layer.weights == [] and layer.variables == [layer.seed_generator.state]
