"""Keras 3's progress display: `Progbar` and the `ProgbarLogger` callback.

verbose=1 redraws one line per epoch (at most every 0.05 s)::

    938/938 ━━━━━━━━━━━━━━━━━━━━ 2s 1ms/step - loss: 0.0942

verbose=2 prints one line when the epoch ends::

    938/938 - 4s - 5ms/step - loss: 0.0748

Metric values may be device tensors; they are read (a GPU sync) only when a line is drawn.
"""

import math
import sys
import time

import numpy as np

from ..io_utils import print_msg
from .callback import Callback, to_python

BOLD, GREEN, WHITE, RESET = "\x1b[1m", "\x1b[32m", "\x1b[37m", "\x1b[0m"


def format_time_per_unit(seconds: float, unit_name: str = "step") -> str:
    """` 12ms/step` style: whole seconds, milliseconds or microseconds per unit.

    Example:
    >>> format_time_per_unit(0.0042), format_time_per_unit(2.5), format_time_per_unit(3e-5)
    (' 4ms/step', ' 2s/step', ' 30us/step')
    """
    if seconds >= 1 or seconds == 0:
        return f" {seconds:.0f}s/{unit_name}"
    if seconds >= 1e-3:
        return f" {seconds * 1e3:.0f}ms/{unit_name}"
    return f" {seconds * 1e6:.0f}us/{unit_name}"


def format_value(value, signed: bool = True) -> str:
    """`0.0942` (4 decimals) or `1.2345e-04` for magnitudes at most 1e-3, as Keras prints.

    Keras's verbose=2 line compares the signed value (`signed=False`), verbose=1 its size.

    Example:
    >>> format_value(0.09421), format_value(0.000123456)
    ('0.0942', '1.2346e-04')
    """
    value = to_python(value)
    if not isinstance(value, float):
        value = float(np.mean(value))
    large = abs(value) > 1e-3 if signed else value > 1e-3
    return f"{value:.4f}" if large else f"{value:.4e}"


class Progbar:
    """A progress bar for `target` steps, drawn to stdout.

    Example:
    >>> bar = Progbar(target=2, verbose=2)
    >>> bar.update(1, [("loss", 0.5)])
    >>> bar.update(2, [("loss", 0.25)])  # doctest: +ELLIPSIS
    2/2 - 0s - ...s/step - loss: 0.2500
    """

    def __init__(
        self,
        target: int | None,
        width: int = 20,
        verbose: int = 1,
        interval=0.05,
        unit_name: str = "step",
    ):
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        # Keras redraws in place whenever it runs on a POSIX system or a terminal.
        self._dynamic_display = sys.stdout.isatty() or "posix" in sys.modules
        self._values: dict = {}
        self._start = time.time()
        self._last_update = 0.0
        self._time_after_first_step = None
        self._prev_total_width = 0

    def update(self, current: int, values=None, finalize: bool | None = None) -> None:
        """Record step `current` with `[(name, value), ...]`; draw if it is time to."""
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        for key, value in values or []:
            self._values[key] = value
        now = time.time()
        time_per_unit = self._estimate_step_duration(current, now)
        if self.verbose == 1:
            if now - self._last_update < self.interval and not finalize:
                return
            self._draw_bar(current, now, time_per_unit, finalize)
        elif self.verbose == 2 and finalize and self.target:
            digits = int(math.log10(self.target)) + 1
            line = f"{current:{digits}d}/{self.target} - {now - self._start:.0f}s -"
            line += format_time_per_unit(time_per_unit, self.unit_name)
            line += self._metrics_text(signed=False)
            _write(line + "\n")
        self._last_update = now

    def _draw_bar(self, current, now, time_per_unit, finalize) -> None:
        message = "\b" * self._prev_total_width + "\r" if self._dynamic_display else "\n"
        hidden = 0  # characters of ANSI escapes, which take no width on screen
        if self.target:
            digits = int(math.log10(self.target)) + 1
            bar = f"{BOLD}{current:{digits}d}/{self.target}{RESET} "
            hidden += 8
            done = int(self.width * current / self.target)
            if done > 0:
                bar += f"{GREEN}{'━' * done}{RESET}"
                hidden += 9
            bar += f"{WHITE}{'━' * (self.width - done)}{RESET}"
            hidden += 9
        else:
            bar = f"{current:7d}/Unknown"
        if self.target and not finalize:
            eta = time_per_unit * (self.target - current)
            if eta > 3600:
                eta_text = f"{int(eta // 3600)}:{int((eta % 3600) // 60):02d}:{int(eta % 60):02d}"
            elif eta > 60:
                eta_text = f"{int(eta // 60)}:{int(eta % 60):02d}"
            else:
                eta_text = f"{int(eta)}s"
            info = f" {BOLD}{eta_text}{RESET}"
        else:
            info = f" {BOLD}{now - self._start:.0f}s{RESET}"
        hidden += 8
        info += format_time_per_unit(time_per_unit, self.unit_name)
        info += self._metrics_text(signed=True)
        total_width = len(bar) + len(info) - hidden
        message += bar + info
        if self._prev_total_width > total_width:
            message += " " * (self._prev_total_width - total_width)
        if finalize:
            message += "\n"
        _write(message)
        self._prev_total_width = total_width

    def _metrics_text(self, signed: bool) -> str:
        return "".join(
            f" - {key}: {format_value(value, signed)}" for key, value in self._values.items()
        )

    def _estimate_step_duration(self, current: int, now: float) -> float:
        if not current:
            return 0.0
        if self._time_after_first_step is not None and current > 1:
            per_unit = (now - self._time_after_first_step) / (current - 1)
        else:
            per_unit = (now - self._start) / current
        if current == 1:
            self._time_after_first_step = now
        return per_unit


def _write(message: str) -> None:
    # stdout, or the "tritonlayers" logger after `keras.utils.disable_interactive_logging()`.
    print_msg(message, line_break=False)


class ProgbarLogger(Callback):
    """Prints `Epoch i/n` and a progress line per epoch (added by `fit` when verbose != 0).

    Example:
    >>> logger = ProgbarLogger()
    >>> logger.set_params({"verbose": 2, "epochs": 2, "steps": 1})
    >>> logger.on_train_begin()
    >>> logger.on_epoch_begin(0)
    Epoch 1/2
    >>> logger.on_train_batch_end(0, {"loss": 0.5})
    >>> logger.on_epoch_end(0, {"loss": 0.5})  # doctest: +ELLIPSIS
    1/1 - 0s - ...s/step - loss: 0.5000
    """

    def __init__(self):
        super().__init__()
        self.seen = 0
        self.progbar: Progbar | None = None
        self.target: int | None = None
        self.verbose = 1
        self.epochs = 1
        self._called_in_fit = False

    def set_params(self, params: dict) -> None:
        super().set_params(params)
        verbose = params.get("verbose", 1)
        # "auto" (kept as such in `History.params`, as Keras keeps it) draws the live bar on
        # a terminal and one line per epoch in logs and notebooks' captured output.
        if verbose == "auto":
            verbose = 1 if sys.stdout.isatty() else 2
        self.verbose = verbose
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def on_train_begin(self, logs=None) -> None:
        self._called_in_fit = True

    def on_test_begin(self, logs=None) -> None:
        if not self._called_in_fit:
            self._reset()

    def on_predict_begin(self, logs=None) -> None:
        self._reset()

    def on_epoch_begin(self, epoch, logs=None) -> None:
        self._reset()
        if self.verbose and self.epochs > 1:
            _write(f"Epoch {epoch + 1}/{self.epochs}\n")

    def on_train_batch_end(self, batch, logs=None) -> None:
        self._update(batch, logs)

    def on_test_batch_end(self, batch, logs=None) -> None:
        if not self._called_in_fit:
            self._update(batch, logs)

    def on_predict_batch_end(self, batch, logs=None) -> None:
        self._update(batch, None)

    def on_epoch_end(self, epoch, logs=None) -> None:
        self._finalize(logs)

    def on_test_end(self, logs=None) -> None:
        if not self._called_in_fit:
            self._finalize(logs)

    def on_predict_end(self, logs=None) -> None:
        self._finalize(logs)

    def _reset(self) -> None:
        self.seen = 0
        self.progbar = Progbar(target=self.target, verbose=self.verbose)

    def _update(self, batch: int, logs) -> None:
        if self.progbar is None:
            self._reset()
        self.seen = batch + 1
        if self.verbose == 1:
            # Batch logs arrive flat and sorted already (`CallbackList`), as in Keras.
            self.progbar.update(self.seen, list((logs or {}).items()), finalize=False)

    def _finalize(self, logs) -> None:
        if self.progbar is None:
            self._reset()
        if self.target is None:
            self.target = self.seen
            self.progbar.target = self.seen
        # Epoch and end-of-evaluation logs arrive sorted already (`pythonify_logs`), followed
        # by what callbacks added (`learning_rate`): printed in that order, as in Keras.
        self.progbar.update(self.target, list((logs or {}).items()), finalize=True)
