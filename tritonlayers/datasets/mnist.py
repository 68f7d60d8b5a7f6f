"""MNIST handwritten digits: 60,000 training and 10,000 test images of 28x28 pixels.

Example (downloads about 11 MB on first use):
>>> import tritonlayers as keras
>>> (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()  # doctest: +SKIP
>>> x_train.shape, y_train.dtype  # doctest: +SKIP
((60000, 28, 28), dtype('uint8'))
"""

import numpy as np

from .data_utils import get_file

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
FILE_HASH = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
_KEYS = ("x_train", "y_train", "x_test", "y_test")


def load_data(path: str = "mnist.npz") -> tuple:
    """Load MNIST as `(x_train, y_train), (x_test, y_test)` uint8 NumPy arrays.

    Args:
        path: where to cache the file, relative to `~/.keras/datasets` (or
            `$KERAS_HOME/datasets`).
    """
    local = get_file(path, origin=ORIGIN, file_hash=FILE_HASH)
    try:
        with np.load(local, allow_pickle=False) as archive:
            x_train, y_train, x_test, y_test = (archive[key] for key in _KEYS)
    except (OSError, ValueError, KeyError) as error:
        raise ValueError(
            f"{local} is not a valid MNIST archive (expected arrays {list(_KEYS)}): {error}. "
            f"Delete it to download it again from {ORIGIN}."
        ) from error
    return (x_train, y_train), (x_test, y_test)
