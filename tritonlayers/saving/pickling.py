"""Pickle and `copy.deepcopy` support for layers and models, through config and weights.

`Layer.__reduce__` returns `reduce_layer(self)`: the class (pickled by reference, so user
classes need no registration) and the layer's `.keras` archive bytes (config, weights and,
for compiled models, compile config and optimizer state). Unpickling rebuilds the layer from
that archive with the same checks as `load_model`, in safe mode. This is for interop
(multiprocessing, `copy.deepcopy`); files to share are `.keras` archives, which load without
pickle.

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


def reduce_layer(layer) -> tuple:
    """The `__reduce__` value of a layer: `(restore_layer, (class, archive bytes))`.

    Example:
    >>> import tritonlayers as keras
    >>> from tritonlayers.saving.pickling import reduce_layer, restore_layer
    >>> function, args = reduce_layer(keras.layers.Dense(2, name="head"))
    >>> function(*args).name
    'head'
    """
    return restore_layer, (type(layer), model_to_bytes(layer))


def restore_layer(cls: type, data: bytes):
    """Rebuild a layer of class `cls` from the archive bytes that `reduce_layer` made.

    Example:
    >>> import pickle
    >>> import tritonlayers as keras
    >>> pickle.loads(pickle.dumps(keras.layers.Dense(3))).units
    3
    """
    custom_objects = {cls.__name__: cls, get_registered_name(cls): cls}
    return model_from_bytes(data, custom_objects=custom_objects)
