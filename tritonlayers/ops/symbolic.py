"""Ops on symbolic tensors: ``keras.ops.concatenate([a, b])`` inside a functional model.

When an op gets a ``KerasTensor``, it is wrapped in an ``OpLayer``: a layer whose ``call``
runs the op, recorded as a node of the functional graph like any other layer. The layer's
config names the op and its constant arguments; loading looks the op up in
``tritonlayers.ops`` only.

This module is imported on the first symbolic op call (it needs ``tritonlayers.layers``,
which itself uses ``ops``).

Example:
>>> import tritonlayers as keras
>>> x = keras.Input((3,))
>>> y = keras.ops.concatenate([x, keras.ops.square(x)], axis=-1)
>>> y.shape
(None, 6)
"""

import inspect
from typing import Any

from ..layers.layer import Layer
from ..layers.naming import unique_name
from ..layers.nest import flatten
from ..layers.symbolic import is_keras_tensor, symbolic_call
from ..saving import serialization_lib

# Ops that take Python callables: they cannot become graph nodes.
_NOT_SYMBOLIC = frozenset(
    {
        "associative_scan",
        "cond",
        "custom_gradient",
        "fori_loop",
        "jvp",
        "map",
        "scan",
        "switch",
        "vectorize",
        "vectorized_map",
        "while_loop",
    }
)


def _op(name: str):
    from .. import ops

    namespace = ops
    if isinstance(name, str) and name.startswith("image."):
        namespace, name = ops.image, name[len("image.") :]
    fn = getattr(namespace, name, None) if isinstance(name, str) else None
    if name not in namespace.__all__ or name in _NOT_SYMBOLIC or not callable(fn):
        raise serialization_lib.DeserializationError(
            f"OpLayer: {name!r} is not a tritonlayers.ops function that can be a graph node."
        )
    return fn


class OpLayer(Layer):
    """A ``tritonlayers.ops`` function as a layer (made by ops called on KerasTensors).

    Args:
        function: the op's name in ``tritonlayers.ops``.
        tensor_arguments: the names of the op's parameters that receive the layer's inputs,
            in order (a ``*args`` parameter receives a list).
        arguments: the op's other (constant) arguments, by name.

    Example:
    >>> import tritonlayers as keras
    >>> from tritonlayers.ops.symbolic import OpLayer
    >>> OpLayer("add", ["x1"], {"x2": 1.0})(keras.ops.zeros((2,))).tolist()
    [1.0, 1.0]
    """

    def __init__(
        self,
        function: str,
        tensor_arguments: "list[str]",
        arguments: "dict[str, Any] | None" = None,
        **kwargs: Any,
    ):
        kwargs.setdefault("name", unique_name(function.replace(".", "_")))
        super().__init__(**kwargs)
        self._fn = _op(function)
        self.function = function
        self.tensor_arguments = list(tensor_arguments)
        self.arguments = dict(arguments or {})
        parameters = inspect.signature(self._fn).parameters.values()
        kinds = {p.name: p.kind for p in parameters}
        self._star = next(
            (n for n, k in kinds.items() if k is inspect.Parameter.VAR_POSITIONAL), None
        )
        self._leading = [
            n for n, k in kinds.items() if k is inspect.Parameter.POSITIONAL_OR_KEYWORD
        ]
        self._star_star = next(
            (n for n, k in kinds.items() if k is inspect.Parameter.VAR_KEYWORD), None
        )

    def build(self, *input_shapes: Any) -> None:
        """Nothing to create: an op has no weights."""

    def compute_output_spec(self, *inputs: Any, **kwargs: Any) -> Any:
        # Ops that cannot be traced on fake tensors (CTC's kernels, a host-side beam
        # search) describe their outputs with an `output_spec` function of the arguments.
        output_spec = getattr(self._fn, "output_spec", None)
        if output_spec is None:
            return super().compute_output_spec(*inputs, **kwargs)
        return output_spec(**{**self.arguments, **dict(zip(self.tensor_arguments, inputs))})

    def call(self, *inputs: Any) -> Any:
        values = {**self.arguments, **dict(zip(self.tensor_arguments, inputs))}
        if self._star_star is not None:  # a **kwargs op (rearrange's axis lengths)
            values.update(values.pop(self._star_star, {}))
        if self._star is None:
            return self._fn(**values)
        # A *args op (einsum): the parameters before it go by position, then the list.
        leading = [values.pop(name) for name in self._leading if name in values]
        return self._fn(*leading, *values.pop(self._star, ()), **values)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "function": self.function,
            "tensor_arguments": self.tensor_arguments,
            "arguments": serialization_lib.serialize_keras_object(self.arguments),
        }

    @classmethod
    def from_config(cls, config: dict) -> "OpLayer":
        config = dict(config)
        config["arguments"] = serialization_lib.deserialize_keras_object(config.get("arguments"))
        return super().from_config(config)


def symbolic_op_call(fn: Any, args: tuple, kwargs: dict) -> Any:
    """Record ``fn(*args, **kwargs)`` (some arguments KerasTensors) as an OpLayer node."""
    name = fn.__name__
    if fn.__module__ == "tritonlayers.ops.image":
        name = f"image.{name}"
    if name in _NOT_SYMBOLIC:
        raise ValueError(
            f"keras.ops.{name} takes Python functions and cannot run on symbolic tensors; "
            "call it inside a layer's call() instead."
        )
    bound = inspect.signature(fn).bind(*args, **kwargs)
    tensor_names, tensors, constants = [], [], {}
    for param, value in bound.arguments.items():
        if any(is_keras_tensor(leaf) for leaf in flatten(value)):
            tensor_names.append(param)
            tensors.append(list(value) if isinstance(value, tuple) else value)
        else:
            constants[param] = value
    layer = OpLayer(name, tensor_names, constants)
    return symbolic_call(layer, tuple(tensors), {})
