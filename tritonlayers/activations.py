"""Activation functions by Keras 3 name, with ``get``, ``serialize`` and ``deserialize``.

These are plain torch functions. ``layers.Dense`` recognises the built-in ones by identity
and runs them fused into its Triton matmul instead.

Example:
>>> import tritonlayers as keras
>>> fn = keras.activations.get("relu")
>>> fn([-1.0, 2.0]).tolist(), keras.activations.serialize(fn)
([0.0, 2.0], 'relu')
"""

import types
from collections.abc import Callable
from typing import Any

import torch

from . import ops
from .ops import _utils
from .saving import serialization_lib

Tensor = torch.Tensor

__all__ = [
    "celu",
    "deserialize",
    "elu",
    "exponential",
    "gelu",
    "get",
    "glu",
    "hard_shrink",
    "hard_sigmoid",
    "hard_silu",
    "hard_swish",
    "hard_tanh",
    "leaky_relu",
    "linear",
    "log_sigmoid",
    "log_softmax",
    "mish",
    "relu",
    "relu6",
    "selu",
    "serialize",
    "sigmoid",
    "silu",
    "soft_shrink",
    "softmax",
    "softplus",
    "softsign",
    "sparse_plus",
    "sparse_sigmoid",
    "sparsemax",
    "squareplus",
    "swish",
    "tanh",
    "tanh_shrink",
    "threshold",
]


def relu(
    x: Any, negative_slope: float = 0.0, max_value: "float | None" = None, threshold: float = 0.0
) -> Tensor:
    """Rectified linear unit: ``max(x, 0)``, with Keras's optional leak, cap and threshold.

    Values below ``threshold`` become ``negative_slope * (x - threshold)``; values above
    are capped at ``max_value``.

    Example:
    >>> import tritonlayers as keras
    >>> keras.activations.relu([-10.0, -5.0, 0.0, 5.0, 10.0], max_value=5.0).tolist()
    [0.0, 0.0, 0.0, 5.0, 5.0]
    """
    x = _utils.floating(x)
    if negative_slope != 0.0 and max_value is None and threshold == 0.0:
        return torch.nn.functional.leaky_relu(x, negative_slope)
    negative_part = torch.relu(threshold - x) if negative_slope != 0.0 else None
    x = x * (x > threshold).to(x.dtype) if threshold != 0.0 else torch.relu(x)
    if max_value is not None:
        x = torch.clamp(x, 0.0, max_value)
    if negative_part is not None:
        x = x - negative_slope * negative_part
    return x


def relu6(x: Any) -> Tensor:
    """``min(max(x, 0), 6)``.

    Example: ``keras.activations.relu6([-1.0, 0.0, 2.0])``
    """
    return ops.relu6(x)


def leaky_relu(x: Any, negative_slope: float = 0.2) -> Tensor:
    """``x`` for ``x >= 0``, else ``negative_slope * x``.

    Example: ``keras.activations.leaky_relu([-1.0, 0.0, 2.0])``
    """
    return ops.leaky_relu(x, negative_slope)


def sigmoid(x: Any) -> Tensor:
    """``1 / (1 + exp(-x))``.

    Example: ``keras.activations.sigmoid([-1.0, 0.0, 2.0])``
    """
    return ops.sigmoid(x)


def tanh(x: Any) -> Tensor:
    """Hyperbolic tangent.

    Example: ``keras.activations.tanh([-1.0, 0.0, 2.0])``
    """
    return ops.tanh(x)


def softmax(x: Any, axis: int = -1) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``axis`` (an int or a tuple).

    Example: ``keras.activations.softmax([[1.0, 2.0, 3.0]])``
    """
    return ops.softmax(x, axis=axis)


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """``x - logsumexp(x)`` along ``axis``.

    Example: ``keras.activations.log_softmax([[1.0, 2.0, 3.0]])``
    """
    return ops.log_softmax(x, axis=axis)


def gelu(x: Any, approximate: bool = False) -> Tensor:
    """Gaussian error linear unit; exact (erf) unless ``approximate=True`` (tanh form).

    Example: ``keras.activations.gelu([-1.0, 0.0, 2.0])``
    """
    return ops.gelu(x, approximate=approximate)


def silu(x: Any) -> Tensor:
    """``x * sigmoid(x)``, also called swish.

    Example: ``keras.activations.silu([-1.0, 0.0, 2.0])``
    """
    return ops.silu(x)


swish = silu


def elu(x: Any, alpha: float = 1.0) -> Tensor:
    """``x`` for ``x > 0``, else ``alpha * (exp(x) - 1)``.

    Example: ``keras.activations.elu([-1.0, 0.0, 2.0])``
    """
    return ops.elu(x, alpha=alpha)


def selu(x: Any) -> Tensor:
    """Scaled ELU with the self-normalizing constants.

    Example: ``keras.activations.selu([-1.0, 0.0, 2.0])``
    """
    return ops.selu(x)


def celu(x: Any, alpha: float = 1.0) -> Tensor:
    """Continuously differentiable ELU.

    Example: ``keras.activations.celu([-1.0, 0.0, 2.0])``
    """
    return ops.celu(x, alpha=alpha)


def softplus(x: Any) -> Tensor:
    """``log(exp(x) + 1)``.

    Example: ``keras.activations.softplus([-1.0, 0.0, 2.0])``
    """
    return ops.softplus(x)


def softsign(x: Any) -> Tensor:
    """``x / (abs(x) + 1)``.

    Example: ``keras.activations.softsign([-1.0, 0.0, 2.0])``
    """
    return ops.softsign(x)


def hard_sigmoid(x: Any) -> Tensor:
    """Piecewise-linear sigmoid: 0 below -3, 1 above 3, ``x / 6 + 0.5`` between.

    Example: ``keras.activations.hard_sigmoid([-1.0, 0.0, 2.0])``
    """
    return ops.hard_sigmoid(x)


def hard_silu(x: Any) -> Tensor:
    """``x * hard_sigmoid(x)``, also called hard swish.

    Example: ``keras.activations.hard_silu([-1.0, 0.0, 2.0])``
    """
    return ops.hard_silu(x)


hard_swish = hard_silu


def log_sigmoid(x: Any) -> Tensor:
    """``log(sigmoid(x))``.

    Example: ``keras.activations.log_sigmoid([-1.0, 0.0, 2.0])``
    """
    return ops.log_sigmoid(x)


def glu(x: Any, axis: int = -1) -> Tensor:
    """Gated linear unit along ``axis``.

    Example: ``keras.activations.glu(keras.ops.ones((2, 4)))``
    """
    return ops.glu(x, axis=axis)


def mish(x: Any) -> Tensor:
    """``x * tanh(softplus(x))``.

    Example: ``keras.activations.mish([-1.0, 0.0, 2.0])``
    """
    x = _utils.floating(x)
    return torch.nn.functional.mish(x)


def exponential(x: Any) -> Tensor:
    """``exp(x)``.

    Example: ``keras.activations.exponential([-1.0, 0.0, 2.0])``
    """
    return ops.exp(x)


def hard_tanh(x: Any) -> Tensor:
    """``x`` clipped to [-1, 1].

    Example: ``keras.activations.hard_tanh([-3.0, 0.5])``
    """
    return ops.hard_tanh(x)


def hard_shrink(x: Any, threshold: float = 0.5) -> Tensor:
    """``x`` where ``|x| > threshold``, else 0.

    Example: ``keras.activations.hard_shrink([-1.0, 0.2])``
    """
    return ops.hard_shrink(x, threshold)


def soft_shrink(x: Any, threshold: float = 0.5) -> Tensor:
    """``x`` moved towards 0 by ``threshold`` (0 inside it).

    Example: ``keras.activations.soft_shrink([-1.0, 0.2])``
    """
    return ops.soft_shrink(x, threshold)


def tanh_shrink(x: Any) -> Tensor:
    """``x - tanh(x)``.

    Example: ``keras.activations.tanh_shrink([0.0, 2.0])``
    """
    return ops.tanh_shrink(x)


def threshold(x: Any, threshold: float, default_value: float) -> Tensor:
    """``x`` where ``x > threshold``, else ``default_value``.

    Example: ``keras.activations.threshold([0.5, 2.0], 1.0, 0.0)``
    """
    return ops.threshold(x, threshold, default_value)


def sparse_plus(x: Any) -> Tensor:
    """A smooth ReLU: 0, then ``(x + 1)**2 / 4`` on (-1, 1), then ``x``.

    Example: ``keras.activations.sparse_plus([-2.0, 0.0, 2.0])``
    """
    return ops.sparse_plus(x)


def sparse_sigmoid(x: Any) -> Tensor:
    """0 below -1, 1 above 1, linear between.

    Example: ``keras.activations.sparse_sigmoid([-2.0, 0.0, 2.0])``
    """
    return ops.sparse_sigmoid(x)


def squareplus(x: Any, b: float = 4) -> Tensor:
    """``(x + sqrt(x**2 + b)) / 2``.

    Example: ``keras.activations.squareplus([-1.0, 1.0])``
    """
    return ops.squareplus(x, b)


def sparsemax(x: Any, axis: int = -1) -> Tensor:
    """Projection onto the probability simplex along ``axis`` (a softmax with exact zeros).

    Example: ``keras.activations.sparsemax([[1.0, 2.0, 3.0]])``
    """
    return ops.sparsemax(x, axis=axis)


def linear(x: Any) -> Any:
    """The identity: returns ``x`` unchanged.

    Example: ``keras.activations.linear([-1.0, 0.0, 2.0])``
    """
    return x


_BUILTINS: dict[str, Callable] = {
    fn.__name__: fn
    for fn in (
        celu,
        elu,
        exponential,
        gelu,
        glu,
        hard_shrink,
        hard_sigmoid,
        hard_silu,
        hard_tanh,
        leaky_relu,
        linear,
        log_sigmoid,
        log_softmax,
        mish,
        relu,
        relu6,
        selu,
        sigmoid,
        silu,
        soft_shrink,
        softmax,
        softplus,
        softsign,
        sparse_plus,
        sparse_sigmoid,
        sparsemax,
        squareplus,
        tanh,
        tanh_shrink,
        threshold,
    )
}
_BUILTINS.update({"swish": silu, "hard_swish": hard_silu})


def serialize(activation: Callable) -> "str | dict":
    """The config of an activation: its name for a built-in, else a Keras config dict.

    Example:
    >>> import tritonlayers as keras
    >>> keras.activations.serialize(keras.activations.gelu)
    'gelu'
    """
    if isinstance(activation, types.FunctionType) and _BUILTINS.get(activation.__name__) is (
        activation
    ):
        return activation.__name__
    return serialization_lib.serialize_keras_object(activation)


def deserialize(config: "str | dict", custom_objects: "dict[str, Any] | None" = None) -> Callable:
    """The activation a ``serialize`` result names.

    Example:
    >>> import tritonlayers as keras
    >>> keras.activations.deserialize("silu") is keras.activations.silu
    True
    """
    return serialization_lib.deserialize_keras_object(
        config, custom_objects=custom_objects, module_objects=_BUILTINS
    )


def get(identifier: Any) -> Callable:
    """An activation from a name, a config dict or a callable; None gives ``linear``.

    Example:
    >>> import tritonlayers as keras
    >>> keras.activations.get(None) is keras.activations.linear
    True
    """
    if identifier is None:
        return linear
    fn = deserialize(identifier) if isinstance(identifier, (str, dict)) else identifier
    if callable(fn):
        return fn
    raise ValueError(
        f"Could not interpret activation function identifier: {identifier!r}. Expected one of "
        f"{sorted(_BUILTINS)}, a config dict, or a callable."
    )
