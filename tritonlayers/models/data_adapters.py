"""Turn what users pass to `fit`/`evaluate`/`predict` into batches of device tensors.

Accepted inputs, as in Keras 3:
- numpy arrays and torch tensors, alone or nested in lists/tuples/dicts (multi-input);
- a `torch.utils.data.Dataset` (batched here) or `DataLoader` (batched by the user);
- a `PyDataset` (`keras.utils.PyDataset`), indexed by batch;
- a Python generator (or any iterator) yielding `x`, `(x,)`, `(x, y)` or `(x, y, sample_weight)`.

Array data that fits is moved to the device once; each epoch then shuffles it with one
`torch.randperm` on the device and gathers every batch with `index_select`, so no step
copies data from the host or waits for it.

Example:
>>> import numpy as np
>>> from tritonlayers.models.data_adapters import get_data_adapter
>>> adapter = get_data_adapter(np.ones((10, 3)), np.zeros((10,)), batch_size=4, shuffle=False)
>>> adapter.num_batches, [tuple(x.shape) for x, y, sw in adapter.epoch()]
(3, [(4, 3), (4, 3), (2, 3)])
"""

import math
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from .. import config
from . import tree

_RAN_OUT_OF_DATA = (
    "Your input ran out of data; interrupting training. Make sure that your dataset or "
    "generator can generate at least `steps_per_epoch * epochs` batches."
)


def unpack_x_y_sample_weight(data: Any) -> tuple:
    """Split one element `x`, `(x,)`, `(x, y)` or `(x, y, sample_weight)` into a triple.

    Example:
    >>> unpack_x_y_sample_weight((1, 2))
    (1, 2, None)
    """
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) in (1, 2, 3):
        return (*data, *(None,) * (3 - len(data)))
    raise ValueError(
        "Data is expected to be in format `x`, `(x,)`, `(x, y)`, or `(x, y, sample_weight)`, "
        f"found a tuple of {len(data)} elements."
    )


def pack_x_y_sample_weight(x: Any, y: Any = None, sample_weight: Any = None) -> Any:
    """One batch as Keras hands it to `train_step`: `x`, `(x, y)` or `(x, y, sample_weight)`
    (a list or tuple `x` alone becomes `(x,)`, so it is not mistaken for `(x, y)`).

    Example:
    >>> pack_x_y_sample_weight(1, 2), pack_x_y_sample_weight([1, 2])
    ((1, 2), ([1, 2],))
    """
    if y is None:
        return (x,) if isinstance(x, (list, tuple)) else x
    return (x, y) if sample_weight is None else (x, y, sample_weight)


def to_device_tensor(value: Any, device: torch.device) -> torch.Tensor:
    """`value` (numpy, torch, Python number or list) as a tensor on `device`.

    float64 becomes `config.floatx()`, as Keras casts NumPy floats to the model's float type.
    An array of strings stays a NumPy array (no tensor holds text): a model's text layer
    (`TextVectorization`, `StringLookup`) reads it.
    """
    if not isinstance(value, torch.Tensor):
        value = np.asarray(value)
        if value.dtype.kind in "USO":
            return value
        value = torch.as_tensor(value)
    if value.dtype == torch.float64 and config.floatx() != "float64":
        value = value.to(getattr(torch, config.floatx()))
    return value.to(device, non_blocking=True)


def _is_array(value: Any) -> bool:
    return isinstance(value, (np.ndarray, torch.Tensor))


def _is_array_structure(value: Any) -> bool:
    leaves = tree.flatten(value)
    return bool(leaves) and all(_is_array(leaf) for leaf in leaves)


def train_validation_split(arrays: tuple, validation_split: float) -> tuple[tuple, tuple]:
    """Split `(x, y, sample_weight)` into training and validation parts, the last
    `validation_split` fraction (before any shuffling) going to validation, as Keras does."""
    leaves = [leaf for leaf in tree.flatten(arrays) if leaf is not None]
    unsplittable = sorted({type(leaf).__name__ for leaf in leaves if not _is_array(leaf)})
    if unsplittable:
        raise ValueError(
            "Argument `validation_split` is only supported for tensors or NumPy arrays. "
            f"Found incompatible type in the input: {unsplittable}"
        )
    num_samples = int(leaves[0].shape[0])
    split_at = int(math.floor(num_samples * (1.0 - validation_split)))
    if split_at in (0, num_samples):
        raise ValueError(
            f"Training data contains {num_samples} samples, which is not sufficient to split it "
            "into a validation and training set as specified by "
            f"`validation_split={validation_split}`. Either provide more data, or a different "
            "value for the `validation_split` argument."
        )

    def part(start, stop):
        return tree.map_structure(lambda a: None if a is None else a[start:stop], arrays)

    return part(0, split_at), part(split_at, num_samples)


def class_weight_table(class_weight: dict, device: torch.device) -> torch.Tensor:
    size = max(int(k) for k in class_weight) + 1
    table = torch.ones(size, dtype=getattr(torch, config.floatx()))
    for label, weight in class_weight.items():
        table[int(label)] = float(weight)
    return table.to(device)


def class_weight_to_sample_weight(y: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    """Per-sample weights looked up from class labels `y` (ints, `(n, 1)` or one-hot);
    classes the table does not list get weight 1. Runs on the device, without a sync."""
    if y.ndim > 1:
        y = y.argmax(dim=-1) if y.shape[-1] != 1 else y.squeeze(-1)
    labels = torch.round(y.to(torch.float32)).long()
    known = labels < table.shape[0]
    weights = table[labels.clamp(0, table.shape[0] - 1)]
    return torch.where(known, weights, torch.ones_like(weights))


class DataAdapter:
    """Yields `(x, y, sample_weight)` batches of device tensors, one pass per `epoch()`.

    `num_batches` is the number of batches in one pass, or None when unknown (generators).
    """

    num_batches: "int | None" = None

    def epoch(self) -> Iterator[tuple]:
        """One pass over the data."""
        raise TypeError(f"{type(self).__name__} must define epoch().")

    def steps(self, steps_per_epoch: "int | None") -> Iterator[tuple]:
        """The batches of one epoch: a full pass, or `steps_per_epoch` batches taken from a
        stream that restarts (reshuffled) whenever a pass ends. Like Keras, 0 means a pass."""
        if not steps_per_epoch:
            yield from self.epoch()
            return
        taken = 0
        while taken < steps_per_epoch:
            for batch in self._stream():
                yield batch
                taken += 1
                if taken == steps_per_epoch:
                    return
            if not self._restartable:
                warnings.warn(_RAN_OUT_OF_DATA, stacklevel=3)
                self.exhausted = True
                return

    _restartable = True
    exhausted = False

    def restart(self) -> None:
        """Drop a partly used pass so that the next `steps()` begins a fresh one; `fit`
        does this before each validation, so `validation_steps` batches of arrays, a
        PyDataset or a DataLoader are the same ones every epoch, as in Keras. A one-shot
        generator cannot restart and goes on where it stopped."""
        self._current = None

    def _stream(self) -> Iterator[tuple]:
        current = getattr(self, "_current", None)
        if current is None:
            current = self._current = self.epoch()
        for batch in current:  # noqa: UP028 (a partly used pass must outlive this generator)
            yield batch
        self._current = None


class ArrayDataAdapter(DataAdapter):
    """Arrays (nested structures allowed) on the device, shuffled and batched by index.

    Example:
    >>> import torch
    >>> adapter = ArrayDataAdapter(torch.arange(6.0).reshape(6, 1), batch_size=4, shuffle=False)
    >>> [x.flatten().tolist() for x, _, _ in adapter.epoch()]
    [[0.0, 1.0, 2.0, 3.0], [4.0, 5.0]]
    """

    def __init__(
        self,
        x: Any,
        y: Any = None,
        sample_weight: Any = None,
        *,
        batch_size: int = 32,
        shuffle: "bool | str" = False,
        class_weight: "dict | None" = None,
        device: "torch.device | None" = None,
    ):
        self.device = torch.device(device or config.device())
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self._structure = (x, y, sample_weight)
        unique = {}
        for leaf in tree.flatten(self._structure):
            if leaf is not None and id(leaf) not in unique:
                unique[id(leaf)] = leaf
        self.num_samples = _check_cardinality(x, y, sample_weight)
        storage = self.device if _fits_on_device(unique.values(), self.device) else None
        self._tensors = {
            key: to_device_tensor(leaf, storage or torch.device("cpu"))
            for key, leaf in unique.items()
        }
        self._on_device = storage is not None
        self._slots = [None if leaf is None else id(leaf) for leaf in tree.flatten(self._structure)]
        if class_weight is not None:
            self._apply_class_weight(class_weight)
        self.num_batches = math.ceil(self.num_samples / self.batch_size)

    def _apply_class_weight(self, class_weight: dict) -> None:
        x, y, sample_weight = self._structure
        if y is None or len(tree.flatten(y)) != 1:
            raise ValueError("`class_weight` is only supported for Models with a single output.")
        labels = self._tensors[id(tree.flatten(y)[0])]
        weights = class_weight_to_sample_weight(
            labels, class_weight_table(class_weight, labels.device)
        )
        if sample_weight is not None:
            weights = weights * self._tensors[id(sample_weight)].reshape(weights.shape)
        self._structure = (x, y, weights)
        self._tensors[id(weights)] = weights
        self._slots = [None if leaf is None else id(leaf) for leaf in tree.flatten(self._structure)]
        used = set(self._slots)
        self._tensors = {key: t for key, t in self._tensors.items() if key in used}

    def _batch_indices(self) -> tuple:
        n, size = self.num_samples, self.batch_size
        if not self.shuffle:
            return tuple(slice(start, min(start + size, n)) for start in range(0, n, size))
        index_device = self.device if self._on_device else torch.device("cpu")
        if self.shuffle == "batch":
            order = torch.arange(n, device=index_device)
            chunks = order.split(size)
            perm = torch.randperm(len(chunks)).tolist()
            return tuple(chunks[i] for i in perm)
        return torch.randperm(n, device=index_device).split(size)

    def epoch(self) -> Iterator[tuple]:
        tensors, slots, structure = self._tensors, self._slots, self._structure
        single = _single_x_y(structure)
        for index in self._batch_indices():
            if isinstance(index, slice):
                taken = {key: t[index] for key, t in tensors.items()}
            else:
                taken = {key: _take(t, index) for key, t in tensors.items()}
            if not self._on_device:
                taken = {k: _to_device(t, self.device) for k, t in taken.items()}
            if single is not None:
                yield tuple(None if key is None else taken[key] for key in single)
            else:
                yield tree.pack_as(structure, [None if s is None else taken[s] for s in slots])


def _take(array: Any, index: torch.Tensor) -> Any:
    """The rows `index` of a tensor, or of a NumPy array of strings."""
    if isinstance(array, np.ndarray):
        return array[index.cpu().numpy()]
    return array.index_select(0, index)


def _to_device(array: Any, device: torch.device) -> Any:
    """A tensor moved to `device`; a NumPy array of strings stays where it is."""
    return array if isinstance(array, np.ndarray) else array.to(device, non_blocking=True)


def _single_x_y(structure: tuple) -> "tuple | None":
    """The leaf ids of `(x, y, sw)` when none of them is nested (the fast path), else None."""
    if any(tree.is_nested(part) for part in structure):
        return None
    return tuple(None if part is None else id(part) for part in structure)


def _check_cardinality(x: Any, y: Any, sample_weight: Any) -> int:
    sizes = {}
    for name, part in (("x", x), ("y", y), ("sample_weight", sample_weight)):
        leaves = [leaf for leaf in tree.flatten(part) if leaf is not None]
        if leaves:
            sizes[name] = [int(leaf.shape[0]) for leaf in leaves]
    distinct = {size for group in sizes.values() for size in group}
    if len(distinct) > 1:
        detail = "".join(
            f"'{name}' sizes: {', '.join(map(str, group))}\n" for name, group in sizes.items()
        )
        raise ValueError(
            "Data cardinality is ambiguous. Make sure all arrays contain the same number of "
            f"samples.{detail}"
        )
    if not distinct:
        raise ValueError("Expected input data `x` to hold at least one array; received none.")
    return distinct.pop()


def _fits_on_device(leaves, device: torch.device) -> bool:
    """Whether the arrays can live on `device` (CUDA: under half its free memory)."""
    if device.type != "cuda":
        return True
    total = sum(
        leaf.element_size() * leaf.nelement()
        if isinstance(leaf, torch.Tensor)
        else np.asarray(leaf).nbytes
        for leaf in leaves
    )
    free, _ = torch.cuda.mem_get_info(device)
    return total < free // 2


def batch_to_device(element: Any, device: torch.device, class_weights=None) -> tuple:
    """One element a user's iterable yields, unpacked to `(x, y, sample_weight)` device
    tensors; `class_weights` (a `class_weight_table`) become sample weights."""
    x, y, sample_weight = unpack_x_y_sample_weight(element)
    convert = lambda leaf: None if leaf is None else to_device_tensor(leaf, device)
    x, y, sample_weight = (tree.map_structure(convert, part) for part in (x, y, sample_weight))
    if class_weights is not None:
        if y is None or tree.is_nested(y):
            raise ValueError("`class_weight` is only supported for Models with a single output.")
        weights = class_weight_to_sample_weight(y, class_weights)
        sample_weight = weights if sample_weight is None else weights * sample_weight
    return x, y, sample_weight


class IteratorDataAdapter(DataAdapter):
    """Batches from a generator/iterator (one pass only) or a DataLoader (one pass per epoch).

    Each element is `x`, `(x,)`, `(x, y)` or `(x, y, sample_weight)`; its arrays are moved to
    the device as they arrive.
    """

    def __init__(
        self,
        source: Any,
        *,
        class_weight: "dict | None" = None,
        device: "torch.device | None" = None,
    ):
        self.device = torch.device(device or config.device())
        self._source = source
        self._restartable = isinstance(source, torch.utils.data.DataLoader)
        self._iterator = None if self._restartable else iter(source)
        self.num_batches = len(source) if self._restartable else None
        self._class_weight = (
            None if class_weight is None else class_weight_table(class_weight, self.device)
        )

    def _to_device(self, element: Any) -> tuple:
        return batch_to_device(element, self.device, self._class_weight)

    _recording: "list | None" = None
    _recorded = False

    def record_first_pass(self) -> None:
        """Keep the batches of the first full pass and replay them in later passes, so a
        one-shot generator given as `validation_data` is evaluated on every epoch, as Keras
        does (a DataLoader restarts on its own and keeps nothing)."""
        if not self._restartable:
            self._recording = []

    def epoch(self) -> Iterator[tuple]:
        if self._recorded:
            yield from self._recording
            return
        elements = iter(self._source) if self._restartable else self._iterator
        for element in elements:
            batch = self._to_device(element)
            if self._recording is not None:
                self._recording.append(batch)
            yield batch
        self._recorded = self._recording is not None

    def _stream(self) -> Iterator[tuple]:
        if not self._restartable:
            return self.epoch()
        return super()._stream()


def get_data_adapter(
    x: Any,
    y: Any = None,
    sample_weight: Any = None,
    *,
    batch_size: "int | None" = 32,
    shuffle: "bool | str" = False,
    class_weight: "dict | None" = None,
    device: "torch.device | None" = None,
) -> DataAdapter:
    """The adapter for `x` (and `y`, `sample_weight` when `x` holds arrays).

    Example:
    >>> import numpy as np
    >>> get_data_adapter(np.zeros((5, 2)), batch_size=2).num_batches
    3
    """
    if isinstance(x, DataAdapter):
        return x
    from .py_dataset import PyDataset, PyDatasetAdapter

    if isinstance(x, PyDataset):
        _refuse_arguments(y, sample_weight, "a PyDataset")
        return PyDatasetAdapter(x, shuffle=shuffle, class_weight=class_weight, device=device)
    if isinstance(x, torch.utils.data.Dataset) and not _is_array(x):
        _refuse_arguments(y, sample_weight, "a torch Dataset")
        loader = torch.utils.data.DataLoader(x, batch_size=batch_size or 32, shuffle=bool(shuffle))
        return IteratorDataAdapter(loader, class_weight=class_weight, device=device)
    if isinstance(x, torch.utils.data.DataLoader):
        _refuse_arguments(y, sample_weight, "a torch DataLoader")
        _warn_shuffle_ignored(
            shuffle, "a torch DataLoader. The DataLoader is", "already be shuffled"
        )
        return IteratorDataAdapter(x, class_weight=class_weight, device=device)
    if _is_array_structure(x):
        for name, part in (("y", y), ("sample_weight", sample_weight)):
            if part is not None and not _is_array_structure(part):
                raise ValueError(
                    f"When `x` holds arrays, `{name}` must hold arrays too; received "
                    f"{type(part).__name__}."
                )
        return ArrayDataAdapter(
            x,
            y,
            sample_weight,
            batch_size=batch_size or 32,
            shuffle=shuffle,
            class_weight=class_weight,
            device=device,
        )
    if isinstance(x, Iterator):
        _refuse_arguments(y, sample_weight, "a generator")
        _warn_shuffle_ignored(
            shuffle, "a generator. The generator is", "yield already-shuffled data"
        )
        return IteratorDataAdapter(x, class_weight=class_weight, device=device)
    if _is_array(x) or isinstance(x, (list, tuple, dict, int, float)):
        return ArrayDataAdapter(
            to_device_tensor(x, torch.device("cpu")),
            y,
            sample_weight,
            batch_size=batch_size or 32,
            shuffle=shuffle,
            class_weight=class_weight,
            device=device,
        )
    raise ValueError(
        "Unrecognized data type: x holds a "
        f"{type(x).__name__}. Expected NumPy arrays, torch tensors, lists/dicts of them, a "
        "torch Dataset or DataLoader, or a Python generator."
    )


def _warn_shuffle_ignored(shuffle: "bool | str", source: str, expectation: str) -> None:
    """Keras's warning when `fit(shuffle=True)` meets data that it cannot reorder."""
    if shuffle:
        warnings.warn(
            f"`shuffle=True` was passed, but will be ignored since the data `x` was provided "
            f"as {source} expected to {expectation}.",
            stacklevel=4,
        )


def _refuse_arguments(y: Any, sample_weight: Any, input_type: str) -> None:
    for name, value, description in (
        ("y", y, "the targets"),
        ("sample_weight", sample_weight, "the sample weights"),
    ):
        if value is not None:
            raise ValueError(
                f"When providing `x` as {input_type}, `{name}` should not be passed. "
                f"Instead, {description} should be included as part of {input_type}."
            )
