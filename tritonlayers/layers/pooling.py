"""Pooling layers: Max/AveragePooling1D/2D/3D and the global poolings (GlobalAveragePooling1D
is mask aware: masked timesteps are left out of the mean). Keras's short aliases
(`MaxPool1D`, `AvgPool2D`, `GlobalAvgPool1D`, ...) are defined next to their classes.

"same" padding follows Keras (TensorFlow/JAX semantics): padded positions never win a max
and are not counted in an average, also when the padding is uneven (Keras's own torch
backend pads unevenly by repeating edge values, which averages them in).
"""

import torch
import torch.nn.functional as F

from ..dtype_policies import to_torch_dtype
from ._arguments import (
    conv_output_length,
    from_channels_first,
    pad_spatial,
    same_padding,
    standardize_data_format,
    standardize_padding,
    standardize_tuple,
    to_channels_first,
)
from .input_spec import InputSpec
from .layer import Layer

_MAX_POOLS = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
_AVERAGE_POOLS = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


class _Pooling(Layer):
    """Windowed max or average over the spatial axes."""

    _built_at_init = True

    def __init__(self, rank, mode, pool_size, strides, padding, data_format, **kwargs):
        super().__init__(**kwargs)
        self.rank = rank
        self.mode = mode
        self.pool_size = standardize_tuple(pool_size, rank, "pool_size")
        self.strides = (
            self.pool_size if strides is None else standardize_tuple(strides, rank, "strides")
        )
        self.padding = standardize_padding(padding)
        self.data_format = standardize_data_format(data_format)
        self.input_spec = InputSpec(ndim=rank + 2)

    def call(self, inputs):
        x = to_channels_first(inputs, self.data_format)
        if self.padding == "same":
            pads = [same_padding(*w) for w in zip(x.shape[2:], self.pool_size, self.strides)]
            if self.mode == "max":
                outputs = _MAX_POOLS[self.rank](
                    pad_spatial(x, pads, float("-inf")), self.pool_size, self.strides
                )
            else:
                # Average only over real elements: pool the sums and the counts of ones.
                ones = torch.ones_like(x[:1, :1])
                sums = _AVERAGE_POOLS[self.rank](pad_spatial(x, pads), self.pool_size, self.strides)
                counts = _AVERAGE_POOLS[self.rank](
                    pad_spatial(ones, pads), self.pool_size, self.strides
                )
                outputs = sums / counts
        else:
            pool = _MAX_POOLS if self.mode == "max" else _AVERAGE_POOLS
            outputs = pool[self.rank](x, self.pool_size, self.strides)
        return from_channels_first(outputs, self.data_format)

    def compute_output_shape(self, input_shape):
        if self.data_format == "channels_last":
            spatial, channels = input_shape[1:-1], input_shape[-1]
        else:
            spatial, channels = input_shape[2:], input_shape[1]
        spatial = [
            conv_output_length(length, window, self.padding, stride)
            for length, window, stride in zip(spatial, self.pool_size, self.strides)
        ]
        if any(length is not None and length <= 0 for length in spatial):
            raise ValueError(
                "Computed output size would be zero or negative. Received: "
                f"`inputs.shape=[{' '.join(map(str, input_shape))}]`, "
                f"`pool_size=[{' '.join(map(str, self.pool_size))}]`, "
                f"`strides={self.strides}`, `padding={self.padding}`."
            )
        if self.data_format == "channels_last":
            return (input_shape[0], *spatial, channels)
        return (input_shape[0], channels, *spatial)

    def get_config(self):
        return {
            **super().get_config(),
            "pool_size": self.pool_size,
            "padding": self.padding,
            "strides": self.strides,
            "data_format": self.data_format,
        }


class MaxPooling1D(_Pooling):
    """Max over windows of `pool_size` steps, moved by `strides` (default: `pool_size`).

    Example:
    >>> import torch, tritonlayers as keras
    >>> x = torch.tensor([[[1.0], [3.0], [2.0], [0.0]]])
    >>> keras.layers.MaxPooling1D()(x).flatten().tolist()
    [3.0, 2.0]
    """

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(1, "max", pool_size, strides, padding, data_format, **kwargs)


MaxPool1D = MaxPooling1D


class MaxPooling2D(_Pooling):
    """Max over `pool_size` windows of an image batch.

    Example:
    >>> import tritonlayers as keras
    >>> tuple(keras.layers.MaxPooling2D()(keras.ops.ones((1, 5, 5, 3))).shape)
    (1, 2, 2, 3)
    """

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(2, "max", pool_size, strides, padding, data_format, **kwargs)


MaxPool2D = MaxPooling2D


class MaxPooling3D(_Pooling):
    """Max over `pool_size` windows of a volume batch `(batch, d1, d2, d3, channels)`.

    Example:
    >>> import tritonlayers as keras
    >>> tuple(keras.layers.MaxPooling3D()(keras.ops.ones((1, 4, 5, 6, 2))).shape)
    (1, 2, 2, 3, 2)
    """

    def __init__(
        self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None, **kwargs
    ):
        super().__init__(3, "max", pool_size, strides, padding, data_format, **kwargs)


MaxPool3D = MaxPooling3D


class AveragePooling1D(_Pooling):
    """Mean over windows of `pool_size` steps, moved by `strides` (default: `pool_size`).

    Example:
    >>> import torch, tritonlayers as keras
    >>> x = torch.tensor([[[1.0], [3.0], [2.0], [0.0]]])
    >>> keras.layers.AveragePooling1D()(x).flatten().tolist()
    [2.0, 1.0]
    """

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(1, "average", pool_size, strides, padding, data_format, **kwargs)


AvgPool1D = AveragePooling1D


class AveragePooling2D(_Pooling):
    """Mean over `pool_size` windows of an image batch.

    Example:
    >>> import tritonlayers as keras
    >>> tuple(keras.layers.AveragePooling2D(padding="same")(keras.ops.ones((1, 5, 5, 3))).shape)
    (1, 3, 3, 3)
    """

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(2, "average", pool_size, strides, padding, data_format, **kwargs)


AvgPool2D = AveragePooling2D


class AveragePooling3D(_Pooling):
    """Mean over `pool_size` windows of a volume batch `(batch, d1, d2, d3, channels)`;
    `pool_size` has no default, as in Keras.

    Example:
    >>> import tritonlayers as keras
    >>> layer = keras.layers.AveragePooling3D(2, padding="same")
    >>> tuple(layer(keras.ops.ones((1, 4, 5, 6, 2))).shape)
    (1, 2, 3, 3, 2)
    """

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(3, "average", pool_size, strides, padding, data_format, **kwargs)


AvgPool3D = AveragePooling3D


class _GlobalPooling(Layer):
    """Reduces all spatial axes with `mode` ("max" or "average")."""

    _built_at_init = True

    def __init__(self, rank, mode, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.rank = rank
        self.mode = mode
        self.data_format = standardize_data_format(data_format)
        self.keepdims = keepdims
        self.input_spec = InputSpec(ndim=rank + 2)
        # The pooled output has no steps left to mask; only GlobalAveragePooling1D reads the
        # mask (as in Keras), so the others warn that they drop it.
        self.supports_masking = False

    @property
    def _spatial_axes(self) -> tuple:
        first = 1 if self.data_format == "channels_last" else 2
        return tuple(range(first, first + self.rank))

    def call(self, inputs):
        if self.mode == "max":
            return torch.amax(inputs, dim=self._spatial_axes, keepdim=self.keepdims)
        if not inputs.is_floating_point():  # integer inputs average in the compute dtype
            inputs = inputs.to(to_torch_dtype(self.compute_dtype))
        return torch.mean(inputs, dim=self._spatial_axes, keepdim=self.keepdims)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        axes = self._spatial_axes
        if self.keepdims:
            return tuple(1 if i in axes else size for i, size in enumerate(input_shape))
        return tuple(size for i, size in enumerate(input_shape) if i not in axes)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


class GlobalAveragePooling1D(_GlobalPooling):
    """Mean over the steps of a `(batch, steps, features)` input, skipping masked steps.

    Example:
    >>> import torch, tritonlayers as keras
    >>> x = torch.tensor([[[1.0], [3.0], [100.0]]])
    >>> keras.layers.GlobalAveragePooling1D()(x, mask=torch.tensor([[True, True, False]])).tolist()
    [[2.0]]
    """

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(1, "average", data_format, keepdims, **kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            return super().call(inputs)
        (steps_axis,) = self._spatial_axes
        weights = torch.unsqueeze(mask.to(inputs.dtype), 2 if steps_axis == 1 else 1)
        total = torch.sum(inputs * weights, dim=steps_axis, keepdim=self.keepdims)
        return total / torch.sum(weights, dim=steps_axis, keepdim=self.keepdims)


GlobalAvgPool1D = GlobalAveragePooling1D


class GlobalAveragePooling2D(_GlobalPooling):
    """Mean over the two spatial axes of an image batch.

    Example:
    >>> import tritonlayers as keras
    >>> tuple(keras.layers.GlobalAveragePooling2D()(keras.ops.ones((2, 4, 4, 3))).shape)
    (2, 3)
    """

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(2, "average", data_format, keepdims, **kwargs)


GlobalAvgPool2D = GlobalAveragePooling2D


class GlobalAveragePooling3D(_GlobalPooling):
    """Mean over the three spatial axes of a volume batch.

    Example:
    >>> import tritonlayers as keras
    >>> tuple(keras.layers.GlobalAveragePooling3D()(keras.ops.ones((2, 3, 4, 4, 5))).shape)
    (2, 5)
    """

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(3, "average", data_format, keepdims, **kwargs)


GlobalAvgPool3D = GlobalAveragePooling3D


class GlobalMaxPooling1D(_GlobalPooling):
    """Max over the steps of a `(batch, steps, features)` input.

    Example:
    >>> import tritonlayers as keras
    >>> tuple(keras.layers.GlobalMaxPooling1D(keepdims=True)(keras.ops.ones((2, 4, 3))).shape)
    (2, 1, 3)
    """

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(1, "max", data_format, keepdims, **kwargs)


GlobalMaxPool1D = GlobalMaxPooling1D


class GlobalMaxPooling2D(_GlobalPooling):
    """Max over the two spatial axes of an image batch.

    Example:
    >>> import tritonlayers as keras
    >>> tuple(keras.layers.GlobalMaxPooling2D()(keras.ops.ones((2, 4, 4, 3))).shape)
    (2, 3)
    """

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(2, "max", data_format, keepdims, **kwargs)


GlobalMaxPool2D = GlobalMaxPooling2D


class GlobalMaxPooling3D(_GlobalPooling):
    """Max over the three spatial axes of a volume batch.

    Example:
    >>> import tritonlayers as keras
    >>> layer = keras.layers.GlobalMaxPooling3D(keepdims=True)
    >>> tuple(layer(keras.ops.ones((2, 3, 4, 4, 5))).shape)
    (2, 1, 1, 1, 5)
    """

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(3, "max", data_format, keepdims, **kwargs)


GlobalMaxPool3D = GlobalMaxPooling3D
