"""Pipeline: a plain layer that applies a list of (preprocessing) layers in order."""

from collections.abc import Sequence
from typing import Any

from ..saving.serialization_lib import deserialize_keras_object, serialize_keras_object
from .layer import Layer
from .nest import map_structure


def _mask_of(value: Any) -> Any:
    return getattr(value, "_keras_mask", None)


class Pipeline(Layer):
    """Applies ``layers`` one after the other, like a ``Sequential`` that is only a layer.

    It is not a Model, and it leaves its inputs as they are (strings, arrays, tensors): each
    layer converts what it needs. ``training`` defaults to True, so augmentation layers
    augment when the pipeline is called on its own; inside ``fit``/``predict`` the loop's
    value wins. Each layer whose ``call`` takes ``mask``/``training`` gets them; the mask
    passed on is the one the previous layer attached to its outputs.

    Example:
    >>> import tritonlayers as keras
    >>> pipeline = keras.layers.Pipeline(
    ...     [keras.layers.Rescaling(2.0), keras.layers.Rescaling(1.0, offset=1.0)]
    ... )
    >>> pipeline(keras.ops.convert_to_tensor([[1.0, 2.0]])).tolist()
    [[3.0, 5.0]]
    """

    def __init__(self, layers: Sequence[Layer], name: "str | None" = None):
        if not isinstance(layers, (list, tuple)) or not all(isinstance(x, Layer) for x in layers):
            raise ValueError(
                f"Pipeline: `layers` must be a list of Layer instances. Received: layers={layers!r}"
            )
        super().__init__(name=name)
        self._pipeline_layers = list(layers)
        self.built = True  # each layer builds on its first call
        self.supports_masking = True

    @property
    def layers(self) -> "list[Layer]":
        """The layers, in the order they are applied."""
        return list(self._pipeline_layers)

    def _convert_inputs(self, args: tuple, kwargs: dict) -> "tuple[tuple, dict]":
        return args, kwargs  # each layer converts its own inputs

    def call(self, inputs: Any, training: "bool | None" = True, mask: Any = None) -> Any:
        outputs = inputs
        for layer in self._pipeline_layers:
            spec = layer._call_spec
            kwargs = {}
            if spec.has_mask:
                kwargs["mask"] = mask
            if spec.has_training and training is not None:
                kwargs["training"] = training
            outputs = layer(inputs, **kwargs)
            mask = map_structure(_mask_of, outputs)
            inputs = outputs
        return outputs

    def compute_mask(self, inputs: Any, mask: Any = None) -> None:
        return None  # the last layer has already attached its own mask to the outputs

    def compute_output_shape(self, input_shape: Any) -> Any:
        for layer in self._pipeline_layers:
            input_shape = layer.compute_output_shape(input_shape)
        return input_shape

    def compute_output_spec(self, inputs: Any, training: Any = None, mask: Any = None) -> Any:
        for layer in self._pipeline_layers:
            if not layer.built:
                layer._maybe_build((inputs,), {})
            inputs = layer.compute_output_spec(inputs)
        return inputs

    def get_config(self) -> dict:
        return {
            "layers": [serialize_keras_object(layer) for layer in self._pipeline_layers],
            "name": self.name,
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects: "dict | None" = None) -> "Pipeline":
        layers = config.get("layers")
        if not isinstance(layers, (list, tuple)):
            raise ValueError(
                "Pipeline: the config must contain a `layers` key mapping to a list of "
                f"serialized layers. Received config with layers={layers!r}."
            )
        config = {**config}
        config["layers"] = [
            deserialize_keras_object(layer, custom_objects=custom_objects) for layer in layers
        ]
        return cls(**config)
