"""saving.serialization_lib and object_registration: Keras 3 configs, the registry, scopes,
and refusal of configs that name arbitrary modules or carry code."""

import sys

import numpy as np
import pytest
import torch

import tritonlayers as keras
from tritonlayers.saving import (
    CustomObjectScope,
    DeserializationError,
    custom_object_scope,
    deserialize_keras_object,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
    serialize_keras_object,
)
from tritonlayers.saving.serialization_lib import SafeModeScope, in_safe_mode


def round_trip(obj, **kwargs):
    return deserialize_keras_object(serialize_keras_object(obj), **kwargs)


# ---- values -------------------------------------------------------------------------------


def test_plain_values_lists_and_dicts_pass_through():
    value = {"a": [1, 2.5, "x", None, True], "b": {"c": (3, 4)}}
    config = serialize_keras_object(value)
    assert config == value
    assert round_trip(value) == {"a": [1, 2.5, "x", None, True], "b": {"c": [3, 4]}}


def test_arrays_tensors_bytes_slices_round_trip():
    array = np.arange(6, dtype=np.int16).reshape(2, 3)
    restored = round_trip(array)
    assert restored.dtype == np.int16 and np.array_equal(restored, array)
    tensor = torch.tensor([[1.5, -2.0]], dtype=torch.float64)
    assert torch.equal(round_trip(tensor).cpu(), tensor)
    assert round_trip(b"bytes") == b"bytes"
    assert round_trip(slice(1, None, 2)) == slice(1, None, 2)
    assert round_trip(Ellipsis) is Ellipsis
    assert serialize_keras_object(np.float32(2.5)) == 2.5
    assert serialize_keras_object(torch.bfloat16) == "bfloat16"


def test_object_config_has_keras_3_keys():
    config = serialize_keras_object(keras.initializers.RandomNormal(stddev=0.1, seed=3))
    assert config == {
        "module": "tritonlayers.initializers",
        "class_name": "RandomNormal",
        "config": {"mean": 0.0, "stddev": 0.1, "seed": 3},
        "registered_name": None,
    }


def test_builtin_function_serializes_like_keras():
    assert serialize_keras_object(keras.activations.relu) == {
        "module": "builtins",
        "class_name": "function",
        "config": "relu",
        "registered_name": "function",
    }
    assert round_trip(keras.activations.relu) is keras.activations.relu


def test_object_without_get_config_cannot_be_serialized():
    with pytest.raises(TypeError, match="must implement the `get_config\\(\\)` method"):
        serialize_keras_object(object())


def test_keras_module_names_resolve_to_tritonlayers_namespaces():
    config = {
        "module": "keras.regularizers",
        "class_name": "L2",
        "config": {"l2": 0.5},
        "registered_name": None,
    }
    restored = deserialize_keras_object(config)
    assert isinstance(restored, keras.regularizers.L2) and restored.l2 == 0.5


def test_layer_round_trip_keeps_config_and_build_state():
    layer = keras.layers.Dense(3, activation="relu", kernel_regularizer="l2")
    layer(torch.ones(2, 4))
    config = serialize_keras_object(layer)
    assert config["module"] == "tritonlayers.layers" and "build_config" in config
    restored = deserialize_keras_object(config)
    assert type(restored) is keras.layers.Dense
    assert restored.get_config() == layer.get_config()
    assert restored.built


# ---- registry and scopes ------------------------------------------------------------------


@register_keras_serializable(package="TestSerialization")
class Scale(keras.layers.Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, x):
        return x * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


@register_keras_serializable(package="TestSerialization", name="triple")
def triple(x):
    return 3 * x


class Unregistered(keras.layers.Layer):
    pass


def test_registered_names_use_package_and_name():
    assert get_registered_name(Scale) == "TestSerialization>Scale"
    assert get_registered_name(triple) == "TestSerialization>triple"
    assert get_registered_object("TestSerialization>Scale") is Scale
    assert get_registered_name(keras.activations.relu) == "relu"


def test_registered_class_round_trips_by_registered_name():
    config = serialize_keras_object(Scale(factor=5.0))
    assert config["registered_name"] == "TestSerialization>Scale"
    restored = deserialize_keras_object(config)
    assert isinstance(restored, Scale) and restored.factor == 5.0


def test_registered_function_round_trips():
    config = serialize_keras_object(triple)
    assert config["config"] == "TestSerialization>triple"
    assert deserialize_keras_object(config) is triple


def test_registering_a_class_without_get_config_raises():
    with pytest.raises(ValueError, match="does not have a get_config"):
        register_keras_serializable()(type("NoConfig", (), {}))


def test_unregistered_class_needs_custom_objects():
    config = serialize_keras_object(Unregistered())
    with pytest.raises(DeserializationError, match="Could not locate class 'Unregistered'"):
        deserialize_keras_object(config)
    restored = deserialize_keras_object(config, custom_objects={"Unregistered": Unregistered})
    assert isinstance(restored, Unregistered)


def test_custom_object_scope_is_visible_inside_and_gone_after():
    config = serialize_keras_object(Unregistered())
    with custom_object_scope({"Unregistered": Unregistered}):
        assert get_registered_object("Unregistered") is Unregistered
        assert isinstance(deserialize_keras_object(config), Unregistered)
    assert get_registered_object("Unregistered") is None
    with pytest.raises(DeserializationError):
        deserialize_keras_object(config)


def test_inner_custom_object_scope_wins_and_restores_outer():
    with CustomObjectScope({"thing": 1}):
        with CustomObjectScope({"thing": 2}):
            assert get_registered_object("thing") == 2
        assert get_registered_object("thing") == 1


# ---- security ----------------------------------------------------------------------------

HOSTILE_CONFIGS = {
    "os_system_class": {"module": "os", "class_name": "system", "config": {}},
    "os_system_function": {
        "module": "os",
        "class_name": "function",
        "config": "system",
        "registered_name": "function",
    },
    "function_path_in_builtins": {
        "module": "builtins",
        "class_name": "function",
        "config": "os.system",
        "registered_name": "function",
    },
    "subprocess_function": {
        "module": "subprocess",
        "class_name": "function",
        "config": "check_output",
        "registered_name": None,
    },
    "non_modeling_function_in_package": {
        "module": "tritonlayers.models",
        "class_name": "function",
        "config": "load_model",
        "registered_name": None,
    },
    "saving_namespace": {
        "module": "tritonlayers.saving",
        "class_name": "function",
        "config": "load_model",
        "registered_name": None,
    },
    "keras_utils_get_file": {
        "module": "keras.utils",
        "class_name": "function",
        "config": "get_file",
        "registered_name": None,
    },
    "module_attribute_of_namespace": {
        "module": "tritonlayers.layers",
        "class_name": "torch",
        "config": {},
        "registered_name": None,
    },
    "namespace_get_function": {
        "module": "builtins",
        "class_name": "function",
        "config": "deserialize",
        "registered_name": "function",
    },
}


@pytest.mark.parametrize("name", sorted(HOSTILE_CONFIGS))
def test_config_naming_code_outside_tritonlayers_is_refused(name):
    with pytest.raises(ValueError):
        deserialize_keras_object(HOSTILE_CONFIGS[name])


def test_cve_2024_3660_style_module_import_is_refused_before_importing():
    assert "this" not in sys.modules
    config = {"module": "this", "class_name": "s", "config": {}, "registered_name": None}
    with pytest.raises(DeserializationError, match="never imports the module"):
        deserialize_keras_object(config)
    assert "this" not in sys.modules


def test_cve_2025_1550_style_nested_function_in_layer_config_is_refused():
    config = serialize_keras_object(keras.layers.Dense(2))
    config["config"]["activation"] = {
        "module": "os",
        "class_name": "function",
        "config": "system",
        "registered_name": None,
    }
    with pytest.raises(ValueError):
        deserialize_keras_object(config)


def test_python_lambda_is_refused_in_safe_mode_and_loads_when_unsafe():
    config = serialize_keras_object(lambda x: x + 1)
    assert config["class_name"] == "__lambda__"
    with pytest.raises(ValueError, match="arbitrary code execution"):
        deserialize_keras_object(config)
    assert deserialize_keras_object(config, safe_mode=False)(41) == 42


def test_unsafe_lambda_keeps_defaults_and_sees_the_keras_alias():
    config = serialize_keras_object(lambda x, k=3.0: keras.ops.square(x) * k)
    fn = deserialize_keras_object(config, safe_mode=False)
    assert fn(torch.full((2,), 2.0)).tolist() == [12.0, 12.0]


def test_lambda_with_closure_is_refused_even_when_unsafe():
    def make(scale):
        return lambda x: x * scale

    with pytest.raises(DeserializationError, match="enclosing scope"):
        deserialize_keras_object(serialize_keras_object(make(2.0)), safe_mode=False)


def test_lambda_layer_is_refused_in_safe_mode():
    config = serialize_keras_object(keras.layers.Lambda(lambda x: x * 2))
    with pytest.raises(ValueError, match="arbitrary code execution"):
        deserialize_keras_object(config)
    layer = deserialize_keras_object(config, safe_mode=False)
    assert layer(torch.ones(2)).tolist() == [2.0, 2.0]


def test_safe_mode_flag_defaults_on_and_outer_scope_wins():
    assert in_safe_mode()
    with SafeModeScope(False):
        assert not in_safe_mode()
    code = serialize_keras_object(lambda x: x)
    with SafeModeScope(True), pytest.raises(ValueError, match="arbitrary code execution"):
        deserialize_keras_object(code, safe_mode=False)


@pytest.mark.parametrize(
    "config",
    [
        {"module": "tritonlayers.layers", "class_name": 5, "config": {}},
        {"module": "tritonlayers.layers", "class_name": "Dense", "config": [1, 2]},
        {"module": 7, "class_name": "Dense", "config": {}},
        {"class_name": "__numpy__", "config": {"value": [1]}},
        {"class_name": "__unknown__", "config": {}},
        {"class_name": "function", "config": {"not": "a name"}},
    ],
    ids=["class_name_int", "config_list", "module_int", "numpy_no_dtype", "unknown_special", "fn"],
)
def test_malformed_config_raises_deserialization_error(config):
    with pytest.raises(DeserializationError):
        deserialize_keras_object(config)


def test_absurdly_nested_config_raises_deserialization_error():
    config: object = 1
    for _ in range(100_000):
        config = [config]
    with pytest.raises(DeserializationError, match="nested too deeply"):
        deserialize_keras_object(config)
