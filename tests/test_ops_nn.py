"""keras.ops neural-network and math functions against float64 numpy formulas."""

import itertools
import math

import numpy as np
import pytest
import torch

from tritonlayers import config, ops

RNG = np.random.default_rng(1)
X = (RNG.normal(size=(4, 6)) * 3).astype(np.float32)
X64 = X.astype(np.float64)
EPS = config.epsilon()


def assert_matches(result, expected, atol=1e-5, rtol=1e-5):
    assert isinstance(result, torch.Tensor)
    expected = np.asarray(expected)
    assert tuple(result.shape) == expected.shape
    np.testing.assert_allclose(ops.convert_to_numpy(result), expected, atol=atol, rtol=rtol)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _erf(x):
    return np.vectorize(math.erf)(x)


ACTIVATIONS = {
    "relu": lambda x: np.maximum(x, 0),
    "relu6": lambda x: np.clip(x, 0, 6),
    "sigmoid": _sigmoid,
    "tanh": np.tanh,
    "softplus": lambda x: np.log1p(np.exp(x)),
    "softsign": lambda x: x / (1 + np.abs(x)),
    "silu": lambda x: x * _sigmoid(x),
    "log_sigmoid": lambda x: np.log(_sigmoid(x)),
    "elu": lambda x: np.where(x > 0, x, np.expm1(x)),
    "selu": lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * np.expm1(x)),
    "celu": lambda x: np.maximum(x, 0) + np.minimum(0, np.expm1(x)),
    "leaky_relu": lambda x: np.where(x >= 0, x, 0.2 * x),
    "hard_sigmoid": lambda x: np.clip(x + 3, 0, 6) / 6,
    "hard_silu": lambda x: x * np.clip(x + 3, 0, 6) / 6,
    "gelu": lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3))),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_op_matches_formula(name):
    assert_matches(getattr(ops, name)(X), ACTIVATIONS[name](X64), atol=1e-5)


def test_exact_gelu_matches_erf_formula():
    assert_matches(ops.gelu(X, approximate=False), 0.5 * X64 * (1 + _erf(X64 / np.sqrt(2))))


def test_glu_matches_formula():
    a, b = X64[:, :3], X64[:, 3:]
    assert_matches(ops.glu(X), a * _sigmoid(b))


@pytest.mark.parametrize("axis", [-1, 0, (0, 1), None], ids=str)
def test_softmax_and_log_softmax_over_axes_match_formula(axis):
    shifted = X64 - X64.max(axis=axis, keepdims=True)
    log_sum = np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    assert_matches(ops.log_softmax(X, axis=axis), shifted - log_sum)
    assert_matches(ops.softmax(X, axis=axis), np.exp(shifted - log_sum))


@pytest.mark.parametrize("axis", [None, 1], ids=str)
def test_logsumexp_matches_formula(axis):
    expected = np.log(np.exp(X64).sum(axis=axis))
    assert_matches(ops.logsumexp(X, axis=axis), expected, atol=1e-5)


def test_erf_erfinv_rsqrt_match_formulas():
    assert_matches(ops.erf(X), _erf(X64))
    assert_matches(ops.erfinv(ops.erf(X / 4)), X64 / 4, atol=1e-4)
    assert_matches(ops.rsqrt(np.abs(X) + 1), 1 / np.sqrt(np.abs(X64) + 1))


def test_top_k_and_in_top_k_match_sorting():
    values, indices = ops.top_k(X, 3)
    order = np.argsort(-X, axis=-1)[:, :3]
    assert_matches(indices, order)
    assert_matches(values, np.take_along_axis(X, order, axis=-1))
    full_order = np.argsort(-X, axis=-1)
    targets = np.array([full_order[0, 0], full_order[1, 2], full_order[2, 3], full_order[3, 5]])
    assert ops.in_top_k(targets, X, 3).tolist() == [True, True, False, False]


def test_one_hot_places_classes_and_zeroes_out_of_range():
    result = ops.one_hot(np.array([0, 2, -1, 5]), 4)
    assert_matches(result, [[1, 0, 0, 0], [0, 0, 1, 0], [0, 0, 0, 0], [0, 0, 0, 0]])
    assert result.dtype == torch.float32
    assert tuple(ops.one_hot(np.zeros((2, 3), np.int64), 4, axis=0).shape) == (4, 2, 3)


def test_multi_hot_marks_every_listed_class():
    assert_matches(ops.multi_hot(np.array([[0, 2], [1, 1]]), 4), [[1, 0, 1, 0], [0, 1, 0, 0]])


# ---- cross-entropies ---------------------------------------------------------------------

TARGET = RNG.uniform(size=(4, 6)).astype(np.float32)
PROBS = RNG.uniform(0.0, 1.0, size=(4, 6)).astype(np.float32)
PROBS[0, 0], PROBS[1, 1] = 0.0, 1.0  # exercises the epsilon clipping


def test_binary_crossentropy_clips_probabilities_with_epsilon():
    # The clip happens in float32, as in Keras: 1 - 1e-7 rounds to 1 - 1.19e-7.
    p = np.clip(PROBS, np.float32(EPS), np.float32(1 - EPS)).astype(np.float64)
    expected = -(TARGET * np.log(p) + (1 - TARGET) * np.log(1 - p))
    assert_matches(ops.binary_crossentropy(TARGET, PROBS), expected, atol=1e-4, rtol=1e-4)


def test_binary_crossentropy_from_logits_matches_formula():
    expected = np.maximum(X64, 0) - X64 * TARGET + np.log1p(np.exp(-np.abs(X64)))
    assert_matches(ops.binary_crossentropy(TARGET, X, from_logits=True), expected)


def test_categorical_crossentropy_normalizes_and_clips_probabilities():
    one_hot = np.eye(6)[[0, 3, 5, 1]]
    p = PROBS / PROBS.sum(axis=-1, keepdims=True)
    expected = -(one_hot * np.log(np.clip(p, EPS, 1 - EPS))).sum(-1)
    assert_matches(ops.categorical_crossentropy(one_hot, PROBS), expected, atol=1e-5)


def test_categorical_crossentropy_from_logits_matches_log_softmax():
    one_hot = np.eye(6)[[0, 3, 5, 1]]
    log_prob = X64 - np.log(np.exp(X64).sum(-1, keepdims=True))
    assert_matches(
        ops.categorical_crossentropy(one_hot, X, from_logits=True), -(one_hot * log_prob).sum(-1)
    )


def test_sparse_categorical_crossentropy_equals_categorical_on_one_hot():
    labels = np.array([0, 3, 5, 1])
    dense = ops.categorical_crossentropy(np.eye(6)[labels], X, from_logits=True)
    assert_matches(
        ops.sparse_categorical_crossentropy(labels, X, from_logits=True),
        ops.convert_to_numpy(dense),
    )
    column = labels.reshape(-1, 1)
    assert_matches(
        ops.sparse_categorical_crossentropy(column, PROBS),
        ops.convert_to_numpy(ops.categorical_crossentropy(np.eye(6)[labels], PROBS)),
    )


def test_crossentropy_shape_mismatch_raises_keras_error():
    with pytest.raises(ValueError, match="must have the same shape"):
        ops.binary_crossentropy(TARGET[:, :2], PROBS)
    with pytest.raises(ValueError, match="same shape up until the last"):
        ops.sparse_categorical_crossentropy(np.zeros(3, np.int64), PROBS)


# ---- statistics and normalization ----------------------------------------------------------


@pytest.mark.parametrize("keepdims", [False, True])
def test_moments_match_numpy_mean_and_population_variance(keepdims):
    x = RNG.normal(size=(3, 4, 5)).astype(np.float32)
    mean, variance = ops.moments(x, axes=[0, 2], keepdims=keepdims)
    assert_matches(mean, x.mean(axis=(0, 2), keepdims=keepdims))
    assert_matches(variance, x.var(axis=(0, 2), keepdims=keepdims))


def test_moments_of_float16_are_computed_in_float32():
    x = np.full((4, 2048), 300.0, dtype=np.float16)
    x[:, ::2] = 310.0
    mean, variance = ops.moments(x, axes=[0, 1])
    assert mean.dtype == torch.float16
    assert variance.item() == pytest.approx(25.0)


def test_batch_normalization_matches_formula():
    mean, var = X64.mean(0), X64.var(0)
    offset, scale = np.arange(6.0), np.linspace(0.5, 2.0, 6)
    expected = (X64 - mean) / np.sqrt(var + 1e-3) * scale + offset
    result = ops.batch_normalization(X, mean, var, axis=-1, offset=offset, scale=scale)
    assert_matches(result, expected, atol=1e-4)


@pytest.mark.parametrize("order", [1, 2])
def test_normalize_divides_by_the_norm(order):
    norm = np.linalg.norm(X64, ord=order, axis=-1, keepdims=True)
    assert_matches(ops.normalize(X, axis=-1, order=order), X64 / norm)


# ---- convolution and pooling ----------------------------------------------------------------


def _same_pads(size, kernel, stride, dilation):
    out = -(-size // stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def _reference_conv(x, kernel, strides, padding, dilation):
    """Direct channels_last convolution in float64, one output position at a time."""
    rank = x.ndim - 2
    if padding == "same":
        pads = [
            _same_pads(x.shape[1 + d], kernel.shape[d], strides[d], dilation[d])
            for d in range(rank)
        ]
        x = np.pad(x, [(0, 0), *pads, (0, 0)])
    extent = [(kernel.shape[d] - 1) * dilation[d] + 1 for d in range(rank)]
    out_sizes = [(x.shape[1 + d] - extent[d]) // strides[d] + 1 for d in range(rank)]
    out = np.zeros((x.shape[0], *out_sizes, kernel.shape[-1]))
    for position in itertools.product(*(range(n) for n in out_sizes)):
        window = tuple(
            slice(p * s, p * s + e, dl) for p, s, e, dl in zip(position, strides, extent, dilation)
        )
        patch = x[(slice(None), *window, slice(None))]
        out[(slice(None), *position, slice(None))] = np.tensordot(
            patch, kernel, axes=(list(range(1, rank + 2)), list(range(rank + 1)))
        )
    return out


CONV_CASES = [
    (1, 1, "valid", 1),
    (1, 2, "same", 1),
    (2, 1, "same", 2),
    (2, 2, "same", 1),
    (2, 3, "valid", 1),
    (3, 2, "same", 1),
]


@pytest.mark.parametrize("rank,stride,padding,dilation", CONV_CASES)
def test_conv_matches_direct_convolution(rank, stride, padding, dilation):
    x = RNG.normal(size=(2, *[7, 6, 5][:rank], 3))
    kernel = RNG.normal(size=(*[3, 2, 3][:rank], 3, 4))
    expected = _reference_conv(x, kernel, (stride,) * rank, padding, (dilation,) * rank)
    result = ops.conv(
        x.astype(np.float32), kernel.astype(np.float32), stride, padding, dilation_rate=dilation
    )
    assert_matches(result, expected, atol=1e-4, rtol=1e-4)


def test_conv_channels_first_equals_channels_last():
    x = RNG.normal(size=(2, 7, 6, 3)).astype(np.float32)
    kernel = RNG.normal(size=(3, 3, 3, 4)).astype(np.float32)
    last = ops.conv(x, kernel, 2, "same")
    first = ops.conv(np.moveaxis(x, -1, 1), kernel, 2, "same", data_format="channels_first")
    assert_matches(first, np.moveaxis(ops.convert_to_numpy(last), -1, 1), atol=1e-5)


def test_grouped_conv_equals_separate_convolutions_per_group():
    x = RNG.normal(size=(1, 5, 5, 4)).astype(np.float32)
    kernel = RNG.normal(size=(3, 3, 2, 6)).astype(np.float32)
    grouped = ops.convert_to_numpy(ops.conv(x, kernel))
    first = ops.convert_to_numpy(ops.conv(x[..., :2], kernel[..., :3]))
    second = ops.convert_to_numpy(ops.conv(x[..., 2:], kernel[..., 3:]))
    np.testing.assert_allclose(grouped, np.concatenate([first, second], -1), atol=1e-5)


def test_depthwise_conv_convolves_each_channel_with_its_filters():
    x = RNG.normal(size=(2, 6, 5, 3))
    kernel = RNG.normal(size=(3, 3, 3, 2))
    expected = np.concatenate(
        [
            _reference_conv(x[..., c : c + 1], kernel[:, :, c : c + 1, :], (1, 1), "same", (1, 1))
            for c in range(3)
        ],
        axis=-1,
    )
    result = ops.depthwise_conv(x.astype(np.float32), kernel.astype(np.float32), padding="same")
    assert_matches(result, expected, atol=1e-4)


def test_conv_with_mismatched_channels_raises_clear_error():
    with pytest.raises(ValueError, match="not a multiple of the kernel"):
        ops.conv(np.zeros((1, 5, 5, 3), np.float32), np.zeros((3, 3, 2, 4), np.float32))


def _reference_pool(x, window, strides, padding, reducer):
    """channels_last pooling in float64; padded positions are left out of each window."""
    rank = x.ndim - 2
    pads = [
        _same_pads(x.shape[1 + d], window[d], strides[d], 1) if padding == "same" else (0, 0)
        for d in range(rank)
    ]
    x = np.pad(x, [(0, 0), *pads, (0, 0)], constant_values=np.nan)
    sizes = [(x.shape[1 + d] - window[d]) // strides[d] + 1 for d in range(rank)]
    out = np.zeros((x.shape[0], *sizes, x.shape[-1]))
    for position in itertools.product(*(range(n) for n in sizes)):
        window_slices = tuple(slice(p * s, p * s + w) for p, s, w in zip(position, strides, window))
        patch = x[(slice(None), *window_slices, slice(None))]
        out[(slice(None), *position, slice(None))] = reducer(patch, axis=tuple(range(1, rank + 1)))
    return out


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("strides", [None, 2])
def test_max_and_average_pool_match_reference(padding, strides):
    x = RNG.normal(size=(2, 7, 6, 3))
    window = (3, 2)
    stride_tuple = window if strides is None else (strides, strides)
    result_max = ops.max_pool(x.astype(np.float32), window, strides, padding)
    result_avg = ops.average_pool(x.astype(np.float32), window, strides, padding)
    assert_matches(result_max, _reference_pool(x, window, stride_tuple, padding, np.nanmax))
    assert_matches(result_avg, _reference_pool(x, window, stride_tuple, padding, np.nanmean))


# ---- gradients ------------------------------------------------------------------------------

NN_GRADIENT_CASES = {
    "softmax_tuple_axis": lambda x: ops.softmax(x, axis=(0, 1)),
    "log_softmax": lambda x: ops.log_softmax(x),
    "logsumexp": lambda x: ops.logsumexp(x, axis=1),
    "gelu_exact": lambda x: ops.gelu(x, approximate=False),
    "binary_crossentropy_logits": lambda x: ops.binary_crossentropy(
        torch.full_like(x, 0.3), x, from_logits=True
    ),
    "categorical_crossentropy": lambda x: ops.categorical_crossentropy(
        torch.eye(6, dtype=x.dtype)[:4], torch.sigmoid(x)
    ),
    "moments_variance": lambda x: ops.moments(x, axes=[0])[1],
    "normalize": lambda x: ops.normalize(x, axis=1),
    "conv_same_stride2": lambda x: ops.conv(
        x.reshape(1, 4, 6, 1), torch.ones(3, 3, 1, 2, dtype=x.dtype), 2, "same"
    ),
    "average_pool_same": lambda x: ops.average_pool(x.reshape(1, 4, 6, 1), 3, 2, "same"),
}


@pytest.mark.parametrize("name", sorted(NN_GRADIENT_CASES))
def test_nn_op_gradient_matches_finite_differences(name):
    x = torch.tensor(X64 / 3, requires_grad=True)
    assert torch.autograd.gradcheck(NN_GRADIENT_CASES[name], (x,), eps=1e-6, atol=1e-5)


@pytest.mark.slow
def test_ops_and_seeded_random_compile_in_one_graph():
    from tritonlayers import random

    generator = random.SeedGenerator(0)

    def step(x, kernel):
        y = ops.conv(x, kernel, strides=2, padding="same")
        mean, variance = ops.moments(y, axes=[0, 1, 2])
        y = ops.relu((y - mean) * ops.rsqrt(variance + 1e-3))
        y = y + 0.1 * random.normal(ops.shape(y), seed=generator)
        p = ops.softmax(ops.mean(y, axis=(1, 2)), axis=-1)
        return ops.sum(ops.binary_crossentropy(ops.ones_like(p) * 0.5, p))

    x = torch.randn(2, 8, 8, 3)
    kernel = torch.randn(3, 3, 3, 4, requires_grad=True)
    compiled = torch.compile(step, fullgraph=True)
    first, second = compiled(x, kernel), compiled(x, kernel)
    first.backward()
    assert kernel.grad is not None and torch.isfinite(kernel.grad).all()
    assert generator.state.numpy().tolist() == [0, 2]
    assert first.item() != second.item()  # a new noise draw per call, no recompilation needed
