"""California Housing: 20,640 block groups of the 1990 U.S. census, 8 features each
(median income, house age, average rooms and bedrooms, population, average occupancy,
latitude, longitude), with the median house value in dollars as the target.

Example (downloads about 400 kB on first use):
>>> import tritonlayers as keras
>>> (x_train, y_train), _ = keras.datasets.california_housing.load_data("small")  # doctest: +SKIP
>>> x_train.shape, y_train.shape  # doctest: +SKIP
((480, 8), (480,))
"""

from .data_utils import get_file
from .housing import check_test_split, read_xy, shuffle_and_split

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/california_housing.npz"
FILE_HASH = "1a2e3a52e0398de6463aebe6f4a8da34fb21fbb6b934cf88c3425e766f2a1a6f"
_SMALL_SIZE = 600


def load_data(
    version: str = "large",
    path: str = "california_housing.npz",
    test_split: float = 0.2,
    seed: int = 113,
) -> tuple:
    """Load California Housing as `(x_train, y_train), (x_test, y_test)` NumPy arrays of
    shapes (n, 8) and (n,).

    Args:
        version: "large" for all 20,640 rows, "small" for the first 600 (a stand-in for the
            deprecated Boston Housing).
        path: where to cache the file, relative to `~/.keras/datasets` (or `$KERAS_HOME`).
        test_split: fraction of the (shuffled) rows for the test set, in [0, 1).
        seed: seed of the shuffle before the split.
    """
    check_test_split(test_split)
    if version not in ("small", "large"):
        raise ValueError(
            f"Argument `version` must be one of 'small', 'large'. Received: version={version}"
        )
    local = get_file(path, origin=ORIGIN, file_hash=FILE_HASH)
    x, y = read_xy(local, "California Housing", ORIGIN)
    if version == "small":
        x, y = x[:_SMALL_SIZE], y[:_SMALL_SIZE]
    return shuffle_and_split(x, y, test_split, seed)
