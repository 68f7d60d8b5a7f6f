"""What the two housing regression datasets share: an `.npz` of `x` and `y` arrays, shuffled
with a seeded `RandomState` and split at `int(n * (1 - test_split))`, as Keras does.

Example:
>>> import numpy as np
>>> (x_train, y_train), (x_test, y_test) = shuffle_and_split(
...     np.arange(10).reshape(5, 2), np.arange(5), test_split=0.2, seed=113)
>>> x_train.shape, x_test.shape, sorted(np.concatenate([y_train, y_test]).tolist())
((4, 2), (1, 2), [0, 1, 2, 3, 4])
"""

import os
import zipfile

import numpy as np


def check_test_split(test_split: float) -> None:
    """Keras's check: `0 <= test_split < 1`."""
    if not 0 <= test_split < 1:
        raise ValueError(
            f"Invalid `test_split` argument: {test_split}. It must be between 0 and 1 "
            "(exclusive of 1)."
        )


def read_xy(path: "str | os.PathLike", dataset: str, origin: str) -> tuple:
    """The `x` and `y` arrays of a cached `.npz`, with pickling off."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            x, y = archive["x"], archive["y"]
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as error:
        raise ValueError(
            f"{path} is not a valid {dataset} archive (expected arrays ['x', 'y']): {error}. "
            f"Delete it to download it again from {origin}."
        ) from error
    if x.ndim != 2 or y.shape != (x.shape[0],):
        raise ValueError(
            f"{path} holds x of shape {x.shape} and y of shape {y.shape}; expected (n, "
            f"features) and (n,). Delete it to download it again from {origin}."
        )
    return x, y


def shuffle_and_split(x: np.ndarray, y: np.ndarray, test_split: float, seed: int) -> tuple:
    """`(x_train, y_train), (x_test, y_test)`: rows shuffled by `RandomState(seed)`, the
    first `int(len(x) * (1 - test_split))` for training."""
    indices = np.arange(len(x))
    np.random.RandomState(seed).shuffle(indices)
    x, y = x[indices], y[indices]
    split = int(len(x) * (1 - test_split))
    return (x[:split], y[:split]), (x[split:], y[split:])
