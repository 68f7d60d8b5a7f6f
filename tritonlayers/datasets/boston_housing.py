"""Boston Housing: 506 Boston suburbs in the late 1970s, 13 attributes each, with the median
house value (in k$) as the target.

The dataset has an ethical problem: one attribute, "B", presumes that racial
self-segregation affects house prices. Keras discourages its use except to illustrate such
issues; `california_housing.load_data(version="small")` is the suggested replacement.

Example (downloads about 57 kB on first use):
>>> import tritonlayers as keras
>>> (x_train, y_train), (x_test, _) = keras.datasets.boston_housing.load_data()  # doctest: +SKIP
>>> x_train.shape, x_test.shape  # doctest: +SKIP
((404, 13), (102, 13))
"""

from .data_utils import get_file
from .housing import check_test_split, read_xy, shuffle_and_split

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/boston_housing.npz"
FILE_HASH = "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"


def load_data(path: str = "boston_housing.npz", test_split: float = 0.2, seed: int = 113) -> tuple:
    """Load Boston Housing as `(x_train, y_train), (x_test, y_test)` float64 NumPy arrays of
    shapes (n, 13) and (n,).

    Args:
        path: where to cache the file, relative to `~/.keras/datasets` (or `$KERAS_HOME`).
        test_split: fraction of the (shuffled) rows for the test set, in [0, 1).
        seed: seed of the shuffle before the split.
    """
    check_test_split(test_split)
    local = get_file(path, origin=ORIGIN, file_hash=FILE_HASH)
    x, y = read_xy(local, "Boston Housing", ORIGIN)
    return shuffle_and_split(x, y, test_split, seed)
