"""Models built from the built-in layers save to .keras and load back with equal outputs."""

import pytest
import torch

import tritonlayers as keras
from tritonlayers import layers


def _round_trip(model, path):
    model.save(path)
    return keras.saving.load_model(path)


def test_sequence_model_with_masks_rnns_norm_and_sampling_reloads_equal(tmp_path):
    ids = keras.Input(shape=(6,), dtype="int32")
    x = layers.Embedding(10, 4, mask_zero=True)(ids)
    x = layers.Bidirectional(layers.LSTM(3, return_sequences=True))(x)
    x = layers.GRU(5)(x)
    x = layers.BatchNormalization()(layers.Dense(8, activation="relu")(x))
    x = layers.Dropout(0.2)(x)
    z_mean, z_log_var = layers.Dense(2)(x), layers.Dense(2)(x)
    z = layers.Sampling(kl_weight=0.5, seed=3)([z_mean, z_log_var])
    model = keras.Model(ids, layers.Concatenate()([z, z_mean]))
    batch = torch.tensor([[1, 2, 3, 0, 0, 0], [4, 5, 0, 0, 0, 0]])
    model(batch, training=True)
    loaded = _round_trip(model, tmp_path / "sequence.keras")
    torch.testing.assert_close(loaded(batch), model(batch))


def test_conv_model_reloads_equal(tmp_path):
    model = keras.Sequential(
        [
            keras.Input(shape=(8, 8, 3)),
            layers.Conv2D(4, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(),
            layers.SeparableConv2D(4, 3),
            layers.Conv2DTranspose(2, 3, strides=2, padding="same"),
            layers.GroupNormalization(groups=2),
            layers.GlobalAveragePooling2D(),
            layers.Dense(2),
        ]
    )
    images = torch.randn(2, 8, 8, 3)
    loaded = _round_trip(model, tmp_path / "conv.keras")
    torch.testing.assert_close(loaded(images), model(images))


def test_lambda_model_loads_only_outside_safe_mode(tmp_path):
    model = keras.Sequential([keras.Input(shape=(3,)), layers.Lambda(lambda t: t * 2)])
    path = tmp_path / "lambda.keras"
    model.save(path)
    with pytest.raises(ValueError, match="lambda"):
        keras.saving.load_model(path)
    loaded = keras.saving.load_model(path, safe_mode=False)
    torch.testing.assert_close(loaded(torch.ones(1, 3)), torch.full((1, 3), 2.0))
