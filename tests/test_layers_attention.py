"""MultiHeadAttention against a per-head torch reference with the same weights."""

import math

import numpy as np
import pytest
import torch

import tritonlayers as keras
from tritonlayers import layers


def _reference(layer, query, value, mask=None):
    """softmax(q k^T / sqrt(key_dim)) v per head, projections written out with einsum."""
    wq, bq, wk, bk, wv, bv, wo, bo = (torch.as_tensor(w) for w in layer.get_weights())
    q = torch.einsum("btd,dhk->bhtk", query, wq) + bq[:, None]
    k = torch.einsum("bsd,dhk->bhsk", value, wk) + bk[:, None]
    v = torch.einsum("bsd,dhk->bhsk", value, wv) + bv[:, None]
    scores = q @ k.transpose(-1, -2) / math.sqrt(layer.key_dim)
    if mask is not None:
        scores = scores.masked_fill(~mask[:, None], float("-inf"))
    probs = torch.softmax(scores, dim=-1)
    return torch.einsum("bhtk,hke->bte", probs @ v, wo) + bo, probs


def test_attention_matches_the_per_head_reference():
    query, value = torch.randn(2, 5, 8), torch.randn(2, 7, 6)
    layer = layers.MultiHeadAttention(num_heads=3, key_dim=4, value_dim=2, output_shape=5)
    out, scores = layer(query, value, return_attention_scores=True)
    expected, expected_scores = _reference(layer, query, value)
    torch.testing.assert_close(out.cpu(), expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(scores.cpu(), expected_scores, atol=1e-6, rtol=1e-5)


def test_attention_weights_have_keras_shapes_and_paths():
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=3, name="mha")
    layer(torch.ones(1, 4, 8), torch.ones(1, 4, 8))
    assert [(w.path, tuple(w.shape)) for w in layer.weights] == [
        ("mha/query/kernel", (8, 2, 3)),
        ("mha/query/bias", (2, 3)),
        ("mha/key/kernel", (8, 2, 3)),
        ("mha/key/bias", (2, 3)),
        ("mha/value/kernel", (8, 2, 3)),
        ("mha/value/bias", (2, 3)),
        ("mha/attention_output/kernel", (2, 3, 8)),
        ("mha/attention_output/bias", (8,)),
    ]


def test_causal_mask_stops_attention_to_later_steps():
    x = torch.randn(1, 4, 6)
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=3)
    out, scores = layer(x, x, use_causal_mask=True, return_attention_scores=True)
    assert torch.all(scores[..., torch.ones(4, 4).triu(1).bool()] == 0)
    expected, _ = _reference(layer, x, x, torch.ones(1, 4, 4).tril().bool())
    torch.testing.assert_close(out.cpu(), expected, atol=1e-5, rtol=1e-5)


def test_padding_mask_from_embedding_is_applied_and_kept_on_the_output():
    ids = torch.tensor([[3, 4, 0, 0]])
    x = layers.Embedding(10, 6, mask_zero=True)(ids)
    layer = layers.MultiHeadAttention(num_heads=1, key_dim=4)
    out = layer(x, x)
    keep = (ids != 0)[:, :, None] & (ids != 0)[:, None, :]
    expected, _ = _reference(layer, x.detach().cpu(), x.detach().cpu(), keep)
    torch.testing.assert_close(out[:, :2].cpu(), expected[:, :2], atol=1e-5, rtol=1e-5)
    assert torch.equal(out._keras_mask.cpu(), ids != 0)


def test_attention_dropout_only_in_training():
    x = torch.randn(2, 5, 4)
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=2, dropout=0.5, seed=1)
    torch.testing.assert_close(layer(x, x), layer(x, x))
    assert not torch.allclose(layer(x, x, training=True), layer(x, x))


def test_attention_config_round_trip_and_saving(tmp_path):
    inputs = keras.Input((None, 8))
    model = keras.Model(inputs, layers.MultiHeadAttention(num_heads=2, key_dim=4)(inputs, inputs))
    model.save(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras")
    x = np.random.default_rng(0).normal(size=(2, 3, 8)).astype("float32")
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))


def test_attention_rejects_inputs_that_are_not_sequences_of_vectors():
    with pytest.raises(ValueError, match=r"expects \(batch, sequence, features\) inputs"):
        layers.MultiHeadAttention(num_heads=1, key_dim=2)(torch.ones(2, 3), torch.ones(2, 3))


def test_key_with_its_own_feature_size_gets_its_own_projection():
    query, value, key = torch.randn(2, 3, 8), torch.randn(2, 5, 6), torch.randn(2, 5, 4)
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=3)
    out = layer(query, value, key=key)
    assert tuple(layer._key_dense.kernel.shape) == (4, 2, 3) and tuple(out.shape) == (2, 3, 8)


def test_functional_attention_scores_are_a_second_output():
    query, value = keras.Input((5, 8)), keras.Input((7, 8))
    outputs, scores = keras.layers.MultiHeadAttention(2, 4)(
        query, value, return_attention_scores=True
    )
    assert (outputs.shape, scores.shape) == ((None, 5, 8), (None, 2, 5, 7))
    model = keras.Model([query, value], [outputs, scores])
    got = model.predict([np.ones((3, 5, 8), "float32"), np.ones((3, 7, 8), "float32")], verbose=0)
    assert [g.shape for g in got] == [(3, 5, 8), (3, 2, 5, 7)]
    np.testing.assert_allclose(got[1].sum(-1), np.ones((3, 2, 5)), rtol=1e-5)


def test_mixed_precision_policy_reaches_the_projections():
    layer = layers.MultiHeadAttention(2, 4, dtype="mixed_bfloat16")
    x = torch.ones(1, 3, 8)
    assert layer(x, x).dtype == torch.bfloat16  # as Keras 3.15
    assert all(w.dtype == torch.float32 for w in layer.weights)
