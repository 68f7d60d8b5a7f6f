"""`R2Score`: the coefficient of determination per output column, accumulated on the device.

Per column it keeps the weighted sums of `y_true`, `y_true**2` and `(y_true - y_pred)**2` and
the weight total, so `result()` is `1 - SS_res / SS_tot` over everything seen, with
`SS_tot = sum(w * y**2) - sum(w * y)**2 / sum(w)`.
"""

import warnings

import torch

from ..losses.loss import _as_tensor, squeeze_or_expand_to_same_rank
from .base import Metric
from .f_score_metrics import check_batch_by_class, per_element_weights

CLASS_AGGREGATIONS = (None, "uniform_average", "variance_weighted_average")


class R2Score(Metric):
    """R2 (coefficient of determination), optionally adjusted for `num_regressors` predictors.

    `class_aggregation` combines the per-column scores: "uniform_average" (their mean),
    "variance_weighted_average" (weighted by each column's total sum of squares) or None (one
    score per column). A column whose score is infinite (constant labels, nonzero residual)
    scores 0. With `num_regressors=p`, the score is `1 - (1 - R2) * (n - 1) / (n - p - 1)`,
    `n` counting every element seen; if `p >= n - 1` it warns and keeps the plain R2.

    Example:
    >>> m = R2Score()
    >>> m.update_state([[1.0], [4.0], [3.0]], [[2.0], [4.0], [4.0]])
    >>> round(float(m.result()), 4)
    0.5714
    """

    _direction = "up"

    def __init__(
        self,
        class_aggregation: str | None = "uniform_average",
        num_regressors: int = 0,
        name: str = "r2_score",
        dtype=None,
    ):
        super().__init__(name=name, dtype=dtype)
        if class_aggregation not in CLASS_AGGREGATIONS:
            raise ValueError(
                "Invalid value for argument `class_aggregation`. Expected one of "
                f"{CLASS_AGGREGATIONS}. Received: class_aggregation={class_aggregation}"
            )
        if num_regressors < 0:
            raise ValueError(
                "Invalid value for argument `num_regressors`. Expected a value >= 0. "
                f"Received: num_regressors={num_regressors}"
            )
        self.class_aggregation = class_aggregation
        self.num_regressors = num_regressors
        self.num_samples = self.add_variable(shape=(), name="num_samples")
        self._samples_seen = 0  # host copy of num_samples: the adjusted-R2 warnings need no sync
        self.num_classes: int | None = None

    def _build(self, num_classes: int) -> None:
        self.squared_sum = self.add_variable(shape=(num_classes,), name="squared_sum")
        self.sum = self.add_variable(shape=(num_classes,), name="sum")
        self.total_mse = self.add_variable(shape=(num_classes,), name="residual")
        self.count = self.add_variable(shape=(num_classes,), name="count")
        self.num_classes = num_classes

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        dtype = getattr(torch, self.dtype)
        device = None if torch.is_tensor(y_pred) else self._device()
        y_pred = _as_tensor(y_pred, dtype=dtype, device=device).detach()
        y_true = _as_tensor(y_true, dtype=dtype, device=y_pred.device).detach()
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        check_batch_by_class(self, y_true, y_pred, self.num_classes)
        if self.num_classes is None:
            self._build(y_pred.shape[-1])
        self._follow(y_pred)
        squared_error = torch.square(y_true - y_pred)
        with torch.no_grad():
            if sample_weight is None:
                weighted_true = y_true
                self.count.add_(y_true.shape[0])
            else:
                shape, device = y_true.shape, y_true.device
                weight = per_element_weights(self, sample_weight, shape, dtype, device)
                weighted_true, squared_error = y_true * weight, squared_error * weight
                self.count.add_(weight.sum(dim=0))
            self.sum.add_(weighted_true.sum(dim=0))
            self.squared_sum.add_((y_true * weighted_true).sum(dim=0))
            self.total_mse.add_(squared_error.sum(dim=0))
            self.num_samples.add_(y_true.numel())
        self._samples_seen += y_true.numel()

    def result(self) -> torch.Tensor:
        if self.num_classes is None:
            raise ValueError(
                f"R2Score '{self.name}' has no result before its first `update_state`: the "
                "number of output columns comes from the first batch."
            )
        total_sum = self.sum.detach()
        total = self.squared_sum.detach() - total_sum * (total_sum / self.count.detach())
        raw_scores = 1 - self.total_mse.detach() / total
        raw_scores = torch.where(torch.isinf(raw_scores), torch.zeros_like(raw_scores), raw_scores)
        if self.class_aggregation == "uniform_average":
            score = raw_scores.mean()
        elif self.class_aggregation == "variance_weighted_average":
            score = (total * raw_scores).sum() / total.sum()
        else:
            score = raw_scores
        return self._adjust(score)

    def _adjust(self, score: torch.Tensor) -> torch.Tensor:
        p = self.num_regressors
        if p == 0:
            return score
        if p > self._samples_seen - 1:
            warnings.warn(
                "More independent predictors than datapoints in adjusted R2 score. Falling "
                "back to standard R2 score.",
                stacklevel=3,
            )
            return score
        if p == self._samples_seen - 1:
            warnings.warn(
                "Division by zero in Adjusted R2 score. Falling back to standard R2 score.",
                stacklevel=3,
            )
            return score
        n = self.num_samples.detach()
        return 1 - (1 - score) * (n - 1) / (n - p - 1)

    def reset_state(self) -> None:
        super().reset_state()
        self._samples_seen = 0

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "class_aggregation": self.class_aggregation,
            "num_regressors": self.num_regressors,
        }
