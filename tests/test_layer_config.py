"""get_config / from_config and build configs (item 11)."""

import pytest
import torch
from layer_core_support import layer_core_state  # noqa: F401

import tritonlayers as keras


class AutoConfig(keras.Layer):
    def __init__(self, units=32, activation="relu", sizes=(1, 2), **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units))

    def call(self, x):
        return x @ self.w


class ExplicitConfig(keras.Layer):
    def __init__(self, units=32, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def get_config(self):
        return {**super().get_config(), "units": self.units}


FLOAT32 = {
    "module": "keras",
    "class_name": "DTypePolicy",
    "config": {"name": "float32"},
    "registered_name": None,
}


def test_base_config_has_name_trainable_and_dtype():
    config = ExplicitConfig(units=2, name="base", trainable=False).get_config()
    assert config == {"name": "base", "trainable": False, "dtype": FLOAT32, "units": 2}


def test_base_layer_config_matches_keras():
    config = keras.Layer(name="base", trainable=False).get_config()
    assert config == {
        "name": "base",
        "activity_regularizer": None,
        "trainable": False,
        "dtype": FLOAT32,
        "autocast": True,
    }


def test_plain_constructor_arguments_are_captured_automatically():
    config = AutoConfig(units=4, name="auto").get_config()
    assert config == {
        "name": "auto",
        "units": 4,
        "activation": "relu",
        "sizes": (1, 2),
        "trainable": True,
        "dtype": FLOAT32,
    }


def test_non_plain_constructor_argument_requires_get_config():
    layer = AutoConfig(units=keras.Layer())
    with pytest.raises(TypeError, match="must override `get_config\\(\\)`"):
        layer.get_config()


def test_overridden_get_config_round_trips():
    layer = ExplicitConfig(units=64, name="lin", dtype="mixed_float16")
    config = layer.get_config()
    clone = ExplicitConfig.from_config(config)
    assert clone.get_config() == config and clone.units == 64
    assert clone.dtype_policy.name == "mixed_float16"


def test_auto_config_round_trips():
    layer = AutoConfig(units=3)
    config = layer.get_config()
    assert AutoConfig.from_config(config).get_config() == config


def test_from_config_error_names_the_class():
    with pytest.raises(TypeError, match="Error when deserializing class 'ExplicitConfig'"):
        ExplicitConfig.from_config({"unknown": 1})


def test_build_config_recreates_weights():
    layer = AutoConfig(units=3)
    layer(torch.ones(2, 5))
    build_config = layer.get_build_config()
    assert build_config == {"input_shape": (2, 5)}
    clone = AutoConfig.from_config(layer.get_config())
    clone.build_from_config(build_config)
    assert clone.built and clone.w.shape == (5, 3)


def test_build_config_is_none_before_build():
    assert AutoConfig().get_build_config() is None


def test_torch_dtype_argument_still_gives_an_auto_config():
    layer = AutoConfig(units=2, dtype=torch.float16)
    config = layer.get_config()
    assert config["dtype"]["config"] == {"name": "float16"}
    assert AutoConfig.from_config(config).compute_dtype == "float16"
