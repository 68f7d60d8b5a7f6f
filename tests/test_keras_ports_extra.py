"""More Keras 3 programs ported by changing the import to `import tritonlayers as keras`.

Five programs a Keras user writes (a timeseries forecaster, a text classifier, a frozen
autoencoder, a subclassed model with its own metric trackers, a mixed precision MLP), each
run on tiny synthetic data from weights set by a seeded numpy generator. Every expected
number, name and printed line below is what Keras 3.15 (torch backend) gave for the same
program and the same weights; Keras's `timeseries_dataset_from_array` needs TensorFlow, so
the Keras run fed it the same windows as arrays.
"""

import csv
import os

import numpy as np
import pytest
import torch

import tritonlayers as keras
from tritonlayers import layers

# History values are float32 runs of the same arithmetic in two libraries.
HISTORY_RTOL = 2e-5


def _seeded_weights(model, seed: int) -> None:
    rng = np.random.default_rng(seed)
    model.set_weights(
        [rng.uniform(-0.5, 0.5, w.shape).astype("float32") for w in model.get_weights()]
    )


def _summary_lines(model) -> list[str]:
    printed = []
    model.summary(print_fn=printed.append)
    return "\n".join(printed).splitlines()


def _assert_history(history, expected: dict) -> None:
    assert list(history.history) == list(expected)
    for key, values in expected.items():
        np.testing.assert_allclose(history.history[key], values, rtol=HISTORY_RTOL, err_msg=key)


# ----------------------------------------------------------------- timeseries forecaster

STEPS = np.arange(120, dtype="float32")
SERIES = np.stack([np.sin(STEPS / 8), np.cos(STEPS / 5)], axis=-1)


def forecaster():
    return keras.Sequential(
        [
            keras.Input(shape=(8, 2)),
            layers.LSTM(6, return_sequences=True),
            layers.LSTM(3),
            layers.Dense(1),
        ]
    )


def test_timeseries_forecaster_trains_like_keras_with_csv_log_and_lr_schedule(tmp_path):
    windows = keras.utils.timeseries_dataset_from_array(
        SERIES, SERIES[8:108, 0], sequence_length=8, batch_size=32
    )
    validation = keras.utils.timeseries_dataset_from_array(
        SERIES[:47], SERIES[8:48, 0], sequence_length=8, batch_size=32
    )
    model = forecaster()
    _seeded_weights(model, 1)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse", metrics=["mae"])
    log_path = os.path.join(tmp_path, "log.csv")
    callbacks = [
        keras.callbacks.CSVLogger(log_path),
        keras.callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5 if epoch > 0 else lr),
    ]
    history = model.fit(
        windows, validation_data=validation, epochs=3, verbose=0, callbacks=callbacks
    )
    _assert_history(
        history,
        {
            "loss": [0.588269, 0.547707, 0.529982],
            "mae": [0.657463, 0.640363, 0.631683],
            "val_loss": [0.66813, 0.642604, 0.629526],
            "val_mae": [0.736112, 0.724294, 0.717916],
            "learning_rate": [0.01, 0.005, 0.0025],
        },
    )
    with open(log_path) as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["epoch", "loss", "mae", "val_loss", "val_mae"]
    assert [row[0] for row in rows[1:]] == ["0", "1", "2"]


def test_clone_of_a_compiled_model_is_compiled_with_a_fresh_built_optimizer():
    model = forecaster()
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse", metrics=["mae"])
    model.fit(SERIES[None, :8], SERIES[None, 8, :1], verbose=0)
    clone = keras.models.clone_model(model)
    assert clone.compiled and clone.optimizer is not model.optimizer
    assert isinstance(clone.optimizer, keras.optimizers.Adam)
    assert float(clone.optimizer.learning_rate) == pytest.approx(1e-2)
    assert int(clone.optimizer.iterations) == 0
    # Keras 3.15 printed "Optimizer params: 682" for the clone before any fit (2 slots of
    # 340 weights, the iteration counter and the learning rate).
    assert _summary_lines(clone)[-1].startswith(" Optimizer params: 682 ")
    history = clone.fit(SERIES[None, :8], SERIES[None, 8, :1], verbose=0)
    assert list(history.history) == ["loss", "mae"]


def test_clone_of_a_compiled_functional_model_keeps_loss_and_metrics():
    inputs = keras.Input((3,), name="x")
    model = keras.Model(inputs, layers.Dense(2, name="d")(inputs), name="f")
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="mae", metrics=["mse"])
    clone = keras.models.clone_model(model)
    history = clone.fit(np.ones((2, 3)), np.ones((2, 2)), verbose=0)
    assert (clone.name, clone.loss, list(history.history)) == ("f", "mae", ["loss", "mse"])
    assert float(clone.optimizer.learning_rate) == 0.5


def test_clone_of_a_frozen_sequential_is_frozen():
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    model.trainable = False
    clone = keras.models.clone_model(model)
    assert clone.trainable is False and clone.trainable_weights == []


def test_clone_of_an_uncompiled_model_is_not_compiled():
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    assert keras.models.clone_model(model).compiled is False


# ----------------------------------------------------------------- text classifier

TEXTS = [
    "the movie was great",
    "awful plot and bad acting",
    "great acting, great fun",
    "I hated it",
    "what a wonderful film",
    "boring and bad",
    "loved the great cast",
    "terrible, just terrible",
] * 4
TEXT_LABELS = np.array([1, 0, 1, 0, 1, 0, 1, 0] * 4, dtype="float32")


def test_text_vectorization_orders_its_vocabulary_by_count_then_token_descending():
    vectorizer = layers.TextVectorization(
        max_tokens=30, output_mode="int", output_sequence_length=6
    )
    vectorizer.adapt(TEXTS)
    # Keras ranks tokens by count, ties by the token in reverse order.
    assert vectorizer.get_vocabulary()[:8] == [
        "",
        "[UNK]",
        "great",
        "the",
        "terrible",
        "bad",
        "and",
        "acting",
    ]
    assert vectorizer.vocabulary_size() == 24
    ids = np.asarray(vectorizer(TEXTS[:3]))
    assert ids.dtype == np.int64
    assert ids.tolist() == [[3, 12, 10, 2, 0, 0], [22, 11, 6, 5, 7, 0], [2, 7, 2, 18, 0, 0]]


def test_text_classifier_with_masked_bidirectional_gru_trains_like_keras():
    ids = np.array(
        [[3, 12, 10, 2, 0, 0], [22, 11, 6, 5, 7, 0], [2, 7, 2, 18, 0, 0], [15, 16, 13, 0, 0, 0]]
        * 4,
        dtype="int64",
    )
    labels = np.array([1, 0, 1, 0] * 4, dtype="float32")
    model = keras.Sequential(
        [
            keras.Input(shape=(6,), dtype="int64"),
            layers.Embedding(30, 8, mask_zero=True),
            layers.Bidirectional(layers.GRU(4)),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    _seeded_weights(model, 2)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-2),
        loss=keras.losses.BinaryCrossentropy(),
        metrics=["accuracy", keras.metrics.AUC()],
    )
    history = model.fit(
        ids, labels, batch_size=8, epochs=2, shuffle=False, verbose=0, validation_split=0.25
    )
    _assert_history(
        history,
        {
            "accuracy": [0.5, 0.5],
            "auc": [0.694444, 1.0],
            "loss": [0.761483, 0.711148],
            "val_accuracy": [0.5, 0.5],
            "val_auc": [1.0, 1.0],
            "val_loss": [0.718819, 0.673986],
        },
    )


# ----------------------------------------------------------------- frozen autoencoder

IMAGES = np.random.default_rng(3).random((16, 8, 8, 1)).astype("float32")


def autoencoder():
    model = keras.Sequential(name="ae")
    model.add(keras.Input(shape=(8, 8, 1)))
    for layer in [
        layers.Conv2D(4, 3, activation="relu", padding="same", strides=2),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(4),
        layers.Dense(16, activation="relu"),
        layers.Reshape((2, 2, 4)),
        layers.UpSampling2D(2),
        layers.Conv2DTranspose(4, 3, strides=2, padding="same", activation="relu"),
        layers.Conv2D(1, 3, padding="same", activation="sigmoid"),
        layers.Dense(3),
    ]:
        model.add(layer)
    model.pop()
    return model


def test_autoencoder_fine_tuning_with_frozen_encoder_matches_keras():
    model = autoencoder()
    assert model.output_shape == (None, 8, 8, 1)
    _seeded_weights(model, 3)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="binary_crossentropy")
    first = model.fit(IMAGES, IMAGES, epochs=2, batch_size=8, shuffle=False, verbose=0)
    for layer in model.layers[:4]:
        layer.trainable = False
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="binary_crossentropy")
    assert _summary_lines(model)[-3:] == [
        " Total params: 373 (1.46 KB)",
        " Trainable params: 265 (1.04 KB)",
        " Non-trainable params: 108 (432.00 B)",
    ]
    encoder_kernel = model.layers[0].get_weights()[0].copy()
    second = model.fit(IMAGES, IMAGES, epochs=2, batch_size=8, shuffle=False, verbose=0)
    np.testing.assert_allclose(
        first.history["loss"] + second.history["loss"],
        [0.708611, 0.702633, 0.698465, 0.695101],
        rtol=HISTORY_RTOL,
    )
    np.testing.assert_array_equal(model.layers[0].get_weights()[0], encoder_kernel)
    # Keras 3.15: 2 Adam slots of the 265 trainable weights, plus iterations and rate.
    assert _summary_lines(model)[-1].startswith(" Optimizer params: 532 ")


def test_sequential_add_refuses_a_second_layer_with_the_same_name():
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3, name="a")])
    # Keras 3.15's message, word for word.
    with pytest.raises(ValueError, match="should have unique names. Name 'a' is already"):
        model.add(layers.Dense(3, name="a"))
    assert len(model.layers) == 1


def test_sequential_add_accepts_the_same_layer_object_again():
    dense = layers.Dense(3, name="shared")
    model = keras.Sequential([keras.Input((3,)), dense])
    model.add(dense)
    assert model.output_shape == (None, 3)


@pytest.mark.parametrize(
    "layer",
    [
        layers.Dropout(0.5),
        layers.GaussianNoise(0.1),
        layers.SpatialDropout2D(0.5),
        layers.ActivityRegularization(),
        layers.Identity(),
        layers.Masking(),
        layers.Activation("relu"),
        layers.ReLU(),
        layers.Softmax(),
        layers.UnitNormalization(),
        layers.MaxPooling2D(2),
        layers.GlobalAveragePooling1D(),
        layers.Reshape((2,)),
    ],
    ids=lambda layer: type(layer).__name__,
)
def test_stateless_layers_are_built_when_constructed_as_in_keras(layer):
    assert layer.built and layer.count_params() == 0


@pytest.mark.parametrize(
    "layer",
    [layers.Dense(2), layers.Flatten(), layers.PReLU(), layers.UpSampling2D(2)],
    ids=lambda layer: type(layer).__name__,
)
def test_layers_keras_builds_on_first_call_are_not_built_when_constructed(layer):
    assert not layer.built


def test_a_stateless_layer_subclass_with_its_own_build_is_not_built_early():
    class ScaledDropout(layers.Dropout):
        def build(self, input_shape):
            self.scale = self.add_weight(shape=(), initializer="ones", name="scale")

    layer = ScaledDropout(0.5)
    assert not layer.built
    layer(torch.ones(2, 3))
    assert layer.built and [w.name for w in layer.weights] == ["scale"]


# ----------------------------------------------------------------- subclassed model


@keras.saving.register_keras_serializable(package="ports_extra")
class ScaledDense(keras.layers.Layer):
    """A dense layer with an L2-regularized kernel, an activity loss while training and a
    `Mean` tracker of its outputs."""

    def __init__(self, units, l2=0.01, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.l2 = l2
        self.activation_mean = keras.metrics.Mean(name="activation_mean")

    def build(self, input_shape):
        self.w = self.add_weight(
            shape=(input_shape[-1], self.units),
            initializer="glorot_uniform",
            regularizer=keras.regularizers.L2(self.l2),
            name="w",
        )
        self.b = self.add_weight(shape=(self.units,), initializer="zeros", name="b")

    def call(self, inputs, training=None):
        y = keras.ops.matmul(inputs, self.w) + self.b
        if training:
            self.add_loss(1e-3 * keras.ops.mean(keras.ops.square(y)))
        self.activation_mean.update_state(y)
        return y

    def get_config(self):
        return {**super().get_config(), "units": self.units, "l2": self.l2}


@keras.saving.register_keras_serializable(package="ports_extra")
class TrackedNet(keras.Model):
    """A subclassed model with its own `build`, a `training` branch and a `Mean` tracker."""

    def __init__(self, hidden=6, rate=0.0, **kwargs):
        super().__init__(**kwargs)
        self.hidden = hidden
        self.rate = rate
        self.d1 = ScaledDense(hidden)
        self.drop = keras.layers.Dropout(rate)
        self.out = keras.layers.Dense(1, activation="sigmoid")
        self.mean_tracker = keras.metrics.Mean(name="hidden_mean")

    def build(self, input_shape):
        self.d1.build(input_shape)
        self.out.build((input_shape[0], self.hidden))

    def call(self, x, training=False):
        h = keras.ops.relu(self.d1(x, training=training))
        if training:
            h = self.drop(h, training=training)
        self.mean_tracker.update_state(h)
        return self.out(h)

    def get_config(self):
        return {**super().get_config(), "hidden": self.hidden, "rate": self.rate}


FEATURES = np.random.default_rng(4).random((24, 5)).astype("float32")
TARGETS = (FEATURES.sum(1, keepdims=True) > 2.5).astype("float32")


def tracked_net():
    model = TrackedNet(name="net")
    model.build((None, 5))
    _seeded_weights(model, 4)
    return model


def test_layer_metrics_lists_own_trackers_then_sublayer_trackers():
    model = tracked_net()
    assert [m.name for m in model.d1.metrics] == ["activation_mean"]
    # Keras 3.15: before compile, `model.metrics` holds only the trackers.
    assert [m.name for m in model.metrics] == ["hidden_mean", "activation_mean"]


def test_metric_trackers_updated_in_call_are_logged_by_fit_and_evaluate():
    model = tracked_net()
    model.compile(
        optimizer=keras.optimizers.SGD(0.1), loss="binary_crossentropy", metrics=["accuracy"]
    )
    history = model.fit(
        FEATURES,
        TARGETS,
        batch_size=8,
        epochs=2,
        shuffle=False,
        verbose=0,
        validation_data=(FEATURES[:8], TARGETS[:8]),
    )
    _assert_history(
        history,
        {
            "accuracy": [0.333333, 0.583333],
            "activation_mean": [0.433714, 0.439599],
            "hidden_mean": [0.440783, 0.446883],
            "loss": [0.750603, 0.71755],
            "val_accuracy": [0.75, 0.75],
            "val_activation_mean": [0.485503, 0.491318],
            "val_hidden_mean": [0.492101, 0.499152],
            "val_loss": [0.7127, 0.639145],
        },
    )
    logs = model.evaluate(FEATURES, TARGETS, verbose=0, return_dict=True)
    assert list(logs) == ["accuracy", "activation_mean", "hidden_mean", "loss"]
    np.testing.assert_allclose(
        [logs[key] for key in logs], [0.708333, 0.437723, 0.445476, 0.687533], rtol=HISTORY_RTOL
    )
    assert model.metrics_names[-2:] == ["hidden_mean", "activation_mean"]


def test_reset_metrics_resets_trackers_held_by_layers():
    model = tracked_net()
    model(FEATURES)
    assert float(model.d1.activation_mean.count) == len(FEATURES)
    model.reset_metrics()
    assert float(model.d1.activation_mean.count) == 0.0


def test_registered_subclassed_model_round_trips_through_load_model(tmp_path):
    model = tracked_net()
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(FEATURES, TARGETS, batch_size=8, epochs=1, verbose=0)
    path = os.path.join(tmp_path, "net.keras")
    model.save(path)
    restored = keras.saving.load_model(path)
    assert type(restored) is TrackedNet and (restored.hidden, restored.rate) == (6, 0.0)
    np.testing.assert_allclose(
        restored.predict(FEATURES, verbose=0), model.predict(FEATURES, verbose=0), atol=1e-6
    )
    assert keras.saving.get_registered_name(TrackedNet) == "ports_extra>TrackedNet"


def test_clone_of_a_compiled_subclassed_model_is_built_and_compiled():
    model = tracked_net()
    model.compile(optimizer="adam", loss="binary_crossentropy")
    clone = keras.models.clone_model(model)
    assert type(clone) is TrackedNet
    assert clone.built and clone.compiled and clone.hidden == 6


# ----------------------------------------------------------------- mixed precision


@pytest.fixture
def policy():
    """Set a global dtype policy for one test, then go back to float32 (as keras.io does)."""
    yield keras.mixed_precision.set_global_policy
    keras.mixed_precision.set_global_policy("float32")


def test_mixed_bfloat16_mlp_computes_in_bfloat16_with_a_float32_softmax_head(policy):
    policy("mixed_bfloat16")
    inputs = keras.Input(shape=(6,))
    hidden = layers.Dense(16, activation="relu", name="d1")(inputs)
    logits = layers.Dense(3, name="logits")(hidden)
    outputs = layers.Activation("softmax", dtype="float32", name="pred")(logits)
    model = keras.Model(inputs, outputs)
    d1 = model.get_layer("d1")
    assert (d1.dtype_policy.name, d1.compute_dtype, d1.variable_dtype) == (
        "mixed_bfloat16",
        "bfloat16",
        "float32",
    )
    assert d1.kernel.dtype == torch.float32
    assert (hidden.dtype, outputs.dtype) == ("bfloat16", "float32")
    assert model(np.ones((4, 6), "float32")).dtype == torch.float32
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    assert type(model.optimizer) is keras.optimizers.Adam
    labels = np.arange(16) % 3
    history = model.fit(np.ones((16, 6), "float32"), labels, batch_size=8, epochs=1, verbose=0)
    assert list(history.history) == ["accuracy", "loss"]
    assert model.predict(np.ones((2, 6)), verbose=0).dtype == np.float32


def test_mixed_float16_compile_wraps_the_optimizer_for_loss_scaling(policy):
    policy("mixed_float16")
    model = keras.Sequential(
        [keras.Input((6,)), layers.Dense(8), layers.Activation("softmax", dtype="float32")]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    assert type(model.optimizer) is keras.optimizers.LossScaleOptimizer
    assert type(model.optimizer.inner_optimizer) is keras.optimizers.Adam
    assert model.optimizer.name == "loss_scale_optimizer"
    model.fit(np.ones((4, 6), "float32"), np.zeros(4), verbose=0)
    assert int(model.optimizer.iterations) == 1


def test_auto_scale_loss_false_keeps_the_optimizer_as_given(policy):
    policy("mixed_float16")
    model = keras.Sequential([keras.Input((6,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", auto_scale_loss=False)
    assert type(model.optimizer) is keras.optimizers.SGD


def test_a_float32_model_is_not_loss_scaled():
    model = keras.Sequential([keras.Input((6,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    assert type(model.optimizer) is keras.optimizers.SGD
