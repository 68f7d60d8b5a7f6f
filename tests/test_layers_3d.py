"""3D layers (Conv3D, Conv3DTranspose, Max/Average/Global pooling 3D, Cropping3D,
ZeroPadding3D, UpSampling3D) and the adaptive poolings, against float64 torch references.

Every layer here was also run against Keras 3.15 (torch backend) on the same inputs and
weights in a scratch script: outputs agreed to 1e-6 and `compute_output_shape` agreed, over
valid/same padding, strides, dilation, groups, output_padding and both data formats (the one
known difference is AveragePooling "same" with uneven padding, where Keras's torch backend
counts padded edge values and tritonlayers follows TensorFlow/JAX, as pooling.py documents).
"""

import pytest
import torch
import torch.nn.functional as F

import tritonlayers as keras
from tritonlayers import layers
from tritonlayers.layers.symbolic import KerasTensor

TOL = {"rtol": 1e-5, "atol": 1e-5}


def _first(x):
    """channels_last (N, D, H, W, C) -> float64 channels_first (N, C, D, H, W)."""
    return x.double().permute(0, 4, 1, 2, 3)


def _last(x):
    return x.permute(0, 2, 3, 4, 1).float()


def _torch_kernel(layer):
    """Keras (kd, kh, kw, a, b) kernel -> float64 torch (b, a, kd, kh, kw)."""
    return layer.kernel.detach().double().permute(4, 3, 0, 1, 2)


def _random_bias(layer):
    with torch.no_grad():
        layer.bias.copy_(torch.randn_like(layer.bias))
    return layer.bias.detach().double()


def _same_pads(sizes, kernel, stride, dilation=(1, 1, 1)):
    """F.pad list for TensorFlow "same" padding (odd element after) over (D, H, W)."""
    pads = []
    for size, k, s, d in zip(sizes, kernel, stride, dilation):
        total = max((-(-size // s) - 1) * s + (k - 1) * d + 1 - size, 0)
        pads.append((total // 2, total - total // 2))
    return [p for pair in reversed(pads) for p in pair]


def test_conv3d_valid_matches_float64_conv3d():
    x = torch.randn(2, 4, 5, 6, 3)
    layer = layers.Conv3D(4, (2, 3, 2), activation="relu")
    layer(x)
    bias = _random_bias(layer)
    expected = torch.relu(F.conv3d(_first(x), _torch_kernel(layer), bias))
    torch.testing.assert_close(layer(x), _last(expected), **TOL)


def test_conv3d_same_with_uneven_strides_pads_the_odd_element_after():
    x = torch.randn(1, 5, 6, 7, 2)
    layer = layers.Conv3D(3, (3, 2, 4), strides=(2, 1, 3), padding="same")
    out = layer(x)
    padded = F.pad(_first(x), _same_pads((5, 6, 7), (3, 2, 4), (2, 1, 3)))
    expected = F.conv3d(padded, _torch_kernel(layer), stride=(2, 1, 3))
    assert tuple(out.shape) == (1, 3, 6, 3, 3)
    torch.testing.assert_close(out, _last(expected), **TOL)


def test_conv3d_channels_first_groups_and_dilation_match_float64_conv3d():
    x = torch.randn(2, 4, 5, 5, 6)
    layer = layers.Conv3D(
        6, 2, dilation_rate=(2, 1, 2), groups=2, padding="same", data_format="channels_first"
    )
    layer(x)
    bias = _random_bias(layer)
    padded = F.pad(x.double(), _same_pads((5, 5, 6), (2, 2, 2), (1, 1, 1), (2, 1, 2)))
    expected = F.conv3d(padded, _torch_kernel(layer), bias, dilation=(2, 1, 2), groups=2)
    assert tuple(layer.kernel.shape) == (2, 2, 2, 2, 6)
    torch.testing.assert_close(layer(x), expected.float(), **TOL)


def test_conv3d_transpose_valid_matches_float64_conv_transpose3d():
    x = torch.randn(2, 3, 2, 4, 3)
    layer = layers.Conv3DTranspose(4, (3, 2, 2), strides=(2, 3, 1))
    layer(x)
    bias = _random_bias(layer)
    # Keras's "valid" length is (n - 1) * stride + max(kernel, stride): one extra (bias
    # only) position on the axis whose stride 3 exceeds its kernel 2.
    expected = F.conv_transpose3d(
        _first(x), _torch_kernel(layer), bias, stride=(2, 3, 1), output_padding=(0, 1, 0)
    )
    assert tuple(layer.kernel.shape) == (3, 2, 2, 4, 3)
    torch.testing.assert_close(layer(x), _last(expected), **TOL)


def test_conv3d_transpose_same_even_overlap_matches_torch_padding():
    x = torch.randn(1, 2, 3, 3, 2)
    layer = layers.Conv3DTranspose(3, 4, strides=2, padding="same", use_bias=False)
    out = layer(x)
    expected = F.conv_transpose3d(_first(x), _torch_kernel(layer), stride=2, padding=1)
    assert tuple(out.shape) == (1, 4, 6, 6, 3)
    torch.testing.assert_close(out, _last(expected), **TOL)


def test_conv3d_transpose_is_the_gradient_of_conv3d_same():
    # The transposed convolution of ones is d(sum conv(x))/dx for the same kernel: the
    # adjoint relation that makes Keras's "same" cropping of the transposed output right.
    x = torch.randn(1, 4, 6, 2, 2)  # multiples of the stride: both pad (0, 1) per axis
    conv = layers.Conv3D(3, 3, strides=2, padding="same", use_bias=False)
    transpose = layers.Conv3DTranspose(2, 3, strides=2, padding="same", use_bias=False)
    y = conv(x)
    transpose(y)
    transpose.kernel.assign(conv.kernel.detach())
    x.requires_grad_(True)
    (grad,) = torch.autograd.grad(conv(x).sum(), x)
    torch.testing.assert_close(transpose(torch.ones_like(y)), grad, **TOL)


def test_conv3d_transpose_output_padding_sets_output_size():
    layer = layers.Conv3DTranspose(2, 3, strides=2, output_padding=(1, 0, 1))
    out = layer(torch.randn(1, 2, 3, 4, 1))
    assert tuple(out.shape) == (1, 6, 7, 10, 2)


def test_conv3d_transpose_rejects_groups():
    with pytest.raises(ValueError, match="Conv3DTranspose.*groups"):
        layers.Conv3DTranspose(2, 3, groups=2)


def test_max_pooling3d_valid_matches_torch():
    x = torch.randn(2, 5, 6, 7, 3)
    out = layers.MaxPooling3D((2, 3, 2), strides=(1, 2, 3))(x)
    expected = F.max_pool3d(_first(x), (2, 3, 2), (1, 2, 3))
    torch.testing.assert_close(out, _last(expected))


def test_max_pooling3d_same_ignores_padding():
    x = -torch.rand(1, 3, 5, 5, 2) - 1.0  # all negative: a zero pad would win the max
    out = layers.MaxPooling3D(2, padding="same")(x)
    expected = F.max_pool3d(_first(x), 2, 2, ceil_mode=True)
    torch.testing.assert_close(out, _last(expected))


def test_average_pooling3d_same_averages_only_real_elements():
    x = torch.randn(1, 3, 5, 4, 2)
    out = layers.AveragePooling3D(3, strides=1, padding="same")(x)
    expected = F.avg_pool3d(_first(x), 3, 1, padding=1, count_include_pad=False)
    torch.testing.assert_close(out, _last(expected))


def test_average_pooling3d_channels_first_valid_matches_torch():
    x = torch.randn(2, 3, 4, 6, 5)
    out = layers.AveragePooling3D(2, data_format="channels_first")(x)
    torch.testing.assert_close(out, F.avg_pool3d(x.double(), 2).float())


@pytest.mark.parametrize(
    "layer, reduce",
    [
        (layers.GlobalAveragePooling3D(), torch.mean),
        (layers.GlobalMaxPooling3D(), torch.amax),
    ],
    ids=["average", "max"],
)
def test_global_pooling3d_reduces_the_three_spatial_axes(layer, reduce):
    x = torch.randn(2, 3, 4, 5, 6)
    torch.testing.assert_close(layer(x), reduce(x.double(), dim=(1, 2, 3)).float())


def test_global_pooling3d_channels_first_keepdims_keeps_unit_axes():
    x = torch.randn(2, 3, 4, 5, 6)
    out = layers.GlobalMaxPooling3D(data_format="channels_first", keepdims=True)(x)
    torch.testing.assert_close(out, torch.amax(x, dim=(2, 3, 4), keepdim=True))


def test_cropping3d_slices_each_spatial_axis():
    x = torch.randn(2, 5, 6, 7, 3)
    out = layers.Cropping3D(((1, 0), 2, (0, 3)))(x)
    torch.testing.assert_close(out, x[:, 1:, 2:4, :4])


def test_cropping3d_rejects_cropping_a_whole_axis():
    with pytest.raises(ValueError, match="should be smaller than the corresponding spatial"):
        layers.Cropping3D((1, 2, 1))(torch.zeros(1, 4, 4, 4, 1))


def test_zero_padding3d_channels_first_pads_the_trailing_axes():
    x = torch.randn(2, 3, 2, 3, 4)
    out = layers.ZeroPadding3D(((1, 0), 2, (0, 3)), data_format="channels_first")(x)
    torch.testing.assert_close(out, F.pad(x, (0, 3, 2, 2, 1, 0)))


def test_zero_padding3d_rejects_padding_of_the_wrong_length():
    with pytest.raises(ValueError, match="`padding` should have three elements"):
        layers.ZeroPadding3D((1, 2))


def test_up_sampling3d_repeats_each_voxel():
    x = torch.randn(2, 2, 3, 2, 4)
    out = layers.UpSampling3D((1, 2, 3))(x)
    expected = x.repeat_interleave(2, dim=2).repeat_interleave(3, dim=3)
    torch.testing.assert_close(out, expected)


def _adaptive_reference(x, output_size, reduce):
    """float64 channels_first adaptive pooling by explicit windows:
    cell i of an axis of length L covers [floor(i * L / n), ceil((i + 1) * L / n))."""
    spatial = x.shape[2:]
    out = torch.empty(*x.shape[:2], *output_size, dtype=torch.float64)
    for index in torch.cartesian_prod(*[torch.arange(n) for n in output_size]).reshape(
        -1, len(output_size)
    ):
        window = [
            slice((int(i) * length) // n, -((-(int(i) + 1) * length) // n))
            for i, length, n in zip(index, spatial, output_size)
        ]
        block = x[(slice(None), slice(None), *window)].double().flatten(2)
        out[(slice(None), slice(None), *index.tolist())] = reduce(block)
    return out


def _mean(block):
    return block.mean(-1)


def _max(block):
    return block.amax(-1)


@pytest.mark.parametrize(
    "layer, shape, output_size, reduce",
    [
        (layers.AdaptiveAveragePooling1D(3), (2, 7, 3), (3,), _mean),
        (layers.AdaptiveMaxPooling1D((4,)), (2, 7, 3), (4,), _max),
        (layers.AdaptiveAveragePooling2D((2, 3)), (2, 5, 7, 3), (2, 3), _mean),
        (layers.AdaptiveMaxPooling2D(3), (2, 5, 7, 3), (3, 3), _max),
        (layers.AdaptiveAveragePooling3D((2, 3, 4)), (1, 5, 4, 7, 2), (2, 3, 4), _mean),
        (layers.AdaptiveMaxPooling3D(3), (1, 5, 4, 7, 2), (3, 3, 3), _max),
        (layers.AdaptiveAveragePooling2D(6), (1, 4, 3, 2), (6, 6), _mean),  # upsampling
    ],
    ids=["avg1d", "max1d", "avg2d", "max2d", "avg3d", "max3d", "avg2d_larger"],
)
def test_adaptive_pooling_matches_explicit_windows(layer, shape, output_size, reduce):
    x = torch.randn(*shape)
    expected = _adaptive_reference(torch.movedim(x, -1, 1), output_size, reduce)
    torch.testing.assert_close(layer(x), torch.movedim(expected, 1, -1).float(), **TOL)


def test_adaptive_pooling_channels_first_pools_the_trailing_axes():
    x = torch.randn(2, 3, 5, 4, 7)
    layer = layers.AdaptiveMaxPooling3D((2, 2, 3), data_format="channels_first")
    expected = _adaptive_reference(x, (2, 2, 3), _max)
    torch.testing.assert_close(layer(x), expected.float())


def test_adaptive_pooling_rejects_output_size_of_the_wrong_length():
    with pytest.raises(ValueError, match="AdaptiveAveragePooling2D.*tuple of 2 integers"):
        layers.AdaptiveAveragePooling2D((2, 3, 4))


def test_adaptive_pooling_rejects_a_non_integer_output_size():
    with pytest.raises(TypeError, match="AdaptiveMaxPooling1D.*`output_size`"):
        layers.AdaptiveMaxPooling1D(2.5)


CASES = [
    ("conv3d_valid", lambda: layers.Conv3D(4, (2, 3, 2)), (2, 5, 6, 7, 3)),
    (
        "conv3d_same_strided",
        lambda: layers.Conv3D(4, 3, strides=(2, 1, 3), padding="same"),
        (2, 5, 6, 7, 3),
    ),
    (
        "conv3d_channels_first",
        lambda: layers.Conv3D(6, 2, strides=2, groups=3, data_format="channels_first"),
        (2, 3, 5, 6, 7),
    ),
    (
        "conv3d_transpose_valid",
        lambda: layers.Conv3DTranspose(2, 3, strides=(1, 2, 3)),
        (2, 3, 2, 4, 3),
    ),
    (
        "conv3d_transpose_same",
        lambda: layers.Conv3DTranspose(2, (2, 3, 2), strides=2, padding="same", output_padding=1),
        (2, 3, 2, 4, 3),
    ),
    (
        "conv3d_transpose_channels_first",
        lambda: layers.Conv3DTranspose(2, 3, dilation_rate=2, data_format="channels_first"),
        (2, 3, 3, 2, 4),
    ),
    ("max_pool3d_same", lambda: layers.MaxPooling3D((2, 3, 2), (1, 2, 3), "same"), (2, 5, 6, 7, 3)),
    ("max_pool3d_default", lambda: layers.MaxPooling3D(), (2, 5, 6, 7, 3)),
    ("avg_pool3d_valid", lambda: layers.AveragePooling3D(3, strides=2), (2, 5, 6, 7, 3)),
    (
        "avg_pool3d_channels_first",
        lambda: layers.AveragePooling3D(2, padding="same", data_format="channels_first"),
        (2, 3, 5, 6, 7),
    ),
    ("global_avg_pool3d", lambda: layers.GlobalAveragePooling3D(keepdims=True), (2, 3, 4, 5, 2)),
    ("global_max_pool3d", lambda: layers.GlobalMaxPooling3D(), (2, 3, 4, 5, 2)),
    ("cropping3d", lambda: layers.Cropping3D(((1, 0), 1, (0, 2))), (2, 4, 5, 6, 2)),
    (
        "zero_padding3d",
        lambda: layers.ZeroPadding3D((1, 0, 2), data_format="channels_first"),
        (2, 2, 3, 4, 5),
    ),
    ("up_sampling3d", lambda: layers.UpSampling3D((2, 1, 3)), (2, 2, 3, 2, 2)),
    ("adaptive_avg1d", lambda: layers.AdaptiveAveragePooling1D(3), (2, 7, 3)),
    ("adaptive_max2d", lambda: layers.AdaptiveMaxPooling2D((2, 3), "channels_first"), (2, 3, 5, 7)),
    ("adaptive_avg3d", lambda: layers.AdaptiveAveragePooling3D((2, 1, 3)), (2, 5, 4, 6, 2)),
    ("adaptive_max3d", lambda: layers.AdaptiveMaxPooling3D(2), (2, 5, 4, 6, 2)),
]
_IDS = [case[0] for case in CASES]
_ARGS = [case[1:] for case in CASES]


@pytest.mark.parametrize("factory, shape", _ARGS, ids=_IDS)
def test_compute_output_shape_equals_real_output_shape(factory, shape):
    layer = factory()
    assert layer.compute_output_shape(shape) == tuple(layer(torch.randn(*shape)).shape)


@pytest.mark.parametrize("factory, shape", _ARGS, ids=_IDS)
def test_symbolic_call_with_unknown_batch_gives_the_real_output_shape(factory, shape):
    symbolic = factory()(KerasTensor((None, *shape[1:])))
    assert tuple(symbolic.shape) == (None, *factory()(torch.randn(*shape)).shape[1:])


@pytest.mark.parametrize("factory, shape", _ARGS, ids=_IDS)
def test_get_config_round_trip_gives_same_config_and_outputs(factory, shape):
    layer = factory()
    x = torch.randn(*shape)
    layer(x)
    clone = type(layer).from_config(layer.get_config())
    clone(x)
    assert clone.get_config() == layer.get_config()
    for target, source in zip(clone.weights, layer.weights, strict=True):
        target.assign(source)
    torch.testing.assert_close(clone(x), layer(x))


WRONG_RANK = [
    ("Conv3D", lambda: layers.Conv3D(2, 2), (2, 3, 3, 3), "5"),
    ("Conv3DTranspose", lambda: layers.Conv3DTranspose(2, 2), (2, 3, 3, 3), "5"),
    ("MaxPooling3D", lambda: layers.MaxPooling3D(), (2, 3, 3, 3), "ndim=5"),
    ("AveragePooling3D", lambda: layers.AveragePooling3D(2), (2, 3, 3, 3), "ndim=5"),
    ("GlobalAveragePooling3D", lambda: layers.GlobalAveragePooling3D(), (2, 3, 3), "ndim=5"),
    ("GlobalMaxPooling3D", lambda: layers.GlobalMaxPooling3D(), (2, 3, 3, 3, 3, 3), "ndim=5"),
    ("Cropping3D", lambda: layers.Cropping3D(1), (2, 3, 3, 3), "ndim=5"),
    ("ZeroPadding3D", lambda: layers.ZeroPadding3D(1), (2, 3, 3, 3), "ndim=5"),
    ("UpSampling3D", lambda: layers.UpSampling3D(), (2, 3, 3, 3), "ndim=5"),
    ("AdaptiveAveragePooling1D", lambda: layers.AdaptiveAveragePooling1D(2), (2, 3), "ndim=3"),
    ("AdaptiveMaxPooling2D", lambda: layers.AdaptiveMaxPooling2D(2), (2, 3, 3), "ndim=4"),
    (
        "AdaptiveAveragePooling3D",
        lambda: layers.AdaptiveAveragePooling3D(2),
        (2, 3, 3, 3),
        "ndim=5",
    ),
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


def test_3d_layers_build_a_functional_model_on_input():
    volumes = keras.Input((4, 6, 6, 2))
    x = layers.ZeroPadding3D(1)(volumes)
    x = layers.Conv3D(4, 3, padding="same", activation="relu")(x)
    x = layers.MaxPooling3D()(x)
    x = layers.Conv3DTranspose(3, 2, strides=2)(x)
    x = layers.Cropping3D(1)(x)
    x = layers.UpSampling3D((1, 1, 2))(x)
    x = layers.AveragePooling3D(2)(x)
    x = layers.AdaptiveMaxPooling3D((2, 2, 2))(x)
    outputs = layers.GlobalAveragePooling3D()(x)
    model = keras.Model(volumes, outputs)
    assert tuple(model.output.shape) == (None, 3)
    assert tuple(model(torch.randn(2, 4, 6, 6, 2)).shape) == (2, 3)


def test_keras_aliases_name_the_same_classes():
    assert layers.Convolution3D is layers.Conv3D
    assert layers.Convolution3DTranspose is layers.Conv3DTranspose
    assert layers.Convolution1DTranspose is layers.Conv1DTranspose
    assert layers.MaxPool3D is layers.MaxPooling3D
    assert layers.AvgPool3D is layers.AveragePooling3D
    assert layers.GlobalAvgPool3D is layers.GlobalAveragePooling3D
    assert layers.GlobalMaxPool3D is layers.GlobalMaxPooling3D


def test_conv3d_transpose_takes_data_format_before_output_padding_like_keras():
    layer = layers.Conv3DTranspose(2, 3, 2, "valid", "channels_first", (1, 0, 1))
    assert (layer.data_format, layer.output_padding) == ("channels_first", (1, 0, 1))
