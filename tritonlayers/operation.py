"""`keras.Operation` and `keras.Function`.

In Keras every layer is an `Operation`: something called eagerly on tensors or
symbolically on `KerasTensor`s, where it records a node of a graph. Here `Operation` is the
weightless base of that contract: a subclass implements `call` and is a `Layer` without
variables, and `isinstance(layer, keras.Operation)` holds for every layer, as in Keras.

`Function` captures the graph from some KerasTensors to others and replays it on real
values. Unlike a functional `Model` it tracks no state: it owns no weights of its own and
offers no training API.

Example:
>>> import numpy as np
>>> import tritonlayers as keras
>>> a, b = keras.KerasTensor((None, 3)), keras.KerasTensor((None, 3))
>>> fn = keras.Function([a, b], keras.ops.sigmoid(a + b))
>>> fn([np.zeros((2, 3), "float32"), np.zeros((2, 3), "float32")]).tolist()
[[0.5, 0.5, 0.5], [0.5, 0.5, 0.5]]
>>> isinstance(keras.layers.Dense(2), keras.Operation)
True
"""

from typing import Any

from .layers import Layer
from .layers.symbolic import is_keras_tensor
from .models import tree
from .models.functional import _nodes_between, _resolve, _Step

__all__ = ["Function", "Operation"]


class _OperationType(type):
    """Makes every `Layer` count as an `Operation` (Keras's layers derive from it)."""

    def __instancecheck__(cls, instance: Any) -> bool:
        if cls is Operation:
            return isinstance(instance, Layer)
        return super().__instancecheck__(instance)

    def __subclasscheck__(cls, subclass: type) -> bool:
        if cls is Operation:
            return issubclass(subclass, Layer)
        return super().__subclasscheck__(subclass)


class Operation(Layer, metaclass=_OperationType):
    """A computation without weights: implement `call`; calling it on KerasTensors records
    a graph node (its output shapes come from tracing `call`, or from
    `compute_output_shape` when defined).

    Args:
        name: the operation's name (snake_case of the class name, made unique, if None).

    Example:
    >>> import tritonlayers as keras
    >>> class Double(keras.Operation):
    ...     def call(self, x):
    ...         return x * 2
    >>> Double()(keras.ops.ones((2,))).tolist()
    [2.0, 2.0]
    >>> Double()(keras.KerasTensor((None, 4))).shape
    (None, 4)
    """

    def __init__(self, name: "str | None" = None, **kwargs: Any):
        super().__init__(name=name, **kwargs)


class Function(Operation):
    """The graph of operations from `inputs` to `outputs`, callable on new values.

    Args:
        inputs: a KerasTensor or a nested structure (list, tuple, dict) of them.
        outputs: the KerasTensor(s) computed from `inputs` only.
        name: the function's name.

    Example:
    >>> import tritonlayers as keras
    >>> x = keras.Input((4,))
    >>> fn = keras.Function(x, keras.ops.relu(x - 1.0))
    >>> fn(keras.ops.ones((1, 4)) * 3).tolist()
    [[2.0, 2.0, 2.0, 2.0]]
    """

    def __init__(self, inputs: Any, outputs: Any, name: "str | None" = None):
        super().__init__(name=name)
        flat_inputs, flat_outputs = tree.flatten(inputs), tree.flatten(outputs)
        if not flat_inputs:
            raise ValueError(
                f"`inputs` argument cannot be empty. Received:\ninputs={inputs}\noutputs={outputs}"
            )
        if not flat_outputs:
            raise ValueError(
                f"`outputs` argument cannot be empty. Received:\ninputs={inputs}\noutputs={outputs}"
            )
        for role, leaves in (("inputs", flat_inputs), ("outputs", flat_outputs)):
            for leaf in leaves:
                if not is_keras_tensor(leaf):
                    raise ValueError(
                        f"Function '{self.name}': all `{role}` must be KerasTensors. "
                        f"Received: {leaf!r} (of type {type(leaf).__name__})"
                    )
        input_ids = {id(t) for t in flat_inputs}
        for leaf in flat_outputs:
            if id(leaf) not in input_ids and leaf._keras_history is None:
                raise ValueError(
                    f"Function '{self.name}': output {leaf!r} was not computed from the "
                    "inputs (it has no operation history)."
                )
        nodes = _nodes_between(flat_inputs, flat_outputs, self.name)
        # Kept out of torch.nn.Module's tracking: a Function owns no layers or weights.
        self.__dict__.update(
            _inputs_struct=inputs,
            _outputs_struct=outputs,
            _inputs=flat_inputs,
            _outputs=flat_outputs,
            _steps=[_Step(node) for node in nodes],
            _operations=_unique(
                [t._keras_history.operation for t in flat_inputs if t._keras_history is not None]
                + [n.operation for n in nodes]
            ),
        )
        self.built = True

    @property
    def operations(self) -> list:
        """The operations (layers) of the graph, inputs' first, then in running order."""
        return list(self._operations)

    @property
    def inputs(self) -> list:
        """The flat list of symbolic inputs."""
        return list(self._inputs)

    @property
    def outputs(self) -> list:
        """The flat list of symbolic outputs."""
        return list(self._outputs)

    def call(self, inputs: Any) -> Any:
        """Run the graph on `inputs`, nested like the `inputs` given to the constructor."""
        flat = tree.flatten(inputs)
        if len(flat) != len(self._inputs):
            raise ValueError(
                f"Function '{self.name}' expects {len(self._inputs)} input(s) nested like "
                f"{self._inputs_struct!r}; received {len(flat)}."
            )
        values = {id(t): x for t, x in zip(self._inputs, flat)}
        for step in self._steps:
            outputs = step.layer(*_resolve(step.args, values), **_resolve(step.kwargs, values))
            if len(step.outputs) == 1:
                values[step.outputs[0]] = tree.flatten(outputs)[0]
            else:
                values.update(zip(step.outputs, tree.flatten(outputs)))
        return tree.pack_as(self._outputs_struct, [values[id(t)] for t in self._outputs])

    def get_config(self) -> dict:
        raise TypeError(
            f"Function '{self.name}' cannot be serialized: its graph is made of tensors, not "
            "of configuration. Save a functional `keras.Model(inputs, outputs)` instead."
        )


def _unique(items: list) -> list:
    kept = []
    for item in items:
        if all(item is not other for other in kept):
            kept.append(item)
    return kept
