"""Normalization layers: BatchNormalization, LayerNormalization, GroupNormalization,
RMSNormalization and UnitNormalization.

Statistics are computed in float32 when the inputs are float16/bfloat16, as in Keras.
"""

import warnings

import torch

from .. import constraints, initializers, regularizers
from ..dtype_policies import to_torch_dtype
from ._arguments import in_keras_order
from .input_spec import InputSpec
from .layer import Layer

_HALF_TYPES = (torch.float16, torch.bfloat16)


def _float32_at_least(x: torch.Tensor) -> torch.Tensor:
    return x.float() if x.dtype in _HALF_TYPES or not x.is_floating_point() else x


def _output_dtype(layer: Layer, inputs: torch.Tensor) -> torch.dtype:
    """The input's float dtype; integer inputs (e.g. uint8 images) give the compute dtype."""
    return inputs.dtype if inputs.is_floating_point() else to_torch_dtype(layer.compute_dtype)


def _broadcast_shape(ndim: int, axes: "tuple[int, ...]", shape) -> list:
    """A shape of `ndim` ones except the sizes of `shape` on `axes`."""
    out = [1] * ndim
    for axis in axes:
        out[axis] = shape[axis]
    return out


def _checked_axes(layer: Layer, ndim: int) -> "tuple[int, ...]":
    """`layer.axis` (an int or a list of them) as sorted non-negative axes of a rank-`ndim`
    input; an axis the input lacks is an error naming the layer."""
    axes = layer.axis if isinstance(layer.axis, (list, tuple)) else (layer.axis,)
    for axis in axes:
        if not -ndim <= axis < ndim:
            raise ValueError(
                f'Layer "{layer.name}": invalid axis {axis} for an input of rank {ndim}.'
            )
    return tuple(sorted(axis % ndim for axis in axes))


class _AffineNormalization(Layer):
    """Shared state of the normalizations with an optional per-feature `gamma` and `beta`
    (their initializers, regularizers and constraints are keyword arguments of every
    normalization layer)."""

    def __init__(
        self,
        axis=-1,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.axis = axis
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.supports_masking = True

    def _axes(self, ndim: int) -> "tuple[int, ...]":
        return _checked_axes(self, ndim)

    def _add_affine_weights(self, shape: tuple, scale=None, center=None) -> None:
        """`gamma` when `scale` and `beta` when `center` (the layer's flags when None)."""
        scale = self.scale if scale is None else scale
        center = self.center if center is None else center
        self.gamma = self.beta = None
        if scale:
            self.gamma = self.add_weight(
                name="gamma",
                shape=shape,
                initializer=self.gamma_initializer,
                regularizer=self.gamma_regularizer,
                constraint=self.gamma_constraint,
                autocast=False,
            )
        if center:
            self.beta = self.add_weight(
                name="beta",
                shape=shape,
                initializer=self.beta_initializer,
                regularizer=self.beta_regularizer,
                constraint=self.beta_constraint,
                autocast=False,
            )

    def _affine(self, normalized: torch.Tensor, shape: list, gamma=None, beta=None):
        """`normalized * gamma + beta` with the per-feature vectors reshaped to `shape`
        (the layer's own `gamma`/`beta` unless given)."""
        gamma = self.gamma if gamma is None else gamma
        beta = self.beta if beta is None else beta
        if gamma is not None:
            normalized = normalized * gamma.reshape(shape)
        if beta is not None:
            normalized = normalized + beta.reshape(shape)
        return normalized

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
        }


_BATCH_NORMALIZATION_KEYS = (
    "axis", "momentum", "epsilon", "center", "scale", "beta_initializer",
    "gamma_initializer", "moving_mean_initializer", "moving_variance_initializer",
    "beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint",
    "synchronized", "renorm", "renorm_clipping", "renorm_momentum",
)  # fmt: skip


def _moving(average: torch.Tensor, value: torch.Tensor, momentum: float) -> torch.Tensor:
    """Keras's moving-average step: `average * momentum + value * (1 - momentum)`."""
    return average * momentum + value * (1.0 - momentum)


def _checked_renorm_clipping(clipping: "dict | None") -> dict:
    clipping = dict(clipping or {})
    unknown = set(clipping) - {"rmax", "rmin", "dmax"}
    if unknown:
        raise ValueError(
            f"Received invalid keys for `renorm_clipping` argument: {clipping}. Supported "
            "values: ['rmax', 'rmin', 'dmax']."
        )
    rmin, rmax, dmax = (clipping.get(key) for key in ("rmin", "rmax", "dmax"))
    if rmin is not None and rmax is not None and rmax < rmin:
        raise ValueError(
            "rmax should be greater than rmin in the `renorm_clipping` argument. Received: "
            f"rmax={rmax}, rmin={rmin}."
        )
    if dmax is not None and dmax < 0:
        raise ValueError(
            f"dmax should be non-negative in the `renorm_clipping` argument. Received: dmax={dmax}."
        )
    return clipping


class BatchNormalization(_AffineNormalization):
    """Normalizes with the batch's statistics in training, and with moving averages otherwise.

    In training (and when the layer is trainable) it also updates the non-trainable
    `moving_mean`/`moving_variance`: `moving = moving * momentum + batch * (1 - momentum)`.
    Masked timesteps are left out of the batch statistics. `renorm=True` is batch
    renormalization (Ioffe, 2017) as Keras 3 implements it: corrections `r`, `d` (clipped by
    `renorm_clipping` {"rmin", "rmax", "dmax"}, no gradient) against moving statistics
    updated with `renorm_momentum`.

    Example:
    >>> import torch, tritonlayers as keras
    >>> layer = keras.layers.BatchNormalization(momentum=0.5)
    >>> _ = layer(torch.tensor([[0.0], [2.0]]), training=True)
    >>> layer.moving_mean.tolist(), layer.moving_variance.tolist()
    ([0.5], [1.0])
    """

    def __init__(
        self,
        axis: int = -1,
        momentum: float = 0.99,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        moving_mean_initializer="zeros",
        moving_variance_initializer="ones",
        synchronized: bool = False,
        renorm: bool = False,
        renorm_clipping: "dict | None" = None,
        renorm_momentum: float = 0.99,
        **kwargs,
    ):
        super().__init__(int(axis), epsilon, center, scale, **kwargs)
        self.momentum = float(momentum)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.synchronized = synchronized
        self.renorm = renorm
        self.renorm_clipping = (
            _checked_renorm_clipping(renorm_clipping) if renorm else renorm_clipping
        )
        self.renorm_momentum = renorm_momentum

    def build(self, input_shape):
        (axis,) = self._axes(len(input_shape))
        shape = (input_shape[axis],)
        self._add_affine_weights(shape)
        self.moving_mean = self.add_weight(
            name="moving_mean",
            shape=shape,
            initializer=self.moving_mean_initializer,
            trainable=False,
            autocast=False,
        )
        self.moving_variance = self.add_weight(
            name="moving_variance",
            shape=shape,
            initializer=self.moving_variance_initializer,
            trainable=False,
            autocast=False,
        )
        if self.renorm:
            self._add_renorm_weights(shape)
        self.input_spec = InputSpec(ndim=len(input_shape), axes={self.axis: input_shape[axis]})

    def _add_renorm_weights(self, shape: tuple) -> None:
        """Batch renormalization tracks moving standard deviations (started at the square
        root of the moving-variance initializer) and its own training-time moving mean."""

        def stddev_initializer(shape, dtype=None):
            return torch.sqrt(torch.as_tensor(self.moving_variance_initializer(shape, dtype)))

        def state(name, initializer):
            return self.add_weight(
                name=name, shape=shape, initializer=initializer, trainable=False, autocast=False
            )

        self.moving_stddev = state("moving_stddev", stddev_initializer)
        self.renorm_mean = state("renorm_mean", self.moving_mean_initializer)
        self.renorm_stddev = state("renorm_stddev", stddev_initializer)

    def call(self, inputs, training=None, mask=None):
        x = _float32_at_least(inputs)
        (axis,) = self._axes(x.ndim)
        shape = _broadcast_shape(x.ndim, (axis,), x.shape)
        gamma = beta = None
        if training and self.trainable:
            mean, variance = self._moments(x, axis, mask)
            if self.renorm:
                gamma, beta = self._renormalize(mean, variance)
            else:
                self.moving_mean.assign(_moving(self.moving_mean, mean, self.momentum))
                self.moving_variance.assign(_moving(self.moving_variance, variance, self.momentum))
        else:
            mean, variance = self.moving_mean, self.moving_variance
        normalized = (x - mean.reshape(shape)) * torch.rsqrt(variance.reshape(shape) + self.epsilon)
        return self._affine(normalized, shape, gamma, beta).to(_output_dtype(self, inputs))

    def _renormalize(self, mean, variance) -> tuple:
        """Batch renormalization: the (gamma, beta) that apply the corrections
        `(x_hat * r + d) * gamma + beta`, and the update of every moving statistic."""
        stddev = torch.sqrt(variance + self.epsilon)
        renorm_stddev = torch.clamp_min(self.renorm_stddev, self.epsilon**0.5)
        r = (stddev / renorm_stddev).detach()
        d = ((mean - self.renorm_mean) / renorm_stddev).detach()
        clipping = self.renorm_clipping
        if clipping.get("rmin") is not None or clipping.get("rmax") is not None:
            r = torch.clamp(r, clipping.get("rmin"), clipping.get("rmax"))
        if clipping.get("dmax") is not None:
            d = torch.clamp(d, -clipping["dmax"], clipping["dmax"])
        self.renorm_mean.assign(_moving(self.renorm_mean, mean, self.renorm_momentum))
        self.renorm_stddev.assign(_moving(self.renorm_stddev, stddev, self.renorm_momentum))
        self.moving_mean.assign(_moving(self.moving_mean, mean, self.momentum))
        moving_stddev = _moving(self.moving_stddev, stddev, self.momentum)
        self.moving_stddev.assign(moving_stddev)
        self.moving_variance.assign(torch.relu(moving_stddev.square() - self.epsilon))
        gamma = r if self.gamma is None else r * self.gamma
        beta = d if self.gamma is None else d * self.gamma
        if self.beta is not None:
            beta = beta + self.beta
        return gamma, beta

    @staticmethod
    def _moments(x: torch.Tensor, axis: int, mask) -> tuple:
        """Biased mean and variance over every axis but `axis`, weighted by the mask if any."""
        reduce = [i for i in range(x.ndim) if i != axis]
        if mask is None:
            variance, mean = torch.var_mean(x, dim=reduce, correction=0)
            return mean, variance
        weights = mask.to(x.dtype).reshape(*mask.shape, *[1] * (x.ndim - mask.ndim))
        count = torch.sum(weights, dim=reduce)
        mean = torch.sum(weights * x, dim=reduce) / count.clamp_min(1)
        centered = x - mean.reshape(_broadcast_shape(x.ndim, (axis,), x.shape))
        variance = torch.sum(weights * centered.square(), dim=reduce) / count.clamp_min(1)
        return mean, variance

    def get_config(self):
        config = {
            **super().get_config(),
            "momentum": self.momentum,
            "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
            "moving_variance_initializer": initializers.serialize(self.moving_variance_initializer),
            "synchronized": self.synchronized,
            "renorm": self.renorm,
            "renorm_clipping": self.renorm_clipping,
            "renorm_momentum": self.renorm_momentum,
        }
        return in_keras_order(config, _BATCH_NORMALIZATION_KEYS)


class LayerNormalization(_AffineNormalization):
    """Normalizes each sample over `axis` (the last by default), then scales and shifts.

    The arguments are Keras 3's, in its order. `rms_scaling=True` (a keyword only, which
    Keras deprecates with a warning) divides by `sqrt(variance + epsilon)` and only scales.
    Once built, `axis` is a sorted list, as Keras keeps it.

    Example:
    >>> import torch, tritonlayers as keras
    >>> layer = keras.layers.LayerNormalization(epsilon=0.0)
    >>> layer(torch.tensor([[1.0, 3.0]])).tolist(), layer.axis
    ([[-1.0, 1.0]], [-1])
    """

    def __init__(
        self,
        axis=-1,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        **kwargs,
    ):
        rms_scaling = kwargs.pop("rms_scaling", False)
        if rms_scaling:
            warnings.warn(
                "You passed `rms_scaling=True`, which is deprecated. This argument incorrectly "
                "scales the input by the variance, not the root mean square. To correctly use "
                "RMS Normalization, please use `keras.layers.RMSNormalization` instead.",
                stacklevel=2,
            )
        axis = list(axis) if isinstance(axis, (list, tuple)) else axis
        super().__init__(
            axis,
            epsilon,
            center,
            scale,
            beta_initializer=beta_initializer,
            gamma_initializer=gamma_initializer,
            beta_regularizer=beta_regularizer,
            gamma_regularizer=gamma_regularizer,
            beta_constraint=beta_constraint,
            gamma_constraint=gamma_constraint,
            **kwargs,
        )
        self.rms_scaling = rms_scaling

    def build(self, input_shape):
        self.axis = sorted(self.axis) if isinstance(self.axis, list) else [self.axis]
        axes = self._axes(len(input_shape))
        # As in Keras: a gamma when scaling or rms_scaling, a beta only without rms_scaling.
        self._add_affine_weights(
            tuple(input_shape[axis] for axis in axes),
            scale=self.scale or self.rms_scaling,
            center=self.center and not self.rms_scaling,
        )

    def call(self, inputs):
        x = _float32_at_least(inputs)
        axes = self._axes(x.ndim)
        if not self.rms_scaling and axes == tuple(range(axes[0], x.ndim)):
            # Trailing axes: torch's fused layer norm, as Keras's torch backend calls it (a
            # gamma of the wrong size fails with torch's message there too).
            normalized_shape = tuple(x.shape[axes[0] :])
            gamma, beta = (None if v is None else v.to(x.dtype) for v in (self.gamma, self.beta))
            outputs = torch.nn.functional.layer_norm(x, normalized_shape, gamma, beta, self.epsilon)
            return outputs.to(_output_dtype(self, inputs))
        variance, mean = torch.var_mean(x, dim=axes, correction=0, keepdim=True)
        centered = x if self.rms_scaling else x - mean
        normalized = centered * torch.rsqrt(variance + self.epsilon)
        return self._affine(normalized, _broadcast_shape(x.ndim, axes, x.shape)).to(
            _output_dtype(self, inputs)
        )

    def get_config(self):
        config = super().get_config()
        keys = list(config)
        at = keys.index("scale") + 1
        ordered = [*keys[:at], "rms_scaling", *keys[at:]]
        config["rms_scaling"] = self.rms_scaling
        return {key: config[key] for key in ordered}


# Keras lists `groups` first, then the keys it shares with the other normalizations.
_GROUP_NORM_KEYS = (
    "groups",
    "axis",
    "epsilon",
    "center",
    "scale",
    "beta_initializer",
    "gamma_initializer",
    "beta_regularizer",
    "gamma_regularizer",
    "beta_constraint",
    "gamma_constraint",
)


class GroupNormalization(_AffineNormalization):
    """Normalizes each sample over groups of channels (`groups` of them) and its other axes.

    Example:
    >>> import torch, tritonlayers as keras
    >>> layer = keras.layers.GroupNormalization(groups=2, epsilon=0.0)
    >>> layer(torch.tensor([[1.0, 3.0, 0.0, 4.0]])).tolist()
    [[-1.0, 1.0, -1.0, 1.0]]
    """

    def __init__(
        self,
        groups: int = 32,
        axis: int = -1,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        **kwargs,
    ):
        super().__init__(axis, epsilon, center, scale, **kwargs)
        self.groups = groups

    def build(self, input_shape):
        (axis,) = self._axes(len(input_shape))
        channels = input_shape[axis]
        if channels is None:
            raise ValueError(
                f'Layer "{self.name}": axis {self.axis} of input tensor should have a defined '
                f"dimension but the layer received an input with shape {tuple(input_shape)}."
            )
        if self.groups == -1:
            self.groups = channels
        if channels < self.groups or channels % self.groups:
            raise ValueError(
                f'Layer "{self.name}": number of groups ({self.groups}) must divide the number '
                f"of channels ({channels}). Input shape: {tuple(input_shape)}."
            )
        self.input_spec = InputSpec(ndim=len(input_shape), axes={self.axis: channels})
        self._add_affine_weights((channels,))

    def call(self, inputs):
        x = _float32_at_least(inputs)
        (axis,) = self._axes(x.ndim)
        channels_last = torch.movedim(x, axis, -1)
        grouped = channels_last.reshape(*channels_last.shape[:-1], self.groups, -1)
        reduce = [*range(1, grouped.ndim - 2), grouped.ndim - 1]
        variance, mean = torch.var_mean(grouped, dim=reduce, correction=0, keepdim=True)
        normalized = ((grouped - mean) * torch.rsqrt(variance + self.epsilon)).reshape(
            channels_last.shape
        )
        normalized = torch.movedim(normalized, -1, axis)
        return self._affine(normalized, _broadcast_shape(x.ndim, (axis,), x.shape)).to(
            _output_dtype(self, inputs)
        )

    def get_config(self):
        return in_keras_order({**super().get_config(), "groups": self.groups}, _GROUP_NORM_KEYS)


class RMSNormalization(Layer):
    """Root-mean-square normalization (Zhang & Sennrich, 2019) with a learnable `scale`.

    `outputs = x * rsqrt(mean(square(x), axis) + epsilon) * scale`, where `scale` (ones at
    first) has the sizes of the input on `axis` (an int or a list of ints). There is no
    centering and no offset.

    Example:
    >>> import torch, tritonlayers as keras
    >>> layer = keras.layers.RMSNormalization(epsilon=0.0)
    >>> layer(torch.tensor([[3.0, 4.0, 0.0, 0.0]])).tolist()
    [[1.2000000476837158, 1.600000023841858, 0.0, 0.0]]
    >>> tuple(layer.scale.shape)
    (4,)
    """

    def __init__(self, axis=-1, epsilon: float = 1e-6, **kwargs):
        super().__init__(**kwargs)
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else axis
        self.epsilon = epsilon
        self.supports_masking = True

    def build(self, input_shape):
        axes = _checked_axes(self, len(input_shape))
        sizes = tuple(input_shape[axis] for axis in axes)
        if any(size is None for size in sizes):
            raise ValueError(
                f'Layer "{self.name}": the normalized axes {self.axis} of the input must have '
                f"defined sizes. Received input shape {tuple(input_shape)}."
            )
        self.input_spec = InputSpec(ndim=len(input_shape), axes=dict(zip(axes, sizes)))
        self.scale = self.add_weight(name="scale", shape=sizes, initializer="ones", autocast=False)

    def call(self, inputs):
        x = _float32_at_least(inputs)
        axes = _checked_axes(self, x.ndim)
        mean_square = torch.mean(x.square(), dim=axes, keepdim=True)
        scale = self.scale.to(x.dtype).reshape(_broadcast_shape(x.ndim, axes, x.shape))
        return (x * torch.rsqrt(mean_square + self.epsilon) * scale).to(_output_dtype(self, inputs))

    def compute_output_shape(self, input_shape):
        _checked_axes(self, len(input_shape))
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon}


class UnitNormalization(Layer):
    """Scales each sample to unit L2 norm over `axis`.

    Example:
    >>> import torch, tritonlayers as keras
    >>> keras.layers.UnitNormalization()(torch.tensor([[3.0, 4.0]])).tolist()
    [[0.6000000238418579, 0.800000011920929]]
    """

    _built_at_init = True

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else axis
        self.supports_masking = True

    def call(self, inputs):
        axes = tuple(self.axis) if isinstance(self.axis, list) else (self.axis,)
        x = _float32_at_least(inputs)
        inv_norm = torch.rsqrt(torch.sum(x.square(), dim=axes, keepdim=True)).clamp(max=1e12)
        return (x * inv_norm).to(_output_dtype(self, inputs))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
