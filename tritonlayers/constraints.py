"""Weight constraints (Keras 3 ``keras.constraints``), applied by the optimizer after each
update: MaxNorm, MinMaxNorm, NonNeg, UnitNorm.

A constraint is called on a weight and returns the projected weight.

Example:
>>> import tritonlayers as keras
>>> keras.constraints.get("non_neg")(keras.ops.convert_to_tensor([-1.0, 2.0])).tolist()
[0.0, 2.0]
"""

from typing import Any

import torch

from . import config, ops
from .saving import serialization_lib

Tensor = torch.Tensor

__all__ = [
    "Constraint",
    "MaxNorm",
    "MinMaxNorm",
    "NonNeg",
    "UnitNorm",
    "deserialize",
    "get",
    "max_norm",
    "min_max_norm",
    "non_neg",
    "serialize",
    "unit_norm",
]


class Constraint:
    """Base class: subclasses implement ``__call__(w) -> w`` and ``get_config``.

    Example:
    >>> import tritonlayers as keras
    >>> class Clip(keras.constraints.Constraint):
    ...     def __call__(self, w):
    ...         return keras.ops.clip(w, -1.0, 1.0)
    >>> Clip()(keras.ops.convert_to_tensor([3.0])).tolist()
    [1.0]
    """

    def __call__(self, w: Tensor) -> Tensor:
        return w

    def get_config(self) -> dict:
        """The constructor arguments, as plain values."""
        return {}

    @classmethod
    def from_config(cls, config: dict) -> "Constraint":
        """A constraint from ``get_config()``'s dict."""
        return cls(**config)


def _norms(w: Tensor, axis: Any) -> Tensor:
    return ops.sqrt(ops.sum(ops.square(w), axis=axis, keepdims=True))


class MaxNorm(Constraint):
    """Rescales each slice along ``axis`` whose L2 norm exceeds ``max_value``.

    For a Dense kernel ``(in, out)``, ``axis=0`` constrains each unit's incoming weights.

    Example: ``keras.constraints.MaxNorm(1.0)(keras.ops.full((2, 2), 3.0))``
    """

    def __init__(self, max_value: float = 2, axis: Any = 0):
        self.max_value = max_value
        self.axis = axis

    def __call__(self, w: Tensor) -> Tensor:
        norms = _norms(w, self.axis)
        desired = ops.clip(norms, 0, self.max_value)
        return w * (desired / (config.epsilon() + norms))

    def get_config(self) -> dict:
        return {"max_value": self.max_value, "axis": self.axis}


class MinMaxNorm(Constraint):
    """Moves each slice's L2 norm into ``[min_value, max_value]`` by a fraction ``rate``.

    Example: ``keras.constraints.MinMaxNorm(0.5, 1.0)(keras.ops.full((2, 2), 3.0))``
    """

    def __init__(
        self, min_value: float = 0.0, max_value: float = 1.0, rate: float = 1.0, axis: Any = 0
    ):
        self.min_value = min_value
        self.max_value = max_value
        self.rate = rate
        self.axis = axis

    def __call__(self, w: Tensor) -> Tensor:
        norms = _norms(w, self.axis)
        desired = self.rate * ops.clip(norms, self.min_value, self.max_value)
        desired = desired + (1 - self.rate) * norms
        return w * (desired / (config.epsilon() + norms))

    def get_config(self) -> dict:
        return {
            "min_value": self.min_value,
            "max_value": self.max_value,
            "rate": self.rate,
            "axis": self.axis,
        }


class NonNeg(Constraint):
    """Sets negative weights to zero.

    Example: ``keras.constraints.NonNeg()(keras.ops.convert_to_tensor([-1.0, 2.0]))``
    """

    def __call__(self, w: Tensor) -> Tensor:
        return torch.where(w >= 0, w, torch.zeros_like(w))


class UnitNorm(Constraint):
    """Scales each slice along ``axis`` to unit L2 norm.

    Example: ``keras.constraints.UnitNorm()(keras.ops.full((2, 2), 3.0))``
    """

    def __init__(self, axis: Any = 0):
        self.axis = axis

    def __call__(self, w: Tensor) -> Tensor:
        return w / (config.epsilon() + _norms(w, self.axis))

    def get_config(self) -> dict:
        return {"axis": self.axis}


max_norm = MaxNorm
min_max_norm = MinMaxNorm
non_neg = NonNeg
unit_norm = UnitNorm

_ALL_OBJECTS: dict[str, type] = {
    "Constraint": Constraint,
    "MaxNorm": MaxNorm,
    "MinMaxNorm": MinMaxNorm,
    "NonNeg": NonNeg,
    "UnitNorm": UnitNorm,
    "max_norm": MaxNorm,
    "min_max_norm": MinMaxNorm,
    "non_neg": NonNeg,
    "unit_norm": UnitNorm,
}


def serialize(constraint: "Constraint | None") -> "dict | None":
    """The Keras config dict of a constraint (None stays None).

    Example: ``keras.constraints.serialize(keras.constraints.MaxNorm(3.0))``
    """
    return serialization_lib.serialize_keras_object(constraint)


def deserialize(config: dict, custom_objects: "dict[str, Any] | None" = None) -> Constraint:
    """The constraint a ``serialize`` result describes.

    Example: ``keras.constraints.deserialize({"class_name": "NonNeg", "config": {}})``
    """
    return serialization_lib.deserialize_keras_object(
        config, custom_objects=custom_objects, module_objects=_ALL_OBJECTS
    )


def get(identifier: Any) -> "Constraint | None":
    """A constraint from a name ("max_norm", "non_neg", ...), a config dict, an instance or
    a callable; None stays None.

    Example:
    >>> import tritonlayers as keras
    >>> keras.constraints.get("max_norm").max_value
    2
    """
    return serialization_lib.resolve_identifier(identifier, _ALL_OBJECTS, "constraint")
