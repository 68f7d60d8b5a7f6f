"""GroupQueryAttention and ConvLSTM1D/2D/3D against float64 torch references.

Every configuration below (masks, `use_causal_mask`, `sliding_window`, `use_gate`, both
attention paths; ConvLSTM `return_sequences`/`return_state`/`go_backwards`, masks, initial
states, strides, dilation, "same" with even kernels, channels_first) was also run against
Keras 3.15 (torch backend) on the same weights in a scratch script: largest difference
5e-7. The `*_matches_keras_numbers` tests pin a few of those Keras outputs.
"""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import tritonlayers as keras
from tritonlayers import layers

TOL = {"rtol": 1e-5, "atol": 1e-5}
F64 = torch.float64


def _wave(shape, phase):
    """Deterministic values 0.5 * sin(0.7 i + phase), as float32 (same numbers fed to Keras)."""
    n = math.prod(shape)
    return (0.5 * np.sin(0.7 * np.arange(n) + phase)).reshape(shape).astype("float32")


def _set_wave_weights(layer):
    layer.set_weights([_wave(tuple(w.shape), i) for i, w in enumerate(layer.get_weights())])


# --------------------------------------------------------------------- GroupQueryAttention


def _gqa_reference(layer, query, value, key=None, keep=None):
    """float64 grouped-query attention: k/v heads repeated over their query-head groups."""
    key = value if key is None else key
    wq, bq, wk, bk, wv, bv, wo, bo = (torch.as_tensor(w, dtype=F64) for w in layer.get_weights())
    query, value, key = (t.to(F64) for t in (query, value, key))
    repeats = layer.num_query_heads // layer.num_key_value_heads
    q = torch.einsum("btd,dhk->bhtk", query, wq) + bq[:, None]
    k = (torch.einsum("bsd,dhk->bhsk", key, wk) + bk[:, None]).repeat_interleave(repeats, 1)
    v = (torch.einsum("bsd,dhk->bhsk", value, wv) + bv[:, None]).repeat_interleave(repeats, 1)
    logits = q @ k.transpose(-1, -2) / math.sqrt(layer.head_dim)
    if keep is not None:
        logits = logits.masked_fill(~keep[:, None], float("-inf"))
    probs = torch.softmax(logits, dim=-1)
    return torch.einsum("bhtk,hkd->btd", probs @ v, wo) + bo, probs


def _gqa(**kwargs):
    return layers.GroupQueryAttention(
        **{"head_dim": 3, "num_query_heads": 4, "num_key_value_heads": 2, **kwargs}
    )


@pytest.mark.parametrize("scores", [False, True], ids=["fused", "with_scores"])
def test_gqa_matches_float64_reference_with_distinct_key(scores):
    query, value, key = torch.randn(2, 5, 8), torch.randn(2, 6, 8), torch.randn(2, 6, 8)
    layer = _gqa()
    layer(query, value, key)
    _set_wave_weights(layer)
    result = layer(query, value, key, return_attention_scores=scores)
    expected, expected_scores = _gqa_reference(layer, query, value, key)
    out = result[0] if scores else result
    torch.testing.assert_close(out.to(F64), expected, **TOL)
    if scores:
        torch.testing.assert_close(result[1].to(F64), expected_scores, **TOL)


@pytest.mark.parametrize("scores", [False, True], ids=["fused", "with_scores"])
def test_gqa_combines_query_value_and_attention_masks_with_the_causal_mask(scores):
    query, value = torch.randn(2, 5, 8), torch.randn(2, 5, 8)
    query_mask = torch.tensor([[1, 1, 1, 1, 0], [1, 1, 1, 1, 1]], dtype=torch.bool)
    value_mask = torch.tensor([[1, 0, 1, 1, 1], [1, 1, 1, 0, 0]], dtype=torch.bool)
    attention_mask = torch.rand(2, 5, 5) > 0.3
    attention_mask[:, :, 0] = True  # every row keeps its first step: no fully masked row
    layer = _gqa()
    result = layer(
        query,
        value,
        query_mask=query_mask,
        value_mask=value_mask,
        attention_mask=attention_mask,
        use_causal_mask=True,
        return_attention_scores=scores,
    )
    keep = query_mask[:, :, None] & value_mask[:, None, :] & attention_mask
    keep &= torch.ones(5, 5, dtype=torch.bool).tril()
    expected, _ = _gqa_reference(layer, query, value, keep=keep)
    out = result[0] if scores else result
    # Only query 4 of sample 0 is fully masked (compared separately below).
    torch.testing.assert_close(out[0, :4].to(F64), expected[0, :4], **TOL)
    torch.testing.assert_close(out[1].to(F64), expected[1], **TOL)


def test_gqa_causal_mask_alone_stops_attention_to_later_steps():
    x = torch.randn(2, 5, 8)
    layer = _gqa(num_key_value_heads=1)
    fused = layer(x, x, use_causal_mask=True)
    out, scores = layer(x, x, use_causal_mask=True, return_attention_scores=True)
    expected, _ = _gqa_reference(layer, x, x, keep=torch.ones(1, 5, 5).tril().bool())
    torch.testing.assert_close(fused.to(F64), expected, **TOL)
    torch.testing.assert_close(out.to(F64), expected, **TOL)
    assert torch.all(scores[..., torch.ones(5, 5).triu(1).bool()] == 0)


def test_gqa_fully_masked_rows_average_on_fused_path_and_are_zero_with_scores():
    # Keras 3.15 does the same: its fused path gives masked logits -0.7 * float max (a
    # uniform row), its scores path zeros the masked probabilities.
    query, value = torch.randn(1, 3, 8), torch.randn(1, 4, 8)
    value_mask = torch.zeros(1, 4, dtype=torch.bool)
    layer = _gqa()
    fused = layer(query, value, value_mask=value_mask)
    out, scores = layer(query, value, value_mask=value_mask, return_attention_scores=True)
    *_, wv, bv, wo, output_bias = (torch.as_tensor(w, dtype=F64) for w in layer.get_weights())
    mean_value = (torch.einsum("bsd,dhk->bshk", value.to(F64), wv) + bv).mean(dim=1)
    heads = mean_value.repeat_interleave(2, dim=1)  # (batch, query heads, head_dim)
    uniform = (torch.einsum("bhk,hkd->bd", heads, wo) + output_bias)[:, None].expand(1, 3, 8)
    torch.testing.assert_close(fused.to(F64), uniform, **TOL)
    assert torch.all(scores == 0)
    torch.testing.assert_close(out.to(F64), output_bias.expand(1, 3, 8), **TOL)


def test_gqa_sliding_window_keeps_a_band_of_recent_steps():
    x = torch.randn(1, 6, 8)
    layer = _gqa(sliding_window=2)
    out, scores = layer(x, x, use_causal_mask=True, return_attention_scores=True)
    band = torch.ones(6, 6).tril() - torch.ones(6, 6).tril(-2)
    expected, _ = _gqa_reference(layer, x, x, keep=band.bool()[None])
    torch.testing.assert_close(out.to(F64), expected, **TOL)
    assert torch.all(scores[..., band == 0] == 0)
    torch.testing.assert_close(layer(x, x, use_causal_mask=True), out, **TOL)


def test_gqa_gate_multiplies_heads_by_sigmoid_of_gate_projection():
    query, value = torch.randn(2, 3, 6), torch.randn(2, 4, 6)
    layer = _gqa(use_gate=True, use_bias=False)
    out = layer(query, value)
    wq, wk, wg, wv, wo = (torch.as_tensor(w, dtype=F64) for w in layer.get_weights())
    q64, v64 = query.to(F64), value.to(F64)
    q = torch.einsum("btd,dhk->bhtk", q64, wq)
    k = torch.einsum("bsd,dhk->bhsk", v64, wk).repeat_interleave(2, 1)
    v = torch.einsum("bsd,dhk->bhsk", v64, wv).repeat_interleave(2, 1)
    heads = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(3), -1) @ v
    gate = torch.sigmoid(torch.einsum("btd,dhk->bhtk", q64, wg))
    expected = torch.einsum("bhtk,hkd->btd", heads * gate, wo)
    torch.testing.assert_close(out.to(F64), expected, **TOL)


def test_gqa_matches_keras_numbers():
    # Keras 3.15 GroupQueryAttention, same wave weights, value_mask and use_causal_mask.
    layer = _gqa()
    query, value = torch.tensor(_wave((1, 4, 6), 0.1)), torch.tensor(_wave((1, 5, 6), 1.3))
    layer(query, value)
    _set_wave_weights(layer)
    value_mask = torch.tensor([[True, True, True, False, True]])
    keras_out = [
        [0.767477, 0.525774, 0.036792],
        [0.642304, 0.487749, 0.103798],
        [0.623008, 0.476931, 0.106546],
        [0.622403, 0.476329, 0.106229],
    ]
    keras_scores_head_1 = [
        [1.0, 0.0, 0.0, 0.0, 0.0],
        [0.481528, 0.518472, 0.0, 0.0, 0.0],
        [0.319987, 0.333702, 0.34631, 0.0, 0.0],
        [0.308975, 0.339625, 0.3514, 0.0, 0.0],
    ]
    fused = layer(query, value, value_mask=value_mask, use_causal_mask=True)
    out, scores = layer(
        query, value, value_mask=value_mask, use_causal_mask=True, return_attention_scores=True
    )
    for result in (fused, out):
        torch.testing.assert_close(result[0, :, :3], torch.tensor(keras_out), atol=2e-6, rtol=0)
    torch.testing.assert_close(scores[0, 1], torch.tensor(keras_scores_head_1), atol=2e-6, rtol=0)


def test_gqa_weights_have_keras_shapes_and_paths():
    layer = _gqa(name="gqa", use_gate=True)
    layer(torch.ones(1, 2, 8), torch.ones(1, 2, 8))
    assert [(w.path, tuple(w.shape)) for w in layer.weights] == [
        ("gqa/query/kernel", (8, 4, 3)),
        ("gqa/query/bias", (4, 3)),
        ("gqa/key/kernel", (8, 2, 3)),
        ("gqa/key/bias", (2, 3)),
        ("gqa/gate/kernel", (8, 4, 3)),
        ("gqa/gate/bias", (4, 3)),
        ("gqa/value/kernel", (8, 2, 3)),
        ("gqa/value/bias", (2, 3)),
        ("gqa/attention_output/kernel", (4, 3, 8)),
        ("gqa/attention_output/bias", (8,)),
    ]


def test_gqa_keeps_the_query_mask_from_embedding():
    ids = torch.tensor([[3, 4, 0]])
    x = layers.Embedding(10, 6, mask_zero=True)(ids)
    out = _gqa()(x, x)
    assert torch.equal(out._keras_mask.cpu(), ids != 0)


def test_gqa_dropout_only_in_training():
    x = torch.randn(2, 5, 8)
    layer = _gqa(dropout=0.5, seed=3)
    inference = layer(x, x)
    expected, _ = _gqa_reference(layer, x, x)
    torch.testing.assert_close(inference.to(F64), expected, **TOL)
    assert not torch.allclose(layer(x, x, training=True), inference, atol=1e-3)


def test_gqa_under_mixed_bfloat16_returns_bfloat16_close_to_float32():
    x = torch.randn(2, 5, 8)
    layer = _gqa(dtype="mixed_bfloat16")
    out = layer(x, x, use_causal_mask=True)
    expected, _ = _gqa_reference(layer, x, x, keep=torch.ones(1, 5, 5).tril().bool())
    assert out.dtype == torch.bfloat16
    torch.testing.assert_close(out.to(F64), expected, atol=5e-2, rtol=5e-2)


def test_gqa_compute_output_shape_equals_output_shape():
    layer = _gqa()
    query, value = torch.randn(2, 3, 8), torch.randn(2, 5, 8)
    assert layer.compute_output_shape((2, 3, 8), (2, 5, 8)) == tuple(layer(query, value).shape)


def test_gqa_config_round_trip():
    layer = _gqa(dropout=0.1, sliding_window=3, use_gate=True, kernel_regularizer="l2", seed=2)
    config = layer.get_config()
    restored = layers.GroupQueryAttention.from_config(config)
    assert restored.get_config() == config
    assert type(restored) is layers.GroupedQueryAttention


def test_gqa_rejects_bad_arguments_and_inputs():
    with pytest.raises(ValueError, match="must be divisible by `num_key_value_heads`"):
        _gqa(num_query_heads=3)
    with pytest.raises(ValueError, match="dropout is not supported when flash attention"):
        _gqa(dropout=0.2, flash_attention=True)
    with pytest.raises(ValueError, match="`sliding_window` must be `None` or a positive"):
        _gqa(sliding_window=0)
    layer = _gqa(name="gqa")
    with pytest.raises(ValueError, match=r'Layer "gqa" expects \(batch, sequence, features\)'):
        layer(torch.ones(2, 8), torch.ones(2, 8))


def test_gqa_in_functional_model_fits_and_saves(tmp_path):
    inputs = keras.Input((4, 6))
    out, scores = _gqa(head_dim=2)(inputs, inputs, return_attention_scores=True)
    assert tuple(scores.shape) == (None, 4, 4, 4)
    model = keras.Model(inputs, layers.GlobalAveragePooling1D()(out))
    model.compile(optimizer="adam", loss="mse")
    x, y = np.random.rand(8, 4, 6).astype("float32"), np.random.rand(8, 6).astype("float32")
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert any(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))
    model.save(tmp_path / "gqa.keras")
    restored = keras.saving.load_model(tmp_path / "gqa.keras")
    np.testing.assert_allclose(restored.predict(x, verbose=0), model.predict(x, verbose=0), 1e-6)


# ----------------------------------------------------------------------------- ConvLSTM


def _conv(x, kernel, strides, dilation, padding):
    """float64 channels_first convolution, Keras-layout kernel, TF "same" (extra pad after)."""
    rank = kernel.ndim - 2
    pads = []
    if padding == "same":
        for length, window, stride, rate in zip(
            x.shape[2:], kernel.shape[:rank], strides, dilation
        ):
            total = max((-(-length // stride) - 1) * stride + (window - 1) * rate + 1 - length, 0)
            pads = [total // 2, total - total // 2, *pads]
    convolution = (F.conv1d, F.conv2d, F.conv3d)[rank - 1]
    torch_kernel = kernel.permute(rank + 1, rank, *range(rank))
    return convolution(F.pad(x, pads), torch_kernel, stride=strides, dilation=dilation)


def _conv_lstm_reference(layer, x, mask=None, initial_state=None):
    """Step-by-step float64 ConvLSTM on channels_last `x`: (sequence, h, c), channels_last.

    Masked steps carry the previous output (zeros before the first) and states.
    """
    weights = layer.cell.get_weights()
    kernel, recurrent_kernel, bias = (torch.as_tensor(w, dtype=F64) for w in weights)
    rank = kernel.ndim - 2
    xs = x.to(F64).movedim(-1, 2)
    steps = list(range(x.shape[1]))[:: -1 if layer.go_backwards else 1]
    ones = (1,) * rank
    h = c = None
    if initial_state is not None:
        h, c = (s.to(F64).movedim(-1, 1) for s in initial_state)
    output, outputs = None, []
    for t in steps:
        z = _conv(xs[:, t], kernel, layer.strides, layer.dilation_rate, layer.padding)
        z = z + bias.reshape(1, -1, *ones)
        if h is None:
            h = c = torch.zeros(z.shape[0], layer.filters, *z.shape[2:], dtype=F64)
            output = torch.zeros_like(h)
        elif output is None:
            output = torch.zeros_like(h)
        z = z + _conv(h, recurrent_kernel, ones, ones, "same")
        i, f, g, o = torch.chunk(z, 4, dim=1)
        c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h_new = torch.sigmoid(o) * torch.tanh(c_new)
        if mask is not None:
            keep = mask[:, t].reshape(-1, 1, *ones)
            c_new = torch.where(keep, c_new, c)
            output = torch.where(keep, h_new, output)
            h_new = torch.where(keep, h_new, h)
        else:
            output = h_new
        h, c = h_new, c_new
        outputs.append(output)
    sequence = torch.stack(outputs, dim=1).movedim(2, -1)
    return sequence, h.movedim(1, -1), c.movedim(1, -1)


def _run_conv_lstm(layer, x, **call_kwargs):
    """Build the layer, give it non-trivial weights, and run it."""
    layer(x, **call_kwargs)
    _set_wave_weights(layer.cell)
    return layer(x, **call_kwargs)


@pytest.mark.parametrize(
    "layer, shape",
    [
        (lambda: layers.ConvLSTM1D(3, 3, return_sequences=True, return_state=True), (2, 4, 7, 2)),
        (
            lambda: layers.ConvLSTM1D(2, 2, padding="same", dilation_rate=2, go_backwards=True),
            (2, 3, 6, 2),
        ),
        (
            lambda: layers.ConvLSTM2D(
                3, (2, 3), strides=2, padding="same", return_sequences=True, return_state=True
            ),
            (2, 3, 5, 6, 2),
        ),
        (
            lambda: layers.ConvLSTM2D(
                2, 3, dilation_rate=2, go_backwards=True, return_sequences=True, return_state=True
            ),
            (1, 3, 6, 6, 1),
        ),
        (
            lambda: layers.ConvLSTM3D(2, 2, padding="same", return_sequences=True),
            (1, 3, 3, 4, 3, 2),
        ),
        (lambda: layers.ConvLSTM3D(2, 2, strides=(1, 2, 1), return_state=True), (2, 2, 3, 4, 3, 1)),
    ],
    ids=["1d_sequences_state", "1d_backwards", "2d_strided", "2d_dilated", "3d_same", "3d_strided"],
)
def test_conv_lstm_matches_step_by_step_float64_reference(layer, shape):
    layer = layer()
    x = torch.randn(shape)
    result = _run_conv_lstm(layer, x)
    result = list(result) if layer.return_state else [result]
    sequence, h, c = _conv_lstm_reference(layer, x)
    expected = [sequence if layer.return_sequences else h]
    expected += [h, c] if layer.return_state else []
    assert len(result) == len(expected)
    for got, want in zip(result, expected):
        torch.testing.assert_close(got.to(F64), want, **TOL)


@pytest.mark.parametrize("go_backwards", [False, True])
def test_conv_lstm_masked_steps_carry_output_and_states(go_backwards):
    x = torch.randn(2, 4, 4, 4, 2)
    mask = torch.tensor([[True, True, False, True], [False, True, False, True]])
    layer = layers.ConvLSTM2D(
        2, 2, return_sequences=True, return_state=True, go_backwards=go_backwards
    )
    result = _run_conv_lstm(layer, x, mask=mask)
    for got, want in zip(result, _conv_lstm_reference(layer, x, mask=mask)):
        torch.testing.assert_close(got.to(F64), want, **TOL)


def test_conv_lstm_uses_initial_state_in_channels_first():
    x = torch.randn(2, 3, 2, 5, 5)  # (batch, time, channels, rows, cols)
    layer = layers.ConvLSTM2D(2, 3, data_format="channels_first", return_state=True)
    initial = [torch.randn(2, 2, 3, 3), torch.randn(2, 2, 3, 3)]
    result = _run_conv_lstm(layer, x, initial_state=initial)
    expected = _conv_lstm_reference(
        layer, x.movedim(2, -1), initial_state=[s.movedim(1, -1) for s in initial]
    )
    for got, want in zip(result, (expected[1], *expected[1:])):
        torch.testing.assert_close(got.to(F64), want.movedim(-1, 1), **TOL)


def test_conv_lstm_cell_step_equals_one_step_layer():
    x = torch.randn(2, 1, 5, 5, 3)
    layer = layers.ConvLSTM2D(2, 3, padding="same", return_state=True)
    _, h, c = _run_conv_lstm(layer, x)
    zeros = torch.zeros(2, 2 * 5 * 5)
    output, (cell_h, cell_c) = layer.cell(x[:, 0].movedim(-1, 1), [zeros, zeros])
    torch.testing.assert_close(output, h.movedim(-1, 1).flatten(1), **TOL)
    torch.testing.assert_close(cell_c, c.movedim(-1, 1).flatten(1), **TOL)


def test_conv_lstm_rejects_initial_state_of_wrong_shape():
    layer = layers.ConvLSTM2D(2, 3, name="clstm")
    with pytest.raises(ValueError, match=r'Layer "clstm" expects initial states of shape'):
        layer(torch.randn(1, 2, 5, 5, 1), initial_state=[torch.zeros(1, 5, 5, 2)] * 2)


def test_conv_lstm_matches_keras_numbers():
    # Keras 3.15 ConvLSTM2D(2, 2, padding="same", return_sequences=True, return_state=True,
    # go_backwards=True), same wave weights and inputs.
    layer = layers.ConvLSTM2D(
        2, 2, padding="same", return_sequences=True, return_state=True, go_backwards=True
    )
    sequence, _, c = _run_conv_lstm(layer, torch.tensor(_wave((1, 3, 3, 3, 2), 0.4)))
    keras_sequence = [[0.066593, 0.029312], [0.067262, -0.017823], [0.056972, -0.059487]]
    keras_c = [[-0.099934, -0.305543], [-0.87074, -0.60377], [-0.568725, -0.110069]]
    torch.testing.assert_close(
        sequence[0, :, 1, 1], torch.tensor(keras_sequence), atol=2e-6, rtol=0
    )
    torch.testing.assert_close(c[0, 0], torch.tensor(keras_c), atol=2e-6, rtol=0)


def test_conv_lstm_weights_have_keras_shapes_paths_and_forget_bias():
    layer = layers.ConvLSTM2D(3, 2, name="clstm")
    layer(torch.ones(1, 2, 4, 4, 5))
    assert [(w.path, tuple(w.shape)) for w in layer.weights] == [
        ("clstm/conv_lstm_cell/kernel", (2, 2, 5, 12)),
        ("clstm/conv_lstm_cell/recurrent_kernel", (2, 2, 3, 12)),
        ("clstm/conv_lstm_cell/bias", (12,)),
    ]
    np.testing.assert_array_equal(layer.get_weights()[2], np.repeat([0.0, 1.0, 0.0, 0.0], 3))


@pytest.mark.parametrize(
    "layer, shape",
    [
        (lambda: layers.ConvLSTM1D(2, 3, strides=2, return_sequences=True), (2, 3, 9, 1)),
        (lambda: layers.ConvLSTM2D(2, 3, padding="same", return_state=True), (2, 3, 5, 4, 1)),
        (
            lambda: layers.ConvLSTM3D(2, 2, data_format="channels_first", return_sequences=True),
            (1, 2, 1, 3, 3, 4),
        ),
    ],
    ids=["1d", "2d_state", "3d_channels_first"],
)
def test_conv_lstm_compute_output_shape_equals_output_shape(layer, shape):
    layer = layer()
    result = layer(torch.randn(shape))
    real = [tuple(t.shape) for t in result] if layer.return_state else tuple(result.shape)
    computed = layer.compute_output_shape(shape)
    computed = [tuple(s) for s in computed] if layer.return_state else tuple(computed)
    assert computed == real


def test_conv_lstm_config_round_trip_has_keras_keys():
    layer = layers.ConvLSTM3D(
        4, (1, 2, 3), strides=2, padding="same", dropout=0.1, return_state=True, seed=5
    )
    config = layer.get_config()
    restored = layers.ConvLSTM3D.from_config(config)
    assert restored.get_config() == config
    assert "cell" not in config
    assert (config["kernel_size"], config["strides"], config["filters"]) == (
        (1, 2, 3),
        (2, 2, 2),
        4,
    )


def test_conv_lstm_rejects_input_of_wrong_rank():
    with pytest.raises(ValueError, match=r"conv_lstm2d.*expected ndim=5, found ndim=4"):
        layers.ConvLSTM2D(2, 3, name="conv_lstm2d")(torch.ones(1, 5, 5, 2))
    with pytest.raises(
        ValueError, match="`strides > 1` is not compatible with `dilation_rate > 1`"
    ):
        layers.ConvLSTM1D(2, 3, strides=2, dilation_rate=2)


def test_conv_lstm_dropout_only_in_training():
    x = torch.randn(2, 3, 4, 4, 1)
    layer = layers.ConvLSTM2D(2, 3, padding="same", dropout=0.5, recurrent_dropout=0.5, seed=1)
    inference = _run_conv_lstm(layer, x)
    torch.testing.assert_close(inference.to(F64), _conv_lstm_reference(layer, x)[1], **TOL)
    assert not torch.allclose(layer(x, training=True), inference, atol=1e-3)


def test_stateful_conv_lstm_carries_state_between_calls():
    x = torch.randn(2, 4, 3, 1)
    layer = layers.ConvLSTM1D(2, 2, stateful=True, padding="same")
    layer(x[:, :2])
    layer.reset_states()
    _set_wave_weights(layer.cell)
    layer(x[:, :2])
    second_half = layer(x[:, 2:])
    torch.testing.assert_close(second_half.to(F64), _conv_lstm_reference(layer, x)[1], **TOL)
    layer.reset_states()
    torch.testing.assert_close(
        layer(x[:, 2:]).to(F64), _conv_lstm_reference(layer, x[:, 2:])[1], **TOL
    )


def test_conv_lstm_in_functional_model_fits_and_saves(tmp_path):
    inputs = keras.Input((3, 5, 5, 1))
    hidden = layers.ConvLSTM2D(2, 3, padding="same", return_sequences=True)(inputs)
    assert tuple(hidden.shape) == (None, 3, 5, 5, 2)
    outputs = layers.Dense(1)(layers.Flatten()(layers.ConvLSTM2D(2, 3)(hidden)))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="mse")
    x, y = np.random.rand(4, 3, 5, 5, 1).astype("float32"), np.random.rand(4, 1).astype("float32")
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(x, y, epochs=1, batch_size=2, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert any(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))
    model.save(tmp_path / "conv_lstm.keras")
    restored = keras.saving.load_model(tmp_path / "conv_lstm.keras")
    np.testing.assert_allclose(restored.predict(x, verbose=0), model.predict(x, verbose=0), 1e-6)
