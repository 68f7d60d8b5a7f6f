"""Tensors in and out: conversion, dtypes, shapes, slicing and gradient stopping.

Every op accepts torch tensors, numpy arrays and Python numbers. Non-tensors become torch
tensors on ``config.device()``: Python floats and float64 arrays become ``floatx()``
(float32), Python ints int32, as Keras does. Tensors keep their device.

Example:
>>> import numpy as np
>>> import tritonlayers as keras
>>> x = keras.ops.convert_to_tensor(np.ones((2, 3)))
>>> keras.ops.shape(x), keras.ops.dtype(x)
((2, 3), 'float32')
"""

import builtins
from typing import Any

import numpy as np
import torch

from .. import config
from ..dtype_policies import standardize_dtype, to_torch_dtype

__all__ = [
    "cast",
    "convert_to_numpy",
    "convert_to_tensor",
    "dtype",
    "is_tensor",
    "scatter",
    "scatter_update",
    "shape",
    "slice",
    "slice_update",
    "standardize_dtype",
    "stop_gradient",
    "unstack",
]


def _inferred_dtype(array: np.ndarray) -> torch.dtype:
    """Keras's default dtype for converted data: float64 -> floatx, the rest as numpy."""
    if array.dtype == np.float64:
        return to_torch_dtype(config.floatx())
    return to_torch_dtype(array.dtype.name)


def convert_to_tensor(x: Any, dtype: Any = None, sparse: "bool | None" = None) -> torch.Tensor:
    """A torch tensor for ``x`` (tensor, numpy array, list or number), cast to ``dtype``.

    Example:
    >>> import tritonlayers as keras
    >>> keras.ops.convert_to_tensor([1, 2]).dtype, keras.ops.convert_to_tensor(0.5).dtype
    (torch.int32, torch.float32)
    """
    if sparse:
        raise ValueError("tritonlayers ops do not support sparse tensors; received sparse=True.")
    target = None if dtype is None else to_torch_dtype(dtype)
    if isinstance(x, torch.Tensor):
        return x if target is None or x.dtype == target else x.to(target)
    if hasattr(x, "numpy") and not isinstance(x, np.ndarray) and callable(x.numpy):
        x = x.numpy()
    if isinstance(x, (list, tuple)) and any(isinstance(item, torch.Tensor) for item in x):
        return torch.stack([convert_to_tensor(item, dtype) for item in x])
    if target is None:
        target = _python_dtype(x)
    array = np.asarray(x)
    if array.dtype == object or array.dtype.kind in "USV":
        raise TypeError(
            f"Cannot convert {type(x).__name__} of numpy dtype {array.dtype} to a tensor; "
            "expected numbers, bools, numpy arrays or torch tensors."
        )
    if target is None:
        target = _inferred_dtype(array)
    return torch.tensor(array).to(device=config.device(), dtype=target)


def _python_dtype(x: Any) -> "torch.dtype | None":
    """Keras's dtype for Python numbers and nested lists of them (None: ask numpy)."""
    if isinstance(x, (np.ndarray, np.generic)):
        return None
    if isinstance(x, (list, tuple)):
        leaves = _leaves(x)
        if not leaves or not all(map(_is_real_number_leaf, leaves)):
            return None
        from ..backend import result_type

        # As Keras: promote the leaves' dtypes, numbers weakly (a list of uint8 arrays stays
        # uint8, [np.float16(1), 2.5] is float16). Promotion is a join, so each distinct
        # dtype is promoted once, however long the list.
        kinds = {getattr(leaf, "dtype", type(leaf)) for leaf in leaves}
        return to_torch_dtype(result_type(*kinds))
    if isinstance(x, bool):
        return torch.bool
    if isinstance(x, int):
        return torch.int32
    if isinstance(x, float):
        return to_torch_dtype(config.floatx())
    return None


def _leaves(x: Any) -> list:
    """The items of nested lists and tuples; arrays and numbers are leaves."""
    if isinstance(x, (list, tuple)):
        return [leaf for item in x for leaf in _leaves(item)]
    return [x]


def _is_real_number_leaf(leaf: Any) -> bool:
    if isinstance(leaf, (np.ndarray, np.generic)):
        return leaf.dtype.kind in "biuf"
    return isinstance(leaf, (bool, int, float))


def convert_to_numpy(x: Any) -> np.ndarray:
    """A numpy array with the values of ``x`` (copied to the host, detached).

    Example:
    >>> import tritonlayers as keras
    >>> keras.ops.convert_to_numpy(keras.ops.ones((2,)))
    array([1., 1.], dtype=float32)
    """
    if isinstance(x, torch.Tensor):
        x = x.detach()
        if x.dtype == torch.bfloat16:
            x = x.float()
        return x.cpu().numpy()
    return np.asarray(x)


def is_tensor(x: Any) -> bool:
    """Whether ``x`` is a torch tensor (Variables included).

    Example: ``keras.ops.is_tensor(keras.ops.ones((2,)))``
    """
    return isinstance(x, torch.Tensor)


def cast(x: Any, dtype: Any) -> torch.Tensor:
    """``x`` as a tensor of ``dtype`` ("float32", "int32", a torch dtype, ...).

    Example:
    >>> import tritonlayers as keras
    >>> keras.ops.cast([1.7, -1.7], "int32").tolist()
    [1, -1]
    """
    return convert_to_tensor(x).to(to_torch_dtype(dtype))


def dtype(x: Any) -> str:
    """The Keras dtype name of ``x``'s values, e.g. "float32".

    Example: ``keras.ops.dtype(keras.ops.ones((2,), dtype="bfloat16"))``
    """
    if isinstance(x, torch.Tensor):
        return standardize_dtype(x.dtype)
    if isinstance(getattr(x, "dtype", None), str):
        return standardize_dtype(x.dtype)
    return standardize_dtype(convert_to_tensor(x).dtype)


def shape(x: Any) -> tuple:
    """The shape of ``x`` as a tuple of ints (None for unknown symbolic dims).

    Example:
    >>> import tritonlayers as keras
    >>> keras.ops.shape(keras.ops.zeros((2, 3)))
    (2, 3)
    """
    if hasattr(x, "shape"):
        return tuple(x.shape)
    return tuple(np.shape(x))


def stop_gradient(variable: Any) -> torch.Tensor:
    """The same values with no gradient flowing back through them.

    Example:
    >>> import tritonlayers as keras
    >>> keras.ops.stop_gradient(keras.ops.ones((2,))).requires_grad
    False
    """
    return convert_to_tensor(variable).detach()


def _block(start_indices: Any, sizes: Any, device: torch.device) -> tuple:
    """The index of a block: slices for int starts; for tensor starts, broadcastable index
    tensors computed on the device (no host sync, nothing for torch.compile to specialize)."""
    sizes = [int(n) for n in sizes]
    if isinstance(start_indices, torch.Tensor):
        starts = start_indices.to(device=device, dtype=torch.int64).reshape(-1)
        rank = len(sizes)
        return tuple(
            (starts[d] + torch.arange(n, device=device)).reshape(
                [n if axis == d else 1 for axis in range(rank)]
            )
            for d, n in enumerate(sizes)
        )
    starts = [int(b) for b in np.asarray(start_indices).reshape(-1)]
    return tuple(builtins.slice(b, b + n) for b, n in zip(starts, sizes))


def slice(inputs: Any, start_indices: Any, shape: Any) -> torch.Tensor:  # noqa: A001
    """The block of ``inputs`` starting at ``start_indices`` with the given ``shape``.

    Example:
    >>> import tritonlayers as keras
    >>> x = keras.ops.reshape(keras.ops.arange(12), (3, 4))
    >>> keras.ops.slice(x, (1, 1), (2, 2)).tolist()
    [[5, 6], [9, 10]]
    """
    inputs = convert_to_tensor(inputs)
    return inputs[_block(start_indices, np.asarray(shape).reshape(-1), inputs.device)]


def slice_update(inputs: Any, start_indices: Any, updates: Any) -> torch.Tensor:
    """A copy of ``inputs`` with the block at ``start_indices`` replaced by ``updates``.

    Example:
    >>> import tritonlayers as keras
    >>> keras.ops.slice_update(keras.ops.zeros((3,)), (1,), keras.ops.ones((2,))).tolist()
    [0.0, 1.0, 1.0]
    """
    inputs = convert_to_tensor(inputs)
    updates = convert_to_tensor(updates, inputs.dtype).to(inputs.device)
    result = inputs.clone()
    result[_block(start_indices, updates.shape, inputs.device)] = updates
    return result


def unstack(x: Any, num: "int | None" = None, axis: int = 0) -> list[torch.Tensor]:
    """The slices of ``x`` along ``axis``, as a list.

    Example:
    >>> import tritonlayers as keras
    >>> [t.tolist() for t in keras.ops.unstack(keras.ops.eye(2))]
    [[1.0, 0.0], [0.0, 1.0]]
    """
    x = convert_to_tensor(x)
    if num is not None and num != x.shape[axis]:
        raise ValueError(f"unstack: num={num} but axis {axis} has length {x.shape[axis]}.")
    return list(torch.unbind(x, dim=axis))


_REDUCTIONS = {"add": "sum", "max": "amax", "min": "amin", "mul": "prod"}


def _flat_positions(indices: torch.Tensor, leading: "tuple[int, ...]") -> torch.Tensor:
    """Row-major offsets into the first ``len(leading)`` axes for ``(..., depth)`` indices."""
    strides = [1] * len(leading)
    for i in range(len(leading) - 2, -1, -1):
        strides[i] = strides[i + 1] * leading[i + 1]
    strides = torch.tensor(strides, dtype=torch.int64, device=indices.device)
    return (indices.to(torch.int64) * strides).sum(-1).reshape(-1)


def scatter_update(
    inputs: Any, indices: Any, updates: Any, reduction: "str | None" = None
) -> torch.Tensor:
    """A copy of ``inputs`` with ``updates`` written at ``indices`` (shape ``(..., depth)``,
    indexing the first ``depth`` axes); ``reduction`` "add", "max", "min" or "mul" combines
    with the existing values instead of replacing them.

    Example:
    >>> import tritonlayers as keras
    >>> keras.ops.scatter_update(keras.ops.zeros((3,)), [[0], [2]], [5.0, 7.0]).tolist()
    [5.0, 0.0, 7.0]
    """
    inputs = convert_to_tensor(inputs)
    indices = convert_to_tensor(indices).to(inputs.device)
    updates = convert_to_tensor(updates, inputs.dtype).to(inputs.device)
    if reduction is not None and reduction not in _REDUCTIONS:
        raise ValueError(
            f"scatter_update: reduction must be None or one of {sorted(_REDUCTIONS)}; "
            f"received {reduction!r}."
        )
    depth = indices.shape[-1]
    leading, rest = tuple(inputs.shape[:depth]), tuple(inputs.shape[depth:])
    flat = inputs.reshape(-1, *rest)
    positions = _flat_positions(indices, leading)
    values = updates.reshape(-1, *rest)
    if reduction is None:
        result = flat.index_copy(0, positions, values)
    else:
        expanded = positions.reshape(-1, *([1] * len(rest))).expand_as(values)
        result = flat.scatter_reduce(0, expanded, values, _REDUCTIONS[reduction])
    return result.reshape(inputs.shape)


def scatter(indices: Any, values: Any, shape: Any) -> torch.Tensor:
    """A zero tensor of ``shape`` with ``values`` added at ``indices`` (duplicates sum).

    Example:
    >>> import tritonlayers as keras
    >>> keras.ops.scatter([[0, 1], [0, 1]], [1.0, 2.0], (2, 2)).tolist()
    [[0.0, 3.0], [0.0, 0.0]]
    """
    values = convert_to_tensor(values)
    zeros = torch.zeros(tuple(int(s) for s in shape), dtype=values.dtype, device=values.device)
    return scatter_update(zeros, indices, values, reduction="add")
