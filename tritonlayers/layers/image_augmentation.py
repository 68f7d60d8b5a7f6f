"""Colour and intensity augmentations (Keras 3's AutoContrast ... RandomSharpness).

They build on the image preprocessing bases: inputs are one image (3-D) or a batch (4-D),
channels last by default (`data_format="channels_first"` otherwise), outputs are in the
compute dtype, and `value_range` says what the pixel values span (`(0, 255)` by default).
Random layers change images only when called with `training=True` (as inside `fit`), draw
their per-image settings from their own `random.SeedGenerator(seed)`, and pass images
through otherwise. AutoContrast applies always, as in Keras; Equalization and Solarization
apply in training only, as in Keras. Only image tensors are accepted: Keras's dict inputs
(with bounding boxes, labels or segmentation masks) get a clear error.
"""

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F

from ..ops.image import hsv_to_rgb, rgb_to_grayscale, rgb_to_hsv
from . import image_sampling as sampling
from ._arguments import in_keras_order
from .image_preprocessing import (
    RandomBrightness,
    RandomContrast,
    _ImageLayer,
    _RandomImageLayer,
    _RandomIntensity,
    _value_range,
)


class _ImagesOnly:
    """Rejects Keras's dict inputs (images with boxes/labels/masks) with a clear error."""

    def _images(self, inputs: Any) -> torch.Tensor:
        if isinstance(inputs, Mapping):
            raise ValueError(
                f"{type(self).__name__}: dict inputs (images with bounding boxes, labels or "
                "segmentation masks) are not supported; pass the image tensor itself. "
                f"Received a dict with keys {sorted(inputs)}"
            )
        return super()._images(inputs)


def channel_axis(data_format: str) -> int:
    """The channel axis of a 3-D or 4-D image tensor."""
    return -3 if data_format == "channels_first" else -1


def spatial_axes(data_format: str) -> tuple:
    """The (height, width) axes of a 3-D or 4-D image tensor."""
    return (-2, -1) if data_format == "channels_first" else (-3, -2)


def per_image(values: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
    """(batch,) values shaped to broadcast against a 3-D or 4-D image tensor."""
    values = values.to(device=images.device, dtype=images.dtype)
    return values.reshape((-1, 1, 1, 1) if images.ndim == 4 else (1, 1, 1))


def batch_size(images: torch.Tensor) -> int:
    """The number of images: the batch size, or 1 for one image."""
    return images.shape[0] if images.ndim == 4 else 1


def to_range(images: torch.Tensor, source, target) -> torch.Tensor:
    """Map values linearly from the range `source` onto `target`."""
    if tuple(source) == tuple(target):
        return images
    unit = (images - source[0]) / (source[1] - source[0])
    return unit * (target[1] - target[0]) + target[0]


def depthwise_filter(images: torch.Tensor, kernel: torch.Tensor, data_format: str):
    """Convolve each channel with the 2-D `kernel` (odd sizes), zero padding, same size."""
    nchw = sampling.to_batched_nchw(images, data_format)
    channels = nchw.shape[1]
    weight = kernel.to(nchw.dtype).expand(channels, 1, *kernel.shape)
    padding = (kernel.shape[0] // 2, kernel.shape[1] // 2)
    filtered = F.conv2d(nchw, weight, padding=padding, groups=channels)
    return sampling.from_batched_nchw(filtered, data_format, images.ndim == 3)


def gaussian_kernel(size: tuple, sigma: tuple, dtype=torch.float32, device=None):
    """A (rows, cols) normalised Gaussian: `size`/`sigma` are (x, y), as Keras's blur."""

    def one_dim(length, scale):
        x = torch.arange(length, dtype=dtype, device=device) - (length - 1) / 2
        weights = torch.exp(-0.5 * (x / scale) ** 2) if length > 1 else torch.ones_like(x)
        return weights / weights.sum()

    return torch.outer(one_dim(size[1], sigma[1]), one_dim(size[0], sigma[0]))


class AutoContrast(_ImagesOnly, _ImageLayer):
    """Stretches each channel of each image to span `value_range` (always applied).

    A channel's minimum maps to the low end and its maximum to the high end; a constant
    channel is left as it is.

    Example:
    >>> import torch
    >>> import tritonlayers as keras
    >>> image = torch.tensor([[[50.0], [100.0], [150.0]]])
    >>> keras.layers.AutoContrast()(image).flatten().tolist()
    [0.0, 127.5, 255.0]
    """

    def __init__(self, value_range: Any = (0, 255), data_format: "str | None" = None, **kwargs):
        value_range = list(_value_range("AutoContrast", value_range))  # a list in Keras's config
        super().__init__(data_format=data_format, **kwargs)
        self.value_range = value_range

    def call(self, inputs):
        images = self._images(inputs)
        scaled = to_range(images, self.value_range, (0, 255))
        low = scaled.amin(dim=spatial_axes(self.data_format), keepdim=True)
        high = scaled.amax(dim=spatial_axes(self.data_format), keepdim=True)
        spread = torch.where(high > low, high - low, torch.ones_like(high))
        stretched = ((scaled - low) * (255.0 / spread)).clamp(0.0, 255.0)
        stretched = to_range(stretched, (0, 255), self.value_range)
        return torch.where(high > low, stretched, images)

    def get_config(self):
        return {**super().get_config(), "value_range": self.value_range}


class Equalization(_ImagesOnly, _ImageLayer):
    """Histogram-equalises each channel in training (pass-through otherwise, as Keras).

    Values are binned into `bins` bins over `value_range`; each bin maps through the
    channel's cumulative histogram onto [0, 255] (rescaled to `value_range`). As Keras
    3.15 does, one histogram per channel is taken over the whole batch. A channel with one
    occupied bin is left as it is.

    Example:
    >>> import torch
    >>> import tritonlayers as keras
    >>> image = torch.tensor([[[0.0], [10.0], [10.0], [20.0]]])
    >>> keras.layers.Equalization()(image, training=True).flatten().tolist()
    [0.0, 170.0, 170.0, 255.0]
    """

    def __init__(
        self,
        value_range: Any = (0, 255),
        bins: int = 256,
        data_format: "str | None" = None,
        **kwargs,
    ):
        value_range = list(_value_range("Equalization", value_range))  # a list in Keras's config
        if isinstance(bins, bool) or not isinstance(bins, int) or bins < 2:
            raise ValueError(
                f"Equalization: `bins` must be an integer of at least 2. Received: bins={bins!r}"
            )
        super().__init__(data_format=data_format, **kwargs)
        self.value_range, self.bins = value_range, bins

    def call(self, inputs, training=True):
        images = self._images(inputs)
        return self._equalize(images) if training else images

    def _equalize(self, images: torch.Tensor) -> torch.Tensor:
        axis = channel_axis(self.data_format)
        channels = images.movedim(axis, -1)
        scaled = to_range(channels, self.value_range, (0, 255))
        flat = scaled.reshape(-1, scaled.shape[-1])  # (pixels of the batch, channels)
        count = flat.shape[1]
        bins = self.bins
        index = (flat.float() * ((bins - 1) / 255.0)).to(torch.int64).clamp(0, bins - 1)
        offsets = torch.arange(count, device=flat.device) * bins
        histogram = torch.bincount((index + offsets).flatten(), minlength=count * bins)
        cdf = histogram.reshape(count, bins).cumsum(dim=1)
        total = cdf[:, -1:]
        cdf_min = torch.where(cdf > 0, cdf, total).amin(dim=1, keepdim=True)
        denominator = torch.where(total == cdf_min, torch.ones_like(total), total - cdf_min)
        table = (((cdf - cdf_min) * 255) / denominator).round().clamp(0, 255)  # (channels, bins)
        lookup = (scaled / 255.0 * (bins - 1)).clamp(0, bins - 1).to(torch.int64)
        equalized = table.gather(1, lookup.reshape(-1, count).T).T.reshape(scaled.shape)
        occupied = (histogram.reshape(count, bins) > 0).sum(dim=1) > 1
        equalized = torch.where(occupied, equalized.to(scaled.dtype), scaled)
        equalized = to_range(equalized, (0, 255), self.value_range)
        return equalized.movedim(-1, axis).to(images.dtype)

    def get_config(self):
        config = {**super().get_config(), "value_range": self.value_range, "bins": self.bins}
        return in_keras_order(config, ("bins", "value_range"))


class RandomGrayscale(_ImagesOnly, _RandomImageLayer):
    """Turns each image to grayscale with probability `factor` in training.

    The luma `0.2989 R + 0.587 G + 0.114 B` is repeated over the channels, so the shape is
    kept (one-channel images are unchanged).

    Example:
    >>> import torch
    >>> import tritonlayers as keras
    >>> layer = keras.layers.RandomGrayscale(factor=1.0)
    >>> out = layer(torch.tensor([[[100.0, 0.0, 0.0]]]), training=True)
    >>> [round(value, 2) for value in out.flatten().tolist()]
    [29.89, 29.89, 29.89]
    """

    def __init__(
        self,
        factor: float = 0.5,
        data_format: "str | None" = None,
        seed: "int | None" = None,
        **kwargs,
    ):
        if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not 0 <= factor <= 1:
            raise ValueError(
                f"RandomGrayscale: `factor` should be a number between 0 and 1. "
                f"Received: factor={factor!r}"
            )
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = factor

    def augment(self, images):
        apply = self._uniform(batch_size(images), 0.0, 1.0, images) < self.factor
        gray = rgb_to_grayscale(images, self.data_format).expand_as(images)
        return torch.where(per_image(apply, images).bool(), gray, images)

    def get_config(self):
        config = {**super().get_config(), "factor": self.factor}
        return in_keras_order(config, ("factor", "seed"))


class _ColorIntensity(_ImagesOnly, _RandomIntensity):
    """A `_RandomIntensity` with Keras's argument order of the colour layers."""

    def __init__(
        self,
        factor: Any,
        value_range: Any = (0, 255),
        data_format: "str | None" = None,
        seed: "int | None" = None,
        **kwargs,
    ):
        super().__init__(factor, value_range, seed=seed, data_format=data_format, **kwargs)


class RandomHue(_ColorIntensity):
    """Rotates each image's hue by a random amount in training.

    A draw f from the `factor` range ([0, f] for a number f in [0, 1]) shifts the hue by
    ±f/2 of a full turn (random sign): 0 keeps the colours, 1 may give their complements.

    Example:
    >>> import torch
    >>> import tritonlayers as keras
    >>> layer = keras.layers.RandomHue((1.0, 1.0), value_range=(0, 1))  # half a turn
    >>> layer(torch.tensor([[[1.0, 0.0, 0.0]]]), training=True).flatten().tolist()
    [0.0, 1.0, 1.0]
    """

    FACTOR_BOUNDS = (0, 1)
    RANGE_AS_GIVEN = True

    def augment(self, images):
        count = batch_size(images)
        sign = torch.where(self._uniform(count, 0.0, 1.0, images) > 0.5, -1.0, 1.0)
        shift = per_image(sign * self._uniform(count, *self.factor, images) * 0.5, images)
        hsv = rgb_to_hsv(to_range(images, self.value_range, (0, 1)), self.data_format)
        hue, saturation, value = hsv.unbind(channel_axis(self.data_format))
        hue = hue + shift.squeeze(channel_axis(self.data_format))
        hue = torch.where(hue > 1.0, hue - 1.0, hue)
        hue = torch.where(hue < 0.0, hue + 1.0, hue)
        hsv = torch.stack([hue, saturation, value], dim=channel_axis(self.data_format))
        rgb = hsv_to_rgb(hsv, self.data_format).clamp(0.0, 1.0)
        return to_range(rgb, (0, 1), self.value_range)


class RandomSaturation(_ColorIntensity):
    """Scales each image's colour saturation by a random amount in training.

    A draw f from the `factor` range ([0, f] for a number f in [0, 1]) multiplies the
    saturation by f / (1 - f): 0 gives grayscale, 0.5 keeps the image, 1 saturates fully.
    The saturation is clipped to [0, 1] (Keras 3.15 clips it to `value_range`, which lets
    values go negative for f > 0.5 with the default range).

    Example:
    >>> import torch
    >>> import tritonlayers as keras
    >>> layer = keras.layers.RandomSaturation((0.0, 0.0), value_range=(0, 1))
    >>> layer(torch.tensor([[[1.0, 0.5, 0.0]]]), training=True).flatten().tolist()
    [1.0, 1.0, 1.0]
    """

    FACTOR_BOUNDS = (0, 1)

    def augment(self, images):
        draw = self._uniform(batch_size(images), *self.factor, images)
        scale = per_image(draw / (1.0 - draw + 1e-7), images)
        axis = channel_axis(self.data_format)
        hue, saturation, value = rgb_to_hsv(images, self.data_format).unbind(axis)
        saturation = (saturation * scale.squeeze(axis)).clamp(0.0, 1.0)
        return hsv_to_rgb(torch.stack([hue, saturation, value], dim=axis), self.data_format)


class RandomColorDegeneration(_ColorIntensity):
    """Blends each image towards its grayscale version by a random amount in training.

    The blend weight is drawn from [-f, f] for a number `factor` f (a pair: its range);
    1 gives grayscale, negative weights push colours away from gray. Results are clipped
    to `value_range`. Images must have 3 channels.

    Example:
    >>> import torch
    >>> import tritonlayers as keras
    >>> layer = keras.layers.RandomColorDegeneration((1.0, 1.0))
    >>> out = layer(torch.tensor([[[100.0, 0.0, 0.0]]]), training=True)
    >>> [round(value, 2) for value in out.flatten().tolist()]
    [29.89, 29.89, 29.89]
    """

    def augment(self, images):
        weight = per_image(self._uniform(batch_size(images), *self.factor, images), images)
        gray = rgb_to_grayscale(images, self.data_format)
        return (images + weight * (gray - images)).clamp(*self.value_range)

    def compute_output_shape(self, input_shape):
        shape = super().compute_output_shape(input_shape)
        channels = shape[channel_axis(self.data_format)]
        if channels is not None and channels != 3:
            raise ValueError(
                f"RandomColorDegeneration: images must have 3 channels. "
                f"Received: input_shape={shape}"
            )
        return shape


def _derived_seed(seed: "int | None", index: int) -> "int | None":
    """A distinct seed for the `index`-th inner layer of a composite augmentation."""
    return None if seed is None else (seed * 1_000_003 + index + 1) % 2**62


class RandomColorJitter(_ImagesOnly, _RandomImageLayer):
    """Applies RandomBrightness, RandomContrast, RandomSaturation and RandomHue in turn.

    Each `*_factor` configures that step as the layer of that name does; None (default)
    skips it. The inner layers get seeds derived from `seed`.

    Example:
    >>> import torch
    >>> import tritonlayers as keras
    >>> layer = keras.layers.RandomColorJitter(value_range=(0, 1), brightness_factor=(0.5, 0.5))
    >>> layer(torch.tensor([[[0.25, 0.5, 0.75]]]), training=True).flatten().tolist()
    [0.75, 1.0, 1.0]
    """

    def __init__(
        self,
        value_range: Any = (0, 255),
        brightness_factor: Any = None,
        contrast_factor: Any = None,
        saturation_factor: Any = None,
        hue_factor: Any = None,
        seed: "int | None" = None,
        data_format: "str | None" = None,
        **kwargs,
    ):
        value_range = _value_range("RandomColorJitter", value_range)
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.value_range = value_range
        self.brightness_factor = brightness_factor
        self.contrast_factor = contrast_factor
        self.saturation_factor = saturation_factor
        self.hue_factor = hue_factor
        steps = (
            ("random_brightness", RandomBrightness, brightness_factor),
            ("random_contrast", RandomContrast, contrast_factor),
            ("random_saturation", RandomSaturation, saturation_factor),
            ("random_hue", RandomHue, hue_factor),
        )
        self.steps = [
            make(
                factor,
                value_range=value_range,
                seed=_derived_seed(seed, index),
                data_format=data_format,
                name=name,
            )
            for index, (name, make, factor) in enumerate(steps)
            if factor is not None
        ]

    def augment(self, images):
        for step in self.steps:
            images = step.augment(images)
        return images

    def get_config(self):
        config = {
            **super().get_config(),
            "value_range": self.value_range,
            "brightness_factor": self.brightness_factor,
            "contrast_factor": self.contrast_factor,
            "saturation_factor": self.saturation_factor,
            "hue_factor": self.hue_factor,
        }
        return in_keras_order(
            config,
            (
                "value_range",
                "brightness_factor",
                "contrast_factor",
                "saturation_factor",
                "hue_factor",
                "seed",
            ),
        )


class RandomInvert(_ImagesOnly, _RandomIntensity):
    """Inverts each image (`value_range[1] - x`) with a random probability in training.

    The probability is drawn from [0, f] for a number `factor` f in [0, 1] (a pair: its
    range); the default 1.0 inverts about half the images.

    Example:
    >>> import torch
    >>> import tritonlayers as keras
    >>> layer = keras.layers.RandomInvert(factor=(1.0, 1.0))  # always
    >>> layer(torch.tensor([[[0.0], [55.0]]]), training=True).flatten().tolist()
    [255.0, 200.0]
    """

    FACTOR_BOUNDS = (0, 1)
    RANGE_AS_GIVEN = True

    def __init__(
        self,
        factor: Any = 1.0,
        value_range: Any = (0, 255),
        seed: "int | None" = None,
        data_format: "str | None" = None,
        **kwargs,
    ):
        super().__init__(factor, value_range, seed, data_format, **kwargs)

    def augment(self, images):
        count = batch_size(images)
        probability = self._uniform(count, *self.factor, images)
        apply = self._uniform(count, 0.0, 1.0, images) < probability
        return torch.where(per_image(apply, images).bool(), self.value_range[1] - images, images)


class RandomPosterization(_ColorIntensity):
    """Keeps a random number of high bits of each 8-bit pixel value in training.

    The number of bits is drawn per image from [low, high) of the `factor` range ([1, f)
    for a number f in [1, 8], as Keras draws it; a pair with equal ends fixes it). Values
    are mapped from `value_range` to [0, 255], truncated to integers, posterized and mapped
    back.

    Example:
    >>> import torch
    >>> import tritonlayers as keras
    >>> layer = keras.layers.RandomPosterization((2, 2))  # keep 2 bits
    >>> layer(torch.tensor([[[200.0], [100.0]]]), training=True).flatten().tolist()
    [192.0, 64.0]
    """

    FACTOR_BOUNDS = (1, 8)

    def augment(self, images):
        low, high = int(self.factor[0]), int(self.factor[1])
        count = batch_size(images)
        if low == high:
            bits = torch.full((count,), low, dtype=torch.int64, device=images.device)
        else:
            draw = self._uniform(count, 0.0, 1.0, images).double()
            bits = (low + (draw * (high - low)).floor()).to(torch.int64).clamp(low, high - 1)
        shift = (8 - bits).reshape((-1, 1, 1, 1) if images.ndim == 4 else (1, 1, 1))
        levels = to_range(images, self.value_range, (0, 255)).clamp(0, 255).to(torch.int64)
        posterized = (levels >> shift) << shift
        return to_range(posterized.to(images.dtype), (0, 255), self.value_range)


def _unit_factor_range(layer: str, name: str, factor: Any) -> tuple:
    """Solarization's rule: a number f in [0, 1] gives (0, f); a pair its sorted values."""
    values = tuple(factor) if isinstance(factor, (tuple, list)) else (factor,)
    valid = len(values) in (1, 2) and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 1 for v in values
    )
    if not valid or (isinstance(factor, (tuple, list)) and len(values) != 2):
        raise ValueError(
            f"{layer}: the `{name}` argument should be a number (or a list of two numbers) in "
            f"the range [0, 1]. Received: {name}={factor!r}"
        )
    return tuple(sorted(values)) if len(values) == 2 else (0, values[0])


class Solarization(_ImagesOnly, _RandomImageLayer):
    """Inverts pixels at or above a threshold, after adding an offset, in training.

    On the [0, 255] scale each image gets an addition drawn from `addition_factor` * 255
    (clipped to [0, 255]) and a threshold drawn from `threshold_factor` * 255; values at or
    above the threshold become `255 - value`. A number f means the range [0, f]. (Keras
    3.15 scales only the upper end of each range by 255; the two agree when the lower end
    is 0.) With the defaults (0, 0) every pixel is inverted.

    Example:
    >>> import torch
    >>> import tritonlayers as keras
    >>> layer = keras.layers.Solarization(threshold_factor=(0.5, 0.5))
    >>> layer(torch.tensor([[[100.0], [200.0]]]), training=True).flatten().tolist()
    [100.0, 55.0]
    """

    def __init__(
        self,
        addition_factor: Any = 0.0,
        threshold_factor: Any = 0.0,
        value_range: Any = (0, 255),
        seed: "int | None" = None,
        data_format: "str | None" = None,
        **kwargs,
    ):
        addition = _unit_factor_range("Solarization", "addition_factor", addition_factor)
        threshold = _unit_factor_range("Solarization", "threshold_factor", threshold_factor)
        value_range = list(_value_range("Solarization", value_range))  # a list in Keras's config
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.addition_factor, self.threshold_factor = addition, threshold
        self.value_range = value_range

    def augment(self, images):
        count = batch_size(images)
        low, high = self.addition_factor
        addition = per_image(self._uniform(count, low * 255, high * 255, images), images)
        low, high = self.threshold_factor
        threshold = per_image(self._uniform(count, low * 255, high * 255, images), images)
        shifted = (to_range(images, self.value_range, (0, 255)) + addition).clamp(0, 255)
        solarized = torch.where(shifted < threshold, shifted, 255 - shifted)
        return to_range(solarized, (0, 255), self.value_range)

    def get_config(self):
        config = {
            **super().get_config(),
            "addition_factor": self.addition_factor,
            "threshold_factor": self.threshold_factor,
            "value_range": self.value_range,
        }
        return in_keras_order(
            config, ("value_range", "addition_factor", "threshold_factor", "seed")
        )


class RandomSharpness(_ColorIntensity):
    """Sharpens or blurs each image by a random amount in training.

    A draw f from the `factor` range ([0, f] for a number f in [0, 1]) blends the image
    with its 3x3 smoothed version (centre weight 5/13, neighbours 1/13, zero padding):
    `image + (1 - 2f) * (smoothed - image)`, so 0.5 keeps it, 0 blurs, 1 sharpens.
    Results are clipped to `value_range`.

    Example:
    >>> import torch
    >>> import tritonlayers as keras
    >>> layer = keras.layers.RandomSharpness((0.5, 0.5))  # no change
    >>> layer(torch.full((3, 3, 1), 7.0), training=True)[..., 0].tolist()[1]
    [7.0, 7.0, 7.0]
    """

    FACTOR_BOUNDS = (0, 1)

    def augment(self, images):
        amount = per_image(self._uniform(batch_size(images), *self.factor, images) * 2, images)
        kernel = torch.ones(3, 3, dtype=images.dtype, device=images.device)
        kernel[1, 1] = 5.0
        smoothed = depthwise_filter(images, kernel / 13.0, self.data_format)
        return (images + (1.0 - amount) * (smoothed - images)).clamp(*self.value_range)


__all__ = [
    "AutoContrast",
    "Equalization",
    "RandomColorDegeneration",
    "RandomColorJitter",
    "RandomGrayscale",
    "RandomHue",
    "RandomInvert",
    "RandomPosterization",
    "RandomSaturation",
    "RandomSharpness",
    "Solarization",
]
