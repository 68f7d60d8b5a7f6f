"""A whole training step replayed as one CUDA graph (`compile(jit_compile="auto")` on CUDA).

At batch sizes like the guide's 64, a GPU step is bound by the host launching a hundred
small kernels; a CUDA graph launches them all at once. The step is captured as PyTorch's
"whole network capture" recipe describes: a few ordinary steps on a side stream first (they
train as usual and create the optimizer's state), then forward, loss, backward, optimizer
update and the running-loss sum are captured into one graph on static input buffers. Each
later batch of the same shapes is copied into those buffers and the graph is replayed.

What keeps replays correct: every piece of state the step reads or writes lives on the
device and is updated in place (weights, optimizer slots and learning rate, the seed
generators' states, the loss sums), so a replay sees and advances the current values.
Host-side counters (samples seen) are advanced after each replay, and compiled metrics are
updated eagerly from the graph's output buffers.

Batches of other shapes (the last, partial one) take the eager step. If capturing fails
(the model reads a value back to the host, or copies host data to the device, inside
`call`), training continues eagerly and a warning says why.

Example:
>>> import tritonlayers as keras
>>> from tritonlayers.models.cuda_graphs import GraphedTrainStep
>>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
>>> model.compile(optimizer="sgd", loss="mse")
>>> GraphedTrainStep(model).eligible()  # True on a CUDA device
False
"""

import warnings
from typing import Any

import torch

from . import tree
from .compile_utils import detached_predictions

WARMUP_STEPS = 3


def _signature(batch: tuple) -> tuple:
    leaves = tree.flatten(batch)
    return (
        repr(tree.map_structure(lambda leaf: 0, batch)),
        tuple(None if t is None else (tuple(t.shape), t.dtype, t.device) for t in leaves),
    )


class GraphedTrainStep:
    """Runs `model`'s training steps, replaying a captured CUDA graph where it can."""

    def __init__(self, model: Any):
        self.model = model
        self.graph = None
        self.failed = False
        self.warmup_left = WARMUP_STEPS
        self.signature = None
        self.static_inputs = None
        self.static_outputs = None
        self.batch_size = 0
        self.side_stream = None

    def eligible(self) -> bool:
        """Whether graphs may be used: CUDA parameters, no tracing, not forced eager, and an
        optimizer that never reads the device back (LossScaleOptimizer does)."""
        model = self.model
        params = model._trainable_params or list(model.trainable_variables)
        return (
            bool(params)
            and all(p.is_cuda for p in params)
            and not (model.run_eagerly or model.jit_compile)
            and not model.optimizer.reads_host_each_step
        )

    def __call__(self, x: Any, y: Any, sample_weight: Any) -> None:
        model = self.model
        if self.failed:
            model._train_step(x, y, sample_weight)
            return
        batch = (x, y, sample_weight)
        if self.graph is not None:
            if _signature(batch) == self.signature:
                self._replay(batch)
            else:
                model._train_step(x, y, sample_weight)
            return
        if self.warmup_left > 0 or model._trainable_params is None:
            self._warmup_step(batch)
            return
        generator = torch.cuda.default_generators[torch.cuda.current_device()]
        generator_state = generator.clone_state()
        try:
            self._capture(batch)
        except Exception as error:  # any capture failure falls back to the eager step
            self.failed = True
            self.graph = None
            torch.cuda.synchronize()
            # A capture that fails part-way leaves torch's CUDA generator mid-capture, and every
            # later torch.randn on the GPU would raise: put back the state from before it.
            generator.graphsafe_set_state(generator_state)
            warnings.warn(
                f"Model '{model.name}': could not capture the training step in a CUDA graph "
                f"({type(error).__name__}: {error}); training continues without CUDA graphs.",
                stacklevel=3,
            )
            model._train_step(x, y, sample_weight)
            return
        self._replay(batch)

    def _warmup_step(self, batch: tuple) -> None:
        if self.side_stream is None:
            self.side_stream = torch.cuda.Stream()
            # A graph kept from an earlier step on the default stream (the layers' `losses`)
            # would keep its gradient accumulators, and with them that stream, alive into the
            # capture, which then has to wait on the default stream and is invalidated.
            self.model._clear_losses_if_outermost(True)
        stream = self.side_stream
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):
            self.model._train_step(*batch)
        torch.cuda.current_stream().wait_stream(stream)
        self.warmup_left -= 1
        if self.model._trainable_params is not None and not self.eligible():
            self.failed = True

    def _capture(self, batch: tuple) -> None:
        model = self.model
        static = tree.map_structure(lambda t: None if t is None else t.clone(), batch)
        params = model._trainable_params
        for param in params:
            param.grad = None
        trackers = [model._loss_tracker, *model._output_loss_trackers]
        self.batch_size = int(tree.flatten(static[0])[0].shape[0])
        graph = torch.cuda.CUDAGraph()
        torch.cuda.synchronize()
        with torch.cuda.graph(graph):
            loss, y_pred = model._forward_and_loss(*static)
            model.optimizer.scale_loss(loss).backward()
            model.optimizer.step(params)
            per_output = list(model._compile_loss.per_output) if model._compile_loss else []
            values = [loss, *per_output] if len(per_output) > 1 else [loss]
            for tracker, value in zip(trackers, values):
                tracker.add_total(value, self.batch_size)
            outputs = detached_predictions(y_pred)
        self.graph = graph
        self.signature = _signature(batch)
        self.static_inputs = static
        self.static_outputs = outputs
        self.trackers = trackers[: len(values)]

    def _replay(self, batch: tuple) -> None:
        for target, source in zip(tree.flatten(self.static_inputs), tree.flatten(batch)):
            if target is not None:
                target.copy_(source, non_blocking=True)
        self.graph.replay()
        for tracker in self.trackers:
            tracker.add_count(self.batch_size)
        model = self.model
        metrics = model._compile_metrics
        _, y, sample_weight = self.static_inputs
        if y is not None and metrics.entries:
            with torch.no_grad():
                metrics.update_state(y, self.static_outputs, sample_weight)
