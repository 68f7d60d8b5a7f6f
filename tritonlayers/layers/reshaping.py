"""Reshaping layers: Flatten, Reshape, Permute, RepeatVector, and the image/volume layers
Cropping2D/3D, ZeroPadding2D/3D, UpSampling2D/3D. The batch axis is never touched.
"""

import math

import torch
import torch.nn.functional as F

from ._arguments import (
    from_channels_first,
    in_keras_order,
    pad_spatial,
    standardize_data_format,
    standardize_tuple,
    to_channels_first,
)
from .input_spec import InputSpec
from .layer import Layer


def _product(sizes) -> "int | None":
    return None if None in sizes else math.prod(sizes)


class Flatten(Layer):
    """Flattens every axis but the batch one (channels_first inputs are made channels_last first).

    Example:
    >>> import tritonlayers as keras
    >>> tuple(keras.layers.Flatten()(keras.ops.ones((2, 3, 4))).shape)
    (2, 12)
    """

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.input_spec = InputSpec(min_ndim=1)

    def call(self, inputs):
        if self.data_format == "channels_first" and inputs.ndim > 2:
            inputs = torch.movedim(inputs, 1, -1)
        return inputs.reshape(inputs.shape[0], -1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], _product(input_shape[1:]))

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class Reshape(Layer):
    """Reshapes each sample to `target_shape` (one entry may be -1, inferred).

    Example:
    >>> import tritonlayers as keras
    >>> tuple(keras.layers.Reshape((-1, 2))(keras.ops.ones((3, 8))).shape)
    (3, 4, 2)
    """

    _built_at_init = True

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        target_shape = tuple(target_shape)
        if target_shape.count(-1) > 1 or any(s < -1 or s == 0 for s in target_shape):
            raise ValueError(
                "The `target_shape` argument must be a tuple of positive integers with at most "
                f"one -1. Received: target_shape={target_shape}"
            )
        self.target_shape = target_shape

    def _resolved(self, input_shape) -> tuple:
        total = _product(input_shape[1:])
        known = math.prod(s for s in self.target_shape if s != -1)
        if -1 not in self.target_shape:
            if total is not None and total != known:
                raise ValueError(self._size_error(input_shape))
            return self.target_shape
        if total is None:
            return tuple(None if s == -1 else s for s in self.target_shape)
        if total % known:
            raise ValueError(self._size_error(input_shape))
        return tuple(total // known if s == -1 else s for s in self.target_shape)

    def _size_error(self, input_shape) -> str:
        return (
            f'Layer "{self.name}": the total size of the new array must be unchanged. '
            f"Received: input_shape={tuple(input_shape)}, target_shape={self.target_shape}"
        )

    def call(self, inputs):
        return inputs.reshape(inputs.shape[0], *self._resolved(tuple(inputs.shape)))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self._resolved(input_shape))

    def get_config(self):
        return {**super().get_config(), "target_shape": self.target_shape}


class Permute(Layer):
    """Permutes the non-batch axes by `dims` (1-based: `(2, 1)` swaps axes 1 and 2).

    Example:
    >>> import tritonlayers as keras
    >>> tuple(keras.layers.Permute((2, 1))(keras.ops.ones((5, 3, 4))).shape)
    (5, 4, 3)
    """

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = tuple(dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(
                "Invalid permutation argument `dims` for Permute Layer. The set of indices in "
                f"`dims` must be consecutive and start from 1. Received dims={self.dims}"
            )
        self.input_spec = InputSpec(ndim=len(self.dims) + 1)

    def call(self, inputs):
        return inputs.permute(0, *self.dims)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *(input_shape[d] for d in self.dims))

    def get_config(self):
        return {**super().get_config(), "dims": self.dims}


class RepeatVector(Layer):
    """Repeats a `(batch, features)` input `n` times: `(batch, n, features)`.

    Example:
    >>> import tritonlayers as keras
    >>> tuple(keras.layers.RepeatVector(3)(keras.ops.ones((2, 4))).shape)
    (2, 3, 4)
    """

    def __init__(self, n: int, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(n, int):
            raise TypeError(f"Expected an integer value for `n`, got {type(n).__name__}.")
        self.n = n
        self.input_spec = InputSpec(ndim=2)

    def call(self, inputs):
        return inputs.unsqueeze(1).expand(-1, self.n, -1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self):
        return {**super().get_config(), "n": self.n}


_ORDINALS = ("two", "three")


def _pairs(value, name: str, rank: int = 2) -> tuple:
    """Keras's N-D padding/cropping argument as one `(before, after)` pair per spatial axis.

    `value` is an int (every side), a tuple of `rank` ints (symmetric per axis), or a tuple
    of `rank` pairs.
    """
    if isinstance(value, int):
        value = (value,) * rank
    if len(value) != rank:
        raise ValueError(
            f"`{name}` should have {_ORDINALS[rank - 2]} elements. Received: {name}={value}."
        )
    pairs = tuple((v, v) if isinstance(v, int) else tuple(v) for v in value)
    if any(len(p) != 2 or min(p) < 0 for p in pairs):
        raise ValueError(
            f"`{name}` should be an int, a tuple of {rank} ints, or a tuple of {rank} tuples of "
            f"2 non-negative ints. Received: {name}={value}."
        )
    return pairs


class _Spatial(Layer):
    """A layer on image (rank 2) or volume (rank 3) batches in `data_format`."""

    rank = 2

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def _spatial_shape(self, input_shape, new_spatial) -> tuple:
        if self.data_format == "channels_last":
            return (input_shape[0], *new_spatial, input_shape[-1])
        return (input_shape[0], input_shape[1], *new_spatial)

    def _spatial(self, input_shape) -> tuple:
        first = 1 if self.data_format == "channels_last" else 2
        return tuple(input_shape[first : first + self.rank])

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class _Cropping(_Spatial):
    """Crops `cropping` (one (before, after) pair per spatial axis) off the edges."""

    def __init__(self, cropping, data_format=None, **kwargs):
        super().__init__(data_format, **kwargs)
        self.cropping = _pairs(cropping, "cropping", self.rank)

    def call(self, inputs):
        x = to_channels_first(inputs, self.data_format)
        self.compute_output_shape(tuple(inputs.shape))
        window = [
            slice(before, size - after) for size, (before, after) in zip(x.shape[2:], self.cropping)
        ]
        return from_channels_first(x[(slice(None), slice(None), *window)], self.data_format)

    def compute_output_shape(self, input_shape):
        spatial = []
        for size, (before, after) in zip(self._spatial(input_shape), self.cropping):
            if size is not None and size - before - after <= 0:
                raise ValueError(
                    f'Layer "{self.name}": values in `cropping` argument should be smaller than '
                    f"the corresponding spatial dimension of the input. Received: "
                    f"input_shape={tuple(input_shape)}, cropping={self.cropping}"
                )
            spatial.append(None if size is None else size - before - after)
        return self._spatial_shape(input_shape, spatial)

    def get_config(self):
        config = {**super().get_config(), "cropping": self.cropping}
        return in_keras_order(config, ("cropping", "data_format"))


class _ZeroPadding(_Spatial):
    """Adds `padding` zeros (one (before, after) pair per spatial axis) around the input."""

    def __init__(self, padding, data_format=None, **kwargs):
        super().__init__(data_format, **kwargs)
        self.padding = _pairs(padding, "padding", self.rank)

    def call(self, inputs):
        x = to_channels_first(inputs, self.data_format)
        return from_channels_first(pad_spatial(x, self.padding), self.data_format)

    def compute_output_shape(self, input_shape):
        spatial = [
            None if size is None else size + before + after
            for size, (before, after) in zip(self._spatial(input_shape), self.padding)
        ]
        return self._spatial_shape(input_shape, spatial)

    def get_config(self):
        config = {**super().get_config(), "padding": self.padding}
        return in_keras_order(config, ("padding", "data_format"))


class Cropping2D(_Cropping):
    """Crops rows and columns off the edges of an image batch.

    Example:
    >>> import tritonlayers as keras
    >>> tuple(keras.layers.Cropping2D(((1, 0), (2, 2)))(keras.ops.ones((1, 5, 6, 3))).shape)
    (1, 4, 2, 3)
    """

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


class Cropping3D(_Cropping):
    """Crops the edges of a volume batch: `cropping` is an int, a tuple of 3 ints
    (symmetric per axis), or 3 `(before, after)` pairs.

    Example:
    >>> import tritonlayers as keras
    >>> layer = keras.layers.Cropping3D(((1, 0), 1, (0, 2)))
    >>> tuple(layer(keras.ops.ones((1, 4, 5, 6, 2))).shape)
    (1, 3, 3, 4, 2)
    """

    rank = 3

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


class ZeroPadding2D(_ZeroPadding):
    """Adds rows and columns of zeros around an image batch.

    Example:
    >>> import tritonlayers as keras
    >>> tuple(keras.layers.ZeroPadding2D(1)(keras.ops.ones((1, 2, 2, 3))).shape)
    (1, 4, 4, 3)
    """

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding3D(_ZeroPadding):
    """Adds zeros around a volume batch: `padding` is an int, a tuple of 3 ints (symmetric
    per axis), or 3 `(before, after)` pairs.

    Example:
    >>> import tritonlayers as keras
    >>> layer = keras.layers.ZeroPadding3D(((1, 0), 1, (0, 2)))
    >>> tuple(layer(keras.ops.ones((1, 2, 2, 2, 3))).shape)
    (1, 3, 4, 4, 3)
    """

    rank = 3

    def __init__(self, padding=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class _UpSampling(_Spatial):
    """Repeats each element `size[i]` times along spatial axis i (nearest neighbour)."""

    def __init__(self, size, data_format=None, **kwargs):
        super().__init__(data_format, **kwargs)
        self.size = standardize_tuple(size, self.rank, "size")

    def _nearest(self, x: torch.Tensor) -> torch.Tensor:
        for axis, factor in enumerate(self.size, start=2):
            x = x.repeat_interleave(factor, dim=axis)
        return x

    def call(self, inputs):
        x = to_channels_first(inputs, self.data_format)
        return from_channels_first(self._nearest(x), self.data_format)

    def compute_output_shape(self, input_shape):
        spatial = [
            None if size is None else size * factor
            for size, factor in zip(self._spatial(input_shape), self.size)
        ]
        return self._spatial_shape(input_shape, spatial)

    def get_config(self):
        config = super().get_config()
        data_format = config.pop("data_format")
        # Keras lists `size` before `data_format`.
        return {**config, "size": self.size, "data_format": data_format}


class UpSampling2D(_UpSampling):
    """Repeats rows and columns `size` times ("nearest") or resizes bilinearly ("bilinear").

    Example:
    >>> import tritonlayers as keras
    >>> tuple(keras.layers.UpSampling2D((2, 3))(keras.ops.ones((1, 2, 2, 3))).shape)
    (1, 4, 6, 3)
    """

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(size, data_format, **kwargs)
        if interpolation not in ("nearest", "bilinear"):
            raise ValueError(
                "`interpolation` argument should be one of: 'nearest' or 'bilinear'. "
                f"Received: interpolation={interpolation}"
            )
        self.interpolation = interpolation

    def call(self, inputs):
        if self.interpolation == "nearest":
            return super().call(inputs)
        x = to_channels_first(inputs, self.data_format)
        x = F.interpolate(x, scale_factor=self.size, mode="bilinear", align_corners=False)
        return from_channels_first(x, self.data_format)

    def get_config(self):
        return {**super().get_config(), "interpolation": self.interpolation}


class UpSampling3D(_UpSampling):
    """Repeats the elements of a volume batch `size[i]` times along spatial axis i.

    Example:
    >>> import tritonlayers as keras
    >>> tuple(keras.layers.UpSampling3D((1, 2, 3))(keras.ops.ones((1, 2, 2, 2, 3))).shape)
    (1, 2, 4, 6, 3)
    """

    rank = 3

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(size, data_format, **kwargs)
