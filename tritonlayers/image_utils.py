"""Keras's image file helpers: `load_img`, `save_img`, `array_to_img`, `img_to_array`.

Reading and writing image files needs Pillow, which is imported only when one of those
functions runs (`pip install pillow`); without it they raise an ImportError naming the
function. `img_to_array` needs no Pillow for arrays and array-likes.

Example:
>>> import numpy as np
>>> import tritonlayers as keras
>>> keras.utils.img_to_array(np.zeros((2, 3), "uint8")).shape
(2, 3, 1)
"""

import io
import pathlib
import warnings
from typing import Any

import numpy as np

from . import config
from .layers._arguments import standardize_data_format

__all__ = ["array_to_img", "img_to_array", "load_img", "save_img"]

_RESAMPLING = ("nearest", "bilinear", "bicubic", "hamming", "box", "lanczos")


def pil_image(function: str) -> Any:
    """Pillow's `PIL.Image` module, or an ImportError that names `function`."""
    try:
        from PIL import Image
    except ImportError as error:
        raise ImportError(
            f"Could not import PIL.Image. The use of `{function}` requires PIL."
        ) from error
    return Image


def img_to_array(img: Any, data_format: "str | None" = None, dtype: Any = None) -> np.ndarray:
    """A PIL image (or any array-like image) as a 3D NumPy array: `(height, width,
    channels)`, or `(channels, height, width)` for "channels_first"; a 2D image gets one
    channel. `dtype` defaults to `floatx()`.

    Example:
    >>> img_to_array([[1, 2], [3, 4]], data_format="channels_first").shape
    (1, 2, 2)
    """
    data_format = standardize_data_format(data_format)
    x = np.asarray(img, dtype=dtype or config.floatx())
    if x.ndim == 3:
        return x.transpose(2, 0, 1) if data_format == "channels_first" else x
    if x.ndim == 2:
        return x[None] if data_format == "channels_first" else x[..., None]
    raise ValueError(f"Unsupported image shape: {x.shape}")


def array_to_img(
    x: Any, data_format: "str | None" = None, scale: bool = True, dtype: Any = None
) -> Any:
    """A 3D array as a PIL image (1 channel: "L", or "I" above 255; 3: "RGB"; 4: "RGBA").

    With `scale`, values are shifted and stretched to span 0..255 first. Needs Pillow.

    Example:
    >>> import numpy as np
    >>> array_to_img(np.random.random((4, 4, 3))).size  # doctest: +SKIP
    (4, 4)
    """
    data_format = standardize_data_format(data_format)
    image = pil_image("array_to_img")
    x = np.asarray(x, dtype=dtype or config.floatx())
    if x.ndim != 3:
        raise ValueError(
            f"Expected image array to have rank 3 (single image). Got array with shape: {x.shape}"
        )
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - np.min(x)
        peak = np.max(x)
        if peak != 0:
            x = x / peak
        x = x * 255
    channels = x.shape[2]
    if channels in (3, 4):
        return image.fromarray(x.astype("uint8"), "RGB" if channels == 3 else "RGBA")
    if channels == 1:
        if np.max(x) > 255:
            return image.fromarray(x[:, :, 0].astype("int32"), "I")
        return image.fromarray(x[:, :, 0].astype("uint8"), "L")
    raise ValueError(f"Unsupported channel number: {channels}")


def save_img(
    path: Any,
    x: Any,
    data_format: "str | None" = None,
    file_format: "str | None" = None,
    scale: bool = True,
    **kwargs: Any,
) -> None:
    """Write a 3D array as an image file (format from the file extension unless
    `file_format` is given; RGBA saved as JPEG is converted to RGB). Needs Pillow.

    Example:
    >>> import numpy as np
    >>> save_img("/tmp/square.png", np.zeros((4, 4, 3)))  # doctest: +SKIP
    """
    pil_image("save_img")
    if file_format is None and isinstance(path, (str, pathlib.Path)):
        file_format = pathlib.Path(path).suffix[1:].lower()
    if file_format and file_format.lower() == "jpg":
        file_format = "jpeg"
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == "RGBA" and file_format == "jpeg":
        warnings.warn(
            "The JPEG format does not support RGBA images, converting to RGB.", stacklevel=2
        )
        img = img.convert("RGB")
    img.save(path, format=file_format or None, **kwargs)


def load_img(
    path: Any,
    color_mode: str = "rgb",
    target_size: "tuple[int, int] | None" = None,
    interpolation: str = "nearest",
    keep_aspect_ratio: bool = False,
) -> Any:
    """Read an image file into a PIL image in `color_mode` ("grayscale", "rgb", "rgba"),
    resized to `target_size = (height, width)` when given (with `keep_aspect_ratio`, the
    largest centred crop of the target's aspect ratio is resized). Needs Pillow.

    Example:
    >>> image = load_img("photo.jpg", target_size=(224, 224))  # doctest: +SKIP
    >>> image.size  # doctest: +SKIP
    (224, 224)
    """
    image = pil_image("load_img")
    if isinstance(path, io.BytesIO):
        img = image.open(path)
    elif isinstance(path, (pathlib.Path, bytes, str)):
        if isinstance(path, pathlib.Path):
            path = str(path.resolve())
        with open(path, "rb") as f:
            img = image.open(io.BytesIO(f.read()))
    else:
        raise TypeError(f"path should be path-like or io.BytesIO, not {type(path)}")
    modes = {"grayscale": ("L", "I;16", "I"), "rgba": ("RGBA",), "rgb": ("RGB",)}
    if color_mode not in modes:
        raise ValueError('color_mode must be "grayscale", "rgb", or "rgba"')
    if img.mode not in modes[color_mode]:
        img = img.convert(modes[color_mode][0])
    if target_size is None:
        return img
    size = (target_size[1], target_size[0])
    if img.size == size:
        return img
    if interpolation not in _RESAMPLING:
        raise ValueError(
            f"Invalid interpolation method {interpolation} specified. Supported methods are "
            f"{', '.join(_RESAMPLING)}"
        )
    resampling = getattr(image, "Resampling", image)
    resample = getattr(resampling, interpolation.upper())
    if not keep_aspect_ratio:
        return img.resize(size, resample)
    width, height = img.size
    crop_height = min(height, width * size[1] // size[0])
    crop_width = min(width, height * size[0] // size[1])
    top, left = (height - crop_height) // 2, (width - crop_width) // 2
    return img.resize(size, resample, box=[left, top, left + crop_width, top + crop_height])
