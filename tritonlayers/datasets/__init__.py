"""Small public datasets with Keras's `load_data()` API, cached under `~/.keras/datasets`.

Example:
>>> import tritonlayers as keras
>>> keras.datasets.mnist.ORIGIN
'https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz'
"""

from . import fashion_mnist, mnist
from .data_utils import DatasetDownloadError, get_file

__all__ = ["DatasetDownloadError", "fashion_mnist", "get_file", "mnist"]
