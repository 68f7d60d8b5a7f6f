"""The subclassing guide's models, with only the import changed, train and lower their loss."""

import numpy as np
import pytest

import tritonlayers as keras
from tritonlayers import layers, ops
from tritonlayers.examples import vae as vae_example


class ActivityRegularizationLayer(layers.Layer):
    def __init__(self, rate=1e-2):
        super().__init__()
        self.rate = rate

    def call(self, inputs):
        self.add_loss(self.rate * ops.mean(inputs))
        return inputs


def test_functional_model_with_add_loss_trains_with_and_without_a_compile_loss(capsys):
    inputs = keras.Input(shape=(3,))
    outputs = ActivityRegularizationLayer()(inputs)
    model = keras.Model(inputs, outputs)

    # If there is a loss passed in `compile`, the regularization losses get added to it.
    model.compile(optimizer="adam", loss="mse")
    x, y = keras.random.normal((2, 3)), keras.random.normal((2, 3))
    with pytest.warns(UserWarning, match="does not have any trainable weights"):
        with_loss = model.fit(x, y, epochs=1).history["loss"][0]
    expected = float(ops.mean(ops.square(y - x)) + 1e-2 * ops.mean(x))
    np.testing.assert_allclose(with_loss, expected, rtol=1e-5)

    # It's also possible not to pass any loss in `compile`, since the model already has a
    # loss to minimize, via the `add_loss` call during the forward pass! (A fresh model: as
    # in Keras 3.15, recompiling without `loss` would keep the "mse" compiled above.)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam")
    x, y = keras.random.normal((2, 3)), keras.random.normal((2, 3))
    without_loss = model.fit(x, y, epochs=1).history["loss"][0]
    np.testing.assert_allclose(without_loss, float(1e-2 * ops.mean(x)), rtol=1e-5)
    assert capsys.readouterr().out.count("1/1 - ") == 2


def test_guide_vae_trains_on_synthetic_digits_and_its_loss_goes_down():
    x_train = vae_example.synthetic_digits(256).reshape(256, 784).astype("float32") / 255
    original_dim = 784
    vae = vae_example.VariationalAutoEncoder(original_dim, 64, 32)
    optimizer = keras.optimizers.Adam(learning_rate=1e-3)
    vae.compile(optimizer, loss=keras.losses.MeanSquaredError())
    history = vae.fit(x_train, x_train, epochs=3, batch_size=64, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.8 * losses[0]
    assert len(vae.losses) == 1


def test_vae_example_main_trains_and_saves(tmp_path, capsys):
    output = tmp_path / "vae.keras"
    arguments = ["--epochs", "1", "--data", "synthetic", "--samples", "128"]
    vae_example.main([*arguments, "--output", str(output)])
    printed = capsys.readouterr().out
    assert "loss per epoch:" in printed
    assert output.exists()


def test_example_vae_saved_by_the_main_job_loads_back_and_predicts_alike(tmp_path):
    from tritonlayers.examples.vae import VariationalAutoEncoder

    x = np.random.default_rng(0).random((64, 784)).astype("float32")
    vae = VariationalAutoEncoder(784, 16, 4)
    vae.compile(keras.optimizers.Adam(1e-3), loss=keras.losses.MeanSquaredError())
    vae.fit(x, x, epochs=1, batch_size=32, verbose=0)
    vae.save(tmp_path / "vae.keras")
    restored = keras.saving.load_model(tmp_path / "vae.keras")
    assert type(restored) is VariationalAutoEncoder
    # The seed generator's state is saved too, so the sampled z (and the output) repeat.
    np.testing.assert_allclose(restored.predict(x, verbose=0), vae.predict(x, verbose=0))


def test_a_layer_drawing_from_a_seed_generator_traces_in_a_functional_model():
    class Noise(keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.seed_generator = keras.random.SeedGenerator(7)

        def call(self, x):
            return x + keras.random.normal(keras.ops.shape(x), seed=self.seed_generator)

    inputs = keras.Input((5,))
    outputs = Noise()(inputs)
    assert outputs.shape == (None, 5)
    assert keras.Model(inputs, outputs).predict(np.zeros((3, 5)), verbose=0).shape == (3, 5)
