"""The neural-network ops of ``keras.ops``: activations, softmax, cross-entropies,
convolution, pooling, moments and normalization.

These are plain torch functions. Layers that want the fused Triton matmul + activation call
``tritonlayers.kernels.fused_linear`` instead (``Dense`` does).

Convolution kernels use Keras's layout ``(*spatial, in_channels, out_channels)`` and inputs
are ``channels_last`` unless ``data_format`` (or ``config.image_data_format()``) says
otherwise.

Example:
>>> import tritonlayers as keras
>>> keras.ops.softmax([[0.0, 0.0]]).tolist()
[[0.5, 0.5]]
"""

import math
from typing import Any

import torch
import torch.nn.functional as F

from .. import config
from ._utils import floating, like, pair, reduce_dims, tensor
from .core import to_torch_dtype

Tensor = torch.Tensor

# --------------------------------------------------------------------------------------
# Activations
# --------------------------------------------------------------------------------------


def relu(x: Any) -> Tensor:
    """``max(x, 0)``. Example: ``keras.ops.relu([-1.0, 2.0])`` gives ``[0.0, 2.0]``."""
    return torch.relu(tensor(x))


def relu6(x: Any) -> Tensor:
    """``min(max(x, 0), 6)``.

    Example: ``keras.ops.relu6([-1.0, 3.0, 9.0])``
    """
    return torch.clamp(tensor(x), 0, 6)


def sigmoid(x: Any) -> Tensor:
    """``1 / (1 + exp(-x))``.

    Example: ``keras.ops.sigmoid([0.0, 2.0])``
    """
    return torch.sigmoid(floating(x))


def tanh(x: Any) -> Tensor:
    """Hyperbolic tangent.

    Example: ``keras.ops.tanh([0.0, 1.0])``
    """
    return torch.tanh(floating(x))


def softplus(x: Any) -> Tensor:
    """``log(1 + exp(x))``, computed without overflow.

    Example: ``keras.ops.softplus([0.0, 1.0])``
    """
    return F.softplus(floating(x))


def softsign(x: Any) -> Tensor:
    """``x / (1 + |x|)``.

    Example: ``keras.ops.softsign([-1.0, 1.0])``
    """
    return F.softsign(floating(x))


def silu(x: Any) -> Tensor:
    """``x * sigmoid(x)`` (also called swish).

    Example: ``keras.ops.silu([0.0, 1.0])``
    """
    return F.silu(floating(x))


swish = silu


def log_sigmoid(x: Any) -> Tensor:
    """``log(sigmoid(x))``, computed without underflow.

    Example: ``keras.ops.log_sigmoid([0.0, 5.0])``
    """
    return F.logsigmoid(floating(x))


def gelu(x: Any, approximate: bool = True) -> Tensor:
    """Gaussian error linear unit; ``approximate=True`` (the ops default) is the tanh form.

    Example:
    >>> import tritonlayers as keras
    >>> round(float(keras.ops.gelu(1.0, approximate=False)), 4)
    0.8413
    """
    return F.gelu(floating(x), approximate="tanh" if approximate else "none")


def elu(x: Any, alpha: float = 1.0) -> Tensor:
    """``x`` for ``x > 0``, else ``alpha * (exp(x) - 1)``.

    Example: ``keras.ops.elu([-1.0, 1.0], alpha=0.5)``
    """
    return F.elu(floating(x), alpha=alpha)


def selu(x: Any) -> Tensor:
    """Scaled ELU with the self-normalizing constants (1.0507..., 1.6732...).

    Example: ``keras.ops.selu([-1.0, 1.0])``
    """
    return F.selu(floating(x))


def celu(x: Any, alpha: float = 1.0) -> Tensor:
    """Continuously differentiable ELU: ``max(x, 0) + min(0, alpha * (exp(x / alpha) - 1))``.

    Example: ``keras.ops.celu([-1.0, 1.0])``
    """
    return F.celu(floating(x), alpha=alpha)


def leaky_relu(x: Any, negative_slope: float = 0.2) -> Tensor:
    """``x`` for ``x >= 0``, else ``negative_slope * x`` (Keras's default slope is 0.2).

    Example: ``keras.ops.leaky_relu([-1.0, 1.0])``
    """
    return F.leaky_relu(floating(x), negative_slope=negative_slope)


def hard_sigmoid(x: Any) -> Tensor:
    """Piecewise-linear sigmoid: ``relu6(x + 3) / 6``.

    Example: ``keras.ops.hard_sigmoid([-4.0, 0.0, 4.0])``
    """
    return F.hardsigmoid(floating(x))


def hard_silu(x: Any) -> Tensor:
    """``x * hard_sigmoid(x)`` (also called hard swish).

    Example: ``keras.ops.hard_silu([-4.0, 1.0])``
    """
    return F.hardswish(floating(x))


hard_swish = hard_silu


def glu(x: Any, axis: int = -1) -> Tensor:
    """Gated linear unit: the first half of ``axis`` times the sigmoid of the second half.

    Example: ``keras.ops.glu(keras.ops.ones((2, 4)))``
    """
    return F.glu(floating(x), dim=axis)


def hard_tanh(x: Any) -> Tensor:
    """``x`` clipped to [-1, 1]. Example: ``keras.ops.hard_tanh([-3.0, 0.5, 2.0])``."""
    return torch.clamp(tensor(x), -1, 1)


def hard_shrink(x: Any, threshold: float = 0.5) -> Tensor:
    """``x`` where ``|x| > threshold``, else 0. Example: ``keras.ops.hard_shrink([-1.0, 0.2])``."""
    x = floating(x)
    return torch.where(torch.abs(x) > threshold, x, torch.zeros_like(x))


def soft_shrink(x: Any, threshold: float = 0.5) -> Tensor:
    """``x`` moved towards 0 by ``threshold`` (0 inside it).

    Example: ``keras.ops.soft_shrink([-1.0, 0.2, 2.0])``
    """
    x = floating(x)
    return torch.sign(x) * torch.relu(torch.abs(x) - threshold)


def tanh_shrink(x: Any) -> Tensor:
    """``x - tanh(x)``. Example: ``keras.ops.tanh_shrink([0.0, 2.0])``."""
    x = floating(x)
    return x - torch.tanh(x)


def threshold(x: Any, threshold: float, default_value: float) -> Tensor:
    """``x`` where ``x > threshold``, else ``default_value``.

    Example: ``keras.ops.threshold([0.5, 2.0], 1.0, -1.0)``
    """
    x = tensor(x)
    return torch.where(x > threshold, x, torch.full_like(x, default_value))


def sparse_plus(x: Any) -> Tensor:
    """0 for ``x <= -1``, ``(x + 1)**2 / 4`` for ``|x| < 1``, ``x`` for ``x >= 1``.

    Example: ``keras.ops.sparse_plus([-2.0, 0.0, 2.0])``
    """
    x = floating(x)
    middle = (x + 1.0) ** 2 / 4.0
    return torch.where(x <= -1.0, torch.zeros_like(x), torch.where(x >= 1.0, x, middle))


def sparse_sigmoid(x: Any) -> Tensor:
    """0 for ``x <= -1``, ``(x + 1) / 2`` for ``|x| < 1``, 1 for ``x >= 1``.

    Example: ``keras.ops.sparse_sigmoid([-2.0, 0.0, 2.0])``
    """
    return torch.clamp((floating(x) + 1.0) / 2.0, 0.0, 1.0)


def squareplus(x: Any, b: float = 4) -> Tensor:
    """``(x + sqrt(x**2 + b)) / 2``. Example: ``keras.ops.squareplus([-1.0, 1.0])``."""
    x = floating(x)
    return (x + torch.sqrt(x * x + b)) / 2.0


def sparsemax(x: Any, axis: int = -1) -> Tensor:
    """The Euclidean projection of ``x`` onto the probability simplex along ``axis``
    (Martins & Astudillo, 2016): like softmax, but with exact zeros.

    Example: ``keras.ops.sparsemax([[1.0, 2.0, 3.0]])``
    """
    x = torch.movedim(floating(x), axis, -1)
    ordered = torch.sort(x, dim=-1, descending=True).values
    ranks = torch.arange(1, x.shape[-1] + 1, dtype=x.dtype, device=x.device)
    totals = torch.cumsum(ordered, dim=-1)
    support = (1.0 + ranks * ordered > totals).to(x.dtype)
    size = torch.sum(support, dim=-1, keepdim=True)
    tau = (torch.gather(totals, -1, size.long() - 1) - 1.0) / size
    return torch.movedim(torch.relu(x - tau), -1, axis)


def _over_axes(x: Tensor, axis: Any) -> "int | tuple[int, ...]":
    return axis if isinstance(axis, int) else reduce_dims(x, axis)


def log_softmax(x: Any, axis: Any = -1) -> Tensor:
    """``x - logsumexp(x)`` over ``axis`` (an int, a tuple, or None for all axes).

    Example: ``keras.ops.log_softmax([[1.0, 2.0, 3.0]])``
    """
    x = floating(x)
    dims = _over_axes(x, axis)
    if isinstance(dims, int):
        return torch.log_softmax(x, dim=dims)
    return x - torch.logsumexp(x, dim=dims, keepdim=True)


def softmax(x: Any, axis: Any = -1) -> Tensor:
    """``exp(x) / sum(exp(x))`` over ``axis`` (an int, a tuple, or None for all axes).

    Example:
    >>> import tritonlayers as keras
    >>> [round(v, 4) for v in keras.ops.softmax([1.0, 2.0, 3.0]).tolist()]
    [0.09, 0.2447, 0.6652]
    """
    x = floating(x)
    dims = _over_axes(x, axis)
    if isinstance(dims, int):
        return torch.softmax(x, dim=dims)
    return torch.exp(log_softmax(x, dims))


# --------------------------------------------------------------------------------------
# Encodings and cross-entropies
# --------------------------------------------------------------------------------------


def one_hot(
    x: Any, num_classes: int, axis: int = -1, dtype: Any = None, sparse: bool = False
) -> Tensor:
    """One-hot vectors of length ``num_classes`` placed at ``axis``; indices outside
    ``[0, num_classes)`` give all-zero vectors.

    Example:
    >>> import tritonlayers as keras
    >>> keras.ops.one_hot([0, 2], 3).tolist()
    [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    """
    if sparse:
        raise ValueError("one_hot: sparse=True is not supported by tritonlayers.")
    x = tensor(x)
    classes = torch.arange(num_classes, device=x.device)
    encoded = (x.unsqueeze(-1).to(torch.int64) == classes).to(to_torch_dtype(dtype))
    return torch.movedim(encoded, -1, axis)


def multi_hot(
    inputs: Any, num_classes: int, axis: int = -1, dtype: Any = None, sparse: bool = False
) -> Tensor:
    """Multi-hot vectors: the union of the one-hot vectors along the last input axis.

    Example: ``keras.ops.multi_hot([[0, 2], [1, 1]], 3)``
    """
    inputs = tensor(inputs)
    encoded = one_hot(inputs, num_classes, axis=-1, dtype=dtype, sparse=sparse)
    if inputs.ndim > 1:
        encoded = torch.amax(encoded, dim=-2)
    return torch.movedim(encoded, -1, axis)


def _same_shape(target: Tensor, output: Tensor) -> None:
    if target.shape != output.shape:
        raise ValueError(
            "Arguments `target` and `output` must have the same shape. Received: "
            f"target.shape={tuple(target.shape)}, output.shape={tuple(output.shape)}"
        )


def _clipped_log_probabilities(output: Tensor, axis: int) -> Tensor:
    """Keras's treatment of probabilities: renormalize along ``axis``, clip to
    ``[epsilon, 1 - epsilon]``, take the log."""
    output = output / torch.sum(output, dim=axis, keepdim=True)
    output = torch.clamp(output, config.epsilon(), 1.0 - config.epsilon())
    return torch.log(output)


def binary_crossentropy(target: Any, output: Any, from_logits: bool = False) -> Tensor:
    """Elementwise binary cross-entropy; probabilities are clipped to ``[eps, 1 - eps]``.

    Example:
    >>> import tritonlayers as keras
    >>> round(float(keras.ops.binary_crossentropy(1.0, 0.5)), 4)
    0.6931
    """
    target, output = pair(floating(target), floating(output))
    _same_shape(target, output)
    if from_logits:
        return F.binary_cross_entropy_with_logits(output, target, reduction="none")
    output = torch.clamp(output, config.epsilon(), 1.0 - config.epsilon())
    return F.binary_cross_entropy(output, target.to(output.dtype), reduction="none")


def categorical_crossentropy(
    target: Any, output: Any, from_logits: bool = False, axis: int = -1
) -> Tensor:
    """Cross-entropy between one-hot (or soft) ``target`` and ``output`` along ``axis``.

    Example: ``keras.ops.categorical_crossentropy([[0.0, 1.0]], [[0.3, 0.7]])``
    """
    target, output = pair(floating(target), floating(output))
    _same_shape(target, output)
    if output.ndim < 1:
        raise ValueError(
            "Arguments `target` and `output` must be at least rank 1. Received: "
            f"target.shape={tuple(target.shape)}, output.shape={tuple(output.shape)}"
        )
    if from_logits:
        log_prob = torch.log_softmax(output, dim=axis)
    else:
        log_prob = _clipped_log_probabilities(output, axis)
    return -torch.sum(target * log_prob, dim=axis)


def sparse_categorical_crossentropy(
    target: Any, output: Any, from_logits: bool = False, axis: int = -1
) -> Tensor:
    """Cross-entropy between integer class ``target`` and ``output`` (classes on the last
    axis); a trailing length-1 axis on ``target`` is dropped.

    Example: ``keras.ops.sparse_categorical_crossentropy([1], [[0.3, 0.7]])``
    """
    output = floating(output)
    if axis not in (-1, output.ndim - 1):
        raise ValueError(f"Only axis=-1 is currently supported. Received: axis={axis}")
    target = like(target, output).to(torch.int64)
    if target.ndim == output.ndim and target.shape[-1] == 1:
        target = target.squeeze(-1)
    if output.ndim < 1:
        raise ValueError(
            f"Argument `output` must be at least rank 1. Received: output.shape={output.shape}"
        )
    if target.shape != output.shape[:-1]:
        raise ValueError(
            "Arguments `target` and `output` must have the same shape up until the last "
            f"dimension: target.shape={tuple(target.shape)}, output.shape={tuple(output.shape)}"
        )
    if from_logits:
        log_prob = torch.log_softmax(output, dim=-1)
    else:
        log_prob = _clipped_log_probabilities(output, -1)
    return -torch.sum(one_hot(target, output.shape[-1], dtype=output.dtype) * log_prob, dim=-1)


# --------------------------------------------------------------------------------------
# Statistics and normalization
# --------------------------------------------------------------------------------------


def moments(
    x: Any, axes: Any, keepdims: bool = False, synchronized: bool = False
) -> tuple[Tensor, Tensor]:
    """Mean and (population) variance of ``x`` over ``axes``; float16 is computed in float32.

    With ``synchronized=True`` under an initialized ``torch.distributed`` process group the
    statistics are those of the data on all ranks (differentiable all-reduce).

    Example:
    >>> import tritonlayers as keras
    >>> mean, variance = keras.ops.moments([[1.0, 3.0]], axes=[1])
    >>> mean.tolist(), variance.tolist()
    ([2.0], [1.0])
    """
    x = floating(x)
    original = x.dtype
    if original in (torch.float16, torch.bfloat16):
        x = x.float()
    dims = reduce_dims(x, axes)
    if synchronized and torch.distributed.is_available() and torch.distributed.is_initialized():
        mean, variance = _synchronized_moments(x, dims)
    else:
        variance, mean = torch.var_mean(x, dim=dims, correction=0, keepdim=True)
    if not keepdims:
        mean, variance = mean.squeeze(dims), variance.squeeze(dims)
    if original == torch.float16:
        limit = torch.finfo(torch.float16).max
        mean, variance = mean.clamp(-limit, limit), variance.clamp(max=limit)
    return mean.to(original), variance.to(original)


def _synchronized_moments(x: Tensor, dims: tuple[int, ...]) -> tuple[Tensor, Tensor]:
    from torch.distributed.nn.functional import all_reduce

    local_sum = torch.sum(x, dim=dims, keepdim=True)
    local_count = math.prod(x.shape[d] for d in dims)
    count = all_reduce(torch.full_like(local_sum, float(local_count)))
    total = all_reduce(local_sum)
    total_square = all_reduce(torch.sum(x * x, dim=dims, keepdim=True))
    mean = total / count
    return mean, torch.clamp(total_square / count - mean * mean, min=0.0)


def batch_normalization(
    x: Any,
    mean: Any,
    variance: Any,
    axis: int,
    offset: Any = None,
    scale: Any = None,
    epsilon: float = 1e-3,
) -> Tensor:
    """``(x - mean) / sqrt(variance + epsilon) * scale + offset``, the statistics being 1-D
    along ``axis``.

    Example: ``keras.ops.batch_normalization(keras.ops.ones((2, 3)), [0.5] * 3, [1.0] * 3, -1)``
    """
    x = floating(x)
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]

    def along_axis(v: Any) -> Tensor:
        return like(v, x).reshape(shape)

    result = (x - along_axis(mean)) * torch.rsqrt(along_axis(variance) + epsilon)
    if scale is not None:
        result = result * along_axis(scale)
    if offset is not None:
        result = result + along_axis(offset)
    return result


def normalize(x: Any, axis: int = -1, order: int = 2, epsilon: "float | None" = None) -> Tensor:
    """``x`` divided by its ``order``-norm along ``axis`` (at least ``epsilon``).

    Example:
    >>> import tritonlayers as keras
    >>> keras.ops.normalize([3.0, 4.0]).tolist()
    [0.6000000238418579, 0.800000011920929]
    """
    x = floating(x)
    epsilon = config.epsilon() if epsilon is None else epsilon
    if order == 2:
        square_sum = torch.sum(x * x, dim=axis, keepdim=True)
        return x * torch.rsqrt(torch.clamp(square_sum, min=epsilon))
    norm = torch.linalg.vector_norm(x, ord=order, dim=axis, keepdim=True)
    return x / torch.clamp(norm, min=epsilon)


# --------------------------------------------------------------------------------------
# Convolution and pooling
# --------------------------------------------------------------------------------------

_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_MAX_POOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
_AVG_POOL = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


def _data_format(data_format: "str | None") -> str:
    data_format = config.image_data_format() if data_format is None else data_format.lower()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            f"data_format must be 'channels_last' or 'channels_first'; received {data_format!r}."
        )
    return data_format


def _spatial_rank(inputs: Tensor, name: str) -> int:
    rank = inputs.ndim - 2
    if rank not in (1, 2, 3):
        raise ValueError(
            f"{name}: inputs must have rank 3, 4 or 5 (batch, spatial dims, channels); "
            f"received shape {tuple(inputs.shape)}."
        )
    return rank


def _tuple(value: Any, rank: int, name: str) -> tuple[int, ...]:
    values = (value,) * rank if isinstance(value, int) else tuple(int(v) for v in value)
    if len(values) != rank:
        raise ValueError(f"{name} must be an int or a tuple of {rank} ints; received {value!r}.")
    return values


def _padding(padding: str, name: str) -> str:
    padding = padding.lower()
    if padding not in ("valid", "same"):
        raise ValueError(f"{name}: padding must be 'valid' or 'same'; received {padding!r}.")
    return padding


def _same_pads(sizes, kernel, strides, dilation) -> list[int]:
    """F.pad's list (last spatial dim first) for TensorFlow-style "same" padding: the
    output has ``ceil(size / stride)`` positions and the odd pixel goes at the end."""
    pads = []
    for size, k, s, d in zip(sizes, kernel, strides, dilation):
        total = max((-(-size // s) - 1) * s + (k - 1) * d + 1 - size, 0)
        pads.append((total // 2, total - total // 2))
    return [v for before_after in reversed(pads) for v in before_after]


def _channels_first(x: Tensor, data_format: str) -> Tensor:
    return torch.movedim(x, -1, 1) if data_format == "channels_last" else x


def _restore_layout(x: Tensor, data_format: str) -> Tensor:
    return torch.movedim(x, 1, -1) if data_format == "channels_last" else x


def _conv_operands(inputs: Any, kernel: Any, name: str) -> tuple[Tensor, Tensor, int]:
    inputs = floating(inputs)
    kernel = like(kernel, inputs)
    rank = _spatial_rank(inputs, name)
    if kernel.ndim != rank + 2:
        raise ValueError(
            f"{name}: kernel must have rank {rank + 2} (*spatial, in_channels, out_channels) for "
            f"inputs of shape {tuple(inputs.shape)}; received kernel shape {tuple(kernel.shape)}."
        )
    dtype = torch.promote_types(inputs.dtype, kernel.dtype)
    return inputs.to(dtype), kernel.to(dtype), rank


def conv(
    inputs: Any,
    kernel: Any,
    strides: Any = 1,
    padding: str = "valid",
    data_format: "str | None" = None,
    dilation_rate: Any = 1,
) -> Tensor:
    """N-D convolution (N = 1, 2, 3) with a ``(*spatial, in/groups, out)`` kernel; grouped
    when the input has a multiple of the kernel's input channels.

    Example:
    >>> import tritonlayers as keras
    >>> x = keras.ops.ones((1, 5, 5, 3))
    >>> kernel = keras.ops.ones((3, 3, 3, 8))
    >>> tuple(keras.ops.conv(x, kernel, strides=2, padding="same").shape)
    (1, 3, 3, 8)
    """
    inputs, kernel, rank = _conv_operands(inputs, kernel, "conv")
    data_format = _data_format(data_format)
    x = _channels_first(inputs, data_format)
    channels, kernel_in = x.shape[1], kernel.shape[-2]
    if kernel_in == 0 or channels % kernel_in:
        raise ValueError(
            f"conv: the input has {channels} channels, which is not a multiple of the kernel's "
            f"{kernel_in} input channels (kernel shape {tuple(kernel.shape)})."
        )
    strides = _tuple(strides, rank, "strides")
    dilation = _tuple(dilation_rate, rank, "dilation_rate")
    if _padding(padding, "conv") == "same":
        x = F.pad(x, _same_pads(x.shape[2:], kernel.shape[:rank], strides, dilation))
    weight = kernel.permute(rank + 1, rank, *range(rank))
    out = _CONV[rank](x, weight, stride=strides, dilation=dilation, groups=channels // kernel_in)
    return _restore_layout(out, data_format)


def depthwise_conv(
    inputs: Any,
    kernel: Any,
    strides: Any = 1,
    padding: str = "valid",
    data_format: "str | None" = None,
    dilation_rate: Any = 1,
) -> Tensor:
    """Per-channel convolution with a ``(*spatial, in_channels, multiplier)`` kernel; output
    channel ``c * multiplier + m`` is channel ``c`` convolved with filter ``m``.

    Example:
    >>> import tritonlayers as keras
    >>> x, kernel = keras.ops.ones((1, 5, 5, 3)), keras.ops.ones((3, 3, 3, 2))
    >>> tuple(keras.ops.depthwise_conv(x, kernel, padding="same").shape)
    (1, 5, 5, 6)
    """
    inputs, kernel, rank = _conv_operands(inputs, kernel, "depthwise_conv")
    grouped = kernel.reshape(*kernel.shape[:rank], 1, kernel.shape[-2] * kernel.shape[-1])
    return conv(inputs, grouped, strides, padding, data_format, dilation_rate)


def separable_conv(
    inputs: Any,
    depthwise_kernel: Any,
    pointwise_kernel: Any,
    strides: Any = 1,
    padding: str = "valid",
    data_format: "str | None" = None,
    dilation_rate: Any = 1,
) -> Tensor:
    """A depthwise convolution followed by a 1x1 (pointwise) convolution.

    Example:
    >>> import tritonlayers as keras
    >>> x = keras.ops.ones((1, 5, 5, 3))
    >>> depthwise, pointwise = keras.ops.ones((3, 3, 3, 1)), keras.ops.ones((1, 1, 3, 8))
    >>> tuple(keras.ops.separable_conv(x, depthwise, pointwise).shape)
    (1, 3, 3, 8)
    """
    depthwise = depthwise_conv(
        inputs, depthwise_kernel, strides, padding, data_format, dilation_rate
    )
    return conv(depthwise, pointwise_kernel, 1, "valid", data_format)


def _pooled_max(x: Tensor, window, strides, pads: "list[int] | None") -> Tensor:
    if pads is not None:
        x = F.pad(x, pads, value=float("-inf"))
    return _MAX_POOL[x.ndim - 2](x, window, strides)


def _pooled_mean(x: Tensor, window, strides, pads: "list[int] | None") -> Tensor:
    pool = _AVG_POOL[x.ndim - 2]
    if pads is None:
        return pool(x, window, strides)
    counts = F.pad(torch.ones_like(x[:1, :1]), pads)
    return pool(F.pad(x, pads), window, strides) / pool(counts, window, strides)


def _pool(reduce, name: str, inputs, pool_size, strides, padding, data_format) -> Tensor:
    inputs = floating(inputs)
    rank = _spatial_rank(inputs, name)
    window = _tuple(pool_size, rank, "pool_size")
    strides = window if strides is None else _tuple(strides, rank, "strides")
    data_format = _data_format(data_format)
    x = _channels_first(inputs, data_format)
    pads = None
    if _padding(padding, name) == "same":
        pads = _same_pads(x.shape[2:], window, strides, (1,) * rank)
    return _restore_layout(reduce(x, window, strides, pads), data_format)


def max_pool(
    inputs: Any,
    pool_size: Any,
    strides: Any = None,
    padding: str = "valid",
    data_format: "str | None" = None,
) -> Tensor:
    """The largest value of each ``pool_size`` window (``strides`` defaults to it).

    Example:
    >>> import tritonlayers as keras
    >>> keras.ops.max_pool(keras.ops.reshape(keras.ops.arange(4.0), (1, 4, 1)), 2).tolist()
    [[[1.0], [3.0]]]
    """
    return _pool(_pooled_max, "max_pool", inputs, pool_size, strides, padding, data_format)


def average_pool(
    inputs: Any,
    pool_size: Any,
    strides: Any = None,
    padding: str = "valid",
    data_format: "str | None" = None,
) -> Tensor:
    """The mean of each ``pool_size`` window; with "same" padding the padded positions are
    left out of the mean (TensorFlow's rule; Keras's torch backend averages edge-replicated
    values instead when the padding is uneven).

    Example:
    >>> import tritonlayers as keras
    >>> x = keras.ops.reshape(keras.ops.arange(3.0), (1, 3, 1))
    >>> keras.ops.average_pool(x, 2, padding="same").tolist()
    [[[0.5], [2.0]]]
    """
    return _pool(_pooled_mean, "average_pool", inputs, pool_size, strides, padding, data_format)


# --------------------------------------------------------------------------------------
# Attention
# --------------------------------------------------------------------------------------


def _attention_inputs(query: Any, key: Any, value: Any) -> tuple[Tensor, Tensor, Tensor, bool]:
    query = floating(query)
    key, value = like(key, query), like(value, query)
    unbatched = query.ndim == 3
    if unbatched:
        query, key, value = query.unsqueeze(0), key.unsqueeze(0), value.unsqueeze(0)
    if query.ndim != 4 or key.ndim != 4 or value.ndim != 4:
        raise ValueError(
            "dot_product_attention expects (batch, length, heads, head_dim) tensors (or "
            f"unbatched 3-D ones); received query {tuple(query.shape)}, key "
            f"{tuple(key.shape)}, value {tuple(value.shape)}."
        )
    heads, kv_heads = query.shape[2], key.shape[2]
    if heads % kv_heads:
        raise ValueError(
            f"dot_product_attention: query has {heads} heads, which is not a multiple of the "
            f"{kv_heads} key/value heads."
        )
    if kv_heads != heads:
        key = key.repeat_interleave(heads // kv_heads, dim=2)
        value = value.repeat_interleave(heads // kv_heads, dim=2)
    return query, key, value, unbatched


def dot_product_attention(
    query: Any,
    key: Any,
    value: Any,
    bias: Any = None,
    mask: Any = None,
    scale: "float | None" = None,
    is_causal: bool = False,
    flash_attention: "bool | None" = None,
    attn_logits_soft_cap: "float | None" = None,
) -> Tensor:
    """Scaled dot-product attention over ``(batch, length, heads, head_dim)`` tensors.

    ``bias`` is added to the logits and ``mask`` (True = attend) removes positions; both
    broadcast to ``(batch, heads, query_length, key_length)``. ``is_causal`` lets query ``i``
    see keys ``j <= i``. Keys/values with fewer heads are shared across query-head groups.
    Without bias, mask or soft cap this runs torch's fused
    ``scaled_dot_product_attention``.

    Example:
    >>> import tritonlayers as keras
    >>> q = keras.ops.ones((2, 5, 4, 8))
    >>> tuple(keras.ops.dot_product_attention(q, q, q, is_causal=True).shape)
    (2, 5, 4, 8)
    """
    query, key, value, unbatched = _attention_inputs(query, key, value)
    scale = query.shape[-1] ** -0.5 if scale is None else scale
    q, k, v = (t.transpose(1, 2) for t in (query, key, value))
    plain = bias is None and mask is None and attn_logits_soft_cap is None
    if flash_attention and not plain:
        raise ValueError(
            "flash_attention=True does not support `bias`, `mask` or `attn_logits_soft_cap`."
        )
    if plain:
        out = F.scaled_dot_product_attention(q, k, v, is_causal=is_causal, scale=scale)
    else:
        out = _attention_with_masks(q, k, v, bias, mask, scale, is_causal, attn_logits_soft_cap)
    out = out.transpose(1, 2)
    return out.squeeze(0) if unbatched else out


def _attention_with_masks(q, k, v, bias, mask, scale, is_causal, soft_cap) -> Tensor:
    """Attention with the logits in (at least) float32; masked positions get the lowest
    float, so a fully masked row attends uniformly (as Keras does)."""
    compute = torch.promote_types(q.dtype, torch.float32)
    logits = torch.matmul(q.to(compute), k.to(compute).transpose(-1, -2)) * scale
    if soft_cap is not None:
        logits = soft_cap * torch.tanh(logits / soft_cap)
    if bias is not None:
        logits = logits + like(bias, logits).to(compute)
    keep = None if mask is None else like(mask, logits).bool()
    if is_causal:
        length_q, length_k = logits.shape[-2:]
        causal = torch.ones(length_q, length_k, dtype=torch.bool, device=logits.device).tril()
        keep = causal if keep is None else keep & causal
    if keep is not None:
        logits = logits.masked_fill(~keep, torch.finfo(torch.float32).min)
    weights = torch.softmax(logits, dim=-1)
    return torch.matmul(weights, v.to(compute)).to(q.dtype)


_CONV_TRANSPOSE = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


def _transpose_pads(kernel: int, stride: int, dilation: int, padding: str, output_padding):
    """Keras's (left, right) padding of the stride-dilated input for a transposed conv (the
    JAX/TensorFlow rule), as the crop of torch's full output: negative values crop."""
    extent = (kernel - 1) * dilation + 1
    if padding == "valid":
        extra = max(extent, stride) - extent if output_padding is None else output_padding
        left, right = extent - 1, extent - 1 + extra
    else:
        if output_padding is None:
            total = stride + extent - 2
        else:
            total = extent + extent % 2 - 2 + output_padding
        left = min(total // 2 + total % 2, extent - 1)
        right = total - left
    return left - (extent - 1), right - (extent - 1)


def conv_transpose(
    inputs: Any,
    kernel: Any,
    strides: Any = 1,
    padding: str = "valid",
    output_padding: Any = None,
    data_format: "str | None" = None,
    dilation_rate: Any = 1,
) -> Tensor:
    """Transposed (fractionally strided) N-D convolution with a ``(*spatial, out_channels,
    in_channels)`` kernel; output sizes follow Keras: ``input * stride`` for "same",
    ``(input - 1) * stride + max(kernel, stride)`` for "valid", unless ``output_padding``.

    Example:
    >>> import tritonlayers as keras
    >>> x, kernel = keras.ops.ones((1, 4, 4, 3)), keras.ops.ones((3, 3, 8, 3))
    >>> tuple(keras.ops.conv_transpose(x, kernel, strides=2, padding="same").shape)
    (1, 8, 8, 8)
    """
    inputs, kernel, rank = _conv_operands(inputs, kernel, "conv_transpose")
    data_format = _data_format(data_format)
    x = _channels_first(inputs, data_format)
    if kernel.shape[-1] != x.shape[1]:
        raise ValueError(
            f"conv_transpose: the input has {x.shape[1]} channels but the kernel expects "
            f"{kernel.shape[-1]} (kernel shape {tuple(kernel.shape)} is (*spatial, out, in))."
        )
    strides = _tuple(strides, rank, "strides")
    dilation = _tuple(dilation_rate, rank, "dilation_rate")
    padding = _padding(padding, "conv_transpose")
    extra = (
        (None,) * rank if output_padding is None else _tuple(output_padding, rank, "output_padding")
    )
    weight = kernel.permute(rank + 1, rank, *range(rank))
    full = _CONV_TRANSPOSE[rank](x, weight, stride=strides, dilation=dilation)
    pads = [
        _transpose_pads(kernel.shape[d], strides[d], dilation[d], padding, extra[d])
        for d in range(rank)
    ]
    out = F.pad(full, [v for before_after in reversed(pads) for v in before_after])
    return _restore_layout(out, data_format)


def layer_normalization(
    x: Any,
    gamma: Any = None,
    beta: Any = None,
    axis: Any = -1,
    epsilon: "float | None" = None,
    **kwargs: Any,
) -> Tensor:
    """``(x - mean) / sqrt(var + epsilon) * gamma + beta`` over ``axis`` (int or tuple).

    Example: ``keras.ops.layer_normalization([[1.0, 2.0, 3.0]])``
    """
    if kwargs:
        raise TypeError(f"layer_normalization got unexpected arguments {sorted(kwargs)}.")
    x = floating(x)
    epsilon = config.epsilon() if epsilon is None else epsilon
    dims = reduce_dims(x, axis)
    variance, mean = torch.var_mean(x, dim=dims, correction=0, keepdim=True)
    result = (x - mean) * torch.rsqrt(variance + epsilon)
    if gamma is not None:
        result = result * like(gamma, result)
    if beta is not None:
        result = result + like(beta, result)
    return result


def rms_normalization(
    x: Any, scale: Any = None, axis: Any = -1, epsilon: "float | None" = None
) -> Tensor:
    """``x / sqrt(mean(x**2) + epsilon) * scale`` over ``axis``.

    Example: ``keras.ops.rms_normalization([[3.0, 4.0]])``
    """
    x = floating(x)
    epsilon = config.epsilon() if epsilon is None else epsilon
    dims = reduce_dims(x, axis)
    result = x * torch.rsqrt(torch.mean(x * x, dim=dims, keepdim=True) + epsilon)
    return result if scale is None else result * like(scale, result)


def psnr(x1: Any, x2: Any, max_val: float) -> Tensor:
    """Peak signal-to-noise ratio in dB: ``20 log10(max_val) - 10 log10(mse)``.

    Example: ``keras.ops.psnr([[0.0, 1.0]], [[0.0, 0.9]], 1.0)``
    """
    x1, x2 = pair(floating(x1), floating(x2))
    if x1.shape != x2.shape:
        raise ValueError(
            "Input shapes must match for psnr. Received: "
            f"x1.shape={tuple(x1.shape)}, x2.shape={tuple(x2.shape)}"
        )
    mse = torch.mean((x1 - x2) ** 2)
    peak = torch.as_tensor(float(max_val), dtype=x1.dtype, device=x1.device)
    return 20.0 * torch.log10(peak) - 10.0 * torch.log10(mse)


def depth_to_space(x: Any, block_size: int, data_format: str = "channels_last") -> Tensor:
    """Move channel blocks into ``block_size x block_size`` spatial tiles. As in Keras,
    channels_last takes channel ``(i * b + j) * C + c`` for tile position ``(i, j)``
    (TensorFlow's order) and channels_first channel ``c * b * b + i * b + j`` (pixel shuffle).

    Example: ``keras.ops.depth_to_space(keras.ops.ones((1, 2, 2, 8)), 2)``
    """
    x, b = tensor(x), int(block_size)
    depth = x.shape[1] if _data_format(data_format) == "channels_first" else x.shape[-1]
    if x.ndim != 4 or depth % (b * b):
        raise ValueError(
            f"depth_to_space expects a 4-D input whose {depth} channels split into {b}x{b} "
            f"blocks; received shape {tuple(x.shape)}."
        )
    if _data_format(data_format) == "channels_first":
        return F.pixel_shuffle(x, b)
    n, h, w, _ = x.shape
    tiles = x.reshape(n, h, w, b, b, depth // (b * b)).permute(0, 1, 3, 2, 4, 5)
    return tiles.reshape(n, h * b, w * b, depth // (b * b))


def space_to_depth(x: Any, block_size: int, data_format: str = "channels_last") -> Tensor:
    """The inverse of ``depth_to_space``: ``block_size x block_size`` tiles become channels.

    Example: ``keras.ops.space_to_depth(keras.ops.ones((1, 4, 4, 2)), 2)``
    """
    x, b = tensor(x), int(block_size)
    first = _data_format(data_format) == "channels_first"
    h, w = (x.shape[2], x.shape[3]) if first else (x.shape[1], x.shape[2])
    if x.ndim != 4 or h % b or w % b:
        raise ValueError(
            f"space_to_depth expects a 4-D input whose spatial size is a multiple of "
            f"block_size {b}; received shape {tuple(x.shape)}."
        )
    if first:
        return F.pixel_unshuffle(x, b)
    n, _, _, c = x.shape
    blocks = x.reshape(n, h // b, b, w // b, b, c).permute(0, 1, 3, 2, 4, 5)
    return blocks.reshape(n, h // b, w // b, b * b * c)


_ADAPTIVE_AVG = {1: F.adaptive_avg_pool1d, 2: F.adaptive_avg_pool2d, 3: F.adaptive_avg_pool3d}
_ADAPTIVE_MAX = {1: F.adaptive_max_pool1d, 2: F.adaptive_max_pool2d, 3: F.adaptive_max_pool3d}


def _adaptive_pool(table, name: str, inputs: Any, output_size: Any, data_format) -> Tensor:
    inputs = floating(inputs)
    rank = _spatial_rank(inputs, name)
    data_format = _data_format(data_format)
    pooled = table[rank](
        _channels_first(inputs, data_format), _tuple(output_size, rank, "output_size")
    )
    return _restore_layout(pooled, data_format)


def adaptive_average_pool(
    inputs: Any, output_size: Any, data_format: "str | None" = None
) -> Tensor:
    """Average pooling into ``output_size`` bins per spatial axis (bins may overlap).

    Example: ``keras.ops.adaptive_average_pool(keras.ops.ones((1, 10, 10, 3)), 4)``
    """
    return _adaptive_pool(_ADAPTIVE_AVG, "adaptive_average_pool", inputs, output_size, data_format)


def adaptive_max_pool(inputs: Any, output_size: Any, data_format: "str | None" = None) -> Tensor:
    """Max pooling into ``output_size`` bins per spatial axis (bins may overlap).

    Example: ``keras.ops.adaptive_max_pool(keras.ops.ones((1, 10, 10, 3)), 4)``
    """
    return _adaptive_pool(_ADAPTIVE_MAX, "adaptive_max_pool", inputs, output_size, data_format)


# --------------------------------------------------------------------------------------
# Patches and complex numbers
# --------------------------------------------------------------------------------------


def unfold(
    x: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1
) -> Tensor:
    """The sliding ``kernel_size`` patches of a channels-first batch ``(N, C, H, W)``, as
    columns: shape ``(N, C * kh * kw, patches)`` (``torch.nn.functional.unfold``). Each
    of ``kernel_size``, ``dilation``, ``padding``, ``stride`` is an int or an (h, w) pair.

    Example:
    >>> import tritonlayers as keras
    >>> x = keras.ops.reshape(keras.ops.arange(9, dtype="float32"), (1, 1, 3, 3))
    >>> keras.ops.unfold(x, 2)[0].tolist()
    [[0.0, 1.0, 3.0, 4.0], [1.0, 2.0, 4.0, 5.0], [3.0, 4.0, 6.0, 7.0], [4.0, 5.0, 7.0, 8.0]]
    """
    x = tensor(x)
    if x.ndim != 4:
        raise ValueError(f"Input must be a 4D tensor. Received: input.shape={tuple(x.shape)}")
    return F.unfold(x, kernel_size, dilation=dilation, padding=padding, stride=stride)


def fold(
    x: Any,
    output_size: Any,
    kernel_size: Any,
    dilation: Any = 1,
    padding: Any = 0,
    stride: Any = 1,
) -> Tensor:
    """The inverse arrangement of ``unfold``: columns ``(N, C * kh * kw, patches)`` summed
    back into a channels-first ``(N, C, *output_size)`` image (overlaps add up).

    Example:
    >>> import tritonlayers as keras
    >>> columns = keras.ops.ones((1, 4, 4))
    >>> keras.ops.fold(columns, (3, 3), 2)[0, 0].tolist()
    [[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]
    """
    x = tensor(x)
    if x.ndim != 3:
        raise ValueError(f"Input must be a 3D tensor. Received: input.shape={tuple(x.shape)}")
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    if x.shape[1] % (kh * kw):
        raise ValueError(
            f"The second dimension of the input ({x.shape[1]}) must be divisible by "
            f"kernel_size product ({kh * kw})."
        )
    return F.fold(x, output_size, kernel_size, dilation=dilation, padding=padding, stride=stride)


def polar(abs_: Any, angle: Any) -> Tensor:
    """The complex numbers ``abs_ * (cos(angle) + i sin(angle))`` (ints cast to floatx).

    Example:
    >>> import tritonlayers as keras
    >>> z = keras.ops.polar([2.0], [0.0])
    >>> z.dtype, z.tolist()
    (torch.complex64, [(2+0j)])
    """
    abs_, angle = pair(floating(abs_), floating(angle))
    dtype = torch.promote_types(abs_.dtype, angle.dtype)
    abs_, angle = abs_.to(dtype), angle.to(dtype)
    return torch.complex(abs_ * torch.cos(angle), abs_ * torch.sin(angle))
