"""`Loss` and `LossFunctionWrapper`, Keras 3's reductions, and the tensor helpers they share.

`reduce_weighted_values` folds a boolean mask (the `_keras_mask` of `y_pred`) and
`sample_weight` into weights, then reduces per-sample losses: "sum_over_batch_size"/"mean"
(sum divided by the element count), "sum", "mean_with_sample_weight" (divided by the weight
sum), or "none"/None. Nothing is read back to the host.

Example:
>>> import torch
>>> from tritonlayers.losses.loss import reduce_weighted_values
>>> float(reduce_weighted_values(torch.tensor([1.0, 3.0]), sample_weight=[1.0, 0.0]))
0.5
"""

from collections.abc import Callable

import numpy as np
import torch

from .. import config

REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


def _as_tensor(x, dtype: torch.dtype | None = None, device=None) -> torch.Tensor:
    """`x` as a torch tensor on `device` (default: its own, else config.device())."""
    if isinstance(x, torch.Tensor):
        if (dtype is None or x.dtype == dtype) and (device is None or x.device == device):
            return x  # what `.to` would return, without its per-call cost
        return x.to(device=device or x.device, dtype=dtype or x.dtype)
    array = np.asarray(x)
    # Like Keras's convert_to_tensor: a NumPy float array keeps its dtype (float16 stays
    # float16), while Python floats and lists of them become floatx.
    if dtype is None and array.dtype.kind == "f" and not isinstance(x, (np.ndarray, np.generic)):
        dtype = getattr(torch, config.floatx())
    return torch.as_tensor(array, dtype=dtype, device=device or config.device())


def _float_pair(y_true, y_pred) -> tuple[torch.Tensor, torch.Tensor]:
    """`y_pred` as a float tensor and `y_true` cast to its dtype and device."""
    y_pred = _as_tensor(y_pred)
    if not y_pred.is_floating_point():
        y_pred = y_pred.to(getattr(torch, config.floatx()))
    y_true = _as_tensor(y_true, dtype=y_pred.dtype, device=y_pred.device)
    return y_true, y_pred


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1: bool = True):
    """Squeeze or expand a trailing axis of size 1 so that both tensors have the same rank.

    Example:
    >>> import torch
    >>> a, b = squeeze_or_expand_to_same_rank(torch.zeros(4, 1), torch.zeros(4))
    >>> tuple(a.shape), tuple(b.shape)
    ((4, 1), (4, 1))
    """
    if x1.ndim == x2.ndim + 1 and x1.shape[-1] == 1:
        if x2.ndim == 1 and expand_rank_1:
            x2 = x2.unsqueeze(-1)
        else:
            x1 = x1.squeeze(-1)
    elif x2.ndim == x1.ndim + 1 and x2.shape[-1] == 1:
        if x1.ndim == 1 and expand_rank_1:
            x1 = x1.unsqueeze(-1)
        else:
            x2 = x2.squeeze(-1)
    return x1, x2


def _prepare(y_true, y_pred) -> tuple[torch.Tensor, torch.Tensor]:
    return squeeze_or_expand_to_same_rank(*_float_pair(y_true, y_pred))


def _divide_no_nan(a: "torch.Tensor | float", b: torch.Tensor) -> torch.Tensor:
    """`a / b`, or 0 where `b == 0`; `a` may be a Python number (no host-to-device copy)."""
    zero = b == 0
    return torch.where(zero, torch.zeros_like(b), a / torch.where(zero, torch.ones_like(b), b))


def standardize_reduction(reduction):
    """Check `reduction` against Keras's list and return it.

    Example:
    >>> standardize_reduction("sum")
    'sum'
    """
    if reduction not in REDUCTIONS:
        raise ValueError(
            "Invalid value for argument `reduction`. "
            f"Expected one of {set(REDUCTIONS)}. Received: reduction={reduction}"
        )
    return reduction


def reduce_values(values: torch.Tensor, sample_weight=None, reduction="sum_over_batch_size"):
    """Reduce per-element losses: sum, or sum divided by the element count (or weight sum).

    Example:
    >>> import torch
    >>> float(reduce_values(torch.tensor([1.0, 2.0, 6.0]), reduction="sum_over_batch_size"))
    3.0
    """
    if reduction in (None, "none") or values.ndim == 0 or tuple(values.shape) == (0,):
        return values
    loss = values.sum()
    if reduction == "sum":
        return loss
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        return _divide_no_nan(loss, sample_weight.sum().to(loss.dtype))
    count = values.numel()
    return loss / count if count else torch.zeros_like(loss)


def _mask_to_weight(mask, sample_weight, dtype, reduction):
    """Fold a boolean mask into the sample weights; mean reductions rescale by total/valid."""
    if mask is None:
        return sample_weight
    if reduction in ("mean", "sum_over_batch_size"):
        valid = mask.to(dtype).sum()
        float_mask = torch.where(mask.bool(), _divide_no_nan(float(mask.numel()), valid), 0.0)
        float_mask = float_mask.to(dtype)
    else:
        float_mask = mask.to(dtype)
    if sample_weight is None:
        return float_mask
    float_mask, sample_weight = squeeze_or_expand_to_same_rank(float_mask, sample_weight)
    return sample_weight * float_mask


def reduce_weighted_values(
    values, sample_weight=None, mask=None, reduction="sum_over_batch_size", dtype=None
):
    """Apply `mask` and `sample_weight` to per-sample losses, then reduce them.

    Example:
    >>> import torch
    >>> values, weights = torch.tensor([1.0, 3.0]), torch.tensor([1.0, 0.0])
    >>> float(reduce_weighted_values(values, weights, reduction="mean_with_sample_weight"))
    1.0
    """
    reduction = standardize_reduction(reduction)
    values = _as_tensor(values, dtype=dtype)
    if sample_weight is not None:
        sample_weight = _as_tensor(sample_weight, dtype=values.dtype, device=values.device)
    sample_weight = _mask_to_weight(mask, sample_weight, values.dtype, reduction)
    if sample_weight is not None:
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        values = values * sample_weight
    return reduce_values(values, sample_weight, reduction)


class Loss:
    """Base class of losses: subclasses implement `call(y_true, y_pred)` (per-sample values).

    `__call__` casts inputs to the loss dtype, folds `y_pred._keras_mask` and
    `sample_weight` into weights and reduces with `reduction` ("sum_over_batch_size",
    "sum", "mean", "mean_with_sample_weight", "none" or None).

    Example:
    >>> import torch
    >>> class Mse(Loss):
    ...     def call(self, y_true, y_pred):
    ...         return torch.mean((y_pred - y_true) ** 2, dim=-1)
    >>> round(float(Mse()([[0.0]], [[2.0]])), 4)
    4.0
    """

    def __init__(self, name: str | None = None, reduction="sum_over_batch_size", dtype=None):
        self.name = name or _snake_case(type(self).__name__)
        self.reduction = standardize_reduction(reduction)
        self._dtype = _dtype_name(dtype)

    @property
    def dtype(self) -> str:
        """The dtype the loss computes in (floatx unless given)."""
        return self._dtype or config.floatx()

    def __call__(self, y_true, y_pred, sample_weight=None) -> torch.Tensor:
        dtype = getattr(torch, self.dtype)
        in_mask = getattr(y_pred, "_keras_mask", None)
        y_pred = _as_tensor(y_pred, dtype=dtype)
        y_true = _as_tensor(y_true, dtype=dtype, device=y_pred.device)
        losses = self.call(y_true, y_pred)
        out_mask = getattr(losses, "_keras_mask", None)
        if in_mask is not None and out_mask is not None:
            mask = in_mask.bool() & out_mask.bool()
        else:
            mask = in_mask if in_mask is not None else out_mask
        return reduce_weighted_values(
            losses, sample_weight=sample_weight, mask=mask, reduction=self.reduction, dtype=dtype
        )

    def call(self, y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
        """Per-sample loss values; the one method a subclass must write."""
        raise TypeError(f"{type(self).__name__} must implement `call(y_true, y_pred)`.")

    def get_config(self) -> dict:
        """The constructor arguments, as Keras writes them."""
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict) -> "Loss":
        """Rebuild a loss from `get_config()`."""
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} reduction={self.reduction!r}>"


def _snake_case(name: str) -> str:
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and (not name[i - 1].isupper() or name[i + 1 : i + 2].islower()):
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


def _dtype_name(dtype) -> str | None:
    if dtype is None:
        return None
    if isinstance(dtype, torch.dtype):
        return str(dtype).removeprefix("torch.")
    # A dtype policy ("mixed_float16" or an object) computes in its compute dtype.
    return (getattr(dtype, "compute_dtype", None) or str(dtype)).removeprefix("mixed_")


class LossFunctionWrapper(Loss):
    """A `Loss` around a per-sample function `fn(y_true, y_pred, **kwargs)`.

    Example:
    >>> from tritonlayers.losses import mean_absolute_error
    >>> loss = LossFunctionWrapper(mean_absolute_error, name="mae")
    >>> round(float(loss([[0.0, 0.0]], [[1.0, 3.0]])), 4)
    2.0
    """

    def __init__(
        self,
        fn: Callable,
        reduction="sum_over_batch_size",
        name: str | None = None,
        dtype=None,
        **kwargs,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs
        for key, value in kwargs.items():
            setattr(self, key, value)

    def call(self, y_true, y_pred):
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self) -> dict:
        config = super().get_config()
        if type(self) is LossFunctionWrapper:
            from ..saving import serialization_lib

            config["fn"] = serialization_lib.serialize_keras_object(self.fn)
        config.update(self._fn_kwargs)
        return config

    @classmethod
    def from_config(cls, config: dict) -> "LossFunctionWrapper":
        config = dict(config)
        if cls is LossFunctionWrapper and "fn" in config:
            from ..saving import serialization_lib

            config["fn"] = serialization_lib.deserialize_keras_object(config["fn"])
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}({self.fn.__name__}, kwargs={self._fn_kwargs})>"
