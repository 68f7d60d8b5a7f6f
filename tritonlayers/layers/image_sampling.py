"""Image geometry for the image preprocessing layers: layouts, crop boxes, resizing, warping.

Images are 3-D (one image) or 4-D (a batch), channels last or first. The helpers work on a
batched channels-first float tensor (`to_batched_nchw` / `from_batched_nchw` convert), so
each layer is one call into here.

Resizing and warping are `tritonlayers.ops.image`'s own (`resize_nchw`, `warp_nchw`), so
the layers and `keras.ops.image` share one implementation. Warps follow Keras's
`affine_transform` convention: a row `[a0, a1, a2, b0, b1, b2]` sends
the output pixel at (column x, row y) to the input point `(a0*x + a1*y + a2, b0*x + b1*y +
b2)`, in pixel units with pixel centres on integers, and the input is read there by
`torch.nn.functional.grid_sample`.

Example:
>>> import torch
>>> image = torch.arange(4.0).reshape(1, 1, 1, 4)
>>> shift_right = torch.tensor([[1.0, 0.0, -1.0, 0.0, 1.0, 0.0]])
>>> affine_warp(image, shift_right, "bilinear", "constant", 9.0).flatten().tolist()
[9.0, 0.0, 1.0, 2.0]
"""

import torch

from ..ops.image import RESIZE_INTERPOLATIONS as RESIZE_INTERPOLATIONS
from ..ops.image import WARP_INTERPOLATIONS as WARP_INTERPOLATIONS
from ..ops.image import affine_sources, warp_nchw
from ..ops.image import aspect_crop_box as aspect_crop_box
from ..ops.image import resize_nchw as resize

# The layers' fill modes: Keras's image layers do not offer ops.image's "mirror".
FILL_MODES = ("reflect", "wrap", "constant", "nearest")


def image_size(shape, data_format: str) -> tuple:
    """(height, width) of an image or image batch shape."""
    return (shape[-2], shape[-1]) if data_format == "channels_first" else (shape[-3], shape[-2])


def with_image_size(shape, size, data_format: str) -> tuple:
    """`shape` with its height and width replaced by `size`."""
    shape = list(shape)
    axes = (-2, -1) if data_format == "channels_first" else (-3, -2)
    shape[axes[0]], shape[axes[1]] = size
    return tuple(shape)


def to_batched_nchw(images: torch.Tensor, data_format: str) -> torch.Tensor:
    """A (batch, channels, height, width) view of a 3-D or 4-D image tensor."""
    if images.ndim == 3:
        images = images.unsqueeze(0)
    return images if data_format == "channels_first" else images.permute(0, 3, 1, 2)


def from_batched_nchw(images: torch.Tensor, data_format: str, unbatched: bool) -> torch.Tensor:
    """Undo `to_batched_nchw`."""
    if data_format == "channels_last":
        images = images.permute(0, 2, 3, 1)
    return images.squeeze(0) if unbatched else images


def crop_to_aspect_and_resize(images: torch.Tensor, size: tuple, interpolation="bilinear"):
    """Keras's `smart_resize`: centre-crop to the aspect ratio of `size`, then resize."""
    top, left, crop_height, crop_width = aspect_crop_box(*images.shape[-2:], *size)
    cropped = images[:, :, top : top + crop_height, left : left + crop_width]
    return resize(cropped, size, interpolation)


def affine_warp(
    images: torch.Tensor,
    transforms: torch.Tensor,
    interpolation: str,
    fill_mode: str,
    fill_value: float = 0.0,
) -> torch.Tensor:
    """Warp a (batch, channels, height, width) float tensor by per-image (batch, 6) transforms.

    `fill_mode` says what is read outside the image: "constant" (`fill_value`), "nearest"
    (the edge pixel), "reflect" (d c b a | a b c d) or "wrap" (a b c d | a b c d).
    """
    dtype = torch.float64 if images.dtype == torch.float64 else torch.float32
    sources = affine_sources(transforms.to(dtype), *images.shape[-2:])
    return warp_nchw(images, sources, interpolation, fill_mode, fill_value)
