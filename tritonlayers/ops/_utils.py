"""Argument handling shared by the op modules: tensors, axes, dtype promotion."""

import functools
from collections.abc import Callable
from typing import Any

import torch

from .. import config
from .core import convert_to_tensor, to_torch_dtype

_PYTHON_NUMBERS = (bool, int, float)


def tensor(x: Any) -> torch.Tensor:
    """``x`` as a torch tensor (see ``convert_to_tensor``)."""
    return x if isinstance(x, torch.Tensor) else convert_to_tensor(x)


def floating(x: Any) -> torch.Tensor:
    """``x`` as a tensor, with int and bool values cast to ``floatx()`` (Keras's rule for
    transcendental functions and means)."""
    x = tensor(x)
    if x.is_floating_point() or x.is_complex():
        return x
    return x.to(to_torch_dtype(config.floatx()))


def like(value: Any, other: torch.Tensor) -> torch.Tensor:
    """``value`` as a tensor on ``other``'s device; a Python number takes the dtype torch
    would promote it to next to ``other`` (weak typing, as in Keras), except that an int
    next to a bool tensor is int32 (Keras's default int), where torch would say int64."""
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, _PYTHON_NUMBERS):
        dtype = torch.result_type(other, value)
        if other.dtype == torch.bool and dtype == torch.int64:
            dtype = torch.int32
        return torch.as_tensor(value, dtype=dtype, device=other.device)
    return convert_to_tensor(value).to(other.device)


def float_pair(x1: torch.Tensor, x2: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Both tensors in their promoted dtype, or in ``floatx()`` when that is not a float:
    Keras's rule for float-valued binary ops (float16 with int32 stays float16)."""
    dtype = torch.promote_types(x1.dtype, x2.dtype)
    if not (dtype.is_floating_point or dtype.is_complex):
        dtype = to_torch_dtype(config.floatx())
    return x1.to(dtype), x2.to(dtype)


def strict_pair(x1: Any, x2: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Both operands converted on their own (a Python int is int32, a float floatx) and then
    promoted to one dtype, as Keras does for ops such as ``dot``, ``outer`` and ``arctan2``
    (so ``float16`` with ``2.5`` gives float32, not the weakly typed float16)."""
    x1, x2 = pair(tensor(x1), tensor(x2))
    dtype = torch.promote_types(x1.dtype, x2.dtype)
    return x1.to(dtype), x2.to(dtype)


def pair(x1: Any, x2: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Both operands of a binary op as tensors on one device."""
    if isinstance(x1, torch.Tensor):
        return x1, like(x2, x1)
    if isinstance(x2, torch.Tensor):
        return like(x1, x2), x2
    x1 = convert_to_tensor(x1)
    return x1, like(x2, x1)


class AxisError(IndexError, ValueError):
    """An axis outside a tensor's rank. Keras on torch raises an IndexError with this
    wording; this one is also a ValueError (as numpy's AxisError is), so code catching
    either works.

    Example:
    >>> import tritonlayers as keras
    >>> try:
    ...     keras.ops.sum(keras.ops.ones((2, 3)), axis=5)
    ... except IndexError as error:
    ...     print(error)
    Dimension out of range (expected to be in range of [-2, 1], but got 5)
    """


def axes(axis: Any, ndim: int) -> "tuple[int, ...] | None":
    """``axis`` (None, int, or a sequence) as a tuple of non-negative axes; None = all."""
    if axis is None:
        return None
    if isinstance(axis, int):
        axis = (axis,)
    result = []
    for a in axis:
        a = int(a)
        if not -max(ndim, 1) <= a < max(ndim, 1):
            raise AxisError(
                f"Dimension out of range (expected to be in range of "
                f"[{-max(ndim, 1)}, {max(ndim, 1) - 1}], but got {a})"
            )
        result.append(a % max(ndim, 1))
    if len(set(result)) != len(result):
        raise ValueError(f"Repeated axis in {tuple(axis)}.")
    return tuple(result)


def reduce_dims(x: torch.Tensor, axis: Any) -> "tuple[int, ...]":
    """The dims a reduction over ``axis`` covers (all of them for None)."""
    normalized = axes(axis, x.ndim)
    return tuple(range(x.ndim)) if normalized is None else normalized


def _symbolic(value: Any) -> bool:
    """Whether ``value``, or an item of it when it is a list/tuple, is a KerasTensor."""
    if isinstance(value, torch.Tensor):
        return False
    if type(value).__name__ == "KerasTensor":
        return True
    return isinstance(value, (list, tuple)) and any(
        type(item).__name__ == "KerasTensor" for item in value
    )


def any_keras_tensor(args: tuple, kwargs: dict) -> bool:
    """Whether an argument (or an item of a list/tuple argument) is a symbolic KerasTensor."""
    return any(map(_symbolic, args)) or (bool(kwargs) and any(map(_symbolic, kwargs.values())))


def symbolic_aware(fn: Callable) -> Callable:
    """``fn`` that, given KerasTensors, records itself as a functional-graph node instead."""

    @functools.wraps(fn)
    def op(*args: Any, **kwargs: Any) -> Any:
        if any_keras_tensor(args, kwargs):
            from .symbolic import symbolic_op_call

            return symbolic_op_call(fn, args, kwargs)
        return fn(*args, **kwargs)

    return op
