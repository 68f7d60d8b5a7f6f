"""Intersection-over-union metrics: `IoU`, `MeanIoU`, `BinaryIoU`, `OneHotIoU`, `OneHotMeanIoU`.

Every one accumulates a `(num_classes, num_classes)` confusion matrix on the device (rows:
labels, columns: predictions) and reads the per-class IoU from it at `result()` time:
`iou = tp / (row_sum + col_sum - tp)`. The result is the mean over `target_class_ids` of
the classes that were seen at all (a class whose denominator is 0 does not count).

As in Keras, the matrix is `int32` unless `dtype` says otherwise, so fractional sample weights
are truncated (Keras warns when it sees a float weight tensor); pass `dtype="float32"` to keep
them. Labels or predictions outside `[0, num_classes)`, and labels equal to `ignore_class`,
are left out of the matrix.
"""

import warnings
from collections.abc import Sequence

import numpy as np
import torch

from .. import config
from ..losses.loss import _as_tensor, _dtype_name
from .base import Metric


def _check_num_classes(metric_name: str, num_classes) -> int:
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)):
        raise ValueError(
            f"{metric_name}: `num_classes` must be a positive integer. "
            f"Received: num_classes={num_classes!r}"
        )
    if num_classes < 1:
        raise ValueError(
            f"{metric_name}: `num_classes` must be a positive integer. "
            f"Received: num_classes={num_classes}"
        )
    return int(num_classes)


class _IoUBase(Metric):
    """The shared confusion matrix `total_cm`, accumulated by `update_state`."""

    _direction = "up"

    def __init__(
        self,
        num_classes: int,
        name: str | None = None,
        dtype=None,
        ignore_class: int | None = None,
        sparse_y_true: bool = True,
        sparse_y_pred: bool = True,
        axis: int = -1,
    ):
        super().__init__(name=name, dtype=_dtype_name(dtype) or "int32")
        self.num_classes = _check_num_classes(type(self).__name__, num_classes)
        self.ignore_class = ignore_class
        self.sparse_y_true = sparse_y_true
        self.sparse_y_pred = sparse_y_pred
        self.axis = axis
        self.total_cm = self.add_variable(
            shape=(self.num_classes, self.num_classes), name="total_confusion_matrix"
        )

    def _class_ids(self, values, sparse: bool, device) -> torch.Tensor:
        """Integer class ids, flattened: `argmax` over `axis` first when not sparse."""
        values = _as_tensor(values, device=device)
        if not sparse:
            values = torch.argmax(values, dim=self.axis)
        # Keras casts to the metric's dtype, then to int: floats truncate toward zero.
        return values.to(getattr(torch, self.dtype)).reshape(-1).to(torch.int64)

    def _weights(self, sample_weight, shape: torch.Size, device) -> torch.Tensor | None:
        if sample_weight is None:
            return None
        state_dtype = getattr(torch, self.dtype)
        is_float = getattr(sample_weight, "dtype", None) is not None and "float" in str(
            sample_weight.dtype
        )
        if is_float and not state_dtype.is_floating_point:
            warnings.warn(
                f"{type(self).__name__} '{self.name}': you are passing weight as `float`, but "
                f"dtype is `{self.dtype}`. This may result in an incorrect weight due to type "
                "casting. Consider using integer weights, or `dtype='float32'`.",
                stacklevel=3,
            )
        weight = _as_tensor(sample_weight, device=device).to(state_dtype)
        if weight.ndim > 1:
            weight = weight.reshape(-1)
        try:
            return torch.broadcast_to(weight, shape)
        except RuntimeError:
            raise ValueError(
                f"{type(self).__name__} '{self.name}': `sample_weight` must be a scalar or hold "
                f"one weight per label ({shape[0]} after flattening); received shape "
                f"{tuple(weight.shape)}."
            ) from None

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        """Add this batch's (weighted) label/prediction pairs to the confusion matrix."""
        device = y_pred.device if torch.is_tensor(y_pred) else self._device()
        y_pred = self._class_ids(y_pred, self.sparse_y_pred, device).detach()
        y_true = self._class_ids(y_true, self.sparse_y_true, y_pred.device).detach()
        if y_true.shape != y_pred.shape:
            raise ValueError(
                f"{type(self).__name__} '{self.name}' expects as many labels as predictions "
                f"(after `argmax` and flattening); received {y_true.shape[0]} labels and "
                f"{y_pred.shape[0]} predictions."
            )
        self._follow(y_pred)
        weight = self._weights(sample_weight, y_true.shape, y_pred.device)
        n = self.num_classes
        valid = (y_true >= 0) & (y_true < n) & (y_pred >= 0) & (y_pred < n)
        if self.ignore_class is not None:
            valid &= y_true != self.ignore_class
        state_dtype = self.total_cm.dtype
        counts = valid.to(state_dtype) if weight is None else torch.where(valid, weight, 0)
        cells = torch.where(valid, y_true * n + y_pred, 0)
        with torch.no_grad():
            self.total_cm.view(-1).index_add_(0, cells, counts.to(state_dtype))


class IoU(_IoUBase):
    """Intersection-over-union, `tp / (tp + fp + fn)`, averaged over `target_class_ids`.

    Labels and predictions are integer class ids (`sparse_y_true`/`sparse_y_pred`), or scores
    turned into ids by `argmax` over `axis` when those are False.

    Example:
    >>> m = IoU(num_classes=2, target_class_ids=[0])
    >>> m.update_state([0, 0, 1, 1], [0, 1, 0, 1])
    >>> round(float(m.result()), 4)
    0.3333
    """

    def __init__(
        self,
        num_classes: int,
        target_class_ids: Sequence[int],
        name: str | None = None,
        dtype=None,
        ignore_class: int | None = None,
        sparse_y_true: bool = True,
        sparse_y_pred: bool = True,
        axis: int = -1,
    ):
        super().__init__(
            num_classes,
            name=name,
            dtype=dtype,
            ignore_class=ignore_class,
            sparse_y_true=sparse_y_true,
            sparse_y_pred=sparse_y_pred,
            axis=axis,
        )
        target_class_ids = [int(i) for i in target_class_ids]
        if not target_class_ids:
            raise ValueError(
                f"{type(self).__name__}: `target_class_ids` must name at least one class id "
                f"in [0, {self.num_classes}). Received: target_class_ids={target_class_ids}"
            )
        if max(target_class_ids) >= self.num_classes:
            raise ValueError(
                f"Target class id {max(target_class_ids)} is out of range, which is "
                f"[0, {self.num_classes})."
            )
        self.target_class_ids = target_class_ids
        self._target_index = None

    def result(self) -> torch.Tensor:
        cm = self.total_cm.detach()
        dtype = cm.dtype if cm.dtype.is_floating_point else torch.float32
        if self._target_index is None or self._target_index.device != cm.device:
            self._target_index = torch.tensor(self.target_class_ids, device=cm.device)
        true_positives = torch.diagonal(cm).to(dtype)
        denominator = cm.sum(dim=0).to(dtype) + cm.sum(dim=1).to(dtype) - true_positives
        true_positives = true_positives[self._target_index]
        denominator = denominator[self._target_index]
        valid = denominator > 1e-9
        eps = config.epsilon()
        iou = torch.where(valid, true_positives / (denominator + eps), 0.0)
        return iou.sum() / (valid.to(dtype).sum() + eps)

    # The constructor arguments `get_config` returns (each subclass lists its own, as Keras).
    _CONFIG_KEYS = (
        "name",
        "dtype",
        "num_classes",
        "target_class_ids",
        "ignore_class",
        "sparse_y_true",
        "sparse_y_pred",
        "axis",
    )

    def get_config(self) -> dict:
        return {key: getattr(self, key) for key in self._CONFIG_KEYS}


class BinaryIoU(IoU):
    """IoU of classes 0 and/or 1 after thresholding: `y_pred >= threshold` is class 1.

    Example:
    >>> m = BinaryIoU(target_class_ids=[0, 1], threshold=0.3)
    >>> m.update_state([0, 1, 0, 1], [0.1, 0.2, 0.4, 0.7])
    >>> round(float(m.result()), 4)
    0.3333
    """

    def __init__(
        self,
        target_class_ids: Sequence[int] = (0, 1),
        threshold: float = 0.5,
        name: str | None = None,
        dtype=None,
    ):
        super().__init__(2, target_class_ids, name=name, dtype=dtype)
        self.threshold = threshold

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        """Threshold `y_pred` into class ids 0/1, then count as `IoU` does."""
        device = y_pred.device if torch.is_tensor(y_pred) else self._device()
        y_pred = _as_tensor(y_pred, dtype=torch.float32, device=device)
        super().update_state(y_true, (y_pred >= self.threshold).to(torch.int32), sample_weight)

    _CONFIG_KEYS = ("target_class_ids", "threshold", "name", "dtype")


class MeanIoU(IoU):
    """The mean IoU over all `num_classes` classes (those seen at least once).

    Example:
    >>> m = MeanIoU(num_classes=2)
    >>> m.update_state([0, 0, 1, 1], [0, 1, 0, 1], sample_weight=[3, 3, 3, 1])
    >>> round(float(m.result()), 4)
    0.2381
    """

    def __init__(
        self,
        num_classes: int,
        name: str | None = None,
        dtype=None,
        ignore_class: int | None = None,
        sparse_y_true: bool = True,
        sparse_y_pred: bool = True,
        axis: int = -1,
    ):
        num_classes = _check_num_classes(type(self).__name__, num_classes)
        super().__init__(
            num_classes,
            list(range(num_classes)),
            name=name,
            dtype=dtype,
            ignore_class=ignore_class,
            sparse_y_true=sparse_y_true,
            sparse_y_pred=sparse_y_pred,
            axis=axis,
        )

    _CONFIG_KEYS = (
        "num_classes",
        "name",
        "dtype",
        "ignore_class",
        "sparse_y_true",
        "sparse_y_pred",
        "axis",
    )


class OneHotIoU(IoU):
    """`IoU` for one-hot labels: labels (and, unless `sparse_y_pred`, predictions) go through
    `argmax` over `axis`.

    Example:
    >>> m = OneHotIoU(num_classes=3, target_class_ids=[0, 2])
    >>> m.update_state([[0, 0, 1], [1, 0, 0], [0, 1, 0], [1, 0, 0]],
    ...                [[0.2, 0.3, 0.5], [0.1, 0.2, 0.7], [0.5, 0.3, 0.1], [0.1, 0.4, 0.5]],
    ...                sample_weight=[1, 2, 3, 4])
    >>> round(float(m.result()), 4)
    0.0714
    """

    def __init__(
        self,
        num_classes: int,
        target_class_ids: Sequence[int],
        name: str | None = None,
        dtype=None,
        ignore_class: int | None = None,
        sparse_y_pred: bool = False,
        axis: int = -1,
    ):
        super().__init__(
            num_classes,
            target_class_ids,
            name=name,
            dtype=dtype,
            ignore_class=ignore_class,
            sparse_y_true=False,
            sparse_y_pred=sparse_y_pred,
            axis=axis,
        )

    _CONFIG_KEYS = (
        "num_classes",
        "target_class_ids",
        "name",
        "dtype",
        "ignore_class",
        "sparse_y_pred",
        "axis",
    )


class OneHotMeanIoU(MeanIoU):
    """`MeanIoU` for one-hot labels: labels (and, unless `sparse_y_pred`, predictions) go
    through `argmax` over `axis`.

    Example:
    >>> m = OneHotMeanIoU(num_classes=3)
    >>> m.update_state([[0, 0, 1], [1, 0, 0], [0, 1, 0], [1, 0, 0]],
    ...                [[0.2, 0.3, 0.5], [0.1, 0.2, 0.7], [0.5, 0.3, 0.1], [0.1, 0.4, 0.5]],
    ...                sample_weight=[1, 2, 3, 4])
    >>> round(float(m.result()), 4)
    0.0476
    """

    def __init__(
        self,
        num_classes: int,
        name: str | None = None,
        dtype=None,
        ignore_class: int | None = None,
        sparse_y_pred: bool = False,
        axis: int = -1,
    ):
        super().__init__(
            num_classes,
            name=name,
            dtype=dtype,
            ignore_class=ignore_class,
            sparse_y_true=False,
            sparse_y_pred=sparse_y_pred,
            axis=axis,
        )

    _CONFIG_KEYS = ("num_classes", "name", "dtype", "ignore_class", "sparse_y_pred", "axis")
