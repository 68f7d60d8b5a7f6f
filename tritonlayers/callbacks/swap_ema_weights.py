"""`SwapEMAWeights`: evaluate (and optionally checkpoint) with the optimizer's moving averages."""

import torch

from .callback import Callback


class SwapEMAWeights(Callback):
    """Swap the optimizer's EMA weights into the model for evaluation and prediction.

    Use it with an optimizer built with `use_ema=True`. Before `evaluate` (or the validation
    pass of `fit`) and `predict`, each trainable variable trades values, in place and on its
    device, with its moving average; afterwards they trade back. With `swap_on_epoch=True`
    the model also holds the EMA weights between `on_epoch_end` and the next
    `on_epoch_begin`, so callbacks placed after this one (e.g. `ModelCheckpoint`) see them.

    Args:
        swap_on_epoch: also swap at the end of each epoch and back at the start of the next.

    Example:
    >>> import numpy as np, tritonlayers as keras
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile(optimizer=keras.optimizers.SGD(0.1, use_ema=True), loss="mse")
    >>> x, y = np.ones((8, 2), "float32"), np.zeros((8, 1), "float32")
    >>> _ = model.fit(x, y, epochs=2, verbose=0)
    >>> loss = model.evaluate(x, y, verbose=0, callbacks=[SwapEMAWeights()])
    >>> isinstance(loss, float)
    True
    """

    def __init__(self, swap_on_epoch: bool = False):
        super().__init__()
        self.swap_on_epoch = swap_on_epoch
        self._ema_weights_in_model = False

    def _ema_optimizer(self):
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None:
            raise ValueError(
                "SwapEMAWeights needs a compiled model whose optimizer has `use_ema=True`; "
                "the model has no optimizer. Call `model.compile(optimizer=...)` first."
            )
        optimizer = getattr(optimizer, "inner_optimizer", optimizer)
        if not getattr(optimizer, "use_ema", False):
            raise ValueError(
                "SwapEMAWeights must be used when `use_ema=True` is set on the optimizer. "
                f"Received: use_ema={getattr(optimizer, 'use_ema', None)}"
            )
        if "average" not in optimizer._slots:
            raise ValueError(
                "SwapEMAWeights found no moving averages: the optimizer has not been built. "
                "Train the model first, or call `optimizer.build(model.trainable_variables)`."
            )
        return optimizer

    def _swap_variables(self) -> None:
        optimizer = self._ema_optimizer()
        with torch.no_grad():
            for variable, average in zip(
                optimizer._trainable_variables, optimizer._slots["average"]
            ):
                held = variable.detach().clone()
                variable.copy_(average)
                average.copy_(held)

    def _finalize_ema_values(self) -> None:
        """Make the averages equal the (swapped-in) EMA weights, so that `fit`'s closing
        `finalize_variable_values` leaves the EMA weights in the model."""
        optimizer = self._ema_optimizer()
        with torch.no_grad():
            for variable, average in zip(
                optimizer._trainable_variables, optimizer._slots["average"]
            ):
                average.copy_(variable)

    def _swap_in(self) -> None:
        if not self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = True

    def _swap_out(self) -> None:
        if self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = False

    def on_epoch_begin(self, epoch, logs=None) -> None:
        if self.swap_on_epoch:
            self._swap_out()

    def on_epoch_end(self, epoch, logs=None) -> None:
        if self.swap_on_epoch and not self._ema_weights_in_model:
            self._swap_in()
            last_epoch = epoch == self.params.get("epochs", 0) - 1
            if last_epoch or getattr(self.model, "stop_training", False):
                self._finalize_ema_values()

    def on_test_begin(self, logs=None) -> None:
        self._swap_in()

    def on_test_end(self, logs=None) -> None:
        self._swap_out()

    def on_predict_begin(self, logs=None) -> None:
        self._swap_in()

    def on_predict_end(self, logs=None) -> None:
        self._swap_out()
