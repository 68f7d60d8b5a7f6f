"""`layers.serialize` / `layers.deserialize`: a layer to its Keras config dict and back."""

from typing import Any

from ..saving.serialization_lib import deserialize_keras_object, serialize_keras_object
from .layer import Layer


def serialize(layer: Layer) -> dict:
    """The layer's config as a dict: `{"module", "class_name", "config", ...}`.

    Example:
    >>> import tritonlayers as keras
    >>> config = keras.layers.serialize(keras.layers.Dense(3, name="d"))
    >>> config["class_name"], config["config"]["units"]
    ('Dense', 3)
    """
    return serialize_keras_object(layer)


def deserialize(config: dict, custom_objects: "dict[str, Any] | None" = None) -> Layer:
    """The layer a `serialize` result (or a bare `{"class_name", "config"}`) describes.

    Example:
    >>> import tritonlayers as keras
    >>> layer = keras.layers.deserialize({"class_name": "Dense", "config": {"units": 3}})
    >>> type(layer).__name__, layer.units
    ('Dense', 3)
    """
    found = deserialize_keras_object(config, custom_objects=custom_objects)
    if not isinstance(found, Layer):
        raise ValueError(
            "`keras.layers.deserialize` was passed a `config` object that is not a "
            f"`keras.layers.Layer`. Received: {config}"
        )
    return found
