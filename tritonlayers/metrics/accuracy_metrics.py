"""Accuracy metrics: per-sample match functions and their `MeanMetricWrapper` classes."""

import torch

from .. import config
from ..losses.loss import _as_tensor, squeeze_or_expand_to_same_rank
from .base import MeanMetricWrapper


def _floatx() -> torch.dtype:
    return getattr(torch, config.floatx())


def _pair(y_true, y_pred, cast_true: bool = True):
    y_pred = _as_tensor(y_pred)
    y_true = _as_tensor(y_true, dtype=y_pred.dtype if cast_true else None, device=y_pred.device)
    return y_true, y_pred


def accuracy(y_true, y_pred) -> torch.Tensor:
    """1.0 where `y_true == y_pred` exactly, else 0.0.

    Example:
    >>> accuracy([1, 2, 3], [1, 0, 3]).tolist()
    [1.0, 0.0, 1.0]
    """
    y_true, y_pred = squeeze_or_expand_to_same_rank(*_pair(y_true, y_pred))
    return (y_true == y_pred).to(_floatx())


def binary_accuracy(y_true, y_pred, threshold: float = 0.5) -> torch.Tensor:
    """1.0 where `(y_pred > threshold) == y_true`.

    Example:
    >>> binary_accuracy([[1], [0]], [[0.7], [0.6]]).tolist()
    [[1.0], [0.0]]
    """
    y_true, y_pred = squeeze_or_expand_to_same_rank(*_pair(y_true, y_pred, cast_true=False))
    predicted = (y_pred > threshold).to(y_true.dtype)
    return (y_true == predicted).to(_floatx())


def _argmax_matches(labels: torch.Tensor, y_pred: torch.Tensor, squeeze_last: bool):
    original_shape = labels.shape
    reshape = labels.ndim == y_pred.ndim and (not squeeze_last or labels.shape[-1] == 1)
    if reshape:
        labels = labels.squeeze(-1)
    predicted = torch.argmax(y_pred, dim=-1).to(labels.dtype)
    matches = (labels == predicted).to(_floatx())
    if reshape:
        matches = matches.reshape(original_shape)
    return matches


def categorical_accuracy(y_true, y_pred) -> torch.Tensor:
    """1.0 where `argmax(y_true) == argmax(y_pred)` (one-hot labels).

    Example:
    >>> categorical_accuracy([[0, 1], [1, 0]], [[0.2, 0.8], [0.3, 0.7]]).tolist()
    [1.0, 0.0]
    """
    y_true, y_pred = _pair(y_true, y_pred)
    return _argmax_matches(torch.argmax(y_true, dim=-1).to(y_pred.dtype), y_pred, False)


def sparse_categorical_accuracy(y_true, y_pred) -> torch.Tensor:
    """1.0 where the integer label equals `argmax(y_pred)`.

    Example:
    >>> sparse_categorical_accuracy([1, 0], [[0.2, 0.8], [0.3, 0.7]]).tolist()
    [1.0, 0.0]
    """
    y_true, y_pred = _pair(y_true, y_pred)
    matches = _argmax_matches(y_true, y_pred, True)
    if matches.ndim > 1 and matches.shape[-1] == 1:
        matches = matches.squeeze(-1)
    return matches


def _in_top_k(labels: torch.Tensor, y_pred: torch.Tensor, k: int) -> torch.Tensor:
    """Whether each label's score is among the `k` largest of its row (ties count as in)."""
    k = min(k, y_pred.shape[-1])
    kth_largest = torch.topk(y_pred, k, dim=-1).values[..., -1]
    target_score = torch.gather(y_pred, -1, labels.long().unsqueeze(-1)).squeeze(-1)
    return target_score >= kth_largest


def top_k_categorical_accuracy(y_true, y_pred, k: int = 5) -> torch.Tensor:
    """1.0 where the one-hot label's class is among the top `k` predictions.

    Example:
    >>> top_k_categorical_accuracy([[0, 0, 1], [0, 1, 0]], [[0.5, 0.3, 0.2], [0.1, 0.2, 0.7]],
    ...                            k=2).tolist()
    [0.0, 1.0]
    """
    y_true, y_pred = _pair(y_true, y_pred)
    labels = torch.argmax(y_true, dim=-1)
    original_shape = labels.shape
    matches = _in_top_k(labels.reshape(-1), y_pred.reshape(-1, y_pred.shape[-1]), k)
    return matches.to(_floatx()).reshape(original_shape)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k: int = 5) -> torch.Tensor:
    """1.0 where the integer label is among the top `k` predictions.

    Example:
    >>> sparse_top_k_categorical_accuracy([2, 1], [[0.5, 0.3, 0.2], [0.1, 0.2, 0.7]],
    ...                                   k=2).tolist()
    [0.0, 1.0]
    """
    y_true, y_pred = _pair(y_true, y_pred, cast_true=False)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true.squeeze(-1)
    original_shape = y_true.shape
    matches = _in_top_k(y_true.reshape(-1), y_pred.reshape(-1, y_pred.shape[-1]), k)
    return matches.to(_floatx()).reshape(original_shape)


class Accuracy(MeanMetricWrapper):
    """How often predictions equal labels exactly.

    Example:
    >>> m = Accuracy()
    >>> m.update_state([[1], [2], [3], [4]], [[0], [2], [3], [4]])
    >>> float(m.result())
    0.75
    """

    _direction = "up"

    def __init__(self, name: str = "accuracy", dtype=None):
        super().__init__(accuracy, name=name, dtype=dtype)


class BinaryAccuracy(MeanMetricWrapper):
    """How often `y_pred > threshold` matches 0/1 labels.

    Example:
    >>> m = BinaryAccuracy()
    >>> m.update_state([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]])
    >>> float(m.result())
    0.75
    """

    _direction = "up"

    def __init__(self, name: str = "binary_accuracy", dtype=None, threshold: float = 0.5):
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold


class CategoricalAccuracy(MeanMetricWrapper):
    """How often the argmax of predictions matches the argmax of one-hot labels.

    Example:
    >>> m = CategoricalAccuracy()
    >>> m.update_state([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
    >>> float(m.result())
    0.5
    """

    _direction = "up"

    def __init__(self, name: str = "categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name=name, dtype=dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the argmax of predictions matches integer labels.

    Example:
    >>> m = SparseCategoricalAccuracy()
    >>> m.update_state([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]])
    >>> float(m.result())
    0.5
    """

    _direction = "up"

    def __init__(self, name: str = "sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot label is among the top `k` predictions.

    Example:
    >>> m = TopKCategoricalAccuracy(k=1)
    >>> m.update_state([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
    >>> float(m.result())
    0.5
    """

    _direction = "up"

    def __init__(self, k: int = 5, name: str = "top_k_categorical_accuracy", dtype=None):
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is among the top `k` predictions.

    Example:
    >>> m = SparseTopKCategoricalAccuracy(k=1)
    >>> m.update_state([2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
    >>> float(m.result())
    0.5
    """

    _direction = "up"

    def __init__(self, k: int = 5, name: str = "sparse_top_k_categorical_accuracy", dtype=None):
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k
