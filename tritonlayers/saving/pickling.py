"""Pickle and `copy.deepcopy` support for layers and models, through config and weights.

`Layer.__reduce_ex__` returns `reduce_layer(self, protocol)`: the class (pickled by
reference, so user classes need no registration) and the layer's `.keras` archive bytes
(config, weights and, for compiled models, compile config and optimizer state). Unpickling
rebuilds the layer from that archive with the checks of `load_model`. Pickle runs code by
design, so unpickling does not add `safe_mode` on top (a `Lambda` layer copies); files to
share are `.keras` archives, which load without pickle. A layer whose config cannot be
serialized (`__init__` took objects without a config) falls back to torch's attribute-wise
pickling.

Example:
>>> import copy
>>> import tritonlayers as keras
>>> layer = keras.layers.Dense(2)
>>> layer.build((None, 3))
>>> twin = copy.deepcopy(layer)
>>> bool((twin.kernel.numpy() == layer.kernel.numpy()).all())
True
"""

from .object_registration import get_registered_name
from .saving_api import model_from_bytes, model_to_bytes

__all__ = ["reduce_layer", "restore_layer"]


def reduce_layer(layer, protocol: int = 2) -> tuple:
    """The `__reduce_ex__` value of a layer: `(restore_layer, (class, archive bytes))`.

    Example:
    >>> import tritonlayers as keras
    >>> from tritonlayers.saving.pickling import reduce_layer
    >>> function, args = reduce_layer(keras.layers.Dense(2, name="head"))
    >>> function(*args).name
    'head'
    """
    try:
        data = model_to_bytes(layer)
    except (TypeError, ValueError, NotImplementedError):
        return object.__reduce_ex__(layer, protocol)
    return restore_layer, (type(layer), data)


def restore_layer(cls: type, data: bytes):
    """Rebuild a layer of class `cls` from the archive bytes that `reduce_layer` made.

    Example:
    >>> import pickle
    >>> import tritonlayers as keras
    >>> pickle.loads(pickle.dumps(keras.layers.Dense(3))).units
    3
    """
    custom_objects = {cls.__name__: cls, get_registered_name(cls): cls}
    return model_from_bytes(data, custom_objects=custom_objects, safe_mode=False)
