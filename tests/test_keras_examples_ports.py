"""keras.io examples ported by changing only the import: VAE, timeseries classification,
collaborative filtering, character-level LSTM, and the "Writing your own callbacks" guide.

Each test pins one behaviour that differed from Keras 3.15 (torch backend) when the example
ran here, or one the example relies on; the expected values were checked against Keras.
"""

import os

import numpy as np
import torch

import tritonlayers as keras
from tritonlayers import layers, ops


class _RecordBatchLogs(keras.callbacks.Callback):
    """Keeps the `logs` each batch hook received, by hook name."""

    def __init__(self):
        super().__init__()
        self.seen = {}

    def _record(self, hook, logs):
        self.seen.setdefault(hook, []).append(logs)


for _hook in [
    "on_train_batch_begin",
    "on_test_batch_begin",
    "on_predict_batch_begin",
]:
    setattr(
        _RecordBatchLogs,
        _hook,
        (lambda name: lambda self, batch, logs=None: self._record(name, logs))(_hook),
    )


def _dense_model():
    model = keras.Sequential([keras.Input((4,)), layers.Dense(1)])
    model.compile(optimizer="rmsprop", loss="mean_squared_error", metrics=["mean_absolute_error"])
    return model


def test_batch_begin_hooks_receive_an_empty_dict_not_none():
    # The callbacks guide calls `list(logs.keys())` in every hook; Keras 3.15 passes `{}`
    # to the batch-begin hooks of fit, evaluate and predict.
    x = np.random.rand(8, 4).astype("float32")
    y = np.random.rand(8, 1).astype("float32")
    model = _dense_model()
    recorder = _RecordBatchLogs()
    model.fit(x, y, batch_size=4, epochs=1, verbose=0, validation_data=(x, y), callbacks=[recorder])
    model.predict(x, batch_size=4, verbose=0, callbacks=[recorder])
    assert set(recorder.seen) == {
        "on_train_batch_begin",
        "on_test_batch_begin",
        "on_predict_batch_begin",
    }
    for hook, calls in recorder.seen.items():
        assert calls == [{}, {}], hook


def test_batch_end_logs_format_like_floats_in_the_guide_messages():
    # The guide prints "Up to batch {}, the average loss is {:7.2f}." from batch-end logs.
    x = np.zeros((4, 4), "float32")
    y = np.ones((4, 1), "float32")
    messages = []

    class LossPrinter(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            messages.append(
                "Up to batch {}, the average loss is {:7.2f}.".format(batch, logs["loss"])
            )

    model = _dense_model()
    model.fit(x, y, batch_size=4, epochs=1, verbose=0, callbacks=[LossPrinter()])
    assert messages == ["Up to batch 0, the average loss is    1.00."]


def test_learning_rate_assigned_from_a_callback_drives_the_next_epoch():
    # The guide's CustomLearningRateScheduler sets `self.model.optimizer.learning_rate`.
    class SetRate(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.model.optimizer.learning_rate = [0.1, 0.05][epoch]

    x = np.random.rand(8, 4).astype("float32")
    y = np.random.rand(8, 1).astype("float32")
    model = _dense_model()
    history = model.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[SetRate()])
    np.testing.assert_allclose(float(model.optimizer.learning_rate), 0.05, rtol=1e-6)
    assert sorted(history.history) == ["loss", "mean_absolute_error"]


def _char_lstm(maxlen, num_chars):
    model = keras.Sequential(
        [
            keras.Input(shape=(maxlen, num_chars)),
            layers.LSTM(8),
            layers.Dense(num_chars, activation="softmax"),
        ]
    )
    model.compile(loss="categorical_crossentropy", optimizer=keras.optimizers.RMSprop(0.01))
    return model


def test_sequential_lstm_trains_on_bool_one_hot_arrays_as_float32():
    # The character-level LSTM example feeds `dtype="bool"` one-hot arrays; Keras converts
    # them to the Input's float32 (it used to reach the fused kernel as bool and fail).
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 5, size=(12, 6))
    x = np.eye(5, dtype="bool")[ids]
    y = np.eye(5, dtype="bool")[ids[:, 0]]
    model = _char_lstm(6, 5)
    history = model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    from_bool = model.predict(x, verbose=0)
    from_float = model.predict(x.astype("float32"), verbose=0)
    assert from_bool.dtype == np.float32 and from_bool.shape == (12, 5)
    np.testing.assert_allclose(from_bool, from_float, rtol=0, atol=0)


def test_functional_model_casts_bool_and_int_inputs_to_the_input_dtype():
    # Keras 3.15 converts each input to its `Input`'s dtype: bool -> float32, int64 -> int32.
    inputs = keras.Input((3,))
    model = keras.Model(inputs, layers.Dense(2)(inputs))
    out = model(np.array([[True, False, True]]))
    assert out.dtype == torch.float32
    expected = model(np.array([[1.0, 0.0, 1.0]], "float32"))
    torch.testing.assert_close(out, expected, rtol=0, atol=0)
    int_inputs = keras.Input((2,), dtype="int32")
    passthrough = keras.Model(int_inputs, int_inputs + 1)
    assert passthrough(np.array([[1, 2]], "int64")).dtype == torch.int32


class _Sampling(layers.Layer):
    def call(self, inputs):
        z_mean, z_log_var = inputs
        epsilon = keras.random.normal(shape=ops.shape(z_mean))
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon


class _VAE(keras.Model):
    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.total_loss_tracker = keras.metrics.Mean(name="total_loss")
        self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")

    @property
    def metrics(self):
        return [self.total_loss_tracker, self.reconstruction_loss_tracker, self.kl_loss_tracker]

    def train_step(self, data):
        if isinstance(data, tuple):
            data = data[0]
        self.zero_grad()
        z_mean, z_log_var, z = self.encoder(data)
        reconstruction = self.decoder(z)
        reconstruction_loss = ops.mean(
            ops.sum(keras.losses.binary_crossentropy(data, reconstruction), axis=(1, 2))
        )
        kl_loss = -0.5 * (1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var))
        kl_loss = ops.mean(ops.sum(kl_loss, axis=1))
        total_loss = reconstruction_loss + kl_loss
        total_loss.backward()
        weights = list(self.trainable_weights)
        with torch.no_grad():
            self.optimizer.apply([v.value.grad for v in weights], weights)
        self.total_loss_tracker.update_state(total_loss)
        self.reconstruction_loss_tracker.update_state(reconstruction_loss)
        self.kl_loss_tracker.update_state(kl_loss)
        return {m.name: m.result() for m in self.metrics}


def test_vae_custom_torch_train_step_reports_its_trackers_sorted():
    # Keras 3.15 reports the example's history as kl_loss, reconstruction_loss, total_loss.
    encoder_inputs = keras.Input(shape=(8, 8, 1))
    x = layers.Conv2D(4, 3, activation="relu", strides=2, padding="same")(encoder_inputs)
    x = layers.Flatten()(x)
    z_mean = layers.Dense(2, name="z_mean")(x)
    z_log_var = layers.Dense(2, name="z_log_var")(x)
    z = _Sampling()([z_mean, z_log_var])
    encoder = keras.Model(encoder_inputs, [z_mean, z_log_var, z], name="encoder")
    latent_inputs = keras.Input(shape=(2,))
    x = layers.Dense(4 * 4 * 4, activation="relu")(latent_inputs)
    x = layers.Reshape((4, 4, 4))(x)
    outputs = layers.Conv2DTranspose(1, 3, activation="sigmoid", strides=2, padding="same")(x)
    decoder = keras.Model(latent_inputs, outputs, name="decoder")
    vae = _VAE(encoder, decoder)
    # Without it Keras 3.15 cannot build the model (it has no `call`) and fit fails.
    vae.built = True
    vae.compile(optimizer=keras.optimizers.Adam())
    data = np.random.rand(8, 8, 8, 1).astype("float32")
    history = vae.fit(data, epochs=2, batch_size=4, verbose=0)
    assert list(history.history) == ["kl_loss", "reconstruction_loss", "total_loss"]
    assert all(isinstance(v, float) for v in history.history["total_loss"])
    assert [m.name for m in vae.metrics] == ["total_loss", "reconstruction_loss", "kl_loss"]


def test_timeseries_example_history_keys_and_best_checkpoint_reload(tmp_path):
    inputs = keras.Input((20, 1))
    x = layers.Conv1D(4, 3, padding="same")(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.GlobalAveragePooling1D()(x)
    model = keras.Model(inputs, layers.Dense(2, activation="softmax")(x))
    model.compile(
        "adam", "sparse_categorical_crossentropy", metrics=["sparse_categorical_accuracy"]
    )
    path = os.path.join(tmp_path, "best_model.keras")
    callbacks = [
        keras.callbacks.ModelCheckpoint(path, save_best_only=True, monitor="val_loss"),
        keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1, min_lr=1e-4),
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=3),
    ]
    x_train = np.random.rand(20, 20, 1).astype("float32")
    y_train = np.random.randint(0, 2, 20)
    history = model.fit(
        x_train,
        y_train,
        batch_size=8,
        epochs=2,
        callbacks=callbacks,
        validation_split=0.2,
        verbose=0,
    )
    # Keras 3.15's keys for this example, `learning_rate` added by ReduceLROnPlateau.
    assert sorted(history.history) == [
        "learning_rate",
        "loss",
        "sparse_categorical_accuracy",
        "val_loss",
        "val_sparse_categorical_accuracy",
    ]
    best = keras.models.load_model(path)
    assert type(best).__name__ == "Functional"
    loss, accuracy = best.evaluate(x_train, y_train, verbose=0)
    assert isinstance(loss, float) and 0.0 <= accuracy <= 1.0


class _RecommenderNet(keras.Model):
    def __init__(self, num_users, num_movies, embedding_size, **kwargs):
        super().__init__(**kwargs)
        regularizer = keras.regularizers.l2(1e-6)
        self.user_embedding = layers.Embedding(
            num_users, embedding_size, "he_normal", embeddings_regularizer=regularizer
        )
        self.user_bias = layers.Embedding(num_users, 1)
        self.movie_embedding = layers.Embedding(
            num_movies, embedding_size, "he_normal", embeddings_regularizer=regularizer
        )
        self.movie_bias = layers.Embedding(num_movies, 1)

    def call(self, inputs):
        user_vector = self.user_embedding(inputs[:, 0])
        movie_vector = self.movie_embedding(inputs[:, 1])
        dot_user_movie = ops.tensordot(user_vector, movie_vector, 2)
        x = dot_user_movie + self.user_bias(inputs[:, 0]) + self.movie_bias(inputs[:, 1])
        return ops.nn.sigmoid(x)


def test_recommender_net_shapes_weights_and_regularization_losses():
    # Keras 3.15: predictions (5, 1), four embedding tables, two l2 losses after a call,
    # history keys loss/val_loss.
    model = _RecommenderNet(10, 15, 8)
    model.compile(loss=keras.losses.BinaryCrossentropy(), optimizer=keras.optimizers.Adam(1e-3))
    x = np.stack([np.arange(5) % 10, np.arange(5) % 15], axis=1)
    y = np.random.rand(5).astype("float32")
    assert model.predict(x, verbose=0).shape == (5, 1)
    assert [tuple(w.shape) for w in model.weights] == [(10, 8), (10, 1), (15, 8), (15, 1)]
    history = model.fit(x, y, batch_size=5, epochs=1, verbose=0, validation_data=(x, y))
    assert sorted(history.history) == ["loss", "val_loss"]
    user_table = ops.convert_to_numpy(model.user_embedding.embeddings).astype("float64")
    model(x)
    np.testing.assert_allclose(
        float(ops.convert_to_numpy(model.losses[0])), 1e-6 * np.sum(user_table**2), rtol=1e-5
    )


def test_unseeded_random_draw_in_a_custom_layer_traces_on_keras_inputs():
    # Keras 3.15 builds `z_mean + keras.random.normal(ops.shape(z_mean))` on symbolic
    # inputs; the seedless draw used to read a fake tensor's value and fail.
    class NoisyAdd(layers.Layer):
        def call(self, inputs):
            z_mean, z_log_var = inputs
            return z_mean + ops.exp(0.5 * z_log_var) * keras.random.normal(ops.shape(z_mean))

    z_mean, z_log_var = keras.Input((2,)), keras.Input((2,))
    outputs = NoisyAdd()([z_mean, z_log_var])
    assert tuple(outputs.shape) == (None, 2)
    model = keras.Model([z_mean, z_log_var], outputs)
    result = model([np.zeros((3, 2), "float32"), np.full((3, 2), -np.inf, "float32")])
    torch.testing.assert_close(result, torch.zeros(3, 2), rtol=0, atol=0)
