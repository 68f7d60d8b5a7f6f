"""Numeric preprocessing layers: Rescaling (x * scale + offset) and Normalization (feature-wise
standardization with statistics from `adapt`)."""

from typing import Any

import numpy as np
import torch

from .. import config
from ..dtype_policies import to_torch_dtype
from .layer import Layer


class Rescaling(Layer):
    """Multiplies its inputs by `scale` and adds `offset` (e.g. `Rescaling(1 / 255)` for pixels).

    `scale`/`offset` may be numbers or per-channel lists (broadcast over the last axis).

    Example:
    >>> import tritonlayers as keras
    >>> keras.layers.Rescaling(1 / 255)(keras.ops.convert_to_tensor([[0.0, 255.0]])).tolist()
    [[0.0, 1.0]]
    """

    def __init__(self, scale: Any, offset: Any = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale
        self.offset = offset
        self.supports_masking = True

    def call(self, inputs):
        dtype = to_torch_dtype(self.compute_dtype)
        inputs = torch.as_tensor(inputs).to(dtype)
        scale = torch.as_tensor(self.scale, dtype=dtype, device=inputs.device)
        offset = torch.as_tensor(self.offset, dtype=dtype, device=inputs.device)
        return inputs * scale + offset

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}


class Normalization(Layer):
    """Standardizes features: `(x - mean) / max(sqrt(variance), epsilon)` per kept `axis`.

    Give `mean` and `variance`, or call `adapt(data)` to compute them from data (a NumPy
    array or tensor). `axis` (int, tuple or None) names the axes that keep their own
    statistics; the others are reduced. `invert=True` maps standardized values back.

    Example:
    >>> import numpy as np
    >>> import tritonlayers as keras
    >>> layer = keras.layers.Normalization()
    >>> layer.adapt(np.array([[0.0, 10.0], [2.0, 30.0]]))
    >>> layer(np.array([[1.0, 20.0]])).tolist()
    [[0.0, 0.0]]
    """

    def __init__(
        self,
        axis: "int | tuple[int, ...] | None" = -1,
        mean: Any = None,
        variance: Any = None,
        invert: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if (mean is None) != (variance is None):
            raise ValueError(
                "When setting values directly, both `mean` and `variance` must be set. "
                f"Received: mean={mean} and variance={variance}"
            )
        self.axis = () if axis is None else (axis,) if isinstance(axis, int) else tuple(axis)
        self.input_mean = mean
        self.input_variance = variance
        self.invert = invert

    def build(self, input_shape):
        ndim = len(input_shape)
        if any(not -ndim <= a < ndim for a in self.axis):
            raise ValueError(
                f'Layer "{self.name}": all `axis` values must be in the range [-ndim, ndim). '
                f"Received inputs with ndim={ndim}, while axis={self.axis}"
            )
        self._keep_axis = tuple(sorted(a % ndim for a in self.axis))
        if any(input_shape[a] is None for a in self._keep_axis):
            raise ValueError(
                f'Layer "{self.name}": all `axis` values to be kept must have a known shape. '
                f"Received axis={self.axis}, inputs.shape={tuple(input_shape)}"
            )
        self._broadcast_shape = [input_shape[d] if d in self._keep_axis else 1 for d in range(ndim)]
        if self.input_mean is None:
            shape = tuple(input_shape[d] for d in self._keep_axis)
            self.adapt_mean = self.add_weight(
                name="mean", shape=shape, initializer="zeros", trainable=False
            )
            self.adapt_variance = self.add_weight(
                name="variance", shape=shape, initializer="ones", trainable=False
            )
            self.count = self.add_weight(
                name="count", shape=(), dtype="int32", initializer="zeros", trainable=False
            )

    def adapt(self, data: Any) -> None:
        """Set `mean` and `variance` from `data` (all of it, reduced over the non-kept axes)."""
        if isinstance(data, (list, tuple)):
            data = np.asarray(data)
        if not isinstance(data, (np.ndarray, torch.Tensor)):
            raise TypeError(
                f'Layer "{self.name}": `adapt` takes a NumPy array or a tensor. '
                f"Received: {type(data).__name__}"
            )
        data = torch.as_tensor(data, dtype=torch.float64)
        if not self.built:
            self.build(tuple(data.shape))
        if self.input_mean is not None:
            raise ValueError(
                f'Layer "{self.name}": `adapt` cannot change a `mean` and `variance` given to '
                "the constructor."
            )
        reduce = tuple(d for d in range(data.ndim) if d not in self._keep_axis)
        self.adapt_mean.assign(data.mean(dim=reduce).float())
        self.adapt_variance.assign(data.var(dim=reduce, unbiased=False).float())
        self.count.assign(torch.tensor(int(np.prod([data.shape[d] for d in reduce]))))

    def _statistics(self, device) -> "tuple[torch.Tensor, torch.Tensor]":
        dtype = to_torch_dtype(self.compute_dtype)
        if self.input_mean is None:
            mean, variance = self.adapt_mean, self.adapt_variance
        else:
            mean, variance = self.input_mean, self.input_variance
        mean, variance = (
            torch.as_tensor(v, dtype=dtype, device=device)
            .broadcast_to(self._keep_shape())
            .reshape(self._broadcast_shape)
            for v in (mean, variance)
        )
        return mean, variance

    def _keep_shape(self) -> tuple:
        return tuple(self._broadcast_shape[d] for d in self._keep_axis)

    def call(self, inputs):
        inputs = torch.as_tensor(inputs).to(to_torch_dtype(self.compute_dtype))
        mean, variance = self._statistics(inputs.device)
        std = torch.clamp(torch.sqrt(variance), min=config.epsilon())
        return mean + inputs * std if self.invert else (inputs - mean) / std

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        # Like Keras, given values are written as plain (nested) lists through numpy, so
        # mean=[0.5, 1, 2] is written as [0.5, 1.0, 2.0].
        mean, variance = (_plain_values(v) for v in (self.input_mean, self.input_variance))
        return {
            **super().get_config(),
            "axis": self.axis,
            "invert": self.invert,
            "mean": mean,
            "variance": variance,
        }


def _plain_values(value: Any) -> Any:
    """`value` (None, a number, a list, an array or a tensor) as plain Python numbers."""
    if value is None:
        return None
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    return np.asarray(value).tolist()
