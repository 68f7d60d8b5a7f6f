"""Regularization layers: Dropout and its spatial/Gaussian/alpha variants, noise, activity loss.

All of them are active only when `training` is true, and draw their randomness from a
`SeedGenerator` (seeded by `seed=`): the seed is a device tensor, so training never syncs
with the host and `torch.compile` never recompiles for a new seed.
"""

import math

import torch

from .. import kernels, random, regularizers
from ._arguments import standardize_data_format
from .input_spec import InputSpec
from .layer import Layer


def _check_rate(rate) -> None:
    if not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
        raise ValueError(
            "Invalid value received for argument `rate`. Expected a float value between 0 "
            f"and 1. Received: rate={rate}"
        )


class _RandomLayer(Layer):
    """A layer with a seed generator that passes masks through and keeps its shape."""

    _built_at_init = True

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = random.SeedGenerator(seed)
        self.supports_masking = True

    def compute_output_shape(self, input_shape):
        return input_shape


class Dropout(_RandomLayer):
    """Zeroes a `rate` fraction of the inputs in training and scales the rest by 1/(1-rate).

    Runs `kernels.dropout` (a seeded Triton kernel on a GPU). `noise_shape` broadcasts one
    keep/drop decision over the axes where it is 1, e.g. `(batch, 1, features)` drops the
    same features at every timestep.

    Example:
    >>> import tritonlayers as keras
    >>> layer = keras.layers.Dropout(0.5, seed=1)
    >>> sorted(set(layer(keras.ops.ones((100,)), training=True).tolist()))
    [0.0, 2.0]
    >>> layer(keras.ops.ones((2,))).tolist()
    [1.0, 1.0]
    """

    def __init__(self, rate: float, noise_shape=None, seed=None, **kwargs):
        _check_rate(rate)
        super().__init__(seed=seed, **kwargs)
        self.rate = rate
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        noise_shape = self._noise_shape(inputs)
        seed = self.seed_generator.next()
        if noise_shape is None:
            return kernels.dropout(inputs, self.rate, seed)
        ones = torch.ones(noise_shape, dtype=inputs.dtype, device=inputs.device)
        return inputs * kernels.dropout(ones, self.rate, seed)

    def _noise_shape(self, inputs):
        if self.noise_shape is None:
            return None
        if len(self.noise_shape) != inputs.ndim:
            raise ValueError(
                f'Layer "{self.name}": `noise_shape` {self.noise_shape} must have one entry '
                f"per input axis; the input has shape {tuple(inputs.shape)}."
            )
        return tuple(
            size if wanted is None else wanted
            for size, wanted in zip(inputs.shape, self.noise_shape)
        )

    def get_config(self):
        return {
            **super().get_config(),
            "rate": self.rate,
            "seed": self.seed,
            "noise_shape": self.noise_shape,
        }


def _spatial_dropout_config(layer: Dropout) -> dict:
    """Keras's SpatialDropout config: rate, seed, name and the dtype's name. Its constructors
    take no `trainable`, so the config leaves it out (Keras could not load it back)."""
    return {"rate": layer.rate, "seed": layer.seed, "name": layer.name, "dtype": layer.dtype}


class SpatialDropout1D(Dropout):
    """Dropout of whole feature maps of a `(batch, steps, channels)` input.

    Example:
    >>> import tritonlayers as keras
    >>> y = keras.layers.SpatialDropout1D(0.5, seed=2)(keras.ops.ones((1, 4, 3)), training=True)
    >>> bool((y[0, 0] == y[0, 3]).all())
    True
    """

    def __init__(self, rate: float, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)
        self.input_spec = InputSpec(ndim=3)

    def _noise_shape(self, inputs):
        return (inputs.shape[0], 1, inputs.shape[2])

    def get_config(self):
        return _spatial_dropout_config(self)


class _ChannelDropout(Dropout):
    """Dropout of whole channels of a `(batch, *spatial, channels)` (or channels_first)
    input with `rank` spatial axes: one keep/drop decision per (sample, channel)."""

    rank = 2

    def __init__(self, rate: float, data_format=None, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)
        self.data_format = standardize_data_format(data_format)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def _noise_shape(self, inputs):
        ones = (1,) * self.rank
        if self.data_format == "channels_first":
            return (inputs.shape[0], inputs.shape[1], *ones)
        return (inputs.shape[0], *ones, inputs.shape[-1])

    def get_config(self):
        return {**_spatial_dropout_config(self), "data_format": self.data_format}


class SpatialDropout2D(_ChannelDropout):
    """Dropout of whole 2D feature maps (channels) of an image batch.

    Example:
    >>> import tritonlayers as keras
    >>> y = keras.layers.SpatialDropout2D(0.5, seed=3)(keras.ops.ones((1, 2, 2, 3)), training=True)
    >>> bool((y[0, 0, 0] == y[0, 1, 1]).all())
    True
    """

    rank = 2


class SpatialDropout3D(_ChannelDropout):
    """Dropout of whole 3D feature maps (channels) of a volume batch
    `(batch, dim1, dim2, dim3, channels)` (channels_last) or channels_first.

    Example:
    >>> import tritonlayers as keras
    >>> x = keras.ops.ones((1, 2, 2, 2, 3))
    >>> y = keras.layers.SpatialDropout3D(0.5, seed=3)(x, training=True)
    >>> bool((y[0, 0, 0, 0] == y[0, 1, 1, 1]).all())
    True
    """

    rank = 3


class GaussianNoise(_RandomLayer):
    """Adds zero-centred Gaussian noise of standard deviation `stddev` in training.

    Example:
    >>> import tritonlayers as keras
    >>> layer = keras.layers.GaussianNoise(0.1, seed=0)
    >>> layer(keras.ops.ones((2,))).tolist()
    [1.0, 1.0]
    """

    def __init__(self, stddev: float, seed=None, **kwargs):
        if not 0 <= stddev <= 1:
            raise ValueError(
                "Invalid value received for argument `stddev`. Expected a float value between "
                f"0 and 1. Received: stddev={stddev}"
            )
        super().__init__(seed=seed, **kwargs)
        self.stddev = stddev

    def call(self, inputs, training=False):
        if not training or self.stddev == 0:
            return inputs
        noise = random.normal(
            tuple(inputs.shape), stddev=self.stddev, dtype=inputs.dtype, seed=self.seed_generator
        )
        return inputs + noise.to(inputs.device)

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}


class GaussianDropout(_RandomLayer):
    """Multiplies by 1-centred Gaussian noise of std `sqrt(rate / (1 - rate))` in training.

    Example:
    >>> import tritonlayers as keras
    >>> keras.layers.GaussianDropout(0.2, seed=0)(keras.ops.ones((2,))).tolist()
    [1.0, 1.0]
    """

    def __init__(self, rate: float, seed=None, **kwargs):
        _check_rate(rate)
        super().__init__(seed=seed, **kwargs)
        self.rate = rate

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        noise = random.normal(
            tuple(inputs.shape),
            mean=1.0,
            stddev=stddev,
            dtype=inputs.dtype,
            seed=self.seed_generator,
        )
        return inputs * noise.to(inputs.device)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


class AlphaDropout(Dropout):
    """Dropout that keeps the mean and variance of its inputs, for SELU networks.

    Dropped units are set to SELU's negative saturation value, then an affine map restores
    the original mean and variance.

    Example:
    >>> import tritonlayers as keras
    >>> keras.layers.AlphaDropout(0.2, seed=0)(keras.ops.ones((2,))).tolist()
    [1.0, 1.0]
    """

    _ALPHA_P = -1.6732632423543772848170429916717 * 1.0507009873554804934193349852946

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        shape = self._noise_shape(inputs) or tuple(inputs.shape)
        uniform = random.uniform(shape, dtype=inputs.dtype, seed=self.seed_generator)
        kept = (uniform.to(inputs.device) >= self.rate).to(inputs.dtype)
        a = ((1 - self.rate) * (1 + self.rate * self._ALPHA_P**2)) ** -0.5
        b = -a * self._ALPHA_P * self.rate
        return a * (inputs * kept + self._ALPHA_P * (1 - kept)) + b


class ActivityRegularization(Layer):
    """Leaves its input unchanged and adds `(l1 * sum(|x|) + l2 * sum(x**2)) / batch_size`
    as a loss (Keras 3 normalizes activity losses by the batch size).

    Example:
    >>> import tritonlayers as keras
    >>> layer = keras.layers.ActivityRegularization(l1=0.5)
    >>> _ = layer(keras.ops.ones((2, 2)))
    >>> float(layer.losses[0])
    1.0
    """

    _built_at_init = True

    def __init__(self, l1: float = 0.0, l2: float = 0.0, **kwargs):
        kwargs.pop("activity_regularizer", None)
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.l1 = l1
        self.l2 = l2
        self.supports_masking = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.pop("activity_regularizer", None)
        return {**config, "l1": self.l1, "l2": self.l2}
