"""F-scores: `FBetaScore` and `F1Score`, per class or averaged, accumulated on the device.

Predictions become 0/1 first: with `threshold=None` each row's largest value is 1 (every
tied maximum, and never a value within 1e-9 of zero), otherwise `y_pred > threshold`.
True positives, false positives, false negatives and the support (sum of `y_true`) are summed
per class ("micro": over everything) with the sample weights; `result()` turns them into
`(1 + beta**2) * p * r / (beta**2 * p + r)`, each division padded by `epsilon` as Keras does.
"""

import torch

from .. import config
from ..losses.loss import _as_tensor
from .base import Metric

AVERAGES = (None, "micro", "macro", "weighted")


def check_batch_by_class(
    metric: Metric, y_true: torch.Tensor, y_pred: torch.Tensor, num_classes: int | None
) -> None:
    """Raise unless `y_true` and `y_pred` are both `(batch, num_classes)`, the same shape.

    Example:
    >>> import torch
    >>> check_batch_by_class(Metric(name="m"), torch.zeros(4, 3), torch.zeros(4, 3), 3)
    """
    name = type(metric).__name__
    true_shape, pred_shape = tuple(y_true.shape), tuple(y_pred.shape)
    if len(pred_shape) != 2 or len(true_shape) != 2:
        raise ValueError(
            f"{name} expects 2D inputs with shape (batch_size, output_dim). Received input "
            f"shapes: y_pred.shape={pred_shape} and y_true.shape={true_shape}."
        )
    if true_shape != pred_shape:
        raise ValueError(
            f"{name} expects y_true and y_pred of the same shape (batch_size, output_dim). "
            f"Received input shapes: y_pred.shape={pred_shape} and y_true.shape={true_shape}."
        )
    if num_classes is not None and pred_shape[-1] != num_classes:
        raise ValueError(
            f"{name} '{metric.name}' was built for output_dim={num_classes} by its first "
            f"batch; received y_pred.shape={pred_shape}. Use a new metric for a different "
            "number of classes."
        )


def per_element_weights(
    metric: Metric, sample_weight, shape: torch.Size, dtype: torch.dtype, device: torch.device
) -> torch.Tensor:
    """`sample_weight` (scalar, `(batch,)`, `(batch, 1)` or `shape`) broadcast to `shape`.

    Example:
    >>> import torch
    >>> w = per_element_weights(Metric(name="m"), [1.0, 2.0], torch.Size([2, 3]), torch.float32,
    ...                         torch.device("cpu"))
    >>> w[:, 0].tolist()
    [1.0, 2.0]
    """
    weight = _as_tensor(sample_weight, dtype=dtype, device=device)
    if weight.ndim == 1:
        weight = weight.unsqueeze(1)
    try:
        return torch.broadcast_to(weight, shape)
    except RuntimeError:
        raise ValueError(
            f"{type(metric).__name__} '{metric.name}': `sample_weight` must be a scalar, of shape "
            f"(batch_size,) or broadcastable to {tuple(shape)}; received shape "
            f"{tuple(weight.shape)}."
        ) from None


class FBetaScore(Metric):
    """The F-beta score, `(1 + b2) * precision * recall / (b2 * precision + recall)`, b2 = beta**2.

    `average=None` returns one score per class; "micro" counts over all classes at once;
    "macro" is the plain mean of the per-class scores; "weighted" weights them by support.
    Inputs are `(batch_size, num_classes)`; the state is built from the first batch.

    Example:
    >>> m = FBetaScore(beta=2.0, threshold=0.5)
    >>> m.update_state([[1, 1, 1], [1, 0, 0], [1, 1, 0]],
    ...                [[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]])
    >>> [round(v, 4) for v in m.result().tolist()]
    [0.3846, 0.9091, 0.8333]
    """

    _direction = "up"

    def __init__(
        self,
        average: str | None = None,
        beta: float = 1.0,
        threshold: float | None = None,
        name: str = "fbeta_score",
        dtype=None,
    ):
        super().__init__(name=name, dtype=dtype)
        if average not in AVERAGES:
            raise ValueError(
                "Invalid `average` argument value. Expected one of: "
                f"{{None, 'micro', 'macro', 'weighted'}}. Received: average={average}"
            )
        if not isinstance(beta, float):
            raise ValueError(
                "Invalid `beta` argument value. It should be a Python float. "
                f"Received: beta={beta} of type '{type(beta)}'"
            )
        if beta <= 0.0:
            raise ValueError(
                f"Invalid `beta` argument value. It should be > 0. Received: beta={beta}"
            )
        if threshold is not None:
            if not isinstance(threshold, float):
                raise ValueError(
                    "Invalid `threshold` argument value. It should be a Python float. "
                    f"Received: threshold={threshold} of type '{type(threshold)}'"
                )
            if threshold > 1.0 or threshold <= 0.0:
                raise ValueError(
                    "Invalid `threshold` argument value. It should verify 0 < threshold <= 1. "
                    f"Received: threshold={threshold}"
                )
        self.average = average
        self.beta = beta
        self.threshold = threshold
        self.axis = None if average == "micro" else 0
        self.num_classes: int | None = None

    def _build(self, num_classes: int) -> None:
        shape = () if self.average == "micro" else (num_classes,)
        self.true_positives = self.add_variable(shape=shape, name="true_positives")
        self.false_positives = self.add_variable(shape=shape, name="false_positives")
        self.false_negatives = self.add_variable(shape=shape, name="false_negatives")
        self.intermediate_weights = self.add_variable(shape=shape, name="intermediate_weights")
        self.num_classes = num_classes

    def _binarize(self, y_pred: torch.Tensor) -> torch.Tensor:
        if self.threshold is not None:
            return (y_pred > self.threshold).to(y_pred.dtype)
        row_max = torch.amax(y_pred, dim=-1, keepdim=True)
        return ((y_pred >= row_max) & (torch.abs(y_pred) > 1e-9)).to(y_pred.dtype)

    def _sum(self, values: torch.Tensor) -> torch.Tensor:
        return values.sum() if self.axis is None else values.sum(dim=self.axis)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        dtype = getattr(torch, self.dtype)
        device = None if torch.is_tensor(y_pred) else self._device()
        y_pred = _as_tensor(y_pred, dtype=dtype, device=device).detach()
        y_true = _as_tensor(y_true, dtype=dtype, device=y_pred.device).detach()
        check_batch_by_class(self, y_true, y_pred, self.num_classes)
        if self.num_classes is None:
            self._build(y_pred.shape[-1])
        self._follow(y_pred)
        predicted = self._binarize(y_pred)
        if sample_weight is not None:
            weight = per_element_weights(self, sample_weight, y_pred.shape, dtype, y_pred.device)
            predicted_w, true_w = predicted * weight, y_true * weight
        else:
            predicted_w, true_w = predicted, y_true
        with torch.no_grad():
            self.true_positives.add_(self._sum(predicted_w * y_true))
            self.false_positives.add_(self._sum(predicted_w * (1 - y_true)))
            self.false_negatives.add_(self._sum((1 - predicted) * true_w))
            self.intermediate_weights.add_(self._sum(true_w))

    def result(self) -> torch.Tensor:
        if self.num_classes is None:
            raise ValueError(
                f"{type(self).__name__} '{self.name}' has no result before its first "
                "`update_state`: the number of classes comes from the first batch."
            )
        eps = config.epsilon()
        tp = self.true_positives.detach()
        precision = tp / (tp + self.false_positives.detach() + eps)
        recall = tp / (tp + self.false_negatives.detach() + eps)
        b2 = self.beta**2
        score = (1 + b2) * (precision * recall / (b2 * precision + recall + eps))
        if self.average == "weighted":
            support = self.intermediate_weights.detach()
            return (score * (support / (support.sum() + eps))).sum()
        if self.average is not None:
            return score.mean()
        return score

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "average": self.average,
            "beta": self.beta,
            "threshold": self.threshold,
        }


class F1Score(FBetaScore):
    """The F1 score, `2 * precision * recall / (precision + recall)`: `FBetaScore(beta=1.0)`.

    Example:
    >>> m = F1Score(threshold=0.5)
    >>> m.update_state([[1, 1, 1], [1, 0, 0], [1, 1, 0]],
    ...                [[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]])
    >>> [round(v, 4) for v in m.result().tolist()]
    [0.5, 0.8, 0.6667]
    """

    def __init__(
        self,
        average: str | None = None,
        threshold: float | None = None,
        name: str = "f1_score",
        dtype=None,
    ):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["beta"]
        return config
