"""`BackupAndRestore`: resume an interrupted `fit` from the last finished epoch.

At each epoch end it writes the weights and optimizer state (`model.save_weights`) into one
of two slots, `backup_a.weights.safetensors` / `backup_b.weights.safetensors`, taking turns,
and then commits them by atomically replacing `training_metadata.json`:
`{"epoch", "batch", "weights": <slot file>, "rng_state": <torch RNG states>, "previous":
<the record before>}`. A process killed at any moment so leaves a metadata file that names
a complete weights file of the same epoch: the slot being written is never the one that
the committed record names. On `on_train_begin` it loads the committed slot (the previous
one if that fails to load), restores torch's random number generators (so shuffling
continues as in an uninterrupted run) and sets `model._initial_epoch`, which `fit` reads
after `on_train_begin` to skip the finished epochs (Keras 3's hook).
"""

import base64
import json
import os
import shutil

import torch

from .callback import BatchCounter, Callback

WEIGHTS_SLOTS = ("backup_a.weights.safetensors", "backup_b.weights.safetensors")
METADATA_FILE = "training_metadata.json"


class BackupAndRestore(Callback):
    """Back up training state to `backup_dir`; restore it when `fit` restarts.

    `save_freq` is "epoch" or a number of batches. `delete_checkpoint=True` removes the
    backup once training finishes normally. Two weights slots are always kept (the
    committed one and the one before it), so `double_checkpoint` is accepted for Keras
    compatibility and always in effect.

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
        self._metadata_path = os.path.join(self.backup_dir, METADATA_FILE)
        self._committed: dict | None = None
        self._batch_counter = None if save_freq == "epoch" else BatchCounter(save_freq)
        self._current_epoch = 0

    def on_train_begin(self, logs=None) -> None:
        if not os.path.exists(self._metadata_path):
            return
        if not getattr(self.model, "built", True):
            raise ValueError(
                "To use the BackupAndRestore callback, your model must be built before you "
                f"call `fit()`. Model {self.model} is unbuilt. You can build it beforehand by "
                "calling it on a batch of data."
            )
        record = self._read_metadata()
        try:
            self._restore(record)
        except (OSError, ValueError):
            if not isinstance(record.get("previous"), dict):
                raise
            self._restore(record["previous"])

    def _read_metadata(self) -> dict:
        with open(self._metadata_path) as f:
            record = json.load(f)
        if not isinstance(record, dict) or not isinstance(record.get("epoch"), int):
            raise ValueError(
                f"BackupAndRestore: {self._metadata_path} is malformed; expected a JSON "
                f'object with an integer "epoch", found {record!r}.'
            )
        if record.get("weights") not in WEIGHTS_SLOTS:
            raise ValueError(
                f"BackupAndRestore: {self._metadata_path} names weights file "
                f"{record.get('weights')!r}; expected one of {WEIGHTS_SLOTS}."
            )
        return record

    def _restore(self, record: dict) -> None:
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and not optimizer.built:
            optimizer.build(self.model.trainable_variables)
        self.model.load_weights(os.path.join(self.backup_dir, record["weights"]))
        _set_rng_state(record.get("rng_state"))
        self._committed = record
        self._current_epoch = record["epoch"]
        self.model._initial_epoch = record["epoch"]

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
        previous = self._committed
        in_use = previous["weights"] if previous else WEIGHTS_SLOTS[1]
        slot = WEIGHTS_SLOTS[1] if in_use == WEIGHTS_SLOTS[0] else WEIGHTS_SLOTS[0]
        self.model.save_weights(os.path.join(self.backup_dir, slot), overwrite=True)
        last_batch = 0 if self._batch_counter is None else self._batch_counter.last_batch
        record = {
            "epoch": self._current_epoch,
            "batch": last_batch,
            "weights": slot,
            "rng_state": _rng_state(),
        }
        if previous:
            record["previous"] = {k: v for k, v in previous.items() if k != "previous"}
        write_bytes_atomically(self._metadata_path, json.dumps(record).encode())
        self._committed = record

    def on_train_end(self, logs=None) -> None:
        if self.delete_checkpoint and os.path.exists(self.backup_dir):
            shutil.rmtree(self.backup_dir)


def _rng_state() -> dict:
    """torch's CPU (and, once used, CUDA) generator states as base64 text."""
    encode = lambda state: base64.b64encode(state.numpy().tobytes()).decode("ascii")  # noqa: E731
    state = {"cpu": encode(torch.get_rng_state())}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = [encode(s) for s in torch.cuda.get_rng_state_all()]
    return state


def _set_rng_state(state) -> None:
    if not isinstance(state, dict):
        return
    decode = lambda text: torch.frombuffer(bytearray(base64.b64decode(text)), dtype=torch.uint8)  # noqa: E731
    torch.set_rng_state(decode(state["cpu"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([decode(text) for text in state["cuda"]])
