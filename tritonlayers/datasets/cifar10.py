"""CIFAR-10: 50,000 training and 10,000 test 32x32 colour images in 10 classes.

Labels: 0 airplane, 1 automobile, 2 bird, 3 cat, 4 deer, 5 dog, 6 frog, 7 horse, 8 ship,
9 truck.

Example (downloads about 170 MB on first use):
>>> import tritonlayers as keras
>>> (x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()  # doctest: +SKIP
>>> x_train.shape, y_train.shape, y_train.dtype  # doctest: +SKIP
((50000, 32, 32, 3), (50000, 1), dtype('uint8'))
"""

import numpy as np

from .cifar import fetch_extracted, load_batch, to_image_data_format

ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
FILE_HASH = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
DIRNAME = "cifar-10-batches-py-target"
_BATCHES_FOLDER = "cifar-10-batches-py"


def load_data() -> tuple:
    """Load CIFAR-10 as `(x_train, y_train), (x_test, y_test)` uint8 NumPy arrays.

    Images are (N, 32, 32, 3) under the "channels_last" image data format (the default) and
    (N, 3, 32, 32) under "channels_first"; labels are (N, 1). The archive is cached as
    `~/.keras/datasets/cifar-10-batches-py-target_archive` and unpacked next to it (or under
    `$KERAS_HOME`), as Keras does.
    """
    folder = fetch_extracted(DIRNAME, ORIGIN, FILE_HASH) / _BATCHES_FOLDER
    train = [load_batch(folder / f"data_batch_{i}") for i in range(1, 6)]
    x_train = np.concatenate([images for images, _ in train])
    y_train = np.concatenate([labels for _, labels in train]).astype(np.uint8)
    x_test, y_test = load_batch(folder / "test_batch")
    y_train = y_train.reshape(-1, 1)
    y_test = y_test.astype(np.uint8).reshape(-1, 1)
    return (to_image_data_format(x_train), y_train), (to_image_data_format(x_test), y_test)
