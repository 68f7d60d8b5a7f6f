"""`clone_model`: the same architecture with new, freshly initialized layers.

Example:
>>> import tritonlayers as keras
>>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="head")])
>>> twin = keras.models.clone_model(model)
>>> [layer.name for layer in twin.layers], twin.layers[0] is model.layers[0]
(['head'], False)
"""

from collections.abc import Callable
from typing import Any

from ..layers import Layer
from ..layers.symbolic import is_keras_tensor
from ..saving import deserialize_keras_object, serialize_keras_object
from . import tree
from .functional import Functional, Input
from .sequential import Sequential


def _fresh_copy(layer: Layer) -> Layer:
    return type(layer).from_config(layer.get_config())


def clone_model(
    model: Any,
    input_tensors: Any = None,
    clone_function: "Callable[[Layer], Layer] | None" = None,
) -> Any:
    """A new model with the architecture of `model` and newly created weights.

    Args:
        model: a Sequential or functional model (a subclassed model is rebuilt from its
            `get_config()`).
        input_tensors: symbolic inputs to build the clone on, instead of new `Input`s.
        clone_function: maps each layer of `model` to the layer the clone uses; by default
            a layer of the same class made from its config.
    """
    clone_function = clone_function or _fresh_copy
    if isinstance(model, Sequential):
        layers = [clone_function(layer) for layer in model.layers]
        if input_tensors is not None:
            clone = Sequential([*tree.flatten(input_tensors)[:1], *layers], name=model.name)
        else:
            clone = Sequential(layers, name=model.name)
            if model.built and clone.layers and not clone.built:
                clone.build(model.input_shape)
        if not model.trainable:
            clone.trainable = False
        return _compiled_like(clone, model)
    if isinstance(model, Functional):
        return _compiled_like(_clone_functional(model, input_tensors, clone_function), model)
    if input_tensors is not None or clone_function is not _fresh_copy:
        raise ValueError(
            f"clone_model received a subclassed model ({type(model).__name__}); it can only "
            "be rebuilt from its config, without `input_tensors` or `clone_function`."
        )
    # Through the serialized form, so that the clone is built and compiled like the model.
    return deserialize_keras_object(
        serialize_keras_object(model), custom_objects={type(model).__name__: type(model)}
    )


def _compiled_like(clone: Any, model: Any) -> Any:
    """`clone` compiled with `model`'s compile arguments (a fresh optimizer), as Keras does."""
    if getattr(model, "compiled", False):
        clone.compile_from_config(model.get_compile_config())
        if clone.built:
            clone.optimizer.build(clone.trainable_variables)
    return clone


def _clone_functional(model: Functional, input_tensors: Any, clone_function: Callable) -> Any:
    """Replay `model`'s graph with cloned layers on new (or given) inputs."""
    if input_tensors is None:
        new_inputs = [
            Input(batch_shape=t.shape, dtype=t.dtype, name=t._keras_history.operation.name)
            for t in model.inputs
        ]
    else:
        new_inputs = tree.flatten(input_tensors)
        if len(new_inputs) != len(model.inputs):
            raise ValueError(
                f"clone_model: model '{model.name}' has {len(model.inputs)} input(s), but "
                f"{len(new_inputs)} input tensor(s) were given."
            )
    values = {id(old): new for old, new in zip(model.inputs, new_inputs)}
    clones: dict[int, Layer] = {}
    for node in model._graph_nodes:
        layer = node.operation
        if id(layer) not in clones:
            clones[id(layer)] = clone_function(layer)

        def swap(value):
            return values[id(value)] if is_keras_tensor(value) else value

        args = tree.map_structure(swap, list(node.call_args))
        kwargs = {k: tree.map_structure(swap, v) for k, v in node.call_kwargs.items()}
        outputs = clones[id(layer)](*args, **kwargs)
        for old, new in zip(node.outputs, tree.flatten(outputs)):
            values[id(old)] = new
    new_outputs = tree.pack_as(model.output, [values[id(t)] for t in model.outputs])
    inputs = tree.pack_as(model.input, new_inputs)
    return Functional(inputs, new_outputs, name=model.name)
