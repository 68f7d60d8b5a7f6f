"""Image geometry for the image preprocessing layers: layouts, crop boxes, resizing, warping.

Images are 3-D (one image) or 4-D (a batch), channels last or first. The helpers work on a
batched channels-first float tensor (`to_batched_nchw` / `from_batched_nchw` convert), so
each layer is one call into here.

Warps follow Keras's `affine_transform` convention: a row `[a0, a1, a2, b0, b1, b2]` sends
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
import torch.nn.functional as F

FILL_MODES = ("reflect", "wrap", "constant", "nearest")
WARP_INTERPOLATIONS = ("nearest", "bilinear")
RESIZE_INTERPOLATIONS = {"bilinear": "bilinear", "nearest": "nearest-exact", "bicubic": "bicubic"}

# grid_sample reads outside the image as: zeros (then `fill_value` is blended in), the edge
# pixel, or the image mirrored about its outer edge (d c b a | a b c d). With
# align_corners=False that mirror is Keras's "reflect", and bilinear weights over the
# mirrored or clamped indices equal grid_sample's reflect-or-clamp-then-interpolate.
_PADDING_MODES = {"constant": "zeros", "nearest": "border", "reflect": "reflection"}


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


def aspect_crop_box(height: int, width: int, target_height: int, target_width: int) -> tuple:
    """(top, left, crop_height, crop_width): the largest centred box of the target's aspect."""
    crop_height = max(min(height, int(float(width * target_height) / target_width)), 1)
    crop_width = max(min(width, int(float(height * target_width) / target_height)), 1)
    top = int(float(height - crop_height) / 2)
    left = int(float(width - crop_width) / 2)
    return top, left, crop_height, crop_width


def resize(images: torch.Tensor, size: tuple, interpolation: str = "bilinear", antialias=False):
    """Resize a (batch, channels, height, width) float tensor to `size` (half-pixel centres)."""
    mode = RESIZE_INTERPOLATIONS[interpolation]
    smooth = interpolation in ("bilinear", "bicubic")
    return F.interpolate(
        images,
        size=tuple(size),
        mode=mode,
        align_corners=False if smooth else None,
        antialias=bool(antialias) and smooth,
    )


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
    batch, channels, height, width = images.shape
    out_dtype = images.dtype
    dtype = torch.float64 if out_dtype == torch.float64 else torch.float32
    images = images.to(dtype)  # half precision would blur the sampling grid
    rows, cols = torch.meshgrid(
        torch.arange(height, dtype=dtype, device=images.device),
        torch.arange(width, dtype=dtype, device=images.device),
        indexing="ij",
    )
    pixels = torch.stack([cols, rows, torch.ones_like(cols)], dim=-1)  # (H, W, 3)
    matrices = transforms.to(dtype).reshape(batch, 2, 3)
    source = torch.einsum("hwk,bjk->bhwj", pixels, matrices)  # (B, H, W, 2): input (x, y)
    padding_mode = _PADDING_MODES.get(fill_mode, "border")
    if fill_mode == "wrap":
        # Wrap the point into the image, then read from the image framed by a one-pixel
        # circular border, so a point between the last column and the first interpolates them.
        sizes = torch.tensor([width, height], dtype=dtype, device=images.device)
        source = torch.remainder(source, sizes) + 1
        images = F.pad(images, (1, 1, 1, 1), mode="circular")
    blend_fill = fill_mode == "constant" and fill_value != 0
    if blend_fill:
        images = torch.cat([images, torch.ones_like(images[:, :1])], dim=1)
    in_height, in_width = images.shape[-2:]
    scale = torch.tensor([in_width, in_height], dtype=dtype, device=images.device)
    grid = (2 * source + 1) / scale - 1  # pixel centres -> [-1, 1] with align_corners=False
    warped = F.grid_sample(
        images, grid, mode=interpolation, padding_mode=padding_mode, align_corners=False
    )
    if blend_fill:
        # The extra channel holds how much of each output pixel came from inside the image.
        warped = warped[:, :channels] + fill_value * (1 - warped[:, channels:])
    return warped.to(out_dtype)
