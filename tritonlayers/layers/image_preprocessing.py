"""Image preprocessing layers: CenterCrop and Resizing, and the random augmentations.

Inputs are one image (3-D) or a batch (4-D), `(..., height, width, channels)` by default or
channels first with `data_format="channels_first"`; outputs are in the compute dtype.
CenterCrop and Resizing always apply. The `Random*` layers augment in training, which is
their default when called directly (as in Keras: `training=True` unless an outer call or
`predict`/`evaluate` says otherwise), and pass images through with `training=False`
(RandomCrop then resizes the centre window to its size, as Keras documents); each draws from its own
`random.SeedGenerator(seed)`, so two layers with one seed augment alike, call after call.
Each image of a batch gets its own random transform (RandomCrop: one crop per batch).
"""

import math
from typing import Any

import torch

from .. import random
from ..dtype_policies import to_torch_dtype
from . import image_sampling as sampling
from ._arguments import in_keras_order, standardize_data_format
from .layer import Layer


def _check_choice(layer: str, argument: str, value: Any, allowed: tuple) -> None:
    if value not in allowed:
        raise ValueError(
            f"{layer}: unknown `{argument}` {value!r}. Expected one of {allowed}. "
            f"Received: {argument}={value!r}"
        )


def _check_size(layer: str, height: Any, width: Any) -> None:
    for name, value in (("height", height), ("width", width)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(
                f"{layer}: `{name}` must be a positive integer. Received: {name}={value!r}"
            )


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _factor_range(layer: str, name: str, factor: Any, low: float, high: float, open_low=False):
    """Keras's factor rule: a number f gives (-|f|, |f|); a pair gives (min, max).

    `open_low` excludes `low` itself (RandomZoom's range (-1, 1]).
    """

    def in_range(value):
        return _is_number(value) and (value > low if open_low else value >= low) and value <= high

    pair = isinstance(factor, (tuple, list))
    values = tuple(factor) if pair else (factor,)
    if (pair and len(values) != 2) or not all(in_range(v) for v in values):
        bounds = f"{'(' if open_low else '['}{low}, {high}]"
        raise ValueError(
            f"{layer}: the `{name}` argument should be a number (or a list of two numbers) "
            f"in the range {bounds}. Received: {name}={factor!r}"
        )
    if pair:
        return tuple(sorted(values))
    return (-abs(factor), abs(factor))


def _clipped_factor_range(layer: str, factor: Any, low: float, high: float) -> tuple:
    """The rule of Keras's base augmentation layer: a number f gives (max(-f, low), f)."""
    if isinstance(factor, (tuple, list)):
        pair = len(factor) == 2 and all(_is_number(v) for v in factor)
        if pair and factor[0] <= high and factor[1] >= low:
            return tuple(sorted(factor))
    elif _is_number(factor) and low <= factor <= high:
        return (max(-abs(factor), low), abs(factor))
    raise ValueError(
        f"{layer}: the `factor` argument should be a number (or a list of two numbers) in the "
        f"range [{low}, {high}]. Received: factor={factor!r}"
    )


class _ImageLayer(Layer):
    """Checks and casts 3-D/4-D images; keeps the output shape unless a subclass sets a size."""

    def __init__(self, data_format: "str | None" = None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)

    def _images(self, inputs: Any) -> torch.Tensor:
        images = torch.as_tensor(inputs)
        self._check_rank(tuple(images.shape))
        return images.to(to_torch_dtype(self.compute_dtype))

    def _check_rank(self, shape: tuple) -> None:
        if len(shape) not in (3, 4):
            raise ValueError(
                f"{type(self).__name__}: expected images of rank 3 (one image) or 4 (a batch). "
                f"Received: inputs.shape={shape}"
            )

    def compute_output_shape(self, input_shape):
        self._check_rank(tuple(input_shape))
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class _RandomImageLayer(_ImageLayer):
    """An augmentation: `augment(images)` in training, `infer(images)` otherwise."""

    def __init__(self, seed: "int | None" = None, data_format: "str | None" = None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.seed = seed
        self.seed_generator = random.SeedGenerator(seed)

    def call(self, inputs, training=True):
        images = self._images(inputs)
        return self.augment(images) if training else self.infer(images)

    def infer(self, images: torch.Tensor) -> torch.Tensor:
        """The output outside training: the images themselves."""
        return images

    def _uniform(self, count: int, low: float, high: float, like: torch.Tensor) -> torch.Tensor:
        values = random.uniform((count,), low, high, seed=self.seed_generator)
        dtype = torch.float64 if like.dtype == torch.float64 else torch.float32
        return values.to(device=like.device, dtype=dtype)

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


class _FixedOutputSize:
    """Shape and config of a layer whose images come out `height` x `width`."""

    def compute_output_shape(self, input_shape):
        self._check_rank(tuple(input_shape))
        return sampling.with_image_size(input_shape, (self.height, self.width), self.data_format)

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width}


class CenterCrop(_FixedOutputSize, _ImageLayer):
    """Crops the centre `height` x `width` of images (always, in training and inference).

    An image smaller than the target along an axis is instead centre-cropped to the target's
    aspect ratio and resized to it (bilinear), as Keras does.

    Example:
    >>> import torch
    >>> import tritonlayers as keras
    >>> image = torch.arange(16.0).reshape(4, 4, 1)
    >>> keras.layers.CenterCrop(2, 2)(image)[..., 0].tolist()
    [[5.0, 6.0], [9.0, 10.0]]
    """

    def __init__(self, height: int, width: int, data_format: "str | None" = None, **kwargs):
        _check_size("CenterCrop", height, width)
        super().__init__(data_format=data_format, **kwargs)
        self.height = height
        self.width = width

    def call(self, inputs):
        images = self._images(inputs)
        height, width = sampling.image_size(images.shape, self.data_format)
        if height >= self.height and width >= self.width:
            top, left = (height - self.height) // 2, (width - self.width) // 2
            rows, cols = slice(top, top + self.height), slice(left, left + self.width)
            if self.data_format == "channels_first":
                return images[..., rows, cols]
            return images[..., rows, cols, :]
        nchw = sampling.to_batched_nchw(images, self.data_format)
        resized = sampling.crop_to_aspect_and_resize(nchw, (self.height, self.width))
        return sampling.from_batched_nchw(resized, self.data_format, images.ndim == 3)


class Resizing(_ImageLayer):
    """Resizes images to `height` x `width` (always, in training and inference).

    `interpolation`: "bilinear", "nearest" or "bicubic" (half-pixel centres, as Keras).
    `crop_to_aspect_ratio=True` first centre-crops to the target aspect ratio (no
    distortion); `pad_to_aspect_ratio=True` instead pads with `fill_value`. Integer images
    come back rounded, in their own dtype.

    Example:
    >>> import torch
    >>> import tritonlayers as keras
    >>> image = torch.tensor([[0.0, 4.0], [8.0, 12.0]]).reshape(2, 2, 1)
    >>> keras.layers.Resizing(1, 1)(image).flatten().tolist()
    [6.0]
    """

    def __init__(
        self,
        height: int,
        width: int,
        interpolation: str = "bilinear",
        crop_to_aspect_ratio: bool = False,
        pad_to_aspect_ratio: bool = False,
        fill_mode: str = "constant",
        fill_value: float = 0.0,
        antialias: bool = False,
        data_format: "str | None" = None,
        **kwargs,
    ):
        _check_size("Resizing", height, width)
        _check_choice(
            "Resizing", "interpolation", interpolation, tuple(sampling.RESIZE_INTERPOLATIONS)
        )
        _check_choice("Resizing", "fill_mode", fill_mode, ("constant",))
        if crop_to_aspect_ratio and pad_to_aspect_ratio:
            raise ValueError(
                "Resizing: only one of `pad_to_aspect_ratio` and `crop_to_aspect_ratio` can be "
                "True."
            )
        super().__init__(data_format=data_format, **kwargs)
        self.height = height
        self.width = width
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = crop_to_aspect_ratio
        self.pad_to_aspect_ratio = pad_to_aspect_ratio
        self.fill_mode = fill_mode
        self.fill_value = fill_value
        self.antialias = bool(antialias)

    def call(self, inputs):
        original = torch.as_tensor(inputs)
        images = self._images(original)
        size = (self.height, self.width)
        nchw = sampling.to_batched_nchw(images, self.data_format)
        if self.crop_to_aspect_ratio:
            top, left, crop_height, crop_width = sampling.aspect_crop_box(*nchw.shape[-2:], *size)
            nchw = nchw[:, :, top : top + crop_height, left : left + crop_width]
        elif self.pad_to_aspect_ratio:
            nchw = self._pad_to_aspect_ratio(nchw)
        resized = sampling.resize(nchw, size, self.interpolation, self.antialias)
        resized = sampling.from_batched_nchw(resized, self.data_format, images.ndim == 3)
        if original.dtype.is_floating_point or original.dtype == torch.bool:
            return resized
        limits = torch.iinfo(original.dtype)
        return resized.round().clamp(limits.min, limits.max).to(original.dtype)

    def _pad_to_aspect_ratio(self, nchw: torch.Tensor) -> torch.Tensor:
        # Equal bands of `fill_value` on both sides, as many as half the missing rows/columns.
        height, width = nchw.shape[-2:]
        padded_height = max(height, int(float(width * self.height) / self.width))
        padded_width = max(width, int(float(height * self.width) / self.height))
        top = int(float(padded_height - height) / 2)
        left = int(float(padded_width - width) / 2)
        return torch.nn.functional.pad(nchw, (left, left, top, top), value=float(self.fill_value))

    def compute_output_shape(self, input_shape):
        self._check_rank(tuple(input_shape))
        return sampling.with_image_size(input_shape, (self.height, self.width), self.data_format)

    def get_config(self):
        return {
            **super().get_config(),
            "height": self.height,
            "width": self.width,
            "interpolation": self.interpolation,
            "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
            "pad_to_aspect_ratio": self.pad_to_aspect_ratio,
            "fill_mode": self.fill_mode,
            "fill_value": self.fill_value,
            "antialias": self.antialias,
        }


class RandomFlip(_RandomImageLayer):
    """Flips each image with probability 1/2 in training.

    `mode`: "horizontal" (left-right), "vertical" (up-down) or "horizontal_and_vertical",
    where, as in Keras, one coin per image decides both flips.

    Example:
    >>> import torch
    >>> import tritonlayers as keras
    >>> layer = keras.layers.RandomFlip("horizontal", seed=0)
    >>> row = torch.tensor([[1.0, 2.0, 3.0]]).reshape(1, 3, 1)
    >>> layer(row, training=False)[..., 0].tolist()  # not training: unchanged
    [[1.0, 2.0, 3.0]]
    >>> layer(row, training=True)[..., 0].tolist() in ([[1.0, 2.0, 3.0]], [[3.0, 2.0, 1.0]])
    True
    """

    def __init__(
        self,
        mode: str = "horizontal_and_vertical",
        seed: "int | None" = None,
        data_format: "str | None" = None,
        **kwargs,
    ):
        _check_choice(
            "RandomFlip", "mode", mode, ("horizontal", "vertical", "horizontal_and_vertical")
        )
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.mode = mode

    def augment(self, images):
        batched = images if images.ndim == 4 else images.unsqueeze(0)
        flip = self._uniform(batched.shape[0], 0.0, 1.0, images) <= 0.5
        flip = flip.reshape(-1, 1, 1, 1)
        row_axis, col_axis = (2, 3) if self.data_format == "channels_first" else (1, 2)
        flipped = batched
        if self.mode in ("horizontal", "horizontal_and_vertical"):
            flipped = torch.where(flip, flipped.flip(col_axis), flipped)
        if self.mode in ("vertical", "horizontal_and_vertical"):
            flipped = torch.where(flip, flipped.flip(row_axis), flipped)
        return flipped if images.ndim == 4 else flipped.squeeze(0)

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


class RandomCrop(_FixedOutputSize, _RandomImageLayer):
    """Crops a random `height` x `width` window in training (one window for the whole batch).

    When the input is not larger than the target along both axes, Keras's fallback applies:
    a target-sized window placed at the centred box of the target's aspect ratio, resized
    (bilinear) to the target where the image is too small. Outside training the largest
    centred window of the target's aspect ratio is resized to the target, as Keras documents
    (Keras 3.15's code passes images through unchanged there, so its output size would not
    be the one its `compute_output_shape` gives).

    Example:
    >>> import torch
    >>> import tritonlayers as keras
    >>> layer = keras.layers.RandomCrop(2, 3, seed=0)
    >>> tuple(layer(torch.zeros(4, 5, 5, 3), training=True).shape)
    (4, 2, 3, 3)
    >>> image = torch.arange(16.0).reshape(4, 4, 1)
    >>> keras.layers.RandomCrop(2, 2)(image, training=False)[..., 0].tolist()  # centre
    [[2.5, 4.5], [10.5, 12.5]]
    """

    def __init__(
        self,
        height: int,
        width: int,
        seed: "int | None" = None,
        data_format: "str | None" = None,
        **kwargs,
    ):
        _check_size("RandomCrop", height, width)
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.height = height
        self.width = width

    def augment(self, images):
        height, width = sampling.image_size(images.shape, self.data_format)
        nchw = sampling.to_batched_nchw(images, self.data_format)
        if height > self.height and width > self.width:
            # The corner stays on the device (index_select), so cropping never syncs.
            top = self._corner(height - self.height, images)
            left = self._corner(width - self.width, images)
            rows = top + torch.arange(self.height, device=images.device)
            cols = left + torch.arange(self.width, device=images.device)
            cropped = nchw.index_select(2, rows).index_select(3, cols)
        else:
            # Keras's fallback: a target-sized window at the corner of the centred box of the
            # target's aspect ratio (clipped by the image), resized to the target if short.
            top, left, _, _ = sampling.aspect_crop_box(height, width, self.height, self.width)
            cropped = nchw[:, :, top : top + self.height, left : left + self.width]
            if tuple(cropped.shape[-2:]) != (self.height, self.width):
                cropped = sampling.resize(cropped, (self.height, self.width))
        return sampling.from_batched_nchw(cropped, self.data_format, images.ndim == 3)

    def infer(self, images):
        if sampling.image_size(images.shape, self.data_format) == (self.height, self.width):
            return images
        nchw = sampling.to_batched_nchw(images, self.data_format)
        resized = sampling.crop_to_aspect_and_resize(nchw, (self.height, self.width))
        return sampling.from_batched_nchw(resized, self.data_format, images.ndim == 3)

    def _corner(self, slack: int, like: torch.Tensor) -> torch.Tensor:
        offset = self._uniform(1, 0.0, float(slack + 1), like).floor().long()
        return offset.clamp(0, slack)

    def get_config(self):
        return in_keras_order(super().get_config(), ("height", "width", "seed"))


class _RandomWarp(_RandomImageLayer):
    """An augmentation by an affine warp: `transforms(batch, height, width)` gives the rows."""

    def __init__(
        self,
        fill_mode: str = "reflect",
        interpolation: str = "bilinear",
        seed: "int | None" = None,
        fill_value: float = 0.0,
        data_format: "str | None" = None,
        **kwargs,
    ):
        name = type(self).__name__
        _check_choice(name, "fill_mode", fill_mode, sampling.FILL_MODES)
        _check_choice(name, "interpolation", interpolation, sampling.WARP_INTERPOLATIONS)
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.fill_mode = fill_mode
        self.interpolation = interpolation
        self.fill_value = fill_value

    def augment(self, images):
        nchw = sampling.to_batched_nchw(images, self.data_format)
        batch, _, height, width = nchw.shape
        transforms = self.transforms(batch, height, width, images)
        warped = sampling.affine_warp(
            nchw, transforms, self.interpolation, self.fill_mode, float(self.fill_value)
        )
        return sampling.from_batched_nchw(warped, self.data_format, images.ndim == 3)

    def get_config(self):
        return {
            **super().get_config(),
            "fill_mode": self.fill_mode,
            "interpolation": self.interpolation,
            "fill_value": self.fill_value,
        }


class RandomTranslation(_RandomWarp):
    """Shifts each image by a random fraction of its height and width in training.

    `height_factor`/`width_factor`: a number f shifts by up to ±f of the size, a pair
    `(low, high)` by a fraction in that range (each in [-1, 1]; positive: down / right).
    `fill_mode` ("reflect", "wrap", "constant" with `fill_value`, "nearest") fills the
    uncovered pixels; `interpolation` is "bilinear" or "nearest".

    Example:
    >>> import torch
    >>> import tritonlayers as keras
    >>> layer = keras.layers.RandomTranslation(0.0, (0.25, 0.25), fill_mode="constant")
    >>> row = torch.tensor([1.0, 2.0, 3.0, 4.0]).reshape(1, 4, 1)
    >>> layer(row, training=True).flatten().tolist()
    [0.0, 1.0, 2.0, 3.0]
    """

    def __init__(
        self,
        height_factor: Any,
        width_factor: Any,
        fill_mode: str = "reflect",
        interpolation: str = "bilinear",
        seed: "int | None" = None,
        fill_value: float = 0.0,
        data_format: "str | None" = None,
        **kwargs,
    ):
        height_range = _factor_range("RandomTranslation", "height_factor", height_factor, -1, 1)
        width_range = _factor_range("RandomTranslation", "width_factor", width_factor, -1, 1)
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_range, self.width_range = height_range, width_range
        self.height_factor = height_factor
        self.width_factor = width_factor

    def transforms(self, batch, height, width, like):
        dy = self._uniform(batch, *self.height_range, like) * height
        dx = self._uniform(batch, *self.width_range, like) * width
        ones, zeros = torch.ones_like(dx), torch.zeros_like(dx)
        return torch.stack([ones, zeros, -dx, zeros, ones, -dy], dim=1)

    def get_config(self):
        config = {
            **super().get_config(),
            "height_factor": self.height_factor,
            "width_factor": self.width_factor,
        }
        return in_keras_order(
            config,
            ("height_factor", "width_factor", "fill_mode", "interpolation", "seed", "fill_value"),
        )


class RandomRotation(_RandomWarp):
    """Rotates each image about its centre by a random angle in training.

    `factor` is a fraction of a full turn: f rotates by up to ±f * 360 degrees, a pair
    `(low, high)` by an angle in [low * 360, high * 360] (positive: counter-clockwise as
    displayed, rows downwards). `fill_mode` and `interpolation` as in RandomTranslation.

    Example:
    >>> import torch
    >>> import tritonlayers as keras
    >>> layer = keras.layers.RandomRotation((0.5, 0.5))  # half a turn
    >>> image = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).reshape(2, 2, 1)
    >>> layer(image, training=True)[..., 0].round().tolist()
    [[4.0, 3.0], [2.0, 1.0]]
    """

    def __init__(
        self,
        factor: Any,
        fill_mode: str = "reflect",
        interpolation: str = "bilinear",
        seed: "int | None" = None,
        fill_value: float = 0.0,
        data_format: "str | None" = None,
        **kwargs,
    ):
        factor = _clipped_factor_range("RandomRotation", factor, -1, 1)
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.factor = factor

    def transforms(self, batch, height, width, like):
        low, high = self.factor
        angle = self._uniform(batch, low * 360.0, high * 360.0, like) * (math.pi / 180.0)
        cos, sin = torch.cos(angle), torch.sin(angle)
        center_x, center_y = 0.5 * (width - 1), 0.5 * (height - 1)
        # Rotate about the centre: input = R @ (output - centre) + centre.
        shift_x = center_x - center_x * cos + center_y * sin
        shift_y = center_y - center_x * sin - center_y * cos
        return torch.stack([cos, -sin, shift_x, sin, cos, shift_y], dim=1)

    def get_config(self):
        config = {**super().get_config(), "factor": self.factor}
        return in_keras_order(
            config, ("factor", "fill_mode", "fill_value", "interpolation", "seed")
        )


class RandomZoom(_RandomWarp):
    """Zooms each image about its centre by a random amount in training.

    `height_factor`: f zooms by a random fraction in [-f, f], a pair `(low, high)` in that
    range (each in (-1, 1]); positive values zoom out (the image shrinks), negative zoom in.
    `width_factor` likewise; None (default) uses the height's zoom for the width too.

    Example:
    >>> import torch
    >>> import tritonlayers as keras
    >>> layer = keras.layers.RandomZoom((-0.5, -0.5), fill_mode="constant")  # 2x zoom in
    >>> row = torch.tensor([0.0, 1.0, 2.0, 3.0, 4.0]).reshape(1, 5, 1)
    >>> layer(row, training=True).flatten().tolist()
    [1.0, 1.5, 2.0, 2.5, 3.0]
    """

    def __init__(
        self,
        height_factor: Any,
        width_factor: Any = None,
        fill_mode: str = "reflect",
        interpolation: str = "bilinear",
        seed: "int | None" = None,
        fill_value: float = 0.0,
        data_format: "str | None" = None,
        **kwargs,
    ):
        height_range = _factor_range(
            "RandomZoom", "height_factor", height_factor, -1, 1, open_low=True
        )
        width_range = None
        if width_factor is not None:
            width_range = _factor_range(
                "RandomZoom", "width_factor", width_factor, -1, 1, open_low=True
            )
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_range, self.width_range = height_range, width_range
        self.height_factor = height_factor
        self.width_factor = width_factor

    def transforms(self, batch, height, width, like):
        zoom_y = 1.0 + self._uniform(batch, *self.height_range, like)
        zoom_x = (
            zoom_y
            if self.width_range is None
            else 1.0 + self._uniform(batch, *self.width_range, like)
        )
        zeros = torch.zeros_like(zoom_x)
        shift_x = (width - 1) / 2.0 * (1.0 - zoom_x)
        shift_y = (height - 1) / 2.0 * (1.0 - zoom_y)
        return torch.stack([zoom_x, zeros, shift_x, zeros, zoom_y, shift_y], dim=1)

    def get_config(self):
        config = {
            **super().get_config(),
            "height_factor": self.height_factor,
            "width_factor": self.width_factor,
        }
        return in_keras_order(
            config,
            ("height_factor", "width_factor", "fill_mode", "interpolation", "seed", "fill_value"),
        )


def _value_range(layer: str, value_range: Any) -> "tuple | list":
    """`value_range` sorted, a tuple kept a tuple (Keras's configs list the default (0, 255)
    as a tuple)."""
    if not isinstance(value_range, (tuple, list)) or len(value_range) != 2:
        raise ValueError(
            f"{layer}: the `value_range` argument should be a list of two numbers. "
            f"Received: value_range={value_range!r}"
        )
    ordered = sorted(value_range)
    return tuple(ordered) if isinstance(value_range, tuple) else ordered


class _RandomIntensity(_RandomImageLayer):
    """A random per-image change of pixel values: `factor` within `FACTOR_BOUNDS`, results
    clipped to `value_range`."""

    FACTOR_BOUNDS = (-1, 1)
    # Keras keeps `value_range` as given (a tuple stays a tuple) in RandomContrast, RandomHue
    # and RandomInvert, and lists it as a sorted list in the other intensity layers.
    RANGE_AS_GIVEN = False

    def __init__(
        self,
        factor: Any,
        value_range: Any = (0, 255),
        seed: "int | None" = None,
        data_format: "str | None" = None,
        **kwargs,
    ):
        name = type(self).__name__
        factor = _clipped_factor_range(name, factor, *self.FACTOR_BOUNDS)
        value_range = _value_range(name, value_range)
        if not self.RANGE_AS_GIVEN:
            value_range = list(value_range)
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor, self.value_range = factor, value_range

    def get_config(self):
        config = {**super().get_config(), "factor": self.factor, "value_range": self.value_range}
        return in_keras_order(config, ("factor", "value_range", "seed"))


class RandomContrast(_RandomIntensity):
    """Scales each image's deviation from its per-channel mean by a random factor in training.

    With `factor` f the scale is drawn from [1, 1 + f] (Keras 3.15 clips the lower end at 1);
    a pair `(low, high)` draws from [1 - low, 1 + high]. Results are clipped to `value_range`.

    Example:
    >>> import torch
    >>> import tritonlayers as keras
    >>> layer = keras.layers.RandomContrast((-1.0, 1.0), value_range=(0, 10))  # scale 2
    >>> layer(torch.tensor([[[2.0], [4.0]]]), training=True).flatten().tolist()
    [1.0, 5.0]
    """

    FACTOR_BOUNDS = (0, 1)
    RANGE_AS_GIVEN = True

    def augment(self, images):
        batch = images.shape[0] if images.ndim == 4 else 1
        low, high = self.factor
        scale = self._uniform(batch, 1.0 - low, 1.0 + high, images).to(images.dtype)
        scale = scale.reshape((-1, 1, 1, 1) if images.ndim == 4 else (1, 1, 1))
        spatial = (-2, -1) if self.data_format == "channels_first" else (-3, -2)
        mean = images.mean(dim=spatial, keepdim=True)
        return ((images - mean) * scale + mean).clamp(*self.value_range)


class RandomBrightness(_RandomIntensity):
    """Adds a random offset to each image in training, clipped to `value_range`.

    The offset is `u * (value_range[1] - value_range[0])`, u drawn from [-f, f] for `factor`
    f (in [-1, 1]) or from the pair `(low, high)`.

    Example:
    >>> import torch
    >>> import tritonlayers as keras
    >>> layer = keras.layers.RandomBrightness((0.5, 0.5), value_range=(0, 1))
    >>> layer(torch.tensor([[[0.25], [0.75]]]), training=True).flatten().tolist()
    [0.75, 1.0]
    """

    def augment(self, images):
        batch = images.shape[0] if images.ndim == 4 else 1
        low, high = self.value_range
        delta = self._uniform(batch, *self.factor, images).to(images.dtype) * (high - low)
        delta = delta.reshape((-1, 1, 1, 1) if images.ndim == 4 else (1, 1, 1))
        return (images + delta).clamp(low, high)
