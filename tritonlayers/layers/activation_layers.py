"""Activation layers: Activation, ReLU, LeakyReLU, Softmax (mask aware), ELU, PReLU."""

import torch
import torch.nn.functional as F

from .. import activations, constraints, initializers, regularizers
from .layer import Layer


class _Elementwise(Layer):
    """An element-wise layer: same shape out, masks pass through."""

    _built_at_init = True

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def compute_output_shape(self, input_shape):
        return input_shape


class Activation(_Elementwise):
    """Applies an activation function (a name like "relu" or a callable) to its input.

    Example:
    >>> import torch, tritonlayers as keras
    >>> keras.layers.Activation("relu")(torch.tensor([-1.0, 2.0])).tolist()
    [0.0, 2.0]
    """

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def call(self, inputs):
        return self.activation(inputs)

    def get_config(self):
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


class ReLU(_Elementwise):
    """Rectified linear unit with optional cap, slope below the threshold, and threshold.

    `max_value` if x >= max_value; x if threshold <= x < max_value;
    `negative_slope * (x - threshold)` otherwise.

    Example:
    >>> import torch, tritonlayers as keras
    >>> keras.layers.ReLU(max_value=1.0)(torch.tensor([-1.0, 0.5, 3.0])).tolist()
    [0.0, 0.5, 1.0]
    """

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        for arg, value in (("max_value", max_value), ("negative_slope", negative_slope)):
            if value is not None and value < 0.0:
                raise ValueError(
                    f"{arg} of a ReLU layer cannot be a negative value. Received: {value}"
                )
        if threshold is None or threshold < 0.0:
            raise ValueError(
                f"threshold of a ReLU layer cannot be a negative value. Received: {threshold}"
            )
        self.max_value = max_value
        self.negative_slope = negative_slope
        self.threshold = threshold

    def call(self, inputs):
        if self.negative_slope:
            below = self.negative_slope * (inputs - self.threshold)
        else:
            below = torch.zeros_like(inputs)
        outputs = torch.where(inputs >= self.threshold, inputs, below)
        if self.max_value is not None:
            outputs = torch.clamp(outputs, max=self.max_value)
        return outputs

    def get_config(self):
        return {
            **super().get_config(),
            "max_value": self.max_value,
            "negative_slope": self.negative_slope,
            "threshold": self.threshold,
        }


class LeakyReLU(_Elementwise):
    """Leaky ReLU: `x` if x >= 0 else `negative_slope * x` (Keras default slope 0.3).

    Example:
    >>> import torch, tritonlayers as keras
    >>> keras.layers.LeakyReLU(negative_slope=0.5)(torch.tensor([-2.0, 2.0])).tolist()
    [-1.0, 2.0]
    """

    def __init__(self, negative_slope=0.3, **kwargs):
        kwargs.pop("alpha", None)
        super().__init__(**kwargs)
        if negative_slope is None or negative_slope < 0:
            raise ValueError(
                "The negative_slope value of a Leaky ReLU layer cannot be None or negative "
                f"value. Expected a float. Received: negative_slope={negative_slope}"
            )
        self.negative_slope = negative_slope

    def call(self, inputs):
        return F.leaky_relu(inputs, self.negative_slope)

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


class Softmax(_Elementwise):
    """Softmax over `axis`; masked positions get probability 0 (and are left out of the sum).

    Example:
    >>> import torch, tritonlayers as keras
    >>> x, mask = torch.zeros(1, 4), torch.tensor([[True, True, False, False]])
    >>> keras.layers.Softmax()(x, mask=mask).tolist()
    [[0.5, 0.5, 0.0, 0.0]]
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def call(self, inputs, mask=None):
        axes = tuple(self.axis) if isinstance(self.axis, (list, tuple)) else (self.axis,)
        if mask is not None:
            if mask.ndim > inputs.ndim:
                raise ValueError(
                    "The `mask` must be broadcastable to `inputs` and must not have more "
                    f"dimensions. Received: inputs.shape={tuple(inputs.shape)}, "
                    f"mask.shape={tuple(mask.shape)}"
                )
            mask = mask if mask.dtype == torch.bool else mask > 0.5
            inputs = torch.where(mask, inputs, torch.finfo(inputs.dtype).min)
        outputs = torch.exp(inputs - torch.logsumexp(inputs, dim=axes, keepdim=True))
        if mask is not None:
            outputs = torch.where(mask, outputs, 0.0)
        return outputs

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class ELU(_Elementwise):
    """Exponential linear unit: `x` if x > 0 else `alpha * (exp(x) - 1)`.

    Example:
    >>> import torch, tritonlayers as keras
    >>> round(keras.layers.ELU()(torch.tensor([-1.0])).item(), 4)
    -0.6321
    """

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = alpha

    def call(self, inputs):
        return F.elu(inputs, alpha=self.alpha)

    def get_config(self):
        config = super().get_config()
        # Keras's ELU config is its automatic one: name, then alpha, then the other base keys.
        return {"name": config.pop("name"), "alpha": self.alpha, **config}


class PReLU(_Elementwise):
    """Parametric ReLU: `x` if x >= 0 else `alpha * x`, with `alpha` learned per element
    (shared along `shared_axes`, e.g. `[1, 2]` for one alpha per image channel).

    Example:
    >>> import torch, tritonlayers as keras
    >>> layer = keras.layers.PReLU(alpha_initializer=keras.initializers.Constant(0.5))
    >>> layer(torch.tensor([[-2.0, 2.0]])).tolist()
    [[-1.0, 2.0]]
    """

    def __init__(
        self,
        alpha_initializer="Zeros",
        alpha_regularizer=None,
        alpha_constraint=None,
        shared_axes=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        if shared_axes is None or isinstance(shared_axes, (list, tuple)):
            self.shared_axes = None if shared_axes is None else list(shared_axes)
        else:
            self.shared_axes = [shared_axes]

    def build(self, input_shape):
        param_shape = list(input_shape[1:])
        for axis in self.shared_axes or []:
            param_shape[axis - 1] = 1
        self.alpha = self.add_weight(
            shape=tuple(param_shape),
            name="alpha",
            initializer=self.alpha_initializer,
            regularizer=self.alpha_regularizer,
            constraint=self.alpha_constraint,
        )

    def call(self, inputs):
        return F.relu(inputs) - self.alpha * F.relu(-inputs)

    def get_config(self):
        return {
            **super().get_config(),
            "alpha_initializer": initializers.serialize(self.alpha_initializer),
            "alpha_regularizer": regularizers.serialize(self.alpha_regularizer),
            "alpha_constraint": constraints.serialize(self.alpha_constraint),
            "shared_axes": self.shared_axes,
        }
