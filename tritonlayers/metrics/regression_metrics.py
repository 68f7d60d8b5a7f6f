"""Loss-valued metrics: the mean over samples of a per-sample loss function."""

import torch

from .. import losses
from ..losses.loss import _float_pair, squeeze_or_expand_to_same_rank
from .base import Mean, MeanMetricWrapper


class MeanSquaredError(MeanMetricWrapper):
    """Mean of `mean(square(y_true - y_pred), axis=-1)` over samples.

    Example:
    >>> m = MeanSquaredError()
    >>> m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]])
    >>> float(m.result())
    0.25
    """

    def __init__(self, name: str = "mean_squared_error", dtype=None):
        super().__init__(losses.mean_squared_error, name=name, dtype=dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    """Mean of `mean(abs(y_true - y_pred), axis=-1)` over samples.

    Example:
    >>> m = MeanAbsoluteError()
    >>> m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]])
    >>> float(m.result())
    0.25
    """

    def __init__(self, name: str = "mean_absolute_error", dtype=None):
        super().__init__(losses.mean_absolute_error, name=name, dtype=dtype)


class MeanAbsolutePercentageError(MeanMetricWrapper):
    """Mean of the absolute percentage error over samples.

    Example:
    >>> m = MeanAbsolutePercentageError()
    >>> m.update_state([[2.0]], [[1.0]])
    >>> float(m.result())
    50.0
    """

    def __init__(self, name: str = "mean_absolute_percentage_error", dtype=None):
        super().__init__(losses.mean_absolute_percentage_error, name=name, dtype=dtype)


class RootMeanSquaredError(Mean):
    """`sqrt(mean(square(y_pred - y_true)))` over every element seen.

    Example:
    >>> m = RootMeanSquaredError()
    >>> m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]])
    >>> float(m.result())
    0.5
    """

    _direction = "down"

    def __init__(self, name: str = "root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true, y_pred = squeeze_or_expand_to_same_rank(*_float_pair(y_true, y_pred))
        super().update_state(torch.square(y_pred - y_true), sample_weight=sample_weight)

    def result(self) -> torch.Tensor:
        return torch.sqrt(super().result())


class BinaryCrossentropy(MeanMetricWrapper):
    """Mean binary crossentropy over samples.

    Example:
    >>> m = BinaryCrossentropy()
    >>> m.update_state([[1.0]], [[0.5]])
    >>> round(float(m.result()), 4)
    0.6931
    """

    def __init__(
        self,
        name: str = "binary_crossentropy",
        dtype=None,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
    ):
        super().__init__(
            losses.binary_crossentropy,
            name=name,
            dtype=dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
        )


class CategoricalCrossentropy(MeanMetricWrapper):
    """Mean categorical crossentropy over samples (one-hot labels).

    Example:
    >>> m = CategoricalCrossentropy()
    >>> m.update_state([[0.0, 1.0]], [[0.5, 0.5]])
    >>> round(float(m.result()), 4)
    0.6931
    """

    def __init__(
        self,
        name: str = "categorical_crossentropy",
        dtype=None,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
    ):
        super().__init__(
            losses.categorical_crossentropy,
            name=name,
            dtype=dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """Mean sparse categorical crossentropy over samples (integer labels).

    Example:
    >>> m = SparseCategoricalCrossentropy()
    >>> m.update_state([1], [[0.5, 0.5]])
    >>> round(float(m.result()), 4)
    0.6931
    """

    def __init__(
        self,
        name: str = "sparse_categorical_crossentropy",
        dtype=None,
        from_logits: bool = False,
        ignore_class: int | None = None,
        axis: int = -1,
    ):
        super().__init__(
            losses.sparse_categorical_crossentropy,
            name=name,
            dtype=dtype,
            from_logits=from_logits,
            ignore_class=ignore_class,
            axis=axis,
        )


class MeanSquaredLogarithmicError(MeanMetricWrapper):
    """Mean of `mean(square(log(1 + y_true) - log(1 + y_pred)), axis=-1)` over samples.

    Example:
    >>> m = MeanSquaredLogarithmicError()
    >>> m.update_state([[0.0]], [[1.718281828]])
    >>> round(float(m.result()), 4)
    1.0
    """

    def __init__(self, name: str = "mean_squared_logarithmic_error", dtype=None):
        super().__init__(losses.mean_squared_logarithmic_error, name=name, dtype=dtype)


class LogCoshError(MeanMetricWrapper):
    """Mean of `mean(log(cosh(y_pred - y_true)), axis=-1)` over samples.

    Example:
    >>> m = LogCoshError()
    >>> m.update_state([[0.0]], [[0.0]])
    >>> float(m.result())
    0.0
    """

    def __init__(self, name: str = "logcosh", dtype=None):
        super().__init__(losses.log_cosh, name=name, dtype=dtype)


def cosine_similarity(y_true, y_pred, axis: int = -1) -> torch.Tensor:
    """Per-sample cosine similarity (the loss of the same name is its negative).

    Example:
    >>> cosine_similarity([[1.0, 0.0]], [[2.0, 0.0]]).tolist()
    [1.0]
    """
    return -losses.cosine_similarity(y_true, y_pred, axis=axis)


class CosineSimilarity(MeanMetricWrapper):
    """Mean cosine similarity between labels and predictions along `axis`.

    Example:
    >>> m = CosineSimilarity()
    >>> m.update_state([[0.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 1.0]])
    >>> round(float(m.result()), 4)
    0.5
    """

    def __init__(self, name: str = "cosine_similarity", dtype=None, axis: int = -1):
        super().__init__(cosine_similarity, name=name, dtype=dtype, axis=axis)
        self.axis = axis
        self._direction = "up"  # callbacks in mode="auto" maximise it

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class KLDivergence(MeanMetricWrapper):
    """Mean Kullback-Leibler divergence `sum(y_true * log(y_true / y_pred), axis=-1)`.

    Example:
    >>> m = KLDivergence()
    >>> m.update_state([[0.5, 0.5]], [[0.5, 0.5]])
    >>> float(m.result())
    0.0
    """

    def __init__(self, name: str = "kl_divergence", dtype=None):
        super().__init__(losses.kl_divergence, name=name, dtype=dtype)


class Poisson(MeanMetricWrapper):
    """Mean Poisson loss `mean(y_pred - y_true * log(y_pred), axis=-1)` over samples.

    Example:
    >>> m = Poisson()
    >>> m.update_state([[1.0]], [[1.0]])
    >>> round(float(m.result()), 4)
    1.0
    """

    def __init__(self, name: str = "poisson", dtype=None):
        super().__init__(losses.poisson, name=name, dtype=dtype)


class Hinge(MeanMetricWrapper):
    """Mean hinge loss `mean(maximum(1 - y_true * y_pred, 0), axis=-1)` (0/1 labels map to -1/1).

    Example:
    >>> m = Hinge()
    >>> m.update_state([[1.0]], [[0.25]])
    >>> float(m.result())
    0.75
    """

    def __init__(self, name: str = "hinge", dtype=None):
        super().__init__(losses.hinge, name=name, dtype=dtype)


class SquaredHinge(MeanMetricWrapper):
    """Mean squared hinge loss `mean(square(maximum(1 - y_true * y_pred, 0)), axis=-1)`.

    Example:
    >>> m = SquaredHinge()
    >>> m.update_state([[1.0]], [[0.5]])
    >>> float(m.result())
    0.25
    """

    def __init__(self, name: str = "squared_hinge", dtype=None):
        super().__init__(losses.squared_hinge, name=name, dtype=dtype)


class CategoricalHinge(MeanMetricWrapper):
    """Mean categorical hinge loss `maximum(neg - pos + 1, 0)` over samples.

    Example:
    >>> m = CategoricalHinge()
    >>> m.update_state([[0.0, 1.0]], [[0.25, 0.75]])
    >>> float(m.result())
    0.5
    """

    def __init__(self, name: str = "categorical_hinge", dtype=None):
        super().__init__(losses.categorical_hinge, name=name, dtype=dtype)
