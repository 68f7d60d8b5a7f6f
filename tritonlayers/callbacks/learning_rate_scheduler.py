"""`LearningRateScheduler`: set the optimizer's rate from `schedule(epoch, lr)` each epoch."""

import numpy as np

from ..io_utils import print_msg
from .callback import Callback, to_python


class LearningRateScheduler(Callback):
    """At each epoch start, set `optimizer.learning_rate = schedule(epoch, current_lr)`.

    `schedule` may also take only `epoch` (Keras's older form).

    Example:
    >>> halve_after_two = lambda epoch, lr: lr if epoch < 2 else lr * 0.5
    >>> LearningRateScheduler(halve_after_two).schedule(3, 0.1)
    0.05
    """

    def __init__(self, schedule, verbose: int = 0):
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None) -> None:
        optimizer = self.model.optimizer
        if not hasattr(optimizer, "learning_rate"):
            raise ValueError('Optimizer must have a "learning_rate" attribute.')
        current = float(to_python(optimizer.learning_rate))
        try:
            learning_rate = self.schedule(epoch, current)
        except TypeError:
            learning_rate = self.schedule(epoch)
        if not isinstance(learning_rate, (float, np.float32, np.float64)):
            raise ValueError(
                f"The output of the `schedule` function should be a float. Got: {learning_rate}"
            )
        optimizer.learning_rate = float(learning_rate)
        if self.verbose > 0:
            print_msg(
                f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to "
                f"{learning_rate}."
            )

    def on_epoch_end(self, epoch, logs=None) -> None:
        if logs is not None:
            logs["learning_rate"] = float(to_python(self.model.optimizer.learning_rate))
