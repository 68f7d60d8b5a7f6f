"""Small public datasets with Keras's `load_data()` API, cached under `~/.keras/datasets`.

Example:
>>> import tritonlayers as keras
>>> keras.datasets.mnist.ORIGIN
'https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz'
"""

from . import (
    boston_housing,
    california_housing,
    cifar10,
    cifar100,
    fashion_mnist,
    imdb,
    mnist,
    reuters,
)
from .data_utils import DatasetDownloadError, get_file

__all__ = [
    "DatasetDownloadError",
    "boston_housing",
    "california_housing",
    "cifar10",
    "cifar100",
    "fashion_mnist",
    "get_file",
    "imdb",
    "mnist",
    "reuters",
]
