"""Every built-in layer: get_config/from_config round trip, compute_output_shape equal to the
real output's shape, and a clear error (layer name, expected vs found) on a wrong-rank input.
"""

import pytest
import torch

from tritonlayers import layers
from tritonlayers.layers.symbolic import KerasTensor

# (id, factory, input shapes: one tuple, or a list of tuples for multi-input layers)
CASES = [
    ("dense", lambda: layers.Dense(3, activation="relu"), (2, 5)),
    ("dense_rank3", lambda: layers.Dense(3, use_bias=False), (2, 4, 5)),
    ("embedding", lambda: layers.Embedding(10, 3, mask_zero=True), "int:(2, 4)"),
    ("masking", lambda: layers.Masking(mask_value=1.0), (2, 4, 3)),
    ("identity", lambda: layers.Identity(), (2, 3)),
    ("activation", lambda: layers.Activation("tanh"), (2, 3)),
    ("relu", lambda: layers.ReLU(max_value=2.0, negative_slope=0.1, threshold=0.5), (2, 3)),
    ("leaky_relu", lambda: layers.LeakyReLU(negative_slope=0.2), (2, 3)),
    ("softmax", lambda: layers.Softmax(axis=1), (2, 3)),
    ("elu", lambda: layers.ELU(alpha=0.5), (2, 3)),
    ("dropout", lambda: layers.Dropout(0.3, noise_shape=(None, 1), seed=1), (2, 3)),
    ("gaussian_noise", lambda: layers.GaussianNoise(0.1, seed=1), (2, 3)),
    ("gaussian_dropout", lambda: layers.GaussianDropout(0.1, seed=1), (2, 3)),
    ("spatial_dropout1d", lambda: layers.SpatialDropout1D(0.2, seed=1), (2, 4, 3)),
    ("spatial_dropout2d", lambda: layers.SpatialDropout2D(0.2, seed=1), (2, 4, 4, 3)),
    ("alpha_dropout", lambda: layers.AlphaDropout(0.2, seed=1), (2, 3)),
    ("activity_regularization", lambda: layers.ActivityRegularization(l1=0.1, l2=0.2), (2, 3)),
    ("sampling", lambda: layers.Sampling(kl_weight=0.5, seed=3), [(2, 3), (2, 3)]),
    ("batch_norm", lambda: layers.BatchNormalization(momentum=0.9, epsilon=1e-4), (4, 3)),
    ("layer_norm", lambda: layers.LayerNormalization(axis=[1, 2], rms_scaling=False), (2, 3, 4)),
    ("group_norm", lambda: layers.GroupNormalization(groups=2), (2, 5, 4)),
    ("unit_norm", lambda: layers.UnitNormalization(axis=1), (2, 3)),
    ("conv1d", lambda: layers.Conv1D(4, 3, padding="causal", dilation_rate=2), (2, 9, 3)),
    ("conv2d", lambda: layers.Conv2D(4, (3, 2), strides=2, padding="same", groups=1), (2, 7, 6, 2)),
    (
        "conv2d_channels_first",
        lambda: layers.Conv2D(4, 3, data_format="channels_first", groups=2),
        (2, 2, 6, 6),
    ),
    (
        "conv2d_transpose",
        lambda: layers.Conv2DTranspose(3, 3, strides=2, padding="same", output_padding=1),
        (2, 4, 5, 2),
    ),
    ("depthwise_conv2d", lambda: layers.DepthwiseConv2D(3, depth_multiplier=2), (2, 6, 6, 3)),
    ("separable_conv2d", lambda: layers.SeparableConv2D(4, 3, padding="same"), (2, 6, 6, 3)),
    ("max_pool1d", lambda: layers.MaxPooling1D(3, strides=2, padding="same"), (2, 7, 3)),
    ("max_pool2d", lambda: layers.MaxPooling2D((2, 3)), (2, 6, 7, 3)),
    ("avg_pool1d", lambda: layers.AveragePooling1D(2), (2, 7, 3)),
    ("avg_pool2d", lambda: layers.AveragePooling2D(3, strides=2, padding="same"), (2, 7, 6, 3)),
    ("global_avg_pool1d", lambda: layers.GlobalAveragePooling1D(keepdims=True), (2, 5, 3)),
    ("global_avg_pool2d", lambda: layers.GlobalAveragePooling2D(), (2, 5, 4, 3)),
    ("global_max_pool1d", lambda: layers.GlobalMaxPooling1D(), (2, 5, 3)),
    (
        "global_max_pool2d",
        lambda: layers.GlobalMaxPooling2D(data_format="channels_first"),
        (2, 3, 5, 4),
    ),
    ("simple_rnn", lambda: layers.SimpleRNN(4, return_sequences=True), (2, 5, 3)),
    ("lstm", lambda: layers.LSTM(4, return_state=True, go_backwards=True), (2, 5, 3)),
    ("gru", lambda: layers.GRU(4, reset_after=False, dropout=0.1), (2, 5, 3)),
    ("rnn_cell", lambda: layers.RNN(layers.GRUCell(3), return_sequences=True), (2, 5, 3)),
    (
        "bidirectional",
        lambda: layers.Bidirectional(layers.LSTM(3, return_sequences=True), merge_mode="sum"),
        (2, 5, 3),
    ),
    ("add", lambda: layers.Add(), [(2, 3), (2, 3)]),
    ("subtract", lambda: layers.Subtract(), [(2, 3), (2, 3)]),
    ("multiply", lambda: layers.Multiply(), [(2, 3), (2, 3), (2, 3)]),
    ("average", lambda: layers.Average(), [(2, 3), (2, 3)]),
    ("maximum", lambda: layers.Maximum(), [(2, 3), (2, 3)]),
    ("minimum", lambda: layers.Minimum(), [(2, 3), (2, 3)]),
    ("concatenate", lambda: layers.Concatenate(axis=1), [(2, 3, 4), (2, 5, 4)]),
    ("dot", lambda: layers.Dot(axes=(2, 2), normalize=True), [(2, 3, 4), (2, 5, 4)]),
    ("flatten", lambda: layers.Flatten(), (2, 3, 4)),
    ("reshape", lambda: layers.Reshape((-1, 3)), (2, 4, 3)),
    ("permute", lambda: layers.Permute((2, 1)), (2, 4, 3)),
    ("repeat_vector", lambda: layers.RepeatVector(3), (2, 4)),
    ("cropping2d", lambda: layers.Cropping2D(((1, 0), (0, 2))), (2, 5, 6, 3)),
    ("zero_padding2d", lambda: layers.ZeroPadding2D(((1, 2), (0, 1))), (2, 3, 3, 2)),
    ("up_sampling2d", lambda: layers.UpSampling2D((2, 3), interpolation="bilinear"), (2, 3, 3, 2)),
]


def _inputs(spec):
    if isinstance(spec, str):
        shape = eval(spec.split(":", 1)[1])
        return torch.randint(0, 10, shape)
    if isinstance(spec, list):
        return [torch.randn(*shape) for shape in spec]
    return torch.randn(*spec)


def _shape_of(x):
    if isinstance(x, (list, tuple)):
        return [_shape_of(t) for t in x]
    return tuple(x.shape)


def _as_shapes(shape):
    if isinstance(shape, (list, tuple)) and shape and isinstance(shape[0], (list, tuple)):
        return [_as_shapes(s) for s in shape]
    return tuple(shape)


@pytest.mark.parametrize("factory, spec", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_compute_output_shape_equals_real_output_shape(factory, spec):
    layer = factory()
    inputs = _inputs(spec)
    outputs = layer(inputs)
    input_shape = _shape_of(inputs)
    assert _as_shapes(layer.compute_output_shape(input_shape)) == _shape_of(outputs)


def _symbolic(spec):
    if isinstance(spec, str):
        shape = eval(spec.split(":", 1)[1])
        return KerasTensor((None, *shape[1:]), dtype="int32")
    if isinstance(spec, list):
        return [KerasTensor((None, *shape[1:])) for shape in spec]
    return KerasTensor((None, *spec[1:]))


def _unbatched(shape):
    if isinstance(shape, list):
        return [_unbatched(s) for s in shape]
    return tuple(shape)[1:]


@pytest.mark.parametrize("factory, spec", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_symbolic_call_with_unknown_batch_gives_the_real_output_shape(factory, spec):
    symbolic = factory()(_symbolic(spec))
    real = factory()(_inputs(spec))
    assert _unbatched(_shape_of(symbolic)) == _unbatched(_shape_of(real))


@pytest.mark.parametrize("factory, spec", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_get_config_round_trip_gives_same_config_and_outputs(factory, spec):
    layer = factory()
    inputs = _inputs(spec)
    layer(inputs)
    clone = type(layer).from_config(layer.get_config())
    clone(inputs)
    assert clone.get_config() == layer.get_config()
    for target, source in zip(clone.weights, layer.weights, strict=True):
        target.assign(source)
    for got, expected in zip(_flat(clone(inputs)), _flat(layer(inputs)), strict=True):
        torch.testing.assert_close(got, expected)


def _flat(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


WRONG_RANK = [
    ("Dense", lambda: layers.Dense(2), (3,), "min_ndim=2"),
    ("SpatialDropout1D", lambda: layers.SpatialDropout1D(0.1), (2, 3), "ndim=3"),
    ("SpatialDropout2D", lambda: layers.SpatialDropout2D(0.1), (2, 3, 3), "ndim=4"),
    ("Conv1D", lambda: layers.Conv1D(2, 2), (2, 3), "3"),
    ("Conv2D", lambda: layers.Conv2D(2, 2), (2, 3, 3), "4"),
    ("Conv2DTranspose", lambda: layers.Conv2DTranspose(2, 2), (2, 3, 3), "4"),
    ("DepthwiseConv2D", lambda: layers.DepthwiseConv2D(2), (2, 3, 3), "4"),
    ("SeparableConv2D", lambda: layers.SeparableConv2D(2, 2), (2, 3, 3), "4"),
    ("MaxPooling1D", lambda: layers.MaxPooling1D(), (2, 3), "ndim=3"),
    ("MaxPooling2D", lambda: layers.MaxPooling2D(), (2, 3, 3), "ndim=4"),
    ("AveragePooling2D", lambda: layers.AveragePooling2D(), (2, 3, 3), "ndim=4"),
    ("GlobalAveragePooling1D", lambda: layers.GlobalAveragePooling1D(), (2, 3), "ndim=3"),
    ("GlobalMaxPooling2D", lambda: layers.GlobalMaxPooling2D(), (2, 3, 3), "ndim=4"),
    ("LSTM", lambda: layers.LSTM(2), (2, 3), "ndim=3"),
    ("GRU", lambda: layers.GRU(2), (2, 3, 4, 5), "ndim=3"),
    ("SimpleRNN", lambda: layers.SimpleRNN(2), (2, 3), "ndim=3"),
    ("Bidirectional", lambda: layers.Bidirectional(layers.LSTM(2)), (2, 3), "ndim=3"),
    ("RepeatVector", lambda: layers.RepeatVector(2), (2, 3, 4), "ndim=2"),
    ("Permute", lambda: layers.Permute((2, 1)), (2, 3), "ndim=3"),
    ("Cropping2D", lambda: layers.Cropping2D(1), (2, 3, 3), "ndim=4"),
    ("ZeroPadding2D", lambda: layers.ZeroPadding2D(1), (2, 3, 3), "ndim=4"),
    ("UpSampling2D", lambda: layers.UpSampling2D(), (2, 3, 3), "ndim=4"),
]


@pytest.mark.parametrize(
    "factory, shape, expected", [c[1:] for c in WRONG_RANK], ids=[c[0] for c in WRONG_RANK]
)
def test_wrong_rank_input_error_names_layer_and_expected_rank(factory, shape, expected):
    layer = factory()
    with pytest.raises(ValueError) as error:
        layer(torch.randn(*shape))
    message = str(error.value)
    assert layer.name in message
    assert expected in message
    assert f"ndim={len(shape)}" in message
