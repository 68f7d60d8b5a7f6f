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
