"""What `compile(loss=..., metrics=...)` turns into: per-output losses and metrics.

Both containers resolve the user's arguments (a single identifier, a list per output, or a
dict keyed by output name) against the model's outputs once, on the first batch, into a
flat list of entries; each step then only loops over that list.

Example:
>>> import torch
>>> from tritonlayers.models.compile_utils import CompileLoss
>>> loss = CompileLoss("mse", output_names=["out"])
>>> float(loss(torch.ones(2, 3), torch.zeros(2, 3)))
1.0
"""

from collections.abc import Callable
from typing import Any

import torch

from . import tree


def _output_keys(structure: Any, output_names: "list[str] | None") -> list:
    """Names of the model's flat outputs: dict keys, the given output names, or
    `output_0`, `output_1`, ... (subclassed models)."""
    if isinstance(structure, dict):
        return sorted(structure)
    count = len(tree.flatten(structure))
    if output_names and len(output_names) == count:
        return list(output_names)
    return [f"output_{i}" for i in range(count)] if count > 1 else ["output"]


def _per_output(argument: Any, keys: list, name: str, structure: Any) -> list:
    """`argument` given once, per output as a list, or per output name as a dict, as a
    list aligned with `keys` (None where an output has none)."""
    if isinstance(argument, dict):
        unknown = sorted(set(argument) - set(keys))
        if unknown:
            raise ValueError(
                f"In the dict argument `{name}`, key(s) {unknown} do not correspond to any "
                f"model output. Received: {name}={argument}. Expected keys among {keys}."
            )
        return [argument.get(key) for key in keys]
    if isinstance(argument, (list, tuple)) and len(keys) > 1:
        if len(argument) != len(keys):
            raise ValueError(
                f"For a model with multiple outputs, when providing the `{name}` argument as a "
                f"list, it should have as many entries as the model has outputs ({len(keys)}). "
                f"Received: {name}={argument} of length {len(argument)}."
            )
        return list(argument)
    if isinstance(argument, (list, tuple)) and len(argument) == 1 and name == "loss":
        return list(argument)
    return [argument] * len(keys)


def _targets_by_output(
    y_true: Any, y_pred: Any, keys: list, with_loss: "list[int] | None" = None
) -> list:
    """`y_true`'s flat leaves in the order of `y_pred`'s outputs.

    As in Keras, fewer targets than outputs are accepted when there are as many as outputs
    with a loss (`with_loss`, their indices): `loss=[fn, None]` takes one target, for the
    first output; the others get None.
    """
    if isinstance(y_true, dict) and not isinstance(y_pred, dict):
        missing = [key for key in keys if key not in y_true]
        if missing:
            raise ValueError(
                f"The target dict has keys {sorted(y_true)}, but the model's outputs are "
                f"named {keys}; missing {missing}."
            )
        return [y_true[key] for key in keys]
    targets = tree.flatten(y_true)
    if len(targets) != len(keys) and with_loss is not None and len(targets) == len(with_loss):
        placed = [None] * len(keys)
        for index, target in zip(with_loss, targets):
            placed[index] = target
        return placed
    if len(targets) != len(keys):
        raise ValueError(
            f"The model has {len(keys)} output(s) {keys} but received {len(targets)} target "
            "array(s). Pass one target per output (as a list, or a dict keyed by output name)."
        )
    return targets


def detached_predictions(y_pred: Any) -> Any:
    """`y_pred` detached from autograd, each tensor keeping its `_keras_mask`: the compiled
    metrics weight by the output mask, as Keras's do.

    Example:
    >>> import torch
    >>> y_pred = torch.ones(2, 3, requires_grad=True) * 2
    >>> y_pred._keras_mask = torch.tensor([[True, True, False]] * 2)
    >>> out = detached_predictions(y_pred)
    >>> out.requires_grad, out._keras_mask.tolist()[0]
    (False, [True, True, False])
    """

    def detach(tensor: torch.Tensor) -> torch.Tensor:
        detached = tensor.detach()
        mask = getattr(tensor, "_keras_mask", None)
        if mask is not None:
            detached._keras_mask = mask
        return detached

    return tree.map_structure(detach, y_pred)


def resolve_loss(identifier: Any) -> "Callable | None":
    """A callable `loss(y_true, y_pred, sample_weight=None) -> scalar` for `identifier`."""
    if identifier is None:
        return None
    from .. import losses

    loss = losses.get(identifier)
    if isinstance(loss, type):
        loss = loss()
    if isinstance(loss, losses.Loss):
        return loss
    if loss is losses.mean_squared_error:
        # The class computes the same values and has the fused path for plain batches.
        return losses.MeanSquaredError(name=identifier if isinstance(identifier, str) else None)
    if callable(loss):
        name = identifier if isinstance(identifier, str) else getattr(loss, "__name__", "loss")
        return losses.LossFunctionWrapper(loss, name=name)
    raise ValueError(f"Could not interpret loss identifier: {identifier!r}")


class CompileLoss:
    """The compiled loss: `loss_weights`-weighted sum of per-output losses.

    `per_output` holds, after each call, the unweighted loss of every output that has one
    (used for the `<output>_loss` entries of multi-output models), detached: a stored tensor
    with its autograd graph would keep the whole previous step's activations alive.
    """

    def __init__(self, loss: Any, loss_weights: Any = None, output_names: "list | None" = None):
        self.loss = loss
        self.loss_weights = loss_weights
        self.output_names = output_names
        self.entries = None
        self.per_output = []

    def build(self, y_true: Any, y_pred: Any) -> None:
        keys = _output_keys(y_pred, self.output_names)
        losses = _per_output(self.loss, keys, "loss", y_pred)
        weights = (
            [None] * len(keys)
            if self.loss_weights is None
            else _per_output(self.loss_weights, keys, "loss_weights", y_pred)
        )
        self.keys = keys
        self.entries = [
            (index, resolve_loss(loss), None if weight is None else float(weight), keys[index])
            for index, (loss, weight) in enumerate(zip(losses, weights))
            if loss is not None
        ]
        if isinstance(y_pred, dict) and isinstance(self.loss, dict):
            # Keras takes a dict of outputs' losses in the order the loss dict lists them
            # (the order of the `<output>_loss` entries in `metrics_names`).
            order = list(self.loss)
            self.entries.sort(key=lambda entry: order.index(entry[3]))
        self._flat_pred = tree.is_nested(y_pred)
        self._dict_targets = isinstance(y_true, dict) and not isinstance(y_pred, dict)

    def __call__(
        self, y_true: Any, y_pred: Any, sample_weight: Any = None
    ) -> "torch.Tensor | None":
        if self.entries is None:
            self.build(y_true, y_pred)
        if not self._flat_pred:
            index, fn, weight, _ = self.entries[0]
            value = fn(y_true, y_pred, sample_weight)
            self.per_output = (value.detach(),)
            return value if weight is None else value * weight
        predictions = tree.flatten(y_pred)
        with_loss = sorted(entry[0] for entry in self.entries)
        targets = _targets_by_output(y_true, y_pred, self.keys, with_loss)
        weights = tree.flatten(sample_weight) if tree.is_nested(sample_weight) else None
        total, per_output = None, []
        for index, fn, weight, _ in self.entries:
            sw = sample_weight if weights is None else weights[index]
            value = fn(targets[index], predictions[index], sw)
            per_output.append(value.detach())
            value = value if weight is None else value * weight
            total = value if total is None else total + value
        self.per_output = per_output
        return total

    def get_config(self) -> dict:
        return {"loss": self.loss, "loss_weights": self.loss_weights}


def _unique_log_name(prefix: str, name: str, weighted: bool, counts: dict) -> str:
    """The log name of a compiled metric, made unique as Keras does: a repeated name gets
    `_1`, `_2`, ...; a weighted metric that repeats a name is first renamed `weighted_<name>`
    (`accuracy` in both `metrics` and `weighted_metrics` logs `accuracy` and
    `weighted_accuracy`)."""
    full = prefix + name
    if full in counts and weighted:
        full = f"{prefix}weighted_{name}"
    if full not in counts:
        counts[full] = 1
        return full
    counts[full] += 1
    return f"{full}_{counts[full] - 1}"


class CompileMetrics:
    """The compiled metrics, each bound to one output; names get the output's prefix when
    the model has several outputs (`a_mae`)."""

    name = "compile_metrics"

    def __init__(
        self,
        metrics: Any,
        weighted_metrics: Any = None,
        output_names: "list | None" = None,
        loss: Any = None,
    ):
        self.metrics_arg = metrics
        self.weighted_metrics_arg = weighted_metrics
        self.output_names = output_names
        self.loss = loss
        self.entries = None

    @property
    def metrics(self) -> list:
        return [] if self.entries is None else [metric for _, metric, _ in self.entries]

    def build(self, y_true: Any, y_pred: Any) -> None:
        keys = _output_keys(y_pred, self.output_names)
        self._with_loss = None
        if self.loss is not None and len(keys) > 1:
            losses = _per_output(self.loss, keys, "loss", y_pred)
            self._with_loss = [index for index, loss in enumerate(losses) if loss is not None]
        targets = _targets_by_output(y_true, y_pred, keys, self._with_loss)
        predictions = tree.flatten(y_pred)
        from .. import metrics as metrics_module

        self.entries = []
        counts: dict = {}
        for argument, weighted in ((self.metrics_arg, False), (self.weighted_metrics_arg, True)):
            if argument is None:
                continue
            if len(keys) == 1 and isinstance(argument, (list, tuple)):
                argument = [argument]
            elif (
                len(keys) > 1
                and isinstance(argument, (list, tuple))
                and not all(m is None or isinstance(m, (list, tuple)) for m in argument)
            ):
                raise ValueError(
                    "For a model with multiple outputs, `metrics` should be a list with one "
                    f"list of metrics per output ({keys}) or a dict keyed by output name. "
                    f"Received: metrics={argument}"
                )
            for index, group in enumerate(_per_output(argument, keys, "metrics", y_pred)):
                if targets[index] is None:
                    continue  # an output without a loss that got no target
                for identifier in [] if group is None else tree.flatten(group):
                    metric = metrics_module.get_metric(
                        identifier, targets[index], predictions[index]
                    )
                    prefix = f"{keys[index]}_" if len(keys) > 1 else ""
                    metric.name = _unique_log_name(prefix, metric.name, weighted, counts)
                    self.entries.append((index, metric, weighted))
        self._nested = tree.is_nested(y_pred)
        self._keys = keys

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        if self.entries is None:
            self.build(y_true, y_pred)
        if not self.entries:
            return
        if self._nested:
            targets = _targets_by_output(y_true, y_pred, self._keys, self._with_loss)
            predictions = tree.flatten(y_pred)
        else:
            targets, predictions = (y_true,), (y_pred,)
        for index, metric, weighted in self.entries:
            if weighted and sample_weight is not None:
                metric.update_state(targets[index], predictions[index], sample_weight=sample_weight)
            else:
                metric.update_state(targets[index], predictions[index])

    def reset_state(self) -> None:
        for metric in self.metrics:
            metric.reset_state()

    def result(self) -> dict:
        """Each compiled metric's result by name (the logs flatten this dict)."""
        return {metric.name: metric.result() for metric in self.metrics}
