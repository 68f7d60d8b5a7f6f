"""Keras 3's loss classes: a `LossFunctionWrapper` around each per-sample function."""

import torch
import torch.nn.functional as F

from .loss import LossFunctionWrapper
from .loss_functions import (
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_generalized_cross_entropy,
    categorical_hinge,
    circle,
    cosine_similarity,
    ctc,
    dice,
    hinge,
    huber,
    kl_divergence,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
    tversky,
)


class MeanSquaredError(LossFunctionWrapper):
    """Mean of squares of errors: `mean(square(y_true - y_pred))`.

    Example:
    >>> round(float(MeanSquaredError()([[0.0, 1.0]], [[1.0, 1.0]])), 4)
    0.5
    """

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, reduction=reduction, name=name, dtype=dtype)

    def __call__(self, y_true, y_pred, sample_weight=None) -> torch.Tensor:
        # The common case (same shapes, no weights or mask, a mean reduction) is the mean of
        # all squared errors: one fused pass forward and one backward, where the per-sample
        # path makes seven passes over a prediction-sized tensor.
        if (
            sample_weight is None
            and self.reduction in ("sum_over_batch_size", "mean")
            and isinstance(y_pred, torch.Tensor)
            and isinstance(y_true, torch.Tensor)
            and getattr(y_pred, "_keras_mask", None) is None
            and y_pred.dtype == y_true.dtype == getattr(torch, self.dtype)
            and y_pred.shape == y_true.shape
            and y_pred.device == y_true.device
            and y_pred.numel() > 0
        ):
            return F.mse_loss(y_pred, y_true)
        return super().__call__(y_true, y_pred, sample_weight)


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


class LogCosh(LossFunctionWrapper):
    """`mean(log(cosh(y_pred - y_true)))`.

    Example:
    >>> round(float(LogCosh()([[0.0]], [[1.0]])), 4)
    0.4338
    """

    def __init__(self, reduction="sum_over_batch_size", name="log_cosh", dtype=None):
        super().__init__(log_cosh, reduction=reduction, name=name, dtype=dtype)


class _SmoothedCrossentropy(LossFunctionWrapper):
    """Shared constructor of the binary and categorical crossentropy losses."""

    _loss_fn = staticmethod(binary_crossentropy)
    _default_name = ""

    def __init__(
        self,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction="sum_over_batch_size",
        name: str | None = None,
        dtype=None,
    ):
        super().__init__(
            type(self)._loss_fn,
            reduction=reduction,
            name=name or self._default_name,
            dtype=dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )


class BinaryCrossentropy(_SmoothedCrossentropy):
    """Crossentropy for 0/1 labels; `from_logits=True` takes raw scores.

    Arguments: `from_logits=False`, `label_smoothing=0.0` (labels squeezed towards 0.5),
    `axis=-1`, `reduction`, `name="binary_crossentropy"`, `dtype`.

    Example:
    >>> round(float(BinaryCrossentropy(from_logits=True)([[1.0]], [[0.0]])), 4)
    0.6931
    """

    _loss_fn = staticmethod(binary_crossentropy)
    _default_name = "binary_crossentropy"


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
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
            apply_class_balancing=apply_class_balancing,
            alpha=alpha,
            gamma=gamma,
        )


class CategoricalCrossentropy(_SmoothedCrossentropy):
    """Crossentropy for one-hot labels.

    Arguments: `from_logits=False`, `label_smoothing=0.0` (towards `1 / num_classes`),
    `axis=-1`, `reduction`, `name="categorical_crossentropy"`, `dtype`.

    Example:
    >>> round(float(CategoricalCrossentropy()([[0.0, 1.0]], [[0.5, 0.5]])), 4)
    0.6931
    """

    _loss_fn = staticmethod(categorical_crossentropy)
    _default_name = "categorical_crossentropy"


class CategoricalFocalCrossentropy(LossFunctionWrapper):
    """Categorical crossentropy down-weighting easy examples by `alpha * (1 - p) ** gamma`.

    Arguments: `alpha=0.25` (one weight, or a list with one per class), `gamma=2.0`,
    `from_logits=False`, `label_smoothing=0.0` (towards `1 / num_classes`), `axis=-1`,
    `reduction`, `name="categorical_focal_crossentropy"`, `dtype`.

    Example:
    >>> y_true = [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    >>> y_pred = [[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]]
    >>> round(float(CategoricalFocalCrossentropy()(y_true, y_pred)), 4)
    0.2332
    """

    def __init__(
        self,
        alpha: "float | list[float]" = 0.25,
        gamma: float = 2.0,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction="sum_over_batch_size",
        name="categorical_focal_crossentropy",
        dtype=None,
    ):
        super().__init__(
            categorical_focal_crossentropy,
            reduction=reduction,
            name=name,
            dtype=dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
            alpha=alpha,
            gamma=gamma,
        )


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


class Dice(LossFunctionWrapper):
    """Dice loss `1 - 2 * sum(y_true * y_pred) / (sum(y_true) + sum(y_pred))` over `axis`.

    `axis=None` (the default) sums over every axis, batch included, giving one scalar;
    `axis=(1, 2, 3)` gives one loss per image.

    Example:
    >>> y_true = [[1.0, 1.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0]]
    >>> y_pred = [[0.0, 1.0, 0.0, 1.0], [0.4, 0.0, 0.0, 0.9]]
    >>> round(float(Dice()(y_true, y_pred)), 4)
    0.6164
    >>> [round(v, 4) for v in Dice(axis=1, reduction=None)(y_true, y_pred).tolist()]
    [0.5, 0.7576]
    """

    def __init__(
        self,
        reduction="sum_over_batch_size",
        name="dice",
        axis: "int | tuple[int, ...] | None" = None,
        dtype=None,
    ):
        super().__init__(dice, reduction=reduction, name=name, dtype=dtype, axis=axis)


class Tversky(LossFunctionWrapper):
    """Tversky loss: Dice with separate weights for missed targets and spurious predictions.

    `alpha` weights `sum(y_true * (1 - y_pred))`, `beta` weights `sum((1 - y_true) * y_pred)`
    (Keras 3's assignment); `alpha = beta = 0.5` is the Dice loss. `axis` as in `Dice`.

    Example:
    >>> y_true = [[1.0, 1.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0]]
    >>> y_pred = [[0.0, 1.0, 0.0, 1.0], [0.4, 0.0, 0.0, 0.9]]
    >>> loss = Tversky(alpha=0.3, beta=0.7, axis=1, reduction=None)
    >>> [round(v, 4) for v in loss(y_true, y_pred).tolist()]
    [0.5, 0.7351]
    """

    def __init__(
        self,
        alpha: float = 0.5,
        beta: float = 0.5,
        reduction="sum_over_batch_size",
        name="tversky",
        axis: "int | tuple[int, ...] | None" = None,
        dtype=None,
    ):
        super().__init__(
            tversky, reduction=reduction, name=name, dtype=dtype, alpha=alpha, beta=beta, axis=axis
        )


class Circle(LossFunctionWrapper):
    """Circle loss for metric learning: integer labels `y_true`, unit-norm embeddings `y_pred`.

    Pulls same-label embeddings together and pushes others apart, each pair weighted by how
    far it is from its optimum. `gamma=80.0` scales the scores, `margin=0.4` relaxes the
    optima, `remove_diagonal=True` drops each embedding's pair with itself. Rows whose loss
    is zero (no pair to learn from) are left out of the mean.

    Example:
    >>> embeddings = [[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]]
    >>> round(float(Circle(gamma=2.0)([0, 0, 1], embeddings)), 4)
    0.915
    """

    def __init__(
        self,
        gamma: float = 80.0,
        margin: float = 0.4,
        remove_diagonal: bool = True,
        reduction="sum_over_batch_size",
        name="circle",
        dtype=None,
    ):
        super().__init__(
            circle,
            reduction=reduction,
            name=name,
            dtype=dtype,
            gamma=gamma,
            margin=margin,
            remove_diagonal=remove_diagonal,
        )


class CategoricalGeneralizedCrossEntropy(LossFunctionWrapper):
    """Noise-robust `(1 - p ** q) / q`, `p` the predicted probability of the integer label.

    `q` in `(0, 1)`: near 0 it behaves like crossentropy, near 1 like mean absolute error.

    Example:
    >>> probs = [[0.7, 0.3], [0.2, 0.8], [0.6, 0.4], [0.4, 0.6]]
    >>> round(float(CategoricalGeneralizedCrossEntropy()([0, 1, 0, 1], probs)), 4)
    0.3599
    """

    def __init__(
        self,
        q: float = 0.5,
        reduction="sum_over_batch_size",
        name="categorical_generalized_cross_entropy",
        dtype=None,
    ):
        if isinstance(q, bool) or not isinstance(q, (int, float)) or not 0 < q < 1:
            raise ValueError(
                f"CategoricalGeneralizedCrossEntropy: q must be in the interval (0, 1). "
                f"Received: q={q!r}"
            )
        super().__init__(
            categorical_generalized_cross_entropy,
            reduction=reduction,
            name=name,
            dtype=dtype,
            q=q,
        )

    def call(self, y_true, y_pred):
        # Labels keep their own rank: the class axis only exists on y_pred.
        return self.fn(y_true, y_pred, **self._fn_kwargs)


class CTC(LossFunctionWrapper):
    """Connectionist Temporal Classification loss of integer label sequences (0 is the
    blank and the padding) under unnormalized logits (batch, time, num_classes).

    Example:
    >>> y_pred = [[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]]
    >>> round(float(CTC()([[1, 0]], y_pred)), 4)
    1.0986
    """

    def __init__(self, reduction="sum_over_batch_size", name="ctc", dtype=None):
        super().__init__(ctc, reduction=reduction, name=name, dtype=dtype)

    def call(self, y_true, y_pred):
        # Labels are (batch, length) and logits (batch, time, classes): no rank matching.
        return self.fn(y_true, y_pred)
