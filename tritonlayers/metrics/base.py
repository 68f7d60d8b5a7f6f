"""`Metric` (stateful, device-resident) and the reducing metrics `Sum`, `Mean`, `MeanMetricWrapper`.

A metric keeps its state in non-trainable Variables on the device of the values it sees, and
`update_state` only launches tensor ops: nothing is read back to the host until someone
calls `float(metric.result())`.
"""

from collections.abc import Callable

import torch

from .. import config, losses
from ..layers.call_context import name_scope
from ..losses.loss import (
    _as_tensor,
    _dtype_name,
    _mask_to_weight,
    _snake_case,
    squeeze_or_expand_to_same_rank,
)


def _variable(value: torch.Tensor, name: str):
    from ..layers.variables import Variable

    return Variable(
        value,
        trainable=False,
        autocast=False,
        name=name,
        device=value.device,
        dtype=str(value.dtype).removeprefix("torch."),
    )


class Metric:
    """Base class: state Variables from `add_variable`, `update_state`, `result`, `reset_state`.

    Calling a metric (`metric(y_true, y_pred)`) updates it and returns the result.

    Example:
    >>> import torch
    >>> class Count(Metric):
    ...     def __init__(self, name="count"):
    ...         super().__init__(name=name)
    ...         self.n = self.add_variable(shape=(), name="n")
    ...     def update_state(self, values):
    ...         self.n.add_(torch.as_tensor(values).numel())
    ...     def result(self):
    ...         return self.n.detach().clone()
    >>> m = Count()
    >>> m.update_state([1, 2, 3])
    >>> float(m.result())
    3.0
    """

    def __init__(self, dtype=None, name: str | None = None):
        self.name = name or _snake_case(type(self).__name__)
        self._dtype = _dtype_name(dtype)
        self._variables: list = []
        self._initial_values: list[torch.Tensor] = []

    @property
    def dtype(self) -> str:
        """The dtype of the state and the result (floatx unless given)."""
        return self._dtype or config.floatx()

    @property
    def variables(self) -> list:
        """The state Variables (non-trainable, on the device the metric last saw)."""
        return list(self._variables)

    def add_variable(self, shape=(), initializer="zeros", dtype=None, aggregation="sum", name=None):
        """Create a state Variable (zeros unless `initializer` is "ones" or a number)."""
        dtype = getattr(torch, _dtype_name(dtype) or self.dtype)
        fill = {"zeros": 0.0, "ones": 1.0}.get(initializer, initializer)
        if not isinstance(fill, (int, float)):
            raise ValueError(
                f"Metric '{self.name}': `initializer` must be 'zeros', 'ones' or a number; "
                f"received {initializer!r}."
            )
        value = torch.full(tuple(shape), float(fill), dtype=dtype, device=self._device())
        # Keras scopes a metric's state under the metric's name: "mean/total".
        with name_scope(self.name):
            variable = _variable(value, name or f"variable_{len(self._variables)}")
        self._variables.append(variable)
        self._initial_values.append(value.clone())
        return variable

    def _device(self) -> torch.device:
        return self._variables[0].device if self._variables else config.device()

    def _follow(self, tensor: torch.Tensor) -> None:
        """Move the state to `tensor`'s device the first time they differ (no sync)."""
        device = tensor.device
        if not self._variables or self._variables[0].device == device:
            return
        for i, variable in enumerate(self._variables):
            variable.data = variable.data.to(device)
            self._initial_values[i] = self._initial_values[i].to(device)

    def update_state(self, *args, **kwargs) -> None:
        """Accumulate statistics from a batch (subclasses implement)."""
        raise TypeError(f"Metric '{self.name}' must implement `update_state`.")

    def result(self) -> torch.Tensor:
        """The metric value as a 0-d device tensor (subclasses implement)."""
        raise TypeError(f"Metric '{self.name}' must implement `result`.")

    def reset_state(self) -> None:
        """Return every state Variable to its initial value."""
        with torch.no_grad():
            for variable, value in zip(self._variables, self._initial_values):
                variable.copy_(value)

    def __call__(self, *args, **kwargs) -> torch.Tensor:
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self) -> dict:
        """`{"name", "dtype"}` plus each subclass's arguments."""
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config: dict) -> "Metric":
        """Rebuild a metric from `get_config()`."""
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"


def reduce_to_samplewise_values(values, sample_weight, reduce_fn: Callable, dtype: torch.dtype):
    """Keras's per-sample reduction: weight the values, then reduce all axes but the first.

    Example:
    >>> import torch
    >>> values, _ = reduce_to_samplewise_values(torch.ones(2, 3), None, torch.mean, torch.float32)
    >>> values.tolist()
    [1.0, 1.0]
    """
    mask = getattr(values, "_keras_mask", None)
    values = _as_tensor(values, dtype=dtype)
    if sample_weight is not None:
        sample_weight = _as_tensor(sample_weight, dtype=dtype, device=values.device)
        sample_weight = _mask_to_weight(mask, sample_weight, dtype, reduction="sum")
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        if values.ndim > sample_weight.ndim:
            values = reduce_fn(values, dim=tuple(range(sample_weight.ndim, values.ndim)))
        sample_weight = torch.broadcast_to(sample_weight, values.shape)
        values = values * sample_weight
        if sample_weight.ndim > 1:
            sample_weight = reduce_fn(sample_weight, dim=tuple(range(1, sample_weight.ndim)))
    if values.ndim > 1:
        values = reduce_fn(values, dim=tuple(range(1, values.ndim)))
    return values, sample_weight


class Sum(Metric):
    """The (weighted) sum of all values seen.

    Example:
    >>> m = Sum()
    >>> m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
    >>> float(m.result())
    4.0
    """

    def __init__(self, name: str = "sum", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(shape=(), name="total")

    def update_state(self, values, sample_weight=None) -> None:
        values = _as_tensor(values, device=self._device() if not torch.is_tensor(values) else None)
        self._follow(values)
        values, _ = reduce_to_samplewise_values(
            values, sample_weight, torch.sum, getattr(torch, self.dtype)
        )
        with torch.no_grad():
            self.total.add_(values.detach().sum())

    def result(self) -> torch.Tensor:
        return self.total.detach().clone()


class Mean(Metric):
    """The (weighted) mean of all values seen: `total / count`.

    Example:
    >>> m = Mean()
    >>> m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
    >>> float(m.result())
    2.0
    """

    def __init__(self, name: str = "mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(shape=(), name="total")
        self.count = self.add_variable(shape=(), name="count")

    def update_state(self, values, sample_weight=None) -> None:
        values = _as_tensor(values, device=self._device() if not torch.is_tensor(values) else None)
        self._follow(values)
        values, sample_weight = reduce_to_samplewise_values(
            values, sample_weight, torch.mean, getattr(torch, self.dtype)
        )
        with torch.no_grad():
            self.total.add_(values.detach().sum())
            if sample_weight is not None:
                self.count.add_(sample_weight.detach().sum())
            else:
                self.count.add_(values.shape[0] if values.ndim >= 1 else 1)

    def result(self) -> torch.Tensor:
        total, count = self.total.detach(), self.count.detach()
        return torch.where(count == 0, torch.zeros_like(total), total / count)


class MeanMetricWrapper(Mean):
    """The mean over samples of `fn(y_true, y_pred, **kwargs)`.

    Example:
    >>> from tritonlayers import losses
    >>> m = MeanMetricWrapper(losses.mean_absolute_error, name="mae")
    >>> m.update_state([[0.0, 1.0]], [[1.0, 1.0]])
    >>> float(m.result())
    0.5
    """

    def __init__(self, fn: Callable, name: str | None = None, dtype=None, **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", "mean_metric_wrapper"), dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs
        if str(getattr(fn, "__module__", "")).startswith(losses.__name__):
            # Callbacks in mode="auto" minimise metrics that are losses.
            self._direction = "down"

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        mask = getattr(y_pred, "_keras_mask", None)
        if not torch.is_tensor(y_pred):
            y_pred = _as_tensor(y_pred, device=self._device())
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        if mask is not None:
            weight = None
            if sample_weight is not None:
                weight = _as_tensor(sample_weight, dtype=values.dtype, device=values.device)
            sample_weight = _mask_to_weight(mask, weight, values.dtype, reduction="sum")
        super().update_state(values, sample_weight=sample_weight)

    def get_config(self) -> dict:
        config = super().get_config()
        if type(self) is MeanMetricWrapper:
            from ..saving import serialization_lib

            config["fn"] = serialization_lib.serialize_keras_object(self._fn)
        return {**config, **self._fn_kwargs}

    @classmethod
    def from_config(cls, config: dict) -> "MeanMetricWrapper":
        config = dict(config)
        if cls is MeanMetricWrapper and "fn" in config:
            from ..saving import serialization_lib

            config["fn"] = serialization_lib.deserialize_keras_object(config["fn"])
        return cls(**config)
