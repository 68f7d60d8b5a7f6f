"""Keras 3's per-sample loss functions: `(y_true, y_pred)` to one value per sample.

Each reduces the last axis (or `axis`) and keeps every other one; `Loss` classes add sample
weights and the batch reduction on top.

Example:
>>> from tritonlayers.losses import loss_functions
>>> loss_functions.mean_absolute_error([[0.0, 2.0]], [[1.0, 1.0]]).tolist()
[1.0]
"""

import math
import numbers
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
    # Keras takes the maximum against a floatx epsilon tensor, which promotes float16 inputs.
    dtype = torch.promote_types(y_pred.dtype, getattr(torch, config.floatx()))
    y_true, y_pred = y_true.to(dtype), y_pred.to(dtype)
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


def _check_same_shape(target, output):
    """Keras's error, shapes as the torch backend prints them (`torch.Size([...])`)."""
    if target.shape != output.shape:
        raise ValueError(
            "Arguments `target` and `output` must have the same shape. "
            f"Received: target.shape={target.shape}, output.shape={output.shape}"
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
    _check_same_shape(y_true, y_pred)
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
    _check_same_shape(y_true, y_pred)
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


def _categorical_pair(y_true, y_pred, label_smoothing: float, axis, name: str) -> tuple:
    """Checked float `(y_true, y_pred)` of a categorical loss, labels smoothed towards
    `1 / num_classes`; warns, as Keras does, when there is a single class."""
    if isinstance(axis, bool):
        raise ValueError(
            f"{name}: `axis` must be of type `int`. Received: axis={axis} of type {type(axis)}"
        )
    y_true, y_pred = _float_pair(y_true, y_pred)
    if y_pred.shape[-1] == 1:
        warnings.warn(
            f"In loss {name}, expected y_pred.shape to be (batch_size, num_classes) with "
            f"num_classes > 1. Received: y_pred.shape={tuple(y_pred.shape)}. Consider using "
            "'binary_crossentropy' if you only have 2 classes.",
            SyntaxWarning,
            stacklevel=3,
        )
    _check_same_shape(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[-1]
    return y_true, y_pred


def categorical_crossentropy(
    y_true, y_pred, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1
) -> torch.Tensor:
    """`-sum(y_true * log(y_pred))` over `axis`; probabilities renormalised and clipped.

    Example:
    >>> round(float(categorical_crossentropy([[0.0, 1.0]], [[0.5, 0.5]])[0]), 4)
    0.6931
    """
    y_true, y_pred = _categorical_pair(
        y_true, y_pred, label_smoothing, axis, "categorical_crossentropy"
    )
    if from_logits:
        log_prob = F.log_softmax(y_pred, dim=axis)
    else:
        eps = config.epsilon()
        output = y_pred / torch.sum(y_pred, dim=axis, keepdim=True)
        log_prob = torch.log(torch.clamp(output, eps, 1.0 - eps))
    return -torch.sum(y_true * log_prob, dim=axis)


def categorical_focal_crossentropy(
    y_true,
    y_pred,
    alpha: "float | list[float]" = 0.25,
    gamma: float = 2.0,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> torch.Tensor:
    """`sum(alpha * (1 - p) ** gamma * -y_true * log(p))` over `axis`, `p` the class probabilities.

    `p` is `y_pred` renormalised along `axis` (or its softmax when `from_logits`), clipped
    to `[epsilon, 1 - epsilon]`. `alpha` is one weight, or one per class (last axis).
    `label_smoothing` moves labels towards `1 / num_classes`.

    Example:
    >>> loss = categorical_focal_crossentropy([[0.0, 1.0, 0.0]], [[0.05, 0.9, 0.05]])
    >>> round(float(loss[0]), 6)
    0.000263
    """
    y_true, y_pred = _categorical_pair(
        y_true, y_pred, label_smoothing, axis, "categorical_focal_crossentropy"
    )
    if from_logits:
        y_pred = torch.softmax(y_pred, dim=axis)
    eps = config.epsilon()
    probs = torch.clamp(y_pred / torch.sum(y_pred, dim=axis, keepdim=True), eps, 1.0 - eps)
    if not isinstance(alpha, (int, float)):
        alpha = torch.as_tensor(alpha, dtype=probs.dtype, device=probs.device)
    focal = alpha * torch.pow(1.0 - probs, gamma) * (-y_true * torch.log(probs))
    return torch.sum(focal, dim=axis)


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
            "Arguments `target` and `output` must have the same shape up until the last "
            f"dimension: target.shape={y_true.shape}, output.shape={y_pred.shape}"
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
        # Contiguous: with the classes moved off the last axis the log-probabilities are
        # strided, and the CPU backward of a spatial `nll_loss` refuses a strided input.
        log_probs = torch.log(torch.clamp(output, eps, 1 - eps)).contiguous()
        result = F.nll_loss(log_probs, targets, reduction="none")
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
    # 1 / epsilon overflows float16; the largest finite value is the same cap there.
    cap = min(1.0 / config.epsilon(), torch.finfo(x.dtype).max)
    return x * torch.clamp(inv_norm, max=cap)


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


def _is_integer(x) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def _check_sum_axis(axis, fn_name: str) -> "int | tuple[int, ...] | None":
    """`axis` as `torch.sum` takes it: None (every axis), an int, or a tuple of ints."""
    if axis is None:
        return None
    if _is_integer(axis):
        return int(axis)
    if isinstance(axis, (tuple, list)) and all(_is_integer(a) for a in axis):
        return tuple(int(a) for a in axis)
    raise ValueError(
        f"{fn_name}: `axis` must be None, an int or a tuple of ints. Received: axis={axis!r}"
    )


def _sum(x: torch.Tensor, axis: "int | tuple[int, ...] | None") -> torch.Tensor:
    return torch.sum(x) if axis is None else torch.sum(x, dim=axis)


def _overlap_pair(y_true, y_pred) -> tuple[torch.Tensor, torch.Tensor]:
    y_true, y_pred = _prepare(y_true, y_pred)
    _check_same_shape(y_true, y_pred)
    return y_true, y_pred


def dice(y_true, y_pred, axis: "int | tuple[int, ...] | None" = None) -> torch.Tensor:
    """`1 - 2 * sum(y_true * y_pred) / (sum(y_true) + sum(y_pred) + epsilon)` over `axis`.

    `axis=None` sums over every axis, batch included, and gives one scalar; pass the
    non-batch axes (for images `(1, 2, 3)`) for one value per sample.

    Example:
    >>> y_true = [[1.0, 1.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0]]
    >>> y_pred = [[0.0, 1.0, 0.0, 1.0], [0.4, 0.0, 0.0, 0.9]]
    >>> [round(v, 4) for v in dice(y_true, y_pred, axis=1).tolist()]
    [0.5, 0.7576]
    """
    axis = _check_sum_axis(axis, "dice")
    y_true, y_pred = _overlap_pair(y_true, y_pred)
    intersection = _sum(y_true * y_pred, axis)
    total = _sum(y_true, axis) + _sum(y_pred, axis) + config.epsilon()
    return 1.0 - 2.0 * intersection / total


def tversky(
    y_true,
    y_pred,
    alpha: float = 0.5,
    beta: float = 0.5,
    axis: "int | tuple[int, ...] | None" = None,
) -> torch.Tensor:
    """`1 - I / (I + alpha * A + beta * B + epsilon)`, sums over `axis` (None: all axes).

    `I = sum(y_true * y_pred)`, `A = sum(y_true * (1 - y_pred))` (missed targets) and
    `B = sum((1 - y_true) * y_pred)` (spurious predictions), as Keras 3 weights them.
    `alpha = beta = 0.5` gives the Dice loss.

    Example:
    >>> y_true = [[1.0, 1.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0]]
    >>> y_pred = [[0.0, 1.0, 0.0, 1.0], [0.4, 0.0, 0.0, 0.9]]
    >>> [round(v, 4) for v in tversky(y_true, y_pred, alpha=0.3, beta=0.7, axis=1).tolist()]
    [0.5, 0.7351]
    """
    axis = _check_sum_axis(axis, "tversky")
    y_true, y_pred = _overlap_pair(y_true, y_pred)
    intersection = _sum(y_true * y_pred, axis)
    missed = _sum(y_true * (1.0 - y_pred), axis)
    spurious = _sum((1.0 - y_true) * y_pred, axis)
    denominator = intersection + alpha * missed + beta * spurious + config.epsilon()
    return 1.0 - intersection / denominator


def _labels_as_column(labels, name: str, count: int, device) -> torch.Tensor:
    labels = _as_tensor(labels, device=device)
    if labels.ndim == 2 and labels.shape[-1] == 1:
        labels = labels.squeeze(-1)
    if labels.ndim != 1 or labels.shape[0] != count:
        raise ValueError(
            f"circle: `{name}` must hold one integer label per embedding, shape ({count},) "
            f"or ({count}, 1). Received: {name}.shape={tuple(labels.shape)}"
        )
    return labels.to(torch.int32).unsqueeze(-1)


def _check_embeddings(x: torch.Tensor, name: str) -> None:
    if x.ndim != 2:
        raise ValueError(
            f"circle: `{name}` must be a rank 2 tensor of embeddings (batch_size, dim). "
            f"Received: {name}.shape={tuple(x.shape)}"
        )


def circle(
    y_true,
    y_pred,
    ref_labels=None,
    ref_embeddings=None,
    remove_diagonal: bool = True,
    gamma: float = 80,
    margin: float = 0.4,
) -> torch.Tensor:
    """Circle loss of L2-normalised embeddings `y_pred` with integer labels `y_true`.

    With cosine distances `d = max(1 - y_pred @ ref_embeddings.T, 0)`, each row scores its
    same-label pairs `-gamma * max(margin + d, 0) * (margin - d)` and its other-label pairs
    `gamma * max(1 + margin - d, 0) * (1 - margin - d)`; the loss is
    `softplus(logsumexp(positives) + logsumexp(negatives))` per row. References default to
    the batch itself, where `remove_diagonal` drops each embedding's pair with itself. Rows
    with a zero loss are masked out of the mean (the result carries `_keras_mask`).

    Example:
    >>> embeddings = [[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]]
    >>> [round(v, 4) for v in circle([0, 0, 1], embeddings, gamma=2.0).tolist()]
    [0.5459, 1.2842, 0.0]
    """
    y_pred = _as_tensor(y_pred)
    if not y_pred.is_floating_point():
        y_pred = y_pred.to(getattr(torch, config.floatx()))
    _check_embeddings(y_pred, "y_pred")
    if ref_embeddings is None:
        ref_embeddings = y_pred
    else:
        ref_embeddings = _as_tensor(ref_embeddings, dtype=y_pred.dtype, device=y_pred.device)
        _check_embeddings(ref_embeddings, "ref_embeddings")
    if ref_embeddings.shape[1] != y_pred.shape[1]:
        raise ValueError(
            "circle: `ref_embeddings` must have the embedding size of `y_pred`. Received: "
            f"y_pred.shape={tuple(y_pred.shape)}, ref_embeddings.shape="
            f"{tuple(ref_embeddings.shape)}"
        )
    labels = _labels_as_column(y_true, "y_true", y_pred.shape[0], y_pred.device)
    if ref_labels is None:
        ref = labels
    else:
        ref = _labels_as_column(ref_labels, "ref_labels", ref_embeddings.shape[0], y_pred.device)

    distances = torch.clamp(1.0 - y_pred @ ref_embeddings.T, min=0.0)
    positive = labels == ref.T
    negative = ~positive
    if remove_diagonal:
        positive = positive & ~torch.eye(*positive.shape, dtype=torch.bool, device=y_pred.device)
    # Pairs far from their optimum (0 for positives, 1 for negatives, relaxed by `margin`)
    # get larger weights; the masks zero the weights of pairs of the other kind.
    pos_weights = torch.clamp((margin + distances) * positive, min=0.0)
    neg_weights = torch.clamp((1.0 + margin - distances) * negative, min=0.0)
    pos_logits = -gamma * pos_weights * (margin - distances)
    neg_logits = gamma * neg_weights * (1.0 - margin - distances)
    # A row without pairs of one kind gets logsumexp(-inf, ...) = -inf and a loss of 0.
    minus_inf = torch.tensor(float("-inf"), dtype=distances.dtype, device=distances.device)
    pos_term = torch.logsumexp(torch.where(positive, pos_logits, minus_inf), dim=1)
    neg_term = torch.logsumexp(torch.where(negative, neg_logits, minus_inf), dim=1)
    loss = F.softplus(pos_term + neg_term)
    loss._keras_mask = loss > 0
    return loss


def categorical_generalized_cross_entropy(y_true, y_pred, q: float) -> torch.Tensor:
    """`(1 - p ** q) / q`, `p` the predicted probability of the integer label `y_true`.

    `y_true` holds class indices, shaped like `y_pred` without its last (class) axis, or
    with a last axis of size 1. A label outside `[0, num_classes)` selects no class
    (`p = 0`). `q` near 0 behaves like crossentropy, near 1 like mean absolute error.

    Example:
    >>> probs = [[0.7, 0.3], [0.2, 0.8]]
    >>> [round(v, 4) for v in categorical_generalized_cross_entropy([0, 1], probs, q=0.5).tolist()]
    [0.3267, 0.2111]
    """
    y_pred = _as_tensor(y_pred)
    if not y_pred.is_floating_point():
        y_pred = y_pred.to(getattr(torch, config.floatx()))
    y_true = _as_tensor(y_true, device=y_pred.device)
    if y_true.ndim == y_pred.ndim and y_true.ndim and y_true.shape[-1] == 1:
        y_true = y_true.squeeze(-1)
    if y_pred.ndim < 1 or tuple(y_true.shape) != tuple(y_pred.shape[:-1]):
        raise ValueError(
            "categorical_generalized_cross_entropy: `y_true` must hold integer labels shaped "
            "like `y_pred` without its last (class) axis. Received: "
            f"y_true.shape={tuple(y_true.shape)}, y_pred.shape={tuple(y_pred.shape)}"
        )
    classes = torch.arange(y_pred.shape[-1], device=y_pred.device)
    one_hot = y_true.long().unsqueeze(-1) == classes
    p = torch.sum(torch.where(one_hot, y_pred, torch.zeros_like(y_pred)), dim=-1)
    return (1.0 - torch.pow(p, q)) / q


def ctc(y_true, y_pred) -> torch.Tensor:
    """Per-sample CTC loss of integer labels `y_true` (batch, max_length), 0 the blank and
    padding, under logits `y_pred` (batch, time, num_classes), all time steps used.

    Example:
    >>> y_pred = [[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]]
    >>> round(float(ctc([[1, 0]], y_pred)[0]), 4)
    1.0986
    """
    from ..ops.ctc import ctc_loss

    y_true, y_pred = _as_tensor(y_true), _as_tensor(y_pred)
    if y_true.ndim != 2:
        raise ValueError(
            "Targets `y_true` are expected to be a tensor of shape `(batch_size, max_length)` "
            f"in integer format. Received: y_true.shape={tuple(y_true.shape)}"
        )
    if y_pred.ndim != 3:
        raise ValueError(
            "Logits `y_pred` are expected to be a tensor of shape `(batch_size, max_length, "
            f"num_classes)`. Received: y_pred.shape={tuple(y_pred.shape)}"
        )
    batch, steps = y_pred.shape[:2]
    output_length = torch.full((batch,), steps, dtype=torch.int64, device=y_pred.device)
    target_length = (y_true != 0).sum(dim=-1)
    return ctc_loss(y_true, y_pred, target_length, output_length, mask_index=0)
