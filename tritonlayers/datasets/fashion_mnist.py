"""Fashion-MNIST: 60,000 training and 10,000 test 28x28 grayscale images of 10 clothing kinds.

Keras publishes no hashes for these files, so each file's IDX header (magic number and
sizes) is checked instead; a corrupt or truncated file gets an error naming it.

Example (downloads about 30 MB on first use):
>>> import tritonlayers as keras
>>> (x_train, y_train), _ = keras.datasets.fashion_mnist.load_data()  # doctest: +SKIP
>>> x_train.shape  # doctest: +SKIP
(60000, 28, 28)
"""

import gzip
import pathlib
import zlib

import numpy as np

from .data_utils import get_file

ORIGIN_FOLDER = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
_LABELS_MAGIC, _IMAGES_MAGIC = 2049, 2051


def read_idx(path: pathlib.Path, magic: int, shape: tuple) -> np.ndarray:
    """The uint8 array of a gzipped IDX file, checking its magic number and sizes."""
    header_size = 8 if magic == _LABELS_MAGIC else 16
    try:
        with gzip.open(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError, zlib.error) as error:
        raise ValueError(
            f"{path} is not a readable gzip file: {error}. Delete it to download it again."
        ) from error
    header = np.frombuffer(data[:header_size], dtype=">u4")
    expected = (magic, *shape)
    if tuple(int(v) for v in header) != expected or len(data) != header_size + int(np.prod(shape)):
        raise ValueError(
            f"{path} has IDX header {tuple(int(v) for v in header)} and {len(data)} bytes; "
            f"expected header {expected}. Delete it to download it again."
        )
    return np.frombuffer(data, np.uint8, offset=header_size).reshape(shape)


def load_data() -> tuple:
    """Load Fashion-MNIST as `(x_train, y_train), (x_test, y_test)` uint8 NumPy arrays,
    cached under `~/.keras/datasets/fashion-mnist` (or `$KERAS_HOME`)."""

    def fetch(name):
        return get_file(name, origin=ORIGIN_FOLDER + name, cache_subdir="datasets/fashion-mnist")

    y_train = read_idx(fetch("train-labels-idx1-ubyte.gz"), _LABELS_MAGIC, (60000,))
    x_train = read_idx(fetch("train-images-idx3-ubyte.gz"), _IMAGES_MAGIC, (60000, 28, 28))
    y_test = read_idx(fetch("t10k-labels-idx1-ubyte.gz"), _LABELS_MAGIC, (10000,))
    x_test = read_idx(fetch("t10k-images-idx3-ubyte.gz"), _IMAGES_MAGIC, (10000, 28, 28))
    return (x_train, y_train), (x_test, y_test)
