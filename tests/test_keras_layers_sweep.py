"""Differences found by a layer-by-layer sweep against Keras 3.15 (torch backend): every
public layer both packages have, built with its defaults and common variants, compared on
config keys and values, weights, shapes, outputs on copied weights and wrong-rank errors.
Each expected value below was checked against Keras 3.15.
"""

import numpy as np
import pytest
import torch

from tritonlayers import layers


@pytest.mark.parametrize(
    "cls, cell_name",
    [(layers.SimpleRNN, "simple_rnn_cell"), (layers.LSTM, "lstm_cell"), (layers.GRU, "gru_cell")],
)
def test_builtin_rnn_weight_paths_name_the_cell_as_keras(cls, cell_name):
    # Keras 3.15: SimpleRNN's cell is "simple_rnn_cell" (it was "simplernn_cell" here).
    layer = cls(2, name="r")
    layer(torch.ones(1, 2, 3))
    assert [w.path for w in layer.weights] == [
        f"r/{cell_name}/kernel",
        f"r/{cell_name}/recurrent_kernel",
        f"r/{cell_name}/bias",
    ]


_QUERY = np.random.default_rng(0).standard_normal((2, 2, 3, 4)).astype("float32")
_VALUE = np.random.default_rng(1).standard_normal((2, 2, 5, 4)).astype("float32")


@pytest.mark.parametrize(
    "make, rank4_row, rank2_row",
    [
        # Keras 3.15 outputs: [1, 0, 2] of the rank-4 call and [2] of the rank-2 call.
        (
            lambda: layers.Attention(),
            [0.2177, 0.1155, 0.0340, -0.7241],
            [-0.2149, -0.0957, -0.5228, 0.2208],
        ),
        (
            lambda: layers.AdditiveAttention(use_scale=False),
            [0.5151, 0.2569, 0.1409, -0.7481],
            [0.4365, 0.3345, -0.2715, 0.2784],
        ),
    ],
    ids=["attention", "additive_attention"],
)
def test_dot_attention_takes_any_leading_axes_as_keras(make, rank4_row, rank2_row):
    # Keras attends over the last two axes of inputs of any rank >= 2 (here rank 3 only).
    layer = make()
    out = layer([torch.from_numpy(_QUERY), torch.from_numpy(_VALUE)])
    assert tuple(out.shape) == (2, 2, 3, 4)
    np.testing.assert_allclose(out[1, 0, 2].numpy(), rank4_row, atol=1e-4)
    out = layer([torch.from_numpy(_QUERY[0, 0]), torch.from_numpy(_VALUE[0, 0])])
    assert tuple(out.shape) == (3, 4)
    np.testing.assert_allclose(out[2].numpy(), rank2_row, atol=1e-4)


def test_dot_attention_still_refuses_inputs_of_mixed_ranks():
    with pytest.raises(ValueError, match=r"expected ndim=4, found ndim=3 for value"):
        layers.Attention(name="att")([torch.ones(2, 2, 3, 4), torch.ones(2, 5, 4)])


@pytest.mark.parametrize("output_shape, listed", [(6, (6,)), ([6], (6,)), (None, None)])
def test_multi_head_attention_config_lists_output_shape_as_a_tuple(output_shape, listed):
    # Keras 3.15 keeps a given output_shape as a tuple.
    config = layers.MultiHeadAttention(2, 3, output_shape=output_shape).get_config()
    assert config["output_shape"] == listed


_BASE = ["name", "trainable", "dtype"]
_RNN = ["return_sequences", "return_state", "go_backwards", "stateful", "unroll"]
_RNN += ["zero_output_for_mask"]
_NORM = ["axis", "epsilon", "center", "scale", "beta_initializer", "gamma_initializer"]
_NORM += ["beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint"]
_CONV_LSTM = ["filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate"]
_CONV_LSTM += ["activation", "recurrent_activation", "use_bias", "kernel_initializer"]
_CONV_LSTM += ["recurrent_initializer", "bias_initializer", "unit_forget_bias"]
_CONV_LSTM += ["kernel_regularizer", "recurrent_regularizer", "bias_regularizer"]
_CONV_LSTM += ["activity_regularizer", "kernel_constraint", "recurrent_constraint"]
_CONV_LSTM += ["bias_constraint", "dropout", "recurrent_dropout", "seed"]


@pytest.mark.parametrize(
    "make, keys",
    [
        (lambda: layers.Cropping2D(), [*_BASE, "cropping", "data_format"]),
        (lambda: layers.Cropping3D(), [*_BASE, "cropping", "data_format"]),
        (lambda: layers.ZeroPadding2D(), [*_BASE, "padding", "data_format"]),
        (lambda: layers.ZeroPadding3D(), [*_BASE, "padding", "data_format"]),
        (lambda: layers.GroupNormalization(groups=2), [*_BASE, "groups", *_NORM]),
        (lambda: layers.ELU(alpha=0.5), ["name", "alpha", "trainable", "dtype"]),
        (lambda: layers.ConvLSTM1D(2, 3), [*_BASE, *_RNN, *_CONV_LSTM]),
        (lambda: layers.SpatialDropout1D(0.2), ["rate", "seed", "name", "dtype"]),
        (lambda: layers.SpatialDropout3D(0.2), ["rate", "seed", "name", "dtype", "data_format"]),
        (
            lambda: layers.Discretization(bin_boundaries=[0.0, 1.0]),
            ["bin_boundaries", "num_bins", "epsilon", "output_mode", "sparse", "name", "dtype"],
        ),
    ],
    ids=[
        "cropping2d",
        "cropping3d",
        "zero_padding2d",
        "zero_padding3d",
        "group_norm",
        "elu",
        "conv_lstm1d",
        "spatial_dropout1d",
        "spatial_dropout3d",
        "discretization",
    ],
)
def test_config_keys_in_keras_order(make, keys):
    layer = make()
    assert list(layer.get_config()) == keys
    assert list(type(layer).from_config(layer.get_config()).get_config()) == keys


@pytest.mark.parametrize(
    "make", [lambda: layers.SpatialDropout2D(0.2, seed=3), lambda: layers.Discretization([0.0])]
)
def test_configs_without_trainable_give_the_dtype_name(make):
    # Keras 3.15's constructors of these layers take no `trainable`; dtype is 'float32'.
    config = make().get_config()
    assert "trainable" not in config and config["dtype"] == "float32"


@pytest.mark.parametrize(
    "make, kind",
    [
        (lambda: layers.RandomContrast(0.2), tuple),
        (lambda: layers.RandomHue(0.2), tuple),
        (lambda: layers.RandomErasing(), tuple),
        (lambda: layers.RandomColorJitter(), tuple),
        (lambda: layers.AutoContrast(), list),
        (lambda: layers.Solarization(), list),
        (lambda: layers.RandomBrightness(0.2), list),
    ],
    ids=["contrast", "hue", "erasing", "color_jitter", "auto_contrast", "solarization", "bright"],
)
def test_default_value_range_has_keras_type_in_config(make, kind):
    value_range = make().get_config()["value_range"]
    assert isinstance(value_range, kind) and list(value_range) == [0, 255]


def test_dot_axis_past_the_last_one_is_an_error_not_the_batch_axis():
    # Keras 3.15 fails here too (an IndexError from its shape lookup); this used to wrap
    # axis 2 of rank-2 inputs onto the batch axis and return a (3, 1) result.
    with pytest.raises(ValueError, match=r'Layer "d" \(Dot\): axes=\(2, 2\) is out of range'):
        layers.Dot(axes=(2, 2), name="d")([torch.ones(2, 3), torch.ones(2, 3)])


_IMAGE = ["name", "trainable", "dtype", "data_format"]
_WARP = ["fill_mode", "interpolation", "seed", "fill_value"]


@pytest.mark.parametrize(
    "make, keys",
    [
        (lambda: layers.RandomCrop(4, 4), ["height", "width", "seed"]),
        (
            lambda: layers.RandomRotation(0.2),
            ["factor", "fill_mode", "fill_value", "interpolation", "seed"],
        ),
        (lambda: layers.RandomZoom(0.2), ["height_factor", "width_factor", *_WARP]),
        (lambda: layers.RandomShear(0.2), ["x_factor", "y_factor", *_WARP]),
        (lambda: layers.RandomContrast(0.2), ["factor", "value_range", "seed"]),
        (lambda: layers.RandomErasing(), ["factor", "scale", "fill_value", "value_range", "seed"]),
        (lambda: layers.Equalization(), ["bins", "value_range"]),
        (lambda: layers.MixUp(), ["alpha", "seed"]),
        (
            lambda: layers.AugMix(),
            ["value_range", "num_chains", "chain_depth", "factor", "alpha", "all_ops"]
            + ["interpolation", "seed"],
        ),
    ],
    ids=["crop", "rotation", "zoom", "shear", "contrast", "erasing", "equalize", "mixup", "augmix"],
)
def test_image_layer_config_keys_in_keras_order(make, keys):
    # Keras 3.15 lists each layer's own keys after data_format, `seed` where it puts it.
    assert list(make().get_config()) == [*_IMAGE, *keys]
