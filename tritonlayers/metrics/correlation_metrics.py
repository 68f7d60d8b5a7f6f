"""Correlation metrics: Pearson's and Lin's concordance coefficient along an axis.

The functions give one coefficient per slice along `axis` (per sample for the default -1);
the metric classes average those values over every sample seen, weighted by
`sample_weight`, as `MeanMetricWrapper` does.
"""

import torch

from .. import config
from ..losses.loss import _prepare
from .base import MeanMetricWrapper


def _same_shape_pair(fn_name: str, y_true, y_pred) -> tuple[torch.Tensor, torch.Tensor]:
    y_true, y_pred = _prepare(y_true, y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"{fn_name} expects y_true and y_pred of the same shape. Received: "
            f"y_true.shape={tuple(y_true.shape)} and y_pred.shape={tuple(y_pred.shape)}."
        )
    return y_true, y_pred


def _dims(axis) -> "int | tuple[int, ...]":
    return tuple(axis) if isinstance(axis, (list, tuple)) else axis


def pearson_correlation(y_true, y_pred, axis=-1) -> torch.Tensor:
    """Pearson's coefficient `mean(z(y_true) * z(y_pred))` along `axis` (z: standardised).

    The standard deviation is the population one; a constant slice gives NaN.

    Example:
    >>> r = pearson_correlation([[0, 1, 0.5], [1, 1, 0.2]], [[0.1, 0.9, 0.5], [1, 0.9, 0.2]])
    >>> [round(v, 4) for v in r.tolist()]
    [1.0, 0.9934]
    """
    y_true, y_pred = _same_shape_pair("pearson_correlation", y_true, y_pred)
    dims = _dims(axis)
    true_centered = y_true - y_true.mean(dim=dims, keepdim=True)
    pred_centered = y_pred - y_pred.mean(dim=dims, keepdim=True)
    true_z = true_centered / true_centered.std(dim=dims, keepdim=True, correction=0)
    pred_z = pred_centered / pred_centered.std(dim=dims, keepdim=True, correction=0)
    return (true_z * pred_z).mean(dim=dims)


def concordance_correlation(y_true, y_pred, axis=-1) -> torch.Tensor:
    """Lin's concordance `2 * cov / (var_true + var_pred + (mean_true - mean_pred)**2)`.

    Moments are population moments along `axis`; `epsilon` pads the denominator.

    Example:
    >>> c = concordance_correlation([[0, 1, 0.5], [1, 1, 0.2]], [[0.1, 0.9, 0.5], [1, 0.9, 0.2]])
    >>> [round(v, 4) for v in c.tolist()]
    [0.9756, 0.9877]
    """
    y_true, y_pred = _same_shape_pair("concordance_correlation", y_true, y_pred)
    dims = _dims(axis)
    true_mean = y_true.mean(dim=dims, keepdim=True)
    pred_mean = y_pred.mean(dim=dims, keepdim=True)
    true_centered, pred_centered = y_true - true_mean, y_pred - pred_mean
    covariance = (true_centered * pred_centered).mean(dim=dims)
    spread = (
        torch.square(true_centered).mean(dim=dims)
        + torch.square(pred_centered).mean(dim=dims)
        + torch.square(true_mean - pred_mean).squeeze(dims)
    )
    return 2 * covariance / (spread + config.epsilon())


class PearsonCorrelation(MeanMetricWrapper):
    """Mean over samples of `pearson_correlation(y_true, y_pred, axis)`.

    Example:
    >>> m = PearsonCorrelation()
    >>> m.update_state([[0, 1, 0.5], [1, 1, 0.2]], [[0.1, 0.9, 0.5], [1, 0.9, 0.2]])
    >>> round(float(m.result()), 4)
    0.9967
    """

    _direction = "up"  # callbacks in mode="auto" maximise it

    def __init__(self, name: str = "pearson_correlation", dtype=None, axis=-1):
        super().__init__(pearson_correlation, name=name, dtype=dtype, axis=axis)
        self.axis = axis


class ConcordanceCorrelation(MeanMetricWrapper):
    """Mean over samples of `concordance_correlation(y_true, y_pred, axis)`.

    Example:
    >>> m = ConcordanceCorrelation()
    >>> m.update_state([[0, 1, 0.5], [1, 1, 0.2]], [[0.1, 0.9, 0.5], [1, 0.9, 0.2]])
    >>> round(float(m.result()), 4)
    0.9816
    """

    _direction = "up"  # callbacks in mode="auto" maximise it

    def __init__(self, name: str = "concordance_correlation", dtype=None, axis=-1):
        super().__init__(concordance_correlation, name=name, dtype=dtype, axis=axis)
        self.axis = axis
