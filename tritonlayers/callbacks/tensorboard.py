"""`TensorBoard`: epoch (and optionally batch) scalars and weight histograms for TensorBoard.

Writes with `torch.utils.tensorboard.SummaryWriter`, which needs the `tensorboard` package.
Layout follows Keras: `log_dir/train` and `log_dir/validation`, scalars named
`epoch_<metric>` (validation metrics drop their `val_` prefix) and `batch_<metric>`.
"""

import os
import time

from .callback import Callback, to_python


def _summary_writer_class():
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as error:
        raise ImportError(
            "The TensorBoard callback needs the `tensorboard` package (used through "
            "torch.utils.tensorboard). Install it with `pip install tensorboard`."
        ) from error
    return SummaryWriter


class TensorBoard(Callback):
    """Log metrics (and weight histograms every `histogram_freq` epochs) for TensorBoard.

    `update_freq="epoch"` writes once per epoch; an integer N also writes `batch_*` scalars
    every N batches (reading the running metrics then, i.e. a GPU sync every N steps).

    Example:
    >>> import tempfile
    >>> try:
    ...     callback = TensorBoard(log_dir=tempfile.mkdtemp())
    ... except ImportError as error:
    ...     callback = None
    """

    def __init__(
        self,
        log_dir="logs",
        histogram_freq: int = 0,
        write_graph: bool = True,
        write_images: bool = False,
        write_steps_per_second: bool = False,
        update_freq="epoch",
        profile_batch=0,
        embeddings_freq: int = 0,
        embeddings_metadata=None,
    ):
        super().__init__()
        if update_freq != "epoch" and not (isinstance(update_freq, int) and update_freq > 0):
            raise ValueError(
                f"TensorBoard: `update_freq` must be 'epoch' or a positive int; received "
                f"{update_freq!r}."
            )
        unsupported = {
            "write_images": write_images,
            "profile_batch": profile_batch,
            "embeddings_freq": embeddings_freq,
            "embeddings_metadata": embeddings_metadata,
        }
        unsupported = {key: value for key, value in unsupported.items() if value}
        if unsupported:
            raise ValueError(
                f"TensorBoard: {sorted(unsupported)} are not supported by tritonlayers "
                f"(received {unsupported}); use torch.profiler for profiling."
            )
        self._writer_class = _summary_writer_class()
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = histogram_freq
        self.write_graph = write_graph
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = update_freq
        self._writers: dict = {}
        self._global_step = 0
        self._epoch_start = 0.0
        self._epoch_steps = 0

    def _writer(self, name: str):
        if name not in self._writers:
            self._writers[name] = self._writer_class(log_dir=os.path.join(self.log_dir, name))
        return self._writers[name]

    def on_train_begin(self, logs=None) -> None:
        self._global_step = 0

    def on_epoch_begin(self, epoch, logs=None) -> None:
        self._epoch_start = time.time()
        self._epoch_steps = 0

    def on_train_batch_end(self, batch, logs=None) -> None:
        self._global_step += 1
        self._epoch_steps += 1
        if self.update_freq == "epoch" or self._global_step % self.update_freq:
            return
        writer = self._writer("train")
        for key, value in (logs or {}).items():
            writer.add_scalar(f"batch_{key}", float(to_python(value)), self._global_step)

    def on_epoch_end(self, epoch, logs=None) -> None:
        logs = dict(logs or {})
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and hasattr(optimizer, "learning_rate"):
            logs.setdefault("learning_rate", float(to_python(optimizer.learning_rate)))
        if self.write_steps_per_second:
            elapsed = max(time.time() - self._epoch_start, 1e-9)
            logs["steps_per_second"] = self._epoch_steps / elapsed
        for key, value in logs.items():
            split = "validation" if key.startswith("val_") else "train"
            name = key.removeprefix("val_")
            self._writer(split).add_scalar(f"epoch_{name}", float(to_python(value)), epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            writer = self._writer("train")
            for variable in self.model.weights:
                name = getattr(variable, "path", None) or getattr(variable, "name", "weight")
                writer.add_histogram(f"{name}/histogram", variable.detach().cpu(), epoch)
        for writer in self._writers.values():
            writer.flush()

    def on_test_end(self, logs=None) -> None:
        for writer in self._writers.values():
            writer.flush()

    def on_train_end(self, logs=None) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers = {}
