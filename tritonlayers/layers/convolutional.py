"""Convolution layers: Conv1D/2D/3D, Conv1D/2D/3DTranspose, DepthwiseConv1D/2D,
SeparableConv1D/2D.

Keras's aliases are defined next to their classes: `Convolution1D`, `Convolution2D`,
`Convolution3D`, `Convolution1DTranspose`, `Convolution2DTranspose`,
`Convolution3DTranspose`, `SeparableConvolution1D`, `SeparableConvolution2D`.

Kernels are stored in Keras's layout, `(*window, in_channels // groups, filters)` (transposed
convolutions: `(*window, filters, in_channels)`), so weights move between Keras and
tritonlayers unchanged; they are permuted to torch's layout at call time. "same" padding
follows TensorFlow/Keras: the odd element of padding goes after.
"""

import torch
import torch.nn.functional as F

from .. import activations, constraints, initializers, regularizers
from ._arguments import (
    conv_output_length,
    from_channels_first,
    in_keras_order,
    pad_spatial,
    same_padding,
    standardize_data_format,
    standardize_padding,
    standardize_tuple,
    to_channels_first,
)
from .input_spec import InputSpec
from .layer import Layer

_CONVOLUTIONS = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_TRANSPOSED_CONVOLUTIONS = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


def _torch_layout(kernel: torch.Tensor) -> torch.Tensor:
    """Keras `(*window, a, b)` -> torch `(b, a, *window)`."""
    rank = kernel.ndim - 2
    return kernel.permute(rank + 1, rank, *range(rank))


class _Conv(Layer):
    """N-D convolution over channels_last or channels_first inputs (Keras's BaseConv).

    Subclasses set `rank`, the number of spatial axes.
    """

    rank = 2
    _allows_causal = True  # "causal" padding: plain 1D convolutions only, as in Keras

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        groups=1,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        rank = self.rank
        self.filters = filters
        self.groups = groups
        self.kernel_size = standardize_tuple(kernel_size, rank, "kernel_size")
        self.strides = standardize_tuple(strides, rank, "strides")
        self.dilation_rate = standardize_tuple(dilation_rate, rank, "dilation_rate")
        self.padding = standardize_padding(padding, allow_causal=rank == 1 and self._allows_causal)
        self.data_format = standardize_data_format(data_format)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(min_ndim=rank + 2)
        self._check_arguments()

    def _check_arguments(self):
        if self.filters is not None and (not isinstance(self.filters, int) or self.filters <= 0):
            raise ValueError(
                "Invalid value for argument `filters`. Expected a strictly positive value. "
                f"Received filters={self.filters}."
            )
        if self.filters is not None and self.filters % self.groups:
            raise ValueError(
                "The number of filters must be evenly divisible by the number of groups. "
                f"Received: groups={self.groups}, filters={self.filters}."
            )
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                "`strides > 1` not supported in conjunction with `dilation_rate > 1`. "
                f"Received: strides={self.strides} and dilation_rate={self.dilation_rate}"
            )

    @property
    def _channel_axis(self) -> int:
        return -1 if self.data_format == "channels_last" else 1

    def _input_channels(self, input_shape) -> int:
        channels = input_shape[self._channel_axis]
        if channels is None:
            raise ValueError(
                f'Layer "{self.name}": the channel dimension of the inputs should be defined. '
                f"Received input shape {tuple(input_shape)}."
            )
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={self._channel_axis: channels})
        return channels

    def _kernel_shape(self, in_channels: int) -> tuple:
        if in_channels % self.groups:
            raise ValueError(
                f'Layer "{self.name}": the number of input channels must be evenly divisible '
                f"by the number of groups. Received groups={self.groups}, but the input has "
                f"{in_channels} channels."
            )
        return (*self.kernel_size, in_channels // self.groups, self.filters)

    def build(self, input_shape):
        in_channels = self._input_channels(input_shape)
        self.compute_output_shape(input_shape)  # as in Keras: rejects windows too large
        self.kernel = self.add_weight(
            name="kernel",
            shape=self._kernel_shape(in_channels),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self._add_bias(self.filters)

    def _add_bias(self, size: int) -> None:
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(size,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )

    def _padded(self, x: torch.Tensor) -> torch.Tensor:
        """channels_first `x` padded for "same"/"causal" (the convolution itself is "valid")."""
        if self.padding == "valid":
            return x
        if self.padding == "causal":
            return pad_spatial(x, [((self.kernel_size[0] - 1) * self.dilation_rate[0], 0)])
        windows = zip(x.shape[2:], self.kernel_size, self.strides, self.dilation_rate)
        return pad_spatial(x, [same_padding(*window) for window in windows])

    def call(self, inputs):
        x = to_channels_first(inputs, self.data_format)
        outputs = _CONVOLUTIONS[self.rank](
            self._padded(x),
            _torch_layout(self.kernel),
            self.bias,
            stride=self.strides,
            dilation=self.dilation_rate,
            groups=self.groups,
        )
        return self.activation(from_channels_first(outputs, self.data_format))

    def _output_channels(self, input_shape) -> int:
        return self.filters

    def compute_output_shape(self, input_shape):
        spatial = input_shape[1:-1] if self.data_format == "channels_last" else input_shape[2:]
        spatial = [
            conv_output_length(*window, self.padding, stride, dilation)
            for window, stride, dilation in zip(
                zip(spatial, self.kernel_size), self.strides, self.dilation_rate
            )
        ]
        channels = self._output_channels(input_shape)
        if any(length is not None and length <= 0 for length in spatial):
            kernel_shape = (*self.kernel_size, input_shape[self._channel_axis], channels)
            raise ValueError(
                "Computed output size would be zero or negative. Received "
                f"`inputs shape={tuple(input_shape)}`, `kernel shape={kernel_shape}`, "
                f"`dilation_rate=[{' '.join(map(str, self.dilation_rate))}]`, "
                f"`strides={self.strides}`, `padding={self.padding}`."
            )
        if self.data_format == "channels_last":
            return (input_shape[0], *spatial, channels)
        return (input_shape[0], channels, *spatial)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "groups": self.groups,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        }


_TRANSPOSE_KEYS = (
    "filters", "kernel_size", "strides", "padding", "output_padding", "data_format",
    "dilation_rate", "activation", "use_bias", "kernel_initializer", "bias_initializer",
    "kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint",
    "bias_constraint",
)  # fmt: skip
_DEPTHWISE_KEYS = (
    "depth_multiplier", "kernel_size", "strides", "padding", "data_format", "dilation_rate",
    "activation", "use_bias", "depthwise_initializer", "bias_initializer",
    "depthwise_regularizer", "bias_regularizer", "activity_regularizer",
    "depthwise_constraint", "bias_constraint",
)  # fmt: skip
_SEPARABLE_KEYS = (
    "depth_multiplier", "filters", "kernel_size", "strides", "padding", "data_format",
    "dilation_rate", "activation", "use_bias", "depthwise_initializer",
    "pointwise_initializer", "bias_initializer", "depthwise_regularizer",
    "pointwise_regularizer", "bias_regularizer", "activity_regularizer",
    "depthwise_constraint", "pointwise_constraint", "bias_constraint",
)  # fmt: skip


class Conv1D(_Conv):
    """1D convolution (temporal), kernel `(kernel_size, in // groups, filters)`.

    Arguments as Keras's: `filters, kernel_size, strides=1, padding="valid"` ("same",
    "causal"), `data_format=None, dilation_rate=1, groups=1, activation=None, use_bias=True`,
    and the kernel/bias initializers, regularizers and constraints. `padding="causal"` pads
    only on the left, so output t never sees inputs after t.

    Example:
    >>> import tritonlayers as keras
    >>> layer = keras.layers.Conv1D(4, 3, padding="same")
    >>> tuple(layer(keras.ops.ones((2, 10, 3))).shape), tuple(layer.kernel.shape)
    ((2, 10, 4), (3, 3, 4))
    """

    rank = 1


Convolution1D = Conv1D


class Conv2D(_Conv):
    """2D convolution (spatial over images), kernel `(kh, kw, in // groups, filters)`.

    Arguments as Keras's: `filters, kernel_size, strides=(1, 1), padding="valid"` ("same"),
    `data_format=None, dilation_rate=(1, 1), groups=1, activation=None, use_bias=True`, and
    the kernel/bias initializers, regularizers and constraints.

    Example:
    >>> import tritonlayers as keras
    >>> layer = keras.layers.Conv2D(8, 3, strides=2, padding="same")
    >>> tuple(layer(keras.ops.ones((1, 9, 9, 3))).shape), tuple(layer.kernel.shape)
    ((1, 5, 5, 8), (3, 3, 3, 8))
    """

    rank = 2


Convolution2D = Conv2D


class Conv3D(_Conv):
    """3D convolution (over volumes or video), kernel `(kd, kh, kw, in // groups, filters)`.

    Arguments as Keras's: `filters, kernel_size, strides=(1, 1, 1), padding="valid"`
    ("same"), `data_format=None, dilation_rate=(1, 1, 1), groups=1, activation=None,
    use_bias=True`, and the kernel/bias initializers, regularizers and constraints.

    Example:
    >>> import tritonlayers as keras
    >>> layer = keras.layers.Conv3D(4, 3, strides=2, padding="same")
    >>> tuple(layer(keras.ops.ones((1, 5, 6, 7, 2))).shape), tuple(layer.kernel.shape)
    ((1, 3, 3, 4, 4), (3, 3, 3, 2, 4))
    """

    rank = 3


Convolution3D = Conv3D


def _transposed_length(length, window, padding, output_padding, stride, dilation):
    """Keras's output length of a transposed convolution along one axis."""
    if length is None:
        return None
    effective = (window - 1) * dilation + 1
    if padding == "valid":
        extra = max(effective, stride) - effective if output_padding is None else output_padding
        return (length - 1) * stride + effective + extra
    if output_padding is None:
        return length * stride
    return (length - 1) * stride + effective % 2 + output_padding


def _output_padding(value, rank: int, strides: tuple) -> "tuple | None":
    """`output_padding` as a tuple of `rank` ints in `[0, stride)`, or None."""
    if value is None:
        return None
    values = (value,) * rank if isinstance(value, int) else tuple(value)
    if len(values) != rank or not all(isinstance(v, int) and v >= 0 for v in values):
        raise ValueError(
            f"The `output_padding` argument must be a tuple of {rank} non-negative integers. "
            f"Received: output_padding={value}"
        )
    for index, (extra, stride) in enumerate(zip(values, strides)):
        if extra >= stride:
            raise ValueError(
                "`output_padding` must be strictly less than `strides` for all dimensions. "
                f"At dimension {index}, `output_padding` is {extra} but `strides` is {stride}. "
                f"Received: output_padding={values}, strides={strides}"
            )
    return values


class _ConvTranspose(_Conv):
    """Transposed N-D convolution; kernel `(*window, filters, in_channels)`.

    The output size follows Keras: `input * strides` for "same", and
    `(input - 1) * strides + kernel` for "valid" (plus `output_padding` when given).
    """

    _allows_causal = False

    def __init__(
        self,
        filters: int,
        kernel_size,
        strides=1,
        padding: str = "valid",
        output_padding=None,
        data_format=None,
        dilation_rate=1,
        **kwargs,
    ):
        if "groups" in kwargs:
            raise ValueError(
                f"Unrecognized keyword arguments passed to {type(self).__name__}: "
                f"{{'groups': {kwargs['groups']}}}"
            )
        super().__init__(
            filters, kernel_size, strides, padding, data_format, dilation_rate, **kwargs
        )
        self.output_padding = _output_padding(output_padding, self.rank, self.strides)

    def _kernel_shape(self, in_channels: int) -> tuple:
        return (*self.kernel_size, self.filters, in_channels)

    def _output_lengths(self, spatial) -> list:
        output_padding = self.output_padding or (None,) * self.rank
        return [
            _transposed_length(length, window, self.padding, extra, stride, dilation)
            for length, window, extra, stride, dilation in zip(
                spatial, self.kernel_size, output_padding, self.strides, self.dilation_rate
            )
        ]

    def call(self, inputs):
        x = to_channels_first(inputs, self.data_format)
        full = _TRANSPOSED_CONVOLUTIONS[self.rank](
            x,
            _torch_layout(self.kernel),
            stride=self.strides,
            dilation=self.dilation_rate,
        )
        # `full` is the whole scatter, (in - 1) * stride + effective_kernel long per axis.
        # Keras's output is the window of it that a "same"/"valid" convolution of the
        # target length would read: it starts at that convolution's leading padding and is
        # zero-filled past the end of `full`.
        pads = []
        for length, target, window, stride, dilation in zip(
            x.shape[2:],
            self._output_lengths(x.shape[2:]),
            self.kernel_size,
            self.strides,
            self.dilation_rate,
        ):
            effective = (window - 1) * dilation + 1
            total = max((length - 1) * stride + effective - target, 0)
            before = total // 2 if self.padding == "same" else 0
            full_length = (length - 1) * stride + effective
            pads.append((-before, target - (full_length - before)))
        outputs = pad_spatial(full, pads)
        if self.bias is not None:
            outputs = outputs + self.bias.reshape(-1, *[1] * self.rank)
        return self.activation(from_channels_first(outputs, self.data_format))

    def compute_output_shape(self, input_shape):
        spatial = input_shape[1:-1] if self.data_format == "channels_last" else input_shape[2:]
        spatial = self._output_lengths(spatial)
        if self.data_format == "channels_last":
            return (input_shape[0], *spatial, self.filters)
        return (input_shape[0], self.filters, *spatial)

    def get_config(self):
        config = super().get_config()
        config.pop("groups")
        return in_keras_order({**config, "output_padding": self.output_padding}, _TRANSPOSE_KEYS)


class Conv1DTranspose(_ConvTranspose):
    """Transposed 1D convolution, kernel `(kernel_size, filters, in_channels)`.

    Arguments as Keras's: `filters, kernel_size, strides=1, padding="valid"` ("same"),
    `output_padding=None, data_format=None, dilation_rate=1, activation=None,
    use_bias=True`, and the kernel/bias initializers, regularizers and constraints.

    Example:
    >>> import tritonlayers as keras
    >>> layer = keras.layers.Conv1DTranspose(4, 3, strides=2, padding="same")
    >>> tuple(layer(keras.ops.ones((2, 5, 3))).shape), tuple(layer.kernel.shape)
    ((2, 10, 4), (3, 4, 3))
    """

    rank = 1


Convolution1DTranspose = Conv1DTranspose


class Conv2DTranspose(_ConvTranspose):
    """Transposed 2D convolution ("deconvolution"), kernel `(kh, kw, filters, in_channels)`.

    The output size follows Keras: `input * strides` for "same", and
    `(input - 1) * strides + kernel` for "valid" (plus `output_padding` when given). Other
    arguments as `Conv2D`'s, without `groups`.

    Example:
    >>> import tritonlayers as keras
    >>> layer = keras.layers.Conv2DTranspose(4, 3, strides=2, padding="same")
    >>> tuple(layer(keras.ops.ones((1, 5, 5, 2))).shape), tuple(layer.kernel.shape)
    ((1, 10, 10, 4), (3, 3, 4, 2))
    """

    rank = 2


Convolution2DTranspose = Conv2DTranspose


class Conv3DTranspose(_ConvTranspose):
    """Transposed 3D convolution, kernel `(kd, kh, kw, filters, in_channels)`.

    The output size follows Keras: `input * strides` for "same", and
    `(input - 1) * strides + kernel` for "valid" (plus `output_padding` when given). Other
    arguments as `Conv3D`'s, without `groups`; as in Keras, `data_format` comes before
    `output_padding` in this layer's positional order.

    Example:
    >>> import tritonlayers as keras
    >>> layer = keras.layers.Conv3DTranspose(4, 3, strides=2, padding="same")
    >>> tuple(layer(keras.ops.ones((1, 2, 3, 4, 2))).shape), tuple(layer.kernel.shape)
    ((1, 4, 6, 8, 4), (3, 3, 3, 4, 2))
    """

    rank = 3

    def __init__(
        self,
        filters: int,
        kernel_size,
        strides=(1, 1, 1),
        padding: str = "valid",
        data_format=None,
        output_padding=None,
        dilation_rate=(1, 1, 1),
        **kwargs,
    ):
        super().__init__(
            filters,
            kernel_size,
            strides,
            padding,
            output_padding=output_padding,
            data_format=data_format,
            dilation_rate=dilation_rate,
            **kwargs,
        )


Convolution3DTranspose = Conv3DTranspose


class _DepthwiseConv(_Conv):
    """Depthwise N-D convolution: each input channel convolved with its own
    `depth_multiplier` filters; kernel `(*window, in_channels, depth_multiplier)`."""

    _allows_causal = False

    def __init__(
        self,
        kernel_size,
        strides=1,
        padding: str = "valid",
        depth_multiplier: int = 1,
        data_format=None,
        dilation_rate=1,
        activation=None,
        use_bias: bool = True,
        depthwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        depthwise_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(
            None,
            kernel_size,
            strides,
            padding,
            data_format,
            dilation_rate,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=depthwise_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=depthwise_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            kernel_constraint=depthwise_constraint,
            bias_constraint=bias_constraint,
            **kwargs,
        )
        if not isinstance(depth_multiplier, int) or depth_multiplier <= 0:
            raise ValueError(
                "Invalid value for argument `depth_multiplier`. Expected a strictly positive "
                f"value. Received depth_multiplier={depth_multiplier}."
            )
        self.depth_multiplier = depth_multiplier

    def _add_depthwise_kernel(self, channels: int, name: str):
        return self.add_weight(
            name=name,
            shape=(*self.kernel_size, channels, self.depth_multiplier),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self.compute_output_shape(input_shape)  # as in Keras: rejects windows too large
        self.kernel = self._add_depthwise_kernel(channels, "kernel")
        self._add_bias(channels * self.depth_multiplier)

    def _depthwise(self, x: torch.Tensor, kernel: torch.Tensor, bias) -> torch.Tensor:
        """Convolve channels_first `x` per channel with `kernel (*window, in, m)`; output
        channel `c * m + j` is input channel c's filter j, as in Keras."""
        grouped = kernel.reshape(*kernel.shape[:-2], 1, -1)
        return _CONVOLUTIONS[self.rank](
            self._padded(x),
            _torch_layout(grouped),
            bias,
            stride=self.strides,
            dilation=self.dilation_rate,
            groups=x.shape[1],
        )

    def call(self, inputs):
        x = to_channels_first(inputs, self.data_format)
        outputs = self._depthwise(x, self.kernel, self.bias)
        return self.activation(from_channels_first(outputs, self.data_format))

    def _output_channels(self, input_shape) -> int:
        return input_shape[self._channel_axis] * self.depth_multiplier

    def get_config(self):
        config = super().get_config()
        for key in ("filters", "groups"):
            config.pop(key)
        for part in ("initializer", "regularizer", "constraint"):
            config[f"depthwise_{part}"] = config.pop(f"kernel_{part}")
        return in_keras_order(
            {**config, "depth_multiplier": self.depth_multiplier}, _DEPTHWISE_KEYS
        )


class DepthwiseConv1D(_DepthwiseConv):
    """Depthwise 1D convolution: each input channel convolved with its own
    `depth_multiplier` filters; kernel `(kernel_size, in_channels, depth_multiplier)`.

    Arguments as Keras's: `kernel_size, strides=1, padding="valid"` ("same"),
    `depth_multiplier=1, data_format=None, dilation_rate=1, activation=None, use_bias=True`,
    and the depthwise/bias initializers, regularizers and constraints.

    Example:
    >>> import tritonlayers as keras
    >>> layer = keras.layers.DepthwiseConv1D(3, depth_multiplier=2)
    >>> tuple(layer(keras.ops.ones((2, 10, 3))).shape), tuple(layer.kernel.shape)
    ((2, 8, 6), (3, 3, 2))
    """

    rank = 1


class DepthwiseConv2D(_DepthwiseConv):
    """Depthwise 2D convolution: each input channel convolved with its own
    `depth_multiplier` filters; kernel `(kh, kw, in_channels, depth_multiplier)`.

    Example:
    >>> import tritonlayers as keras
    >>> layer = keras.layers.DepthwiseConv2D(3, depth_multiplier=2)
    >>> tuple(layer(keras.ops.ones((1, 5, 5, 3))).shape), tuple(layer.kernel.shape)
    ((1, 3, 3, 6), (3, 3, 3, 2))
    """

    rank = 2


class _SeparableConv(_DepthwiseConv):
    """Depthwise N-D convolution followed by a pointwise (1x1) convolution to `filters`.

    Weights: `depthwise_kernel (*window, in, depth_multiplier)` and
    `pointwise_kernel (*ones, in * depth_multiplier, filters)`.
    """

    def __init__(
        self,
        filters: int,
        kernel_size,
        strides=1,
        padding: str = "valid",
        data_format=None,
        dilation_rate=1,
        depth_multiplier: int = 1,
        pointwise_initializer="glorot_uniform",
        pointwise_regularizer=None,
        pointwise_constraint=None,
        **kwargs,
    ):
        super().__init__(
            kernel_size, strides, padding, depth_multiplier, data_format, dilation_rate, **kwargs
        )
        self.filters = filters
        self._check_arguments()
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.pointwise_constraint = constraints.get(pointwise_constraint)

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self.compute_output_shape(input_shape)  # as in Keras: rejects windows too large
        self.depthwise_kernel = self._add_depthwise_kernel(channels, "depthwise_kernel")
        self.pointwise_kernel = self.add_weight(
            name="pointwise_kernel",
            shape=(*(1,) * self.rank, channels * self.depth_multiplier, self.filters),
            initializer=self.pointwise_initializer,
            regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint,
        )
        self._add_bias(self.filters)

    def call(self, inputs):
        x = to_channels_first(inputs, self.data_format)
        depthwise = self._depthwise(x, self.depthwise_kernel, None)
        pointwise = _torch_layout(self.pointwise_kernel)
        outputs = _CONVOLUTIONS[self.rank](depthwise, pointwise, self.bias)
        return self.activation(from_channels_first(outputs, self.data_format))

    def _output_channels(self, input_shape) -> int:
        return self.filters

    def get_config(self):
        config = {
            **super().get_config(),
            "filters": self.filters,
            "pointwise_initializer": initializers.serialize(self.pointwise_initializer),
            "pointwise_regularizer": regularizers.serialize(self.pointwise_regularizer),
            "pointwise_constraint": constraints.serialize(self.pointwise_constraint),
        }
        return in_keras_order(config, _SEPARABLE_KEYS)


class SeparableConv1D(_SeparableConv):
    """Depthwise 1D convolution followed by a pointwise convolution to `filters` channels.

    Weights: `depthwise_kernel (kernel_size, in, depth_multiplier)` and
    `pointwise_kernel (1, in * depth_multiplier, filters)`. Other arguments as
    `DepthwiseConv1D`'s, plus the pointwise initializer, regularizer and constraint.

    Example:
    >>> import tritonlayers as keras
    >>> layer = keras.layers.SeparableConv1D(4, 3, depth_multiplier=2)
    >>> tuple(layer(keras.ops.ones((2, 10, 3))).shape), tuple(layer.pointwise_kernel.shape)
    ((2, 8, 4), (1, 6, 4))
    """

    rank = 1


class SeparableConv2D(_SeparableConv):
    """Depthwise 2D convolution followed by a 1x1 pointwise convolution to `filters` channels.

    Weights: `depthwise_kernel (kh, kw, in, depth_multiplier)` and
    `pointwise_kernel (1, 1, in * depth_multiplier, filters)`. Other arguments as
    `DepthwiseConv2D`'s.

    Example:
    >>> import tritonlayers as keras
    >>> layer = keras.layers.SeparableConv2D(4, 3, padding="same")
    >>> tuple(layer(keras.ops.ones((1, 5, 5, 3))).shape)
    (1, 5, 5, 4)
    """

    rank = 2


SeparableConvolution1D = SeparableConv1D
SeparableConvolution2D = SeparableConv2D
