"""Adaptive pooling layers: AdaptiveAveragePooling1D/2D/3D and AdaptiveMaxPooling1D/2D/3D.

Each pools its input to a fixed spatial `output_size`, whatever the input's spatial size.
Output cell `i` of an axis of length `L` pooled to `n` covers the input positions
`floor(i * L / n)` up to (not including) `ceil((i + 1) * L / n)`, as in Keras and torch:
the windows differ by at most one element in length and may overlap.
"""

import torch.nn.functional as F

from ._arguments import from_channels_first, standardize_data_format, to_channels_first
from .input_spec import InputSpec
from .layer import Layer

_ADAPTIVE_POOLS = {
    "average": {1: F.adaptive_avg_pool1d, 2: F.adaptive_avg_pool2d, 3: F.adaptive_avg_pool3d},
    "max": {1: F.adaptive_max_pool1d, 2: F.adaptive_max_pool2d, 3: F.adaptive_max_pool3d},
}


def _output_size(value, rank: int, layer: str) -> tuple:
    """Keras's `output_size`: an int (repeated `rank` times) or a tuple of `rank` ints."""
    if isinstance(value, int) and not isinstance(value, bool):
        values = (value,) * rank
    elif isinstance(value, (tuple, list)):
        values = tuple(value)
        if len(values) != rank:
            raise ValueError(
                f"{layer}: `output_size` must be an integer or a tuple of {rank} integers. "
                f"Received: output_size={value} (length {len(values)})"
            )
    else:
        raise TypeError(
            f"{layer}: `output_size` must be an integer or a tuple of {rank} integers. "
            f"Received: output_size={value!r} of type {type(value).__name__}"
        )
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in values):
        raise ValueError(
            f"{layer}: every entry of `output_size` must be a positive integer. "
            f"Received: output_size={value}"
        )
    return values


class _AdaptivePooling(Layer):
    """Max or average over the adaptive windows that give `output_size` cells per axis."""

    rank = 2
    mode = "average"

    def __init__(self, output_size, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.output_size = _output_size(output_size, self.rank, type(self).__name__)
        self.data_format = standardize_data_format(data_format)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def call(self, inputs):
        x = to_channels_first(inputs, self.data_format)
        outputs = _ADAPTIVE_POOLS[self.mode][self.rank](x, self.output_size)
        return from_channels_first(outputs, self.data_format)

    def compute_output_shape(self, input_shape):
        if self.data_format == "channels_last":
            return (input_shape[0], *self.output_size, input_shape[-1])
        return (input_shape[0], input_shape[1], *self.output_size)

    def get_config(self):
        return {
            **super().get_config(),
            "output_size": self.output_size,
            "data_format": self.data_format,
        }


class AdaptiveAveragePooling1D(_AdaptivePooling):
    """Mean over adaptive windows that pool `(batch, steps, features)` to `output_size` steps.

    Example:
    >>> import torch, tritonlayers as keras
    >>> x = torch.tensor([[[1.0], [3.0], [2.0], [6.0], [4.0]]])
    >>> keras.layers.AdaptiveAveragePooling1D(2)(x).flatten().tolist()
    [2.0, 4.0]
    """

    rank = 1


class AdaptiveAveragePooling2D(_AdaptivePooling):
    """Mean over adaptive windows that pool an image batch to `output_size` (an int or
    `(height, width)`).

    Example:
    >>> import tritonlayers as keras
    >>> tuple(keras.layers.AdaptiveAveragePooling2D((2, 3))(keras.ops.ones((1, 7, 8, 3))).shape)
    (1, 2, 3, 3)
    """

    rank = 2


class AdaptiveAveragePooling3D(_AdaptivePooling):
    """Mean over adaptive windows that pool a volume batch to `output_size` (an int or
    `(depth, height, width)`).

    Example:
    >>> import tritonlayers as keras
    >>> layer = keras.layers.AdaptiveAveragePooling3D(2, data_format="channels_first")
    >>> tuple(layer(keras.ops.ones((1, 3, 5, 4, 7))).shape)
    (1, 3, 2, 2, 2)
    """

    rank = 3


class AdaptiveMaxPooling1D(_AdaptivePooling):
    """Max over adaptive windows that pool `(batch, steps, features)` to `output_size` steps.

    Example:
    >>> import torch, tritonlayers as keras
    >>> x = torch.tensor([[[1.0], [3.0], [2.0], [6.0], [4.0]]])
    >>> keras.layers.AdaptiveMaxPooling1D(2)(x).flatten().tolist()
    [3.0, 6.0]
    """

    rank = 1
    mode = "max"


class AdaptiveMaxPooling2D(_AdaptivePooling):
    """Max over adaptive windows that pool an image batch to `output_size` (an int or
    `(height, width)`).

    Example:
    >>> import tritonlayers as keras
    >>> tuple(keras.layers.AdaptiveMaxPooling2D(4)(keras.ops.ones((1, 9, 9, 2))).shape)
    (1, 4, 4, 2)
    """

    rank = 2
    mode = "max"


class AdaptiveMaxPooling3D(_AdaptivePooling):
    """Max over adaptive windows that pool a volume batch to `output_size` (an int or
    `(depth, height, width)`).

    Example:
    >>> import tritonlayers as keras
    >>> tuple(keras.layers.AdaptiveMaxPooling3D((1, 2, 3))(keras.ops.ones((2, 4, 4, 6, 3))).shape)
    (2, 1, 2, 3, 3)
    """

    rank = 3
    mode = "max"
