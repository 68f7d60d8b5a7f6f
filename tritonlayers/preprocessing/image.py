"""`keras.preprocessing.image`: the image file helpers and `smart_resize`.

Example:
>>> import numpy as np
>>> import tritonlayers as keras
>>> keras.preprocessing.image.smart_resize(np.zeros((340, 500, 3)), (200, 200)).shape
(200, 200, 3)
"""

from typing import Any

import numpy as np
import torch

from ..image_utils import array_to_img, img_to_array, load_img, save_img

__all__ = ["array_to_img", "img_to_array", "load_img", "save_img", "smart_resize"]


def smart_resize(
    x: Any,
    size: "tuple[int, int]",
    interpolation: str = "bilinear",
    data_format: str = "channels_last",
    **kwargs,
) -> Any:
    """Resize images to `size = (height, width)` without distorting their aspect ratio.

    The largest centred crop with the aspect ratio of `size` is cut out (a (340, 500) image
    resized to (200, 200) keeps its central (340, 340)), then resized to `size` with
    `interpolation` ("bilinear", "nearest" or "bicubic"), as `ops.image.resize` does.

    Args:
        x: an image `(height, width, channels)` or a batch `(batch, height, width, channels)`
            (channels first with `data_format="channels_first"`), as a NumPy array, a
            tensor or nested lists.
        size: the target `(height, width)`.
        interpolation: the resampling method.
        data_format: "channels_last" (default) or "channels_first".
        **kwargs: Keras's `backend_module` is accepted (tritonlayers has one backend);
            anything else is an error.

    Returns:
        A NumPy array for a NumPy input, otherwise a tensor.

    Example:
    >>> import numpy as np
    >>> import tritonlayers as keras
    >>> image = np.arange(12, dtype="float32").reshape(2, 6, 1)
    >>> keras.preprocessing.image.smart_resize(image, (1, 1))[..., 0].tolist()
    [[5.5]]
    """
    from ..ops import convert_to_tensor
    from ..ops.image import resize

    kwargs.pop("backend_module", None)
    if kwargs:
        raise TypeError(f"smart_resize() got unexpected keyword arguments: {list(kwargs)}")
    if len(size) != 2:
        raise ValueError(f"Expected `size` to be a tuple of 2 integers, but got: {size}.")
    # A NumPy array keeps its dtype; nested lists convert as `ops.convert_to_tensor` does.
    images = torch.as_tensor(x) if isinstance(x, np.ndarray) else convert_to_tensor(x)
    if images.ndim not in (3, 4):
        raise ValueError(
            "Expected an image array with shape `(height, width, channels)`, or "
            "`(batch_size, height, width, channels)`, but got input with incorrect rank, of "
            f"shape {tuple(images.shape)}."
        )
    resized = resize(
        images,
        size,
        interpolation=interpolation,
        crop_to_aspect_ratio=True,
        data_format=data_format,
    )
    return resized.cpu().numpy() if isinstance(x, np.ndarray) else resized
