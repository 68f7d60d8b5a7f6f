"""add_loss, losses gathering, regularizer penalties, outermost-call clearing (item 8)."""

import pytest
import torch
from layer_core_support import layer_core_state  # noqa: F401

import tritonlayers as keras


class ActivityLoss(keras.Layer):
    def __init__(self, rate=1e-2):
        super().__init__()
        self.rate = rate

    def call(self, inputs):
        self.add_loss(self.rate * torch.mean(inputs))
        return inputs


class Outer(keras.Layer):
    def __init__(self):
        super().__init__()
        self.inner = ActivityLoss(rate=1.0)

    def call(self, inputs):
        self.add_loss(torch.sum(inputs))
        return self.inner(inputs)


def test_add_loss_is_reported_in_losses():
    layer = ActivityLoss(rate=0.5)
    layer(torch.full((2, 2), 4.0))
    assert len(layer.losses) == 1
    torch.testing.assert_close(layer.losses[0], torch.tensor(2.0), rtol=0, atol=0)


def test_losses_include_sublayer_losses_after_own():
    outer = Outer()
    outer(torch.full((1, 2), 3.0))
    torch.testing.assert_close(torch.stack(outer.losses), torch.tensor([6.0, 3.0]))


def test_outermost_call_clears_previous_losses():
    outer = Outer()
    outer(torch.ones(1, 1))
    outer(torch.ones(1, 1))
    assert len(outer.losses) == 2


def test_inner_call_does_not_clear_sibling_losses():
    class TwoBranches(keras.Layer):
        def __init__(self):
            super().__init__()
            self.first = ActivityLoss(rate=1.0)
            self.second = ActivityLoss(rate=2.0)

        def call(self, x):
            self.first(x)
            self.first(x)
            return self.second(x)

    layer = TwoBranches()
    layer(torch.ones(1))
    torch.testing.assert_close(torch.stack(layer.losses), torch.tensor([1.0, 1.0, 2.0]))


def test_standalone_call_of_inner_layer_clears_only_its_losses():
    outer = Outer()
    outer(torch.ones(1))
    outer.inner(torch.full((1,), 5.0))
    torch.testing.assert_close(torch.stack(outer.losses), torch.tensor([1.0, 5.0]))


def test_weight_regularizer_penalty_is_computed_from_current_weights():
    layer = keras.Layer()
    w = layer.add_weight(shape=(2,), initializer="ones", regularizer=keras.regularizers.L2(0.1))
    torch.testing.assert_close(layer.losses[0], torch.tensor(0.2))
    w.assign([2.0, 0.0])
    torch.testing.assert_close(layer.losses[0], torch.tensor(0.4))


def test_regularizer_penalty_is_differentiable():
    layer = keras.Layer()
    w = layer.add_weight(shape=(2,), initializer="ones", regularizer=keras.regularizers.L2(0.5))
    sum(layer.losses).backward()
    torch.testing.assert_close(w.grad, torch.tensor([1.0, 1.0]))


def test_frozen_weights_add_no_regularizer_penalty():
    layer = keras.Layer()
    layer.add_weight(shape=(2,), initializer="ones", regularizer="l2")
    layer.trainable = False
    assert layer.losses == []


def test_activity_regularizer_adds_penalty_per_sample():
    layer = keras.Layer(activity_regularizer=keras.regularizers.L1(1.0))
    layer(torch.full((4, 2), -1.0))
    torch.testing.assert_close(layer.losses[0], torch.tensor(2.0))


def test_add_loss_rejects_non_tensors():
    with pytest.raises(ValueError, match="can only be called from inside `build\\(\\)` or"):
        keras.Layer().add_loss(1.0)
