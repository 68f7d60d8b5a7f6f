"""Small callbacks: CSVLogger, LambdaCallback and TerminateOnNaN."""

import collections
import csv
import math
import os

import numpy as np

from ..io_utils import print_msg
from .callback import Callback, to_python


class CSVLogger(Callback):
    """Append one CSV row of epoch logs per epoch (`epoch` first, keys sorted).

    Example:
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "log.csv")
    >>> logger = CSVLogger(path)
    >>> logger.on_train_begin()
    >>> logger.on_epoch_end(0, {"loss": 0.5, "val_loss": 0.75})
    >>> logger.on_train_end()
    >>> open(path).read().splitlines()
    ['epoch,loss,val_loss', '0,0.5,0.75']
    """

    def __init__(self, filename, separator: str = ",", append: bool = False):
        super().__init__()
        self.sep = separator
        self.filename = os.fspath(filename)
        self.append = append
        self.writer = None
        self.keys = None
        self.append_header = True
        self.csv_file = None

    def on_train_begin(self, logs=None) -> None:
        if self.append:
            if os.path.exists(self.filename):
                with open(self.filename) as f:
                    self.append_header = not bool(len(f.readline()))
            mode = "a"
        else:
            mode = "w"
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.csv_file = open(self.filename, mode, newline="")  # noqa: SIM115 (kept open for the run)
        self.writer = None
        self.keys = None

    def on_epoch_end(self, epoch, logs=None) -> None:
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            if self.keys and not any(key.startswith("val_") for key in self.keys):
                self.keys.extend(f"val_{key}" for key in list(self.keys))
        if self.writer is None:
            dialect = type("Dialect", (csv.excel,), {"delimiter": self.sep})
            self.writer = csv.DictWriter(
                self.csv_file, fieldnames=["epoch", *self.keys], dialect=dialect
            )
            if self.append_header:
                self.writer.writeheader()
        row = collections.OrderedDict({"epoch": epoch})
        row.update((key, _csv_value(logs.get(key, "NA"))) for key in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None) -> None:
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.writer = None


def _csv_value(value):
    value = to_python(value)
    if isinstance(value, str):
        return value
    if isinstance(value, (np.ndarray, list, tuple)):
        return f'"[{", ".join(map(str, np.ravel(value)))}]"'
    return value


class LambdaCallback(Callback):
    """A callback built from functions: `LambdaCallback(on_epoch_end=lambda epoch, logs: ...)`.

    Example:
    >>> seen = []
    >>> cb = LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(epoch))
    >>> cb.on_epoch_end(3, {})
    >>> seen
    [3]
    """

    def __init__(
        self,
        on_epoch_begin=None,
        on_epoch_end=None,
        on_train_begin=None,
        on_train_end=None,
        on_train_batch_begin=None,
        on_train_batch_end=None,
        **kwargs,
    ):
        super().__init__()
        hooks = {
            "on_epoch_begin": on_epoch_begin,
            "on_epoch_end": on_epoch_end,
            "on_train_begin": on_train_begin,
            "on_train_end": on_train_end,
            "on_train_batch_begin": on_train_batch_begin,
            "on_train_batch_end": on_train_batch_end,
            **kwargs,
        }
        for name, function in hooks.items():
            if function is None:
                continue
            if not name.startswith("on_") or not hasattr(Callback, name):
                raise ValueError(
                    f"LambdaCallback got unknown hook {name!r}; expected a Callback method "
                    "name such as 'on_epoch_end' or 'on_predict_batch_end'."
                )
            setattr(self, name, function)


class TerminateOnNaN(Callback):
    """Stop training (or raise, with `raise_error=True`) when the batch loss is NaN or inf.

    Reading the loss every batch syncs the GPU once per step.

    Example:
    >>> class Model:
    ...     stop_training = False
    >>> cb = TerminateOnNaN()
    >>> cb.set_model(Model())
    >>> cb.on_batch_end(4, {"loss": float("nan")})
    Batch 4: Invalid loss, terminating training
    >>> cb.model.stop_training
    True
    """

    def __init__(self, raise_error: bool = False):
        super().__init__()
        self.raise_error = raise_error

    def on_batch_end(self, batch, logs=None) -> None:
        loss = (logs or {}).get("loss")
        if loss is None:
            return
        loss = float(np.mean(to_python(loss)))
        if math.isnan(loss) or math.isinf(loss):
            if self.raise_error:
                raise RuntimeError(
                    f"NaN or Inf loss encountered at batch {batch}. Loss value: {loss}. "
                    "Terminating training immediately."
                )
            print_msg(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True
