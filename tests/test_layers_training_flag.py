"""The training flag of an outer call reaches inner Dropout and BatchNormalization layers."""

import torch

import tritonlayers as keras
from tritonlayers import layers


class Block(keras.Layer):
    """Dense -> BatchNormalization -> Dropout, with no `training` passed to the sublayers."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = layers.Dense(8)
        self.norm = layers.BatchNormalization(momentum=0.5)
        self.dropout = layers.Dropout(0.5, seed=1)

    def call(self, inputs):
        return self.dropout(self.norm(self.dense(inputs)))


def test_outer_training_true_reaches_inner_dropout():
    block = Block()
    x = torch.randn(64, 4)
    out = block(x, training=True)
    seed = layers.Dropout(0.5, seed=1).seed_generator.next()
    normalized = block.norm(block.dense(x), training=True)
    torch.testing.assert_close(out, keras.kernels.dropout(normalized, 0.5, seed))


def test_outer_training_true_updates_inner_batch_norm_statistics():
    block = Block()
    x = torch.randn(64, 4)
    block(x)
    block(x, training=True)
    hidden = block.dense(x)
    torch.testing.assert_close(block.norm.moving_mean.detach(), 0.5 * hidden.mean(0).detach())


def test_outer_training_false_is_deterministic_and_leaves_statistics():
    block = Block()
    x = torch.randn(16, 4)
    first = block(x, training=False)
    moving_mean = block.norm.moving_mean.detach().clone()
    torch.testing.assert_close(block(x, training=False), first)
    torch.testing.assert_close(block.norm.moving_mean.detach(), moving_mean)
    torch.testing.assert_close(block(x), first)
