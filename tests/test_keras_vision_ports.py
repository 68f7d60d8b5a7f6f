"""keras.io vision examples ported by changing only the import: the simple MNIST convnet,
the convolutional denoising autoencoder, the U-Net-like segmentation model and the
convolutional VAE with a custom torch `train_step`.

Each test pins one behaviour that differed from Keras 3.15 (torch backend) when the example
ran here on small synthetic data; the expected values were checked against Keras 3.15.
"""

import numpy as np
import pytest
import torch

import tritonlayers as keras
from tritonlayers import layers

RNG = np.random.default_rng(0)


def _mnist_convnet():
    return keras.Sequential(
        [
            keras.Input(shape=(12, 12, 1)),
            layers.Conv2D(4, kernel_size=(3, 3), activation="relu", name="conv"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(3, activation="softmax"),
        ]
    )


def _denoiser():
    inputs = layers.Input(shape=(8, 8, 1), name="image")
    x = layers.Conv2D(4, (3, 3), activation="relu", padding="same", name="encode")(inputs)
    x = layers.MaxPooling2D((2, 2), padding="same")(x)
    x = layers.Conv2DTranspose(4, (3, 3), strides=2, activation="relu", padding="same")(x)
    x = layers.Conv2D(1, (3, 3), activation="sigmoid", padding="same")(x)
    return keras.Model(inputs, x, name="denoiser")


# ------------------------------------------------------------------ wrong input shapes


def test_sequential_adds_the_missing_unit_channel_axis_as_keras_does():
    # Keras 3.15 runs `model.predict` on (2, 12, 12) for an Input of (12, 12, 1): its
    # Sequential goes through the functional rank adjustment (it used to fail in conv2d).
    model = _mnist_convnet()
    x = RNG.random((2, 12, 12)).astype("float32")
    out = model.predict(x, verbose=0)
    assert out.shape == (2, 3)
    np.testing.assert_allclose(out, model.predict(x[..., None], verbose=0), rtol=1e-6)


def test_functional_model_leaves_a_wrong_channel_count_to_the_first_conv():
    # Keras 3.15 compares the Input's shape with the trailing unit axis left out on both
    # sides, so (2, 8, 8, 3) passes the model's check and conv2d's own spec rejects it.
    model = _denoiser()
    with pytest.raises(ValueError) as error:
        model.predict(np.zeros((2, 8, 8, 3), "float32"), verbose=0)
    assert (
        "Input 0 with name 'None' of layer 'encode' is incompatible with the layer: expected "
        "axis -1 of input shape to have value 1, but received input with shape (2, 8, 8, 3)"
    ) in str(error.value)


def test_functional_model_reports_the_squeezed_shape_of_a_wrong_size():
    model = _denoiser()
    with pytest.raises(ValueError) as error:
        model.predict(np.zeros((2, 10, 10, 1), "float32"), verbose=0)
    assert str(error.value) == (
        "Input 0 with name 'image' of layer 'denoiser' is incompatible with the layer: "
        "expected shape=(None, 8, 8, 1), found shape=(2, 10, 10)"
    )


def test_functional_model_rejects_an_input_two_ranks_short_with_keras_message():
    model = _denoiser()
    x = torch.zeros(2, 8)
    with pytest.raises(ValueError) as error:
        model(x)
    # Keras 3.15 also lists `kwargs=<class 'inspect._empty'>` (its `call` takes **kwargs).
    assert str(error.value) == (
        "Exception encountered when calling Functional.call().\n\n\x1b[1mInvalid input shape "
        f"for input {x} with name 'image' and path ''. Expected shape (None, 8, 8, 1), but "
        "input has incompatible shape torch.Size([2, 8])\x1b[0m\n\nArguments received by "
        "Functional.call():\n  • inputs=torch.Tensor(shape=torch.Size([2, 8]), dtype=float32)"
        "\n  • training=None\n  • mask=None"
    )


def test_an_error_inside_a_models_call_names_the_model_and_its_arguments():
    model = _mnist_convnet()
    model.compile(loss="categorical_crossentropy", optimizer="adam")
    x = np.zeros((4, 12, 12, 3), "float32")
    with pytest.raises(ValueError) as error:
        model.fit(x, np.eye(3)[[0, 1, 2, 0]], verbose=0)
    # Keras 3.15 also lists `kwargs=<class 'inspect._empty'>` (its `call` takes **kwargs).
    assert str(error.value) == (
        "Exception encountered when calling Sequential.call().\n\n\x1b[1mInput 0 with name "
        "'None' of layer 'conv' is incompatible with the layer: expected axis -1 of input "
        "shape to have value 1, but received input with shape (4, 12, 12, 3)\x1b[0m\n\n"
        "Arguments received by Sequential.call():\n"
        "  • inputs=torch.Tensor(shape=torch.Size([4, 12, 12, 3]), dtype=float32)\n"
        "  • training=True\n  • mask=None"
    )


class _Encoder(keras.Model):
    def __init__(self, encoder):
        super().__init__()
        self.encoder = encoder

    def call(self, x):
        return self.encoder(x)


class _Boom(layers.Layer):
    def call(self, x, training=None):
        if x.shape[0] == 2:
            raise KeyError("boom")
        return x

    def compute_output_shape(self, input_shape):
        return input_shape


def test_only_the_innermost_call_annotates_an_error():
    # The VAE's encoder called with a wrong shape inside the VAE's own `call`: the encoder
    # checks its inputs before its `call`, so the VAE's call is the one named.
    inputs = keras.Input((4,), name="z")
    outer = _Encoder(keras.Model(inputs, layers.Dense(2)(inputs), name="enc"))
    with pytest.raises(ValueError) as error:
        outer(torch.zeros(2, 5))
    assert str(error.value) == (
        "Exception encountered when calling _Encoder.call().\n\n\x1b[1mInput 0 with name 'z' "
        "of layer 'enc' is incompatible with the layer: expected shape=(None, 4), found "
        "shape=(2, 5)\x1b[0m\n\nArguments received by _Encoder.call():\n"
        "  • x=torch.Tensor(shape=torch.Size([2, 5]), dtype=float32)"
    )
    model = keras.Sequential([keras.Input((3,)), layers.Dense(3), _Boom()])
    with pytest.raises(KeyError) as error:
        model(torch.zeros(2, 3))
    assert error.value.args[0] == (
        "Exception encountered when calling _Boom.call().\n\n\x1b[1mboom\x1b[0m\n\n"
        "Arguments received by _Boom.call():\n"
        "  • x=torch.Tensor(shape=torch.Size([2, 3]), dtype=float32)\n  • training=None"
    )
    keras.config.disable_traceback_filtering()
    try:
        with pytest.raises(KeyError) as error:
            model(torch.zeros(2, 3))
    finally:
        keras.config.enable_traceback_filtering()
    assert error.value.args == ("boom",)


def test_fit_with_mismatched_sample_counts_lists_the_sizes_on_their_own_lines():
    model = _denoiser()
    model.compile(optimizer="adam", loss="binary_crossentropy")
    x = RNG.random((4, 8, 8, 1)).astype("float32")
    with pytest.raises(ValueError) as error:
        model.fit(x, x[:3], verbose=0)
    assert str(error.value) == (
        "Data cardinality is ambiguous. Make sure all arrays contain the same number of "
        "samples.'x' sizes: 4\n'y' sizes: 3\n"
    )


def test_crossentropy_shape_errors_use_keras_wording():
    with pytest.raises(ValueError) as error:
        keras.losses.binary_crossentropy(np.ones((2, 4, 1)), np.full((2, 8, 1), 0.5))
    assert str(error.value) == (
        "Arguments `target` and `output` must have the same shape. Received: "
        "target.shape=torch.Size([2, 4, 1]), output.shape=torch.Size([2, 8, 1])"
    )
    with pytest.raises(ValueError) as error:
        keras.losses.sparse_categorical_crossentropy(np.ones((2, 4)), np.full((2, 8, 3), 0.3))
    assert str(error.value) == (
        "Arguments `target` and `output` must have the same shape up until the last "
        "dimension: target.shape=torch.Size([2, 4]), output.shape=torch.Size([2, 8, 3])"
    )


# ------------------------------------------------------------------ U-Net segmentation


def test_sparse_crossentropy_trains_a_per_pixel_softmax_on_the_cpu():
    # The U-Net example's loss: torch's CPU backward of a spatial `nll_loss` refused the
    # strided log-probabilities ("grad_input must be contiguous"); Keras 3.15 itself fails
    # there on the CPU, on a GPU it trains.
    inputs = keras.Input(shape=(8, 8, 3))
    x = layers.Conv2D(4, 3, strides=2, padding="same")(inputs)
    x = layers.UpSampling2D(2)(x)
    outputs = layers.Conv2D(3, 3, activation="softmax", padding="same")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = RNG.random((4, 8, 8, 3)).astype("float32")
    y = RNG.integers(0, 3, (4, 8, 8, 1)).astype("uint8")
    history = model.fit(x, y, batch_size=2, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_segmentation_layers_list_their_config_in_keras_order():
    assert list(layers.SeparableConv2D(2, 3).get_config())[3:] == [
        "depth_multiplier", "filters", "kernel_size", "strides", "padding", "data_format",
        "dilation_rate", "activation", "use_bias", "depthwise_initializer",
        "pointwise_initializer", "bias_initializer", "depthwise_regularizer",
        "pointwise_regularizer", "bias_regularizer", "activity_regularizer",
        "depthwise_constraint", "pointwise_constraint", "bias_constraint",
    ]  # fmt: skip
    assert list(layers.Conv2DTranspose(2, 3).get_config())[3:] == [
        "filters", "kernel_size", "strides", "padding", "output_padding", "data_format",
        "dilation_rate", "activation", "use_bias", "kernel_initializer", "bias_initializer",
        "kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint",
        "bias_constraint",
    ]  # fmt: skip
    assert list(layers.Conv2D(2, 3).get_config())[-3:] == [
        "activity_regularizer", "kernel_constraint", "bias_constraint",
    ]  # fmt: skip
    assert list(layers.DepthwiseConv2D(3).get_config())[3] == "depth_multiplier"
    assert list(layers.BatchNormalization().get_config())[3:12] == [
        "axis", "momentum", "epsilon", "center", "scale", "beta_initializer",
        "gamma_initializer", "moving_mean_initializer", "moving_variance_initializer",
    ]  # fmt: skip
    assert list(layers.UpSampling2D(2).get_config())[3:] == [
        "size", "data_format", "interpolation",
    ]  # fmt: skip
    assert list(layers.InputLayer(shape=(3,)).get_config())[-2:] == ["name", "optional"]


def test_glorot_uniform_takes_keras_fan_axes():
    # Keras 3.15's variance-scaling initializers take `input_axes` / `output_axes`, and list
    # them in their config (with the seed first).
    init = keras.initializers.VarianceScaling(
        2.0, "fan_avg", "uniform", seed=1, input_axes=[0], output_axes=[1, 2]
    )
    assert init.get_config() == {
        "seed": 1,
        "scale": 2.0,
        "mode": "fan_avg",
        "distribution": "uniform",
        "input_axes": [0],
        "output_axes": [1, 2],
    }
    values = init((4, 8, 16))
    limit = (3 * 2.0 / ((4 + 128) / 2)) ** 0.5
    assert float(values.abs().max()) <= limit and float(values.abs().max()) > 0.9 * limit
    assert keras.initializers.GlorotUniform().get_config() == {
        "seed": None,
        "input_axes": None,
        "output_axes": None,
    }
    assert list(keras.initializers.RandomNormal(seed=1).get_config()) == [
        "seed",
        "mean",
        "stddev",
    ]


# ------------------------------------------------------------------ save / load


def test_reloaded_functional_model_numbers_its_nodes_from_zero(tmp_path):
    # A layer without its own `build` (Flatten) was built by a symbolic call when loaded,
    # which left a node before the graph's: the summary said `flat[1][0]` (Keras: [0][0]).
    inputs = keras.Input((6, 6, 1))
    x = layers.Conv2D(2, 3)(inputs)
    x = layers.Flatten(name="flat")(x)
    model = keras.Model(inputs, layers.Add()([layers.Dense(2)(x), layers.Dense(2)(x)]))
    model.save(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras")
    assert [len(layer._inbound_nodes) for layer in restored.layers] == [1] * 6
    lines = []
    restored.summary(print_fn=lines.append)
    assert lines[0].count("flat[0][0]") == 2 and "flat[1][0]" not in lines[0]


def test_a_scripts_unregistered_layer_is_not_loaded_as_a_builtin_namesake(tmp_path):
    # The VAE example's own `Sampling` layer: Keras 3.15 cannot load it without
    # custom_objects; it used to come back silently as tritonlayers' `Sampling`.
    class Sampling(layers.Layer):
        def call(self, inputs):
            return inputs[0] + inputs[1]

    Sampling.__module__ = "__main__"
    a, b = keras.Input((2,)), keras.Input((2,))
    keras.Model([a, b], Sampling()([a, b])).save(tmp_path / "m.keras")
    with pytest.raises(ValueError, match="Could not locate class 'Sampling'"):
        keras.saving.load_model(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras", custom_objects={"Sampling": Sampling})
    assert type(restored.layers[-1]) is Sampling
