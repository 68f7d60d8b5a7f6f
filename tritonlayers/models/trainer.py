"""compile / fit / evaluate / predict for `Model`, with Keras 3's signatures and logs.

The loop is built for speed: the data sits on the device (see `data_adapters`), a step is
forward, loss, `backward()` and `optimizer.step(trainable_variables)`, and the running loss
and metrics stay on the device. Nothing in a step reads a tensor back to the host; the
progress bar converts logs to floats only when it prints, and epoch logs are read once
per epoch. `compile(jit_compile=True)` traces the forward pass and loss with
`torch.compile`.

Example:
>>> import numpy as np
>>> import tritonlayers as keras
>>> model = keras.Sequential([keras.layers.Dense(1)])
>>> model.compile(optimizer="sgd", loss="mse")
>>> history = model.fit(np.ones((8, 2)), np.ones((8, 1)), epochs=2, verbose=0)
>>> history.epoch
[0, 1]
"""

import contextlib
import inspect
import warnings
from typing import Any

import numpy as np
import torch

from .. import config
from . import tree
from .compile_utils import CompileLoss, CompileMetrics, detached_predictions
from .cuda_graphs import GraphedTrainStep
from .data_adapters import (
    IteratorDataAdapter,
    get_data_adapter,
    pack_x_y_sample_weight,
    to_device_tensor,
    train_validation_split,
    unpack_x_y_sample_weight,
)


class LossTracker:
    """The running mean of a loss over the samples seen, kept on the device.

    Example:
    >>> import torch
    >>> tracker = LossTracker("loss")
    >>> tracker.update_state(torch.tensor(2.0), 3); tracker.update_state(torch.tensor(4.0), 1)
    >>> float(tracker.result())
    2.5
    """

    def __init__(self, name: str):
        self.name = name
        self._total = None
        self._count = 0

    def update_state(self, value: torch.Tensor, batch_size: int = 1) -> None:
        self.add_total(value, batch_size)
        self.add_count(batch_size)

    def add_total(self, value: torch.Tensor, batch_size: int) -> None:
        """The device half of `update_state` (what a captured CUDA graph replays)."""
        value = value.detach()
        if self._total is None:
            self._total = torch.zeros((), dtype=torch.float32, device=value.device)
        self._total.add_(value, alpha=batch_size)

    def add_count(self, batch_size: int) -> None:
        """The host half of `update_state`: the number of samples seen."""
        self._count += batch_size

    def result(self) -> torch.Tensor:
        if self._total is None:
            return torch.zeros((), dtype=torch.float32, device=config.device())
        return self._total / max(self._count, 1)

    def reset_state(self) -> None:
        if self._total is not None:
            self._total.zero_()
        self._count = 0


def _device_batch(x: Any, y: Any, sample_weight: Any) -> tuple:
    """A batch handed to a step directly (NumPy or tensors) as tensors on the model's device."""
    device = config.device()

    def convert(value):
        if value is None:
            return None
        return tree.map_structure(lambda leaf: to_device_tensor(leaf, device), value)

    return convert(x), convert(y), convert(sample_weight)


def _resolve_verbose(verbose: Any) -> "int | str":
    """Keras 3 keeps "auto" as is (so `History.params["verbose"]` reads "auto") and its
    progress logger draws it as verbose=1, whether or not stdout is a terminal."""
    if verbose == "auto":
        return verbose
    return int(verbose)


def _batch_size(x: Any) -> int:
    if isinstance(x, torch.Tensor):
        return x.shape[0]
    return tree.flatten(x)[0].shape[0]


def _to_numpy(structure: Any) -> Any:
    return tree.map_structure(lambda t: t.detach().cpu().numpy(), structure)


def _flat_logs(logs: dict) -> dict:
    """`logs` ordered by name with nested dicts flattened in place (Keras's pythonify_logs)."""
    flat = {}
    for key, value in sorted(logs.items()):
        flat.update(_flat_logs(value) if isinstance(value, dict) else {key: value})
    return flat


def _leaves(logs: dict, path: tuple = ()) -> list:
    """`(path, value)` for every non-dict value of `logs`, nested dicts walked in place."""
    found = []
    for key, value in logs.items():
        if isinstance(value, dict):
            found.extend(_leaves(value, (*path, key)))
        else:
            found.append(((*path, key), value))
    return found


def _floats(logs: dict) -> dict:
    """Logs as Python numbers, in their own order and nesting (the callbacks sort and flatten
    them as Keras's do, so a custom step's `compile_metrics` dict is logged at its name's
    place): device scalars are read back together in one transfer; a non-scalar metric
    result becomes a list."""
    leaves = _leaves(logs)
    scalars = [
        (path, v.detach().float().reshape(()))
        for path, v in leaves
        if isinstance(v, torch.Tensor) and v.numel() == 1
    ]
    converted = {}
    if scalars:
        device = scalars[0][1].device
        values = torch.stack([v.to(device) for _, v in scalars]).tolist()
        converted.update(zip([path for path, _ in scalars], values))
    out: dict = {}
    for path, value in leaves:
        if path not in converted:
            value = value.tolist() if isinstance(value, torch.Tensor) else float(value)
        node = out
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = converted.get(path, value)
    return out


def _merged_results(metrics: list) -> dict:
    """Each metric's result by name; a dict-valued result (`compile_metrics`) is merged in."""
    results = {}
    for metric in metrics:
        result = metric.result()
        results.update(result if isinstance(result, dict) else {metric.name: result})
    return results


class Trainer:
    """The training API mixed into `Model`: compile, fit, evaluate, predict and friends."""

    def _init_trainer(self) -> None:
        # Trainer state goes straight into __dict__: Layer.__setattr__ would track the
        # optimizer's variables and the parameter list as the model's own state.
        self.__dict__.update(
            compiled=False,
            optimizer=None,
            loss=None,
            stop_training=False,
            history=None,
            run_eagerly=False,
            jit_compile=False,
            _cuda_graphs=False,
            steps_per_execution=1,
            _compile_config=None,
            _compile_loss=None,
            _compile_metrics=None,
            _loss_tracker=LossTracker("loss"),
            _output_loss_trackers=[],
            _trainable_params=None,
            _compiled_forward=None,
            _compute_loss_takes_training=True,
        )

    # ------------------------------------------------------------------ compile

    def compile(
        self,
        optimizer: Any = "rmsprop",
        loss: Any = None,
        loss_weights: Any = None,
        metrics: Any = None,
        weighted_metrics: Any = None,
        run_eagerly: bool = False,
        steps_per_execution: int = 1,
        jit_compile: "bool | str" = "auto",
        auto_scale_loss: bool = True,
    ) -> None:
        """Configure the model for training.

        Args:
            optimizer: name or `optimizers.Optimizer` instance.
            loss: name, `losses.Loss`, function, or a list/dict of them (one per output).
                May be None when the model adds its own losses with `add_loss`.
            loss_weights: scalar coefficients per output (list or dict).
            metrics: metrics (names or objects) to report, per output for multi-output models.
            weighted_metrics: metrics that take `sample_weight` into account.
            run_eagerly: never trace the step (overrides `jit_compile`).
            steps_per_execution: training steps between two batch callbacks.
            jit_compile: True traces forward and loss with `torch.compile`; "auto" replays
                `fit`'s training step as a CUDA graph on CUDA devices (see `cuda_graphs`)
                and runs eagerly elsewhere; False always runs eagerly.
            auto_scale_loss: under the "mixed_float16" dtype policy, wrap the optimizer in
                a `LossScaleOptimizer` (dynamic loss scaling against float16 underflow).

        Example:
        >>> import tritonlayers as keras
        >>> model = keras.Sequential([keras.layers.Dense(1)])
        >>> model.compile(optimizer="adam", loss="mse", metrics=["mae"])
        """
        from .. import optimizers

        if jit_compile not in (True, False, "auto"):
            raise ValueError(
                f"`jit_compile` must be True, False or 'auto'; received {jit_compile!r}."
            )
        if int(steps_per_execution) < 1:
            raise ValueError(
                f"`steps_per_execution` must be a positive integer; received {steps_per_execution}."
            )
        output_names = getattr(self, "output_names", None)
        optimizer_object = optimizers.get(optimizer)
        if (
            auto_scale_loss
            and self.dtype_policy.name == "mixed_float16"
            and not isinstance(optimizer_object, optimizers.LossScaleOptimizer)
        ):
            optimizer_object = optimizers.LossScaleOptimizer(
                optimizer_object, name="loss_scale_optimizer"
            )
        # As in Keras, recompiling without `loss` (or without any metrics) keeps the loss
        # (or the metrics) of the previous `compile()`: only the optimizer changes.
        previous = self.__dict__ if self.__dict__.get("compiled") else {}
        if loss is None and previous.get("_compile_loss") is not None:
            effective_loss, compile_loss = previous["loss"], previous["_compile_loss"]
        else:
            effective_loss = loss
            compile_loss = None if loss is None else CompileLoss(loss, loss_weights, output_names)
        if (
            metrics is None
            and weighted_metrics is None
            and previous.get("_compile_metrics") is not None
        ):
            compile_metrics = previous["_compile_metrics"]
        else:
            compile_metrics = CompileMetrics(
                metrics, weighted_metrics, output_names, loss=effective_loss
            )
        self.__dict__.update(
            optimizer=optimizer_object,
            loss=effective_loss,
            _compile_loss=compile_loss,
            _compile_metrics=compile_metrics,
            _compile_config={
                "optimizer": optimizer,
                "loss": loss,
                "loss_weights": loss_weights,
                "metrics": _serialize_metric_objects(metrics),
                "weighted_metrics": _serialize_metric_objects(weighted_metrics),
                "run_eagerly": run_eagerly,
                "steps_per_execution": steps_per_execution,
                "jit_compile": jit_compile,
            },
            run_eagerly=bool(run_eagerly),
            jit_compile=jit_compile is True and not run_eagerly,
            _cuda_graphs=jit_compile == "auto" and not run_eagerly,
            steps_per_execution=int(steps_per_execution),
            _loss_tracker=LossTracker("loss"),
            _output_loss_trackers=[],
            _trainable_params=None,
            _compiled_forward=None,
            _compute_loss_takes_training=_takes_training(self.compute_loss),
            compiled=True,
        )

    def _assert_compiled(self, method: str) -> None:
        if not self.compiled:
            raise ValueError(
                f"You must call `compile()` before using the model. Received: `{method}()` on "
                f"model '{self.name}' that was never compiled."
            )

    # ------------------------------------------------------------------ metrics

    @property
    def metrics(self) -> list:
        """As Keras lists them: the loss tracker, the compiled metrics as one `compile_metrics`
        entry (when `compile()` got `metrics` or `weighted_metrics`, even empty), the
        per-output loss trackers, then the metric objects held as attributes of the model
        and of its layers (the layers of a nested model count, the nested model's own
        trackers do not).

        So a custom `train_step` that calls `update_state(y, y_pred, sample_weight)` on each
        of them updates `compile_metrics` as a whole, which weighs only the
        `weighted_metrics`; its result is a dict that the logs flatten in its place (`mae`
        before `loss`).

        Example:
        >>> import tritonlayers as keras
        >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        >>> model.compile(loss="mse", metrics=["mae"])
        >>> [metric.name for metric in model.metrics]
        ['loss', 'compile_metrics']
        """
        held = self._own_metrics()
        for layer in self._flatten_layers(include_self=False):
            if not isinstance(layer, Trainer):
                held.extend(layer._own_metrics())
        if not self.compiled:
            return held
        compiled = self._compile_metrics
        listed = compiled is not None and (
            compiled.metrics_arg is not None or compiled.weighted_metrics_arg is not None
        )
        compiled = [compiled] if listed else []
        return [self._loss_tracker, *compiled, *self._output_loss_trackers, *held]

    @property
    def metrics_names(self) -> list:
        """Names of `metrics`, as they appear in the logs."""
        return [metric.name for metric in self.metrics]

    def reset_metrics(self) -> None:
        """Reset every metric in `metrics`."""
        for metric in self.metrics:
            metric.reset_state()

    def get_metrics_result(self) -> dict:
        """Every metric's current result by name (a dict-valued result is merged in).

        Example:
        >>> import numpy as np, tritonlayers as keras
        >>> model = keras.Sequential([keras.layers.Dense(1, kernel_initializer="zeros")])
        >>> model.compile(loss="mse", metrics=["mae"])
        >>> _ = model.evaluate(np.ones((4, 2)), np.ones((4, 1)), verbose=0)
        >>> {name: float(value) for name, value in model.get_metrics_result().items()}
        {'loss': 1.0, 'mae': 1.0}
        """
        return _merged_results(self.metrics)

    def compute_metrics(self, x: Any, y: Any, y_pred: Any, sample_weight: Any = None) -> dict:
        """Update the compiled metrics with one batch; return `get_metrics_result()`.

        The default `train_step` and `test_step` call it after the loss, so a subclass can
        override it to update metrics of its own (as in Keras).

        Example:
        >>> import torch, tritonlayers as keras
        >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        >>> model.compile(loss="mse", metrics=["mae"])
        >>> logs = model.compute_metrics(None, torch.ones(2, 1), torch.zeros(2, 1))
        >>> float(logs["mae"])
        1.0
        """
        if y is not None and self._compile_metrics is not None:
            with torch.no_grad():
                self._compile_metrics.update_state(y, detached_predictions(y_pred), sample_weight)
        return self.get_metrics_result()

    # ------------------------------------------------------------------ one step

    def compute_loss(
        self,
        x: Any = None,
        y: Any = None,
        y_pred: Any = None,
        sample_weight: Any = None,
        training: bool = True,
    ) -> torch.Tensor:
        """The compiled loss (weighted over outputs) plus the sum of `self.losses`.

        Example:
        >>> import torch, tritonlayers as keras
        >>> model = keras.Sequential([keras.layers.Dense(1)])
        >>> model.compile(loss="mse")
        >>> float(model.compute_loss(y=torch.ones(2, 1), y_pred=torch.zeros(2, 1)))
        1.0
        """
        total = None
        if self._compile_loss is not None and y is not None:
            total = self._compile_loss(y, y_pred, sample_weight)
        for value in self.losses:
            total = value if total is None else total + value
        if total is None:
            raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`.")
        return total

    def train_step(self, data: Any) -> dict:
        """One training step on one batch; returns the logs. Override it to customize `fit`.

        `data` is the batch as Keras passes it: `x`, `(x, y)` or `(x, y, sample_weight)`.
        The default runs the compiled loss, the optimizer and the compiled metrics.

        Example:
        >>> import numpy as np, tritonlayers as keras
        >>> model = keras.Sequential([keras.layers.Dense(1, kernel_initializer="zeros")])
        >>> model.compile(optimizer="sgd", loss="mse")
        >>> float(model.train_step((np.ones((2, 3), "float32"), np.ones((2, 1))))["loss"])
        1.0
        """
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        if self._trainable_params is None:
            self._prepare_training()
        self._train_step(*_device_batch(x, y, sample_weight))
        return self.get_metrics_result()

    def test_step(self, data: Any) -> dict:
        """One evaluation step on one batch; returns the logs. Override it to customize
        `evaluate` and `fit`'s validation (`data` as in `train_step`)."""
        self._test_step(*_device_batch(*unpack_x_y_sample_weight(data)))
        return self.get_metrics_result()

    def predict_step(self, data: Any) -> Any:
        """The model's outputs on one batch. Override it to customize `predict`."""
        x, _, _ = unpack_x_y_sample_weight(data)
        return self(x, training=False)

    def _overrides(self, name: str) -> bool:
        """Whether the model's class replaces the step `name`, as Keras users do."""
        return getattr(type(self), name) is not getattr(Trainer, name)

    def _user_step(self, name: str):
        """An overridden `train_step`/`test_step` called the way the loop calls its own."""
        step = getattr(self, name)
        return lambda x, y, sample_weight: step(pack_x_y_sample_weight(x, y, sample_weight))

    def _step_loss(self, x: Any, y: Any, y_pred: Any, sample_weight: Any, training: bool):
        """`compute_loss`, given `training` only when it takes that argument, as in Keras
        (an override written as `compute_loss(self, x, y, y_pred, sample_weight)` works)."""
        if self._compute_loss_takes_training:
            return self.compute_loss(x, y, y_pred, sample_weight, training=training)
        return self.compute_loss(x, y, y_pred, sample_weight)

    def _forward_and_loss(self, x: Any, y: Any, sample_weight: Any) -> tuple:
        y_pred = self(x, training=True)
        return self._step_loss(x, y, y_pred, sample_weight, training=True), y_pred

    def _train_step(self, x: Any, y: Any, sample_weight: Any) -> None:
        forward = self._compiled_forward or self._forward_and_loss
        loss, y_pred = forward(x, y, sample_weight)
        if loss.requires_grad:
            params = self._trainable_params
            if params is None:
                params = self.__dict__["_trainable_params"] = list(self.trainable_variables)
            # Gradients left by the user's own `backward()` (a custom loop before `fit`)
            # must not add to this step's: Keras zeroes them first too.
            for param in params:
                param.grad = None
            self.optimizer.scale_loss(loss).backward()
            self.optimizer.step(params)
        elif not self.__dict__.get("_warned_no_weights"):
            self.__dict__["_warned_no_weights"] = True
            warnings.warn("The model does not have any trainable weights.", stacklevel=4)
        self._track(loss, x, y, y_pred, sample_weight)

    def _test_step(self, x: Any, y: Any, sample_weight: Any) -> None:
        y_pred = self(x, training=False)
        loss = self._step_loss(x, y, y_pred, sample_weight, training=False)
        self._track(loss, x, y, y_pred, sample_weight)

    def _track(self, loss, x, y, y_pred, sample_weight) -> None:
        batch_size = _batch_size(x)
        self._loss_tracker.update_state(loss, batch_size)
        compile_loss = self._compile_loss
        if compile_loss is not None and len(compile_loss.per_output) > 1:
            if not self._output_loss_trackers:
                self.__dict__["_output_loss_trackers"] = [
                    LossTracker(f"{entry[3]}_loss") for entry in compile_loss.entries
                ]
            for tracker, value in zip(self._output_loss_trackers, compile_loss.per_output):
                tracker.update_state(value, batch_size)
        if self._overrides("compute_metrics"):
            self.compute_metrics(x, y, y_pred, sample_weight)
        elif y is not None and self._compile_metrics.entries != []:
            with torch.no_grad():
                self._compile_metrics.update_state(y, detached_predictions(y_pred), sample_weight)

    def _check_buildable(self, x: Any) -> None:
        """Keras builds an unbuilt model, and its compiled loss and metrics, by calling it on
        the first batch before fit/evaluate run, so a model without `call` fails there (in a
        RuntimeError) even when its custom steps never call it: unless it is built and
        compiled without a loss or metrics (a GAN that sets `self.built = True`)."""
        from .model import MissingCallError

        if not self._unbuildable():
            return
        try:
            self(x, training=False)
        except MissingCallError as error:
            raise RuntimeError(
                "Unable to automatically build the model. Please build it yourself before "
                "calling fit/evaluate/predict. A model is 'built' when its variables have been "
                "created and its `self.built` attribute is True. Usually, calling the model on "
                f"a batch of data is the right way to build it.\nException encountered:\n'{error}'"
            ) from None

    def _unbuildable(self) -> bool:
        """Whether `_check_buildable` must call the model, which then has no `call`."""
        from .model import Model

        if type(self).call is not Model.call:
            return False
        config = self._compile_config
        compiled_outputs = self._compile_loss is not None or any(
            config.get(key) for key in ("metrics", "weighted_metrics")
        )
        return compiled_outputs or not all(layer.built for layer in self._flatten_layers())

    def _check_buildable_first(self, adapter: Any) -> None:
        """`_check_buildable` on the first batch before any callback runs, as Keras builds
        the model before `on_train_begin`/`on_test_begin` (no "Epoch 1/2" line precedes
        the error). A batch is read only when the check is bound to fail."""
        if self._unbuildable():
            first = next(iter(adapter.epoch()), None)
            if first is not None:
                self._check_buildable(first[0])

    def _build_optimizer(self) -> None:
        """Build the compiled optimizer over a built model's trainable variables before the
        first step, as Keras does in fit and evaluate, even for a custom `train_step` that
        steps optimizers of its own (a GAN's): its state shows in `summary()`."""
        if self.optimizer is not None and not self.optimizer.built and self.built:
            self.optimizer.build(self.trainable_variables)

    def _prepare_training(self) -> None:
        self.__dict__["_trainable_params"] = list(self.trainable_variables) if self.built else None
        self._build_optimizer()
        if self.jit_compile and self._compiled_forward is None:
            self.__dict__["_compiled_forward"] = torch.compile(self._forward_and_loss)

    # ------------------------------------------------------------------ fit

    def fit(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: "int | None" = None,
        epochs: int = 1,
        verbose: "str | int" = "auto",
        callbacks: "list | None" = None,
        validation_split: float = 0.0,
        validation_data: Any = None,
        shuffle: "bool | str" = True,
        class_weight: "dict | None" = None,
        sample_weight: Any = None,
        initial_epoch: int = 0,
        steps_per_epoch: "int | None" = None,
        validation_steps: "int | None" = None,
        validation_batch_size: "int | None" = None,
        validation_freq: "int | list" = 1,
    ):
        """Train the model for `epochs` epochs; returns the `History` callback.

        Example:
        >>> import numpy as np, tritonlayers as keras
        >>> model = keras.Sequential([keras.layers.Dense(1)])
        >>> model.compile(optimizer="adam", loss="mse")
        >>> history = model.fit(np.ones((4, 2)), np.ones((4, 1)), validation_split=0.5, verbose=0)
        >>> sorted(history.history)
        ['loss', 'val_loss']
        """
        from .. import callbacks as callbacks_module

        self._assert_compiled("fit")
        if validation_split and validation_data is None:
            (x, y, sample_weight), validation_data = train_validation_split(
                (x, y, sample_weight), validation_split
            )
        batch_size = batch_size or (None if steps_per_epoch else 32)
        adapter = get_data_adapter(
            x,
            y,
            sample_weight,
            batch_size=batch_size or 32,
            shuffle=shuffle,
            class_weight=class_weight,
        )
        val_adapter = None
        if validation_data is not None:
            val_x, val_y, val_sw = unpack_x_y_sample_weight(validation_data)
            val_adapter = get_data_adapter(
                val_x, val_y, val_sw, batch_size=validation_batch_size or batch_size or 32
            )
            if not validation_steps and isinstance(val_adapter, IteratorDataAdapter):
                val_adapter.record_first_pass()
        self._check_buildable_first(adapter)
        verbose = _resolve_verbose(verbose)
        steps = steps_per_epoch or adapter.num_batches
        callback_list = callbacks_module.CallbackList(
            callbacks,
            add_history=True,
            add_progbar=verbose != 0,
            model=self,
            verbose=verbose,
            epochs=epochs,
            steps=steps,
        )
        self.stop_training = False
        self._prepare_training()
        train_step = self._train_step
        if self._overrides("train_step"):
            train_step = self._user_step("train_step")
        elif self._cuda_graphs and config.device().type == "cuda":
            train_step = GraphedTrainStep(self)
        callback_list.on_train_begin()
        # BackupAndRestore (in on_train_begin) sets the first epoch of a resumed run.
        initial_epoch = self.__dict__.pop("_initial_epoch", None) or initial_epoch
        training_logs = None
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            callback_list.on_epoch_begin(epoch)
            self.train()
            step_logs = self._run_steps(
                adapter.steps(steps_per_epoch),
                train_step,
                callback_list,
                "train",
                stop_on_request=True,
            )
            epoch_logs = _floats(step_logs if step_logs is not None else self.get_metrics_result())
            if val_adapter is not None and _should_validate(epoch, validation_freq):
                val_adapter.restart()
                val_logs = self._evaluate_adapter(val_adapter, callback_list, validation_steps)
                epoch_logs.update({f"val_{name}": value for name, value in val_logs.items()})
            callback_list.on_epoch_end(epoch, epoch_logs)
            training_logs = epoch_logs
            if self.stop_training or adapter.exhausted:
                break
        if self.optimizer is not None:
            self.optimizer.finalize_variable_values(self.trainable_variables)
        callback_list.on_train_end(logs=training_logs)
        return self.history

    def _run_steps(self, batches, step, callback_list, mode: str, stop_on_request=False):
        """Run `step` on each batch between the batch callbacks; returns the logs the last
        step returned (None from the built-in steps, whose logs are `metrics`' results)."""
        begin = getattr(callback_list, f"on_{mode}_batch_begin")
        end = getattr(callback_list, f"on_{mode}_batch_end")
        every = self.steps_per_execution
        logs, metrics = None, None
        for index, (x, y, sample_weight) in enumerate(batches):
            if index % every == 0:
                begin(index)
            logs = step(x, y, sample_weight)
            if (index + 1) % every == 0:
                if logs is None and metrics is None:
                    # Listed once, after the first step has built the compiled metrics:
                    # `metrics` walks every layer for held trackers.
                    metrics = self.metrics
                end(index, logs if logs is not None else _merged_results(metrics))
            if stop_on_request and self.stop_training:
                break
        return logs

    # ------------------------------------------------------------------ evaluate

    def evaluate(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: "int | None" = None,
        verbose: "str | int" = "auto",
        sample_weight: Any = None,
        steps: "int | None" = None,
        callbacks: "list | None" = None,
        return_dict: bool = False,
    ):
        """The loss and metrics on the data (`training=False`): a scalar, a list in
        `metrics_names` order, or a dict with `return_dict=True`.

        Example:
        >>> import numpy as np, tritonlayers as keras
        >>> model = keras.Sequential([keras.layers.Dense(1, kernel_initializer="zeros")])
        >>> model.compile(loss="mse")
        >>> model.evaluate(np.ones((4, 2)), np.ones((4, 1)), verbose=0)
        1.0
        """
        from .. import callbacks as callbacks_module

        self._assert_compiled("evaluate")
        self._build_optimizer()
        adapter = get_data_adapter(x, y, sample_weight, batch_size=batch_size or 32)
        self._check_buildable_first(adapter)
        verbose = _resolve_verbose(verbose)
        callback_list = callbacks_module.CallbackList(
            callbacks,
            add_progbar=verbose != 0,
            model=self,
            verbose=verbose,
            epochs=1,
            steps=steps or adapter.num_batches,
        )
        logs = self._evaluate_adapter(adapter, callback_list, steps)
        return logs if return_dict else self._values_in_order(logs)

    def _values_in_order(self, logs: dict):
        """The logs as Keras lists them: `metrics_names` order, then any other key by name;
        a single value on its own. As in Keras, the compiled metrics of a model with several
        outputs (`a_mae`, named by output) come among the other keys, by name."""
        names = []
        for metric in self.metrics:
            if isinstance(metric, CompileMetrics):
                if len(getattr(metric, "_keys", ())) <= 1:
                    names.extend(m.name for m in metric.metrics if m.name in logs)
            elif metric.name in logs:
                names.append(metric.name)
        values = [logs[name] for name in names]
        values += [logs[key] for key in sorted(logs) if key not in names]
        return values[0] if len(values) == 1 else values

    def _evaluate_adapter(self, adapter, callback_list, steps: "int | None") -> dict:
        self.reset_metrics()
        callback_list.on_test_begin()
        step = self._user_step("test_step") if self._overrides("test_step") else self._test_step
        with _inference(self):
            step_logs = self._run_steps(adapter.steps(steps), step, callback_list, "test")
        logs = _flat_logs(
            _floats(step_logs if step_logs is not None else self.get_metrics_result())
        )
        callback_list.on_test_end(logs)
        return logs

    # ------------------------------------------------------------------ predict

    def predict(
        self,
        x: Any,
        batch_size: "int | None" = None,
        verbose: "str | int" = "auto",
        steps: "int | None" = None,
        callbacks: "list | None" = None,
    ):
        """The model's outputs on `x` (`training=False`), batched, as NumPy arrays.

        Example:
        >>> import numpy as np, tritonlayers as keras
        >>> model = keras.Sequential([keras.layers.Dense(3)])
        >>> model.predict(np.ones((5, 2)), batch_size=2, verbose=0).shape
        (5, 3)
        """
        from .. import callbacks as callbacks_module

        adapter = get_data_adapter(x, batch_size=batch_size or 32)
        verbose = _resolve_verbose(verbose)
        callback_list = callbacks_module.CallbackList(
            callbacks,
            add_progbar=verbose != 0,
            model=self,
            verbose=verbose,
            epochs=1,
            steps=steps or adapter.num_batches,
        )
        callback_list.on_predict_begin()
        outputs = []
        with _inference(self):
            for index, (batch_x, _, _) in enumerate(adapter.steps(steps)):
                callback_list.on_predict_batch_begin(index)
                batch_out = self.predict_step(pack_x_y_sample_weight(batch_x))
                outputs.append(batch_out)
                callback_list.on_predict_batch_end(index, {"outputs": batch_out})
        callback_list.on_predict_end()
        if not outputs:
            raise ValueError("`predict` received no batches: the input holds no samples.")
        leaves = [torch.cat(parts) for parts in zip(*(tree.flatten(out) for out in outputs))]
        return _to_numpy(tree.pack_as(outputs[0], leaves))

    # ------------------------------------------------------------------ single batches

    def train_on_batch(
        self,
        x: Any,
        y: Any = None,
        sample_weight: Any = None,
        class_weight: "dict | None" = None,
        return_dict: bool = False,
    ):
        """Run one training step on one batch; returns the logs like `evaluate`.

        Example:
        >>> import numpy as np, tritonlayers as keras
        >>> model = keras.Sequential([keras.layers.Dense(1)])
        >>> model.compile(optimizer="sgd", loss="mse")
        >>> isinstance(model.train_on_batch(np.ones((2, 2)), np.ones((2, 1))), float)
        True
        """
        self._assert_compiled("train_on_batch")
        adapter = get_data_adapter(
            x, y, sample_weight, batch_size=_num_rows(x), class_weight=class_weight
        )
        if self._trainable_params is None or self.jit_compile and self._compiled_forward is None:
            self._prepare_training()
        self.reset_metrics()
        self.train()
        logs = None
        for batch in adapter.epoch():
            logs = self._step_on_batch("train_step", batch)
        return self._batch_logs(return_dict, logs)

    def test_on_batch(
        self, x: Any, y: Any = None, sample_weight: Any = None, return_dict: bool = False
    ):
        """Evaluate the model on one batch (`training=False`); returns the logs like `evaluate`.

        Example:
        >>> import numpy as np, tritonlayers as keras
        >>> model = keras.Sequential([keras.layers.Dense(1, kernel_initializer="zeros")])
        >>> model.compile(loss="mse")
        >>> model.test_on_batch(np.ones((2, 2)), np.ones((2, 1)))
        1.0
        """
        self._assert_compiled("test_on_batch")
        self._build_optimizer()
        adapter = get_data_adapter(x, y, sample_weight, batch_size=_num_rows(x))
        self.reset_metrics()
        logs = None
        with _inference(self):
            for batch in adapter.epoch():
                logs = self._step_on_batch("test_step", batch)
        return self._batch_logs(return_dict, logs)

    def predict_on_batch(self, x: Any):
        """The model's outputs on one batch, as NumPy arrays.

        Example:
        >>> import numpy as np, tritonlayers as keras
        >>> keras.Sequential([keras.layers.Dense(2)]).predict_on_batch(np.ones((3, 4))).shape
        (3, 2)
        """
        adapter = get_data_adapter(x, batch_size=_num_rows(x))
        with _inference(self):
            ((batch_x, _, _),) = adapter.epoch()
            outputs = self(batch_x, training=False)
        return _to_numpy(outputs)

    def _step_on_batch(self, name: str, batch: tuple) -> "dict | None":
        """`*_on_batch`'s step: an overridden `train_step`/`test_step` gets the batch as
        Keras hands it there, `(x, y, sample_weight)` even without weights, and its logs
        are returned; the built-in step returns None (its logs are the metrics')."""
        self._check_buildable(batch[0])
        if self._overrides(name):
            return getattr(self, name)(tuple(batch))
        (self._train_step if name == "train_step" else self._test_step)(*batch)
        return None

    def _batch_logs(self, return_dict: bool, step_logs: "dict | None"):
        logs = _flat_logs(
            _floats(step_logs if step_logs is not None else self.get_metrics_result())
        )
        return logs if return_dict else self._values_in_order(logs)


def _takes_training(method) -> bool:
    """Whether `compute_loss` (as the model has it at `compile`) accepts `training`."""
    return "training" in inspect.signature(method).parameters


@contextlib.contextmanager
def _inference(model):
    """No autograd and torch's eval mode for the block; the previous mode comes back after."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        model.train(was_training)


def _num_rows(x: Any) -> int:
    leaf = tree.flatten(x)[0]
    return int(np.shape(leaf)[0]) if np.ndim(leaf) else 1


def _should_validate(epoch: int, validation_freq: "int | list") -> bool:
    if isinstance(validation_freq, int):
        return (epoch + 1) % validation_freq == 0
    if isinstance(validation_freq, (list, tuple, set)):
        return epoch + 1 in validation_freq
    raise ValueError(
        "Expected `validation_freq` to be a list or int. Received: "
        f"validation_freq={validation_freq} of the type {type(validation_freq)}."
    )


def _serialize_metric_objects(metrics: Any) -> Any:
    """`metrics` with each `Metric` object replaced by its config as it is now.

    The compile config must record the metrics as they were given: building the compiled
    metrics of a multi-output model later renames each object with its output's prefix
    (`a_mae`), and a config read after that would reload as `a_a_mae`. An object whose
    config cannot be taken stays as it is, so that saving reports the error, not compile.
    """
    from ..metrics import Metric
    from ..saving import serialize_keras_object

    def snapshot(metric: Any) -> Any:
        if not isinstance(metric, Metric):
            return metric
        try:
            return serialize_keras_object(metric)
        except Exception:
            return metric

    return tree.map_structure(snapshot, metrics)
