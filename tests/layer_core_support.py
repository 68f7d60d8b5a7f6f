"""Shared pieces of the Layer-core tests: a fresh-state fixture and a small Linear layer."""

import pytest

import tritonlayers as keras
from tritonlayers.layers.naming import clear_uids


@pytest.fixture(autouse=True)
def layer_core_state():
    """Fresh automatic names, CPU variables (the tests feed CPU tensors), default policy."""
    clear_uids()
    keras.config.set_device("cpu")
    yield
    keras.config.set_device(None)
    keras.config.set_dtype_policy(None)


class Linear(keras.Layer):
    """`inputs @ w + b`, with `w` (glorot_uniform) and `b` (zeros) created in `build`."""

    def __init__(self, units=3, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units))
        self.b = self.add_weight(shape=(self.units,), initializer="zeros")

    def call(self, inputs):
        return inputs @ self.w + self.b
