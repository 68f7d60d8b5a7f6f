"""`BackupAndRestore`: resume an interrupted `fit` from the last finished epoch.

At each epoch end it writes `latest.weights.safetensors` (weights and optimizer state, via
`model.save_weights`) and then `training_metadata.json` (`{"epoch", "batch"}`), both
atomically. On `on_train_begin` it loads them back and sets `model._initial_epoch`, which
`fit` reads after `on_train_begin` to skip the finished epochs (Keras 3's hook).
"""

import json
import os
import shutil

from .callback import BatchCounter, Callback

WEIGHTS_FILE = "latest.weights.safetensors"
METADATA_FILE = "training_metadata.json"


class BackupAndRestore(Callback):
    """Back up training state to `backup_dir`; restore it when `fit` restarts.

    `save_freq` is "epoch" or a number of batches. `delete_checkpoint=True` removes the
    backup once training finishes normally.

    Example:
    >>> BackupAndRestore("/tmp/backup").save_freq
    'epoch'
    """

    def __init__(
        self,
        backup_dir,
        save_freq="epoch",
        double_checkpoint: bool = False,
        delete_checkpoint: bool = True,
    ):
        super().__init__()
        if not backup_dir:
            raise ValueError("Empty `backup_dir` argument passed")
        if save_freq != "epoch" and not isinstance(save_freq, int):
            raise ValueError(
                f"Invalid value for argument `save_freq`. Received: save_freq={save_freq}. "
                "Expected either 'epoch' or an integer value."
            )
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.double_checkpoint = double_checkpoint
        self.delete_checkpoint = delete_checkpoint
        self._weights_path = os.path.join(self.backup_dir, WEIGHTS_FILE)
        self._metadata_path = os.path.join(self.backup_dir, METADATA_FILE)
        self._prev_weights_path = self._weights_path + ".bkp"
        self._prev_metadata_path = self._metadata_path + ".bkp"
        self._batch_counter = None if save_freq == "epoch" else BatchCounter(save_freq)
        self._current_epoch = 0

    def on_train_begin(self, logs=None) -> None:
        try:
            self._load_model()
        except (OSError, ValueError):
            if not os.path.exists(self._prev_weights_path):
                raise
            shutil.copyfile(self._prev_weights_path, self._weights_path)
            if os.path.exists(self._prev_metadata_path):
                shutil.copyfile(self._prev_metadata_path, self._metadata_path)
            elif os.path.exists(self._metadata_path):
                os.remove(self._metadata_path)
            self._load_model()

    def _load_model(self) -> None:
        if not getattr(self.model, "built", True):
            raise ValueError(
                "To use the BackupAndRestore callback, your model must be built before you "
                f"call `fit()`. Model {self.model} is unbuilt. You can build it beforehand by "
                "calling it on a batch of data."
            )
        if os.path.exists(self._weights_path):
            optimizer = getattr(self.model, "optimizer", None)
            if optimizer is not None and not optimizer.built:
                optimizer.build(self.model.trainable_variables)
            self.model.load_weights(self._weights_path)
        if os.path.exists(self._metadata_path):
            with open(self._metadata_path) as f:
                metadata = json.load(f)
            if not isinstance(metadata, dict) or not isinstance(metadata.get("epoch"), int):
                raise ValueError(
                    f"BackupAndRestore: {self._metadata_path} is malformed; expected a JSON "
                    f'object with an integer "epoch", found {metadata!r}.'
                )
            self._current_epoch = metadata["epoch"]
            self.model._initial_epoch = metadata["epoch"]

    def on_epoch_end(self, epoch, logs=None) -> None:
        self._current_epoch = epoch + 1
        if self._batch_counter is not None:
            self._batch_counter.last_batch = 0
        if self.save_freq == "epoch":
            self._save_model()

    def on_train_batch_end(self, batch, logs=None) -> None:
        if self._batch_counter is not None and self._batch_counter.due(batch):
            self._save_model()

    def _save_model(self) -> None:
        from ..saving.atomic import write_bytes_atomically

        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint and os.path.exists(self._weights_path):
            shutil.copyfile(self._weights_path, self._prev_weights_path)
        if self.double_checkpoint and os.path.exists(self._metadata_path):
            shutil.copyfile(self._metadata_path, self._prev_metadata_path)
        self.model.save_weights(self._weights_path, overwrite=True)
        last_batch = 0 if self._batch_counter is None else self._batch_counter.last_batch
        metadata = {"epoch": self._current_epoch, "batch": last_batch}
        write_bytes_atomically(self._metadata_path, json.dumps(metadata).encode())

    def on_train_end(self, logs=None) -> None:
        if self.delete_checkpoint and os.path.exists(self.backup_dir):
            shutil.rmtree(self.backup_dir)
