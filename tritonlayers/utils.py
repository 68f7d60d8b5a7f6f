"""`keras.utils` helpers that ported programs call: one-hot labels, padding, normalizing,
seeding, session reset; `PyDataset` (alias `Sequence`) for batches built in Python code;
`get_file` and the dataset builders (`split_dataset`, `timeseries_dataset_from_array`,
`image_dataset_from_directory`, `text_dataset_from_directory`); image file helpers;
interactive logging switches; `Config`; plus Keras's aliases of the saving registry and
`Progbar`.

Example:
>>> import tritonlayers as keras
>>> keras.utils.to_categorical([0, 2], num_classes=3).tolist()
[[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
"""

import gc
import random
from collections import abc
from typing import Any

import numpy as np
import torch

from .callbacks import Progbar
from .config_dict import Config
from .dataset_utils import split_dataset, timeseries_dataset_from_array
from .directory_datasets import image_dataset_from_directory, text_dataset_from_directory
from .file_utils import get_file
from .image_utils import array_to_img, img_to_array, load_img, save_img
from .io_utils import (
    disable_interactive_logging,
    enable_interactive_logging,
    is_interactive_logging_enabled,
)
from .layers.naming import clear_uids
from .layers.symbolic import is_keras_tensor
from .models.data_adapters import pack_x_y_sample_weight, unpack_x_y_sample_weight
from .models.py_dataset import PyDataset
from .saving import (
    CustomObjectScope,
    custom_object_scope,
    deserialize_keras_object,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
    serialize_keras_object,
)

__all__ = [
    "Config",
    "CustomObjectScope",
    "Progbar",
    "PyDataset",
    "Sequence",
    "array_to_img",
    "clear_session",
    "custom_object_scope",
    "deserialize_keras_object",
    "disable_interactive_logging",
    "enable_interactive_logging",
    "get_custom_objects",
    "get_file",
    "get_registered_name",
    "get_registered_object",
    "get_source_inputs",
    "image_dataset_from_directory",
    "img_to_array",
    "is_interactive_logging_enabled",
    "is_keras_tensor",
    "load_img",
    "normalize",
    "pack_x_y_sample_weight",
    "pad_sequences",
    "register_keras_serializable",
    "save_img",
    "serialize_keras_object",
    "set_random_seed",
    "split_dataset",
    "standardize_dtype",
    "text_dataset_from_directory",
    "timeseries_dataset_from_array",
    "to_categorical",
    "unpack_x_y_sample_weight",
]


# Keras 3 keeps the name of its predecessor as an alias.
Sequence = PyDataset


def to_categorical(x: Any, num_classes: "int | None" = None) -> Any:
    """One-hot encode integer class labels (a trailing axis of size 1 is dropped first).

    NumPy arrays and lists give a float64 NumPy array (as in Keras; `fit` casts it to
    floatx), torch tensors a float32 tensor on the same device. `num_classes` defaults to
    `max(x) + 1`.

    Example:
    >>> import tritonlayers as keras
    >>> keras.utils.to_categorical([[1], [0]]).tolist()
    [[0.0, 1.0], [1.0, 0.0]]
    """
    if isinstance(x, torch.Tensor):
        labels = x.long()
        if labels.ndim > 1 and labels.shape[-1] == 1:
            labels = labels.squeeze(-1)
        classes = int(labels.max()) + 1 if num_classes is None else num_classes
        return torch.nn.functional.one_hot(labels, classes).float()
    labels = np.asarray(x, dtype="int64")
    if labels.ndim > 1 and labels.shape[-1] == 1:
        labels = labels.reshape(labels.shape[:-1])
    classes = int(labels.max()) + 1 if num_classes is None else num_classes
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(
            f"`to_categorical` expects labels in [0, {classes}) for num_classes={classes}. "
            f"Received labels from {labels.min()} to {labels.max()}."
        )
    return np.eye(classes, dtype="float64")[labels]


def pad_sequences(
    sequences: abc.Sequence,
    maxlen: "int | None" = None,
    dtype: str = "int32",
    padding: str = "pre",
    truncating: str = "pre",
    value: float = 0.0,
) -> np.ndarray:
    """Pad (or cut) a list of sequences to one length, as a `(len(sequences), maxlen)` array.

    `padding`/`truncating` ("pre" or "post") say at which end values are added or removed;
    `maxlen` defaults to the longest sequence. Sequences of vectors (all of one shape) give
    a `(len(sequences), maxlen, *vector_shape)` array, as in Keras.

    Example:
    >>> import tritonlayers as keras
    >>> keras.utils.pad_sequences([[1, 2, 3], [4]], maxlen=2, padding="post").tolist()
    [[2, 3], [4, 0]]
    """
    for name, side in (("Padding", padding), ("Truncating", truncating)):
        if side not in ("pre", "post"):
            raise ValueError(f'{name} type "{side}" not understood')
    text_dtype = dtype is object or np.issubdtype(dtype, np.str_) or np.issubdtype(dtype, np.bytes_)
    if isinstance(value, str) and not text_dtype:
        raise ValueError(
            f"`dtype` {dtype} is not compatible with `value`'s type: {type(value)}\n"
            "You should set `dtype=object` for variable length strings."
        )
    rows = []
    sample_shape = None
    for row in sequences:
        if not isinstance(row, abc.Iterable):
            raise ValueError(f"`sequences` must be a list of iterables. Found non-iterable: {row}")
        items = list(row)
        row = np.asarray(items, dtype=dtype if items else None)
        if items and sample_shape is None:
            sample_shape = row.shape[1:]
        rows.append(row)
    sample_shape = sample_shape or ()
    length = max((len(r) for r in rows), default=0) if maxlen is None else maxlen
    out = np.full((len(rows), length, *sample_shape), value, dtype=dtype)
    for i, row in enumerate(rows):
        row = row[max(len(row) - length, 0) :] if truncating == "pre" else row[:length]
        if not len(row):
            continue
        if row.shape[1:] != sample_shape:
            raise ValueError(
                f"Shape of sample {row.shape[1:]} of sequence at position {i} is different "
                f"from expected shape {sample_shape}"
            )
        if padding == "post":
            out[i, : len(row)] = row
        else:
            out[i, length - len(row) :] = row
    return out


def normalize(x: Any, axis: int = -1, order: int = 2) -> Any:
    """`x` divided by its `order`-norm along `axis` (zero vectors stay zero).

    As in Keras, a NumPy array gives a NumPy array (integers become float64, and a 1-D
    array comes back with a leading axis of size 1); anything else (a tensor, a list)
    gives a float tensor.

    Example:
    >>> import numpy as np
    >>> import tritonlayers as keras
    >>> keras.utils.normalize(np.array([[3.0, 4.0]])).tolist()
    [[0.6, 0.8]]
    """
    if not isinstance(x, np.ndarray):
        from .ops import convert_to_tensor

        x = convert_to_tensor(x)
        if not x.is_floating_point():
            x = x.float()
        return torch.nn.functional.normalize(x, p=order, dim=axis)
    norm = np.linalg.norm(x, ord=order, axis=axis, keepdims=True)
    out = x / np.where(norm == 0, 1, norm)
    return out[None] if x.ndim == 1 else out


def set_random_seed(seed: int) -> None:
    """Seed Python's `random`, NumPy and torch (which also seeds unseeded tritonlayers draws).

    Example:
    >>> import tritonlayers as keras
    >>> keras.utils.set_random_seed(7)
    >>> a = keras.random.normal((2,))
    >>> keras.utils.set_random_seed(7)
    >>> bool((a == keras.random.normal((2,))).all())
    True
    """
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ValueError(
            "Expected `seed` argument to be an integer. "
            f"Received: seed={seed} (of type {type(seed)})"
        )
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def clear_session(free_memory: bool = True) -> None:
    """Restart automatic layer names (`dense`, `dense_1`, ...) and free unused memory.

    Example:
    >>> import tritonlayers as keras
    >>> keras.utils.clear_session()
    >>> keras.layers.Dense(2).name
    'dense'
    """
    clear_uids()
    if free_memory:
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def get_source_inputs(tensor: Any) -> list:
    """The `Input` tensors a symbolic tensor was computed from, depth first (as Keras).

    Example:
    >>> import tritonlayers as keras
    >>> a, b = keras.Input((2,)), keras.Input((2,))
    >>> y = keras.layers.Add()([a, keras.layers.Dense(2)(b)])
    >>> get_source_inputs(y) == [a, b]
    True
    """
    if not is_keras_tensor(tensor):
        raise ValueError(
            f"`get_source_inputs` expects a KerasTensor (a functional model's tensor); "
            f"received {type(tensor).__name__}."
        )
    sources, seen, pending = [], set(), [tensor]
    while pending:
        current = pending.pop()
        history = current._keras_history
        node = None if history is None else history.operation._inbound_nodes[history.node_index]
        if node is None or node.is_input:
            if id(current) not in seen:
                seen.add(id(current))
                sources.append(current)
            continue
        pending.extend(reversed(node.input_tensors))
    return sources


def standardize_dtype(dtype: Any = None) -> str:
    """The Keras name of a dtype, by Keras's rules for the torch backend (Python's `int` and
    "int" are "int32", `float` is "float32"): `keras.backend.standardize_dtype`.

    Example:
    >>> from tritonlayers.utils import standardize_dtype
    >>> standardize_dtype("int"), standardize_dtype(float)
    ('int32', 'float32')
    """
    from .backend import standardize_dtype as standardize

    return standardize(dtype)
