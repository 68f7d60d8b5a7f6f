"""`ModelCheckpoint`: save the model (or its weights) every epoch or every N batches."""

import os
import re
import warnings

import numpy as np

from ..io_utils import print_msg
from .callback import BatchCounter, to_python
from .monitor import MonitorCallback

WEIGHTS_SUFFIX = ".weights.safetensors"
H5_WEIGHTS_SUFFIX = ".weights.h5"


class ModelCheckpoint(MonitorCallback):
    """Save with `model.save` (`.keras`) or `model.save_weights` (`.weights.safetensors`,
    or `.weights.h5` in the Keras 3 layout).

    `filepath` may hold `{epoch}` (1-based), `{batch}` and log keys, e.g.
    `"ckpt/{epoch:02d}-{val_loss:.2f}.keras"`. With `save_best_only=True` a file is written
    only when `monitor` improves. Saves are atomic (`tritonlayers.saving` writes a temporary
    file and renames it).

    Example:
    >>> ModelCheckpoint("best.keras", save_best_only=True).save_best_only
    True
    """

    def __init__(
        self,
        filepath,
        monitor: str = "val_loss",
        verbose: int = 0,
        save_best_only: bool = False,
        save_weights_only: bool = False,
        mode: str = "auto",
        save_freq="epoch",
        initial_value_threshold: float | None = None,
    ):
        super().__init__(monitor, mode, initial_value_threshold)
        self.filepath = os.fspath(filepath)
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = save_freq
        self._current_epoch = 0
        if save_freq != "epoch" and not isinstance(save_freq, int):
            raise ValueError(
                f"Unrecognized save_freq: {save_freq}. "
                "Expected save_freq are 'epoch' or integer values"
            )
        self._batch_counter = None if save_freq == "epoch" else BatchCounter(save_freq)
        if save_weights_only and not self.filepath.endswith((WEIGHTS_SUFFIX, H5_WEIGHTS_SUFFIX)):
            raise ValueError(
                "When using `save_weights_only=True` in `ModelCheckpoint`, the filepath "
                f"provided must end in `{WEIGHTS_SUFFIX}` (tritonlayers weights format) or "
                f"`{H5_WEIGHTS_SUFFIX}` (Keras 3 layout). Received: filepath={self.filepath}"
            )
        if not save_weights_only and not self.filepath.endswith(".keras"):
            raise ValueError(
                "The filepath provided must end in `.keras` (Keras model format). "
                f"Received: filepath={self.filepath}"
            )

    def on_epoch_begin(self, epoch, logs=None) -> None:
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None) -> None:
        if self._batch_counter is not None and self._batch_counter.due(batch):
            self._save_model(self._current_epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None) -> None:
        if self.monitor_op is None:
            self._set_monitor_op()
        if self.save_freq == "epoch":
            self._save_model(epoch, None, logs)

    def _save_model(self, epoch: int, batch: int | None, logs) -> None:
        logs = {key: to_python(value) for key, value in (logs or {}).items()}
        filepath = self._get_file_path(epoch, batch, logs)
        if self.save_best_only:
            if self.monitor_op is None:
                self._set_monitor_op()
            current = logs.get(self.monitor)
            if current is None:
                # As in Keras, a missing monitor falls back to saving unconditionally.
                warnings.warn(
                    f"Can save best model only with {self.monitor} available.", stacklevel=2
                )
            elif np.ndim(current) > 0:
                # A vector metric (e.g. F1Score(average=None)) has no order: Keras saves anyway.
                warnings.warn(
                    "Can save best model only when `monitor` is a scalar value. Received: "
                    f"{np.asarray(current)}. Falling back to `save_best_only=False`.",
                    stacklevel=2,
                )
            else:
                best = "None" if self.best is None else f"{self.best:.5f}"
                if not self._is_improvement(current, self.best):
                    if self.verbose > 0:
                        print_msg(
                            f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best}"
                        )
                    return
                if self.verbose > 0:
                    print_msg(
                        f"\nEpoch {epoch + 1}: {self.monitor} improved from {best} to "
                        f"{current:.5f}, saving model to {filepath}"
                    )
                self.best = current
        elif self.verbose > 0:
            print_msg(f"\nEpoch {epoch + 1}: saving model to {filepath}")
        folder = os.path.dirname(filepath)
        if folder:
            os.makedirs(folder, exist_ok=True)
        if os.path.isdir(filepath):
            raise OSError(
                "Please specify a non-directory filepath for ModelCheckpoint. "
                f"Filepath used is an existing directory: {filepath}"
            )
        if self.save_weights_only:
            self.model.save_weights(filepath, overwrite=True)
        else:
            self.model.save(filepath, overwrite=True)
        if self.verbose > 0:
            print_msg(f"\nEpoch {epoch + 1}: finished saving model to {filepath}")

    def _get_file_path(self, epoch: int, batch: int | None, logs: dict) -> str:
        fields = {**logs, "epoch": epoch + 1}
        if batch is not None and re.search(r"{batch\b", self.filepath):
            fields["batch"] = batch + 1
        try:
            return self.filepath.format(**fields)
        except KeyError as error:
            raise KeyError(
                f'Failed to format this callback filepath: "{self.filepath}". '
                f"Reason: {error} is not among the logged keys {sorted(logs)}."
            ) from error
