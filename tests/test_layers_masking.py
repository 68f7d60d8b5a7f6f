"""Masks from Embedding(mask_zero=True) and Masking reach LSTM, GRU, Bidirectional and
GlobalAveragePooling1D, also through a subclassed layer that never passes `mask` by hand.
"""

import torch

import tritonlayers as keras
from tritonlayers import layers

TOL = {"rtol": 1e-5, "atol": 1e-5}

# Two sequences padded with zeros at the end, and the same sequences unpadded.
PADDED = torch.tensor([[3, 7, 2, 0, 0], [5, 1, 0, 0, 0]])
UNPADDED = [torch.tensor([[3, 7, 2]]), torch.tensor([[5, 1]])]


def test_embedding_mask_makes_lstm_equal_to_unpadded_sequences():
    embedding, lstm = layers.Embedding(10, 4, mask_zero=True), layers.LSTM(6)
    padded = lstm(embedding(PADDED))
    for row, ids in enumerate(UNPADDED):
        torch.testing.assert_close(padded[row], lstm(embedding(ids))[0], **TOL)


def test_embedding_mask_makes_global_average_pooling_equal_to_unpadded_sequences():
    embedding, pooling = layers.Embedding(10, 4, mask_zero=True), layers.GlobalAveragePooling1D()
    padded = pooling(embedding(PADDED))
    for row, ids in enumerate(UNPADDED):
        torch.testing.assert_close(padded[row], pooling(embedding(ids))[0], **TOL)


def test_lstm_with_return_sequences_passes_the_mask_on():
    out = layers.LSTM(3, return_sequences=True)(layers.Embedding(10, 4, mask_zero=True)(PADDED))
    assert torch.equal(out._keras_mask, PADDED != 0)


def test_masking_layer_mask_reaches_gru():
    x = torch.randn(2, 5, 3)
    x[0, 3:] = 0.0
    gru = layers.GRU(4)
    masked = gru(layers.Masking()(x))
    torch.testing.assert_close(masked[0], gru(x[:1, :3])[0], **TOL)


class Classifier(keras.Layer):
    """A subclassed layer that chains sublayers without mentioning masks."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.embedding = layers.Embedding(10, 4, mask_zero=True)
        self.encoder = layers.Bidirectional(layers.LSTM(3, return_sequences=True))
        self.pooling = layers.GlobalAveragePooling1D()
        self.head = layers.Dense(2)

    def call(self, ids):
        return self.head(self.pooling(self.encoder(self.embedding(ids))))


def test_mask_reaches_inner_layers_of_a_subclassed_layer():
    model = Classifier()
    padded = model(PADDED)
    for row, ids in enumerate(UNPADDED):
        torch.testing.assert_close(padded[row], model(ids)[0], **TOL)


class SequenceModel(keras.Model):
    """A subclassed Model: Embedding(mask_zero) -> LSTM, masks never mentioned."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.embedding = layers.Embedding(10, 4, mask_zero=True)
        self.lstm = layers.LSTM(3)

    def call(self, ids):
        return self.lstm(self.embedding(ids))


def test_mask_reaches_lstm_inside_a_subclassed_model():
    model = SequenceModel()
    padded = model(PADDED)
    for row, ids in enumerate(UNPADDED):
        torch.testing.assert_close(padded[row], model(ids)[0], **TOL)


def test_mask_reaches_lstm_inside_a_functional_model():
    ids = keras.Input(shape=(None,), dtype="int32")
    outputs = layers.LSTM(3)(layers.Embedding(10, 4, mask_zero=True)(ids))
    model = keras.Model(ids, outputs)
    padded = model(PADDED)
    for row, unpadded in enumerate(UNPADDED):
        torch.testing.assert_close(padded[row], model(unpadded)[0], **TOL)
