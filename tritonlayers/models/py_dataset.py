"""`PyDataset` (Keras 3's `keras.utils.PyDataset`, alias `Sequence`) and the adapter that
feeds it to `fit`, `evaluate` and `predict`.

A PyDataset is indexed by batch: `__getitem__(i)` returns batch `i` as `x`, `(x,)`,
`(x, y)` or `(x, y, sample_weight)`, and `__len__` (or the `num_batches` property) gives
the number of batches, or None for an endless dataset. `fit(shuffle=True)` visits the
batches of a finite dataset in a new order every epoch. `on_epoch_begin`/`on_epoch_end` run
around each epoch. `workers > 1` loads batches ahead in threads, and with
`use_multiprocessing=True` in worker processes (a torch `DataLoader`); at most
`max_queue_size` batches wait.

Example:
>>> import numpy as np
>>> class Squares(PyDataset):
...     def __len__(self):
...         return 3
...     def __getitem__(self, index):
...         x = np.full((2, 1), index, "float32")
...         return x, x**2
>>> [y[:, 0].tolist() for _, y, _ in PyDatasetAdapter(Squares()).epoch()]
[[0.0, 0.0], [1.0, 1.0], [4.0, 4.0]]
"""

import concurrent.futures
import itertools
import warnings
from collections import deque
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from .. import config
from .data_adapters import DataAdapter, batch_to_device, class_weight_table


class PyDataset:
    """Base class for datasets that build each batch in Python code.

    Subclasses implement `__getitem__(index)` (one batch) and `__len__` (the number of
    batches; or override the `num_batches` property, which may return None for an endless
    dataset), and optionally `on_epoch_begin`/`on_epoch_end`.

    Args:
        workers: how many batches are loaded at once (1: one after another in the
            training thread).
        use_multiprocessing: load in worker processes instead of threads (the dataset
            must be picklable; `on_epoch_end` then runs in the main process only).
        max_queue_size: most batches loaded ahead of the training step.

    Example:
    >>> import numpy as np
    >>> class Ones(PyDataset):
    ...     def __init__(self, **kwargs):
    ...         super().__init__(**kwargs)
    ...     def __len__(self):
    ...         return 2
    ...     def __getitem__(self, index):
    ...         return np.ones((4, 3)), np.ones((4, 1))
    >>> Ones(workers=2).num_batches
    2
    """

    def __init__(
        self, workers: int = 1, use_multiprocessing: bool = False, max_queue_size: int = 10
    ):
        self.workers = workers
        self.use_multiprocessing = use_multiprocessing
        self.max_queue_size = max_queue_size

    def __getattr__(self, name: str) -> Any:
        # Only reached for missing attributes: a subclass that did not call
        # `super().__init__()` gets Keras's defaults, with Keras's warning.
        defaults = {"workers": 1, "use_multiprocessing": False, "max_queue_size": 10}
        if name not in defaults:
            raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")
        warnings.warn(
            "Your `PyDataset` class should call `super().__init__(**kwargs)` in its "
            "constructor. `**kwargs` can include `workers`, `use_multiprocessing`, "
            "`max_queue_size`. Do not pass these arguments to `fit()`, as they will be "
            "ignored.",
            stacklevel=2,
        )
        for key, value in defaults.items():
            self.__dict__.setdefault(key, value)
        return defaults[name]

    def __getitem__(self, index: int) -> Any:
        raise TypeError(f"{type(self).__name__} must implement `__getitem__(index)`.")

    @property
    def num_batches(self) -> "int | None":
        """The number of batches (`len(self)`), or None for an endless dataset."""
        if hasattr(type(self), "__len__"):
            return len(self)
        raise TypeError(
            f"{type(self).__name__} must implement `__len__` or the `num_batches` property "
            "(None for an endless dataset)."
        )

    def __iter__(self) -> Iterator[Any]:
        count = self.num_batches
        for index in itertools.count() if count is None else range(count):
            yield self[index]

    def on_epoch_begin(self) -> None:
        """Called at the start of every epoch."""

    def on_epoch_end(self) -> None:
        """Called at the end of every epoch."""


class _Batches(torch.utils.data.Dataset):
    """A PyDataset as a map-style torch Dataset, for worker processes."""

    def __init__(self, dataset: PyDataset):
        self.dataset = dataset

    def __len__(self) -> int:
        return self.dataset.num_batches

    def __getitem__(self, index: int) -> Any:
        return self.dataset[index]


class PyDatasetAdapter(DataAdapter):
    """Batches of a `PyDataset` as device tensors; one pass per epoch (shuffled if asked).

    Example:
    >>> import numpy as np
    >>> class Two(PyDataset):
    ...     def __len__(self):
    ...         return 2
    ...     def __getitem__(self, index):
    ...         return np.full((1, 1), index)
    >>> PyDatasetAdapter(Two()).num_batches
    2
    """

    def __init__(
        self,
        dataset: PyDataset,
        *,
        shuffle: "bool | str" = False,
        class_weight: "dict | None" = None,
        device: "torch.device | None" = None,
    ):
        self.dataset = dataset
        self.device = torch.device(device or config.device())
        # The `*_dataset_from_*` utilities return a PyDataset where Keras returns a
        # `tf.data.Dataset`, whose order `fit(shuffle=True)` leaves alone; they say so.
        self.shuffle = bool(shuffle) and getattr(dataset, "_shuffled_by_fit", True)
        self.num_batches = dataset.num_batches
        self._class_weights = (
            None if class_weight is None else class_weight_table(class_weight, self.device)
        )

    def steps(self, steps_per_epoch: "int | None") -> Iterator[tuple]:
        """One epoch's batches, between the dataset's `on_epoch_begin` and `on_epoch_end`."""
        if self.num_batches is None and not steps_per_epoch:
            raise ValueError(
                f"{type(self.dataset).__name__} is endless (`num_batches` is None): pass "
                "`steps_per_epoch` (or `steps`/`validation_steps`) to say how many batches "
                "one epoch takes."
            )
        self.dataset.on_epoch_begin()
        try:
            yield from super().steps(steps_per_epoch)
        finally:
            self.dataset.on_epoch_end()

    def epoch(self) -> Iterator[tuple]:
        for element in self._elements(self._order()):
            yield self._standardized(element)

    def _order(self) -> "Iterator[int] | list[int]":
        count = self.num_batches
        if count is None:
            return itertools.count()
        if self.shuffle:
            return torch.randperm(count).tolist()
        return list(range(count))

    def _elements(self, order) -> Iterator[Any]:
        dataset = self.dataset
        workers = int(dataset.workers)
        if dataset.use_multiprocessing and workers > 0 and self.num_batches is not None:
            yield from torch.utils.data.DataLoader(
                _Batches(dataset),
                batch_size=None,
                sampler=order,
                num_workers=workers,
                prefetch_factor=max(1, dataset.max_queue_size // workers),
                collate_fn=_as_is,
            )
        elif workers > 1:
            yield from _threaded(dataset, order, workers, max(1, dataset.max_queue_size))
        else:
            for index in order:
                yield dataset[index]

    def _standardized(self, element: Any) -> tuple:
        if isinstance(element, list):
            element = tuple(element)
        valid = isinstance(element, (dict, np.ndarray, torch.Tensor)) or (
            isinstance(element, tuple) and len(element) in (1, 2, 3)
        )
        if not valid:
            raise ValueError(
                f"{type(self.dataset).__name__}.__getitem__() must return a tuple or a dict. "
                "If a tuple, it must be ordered either (input,) or (inputs, targets) or "
                f"(inputs, targets, sample_weights). Received: {str(element)[:100]}... of "
                f"type {type(element)}"
            )
        return batch_to_device(element, self.device, self._class_weights)


def _as_is(element: Any) -> Any:
    return element


def _threaded(dataset: PyDataset, order, workers: int, queue_size: int) -> Iterator[Any]:
    """`dataset[i]` for `i` in `order`, loaded by `workers` threads at most `queue_size`
    ahead, yielded in order."""
    indices = iter(order)
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        pending = deque(
            pool.submit(dataset.__getitem__, i) for i in itertools.islice(indices, queue_size)
        )
        try:
            while pending:
                element = pending.popleft().result()
                for index in itertools.islice(indices, 1):
                    pending.append(pool.submit(dataset.__getitem__, index))
                yield element
        finally:
            for future in pending:
                future.cancel()
