"""Sequential: a plain stack of layers, each feeding the next.

It builds as soon as its input shape is known, from an `Input` given first or from the
first layer's `input_shape=` hint; otherwise on the first call. Building runs the stack on
a symbolic input once, so every layer gets its weights and `summary()` its shapes; calls
then run the layers one after the other on real tensors.

Example:
>>> import tritonlayers as keras
>>> hidden, head = keras.layers.Dense(4, name="hidden"), keras.layers.Dense(1, name="head")
>>> model = keras.Sequential([keras.Input((3,)), hidden, head])
>>> model.built, [layer.name for layer in model.layers], model.output_shape
(True, ['hidden', 'head'], (None, 1))
"""

from typing import Any

from ..layers import Layer
from ..layers.naming import unique_name
from ..layers.symbolic import KerasTensor, is_keras_tensor
from .functional import Input, InputLayer, _adjust_rank, cast_to_input_dtype
from .model import Model


class Sequential(Model):
    """A model whose layers run one after the other.

    Args:
        layers: the layers to stack (an `Input(...)` tensor may come first).
        trainable: whether the model's weights train.
        name: the model name.
    """

    def __init__(
        self, layers: "list | None" = None, trainable: bool = True, name: "str | None" = None
    ):
        super().__init__(trainable=trainable, name=name)
        self._sequence = []
        self.__dict__["_build_input_shape"] = None
        for layer in layers or []:
            self.add(layer, rebuild=False)
        self._maybe_rebuild()

    # ------------------------------------------------------------------ structure

    def add(self, layer: Any, rebuild: bool = True) -> None:
        """Append a layer (or an `Input` tensor, as the first item) to the stack.

        Example:
        >>> import tritonlayers as keras
        >>> model = keras.Sequential()
        >>> model.add(keras.Input((2,))); model.add(keras.layers.Dense(3))
        >>> model.built
        True
        """
        if is_keras_tensor(layer) and isinstance(layer._keras_history.operation, InputLayer):
            layer = layer._keras_history.operation
        if not isinstance(layer, Layer):
            raise ValueError(
                "Only instances of `keras.Layer` can be added to a Sequential model. "
                f"Received: {layer} (of type {type(layer)})"
            )
        if any(other.name == layer.name and other is not layer for other in self._sequence):
            raise ValueError(
                "All layers added to a Sequential model should have unique names. Name "
                f"'{layer.name}' is already the name of a layer in this model. Update the "
                "`name` argument to pass a unique name."
            )
        if isinstance(layer, InputLayer) and self._sequence:
            if isinstance(self._sequence[0], InputLayer):
                raise ValueError(
                    f"Sequential model '{self.name}' has already been configured to use input "
                    f"shape {self._sequence[0].batch_shape}. You cannot add a different Input "
                    "layer to it."
                )
            raise ValueError(
                f"Sequential model '{self.name}': an Input can only be the first item. Received "
                f"it after {len(self._sequence)} layer(s)."
            )
        self._unlock()
        self._sequence.append(layer)
        if rebuild:
            self._maybe_rebuild()
        else:
            self._mark_unbuilt()

    def pop(self, rebuild: bool = True) -> Layer:
        """Remove and return the last layer.

        Example:
        >>> import tritonlayers as keras
        >>> model = keras.Sequential([keras.layers.Dense(2), keras.layers.Dense(1)])
        >>> model.pop().units, len(model.layers)
        (1, 1)
        """
        if not self.layers:
            raise TypeError(f"Sequential model '{self.name}' has no layers to pop.")
        self._unlock()
        layer = self._sequence.pop()
        if rebuild:
            self._maybe_rebuild()
        else:
            self._mark_unbuilt()
        return layer

    def _unlock(self) -> None:
        # A built Sequential accepts more layers (Keras rebuilds it): reopen the state lock
        # that `build` closed, and forget the previous build.
        self.__dict__["_locked"] = False
        self._mark_unbuilt()

    def _mark_unbuilt(self) -> None:
        self.__dict__["built"] = False
        self.__dict__["_build_input_shape"] = None
        self.__dict__["_input"] = self.__dict__["_output"] = None

    @property
    def layers(self) -> "list[Layer]":
        """The stacked layers, without the `Input` placeholder."""
        return [layer for layer in self._sequence if not isinstance(layer, InputLayer)]

    @property
    def output_names(self) -> "list[str] | None":
        """The last layer's name, the key `compile(metrics={...})` dicts may use.

        Example:
        >>> import tritonlayers as keras
        >>> keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="head")]).output_names
        ['head']
        """
        layers = self.layers
        return [layers[-1].name] if layers else None

    def _maybe_rebuild(self) -> None:
        self._mark_unbuilt()
        if not self._sequence:
            return
        first = self._sequence[0]
        if isinstance(first, InputLayer):
            if len(self._sequence) > 1:
                self.build(first.batch_shape)
            return
        hint = getattr(first, "_input_shape_arg", None)
        if hint is not None:
            batch = getattr(first, "_batch_size_arg", None)
            self.build((batch, *hint))
        elif len(self._sequence) > 1 and isinstance(getattr(first, "input_shape", None), tuple):
            # A built single-input model first in the stack (transfer learning's
            # `Sequential([base_model, head])`) knows its input shape: build from it, as Keras.
            self.build(first.input_shape)

    def build(self, input_shape: Any = None) -> None:
        """Create every layer's weights by running the stack on a symbolic input."""
        first = self._sequence[0] if self._sequence else None
        if isinstance(first, InputLayer):
            inputs = first.output
        elif input_shape is None:
            raise ValueError(
                f"Sequential model '{self.name}' cannot be built because it has no layers or "
                "its input shape is unknown. Call `build(input_shape)`, or start the model with "
                "`keras.Input(shape)`."
            )
        else:
            inputs = Input(batch_shape=tuple(input_shape), dtype=self.input_dtype)
        outputs = inputs
        for layer in self.layers:
            outputs = layer(outputs)
        # Keras builds a Sequential as an inner functional model, which takes the next
        # automatic "functional" name; take it too, so that later models are named alike.
        unique_name("functional")
        self.__dict__["_build_input_shape"] = tuple(inputs.shape)
        self.__dict__["_symbolic_output"] = outputs
        # `model.input` / `model.output` are the stack's symbolic ends, as in Keras.
        self.__dict__.update(_input=inputs, _output=outputs)
        self.built = True

    @property
    def inputs(self) -> list:
        """The symbolic input in a list, once built (`keras.Model(model.inputs, ...)`).

        Example:
        >>> import tritonlayers as keras
        >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        >>> [tuple(t.shape) for t in model.inputs + model.outputs]
        [(None, 3), (None, 2)]
        """
        return [self._stack_end("input")]

    @property
    def outputs(self) -> list:
        """The symbolic output in a list, once built."""
        return [self._stack_end("output")]

    @property
    def input(self) -> Any:
        """The input of the model's first symbolic call, else the stack's own input.

        As in Keras, a Sequential nested in a functional model answers with the tensors
        of that call, so `[layer.output for layer in outer.layers]` stays connected.
        """
        return self._first_call_value("input_tensors", "input")

    @property
    def output(self) -> Any:
        """The output of the model's first symbolic call, else the stack's own output."""
        return self._first_call_value("outputs", "output")

    def _first_call_value(self, node_field: str, name: str) -> Any:
        if not self._inbound_nodes:
            return self._stack_end(name)
        values = getattr(self._inbound_nodes[0], node_field)
        return values[0] if len(values) == 1 else values

    def _stack_end(self, name: str) -> Any:
        value = self.__dict__.get(f"_{name}")
        if value is None:
            raise AttributeError(f"Sequential model '{self.name}' has no defined {name}s yet.")
        return value

    @property
    def input_shape(self) -> "tuple | None":
        return self._build_input_shape

    @property
    def output_shape(self) -> "tuple | None":
        return self._symbolic_output.shape if self.built else None

    # ------------------------------------------------------------------ running

    def call(self, inputs: Any, training: "bool | None" = None, mask: Any = None) -> Any:
        symbolic_input = self.__dict__.get("_input")
        if isinstance(symbolic_input, KerasTensor):
            inputs = cast_to_input_dtype(
                _adjust_rank(inputs, symbolic_input, ""), symbolic_input.dtype
            )
        outputs = inputs
        for layer in self.layers:
            outputs = layer(outputs)
        return outputs

    def compute_output_shape(self, input_shape: Any) -> Any:
        shape = input_shape
        for layer in self.layers:
            shape = layer.compute_output_shape(shape)
        return shape

    # ------------------------------------------------------------------ config

    def get_config(self) -> dict:
        from ..dtype_policies import serialize as serialize_policy
        from ..saving import serialize_keras_object

        layers = list(self._sequence)
        built_input = self.__dict__.get("_input")
        starts_with_input = bool(layers) and isinstance(layers[0], InputLayer)
        if isinstance(built_input, KerasTensor) and not starts_with_input:
            # `build(shape)` made an input layer; Keras lists it first, as if it were added.
            layers.insert(0, built_input._keras_history.operation)
        return {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": serialize_policy(self.dtype_policy),
            "layers": [serialize_keras_object(layer) for layer in layers],
            "build_input_shape": (
                None if self._build_input_shape is None else list(self._build_input_shape)
            ),
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects: "dict | None" = None) -> "Sequential":
        from ..saving import deserialize_keras_object

        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        for layer_config in config.get("layers", []):
            model.add(
                deserialize_keras_object(layer_config, custom_objects=custom_objects), rebuild=False
            )
        model._maybe_rebuild()
        shape = config.get("build_input_shape")
        if not model.built and shape is not None:
            model.build(tuple(shape))
        return model
