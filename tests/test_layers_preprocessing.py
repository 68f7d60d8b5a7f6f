"""Rescaling and Normalization (adapt) against NumPy formulas; `keras.layers.Input`."""

import numpy as np
import pytest
import torch

import tritonlayers as keras
from tritonlayers import layers


def test_layers_input_is_the_functional_input():
    assert layers.Input is keras.Input


def test_rescaling_multiplies_and_offsets():
    x = np.array([[0.0, 127.5, 255.0]], "float32")
    out = layers.Rescaling(1.0 / 127.5, offset=-1)(x)
    np.testing.assert_allclose(out.cpu().numpy(), [[-1.0, 0.0, 1.0]], atol=1e-6)


def test_rescaling_per_channel_scale_broadcasts_over_the_last_axis():
    out = layers.Rescaling([1.0, 2.0])(torch.ones(3, 2))
    torch.testing.assert_close(out.cpu(), torch.tensor([[1.0, 2.0]] * 3))


def test_rescaling_config_round_trip():
    layer = layers.Rescaling(0.5, offset=1.0)
    clone = layers.Rescaling.from_config(layer.get_config())
    assert (clone.scale, clone.offset) == (0.5, 1.0)


def test_normalization_adapt_standardizes_each_feature():
    data = np.random.default_rng(0).normal([1.0, -5.0], [2.0, 0.5], size=(200, 2))
    layer = layers.Normalization()
    layer.adapt(data)
    np.testing.assert_allclose(layer.adapt_mean.numpy(), data.mean(0), rtol=1e-5)
    np.testing.assert_allclose(layer.adapt_variance.numpy(), data.var(0), rtol=1e-5)
    assert int(layer.count.numpy()) == 200
    out = layer(data.astype("float32")).cpu().numpy()
    np.testing.assert_allclose(out, (data - data.mean(0)) / data.std(0), atol=1e-4)


def test_normalization_statistics_are_non_trainable_weights():
    layer = layers.Normalization()
    layer.adapt(np.ones((4, 3)))
    assert [w.name for w in layer.non_trainable_weights] == ["mean", "variance", "count"]
    assert layer.trainable_weights == []


def test_normalization_axis_none_uses_one_scalar_mean_and_variance():
    data = np.arange(12.0).reshape(3, 4)
    layer = layers.Normalization(axis=None)
    layer.adapt(data)
    expected = (data - data.mean()) / data.std()
    np.testing.assert_allclose(layer(data).cpu().numpy(), expected, atol=1e-5)


def test_normalization_with_given_statistics_and_invert_round_trips():
    x = np.array([[3.0, 4.0]], "float32")
    normalize = layers.Normalization(mean=[1.0, 2.0], variance=[4.0, 1.0])
    restore = layers.Normalization(mean=[1.0, 2.0], variance=[4.0, 1.0], invert=True)
    np.testing.assert_allclose(normalize(x).cpu().numpy(), [[1.0, 2.0]])
    np.testing.assert_allclose(restore(normalize(x)).cpu().numpy(), x)


def test_normalization_requires_both_mean_and_variance():
    with pytest.raises(ValueError, match="both `mean` and `variance` must be set"):
        layers.Normalization(mean=1.0)


def test_normalization_adapt_rejects_other_data_types():
    with pytest.raises(TypeError, match="takes a NumPy array or a tensor"):
        layers.Normalization().adapt(iter([np.ones((2, 2))]))


def test_adapted_normalization_survives_save_and_load(tmp_path):
    norm = layers.Normalization()
    norm.adapt(np.array([[0.0, 10.0], [2.0, 30.0]]))
    model = keras.Sequential([keras.Input((2,)), norm, layers.Dense(1)])
    model.save(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras")
    x = np.array([[1.0, 20.0]], "float32")
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))
