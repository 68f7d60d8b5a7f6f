"""Confusion-matrix metrics: the four counts (TruePositives, ...), Precision, Recall and AUC,
accumulated per threshold on the device.

Counting rule (Keras's): an element is predicted positive at threshold `t` when
`y_pred > t`; its label is positive when `y_true != 0`; sample weights broadcast over each
sample's elements. AUC's default thresholds are evenly spaced, so AUC buckets predictions
(`ceil(p * (T - 1)) - 1`) and takes reverse cumulative sums instead of comparing every element
with every threshold, as Keras does.
"""

import numpy as np
import torch

from .. import config
from ..losses.loss import _as_tensor, _divide_no_nan, squeeze_or_expand_to_same_rank
from .base import Metric

NEG_INF = -1e10


def _evenly_spaced(thresholds: np.ndarray) -> bool:
    """Whether thresholds are `i / (n - 1)` for i in 0..n-1 (Keras's fast-path test)."""
    n = len(thresholds)
    if n < 3:
        return False
    expected = np.arange(n, dtype=np.float32) / (n - 1)
    return bool(np.allclose(thresholds, expected, atol=config.epsilon()))


def _filter_top_k(y_pred: torch.Tensor, k: int) -> torch.Tensor:
    """Keep each row's `k` largest predictions; push the rest to NEG_INF."""
    kth = torch.topk(y_pred, k, dim=-1).values[..., -1:]
    return torch.where(y_pred >= kth, y_pred, torch.full_like(y_pred, NEG_INF))


def _prepare(y_true, y_pred, sample_weight, top_k, class_id, dtype):
    y_pred = _as_tensor(y_pred, dtype=dtype)
    y_true = _as_tensor(y_true, dtype=dtype, device=y_pred.device)
    y_pred, y_true = squeeze_or_expand_to_same_rank(y_pred, y_true)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            "Confusion-matrix metrics (AUC, Precision, Recall, TruePositives, ...) expect "
            "`y_true` and `y_pred` of the same shape. Received: "
            f"y_true.shape={tuple(y_true.shape)}, y_pred.shape={tuple(y_pred.shape)}"
        )
    if sample_weight is not None:
        sample_weight = _as_tensor(sample_weight, dtype=dtype, device=y_pred.device)
        sample_weight = sample_weight.unsqueeze(-1)
        _, sample_weight = squeeze_or_expand_to_same_rank(y_true, sample_weight, False)
    if top_k is not None:
        y_pred = _filter_top_k(y_pred, top_k)
    if class_id is not None:
        if y_pred.ndim == 1:
            raise ValueError(
                "When class_id is provided, y_pred must be a 2D array with shape "
                f"(num_samples, num_classes), found shape: {tuple(y_pred.shape)}"
            )
        y_true = y_true[..., class_id, None]
        y_pred = y_pred[..., class_id, None]
    weights = None
    if sample_weight is not None:
        weights = torch.broadcast_to(sample_weight, y_pred.shape)
    return y_true != 0, y_pred, weights


def confusion_counts(labels, y_pred, weights, thresholds, multi_label=False, evenly=False):
    """(tp, fp, tn, fn) per threshold: shape (T,), or (T, labels) when `multi_label`.

    Example:
    >>> import torch
    >>> labels, scores = torch.tensor([True, False, True]), torch.tensor([0.9, 0.6, 0.2])
    >>> [c.tolist() for c in confusion_counts(labels, scores, None, torch.tensor([0.5]))]
    [[1.0], [1.0], [0.0], [1.0]]
    """
    if not multi_label:
        labels, y_pred = labels.reshape(-1), y_pred.reshape(-1)
        weights = None if weights is None else weights.reshape(-1)
    positive = labels.to(y_pred.dtype)
    if weights is not None:
        positive_w, negative_w = positive * weights, (1 - positive) * weights
    else:
        positive_w, negative_w = positive, 1 - positive
    if evenly:
        tp, fp = _bucketed_counts(y_pred, positive_w, negative_w, thresholds)
    else:
        above = (y_pred.unsqueeze(0) > thresholds.reshape(-1, *([1] * y_pred.ndim))).to(
            y_pred.dtype
        )
        tp = (above * positive_w).sum(dim=1)
        fp = (above * negative_w).sum(dim=1)
    tn = negative_w.sum(dim=0) - fp
    fn = positive_w.sum(dim=0) - tp
    return tp, fp, tn, fn


def _bucketed_counts(y_pred, positive_w, negative_w, thresholds):
    """Bucket each prediction by the highest threshold below it, then reverse-cumsum."""
    n = thresholds.shape[0]
    buckets = torch.ceil(torch.clamp(y_pred, 0.0, 1.0) * (n - 1)) - 1
    buckets = torch.clamp(buckets, min=0).long()
    shape = (n, *y_pred.shape[1:])
    tp_buckets = torch.zeros(shape, dtype=y_pred.dtype, device=y_pred.device)
    fp_buckets = torch.zeros(shape, dtype=y_pred.dtype, device=y_pred.device)
    tp_buckets.scatter_add_(0, buckets, positive_w)
    fp_buckets.scatter_add_(0, buckets, negative_w)
    tp = torch.flip(torch.cumsum(torch.flip(tp_buckets, (0,)), 0), (0,))
    fp = torch.flip(torch.cumsum(torch.flip(fp_buckets, (0,)), 0), (0,))
    return tp, fp


def _parse_thresholds(thresholds, default: float) -> list[float]:
    if thresholds is None:
        return [default]
    values = [thresholds] if isinstance(thresholds, (int, float)) else list(thresholds)
    for t in values:
        if not 0 <= t <= 1 and t != NEG_INF:
            raise ValueError(f"Threshold values must be in [0, 1]. Received: {thresholds}")
    return [float(t) for t in values]


class _ConfusionCount(Metric):
    """The weighted count of one confusion-matrix cell at each threshold (default 0.5)."""

    _cell = 0  # index into confusion_counts' (tp, fp, tn, fn)

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.thresholds = _parse_thresholds(thresholds, 0.5)
        self.accumulator = self.add_variable(shape=(len(self.thresholds),), name="accumulator")
        self._threshold_tensor = None

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        dtype = getattr(torch, self.dtype)
        labels, y_pred, weights = _prepare(y_true, y_pred, sample_weight, None, None, dtype)
        self._follow(y_pred)
        if self._threshold_tensor is None or self._threshold_tensor.device != y_pred.device:
            self._threshold_tensor = torch.tensor(
                self.thresholds, dtype=dtype, device=y_pred.device
            )
        counts = confusion_counts(labels, y_pred.detach(), weights, self._threshold_tensor)
        with torch.no_grad():
            self.accumulator.add_(counts[self._cell])

    def result(self) -> torch.Tensor:
        value = self.accumulator.detach()
        return value[0] if len(self.thresholds) == 1 else value

    def get_config(self) -> dict:
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_ConfusionCount):
    """Weighted count of positive labels predicted above the threshold.

    Example:
    >>> m = TruePositives()
    >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    >>> float(m.result())
    2.0
    """

    _cell = 0
    _direction = "up"

    def __init__(self, thresholds=None, name="true_positives", dtype=None):
        super().__init__(thresholds, name=name, dtype=dtype)


class FalsePositives(_ConfusionCount):
    """Weighted count of negative labels predicted above the threshold.

    Example:
    >>> m = FalsePositives()
    >>> m.update_state([0, 1, 0, 0], [0, 0, 1, 1])
    >>> float(m.result())
    2.0
    """

    _cell = 1
    _direction = "down"

    def __init__(self, thresholds=None, name="false_positives", dtype=None):
        super().__init__(thresholds, name=name, dtype=dtype)


class TrueNegatives(_ConfusionCount):
    """Weighted count of negative labels predicted at or below the threshold.

    Example:
    >>> m = TrueNegatives()
    >>> m.update_state([0, 1, 0, 0], [1, 1, 0, 0])
    >>> float(m.result())
    2.0
    """

    _cell = 2
    _direction = "up"

    def __init__(self, thresholds=None, name="true_negatives", dtype=None):
        super().__init__(thresholds, name=name, dtype=dtype)


class FalseNegatives(_ConfusionCount):
    """Weighted count of positive labels predicted at or below the threshold.

    Example:
    >>> m = FalseNegatives()
    >>> m.update_state([0, 1, 1, 1], [0, 1, 0, 0])
    >>> float(m.result())
    2.0
    """

    _cell = 3
    _direction = "down"

    def __init__(self, thresholds=None, name="false_negatives", dtype=None):
        super().__init__(thresholds, name=name, dtype=dtype)


class _PrecisionRecall(Metric):
    """Shared state of Precision and Recall: true positives and one error count."""

    _error_kind = ""
    _direction = "up"

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        default = 0.5 if top_k is None else NEG_INF
        self.thresholds = _parse_thresholds(thresholds, default)
        self._evenly = _evenly_spaced(np.array(self.thresholds))
        n = len(self.thresholds)
        self.true_positives = self.add_variable(shape=(n,), name="true_positives")
        self._errors = self.add_variable(shape=(n,), name=self._error_kind)
        self._threshold_tensor = None

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        dtype = getattr(torch, self.dtype)
        labels, y_pred, weights = _prepare(
            y_true, y_pred, sample_weight, self.top_k, self.class_id, dtype
        )
        self._follow(y_pred)
        if self._threshold_tensor is None or self._threshold_tensor.device != y_pred.device:
            self._threshold_tensor = torch.tensor(
                self.thresholds, dtype=dtype, device=y_pred.device
            )
        tp, fp, _, fn = confusion_counts(
            labels, y_pred.detach(), weights, self._threshold_tensor, evenly=self._evenly
        )
        with torch.no_grad():
            self.true_positives.add_(tp)
            self._errors.add_(fp if self._error_kind == "false_positives" else fn)

    def result(self) -> torch.Tensor:
        tp = self.true_positives.detach()
        value = _divide_no_nan(tp, tp + self._errors.detach())
        return value[0] if len(self.thresholds) == 1 else value

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "thresholds": self.init_thresholds,
            "top_k": self.top_k,
            "class_id": self.class_id,
        }


class Precision(_PrecisionRecall):
    """`true_positives / (true_positives + false_positives)` at each threshold (default 0.5).

    Example:
    >>> m = Precision()
    >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    >>> round(float(m.result()), 4)
    0.6667
    """

    _error_kind = "false_positives"

    def __init__(self, thresholds=None, top_k=None, class_id=None, name="precision", dtype=None):
        super().__init__(thresholds, top_k, class_id, name=name, dtype=dtype)
        self.false_positives = self._errors


class Recall(_PrecisionRecall):
    """`true_positives / (true_positives + false_negatives)` at each threshold (default 0.5).

    Example:
    >>> m = Recall()
    >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    >>> round(float(m.result()), 4)
    0.6667
    """

    _error_kind = "false_negatives"

    def __init__(self, thresholds=None, top_k=None, class_id=None, name="recall", dtype=None):
        super().__init__(thresholds, top_k, class_id, name=name, dtype=dtype)
        self.false_negatives = self._errors


class AUC(Metric):
    """Area under the ROC or PR curve, by a Riemann sum over `num_thresholds` thresholds.

    `summation_method="interpolation"` uses trapezoids for ROC and Davis & Goadrich's
    interpolation for PR; "minoring"/"majoring" use the lower/upper step.

    Example:
    >>> m = AUC(num_thresholds=3)
    >>> m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
    >>> round(float(m.result()), 4)
    0.75
    """

    _direction = "up"

    def __init__(
        self,
        num_thresholds: int = 200,
        curve: str = "ROC",
        summation_method: str = "interpolation",
        name: str = "auc",
        dtype=None,
        thresholds=None,
        multi_label: bool = False,
        num_labels: int | None = None,
        label_weights=None,
        from_logits: bool = False,
    ):
        super().__init__(name=name, dtype=dtype)
        curve, summation_method = str(curve).upper(), str(summation_method).lower()
        if curve not in ("ROC", "PR"):
            raise ValueError(f'Invalid `curve` argument value "{curve}". Expected one of: ROC, PR')
        if summation_method not in ("interpolation", "minoring", "majoring"):
            raise ValueError(
                f'Invalid `summation_method` argument value "{summation_method}". Expected '
                "one of: interpolation, minoring, majoring"
            )
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            inner = sorted(float(t) for t in thresholds)
            self.num_thresholds = len(inner) + 2
            self._evenly = _evenly_spaced(np.array([0.0, *inner, 1.0]))
        else:
            if num_thresholds <= 1:
                raise ValueError(
                    "Argument `num_thresholds` must be an integer > 1. "
                    f"Received: num_thresholds={num_thresholds}"
                )
            self.num_thresholds = num_thresholds
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self._evenly = True
        eps = config.epsilon()
        self._thresholds = np.array([0.0 - eps, *inner, 1.0 + eps])
        self.curve = curve
        self.summation_method = summation_method
        self.multi_label = multi_label
        self.num_labels = num_labels
        self.label_weights = None if label_weights is None else list(label_weights)
        self._from_logits = from_logits
        if num_labels and not multi_label:
            raise ValueError("`num_labels` is needed only when `multi_label` is True.")
        self._built = False
        self._threshold_tensor = None
        self._label_weight_tensor = None
        if self.label_weights is not None:
            self._label_weight_tensor = torch.tensor(self.label_weights, dtype=torch.float32)
        if not multi_label:
            self._build(())
        elif num_labels:
            self._build((num_labels,))

    @property
    def thresholds(self) -> list[float]:
        """The thresholds, including the two end points just outside [0, 1]."""
        return list(self._thresholds)

    def _build(self, label_shape: tuple) -> None:
        shape = (self.num_thresholds, *label_shape)
        self.true_positives = self.add_variable(shape=shape, name="true_positives")
        self.false_positives = self.add_variable(shape=shape, name="false_positives")
        self.true_negatives = self.add_variable(shape=shape, name="true_negatives")
        self.false_negatives = self.add_variable(shape=shape, name="false_negatives")
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        dtype = getattr(torch, self.dtype)
        if not self._built:
            if _as_tensor(y_pred).ndim != 2:
                raise ValueError(
                    "`y_pred` must have rank 2 when `multi_label=True`. "
                    f"Found rank {_as_tensor(y_pred).ndim}. "
                    f"Full shape received for `y_pred`: {tuple(_as_tensor(y_pred).shape)}"
                )
            self._build((_as_tensor(y_pred).shape[1],))
        if self._from_logits:
            y_pred = torch.sigmoid(_as_tensor(y_pred, dtype=dtype))
        labels, y_pred, weights = _prepare(y_true, y_pred, sample_weight, None, None, dtype)
        self._follow(y_pred)
        if self._threshold_tensor is None or self._threshold_tensor.device != y_pred.device:
            # Copied to the device once; later updates never transfer from the host.
            self._threshold_tensor = torch.tensor(
                self._thresholds, dtype=dtype, device=y_pred.device
            )
            if self.label_weights is not None:
                self._label_weight_tensor = torch.tensor(
                    self.label_weights, dtype=dtype, device=y_pred.device
                )
        if self.label_weights is not None and not self.multi_label:
            label_weights = torch.broadcast_to(self._label_weight_tensor, y_pred.shape)
            weights = label_weights if weights is None else weights * label_weights
        counts = confusion_counts(
            labels, y_pred.detach(), weights, self._threshold_tensor, self.multi_label, self._evenly
        )
        with torch.no_grad():
            for variable, count in zip(
                (
                    self.true_positives,
                    self.false_positives,
                    self.true_negatives,
                    self.false_negatives,
                ),
                counts,
            ):
                variable.add_(count)

    def _by_label(self, per_threshold: torch.Tensor) -> torch.Tensor:
        by_label = per_threshold.sum(dim=0)
        if not self.multi_label:
            return by_label
        if self.label_weights is None:
            return by_label.mean()
        weights = self._label_weight_tensor.to(by_label.device)
        return _divide_no_nan((by_label * weights).sum(), weights.sum())

    def _interpolate_pr_auc(self, tp, fp, fn) -> torch.Tensor:
        """Davis & Goadrich: precision varies with `tp / p` as both change linearly in a bucket."""
        d_tp = tp[:-1] - tp[1:]
        p = tp + fp
        d_p = p[:-1] - p[1:]
        slope = _divide_no_nan(d_tp, torch.clamp(d_p, min=0))
        intercept = tp[1:] - slope * p[1:]
        both_positive = (p[:-1] > 0) & (p[1:] > 0)
        ratio = torch.where(
            both_positive, _divide_no_nan(p[:-1], torch.clamp(p[1:], min=0)), torch.ones_like(p[1:])
        )
        increments = _divide_no_nan(
            slope * (d_tp + intercept * torch.log(ratio)), torch.clamp(tp[1:] + fn[1:], min=0)
        )
        return self._by_label(increments)

    def result(self) -> torch.Tensor:
        tp, fp = self.true_positives.detach(), self.false_positives.detach()
        tn, fn = self.true_negatives.detach(), self.false_negatives.detach()
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolate_pr_auc(tp, fp, fn)
        recall = _divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = _divide_no_nan(fp, fp + tn), recall
        else:
            x, y = recall, _divide_no_nan(tp, tp + fp)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = torch.minimum(y[:-1], y[1:])
        else:
            heights = torch.maximum(y[:-1], y[1:])
        return self._by_label((x[:-1] - x[1:]) * heights)

    def reset_state(self) -> None:
        if self._built:
            super().reset_state()

    def get_config(self) -> dict:
        config = {
            **super().get_config(),
            "num_thresholds": self.num_thresholds,
            "curve": self.curve,
            "summation_method": self.summation_method,
            "multi_label": self.multi_label,
            "num_labels": self.num_labels,
            "label_weights": self.label_weights,
            "from_logits": self._from_logits,
        }
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return config
