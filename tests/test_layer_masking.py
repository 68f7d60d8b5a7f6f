"""Mask propagation: `mask` / `<arg>_mask` filling, compute_mask, warnings (item 10)."""

import warnings

import pytest
import torch
from layer_core_support import layer_core_state  # noqa: F401

import tritonlayers as keras


def masked(values, mask):
    tensor = torch.tensor(values, dtype=torch.float32)
    tensor._keras_mask = torch.tensor(mask)
    return tensor


class MaskedSum(keras.Layer):
    """Consumes its mask: supports masking, outputs carry none."""

    def __init__(self):
        super().__init__()
        self.supports_masking = True

    def compute_mask(self, inputs, mask=None):
        return None

    def call(self, inputs, mask=None):
        self.mask_seen = mask
        return inputs * mask if mask is not None else inputs


class PassThrough(keras.Layer):
    def __init__(self):
        super().__init__()
        self.supports_masking = True

    def call(self, inputs):
        return inputs * 2


class MakesMask(keras.Layer):
    def call(self, inputs):
        return inputs + 0

    def compute_mask(self, inputs, mask=None):
        return inputs != 0


def test_mask_argument_is_filled_from_input_mask():
    layer = MaskedSum()
    out = layer(masked([1.0, 2.0], [True, False]))
    assert layer.mask_seen.tolist() == [True, False]
    assert out.tolist() == [1.0, 0.0]


def test_explicit_mask_argument_wins():
    layer = MaskedSum()
    layer(masked([1.0, 2.0], [True, False]), mask=torch.tensor([False, True]))
    assert layer.mask_seen.tolist() == [False, True]


def test_named_arg_masks_are_filled_per_argument():
    class Attend(keras.Layer):
        supports_masking = True

        def call(self, query, value, query_mask=None, value_mask=None):
            self.masks = (query_mask, value_mask)
            return query

    layer = Attend()
    layer(masked([1.0], [True]), masked([2.0, 3.0], [False, True]))
    assert layer.masks[0].tolist() == [True] and layer.masks[1].tolist() == [False, True]


def test_supporting_layer_passes_mask_through_by_default():
    out = PassThrough()(masked([1.0, 2.0], [True, False]))
    assert out._keras_mask.tolist() == [True, False]


def test_compute_mask_override_sets_output_mask():
    layer = MakesMask()
    assert layer.supports_masking
    out = layer(torch.tensor([0.0, 3.0]))
    assert out._keras_mask.tolist() == [False, True]


def test_layer_without_masking_support_drops_mask_and_warns_once():
    layer = keras.Layer.__new__(type("Plain", (keras.Layer,), {"call": lambda s, x: x + 1}))
    layer.__init__()
    with pytest.warns(UserWarning, match="does not support masking"):
        out = layer(masked([1.0], [True]))
    assert getattr(out, "_keras_mask", None) is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        layer(masked([1.0], [True]))


def test_mask_survives_input_dtype_conversion():
    layer = MaskedSum()
    x = torch.tensor([1.0, 2.0], dtype=torch.float64)
    x._keras_mask = torch.tensor([False, True])
    layer(x)
    assert layer.mask_seen.tolist() == [False, True]
