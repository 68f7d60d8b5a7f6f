"""One rate at the best threshold subject to a bound on another: `PrecisionAtRecall`,
`RecallAtPrecision`, `SensitivityAtSpecificity`, `SpecificityAtSensitivity`.

Each keeps the four confusion counts at `num_thresholds` evenly spaced thresholds
(`0, 1/(n-1), ..., 1`; a single threshold is 0.5), accumulated on the device by the same
bucketed counting as `AUC`. A prediction is positive at threshold `t` when `y_pred > t`
(predictions are clipped to [0, 1] first), so a prediction of 0 is negative everywhere.
`result()` is the largest value of the dependent rate over the thresholds where the
constrained rate is `>=` the target (0 when none is).
"""

import torch

from ..losses.loss import _divide_no_nan
from .base import Metric
from .confusion_metrics import _prepare, confusion_counts


class _SensitivitySpecificityBase(Metric):
    """The shared state: tp, fp, tn, fn at each threshold, for predictions or one `class_id`."""

    _direction = "up"
    _target_name = ""  # the constructor argument holding the target value

    def __init__(
        self,
        value: float,
        num_thresholds: int = 200,
        class_id: int | None = None,
        name: str | None = None,
        dtype=None,
    ):
        if value < 0 or value > 1:
            raise ValueError(
                f"Argument `{self._target_name}` must be in the range [0, 1]. "
                f"Received: {self._target_name}={value}"
            )
        if num_thresholds <= 0:
            raise ValueError(
                "Argument `num_thresholds` must be an integer > 0. "
                f"Received: num_thresholds={num_thresholds}"
            )
        super().__init__(name=name, dtype=dtype)
        self.value = value
        self.num_thresholds = num_thresholds
        self.class_id = class_id
        if num_thresholds == 1:
            self.thresholds = [0.5]
        else:
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self.thresholds = [0.0, *inner, 1.0]
        self._evenly = num_thresholds > 1
        n = len(self.thresholds)
        self.true_positives = self.add_variable(shape=(n,), name="true_positives")
        self.false_positives = self.add_variable(shape=(n,), name="false_positives")
        self.true_negatives = self.add_variable(shape=(n,), name="true_negatives")
        self.false_negatives = self.add_variable(shape=(n,), name="false_negatives")
        self._threshold_tensor = None

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        """Add this batch's weighted confusion counts at every threshold."""
        dtype = getattr(torch, self.dtype)
        labels, y_pred, weights = _prepare(
            y_true, y_pred, sample_weight, None, self.class_id, dtype
        )
        self._follow(y_pred)
        if self._threshold_tensor is None or self._threshold_tensor.device != y_pred.device:
            self._threshold_tensor = torch.tensor(
                self.thresholds, dtype=dtype, device=y_pred.device
            )
        y_pred = y_pred.detach()
        weights = torch.ones_like(y_pred) if weights is None else weights
        # The bucketed count puts predictions <= 0 above the threshold 0 (right for AUC, whose
        # first threshold is -epsilon); here they are below every threshold, so they only
        # enter the negatives, which come from the totals.
        above_zero = (y_pred > 0).to(dtype)
        tp, fp, _, _ = confusion_counts(
            labels, y_pred, weights * above_zero, self._threshold_tensor, evenly=self._evenly
        )
        positive = labels.to(dtype)
        # Totals minus counts can round below zero; a count never is.
        fn = ((positive * weights).sum() - tp).clamp(min=0.0)
        tn = (((1 - positive) * weights).sum() - fp).clamp(min=0.0)
        with torch.no_grad():
            self.true_positives.add_(tp)
            self.false_positives.add_(fp)
            self.true_negatives.add_(tn)
            self.false_negatives.add_(fn)

    def _rates(self) -> dict[str, torch.Tensor]:
        tp, fp = self.true_positives.detach(), self.false_positives.detach()
        tn, fn = self.true_negatives.detach(), self.false_negatives.detach()
        recall = _divide_no_nan(tp, tp + fn)
        return {
            "recall": recall,
            "sensitivity": recall,
            "precision": _divide_no_nan(tp, tp + fp),
            "specificity": _divide_no_nan(tn, tn + fp),
        }

    def _max_under_constraint(self, constrained: str, dependent: str) -> torch.Tensor:
        """The largest `dependent` rate among thresholds where `constrained >= value`."""
        rates = self._rates()
        feasible = rates[constrained] >= self.value
        return torch.where(feasible, rates[dependent], 0.0).amax().clamp(min=0.0)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "class_id": self.class_id,
            "num_thresholds": self.num_thresholds,
            self._target_name: self.value,
        }


class SensitivityAtSpecificity(_SensitivitySpecificityBase):
    """The best sensitivity, `tp / (tp + fn)`, where specificity `tn / (tn + fp)` is at least
    `specificity`.

    Example:
    >>> m = SensitivityAtSpecificity(0.5)
    >>> m.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8])
    >>> float(m.result())
    0.5
    """

    _target_name = "specificity"

    def __init__(
        self,
        specificity: float,
        num_thresholds: int = 200,
        class_id: int | None = None,
        name: str | None = None,
        dtype=None,
    ):
        super().__init__(specificity, num_thresholds, class_id, name=name, dtype=dtype)
        self.specificity = specificity

    def result(self) -> torch.Tensor:
        return self._max_under_constraint("specificity", "sensitivity")


class SpecificityAtSensitivity(_SensitivitySpecificityBase):
    """The best specificity, `tn / (tn + fp)`, where sensitivity `tp / (tp + fn)` is at least
    `sensitivity`.

    Example:
    >>> m = SpecificityAtSensitivity(0.5)
    >>> m.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8])
    >>> round(float(m.result()), 4)
    0.6667
    """

    _target_name = "sensitivity"

    def __init__(
        self,
        sensitivity: float,
        num_thresholds: int = 200,
        class_id: int | None = None,
        name: str | None = None,
        dtype=None,
    ):
        super().__init__(sensitivity, num_thresholds, class_id, name=name, dtype=dtype)
        self.sensitivity = sensitivity

    def result(self) -> torch.Tensor:
        return self._max_under_constraint("sensitivity", "specificity")


class PrecisionAtRecall(_SensitivitySpecificityBase):
    """The best precision, `tp / (tp + fp)`, where recall `tp / (tp + fn)` is at least `recall`.

    Example:
    >>> m = PrecisionAtRecall(0.5)
    >>> m.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8])
    >>> float(m.result())
    0.5
    """

    _target_name = "recall"

    def __init__(
        self,
        recall: float,
        num_thresholds: int = 200,
        class_id: int | None = None,
        name: str | None = None,
        dtype=None,
    ):
        super().__init__(recall, num_thresholds, class_id, name=name, dtype=dtype)
        self.recall = recall

    def result(self) -> torch.Tensor:
        return self._max_under_constraint("recall", "precision")


class RecallAtPrecision(_SensitivitySpecificityBase):
    """The best recall, `tp / (tp + fn)`, where precision `tp / (tp + fp)` is at least
    `precision` (0 when no threshold reaches it).

    Example:
    >>> m = RecallAtPrecision(0.8)
    >>> m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
    >>> float(m.result())
    0.5
    """

    _target_name = "precision"

    def __init__(
        self,
        precision: float,
        num_thresholds: int = 200,
        class_id: int | None = None,
        name: str | None = None,
        dtype=None,
    ):
        super().__init__(precision, num_thresholds, class_id, name=name, dtype=dtype)
        self.precision = precision

    def result(self) -> torch.Tensor:
        return self._max_under_constraint("precision", "recall")
