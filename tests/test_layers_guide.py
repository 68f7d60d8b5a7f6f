"""The subclassing guide's MLPBlock, OuterLayerWithKernelRegularizer and Sampling/Encoder
examples (shared/reference/keras-subclassing-guide-R.txt in Python), with only the import
changed from `import keras` to `import tritonlayers as keras`.
"""

import torch

import tritonlayers as keras
from tritonlayers import layers, ops


class Linear(keras.layers.Layer):
    def __init__(self, units=32):
        super().__init__()
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(
            shape=(input_shape[-1], self.units), initializer="random_normal", trainable=True
        )
        self.b = self.add_weight(shape=(self.units,), initializer="zeros", trainable=True)

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b


class MLPBlock(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.linear_1 = Linear(32)
        self.linear_2 = Linear(32)
        self.linear_3 = Linear(1)

    def call(self, inputs):
        x = self.linear_1(inputs)
        x = keras.activations.relu(x)
        x = self.linear_2(x)
        x = keras.activations.relu(x)
        return self.linear_3(x)


class OuterLayerWithKernelRegularizer(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(32, kernel_regularizer=keras.regularizers.l2(1e-3))

    def call(self, inputs):
        return self.dense(inputs)


class Sampling(keras.layers.Layer):
    """Uses (z_mean, z_log_var) to sample z, the vector encoding a digit."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(1337)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        batch = ops.shape(z_mean)[0]
        dim = ops.shape(z_mean)[1]
        epsilon = keras.random.normal(shape=(batch, dim), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon


class Encoder(keras.layers.Layer):
    """Maps MNIST digits to a triplet (z_mean, z_log_var, z)."""

    def __init__(self, latent_dim=32, intermediate_dim=64, name="encoder", **kwargs):
        super().__init__(name=name, **kwargs)
        self.dense_proj = layers.Dense(intermediate_dim, activation="relu")
        self.dense_mean = layers.Dense(latent_dim)
        self.dense_log_var = layers.Dense(latent_dim)
        self.sampling = Sampling()

    def call(self, inputs):
        x = self.dense_proj(inputs)
        z_mean = self.dense_mean(x)
        z_log_var = self.dense_log_var(x)
        z = self.sampling((z_mean, z_log_var))
        return z_mean, z_log_var, z


def test_mlp_block_creates_six_trainable_weights_on_first_call():
    mlp = MLPBlock()
    y = mlp(ops.ones(shape=(3, 64)))
    assert tuple(y.shape) == (3, 1)
    assert len(mlp.weights) == 6
    assert len(mlp.trainable_weights) == 6


def test_outer_layer_kernel_regularizer_loss_is_l2_of_dense_kernel():
    layer = OuterLayerWithKernelRegularizer()
    layer(ops.zeros((1, 1)))
    assert len(layer.losses) == 1
    expected = 1e-3 * torch.sum(layer.dense.kernel.detach() ** 2)
    torch.testing.assert_close(layer.losses[0], expected)


def test_guide_sampling_layer_draws_seeded_gaussian_noise():
    z_mean, z_log_var = torch.randn(6, 4), torch.randn(6, 4)
    z = Sampling()((z_mean, z_log_var))
    epsilon = keras.random.normal((6, 4), seed=keras.random.SeedGenerator(1337))
    torch.testing.assert_close(z, z_mean + torch.exp(0.5 * z_log_var) * epsilon)


def test_guide_encoder_returns_mean_log_var_and_sample_of_latent_size():
    z_mean, z_log_var, z = Encoder(latent_dim=8, intermediate_dim=16)(torch.rand(5, 784))
    assert [tuple(t.shape) for t in (z_mean, z_log_var, z)] == [(5, 8)] * 3


def test_builtin_sampling_is_a_drop_in_for_the_guide_sampling_layer():
    z_mean, z_log_var = torch.randn(6, 4), torch.randn(6, 4)
    z = keras.layers.Sampling(seed=1337)((z_mean, z_log_var))
    eps = keras.layers.Sampling(seed=1337)((torch.zeros(6, 4), torch.zeros(6, 4)))
    torch.testing.assert_close(z, z_mean + torch.exp(0.5 * z_log_var) * eps, rtol=1e-5, atol=1e-6)
