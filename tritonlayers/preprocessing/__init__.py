"""`keras.preprocessing`: the dataset builders and the `image` and `sequence` helpers.

The same functions as in `keras.utils`, under the names Keras 3 gives them here:
`image_dataset_from_directory`, `text_dataset_from_directory`,
`timeseries_dataset_from_array`, `image` (`load_img`, `save_img`, `img_to_array`,
`array_to_img`, `smart_resize`) and `sequence` (`pad_sequences`).

Example:
>>> import numpy as np
>>> import tritonlayers as keras
>>> data = keras.preprocessing.timeseries_dataset_from_array(np.arange(5), None, 3)
>>> data[0].tolist()
[[0, 1, 2], [1, 2, 3], [2, 3, 4]]
"""

from ..dataset_utils import timeseries_dataset_from_array
from ..directory_datasets import image_dataset_from_directory, text_dataset_from_directory
from . import image, sequence

__all__ = [
    "image",
    "image_dataset_from_directory",
    "sequence",
    "text_dataset_from_directory",
    "timeseries_dataset_from_array",
]
