"""Keras's in-memory dataset helpers: `split_dataset` and `timeseries_dataset_from_array`.

Keras returns `tf.data` datasets (or, for `split_dataset` on its torch backend, torch
datasets); here `split_dataset` returns torch datasets, as Keras's torch backend does, and
`timeseries_dataset_from_array` a `PyDataset` of NumPy batches. `fit`, `evaluate` and
`predict` accept both.

Example:
>>> import numpy as np
>>> import tritonlayers as keras
>>> left, right = keras.utils.split_dataset(np.arange(10), left_size=0.8)
>>> len(left), len(right)
(8, 2)
>>> windows = keras.utils.timeseries_dataset_from_array(np.arange(6), None, 3, batch_size=2)
>>> [batch.tolist() for batch in windows]
[[[0, 1, 2], [1, 2, 3]], [[2, 3, 4], [3, 4, 5]]]
"""

import math
from typing import Any

import numpy as np
import torch

from .models.py_dataset import PyDataset

__all__ = ["TimeseriesDataset", "split_dataset", "timeseries_dataset_from_array"]


def _as_torch_dataset(dataset: Any) -> torch.utils.data.Dataset:
    if isinstance(dataset, torch.utils.data.Dataset):
        return dataset
    if isinstance(dataset, (np.ndarray, torch.Tensor)):
        return torch.utils.data.TensorDataset(torch.as_tensor(dataset))
    if isinstance(dataset, (list, tuple)) and dataset:
        arrays = [torch.as_tensor(np.asarray(a)) if not torch.is_tensor(a) else a for a in dataset]
        lengths = {len(a) if a.ndim else None for a in arrays}
        if len(lengths) != 1 or None in lengths:
            raise ValueError(
                "split_dataset expects the arrays of a list/tuple `dataset` to have the same "
                f"length. Received lengths: {[len(a) if a.ndim else 0 for a in arrays]}"
            )
        return torch.utils.data.TensorDataset(*arrays)
    raise TypeError(
        "The `dataset` argument must be a `torch.utils.data.Dataset` object, a NumPy "
        f"array, or a list/tuple of arrays. Received: dataset={dataset!r} of type "
        f"{type(dataset)}"
    )


def _check_size(name: str, size: Any, total: int) -> None:
    if size is None:
        return
    if type(size) not in (int, float):
        raise TypeError(
            f"Invalid `{name}` Type. Expected: int or float or None, Received: "
            f"type({name})={type(size)}."
        )
    if (type(size) is int and not 0 < size < total) or (type(size) is float and not 0 < size < 1):
        # Keras words this slightly differently for the two sides; both are kept.
        bound = (
            f"and smaller than {total} or" if name == "right_size" else f"smaller than {total}, or"
        )
        raise ValueError(
            f"`{name}` should be either a positive integer {bound} a float within the range "
            f"`[0, 1]`. Received: {name}={size}"
        )


def split_sizes(left_size: Any, right_size: Any, total: int) -> "tuple[int, int]":
    """The two split lengths for `total` samples, with Keras's rules: a float is a
    fraction (rounded), an int a count, None the complement of the other side.

    Example:
    >>> split_sizes(0.8, None, 10), split_sizes(None, 3, 10), split_sizes(0.25, 0.5, 8)
    ((8, 2), (7, 3), (2, 4))
    """
    if left_size is None and right_size is None:
        raise ValueError(
            "At least one of the `left_size` or `right_size` must be specified. Received: "
            "left_size=None and right_size=None"
        )
    if left_size == 0 and right_size == 0:
        raise ValueError(
            "Both `left_size` and `right_size` are zero. At least one of the split sizes "
            "must be non-zero."
        )
    _check_size("left_size", left_size, total)
    _check_size("right_size", right_size, total)
    if type(left_size) is type(right_size) is float and left_size + right_size > 1:
        raise ValueError(
            "The sum of `left_size` and `right_size` is greater than 1. It must be less "
            "than or equal to 1."
        )
    count = lambda size: round(size * total) if type(size) is float else size
    left = count(left_size) if left_size is not None else total - count(right_size)
    right = count(right_size) if right_size is not None else total - left
    if left + right > total:
        raise ValueError(
            f"The sum of `left_size` and `right_size` should be smaller than the {total}. "
            f"Received: left_size + right_size = {left + right} and total_length = {total}"
        )
    for size, side in ((left, "left"), (right, "right")):
        if size == 0:
            raise ValueError(
                f"With `dataset` of length={total}, `left_size`={left} and `right_size`="
                f"{right}. Resulting {side} side dataset split will be empty. Adjust any of "
                "the aforementioned parameters"
            )
    return int(left), int(right)


def split_dataset(
    dataset: Any,
    left_size: "int | float | None" = None,
    right_size: "int | float | None" = None,
    shuffle: bool = False,
    seed: "int | None" = None,
) -> "tuple[torch.utils.data.Subset, torch.utils.data.Subset]":
    """Split a dataset into a left part and a right part (e.g. train / test).

    Args:
        dataset: a `torch.utils.data.Dataset`, a NumPy array or tensor, or a list/tuple of
            arrays of the same length (their samples become tuples `(x_i, y_i, ...)`).
        left_size: a float in (0, 1) is the fraction of samples on the left, an int the
            count; None means the rest after `right_size`.
        right_size: the same for the right part.
        shuffle: permute the samples before splitting (otherwise the left part is the
            first samples, in order).
        seed: the seed of that permutation (a `torch.Generator`, as Keras's torch backend
            uses).

    Returns:
        Two `torch.utils.data.Subset`s; `fit(x=left)` batches them. Each sample of an
        array `dataset` is a 1-tuple `(x_i,)`, as `TensorDataset` gives.

    Example:
    >>> import numpy as np
    >>> x, y = np.arange(5.0)[:, None], np.arange(5)
    >>> train, test = split_dataset((x, y), right_size=2)
    >>> [int(label) for _, label in test]
    [3, 4]
    """
    dataset = _as_torch_dataset(dataset)
    total = len(dataset)
    left, right = split_sizes(left_size, right_size, total)
    if shuffle:
        generator = torch.Generator()
        if seed is None:
            generator.seed()
        else:
            generator.manual_seed(seed)
        order = torch.randperm(total, generator=generator).tolist()
    else:
        order = list(range(total))
    return (
        torch.utils.data.Subset(dataset, order[:left]),
        torch.utils.data.Subset(dataset, order[left : left + right]),
    )


class TimeseriesDataset(PyDataset):
    """Batches of windows over a series (made by `timeseries_dataset_from_array`): each
    item is `(inputs, targets)` NumPy arrays, or `inputs` alone when there are no targets.

    Example:
    >>> import numpy as np
    >>> ds = TimeseriesDataset(np.arange(5), np.arange(5) * 10, [0, 2], 2, 1, 0, 2)
    >>> inputs, targets = ds[0]
    >>> inputs.tolist(), targets.tolist()
    ([[0, 1], [2, 3]], [0, 20])
    """

    # Keras returns a tf.data.Dataset here: `fit` keeps its batch order.
    _shuffled_by_fit = False

    def __init__(
        self,
        data: np.ndarray,
        targets: "np.ndarray | None",
        start_positions: Any,
        sequence_length: int,
        sampling_rate: int,
        start_index: int,
        batch_size: "int | None",
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.data = data
        self.targets = targets
        self.start_positions = np.asarray(start_positions, dtype="int64")
        self.offsets = np.arange(sequence_length, dtype="int64") * sampling_rate
        self.start_index = start_index
        self.batch_size = batch_size

    def __len__(self) -> int:
        if self.batch_size is None:
            return len(self.start_positions)
        return math.ceil(len(self.start_positions) / self.batch_size)

    def __getitem__(self, index: int) -> Any:
        if not -len(self) <= index < len(self):
            raise IndexError(f"TimeseriesDataset index {index} out of range for {len(self)}.")
        index %= len(self)
        if self.batch_size is None:
            starts = self.start_positions[index]
        else:
            starts = self.start_positions[index * self.batch_size : (index + 1) * self.batch_size]
        positions = self.start_index + starts
        inputs = self.data[np.asarray(positions)[..., None] + self.offsets]
        if self.targets is None:
            return inputs
        return inputs, self.targets[positions]


def _check_positive_and_below(name: str, value: int, length: int) -> None:
    if value <= 0:
        raise ValueError(f"`{name}` must be higher than 0. Received: {name}={value}")
    if value >= length:
        raise ValueError(
            f"`{name}` must be lower than the length of the data. Received: {name}={value}, "
            f"for data of length {length}"
        )


def timeseries_dataset_from_array(
    data: Any,
    targets: Any,
    sequence_length: int,
    sequence_stride: int = 1,
    sampling_rate: int = 1,
    batch_size: "int | None" = 128,
    shuffle: bool = False,
    seed: "int | None" = None,
    start_index: "int | None" = None,
    end_index: "int | None" = None,
) -> TimeseriesDataset:
    """Windows of `sequence_length` steps over `data`, `sampling_rate` apart, starting
    every `sequence_stride` steps; window `i` starting at step `p` has target `targets[p]`.

    Args:
        data: array-like whose first axis is time.
        targets: array-like aligned with `data` (or None for inputs only).
        sequence_length: steps per window.
        sequence_stride: steps between the starts of consecutive windows.
        sampling_rate: steps between the samples inside a window.
        batch_size: windows per batch (None: single windows, unbatched).
        shuffle: shuffle the window order (NumPy `RandomState(seed)`, as Keras).
        seed: the shuffle's seed.
        start_index, end_index: use only `data[start_index:end_index]`.

    Returns:
        A `TimeseriesDataset` (a `PyDataset`) of `(inputs, targets)` NumPy batches, or
        `inputs` alone when `targets` is None; `fit` accepts it.

    Example:
    >>> import numpy as np
    >>> ds = timeseries_dataset_from_array(np.arange(10), np.arange(10), 4, sampling_rate=2)
    >>> inputs, targets = ds[0]
    >>> inputs.tolist(), targets.tolist()
    ([[0, 2, 4, 6], [1, 3, 5, 7], [2, 4, 6, 8], [3, 5, 7, 9]], [0, 1, 2, 3])
    """
    data = np.asarray(data)
    targets = None if targets is None else np.asarray(targets)
    length = len(data)
    if start_index:
        if start_index < 0:
            raise ValueError(
                f"`start_index` must be 0 or greater. Received: start_index={start_index}"
            )
        if start_index >= length:
            raise ValueError(
                "`start_index` must be lower than the length of the data. Received: "
                f"start_index={start_index}, for data of length {length}"
            )
    if end_index:
        if start_index and end_index <= start_index:
            raise ValueError(
                "`end_index` must be higher than `start_index`. Received: "
                f"start_index={start_index}, and end_index={end_index} "
            )
        if end_index >= length:
            raise ValueError(
                "`end_index` must be lower than the length of the data. Received: "
                f"end_index={end_index}, for data of length {length}"
            )
        if end_index <= 0:
            raise ValueError(f"`end_index` must be higher than 0. Received: end_index={end_index}")
    _check_positive_and_below("sampling_rate", sampling_rate, length)
    _check_positive_and_below("sequence_stride", sequence_stride, length)
    if batch_size is not None and batch_size <= 0:
        raise ValueError(f"`batch_size` must be a positive integer or None. Received: {batch_size}")
    start = start_index or 0
    end = end_index or length
    count = end - start - (sequence_length - 1) * sampling_rate
    if targets is not None:
        count = min(count, len(targets) - start)
    positions = np.arange(0, max(count, 0), sequence_stride, dtype="int64")
    if shuffle:
        rng = np.random.RandomState(np.random.randint(1_000_000) if seed is None else seed)
        rng.shuffle(positions)
    return TimeseriesDataset(
        data, targets, positions, sequence_length, sampling_rate, start, batch_size
    )
