"""Keras 3 layers added for API breadth: the pooling/convolution aliases, RMSNormalization,
Attention, AdditiveAttention, Conv1DTranspose and DepthwiseConv1D.

Numbers are checked against float64 torch references written here, and for the attention
layers also against values computed by Keras 3.15 (torch backend) on the same weights and
inputs.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import tritonlayers as keras
from tritonlayers import layers

TOL64 = {"rtol": 1e-5, "atol": 1e-6}  # float32 layer vs float64 reference


def _set_random_weights(layer, seed=0):
    rng = np.random.default_rng(seed)
    layer.set_weights([rng.normal(size=tuple(w.shape)).astype("float32") for w in layer.weights])


def _f64(*arrays):
    return [torch.as_tensor(np.asarray(a), dtype=torch.float64) for a in arrays]


# ----------------------------------------------------------------------------- aliases

ALIASES = [
    ("MaxPool1D", "MaxPooling1D"),
    ("MaxPool2D", "MaxPooling2D"),
    ("AvgPool1D", "AveragePooling1D"),
    ("AvgPool2D", "AveragePooling2D"),
    ("GlobalAvgPool1D", "GlobalAveragePooling1D"),
    ("GlobalAvgPool2D", "GlobalAveragePooling2D"),
    ("GlobalMaxPool1D", "GlobalMaxPooling1D"),
    ("GlobalMaxPool2D", "GlobalMaxPooling2D"),
    ("Convolution1D", "Conv1D"),
    ("Convolution2D", "Conv2D"),
    ("Convolution2DTranspose", "Conv2DTranspose"),
]


@pytest.mark.parametrize("alias, name", ALIASES, ids=[a for a, _ in ALIASES])
def test_keras_alias_is_the_same_class_and_exported(alias, name):
    assert getattr(layers, alias) is getattr(layers, name)
    assert alias in layers.__all__


# ------------------------------------------------------------------- RMSNormalization


def _rms_reference(x, scale, axes, epsilon):
    (x,) = _f64(x)
    shape = [x.shape[a] if a in axes else 1 for a in range(x.ndim)]
    mean_square = x.square().mean(dim=axes, keepdim=True)
    return x / torch.sqrt(mean_square + epsilon) * torch.as_tensor(scale).double().reshape(shape)


@pytest.mark.parametrize("axis, axes", [(-1, (2,)), (1, (1,)), ([1, 2], (1, 2))])
def test_rms_normalization_matches_float64_reference(axis, axes):
    x = torch.randn(3, 4, 5)
    layer = layers.RMSNormalization(axis=axis, epsilon=1e-3)
    layer(x)
    _set_random_weights(layer)
    expected = _rms_reference(x, layer.scale.detach().cpu(), axes, 1e-3)
    torch.testing.assert_close(layer(x).cpu().double(), expected, **TOL64)


def test_rms_normalization_scale_starts_at_ones_with_normalized_axes_shape():
    layer = layers.RMSNormalization(axis=[1, 2])
    layer(torch.randn(2, 3, 4))
    assert [(w.name, tuple(w.shape)) for w in layer.weights] == [("scale", (3, 4))]
    assert bool((layer.scale.detach() == 1).all())
    assert layers.RMSNormalization().epsilon == 1e-6


def test_rms_normalization_bfloat16_input_keeps_dtype_and_is_computed_in_float32():
    x = torch.randn(2, 8)
    out = layers.RMSNormalization(dtype="bfloat16")(x.bfloat16())
    expected = _rms_reference(x.bfloat16().float(), torch.ones(8), (1,), 1e-6)
    assert out.dtype == torch.bfloat16
    torch.testing.assert_close(out.cpu().double(), expected, rtol=1e-2, atol=1e-2)


def test_rms_normalization_axis_missing_from_input_is_an_error_naming_the_layer():
    layer = layers.RMSNormalization(axis=2, name="rms")
    with pytest.raises(ValueError, match=r'"rms": invalid axis 2 for an input of rank 2'):
        layer(torch.ones(2, 3))


# ------------------------------------------------------------ Attention, AdditiveAttention

# Inputs and weights of the values computed by Keras 3.15 (torch backend) below.
QUERY = [[[0.5, -1.0, 2.0], [1.5, 0.0, -0.5]]]
VALUE = [[[1.0, 2.0, 0.0], [-1.0, 0.5, 1.0], [0.0, -2.0, 3.0]]]
KEY = [[[0.2, 0.1, -0.3], [1.0, -1.0, 0.5], [-0.5, 0.4, 0.0]]]
QUERY_MASK = [[True, False]]
VALUE_MASK = [[True, True, False]]


def _keras_case(layer, weights, **call_kwargs):
    inputs = [torch.tensor(QUERY), torch.tensor(VALUE), torch.tensor(KEY)]
    layer(inputs)
    layer.set_weights([np.asarray(w, "float32") for w in weights])
    out, scores = layer(inputs, return_attention_scores=True, **call_kwargs)
    return out.detach().cpu().tolist(), scores.detach().cpu().tolist()


def _masks():
    return [torch.tensor(QUERY_MASK), torch.tensor(VALUE_MASK)]


def test_attention_with_masks_matches_keras():
    out, scores = _keras_case(layers.Attention(use_scale=True), [0.5], mask=_masks())
    # Keras 3.15: keras.layers.Attention(use_scale=True), scale set to 0.5, same mask.
    np.testing.assert_allclose(
        out, [[[-0.649828, 0.762629, 0.824914], [0.0, 0.0, 0.0]]], rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(
        scores, [[[0.175086, 0.824914, 0.0], [0.401312, 0.598688, 0.0]]], rtol=1e-5, atol=1e-6
    )


def test_attention_causal_mask_matches_keras():
    out, scores = _keras_case(
        layers.Attention(use_scale=True), [0.5], mask=_masks(), use_causal_mask=True
    )
    # Keras 3.15, as above with use_causal_mask=True.
    np.testing.assert_allclose(out, [[[1.0, 2.0, 0.0], [0.0, 0.0, 0.0]]], atol=1e-6)
    np.testing.assert_allclose(
        scores, [[[1.0, 0.0, 0.0], [0.401312, 0.598688, 0.0]]], rtol=1e-5, atol=1e-6
    )


def test_attention_concat_score_mode_matches_keras():
    out, scores = _keras_case(layers.Attention(score_mode="concat"), [1.5])
    # Keras 3.15: Attention(score_mode="concat"), concat_score_weight set to 1.5.
    np.testing.assert_allclose(
        out,
        [[[-0.062211, 0.544378, 1.038001], [0.057999, -0.22842, 1.641708]]],
        rtol=1e-5,
        atol=1e-6,
    )
    np.testing.assert_allclose(
        scores,
        [[[0.367515, 0.429727, 0.202758], [0.294858, 0.236859, 0.468283]]],
        rtol=1e-5,
        atol=1e-6,
    )


def test_additive_attention_with_masks_matches_keras():
    out, scores = _keras_case(layers.AdditiveAttention(), [[0.5, -1.0, 2.0]], mask=_masks())
    # Keras 3.15: AdditiveAttention(), scale set to [0.5, -1.0, 2.0], same mask.
    np.testing.assert_allclose(
        out, [[[-0.245168, 1.066124, 0.622584], [0.0, 0.0, 0.0]]], rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(
        scores, [[[0.377416, 0.622584, 0.0], [0.098417, 0.901583, 0.0]]], rtol=1e-5, atol=1e-6
    )


def test_additive_attention_causal_mask_matches_keras():
    out, scores = _keras_case(layers.AdditiveAttention(), [[0.5, -1.0, 2.0]], use_causal_mask=True)
    # Keras 3.15: AdditiveAttention(), scale [0.5, -1.0, 2.0], use_causal_mask=True.
    np.testing.assert_allclose(
        out, [[[1.0, 2.0, 0.0], [-0.803166, 0.647626, 0.901583]]], rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(
        scores, [[[1.0, 0.0, 0.0], [0.098417, 0.901583, 0.0]]], rtol=1e-5, atol=1e-6
    )


def _attention_reference(query, value, key, logits, value_mask=None, causal=False):
    """softmax over the allowed keys (-inf elsewhere) of `logits(q, k)`, times value."""
    query, value, key = _f64(query, value, key)
    scores = logits(query, key)
    keep = torch.ones_like(scores, dtype=torch.bool)
    if value_mask is not None:
        keep &= torch.as_tensor(value_mask)[:, None, :]
    if causal:
        keep &= torch.ones(scores.shape[-2:], dtype=torch.bool).tril()
    weights = torch.softmax(scores.masked_fill(~keep, float("-inf")), dim=-1)
    return weights @ value, weights


SCORE_CASES = [
    ("dot", lambda: layers.Attention(), lambda w: lambda q, k: q @ k.transpose(1, 2)),
    (
        "dot_scaled",
        lambda: layers.Attention(use_scale=True),
        lambda w: lambda q, k: w[0] * (q @ k.transpose(1, 2)),
    ),
    (
        "concat_scaled",
        lambda: layers.Attention(use_scale=True, score_mode="concat"),
        lambda w: lambda q, k: w[1] * torch.tanh(w[0] * (q[:, :, None] + k[:, None])).sum(-1),
    ),
    (
        "additive",
        lambda: layers.AdditiveAttention(),
        lambda w: lambda q, k: (w[0] * torch.tanh(q[:, :, None] + k[:, None])).sum(-1),
    ),
    (
        "additive_unscaled",
        lambda: layers.AdditiveAttention(use_scale=False),
        lambda w: lambda q, k: torch.tanh(q[:, :, None] + k[:, None]).sum(-1),
    ),
]


@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
@pytest.mark.parametrize(
    "factory, logits", [c[1:] for c in SCORE_CASES], ids=[c[0] for c in SCORE_CASES]
)
def test_attention_matches_float64_reference(factory, logits, causal):
    rng = np.random.default_rng(1)
    query, value, key = (
        rng.normal(size=s).astype("float32") for s in [(2, 4, 3), (2, 6, 5), (2, 6, 3)]
    )
    value_mask = np.array([[1, 1, 0, 1, 0, 1], [1, 0, 1, 1, 1, 1]], bool)
    layer = factory()
    inputs = [torch.tensor(query), torch.tensor(value), torch.tensor(key)]
    layer(inputs)
    _set_random_weights(layer)
    out, scores = layer(
        inputs,
        mask=[None, torch.tensor(value_mask)],
        return_attention_scores=True,
        use_causal_mask=causal,
    )
    weights = _f64(*layer.get_weights())
    expected, expected_scores = _attention_reference(
        query, value, key, logits(weights), value_mask, causal
    )
    torch.testing.assert_close(out.detach().cpu().double(), expected, **TOL64)
    torch.testing.assert_close(scores.detach().cpu().double(), expected_scores, **TOL64)


def test_attention_without_key_uses_value_as_key():
    query, value = torch.randn(2, 3, 4), torch.randn(2, 5, 4)
    layer = layers.Attention()
    torch.testing.assert_close(layer([query, value]), layer([query, value, value]))


def test_attention_weights_have_keras_names_and_shapes():
    attention = layers.Attention(use_scale=True, score_mode="concat")
    attention([torch.ones(1, 2, 3), torch.ones(1, 4, 3)])
    additive = layers.AdditiveAttention()
    additive([torch.ones(1, 2, 3), torch.ones(1, 4, 3)])
    assert [(w.name, tuple(w.shape)) for w in attention.weights] == [
        ("scale", ()),
        ("concat_score_weight", ()),
    ]
    assert [(w.name, tuple(w.shape)) for w in additive.weights] == [("scale", (3,))]
    assert layers.Attention().get_config()["use_scale"] is False
    assert layers.AdditiveAttention().get_config()["use_scale"] is True


@pytest.mark.parametrize("cls", [layers.Attention, layers.AdditiveAttention])
def test_embedding_masks_reach_attention_and_output_keeps_query_mask(cls):
    query_ids = torch.tensor([[3, 4, 0], [1, 0, 0]])
    value_ids = torch.tensor([[5, 6, 7, 0], [2, 0, 0, 0]])
    embedding = layers.Embedding(10, 4, mask_zero=True)
    query, value = embedding(query_ids), embedding(value_ids)
    layer = cls()
    automatic = layer([query, value])
    explicit = layer([query, value], mask=[query_ids != 0, value_ids != 0])
    unmasked = layer([query.detach().clone(), value.detach().clone()])
    torch.testing.assert_close(automatic, explicit)
    assert not torch.allclose(automatic, unmasked)
    assert torch.equal(automatic._keras_mask.cpu(), query_ids != 0)
    assert bool((automatic[query_ids == 0] == 0).all())


def test_attention_in_functional_model_with_embedding_masks_and_scores():
    ids = keras.Input((None,), dtype="int32")
    embedded = layers.Embedding(10, 4, mask_zero=True)(ids)
    attended, scores = layers.Attention()([embedded, embedded], return_attention_scores=True)
    model = keras.Model(ids, [attended, scores])
    data = np.array([[3, 4, 0, 0], [1, 2, 5, 0]], "int32")
    outputs, weights = model.predict(data, verbose=0)
    assert outputs.shape == (2, 4, 4) and weights.shape == (2, 4, 4)
    np.testing.assert_array_equal(outputs[data == 0], 0.0)  # masked queries output zeros
    np.testing.assert_array_equal(weights[:, :, 3], 0.0)  # padding is never attended to
    np.testing.assert_array_equal(weights[0, :, 2], 0.0)
    np.testing.assert_allclose(weights.sum(-1), 1.0, rtol=1e-6)


def test_attention_dropout_applies_only_in_training_and_is_seeded():
    query, value = torch.randn(4, 16, 8), torch.randn(4, 32, 8)
    layer = layers.Attention(dropout=0.5, seed=3)
    inference = layer([query, value], return_attention_scores=True)[1]
    first = layer([query, value], training=True, return_attention_scores=True)[1]
    again = layers.Attention(dropout=0.5, seed=3)(
        [query, value], training=True, return_attention_scores=True
    )[1]
    dropped = (first == 0).double().mean().item()
    assert 0.45 < dropped < 0.55  # 2048 weights: 5 standard deviations is 0.055
    torch.testing.assert_close(first[first != 0], 2 * inference[first != 0])
    torch.testing.assert_close(first, again)
    assert bool((inference != 0).all())


def test_attention_dropout_state_is_a_non_trainable_variable_only_with_dropout():
    assert len(layers.Attention(dropout=0.1, seed=1).non_trainable_variables) == 1
    assert len(layers.Attention().non_trainable_variables) == 0


@pytest.mark.parametrize(
    "inputs, match",
    [
        (torch.ones(2, 3, 4), "must be called on a list of inputs"),
        ([torch.ones(2, 3, 4)], "inputs list of length 2 or 3"),
        ([torch.ones(2, 3, 4), torch.ones(2, 5)], r"expected ndim=3, found ndim=2 for value"),
        (
            [torch.ones(2, 3, 4), torch.ones(2, 5, 4), torch.ones(2, 5, 3)],
            "same number of features",
        ),
    ],
    ids=["not_a_list", "one_input", "wrong_rank", "key_features"],
)
@pytest.mark.parametrize("cls", [layers.Attention, layers.AdditiveAttention])
def test_attention_bad_inputs_are_errors_naming_the_layer(cls, inputs, match):
    layer = cls(name="att")
    with pytest.raises(ValueError, match=match) as error:
        layer(inputs)
    assert f"{cls.__name__} layer 'att'" in str(error.value)


def test_attention_rejects_unknown_score_mode_and_bad_dropout():
    with pytest.raises(ValueError, match=r"Expected one of \{'dot', 'concat'\}"):
        layers.Attention(score_mode="general")
    with pytest.raises(ValueError, match=r"`dropout` must be a float between 0 and 1"):
        layers.AdditiveAttention(dropout=1.5)


# --------------------------------------------------------- Conv1DTranspose, DepthwiseConv1D


def _same_padding(length, window, stride, dilation):
    """TensorFlow/Keras "same": the odd element of padding goes after."""
    effective = (window - 1) * dilation + 1
    out = -(-length // stride)
    total = max((out - 1) * stride + effective - length, 0)
    return total // 2, total - total // 2


def _conv1d_reference(y, kernel, stride, padding, dilation):
    """Keras's Conv1D (channels_last, kernel (k, in, out)) in float64, written with conv1d."""
    x = y.transpose(1, 2)
    if padding == "same":
        x = F.pad(x, _same_padding(x.shape[-1], kernel.shape[0], stride, dilation))
    out = F.conv1d(x, kernel.permute(2, 1, 0), stride=stride, dilation=dilation)
    return out.transpose(1, 2)


def _conv1d_transpose_reference(x, kernel, bias, length, stride, padding, dilation):
    """A transposed convolution is the adjoint of the convolution that maps a `length`-step
    signal to `x`'s steps: its vector-Jacobian product with `x`. The transposed kernel
    `(k, filters, in)` is that convolution's own Keras kernel `(k, its in, its out)`."""
    x, kernel, bias = _f64(x, kernel, bias)
    signal = torch.zeros(x.shape[0], length, kernel.shape[1], dtype=torch.float64)
    signal.requires_grad_(True)
    image = _conv1d_reference(signal, kernel, stride, padding, dilation)
    assert image.shape == x.shape
    (adjoint,) = torch.autograd.grad(image, signal, grad_outputs=x)
    return adjoint + bias


CONV1D_TRANSPOSE_CASES = [
    ("valid", dict(kernel_size=3), 7, 9),
    ("same_strided", dict(kernel_size=3, strides=2, padding="same"), 7, 14),
    ("valid_stride_above_kernel", dict(kernel_size=2, strides=3), 5, 15),
    ("valid_output_padding", dict(kernel_size=4, strides=3, output_padding=2), 7, 24),
    (
        "same_output_padding_0",
        dict(kernel_size=3, strides=2, padding="same", output_padding=0),
        7,
        13,
    ),
    ("same_dilated", dict(kernel_size=3, dilation_rate=2, padding="same"), 7, 7),
]


@pytest.mark.parametrize(
    "kwargs, steps, out_steps",
    [c[1:] for c in CONV1D_TRANSPOSE_CASES],
    ids=[c[0] for c in CONV1D_TRANSPOSE_CASES],
)
def test_conv1d_transpose_matches_float64_adjoint_reference(kwargs, steps, out_steps):
    x = torch.randn(2, steps, 4)
    layer = layers.Conv1DTranspose(3, **kwargs)
    layer(x)
    _set_random_weights(layer)
    out = layer(x)
    kernel, bias = (w.detach().cpu() for w in (layer.kernel, layer.bias))
    expected = _conv1d_transpose_reference(
        x, kernel, bias, out_steps, layer.strides[0], layer.padding, layer.dilation_rate[0]
    )
    assert tuple(layer.kernel.shape) == (kwargs["kernel_size"], 3, 4)
    torch.testing.assert_close(out.detach().cpu().double(), expected, **TOL64)


def test_conv1d_transpose_channels_first_equals_channels_last():
    x = torch.randn(2, 6, 4)
    last = layers.Conv1DTranspose(3, 3, strides=2, padding="same")
    first = layers.Conv1DTranspose(3, 3, strides=2, padding="same", data_format="channels_first")
    last(x)
    first(x.transpose(1, 2))
    _set_random_weights(last)
    first.set_weights(last.get_weights())
    torch.testing.assert_close(first(x.transpose(1, 2)).transpose(1, 2), last(x))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(padding="causal"), "The `padding` argument"),
        (dict(strides=2, output_padding=2), "`output_padding` must be strictly less than"),
        (dict(groups=2), "Unrecognized keyword arguments passed to Conv1DTranspose"),
    ],
    ids=["causal", "output_padding", "groups"],
)
def test_conv1d_transpose_rejects_arguments_keras_rejects(kwargs, match):
    with pytest.raises(ValueError, match=match):
        layers.Conv1DTranspose(2, 3, **kwargs)


def test_conv2d_transpose_accepts_zero_output_padding_as_keras_does():
    layer = layers.Conv2DTranspose(2, 3, strides=2, padding="same", output_padding=0)
    # Keras: (5 - 1) * 2 + 3 % 2 + 0 = 9 steps per axis.
    assert tuple(layer(torch.ones(1, 5, 5, 3)).shape) == (1, 9, 9, 2)


def _depthwise_reference(x, kernel, bias, stride, padding, dilation):
    """out[b, t, c * m + j] = sum_i x[b, t * stride + i * dilation, c] * kernel[i, c, j]."""
    x, kernel, bias = _f64(x, kernel, bias)
    if padding == "same":
        before, after = _same_padding(x.shape[1], kernel.shape[0], stride, dilation)
        x = F.pad(x, (0, 0, before, after))
    window, channels, multiplier = kernel.shape
    steps = (x.shape[1] - (window - 1) * dilation - 1) // stride + 1
    out = torch.zeros(x.shape[0], steps, channels, multiplier, dtype=torch.float64)
    for t in range(steps):
        for i in range(window):
            out[:, t] += x[:, t * stride + i * dilation, :, None] * kernel[i]
    return out.reshape(x.shape[0], steps, channels * multiplier) + bias


DEPTHWISE_CASES = [
    ("valid", dict(kernel_size=3)),
    ("same_strided_multiplier", dict(kernel_size=3, strides=2, padding="same", depth_multiplier=2)),
    ("same_dilated", dict(kernel_size=2, dilation_rate=3, padding="same", depth_multiplier=3)),
]


@pytest.mark.parametrize(
    "kwargs", [c[1] for c in DEPTHWISE_CASES], ids=[c[0] for c in DEPTHWISE_CASES]
)
def test_depthwise_conv1d_matches_float64_reference(kwargs):
    x = torch.randn(2, 9, 4)
    layer = layers.DepthwiseConv1D(**kwargs)
    layer(x)
    _set_random_weights(layer)
    kernel, bias = (w.detach().cpu() for w in (layer.kernel, layer.bias))
    expected = _depthwise_reference(
        x, kernel, bias, layer.strides[0], layer.padding, layer.dilation_rate[0]
    )
    assert tuple(kernel.shape) == (kwargs["kernel_size"], 4, kwargs.get("depth_multiplier", 1))
    torch.testing.assert_close(layer(x).detach().cpu().double(), expected, **TOL64)


def test_depthwise_conv1d_rejects_causal_padding():
    with pytest.raises(ValueError, match="The `padding` argument"):
        layers.DepthwiseConv1D(3, padding="causal")


# ------------------------------------------------ contract: shapes, config, functional, rank

CASES = [
    ("rms_norm", lambda: layers.RMSNormalization(axis=[1, 2], epsilon=1e-4), [(2, 3, 4)]),
    (
        "attention",
        lambda: layers.Attention(use_scale=True, dropout=0.1, seed=2),
        [(2, 3, 4), (2, 5, 6), (2, 5, 4)],
    ),
    ("attention_concat", lambda: layers.Attention(score_mode="concat"), [(2, 3, 4), (2, 5, 4)]),
    ("additive_attention", lambda: layers.AdditiveAttention(dropout=0.2), [(2, 3, 4), (2, 5, 4)]),
    (
        "conv1d_transpose",
        lambda: layers.Conv1DTranspose(
            3, 3, strides=2, padding="same", output_padding=1, activation="relu"
        ),
        [(2, 5, 4)],
    ),
    (
        "conv1d_transpose_channels_first",
        lambda: layers.Conv1DTranspose(3, 2, strides=3, data_format="channels_first"),
        [(2, 4, 5)],
    ),
    (
        "depthwise_conv1d",
        lambda: layers.DepthwiseConv1D(3, 2, "same", depth_multiplier=2),
        [(2, 7, 3)],
    ),
    (
        "depthwise_conv1d_channels_first",
        lambda: layers.DepthwiseConv1D(2, dilation_rate=2, data_format="channels_first"),
        [(2, 3, 7)],
    ),
]
CASE_IDS = [c[0] for c in CASES]


def _call_inputs(layer, shapes):
    tensors = [torch.randn(*s) for s in shapes]
    return tensors if isinstance(layer, layers.Attention) else tensors[0]


def _shapes(shapes, layer):
    return [tuple(s) for s in shapes] if isinstance(layer, layers.Attention) else tuple(shapes[0])


@pytest.mark.parametrize("factory, shapes", [c[1:] for c in CASES], ids=CASE_IDS)
def test_compute_output_shape_equals_real_output_shape(factory, shapes):
    layer = factory()
    outputs = layer(_call_inputs(layer, shapes))
    assert tuple(layer.compute_output_shape(_shapes(shapes, layer))) == tuple(outputs.shape)


@pytest.mark.parametrize("factory, shapes", [c[1:] for c in CASES], ids=CASE_IDS)
def test_get_config_round_trip_gives_same_config_and_outputs(factory, shapes):
    layer = factory()
    inputs = _call_inputs(layer, shapes)
    layer(inputs)
    _set_random_weights(layer)
    clone = type(layer).from_config(layer.get_config())
    clone(inputs)
    assert clone.get_config() == layer.get_config()
    clone.set_weights(layer.get_weights())
    torch.testing.assert_close(clone(inputs), layer(inputs))


@pytest.mark.parametrize("factory, shapes", [c[1:] for c in CASES], ids=CASE_IDS)
def test_layer_in_functional_model_matches_direct_call(factory, shapes):
    layer = factory()
    symbolic = [keras.Input(s[1:]) for s in shapes]
    outputs = layer(symbolic if isinstance(layer, layers.Attention) else symbolic[0])
    model = keras.Model(symbolic, outputs)
    data = [np.random.default_rng(i).normal(size=s).astype("float32") for i, s in enumerate(shapes)]
    expected = layer([torch.tensor(d) for d in data] if len(data) > 1 else torch.tensor(data[0]))
    got = model.predict(data if len(data) > 1 else data[0], verbose=0)
    assert tuple(outputs.shape)[1:] == tuple(expected.shape)[1:]
    np.testing.assert_allclose(got, expected.detach().cpu().numpy(), rtol=1e-5, atol=1e-6)


def test_new_layers_save_and_load_in_a_model(tmp_path):
    tokens = keras.Input((6, 4))
    x = layers.Conv1DTranspose(4, 3, padding="same")(tokens)
    x = layers.DepthwiseConv1D(3, padding="same", depth_multiplier=2)(x)
    x = layers.RMSNormalization()(x)
    x = layers.Attention(use_scale=True)([x, x])
    x = layers.AdditiveAttention()([x, x])
    model = keras.Model(tokens, layers.GlobalAvgPool1D()(x))
    model.save(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras")
    data = np.random.default_rng(0).normal(size=(2, 6, 4)).astype("float32")
    np.testing.assert_array_equal(restored.predict(data, verbose=0), model.predict(data, verbose=0))


WRONG_RANK = [
    ("RMSNormalization", lambda: layers.RMSNormalization(), (2, 3, 4), (2, 4), "ndim=3"),
    ("Conv1DTranspose", lambda: layers.Conv1DTranspose(2, 2), None, (2, 3), "min_ndim=3"),
    ("DepthwiseConv1D", lambda: layers.DepthwiseConv1D(2), None, (2, 3), "min_ndim=3"),
]


@pytest.mark.parametrize(
    "factory, built_on, shape, expected",
    [c[1:] for c in WRONG_RANK],
    ids=[c[0] for c in WRONG_RANK],
)
def test_wrong_rank_input_error_names_layer_and_expected_rank(factory, built_on, shape, expected):
    layer = factory()
    if built_on is not None:
        layer(torch.randn(*built_on))
    with pytest.raises(ValueError) as error:
        layer(torch.randn(*shape))
    message = str(error.value)
    assert layer.name in message and expected in message and f"ndim={len(shape)}" in message
