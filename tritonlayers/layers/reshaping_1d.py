"""Sequence reshaping layers on `(batch, steps, features)`: ZeroPadding1D, Cropping1D,
UpSampling1D."""

import torch
import torch.nn.functional as F

from ._arguments import standardize_data_format
from .input_spec import InputSpec
from .layer import Layer


def _pair(value, name: str) -> tuple:
    """An int `n` as `(n, n)`; a pair of ints as given."""
    if isinstance(value, int):
        return (value, value)
    if (
        isinstance(value, (list, tuple))
        and len(value) == 2
        and all(isinstance(v, int) for v in value)
    ):
        return tuple(value)
    raise ValueError(f"`{name}` should be an int or a tuple of 2 ints. Received: {name}={value}")


class ZeroPadding1D(Layer):
    """Adds `padding` zero steps before and after the sequence (an int or `(before, after)`).

    Example:
    >>> import tritonlayers as keras
    >>> tuple(keras.layers.ZeroPadding1D((1, 2))(keras.ops.ones((2, 3, 4))).shape)
    (2, 6, 4)
    """

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.padding = _pair(padding, "padding")
        self.data_format = standardize_data_format(data_format)
        self.input_spec = InputSpec(ndim=3)

    def call(self, inputs):
        before, after = self.padding
        if self.data_format == "channels_first":
            return F.pad(inputs, (before, after))
        return F.pad(inputs, (0, 0, before, after))

    def compute_output_shape(self, input_shape):
        axis = 2 if self.data_format == "channels_first" else 1
        shape = list(input_shape)
        if shape[axis] is not None:
            shape[axis] += sum(self.padding)
        return tuple(shape)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding, "data_format": self.data_format}


class Cropping1D(Layer):
    """Removes `cropping` steps from the start and end of the sequence.

    Example:
    >>> import tritonlayers as keras
    >>> tuple(keras.layers.Cropping1D((1, 2))(keras.ops.ones((2, 6, 4))).shape)
    (2, 3, 4)
    """

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(**kwargs)
        self.cropping = _pair(cropping, "cropping")
        self.input_spec = InputSpec(ndim=3)

    def build(self, input_shape):
        steps = input_shape[1]
        if steps is not None and sum(self.cropping) >= steps:
            raise ValueError(
                f'Layer "{self.name}": `cropping` parameter of `Cropping1D` layer must be '
                f"smaller than the input length. Received: input_shape={tuple(input_shape)}, "
                f"cropping={self.cropping}"
            )

    def call(self, inputs):
        start, end = self.cropping
        return inputs[:, start : inputs.shape[1] - end]

    def compute_output_shape(self, input_shape):
        steps = input_shape[1]
        return (
            input_shape[0],
            None if steps is None else steps - sum(self.cropping),
            *input_shape[2:],
        )

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping}


class UpSampling1D(Layer):
    """Repeats each step `size` times along the time axis.

    Example:
    >>> import tritonlayers as keras
    >>> steps = keras.ops.convert_to_tensor([[[1.0], [2.0]]])
    >>> keras.layers.UpSampling1D(2)(steps)[0, :, 0].tolist()
    [1.0, 1.0, 2.0, 2.0]
    """

    def __init__(self, size: int = 2, **kwargs):
        super().__init__(**kwargs)
        self.size = int(size)
        self.input_spec = InputSpec(ndim=3)

    def call(self, inputs):
        return torch.repeat_interleave(inputs, self.size, dim=1)

    def compute_output_shape(self, input_shape):
        steps = input_shape[1]
        return (input_shape[0], None if steps is None else steps * self.size, input_shape[2])

    def get_config(self):
        return {**super().get_config(), "size": self.size}
