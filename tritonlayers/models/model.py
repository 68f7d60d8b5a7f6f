"""Model: a Layer with training (compile/fit/evaluate/predict), saving and a summary.

Subclass it as the guide's `VariationalAutoEncoder(keras.Model)` does, or call
`Model(inputs, outputs)` on symbolic tensors to get a functional model (`__new__` hands
that case to `Functional`, as Keras does).

Example:
>>> import tritonlayers as keras
>>> class TwoLayers(keras.Model):
...     def __init__(self, **kwargs):
...         super().__init__(**kwargs)
...         self.hidden = keras.layers.Dense(4, activation="relu", name="hidden")
...         self.out = keras.layers.Dense(1, name="out")
...     def call(self, inputs):
...         return self.out(self.hidden(inputs))
>>> model = TwoLayers()
>>> tuple(model(keras.ops.ones((2, 3))).shape), [layer.name for layer in model.layers]
((2, 1), ['hidden', 'out'])
"""

import inspect
import json
from typing import Any

from ..layers import Layer
from .trainer import Trainer


def _is_functional_call(args: tuple, kwargs: dict) -> bool:
    return (
        len(args) == 2
        or (len(args) == 1 and "outputs" in kwargs)
        or ("inputs" in kwargs and "outputs" in kwargs)
    )


def _revivable(cls: type) -> bool:
    """Whether a functional config rebuilds `cls` from its graph: `Model`, `Functional`,
    and subclasses whose `__init__` takes what Functional's does (`(inputs, outputs,
    name)`, or `*args, **kwargs`), as Keras decides."""
    from .functional import Functional

    if cls in (Model, Functional):
        return True
    spec = inspect.getfullargspec(cls.__init__)
    functional_args = inspect.getfullargspec(Functional.__init__).args[1:]
    return spec.args[1:] == functional_args or (spec.varargs, spec.varkw) == ("args", "kwargs")


def _inject_functional(cls: type) -> type:
    """Swap `Model` for `Functional` in the bases of a Model subclass whose `__init__` passes
    `(inputs, outputs)` up, so that it becomes a functional model that keeps its own methods
    (Keras's `inject_functional_model_class`)."""
    from .functional import Functional

    if cls is Model:
        return Functional
    if not issubclass(cls, Model) or issubclass(cls, Functional):
        return cls
    cls.__bases__ = tuple(_inject_functional(base) for base in cls.__bases__)
    return cls


class MissingCallError(TypeError):
    """A model without a `call()` method was called (Keras raises NotImplementedError)."""


class Model(Trainer, Layer):
    """A Layer that trains, evaluates, predicts, saves and summarizes itself.

    Args (keyword): `name`, `trainable`, `dtype`, as for `Layer`. Positional
    `(inputs, outputs)` make a functional model, also when a subclass passes them up (it
    keeps its own methods, e.g. a custom `train_step`).
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> "Model":
        if cls is Model and _is_functional_call(args, kwargs):
            from .functional import Functional

            return Functional.__new__(Functional, *args, **kwargs)
        return super().__new__(cls, *args, **kwargs)

    def __init__(self, *args: Any, **kwargs: Any):
        if _is_functional_call(args, kwargs):
            from .functional import Functional

            _inject_functional(type(self))
            Functional.__init__(self, *args, **kwargs)
            return
        if args or "inputs" in kwargs or "outputs" in kwargs:
            raise TypeError(
                f"{type(self).__name__}.__init__ received inputs/outputs: to build a functional "
                "model call `keras.Model(inputs, outputs)` directly; a subclass of Model takes "
                "only keyword arguments such as `name`."
            )
        Layer.__init__(self, **kwargs)
        self._init_trainer()

    def call(self, *args: Any, **kwargs: Any) -> Any:
        """The forward pass, which a subclass defines; the base Model has none and raises
        `MissingCallError` with Keras's message (where the base Layer would pass its input
        through).

        Example:
        >>> import tritonlayers as keras
        >>> class NoForward(keras.Model):
        ...     pass
        >>> try:
        ...     NoForward()(keras.ops.ones((1, 2)))
        ... except TypeError as error:
        ...     print("does not have a `call()` method" in str(error))
        True
        """
        raise MissingCallError(
            f"Model {type(self).__name__} does not have a `call()` method implemented."
        )

    # ------------------------------------------------------------------ layers

    @property
    def layers(self) -> "list[Layer]":
        """The model's direct sublayers, in the order they were assigned (or in graph order)."""
        return list(self._flatten_layers(include_self=False, recursive=False))

    def get_layer(self, name: "str | None" = None, index: "int | None" = None) -> Layer:
        """A sublayer by `name` or by `index` in `layers`.

        Example:
        >>> import tritonlayers as keras
        >>> model = keras.Sequential([keras.layers.Dense(2, name="head")])
        >>> model.get_layer("head").name, model.get_layer(index=0).name
        ('head', 'head')
        """
        if name is not None and index is not None:
            raise ValueError(
                f"Provide only a layer name or a layer index. Received: index={index}, name={name}."
            )
        layers = self.layers
        if index is not None:
            if len(layers) <= index:
                raise ValueError(
                    f"Was asked to retrieve layer at index {index} but model only has "
                    f"{len(layers)} layers."
                )
            return layers[index]
        if name is not None:
            for layer in layers:
                if layer.name == name:
                    return layer
            raise ValueError(
                f"No such layer: {name}. Existing layers are: {[layer.name for layer in layers]}."
            )
        raise ValueError("Provide either a layer name or layer index at `get_layer`.")

    def summary(
        self,
        line_length: "int | None" = None,
        positions: "list | None" = None,
        print_fn: Any = None,
        expand_nested: bool = False,
        show_trainable: bool = False,
        layer_range: Any = None,
    ) -> None:
        """Print Keras's table of layers, output shapes and parameter counts.

        Example:
        >>> import tritonlayers as keras
        >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)], name="tiny")
        >>> model.summary(print_fn=lambda line: None)
        """
        from .summary import print_summary

        print_summary(
            self,
            line_length=line_length,
            positions=positions,
            print_fn=print_fn,
            expand_nested=expand_nested,
            show_trainable=show_trainable,
            layer_range=layer_range,
        )

    @classmethod
    def from_config(cls, config: dict, custom_objects: "dict | None" = None) -> "Model":
        """Rebuild a model from `get_config()`: a functional graph when the config describes
        one (`layers`, `input_layers`, `output_layers`), else `cls(**config)`.

        Example:
        >>> import tritonlayers as keras
        >>> x = keras.Input(shape=(2,))
        >>> model = keras.Model(x, keras.layers.Dense(1)(x))
        >>> type(keras.Model.from_config(model.get_config())).__name__
        'Functional'
        """
        from ..saving import custom_object_scope

        with custom_object_scope(custom_objects or {}):
            if {"layers", "input_layers", "output_layers"} <= set(config) and _revivable(cls):
                # A subclass loaded before any instance made it functional becomes so now,
                # so that it keeps its own methods (a custom `train_step`).
                return _inject_functional(cls).from_config(config)
            # A functional subclass with its own `__init__` (which builds its graph itself)
            # gets the whole config as keyword arguments, as in Keras.
            return super().from_config(config)

    # ------------------------------------------------------------------ compile config

    def get_compile_config(self) -> "dict | None":
        """The `compile()` arguments, serialized; None when the model is not compiled.

        Example:
        >>> import tritonlayers as keras
        >>> model = keras.Sequential([keras.layers.Dense(1)])
        >>> model.compile(optimizer="adam", loss="mse")
        >>> model.get_compile_config()["loss"]
        'mse'
        """
        if not self.compiled:
            return None
        from ..saving import serialize_keras_object

        config = dict(self._compile_config)
        config["optimizer"] = serialize_keras_object(self.optimizer)
        for key in ("loss", "loss_weights", "metrics", "weighted_metrics"):
            config[key] = serialize_keras_object(config[key])
        return config

    def compile_from_config(self, config: dict) -> None:
        """Compile with the arguments a `get_compile_config()` dict describes."""
        from ..saving import deserialize_keras_object

        config = dict(config)
        for key in ("optimizer", "loss", "metrics", "weighted_metrics"):
            if key in config:
                config[key] = deserialize_keras_object(config[key])
        self.compile(**config)

    # ------------------------------------------------------------------ saving

    def save(self, filepath: str, overwrite: bool = True) -> None:
        """Save architecture, weights, compile config and optimizer state to a `.keras` file.

        Example:
        >>> import os, tempfile, tritonlayers as keras
        >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        >>> model.save(os.path.join(tempfile.mkdtemp(), "model.keras"))
        """
        from ..saving import save_model

        save_model(self, filepath, overwrite=overwrite)

    def save_weights(self, filepath: str, overwrite: bool = True) -> None:
        """Save the weights to a `.weights.safetensors` file (or a `.weights.h5` file in
        the Keras 3 layout, which needs h5py)."""
        from ..saving import save_weights

        save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath: str, skip_mismatch: bool = False) -> None:
        """Load weights saved by `save_weights` (`.weights.safetensors` or `.weights.h5`,
        Keras 3's included) or from a `.keras` file; names and shapes are checked, and a
        mismatch lists the variables that differ."""
        from ..saving import load_weights

        load_weights(self, filepath, skip_mismatch=skip_mismatch)

    def to_json(self, **kwargs: Any) -> str:
        """The model's config as a JSON string (`kwargs` go to `json.dumps`).

        Example:
        >>> import tritonlayers as keras
        >>> keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]).to_json()[:14]
        '{"module": "tr'
        """
        from ..saving import serialize_keras_object

        return json.dumps(serialize_keras_object(self), **kwargs)
