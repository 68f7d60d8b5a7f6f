"""Weight penalties (Keras 3 ``keras.regularizers``): L1, L2, L1L2, OrthogonalRegularizer.

A regularizer is called on a weight and returns a scalar penalty; ``Layer.losses`` adds
the penalties of the weights that ``add_weight(regularizer=...)`` gave one.

Example:
>>> import tritonlayers as keras
>>> keras.regularizers.get("l2")(keras.ops.ones((2, 2))).item()
0.03999999910593033
"""

import math
from typing import Any

import torch

from . import ops
from .saving import serialization_lib

Tensor = torch.Tensor

__all__ = [
    "L1",
    "L1L2",
    "L2",
    "OrthogonalRegularizer",
    "Regularizer",
    "deserialize",
    "get",
    "l1",
    "l1_l2",
    "l2",
    "orthogonal_regularizer",
    "serialize",
]


def _non_negative_float(value: Any, name: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValueError(
            f"Invalid value for argument {name}: expected a non-negative float. "
            f"Received: {name}={value!r}"
        )
    return float(value)


class Regularizer:
    """Base class: subclasses implement ``__call__(x) -> scalar`` and ``get_config``.

    Example:
    >>> import tritonlayers as keras
    >>> class SumOfSquares(keras.regularizers.Regularizer):
    ...     def __call__(self, x):
    ...         return keras.ops.sum(keras.ops.square(x))
    >>> SumOfSquares()(keras.ops.ones((3,))).item()
    3.0
    """

    def __call__(self, x: Tensor) -> Tensor:
        raise TypeError(f"{type(self).__name__} must implement `__call__(self, x)`.")

    def get_config(self) -> dict:
        """The constructor arguments, as plain values."""
        return {}

    @classmethod
    def from_config(cls, config: dict) -> "Regularizer":
        """A regularizer from ``get_config()``'s dict."""
        return cls(**config)


class L1(Regularizer):
    """``l1 * sum(abs(x))``.

    Example: ``keras.regularizers.L1(0.1)(keras.ops.ones((2, 2)))``
    """

    def __init__(self, l1: float = 0.01):
        self.l1 = _non_negative_float(l1, "l1")

    def __call__(self, x: Tensor) -> Tensor:
        return self.l1 * ops.sum(ops.absolute(x))

    def get_config(self) -> dict:
        return {"l1": self.l1}


class L2(Regularizer):
    """``l2 * sum(square(x))``.

    Example: ``keras.regularizers.L2(0.1)(keras.ops.ones((2, 2)))``
    """

    def __init__(self, l2: float = 0.01):
        self.l2 = _non_negative_float(l2, "l2")

    def __call__(self, x: Tensor) -> Tensor:
        return self.l2 * ops.sum(ops.square(x))

    def get_config(self) -> dict:
        return {"l2": self.l2}


class L1L2(Regularizer):
    """``l1 * sum(abs(x)) + l2 * sum(square(x))`` (both factors default to 0).

    Example: ``keras.regularizers.L1L2(l1=0.1, l2=0.2)(keras.ops.ones((2, 2)))``
    """

    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        self.l1 = _non_negative_float(0.0 if l1 is None else l1, "l1")
        self.l2 = _non_negative_float(0.0 if l2 is None else l2, "l2")

    def __call__(self, x: Tensor) -> Tensor:
        penalty = torch.zeros((), dtype=x.dtype, device=x.device)
        if self.l1:
            penalty = penalty + self.l1 * ops.sum(ops.absolute(x))
        if self.l2:
            penalty = penalty + self.l2 * ops.sum(ops.square(x))
        return penalty

    def get_config(self) -> dict:
        return {"l1": self.l1, "l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """Pushes the rows (``mode="rows"``) or columns of a 2-D weight towards orthogonality:
    ``factor * mean over pairs i < j of |<v_i, v_j>|`` for the L2-normalized vectors.

    Example:
    >>> import tritonlayers as keras
    >>> reg = keras.regularizers.OrthogonalRegularizer(factor=1.0)
    >>> reg(keras.ops.eye(3)).item()
    0.0
    """

    def __init__(self, factor: float = 0.01, mode: str = "rows"):
        self.factor = _non_negative_float(factor, "factor")
        if mode not in ("rows", "columns"):
            raise ValueError(
                f"Invalid value for argument `mode`. Expected one of {{'rows', 'columns'}}. "
                f"Received: mode={mode!r}"
            )
        self.mode = mode

    def __call__(self, x: Tensor) -> Tensor:
        if x.ndim != 2:
            raise ValueError(
                "Inputs to OrthogonalRegularizer must have rank 2. Received: "
                f"inputs.shape={tuple(x.shape)}"
            )
        vectors = ops.normalize(x, axis=1) if self.mode == "rows" else ops.normalize(x, axis=0).T
        product = vectors @ vectors.T
        size = product.shape[0]
        off_diagonal = product * (1.0 - ops.eye(size, dtype=product.dtype).to(product.device))
        pairs = size * (size - 1.0) / 2.0
        return self.factor * 0.5 * ops.sum(ops.absolute(off_diagonal)) / max(pairs, 1.0)

    def get_config(self) -> dict:
        return {"factor": self.factor, "mode": self.mode}


l1 = L1
l2 = L2
l1_l2 = L1L2
orthogonal_regularizer = OrthogonalRegularizer

_ALL_OBJECTS: dict[str, type] = {
    "Regularizer": Regularizer,
    "L1": L1,
    "L2": L2,
    "L1L2": L1L2,
    "OrthogonalRegularizer": OrthogonalRegularizer,
    "l1": L1,
    "l2": L2,
    "l1_l2": L1L2,
    "orthogonal_regularizer": OrthogonalRegularizer,
}


def serialize(regularizer: "Regularizer | None") -> "dict | None":
    """The Keras config dict of a regularizer (None stays None).

    Example: ``keras.regularizers.serialize(keras.regularizers.L2(0.1))``
    """
    return serialization_lib.serialize_keras_object(regularizer)


def deserialize(config: dict, custom_objects: "dict[str, Any] | None" = None) -> Regularizer:
    """The regularizer a ``serialize`` result describes.

    Example: ``keras.regularizers.deserialize({"class_name": "L2", "config": {"l2": 0.1}})``
    """
    return serialization_lib.deserialize_keras_object(
        config, custom_objects=custom_objects, module_objects=_ALL_OBJECTS
    )


def get(identifier: Any) -> "Regularizer | None":
    """A regularizer from a name ("l1", "l2", "l1_l2", "orthogonal_regularizer"), a config
    dict, an instance or a callable; None stays None.

    Example:
    >>> import tritonlayers as keras
    >>> keras.regularizers.get("l1").l1
    0.01
    """
    return serialization_lib.resolve_identifier(identifier, _ALL_OBJECTS, "regularizer")
