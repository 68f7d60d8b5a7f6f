"""TimeDistributed: one layer applied to every timestep with shared weights."""

import numpy as np
import pytest
import torch

import tritonlayers as keras
from tritonlayers import layers


def test_time_distributed_dense_equals_the_dense_on_each_step():
    x = torch.randn(2, 4, 3)
    td = layers.TimeDistributed(layers.Dense(5))
    out = td(x)
    for step in range(4):
        torch.testing.assert_close(out[:, step], td.layer(x[:, step]))
    assert [tuple(w.shape) for w in td.weights] == [(3, 5), (5,)]


def test_time_distributed_conv_keeps_the_time_axis():
    out = layers.TimeDistributed(layers.Conv2D(2, 3))(torch.ones(2, 5, 6, 6, 1))
    assert tuple(out.shape) == (2, 5, 4, 4, 2)


def test_time_distributed_passes_the_training_flag():
    td = layers.TimeDistributed(layers.Dropout(0.5))
    x = torch.ones(2, 3, 100)
    torch.testing.assert_close(td(x).cpu(), x)
    assert (td(x, training=True) == 0).any()


def test_time_distributed_needs_a_layer_and_a_time_axis():
    with pytest.raises(ValueError, match="with a `keras.layers.Layer` instance"):
        layers.TimeDistributed(torch.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="at least rank 3"):
        layers.TimeDistributed(layers.Dense(2))(torch.ones(2, 3))


def test_time_distributed_model_saves_and_loads(tmp_path):
    inputs = keras.Input((4, 3))
    model = keras.Model(inputs, layers.TimeDistributed(layers.Dense(2))(inputs))
    model.save(tmp_path / "td.keras")
    restored = keras.saving.load_model(tmp_path / "td.keras")
    x = np.random.default_rng(0).normal(size=(2, 4, 3)).astype("float32")
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))
