"""The numpy-like ops of ``keras.ops``: arithmetic, reductions, shapes, creation, indexing.

Names, arguments and defaults follow Keras 3 (``axis=`` and ``keepdims=``, numpy's rules for
``axis=None``), computed with torch so that gradients flow and ``torch.compile`` traces them.

Example:
>>> import numpy as np
>>> import tritonlayers as keras
>>> keras.ops.sum(np.arange(6.0).reshape(2, 3), axis=1, keepdims=True).tolist()
[[3.0], [12.0]]
"""

import builtins
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from .. import config
from ._utils import axes, float_pair, floating, like, pair, reduce_dims, strict_pair, tensor
from .core import convert_to_tensor, standardize_dtype, to_torch_dtype

Tensor = torch.Tensor


def _default_float() -> torch.dtype:
    return to_torch_dtype(config.floatx())


def _creation_dtype(dtype: Any, *values: Any) -> torch.dtype:
    """Keras's dtype for created tensors: given, else int32 for ints, else floatx."""
    if dtype is not None:
        return to_torch_dtype(dtype)
    if builtins.all(
        isinstance(v, int) and not isinstance(v, bool) for v in values if v is not None
    ):
        return torch.int32
    return _default_float()


# --------------------------------------------------------------------------------------
# Creation
# --------------------------------------------------------------------------------------


def _shape_tuple(shape: Any) -> tuple[int, ...]:
    if isinstance(shape, int):
        return (shape,)
    return tuple(int(s) for s in shape)


def zeros(shape: Any, dtype: Any = None) -> Tensor:
    """A tensor of zeros. Example: ``keras.ops.zeros((2, 3))``."""
    return torch.zeros(
        _shape_tuple(shape), dtype=_creation_dtype(dtype, 0.0), device=config.device()
    )


def ones(shape: Any, dtype: Any = None) -> Tensor:
    """A tensor of ones. Example: ``keras.ops.ones((2, 3))``."""
    return torch.ones(
        _shape_tuple(shape), dtype=_creation_dtype(dtype, 0.0), device=config.device()
    )


def full(shape: Any, fill_value: Any, dtype: Any = None) -> Tensor:
    """A tensor filled with ``fill_value``, of ``dtype`` (floatx by default).

    Example: ``keras.ops.full((2,), 7)`` gives ``[7.0, 7.0]``.
    """
    fill = convert_to_tensor(fill_value, _creation_dtype(dtype, 0.0))
    return torch.broadcast_to(fill, _shape_tuple(shape)).clone()


def zeros_like(x: Any, dtype: Any = None) -> Tensor:
    """Zeros with the shape (and dtype, unless given) of ``x``.

    Example: ``keras.ops.zeros_like([[1, 2]])``
    """
    x = tensor(x)
    return torch.zeros_like(x, dtype=None if dtype is None else to_torch_dtype(dtype))


def ones_like(x: Any, dtype: Any = None) -> Tensor:
    """Ones with the shape (and dtype, unless given) of ``x``.

    Example: ``keras.ops.ones_like(keras.ops.zeros((2, 3)), dtype="int32")``
    """
    x = tensor(x)
    return torch.ones_like(x, dtype=None if dtype is None else to_torch_dtype(dtype))


def full_like(x: Any, fill_value: Any, dtype: Any = None) -> Tensor:
    """``fill_value`` with the shape (and dtype, unless given) of ``x``.

    Example: ``keras.ops.full_like(keras.ops.zeros((2,)), 3.0)``
    """
    x = tensor(x)
    target = x.dtype if dtype is None else to_torch_dtype(dtype)
    fill = convert_to_tensor(fill_value, target).to(x.device)
    return torch.broadcast_to(fill, x.shape).clone()


def arange(start: Any, stop: Any = None, step: Any = 1, dtype: Any = None) -> Tensor:
    """Evenly spaced values in ``[start, stop)``; ints give int32, floats floatx.

    Example:
    >>> import tritonlayers as keras
    >>> keras.ops.arange(1, 7, 2).tolist()
    [1, 3, 5]
    """
    if stop is None:
        start, stop = 0, start
    return torch.arange(
        start, stop, step, dtype=_creation_dtype(dtype, start, stop, step), device=config.device()
    )


def linspace(
    start: Any,
    stop: Any,
    num: int = 50,
    endpoint: bool = True,
    retstep: bool = False,
    dtype: Any = None,
    axis: int = 0,
):
    """``num`` evenly spaced values from ``start`` to ``stop`` (tensors broadcast; the new
    axis goes at ``axis``).

    Example:
    >>> import tritonlayers as keras
    >>> keras.ops.linspace(0.0, 1.0, 5).tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0]
    """
    start, stop = float_pair(*pair(start, stop))
    start, stop = torch.broadcast_tensors(start, stop)
    divisor = (num - 1) if endpoint else num
    step = (stop - start) / builtins.max(divisor, 1)
    positions = torch.arange(num, dtype=start.dtype, device=start.device)
    values = start.unsqueeze(0) + positions.reshape((num,) + (1,) * start.ndim) * step.unsqueeze(0)
    if endpoint and num > 1:
        values = torch.cat([values[:-1], stop.unsqueeze(0)])
    values = torch.movedim(values, 0, axis % (start.ndim + 1))
    if dtype is not None:
        values = values.to(to_torch_dtype(dtype))
    return (values, step) if retstep else values


def eye(N: int, M: "int | None" = None, k: int = 0, dtype: Any = None) -> Tensor:  # noqa: N803
    """An ``N x M`` matrix with ones on the ``k``-th diagonal.

    Example:
    >>> import tritonlayers as keras
    >>> keras.ops.eye(2, 3, k=1).tolist()
    [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    """
    M = N if M is None else M  # noqa: N806
    rows = torch.arange(N, device=config.device()).unsqueeze(1)
    cols = torch.arange(M, device=config.device()).unsqueeze(0)
    return (cols - rows == k).to(_creation_dtype(dtype, 0.0))


def identity(n: int, dtype: Any = None) -> Tensor:
    """The ``n x n`` identity matrix.

    Example: ``keras.ops.identity(3)``
    """
    return eye(n, dtype=dtype)


def tri(N: int, M: "int | None" = None, k: int = 0, dtype: Any = None) -> Tensor:  # noqa: N803
    """Ones at and below the ``k``-th diagonal.

    Example: ``keras.ops.tri(3, k=-1)``
    """
    M = N if M is None else M  # noqa: N806
    rows = torch.arange(N, device=config.device()).unsqueeze(1)
    cols = torch.arange(M, device=config.device()).unsqueeze(0)
    return (cols - rows <= k).to(_creation_dtype(dtype, 0.0))


def meshgrid(*x: Any, indexing: str = "xy") -> tuple[Tensor, ...]:
    """Coordinate grids from 1-D tensors, ``indexing="xy"`` (numpy's default) or ``"ij"``.

    Example: ``keras.ops.meshgrid([1, 2, 3], [4, 5])``
    """
    return tuple(torch.meshgrid(*[tensor(t) for t in x], indexing=indexing))


# --------------------------------------------------------------------------------------
# Elementwise, one argument
# --------------------------------------------------------------------------------------


def _unary(torch_fn, name: str, sample: str = "[-1.5, 2.0]", floats: bool = False):
    """Make a Keras op applying ``torch_fn`` to ``x`` as a tensor; with ``floats``, int and
    bool inputs are cast to floatx first (Keras's rule for transcendental functions)."""
    convert = floating if floats else tensor

    def op(x: Any) -> Tensor:
        return torch_fn(convert(x))

    op.__name__ = op.__qualname__ = name
    rule = "ints and bools are cast to floatx first" if floats else "the dtype is kept"
    op.__doc__ = f"Elementwise {name} ({rule}).\n\n    Example: ``keras.ops.{name}({sample})``\n"
    return op


def _unary_float(torch_fn, name: str, sample: str = "[0.25, 0.5]"):
    """``_unary`` with int/bool inputs cast to floatx."""
    return _unary(torch_fn, name, sample, floats=True)


exp = _unary_float(torch.exp, "exp")
exp2 = _unary_float(torch.exp2, "exp2")
expm1 = _unary_float(torch.expm1, "expm1")
log = _unary_float(torch.log, "log")
log1p = _unary_float(torch.log1p, "log1p")
log2 = _unary_float(torch.log2, "log2")
log10 = _unary_float(torch.log10, "log10")
sqrt = _unary_float(torch.sqrt, "sqrt")
sin = _unary_float(torch.sin, "sin")
cos = _unary_float(torch.cos, "cos")
tan = _unary_float(torch.tan, "tan")
arcsin = _unary_float(torch.asin, "arcsin")
arccos = _unary_float(torch.acos, "arccos")
arctan = _unary_float(torch.atan, "arctan")
sinh = _unary_float(torch.sinh, "sinh")
cosh = _unary_float(torch.cosh, "cosh")
tanh = _unary_float(torch.tanh, "tanh")
arcsinh = _unary_float(torch.asinh, "arcsinh")
arccosh = _unary_float(torch.acosh, "arccosh", "[1.0, 2.0]")
arctanh = _unary_float(torch.atanh, "arctanh")
reciprocal = _unary_float(torch.reciprocal, "reciprocal")
negative = _unary(torch.neg, "negative")


def square(x: Any) -> Tensor:
    """``x * x`` elementwise; bools give int32, as in Keras.

    Example: ``keras.ops.square([-2.0, 3.0])``
    """
    x = tensor(x)
    return torch.square(x.to(torch.int32) if x.dtype == torch.bool else x)


sign = _unary(torch.sign, "sign")
isnan = _unary(torch.isnan, "isnan")
isinf = _unary(torch.isinf, "isinf")
isfinite = _unary(torch.isfinite, "isfinite")
logical_not = _unary(torch.logical_not, "logical_not", "[True, False]")
floor = _unary_float(torch.floor, "floor")
ceil = _unary_float(torch.ceil, "ceil")


def trunc(x: Any) -> Tensor:
    """Round toward zero, elementwise; ints and bools are returned as they are.

    Example: ``keras.ops.trunc([-1.7, 2.5])``
    """
    x = tensor(x)
    return x if x.dtype == torch.bool else torch.trunc(x)


def abs(x: Any) -> Tensor:  # noqa: A001
    """Elementwise absolute value (bools as they are). Example: ``keras.ops.abs([-1.0, 2.0])``."""
    x = tensor(x)
    return x if x.dtype == torch.bool else torch.abs(x)


absolute = abs


def round(x: Any, decimals: int = 0) -> Tensor:  # noqa: A001
    """Round half to even, to ``decimals`` places (numpy's rule).

    Example: ``keras.ops.round([0.5, 1.5, 2.567], decimals=1)``
    """
    x = tensor(x)
    if not x.is_floating_point():
        return x
    return torch.round(x, decimals=decimals)


def nan_to_num(
    x: Any, nan: float = 0.0, posinf: "float | None" = None, neginf: "float | None" = None
) -> Tensor:
    """Replace NaN by ``nan`` and infinities by ``posinf``/``neginf`` (default: dtype max/min).

    Example: ``keras.ops.nan_to_num([float("nan"), float("inf")], posinf=1e6)``
    """
    return torch.nan_to_num(tensor(x), nan=nan, posinf=posinf, neginf=neginf)


# --------------------------------------------------------------------------------------
# Elementwise, two arguments
# --------------------------------------------------------------------------------------


def _binary(
    torch_fn,
    name: str,
    floats: bool = False,
    sample: str = "[1.0, 2.0], [3.0, 0.5]",
    strict: bool = False,
):
    """Make a Keras op for a binary torch function; numbers and arrays are accepted.

    ``floats``: the result is a float (ints and bools computed in floatx). ``strict``: a
    Python number is converted on its own before promotion (see ``strict_pair``), where
    by default it takes the other operand's dtype (weak typing)."""

    def op(x1: Any, x2: Any) -> Tensor:
        x1, x2 = strict_pair(x1, x2) if strict else pair(x1, x2)
        if floats:
            x1, x2 = float_pair(x1, x2)
        return torch_fn(x1, x2)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = (
        f"Elementwise {name} of ``x1`` and ``x2``, broadcasting as numpy does.\n\n"
        f"    Example: ``keras.ops.{name}({sample})``\n"
    )
    return op


add = _binary(torch.add, "add")


def subtract(x1: Any, x2: Any) -> Tensor:
    """Elementwise ``x1 - x2``; a bool operand next to a number tensor takes its dtype (torch
    alone refuses to subtract bools).

    Example: ``keras.ops.subtract([3, 4], [True, False])``
    """
    x1, x2 = pair(x1, x2)
    if x1.dtype == torch.bool and x2.dtype != torch.bool:
        x1 = x1.to(x2.dtype)
    elif x2.dtype == torch.bool and x1.dtype != torch.bool:
        x2 = x2.to(x1.dtype)
    return torch.subtract(x1, x2)


multiply = _binary(torch.multiply, "multiply")
divide = _binary(torch.true_divide, "divide", floats=True)
true_divide = divide
floor_divide = _binary(torch.floor_divide, "floor_divide")


def _bools_as_int32(torch_fn):
    """``torch_fn`` computing on int32 when both operands are bool (Keras's result dtype;
    torch has no bool remainder)."""

    def fn(x1: Tensor, x2: Tensor) -> Tensor:
        if x1.dtype == torch.bool and x2.dtype == torch.bool:
            x1, x2 = x1.to(torch.int32), x2.to(torch.int32)
        return torch_fn(x1, x2)

    return fn


mod = _binary(_bools_as_int32(torch.remainder), "mod")
power = _binary(torch.pow, "power")
maximum = _binary(torch.maximum, "maximum")
minimum = _binary(torch.minimum, "minimum")
equal = _binary(torch.eq, "equal")
not_equal = _binary(torch.ne, "not_equal")
greater = _binary(torch.gt, "greater")
greater_equal = _binary(torch.ge, "greater_equal")
less = _binary(torch.lt, "less")
less_equal = _binary(torch.le, "less_equal")
logical_and = _binary(torch.logical_and, "logical_and", sample="[True, False], [True, True]")
logical_or = _binary(torch.logical_or, "logical_or", sample="[True, False], [True, True]")
logical_xor = _binary(torch.logical_xor, "logical_xor", sample="[True, False], [True, True]")
arctan2 = _binary(torch.atan2, "arctan2", floats=True, strict=True)


def clip(x: Any, x_min: Any, x_max: Any) -> Tensor:
    """``x`` limited to ``[x_min, x_max]`` (bools are cast to int32 first, as in Keras).

    Example:
    >>> import tritonlayers as keras
    >>> keras.ops.clip([-2.0, 0.5, 3.0], 0.0, 1.0).tolist()
    [0.0, 0.5, 1.0]
    """
    x = tensor(x)
    if x.dtype == torch.bool:
        x = x.to(torch.int32)
    low = x_min if isinstance(x_min, (int, float)) else pair(x, x_min)[1]
    high = x_max if isinstance(x_max, (int, float)) else pair(x, x_max)[1]
    return torch.clamp(x, low, high)


def where(condition: Any, x1: Any = None, x2: Any = None):
    """``x1`` where ``condition`` holds, else ``x2``; with one argument, the indices of the
    true entries (a tuple, one tensor per axis).

    Example:
    >>> import tritonlayers as keras
    >>> keras.ops.where([True, False], 1.0, 0.0).tolist()
    [1.0, 0.0]
    """
    condition = tensor(condition)
    if x1 is None and x2 is None:
        return torch.nonzero(condition, as_tuple=True)
    if x1 is None or x2 is None:
        raise ValueError("where: give both `x1` and `x2`, or neither.")
    if not isinstance(x1, torch.Tensor) and not isinstance(x2, torch.Tensor):
        x1 = tensor(x1)
    x1, x2 = pair(x1, x2)
    return torch.where(condition.to(x1.device).bool(), x1, x2)


# --------------------------------------------------------------------------------------
# Reductions
# --------------------------------------------------------------------------------------


def _reduce(torch_fn, x: Tensor, axis: Any, keepdims: bool, **kwargs) -> Tensor:
    dims = reduce_dims(x, axis)
    if dims == () and x.ndim > 0:
        return x
    return torch_fn(x, dim=dims, keepdim=keepdims, **kwargs)


def _accumulation_dtype(x: Tensor, dtype: Any) -> torch.dtype:
    """Keras's dtype for sums and products: as given, else small ints and bools -> int32,
    other dtypes kept (torch alone would widen every int to int64)."""
    if dtype is not None:
        return to_torch_dtype(dtype)
    if x.dtype in (torch.bool, torch.int8, torch.int16, torch.uint8):
        return torch.int32
    return x.dtype


def _cumulative_dtype(x: Tensor, dtype: Any) -> torch.dtype:
    """Keras's dtype for running sums and products: as given, else bools -> int32 and every
    other dtype kept (int8 stays int8, where torch would widen it to int64)."""
    if dtype is not None:
        return to_torch_dtype(dtype)
    return torch.int32 if x.dtype == torch.bool else x.dtype


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Sum over ``axis`` (int, tuple, or None for all).

    Example: ``keras.ops.sum(keras.ops.ones((2, 3)), axis=1, keepdims=True)``
    """
    x = tensor(x)
    return _reduce(torch.sum, x, axis, keepdims, dtype=_accumulation_dtype(x, None))


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Mean over ``axis``; ints are averaged in floatx.

    Example:
    >>> import tritonlayers as keras
    >>> keras.ops.mean([[1, 2], [3, 4]], axis=0).tolist()
    [2.0, 3.0]
    """
    return _reduce(torch.mean, floating(x), axis, keepdims)


def max(x: Any, axis: Any = None, keepdims: bool = False, initial: Any = None) -> Tensor:  # noqa: A001
    """Largest value over ``axis``; ``initial`` is a lower bound for the result.

    Example: ``keras.ops.max([[1.0, 5.0], [3.0, 2.0]], axis=0)``
    """
    x = tensor(x)
    if x.numel() == 0 and initial is None:
        raise ValueError("Cannot compute the max of an empty tensor without `initial`.")
    result = _reduce(torch.amax, x, axis, keepdims)
    return result if initial is None else torch.clamp(result, min=initial)


def min(x: Any, axis: Any = None, keepdims: bool = False, initial: Any = None) -> Tensor:  # noqa: A001
    """Smallest value over ``axis``; ``initial`` is an upper bound for the result.

    Example: ``keras.ops.min([[1.0, 5.0], [3.0, 2.0]], axis=1, keepdims=True)``
    """
    x = tensor(x)
    if x.numel() == 0 and initial is None:
        raise ValueError("Cannot compute the min of an empty tensor without `initial`.")
    result = _reduce(torch.amin, x, axis, keepdims)
    return result if initial is None else torch.clamp(result, max=initial)


amax = max
amin = min


def prod(x: Any, axis: Any = None, keepdims: bool = False, dtype: Any = None) -> Tensor:
    """Product over ``axis`` (int, tuple, or None for all).

    Example: ``keras.ops.prod([[1, 2], [3, 4]], axis=(0, 1))``
    """
    x = tensor(x)
    x = x.to(_accumulation_dtype(x, dtype))
    dims = reduce_dims(x, axis)
    for dim in dims:
        x = torch.prod(x, dim=dim, keepdim=True, dtype=x.dtype)
    if not keepdims:
        x = x.reshape([n for d, n in enumerate(x.shape) if d not in dims])
    return x


def var(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Population variance (numpy's ``ddof=0``) over ``axis``.

    Example: ``keras.ops.var([[1.0, 3.0], [5.0, 7.0]], axis=1)``
    """
    return _reduce(torch.var, floating(x), axis, keepdims, correction=0)


def std(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Population standard deviation (``ddof=0``) over ``axis``.

    Example: ``keras.ops.std([[1.0, 3.0], [5.0, 7.0]], axis=0)``
    """
    return _reduce(torch.std, floating(x), axis, keepdims, correction=0)


def all(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Whether every value over ``axis`` is true.

    Example: ``keras.ops.all([True, False], axis=0)``
    """
    return _reduce(torch.all, tensor(x).bool(), axis, keepdims)


def any(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Whether some value over ``axis`` is true.

    Example: ``keras.ops.any([[True, False]], axis=1)``
    """
    return _reduce(torch.any, tensor(x).bool(), axis, keepdims)


def count_nonzero(x: Any, axis: Any = None) -> Tensor:
    """How many values over ``axis`` are not zero.

    Example: ``keras.ops.count_nonzero([[0, 1], [2, 3]], axis=1)``
    """
    return sum(tensor(x) != 0, axis=axis).to(torch.int32)


def _arg_reduce(torch_fn, x: Any, axis: "int | None", keepdims: bool) -> Tensor:
    x = tensor(x)
    if x.dtype == torch.bool:
        x = x.to(torch.uint8)
    if axis is None:
        index = torch_fn(x.reshape(-1))
        return index.reshape((1,) * x.ndim) if keepdims else index
    return torch_fn(x, dim=axis, keepdim=keepdims)


def argmax(x: Any, axis: "int | None" = None, keepdims: bool = False) -> Tensor:
    """Index of the largest value along ``axis`` (of the flattened tensor for None).

    Example: ``keras.ops.argmax([[1.0, 5.0], [3.0, 2.0]], axis=1)``
    """
    return _arg_reduce(torch.argmax, x, axis, keepdims).to(torch.int32)


def argmin(x: Any, axis: "int | None" = None, keepdims: bool = False) -> Tensor:
    """Index of the smallest value along ``axis`` (of the flattened tensor for None).

    Example: ``keras.ops.argmin([3.0, 1.0, 2.0])``
    """
    return _arg_reduce(torch.argmin, x, axis, keepdims).to(torch.int32)


def cumsum(x: Any, axis: "int | None" = None, dtype: Any = None) -> Tensor:
    """Running sum along ``axis`` (of the flattened tensor for None).

    Example: ``keras.ops.cumsum([[1, 2], [3, 4]], axis=0)``
    """
    x = tensor(x)
    flat = x.reshape(-1) if axis is None else x
    return torch.cumsum(flat, dim=0 if axis is None else axis, dtype=_cumulative_dtype(x, dtype))


def cumprod(x: Any, axis: "int | None" = None, dtype: Any = None) -> Tensor:
    """Running product along ``axis`` (of the flattened tensor for None).

    Example: ``keras.ops.cumprod([1, 2, 3])``
    """
    x = tensor(x)
    flat = x.reshape(-1) if axis is None else x
    return torch.cumprod(flat, dim=0 if axis is None else axis, dtype=_cumulative_dtype(x, dtype))


def average(x: Any, axis: "int | None" = None, weights: Any = None) -> Tensor:
    """Weighted mean along ``axis``; ``weights`` has ``x``'s shape or is 1-D along ``axis``.

    Example: ``keras.ops.average([1.0, 2.0, 3.0], weights=[3.0, 1.0, 0.0])``
    """
    x = floating(x)
    if weights is None:
        return mean(x, axis=axis)
    x, weights = pair(x, floating(weights))
    if axis is not None and weights.ndim == 1 and x.ndim > 1:
        shape = [1] * x.ndim
        shape[axis] = -1
        weights = weights.reshape(shape)
    return sum(x * weights, axis=axis) / sum(torch.broadcast_to(weights, x.shape), axis=axis)


# --------------------------------------------------------------------------------------
# Shapes
# --------------------------------------------------------------------------------------


def reshape(x: Any, newshape: Any) -> Tensor:
    """``x`` with a new shape (one entry may be -1).

    Example: ``keras.ops.reshape(keras.ops.arange(6), (2, -1))``
    """
    return torch.reshape(tensor(x), _shape_tuple(newshape))


def ravel(x: Any) -> Tensor:
    """``x`` flattened to 1-D.

    Example: ``keras.ops.ravel(keras.ops.ones((2, 3)))``
    """
    return torch.reshape(tensor(x), (-1,))


def transpose(x: Any, axes: "Sequence[int] | None" = None) -> Tensor:
    """``x`` with its axes permuted (reversed when ``axes`` is None).

    Example: ``keras.ops.transpose(keras.ops.zeros((2, 3, 4)), (2, 0, 1))``
    """
    x = tensor(x)
    order = tuple(reversed(range(x.ndim))) if axes is None else tuple(axes)
    return x.permute(order)


def expand_dims(x: Any, axis: Any) -> Tensor:
    """``x`` with new length-1 axes at ``axis`` (int or tuple), numpy's placement rule.

    Example: ``keras.ops.expand_dims(keras.ops.ones((2, 3)), axis=(0, 2))``
    """
    x = tensor(x)
    new_axes = axes(axis, x.ndim + (1 if isinstance(axis, int) else len(axis)))
    for a in sorted(new_axes):
        x = x.unsqueeze(a)
    return x


def squeeze(x: Any, axis: Any = None) -> Tensor:
    """``x`` without its length-1 axes (only those in ``axis`` when given; they must be 1).

    Example: ``keras.ops.squeeze(keras.ops.zeros((2, 1, 3)), axis=1)``
    """
    x = tensor(x)
    if axis is None:
        return torch.squeeze(x)
    dims = axes(axis, x.ndim)
    for d in dims:
        if x.shape[d] != 1:
            raise ValueError(
                f"Cannot squeeze axis {d} of shape {tuple(x.shape)}: its length is "
                f"{x.shape[d]}, not 1."
            )
    return torch.squeeze(x, dim=dims)


def stack(x: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors of one shape along a new axis.

    Example: ``keras.ops.stack([keras.ops.ones((2,)), keras.ops.zeros((2,))], axis=1)``
    """
    items = _same_device([tensor(t) for t in x])
    return torch.stack(items, dim=axis)


def concatenate(xs: Sequence[Any], axis: "int | None" = 0) -> Tensor:
    """Join tensors along an existing axis (flattened first when ``axis`` is None).

    Example: ``keras.ops.concatenate([keras.ops.ones((2, 1)), keras.ops.zeros((2, 3))], axis=1)``
    """
    items = _same_device([tensor(t) for t in xs])
    if axis is None:
        return torch.cat([t.reshape(-1) for t in items])
    return torch.cat(items, dim=axis)


def hstack(xs: Sequence[Any]) -> Tensor:
    """Join along axis 1 (axis 0 for 1-D tensors).

    Example: ``keras.ops.hstack([keras.ops.ones((2, 1)), keras.ops.zeros((2, 2))])``
    """
    return torch.hstack(_same_device([tensor(t) for t in xs]))


def vstack(xs: Sequence[Any]) -> Tensor:
    """Join along axis 0 (1-D tensors become rows).

    Example: ``keras.ops.vstack([keras.ops.ones((3,)), keras.ops.zeros((3,))])``
    """
    return torch.vstack(_same_device([tensor(t) for t in xs]))


def _same_device(items: list[Tensor]) -> list[Tensor]:
    device = next((t.device for t in items if t.device != torch.device("cpu")), None)
    return items if device is None else [t.to(device) for t in items]


def split(x: Any, indices_or_sections: Any, axis: int = 0) -> list[Tensor]:
    """Split into equal sections (an int that must divide the axis) or at given indices.

    Example:
    >>> import tritonlayers as keras
    >>> [t.tolist() for t in keras.ops.split(keras.ops.arange(4), 2)]
    [[0, 1], [2, 3]]
    """
    x = tensor(x)
    if isinstance(indices_or_sections, int):
        length = x.shape[axis]
        if indices_or_sections <= 0 or length % indices_or_sections:
            raise ValueError(
                f"split: {indices_or_sections} sections do not divide axis {axis} of length "
                f"{length} equally."
            )
        return list(torch.tensor_split(x, indices_or_sections, dim=axis))
    return list(torch.tensor_split(x, [int(i) for i in indices_or_sections], dim=axis))


def tile(x: Any, repeats: Any) -> Tensor:
    """``x`` repeated ``repeats`` times along each axis (numpy's ``tile``).

    Example: ``keras.ops.tile([1, 2], (2, 2))``
    """
    return torch.tile(tensor(x), _shape_tuple(repeats))


def repeat(x: Any, repeats: Any, axis: "int | None" = None) -> Tensor:
    """Each element repeated ``repeats`` times along ``axis`` (flattened for None).

    Example: ``keras.ops.repeat([1, 2], 2)``
    """
    x = tensor(x)
    if not isinstance(repeats, int):
        repeats = like(repeats, x).to(torch.int64)
    if axis is None:
        return torch.repeat_interleave(x.reshape(-1), repeats)
    return torch.repeat_interleave(x, repeats, dim=axis)


def flip(x: Any, axis: Any = None) -> Tensor:
    """``x`` with the order reversed along ``axis`` (all axes for None).

    Example: ``keras.ops.flip([1, 2, 3])``
    """
    x = tensor(x)
    return torch.flip(x, dims=reduce_dims(x, axis))


def roll(x: Any, shift: Any, axis: Any = None) -> Tensor:
    """Elements shifted by ``shift`` along ``axis``, wrapping around (flattened for None).

    Example: ``keras.ops.roll([1, 2, 3, 4], 1)``
    """
    x = tensor(x)
    if axis is None:
        return torch.roll(x.reshape(-1), shift).reshape(x.shape)
    return torch.roll(x, shift, dims=axis)


def swapaxes(x: Any, axis1: int, axis2: int) -> Tensor:
    """``x`` with two axes exchanged.

    Example: ``keras.ops.swapaxes(keras.ops.zeros((2, 3, 4)), 0, 2)``
    """
    return torch.swapaxes(tensor(x), axis1, axis2)


def moveaxis(x: Any, source: Any, destination: Any) -> Tensor:
    """``x`` with axes moved from ``source`` to ``destination`` (ints or tuples).

    Example: ``keras.ops.moveaxis(keras.ops.zeros((2, 3, 4)), 0, -1)``
    """
    return torch.movedim(tensor(x), source, destination)


def broadcast_to(x: Any, shape: Any) -> Tensor:
    """``x`` broadcast to ``shape``.

    Example: ``keras.ops.broadcast_to([1.0, 2.0], (3, 2))``
    """
    return torch.broadcast_to(tensor(x), _shape_tuple(shape))


def diag(x: Any, k: int = 0) -> Tensor:
    """The ``k``-th diagonal of a matrix, or a matrix with a 1-D ``x`` on it.

    Example: ``keras.ops.diag([1.0, 2.0])``
    """
    return torch.diag(tensor(x), k)


def diagonal(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """The diagonal over ``axis1``/``axis2``, appended as the last axis (numpy's rule).

    Example: ``keras.ops.diagonal(keras.ops.eye(3))``
    """
    return torch.diagonal(tensor(x), offset, axis1, axis2)


def trace(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """Sum along a diagonal.

    Example: ``keras.ops.trace(keras.ops.eye(3))``
    """
    diag = diagonal(x, offset, axis1, axis2)
    dtype = diag.dtype
    if not (dtype.is_floating_point or dtype.is_complex or dtype in (torch.int64, torch.uint64)):
        dtype = torch.int32
    return torch.sum(diag, dim=-1, dtype=dtype)


def tril(x: Any, k: int = 0) -> Tensor:
    """The lower triangle of the last two axes (the rest set to zero).

    Example: ``keras.ops.tril(keras.ops.ones((3, 3)))``
    """
    return torch.tril(tensor(x), k)


def triu(x: Any, k: int = 0) -> Tensor:
    """The upper triangle of the last two axes (the rest set to zero).

    Example: ``keras.ops.triu(keras.ops.ones((3, 3)), k=1)``
    """
    return torch.triu(tensor(x), k)


def size(x: Any) -> int:
    """The number of elements.

    Example: ``keras.ops.size(keras.ops.zeros((2, 3)))``
    """
    return tensor(x).numel()


def ndim(x: Any) -> int:
    """The number of axes.

    Example: ``keras.ops.ndim(keras.ops.zeros((2, 3)))``
    """
    return tensor(x).ndim


# --------------------------------------------------------------------------------------
# Padding and indexing
# --------------------------------------------------------------------------------------


def _pad_widths(pad_width: Any, ndim: int) -> list[tuple[int, int]]:
    widths = (
        torch.as_tensor(pad_width).to(torch.int64).tolist()
        if not isinstance(pad_width, int)
        else pad_width
    )
    if isinstance(widths, int):
        return [(widths, widths)] * ndim
    if widths and isinstance(widths[0], int):
        widths = [widths] if len(widths) == 2 else [(w, w) for w in widths]
    if len(widths) == 1:
        widths = widths * ndim
    if len(widths) != ndim:
        raise ValueError(f"pad_width has {len(widths)} entries for a tensor of rank {ndim}.")
    return [tuple(int(v) for v in (w if len(w) == 2 else (w[0], w[0]))) for w in widths]


def _pad_indices(n: int, before: int, after: int, mode: str, device) -> Tensor:
    """Source index of each padded position along one axis, for non-constant modes."""
    i = torch.arange(-before, n + after, device=device)
    if mode == "edge":
        return i.clamp(0, n - 1)
    if mode == "wrap":
        return i % n
    if mode == "reflect":
        if n == 1:
            return torch.zeros_like(i)
        j = i % (2 * n - 2)
        return torch.where(j >= n, 2 * n - 2 - j, j)
    j = i % (2 * n)  # symmetric
    return torch.where(j >= n, 2 * n - 1 - j, j)


def pad(x: Any, pad_width: Any, mode: str = "constant", constant_values: Any = None) -> Tensor:
    """Pad with numpy's ``pad_width`` layout; modes constant, edge, reflect, symmetric, wrap.

    Example:
    >>> import tritonlayers as keras
    >>> keras.ops.pad([1.0, 2.0, 3.0], (2, 1), mode="reflect").tolist()
    [3.0, 2.0, 1.0, 2.0, 3.0, 2.0]
    """
    x = tensor(x)
    widths = _pad_widths(pad_width, x.ndim)
    if mode == "constant":
        flat = [v for w in reversed(widths) for v in w]
        value = 0 if constant_values is None else constant_values
        return torch.nn.functional.pad(x, flat, value=value)
    if mode not in ("edge", "reflect", "symmetric", "wrap"):
        raise ValueError(
            f"pad: mode must be one of constant, edge, reflect, symmetric, wrap; received {mode!r}."
        )
    if constant_values is not None:
        raise ValueError(f"pad: constant_values only applies to mode='constant', not {mode!r}.")
    for dim, (before, after) in enumerate(widths):
        if before or after:
            index = _pad_indices(x.shape[dim], before, after, mode, x.device)
            x = torch.index_select(x, dim, index)
    return x


def take(x: Any, indices: Any, axis: "int | None" = None) -> Tensor:
    """Elements at ``indices`` along ``axis`` (of the flattened tensor for None); negative
    indices count from the end.

    Example: ``keras.ops.take([[1, 2], [3, 4]], [1, -1], axis=1)``
    """
    x = tensor(x)
    indices = like(indices, x).to(torch.int64)
    if axis is None:
        x, axis = x.reshape(-1), 0
    axis = axis % x.ndim
    return x[(builtins.slice(None),) * axis + (indices,)]


def take_along_axis(x: Any, indices: Any, axis: "int | None" = None) -> Tensor:
    """Values of ``x`` picked by ``indices`` along ``axis`` (numpy's ``take_along_axis``).

    Example: ``keras.ops.take_along_axis([[10, 30, 20]], [[1, 2]], axis=1)``
    """
    x = tensor(x)
    indices = like(indices, x).to(torch.int64)
    if axis is None:
        x, indices, axis = x.reshape(-1), indices.reshape(-1), 0
    indices = torch.where(indices < 0, indices + x.shape[axis], indices)
    return torch.take_along_dim(x, indices, dim=axis)


def sort(x: Any, axis: int = -1) -> Tensor:
    """Values sorted ascending along ``axis``.

    Example: ``keras.ops.sort([[3.0, 1.0, 2.0]])``
    """
    return torch.sort(tensor(x), dim=axis).values


def argsort(x: Any, axis: "int | None" = -1) -> Tensor:
    """Indices that sort ``x`` ascending along ``axis`` (stable; of the flattened tensor
    for None).

    Example: ``keras.ops.argsort([3.0, 1.0, 2.0])``
    """
    x = tensor(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    return torch.argsort(x, dim=axis, stable=True).to(torch.int32)


# --------------------------------------------------------------------------------------
# Products
# --------------------------------------------------------------------------------------


def matmul(x1: Any, x2: Any) -> Tensor:
    """Matrix product with numpy's ``matmul`` broadcasting.

    Example: ``keras.ops.matmul(keras.ops.ones((4, 2, 3)), keras.ops.ones((3, 5)))``
    """
    x1, x2 = strict_pair(x1, x2)
    if x1.dtype == torch.int8:
        return _int8_product(torch.matmul, x1, x2)
    return torch.matmul(x1, x2)


def _int8_product(torch_fn, *operands: Tensor) -> Tensor:
    """``torch_fn`` of int8 tensors as int32, as Keras gives (an int8 result would wrap);
    computed in float32 on GPUs, whose torch kernels have no int32 matmul."""
    compute = torch.int32 if operands[0].device.type == "cpu" else torch.float32
    return torch_fn(*[t.to(compute) for t in operands]).to(torch.int32)


def dot(x1: Any, x2: Any) -> Tensor:
    """numpy's ``dot``: a sum over the last axis of ``x1`` and the second-to-last of ``x2``.

    Example: ``keras.ops.dot(keras.ops.ones((2, 3)), keras.ops.ones((3,)))``
    """
    x1, x2 = strict_pair(x1, x2)
    if x1.ndim == 0 or x2.ndim == 0:
        return x1 * x2
    return torch.tensordot(x1, x2, dims=([-1], [-2 if x2.ndim > 1 else -1]))


def vdot(x1: Any, x2: Any) -> Tensor:
    """Dot product of the flattened tensors.

    Example: ``keras.ops.vdot([1.0, 2.0], [3.0, 4.0])``
    """
    x1, x2 = pair(x1, x2)
    return torch.sum(x1.reshape(-1) * x2.reshape(-1))


def outer(x1: Any, x2: Any) -> Tensor:
    """Outer product of the flattened tensors.

    Example: ``keras.ops.outer([1.0, 2.0], [3.0, 4.0, 5.0])``
    """
    x1, x2 = strict_pair(x1, x2)
    return torch.outer(x1.reshape(-1), x2.reshape(-1))


def tensordot(x1: Any, x2: Any, axes: Any = 2) -> Tensor:
    """Sum of products over the given axes (an int N = the last N of x1 with the first N of
    x2).

    Example: ``keras.ops.tensordot(keras.ops.ones((2, 3, 4)), keras.ops.ones((3, 4, 5)), axes=2)``
    """
    x1, x2 = strict_pair(x1, x2)
    return torch.tensordot(x1, x2, dims=axes)


def einsum(subscripts: str, *operands: Any) -> Tensor:
    """Einstein summation.

    Example: ``keras.ops.einsum("ij,jk->ik", keras.ops.ones((2, 3)), keras.ops.ones((3, 4)))``
    """
    operands = _same_device([tensor(t) for t in operands])
    if operands and builtins.all(t.dtype == torch.int8 for t in operands):
        return _int8_product(lambda *ts: torch.einsum(subscripts, *ts), *operands)
    return torch.einsum(subscripts, *operands)


def cross(x1: Any, x2: Any, axis: int = -1) -> Tensor:
    """Cross product of 3-vectors along ``axis``.

    Example: ``keras.ops.cross([1.0, 0.0, 0.0], [0.0, 1.0, 0.0])``
    """
    x1, x2 = strict_pair(x1, x2)
    return torch.linalg.cross(x1, x2, dim=axis)


def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A002
    """Vector or matrix norm with numpy's ``linalg.norm`` rules (``ord``, ``axis``).

    Example:
    >>> import tritonlayers as keras
    >>> float(keras.ops.norm([3.0, 4.0]))
    5.0
    """
    x = floating(x)
    dims = None if axis is None else (axis if isinstance(axis, int) else tuple(axis))
    if ord is None and dims is None:
        return torch.linalg.vector_norm(x, keepdim=keepdims).reshape(
            (1,) * x.ndim if keepdims else ()
        )
    return torch.linalg.norm(x, ord=ord, dim=dims, keepdim=keepdims)


# --------------------------------------------------------------------------------------
# Statistics, search and counting
# --------------------------------------------------------------------------------------


def _quantile_over(torch_fn, x: Any, q: Any, axis: Any, method: str, keepdims: bool) -> Tensor:
    x = floating(x)
    if x.ndim == 0:
        x = x.reshape(1)
    if x.dtype in (torch.float16, torch.bfloat16):
        # torch's quantile takes float32/64 only; Keras keeps the half dtype in the result.
        return _quantile_over(torch_fn, x.float(), q, axis, method, keepdims).to(x.dtype)
    q = like(q, x).to(x.dtype)
    dims = reduce_dims(x, axis)
    kept = [d for d in range(x.ndim) if d not in dims]
    flat = x.permute(*kept, *dims).reshape(*[x.shape[d] for d in kept], -1)
    result = torch_fn(flat, q, dim=-1, interpolation=method)
    if keepdims:
        result = result.reshape(*q.shape, *[1 if d in dims else n for d, n in enumerate(x.shape)])
    return result


def quantile(
    x: Any, q: Any, axis: Any = None, method: str = "linear", keepdims: bool = False
) -> Tensor:
    """The ``q``-th quantiles (``q`` in [0, 1], scalar or 1-D) over ``axis``, with numpy's
    ``method`` names (linear, lower, higher, midpoint, nearest); ``q``'s axis comes first.

    Example:
    >>> import tritonlayers as keras
    >>> keras.ops.quantile([1.0, 2.0, 3.0, 4.0], 0.5).item()
    2.5
    """
    return _quantile_over(torch.quantile, x, q, axis, method, keepdims)


def median(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """The median over ``axis`` (the mean of the two middle values for even counts).

    Example: ``keras.ops.median([[1.0, 3.0, 2.0]], axis=1)``
    """
    return quantile(x, 0.5, axis=axis, keepdims=keepdims)


def bincount(x: Any, weights: Any = None, minlength: int = 0, sparse: bool = False) -> Tensor:
    """How often each non-negative int occurs (summing ``weights`` when given); a 2-D ``x``
    counts each row. The length is ``max(minlength, max(x) + 1)`` (read on the host).

    Example:
    >>> import tritonlayers as keras
    >>> keras.ops.bincount([0, 1, 1, 3]).tolist()
    [1, 2, 0, 1]
    """
    if sparse:
        raise ValueError("bincount: sparse=True is not supported by tritonlayers.")
    x = tensor(x).to(torch.int64)
    if x.ndim not in (1, 2):
        raise ValueError(f"bincount expects a 1-D or 2-D input; received shape {tuple(x.shape)}.")
    length = builtins.max(int(minlength), int(x.max()) + 1 if x.numel() else 0)
    values = torch.ones_like(x, dtype=torch.int32) if weights is None else like(weights, x)
    values = values.expand_as(x) if values.shape != x.shape else values
    rows = x.reshape(-1, x.shape[-1])
    counts = torch.zeros((rows.shape[0], length), dtype=values.dtype, device=x.device)
    counts = counts.scatter_add(1, rows, values.reshape(rows.shape))
    return counts.reshape(*x.shape[:-1], length)


def searchsorted(sorted_sequence: Any, values: Any, side: str = "left") -> Tensor:
    """Where each of ``values`` would go in the 1-D ascending ``sorted_sequence`` (int32).

    Example: ``keras.ops.searchsorted([1.0, 2.0, 3.0], [2.5, 0.0])``
    """
    sorted_sequence = tensor(sorted_sequence)
    if sorted_sequence.ndim != 1:
        raise ValueError(
            "searchsorted only supports 1-D sorted sequences; received shape "
            f"{tuple(sorted_sequence.shape)}."
        )
    values = like(values, sorted_sequence)
    return torch.searchsorted(sorted_sequence, values, side=side).to(torch.int32)


def digitize(x: Any, bins: Any) -> Tensor:
    """The index of the bin each value falls in (numpy's ``digitize`` with ascending bins).

    Example: ``keras.ops.digitize([0.5, 1.5, 2.5], [1.0, 2.0])``
    """
    return searchsorted(bins, x, side="right")


def isclose(
    x1: Any, x2: Any, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False
) -> Tensor:
    """Elementwise ``|x1 - x2| <= atol + rtol * |x2|``.

    Example: ``keras.ops.isclose([1.0, 2.0], [1.0, 2.1])``
    """
    x1, x2 = pair(x1, x2)
    x1, x2 = torch.broadcast_tensors(
        *(t.to(torch.promote_types(x1.dtype, x2.dtype)) for t in (x1, x2))
    )
    return torch.isclose(x1, x2, rtol=rtol, atol=atol, equal_nan=equal_nan)


def nonzero(x: Any) -> tuple[Tensor, ...]:
    """The indices of the non-zero entries, one int32 tensor per axis.

    Example: ``keras.ops.nonzero([[0, 1], [1, 0]])``
    """
    return tuple(i.to(torch.int32) for i in torch.nonzero(tensor(x), as_tuple=True))


def append(x1: Any, x2: Any, axis: "int | None" = None) -> Tensor:
    """``x2`` appended to ``x1`` along ``axis`` (both flattened for None).

    Example: ``keras.ops.append([1, 2], [3])``
    """
    return concatenate([x1, x2], axis=axis)


def copy(x: Any) -> Tensor:
    """A copy of ``x`` that does not share memory with it.

    Example: ``keras.ops.copy(keras.ops.ones((2,)))``
    """
    return tensor(x).clone()


def empty(shape: Any, dtype: Any = None) -> Tensor:
    """An uninitialized tensor (read its values only after writing them).

    Example: ``keras.ops.empty((2, 3))``
    """
    return torch.empty(
        _shape_tuple(shape), dtype=_creation_dtype(dtype, 0.0), device=config.device()
    )


def logspace(
    start: Any,
    stop: Any,
    num: int = 50,
    endpoint: bool = True,
    base: float = 10,
    dtype: Any = None,
    axis: int = 0,
) -> Tensor:
    """``base ** linspace(start, stop, num)``.

    Example: ``keras.ops.logspace(0.0, 2.0, 3)``
    """
    exponents = linspace(start, stop, num, endpoint=endpoint, axis=axis)
    values = torch.pow(torch.as_tensor(base, dtype=exponents.dtype), exponents)
    return values if dtype is None else values.to(to_torch_dtype(dtype))


# --------------------------------------------------------------------------------------
# More numpy names
# --------------------------------------------------------------------------------------

deg2rad = _unary_float(torch.deg2rad, "deg2rad", "[180.0]")
rad2deg = _unary_float(torch.rad2deg, "rad2deg", "[3.14159]")
sinc = _unary_float(torch.sinc, "sinc")
fabs = _unary_float(torch.abs, "fabs", "[-1, 2]")
signbit = _unary(torch.signbit, "signbit")
isneginf = _unary(torch.isneginf, "isneginf", '[float("-inf"), 1.0]')
isposinf = _unary(torch.isposinf, "isposinf", '[float("inf"), 1.0]')
bitwise_not = _unary(torch.bitwise_not, "bitwise_not", "[0, 5]")
bitwise_invert = bitwise_not
fmax = _binary(torch.fmax, "fmax")
fmin = _binary(torch.fmin, "fmin")
fmod = _binary(_bools_as_int32(torch.fmod), "fmod")
hypot = _binary(torch.hypot, "hypot", floats=True, strict=True)
logaddexp2 = _binary(torch.logaddexp2, "logaddexp2", floats=True, strict=True)
nextafter = _binary(torch.nextafter, "nextafter", floats=True, strict=True)
gcd = _binary(torch.gcd, "gcd", sample="[12, 18], [8, 27]")
lcm = _binary(torch.lcm, "lcm", sample="[12, 18], [8, 27]")
bitwise_and = _binary(torch.bitwise_and, "bitwise_and", sample="[12, 5], [10, 3]")
bitwise_or = _binary(torch.bitwise_or, "bitwise_or", sample="[12, 5], [10, 3]")
bitwise_xor = _binary(torch.bitwise_xor, "bitwise_xor", sample="[12, 5], [10, 3]")


def _shift(torch_fn, name: str, sample: str):
    """A shift op; a Python int shift goes to torch as it is (so ``bool << 2`` is int64,
    as in Keras on torch, where other binary ops give int32)."""
    binary = _binary(torch_fn, name, sample=sample)

    def op(x1: Any, x2: Any) -> Tensor:
        if type(x2) is int:
            return torch_fn(tensor(x1), x2)
        return binary(x1, x2)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = binary.__doc__
    return op


left_shift = _shift(torch.bitwise_left_shift, "left_shift", sample="[1, 3], [2, 1]")
right_shift = _shift(torch.bitwise_right_shift, "right_shift", sample="[8, 3], [2, 1]")
bitwise_left_shift = left_shift
bitwise_right_shift = right_shift
kron = _binary(torch.kron, "kron", strict=True)
inner = _binary(torch.inner, "inner", strict=True)


def cbrt(x: Any) -> Tensor:
    """The real cube root, elementwise. Example: ``keras.ops.cbrt([-8.0, 27.0])``."""
    x = floating(x)
    return torch.sign(x) * torch.abs(x) ** (1.0 / 3.0)


def heaviside(x1: Any, x2: Any) -> Tensor:
    """0 where ``x1 < 0``, ``x2`` where ``x1 == 0``, 1 where ``x1 > 0``.

    Example: ``keras.ops.heaviside([-1.0, 0.0, 2.0], 0.5)``
    """
    return torch.heaviside(*float_pair(*strict_pair(x1, x2)))


def ldexp(x1: Any, x2: Any) -> Tensor:
    """``x1 * 2 ** x2``. Example: ``keras.ops.ldexp([1.0, 3.0], [2, 1])``."""
    x1, x2 = pair(floating(x1), x2)
    return torch.ldexp(x1, x2)


def divide_no_nan(x1: Any, x2: Any) -> Tensor:
    """``x1 / x2``, with 0 where ``x2`` is 0. Example: ``keras.ops.divide_no_nan([1.0], [0.0])``."""
    x1, x2 = float_pair(*pair(x1, x2))
    safe = torch.where(x2 == 0, torch.ones_like(x2), x2)
    return torch.where(x2 == 0, torch.zeros_like(x1 / safe), x1 / safe)


def isin(x1: Any, x2: Any, assume_unique: bool = False, invert: bool = False) -> Tensor:
    """Whether each element of ``x1`` occurs in ``x2``.

    Example: ``keras.ops.isin([1, 4], [4, 5])``
    """
    x1, x2 = pair(x1, x2)
    if torch.bool in (x1.dtype, x2.dtype):  # torch.isin refuses bools; compare as ints
        dtype = torch.promote_types(torch.promote_types(x1.dtype, x2.dtype), torch.uint8)
        x1, x2 = x1.to(dtype), x2.to(dtype)
    return torch.isin(x1, x2, assume_unique=assume_unique, invert=invert)


def allclose(
    x1: Any, x2: Any, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False
) -> Tensor:
    """Whether all elements are close (see ``isclose``), as a 0-d bool tensor.

    Example: ``keras.ops.allclose([1.0, 2.0], [1.0, 2.0 + 1e-9])``
    """
    return torch.all(isclose(x1, x2, rtol=rtol, atol=atol, equal_nan=equal_nan))


def _nan_reduce(torch_fn, fill: float, x: Any, axis: Any, keepdims: bool) -> Tensor:
    x = floating(x)
    return _reduce(
        torch_fn, torch.nan_to_num(x, nan=fill, posinf=torch.inf, neginf=-torch.inf), axis, keepdims
    )


def nansum(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """``sum`` treating NaN as 0. Example: ``keras.ops.nansum([1.0, float("nan"), 2.0])``."""
    if not tensor(x).is_floating_point():
        return sum(x, axis=axis, keepdims=keepdims)
    return _nan_reduce(torch.sum, 0.0, x, axis, keepdims)


def nanprod(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """``prod`` treating NaN as 1. Example: ``keras.ops.nanprod([2.0, float("nan"), 3.0])``."""
    x = tensor(x)
    if not x.is_floating_point():
        return prod(x, axis=axis, keepdims=keepdims)
    return prod(torch.where(torch.isnan(x), torch.ones_like(x), x), axis=axis, keepdims=keepdims)


def nanmax(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """``max`` ignoring NaN (NaN where all are NaN).

    Example: ``keras.ops.nanmax([1.0, float("nan")])``
    """
    x = tensor(x)
    if not x.is_floating_point():
        return max(x, axis=axis, keepdims=keepdims)
    result = _nan_reduce(torch.amax, -torch.inf, x, axis, keepdims)
    return torch.where(_reduce(torch.all, torch.isnan(x), axis, keepdims), torch.nan, result)


def nanmin(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """``min`` ignoring NaN (NaN where all are NaN).

    Example: ``keras.ops.nanmin([1.0, float("nan")])``
    """
    x = tensor(x)
    if not x.is_floating_point():
        return min(x, axis=axis, keepdims=keepdims)
    result = _nan_reduce(torch.amin, torch.inf, x, axis, keepdims)
    return torch.where(_reduce(torch.all, torch.isnan(x), axis, keepdims), torch.nan, result)


def nanmean(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """``mean`` of the non-NaN values. Example: ``keras.ops.nanmean([1.0, float("nan"), 3.0])``."""
    x = floating(x)
    count = _reduce(torch.sum, (~torch.isnan(x)).to(x.dtype), axis, keepdims)
    return nansum(x, axis, keepdims) / count


def nanvar(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Population variance of the non-NaN values.

    Example: ``keras.ops.nanvar([1.0, float("nan"), 3.0])``
    """
    x = floating(x)
    centered = x - nanmean(x, axis, keepdims=True)
    return nanmean(centered * centered, axis, keepdims)


def nanstd(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Population standard deviation of the non-NaN values.

    Example: ``keras.ops.nanstd([1.0, float("nan"), 3.0])``
    """
    return torch.sqrt(nanvar(x, axis, keepdims))


def nanquantile(
    x: Any, q: Any, axis: Any = None, method: str = "linear", keepdims: bool = False
) -> Tensor:
    """``quantile`` ignoring NaN.

    Example: ``keras.ops.nanquantile([1.0, float("nan"), 3.0], 0.5)``
    """
    return _quantile_over(torch.nanquantile, x, q, axis, method, keepdims)


def nanmedian(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """``median`` ignoring NaN. Example: ``keras.ops.nanmedian([1.0, float("nan"), 3.0])``."""
    return nanquantile(x, 0.5, axis=axis, keepdims=keepdims)


def percentile(
    x: Any, q: Any, axis: Any = None, method: str = "linear", keepdims: bool = False
) -> Tensor:
    """``quantile`` with ``q`` in percent.

    Example: ``keras.ops.percentile([1.0, 2.0, 3.0], 50)``
    """
    return quantile(x, like(q, floating(x)) / 100.0, axis=axis, method=method, keepdims=keepdims)


def nanpercentile(
    x: Any, q: Any, axis: Any = None, method: str = "linear", keepdims: bool = False
) -> Tensor:
    """``percentile`` ignoring NaN.

    Example: ``keras.ops.nanpercentile([1.0, float("nan"), 3.0], 50)``
    """
    return nanquantile(x, like(q, floating(x)) / 100.0, axis, method, keepdims)


def ptp(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Range (max - min) over ``axis``. Example: ``keras.ops.ptp([[1, 5], [2, 9]], axis=1)``."""
    return max(x, axis=axis, keepdims=keepdims) - min(x, axis=axis, keepdims=keepdims)


def fliplr(x: Any) -> Tensor:
    """Reverse axis 1. Example: ``keras.ops.fliplr(keras.ops.eye(2))``."""
    return torch.fliplr(tensor(x))


def flipud(x: Any) -> Tensor:
    """Reverse axis 0. Example: ``keras.ops.flipud(keras.ops.eye(2))``."""
    return torch.flipud(tensor(x))


def rot90(array: Any, k: int = 1, axes: tuple[int, int] = (0, 1)) -> Tensor:
    """Rotate by 90 degrees ``k`` times in the plane of ``axes``.

    Example: ``keras.ops.rot90([[1, 2], [3, 4]])``
    """
    return torch.rot90(tensor(array), k, list(axes))


def dstack(xs: Sequence[Any]) -> Tensor:
    """Join along axis 2 (after making inputs at least 3-D), as numpy's ``dstack``.

    Example: ``keras.ops.dstack([keras.ops.ones((2,)), keras.ops.zeros((2,))])``
    """
    return torch.dstack(_same_device([tensor(t) for t in xs]))


def array_split(x: Any, indices_or_sections: Any, axis: int = 0) -> list[Tensor]:
    """Split into sections that may differ in size by one, or at given indices.

    Example: ``keras.ops.array_split(keras.ops.arange(5), 2)``
    """
    x = tensor(x)
    sections = indices_or_sections
    if not isinstance(sections, int):
        sections = [int(i) for i in sections]
    return list(torch.tensor_split(x, sections, dim=axis))


def hsplit(x: Any, indices_or_sections: Any) -> list[Tensor]:
    """``split`` along axis 1 (axis 0 for 1-D inputs).

    Example: ``keras.ops.hsplit(keras.ops.ones((2, 4)), 2)``
    """
    x = tensor(x)
    return split(x, indices_or_sections, axis=1 if x.ndim > 1 else 0)


def vsplit(x: Any, indices_or_sections: Any) -> list[Tensor]:
    """``split`` along axis 0.

    Example: ``keras.ops.vsplit(keras.ops.ones((4, 2)), [1])``
    """
    return split(x, indices_or_sections, axis=0)


def dsplit(x: Any, indices_or_sections: Any) -> list[Tensor]:
    """``split`` along axis 2.

    Example: ``keras.ops.dsplit(keras.ops.ones((1, 2, 4)), 2)``
    """
    return split(x, indices_or_sections, axis=2)


def diagflat(x: Any, k: int = 0) -> Tensor:
    """A matrix with the flattened ``x`` on its ``k``-th diagonal.

    Example: ``keras.ops.diagflat([1.0, 2.0])``
    """
    return torch.diagflat(tensor(x), k)


def diff(a: Any, n: int = 1, axis: int = -1) -> Tensor:
    """The ``n``-th discrete difference along ``axis``. Example: ``keras.ops.diff([1, 4, 9])``."""
    return torch.diff(tensor(a), n=n, dim=axis)


def empty_like(x: Any, dtype: Any = None) -> Tensor:
    """An uninitialized tensor with the shape (and dtype, unless given) of ``x``.

    Example: ``keras.ops.empty_like(keras.ops.ones((2, 3)))``
    """
    return torch.empty_like(tensor(x), dtype=None if dtype is None else to_torch_dtype(dtype))


def array(x: Any, dtype: Any = None) -> Tensor:
    """A tensor from ``x`` (as ``convert_to_tensor``). Example: ``keras.ops.array([1, 2])``."""
    return convert_to_tensor(x, dtype)


def select(condlist: Sequence[Any], choicelist: Sequence[Any], default: Any = 0) -> Tensor:
    """Per element, the choice of the first true condition, else ``default``.

    Example: ``keras.ops.select([[True, False], [True, True]], [[1, 2], [3, 4]], 0)``
    """
    if len(condlist) != len(choicelist):
        raise ValueError(
            "select: condlist and choicelist must have the same length; received "
            f"{len(condlist)} and {len(choicelist)}."
        )
    choices = [tensor(c) for c in choicelist]
    result = like(default, choices[0]) if choices else tensor(default)
    for condition, choice in reversed(list(zip(condlist, choices))):
        result = torch.where(like(condition, choice).bool(), choice, result)
    return result


def trapezoid(y: Any, x: Any = None, dx: float = 1.0, axis: int = -1) -> Tensor:
    """The integral of ``y`` by the trapezoidal rule.

    Example: ``keras.ops.trapezoid([1.0, 2.0, 3.0])``
    """
    y = floating(y)
    if x is None:
        return torch.trapezoid(y, dx=dx, dim=axis)
    return torch.trapezoid(y, like(x, y).to(y.dtype), dim=axis)


def corrcoef(x: Any) -> Tensor:
    """Pearson correlation coefficients of the rows of ``x``.

    Example: ``keras.ops.corrcoef([[1.0, 2.0, 3.0], [2.0, 4.0, 7.0]])``
    """
    return torch.corrcoef(floating(x))


def nanargmax(x: Any, axis: "int | None" = None, keepdims: bool = False) -> Tensor:
    """``argmax`` ignoring NaN. Example: ``keras.ops.nanargmax([float("nan"), 1.0, 3.0])``."""
    x = floating(x)
    return argmax(torch.where(torch.isnan(x), -torch.inf, x), axis=axis, keepdims=keepdims)


def nanargmin(x: Any, axis: "int | None" = None, keepdims: bool = False) -> Tensor:
    """``argmin`` ignoring NaN. Example: ``keras.ops.nanargmin([float("nan"), 1.0, 3.0])``."""
    x = floating(x)
    return argmin(torch.where(torch.isnan(x), torch.inf, x), axis=axis, keepdims=keepdims)


def nancumsum(x: Any, axis: "int | None" = None, dtype: Any = None) -> Tensor:
    """``cumsum`` treating NaN as 0. Example: ``keras.ops.nancumsum([1.0, float("nan"), 2.0])``."""
    x = tensor(x)
    if x.is_floating_point():
        x = torch.nan_to_num(x, nan=0.0, posinf=torch.inf, neginf=-torch.inf)
    return cumsum(x, axis=axis, dtype=dtype)


def nancumprod(x: Any, axis: "int | None" = None, dtype: Any = None) -> Tensor:
    """``cumprod`` treating NaN as 1.

    Example: ``keras.ops.nancumprod([2.0, float("nan"), 3.0])``
    """
    x = tensor(x)
    if x.is_floating_point():
        x = torch.where(torch.isnan(x), torch.ones_like(x), x)
    return cumprod(x, axis=axis, dtype=dtype)


def argpartition(x: Any, kth: int, axis: int = -1) -> Tensor:
    """Indices that put the ``kth`` element in its sorted place, smaller ones before it and
    larger ones after (this returns a full stable sort, one valid answer).

    Example: ``keras.ops.argpartition([3.0, 1.0, 2.0], 1)``
    """
    return argsort(x, axis=axis)


def geomspace(
    start: Any, stop: Any, num: int = 50, endpoint: bool = True, dtype: Any = None, axis: int = 0
) -> Tensor:
    """``num`` values evenly spaced on a log scale from ``start`` to ``stop`` (same sign).

    Example: ``keras.ops.geomspace(1.0, 1000.0, 4)``
    """
    start, stop = float_pair(*pair(start, stop))
    sign = torch.sign(start)
    exponents = linspace(
        torch.log10(torch.abs(start)), torch.log10(torch.abs(stop)), num, endpoint, axis=axis
    )
    values = sign * torch.pow(10.0, exponents)
    return values if dtype is None else values.to(to_torch_dtype(dtype))


def unravel_index(indices: Any, shape: Any) -> tuple[Tensor, ...]:
    """The coordinates in ``shape`` of flat ``indices``, in the indices' int dtype (int64
    and non-int indices give int32, as in Keras).

    Example: ``keras.ops.unravel_index([5, 7], (2, 4))``
    """
    indices = tensor(indices)
    narrow = indices.dtype in (torch.int8, torch.uint8, torch.int16)
    dtype = indices.dtype if narrow else torch.int32
    coordinates = torch.unravel_index(indices.to(torch.int64), _shape_tuple(shape))
    return tuple(c.to(dtype) for c in coordinates)


def saturate_cast(x: Any, dtype: Any) -> Tensor:
    """``x`` cast to ``dtype`` with values clipped to its range first.

    Example: ``keras.ops.saturate_cast([300.0, -5.0], "uint8")``
    """
    x = tensor(x)
    target = to_torch_dtype(dtype)
    info = torch.finfo(target) if target.is_floating_point else torch.iinfo(target)
    if not x.is_floating_point() and target.is_floating_point:
        return x.to(target)
    return torch.clamp(x, info.min, info.max).to(target)


def get_item(x: Any, key: Any) -> Tensor:
    """``x[key]``. Example: ``keras.ops.get_item(keras.ops.arange(5), 2)``."""
    return tensor(x)[key]


def cdist(x: Any, y: Any) -> Tensor:
    """Euclidean distances between the rows of ``x`` and of ``y`` (batched over leading axes).

    Example: ``keras.ops.cdist([[0.0, 0.0]], [[3.0, 4.0]])``
    """
    x, y = float_pair(*pair(x, y))
    if x.dtype in (torch.float16, torch.bfloat16) and x.device.type == "cpu":
        # torch's CPU cdist has no half kernels; Keras returns the half dtype.
        return torch.cdist(x.float(), y.float()).to(x.dtype)
    return torch.cdist(x, y)


i0 = _unary_float(torch.i0, "i0")
isreal = _unary(torch.isreal, "isreal")
angle = _unary_float(torch.angle, "angle")


def real(x: Any) -> Tensor:
    """The real part (``x`` itself for real tensors). Example: ``keras.ops.real([1.0, 2.0])``."""
    return torch.real(tensor(x))


def imag(x: Any) -> Tensor:
    """The imaginary part (zeros for real tensors). Example: ``keras.ops.imag([1.0, 2.0])``."""
    x = tensor(x)
    return torch.imag(x) if x.is_complex() else torch.zeros_like(x)


def conj(x: Any) -> Tensor:
    """The complex conjugate (``x`` itself for real tensors). Example: ``keras.ops.conj([1.0])``."""
    x = tensor(x)
    return torch.conj_physical(x) if x.is_complex() else x


conjugate = conj


def _window(torch_window, x: Any, **kwargs: Any) -> Tensor:
    return torch_window(
        int(x), periodic=False, dtype=_default_float(), device=config.device(), **kwargs
    )


def bartlett(x: Any) -> Tensor:
    """The Bartlett (triangular) window of ``x`` points. Example: ``keras.ops.bartlett(5)``."""
    return _window(torch.bartlett_window, x)


def blackman(x: Any) -> Tensor:
    """The Blackman window of ``x`` points. Example: ``keras.ops.blackman(5)``."""
    return _window(torch.blackman_window, x)


def hamming(x: Any) -> Tensor:
    """The Hamming window of ``x`` points. Example: ``keras.ops.hamming(5)``."""
    return _window(torch.hamming_window, x)


def hanning(x: Any) -> Tensor:
    """The Hann window of ``x`` points. Example: ``keras.ops.hanning(5)``."""
    return _window(torch.hann_window, x)


def kaiser(x: Any, beta: float) -> Tensor:
    """The Kaiser window of ``x`` points with shape ``beta``.

    Example: ``keras.ops.kaiser(5, 14.0)``
    """
    return _window(torch.kaiser_window, x, beta=float(beta))


# --------------------------------------------------------------------------------------
# Unique values, histograms, correlation, Vandermonde matrices, dtype views
# --------------------------------------------------------------------------------------


def _first_occurrences(inverse: Tensor, count: int) -> Tensor:
    """For each of ``count`` unique values, the first position whose inverse index is it."""
    positions = torch.arange(inverse.numel(), device=inverse.device)
    first = torch.full((count,), inverse.numel(), dtype=torch.int64, device=inverse.device)
    return first.scatter_reduce(0, inverse.reshape(-1), positions, "amin")


def _fit_length(values: Tensor, size: int, dim: int, fill: Any) -> Tensor:
    """``values`` cropped or padded with ``fill`` to ``size`` entries along ``dim``."""
    found = values.shape[dim]
    if found >= size:
        return values.narrow(dim, 0, size)
    pad_shape = list(values.shape)
    pad_shape[dim] = size - found
    padding = torch.full(pad_shape, fill, dtype=values.dtype, device=values.device)
    return torch.cat([values, padding], dim=dim)


def unique(
    x: Any,
    sorted: bool = True,  # noqa: A002
    return_index: bool = False,
    return_inverse: bool = False,
    return_counts: bool = False,
    axis: "int | None" = None,
    size: "int | None" = None,
    fill_value: Any = None,
) -> "Tensor | tuple[Tensor, ...]":
    """The unique values of ``x`` (flattened, or the unique slices along ``axis``), sorted.

    Optionally also returns, in this order, the index of each value's first occurrence, the
    index of each input entry's value among the unique ones (shaped like ``x`` when
    ``axis`` is None) and each value's count (all int32). ``size`` crops or pads the
    result to that many values (padding values with ``fill_value`` or 0, counts with 0
    and first indices with 1, as Keras does).

    Example:
    >>> import tritonlayers as keras
    >>> values, counts = keras.ops.unique([3, 1, 3, 2, 1, 3], return_counts=True)
    >>> values.tolist(), counts.tolist()
    ([1, 2, 3], [2, 1, 3])
    """
    x = tensor(x)
    dim = 0 if axis is None else axes(axis, x.ndim)[0]
    values, inverse, counts = torch.unique(
        x, sorted=True, return_inverse=True, return_counts=True, dim=axis
    )
    outputs = {"values": values}
    if return_index:
        outputs["index"] = _first_occurrences(inverse, values.shape[dim])
    if return_inverse:
        outputs["inverse"] = inverse
    if return_counts:
        outputs["counts"] = counts
    if size is not None:
        fills = {"values": 0 if fill_value is None else fill_value, "index": 1, "counts": 0}
        for name, fill in fills.items():
            if name in outputs:
                outputs[name] = _fit_length(
                    outputs[name], int(size), dim if name == "values" else 0, fill
                )
    results = [outputs["values"]] + [
        outputs[name].to(torch.int32) for name in ("index", "inverse", "counts") if name in outputs
    ]
    return results[0] if len(results) == 1 else tuple(results)


def histogram(x: Any, bins: int = 10, range: "tuple | None" = None) -> tuple[Tensor, Tensor]:  # noqa: A002
    """Counts of the values of the 1-D ``x`` in ``bins`` equal-width bins over ``range``
    (default: ``x``'s min and max; the last bin includes its right edge, values outside
    are not counted), and the ``bins + 1`` bin edges. Ints are cast to floatx.

    Example:
    >>> import tritonlayers as keras
    >>> counts, edges = keras.ops.histogram([0.0, 1.0, 1.0, 2.5, 4.0], bins=4)
    >>> counts.tolist(), edges.tolist()
    ([1.0, 2.0, 1.0, 1.0], [0.0, 1.0, 2.0, 3.0, 4.0])
    """
    if isinstance(bins, bool) or not isinstance(bins, int):
        raise TypeError(f"Argument `bins` must be of type `int`. Received: bins={bins}")
    if bins < 0:
        raise ValueError(f"Argument `bins` should be a non-negative integer. Received: bins={bins}")
    if bins == 0:
        raise ValueError("Argument `bins` must be positive to make a histogram. Received: bins=0")
    if range:
        if not isinstance(range, tuple) or len(range) < 2:
            raise ValueError(
                f"Argument `range` must be a tuple of two elements. Received: range={range}"
            )
        if range[1] < range[0]:
            raise ValueError(
                "The second element of `range` must be greater than the first. "
                f"Received: range={range}"
            )
    x = floating(x)
    if x.ndim > 1:
        raise ValueError(f"Input tensor must be 1-dimensional. Received: input.shape={x.shape}")
    # The bounds stay on the device (no host sync; shapes do not depend on values).
    if range:
        low, high = (torch.tensor(float(v), dtype=x.dtype, device=x.device) for v in range[:2])
    elif x.numel():
        low, high = x.min(), x.max()
    else:
        low, high = (torch.tensor(v, dtype=x.dtype, device=x.device) for v in (0.0, 1.0))
    same = low == high
    low, high = torch.where(same, low - 0.5, low), torch.where(same, high + 0.5, high)
    steps = torch.arange(bins + 1, device=x.device).to(x.dtype)
    edges = torch.where(steps == bins, high, low + (high - low) * steps / bins)
    # Bin i holds [edge_i, edge_i+1); the right edge of the last bin is included.
    index = (torch.bucketize(x, edges, right=True) - 1).clamp(0, bins - 1)
    inside = ((x >= low) & (x <= high)).to(x.dtype)
    return torch.zeros(bins, dtype=x.dtype, device=x.device).index_add(0, index, inside), edges


def correlate(x1: Any, x2: Any, mode: str = "valid") -> Tensor:
    """The cross-correlation ``c[k] = sum_n x1[n + k] * x2[n]`` of two 1-D tensors, as
    ``numpy.correlate``: ``mode`` "valid" (full overlap), "same" (``max(len)`` values,
    centred) or "full". Ints and bools give float32.

    Example:
    >>> import tritonlayers as keras
    >>> keras.ops.correlate([1.0, 2.0, 3.0, 4.0], [0.0, 1.0, 0.5]).tolist()
    [3.5, 5.0]
    """
    x1, x2 = pair(x1, x2)
    for name, value in (("x1", x1), ("x2", x2)):
        if value.ndim != 1:
            raise ValueError(
                f"`{name}` must be a 1-dimensional tensor, but received shape {tuple(value.shape)}"
            )
    if mode not in ("valid", "same", "full"):
        raise ValueError(f"`mode` must be either `valid`, `same`, or `full`, but received: {mode}")
    dtype = torch.promote_types(x1.dtype, x2.dtype)
    if dtype not in (torch.bfloat16, torch.float16, torch.float64):
        dtype = torch.float32
    x1, x2 = x1.to(dtype), x2.to(dtype)
    n1, n2 = x1.shape[0], x2.shape[0]
    # conv1d is a cross-correlation; padding x1 by n2 - 1 on both sides gives every lag.
    full = F.conv1d(x1.reshape(1, 1, n1), x2.reshape(1, 1, n2), padding=n2 - 1).reshape(-1)
    if mode == "full":
        return full
    length = (
        builtins.max(n1, n2) - builtins.min(n1, n2) + 1 if mode == "valid" else builtins.max(n1, n2)
    )
    # numpy centres the window rounding down, or up when x2 is the longer input.
    start = (full.shape[0] - length + int(n1 < n2)) // 2
    return full[start : start + length]


def vander(x: Any, N: "int | None" = None, increasing: bool = False) -> Tensor:  # noqa: N803
    """The Vandermonde matrix of the 1-D ``x``: columns ``x ** (N - 1), ..., x ** 0``
    (``N`` defaults to ``len(x)``; ``increasing`` reverses the powers). Keeps ``x``'s dtype.

    Example:
    >>> import tritonlayers as keras
    >>> keras.ops.vander([1, 2, 3]).tolist()
    [[1, 1, 1], [4, 2, 1], [9, 3, 1]]
    """
    x = tensor(x)
    if x.ndim != 1:
        raise ValueError(
            f"Input tensor must be 1-dimensional. Received: input.shape={tuple(x.shape)}"
        )
    if N is not None:
        if isinstance(N, bool) or not isinstance(N, int):
            raise TypeError(
                f"Argument `N` must be of type `int`. Received: N={N} of type {type(N)}"
            )
        if N < 0:
            raise ValueError(f"Argument 'N' must be nonnegative. Received: N={N}")
    if not isinstance(increasing, bool):
        raise TypeError(
            "Argument `increasing` must be of type `bool`. "
            f"Received: increasing={increasing} of type {type(increasing)}"
        )
    return torch.vander(x, N=N, increasing=increasing).to(x.dtype)


def view(x: Any, dtype: Any = None) -> Tensor:
    """The bytes of ``x`` reinterpreted as ``dtype`` (no copy): the last axis is scaled by
    the ratio of item sizes.

    Example:
    >>> import tritonlayers as keras
    >>> keras.ops.view(keras.ops.ones((2,), dtype="float32"), "int32").tolist()
    [1065353216, 1065353216]
    """
    x = tensor(x)
    if dtype is None:
        return x.view(x.dtype)
    target = to_torch_dtype(dtype)
    old, new = x.element_size(), torch.empty((), dtype=target).element_size()
    if old != new and x.ndim == 0:
        raise ValueError("Cannot view a scalar as a different dtype if item sizes are different.")
    if old != new and x.shape[-1] * old % new:
        raise ValueError(
            f"Cannot view array of shape {tuple(x.shape)} and dtype "
            f"{standardize_dtype(x.dtype)} as dtype {standardize_dtype(target)} because the "
            "total number of bytes is not divisible by the new itemsize."
        )
    return x.view(target)
