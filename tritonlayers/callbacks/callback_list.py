"""`CallbackList` (dispatch to many callbacks) and `History` (the object `fit` returns)."""

from .callback import Callback, flatten_logs, pythonify_logs
from .progbar import ProgbarLogger


class History(Callback):
    """Records each epoch's logs: `history.history["loss"]`, `history.epoch`.

    Example:
    >>> h = History()
    >>> h.on_train_begin()
    >>> h.on_epoch_end(0, {"loss": 0.25})
    >>> h.history, h.epoch
    ({'loss': [0.25]}, [0])
    """

    def __init__(self):
        super().__init__()
        self.history: dict[str, list] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs=None) -> None:
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None) -> None:
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        if self.model is not None:
            self.model.history = self


class CallbackList(Callback):
    """Calls every callback's hook in order; adds `History`/`ProgbarLogger` when asked.

    Batch hooks forward `logs` unchanged, `None` as `{}` (device tensors allowed, so
    dispatch never syncs);
    epoch and begin/end hooks turn tensors into Python floats first.

    Example:
    >>> calls = []
    >>> class Record(Callback):
    ...     def on_epoch_end(self, epoch, logs=None):
    ...         calls.append((epoch, logs))
    >>> import torch
    >>> CallbackList([Record()]).on_epoch_end(0, {"loss": torch.tensor(0.5)})
    >>> calls
    [(0, {'loss': 0.5})]
    """

    def __init__(
        self,
        callbacks=None,
        add_history: bool = False,
        add_progbar: bool = False,
        model=None,
        **params,
    ):
        super().__init__()
        self.callbacks: list[Callback] = list(_flatten(callbacks)) if callbacks else []
        for callback in self.callbacks:
            if not isinstance(callback, Callback):
                raise TypeError(
                    "Each callback must be a `tritonlayers.callbacks.Callback` instance; "
                    f"received {callback!r} of type {type(callback).__name__}."
                )
        self._history = next((c for c in self.callbacks if isinstance(c, History)), None)
        self._progbar = next((c for c in self.callbacks if isinstance(c, ProgbarLogger)), None)
        if self._history is None and add_history:
            self._history = History()
            self.callbacks.append(self._history)
        if self._progbar is None and add_progbar:
            self._progbar = ProgbarLogger()
            self.callbacks.append(self._progbar)
        if model is not None:
            self.set_model(model)
        if params:
            self.set_params(params)

    def append(self, callback: Callback) -> None:
        """Add one more callback."""
        self.callbacks.append(callback)

    def set_params(self, params: dict) -> None:
        self.params = params
        for callback in self.callbacks:
            callback.set_params(params)

    def set_model(self, model) -> None:
        super().set_model(model)
        if self._history is not None:
            model.history = self._history
        for callback in self.callbacks:
            callback.set_model(model)

    def _batch(self, hook: str, batch: int, logs) -> None:
        # Keras hands every hook a dict, never None (the guide calls `logs.keys()` in
        # `on_train_batch_begin`), sorted and flat; the values stay on the device.
        logs = flatten_logs(logs)
        for callback in self.callbacks:
            getattr(callback, hook)(batch, logs=logs)

    def _epoch(self, hook: str, epoch: int, logs) -> None:
        logs = pythonify_logs(logs)
        for callback in self.callbacks:
            getattr(callback, hook)(epoch, logs)

    def _event(self, hook: str, logs) -> None:
        logs = pythonify_logs(logs)
        for callback in self.callbacks:
            getattr(callback, hook)(logs)

    def on_batch_begin(self, batch, logs=None) -> None:
        self._batch("on_batch_begin", batch, logs)

    def on_batch_end(self, batch, logs=None) -> None:
        self._batch("on_batch_end", batch, logs)

    def on_train_batch_begin(self, batch, logs=None) -> None:
        self._batch("on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch, logs=None) -> None:
        self._batch("on_train_batch_end", batch, logs)

    def on_test_batch_begin(self, batch, logs=None) -> None:
        self._batch("on_test_batch_begin", batch, logs)

    def on_test_batch_end(self, batch, logs=None) -> None:
        self._batch("on_test_batch_end", batch, logs)

    def on_predict_batch_begin(self, batch, logs=None) -> None:
        self._batch("on_predict_batch_begin", batch, logs)

    def on_predict_batch_end(self, batch, logs=None) -> None:
        self._batch("on_predict_batch_end", batch, logs)

    def on_epoch_begin(self, epoch, logs=None) -> None:
        self._epoch("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch, logs=None) -> None:
        self._epoch("on_epoch_end", epoch, logs)

    def on_train_begin(self, logs=None) -> None:
        self._event("on_train_begin", logs)

    def on_train_end(self, logs=None) -> None:
        self._event("on_train_end", logs)

    def on_test_begin(self, logs=None) -> None:
        self._event("on_test_begin", logs)

    def on_test_end(self, logs=None) -> None:
        self._event("on_test_end", logs)

    def on_predict_begin(self, logs=None) -> None:
        self._event("on_predict_begin", logs)

    def on_predict_end(self, logs=None) -> None:
        self._event("on_predict_end", logs)


def _flatten(items):
    """The callbacks in nested lists/tuples (and inside a CallbackList passed as one)."""
    if isinstance(items, CallbackList):
        items = items.callbacks
    elif not isinstance(items, (list, tuple)):
        items = [items]
    for item in items:
        if isinstance(item, (list, tuple, CallbackList)):
            yield from _flatten(item)
        else:
            yield item
