"""Spatial and mixing augmentations, and the RandAugment / AugMix policies (Keras 3).

Same conventions as `image_augmentation`: 3-D or 4-D images, channels last by default,
`value_range` (0, 255) by default, random changes only with `training=True`, per-image
draws from the layer's `random.SeedGenerator(seed)`, image tensors only (Keras's dict
inputs with bounding boxes or labels get a clear error). MixUp and CutMix mix the images
of a batch with a shuffled copy of it; they mix images only (no labels).
"""

from typing import Any

import torch

from .. import random
from ..ops.image import FILL_MODES, warp_nchw
from . import image_sampling as sampling
from ._arguments import in_keras_order
from .image_augmentation import (
    AutoContrast,
    Equalization,
    RandomColorDegeneration,
    RandomPosterization,
    RandomSharpness,
    Solarization,
    _derived_seed,
    _ImagesOnly,
    batch_size,
    depthwise_filter,
    gaussian_kernel,
    per_image,
)
from .image_preprocessing import (
    RandomBrightness,
    RandomContrast,
    RandomRotation,
    RandomTranslation,
    _check_choice,
    _clipped_factor_range,
    _ImageLayer,
    _is_number,
    _RandomImageLayer,
    _RandomWarp,
    _value_range,
)


def _shear_range(name: str, factor: Any) -> tuple:
    """RandomShear's rule: a number f in [0, 1] gives (-f, f); a pair its sorted values."""
    values = tuple(factor) if isinstance(factor, (tuple, list)) else (factor,)
    pair = isinstance(factor, (tuple, list))
    if (pair and len(values) != 2) or not all(_is_number(v) and 0 <= v <= 1 for v in values):
        raise ValueError(
            f"RandomShear: the `{name}` argument should be a number (or a list of two numbers) "
            f"in the range [0, 1.0]. Received: {name}={factor!r}"
        )
    return tuple(sorted(values)) if pair else (-abs(factor), abs(factor))


def _apply_with_probability(layer: _RandomImageLayer, images: torch.Tensor) -> torch.Tensor:
    """Per-image booleans, True with a probability drawn from `layer.factor`."""
    count = batch_size(images)
    probability = layer._uniform(count, *layer.factor, images)
    return per_image(layer._uniform(count, 0.0, 1.0, images) < probability, images).bool()


def _box_masks(images, data_format, fractions_x, fractions_y, layer) -> torch.Tensor:
    """Per-image boxes of size `fraction * side` at uniform offsets, as boolean masks that
    broadcast against the images (Keras's CutMix/RandomErasing boxes)."""
    height, width = sampling.image_size(images.shape, data_format)
    count = batch_size(images)
    bounds = []
    for fraction, side in ((fractions_x, width), (fractions_y, height)):
        length = fraction * side
        start = layer._uniform(count, 0.0, 1.0, images) * (side - length)
        bounds.append((start, start + length))
    (x0, x1), (y0, y1) = bounds
    cols = torch.arange(width, device=images.device, dtype=x0.dtype)
    rows = torch.arange(height, device=images.device, dtype=y0.dtype)
    inside_x = (cols >= x0[:, None]) & (cols < x1[:, None])  # (B, W)
    inside_y = (rows >= y0[:, None]) & (rows < y1[:, None])  # (B, H)
    masks = inside_y[:, :, None] & inside_x[:, None, :]  # (B, H, W)
    masks = masks[:, None] if data_format == "channels_first" else masks[..., None]
    return masks if images.ndim == 4 else masks[0]


class RandomShear(_ImagesOnly, _RandomWarp):
    """Shears each image by random amounts in training.

    `x_factor`/`y_factor`: a number f in [0, 1] draws the shear from [-f, f], a pair from
    its range; one random sign per image applies to both. The output pixel (x, y) reads
    the input at `(x + sx * y, sy * x + y)`. `fill_mode` and `interpolation` as in
    RandomTranslation.

    Example:
    >>> import torch
    >>> import tritonlayers as keras
    >>> layer = keras.layers.RandomShear(x_factor=0.5, seed=0)
    >>> tuple(layer(torch.zeros(2, 4, 4, 3), training=True).shape)
    (2, 4, 4, 3)
    """

    def __init__(
        self,
        x_factor: Any = 0.0,
        y_factor: Any = 0.0,
        interpolation: str = "bilinear",
        fill_mode: str = "reflect",
        fill_value: float = 0.0,
        data_format: "str | None" = None,
        seed: "int | None" = None,
        **kwargs,
    ):
        x_range, y_range = _shear_range("x_factor", x_factor), _shear_range("y_factor", y_factor)
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.x_range, self.y_range = x_range, y_range
        self.x_factor, self.y_factor = x_factor, y_factor

    def transforms(self, batch, height, width, like):
        sign = torch.where(self._uniform(batch, 0.0, 1.0, like) > 0.5, -1.0, 1.0)
        shear_y = self._uniform(batch, *self.y_range, like) * sign
        shear_x = self._uniform(batch, *self.x_range, like) * sign
        ones, zeros = torch.ones_like(shear_x), torch.zeros_like(shear_x)
        return torch.stack([ones, shear_x, zeros, shear_y, ones, zeros], dim=1)

    def get_config(self):
        config = {**super().get_config(), "x_factor": self.x_factor, "y_factor": self.y_factor}
        return in_keras_order(
            config, ("x_factor", "y_factor", "fill_mode", "interpolation", "seed", "fill_value")
        )


class RandomErasing(_ImagesOnly, _RandomImageLayer):
    """Erases a random box of each image, with a random probability, in training.

    The erasing probability is drawn from the `factor` range ([0, f] for a number f);
    the box's width and height are `sqrt(s) * side`, s drawn from `scale` (fractions in
    [0, 1]), at a uniform position. The box gets `fill_value` (a number or one per
    channel), or for None Gaussian noise times `value_range[1]`, clipped to `value_range`.

    Example:
    >>> import torch
    >>> import tritonlayers as keras
    >>> layer = keras.layers.RandomErasing(factor=(1.0, 1.0), scale=(1.0, 1.0), fill_value=0)
    >>> layer(torch.full((2, 2, 1), 9.0), training=True).flatten().tolist()
    [0.0, 0.0, 0.0, 0.0]
    """

    def __init__(
        self,
        factor: Any = 1.0,
        scale: Any = (0.02, 0.33),
        fill_value: Any = None,
        value_range: Any = (0, 255),
        seed: "int | None" = None,
        data_format: "str | None" = None,
        **kwargs,
    ):
        factor = _clipped_factor_range("RandomErasing", factor, 0, 1)
        scale = _named_unit_range("RandomErasing", "scale", scale)
        fill_ok = fill_value is None or _is_number(fill_value)
        if isinstance(fill_value, (tuple, list)):
            fill_ok = len(fill_value) == 3 and all(_is_number(v) for v in fill_value)
        if not fill_ok:
            raise ValueError(
                "RandomErasing: the `fill_value` argument should be None, a number or a list "
                f"of three numbers. Received: fill_value={fill_value!r}"
            )
        value_range = _value_range("RandomErasing", value_range)
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor, self.scale, self.fill_value = factor, scale, fill_value
        self.value_range = value_range

    def augment(self, images):
        count = batch_size(images)
        sides = self._uniform(2 * count, *self.scale, images).reshape(count, 2).sqrt()
        masks = _box_masks(images, self.data_format, sides[:, 0], sides[:, 1], self)
        apply = _apply_with_probability(self, images)
        if self.fill_value is None:
            noise = random.normal(tuple(images.shape), seed=self.seed_generator)
            fill = noise.to(images.device, images.dtype) * self.value_range[1]
        else:
            fill = torch.as_tensor(self.fill_value, dtype=images.dtype, device=images.device)
            if fill.ndim == 1:
                channels = images.shape[-3 if self.data_format == "channels_first" else -1]
                if channels != 3:
                    raise ValueError(
                        "RandomErasing: a `fill_value` of three numbers needs 3-channel "
                        f"images. Received: images.shape={tuple(images.shape)}"
                    )
                if self.data_format == "channels_first":
                    fill = fill[:, None, None]
        fill = fill.clamp(*self.value_range)
        return torch.where(apply & masks, fill, images)

    def get_config(self):
        config = {
            **super().get_config(),
            "factor": self.factor,
            "scale": self.scale,
            "fill_value": self.fill_value,
            "value_range": self.value_range,
        }
        return in_keras_order(config, ("factor", "scale", "fill_value", "value_range", "seed"))


def _named_unit_range(layer: str, name: str, value: Any) -> tuple:
    """Keras's factor rule on [0, 1] for an argument other than `factor`."""
    try:
        return _clipped_factor_range(layer, value, 0, 1)
    except ValueError:
        raise ValueError(
            f"{layer}: the `{name}` argument should be a number (or a list of two numbers) in "
            f"the range [0, 1]. Received: {name}={value!r}"
        ) from None


def _kernel_size(value: Any) -> tuple:
    sizes = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(sizes) != 2 or not all(
        isinstance(s, int) and not isinstance(s, bool) and s > 0 and s % 2 == 1 for s in sizes
    ):
        raise ValueError(
            "RandomGaussianBlur: `kernel_size` must be an odd positive integer or a pair of "
            f"them (width, height). Received: kernel_size={value!r}"
        )
    return sizes


class RandomGaussianBlur(_ImagesOnly, _RandomImageLayer):
    """Blurs each image with a Gaussian, with a random probability, in training.

    The probability is drawn from the `factor` range ([0, f] for a number f); the x and y
    standard deviations (one pair per batch, as Keras) from the `sigma` range ([0, s] for a
    number s in [0, 1]). `kernel_size`: odd, or a pair (width, height). Zero padding at the
    border; results clipped to `value_range`.

    Example:
    >>> import torch
    >>> import tritonlayers as keras
    >>> layer = keras.layers.RandomGaussianBlur(factor=(1.0, 1.0), sigma=(1.0, 1.0))
    >>> out = layer(torch.full((3, 3, 1), 9.0), training=True)
    >>> round(float(out[1, 1, 0]), 4)
    9.0
    """

    def __init__(
        self,
        factor: Any = 1.0,
        kernel_size: Any = 3,
        sigma: Any = 1.0,
        value_range: Any = (0, 255),
        data_format: "str | None" = None,
        seed: "int | None" = None,
        **kwargs,
    ):
        factor = _clipped_factor_range("RandomGaussianBlur", factor, 0, 1)
        sizes = _kernel_size(kernel_size)
        sigma = _named_unit_range("RandomGaussianBlur", "sigma", sigma)
        value_range = _value_range("RandomGaussianBlur", value_range)
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor, self.kernel_size, self.sigma = factor, sizes, sigma
        self.value_range = value_range

    def augment(self, images):
        apply = _apply_with_probability(self, images)
        sigma = self._uniform(2, *self.sigma, images) + 1e-6
        kernel = gaussian_kernel(self.kernel_size, sigma, sigma.dtype, images.device)
        blurred = depthwise_filter(images, kernel, self.data_format)
        return torch.where(apply, blurred, images).clamp(*self.value_range)

    def get_config(self):
        config = {
            **super().get_config(),
            "factor": self.factor,
            "kernel_size": self.kernel_size,
            "sigma": self.sigma,
            "value_range": self.value_range,
        }
        return in_keras_order(config, ("factor", "kernel_size", "sigma", "value_range", "seed"))


def homographies(start: torch.Tensor, end: torch.Tensor) -> torch.Tensor:
    """(batch, 8) projective maps sending the 4 `end` points (batch, 4, 2) to `start`."""
    ex, ey = end[..., 0], end[..., 1]
    sx, sy = start[..., 0], start[..., 1]
    ones, zeros = torch.ones_like(ex), torch.zeros_like(ex)
    rows_x = torch.stack([ex, ey, ones, zeros, zeros, zeros, -sx * ex, -sx * ey], dim=-1)
    rows_y = torch.stack([zeros, zeros, zeros, ex, ey, ones, -sy * ex, -sy * ey], dim=-1)
    system = torch.stack([rows_x, rows_y], dim=2).reshape(-1, 8, 8)
    targets = torch.stack([sx, sy], dim=2).reshape(-1, 8)
    return torch.linalg.solve(system.double(), targets.double()).to(start.dtype)


class RandomPerspective(_ImagesOnly, _RandomImageLayer):
    """Warps each image by a random perspective, with a random probability, in training.

    The probability is drawn from the `factor` range ([0, f] for a number f); each corner
    (x, y) moves to `(x, y) * (1 + u)`, u drawn from [-scale/2, scale/2] per coordinate (so,
    as in Keras, the top-left corner stays). Pixels from outside get `fill_value`.

    Example:
    >>> import torch
    >>> import tritonlayers as keras
    >>> layer = keras.layers.RandomPerspective(scale=0.0)  # corners stay: identity
    >>> image = torch.arange(6.0).reshape(2, 3, 1)
    >>> [round(value, 4) for value in layer(image, training=True).flatten().tolist()]
    [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    """

    def __init__(
        self,
        factor: Any = 1.0,
        scale: float = 1.0,
        interpolation: str = "bilinear",
        fill_value: float = 0.0,
        seed: "int | None" = None,
        data_format: "str | None" = None,
        **kwargs,
    ):
        factor = _clipped_factor_range("RandomPerspective", factor, 0, 1)
        if not _is_number(scale) or not 0 <= scale <= 1:
            raise ValueError(
                "RandomPerspective: the `scale` argument should be a number in the range "
                f"[0, 1]. Received: scale={scale!r}"
            )
        _check_choice("RandomPerspective", "interpolation", interpolation, ("nearest", "bilinear"))
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor, self.scale = factor, scale
        self.interpolation, self.fill_value = interpolation, fill_value

    def augment(self, images):
        apply = _apply_with_probability(self, images)
        nchw = sampling.to_batched_nchw(images, self.data_format)
        count, _, height, width = nchw.shape
        dtype = torch.float64 if images.dtype == torch.float64 else torch.float32
        corners = [[0.0, 0.0], [width - 1, 0.0], [0.0, height - 1], [width - 1, height - 1]]
        start = torch.tensor(corners, dtype=dtype, device=images.device).expand(count, 4, 2)
        moves = self._uniform(count * 8, -0.5 * self.scale, 0.5 * self.scale, images)
        end = start + start * moves.to(dtype).reshape(count, 4, 2)
        a = homographies(start, end)[:, :, None, None]  # (B, 8, 1, 1)
        rows, cols = torch.meshgrid(
            torch.arange(height, dtype=dtype, device=images.device),
            torch.arange(width, dtype=dtype, device=images.device),
            indexing="ij",
        )
        denominator = a[:, 6] * cols + a[:, 7] * rows + 1.0
        x = (a[:, 0] * cols + a[:, 1] * rows + a[:, 2]) / denominator
        y = (a[:, 3] * cols + a[:, 4] * rows + a[:, 5]) / denominator
        warped = warp_nchw(
            nchw, torch.stack([x, y], dim=-1), self.interpolation, "constant", self.fill_value
        )
        warped = sampling.from_batched_nchw(warped, self.data_format, images.ndim == 3)
        return torch.where(apply, warped.to(images.dtype), images)

    def get_config(self):
        config = {
            **super().get_config(),
            "factor": self.factor,
            "scale": self.scale,
            "interpolation": self.interpolation,
            "fill_value": self.fill_value,
        }
        return in_keras_order(config, ("factor", "scale", "interpolation", "fill_value", "seed"))


class RandomElasticTransform(_ImagesOnly, _RandomImageLayer):
    """Displaces pixels by a smooth random field, with a random probability, in training.

    The probability is drawn from the `factor` range; a distortion d from the `scale`
    range (one per batch) sets `alpha = 0.1 * d * max(H, W)` and `sigma = 0.05 * d *
    min(H, W)`: the field is Gaussian noise times sigma, blurred by a Gaussian of that sigma
    (kernel `int(6 sigma) | 1`, zero padding), times alpha. `fill_mode` ("reflect", "wrap",
    "constant", "nearest", "mirror") fills points outside; results clipped to `value_range`.

    Example:
    >>> import torch
    >>> import tritonlayers as keras
    >>> layer = keras.layers.RandomElasticTransform(scale=0.0)  # no distortion
    >>> image = torch.arange(4.0).reshape(2, 2, 1)
    >>> layer(image, training=True).flatten().tolist()
    [0.0, 1.0, 2.0, 3.0]
    """

    def __init__(
        self,
        factor: Any = 1.0,
        scale: Any = 1.0,
        interpolation: str = "bilinear",
        fill_mode: str = "reflect",
        fill_value: float = 0.0,
        value_range: Any = (0, 255),
        seed: "int | None" = None,
        data_format: "str | None" = None,
        **kwargs,
    ):
        name = "RandomElasticTransform"
        factor = _clipped_factor_range(name, factor, 0, 1)
        scale = _named_unit_range(name, "scale", scale)
        _check_choice(name, "interpolation", interpolation, ("nearest", "bilinear"))
        _check_choice(name, "fill_mode", fill_mode, FILL_MODES)
        value_range = _value_range(name, value_range)
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor, self.scale, self.value_range = factor, scale, value_range
        self.interpolation, self.fill_mode, self.fill_value = interpolation, fill_mode, fill_value

    def augment(self, images):
        if self.scale[1] == 0 or self.factor[1] == 0:
            return images
        apply = _apply_with_probability(self, images)
        nchw = sampling.to_batched_nchw(images, self.data_format)
        count, _, height, width = nchw.shape
        dtype = torch.float64 if images.dtype == torch.float64 else torch.float32
        # The kernel size depends on the drawn sigma, so it is read on the host.
        distortion = float(self._uniform(1, *self.scale, images)[0])
        alpha = max(height, width) * 0.1 * distortion
        sigma = max(min(height, width) * 0.05 * distortion, 1e-6)
        noise = random.normal((count, 2, height, width), seed=self.seed_generator)
        field = noise.to(images.device, dtype) * sigma
        size = int(6 * sigma) | 1
        kernel = gaussian_kernel((size, size), (sigma, sigma), dtype, images.device)
        field = depthwise_filter(field, kernel, "channels_first") * alpha  # (B, 2, H, W)
        rows, cols = torch.meshgrid(
            torch.arange(height, dtype=dtype, device=images.device),
            torch.arange(width, dtype=dtype, device=images.device),
            indexing="ij",
        )
        source = torch.stack([cols + field[:, 0], rows + field[:, 1]], dim=-1)
        warped = warp_nchw(nchw, source, self.interpolation, self.fill_mode, float(self.fill_value))
        warped = sampling.from_batched_nchw(warped, self.data_format, images.ndim == 3)
        return torch.where(apply, warped.to(images.dtype), images).clamp(*self.value_range)

    def get_config(self):
        config = {
            **super().get_config(),
            "factor": self.factor,
            "scale": self.scale,
            "interpolation": self.interpolation,
            "fill_mode": self.fill_mode,
            "fill_value": self.fill_value,
            "value_range": self.value_range,
        }
        return in_keras_order(
            config,
            ("factor", "scale", "interpolation", "fill_mode", "fill_value", "value_range", "seed"),
        )


class MixUp(_ImagesOnly, _RandomImageLayer):
    """Blends each image with another image of the batch in training (MixUp).

    With w ~ Beta(alpha, alpha) per image and a random permutation p of the batch, image i
    becomes `w_i * x_i + (1 - w_i) * x_p(i)`. Labels are not mixed (images only).

    Example:
    >>> import torch
    >>> import tritonlayers as keras
    >>> layer = keras.layers.MixUp(alpha=0.2, seed=0)
    >>> out = layer(torch.tensor([0.0, 1.0]).reshape(2, 1, 1, 1), training=True)
    >>> bool(((out >= 0) & (out <= 1)).all())
    True
    """

    def __init__(
        self,
        alpha: float = 0.2,
        data_format: "str | None" = None,
        seed: "int | None" = None,
        **kwargs,
    ):
        if not _is_number(alpha) or alpha <= 0:
            raise ValueError(f"MixUp: `alpha` must be a positive number. Received: alpha={alpha!r}")
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.alpha = alpha

    def augment(self, images):
        count = batch_size(images)
        order = random.shuffle(torch.arange(count), seed=self.seed_generator).to(images.device)
        weight = random.beta((count,), self.alpha, self.alpha, seed=self.seed_generator)
        weight = per_image(weight, images)
        partners = images.index_select(0, order) if images.ndim == 4 else images
        return weight * images + (1.0 - weight) * partners

    def get_config(self):
        config = {**super().get_config(), "alpha": self.alpha}
        return in_keras_order(config, ("alpha", "seed"))


class CutMix(_ImagesOnly, _RandomImageLayer):
    """Pastes a random box from another image of the batch into each image in training.

    As Keras: a concentration a from the `factor` range ([0, f] for a number f), then per
    image w ~ Beta(a, a) and a box of sides `sqrt(1 - w)` times the image's, at a uniform
    position, filled from the same box of image p(i) for a random permutation p. One image
    (3-D input) is passed through. Labels are not mixed (images only).

    Example:
    >>> import torch
    >>> import tritonlayers as keras
    >>> layer = keras.layers.CutMix(seed=0)
    >>> out = layer(torch.tensor([0.0, 1.0]).reshape(2, 1, 1, 1), training=True)
    >>> sorted(set(out.flatten().tolist())) in ([0.0], [1.0], [0.0, 1.0])
    True
    """

    def __init__(
        self,
        factor: Any = 1.0,
        seed: "int | None" = None,
        data_format: "str | None" = None,
        **kwargs,
    ):
        factor = _clipped_factor_range("CutMix", factor, 0, 1)
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = factor

    def augment(self, images):
        if images.ndim == 3:
            return images
        count = images.shape[0]
        concentration = self._uniform(1, *self.factor, images).double() + 1e-6
        weight = random.beta((count,), concentration, concentration, seed=self.seed_generator)
        side = (1.0 - weight.to(images.device)).sqrt()
        masks = _box_masks(images, self.data_format, side, side, self)
        order = random.shuffle(torch.arange(count), seed=self.seed_generator).to(images.device)
        return torch.where(masks, images.index_select(0, order), images)

    def get_config(self):
        config = {**super().get_config(), "factor": self.factor}
        return in_keras_order(config, ("factor", "seed"))


def _policy_layers(parent, names, data_format) -> dict:
    """The inner augmentation layers of RandAugment / AugMix, with Keras's settings."""
    factor, value_range, interpolation = parent.factor, parent.value_range, parent.interpolation
    makers = {
        "random_shear": lambda **kw: RandomShear(factor, factor, interpolation, **kw),
        "random_translation": lambda **kw: RandomTranslation(
            factor, factor, interpolation=interpolation, **kw
        ),
        "random_rotation": lambda **kw: RandomRotation(factor, interpolation=interpolation, **kw),
        "random_brightness": lambda **kw: RandomBrightness(factor, value_range, **kw),
        "random_color_degeneration": lambda **kw: RandomColorDegeneration(
            factor, value_range, **kw
        ),
        "random_contrast": lambda **kw: RandomContrast(factor, value_range, **kw),
        "random_sharpness": lambda **kw: RandomSharpness(factor, value_range, **kw),
        "random_posterization": lambda **kw: RandomPosterization(
            max(1, int(8 * factor[1])), value_range, **kw
        ),
        "solarization": lambda **kw: Solarization(factor, factor, value_range, **kw),
        "auto_contrast": lambda seed, **kw: AutoContrast(value_range, **kw),
        "equalization": lambda seed, **kw: Equalization(value_range, **kw),
    }
    return {
        name: makers[name](
            seed=_derived_seed(parent.seed, index), data_format=data_format, name=name
        )
        for index, name in enumerate(names)
    }


def _apply_policy_layer(layer, images: torch.Tensor) -> torch.Tensor:
    if isinstance(layer, AutoContrast):
        return layer(images)
    if isinstance(layer, Equalization):
        return layer(images, training=True)
    return layer.augment(images)


_RAND_AUGMENT_OPS = (
    "random_shear",
    "random_translation",
    "random_rotation",
    "random_brightness",
    "random_color_degeneration",
    "random_contrast",
    "random_sharpness",
    "random_posterization",
    "solarization",
    "auto_contrast",
    "equalization",
)


class _AugmentationPolicy(_ImagesOnly, _RandomImageLayer):
    """Shared arguments of RandAugment and AugMix: a [0, 1] `factor` for every inner layer."""

    def __init__(self, value_range, factor, interpolation, seed, data_format, **kwargs):
        name = type(self).__name__
        factor = _clipped_factor_range(name, factor, 0, 1)
        value_range = _value_range(name, value_range)
        _check_choice(name, "interpolation", interpolation, sampling.WARP_INTERPOLATIONS)
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.value_range, self.factor, self.interpolation = value_range, factor, interpolation

    def _draw_indices(self, count: int, choices: int, images: torch.Tensor) -> list:
        # The choice of inner layers decides which code runs, so it is read on the host.
        draws = self._uniform(count, 0.0, 1.0, images).double() * choices
        return [min(int(value), choices - 1) for value in draws.tolist()]

    def get_config(self):
        return {
            **super().get_config(),
            "value_range": self.value_range,
            "factor": self.factor,
            "interpolation": self.interpolation,
        }


class RandAugment(_AugmentationPolicy):
    """Applies `num_ops` augmentations, picked at random per call, in training.

    The pool (as Keras): RandomShear, RandomTranslation, RandomRotation, RandomBrightness,
    RandomColorDegeneration, RandomContrast, RandomSharpness, RandomPosterization,
    Solarization, AutoContrast and Equalization, each built from `factor` ([0, f] for a
    number f in [0, 1]) and `value_range`. Each pick applies to the whole batch, with its
    own random settings per image.

    Example:
    >>> import torch
    >>> import tritonlayers as keras
    >>> layer = keras.layers.RandAugment(seed=0)
    >>> tuple(layer(torch.rand(2, 8, 8, 3) * 255, training=True).shape)
    (2, 8, 8, 3)
    """

    def __init__(
        self,
        value_range: Any = (0, 255),
        num_ops: int = 2,
        factor: Any = 0.5,
        interpolation: str = "bilinear",
        seed: "int | None" = None,
        data_format: "str | None" = None,
        **kwargs,
    ):
        if isinstance(num_ops, bool) or not isinstance(num_ops, int) or num_ops < 0:
            raise ValueError(
                f"RandAugment: `num_ops` must be a non-negative integer. Received: "
                f"num_ops={num_ops!r}"
            )
        super().__init__(value_range, factor, interpolation, seed, data_format, **kwargs)
        self.num_ops = num_ops
        self.augmentations = _policy_layers(self, _RAND_AUGMENT_OPS, self.data_format)

    def augment(self, images):
        for index in self._draw_indices(self.num_ops, len(_RAND_AUGMENT_OPS), images):
            layer = self.augmentations[_RAND_AUGMENT_OPS[index]]
            images = _apply_policy_layer(layer, images)
        return images

    def get_config(self):
        config = {**super().get_config(), "num_ops": self.num_ops}
        return in_keras_order(config, ("value_range", "num_ops", "factor", "interpolation", "seed"))


class AugMix(_AugmentationPolicy):
    """Mixes `num_chains` random augmentation chains of each batch with it (AugMix).

    Each chain applies up to `chain_depth` layers picked at random per call (each step may
    also be skipped) from RandAugment's pool (`all_ops=False`: without RandomBrightness,
    RandomColorDegeneration, RandomContrast and RandomSharpness). The chains are averaged
    with Dirichlet(alpha) weights and blended with the input by m ~ Beta(alpha, alpha):
    `m * x + (1 - m) * mix`, clipped to `value_range`.

    Example:
    >>> import torch
    >>> import tritonlayers as keras
    >>> layer = keras.layers.AugMix(seed=0)
    >>> out = layer(torch.rand(2, 8, 8, 3) * 255, training=True)
    >>> tuple(out.shape), bool(((out >= 0) & (out <= 255)).all())
    ((2, 8, 8, 3), True)
    """

    def __init__(
        self,
        value_range: Any = (0, 255),
        num_chains: int = 3,
        chain_depth: int = 3,
        factor: Any = 0.3,
        alpha: float = 1.0,
        all_ops: bool = True,
        interpolation: str = "bilinear",
        seed: "int | None" = None,
        data_format: "str | None" = None,
        **kwargs,
    ):
        for name, value in (("num_chains", num_chains), ("chain_depth", chain_depth)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(
                    f"AugMix: `{name}` must be a positive integer. Received: {name}={value!r}"
                )
        if not _is_number(alpha) or alpha <= 0:
            raise ValueError(
                f"AugMix: `alpha` must be a positive number. Received: alpha={alpha!r}"
            )
        super().__init__(value_range, factor, interpolation, seed, data_format, **kwargs)
        self.num_chains, self.chain_depth = num_chains, chain_depth
        self.alpha, self.all_ops = alpha, bool(all_ops)
        pool = _RAND_AUGMENT_OPS if self.all_ops else _RAND_AUGMENT_OPS[:3] + _RAND_AUGMENT_OPS[7:]
        self.pool = pool
        self.augmentations = _policy_layers(self, pool, self.data_format)

    def augment(self, images):
        gammas = random.gamma((self.num_chains,), self.alpha, seed=self.seed_generator)
        chain_weights = (gammas / gammas.sum()).to(images.device, images.dtype)
        blend = random.beta((), self.alpha, self.alpha, seed=self.seed_generator)
        blend = blend.to(images.device, images.dtype)
        picks = self._draw_indices(self.num_chains * self.chain_depth, len(self.pool) + 1, images)
        mixed = torch.zeros_like(images)
        for chain in range(self.num_chains):
            augmented = images
            for index in picks[chain * self.chain_depth : (chain + 1) * self.chain_depth]:
                if index < len(self.pool):  # the last choice skips the step
                    layer = self.augmentations[self.pool[index]]
                    augmented = _apply_policy_layer(layer, augmented)
            mixed = mixed + chain_weights[chain] * augmented
        return (blend * images + (1 - blend) * mixed).clamp(*self.value_range)

    def get_config(self):
        config = {
            **super().get_config(),
            "num_chains": self.num_chains,
            "chain_depth": self.chain_depth,
            "alpha": self.alpha,
            "all_ops": self.all_ops,
        }
        return in_keras_order(
            config,
            (
                "value_range",
                "num_chains",
                "chain_depth",
                "factor",
                "alpha",
                "all_ops",
                "interpolation",
                "seed",
            ),
        )


class MaxNumBoundingBoxes(_ImagesOnly, _ImageLayer):
    """Keras's layer that pads or trims bounding boxes to `max_number` per image.

    Bounding-box dict inputs are not supported here, so on images it is the identity (as
    Keras is on images), kept for porting pipelines that include it.

    Example:
    >>> import torch
    >>> import tritonlayers as keras
    >>> keras.layers.MaxNumBoundingBoxes(10)(torch.ones(1, 2, 1)).flatten().tolist()
    [1.0, 1.0]
    """

    def __init__(self, max_number: int, fill_value: int = -1, **kwargs):
        if isinstance(max_number, bool) or not _is_number(max_number) or int(max_number) < 1:
            raise ValueError(
                "MaxNumBoundingBoxes: `max_number` must be a positive integer. "
                f"Received: max_number={max_number!r}"
            )
        super().__init__(**kwargs)
        self.max_number, self.fill_value = int(max_number), int(fill_value)

    def call(self, inputs):
        return self._images(inputs)

    def get_config(self):
        return {
            **super().get_config(),
            "max_number": self.max_number,
            "fill_value": self.fill_value,
        }


__all__ = [
    "AugMix",
    "CutMix",
    "MaxNumBoundingBoxes",
    "MixUp",
    "RandAugment",
    "RandomElasticTransform",
    "RandomErasing",
    "RandomGaussianBlur",
    "RandomPerspective",
    "RandomShear",
]
