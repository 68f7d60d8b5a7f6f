"""`Callback`: the hooks `fit`, `evaluate` and `predict` call, with Keras 3's names."""

import numpy as np
import torch


def to_python(value):
    """A device tensor or NumPy scalar as a Python number (arrays stay arrays). Syncs a GPU.

    Example:
    >>> import torch
    >>> to_python(torch.tensor(0.5)), to_python(torch.tensor([1, 2])).tolist()
    (0.5, [1, 2])
    """
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value.item()
    if isinstance(value, np.generic):
        return value.item()
    return value


def flatten_logs(logs: dict | None) -> dict:
    """`logs` sorted by key, a nested dict's entries put in place of its key (sorted too).

    That is Keras's order: a custom `train_step` returning `{"loss": ..., "compile_metrics":
    {"mae": ...}}` logs `mae` before `loss`. The values are left as they are (no GPU sync).

    Example:
    >>> flatten_logs({"loss": 0.5, "compile_metrics": {"mse": 0.2, "mae": 0.1}})
    {'mae': 0.1, 'mse': 0.2, 'loss': 0.5}
    """
    flat = {}
    for key, value in sorted((logs or {}).items()):
        flat.update(flatten_logs(value) if isinstance(value, dict) else {key: value})
    return flat


def pythonify_logs(logs: dict | None) -> dict:
    """`flatten_logs(logs)` with every tensor value turned into a Python number.

    Keras orders logs by name (so `accuracy` comes before `loss` in History and progress
    lines). Used on epoch-level logs only: batch logs stay device tensors.

    Example:
    >>> import torch
    >>> pythonify_logs({"loss": torch.tensor(0.25), "accuracy": 1.0})
    {'accuracy': 1.0, 'loss': 0.25}
    """
    return {key: to_python(value) for key, value in flatten_logs(logs).items()}


class Callback:
    """Base class for callbacks: override the hooks you need.

    Batch hooks receive `logs` that may hold device tensors (reading them syncs the GPU);
    epoch and begin/end hooks receive Python floats.

    Example:
    >>> class PrintEpochs(Callback):
    ...     def on_epoch_end(self, epoch, logs=None):
    ...         print(epoch, sorted(logs))
    >>> PrintEpochs().on_epoch_end(0, {"loss": 0.5})
    0 ['loss']
    """

    def __init__(self):
        self.params: dict = {}
        self._model = None
        self.validation_data = None

    def set_params(self, params: dict) -> None:
        """Receive the run's parameters (`verbose`, `epochs`, `steps`)."""
        self.params = params

    def set_model(self, model) -> None:
        """Receive the model being trained."""
        self._model = model

    @property
    def model(self):
        """The model this callback is attached to."""
        return self._model

    def on_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        """Legacy alias of `on_train_batch_begin`."""

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """Legacy alias of `on_train_batch_end`."""

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        """Called at the start of each training epoch."""

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        """Called at the end of each epoch with the epoch's metrics (and `val_` ones)."""

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        """Called before each training batch."""
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """Called after each training batch with the running metrics."""
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        """Called before each evaluation batch."""

    def on_test_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """Called after each evaluation batch."""

    def on_predict_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        """Called before each prediction batch."""

    def on_predict_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """Called after each prediction batch (`logs["outputs"]`)."""

    def on_train_begin(self, logs: dict | None = None) -> None:
        """Called once when `fit` starts."""

    def on_train_end(self, logs: dict | None = None) -> None:
        """Called once when `fit` ends, with the last epoch's logs."""

    def on_test_begin(self, logs: dict | None = None) -> None:
        """Called when evaluation (or validation) starts."""

    def on_test_end(self, logs: dict | None = None) -> None:
        """Called when evaluation (or validation) ends."""

    def on_predict_begin(self, logs: dict | None = None) -> None:
        """Called when `predict` starts."""

    def on_predict_end(self, logs: dict | None = None) -> None:
        """Called when `predict` ends."""


class BatchCounter:
    """Counts training batches across epochs; `due(batch)` is True every `every` batches.

    Example:
    >>> counter = BatchCounter(every=3)
    >>> [counter.due(b) for b in (0, 1, 2, 0, 1, 2)]
    [False, False, True, False, False, True]
    """

    def __init__(self, every: int):
        self.every = every
        self.last_batch = 0
        self._since_last = 0

    def due(self, batch: int) -> bool:
        """Record `batch` (0-based within its epoch); whether `every` batches have passed."""
        # A batch index that does not grow means a new epoch started.
        added = batch + 1 if batch <= self.last_batch else batch - self.last_batch
        self._since_last += added
        self.last_batch = batch
        if self._since_last >= self.every:
            self._since_last = 0
            return True
        return False
