"""keras.io developer guides (Keras 3) run with only the import changed, compared with Keras.

"Training & evaluation with the built-in methods", "Understanding masking and padding",
"Serialization and saving" / "Customizing saving and serialization" and "Transfer learning
& fine-tuning" were run on tiny synthetic data under Keras 3.15 (torch backend) and under
tritonlayers; each test below pins a difference that run found (and that is now fixed), with
the behaviour Keras 3.15 showed.
"""

import os
import warnings
import zipfile

import numpy as np
import pytest

import tritonlayers as keras
from tritonlayers import layers, ops
from tritonlayers.saving.archive import archive_bytes
from tritonlayers.saving.assets import collect_assets, restore_assets
from tritonlayers.saving.errors import ArchiveError
from tritonlayers.saving.saving_api import model_entries, model_from_bytes

X = np.random.default_rng(0).random((8, 3)).astype("float32")
Y = np.random.default_rng(1).random((8, 2)).astype("float32")


def _dense_model():
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2, kernel_initializer="ones")])
    return model


# ------------------------------------------------------ training & evaluation guide


def test_recompiling_without_loss_keeps_the_previous_loss_and_metrics():
    # Keras 3.15: `compile(optimizer=...)` after `compile(loss="mse", metrics=["mae"])` keeps
    # training on "mse" and reporting "mae" (only the optimizer changes).
    model = _dense_model()
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    model.compile(optimizer=keras.optimizers.SGD(0.0))
    history = model.fit(X, Y, batch_size=8, epochs=1, verbose=0)
    assert list(history.history) == ["loss", "mae"]
    expected = np.mean((X @ np.ones((3, 2)) - Y) ** 2)
    np.testing.assert_allclose(history.history["loss"][0], expected, rtol=1e-5)
    assert model.get_compile_config()["loss"] is None  # as Keras records the call's arguments


def test_recompiling_with_a_new_loss_but_no_metrics_keeps_the_metrics():
    # Keras 3.15 printed ['loss', 'mse'] for the second fit: the compiled "mse" metric stays.
    model = _dense_model()
    model.compile(optimizer="sgd", loss="mse", metrics=["mse"])
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mae")
    history = model.fit(X, Y, batch_size=8, epochs=1, verbose=0)
    assert list(history.history) == ["loss", "mse"]
    np.testing.assert_allclose(
        history.history["loss"][0], np.mean(np.abs(X @ np.ones((3, 2)) - Y)), rtol=1e-5
    )


def test_recompiling_with_new_metrics_replaces_them():
    model = _dense_model()
    model.compile(optimizer="sgd", loss="mse", metrics=["mse"])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    history = model.fit(X, Y, batch_size=8, epochs=1, verbose=0)
    assert list(history.history) == ["loss", "mae"]


def test_first_compile_without_loss_still_has_no_compiled_loss():
    model = _dense_model()
    model.compile(optimizer="sgd")
    with pytest.raises(ValueError, match="No loss to compute"):
        model.fit(X, Y, verbose=0)


# ---------------------------------------------------------------- masking guide


def test_embedding_with_mask_zero_attaches_a_symbolic_mask():
    # The guide's `print("Mask found:", x._keras_mask)` printed a KerasTensor under Keras.
    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(input_dim=50, output_dim=4, mask_zero=True)(inputs)
    assert x._keras_mask is not None
    assert x._keras_mask.shape == (None, None)
    assert x._keras_mask.dtype == "bool"


def test_masking_layer_attaches_a_symbolic_mask():
    outputs = layers.Masking()(keras.Input(shape=(5, 4)))
    assert outputs._keras_mask is not None
    assert outputs._keras_mask.shape == (None, 5)


def test_supports_masking_layer_passes_a_symbolic_mask_on():
    class MyActivation(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.supports_masking = True

        def call(self, inputs):
            return ops.relu(inputs)

    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(input_dim=50, output_dim=4, mask_zero=True)(inputs)
    x = MyActivation()(x)
    assert x._keras_mask is not None and x._keras_mask.shape == (None, None)


def test_mask_consuming_layer_gets_the_mask_when_building_a_functional_model():
    # The guide's TemporalSoftmax asserts `mask is not None` in `call`; building the model
    # failed before symbolic Embedding outputs carried their mask.
    class TemporalSoftmax(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.supports_masking = True

        def call(self, inputs, mask=None):
            assert mask is not None
            weights = ops.expand_dims(ops.cast(mask, "float32"), -1)
            exps = ops.exp(inputs) * weights
            return exps / ops.sum(exps, axis=-1, keepdims=True)

    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(input_dim=10, output_dim=3, mask_zero=True)(inputs)
    x = layers.Dense(1)(x)
    model = keras.Model(inputs, TemporalSoftmax()(x))
    tokens = np.array([[3, 1, 0, 0], [2, 0, 0, 0]])
    y = ops.convert_to_numpy(model(tokens))
    assert y.shape == (2, 4, 1)
    np.testing.assert_array_equal(y[..., 0] > 0, tokens > 0)


def test_custom_embedding_compute_mask_without_supports_masking_runs_symbolically():
    class CustomEmbedding(layers.Layer):
        def build(self, input_shape):
            self.embeddings = self.add_weight(shape=(10, 2), initializer="ones")

        def call(self, inputs):
            return ops.take(self.embeddings, ops.cast(inputs, "int32"), axis=0)

        def compute_mask(self, inputs, mask=None):
            return ops.not_equal(inputs, 0)

    x = CustomEmbedding()(keras.Input(shape=(6,), dtype="int32"))
    assert x.shape == (None, 6, 2)
    assert x._keras_mask is not None and x._keras_mask.shape == (None, 6)


@pytest.mark.parametrize("merge", [layers.Concatenate, layers.Add])
def test_merge_layers_attach_the_merged_symbolic_mask(merge):
    # Keras 3.15 printed a (None, None) mask for both merged outputs.
    inputs = keras.Input((None,), dtype="int32")
    x = layers.Embedding(5, 3, mask_zero=True)(inputs)
    merged = merge()([layers.Dense(2)(x), layers.Dense(2)(x)])
    assert merged._keras_mask is not None and merged._keras_mask.shape == (None, None)


@pytest.mark.parametrize("layer_class", ["GlobalMaxPooling1D", "GlobalAveragePooling2D"])
def test_global_pooling_other_than_average_1d_does_not_support_masking(layer_class):
    # Keras 3.15: only GlobalAveragePooling1D supports masking; the others warn on a mask.
    assert getattr(layers, layer_class)().supports_masking is False
    assert layers.GlobalAveragePooling1D().supports_masking is True


def test_global_max_pooling_1d_warns_that_it_drops_a_mask():
    inputs = keras.Input((4, 2))
    model = keras.Model(inputs, layers.GlobalMaxPooling1D()(layers.Masking()(inputs)))
    x = np.ones((2, 4, 2), "float32")
    x[0, 2:] = 0.0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        y = ops.convert_to_numpy(model(x))
    assert any("does not support masking" in str(w.message) for w in caught)
    np.testing.assert_allclose(y, [[1.0, 1.0], [1.0, 1.0]])  # max over all steps, as Keras


# ------------------------------------------------------------ saving guides


class LayerWithCustomAssets(layers.Dense):
    """The customizing-saving guide's layer: its vocabulary travels as an asset file."""

    def __init__(self, vocab=None, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.vocab = vocab

    def save_assets(self, inner_path):
        with open(os.path.join(inner_path, "vocabulary.txt"), "w") as f:
            f.write(self.vocab)

    def load_assets(self, inner_path):
        with open(os.path.join(inner_path, "vocabulary.txt")) as f:
            self.vocab = f.read().replace("<unk>", "little")


def test_save_assets_and_load_assets_round_trip_through_a_keras_archive(tmp_path):
    # Keras 3.15 printed "Mary had a little lamb." for the restored layer's vocab.
    model = keras.Sequential([LayerWithCustomAssets(vocab="Mary had a <unk> lamb.", units=5)])
    x = np.random.default_rng(2).random((4, 10)).astype("float32")
    expected = ops.convert_to_numpy(model(x))
    path = str(tmp_path / "custom_assets_model.keras")
    model.save(path)
    with zipfile.ZipFile(path) as archive:
        assert "assets/model/layer_with_custom_assets/vocabulary.txt" in archive.namelist()
    restored = keras.models.load_model(
        path, custom_objects={"LayerWithCustomAssets": LayerWithCustomAssets}
    )
    assert restored.layers[0].vocab == "Mary had a little lamb."
    np.testing.assert_allclose(ops.convert_to_numpy(restored(x)), expected, rtol=1e-6)
    model.load_weights(path)  # a `.keras` file with assets still loads as weights


def test_assets_of_nested_layers_go_to_their_own_layer(tmp_path):
    class Block(keras.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.first = LayerWithCustomAssets(vocab="one", units=2)
            self.second = LayerWithCustomAssets(vocab="two", units=2)

        def call(self, x):
            return self.second(self.first(x))

    model = Block()
    model(np.ones((1, 3), "float32"))
    twin = Block()
    twin(np.ones((1, 3), "float32"))
    restore_assets(twin, collect_assets(model))
    assert (twin.first.vocab, twin.second.vocab) == ("one", "two")


def test_archive_still_refuses_entries_outside_the_assets_folder(tmp_path):
    model = keras.Sequential([keras.Input((2,)), layers.Dense(1)])
    entries = {**model_entries(model), "assets/model/x.txt": b"ok", "payload.py": b"x"}
    with pytest.raises(ArchiveError, match=r"unexpected entries \['payload.py'\]"):
        model_from_bytes(archive_bytes(entries))
    entries.pop("payload.py")
    assert model_from_bytes(archive_bytes(entries)).count_params() == 3


def test_compiled_metrics_skip_masked_timesteps_like_the_loss():
    # Keras 3.15 weights compiled metrics by the output mask (evaluate printed mae 0.48003
    # on the masked-LSTM program of this file's survey); they used to count padded steps.
    tokens = np.array([[1, 2, 0, 0], [3, 0, 0, 0]])
    table = np.arange(8, dtype="float32").reshape(4, 2) / 4.0
    inputs = keras.Input((None,), dtype="int32")
    x = layers.Embedding(4, 2, mask_zero=True, embeddings_initializer="zeros")(inputs)
    outputs = layers.Dense(1, kernel_initializer="ones", bias_initializer="zeros")(x)
    model = keras.Model(inputs, outputs)
    model.layers[1].embeddings.assign(table)
    model.compile(optimizer="sgd", loss="mae", metrics=["mae"], weighted_metrics=["mse"])
    y = np.full((2, 4, 1), 0.5, dtype="float32")
    logs = model.evaluate(tokens, y, verbose=0, return_dict=True)
    error = (table.sum(axis=1)[tokens] - 0.5)[tokens > 0]
    np.testing.assert_allclose(logs["mae"], np.abs(error).mean(), rtol=1e-6)
    np.testing.assert_allclose(logs["mse"], np.square(error).mean(), rtol=1e-6)
    np.testing.assert_allclose(logs["loss"], logs["mae"], rtol=1e-6)


# ---------------------------------------------------------- transfer learning guide


def _frozen_base_model():
    inputs = keras.Input((4, 4, 2))
    x = layers.Conv2D(3, 2, use_bias=False)(inputs)
    x = layers.BatchNormalization()(x)
    outputs = layers.GlobalAveragePooling2D()(layers.Activation("relu")(x))
    return keras.Model(inputs, outputs, name="base")


def test_unfrozen_base_called_with_training_false_keeps_batch_norm_in_inference_mode():
    # Deliberate difference: Keras 3.15 lets the outer `fit` flag override the recorded
    # `training=False` (its moving mean moved); the guide promises inference mode, and
    # tritonlayers keeps it.
    base_model = _frozen_base_model()
    base_model.trainable = False
    inputs = keras.Input((4, 4, 2))
    outputs = layers.Dense(1)(base_model(inputs, training=False))
    model = keras.Model(inputs, outputs)
    assert (len(model.trainable_weights), len(model.non_trainable_weights)) == (2, 5)
    base_model.trainable = True
    assert (len(model.trainable_weights), len(model.non_trainable_weights)) == (5, 2)
    model.compile(optimizer=keras.optimizers.Adam(1e-5), loss="mse")
    batch_norm = base_model.layers[2]
    before = ops.convert_to_numpy(batch_norm.moving_mean).copy()
    kernel_before = ops.convert_to_numpy(base_model.layers[1].kernel).copy()
    x = np.random.default_rng(3).random((6, 4, 4, 2)).astype("float32")
    model.fit(x, np.zeros((6, 1), "float32"), epochs=2, batch_size=3, verbose=0)
    np.testing.assert_array_equal(ops.convert_to_numpy(batch_norm.moving_mean), before)
    # ...while the unfrozen convolution does train.
    assert not np.allclose(ops.convert_to_numpy(base_model.layers[1].kernel), kernel_before)


def test_conflicting_asset_entries_raise_an_archive_error():
    model = keras.Sequential([LayerWithCustomAssets(vocab="v", units=1)])
    model(np.ones((1, 2), "float32"))
    prefix = "assets/model/layer_with_custom_assets/"
    entries = {prefix + "a": b"file", prefix + "a/b": b"file below a file"}
    with pytest.raises(ArchiveError, match="cannot be unpacked"):
        restore_assets(model, entries)


def test_custom_class_defined_in_a_script_serializes_with_module_none():
    # Keras 3.15 printed {'module': None, ..., 'registered_name': 't>Halve'} for a schedule
    # registered in a script (`__main__`); a class in an importable module keeps its module.
    namespace = {"keras": keras, "__name__": "__main__"}
    exec(
        "@keras.saving.register_keras_serializable(package='guides2')\n"
        "class Halve(keras.optimizers.schedules.LearningRateSchedule):\n"
        "    def __init__(self, lr): self.lr = lr\n"
        "    def __call__(self, step): return self.lr / (step + 1)\n"
        "    def get_config(self): return {'lr': self.lr}\n",
        namespace,
    )
    config = keras.saving.serialize_keras_object(namespace["Halve"](0.1))
    assert config["module"] is None and config["registered_name"] == "guides2>Halve"
    restored = keras.saving.deserialize_keras_object(config)
    assert type(restored) is namespace["Halve"] and restored.lr == 0.1
    assert keras.saving.serialize_keras_object(LayerWithCustomAssets(units=1))["module"] == (
        __name__
    )


def _mlp(with_dropout: bool):
    inputs = keras.Input(shape=(6,), name="digits")
    x = layers.Dense(4, activation="relu", name="dense_1")(inputs)
    if with_dropout:
        x = layers.Dropout(0.5)(x)
    return keras.Model(inputs, layers.Dense(2, name="predictions")(x))


@pytest.mark.parametrize("source_dropout", [False, True])
def test_weights_load_into_the_same_model_with_or_without_an_extra_dropout(
    tmp_path, source_dropout
):
    # The serialization guide loads saved weights into the same MLP plus a `Dropout`; Keras
    # 3.15 keeps random-generator state out of weights files, so both directions load.
    source, target = _mlp(source_dropout), _mlp(not source_dropout)
    path = str(tmp_path / "pretrained.weights.safetensors")
    source.save_weights(path)
    target.load_weights(path)
    for expected, loaded in zip(source.get_weights(), target.get_weights()):
        np.testing.assert_array_equal(loaded, expected)


def test_weights_file_missing_a_real_weight_still_fails(tmp_path):
    path = str(tmp_path / "small.weights.safetensors")
    keras.Sequential([keras.Input((6,)), layers.Dense(4, name="dense_1")]).save_weights(path)
    with pytest.raises(ArchiveError, match="missing from the file"):
        _mlp(True).load_weights(path)


def test_too_many_asset_files_fail_at_save_not_at_load(tmp_path):
    class ManyFiles(layers.Layer):
        def save_assets(self, inner_path):
            for index in range(80):
                with open(os.path.join(inner_path, f"part_{index}.txt"), "w") as f:
                    f.write("x")

    model = keras.Sequential([keras.Input((2,)), ManyFiles()])
    with pytest.raises(ValueError, match="wrote 80 files, but a `.keras` archive holds at most"):
        model.save(str(tmp_path / "many.keras"))
    assert not (tmp_path / "many.keras").exists()
