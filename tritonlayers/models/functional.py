"""The functional API: `Input(...)` and `Model(inputs, outputs)` over a graph of layer calls.

Calling layers on symbolic `KerasTensor`s records `Node`s (see `layers.symbolic`).
`Functional` walks back from the outputs to the inputs once, keeps the nodes in the order
they must run, and on every call replays them on real tensors. Inputs and outputs may be a
single tensor, a list or a dict.

Example:
>>> import tritonlayers as keras
>>> inputs = keras.Input(shape=(3,), name="features")
>>> outputs = keras.layers.Dense(2)(inputs)
>>> model = keras.Model(inputs, outputs)
>>> type(model).__name__, tuple(model(keras.ops.ones((4, 3))).shape)
('Functional', (4, 2))
"""

import warnings
from typing import Any

import numpy as np
import torch

from ..dtype_policies import _TORCH_DTYPES
from ..layers import Layer
from ..layers.call_errors import input_check_error
from ..layers.core import InputLayer
from ..layers.symbolic import KerasTensor, Node, is_keras_tensor
from . import tree
from .model import Model


def Input(
    shape: Any = None,
    batch_size: "int | None" = None,
    dtype: Any = None,
    sparse: "bool | None" = None,
    batch_shape: Any = None,
    name: "str | None" = None,
    tensor: Any = None,
    optional: bool = False,
) -> KerasTensor:
    """A symbolic input for a functional model: `shape` excludes the batch dimension.

    Example:
    >>> import tritonlayers as keras
    >>> x = keras.Input(shape=(28, 28), dtype="float16")
    >>> x.shape, x.dtype
    ((None, 28, 28), 'float16')
    """
    layer = InputLayer(
        shape=shape,
        batch_size=batch_size,
        dtype=dtype,
        sparse=sparse,
        batch_shape=batch_shape,
        input_tensor=tensor,
        optional=optional,
        name=name,
    )
    return layer.output


class _Step:
    """One node to replay: its layer, where its arguments come from, where outputs go."""

    __slots__ = ("layer", "args", "kwargs", "simple_input", "outputs")

    def __init__(self, node: Node):
        self.layer = node.operation
        self.args = node.call_args
        self.kwargs = node.call_kwargs
        self.outputs = [id(t) for t in node.outputs]
        only = node.call_args[0] if len(node.call_args) == 1 else None
        self.simple_input = id(only) if is_keras_tensor(only) and not node.call_kwargs else None


def _resolve(value: Any, values: dict) -> Any:
    if is_keras_tensor(value):
        return values[id(value)]
    if isinstance(value, (list, tuple)):
        return type(value)(_resolve(v, values) for v in value)
    if isinstance(value, dict):
        return {k: _resolve(v, values) for k, v in value.items()}
    return value


def _warn_mismatched_input_keys(inputs: dict) -> None:
    """Keras 3.15 warns when a key of a dict of inputs is not its `Input`'s name."""
    for key, tensor in inputs.items():
        if is_keras_tensor(tensor) and key != tensor.name:
            warnings.warn(
                "When providing `inputs` as a dict, all keys in the dict must match the names "
                f"of the corresponding tensors. Received key '{key}' mapping to value {tensor} "
                f"which has name '{tensor.name}'. Change the tensor name to '{key}' (via "
                f"`Input(..., name='{key}')`)",
                stacklevel=3,
            )


class Functional(Model):
    """A model defined by a graph of layer calls from `inputs` to `outputs`.

    Args:
        inputs: the `Input` tensor(s): one, a list, or a dict.
        outputs: the tensor(s) computed from them: one, a list, or a dict.
        name: the model name (when not given, the class name in snake case made unique:
            "functional", "functional_1", ...).
    """

    def __init__(self, inputs: Any, outputs: Any, name: "str | None" = None, **kwargs: Any):
        # A subclass with its own `__init__`, rebuilt as `cls(**config)`, passes its config's
        # graph keys up: it built its graph itself, and Keras ignores them too.
        for key in ("layers", "input_layers", "output_layers"):
            kwargs.pop(key, None)
        # Unnamed, it is named after its class as any layer is: `functional`, or
        # `custom_model` for a `CustomModel(inputs, outputs)` subclass (as in Keras).
        Layer.__init__(self, name=name, **kwargs)
        self._init_trainer()
        if isinstance(inputs, dict):
            inputs = dict(inputs)
            _warn_mismatched_input_keys(inputs)
        elif isinstance(inputs, list):
            inputs = list(inputs)
        for role, structure in (("inputs", inputs), ("outputs", outputs)):
            for leaf in tree.flatten(structure):
                if not is_keras_tensor(leaf) or leaf._keras_history is None:
                    raise ValueError(
                        f"All `{role}` of a functional model must be KerasTensors made by "
                        f"`keras.Input` or by calling layers on them. Received: {leaf!r} "
                        f"(of type {type(leaf).__name__})"
                    )
        self.__dict__.update(
            _inputs_struct=inputs,
            _outputs_struct=outputs,
            _inputs=tree.flatten(inputs),
            _outputs=tree.flatten(outputs),
        )
        nodes = _nodes_between(self._inputs, self._outputs, self.name)
        self.__dict__["_graph_nodes"] = nodes
        self.__dict__["_steps"] = [_Step(node) for node in nodes]
        layers = [t._keras_history.operation for t in self._inputs]
        for node in nodes:
            if all(node.operation is not layer for layer in layers):
                layers.append(node.operation)
        self._graph_layers = _in_keras_layer_order(layers, self._inputs, self._outputs, nodes)
        self.built = True

    # ------------------------------------------------------------------ structure

    @property
    def layers(self) -> "list[Layer]":
        """The graph's layers, deepest first, as Keras lists them. Operations called on
        KerasTensors (`x * 2`, `ops.concatenate`) are not layers in Keras: they are listed
        by `operations` (and the summary) only.

        Example:
        >>> import tritonlayers as keras
        >>> inputs = keras.Input((2,), name="x")
        >>> outputs = keras.layers.Dense(1, name="d")(inputs * 2.0)
        >>> model = keras.Model(inputs, outputs)
        >>> [layer.name for layer in model.layers], len(model.operations)
        (['x', 'd'], 3)
        """
        from ..ops.symbolic import OpLayer

        return [layer for layer in super().layers if not isinstance(layer, OpLayer)]

    @property
    def operations(self) -> "list[Layer]":
        """Every layer and operation of the graph, in the order of `layers`."""
        return super().layers

    @property
    def inputs(self) -> list:
        """The flat list of input KerasTensors."""
        return list(self._inputs)

    @property
    def outputs(self) -> list:
        """The flat list of output KerasTensors."""
        return list(self._outputs)

    @property
    def input(self) -> Any:
        """The inputs as given to the constructor."""
        return self._inputs_struct

    @property
    def output(self) -> Any:
        """The outputs as given to the constructor."""
        return self._outputs_struct

    @property
    def input_names(self) -> list:
        return [t._keras_history.operation.name for t in self._inputs]

    @property
    def output_names(self) -> list:
        return [t._keras_history.operation.name for t in self._outputs]

    @property
    def input_shape(self) -> Any:
        shapes = [t.shape for t in self._inputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_shape(self) -> Any:
        shapes = [t.shape for t in self._outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    # ------------------------------------------------------------------ running

    def call(self, inputs: Any, training: "bool | None" = None, mask: Any = None) -> Any:
        # A `training=` given to a layer when the graph was built (`base_model(x,
        # training=False)`) wins over this call's `training`, as the transfer-learning guide
        # describes (Keras 3.15 itself lets the outer flag override it).
        flat_inputs = self._standardize_inputs(inputs)
        if mask is not None:
            # As Keras, masks given with the inputs (or carried by them) reach the inner graph.
            for x, input_mask in zip(flat_inputs, tree.flatten(mask)):
                if input_mask is not None and isinstance(x, torch.Tensor):
                    x._keras_mask = input_mask
        values = {id(t): x for t, x in zip(self._inputs, flat_inputs)}
        for step in self._steps:
            if step.simple_input is not None:
                outputs = step.layer(values[step.simple_input])
            else:
                args = _resolve(step.args, values)
                kwargs = _resolve(step.kwargs, values)
                outputs = step.layer(*args, **kwargs)
            if len(step.outputs) == 1 and not isinstance(outputs, (list, tuple, dict)):
                values[step.outputs[0]] = outputs
            else:
                for key, value in zip(step.outputs, tree.flatten(outputs)):
                    values[key] = value
        flat = [values[id(t)] for t in self._outputs]
        # As Keras, one output given in a list or tuple comes back alone (a dict stays).
        if len(flat) == 1 and not isinstance(self._outputs_struct, dict):
            return flat[0]
        return tree.pack_as(self._outputs_struct, flat)

    def compute_output_spec(
        self, inputs: Any, training: "bool | None" = None, mask: Any = None
    ) -> Any:
        """Output KerasTensors found layer by layer along the graph, as Keras does.

        No stand-in values run through the whole model, so an inner layer that cannot take
        them (an `Embedding` fed positions past its `input_dim`) still gets its own spec.

        Example:
        >>> import tritonlayers as keras
        >>> x = keras.Input((3,))
        >>> inner = keras.Model(x, keras.layers.Dense(2)(x))
        >>> inner(keras.Input((3,))).shape
        (None, 2)
        """
        if isinstance(inputs, dict) and isinstance(self._inputs_struct, dict):
            flat = [inputs.get(key) for key in sorted(self._inputs_struct)]
        else:
            flat = tree.flatten(inputs)
        if len(flat) != len(self._inputs) or not all(is_keras_tensor(x) for x in flat):
            # Wrong inputs: the traced call raises Keras's input-check errors.
            return super().compute_output_spec(inputs, training=training, mask=mask)
        values = {
            id(spec): x if x.dtype == spec.dtype else KerasTensor(tuple(x.shape), spec.dtype)
            for spec, x in zip(self._inputs, flat)
        }
        for step in self._steps:
            if step.simple_input is not None:
                outputs = step.layer.compute_output_spec(values[step.simple_input])
            else:
                args = _resolve(step.args, values)
                kwargs = _resolve(step.kwargs, values)
                outputs = step.layer.compute_output_spec(*args, **kwargs)
            for key, value in zip(step.outputs, tree.flatten(outputs)):
                values[key] = value
        # Fresh tensors: as in Keras, masks made inside do not come out with the outputs.
        flat = [KerasTensor(tuple(values[id(t)].shape), values[id(t)].dtype) for t in self._outputs]
        if len(flat) == 1 and not isinstance(self._outputs_struct, dict):
            return flat[0]
        return tree.pack_as(self._outputs_struct, flat)

    def _warn_inputs_struct_mismatch(self, inputs: dict) -> None:
        """Keras 3.15's warning for a dict of inputs with keys the model does not take."""
        expected = {key: t.name for key, t in self._inputs_struct.items()}
        received = {key: f"Tensor(shape={tuple(np.shape(v))})" for key, v in inputs.items()}
        warnings.warn(
            "The structure of `inputs` doesn't match the expected structure.\n"
            f"Expected: {expected}\nReceived: inputs={received}",
            stacklevel=4,
        )

    def _standardize_inputs(self, inputs: Any) -> list:
        """The inputs as a flat list aligned with `self._inputs`, counts and shapes checked
        with Keras's messages (a trailing axis of 1 is added or dropped to match)."""
        names = self.input_names
        keys = sorted(self._inputs_struct) if isinstance(self._inputs_struct, dict) else names
        if isinstance(inputs, dict):
            missing = [key for key in keys if key not in inputs]
            if missing:
                raise input_check_error(
                    self,
                    f'Missing data for input "{missing[0]}". You passed a data dictionary with '
                    f"keys {list(inputs)}. Expected the following keys: {keys}",
                )
            if isinstance(self._inputs_struct, dict) and set(inputs) - set(keys):
                self._warn_inputs_struct_mismatch(inputs)
            flat = [inputs[key] for key in keys]
        else:
            flat = tree.flatten(inputs)
        if len(flat) != len(self._inputs):
            # Every input is named (by its Input layer or dict key), so Keras always gives
            # the named form of this message, for list inputs too.
            raise input_check_error(
                self,
                f'Layer "{self.name}" expects {len(self._inputs)} named input(s) with keys '
                f"{keys}, but it received {len(flat)} input tensors. Pass inputs as a dict, "
                "e.g. `layer({" + ", ".join(f"'{k}': ..." for k in keys) + "})`.",
            )
        for index, (x, spec) in enumerate(zip(flat, self._inputs)):
            _check_input_shape(self, x, spec, index)
        return [
            cast_to_input_dtype(_adjust_rank(x, spec, self._input_path(index)), spec.dtype)
            for index, (x, spec) in enumerate(zip(flat, self._inputs))
        ]

    def _input_path(self, index: int) -> str:
        """Where input `index` sits in the structure the model was built with ('' alone)."""
        if isinstance(self._inputs_struct, dict):
            return str(sorted(self._inputs_struct)[index])
        return str(index) if isinstance(self._inputs_struct, (list, tuple)) else ""

    # ------------------------------------------------------------------ config

    def get_config(self) -> dict:
        """Keras 3's functional config: layers with their inbound nodes, input/output refs."""
        from ..saving import serialize_keras_object

        node_ids = {id(node) for node in self._graph_nodes}
        # Number every layer's nodes first: a node's arguments may come from a later call of
        # a layer listed earlier (a shared layer reused downstream).
        kept_nodes, node_index = {}, {}
        for layer in self._graph_layers:
            kept = [n for n in layer._inbound_nodes if id(n) in node_ids or n.is_input]
            kept_nodes[id(layer)] = kept
            for new_index, node in enumerate(kept):
                node_index[id(node)] = new_index
        layer_configs = []
        for layer in self._graph_layers:
            kept = kept_nodes[id(layer)]
            config = serialize_keras_object(layer)
            config["name"] = layer.name
            config["inbound_nodes"] = [
                {
                    "args": _serialize_node_value(node.call_args, node_index),
                    "kwargs": _serialize_node_value(node.call_kwargs, node_index),
                }
                for node in kept
                if not node.is_input
            ]
            layer_configs.append(config)

        def ref(tensor):
            history = tensor._keras_history
            node = history.operation._inbound_nodes[history.node_index]
            return [history.operation.name, node_index[id(node)], history.tensor_index]

        return {
            "name": self.name,
            "trainable": self.trainable,
            "layers": layer_configs,
            "input_layers": _refs(self._inputs_struct, ref),
            "output_layers": _refs(self._outputs_struct, ref),
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects: "dict | None" = None) -> "Functional":
        """Rebuild the graph: create every layer, then replay its inbound nodes in order.

        A subclass whose own `__init__` builds the graph (not `(inputs, outputs, name)`)
        is instead called with the config as keyword arguments, as Keras does.
        """
        from ..saving import deserialize_keras_object
        from .model import _revivable

        if not _revivable(cls):
            return super(Model, cls).from_config(config)
        created, tensors, pending = {}, {}, []
        for layer_data in config["layers"]:
            layer_data = dict(layer_data)
            name = layer_data.pop("name", None) or layer_data["config"].get("name")
            inbound = layer_data.pop("inbound_nodes", [])
            layer = deserialize_keras_object(layer_data, custom_objects=custom_objects)
            created[name] = layer
            if isinstance(layer, InputLayer):
                tensors[(name, 0, 0)] = layer.output
            pending.extend((name, node_data) for node_data in inbound)
        node_counts = {
            name: 1 if isinstance(layer, InputLayer) else 0 for name, layer in created.items()
        }
        while pending:
            progress = False
            for item in list(pending):
                name, node_data = item
                refs = _collect_refs(node_data)
                if not all(tuple(r) in tensors for r in refs):
                    continue
                args = _deserialize_node_value(node_data.get("args", []), tensors)
                kwargs = _deserialize_node_value(node_data.get("kwargs", {}), tensors)
                outputs = created[name](*args, **kwargs)
                for index, output in enumerate(tree.flatten(outputs)):
                    tensors[(name, node_counts[name], index)] = output
                node_counts[name] += 1
                pending.remove(item)
                progress = True
            if not progress:
                raise ValueError(
                    "Could not rebuild the functional model: the inbound nodes of layers "
                    f"{sorted({name for name, _ in pending})} refer to tensors that no layer "
                    "produces."
                )

        def lookup(ref):
            return tensors[(ref[0], ref[1], ref[2])]

        inputs = _from_refs(config["input_layers"], lookup)
        outputs = _from_refs(config["output_layers"], lookup)
        return cls(
            inputs, outputs, name=config.get("name"), trainable=config.get("trainable", True)
        )


def cast_to_input_dtype(x: Any, dtype: Any) -> Any:
    """`x` in its `Input`'s dtype when `x` is a bool or integer tensor, as Keras's models
    convert every input to its `Input` dtype (a one-hot bool array reaches an `LSTM` as
    float32). Float tensors keep the layer's own conversion (the compute dtype).

    Example:
    >>> cast_to_input_dtype(torch.tensor([True, False]), "float32")
    tensor([1., 0.])
    """
    if not isinstance(x, torch.Tensor) or x.is_floating_point() or x.is_complex():
        return x
    target = _TORCH_DTYPES.get(dtype) if isinstance(dtype, str) else None
    return x if target is None or x.dtype == target else x.to(target)


def _check_input_shape(model: Functional, x: Any, spec: KerasTensor, index: int) -> None:
    """Keras's input check of a functional model: the sizes of the input and of its `Input`
    are compared axis by axis (the batch axis, and a trailing axis of size 1 on either side,
    left out); a rank that differs is left to `_adjust_rank`."""
    shape = tuple(getattr(x, "shape", ()))
    expected = (None, *spec.shape[1:]) if spec.shape else tuple(spec.shape)
    found = shape[:-1] if shape and shape[-1] == 1 else shape
    compared = expected[:-1] if expected and expected[-1] == 1 else expected
    if any(e is not None and f is not None and e != f for e, f in zip(compared, found)):
        raise input_check_error(
            model,
            f"Input {index} with name '{spec._keras_history.operation.name}' of layer "
            f"'{model.name}' is incompatible with the layer: expected shape={expected}, "
            f"found shape={found}",
        )


def _adjust_rank(x: Any, spec: KerasTensor, path: str) -> Any:
    """Drop or add a trailing axis of size 1 so that `x` has the rank of its `Input`, as
    Keras does; any other difference of rank raises Keras's error."""
    shape = tuple(getattr(x, "shape", ()))
    rank = len(spec.shape)
    if len(shape) == rank:
        return x
    if len(shape) == rank + 1 and shape[-1] == 1:
        return x.squeeze(-1)
    if len(shape) == rank - 1 and spec.shape[-1] == 1:
        return x[..., None]
    raise ValueError(
        f"Invalid input shape for input {x} with name '{spec.name}' and path '{path}'. "
        f"Expected shape {tuple(spec.shape)}, but input has incompatible shape {x.shape}"
    )


def _nodes_between(inputs: list, outputs: list, model_name: str) -> list:
    """The nodes from `inputs` to `outputs` in an order where each runs after its parents;
    raises when an output depends on an input tensor the model was not given."""
    input_ids = {id(t) for t in inputs}
    order, visited, visiting = [], set(), set()

    def visit(tensor):
        if id(tensor) in input_ids:
            return
        layer, node_index, _ = tensor._keras_history
        node = layer._inbound_nodes[node_index]
        if node.is_input:
            raise ValueError(
                f"Graph disconnected in model '{model_name}': cannot obtain value for tensor "
                f'{tensor!r} at layer "{layer.name}". The following previous layers were '
                "accessed without issue: "
                f"{[n.operation.name for n in order]}"
            )
        if id(node) in visited:
            return
        if id(node) in visiting:
            raise ValueError(f"Model '{model_name}' has a cycle through layer '{layer.name}'.")
        visiting.add(id(node))
        for parent_tensor in node.input_tensors:
            visit(parent_tensor)
        visiting.discard(id(node))
        visited.add(id(node))
        order.append(node)

    for tensor in outputs:
        visit(tensor)
    return order


def _in_keras_layer_order(layers: list, inputs: list, outputs: list, nodes: list) -> list:
    """`layers` in the order Keras lists a functional model's layers (so `model.layers`,
    `weights` and the summary rows): by decreasing depth, a layer's depth being its longest
    distance to an output, and at equal depth in the order a depth-first walk from the
    outputs first reaches them. Unconnected inputs come last."""
    input_ids = {id(t) for t in inputs}
    first_reached: dict = {}

    def walk(tensor, done: set) -> None:
        layer, node_index, _ = tensor._keras_history
        node = layer._inbound_nodes[node_index]
        if id(node) in done:
            return
        first_reached.setdefault(id(layer), len(first_reached))
        done.add(id(node))
        if id(tensor) not in input_ids:
            for parent in node.input_tensors:
                walk(parent, done)

    done: set = set()
    for tensor in outputs:
        walk(tensor, done)
    input_nodes = [
        t._keras_history.operation._inbound_nodes[t._keras_history.node_index] for t in inputs
    ]
    in_graph = {id(node) for node in nodes}
    in_graph.update(id(node) for node in input_nodes if node.is_input)
    node_depth: dict = {}
    layer_depth: dict = {}
    for node in reversed(nodes):
        depth = max(node_depth.get(id(node), 0), layer_depth.get(id(node.operation), 0))
        layer_depth[id(node.operation)] = node_depth[id(node)] = depth
        for parent in node.parent_nodes:
            if id(parent) in in_graph:
                node_depth[id(parent)] = max(depth + 1, node_depth.get(id(parent), 0))
    for node in input_nodes:
        layer_depth.setdefault(id(node.operation), node_depth.get(id(node), 0))
    return sorted(
        layers,
        key=lambda layer: (-layer_depth.get(id(layer), 0), first_reached.get(id(layer), -1)),
    )


def _serialize_node_value(value: Any, node_index: dict) -> Any:
    if is_keras_tensor(value):
        history = value._keras_history
        node = history.operation._inbound_nodes[history.node_index]
        return {
            "class_name": "__keras_tensor__",
            "config": {
                "shape": list(value.shape),
                "dtype": value.dtype,
                "keras_history": [
                    history.operation.name,
                    node_index[id(node)],
                    history.tensor_index,
                ],
            },
        }
    if isinstance(value, (list, tuple)):
        return [_serialize_node_value(v, node_index) for v in value]
    if isinstance(value, dict):
        return {k: _serialize_node_value(v, node_index) for k, v in value.items()}
    from ..saving import serialize_keras_object

    return serialize_keras_object(value)


def _is_tensor_ref(value: Any) -> bool:
    return isinstance(value, dict) and value.get("class_name") == "__keras_tensor__"


def _collect_refs(value: Any) -> list:
    if _is_tensor_ref(value):
        return [tuple(value["config"]["keras_history"])]
    if isinstance(value, (list, tuple)):
        return [r for v in value for r in _collect_refs(v)]
    if isinstance(value, dict):
        return [r for v in value.values() for r in _collect_refs(v)]
    return []


def _deserialize_node_value(value: Any, tensors: dict) -> Any:
    if _is_tensor_ref(value):
        return tensors[tuple(value["config"]["keras_history"])]
    if isinstance(value, (list, tuple)):
        return [_deserialize_node_value(v, tensors) for v in value]
    if isinstance(value, dict) and "class_name" not in value:
        return {k: _deserialize_node_value(v, tensors) for k, v in value.items()}
    from ..saving import deserialize_keras_object

    return deserialize_keras_object(value)


def _refs(structure: Any, ref) -> Any:
    if isinstance(structure, dict):
        return {key: ref(value) for key, value in structure.items()}
    if isinstance(structure, (list, tuple)):
        return type(structure)(ref(t) for t in structure)
    return ref(structure)


def _from_refs(refs: Any, lookup) -> Any:
    if isinstance(refs, dict):
        return {key: lookup(ref) for key, ref in refs.items()}
    if refs and isinstance(refs[0], (list, tuple)):
        return type(refs)(lookup(ref) for ref in refs)  # a tuple stays a tuple, as in Keras
    return lookup(refs)
