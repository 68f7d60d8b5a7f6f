"""Whole-model saving: `.keras` round trips, optimizer continuity, weights files, JSON, pickle."""

import copy
import json
import pickle
import zipfile

import numpy as np
import pytest
import torch

import tritonlayers as keras
from tritonlayers import layers
from tritonlayers.saving import ArchiveError
from tritonlayers.saving.variable_keys import variable_keys


@keras.saving.register_keras_serializable(package="SavingTests")
class Linear(keras.Layer):
    """The guide's Linear layer, with a config."""

    def __init__(self, units=32, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal")
        self.b = self.add_weight(shape=(self.units,), initializer="random_normal")

    def call(self, inputs):
        return keras.ops.matmul(inputs, self.w) + self.b

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@keras.saving.register_keras_serializable(package="SavingTests")
class TwoLayerNet(keras.Model):
    """A subclassed model with nested custom and built-in layers, and dropout."""

    def __init__(self, hidden=8, classes=3, **kwargs):
        super().__init__(**kwargs)
        self.hidden, self.classes = hidden, classes
        self.body = Linear(hidden)
        self.dropout = layers.Dropout(0.25, seed=7)
        self.head = layers.Dense(classes)

    def call(self, inputs, training=None):
        return self.head(self.dropout(keras.ops.relu(self.body(inputs)), training=training))

    def get_config(self):
        return {**super().get_config(), "hidden": self.hidden, "classes": self.classes}


def make_sequential(hidden=8):
    return keras.Sequential(
        [
            keras.Input((6,)),
            layers.Dense(hidden, activation="relu"),
            layers.Dropout(0.2, seed=3),
            layers.Dense(3),
        ]
    )


def make_functional():
    inputs = keras.Input((6,), name="features")
    hidden = layers.Dense(8, activation="relu")(inputs)
    skip = layers.Dense(8)(inputs)
    outputs = layers.Dense(3)(layers.Add()([hidden, skip]))
    return keras.Model(inputs, outputs, name="two_branch")


def make_subclassed():
    model = TwoLayerNet()
    model(np.zeros((1, 6), "float32"))
    return model


BUILDERS = {
    "sequential": make_sequential,
    "functional": make_functional,
    "subclassed": make_subclassed,
}


def data(n=32, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 6)).astype("float32"), rng.integers(0, 3, size=(n,))


def compiled(builder):
    model = builder()
    model.compile(
        optimizer=keras.optimizers.Adam(0.01),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def weights_of(model):
    return [w.detach().cpu().numpy().copy() for w in model.weights]


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_reloaded_model_predicts_and_evaluates_exactly_like_the_original(tmp_path, kind):
    model = compiled(BUILDERS[kind])
    x, y = data()
    model.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    model.save(tmp_path / "model.keras")
    restored = keras.saving.load_model(tmp_path / "model.keras")
    assert type(restored) is type(model)
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))
    assert restored.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_reloaded_model_keeps_training_exactly_where_it_stopped(tmp_path, kind):
    model = compiled(BUILDERS[kind])
    x, y = data()
    model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    model.save(tmp_path / "model.keras")
    restored = keras.saving.load_model(tmp_path / "model.keras")
    assert int(restored.optimizer.iterations) == int(model.optimizer.iterations) == 8
    model.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    restored.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    for original, reloaded in zip(weights_of(model), weights_of(restored)):
        np.testing.assert_array_equal(reloaded, original)


def test_archive_holds_the_documented_entries(tmp_path):
    model = compiled(make_sequential)
    model.fit(*data(), epochs=1, batch_size=16, verbose=0)
    keras.saving.save_model(model, tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        names = sorted(archive.namelist())
        config = json.loads(archive.read("config.json"))
        metadata = json.loads(archive.read("metadata.json"))
    assert names == [
        "config.json",
        "metadata.json",
        "model.weights.safetensors",
        "optimizer.json",
        "optimizer.safetensors",
    ]
    assert {
        "module",
        "class_name",
        "config",
        "registered_name",
        "build_config",
        "compile_config",
    } <= set(config)
    assert config["class_name"] == "Sequential"
    assert metadata["tritonlayers_version"] == keras.__version__
    assert set(metadata) == {"tritonlayers_version", "date_saved"}


def test_load_model_without_compile_skips_compile_and_optimizer(tmp_path):
    model = compiled(make_sequential)
    model.save(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras", compile=False)
    assert restored.optimizer is None
    np.testing.assert_array_equal(
        restored.predict(data()[0], verbose=0), model.predict(data()[0], verbose=0)
    )


def test_uncompiled_model_round_trips(tmp_path):
    model = make_functional()
    model.save(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras")
    assert restored.name == "two_branch"
    for original, reloaded in zip(weights_of(model), weights_of(restored)):
        np.testing.assert_array_equal(reloaded, original)


def test_unregistered_custom_class_loads_with_custom_objects(tmp_path):
    class Scale(keras.Layer):
        def call(self, inputs):
            return 2.0 * inputs

    inputs = keras.Input((3,))
    model = keras.Model(inputs, Scale()(layers.Dense(2)(inputs)))
    model.save(tmp_path / "m.keras")
    with pytest.raises(ArchiveError, match="Scale"):
        keras.saving.load_model(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras", custom_objects={"Scale": Scale})
    x = data()[0][:, :3]
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))


def test_save_model_requires_the_keras_extension(tmp_path):
    with pytest.raises(ValueError, match=r"`\.keras` extension"):
        keras.saving.save_model(make_sequential(), tmp_path / "model.zip")


def test_load_model_of_a_missing_file_is_keras_value_error(tmp_path):
    with pytest.raises(ValueError, match=r"File not found: filepath=.*missing\.keras"):
        keras.saving.load_model(tmp_path / "missing.keras")


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_weights_file_loads_into_a_second_instance_built_in_the_same_process(tmp_path, kind):
    source, target = BUILDERS[kind](), BUILDERS[kind]()
    source.save_weights(tmp_path / "w.weights.safetensors")
    target.load_weights(tmp_path / "w.weights.safetensors")
    x = data()[0]
    np.testing.assert_array_equal(target.predict(x, verbose=0), source.predict(x, verbose=0))


def test_weights_file_keys_are_structural_variable_paths(tmp_path):
    keras.saving.save_weights(make_subclassed(), tmp_path / "w.weights.safetensors")
    tensors, _ = keras.saving.safetensors_io.load_file(tmp_path / "w.weights.safetensors")
    assert list(tensors) == [
        "linear/variable",
        "linear/variable_1",
        "dropout/seed_generator_state",
        "dense/kernel",
        "dense/bias",
    ]


def test_load_weights_from_a_keras_archive(tmp_path):
    source, target = make_functional(), make_functional()
    source.save(tmp_path / "m.keras")
    target.load_weights(tmp_path / "m.keras")
    for original, reloaded in zip(weights_of(source), weights_of(target)):
        np.testing.assert_array_equal(reloaded, original)


def test_load_weights_mismatch_lists_every_differing_variable_and_changes_nothing(tmp_path):
    make_sequential().save_weights(tmp_path / "w.weights.safetensors")
    target = make_sequential(hidden=9)
    before = weights_of(target)
    with pytest.raises(ArchiveError) as error:
        target.load_weights(tmp_path / "w.weights.safetensors")
    message = str(error.value)
    assert "dense/kernel: the model expects shape (6, 9), the file holds (6, 8)" in message
    assert "dense/bias: the model expects shape (9,), the file holds (8,)" in message
    assert "dense_1/kernel: the model expects shape (9, 3), the file holds (8, 3)" in message
    assert "3 mismatched" in message
    for old, new in zip(before, weights_of(target)):
        np.testing.assert_array_equal(new, old)


def test_load_weights_reports_missing_and_unexpected_variables(tmp_path):
    keras.Sequential([keras.Input((6,)), layers.Dense(3)]).save_weights(
        tmp_path / "w.weights.safetensors"
    )
    target = keras.Sequential([keras.Input((6,)), layers.Dense(3), layers.Dense(3)])
    with pytest.raises(ArchiveError, match=r"(?s)dense_1/kernel \(shape \(3, 3\)\): missing"):
        target.load_weights(tmp_path / "w.weights.safetensors")
    small = keras.Sequential([keras.Input((6,))])
    small.build((None, 6))
    with pytest.raises(ArchiveError, match="dense/kernel: in the file but not in the model"):
        small.load_weights(tmp_path / "w.weights.safetensors")


def test_load_weights_skip_mismatch_loads_the_matching_variables(tmp_path):
    source = make_sequential()
    source.save_weights(tmp_path / "w.weights.safetensors")
    target = make_sequential(hidden=9)
    first_layer_before = target.layers[0].kernel.detach().clone()
    with pytest.warns(UserWarning, match="skipped mismatched weights"):
        target.load_weights(tmp_path / "w.weights.safetensors", skip_mismatch=True)
    torch.testing.assert_close(target.layers[0].kernel.detach(), first_layer_before, rtol=0, atol=0)
    np.testing.assert_array_equal(
        target.layers[-1].bias.detach().cpu().numpy(), source.layers[-1].bias.detach().cpu().numpy()
    )


def test_save_weights_requires_the_weights_suffix(tmp_path):
    with pytest.raises(ValueError, match=r"must end in `\.weights\.safetensors`"):
        make_sequential().save_weights(tmp_path / "w.safetensors")


def test_get_and_set_weights_use_numpy_lists():
    source, target = make_functional(), make_functional()
    target.set_weights(source.get_weights())
    assert all(isinstance(w, np.ndarray) for w in target.get_weights())
    for original, copied in zip(source.get_weights(), target.get_weights()):
        np.testing.assert_array_equal(copied, original)


def test_to_json_and_model_from_json_rebuild_the_architecture():
    model = make_functional()
    clone = keras.models.model_from_json(model.to_json())
    assert [type(layer).__name__ for layer in clone.layers] == [
        type(layer).__name__ for layer in model.layers
    ]
    assert [w.shape for w in clone.get_weights()] == [w.shape for w in model.get_weights()]


def test_model_from_json_refuses_malformed_json():
    with pytest.raises(ArchiveError, match="model JSON: not valid JSON"):
        keras.saving.model_from_json("{not json")


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_pickle_round_trip_keeps_config_and_weights(kind):
    model = BUILDERS[kind]()
    restored = pickle.loads(pickle.dumps(model))
    x = data()[0]
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))


def test_deepcopy_of_a_layer_copies_weights_into_independent_variables():
    layer = layers.Dense(4)
    layer.build((None, 2))
    original = layer.kernel.numpy().copy()
    twin = copy.deepcopy(layer)
    np.testing.assert_array_equal(twin.kernel.numpy(), original)
    twin.kernel.assign(np.full((2, 4), 5.0, "float32"))
    np.testing.assert_array_equal(layer.kernel.numpy(), original)


def test_compile_config_round_trips_optimizer_schedule_loss_and_metrics(tmp_path):
    model = make_functional()
    schedule = keras.optimizers.schedules.ExponentialDecay(0.05, decay_steps=3, decay_rate=0.5)
    model.compile(
        optimizer=keras.optimizers.SGD(schedule, momentum=0.9),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["sparse_categorical_accuracy"],
    )
    model.fit(*data(), epochs=1, batch_size=8, verbose=0)
    model.save(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras")
    assert restored.get_compile_config() == model.get_compile_config()
    assert restored.optimizer.get_config() == model.optimizer.get_config()
    x, y = data(seed=1)
    assert restored.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)


def test_load_weights_skips_optimizer_state_that_does_not_fit_with_a_warning(tmp_path):
    source = compiled(make_sequential)
    source.fit(*data(), epochs=1, batch_size=8, verbose=0)
    source.save_weights(tmp_path / "w.weights.safetensors")
    target = make_sequential()
    target.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    target.optimizer.build(target.trainable_variables)
    with pytest.warns(UserWarning, match="Skipping the optimizer state"):
        target.load_weights(tmp_path / "w.weights.safetensors")
    for original, loaded in zip(weights_of(source), weights_of(target)):
        np.testing.assert_array_equal(loaded, original)


def test_load_weights_restores_optimizer_state_from_a_weights_file(tmp_path):
    source = compiled(make_sequential)
    x, y = data()
    source.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    source.save_weights(tmp_path / "w.weights.safetensors")
    target = compiled(make_sequential)
    target.load_weights(tmp_path / "w.weights.safetensors")
    assert int(target.optimizer.iterations) == 4
    source.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    target.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    for original, loaded in zip(weights_of(source), weights_of(target)):
        np.testing.assert_array_equal(loaded, original)


def test_model_checkpoint_writes_loadable_archives_of_the_trained_model(tmp_path):
    model = compiled(make_functional)
    pattern = str(tmp_path / "ckpt-{epoch:02d}.keras")
    model.fit(
        *data(),
        epochs=2,
        batch_size=8,
        verbose=0,
        callbacks=[keras.callbacks.ModelCheckpoint(pattern)],
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt-01.keras", "ckpt-02.keras"]
    restored = keras.saving.load_model(tmp_path / "ckpt-02.keras")
    np.testing.assert_array_equal(
        restored.predict(data()[0], verbose=0), model.predict(data()[0], verbose=0)
    )


@keras.saving.register_keras_serializable(package="SavingTests")
class ResNetBlock(keras.Layer):
    """The guide's mini ResNet block: two convolutions and a skip connection."""

    def __init__(self, filters=4, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.conv_1 = layers.Conv2D(filters, 3, padding="same", activation="relu")
        self.conv_2 = layers.Conv2D(filters, 3, padding="same")

    def call(self, inputs):
        return keras.ops.relu(inputs + self.conv_2(self.conv_1(inputs)))

    def get_config(self):
        return {**super().get_config(), "filters": self.filters}


@keras.saving.register_keras_serializable(package="SavingTests")
class ResNet(keras.Model):
    """The guide's ResNet model (small): two blocks, global pooling, a classifier."""

    def __init__(self, num_classes=3, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = num_classes
        self.block_1 = ResNetBlock()
        self.block_2 = ResNetBlock()
        self.global_pool = layers.GlobalAveragePooling2D()
        self.classifier = layers.Dense(num_classes)

    def call(self, inputs):
        return self.classifier(self.global_pool(self.block_2(self.block_1(inputs))))

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes}


def test_guides_resnet_trains_saves_with_save_model_and_save_weights(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    images, labels = rng.normal(size=(16, 8, 8, 4)).astype("float32"), rng.integers(0, 3, 16)
    resnet = ResNet()
    resnet.compile(
        optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    resnet.fit(images, labels, epochs=1, batch_size=8, verbose=0)
    keras.saving.save_model(resnet, "filepath.keras")
    resnet.save_weights("resnet.weights.safetensors")
    restored = keras.models.load_model("filepath.keras")
    twin = ResNet()
    twin(images[:1])
    twin.load_weights("resnet.weights.safetensors")
    expected = resnet.predict(images, verbose=0)
    np.testing.assert_array_equal(restored.predict(images, verbose=0), expected)
    np.testing.assert_array_equal(twin.predict(images, verbose=0), expected)


def test_compiled_but_untrained_model_round_trips_with_an_unbuilt_optimizer(tmp_path):
    model = compiled(make_sequential)
    model.save(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras")
    assert not restored.optimizer.built
    x, y = data()
    model.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    restored.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    for original, reloaded in zip(weights_of(model), weights_of(restored)):
        np.testing.assert_array_equal(reloaded, original)


def test_pickled_compiled_model_keeps_its_optimizer_state():
    model = compiled(make_functional)
    model.fit(*data(), epochs=1, batch_size=8, verbose=0)
    restored = pickle.loads(pickle.dumps(model))
    assert int(restored.optimizer.iterations) == int(model.optimizer.iterations) == 4
    for original, copied in zip(model.optimizer.variables, restored.optimizer.variables):
        np.testing.assert_array_equal(
            copied.detach().cpu().numpy(), original.detach().cpu().numpy()
        )


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_every_variable_of_a_loaded_model_holds_the_saved_value(tmp_path, kind):
    model = compiled(BUILDERS[kind])
    model.fit(*data(), epochs=1, batch_size=8, verbose=0)
    model.save(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras")
    saved = variable_keys(model)
    loaded = variable_keys(restored)
    assert list(loaded) == list(saved)
    for key, variable in saved.items():
        torch.testing.assert_close(loaded[key].detach(), variable.detach(), rtol=0, atol=0)
