"""Keras 3 losses over torch: `Loss` classes, per-sample loss functions, reductions, lookup.

A loss function (`mean_squared_error`, ...) maps `(y_true, y_pred)` to one loss per sample
(the last axis reduced). A `Loss` object wraps one, applies `sample_weight` and the
`_keras_mask` of `y_pred`, then reduces to a scalar. Everything stays on the device.

Example:
>>> import tritonlayers as keras
>>> loss = keras.losses.MeanSquaredError()
>>> round(float(loss([[0.0, 1.0]], [[1.0, 1.0]])), 4)
0.5
>>> keras.losses.get("mse") is keras.losses.mean_squared_error
True
"""

import inspect
import math
import warnings
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from . import config

__all__ = [
    "Loss",
    "LossFunctionWrapper",
    "MeanSquaredError",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanSquaredLogarithmicError",
    "Huber",
    "LogCosh",
    "BinaryCrossentropy",
    "BinaryFocalCrossentropy",
    "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy",
    "KLDivergence",
    "Poisson",
    "CosineSimilarity",
    "Hinge",
    "SquaredHinge",
    "CategoricalHinge",
    "mean_squared_error",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error",
    "huber",
    "log_cosh",
    "binary_crossentropy",
    "binary_focal_crossentropy",
    "categorical_crossentropy",
    "sparse_categorical_crossentropy",
    "kl_divergence",
    "poisson",
    "cosine_similarity",
    "hinge",
    "squared_hinge",
    "categorical_hinge",
    "get",
    "serialize",
    "deserialize",
]

REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


# ----------------------------------------------------------------------------------------------
# Tensor helpers
# ----------------------------------------------------------------------------------------------


def _as_tensor(x, dtype: torch.dtype | None = None, device=None) -> torch.Tensor:
    """`x` as a torch tensor on `device` (default: its own, else config.device())."""
    if isinstance(x, torch.Tensor):
        return x.to(device=device or x.device, dtype=dtype or x.dtype)
    array = np.asarray(x)
    if dtype is None and array.dtype.kind == "f":
        dtype = getattr(torch, config.floatx())
    return torch.as_tensor(array, dtype=dtype, device=device or config.device())


def _float_pair(y_true, y_pred) -> tuple[torch.Tensor, torch.Tensor]:
    """`y_pred` as a float tensor and `y_true` cast to its dtype and device."""
    y_pred = _as_tensor(y_pred)
    if not y_pred.is_floating_point():
        y_pred = y_pred.to(getattr(torch, config.floatx()))
    y_true = _as_tensor(y_true, dtype=y_pred.dtype, device=y_pred.device)
    return y_true, y_pred


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1: bool = True):
    """Squeeze or expand a trailing axis of size 1 so that both tensors have the same rank."""
    if x1.ndim == x2.ndim + 1 and x1.shape[-1] == 1:
        if x2.ndim == 1 and expand_rank_1:
            x2 = x2.unsqueeze(-1)
        else:
            x1 = x1.squeeze(-1)
    elif x2.ndim == x1.ndim + 1 and x2.shape[-1] == 1:
        if x1.ndim == 1 and expand_rank_1:
            x1 = x1.unsqueeze(-1)
        else:
            x2 = x2.squeeze(-1)
    return x1, x2


def _prepare(y_true, y_pred) -> tuple[torch.Tensor, torch.Tensor]:
    return squeeze_or_expand_to_same_rank(*_float_pair(y_true, y_pred))


def _divide_no_nan(a: "torch.Tensor | float", b: torch.Tensor) -> torch.Tensor:
    """`a / b`, or 0 where `b == 0`; `a` may be a Python number (no host-to-device copy)."""
    zero = b == 0
    return torch.where(zero, torch.zeros_like(b), a / torch.where(zero, torch.ones_like(b), b))


# ----------------------------------------------------------------------------------------------
# Reductions
# ----------------------------------------------------------------------------------------------


def standardize_reduction(reduction):
    """Check `reduction` against Keras's list and return it."""
    if reduction not in REDUCTIONS:
        raise ValueError(
            "Invalid value for argument `reduction`. "
            f"Expected one of {set(REDUCTIONS)}. Received: reduction={reduction}"
        )
    return reduction


def reduce_values(values: torch.Tensor, sample_weight=None, reduction="sum_over_batch_size"):
    """Reduce per-element losses: sum, or sum divided by the element count (or weight sum)."""
    if reduction in (None, "none") or values.ndim == 0 or tuple(values.shape) == (0,):
        return values
    loss = values.sum()
    if reduction == "sum":
        return loss
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        return _divide_no_nan(loss, sample_weight.sum().to(loss.dtype))
    count = values.numel()
    return loss / count if count else torch.zeros_like(loss)


def _mask_to_weight(mask, sample_weight, dtype, reduction):
    """Fold a boolean mask into the sample weights; mean reductions rescale by total/valid."""
    if mask is None:
        return sample_weight
    if reduction in ("mean", "sum_over_batch_size"):
        valid = mask.to(dtype).sum()
        float_mask = torch.where(mask.bool(), _divide_no_nan(float(mask.numel()), valid), 0.0)
        float_mask = float_mask.to(dtype)
    else:
        float_mask = mask.to(dtype)
    if sample_weight is None:
        return float_mask
    float_mask, sample_weight = squeeze_or_expand_to_same_rank(float_mask, sample_weight)
    return sample_weight * float_mask


def reduce_weighted_values(
    values, sample_weight=None, mask=None, reduction="sum_over_batch_size", dtype=None
):
    """Apply `mask` and `sample_weight` to per-sample losses, then reduce them."""
    reduction = standardize_reduction(reduction)
    values = _as_tensor(values, dtype=dtype)
    if sample_weight is not None:
        sample_weight = _as_tensor(sample_weight, dtype=values.dtype, device=values.device)
    sample_weight = _mask_to_weight(mask, sample_weight, values.dtype, reduction)
    if sample_weight is not None:
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        values = values * sample_weight
    return reduce_values(values, sample_weight, reduction)


# ----------------------------------------------------------------------------------------------
# Loss functions (one value per sample)
# ----------------------------------------------------------------------------------------------


def mean_squared_error(y_true, y_pred) -> torch.Tensor:
    """`mean(square(y_true - y_pred), axis=-1)`.

    Example:
    >>> round(float(mean_squared_error([[0.0, 2.0]], [[1.0, 1.0]])[0]), 4)
    1.0
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    return torch.mean(torch.square(y_true - y_pred), dim=-1)


def mean_absolute_error(y_true, y_pred) -> torch.Tensor:
    """`mean(abs(y_true - y_pred), axis=-1)`.

    Example:
    >>> round(float(mean_absolute_error([[0.0, 2.0]], [[1.0, 1.0]])[0]), 4)
    1.0
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    return torch.mean(torch.abs(y_true - y_pred), dim=-1)


def mean_absolute_percentage_error(y_true, y_pred) -> torch.Tensor:
    """`100 * mean(abs((y_true - y_pred) / maximum(abs(y_true), epsilon)), axis=-1)`.

    Example:
    >>> round(float(mean_absolute_percentage_error([[2.0, 4.0]], [[1.0, 4.0]])[0]), 4)
    25.0
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    denominator = torch.clamp(torch.abs(y_true), min=config.epsilon())
    return 100.0 * torch.mean(torch.abs((y_true - y_pred) / denominator), dim=-1)


def mean_squared_logarithmic_error(y_true, y_pred) -> torch.Tensor:
    """`mean(square(log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1)), axis=-1)`.

    Example:
    >>> round(float(mean_squared_logarithmic_error([[0.0]], [[math.e - 1]])[0]), 4)
    1.0
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    eps = config.epsilon()
    first = torch.log(torch.clamp(y_pred, min=eps) + 1.0)
    second = torch.log(torch.clamp(y_true, min=eps) + 1.0)
    return torch.mean(torch.square(first - second), dim=-1)


def huber(y_true, y_pred, delta: float = 1.0) -> torch.Tensor:
    """Quadratic `0.5 * x**2` for `|x| <= delta`, linear `delta * |x| - 0.5 * delta**2` beyond.

    Example:
    >>> round(float(huber([[0.0, 0.0]], [[0.5, 3.0]])[0]), 4)
    1.3125
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    error = y_pred - y_true
    abs_error = torch.abs(error)
    quadratic = 0.5 * torch.square(error)
    linear = delta * abs_error - 0.5 * delta**2
    return torch.mean(torch.where(abs_error <= delta, quadratic, linear), dim=-1)


def log_cosh(y_true, y_pred) -> torch.Tensor:
    """`mean(log(cosh(y_pred - y_true)), axis=-1)`, computed stably as `x + softplus(-2x) - log 2`.

    Example:
    >>> round(float(log_cosh([[0.0]], [[1.0]])[0]), 4)
    0.4338
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    x = y_pred - y_true
    return torch.mean(x + F.softplus(-2.0 * x) - math.log(2.0), dim=-1)


def _binary_crossentropy_elementwise(target, output, from_logits):
    if from_logits:
        return F.binary_cross_entropy_with_logits(output, target, reduction="none")
    eps = config.epsilon()
    output = torch.clamp(output, eps, 1.0 - eps)
    return F.binary_cross_entropy(output, target, reduction="none")


def _check_same_shape(target, output, fn_name):
    if target.shape != output.shape:
        raise ValueError(
            f"{fn_name}: arguments `target` and `output` must have the same shape. "
            f"Received: target.shape={tuple(target.shape)}, output.shape={tuple(output.shape)}"
        )


def binary_crossentropy(
    y_true, y_pred, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1
) -> torch.Tensor:
    """Binary crossentropy averaged over `axis`; labels smoothed towards 0.5.

    Probabilities are clipped to `[epsilon, 1 - epsilon]` as Keras does.

    Example:
    >>> round(float(binary_crossentropy([[1.0]], [[0.5]])[0]), 4)
    0.6931
    """
    y_true, y_pred = _float_pair(y_true, y_pred)
    _check_same_shape(y_true, y_pred, "binary_crossentropy")
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    return torch.mean(_binary_crossentropy_elementwise(y_true, y_pred, from_logits), dim=axis)


def binary_focal_crossentropy(
    y_true,
    y_pred,
    apply_class_balancing: bool = False,
    alpha: float = 0.25,
    gamma: float = 2.0,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> torch.Tensor:
    """Binary crossentropy scaled by `(1 - p_t) ** gamma` (and `alpha` class balancing).

    Example:
    >>> round(float(binary_focal_crossentropy([[1.0]], [[0.5]])[0]), 4)
    0.1733
    """
    y_true, y_pred = _float_pair(y_true, y_pred)
    _check_same_shape(y_true, y_pred, "binary_focal_crossentropy")
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        y_pred = torch.sigmoid(y_pred)
    bce = _binary_crossentropy_elementwise(y_true, y_pred, from_logits=False)
    p_t = y_true * y_pred + (1 - y_true) * (1 - y_pred)
    focal = torch.pow(1.0 - p_t, gamma) * bce
    if apply_class_balancing:
        focal = (y_true * alpha + (1 - y_true) * (1 - alpha)) * focal
    return torch.mean(focal, dim=axis)


def categorical_crossentropy(
    y_true, y_pred, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1
) -> torch.Tensor:
    """`-sum(y_true * log(y_pred))` over `axis`; probabilities renormalised and clipped.

    Example:
    >>> round(float(categorical_crossentropy([[0.0, 1.0]], [[0.5, 0.5]])[0]), 4)
    0.6931
    """
    if isinstance(axis, bool):
        raise ValueError(
            f"`axis` must be of type `int`. Received: axis={axis} of type {type(axis)}"
        )
    y_true, y_pred = _float_pair(y_true, y_pred)
    if y_pred.shape[-1] == 1:
        warnings.warn(
            "In loss categorical_crossentropy, expected y_pred.shape to be "
            f"(batch_size, num_classes) with num_classes > 1. Received: "
            f"y_pred.shape={tuple(y_pred.shape)}. Consider using 'binary_crossentropy' if you "
            "only have 2 classes.",
            SyntaxWarning,
            stacklevel=2,
        )
    _check_same_shape(y_true, y_pred, "categorical_crossentropy")
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[-1]
    if from_logits:
        log_prob = F.log_softmax(y_pred, dim=axis)
    else:
        eps = config.epsilon()
        output = y_pred / torch.sum(y_pred, dim=axis, keepdim=True)
        log_prob = torch.log(torch.clamp(output, eps, 1.0 - eps))
    return -torch.sum(y_true * log_prob, dim=axis)


def sparse_categorical_crossentropy(
    y_true, y_pred, from_logits: bool = False, ignore_class: int | None = None, axis: int = -1
) -> torch.Tensor:
    """Categorical crossentropy with integer labels (no one-hot matrix is built).

    Example:
    >>> round(float(sparse_categorical_crossentropy([1], [[0.5, 0.5]])[0]), 4)
    0.6931
    """
    y_pred = _as_tensor(y_pred)
    if not y_pred.is_floating_point():
        y_pred = y_pred.to(getattr(torch, config.floatx()))
    y_true = _as_tensor(y_true, device=y_pred.device)
    if y_true.ndim == y_pred.ndim and y_true.shape[axis] == 1:
        y_true = y_true.squeeze(axis)
    if y_pred.ndim < 1:
        raise ValueError(f"Argument `output` must be at least rank 1. Received: {y_pred.shape}")
    class_axis = axis % y_pred.ndim
    expected = tuple(d for i, d in enumerate(y_pred.shape) if i != class_axis)
    if tuple(y_true.shape) != expected:
        raise ValueError(
            "sparse_categorical_crossentropy: arguments `target` and `output` must have the "
            "same shape up until the last dimension: "
            f"target.shape={tuple(y_true.shape)}, output.shape={tuple(y_pred.shape)}"
        )
    labels = y_true.long()
    valid = None
    if ignore_class is not None:
        valid = labels != ignore_class
        labels = torch.where(valid, labels, 0)
    logits = y_pred.unsqueeze(0) if y_pred.ndim == 1 else y_pred.movedim(class_axis, 1)
    targets = labels.unsqueeze(0) if y_pred.ndim == 1 else labels
    if from_logits:
        result = F.cross_entropy(logits, targets, reduction="none")
    else:
        eps = config.epsilon()
        output = logits / torch.sum(logits, dim=1, keepdim=True)
        result = F.nll_loss(torch.log(torch.clamp(output, eps, 1 - eps)), targets, reduction="none")
    if y_pred.ndim == 1:
        result = result.squeeze(0)
    if valid is not None:
        result = torch.where(valid, result, 0.0)
        result._keras_mask = valid
    return result


def kl_divergence(y_true, y_pred) -> torch.Tensor:
    """`sum(y_true * log(y_true / y_pred), axis=-1)` with both clipped to `[epsilon, 1]`.

    Example:
    >>> round(float(kl_divergence([[0.5, 0.5]], [[0.25, 0.75]])[0]), 4)
    0.1438
    """
    y_true, y_pred = _float_pair(y_true, y_pred)
    eps = config.epsilon()
    y_true = torch.clamp(y_true, eps, 1)
    y_pred = torch.clamp(y_pred, eps, 1)
    return torch.sum(y_true * torch.log(y_true / y_pred), dim=-1)


def poisson(y_true, y_pred) -> torch.Tensor:
    """`mean(y_pred - y_true * log(y_pred + epsilon), axis=-1)`.

    Example:
    >>> round(float(poisson([[1.0]], [[1.0]])[0]), 4)
    1.0
    """
    y_true, y_pred = _float_pair(y_true, y_pred)
    return torch.mean(y_pred - y_true * torch.log(y_pred + config.epsilon()), dim=-1)


def _l2_normalize(x: torch.Tensor, axis: int) -> torch.Tensor:
    inv_norm = torch.rsqrt(torch.sum(torch.square(x), dim=axis, keepdim=True))
    return x * torch.clamp(inv_norm, max=1.0 / config.epsilon())


def cosine_similarity(y_true, y_pred, axis: int = -1) -> torch.Tensor:
    """`-sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)`: -1 means same direction.

    Example:
    >>> round(float(cosine_similarity([[1.0, 0.0]], [[2.0, 0.0]])[0]), 4)
    -1.0
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    return -torch.sum(_l2_normalize(y_true, axis) * _l2_normalize(y_pred, axis), dim=axis)


def _binary_labels_to_hinge(y_true: torch.Tensor) -> torch.Tensor:
    """Map labels in {0, 1} to {-1, 1}; other labels pass through. Decided on the device."""
    is_binary = torch.all((y_true == 0) | (y_true == 1))
    return torch.where(is_binary, 2.0 * y_true - 1.0, y_true)


def hinge(y_true, y_pred) -> torch.Tensor:
    """`mean(maximum(1 - y_true * y_pred, 0), axis=-1)`; 0/1 labels become -1/1.

    Example:
    >>> round(float(hinge([[1.0, 0.0]], [[0.5, 0.5]])[0]), 4)
    1.0
    """
    y_true, y_pred = _float_pair(y_true, y_pred)
    y_true = _binary_labels_to_hinge(y_true)
    return torch.mean(torch.clamp(1.0 - y_true * y_pred, min=0.0), dim=-1)


def squared_hinge(y_true, y_pred) -> torch.Tensor:
    """`mean(square(maximum(1 - y_true * y_pred, 0)), axis=-1)`; 0/1 labels become -1/1.

    Example:
    >>> round(float(squared_hinge([[1.0, 0.0]], [[0.5, 0.5]])[0]), 4)
    1.25
    """
    y_true, y_pred = _float_pair(y_true, y_pred)
    y_true = _binary_labels_to_hinge(y_true)
    return torch.mean(torch.square(torch.clamp(1.0 - y_true * y_pred, min=0.0)), dim=-1)


def categorical_hinge(y_true, y_pred) -> torch.Tensor:
    """`maximum(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0)`.

    Example:
    >>> round(float(categorical_hinge([[0.0, 1.0]], [[0.3, 0.6]])[0]), 4)
    0.7
    """
    y_true, y_pred = _float_pair(y_true, y_pred)
    pos = torch.sum(y_true * y_pred, dim=-1)
    neg = torch.amax((1.0 - y_true) * y_pred, dim=-1)
    return torch.clamp(neg - pos + 1.0, min=0.0)


# ----------------------------------------------------------------------------------------------
# Loss classes
# ----------------------------------------------------------------------------------------------


class Loss:
    """Base class of losses: subclasses implement `call(y_true, y_pred)` (per-sample values).

    `__call__` casts inputs to the loss dtype, folds `y_pred._keras_mask` and
    `sample_weight` into weights and reduces with `reduction` ("sum_over_batch_size",
    "sum", "mean", "mean_with_sample_weight", "none" or None).

    Example:
    >>> import torch
    >>> class Mse(Loss):
    ...     def call(self, y_true, y_pred):
    ...         return torch.mean((y_pred - y_true) ** 2, dim=-1)
    >>> round(float(Mse()([[0.0]], [[2.0]])), 4)
    4.0
    """

    def __init__(self, name: str | None = None, reduction="sum_over_batch_size", dtype=None):
        self.name = name or _snake_case(type(self).__name__)
        self.reduction = standardize_reduction(reduction)
        self._dtype = _dtype_name(dtype)

    @property
    def dtype(self) -> str:
        """The dtype the loss computes in (floatx unless given)."""
        return self._dtype or config.floatx()

    def __call__(self, y_true, y_pred, sample_weight=None) -> torch.Tensor:
        dtype = getattr(torch, self.dtype)
        in_mask = getattr(y_pred, "_keras_mask", None)
        y_pred = _as_tensor(y_pred, dtype=dtype)
        y_true = _as_tensor(y_true, dtype=dtype, device=y_pred.device)
        losses = self.call(y_true, y_pred)
        out_mask = getattr(losses, "_keras_mask", None)
        if in_mask is not None and out_mask is not None:
            mask = in_mask.bool() & out_mask.bool()
        else:
            mask = in_mask if in_mask is not None else out_mask
        return reduce_weighted_values(
            losses, sample_weight=sample_weight, mask=mask, reduction=self.reduction, dtype=dtype
        )

    def call(self, y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
        """Per-sample loss values; the one method a subclass must write."""
        raise TypeError(f"{type(self).__name__} must implement `call(y_true, y_pred)`.")

    def get_config(self) -> dict:
        """The constructor arguments, as Keras writes them."""
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict) -> "Loss":
        """Rebuild a loss from `get_config()`."""
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} reduction={self.reduction!r}>"


def _snake_case(name: str) -> str:
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and (not name[i - 1].isupper() or name[i + 1 : i + 2].islower()):
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


def _dtype_name(dtype) -> str | None:
    if dtype is None:
        return None
    if isinstance(dtype, torch.dtype):
        return str(dtype).removeprefix("torch.")
    return getattr(dtype, "compute_dtype", None) or str(dtype)


class LossFunctionWrapper(Loss):
    """A `Loss` around a per-sample function `fn(y_true, y_pred, **kwargs)`.

    Example:
    >>> loss = LossFunctionWrapper(mean_absolute_error, name="mae")
    >>> round(float(loss([[0.0, 0.0]], [[1.0, 3.0]])), 4)
    2.0
    """

    def __init__(
        self,
        fn: Callable,
        reduction="sum_over_batch_size",
        name: str | None = None,
        dtype=None,
        **kwargs,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self) -> dict:
        config = super().get_config()
        if type(self) is LossFunctionWrapper:
            from .saving import serialization_lib

            config["fn"] = serialization_lib.serialize_keras_object(self.fn)
        config.update(self._fn_kwargs)
        return config

    @classmethod
    def from_config(cls, config: dict) -> "LossFunctionWrapper":
        config = dict(config)
        if cls is LossFunctionWrapper and "fn" in config:
            from .saving import serialization_lib

            config["fn"] = serialization_lib.deserialize_keras_object(config["fn"])
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}({self.fn.__name__}, kwargs={self._fn_kwargs})>"


class MeanSquaredError(LossFunctionWrapper):
    """Mean of squares of errors: `mean(square(y_true - y_pred))`.

    Example:
    >>> round(float(MeanSquaredError()([[0.0, 1.0]], [[1.0, 1.0]])), 4)
    0.5
    """

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, reduction=reduction, name=name, dtype=dtype)


class MeanAbsoluteError(LossFunctionWrapper):
    """Mean of absolute errors: `mean(abs(y_true - y_pred))`.

    Example:
    >>> round(float(MeanAbsoluteError()([[0.0, 1.0]], [[2.0, 1.0]])), 4)
    1.0
    """

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, reduction=reduction, name=name, dtype=dtype)


class MeanAbsolutePercentageError(LossFunctionWrapper):
    """`100 * mean(abs((y_true - y_pred) / y_true))`.

    Example:
    >>> round(float(MeanAbsolutePercentageError()([[2.0]], [[1.0]])), 4)
    50.0
    """

    def __init__(
        self,
        reduction="sum_over_batch_size",
        name="mean_absolute_percentage_error",
        dtype=None,
    ):
        super().__init__(
            mean_absolute_percentage_error, reduction=reduction, name=name, dtype=dtype
        )


class MeanSquaredLogarithmicError(LossFunctionWrapper):
    """`mean(square(log(y_true + 1) - log(y_pred + 1)))`.

    Example:
    >>> round(float(MeanSquaredLogarithmicError()([[0.0]], [[0.0]])), 4)
    0.0
    """

    def __init__(
        self,
        reduction="sum_over_batch_size",
        name="mean_squared_logarithmic_error",
        dtype=None,
    ):
        super().__init__(
            mean_squared_logarithmic_error, reduction=reduction, name=name, dtype=dtype
        )


class Huber(LossFunctionWrapper):
    """Huber loss: quadratic inside `delta`, linear outside.

    Example:
    >>> round(float(Huber(delta=1.0)([[0.0]], [[3.0]])), 4)
    2.5
    """

    def __init__(
        self, delta: float = 1.0, reduction="sum_over_batch_size", name="huber_loss", dtype=None
    ):
        super().__init__(huber, reduction=reduction, name=name, dtype=dtype, delta=delta)
        self.delta = delta


class LogCosh(LossFunctionWrapper):
    """`mean(log(cosh(y_pred - y_true)))`.

    Example:
    >>> round(float(LogCosh()([[0.0]], [[1.0]])), 4)
    0.4338
    """

    def __init__(self, reduction="sum_over_batch_size", name="log_cosh", dtype=None):
        super().__init__(log_cosh, reduction=reduction, name=name, dtype=dtype)


class BinaryCrossentropy(LossFunctionWrapper):
    """Crossentropy for 0/1 labels; `from_logits=True` takes raw scores.

    Example:
    >>> round(float(BinaryCrossentropy(from_logits=True)([[1.0]], [[0.0]])), 4)
    0.6931
    """

    def __init__(
        self,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction="sum_over_batch_size",
        name="binary_crossentropy",
        dtype=None,
    ):
        super().__init__(
            binary_crossentropy,
            reduction=reduction,
            name=name,
            dtype=dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis


class BinaryFocalCrossentropy(LossFunctionWrapper):
    """Binary crossentropy down-weighting easy examples by `(1 - p_t) ** gamma`.

    Example:
    >>> round(float(BinaryFocalCrossentropy()([[1.0]], [[0.5]])), 4)
    0.1733
    """

    def __init__(
        self,
        apply_class_balancing: bool = False,
        alpha: float = 0.25,
        gamma: float = 2.0,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction="sum_over_batch_size",
        name="binary_focal_crossentropy",
        dtype=None,
    ):
        super().__init__(
            binary_focal_crossentropy,
            reduction=reduction,
            name=name,
            dtype=dtype,
            apply_class_balancing=apply_class_balancing,
            alpha=alpha,
            gamma=gamma,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )
        self.apply_class_balancing = apply_class_balancing
        self.alpha = alpha
        self.gamma = gamma
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis


class CategoricalCrossentropy(LossFunctionWrapper):
    """Crossentropy for one-hot labels.

    Example:
    >>> round(float(CategoricalCrossentropy()([[0.0, 1.0]], [[0.5, 0.5]])), 4)
    0.6931
    """

    def __init__(
        self,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction="sum_over_batch_size",
        name="categorical_crossentropy",
        dtype=None,
    ):
        super().__init__(
            categorical_crossentropy,
            reduction=reduction,
            name=name,
            dtype=dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Crossentropy for integer labels; `ignore_class` masks one label value out.

    Example:
    >>> round(float(SparseCategoricalCrossentropy()([1], [[0.5, 0.5]])), 4)
    0.6931
    """

    def __init__(
        self,
        from_logits: bool = False,
        ignore_class: int | None = None,
        reduction="sum_over_batch_size",
        axis: int = -1,
        name="sparse_categorical_crossentropy",
        dtype=None,
    ):
        super().__init__(
            sparse_categorical_crossentropy,
            reduction=reduction,
            name=name,
            dtype=dtype,
            from_logits=from_logits,
            ignore_class=ignore_class,
            axis=axis,
        )
        self.from_logits = from_logits
        self.ignore_class = ignore_class
        self.axis = axis

    def call(self, y_true, y_pred):
        # Labels keep their own rank: the class axis only exists on y_pred.
        return self.fn(y_true, y_pred, **self._fn_kwargs)


class KLDivergence(LossFunctionWrapper):
    """Kullback-Leibler divergence `sum(y_true * log(y_true / y_pred))`.

    Example:
    >>> round(float(KLDivergence()([[0.5, 0.5]], [[0.25, 0.75]])), 4)
    0.1438
    """

    def __init__(self, reduction="sum_over_batch_size", name="kl_divergence", dtype=None):
        super().__init__(kl_divergence, reduction=reduction, name=name, dtype=dtype)


class Poisson(LossFunctionWrapper):
    """`mean(y_pred - y_true * log(y_pred))`.

    Example:
    >>> round(float(Poisson()([[1.0]], [[1.0]])), 4)
    1.0
    """

    def __init__(self, reduction="sum_over_batch_size", name="poisson", dtype=None):
        super().__init__(poisson, reduction=reduction, name=name, dtype=dtype)


class CosineSimilarity(LossFunctionWrapper):
    """Negative cosine similarity along `axis` (-1 = same direction).

    Example:
    >>> round(float(CosineSimilarity()([[0.0, 1.0]], [[0.0, 3.0]])), 4)
    -1.0
    """

    def __init__(
        self,
        axis: int = -1,
        reduction="sum_over_batch_size",
        name="cosine_similarity",
        dtype=None,
    ):
        super().__init__(cosine_similarity, reduction=reduction, name=name, dtype=dtype, axis=axis)
        self.axis = axis


class Hinge(LossFunctionWrapper):
    """`mean(maximum(1 - y_true * y_pred, 0))` with labels in {-1, 1} (0/1 converted).

    Example:
    >>> round(float(Hinge()([[1.0]], [[0.25]])), 4)
    0.75
    """

    def __init__(self, reduction="sum_over_batch_size", name="hinge", dtype=None):
        super().__init__(hinge, reduction=reduction, name=name, dtype=dtype)


class SquaredHinge(LossFunctionWrapper):
    """`mean(square(maximum(1 - y_true * y_pred, 0)))`.

    Example:
    >>> round(float(SquaredHinge()([[1.0]], [[0.5]])), 4)
    0.25
    """

    def __init__(self, reduction="sum_over_batch_size", name="squared_hinge", dtype=None):
        super().__init__(squared_hinge, reduction=reduction, name=name, dtype=dtype)


class CategoricalHinge(LossFunctionWrapper):
    """`maximum(neg - pos + 1, 0)` for one-hot labels.

    Example:
    >>> round(float(CategoricalHinge()([[0.0, 1.0]], [[0.3, 0.6]])), 4)
    0.7
    """

    def __init__(self, reduction="sum_over_batch_size", name="categorical_hinge", dtype=None):
        super().__init__(categorical_hinge, reduction=reduction, name=name, dtype=dtype)


# ----------------------------------------------------------------------------------------------
# Lookup and serialization
# ----------------------------------------------------------------------------------------------

_CLASSES = (
    Loss,
    LossFunctionWrapper,
    MeanSquaredError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError,
    Huber,
    LogCosh,
    BinaryCrossentropy,
    BinaryFocalCrossentropy,
    CategoricalCrossentropy,
    SparseCategoricalCrossentropy,
    KLDivergence,
    Poisson,
    CosineSimilarity,
    Hinge,
    SquaredHinge,
    CategoricalHinge,
)
_FUNCTIONS = (
    mean_squared_error,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_logarithmic_error,
    huber,
    log_cosh,
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    sparse_categorical_crossentropy,
    kl_divergence,
    poisson,
    cosine_similarity,
    hinge,
    squared_hinge,
    categorical_hinge,
)
ALL_OBJECTS = {obj.__name__: obj for obj in (*_CLASSES, *_FUNCTIONS)}
ALIASES = {
    "mse": mean_squared_error,
    "MSE": mean_squared_error,
    "mae": mean_absolute_error,
    "MAE": mean_absolute_error,
    "mape": mean_absolute_percentage_error,
    "MAPE": mean_absolute_percentage_error,
    "msle": mean_squared_logarithmic_error,
    "MSLE": mean_squared_logarithmic_error,
    "bce": binary_crossentropy,
    "BCE": binary_crossentropy,
    "kld": kl_divergence,
    "KLD": kl_divergence,
    "logcosh": log_cosh,
}
ALL_OBJECTS_DICT = {**ALL_OBJECTS, **ALIASES}


def serialize(loss) -> dict | str:
    """A loss object or function as a Keras 3 config dict.

    Example:
    >>> serialize(Huber())["class_name"]
    'Huber'
    """
    from .saving import serialization_lib

    return serialization_lib.serialize_keras_object(loss)


def deserialize(config, custom_objects: dict | None = None):
    """Rebuild a loss from `serialize`'s output (or a name).

    Example:
    >>> deserialize({"class_name": "Huber", "config": {"delta": 2.0}}).delta
    2.0
    """
    if isinstance(config, str) and config in ALL_OBJECTS_DICT:
        return ALL_OBJECTS_DICT[config]
    if isinstance(config, dict) and config.get("class_name") in ALL_OBJECTS:
        cls = ALL_OBJECTS[config["class_name"]]
        if inspect.isclass(cls):
            return cls.from_config(config.get("config") or {})
    from .saving import serialization_lib

    return serialization_lib.deserialize_keras_object(config, custom_objects=custom_objects)


def get(identifier):
    """A loss from a name ("mse", "BinaryCrossentropy"), config dict, class, or callable.

    Strings naming a function return the function; names of classes return an instance.

    Example:
    >>> get("mse") is mean_squared_error
    True
    >>> type(get("BinaryCrossentropy")).__name__
    'BinaryCrossentropy'
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        obj = deserialize(identifier)
    elif isinstance(identifier, str):
        obj = ALL_OBJECTS_DICT.get(identifier)
        if obj is None:
            from .saving import object_registration

            obj = object_registration.get_registered_object(identifier)
    else:
        obj = identifier
    if inspect.isclass(obj):
        obj = obj()
    if callable(obj):
        return obj
    raise ValueError(
        f"Could not interpret loss identifier: {identifier!r}. Expected a loss name such as "
        f"'mse' or 'BinaryCrossentropy', a Loss instance, a config dict or a callable."
    )
