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

import functools

import torch
import triton
import triton.language as tl

from . import _dispatch, _philox


@triton.jit
def element_tile(n_elements, GROUPS: tl.constexpr):
    """This program's GROUPS * 4 contiguous elements, seen as a (GROUPS, 4) tile.

    Returns the group indices (int64; the Philox counter is ``offset + group``), the lane
    of each column, the flat int64 element index ``4 * group + lane`` and its bounds mask.
    """
    groups = tl.program_id(0).to(tl.int64) * GROUPS + tl.arange(0, GROUPS)
    lanes = tl.arange(0, 4)
    index = groups[:, None] * 4 + lanes[None, :]
    return groups, lanes, index, index < n_elements


@triton.jit
def select_lane(v0, v1, v2, v3, lanes):
    """The (GROUPS, 4) tile whose column j is ``vj``: one Philox call's four words (or the
    four normals made from them) spread over four neighbouring elements."""
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

    Reads x once and writes out once: 2 * itemsize bytes per element (8 for float32, 4 for
    float16/bfloat16). The seed is a kernel argument or, with SEED_FROM_PTR, loaded from a
    device tensor. The backward is this same kernel applied to the incoming gradient.
    """
    groups, lanes, index, in_bounds = element_tile(n_elements, BLOCK_SIZE // 4)
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


def per_element(four: tuple, like: torch.Tensor) -> torch.Tensor:
    """The torch side of ``select_lane``: four per-counter tensors laid out over the
    elements of ``like`` (element i takes ``four[i % 4][i // 4]``)."""
    return torch.stack(four, dim=1).reshape(-1)[: like.numel()].reshape(like.shape)


def counters(n: int, offset: int, device: torch.device) -> torch.Tensor:
    """The Philox counters ``offset + g`` of the ``ceil(n / 4)`` element groups."""
    return offset + torch.arange((n + 3) // 4, device=device, dtype=torch.int64)


def philox_seed(seed_tensor: torch.Tensor | None, seed_int: int) -> int | torch.Tensor:
    """The seed that an op's ``(seed_tensor, seed_int)`` pair stands for."""
    return seed_tensor if seed_tensor is not None else seed_int


def _reference_dropout(
    x: torch.Tensor,
    seed_tensor: torch.Tensor | None,
    seed_int: int,
    offset: int,
    threshold: int,
    scale: float,
) -> torch.Tensor:
    """The torch math of the kernel (the CPU fallback and the tests' oracle)."""
    seed = philox_seed(seed_tensor, seed_int)
    words = _philox.randint4x(seed, counters(x.numel(), offset, x.device))
    keep = per_element(words, x) >= threshold
    compute = x.to(torch.promote_types(x.dtype, torch.float32))
    return torch.where(keep, compute * scale, 0.0).to(x.dtype)


_USE_TRITON_OP = hasattr(torch.library, "triton_op") and not _dispatch.interpreting()


def register_twins(name: str, kernel_impl, reference_impl, fake) -> tuple:
    """Register one op twice, with one schema (from the annotations) and one fake.

    ``tritonlayers::<name>`` launches the Triton kernels; it is a ``triton_op`` where torch
    has one, so torch.compile traces the launch. ``tritonlayers::<name>_reference`` runs the
    torch math as an opaque ``custom_op``, so torch.compile does not re-trace (or try to
    constant-fold) the Philox arithmetic. Returns ``(kernel_op, reference_op)``.
    """
    register_kernel_op = torch.library.triton_op if _USE_TRITON_OP else torch.library.custom_op
    kernel_op = register_kernel_op(f"tritonlayers::{name}", kernel_impl, mutates_args=())
    reference_op = torch.library.custom_op(
        f"tritonlayers::{name}_reference", reference_impl, mutates_args=()
    )
    for op in (kernel_op, reference_op):
        op.register_fake(fake)
    return kernel_op, reference_op


def launcher(kernel, traceable: bool):
    """The kernel as a launch site calls it: through ``wrap_triton`` inside a ``triton_op``
    (``traceable``, so torch.compile sees into it), raw in eager calls (the wrapper costs
    several microseconds per launch) and in the interpreter."""
    return torch.library.wrap_triton(kernel) if traceable and _USE_TRITON_OP else kernel


def launch_shape(n: int) -> tuple[int, int, int]:
    """(BLOCK_SIZE, programs, num_warps) of an elementwise Philox kernel over n elements.

    4096 elements per program (1024 Philox calls); 8 warps give each thread 4 groups, i.e.
    16 elements in independent loads, enough in flight to cover HBM latency. Small inputs
    get a smaller power-of-two block (at least 64) instead of masked-off lanes. Only
    comparisons touch n, so a symbolic size under torch.compile just adds guards.
    """
    block = 64
    while block < n and block < 4096:
        block *= 2
    return block, triton.cdiv(n, block), 8 if block >= 2048 else 4


def _launch_dropout(
    x: torch.Tensor,
    seed_tensor: torch.Tensor | None,
    seed_int: int,
    offset: int,
    threshold: int,
    scale: float,
    traceable: bool = True,
) -> torch.Tensor:
    out = torch.empty_like(x)
    if x.numel() == 0:
        return out
    block, programs, warps = launch_shape(x.numel())
    launcher(_dropout_kernel, traceable)[(programs,)](
        x,
        out,
        x.numel(),
        seed_tensor if seed_tensor is not None else x,
        seed_int,
        offset,
        threshold,
        scale,
        SEED_FROM_PTR=seed_tensor is not None,
        BLOCK_SIZE=block,
        num_warps=warps,
    )
    return out


def _fake_dropout(x, seed_tensor, seed_int, offset, threshold, scale, traceable=True):
    return torch.empty_like(x)


def _setup_context(ctx, inputs, output):
    _, seed_tensor, *ctx.mask_args = inputs
    ctx.save_for_backward(seed_tensor)


def _register_autograd(op) -> None:
    def backward(ctx, grad):
        # d out / d x = keep * scale: the same op applied to the gradient, same mask.
        (seed_tensor,) = ctx.saved_tensors
        grad_x = op(grad.contiguous(), seed_tensor, *ctx.mask_args)
        return grad_x, None, *(None for _ in ctx.mask_args)

    op.register_autograd(backward, setup_context=_setup_context)


_dropout_kernel_op, _dropout_reference_op = register_twins(
    "dropout", _launch_dropout, _reference_dropout, _fake_dropout
)
_register_autograd(_dropout_kernel_op)
_register_autograd(_dropout_reference_op)


# Eager calls launch the raw kernel; the op's default (traceable) is for torch.compile.
_eager_dropout_kernel = functools.partial(_launch_dropout, traceable=False)


class _DropoutFunction(torch.autograd.Function):
    """The eager path: ``impl`` (the raw kernel launch or the reference) called directly,
    without the op dispatcher, whose host cost exceeds a small dropout's GPU time. Dropout
    is linear in x, so the backward pass is the same dropout of the incoming gradient,
    applied through this Function again (and so differentiable again)."""

    @staticmethod
    def forward(impl, x, seed_tensor, seed_int, offset, threshold, scale):
        return impl(x, seed_tensor, seed_int, offset, threshold, scale)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.impl, _, seed_tensor, *ctx.mask_args = inputs
        ctx.save_for_backward(seed_tensor)

    @staticmethod
    def backward(ctx, grad):
        (seed_tensor,) = ctx.saved_tensors
        args = (grad.contiguous(), seed_tensor, *ctx.mask_args)
        return None, _DropoutFunction.apply(ctx.impl, *args), None, None, None, None, None


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
    args = (x.contiguous(), seed_tensor, seed_int, int(offset), threshold, scale)
    triton = _dispatch.use_triton(x)
    if torch.compiler.is_compiling():
        return (_dropout_kernel_op if triton else _dropout_reference_op)(*args)
    return _DropoutFunction.apply(_eager_dropout_kernel if triton else _reference_dropout, *args)
