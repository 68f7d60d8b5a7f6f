"""Keras 3's per-sample loss functions: `(y_true, y_pred)` to one value per sample.

Each reduces the last axis (or `axis`) and keeps every other one; `Loss` classes add sample
weights and the batch reduction on top.

Example:
>>> from tritonlayers.losses import loss_functions
>>> loss_functions.mean_absolute_error([[0.0, 2.0]], [[1.0, 1.0]]).tolist()
[1.0]
"""

import math
import warnings

import torch
import torch.nn.functional as F

from .. import config
from .loss import _as_tensor, _float_pair, _prepare


def mean_squared_error(y_true, y_pred) -> torch.Tensor:
    """`mean(square(y_true - y_pred), axis=-1)`.

    Example:
    >>> round(float(mean_squared_error([[0.0, 2.0]], [[1.0, 1.0]])[0]), 4)
    1.0
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    # `y_pred - y_true` squares to the same values, and its backward passes the gradient to
    # y_pred without negating a prediction-sized tensor.
    return torch.mean(torch.square(y_pred - y_true), dim=-1)


def mean_absolute_error(y_true, y_pred) -> torch.Tensor:
    """`mean(abs(y_true - y_pred), axis=-1)`.

    Example:
    >>> round(float(mean_absolute_error([[0.0, 2.0]], [[1.0, 1.0]])[0]), 4)
    1.0
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    return torch.mean(torch.abs(y_pred - y_true), dim=-1)  # as in mean_squared_error


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
