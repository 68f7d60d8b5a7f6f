"""Saving and loading: the custom-object registry, config serialization, `.keras` archives
and `.weights.safetensors` files.

Example:
>>> import tritonlayers as keras
>>> config = keras.saving.serialize_keras_object(keras.regularizers.L2(0.1))
>>> keras.saving.deserialize_keras_object(config).l2
0.1
"""

from . import object_registration, serialization_lib
from .errors import ArchiveError
from .object_registration import (
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)
from .saving_api import load_model, model_from_json, save_model
from .serialization_lib import (
    DeserializationError,
    deserialize_keras_object,
    serialize_keras_object,
)
from .weights_io import load_weights, save_weights

serialize = serialize_keras_object
deserialize = deserialize_keras_object

__all__ = [
    "ArchiveError",
    "CustomObjectScope",
    "DeserializationError",
    "custom_object_scope",
    "deserialize",
    "deserialize_keras_object",
    "get_custom_objects",
    "get_registered_name",
    "get_registered_object",
    "load_model",
    "load_weights",
    "model_from_json",
    "object_registration",
    "register_keras_serializable",
    "save_model",
    "save_weights",
    "serialization_lib",
    "serialize",
    "serialize_keras_object",
]
