"""Seeded dropout: ``where(keep, x / (1 - rate), 0)`` with a Philox mask that is never stored.

The mask is a pure function of (seed, offset, element index), so the backward pass
regenerates it instead of saving a byte per element (Triton's low-memory dropout tutorial),
and the torch fallback reproduces the GPU's mask bit for bit.

Counter layout (which random word decides which element). The input is flattened in
contiguous (row-major) order; element ``i`` uses word ``i % 4`` of
``tl.randint4x(seed, offset + i // 4)``. One Philox evaluation thus serves four
neighbouring elements (a quarter of the integer work of one ``tl.randint`` per element,
which keeps the kernel memory-bound on an H100). Counters depend only on the flat index,
never on the program or tile that happens to process it, so no two elements of one call
share a word and no tile repeats another's mask. Two calls with the same seed draw
independent masks when their counter ranges ``[offset, offset + ceil(n / 4))`` do not
overlap, e.g. when the second offset advances by ``n``.

Keep or drop is an integer test, ``word >= round(rate * 2**32)``, so every backend makes the
same decision; the keep probability is ``1 - rate`` to within 2**-32.
"""

import torch
import triton
import triton.language as tl

from . import _dispatch, _philox


@triton.jit
def select_lane(v0, v1, v2, v3, lanes):
    """Tile (groups, 4) whose column j is ``vj``: spreads one Philox call's four words (or
    the four normals made from them) over four neighbouring elements."""
    return tl.where(
        lanes[None, :] == 0,
        v0[:, None],
        tl.where(
            lanes[None, :] == 1,
            v1[:, None],
            tl.where(lanes[None, :] == 2, v2[:, None], v3[:, None]),
        ),
    )


@triton.jit
def _dropout_kernel(
    x_ptr,
    out_ptr,
    n_elements,
    seed_ptr,
    seed_int,
    offset,
    threshold,
    scale,
    SEED_FROM_PTR: tl.constexpr,
    BLOCK_SIZE: tl.constexpr,
):
    """One program scales BLOCK_SIZE contiguous elements, seen as (BLOCK_SIZE // 4, 4).

    Row ``g`` of the tile is Philox counter ``offset + g`` (global group index, int64) and
    column ``j`` takes that counter's word ``j``. Reads x once and writes out once: 2 *
    itemsize bytes per element (8 for float32, 4 for float16/bfloat16). The backward is
    this same kernel applied to the incoming gradient.
    """
    GROUPS: tl.constexpr = BLOCK_SIZE // 4
    groups = tl.program_id(0).to(tl.int64) * GROUPS + tl.arange(0, GROUPS)
    lanes = tl.arange(0, 4)
    index = groups[:, None] * 4 + lanes[None, :]
    in_bounds = index < n_elements
    x = tl.load(x_ptr + index, mask=in_bounds)
    if x.dtype != tl.float64:
        x = x.to(tl.float32)
    seed = tl.load(seed_ptr) if SEED_FROM_PTR else seed_int
    w0, w1, w2, w3 = tl.randint4x(seed, offset + groups)
    word = select_lane(w0, w1, w2, w3, lanes)
    # uint32 -> int64 zero-extends, so thresholds up to 2**32 (rate 1: keep nothing) compare.
    keep = word.to(tl.int64) >= threshold
    out = tl.where(keep, x * scale, 0.0)
    tl.store(out_ptr + index, out.to(out_ptr.dtype.element_ty), mask=in_bounds)


def _reference_dropout(
    x: torch.Tensor, seed: int | torch.Tensor, offset: int, threshold: int, scale: float
) -> torch.Tensor:
    """The torch math of the kernel (the CPU fallback and the tests' oracle)."""
    n = x.numel()
    counters = offset + torch.arange((n + 3) // 4, device=x.device, dtype=torch.int64)
    words = torch.stack(_philox.randint4x(seed, counters), dim=1).reshape(-1)[:n]
    keep = (words >= threshold).reshape(x.shape)
    compute = x.to(torch.promote_types(x.dtype, torch.float32))
    return torch.where(keep, compute * scale, 0.0).to(x.dtype)


# ~64 KiB of float32 traffic per program; 8 warps give each thread 4 Philox groups (16
# elements), enough independent loads in flight to cover HBM latency.
_MAX_BLOCK = 4096
_USE_TRITON_OP = hasattr(torch.library, "triton_op") and not _dispatch.interpreting()
_register_op = torch.library.triton_op if _USE_TRITON_OP else torch.library.custom_op


def _launch(x, seed_tensor, seed_int, offset, threshold, scale) -> torch.Tensor:
    out = torch.empty_like(x)
    n = x.numel()
    if n == 0:
        return out
    block = max(64, min(_MAX_BLOCK, triton.next_power_of_2(n)))
    kernel = torch.library.wrap_triton(_dropout_kernel) if _USE_TRITON_OP else _dropout_kernel
    kernel[(triton.cdiv(n, block),)](
        x,
        out,
        n,
        seed_tensor if seed_tensor is not None else x,
        seed_int,
        offset,
        threshold,
        scale,
        SEED_FROM_PTR=seed_tensor is not None,
        BLOCK_SIZE=block,
        num_warps=8 if block >= 2048 else 4,
    )
    return out


@_register_op("tritonlayers::dropout", mutates_args=())
def _dropout_op(
    x: torch.Tensor,
    seed_tensor: torch.Tensor | None,
    seed_int: int,
    offset: int,
    threshold: int,
    scale: float,
    use_kernel: bool,
) -> torch.Tensor:
    if use_kernel:
        return _launch(x, seed_tensor, seed_int, offset, threshold, scale)
    seed = seed_tensor if seed_tensor is not None else seed_int
    return _reference_dropout(x, seed, offset, threshold, scale)


@_dropout_op.register_fake
def _(x, seed_tensor, seed_int, offset, threshold, scale, use_kernel):
    return torch.empty_like(x)


def _setup_context(ctx, inputs, output):
    _, seed_tensor, *ctx.mask_args = inputs
    ctx.save_for_backward(seed_tensor)


def _backward(ctx, grad):
    # d out / d x = keep * scale: the forward op applied to the gradient, same mask.
    (seed_tensor,) = ctx.saved_tensors
    grad_x = _dropout_op(grad.contiguous(), seed_tensor, *ctx.mask_args)
    return grad_x, None, None, None, None, None, None


_dropout_op.register_autograd(_backward, setup_context=_setup_context)


def _check_inputs(x: torch.Tensor, rate: float) -> None:
    if not isinstance(x, torch.Tensor) or not x.dtype.is_floating_point:
        found = x.dtype if isinstance(x, torch.Tensor) else type(x).__name__
        raise TypeError(
            f"kernels.dropout expects a floating-point tensor (float32, float16, bfloat16 or "
            f"float64); received {found}."
        )
    if not 0.0 <= rate <= 1.0:
        raise ValueError(
            f"kernels.dropout expects a rate between 0 and 1 (the fraction of inputs to drop); "
            f"received rate={rate}."
        )


def dropout(
    x: torch.Tensor, rate: float, seed: int | torch.Tensor, offset: int = 0
) -> torch.Tensor:
    """Zero each element with probability ``rate`` and scale the kept ones by 1 / (1 - rate).

    The mask depends only on (seed, offset, flat element index): the same call gives the
    same mask on the CPU and the GPU, and the backward pass recomputes it.

    Args:
        x: float32, float16, bfloat16 or float64 tensor of any shape.
        rate: fraction to drop, in [0, 1]. 0 returns ``x``; 1 returns zeros.
        seed: an int, or an integer tensor with one element on any device (what
            ``SeedGenerator.next()`` returns; no host sync, no recompilation per seed).
        offset: first Philox counter; elements use counters ``offset + i // 4``.

    Example:
    >>> import torch
    >>> from tritonlayers.kernels import dropout
    >>> y = dropout(torch.ones(2, 8), rate=0.5, seed=1)
    >>> sorted(set(y.flatten().tolist())) == [0.0, 2.0]
    True
    """
    _check_inputs(x, rate)
    if rate == 0.0:
        return x
    seed_tensor, seed_int = _philox.kernel_seed(seed, x.device)
    threshold = min(round(rate * 2**32), 2**32)
    scale = 0.0 if rate == 1.0 else 1.0 / (1.0 - rate)
    use_kernel = _dispatch.use_triton(x)
    return _dropout_op(
        x.contiguous(), seed_tensor, seed_int, int(offset), threshold, scale, use_kernel
    )
