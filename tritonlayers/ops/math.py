"""The ``keras.ops`` math functions beyond numpy: logsumexp, erf, top_k, rsqrt, complex views...

Example:
>>> import tritonlayers as keras
>>> round(float(keras.ops.logsumexp([0.0, 0.0])), 4)
0.6931
"""

from typing import Any

import torch

from ._utils import float_pair, floating, pair, reduce_dims, strict_pair, tensor

Tensor = torch.Tensor

__all__ = [
    "erf",
    "erfc",
    "erfinv",
    "in_top_k",
    "logaddexp",
    "logsumexp",
    "rsqrt",
    "segment_max",
    "segment_min",
    "segment_prod",
    "segment_sum",
    "top_k",
    "view_as_complex",
    "view_as_real",
]


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """``log(sum(exp(x)))`` over ``axis``, computed without overflow.

    Example: ``keras.ops.logsumexp([[0.0, 1.0], [2.0, 3.0]], axis=1)``
    """
    x = floating(x)
    return torch.logsumexp(x, dim=reduce_dims(x, axis), keepdim=keepdims)


def logaddexp(x1: Any, x2: Any) -> Tensor:
    """``log(exp(x1) + exp(x2))`` elementwise, computed without overflow.

    Example: ``keras.ops.logaddexp([0.0, 1.0], [0.0, 2.0])``
    """
    return torch.logaddexp(*float_pair(*strict_pair(x1, x2)))


def erf(x: Any) -> Tensor:
    """The Gauss error function, elementwise.

    Example: ``keras.ops.erf([0.0, 1.0])``
    """
    return torch.erf(floating(x))


def erfc(x: Any) -> Tensor:
    """``1 - erf(x)``, accurate for large ``x``. Example: ``keras.ops.erfc([0.0, 3.0])``."""
    return torch.erfc(floating(x))


def erfinv(x: Any) -> Tensor:
    """The inverse of ``erf``, elementwise.

    Example: ``keras.ops.erfinv([0.0, 0.5])``
    """
    return torch.erfinv(floating(x))


def rsqrt(x: Any) -> Tensor:
    """``1 / sqrt(x)``, elementwise.

    Example: ``keras.ops.rsqrt([4.0, 16.0])``
    """
    return torch.rsqrt(floating(x))


def top_k(x: Any, k: int, sorted: bool = True) -> tuple[Tensor, Tensor]:  # noqa: A002
    """The ``k`` largest values along the last axis and their (int64) indices.

    Example:
    >>> import tritonlayers as keras
    >>> values, indices = keras.ops.top_k([1.0, 3.0, 2.0], k=2)
    >>> values.tolist(), indices.tolist()
    ([3.0, 2.0], [1, 2])
    """
    values, indices = torch.topk(tensor(x), k, dim=-1, largest=True, sorted=sorted)
    return values, indices


def in_top_k(targets: Any, predictions: Any, k: int) -> Tensor:
    """Whether each target class is among the ``k`` highest predictions of its row (ties
    with the k-th value count as in).

    Example: ``keras.ops.in_top_k([1, 0], [[0.1, 0.9, 0.0], [0.2, 0.3, 0.5]], k=2)``
    """
    predictions = tensor(predictions)
    targets = pair(predictions, targets)[1].to(torch.int64)
    target_values = torch.gather(predictions, 1, targets.reshape(-1, 1))
    kth = torch.topk(predictions, k, dim=-1).values[:, -1:]
    return (target_values >= kth).reshape(-1)


def _check_segment_ids(data: Tensor, ids: Tensor, shapes: tuple) -> None:
    """Keras's checks (and wording): 1-D ids, one per row of ``data``. ``shapes`` are the
    shapes as given (a numpy array's tuple, a tensor's torch.Size), for the message."""
    if ids.ndim > 1:
        raise ValueError(
            f"Argument `segment_ids` should be an 1-D vector, got shape: {ids.ndim}. Consider "
            "either flatten input with segment_ids.reshape((-1)) and "
            "data.reshape((-1, ) + data.shape[len(segment_ids.shape):]) or vectorize with vmap."
        )
    if ids.ndim == 1 and data.ndim >= 1 and ids.shape[0] != data.shape[0]:
        raise ValueError(
            "Argument `segment_ids` and `data` should have same leading dimension. "
            f"Got {shapes[1]} v.s. {shapes[0]}."
        )


def _segments(data: Any, segment_ids: Any, num_segments: "int | None"):
    shapes = tuple(getattr(v, "shape", None) for v in (data, segment_ids))
    data = tensor(data)
    ids = pair(data, segment_ids)[1].to(torch.int64)
    _check_segment_ids(
        data, ids, tuple(tuple(t.shape) if s is None else s for s, t in zip(shapes, (data, ids)))
    )
    if num_segments is None:
        num_segments = int(ids.max()) + 1 if ids.numel() else 0
    keep = (ids >= 0) & (ids < num_segments)
    ids = torch.where(keep, ids, torch.full_like(ids, num_segments))
    return data, ids, num_segments


def segment_sum(
    data: Any, segment_ids: Any, num_segments: "int | None" = None, sorted: bool = False
) -> Tensor:
    """Sums of the rows of ``data`` that share a segment id (ids outside
    ``[0, num_segments)`` are dropped; empty segments are 0). Without ``num_segments`` the
    largest id is read on the host to size the result.

    Example:
    >>> import tritonlayers as keras
    >>> keras.ops.segment_sum([1.0, 2.0, 3.0], [0, 0, 2], num_segments=3).tolist()
    [3.0, 0.0, 3.0]
    """
    data, ids, n = _segments(data, segment_ids, num_segments)
    out = torch.zeros((n + 1, *data.shape[1:]), dtype=data.dtype, device=data.device)
    return out.index_add(0, ids, data)[:n]


def _segment_reduce(data: Any, segment_ids: Any, num_segments, reduce: str, empty) -> Tensor:
    """``reduce`` over the rows of each segment; ``empty`` (a number, or a function of the
    data tensor giving one) fills the segments no row belongs to."""
    data, ids, n = _segments(data, segment_ids, num_segments)
    if callable(empty):
        empty = empty(data)
    out = torch.full((n + 1, *data.shape[1:]), empty, dtype=data.dtype, device=data.device)
    index = ids.reshape(-1, *([1] * (data.ndim - 1))).expand_as(data)
    return out.scatter_reduce(0, index, data, reduce)[:n]


def _lowest(data: Tensor) -> float:
    return -torch.inf if data.is_floating_point() else torch.iinfo(data.dtype).min


def _highest(data: Tensor) -> float:
    return torch.inf if data.is_floating_point() else torch.iinfo(data.dtype).max


def segment_max(
    data: Any, segment_ids: Any, num_segments: "int | None" = None, sorted: bool = False
) -> Tensor:
    """Maxima of the rows of ``data`` that share a segment id (empty segments are the
    dtype's lowest value: -inf for floats).

    Example: ``keras.ops.segment_max([1.0, 5.0, 3.0], [0, 0, 1], num_segments=2)``
    """
    return _segment_reduce(data, segment_ids, num_segments, "amax", _lowest)


def segment_min(
    data: Any, segment_ids: Any, num_segments: "int | None" = None, sorted: bool = False
) -> Tensor:
    """Minima per segment (empty segments are the dtype's highest value: inf for floats).

    Example: ``keras.ops.segment_min([1.0, 5.0, 3.0], [0, 0, 1], num_segments=2)``
    """
    return _segment_reduce(data, segment_ids, num_segments, "amin", _highest)


def segment_prod(
    data: Any, segment_ids: Any, num_segments: "int | None" = None, sorted: bool = False
) -> Tensor:
    """Products per segment (empty segments are 1).

    Example: ``keras.ops.segment_prod([2.0, 5.0, 3.0], [0, 0, 1], num_segments=2)``
    """
    return _segment_reduce(data, segment_ids, num_segments, "prod", 1)


def view_as_complex(x: Any) -> Tensor:
    """The complex64 tensor whose real and imaginary parts are ``x[..., 0]`` and
    ``x[..., 1]`` (``x`` has a last axis of size 2).

    Example:
    >>> import tritonlayers as keras
    >>> keras.ops.view_as_complex([[1.0, 2.0], [3.0, 4.0]]).tolist()
    [(1+2j), (3+4j)]
    """
    x = tensor(x)
    if x.ndim < 1 or x.shape[-1] != 2:
        raise ValueError(
            "Last dimension of input must be size 2 (real and imaginary). "
            f"Received shape: {tuple(x.shape)}"
        )
    parts = x.to(torch.float32)
    return torch.complex(parts[..., 0], parts[..., 1])


def view_as_real(x: Any) -> Tensor:
    """The real and imaginary parts of ``x`` stacked on a new last axis of size 2 (zeros
    for the imaginary part of a real tensor).

    Example:
    >>> import tritonlayers as keras
    >>> z = keras.ops.view_as_complex([[1.0, 2.0], [3.0, 4.0]])
    >>> keras.ops.view_as_real(z).tolist()
    [[1.0, 2.0], [3.0, 4.0]]
    """
    x = tensor(x)
    if x.is_complex():
        return torch.stack((x.real, x.imag), dim=-1)
    return torch.stack((x, torch.zeros_like(x)), dim=-1)
