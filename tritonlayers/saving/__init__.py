"""Saving and loading: the registry of custom objects and Keras 3's config serialization.

Example:
>>> import tritonlayers as keras
>>> config = keras.saving.serialize_keras_object(keras.regularizers.L2(0.1))
>>> keras.saving.deserialize_keras_object(config).l2
0.1
"""

from . import object_registration, serialization_lib
from .object_registration import (
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)
from .serialization_lib import (
    DeserializationError,
    deserialize_keras_object,
    serialize_keras_object,
)

serialize = serialize_keras_object
deserialize = deserialize_keras_object

__all__ = [
    "CustomObjectScope",
    "DeserializationError",
    "custom_object_scope",
    "deserialize",
    "deserialize_keras_object",
    "get_custom_objects",
    "get_registered_name",
    "get_registered_object",
    "object_registration",
    "register_keras_serializable",
    "serialization_lib",
    "serialize",
    "serialize_keras_object",
]
