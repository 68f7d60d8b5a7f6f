"""Layer wrappers: the `Wrapper` base class and `SpectralNormalization`.

A wrapper holds one inner layer (`self.layer`) and changes how it is applied; its config
carries the inner layer's serialized config under "layer". `TimeDistributed` is a Wrapper.
"""

from typing import Any

import torch

from .. import initializers
from ..saving.serialization_lib import deserialize_keras_object, serialize_keras_object
from .input_spec import InputSpec
from .layer import Layer


class Wrapper(Layer):
    """Base class of layers that wrap another layer (`TimeDistributed`, ...).

    Holds `layer` as `self.layer` (its weights are the wrapper's), builds it on the wrapper's
    input shape when it is not built yet, and serializes it in `get_config()["layer"]`.
    Used as is, a Wrapper applies the inner layer unchanged.

    Example:
    >>> import tritonlayers as keras
    >>> wrapper = keras.layers.Wrapper(keras.layers.Dense(3))
    >>> tuple(wrapper(keras.ops.ones((2, 4))).shape), wrapper.get_config()["layer"]["class_name"]
    ((2, 3), 'Dense')
    """

    def __init__(self, layer: Layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(
                f"Layer {layer} supplied to Wrapper isn't a supported layer type. Please "
                "ensure wrapped layer is a valid Keras layer."
            )
        super().__init__(**kwargs)
        self.layer = layer

    def build(self, input_shape=None):
        if not self.layer.built:
            self.layer.build(input_shape)

    def call(self, inputs, training=None):
        return self.layer(inputs, training=training)

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self):
        return {**super().get_config(), "layer": serialize_keras_object(self.layer)}

    @classmethod
    def from_config(cls, config: dict, custom_objects: Any = None):
        config = dict(config)
        layer = deserialize_keras_object(config.pop("layer"), custom_objects=custom_objects)
        return cls(layer, **config)


class SpectralNormalization(Wrapper):
    """Divides the wrapped layer's `kernel` (or `embeddings`) by its spectral norm in training.

    Each training call runs `power_iterations` steps of the power method from the stored
    non-trainable `vector_u` to estimate the largest singular value sigma of the kernel
    (reshaped to `(-1, last_dim)`), then assigns `kernel / sigma` to the kernel and
    `vector_u` its new estimate, before calling the layer (as Keras does; an all-zero kernel
    is left alone). Inference calls use the kernel as it is.

    Example:
    >>> import torch, tritonlayers as keras
    >>> layer = keras.layers.SpectralNormalization(keras.layers.Dense(4), power_iterations=20)
    >>> _ = layer(keras.ops.ones((2, 3)), training=True)
    >>> round(float(torch.linalg.matrix_norm(layer.layer.kernel.detach(), ord=2)), 3)
    1.0
    """

    def __init__(self, layer: Layer, power_iterations: int = 1, **kwargs):
        super().__init__(layer, **kwargs)
        if not isinstance(power_iterations, int) or power_iterations <= 0:
            raise ValueError(
                "`power_iterations` should be greater than zero. Received: "
                f"`power_iterations={power_iterations}`"
            )
        self.power_iterations = power_iterations

    @property
    def kernel(self):
        """The wrapped layer's `kernel` (or `embeddings`) Variable, as stored."""
        found = self.layer.__dict__["_parameters"]
        for name in ("kernel", "embeddings"):
            if found.get(name) is not None:
                return found[name]
        inner = self.layer
        return inner.kernel if hasattr(inner, "kernel") else inner.embeddings

    def build(self, input_shape):
        super().build(input_shape)
        self.input_spec = InputSpec(min_ndim=1, axes={-1: input_shape[-1]})
        if not (hasattr(self.layer, "kernel") or hasattr(self.layer, "embeddings")):
            raise ValueError(
                f'Layer "{self.name}": SpectralNormalization needs a layer with a `kernel` or '
                f"`embeddings` weight; {type(self.layer).__name__} object has no attribute "
                "'kernel' nor 'embeddings'"
            )
        kernel = self.kernel
        # Listed as the wrapper's own weight too (Keras's weight order: kernel, vector_u,
        # then the inner layer's others); torch already registers it in the inner layer.
        self._track_variable(kernel)
        self._unregister_auto(self.__dict__["_parameters"], kernel)
        self.vector_u = self.add_weight(
            shape=(1, kernel.shape[-1]),
            initializer=initializers.TruncatedNormal(stddev=0.02),
            trainable=False,
            name="vector_u",
            dtype=kernel.dtype,
        )

    def call(self, inputs, training=False):
        if training:
            with torch.no_grad():
                kernel = self.kernel
                if bool(torch.any(kernel != 0)):
                    vector_u, normalized = self.normalized_weights()
                    self.vector_u.assign(vector_u)
                    kernel.assign(normalized)
        output = self.layer(inputs)
        return output.to(inputs.dtype) if inputs.is_floating_point() else output

    def normalized_weights(self) -> "tuple[torch.Tensor, torch.Tensor]":
        """`(new vector_u, kernel / sigma)` after `power_iterations` power-method steps."""
        kernel = self.kernel
        matrix = kernel.detach().reshape(-1, kernel.shape[-1])
        vector_u = self.vector_u.detach().to(matrix.dtype)
        for _ in range(self.power_iterations):
            vector_v = _unit(vector_u @ matrix.T)
            vector_u = _unit(vector_v @ matrix)
        sigma = (vector_v @ matrix) @ vector_u.T
        return vector_u, (kernel.detach() / sigma).reshape(kernel.shape)

    def get_config(self):
        return {**super().get_config(), "power_iterations": self.power_iterations}


def _unit(x: torch.Tensor) -> torch.Tensor:
    """`x` over its L2 norm across all entries, the norm floored at 1e-7 as in Keras."""
    return x * torch.clamp(torch.rsqrt(torch.sum(x * x)), max=1e7)
