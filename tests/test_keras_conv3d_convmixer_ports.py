"""keras.io examples "3D image classification from CT scans" and "Image classification
with ConvMixer", ported by changing only the import.

Both ran here and under Keras 3.15 (torch backend) on small synthetic data; summaries,
param counts, output shapes, history keys, verbose=2 log lines, metric values on identical
weights and input errors matched. Each test pins a behaviour checked against Keras 3.15.
"""

import numpy as np
import pytest

import tritonlayers as keras
from tritonlayers import layers

RNG = np.random.default_rng(0)


def _ct_model():
    inputs = keras.Input((4, 8, 8, 1))
    x = layers.Conv3D(filters=4, kernel_size=3, activation="relu")(inputs)
    x = layers.MaxPool3D(pool_size=2)(x)
    x = layers.BatchNormalization()(x)
    x = layers.GlobalAveragePooling3D()(x)
    x = layers.Dense(units=8, activation="relu")(x)
    x = layers.Dropout(0.3)(x)
    outputs = layers.Dense(units=1, activation="sigmoid")(x)
    return keras.Model(inputs, outputs, name="3dcnn")


def _ct_schedule():
    return keras.optimizers.schedules.ExponentialDecay(
        0.0001, decay_steps=100000, decay_rate=0.96, staircase=True
    )


def _activation_block(x):
    x = layers.Activation("gelu")(x)
    return layers.BatchNormalization()(x)


def _conv_mixer(filters=4, depth=1, kernel_size=3, patch_size=2):
    inputs = keras.Input((8, 8, 3))
    x = layers.Rescaling(scale=1.0 / 255)(inputs)
    x = _activation_block(layers.Conv2D(filters, kernel_size=patch_size, strides=patch_size)(x))
    for _ in range(depth):
        x0 = x
        x = layers.DepthwiseConv2D(kernel_size=kernel_size, padding="same")(x)
        x = layers.Add()([_activation_block(x), x0])
        x = _activation_block(layers.Conv2D(filters, kernel_size=1)(x))
    x = layers.GlobalAvgPool2D()(x)
    return keras.Model(inputs, layers.Dense(3, activation="softmax")(x))


def test_a_built_in_schedule_serializes_under_keras_schedules_module():
    # Keras 3.15 writes {'module': 'keras.optimizers.schedules', ..., 'registered_name': None}
    # for the CT example's ExponentialDecay; registered_name was 'ExponentialDecay' here.
    config = keras.optimizers.Adam(learning_rate=_ct_schedule()).get_config()["learning_rate"]
    assert config == {
        "module": "tritonlayers.optimizers.schedules",
        "class_name": "ExponentialDecay",
        "config": {
            "initial_learning_rate": 0.0001,
            "decay_steps": 100000,
            "decay_rate": 0.96,
            "staircase": True,
            "name": "ExponentialDecay",
        },
        "registered_name": None,
    }


def test_keras_written_schedule_config_deserializes():
    # The optimizer config Keras 3.15 wrote into 3d_image_classification.keras.
    config = {
        "module": "keras.optimizers.schedules",
        "class_name": "ExponentialDecay",
        "config": {
            "initial_learning_rate": 0.0001,
            "decay_steps": 100000,
            "decay_rate": 0.96,
            "staircase": True,
            "name": "ExponentialDecay",
        },
        "registered_name": None,
    }
    schedule = keras.saving.deserialize_keras_object(config)
    assert type(schedule) is keras.optimizers.schedules.ExponentialDecay
    assert schedule.get_config() == config["config"]


def test_ct_checkpoint_round_trip_keeps_the_schedule_and_predictions(tmp_path):
    model = _ct_model()
    model.compile(
        loss="binary_crossentropy",
        optimizer=keras.optimizers.Adam(learning_rate=_ct_schedule()),
        metrics=["acc"],
    )
    x = RNG.random((4, 4, 8, 8)).astype("float32")
    y = np.array([0, 1, 0, 1], "float32")
    path = str(tmp_path / "3d_image_classification.keras")
    history = model.fit(
        x,
        y,
        validation_data=(x, y),
        epochs=1,
        batch_size=2,
        verbose=0,
        callbacks=[
            keras.callbacks.ModelCheckpoint(path, save_best_only=True),
            keras.callbacks.EarlyStopping(monitor="val_acc", patience=15),
        ],
    )
    assert list(history.history) == ["acc", "loss", "val_acc", "val_loss"]
    restored = keras.models.load_model(path)
    saved = restored.get_compile_config()["optimizer"]["config"]["learning_rate"]
    assert (saved["module"], saved["registered_name"]) == (
        "tritonlayers.optimizers.schedules",
        None,
    )
    assert restored.optimizer.get_config()["learning_rate"] == saved
    np.testing.assert_allclose(
        restored.predict(x[:1, ..., None], verbose=0), model.predict(x[:1], verbose=0), atol=1e-6
    )


def test_conv_mixer_loads_weights_in_the_keras_written_h5_layout(tmp_path):
    # The dataset paths Keras 3.15 wrote for the ConvMixer checkpoint: "layers/<class name in
    # snake case, numbered per class>/vars/i" whatever the layers' own names, batch norm as
    # gamma, beta, moving mean, moving variance. Filled here with h5py.
    h5py = pytest.importorskip("h5py")
    model = _conv_mixer()
    path = tmp_path / "checkpoint.weights.h5"
    keras_paths = {
        "conv2d": [(2, 2, 3, 4), (4,)],
        "conv2d_1": [(1, 1, 4, 4), (4,)],
        "depthwise_conv2d": [(3, 3, 4, 1), (4,)],
        "dense": [(4, 3), (3,)],
        **{f"batch_normalization{s}": [(4,)] * 4 for s in ("", "_1", "_2")},
    }
    expected = {}
    with h5py.File(path, "w") as file:
        for name, shapes in keras_paths.items():
            for i, shape in enumerate(shapes):
                value = RNG.random(shape).astype("float32") + 0.5
                file.create_dataset(f"layers/{name}/vars/{i}", data=value)
                expected[(name, i)] = value
    model.load_weights(str(path))
    convs = [layer for layer in model.layers if type(layer) is layers.Conv2D]
    norms = [layer for layer in model.layers if isinstance(layer, layers.BatchNormalization)]
    depthwise = model.layers[5]
    assert isinstance(depthwise, layers.DepthwiseConv2D)
    by_keras_path = {
        "conv2d": convs[0],
        "conv2d_1": convs[1],
        "depthwise_conv2d": depthwise,
        "dense": model.layers[-1],
        "batch_normalization": norms[0],
        "batch_normalization_1": norms[1],
        "batch_normalization_2": norms[2],
    }
    for name, layer in by_keras_path.items():
        for i, weight in enumerate(layer.get_weights()):
            np.testing.assert_array_equal(weight, expected[(name, i)])
    patch_embeddings = model.layers[2].get_weights()[0]
    assert patch_embeddings.shape == (2, 2, 3, 4)
    assert [w.shape for w in depthwise.get_weights()] == [(3, 3, 4, 1), (4,)]


@pytest.mark.parametrize(
    "make",
    [
        lambda: layers.DepthwiseConv2D(kernel_size=3, depth_multiplier=0),
        lambda: layers.SeparableConv2D(4, 3, depth_multiplier=0),
    ],
)
def test_depthwise_layers_reject_a_non_positive_depth_multiplier(make):
    # Keras 3.15 raised this; the layer was built with a zero-size kernel here.
    with pytest.raises(ValueError) as error:
        make()
    assert str(error.value) == (
        "Invalid value for argument `depth_multiplier`. Expected a strictly positive value. "
        "Received depth_multiplier=0."
    )


def test_a_conv_window_larger_than_the_input_raises_keras_value_error():
    # Keras 3.15 raised this ValueError when the layer built; here torch raised a
    # RuntimeError from inside call (eagerly) or a shape error (symbolically).
    with pytest.raises(ValueError) as error:
        layers.Conv3D(2, 5)(np.zeros((2, 4, 6, 6, 3), "float32"))
    assert str(error.value) == (
        "Computed output size would be zero or negative. Received `inputs shape=(2, 4, 6, 6, "
        "3)`, `kernel shape=(5, 5, 5, 3, 2)`, `dilation_rate=[1 1 1]`, `strides=(1, 1, 1)`, "
        "`padding=valid`."
    )
    with pytest.raises(ValueError) as error:
        layers.DepthwiseConv2D(8, depth_multiplier=2)(keras.Input((6, 6, 3)))
    assert str(error.value) == (
        "Computed output size would be zero or negative. Received `inputs shape=(None, 6, 6, "
        "3)`, `kernel shape=(8, 8, 3, 6)`, `dilation_rate=[1 1]`, `strides=(1, 1)`, "
        "`padding=valid`."
    )


def test_a_pool_window_larger_than_the_symbolic_input_raises():
    # Keras 3.15 raised this (inside its call-context wrapper); the output shape was
    # (None, 0, 1, 1, 3) here.
    with pytest.raises(ValueError) as error:
        layers.MaxPool3D(5)(keras.Input((4, 6, 6, 3)))
    assert str(error.value).endswith(
        "Computed output size would be zero or negative. Received: `inputs.shape=[None 4 6 6 "
        "3]`, `pool_size=[5 5 5]`, `strides=(5, 5, 5)`, `padding=valid`."
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"kernel_size": (3, -1)},
            "The `kernel_size` argument must be a tuple of 2 integers. Received "
            "kernel_size=(3, -1), including values {-1} that do not satisfy `value > 0`",
        ),
        (
            {"kernel_size": 3, "strides": 0},
            "The `strides` argument must be a tuple of 2 integers. Received strides=0, "
            "including values {0} that do not satisfy `value > 0`",
        ),
        (
            {"kernel_size": (3, 3, 3)},
            "The `kernel_size` argument must be a tuple of 2 integers. Received "
            "kernel_size=(3, 3, 3)",
        ),
    ],
)
def test_bad_window_arguments_get_keras_wording(kwargs, message):
    # Checked against Keras 3.15 (DepthwiseConv2D and Conv2D share the wording).
    with pytest.raises(ValueError) as error:
        layers.DepthwiseConv2D(**kwargs)
    assert str(error.value) == message


def test_optimizers_take_keras_automatic_unique_names():
    # Keras 3.15 names an optimizer like a layer: its class name in snake case, made unique
    # per session; the ConvMixer's AdamW config said 'adam_w' there and 'adamw' here, and a
    # second Adam was 'adam' here, 'adam_1' there.
    first, second = keras.optimizers.Adam().name, keras.optimizers.Adam().name
    assert second == ("adam_1" if first == "adam" else f"adam_{int(first[5:]) + 1}")
    optimizer = keras.optimizers.AdamW(learning_rate=0.001, weight_decay=0.0001)
    assert optimizer.get_config()["name"].startswith("adam_w")
    assert keras.optimizers.RMSprop().name.startswith("rm_sprop")
    assert keras.optimizers.SGD().name.startswith("sgd")
    assert keras.optimizers.Adam(name="x").name == keras.optimizers.Adam(name="x").name == "x"
