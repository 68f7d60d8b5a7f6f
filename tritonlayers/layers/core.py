"""Core layers: Dense, Embedding, Masking, Identity, InputLayer, Lambda."""

import inspect
from collections.abc import Callable

import torch

from .. import activations, constraints, initializers, kernels, ops, regularizers
from ..dtype_policies import to_torch_dtype
from ..saving.serialization_lib import (
    deserialize_keras_object,
    in_safe_mode,
    serialize_keras_object,
)
from ._arguments import check_not_quantized
from .input_spec import InputSpec
from .layer import Layer
from .symbolic import KerasTensor, Node

# Keras activation functions that `kernels.fused_linear` applies inside the matmul epilogue.
_FUSED_ACTIVATIONS = {
    "linear": None,
    "relu": "relu",
    "leaky_relu": "leaky_relu",
    "gelu": "gelu",
    "silu": "silu",
    "swish": "silu",
    "sigmoid": "sigmoid",
    "tanh": "tanh",
    "softplus": "softplus",
}


def _fused_activation_name(activation: Callable) -> "tuple[bool, str | None]":
    """(True, kernel name) when `activation` is a Keras activation fused_linear applies itself.

    Matches by identity with the `activations` functions, so a user function named "relu"
    is never mistaken for the built-in one; Keras's defaults (leaky_relu slope 0.2, exact
    gelu) are the kernel's.
    """
    for name, kernel_name in _FUSED_ACTIVATIONS.items():
        if activation is getattr(activations, name, None):
            return True, kernel_name
    return False, None


class Dense(Layer):
    """Just your regular densely-connected layer: `activation(inputs @ kernel + bias)`.

    Runs as one `kernels.fused_linear` call (a fused Triton matmul on a GPU). Inputs of
    rank > 2 are transformed along their last axis; masks pass through.

    Example:
    >>> import tritonlayers as keras
    >>> layer = keras.layers.Dense(4, activation="relu")
    >>> tuple(layer(keras.ops.ones((2, 3, 5))).shape), tuple(layer.kernel.shape)
    ((2, 3, 4), (5, 4))
    """

    def __init__(
        self,
        units: int,
        activation=None,
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        quantization_config=None,
        **kwargs,
    ):
        check_not_quantized("Dense", quantization_config)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
            raise ValueError(
                f"Received an invalid value for `units`, expected a positive integer. "
                f"Received: units={units}"
            )
        self.units = units
        self.activation = activations.get(activation)
        self._fused, self._fused_activation = _fused_activation_name(self.activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(min_ndim=2)
        self.supports_masking = True

    def build(self, input_shape):
        input_dim = input_shape[-1]
        self.kernel = self.add_weight(
            name="kernel",
            shape=(input_dim, self.units),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(self.units,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        self.input_spec = InputSpec(min_ndim=2, axes={-1: input_dim})

    def call(self, inputs):
        if not inputs.is_floating_point():  # integer features promote, as in Keras's matmul
            inputs = inputs.to(self.kernel.dtype)
        if self._fused:
            return kernels.fused_linear(inputs, self.kernel, self.bias, self._fused_activation)
        return self.activation(kernels.fused_linear(inputs, self.kernel, self.bias))

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def save_own_variables(self, store):
        """Keras's layout: "0" the kernel, "1" the bias (when used); a subclass's own extra
        variables are not stored here."""
        if self.built:
            for index, variable in enumerate(v for v in (self.kernel, self.bias) if v is not None):
                store[str(index)] = variable

    def load_own_variables(self, store):
        self._check_load_own_variables(store)
        if self.built:
            for index, variable in enumerate(v for v in (self.kernel, self.bias) if v is not None):
                variable.assign(store[str(index)])

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "quantization_config": None,
        }


class Embedding(Layer):
    """Turns non-negative integers (indices) into dense vectors of fixed size.

    With `mask_zero=True`, index 0 is padding: the output carries a mask that is False
    there, which downstream layers (LSTM, GlobalAveragePooling1D, ...) honour.

    Example:
    >>> import torch, tritonlayers as keras
    >>> layer = keras.layers.Embedding(10, 3, mask_zero=True)
    >>> out = layer(torch.tensor([[1, 2, 0]]))
    >>> tuple(out.shape), out._keras_mask.tolist()
    ((1, 3, 3), [[True, True, False]])
    """

    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        embeddings_initializer="uniform",
        embeddings_regularizer=None,
        embeddings_constraint=None,
        mask_zero: bool = False,
        quantization_config=None,
        **kwargs,
    ):
        check_not_quantized("Embedding", quantization_config)
        for arg, value in (("input_dim", input_dim), ("output_dim", output_dim)):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(
                    f"`{arg}` must be a positive integer. Received: {arg}={value} "
                    f"(of type {type(value).__name__})."
                )
        kwargs.pop("input_length", None)
        super().__init__(**kwargs)
        self.input_dim = input_dim
        self.output_dim = output_dim
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = mask_zero
        self.supports_masking = mask_zero

    def build(self, input_shape=None):
        self.embeddings = self.add_weight(
            name="embeddings",
            shape=(self.input_dim, self.output_dim),
            initializer=self.embeddings_initializer,
            regularizer=self.embeddings_regularizer,
            constraint=self.embeddings_constraint,
            autocast=False,
        )

    def call(self, inputs):
        outputs = torch.nn.functional.embedding(inputs.long(), self.embeddings)
        return outputs.to(to_torch_dtype(self.compute_dtype))

    def compute_mask(self, inputs, mask=None):
        return ops.not_equal(inputs, 0) if self.mask_zero else None

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.output_dim)

    def get_config(self):
        return {
            **super().get_config(),
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
            "embeddings_regularizer": regularizers.serialize(self.embeddings_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "embeddings_constraint": constraints.serialize(self.embeddings_constraint),
            "mask_zero": self.mask_zero,
            "quantization_config": None,
        }


class Masking(Layer):
    """Masks timesteps whose features all equal `mask_value`, and zeroes them.

    Example:
    >>> import torch, tritonlayers as keras
    >>> x = torch.tensor([[[1.0, 2.0], [0.0, 0.0]]])
    >>> keras.layers.Masking()(x)._keras_mask.tolist()
    [[True, False]]
    """

    _built_at_init = True

    def __init__(self, mask_value: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = mask_value
        self.supports_masking = True

    def compute_mask(self, inputs, mask=None):
        return torch.any(torch.ne(inputs, self.mask_value), dim=-1)

    def call(self, inputs):
        keep = torch.any(torch.ne(inputs, self.mask_value), dim=-1, keepdim=True)
        return inputs * keep.to(inputs.dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}


class Identity(Layer):
    """Returns its input unchanged (masks included).

    Example:
    >>> import tritonlayers as keras
    >>> keras.layers.Identity()(keras.ops.ones((2,))).tolist()
    [1.0, 1.0]
    """

    _built_at_init = True

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape


class InputLayer(Layer):
    """The layer behind `keras.Input`: holds the batch shape and dtype of a model's input.

    Its `output` is the symbolic `KerasTensor` a functional model starts from (recorded as
    this layer's first node); called on a real tensor, it returns it unchanged.

    Example:
    >>> import tritonlayers as keras
    >>> layer = keras.layers.InputLayer(shape=(3,), dtype="int32")
    >>> layer.batch_shape, layer.output.shape, layer.output.dtype
    ((None, 3), (None, 3), 'int32')
    """

    def __init__(
        self,
        shape=None,
        batch_size: "int | None" = None,
        dtype=None,
        sparse=None,
        ragged=None,
        batch_shape=None,
        input_tensor=None,
        optional: bool = False,
        name: "str | None" = None,
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        for flag, value in (("sparse", sparse), ("ragged", ragged)):
            if value:
                raise ValueError(
                    f'InputLayer "{self.name}": `{flag}=True` is not supported with the torch '
                    "backend (tritonlayers tensors are dense torch tensors)."
                )
        if shape is not None and batch_shape is not None:
            raise ValueError(
                "You cannot pass both `shape` and `batch_shape` at the same time. "
                f"Received: shape={shape}, batch_shape={batch_shape}"
            )
        if input_tensor is not None:
            batch_shape = tuple(input_tensor.shape)
            dtype = dtype or input_tensor.dtype
        elif batch_shape is None:
            if shape is None:
                raise ValueError("You must pass a `shape` argument.")
            shape = (shape,) if isinstance(shape, int) else tuple(shape)
            batch_shape = (batch_size, *shape)
        self.batch_shape = tuple(batch_shape)
        self.sparse = False
        self.optional = optional
        self.supports_masking = True
        # The tensor takes the `name` given, else an automatic one (not the layer's), as
        # in Keras.
        self.output = KerasTensor(self.batch_shape, dtype=dtype or "float32", name=name)
        Node(self, (), {}, [self.output])
        self.built = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            "batch_shape": self.batch_shape,
            "dtype": self.output.dtype,
            "sparse": self.sparse,
            "ragged": False,
            "name": self.name,
            "optional": self.optional,
        }


class Lambda(Layer):
    """Wraps an arbitrary function as a layer: `Lambda(lambda x: x ** 2)`.

    For quick experiments; a Python lambda in its config is bytecode, so loading a saved
    Lambda layer is refused in safe mode (`safe_mode=False` to allow it, for files you
    trust). Named functions are saved by their registered name.

    Example:
    >>> import tritonlayers as keras
    >>> keras.layers.Lambda(lambda x: x * 2)(keras.ops.ones((2,))).tolist()
    [2.0, 2.0]
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise ValueError(
                f'Lambda "{self.name}": `function` must be callable; got {function!r}.'
            )
        self.function = function
        self.arguments = dict(arguments or {})
        self._output_shape = output_shape
        self._mask = mask
        self.supports_masking = True
        parameters = inspect.signature(function).parameters
        self._passes = [name for name in ("mask", "training") if name in parameters]
        if output_shape is not None:
            # Declared shapes win; without them the output shape is found by running
            # `function` on meta tensors (Layer's default `compute_output_shape`).
            self.compute_output_shape = self._declared_output_shape

    def call(self, inputs, mask=None, training=None):
        passed = {"mask": mask, "training": training}
        extra = {name: passed[name] for name in self._passes}
        return self.function(inputs, **self.arguments, **extra)

    def compute_mask(self, inputs, mask=None):
        return self._mask(inputs, mask) if callable(self._mask) else self._mask

    def _declared_output_shape(self, input_shape):
        if callable(self._output_shape):
            return self._output_shape(input_shape)
        return (input_shape[0], *self._output_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "function": serialize_keras_object(self.function),
            "output_shape": serialize_keras_object(self._output_shape),
            "arguments": self.arguments,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None, safe_mode=None):
        """Rebuild the layer; a Python lambda's bytecode loads only outside safe mode."""
        config = dict(config)
        safe_mode = in_safe_mode() if safe_mode is None else safe_mode
        for key in ("function", "output_shape"):
            config[key] = deserialize_keras_object(
                config.get(key), custom_objects=custom_objects, safe_mode=safe_mode
            )
        if isinstance(config["output_shape"], list):
            config["output_shape"] = tuple(config["output_shape"])
        return cls(**config)
