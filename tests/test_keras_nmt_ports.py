"""Regressions found by running keras.io "English-to-Spanish translation with a
sequence-to-sequence Transformer" (Keras 3) with only the import changed, on integer
token sequences: PositionalEmbedding with `compute_mask`, TransformerEncoder/Decoder with
padding and causal masks, the decoder as a nested functional model, fit, greedy decoding
and save/load. Expected values were checked against Keras 3.15 (torch backend) on the same
code with the same fixed weights.
"""

import numpy as np
import pytest
import torch

import tritonlayers as keras
from tritonlayers import layers, ops

VOCAB, LENGTH, EMBED, DENSE, HEADS = 20, 6, 8, 16, 2


class TransformerEncoder(layers.Layer):
    def __init__(self, embed_dim, dense_dim, num_heads, **kwargs):
        super().__init__(**kwargs)
        self.embed_dim, self.dense_dim, self.num_heads = embed_dim, dense_dim, num_heads
        self.attention = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
        self.dense_proj = keras.Sequential(
            [layers.Dense(dense_dim, activation="relu"), layers.Dense(embed_dim)]
        )
        self.layernorm_1 = layers.LayerNormalization()
        self.layernorm_2 = layers.LayerNormalization()
        self.supports_masking = True

    def call(self, inputs, mask=None):
        padding_mask = None if mask is None else ops.cast(mask[:, None, :], dtype="int32")
        attention_output = self.attention(
            query=inputs, value=inputs, key=inputs, attention_mask=padding_mask
        )
        proj_input = self.layernorm_1(inputs + attention_output)
        return self.layernorm_2(proj_input + self.dense_proj(proj_input))

    def get_config(self):
        config = super().get_config()
        config.update(
            {"embed_dim": self.embed_dim, "dense_dim": self.dense_dim, "num_heads": self.num_heads}
        )
        return config


class PositionalEmbedding(layers.Layer):
    def __init__(self, sequence_length, vocab_size, embed_dim, **kwargs):
        super().__init__(**kwargs)
        self.token_embeddings = layers.Embedding(input_dim=vocab_size, output_dim=embed_dim)
        self.position_embeddings = layers.Embedding(input_dim=sequence_length, output_dim=embed_dim)
        self.sequence_length, self.vocab_size = sequence_length, vocab_size
        self.embed_dim = embed_dim

    def call(self, inputs):
        positions = ops.arange(0, ops.shape(inputs)[-1], 1)
        return self.token_embeddings(inputs) + self.position_embeddings(positions)

    def compute_mask(self, inputs, mask=None):
        return ops.not_equal(inputs, 0)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "sequence_length": self.sequence_length,
                "vocab_size": self.vocab_size,
                "embed_dim": self.embed_dim,
            }
        )
        return config


class TransformerDecoder(layers.Layer):
    def __init__(self, embed_dim, latent_dim, num_heads, **kwargs):
        super().__init__(**kwargs)
        self.embed_dim, self.latent_dim, self.num_heads = embed_dim, latent_dim, num_heads
        self.attention_1 = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
        self.attention_2 = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
        self.dense_proj = keras.Sequential(
            [layers.Dense(latent_dim, activation="relu"), layers.Dense(embed_dim)]
        )
        self.layernorm_1 = layers.LayerNormalization()
        self.layernorm_2 = layers.LayerNormalization()
        self.layernorm_3 = layers.LayerNormalization()
        self.supports_masking = True

    def call(self, inputs, mask=None):
        inputs, encoder_outputs = inputs
        causal_mask = self.get_causal_attention_mask(inputs)
        inputs_padding_mask, encoder_padding_mask = (None, None) if mask is None else mask
        attention_output_1 = self.attention_1(
            query=inputs,
            value=inputs,
            key=inputs,
            attention_mask=causal_mask,
            query_mask=inputs_padding_mask,
        )
        out_1 = self.layernorm_1(inputs + attention_output_1)
        attention_output_2 = self.attention_2(
            query=out_1,
            value=encoder_outputs,
            key=encoder_outputs,
            query_mask=inputs_padding_mask,
            key_mask=encoder_padding_mask,
        )
        out_2 = self.layernorm_2(out_1 + attention_output_2)
        return self.layernorm_3(out_2 + self.dense_proj(out_2))

    def get_causal_attention_mask(self, inputs):
        input_shape = ops.shape(inputs)
        batch_size, sequence_length = input_shape[0], input_shape[1]
        i = ops.arange(sequence_length)[:, None]
        j = ops.arange(sequence_length)
        mask = ops.cast(i >= j, dtype="int32")
        mask = ops.reshape(mask, (1, input_shape[1], input_shape[1]))
        mult = ops.concatenate(
            [ops.expand_dims(batch_size, -1), ops.convert_to_tensor([1, 1])], axis=0
        )
        return ops.tile(mask, mult)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "embed_dim": self.embed_dim,
                "latent_dim": self.latent_dim,
                "num_heads": self.num_heads,
            }
        )
        return config


def _transformer() -> keras.Model:
    encoder_inputs = keras.Input(shape=(None,), dtype="int64", name="encoder_inputs")
    x = PositionalEmbedding(LENGTH, VOCAB, EMBED)(encoder_inputs)
    encoder_outputs = TransformerEncoder(EMBED, DENSE, HEADS)(x)
    decoder_inputs = keras.Input(shape=(None,), dtype="int64", name="decoder_inputs")
    encoded_seq_inputs = keras.Input(shape=(None, EMBED), name="decoder_state_inputs")
    x = PositionalEmbedding(LENGTH, VOCAB, EMBED)(decoder_inputs)
    x = TransformerDecoder(EMBED, DENSE, HEADS)([x, encoded_seq_inputs])
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(VOCAB, activation="softmax")(x)
    decoder = keras.Model([decoder_inputs, encoded_seq_inputs], outputs)
    decoder_outputs = decoder([decoder_inputs, encoder_outputs])
    return keras.Model(
        {"encoder_inputs": encoder_inputs, "decoder_inputs": decoder_inputs},
        decoder_outputs,
        name="transformer",
    )


def _padded_batch(rng):
    enc = rng.randint(1, VOCAB, size=(4, LENGTH))
    dec = rng.randint(1, VOCAB, size=(4, LENGTH))
    enc[0, 4:], dec[0, 3:], enc[1, 2:] = 0, 0, 0
    return {"encoder_inputs": enc, "decoder_inputs": dec}


def test_nested_decoder_model_takes_its_spec_layer_by_layer():
    # Tracing the whole inner model on stand-in lengths ran positions past the position
    # Embedding's input_dim (IndexError); Keras finds each inner layer's spec on its own.
    model = _transformer()
    assert model.output.shape == (None, None, VOCAB)
    assert model.count_params() == 2940  # Keras 3.15
    assert [layer.name for layer in model.layers][-1] == model.layers[-1].name


def test_building_the_model_warns_that_the_inner_decoder_model_drops_the_mask():
    # Keras 3.15 warns during the symbolic call, not at the first predict.
    with pytest.warns(UserWarning, match="does not support masking and will therefore"):
        _transformer()


def test_a_nested_model_does_not_hand_out_the_masks_made_inside_it():
    tokens = keras.Input((None,), dtype="int32")
    inner = keras.Model(tokens, layers.Embedding(10, 4, mask_zero=True)(tokens))
    outputs = inner(keras.Input((None,), dtype="int32"))
    assert outputs.shape == (None, None, 4)
    assert getattr(outputs, "_keras_mask", None) is None  # Keras 3.15


def test_translation_model_matches_keras_at_padded_and_unpadded_positions(tmp_path):
    model = _transformer()
    rng = np.random.RandomState(0)
    model.set_weights(
        [rng.normal(size=tuple(w.shape)).astype("float32") * 0.3 for w in model.weights]
    )
    inputs = _padded_batch(rng)
    predictions = model.predict(inputs, verbose=0)
    # Keras 3.15: row 0 has padded decoder steps 3..5, row 1 a padded encoder from step 2.
    expected = {
        (0, 1): [0.04980648, 0.01848175, 0.05406473, 0.04727583],
        (0, 4): [0.05130427, 0.01577635, 0.05321798, 0.04738525],
        (1, 5): [0.05205455, 0.01687546, 0.05293356, 0.04837979],
    }
    for (row, step), values in expected.items():
        np.testing.assert_allclose(predictions[row, step, :4], values, atol=2e-6)
    y = rng.randint(0, VOCAB, size=(4, LENGTH))
    model.compile("rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    loss, _ = model.evaluate(inputs, y, verbose=0)
    np.testing.assert_allclose(loss, 2.9969093799591064, atol=1e-5)  # Keras 3.15
    path = str(tmp_path / "transformer.keras")
    model.save(path)
    custom = {
        "TransformerEncoder": TransformerEncoder,
        "TransformerDecoder": TransformerDecoder,
        "PositionalEmbedding": PositionalEmbedding,
    }
    reloaded = keras.models.load_model(path, custom_objects=custom)
    np.testing.assert_array_equal(reloaded.predict(inputs, verbose=0), predictions)


def test_multi_head_attention_takes_the_query_mask_its_query_tensor_carries():
    # Keras 3.15 reads the query's mask from the query tensor: a `query_mask` argument
    # for a tensor that carries none changes nothing.
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=4)
    x = torch.randn(2, 4, 8)
    query_mask = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 1]], dtype=torch.bool)
    plain = layer(x, x)
    torch.testing.assert_close(layer(x, x, query_mask=query_mask), plain)
    masked = torch.randn(2, 4, 8)
    masked._keras_mask = query_mask
    torch.testing.assert_close(layer(masked, masked), layer(masked, masked, query_mask=None))


class _ZeroMasked(layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        return inputs * (0.0 if mask is None else ops.cast(mask, "float32")[..., None])


class _Pair(layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        return inputs[0] + inputs[1]


def test_functional_model_passes_a_mask_given_with_its_inputs_into_its_graph():
    inputs = keras.Input((None, 2))
    inner = keras.Model(inputs, _ZeroMasked()(inputs))
    outputs = inner(ops.ones((1, 3, 2)), mask=torch.tensor([[True, True, False]]))
    # Keras 3.15: [[[1, 1], [1, 1], [0, 0]]] (no mask inside would give all zeros).
    np.testing.assert_array_equal(ops.convert_to_numpy(outputs), [[[1, 1], [1, 1], [0, 0]]])


def test_one_output_of_masked_list_inputs_keeps_the_first_inputs_mask():
    embedding = layers.Embedding(5, 2, mask_zero=True)
    first, second = embedding(np.array([[1, 0, 0]])), embedding(np.array([[1, 2, 0]]))
    mask = _Pair()([first, second])._keras_mask
    assert isinstance(mask, torch.Tensor)  # Keras 3.15: the first mask, not a list
    np.testing.assert_array_equal(ops.convert_to_numpy(mask), [[True, False, False]])
