"""Keras 3's ``keras.ops.image``: colour spaces, resizing, warps, patches, blur, SSIM.

Images are 3-D (one image) or 4-D (a batch), ``channels_last`` unless ``data_format`` (or
``config.image_data_format()``) says ``channels_first``. Results are torch tensors.

Warps (``affine_transform``, ``perspective_transform``, ``elastic_transform``) compute,
for every output pixel, the input point it reads, in pixel units with pixel centres on
integers, and read it with ``torch.nn.functional.grid_sample`` (``warp_nchw``). The image
preprocessing layers share ``resize_nchw``, ``warp_nchw`` and ``aspect_crop_box``.

Example:
>>> import tritonlayers as keras
>>> images = keras.ops.ones((2, 4, 4, 3))
>>> tuple(keras.ops.image.resize(images, (2, 3)).shape)
(2, 2, 3, 3)
>>> keras.ops.image.rgb_to_grayscale([[[1.0, 1.0, 1.0]]]).shape[-1]
1
"""

import itertools
import math
from typing import Any

import torch
import torch.nn.functional as F

from .. import config
from ._utils import symbolic_aware, tensor
from .core import to_torch_dtype

Tensor = torch.Tensor

__all__ = [
    "affine_transform",
    "crop_images",
    "elastic_transform",
    "extract_patches",
    "extract_patches_3d",
    "gaussian_blur",
    "hsv_to_rgb",
    "map_coordinates",
    "pad_images",
    "perspective_transform",
    "resize",
    "rgb_to_grayscale",
    "rgb_to_hsv",
    "scale_and_translate",
    "sobel_edges",
    "ssim",
]

FILL_MODES = ("reflect", "wrap", "constant", "nearest", "mirror")
WARP_INTERPOLATIONS = ("nearest", "bilinear")
RESIZE_INTERPOLATIONS = {"bilinear": "bilinear", "nearest": "nearest-exact", "bicubic": "bicubic"}
_SCALE_METHODS = {
    "linear": "linear",
    "bilinear": "linear",
    "trilinear": "linear",
    "cubic": "cubic",
    "bicubic": "cubic",
    "tricubic": "cubic",
    "lanczos3": "lanczos3",
    "lanczos5": "lanczos5",
}
_INT_DTYPES = (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)

# --------------------------------------------------------------------------------------
# Shared geometry (also used by the image preprocessing layers)
# --------------------------------------------------------------------------------------

# grid_sample reads outside the image as zeros (then `fill_value` is blended in), as the
# edge pixel, or mirrored about the outer edge (d c b a | a b c d). With
# align_corners=False that mirror is Keras's "reflect", and interpolating the mirrored or
# clamped point equals Keras's interpolation of mirrored or clamped neighbour indices.
_PADDING_MODES = {"constant": "zeros", "nearest": "border", "reflect": "reflection"}


def aspect_crop_box(height: int, width: int, target_height: int, target_width: int) -> tuple:
    """(top, left, crop_height, crop_width): the largest centred box of the target's aspect."""
    crop_height = max(min(height, int(float(width * target_height) / target_width)), 1)
    crop_width = max(min(width, int(float(height * target_width) / target_height)), 1)
    top = int(float(height - crop_height) / 2)
    left = int(float(width - crop_width) / 2)
    return top, left, crop_height, crop_width


def resize_nchw(images: Tensor, size: tuple, interpolation: str = "bilinear", antialias=False):
    """Resize a (batch, channels, height, width) float tensor to ``size`` (half-pixel
    centres; antialiasing applies to bilinear and bicubic only)."""
    smooth = interpolation in ("bilinear", "bicubic")
    return F.interpolate(
        images,
        size=tuple(size),
        mode=RESIZE_INTERPOLATIONS[interpolation],
        align_corners=False if smooth else None,
        antialias=bool(antialias) and smooth,
    )


def affine_sources(transforms: Tensor, height: int, width: int) -> Tensor:
    """(batch, height, width, 2): the input (x, y) each output pixel of a (batch, >=6)
    Keras transform row ``[a0, a1, a2, b0, b1, b2, ...]`` reads: ``(a0*x + a1*y + a2,
    b0*x + b1*y + b2)``."""
    dtype = transforms.dtype
    rows = torch.arange(height, dtype=dtype, device=transforms.device)[None, :, None]
    cols = torch.arange(width, dtype=dtype, device=transforms.device)[None, None, :]
    a0, a1, a2, b0, b1, b2 = (transforms[:, i, None, None] for i in range(6))
    # Written out term by term (not as a matmul) so float32 rounding matches Keras's, and
    # "nearest" picks the same pixel at half-way points.
    return torch.stack([(cols * a0 + rows * a1) + a2, (cols * b0 + rows * b1) + b2], dim=-1)


def _mirror(points: Tensor, size: int) -> Tensor:
    """Fold coordinates into [0, size - 1] by mirroring about the edge pixels' centres
    (c b | a b c d | c b): a triangle wave of period 2 * (size - 1)."""
    if size == 1:
        return torch.zeros_like(points)
    period = 2 * (size - 1)
    folded = torch.remainder(points, period)
    return torch.where(folded > size - 1, period - folded, folded)


def warp_nchw(
    images: Tensor,
    sources: Tensor,
    interpolation: str = "bilinear",
    fill_mode: str = "constant",
    fill_value: float = 0.0,
) -> Tensor:
    """Read a (batch, channels, height, width) tensor at (batch, H', W', 2) input (x, y)
    points: a (batch, channels, H', W') tensor of the images' dtype (rounded for ints).

    ``fill_mode`` says what is read outside the image: "constant" (``fill_value``),
    "nearest" (the edge pixel), "reflect" (d c b a | a b c d), "mirror" (d c b | a b c d)
    or "wrap" (a b c d | a b c d).
    """
    batch, channels, height, width = images.shape
    out_dtype = images.dtype
    dtype = torch.float64 if out_dtype == torch.float64 else torch.float32
    images = images.to(dtype)  # half precision would blur the sampling grid
    sources = sources.to(dtype=dtype, device=images.device)
    if sources.shape[0] != batch:
        sources = sources.expand(batch, *sources.shape[1:])
    if interpolation == "nearest":
        # Round here (half to even, as Keras does) so grid_sample's own rounding of the
        # normalized grid cannot move a half-way point to the other pixel.
        sources = torch.round(sources)
    padding_mode = _PADDING_MODES.get(fill_mode, "border")
    if fill_mode == "wrap":
        # Wrap the point into the image, then read from the image framed by a one-pixel
        # circular border, so a point between the last column and the first interpolates them.
        sizes = torch.tensor([width, height], dtype=dtype, device=images.device)
        sources = torch.remainder(sources, sizes) + 1
        images = F.pad(images, (1, 1, 1, 1), mode="circular")
    elif fill_mode == "mirror":
        sources = torch.stack(
            [_mirror(sources[..., 0], width), _mirror(sources[..., 1], height)], dim=-1
        )
    blend_fill = fill_mode == "constant" and fill_value != 0
    if blend_fill:
        images = torch.cat([images, torch.ones_like(images[:, :1])], dim=1)
    in_height, in_width = images.shape[-2:]
    scale = torch.tensor([in_width, in_height], dtype=dtype, device=images.device)
    grid = (2 * sources + 1) / scale - 1  # pixel centres -> [-1, 1] with align_corners=False
    warped = F.grid_sample(
        images, grid, mode=interpolation, padding_mode=padding_mode, align_corners=False
    )
    if blend_fill:
        # The extra channel holds how much of each output pixel came from inside the image.
        warped = warped[:, :channels] + fill_value * (1 - warped[:, channels:])
    if out_dtype in _INT_DTYPES:
        warped = torch.round(warped)
    return warped.to(out_dtype)


# --------------------------------------------------------------------------------------
# Argument checks and layouts
# --------------------------------------------------------------------------------------


def _data_format(data_format: "str | None") -> str:
    data_format = config.image_data_format() if data_format is None else data_format.lower()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            "data_format must be 'channels_last' or 'channels_first'. "
            f"Received: data_format={data_format!r}"
        )
    return data_format


def _images(images: Any, name: str = "images") -> Tensor:
    images = tensor(images)
    if images.ndim not in (3, 4):
        raise ValueError(
            f"Invalid {name} rank: expected rank 3 (single image) or rank 4 (batch of "
            f"images). Received input with shape: {name}.shape={tuple(images.shape)}"
        )
    return images


def _to_nchw(images: Tensor, data_format: str) -> Tensor:
    images = images.unsqueeze(0) if images.ndim == 3 else images
    return images if data_format == "channels_first" else images.permute(0, 3, 1, 2)


def _from_nchw(images: Tensor, data_format: str, unbatched: bool) -> Tensor:
    images = images.permute(0, 2, 3, 1) if data_format == "channels_last" else images
    return images.squeeze(0) if unbatched else images


def _check_choice(name: str, value: Any, choices) -> None:
    if value not in choices:
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected one of {sorted(choices)}. "
            f"Received: {name}={value!r}"
        )


def _float_images(images: Any, function: str) -> Tensor:
    images = _images(images)
    if not images.is_floating_point():
        raise ValueError(
            f"{function}: invalid images dtype: expected float dtype. "
            f"Received: images.dtype={str(images.dtype).replace('torch.', '')}"
        )
    return images


# --------------------------------------------------------------------------------------
# Colour spaces
# --------------------------------------------------------------------------------------


def rgb_to_grayscale(images: Any, data_format: "str | None" = None) -> Tensor:
    """Luma ``0.2989 R + 0.587 G + 0.114 B`` as one channel (a 1-channel input is copied).

    Example:
    >>> import tritonlayers as keras
    >>> keras.ops.image.rgb_to_grayscale([[[1.0, 0.0, 0.0]]]).flatten().tolist()
    [0.2989000082015991]
    """
    images = _images(images)
    axis = -3 if _data_format(data_format) == "channels_first" else -1
    if images.shape[axis] not in (1, 3):
        raise ValueError(
            "Invalid channel size: expected 3 (RGB) or 1 (Grayscale). "
            f"Received input with shape: images.shape={tuple(images.shape)}"
        )
    if images.shape[axis] == 1:
        return images.clone()
    red, green, blue = images.unbind(dim=axis)
    return (0.2989 * red + 0.587 * green + 0.114 * blue).to(images.dtype).unsqueeze(axis)


def rgb_to_hsv(images: Any, data_format: "str | None" = None) -> Tensor:
    """RGB in [0, 1] to hue, saturation, value, each in [0, 1] (float images only).

    Example:
    >>> import tritonlayers as keras
    >>> keras.ops.image.rgb_to_hsv([[[0.0, 1.0, 0.0]]]).flatten().tolist()
    [0.3333333432674408, 1.0, 1.0]
    """
    images = _float_images(images, "rgb_to_hsv")
    axis = -1 if _data_format(data_format) == "channels_last" else -3
    # Values within eps of zero count as zero, so tiny noise does not make up a hue.
    images = torch.where(images.abs() < torch.finfo(images.dtype).eps, 0.0, images)
    red, green, blue = images.unbind(dim=axis)
    value = torch.maximum(torch.maximum(red, green), blue)
    spread = value - torch.minimum(torch.minimum(red, green), blue)
    saturation = torch.where(value > 0, spread / torch.where(value > 0, value, 1.0), 0.0)
    sixth = 1.0 / (6.0 * torch.where(spread > 0, spread, 1.0))
    hue = torch.where(
        value == green, sixth * (blue - red) + 2.0 / 6.0, sixth * (red - green) + 4.0 / 6.0
    )
    hue = torch.where(value == red, sixth * (green - blue), hue)
    hue = torch.where(spread > 0, hue, 0.0)
    hue = hue + (hue < 0).to(hue.dtype)
    return torch.stack([hue, saturation, value], dim=axis)


def hsv_to_rgb(images: Any, data_format: "str | None" = None) -> Tensor:
    """Hue, saturation, value in [0, 1] to RGB (float images only); inverse of
    ``rgb_to_hsv``.

    Example:
    >>> import tritonlayers as keras
    >>> keras.ops.image.hsv_to_rgb([[[0.0, 1.0, 0.5]]]).flatten().tolist()
    [0.5, 0.0, 0.0]
    """
    images = _float_images(images, "hsv_to_rgb")
    axis = -1 if _data_format(data_format) == "channels_last" else -3
    hue, saturation, value = images.unbind(dim=axis)
    sextant = torch.remainder(hue, 1.0) * 6.0
    red = torch.clamp((sextant - 3.0).abs() - 1.0, 0.0, 1.0)
    green = torch.clamp(2.0 - (sextant - 2.0).abs(), 0.0, 1.0)
    blue = torch.clamp(2.0 - (sextant - 4.0).abs(), 0.0, 1.0)
    grey = 1.0 - saturation
    planes = [value * (grey + saturation * channel) for channel in (red, green, blue)]
    return torch.stack(planes, dim=axis)


# --------------------------------------------------------------------------------------
# Resizing, padding, cropping
# --------------------------------------------------------------------------------------


def _pad_to_aspect(images: Tensor, size: tuple, fill_value: float) -> Tensor:
    """Pad a (batch, channels, H, W) tensor evenly on its short side towards ``size``'s
    aspect ratio (the same margin on both sides, as Keras does)."""
    height, width = images.shape[-2:]
    padded_height = max(height, int(float(width * size[0]) / size[1]))
    padded_width = max(width, int(float(height * size[1]) / size[0]))
    top = int(float(padded_height - height) / 2)
    left = int(float(padded_width - width) / 2)
    return F.pad(images, (left, left, top, top), value=float(fill_value))


def resize(
    images: Any,
    size: Any,
    interpolation: str = "bilinear",
    antialias: bool = False,
    crop_to_aspect_ratio: bool = False,
    pad_to_aspect_ratio: bool = False,
    fill_mode: str = "constant",
    fill_value: float = 0.0,
    data_format: "str | None" = None,
) -> Tensor:
    """Resize images to ``size = (height, width)``: "nearest", "bilinear" or "bicubic",
    optionally cropping or padding (with ``fill_value``) to the target's aspect ratio first.
    Integer images are resized in float32 and rounded back.

    Example:
    >>> import tritonlayers as keras
    >>> image = keras.ops.reshape(keras.ops.arange(4.0), (1, 4, 1))
    >>> keras.ops.image.resize(image, (1, 2)).flatten().tolist()
    [0.5, 2.5]
    """
    if len(size) != 2:
        raise ValueError(f"Expected `size` to be a tuple of 2 integers. Received: size={size}")
    size = (int(size[0]), int(size[1]))
    if size[0] <= 0 or size[1] <= 0:
        raise ValueError(f"`size` must have positive height and width. Received: size={size}")
    if interpolation in ("lanczos3", "lanczos5"):
        raise ValueError(
            "Resizing with Lanczos interpolation is not supported by the PyTorch backend. "
            f"Received: interpolation={interpolation}."
        )
    _check_choice("interpolation", interpolation, RESIZE_INTERPOLATIONS)
    if fill_mode != "constant":
        raise ValueError(
            "Invalid value for argument `fill_mode`. Only `'constant'` is supported. "
            f"Received: fill_mode={fill_mode}"
        )
    if pad_to_aspect_ratio and crop_to_aspect_ratio:
        raise ValueError(
            "Only one of `pad_to_aspect_ratio` & `crop_to_aspect_ratio` can be `True`."
        )
    images = _images(images)
    data_format = _data_format(data_format)
    out_dtype = images.dtype
    x = _to_nchw(images, data_format)
    if out_dtype not in (torch.float32, torch.float64):
        x = x.to(torch.float32)
    if crop_to_aspect_ratio:
        top, left, crop_height, crop_width = aspect_crop_box(*x.shape[-2:], *size)
        x = x[:, :, top : top + crop_height, left : left + crop_width]
    elif pad_to_aspect_ratio:
        x = _pad_to_aspect(x, size, fill_value)
    x = resize_nchw(x, size, interpolation, antialias)
    if out_dtype in _INT_DTYPES:
        if interpolation == "bicubic" and out_dtype == torch.uint8:
            x = x.clamp(0, 255)
        x = torch.round(x)
    return _from_nchw(x, data_format, images.ndim == 3).to(out_dtype)


def _resolve_margins(kind: str, before, after, target, size: int, side: tuple) -> tuple:
    """(before, after) margins from exactly two of ``before``, ``after``, ``target``."""
    names = (f"{side[0]}_{kind}", f"{side[1]}_{kind}", f"target_{side[2]}")
    values = (before, after, target)
    if values.count(None) != 1:
        raise ValueError(
            f"Must specify exactly two of {', '.join(names)}. Received: "
            + ", ".join(f"{n}={v}" for n, v in zip(names, values))
        )
    for name, value in zip(names, values):
        if value is not None and value < 0:
            raise ValueError(f"{name} must be >= 0. Received: {name}={value}")
    padding = kind == "padding"
    if before is None:
        before = target - after - size if padding else size - target - after
    if after is None:
        after = target - before - size if padding else size - target - before
    for name, value in zip(names, (before, after)):
        if value < 0:
            raise ValueError(f"{name} must be >= 0. Received: {name}={value}")
    if not padding and before + after > size:
        raise ValueError(
            f"crop_images: cropping {before} + {after} exceeds the image's {side[2]} of {size}."
        )
    return int(before), int(after)


def pad_images(
    images: Any,
    top_padding: "int | None" = None,
    left_padding: "int | None" = None,
    bottom_padding: "int | None" = None,
    right_padding: "int | None" = None,
    target_height: "int | None" = None,
    target_width: "int | None" = None,
    data_format: "str | None" = None,
) -> Tensor:
    """Zero-pad images; give two of (top, bottom, target height) and two of (left, right,
    target width).

    Example:
    >>> import tritonlayers as keras
    >>> image = keras.ops.ones((2, 2, 1))
    >>> tuple(keras.ops.image.pad_images(image, 1, 0, target_height=4, target_width=3).shape)
    (4, 3, 1)
    """
    images = _images(images)
    data_format = _data_format(data_format)
    height, width = _hw(images, data_format)
    top, bottom = _resolve_margins(
        "padding", top_padding, bottom_padding, target_height, height, ("top", "bottom", "height")
    )
    left, right = _resolve_margins(
        "padding", left_padding, right_padding, target_width, width, ("left", "right", "width")
    )
    pads = (
        (left, right, top, bottom)
        if data_format == "channels_first"
        else (0, 0, left, right, top, bottom)
    )
    return F.pad(images, pads)


def crop_images(
    images: Any,
    top_cropping: "int | None" = None,
    left_cropping: "int | None" = None,
    bottom_cropping: "int | None" = None,
    right_cropping: "int | None" = None,
    target_height: "int | None" = None,
    target_width: "int | None" = None,
    data_format: "str | None" = None,
) -> Tensor:
    """Crop images; give two of (top, bottom, target height) and two of (left, right,
    target width).

    Example:
    >>> import tritonlayers as keras
    >>> image = keras.ops.ones((5, 4, 1))
    >>> tuple(keras.ops.image.crop_images(image, 1, 1, target_height=2, target_width=2).shape)
    (2, 2, 1)
    """
    images = _images(images)
    data_format = _data_format(data_format)
    height, width = _hw(images, data_format)
    top, bottom = _resolve_margins(
        "cropping",
        top_cropping,
        bottom_cropping,
        target_height,
        height,
        ("top", "bottom", "height"),
    )
    left, right = _resolve_margins(
        "cropping", left_cropping, right_cropping, target_width, width, ("left", "right", "width")
    )
    rows, cols = slice(top, height - bottom), slice(left, width - right)
    if data_format == "channels_first":
        return images[..., rows, cols]
    return images[..., rows, cols, :]


def _hw(images: Tensor, data_format: str) -> tuple:
    shape = images.shape
    return (shape[-2], shape[-1]) if data_format == "channels_first" else (shape[-3], shape[-2])


# --------------------------------------------------------------------------------------
# Warps and coordinate sampling
# --------------------------------------------------------------------------------------


def affine_transform(
    images: Any,
    transform: Any,
    interpolation: str = "bilinear",
    fill_mode: str = "constant",
    fill_value: float = 0,
    data_format: "str | None" = None,
) -> Tensor:
    """Warp images by ``transform`` rows ``[a0, a1, a2, b0, b1, b2, c0, c1]``: output pixel
    (x, y) reads the input at ``(a0 x + a1 y + a2, b0 x + b1 y + b2)`` (``c0``, ``c1`` are
    ignored, as in Keras's torch backend). One row of 8 or one per image.

    Example:
    >>> import tritonlayers as keras
    >>> image = keras.ops.reshape(keras.ops.arange(4.0), (1, 4, 1))
    >>> shift = [1.0, 0.0, -1.0, 0.0, 1.0, 0.0, 0.0, 0.0]
    >>> keras.ops.image.affine_transform(image, shift, fill_value=9.0).flatten().tolist()
    [9.0, 0.0, 1.0, 2.0]
    """
    _check_choice("interpolation", interpolation, WARP_INTERPOLATIONS)
    _check_choice("fill_mode", fill_mode, FILL_MODES)
    images = _images(images)
    transform = tensor(transform)
    if transform.ndim not in (1, 2):
        raise ValueError(
            "Invalid transform rank: expected rank 1 (single transform) or rank 2 (batch of "
            f"transforms). Received input with shape: transform.shape={tuple(transform.shape)}"
        )
    if transform.shape[-1] != 8:
        raise ValueError(
            "affine_transform: each transform must have 8 values [a0, a1, a2, b0, b1, b2, "
            f"c0, c1]. Received: transform.shape={tuple(transform.shape)}"
        )
    data_format = _data_format(data_format)
    x = _to_nchw(images, data_format)
    transform = transform.reshape(-1, 8).to(device=x.device)
    if not transform.is_floating_point():
        transform = transform.to(torch.float32)
    if transform.shape[0] not in (1, x.shape[0]):
        raise ValueError(
            f"affine_transform: got {transform.shape[0]} transforms for {x.shape[0]} images."
        )
    sources = affine_sources(transform, *x.shape[-2:])
    warped = warp_nchw(x, sources, interpolation, fill_mode, fill_value)
    return _from_nchw(warped, data_format, images.ndim == 3)


def _homographies(start_points: Tensor, end_points: Tensor) -> Tensor:
    """(batch, 8) ``[a0, a1, a2, b0, b1, b2, c0, c1]`` sending each end corner to its start
    corner: ``x_s = (a0 x + a1 y + a2) / (c0 x + c1 y + 1)``, likewise ``y_s`` with b."""
    x, y = end_points[..., 0], end_points[..., 1]  # (batch, 4)
    xs, ys = start_points[..., 0], start_points[..., 1]
    one, zero = torch.ones_like(x), torch.zeros_like(x)
    rows_x = torch.stack([x, y, one, zero, zero, zero, -xs * x, -xs * y], dim=-1)
    rows_y = torch.stack([zero, zero, zero, x, y, one, -ys * x, -ys * y], dim=-1)
    system = torch.stack([rows_x, rows_y], dim=2).reshape(-1, 8, 8)
    targets = torch.stack([xs, ys], dim=2).reshape(-1, 8, 1)
    return torch.linalg.solve(system, targets).squeeze(-1)


def _corner_points(points: Any, name: str, dtype: torch.dtype) -> Tensor:
    points = tensor(points)
    if points.ndim not in (2, 3) or tuple(points.shape[-2:]) != (4, 2):
        raise ValueError(
            f"Invalid {name} shape: expected (4,2) for a single image or (N,4,2) for a batch. "
            f"Received shape: {tuple(points.shape)}"
        )
    return points.reshape(-1, 4, 2).to(dtype)


def perspective_transform(
    images: Any,
    start_points: Any,
    end_points: Any,
    interpolation: str = "bilinear",
    fill_value: float = 0,
    data_format: "str | None" = None,
) -> Tensor:
    """Warp images so the quadrilateral ``start_points`` lands on ``end_points`` (four
    (x, y) corners each, shape (4, 2) or (batch, 4, 2)); outside reads ``fill_value``.

    Example:
    >>> import tritonlayers as keras
    >>> corners = [[0, 0], [3, 0], [0, 3], [3, 3]]
    >>> image = keras.ops.reshape(keras.ops.arange(16.0), (4, 4, 1))
    >>> out = keras.ops.image.perspective_transform(image, corners, corners)
    >>> bool(keras.ops.all(keras.ops.isclose(out, image, atol=1e-4)))
    True
    """
    _check_choice("interpolation", interpolation, WARP_INTERPOLATIONS)
    images = _images(images)
    dtype = images.dtype if images.is_floating_point() else to_torch_dtype(config.floatx())
    start = _corner_points(start_points, "start_points", torch.float64)
    end = _corner_points(end_points, "end_points", torch.float64)
    if tensor(start_points).shape != tensor(end_points).shape:
        raise ValueError(
            "start_points and end_points must have the same shape. Received "
            f"start_points.shape={tuple(tensor(start_points).shape)}, "
            f"end_points.shape={tuple(tensor(end_points).shape)}"
        )
    data_format = _data_format(data_format)
    x = _to_nchw(images, data_format)
    height, width = x.shape[-2:]
    coefficients = _homographies(start, end).to(dtype=dtype, device=x.device)
    rows, cols = torch.meshgrid(
        torch.arange(height, dtype=dtype, device=x.device),
        torch.arange(width, dtype=dtype, device=x.device),
        indexing="ij",
    )
    c = coefficients[:, :, None, None]
    denominator = c[:, 6] * cols + c[:, 7] * rows + 1.0
    source_x = (c[:, 0] * cols + c[:, 1] * rows + c[:, 2]) / denominator
    source_y = (c[:, 3] * cols + c[:, 4] * rows + c[:, 5]) / denominator
    sources = torch.stack([source_x, source_y], dim=-1)
    warped = warp_nchw(x, sources, interpolation, "constant", fill_value)
    return _from_nchw(warped, data_format, images.ndim == 3)


def map_coordinates(
    inputs: Any, coordinates: Any, order: int, fill_mode: str = "constant", fill_value: float = 0
) -> Tensor:
    """Read ``inputs`` (any rank N) at fractional points: ``coordinates`` holds N arrays of
    equal shape, one per axis; ``order`` 0 is nearest, 1 is (multi)linear interpolation.

    ``fill_mode`` ("constant", "nearest", "wrap", "mirror", "reflect") says how points
    outside are read; "constant" reads ``fill_value``.

    Example:
    >>> import tritonlayers as keras
    >>> keras.ops.image.map_coordinates([10.0, 20.0, 30.0], [[0.5, 1.25]], order=1).tolist()
    [15.0, 22.5]
    """
    values = tensor(inputs)
    axes = [tensor(c).to(values.device) for c in coordinates]
    if len(axes) != values.ndim:
        raise ValueError(
            "First dim of `coordinates` must be the same as the rank of `inputs`. Received "
            f"inputs with shape: {tuple(values.shape)} and coordinate leading dim of {len(axes)}"
        )
    if axes[0].ndim < 1:
        raise ValueError(
            "Invalid coordinates rank: expected at least rank 2. Received input with shape: "
            f"{(len(axes),) + tuple(axes[0].shape)}"
        )
    _check_choice("fill_mode", fill_mode, FILL_MODES)
    if order not in (0, 1):
        raise ValueError(f"map_coordinates: `order` must be 0 or 1. Received: order={order}")
    integer = not (values.is_floating_point() or values.is_complex())
    # Per axis, the (index, weight, inside) of the neighbours each point interpolates.
    per_axis = []
    for coordinate, size in zip(axes, values.shape):
        if order == 0:
            rounded = coordinate if not coordinate.is_floating_point() else torch.round(coordinate)
            neighbours = [(rounded.to(torch.int64), None)]
        else:
            lower = torch.floor(coordinate)
            upper_weight = coordinate - lower
            lower = lower.to(torch.int64)
            neighbours = [(lower, 1 - upper_weight), (lower + 1, upper_weight)]
        per_axis.append([(*_fix_index(i, size, fill_mode), w) for i, w in neighbours])
    result = 0
    for corner in itertools.product(*per_axis):
        indices, inside, weights = zip(*corner)
        picked = values[indices]
        if fill_mode == "constant":
            picked = torch.where(
                torch.stack(inside).all(dim=0),
                picked,
                torch.as_tensor(fill_value, dtype=picked.dtype, device=picked.device)
                if not integer
                else torch.as_tensor(int(fill_value), dtype=picked.dtype, device=picked.device),
            )
        weight = math.prod(w for w in weights if w is not None) if order == 1 else 1
        result = result + weight * picked
    if integer and torch.is_tensor(result) and result.is_floating_point():
        result = torch.round(result)
    return torch.as_tensor(result).to(values.dtype)


def _fix_index(index: Tensor, size: int, fill_mode: str) -> tuple:
    """(the index ``fill_mode`` reads instead of ``index``, whether ``index`` is inside)."""
    inside = (index >= 0) & (index < size)
    if fill_mode == "wrap":
        return torch.remainder(index, size), inside
    if fill_mode == "mirror":
        if size == 1:
            return torch.zeros_like(index), inside
        period = 2 * (size - 1)
        folded = torch.remainder(index, period)
        return torch.where(folded >= size, period - folded, folded), inside
    if fill_mode == "reflect":
        folded = torch.remainder(index, 2 * size)
        return torch.where(folded >= size, 2 * size - 1 - folded, folded), inside
    return index.clamp(0, size - 1), inside


# --------------------------------------------------------------------------------------
# Filters and random warps
# --------------------------------------------------------------------------------------


def _gaussian_1d(size: int, sigma: Any, dtype: torch.dtype, device) -> Tensor:
    offsets = torch.arange(size, dtype=dtype, device=device) - (size - 1) / 2
    weights = torch.exp(-0.5 * (offsets / torch.as_tensor(sigma, dtype=dtype)) ** 2)
    return weights / weights.sum()


def _depthwise(x: Tensor, kernel: Tensor) -> Tensor:
    """A (kh, kw) kernel over each channel of (batch, channels, H, W), zero "same" padding."""
    channels = x.shape[1]
    kh, kw = kernel.shape
    x = F.pad(x, ((kw - 1) // 2, kw // 2, (kh - 1) // 2, kh // 2))
    weight = kernel.expand(channels, 1, kh, kw)
    return F.conv2d(x, weight, groups=channels)


def gaussian_blur(
    images: Any,
    kernel_size: Any = (3, 3),
    sigma: Any = (1.0, 1.0),
    data_format: "str | None" = None,
) -> Tensor:
    """Blur each channel with a Gaussian kernel (zero padding, same size out).

    Index 0 of ``kernel_size`` and ``sigma`` is the x (width) direction and index 1 the y
    (height) direction, as Keras's backends compute it.

    Example:
    >>> import tritonlayers as keras
    >>> out = keras.ops.image.gaussian_blur(keras.ops.ones((1, 5, 5, 1)))
    >>> round(float(out[0, 2, 2, 0]), 4)
    1.0
    """
    images = _images(images)
    data_format = _data_format(data_format)
    x = _to_nchw(images, data_format)
    dtype = x.dtype if x.is_floating_point() else to_torch_dtype(config.floatx())
    sizes = (int(kernel_size[0]), int(kernel_size[1]))
    sigmas = [float(s) for s in sigma]
    across = _gaussian_1d(sizes[0], sigmas[0], dtype, x.device)
    down = _gaussian_1d(sizes[1], sigmas[1], dtype, x.device)
    blurred = _depthwise(x.to(dtype), torch.outer(down, across))
    return _from_nchw(blurred, data_format, images.ndim == 3).to(images.dtype)


def elastic_transform(
    images: Any,
    alpha: float = 20.0,
    sigma: float = 5.0,
    interpolation: str = "bilinear",
    fill_mode: str = "reflect",
    fill_value: float = 0.0,
    seed: Any = None,
    data_format: "str | None" = None,
) -> Tensor:
    """Warp each image by a random smooth displacement field: standard-normal offsets
    times ``sigma``, blurred by a Gaussian of std ``sigma``, scaled by ``alpha``.

    The field is drawn from ``tritonlayers.random`` (``seed``: an int, a SeedGenerator or
    None), so it differs from Keras's draw; its distribution is the same.

    Example:
    >>> import tritonlayers as keras
    >>> out = keras.ops.image.elastic_transform(keras.ops.ones((8, 8, 1)), seed=1)
    >>> tuple(out.shape), round(float(out.mean()), 4)
    ((8, 8, 1), 1.0)
    """
    from .. import random

    _check_choice("interpolation", interpolation, WARP_INTERPOLATIONS)
    _check_choice("fill_mode", fill_mode, FILL_MODES)
    images = _images(images)
    data_format = _data_format(data_format)
    x = _to_nchw(images, data_format)
    batch, _, height, width = x.shape
    dtype = x.dtype if x.is_floating_point() else to_torch_dtype(config.floatx())
    sigma, alpha = float(sigma), float(alpha)
    size = int(6 * sigma) | 1
    kernel = torch.outer(*(2 * [_gaussian_1d(size, sigma, dtype, x.device)]))
    noise = random.normal((batch, 2, height, width), dtype=dtype, seed=seed).to(x.device)
    displacement = _depthwise(noise * sigma, kernel) * alpha  # channel 0: x, 1: y
    rows, cols = torch.meshgrid(
        torch.arange(height, dtype=dtype, device=x.device),
        torch.arange(width, dtype=dtype, device=x.device),
        indexing="ij",
    )
    sources = torch.stack([cols, rows], dim=-1) + displacement.permute(0, 2, 3, 1)
    warped = warp_nchw(x, sources, interpolation, fill_mode, fill_value)
    return _from_nchw(warped, data_format, images.ndim == 3)


def sobel_edges(images: Any, data_format: "str | None" = None) -> Tensor:
    """Sobel gradients of a batch of images: a trailing axis of 2 holds (d/dy, d/dx), with
    zero padding. The output is ``images.shape + (2,)``.

    Example:
    >>> import tritonlayers as keras
    >>> ramp = keras.ops.reshape(keras.ops.tile(keras.ops.arange(4.0), (4,)), (1, 4, 4, 1))
    >>> keras.ops.image.sobel_edges(ramp)[0, 1, 1, 0].tolist()
    [0.0, 8.0]
    """
    images = tensor(images)
    if images.ndim != 4:
        raise ValueError(
            "Invalid images rank: expected rank 4 (batch of images). "
            f"Received: images.shape={tuple(images.shape)}"
        )
    data_format = _data_format(data_format)
    x = _to_nchw(images, data_format)
    dtype = x.dtype if x.is_floating_point() else to_torch_dtype(config.floatx())
    x = x.to(dtype)
    smooth = torch.tensor([1.0, 2.0, 1.0], dtype=dtype, device=x.device)
    slope = torch.tensor([-1.0, 0.0, 1.0], dtype=dtype, device=x.device)
    d_dy = _depthwise(x, torch.outer(slope, smooth))
    d_dx = _depthwise(x, torch.outer(smooth, slope))
    edges = torch.stack([d_dy, d_dx], dim=-1)
    return edges.permute(0, 2, 3, 1, 4) if data_format == "channels_last" else edges


def ssim(
    image1: Any,
    image2: Any,
    max_val: float = 1.0,
    filter_size: int = 11,
    filter_sigma: float = 1.5,
    k1: float = 0.01,
    k2: float = 0.03,
    data_format: "str | None" = None,
) -> Tensor:
    """Structural similarity, per image (a scalar for one image): local statistics under a
    Gaussian window (valid positions only), averaged over positions and channels.

    Example:
    >>> import tritonlayers as keras
    >>> image = keras.random.uniform((16, 16, 3), seed=0)
    >>> round(float(keras.ops.image.ssim(image, image)), 4)
    1.0
    """
    image1, image2 = _images(image1, "image1"), _images(image2, "image2")
    out_dtype = image1.dtype
    dtype = image1.dtype if image1.is_floating_point() else to_torch_dtype(config.floatx())
    data_format = _data_format(data_format)
    unbatched = image1.ndim == 3
    first = _to_nchw(image1.to(dtype), data_format)
    second = _to_nchw(image2.to(dtype).to(first.device), data_format)
    if first.shape != second.shape:
        raise ValueError(
            "ssim: image1 and image2 must have the same shape. Received: "
            f"image1.shape={tuple(image1.shape)}, image2.shape={tuple(image2.shape)}"
        )
    channels = first.shape[1]
    if min(first.shape[-2:]) < filter_size:
        raise ValueError(
            f"ssim: the images' height and width {tuple(first.shape[-2:])} must be at least "
            f"filter_size={filter_size}."
        )
    window = _gaussian_1d(filter_size, filter_sigma, dtype, first.device)
    window = torch.outer(window, window).expand(channels, 1, filter_size, filter_size)

    def local_mean(x: Tensor) -> Tensor:
        return F.conv2d(x, window, groups=channels)

    mu1, mu2 = local_mean(first), local_mean(second)
    var1 = local_mean(first * first) - mu1 * mu1
    var2 = local_mean(second * second) - mu2 * mu2
    cov = local_mean(first * second) - mu1 * mu2
    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    index = ((2 * mu1 * mu2 + c1) * (2 * cov + c2)) / (
        (mu1 * mu1 + mu2 * mu2 + c1) * (var1 + var2 + c2)
    )
    result = index.mean(dim=(1, 2, 3))
    return (result.squeeze(0) if unbatched else result).to(out_dtype)


# --------------------------------------------------------------------------------------
# Patches and scale-and-translate
# --------------------------------------------------------------------------------------


def _patches(images: Tensor, size: tuple, strides, dilation_rate, padding, data_format) -> Tensor:
    """Patches of a batched input as channels via an identity convolution kernel: channel
    ``((i * size_1 + j) * size_2 + ...) * channels + c`` holds offset (i, j, ...) of c."""
    from .nn import conv

    channels = images.shape[-1] if data_format == "channels_last" else images.shape[1]
    depth = math.prod(size) * channels
    dtype = images.dtype if images.is_floating_point() else to_torch_dtype(config.floatx())
    kernel = torch.eye(depth, dtype=dtype, device=images.device).reshape(*size, channels, depth)
    patches = conv(images.to(dtype), kernel, strides, padding, data_format, dilation_rate)
    return patches.to(images.dtype)


def extract_patches(
    images: Any,
    size: Any,
    strides: Any = None,
    dilation_rate: Any = 1,
    padding: str = "valid",
    data_format: "str | None" = None,
) -> Tensor:
    """Patches of ``size`` (an int or (height, width)) every ``strides`` (default: the
    size) as the channels of each output position: ``patch_h * patch_w * channels`` of them.
    A 3-tuple ``size`` extracts 3-D patches (``extract_patches_3d``).

    Example:
    >>> import tritonlayers as keras
    >>> tuple(keras.ops.image.extract_patches(keras.ops.ones((1, 6, 6, 3)), 2).shape)
    (1, 3, 3, 12)
    """
    if not isinstance(size, int):
        if not isinstance(size, (tuple, list)):
            raise TypeError(
                "Invalid `size` argument. Expected an int or a tuple. "
                f"Received: size={size} of type {type(size).__name__}"
            )
        if len(size) not in (2, 3):
            raise ValueError(
                "Invalid `size` argument. Expected a tuple of length 2 or 3. "
                f"Received: size={size} with length {len(size)}"
            )
        if len(size) == 3:
            return extract_patches_3d(images, size, strides, dilation_rate, padding, data_format)
    images = _images(images)
    size = (size, size) if isinstance(size, int) else tuple(int(s) for s in size)
    data_format = _data_format(data_format)
    batched = images if images.ndim == 4 else images.unsqueeze(0)
    patches = _patches(batched, size, strides or size, dilation_rate, padding, data_format)
    return patches if images.ndim == 4 else patches.squeeze(0)


def extract_patches_3d(
    volumes: Any,
    size: Any,
    strides: Any = None,
    dilation_rate: Any = 1,
    padding: str = "valid",
    data_format: "str | None" = None,
) -> Tensor:
    """3-D patches of ``size`` (an int or (depth, height, width)) of 4-D or 5-D volumes as
    the channels of each output position.

    Example:
    >>> import tritonlayers as keras
    >>> volumes = keras.ops.ones((1, 4, 4, 4, 2))
    >>> tuple(keras.ops.image.extract_patches_3d(volumes, 2).shape)
    (1, 2, 2, 2, 16)
    """
    size = (size,) * 3 if isinstance(size, int) else tuple(int(s) for s in size)
    if len(size) != 3:
        raise TypeError(
            "Invalid `size` argument. Expected an int or a tuple of length 3. "
            f"Received: size={size}"
        )
    strides = size if strides is None else strides
    strides = (strides,) * 3 if isinstance(strides, int) else tuple(strides)
    if len(strides) != 3:
        raise ValueError(f"Invalid `strides` argument. Got: {strides}")
    volumes = tensor(volumes)
    if volumes.ndim not in (4, 5):
        raise ValueError(
            "Invalid volumes rank: expected rank 4 (single volume) or rank 5 (batch of "
            f"volumes). Received input with shape: volumes.shape={tuple(volumes.shape)}"
        )
    data_format = _data_format(data_format)
    batched = volumes if volumes.ndim == 5 else volumes.unsqueeze(0)
    patches = _patches(batched, size, strides, dilation_rate, padding, data_format)
    return patches if volumes.ndim == 5 else patches.squeeze(0)


def _scale_kernel(method: str, x: Tensor) -> Tensor:
    """The resampling kernel of ``method`` at distances ``x >= 0``."""
    if method == "linear":
        return torch.clamp(1 - x, min=0)
    if method == "cubic":  # Keys cubic, a = -0.5
        near = ((1.5 * x - 2.5) * x) * x + 1.0
        far = ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0
        return torch.where(x >= 2.0, 0.0, torch.where(x >= 1.0, far, near))
    radius = 3.0 if method == "lanczos3" else 5.0
    numerator = radius * torch.sin(math.pi * x) * torch.sin(math.pi * x / radius)
    value = torch.where(x > 1e-3, numerator / torch.where(x != 0, math.pi**2 * x**2, 1.0), 1.0)
    return torch.where(x > radius, 0.0, value)


def _scale_weights(in_size, out_size, scale, translation, method, antialias, dtype):
    """(in_size, out_size) weights: output sample j reads input i with weight [i, j]."""
    inverse = 1.0 / scale
    stretch = torch.clamp(inverse, min=1.0) if antialias else 1.0
    centres = (torch.arange(out_size, dtype=dtype) + 0.5) * inverse - translation * inverse - 0.5
    distances = (centres[None, :] - torch.arange(in_size, dtype=dtype)[:, None]).abs() / stretch
    weights = _scale_kernel(method, distances)
    totals = weights.sum(dim=0, keepdim=True)
    usable = totals.abs() > 1000.0 * float(torch.finfo(torch.float32).eps)
    weights = torch.where(usable, weights / torch.where(totals != 0, totals, 1.0), 0.0)
    inside = (centres >= -0.5) & (centres <= in_size - 0.5)
    return torch.where(inside[None, :], weights, 0.0)


def scale_and_translate(
    images: Any,
    output_shape: Any,
    scale: Any,
    translation: Any,
    spatial_dims: Any,
    method: str,
    antialias: bool = True,
) -> Tensor:
    """Resample ``images`` along ``spatial_dims`` to ``output_shape``: output sample j of an
    axis reads input point ``(j + 0.5 - translation) / scale - 0.5`` through the ``method``
    kernel ("linear", "cubic", "lanczos3", "lanczos5" and their bi/tri aliases), widened by
    ``1 / scale`` when ``antialias`` and downsampling (``jax.image.scale_and_translate``).

    Example:
    >>> import tritonlayers as keras
    >>> out = keras.ops.image.scale_and_translate(
    ...     [1.0, 2.0, 3.0, 4.0], (2,), [0.5], [0.0], (0,), "linear", antialias=False)
    >>> out.tolist()
    [1.5, 3.5]
    """
    _check_choice("method", method, _SCALE_METHODS)
    method = _SCALE_METHODS[method]
    images = tensor(images)
    scale, translation = tensor(scale), tensor(translation)
    dtype = torch.promote_types(scale.dtype, translation.dtype)
    if not dtype.is_floating_point:
        dtype = to_torch_dtype(config.floatx())
    integer = not images.is_floating_point()
    out = images.to(torch.float32) if integer else images
    for i, dim in enumerate(spatial_dims):
        dim = dim % images.ndim
        weights = _scale_weights(
            images.shape[dim],
            int(output_shape[dim]),
            scale[i].to(dtype).cpu(),
            translation[i].to(dtype).cpu(),
            method,
            antialias,
            dtype,
        ).to(dtype=out.dtype, device=out.device)
        out = torch.movedim(torch.tensordot(out, weights, dims=([dim], [0])), -1, dim)
    if integer:
        out = torch.clamp(torch.round(out), images.min(), images.max()).to(images.dtype)
    return out


for _name in __all__:
    globals()[_name] = symbolic_aware(globals()[_name])
