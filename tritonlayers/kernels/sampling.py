"""VAE reparameterization ``z = mean + exp(0.5 * log_var) * eps``, eps ~ N(0, 1) drawn in-kernel,
optionally fused with the KL term ``-0.5 * mean(1 + log_var - mean**2 - exp(log_var))``.

Counter layout, as in ``dropout.py``: the inputs are flattened in contiguous order and
element ``i`` takes normal ``i % 4`` of ``tl.randn4x(seed, offset + i // 4)`` (Box-Muller
on the Philox words: normals 0 and 1 from words 0 and 1, normals 2 and 3 from words 2 and
3). Counters depend only on the flat index, so no two elements of one call share a normal.
The torch twin ``_philox.normal4x`` draws the same eps to float rounding (log, cos and sin
round differently across libraries, so not bit for bit).

Backward: ``d z / d mean = 1`` and ``d z / d log_var = 0.5 * exp(0.5 * log_var) * eps``.
eps is neither saved nor recovered as ``(z - mean) / std``; the backward kernel
regenerates it from (seed, offset). It then reads grad_z and log_var (2 reads, 1 write per
element) instead of grad_z, z and mean (3 reads), the forward saves nothing but its
inputs, and the gradient stays exact where std is tiny against mean (``z - mean`` would
cancel).
"""

import torch
import triton
import triton.language as tl

from . import _dispatch, _philox
from .dropout import (
    counters,
    element_tile,
    launch_shape,
    launcher,
    per_element,
    philox_seed,
    register_twins,
    select_lane,
)


@triton.jit
def _tile_normals(seed_ptr, seed_int, counters, lanes, SEED_FROM_PTR: tl.constexpr):
    """eps for a (GROUPS, 4) tile: the four normals of ``tl.randn4x`` at each counter."""
    seed = tl.load(seed_ptr) if SEED_FROM_PTR else seed_int
    n0, n1, n2, n3 = tl.randn4x(seed, counters)
    return select_lane(n0, n1, n2, n3, lanes)


@triton.jit
def _reparameterize_fwd_kernel(
    mean_ptr,
    log_var_ptr,
    z_ptr,
    kl_partial_ptr,
    n_elements,
    seed_ptr,
    seed_int,
    offset,
    SEED_FROM_PTR: tl.constexpr,
    WITH_KL: tl.constexpr,
    BLOCK_SIZE: tl.constexpr,
):
    """One program samples BLOCK_SIZE contiguous elements, seen as (BLOCK_SIZE // 4, 4).

    Reads mean and log_var once, writes z once: 3 * itemsize bytes per element (12 for
    float32, 6 for float16/bfloat16). With WITH_KL it also writes this program's sum of
    ``1 + log_var - mean**2 - exp(log_var)`` to ``kl_partial_ptr[program]``; one torch sum
    over the partials then finishes the KL in a fixed order, so it is deterministic.
    """
    groups, lanes, index, in_bounds = element_tile(n_elements, BLOCK_SIZE // 4)
    mean = tl.load(mean_ptr + index, mask=in_bounds, other=0.0)
    log_var = tl.load(log_var_ptr + index, mask=in_bounds, other=0.0)
    if mean.dtype != tl.float64:
        mean = mean.to(tl.float32)
        log_var = log_var.to(tl.float32)
    eps = _tile_normals(seed_ptr, seed_int, offset + groups, lanes, SEED_FROM_PTR)
    z = mean + tl.exp(0.5 * log_var) * eps
    tl.store(z_ptr + index, z.to(z_ptr.dtype.element_ty), mask=in_bounds)
    if WITH_KL:
        term = tl.where(in_bounds, 1.0 + log_var - mean * mean - tl.exp(log_var), 0.0)
        tl.store(kl_partial_ptr + tl.program_id(0), tl.sum(term))


@triton.jit
def _reparameterize_bwd_kernel(
    grad_z_ptr,
    mean_ptr,
    log_var_ptr,
    grad_kl_ptr,
    grad_mean_ptr,
    grad_log_var_ptr,
    n_elements,
    seed_ptr,
    seed_int,
    offset,
    SEED_FROM_PTR: tl.constexpr,
    WITH_KL: tl.constexpr,
    BLOCK_SIZE: tl.constexpr,
):
    """Gradients for one tile of BLOCK_SIZE elements, eps regenerated as in the forward.

    Without KL: reads grad_z and log_var, writes grad_log_var (grad_mean is grad_z itself).
    With KL it also reads mean and the scalar grad_kl and writes grad_mean.
    """
    groups, lanes, index, in_bounds = element_tile(n_elements, BLOCK_SIZE // 4)
    grad_z = tl.load(grad_z_ptr + index, mask=in_bounds, other=0.0)
    log_var = tl.load(log_var_ptr + index, mask=in_bounds, other=0.0)
    if log_var.dtype != tl.float64:
        grad_z = grad_z.to(tl.float32)
        log_var = log_var.to(tl.float32)
    eps = _tile_normals(seed_ptr, seed_int, offset + groups, lanes, SEED_FROM_PTR)
    # d z / d log_var = 0.5 * exp(0.5 * log_var) * eps
    grad_log_var = grad_z * 0.5 * tl.exp(0.5 * log_var) * eps
    if WITH_KL:
        mean = tl.load(mean_ptr + index, mask=in_bounds, other=0.0).to(log_var.dtype)
        grad_kl = tl.load(grad_kl_ptr).to(log_var.dtype)
        inv_n = 1.0 / n_elements
        # d kl / d mean = mean / n;  d kl / d log_var = -0.5 * (1 - exp(log_var)) / n
        grad_mean = grad_z + grad_kl * mean * inv_n
        grad_log_var += grad_kl * (-0.5 * inv_n) * (1.0 - tl.exp(log_var))
        tl.store(
            grad_mean_ptr + index, grad_mean.to(grad_mean_ptr.dtype.element_ty), mask=in_bounds
        )
    tl.store(
        grad_log_var_ptr + index, grad_log_var.to(grad_log_var_ptr.dtype.element_ty), mask=in_bounds
    )


def _compute_dtype(tensor: torch.Tensor) -> torch.dtype:
    return torch.promote_types(tensor.dtype, torch.float32)


def _reference_eps(seed_tensor, seed_int: int, offset: int, like: torch.Tensor) -> torch.Tensor:
    """The kernel's eps for ``like``'s elements, from the torch twin of ``tl.randn4x``."""
    seed = philox_seed(seed_tensor, seed_int)
    normals = _philox.normal4x(seed, counters(like.numel(), offset, like.device))
    return per_element(normals, like).to(_compute_dtype(like))


def _reference_reparameterize(
    mean: torch.Tensor,
    log_var: torch.Tensor,
    seed_tensor: torch.Tensor | None,
    seed_int: int,
    offset: int,
) -> torch.Tensor:
    """``mean + exp(0.5 * log_var) * eps`` in float32 (float64 for float64 inputs)."""
    eps = _reference_eps(seed_tensor, seed_int, offset, mean)
    z = mean.to(eps.dtype) + torch.exp(0.5 * log_var.to(eps.dtype)) * eps
    return z.to(mean.dtype)


def _reference_kl(mean: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """``-0.5 * mean(1 + log_var - mean**2 - exp(log_var))`` over every element."""
    m, lv = mean.to(_compute_dtype(mean)), log_var.to(_compute_dtype(mean))
    return (-0.5 * torch.mean(1.0 + lv - m * m - torch.exp(lv))).to(mean.dtype)


def _reference_reparameterize_with_kl(
    mean: torch.Tensor,
    log_var: torch.Tensor,
    seed_tensor: torch.Tensor | None,
    seed_int: int,
    offset: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    z = _reference_reparameterize(mean, log_var, seed_tensor, seed_int, offset)
    return z, _reference_kl(mean, log_var)


def _reference_grads(grad_z, grad_kl, mean, log_var, seed_tensor, seed_int, offset):
    """(grad_mean, grad_log_var) by the formulas the backward kernel uses."""
    compute = _compute_dtype(mean)
    g, m, lv = grad_z.to(compute), mean.to(compute), log_var.to(compute)
    eps = _reference_eps(seed_tensor, seed_int, offset, mean)
    grad_mean = g
    grad_log_var = g * 0.5 * torch.exp(0.5 * lv) * eps
    if grad_kl is not None:
        n = mean.numel()
        grad_mean = grad_mean + grad_kl.to(compute) * m / n
        grad_log_var = grad_log_var - 0.5 * grad_kl.to(compute) * (1.0 - torch.exp(lv)) / n
    return grad_mean.to(mean.dtype), grad_log_var.to(mean.dtype)


def _reference_log_var_grad(
    grad_z: torch.Tensor,
    mean: torch.Tensor,
    log_var: torch.Tensor,
    seed_tensor: torch.Tensor | None,
    seed_int: int,
    offset: int,
) -> torch.Tensor:
    return _reference_grads(grad_z, None, mean, log_var, seed_tensor, seed_int, offset)[1]


def _reference_with_kl_grads(
    grad_z: torch.Tensor,
    grad_kl: torch.Tensor,
    mean: torch.Tensor,
    log_var: torch.Tensor,
    seed_tensor: torch.Tensor | None,
    seed_int: int,
    offset: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    return _reference_grads(grad_z, grad_kl, mean, log_var, seed_tensor, seed_int, offset)


def _launch_fwd(mean, log_var, seed_tensor, seed_int, offset, with_kl: bool, traceable: bool):
    n = mean.numel()
    z = torch.empty_like(mean)
    block, programs, warps = launch_shape(n)
    # Every program writes its own partial sum, so the buffer needs no zeroing.
    partials = torch.empty(programs if with_kl else 0, device=z.device, dtype=_compute_dtype(z))
    if n == 0:
        return z, partials
    launcher(_reparameterize_fwd_kernel, traceable)[(programs,)](
        mean,
        log_var,
        z,
        partials if with_kl else z,
        n,
        seed_tensor if seed_tensor is not None else mean,
        seed_int,
        offset,
        SEED_FROM_PTR=seed_tensor is not None,
        WITH_KL=with_kl,
        BLOCK_SIZE=block,
        num_warps=warps,
    )
    return z, partials


def _launch_reparameterize(
    mean: torch.Tensor,
    log_var: torch.Tensor,
    seed_tensor: torch.Tensor | None,
    seed_int: int,
    offset: int,
) -> torch.Tensor:
    return _launch_fwd(mean, log_var, seed_tensor, seed_int, offset, False, traceable=True)[0]


def _launch_reparameterize_with_kl(
    mean: torch.Tensor,
    log_var: torch.Tensor,
    seed_tensor: torch.Tensor | None,
    seed_int: int,
    offset: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    return _kernel_z_and_kl(mean, log_var, seed_tensor, seed_int, offset, traceable=True)


def _kernel_z_and_kl(mean, log_var, seed_tensor, seed_int, offset, traceable: bool):
    """z and the KL from the forward kernel's per-program partial sums."""
    z, partials = _launch_fwd(mean, log_var, seed_tensor, seed_int, offset, True, traceable)
    if mean.numel() == 0:  # the mean of nothing is NaN, as in torch.mean
        return z, torch.full((), torch.nan, dtype=mean.dtype, device=mean.device)
    return z, (partials.sum() * (-0.5 / mean.numel())).to(mean.dtype)


def _launch_bwd(grad_z, grad_kl, mean, log_var, seed_tensor, seed_int, offset, traceable: bool):
    n = mean.numel()
    with_kl = grad_kl is not None
    grad_mean = torch.empty_like(mean) if with_kl else grad_z
    grad_log_var = torch.empty_like(log_var)
    if n == 0:
        return grad_mean, grad_log_var
    block, programs, warps = launch_shape(n)
    launcher(_reparameterize_bwd_kernel, traceable)[(programs,)](
        grad_z,
        mean,
        log_var,
        grad_kl if with_kl else grad_z,
        grad_mean,
        grad_log_var,
        n,
        seed_tensor if seed_tensor is not None else mean,
        seed_int,
        offset,
        SEED_FROM_PTR=seed_tensor is not None,
        WITH_KL=with_kl,
        BLOCK_SIZE=block,
        num_warps=warps,
    )
    return grad_mean, grad_log_var


def _launch_log_var_grad(
    grad_z: torch.Tensor,
    mean: torch.Tensor,
    log_var: torch.Tensor,
    seed_tensor: torch.Tensor | None,
    seed_int: int,
    offset: int,
) -> torch.Tensor:
    args = (grad_z, None, mean, log_var, seed_tensor, seed_int, offset)
    return _launch_bwd(*args, traceable=True)[1]


def _launch_with_kl_grads(
    grad_z: torch.Tensor,
    grad_kl: torch.Tensor,
    mean: torch.Tensor,
    log_var: torch.Tensor,
    seed_tensor: torch.Tensor | None,
    seed_int: int,
    offset: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    args = (grad_z, grad_kl, mean, log_var, seed_tensor, seed_int, offset)
    return _launch_bwd(*args, traceable=True)


def _fake_z(mean, log_var, seed_tensor, seed_int, offset):
    return torch.empty_like(mean)


def _fake_z_and_kl(mean, log_var, seed_tensor, seed_int, offset):
    return torch.empty_like(mean), mean.new_empty(())


def _fake_log_var_grad(grad_z, mean, log_var, seed_tensor, seed_int, offset):
    return torch.empty_like(log_var)


def _fake_with_kl_grads(grad_z, grad_kl, mean, log_var, seed_tensor, seed_int, offset):
    return torch.empty_like(mean), torch.empty_like(log_var)


# Each pair is (kernel op, reference op); see dropout.register_twins.
_REPARAMETERIZE_OPS = register_twins(
    "reparameterize", _launch_reparameterize, _reference_reparameterize, _fake_z
)
_WITH_KL_OPS = register_twins(
    "reparameterize_with_kl",
    _launch_reparameterize_with_kl,
    _reference_reparameterize_with_kl,
    _fake_z_and_kl,
)
_LOG_VAR_GRAD_OPS = register_twins(
    "reparameterize_log_var_grad",
    _launch_log_var_grad,
    _reference_log_var_grad,
    _fake_log_var_grad,
)
_WITH_KL_GRADS_OPS = register_twins(
    "reparameterize_with_kl_grads",
    _launch_with_kl_grads,
    _reference_with_kl_grads,
    _fake_with_kl_grads,
)


def _setup_context(ctx, inputs, output):
    mean, log_var, seed_tensor, ctx.seed_int, ctx.offset = inputs
    ctx.save_for_backward(mean, log_var, seed_tensor)


def _register_autograd(reparameterize_op, with_kl_op, log_var_grad_op, with_kl_grads_op):
    def saved(ctx):
        mean, log_var, seed_tensor = ctx.saved_tensors
        return mean, log_var, seed_tensor, ctx.seed_int, ctx.offset

    def backward(ctx, grad_z):
        grad_z = grad_z.contiguous()
        return grad_z, log_var_grad_op(grad_z, *saved(ctx)), None, None, None

    def backward_with_kl(ctx, grad_z, grad_kl):
        grads = with_kl_grads_op(grad_z.contiguous(), grad_kl, *saved(ctx))
        return *grads, None, None, None

    reparameterize_op.register_autograd(backward, setup_context=_setup_context)
    with_kl_op.register_autograd(backward_with_kl, setup_context=_setup_context)


for _ops in zip(_REPARAMETERIZE_OPS, _WITH_KL_OPS, _LOG_VAR_GRAD_OPS, _WITH_KL_GRADS_OPS):
    _register_autograd(*_ops)


class _ReparameterizeFunction(torch.autograd.Function):
    """The eager path: the raw kernel launches (``use_kernel``) or the reference, without
    the op dispatcher, whose host cost exceeds a small batch's GPU time. Returns z, or
    ``(z, kl)`` with ``with_kl``.

    A backward pass that is itself differentiated (``create_graph=True``, e.g. a gradient
    penalty) takes the reference formulas: torch ops, so they carry their own graph."""

    @staticmethod
    def forward(use_kernel, with_kl, mean, log_var, seed_tensor, seed_int, offset):
        args = (mean, log_var, seed_tensor, seed_int, offset)
        if not use_kernel:
            return (_reference_reparameterize_with_kl if with_kl else _reference_reparameterize)(
                *args
            )
        if with_kl:
            return _kernel_z_and_kl(*args, traceable=False)
        return _launch_fwd(*args, False, traceable=False)[0]

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.use_kernel, _, mean, log_var, seed_tensor, ctx.seed_int, ctx.offset = inputs
        ctx.save_for_backward(mean, log_var, seed_tensor)

    @staticmethod
    def backward(ctx, grad_z, grad_kl=None):
        mean, log_var, seed_tensor = ctx.saved_tensors
        args = (mean, log_var, seed_tensor, ctx.seed_int, ctx.offset)
        grad_z = grad_z.contiguous()
        if ctx.use_kernel and not torch.is_grad_enabled():
            grads = _launch_bwd(grad_z, grad_kl, *args, traceable=False)
        else:
            grads = _reference_grads(grad_z, grad_kl, *args)
        return None, None, *grads, None, None, None


def _checked_inputs(name: str, mean, log_var, seed, offset: int):
    """Whether to run the kernel (else the reference), and the validated, contiguous
    arguments."""
    for arg, tensor in (("mean", mean), ("log_var", log_var)):
        if not isinstance(tensor, torch.Tensor) or not tensor.dtype.is_floating_point:
            found = tensor.dtype if isinstance(tensor, torch.Tensor) else type(tensor).__name__
            raise TypeError(
                f"kernels.{name} expects `{arg}` to be a floating-point tensor (float32, "
                f"float16, bfloat16 or float64); received {found}."
            )
    if mean.shape != log_var.shape:
        raise ValueError(
            f"kernels.{name} expects `mean` and `log_var` of the same shape; received "
            f"{tuple(mean.shape)} and {tuple(log_var.shape)}."
        )
    if mean.dtype != log_var.dtype:
        raise TypeError(
            f"kernels.{name} expects `mean` and `log_var` of the same dtype; received "
            f"{mean.dtype} and {log_var.dtype}."
        )
    use_kernel = _dispatch.use_triton(mean, log_var)
    seed_tensor, seed_int = _philox.kernel_seed(seed, mean.device)
    return use_kernel, (mean.contiguous(), log_var.contiguous(), seed_tensor, seed_int, int(offset))


def reparameterize(
    mean: torch.Tensor, log_var: torch.Tensor, seed: int | torch.Tensor, offset: int = 0
) -> torch.Tensor:
    """Sample ``z = mean + exp(0.5 * log_var) * eps`` with eps ~ N(0, 1) drawn in the kernel.

    eps depends only on (seed, offset, flat element index): the CPU fallback draws the same
    values as the GPU to float rounding. Gradients flow to ``mean`` and ``log_var``.

    Args:
        mean, log_var: floating-point tensors of one shape, dtype and device.
        seed: an int, or an integer tensor with one element (``SeedGenerator.next()``).
        offset: first Philox counter; element i uses counter ``offset + i // 4``.

    Example:
    >>> import torch
    >>> from tritonlayers.kernels import reparameterize
    >>> z = reparameterize(torch.zeros(100_000), torch.zeros(100_000), seed=0)
    >>> abs(z.mean().item()) < 0.02 and abs(z.std().item() - 1) < 0.02
    True
    """
    use_kernel, args = _checked_inputs("reparameterize", mean, log_var, seed, offset)
    if torch.compiler.is_compiling():
        return _REPARAMETERIZE_OPS[0 if use_kernel else 1](*args)
    return _ReparameterizeFunction.apply(use_kernel, False, *args)


def reparameterize_with_kl(
    mean: torch.Tensor, log_var: torch.Tensor, seed: int | torch.Tensor, offset: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(z, kl)``: the sample of ``reparameterize`` and, from the same pass over the inputs,
    ``kl = -0.5 * mean(1 + log_var - mean**2 - exp(log_var))`` (mean over all elements).

    Both outputs are differentiable; the KL is a deterministic sum of per-program partials.

    Example:
    >>> import torch
    >>> from tritonlayers.kernels import reparameterize_with_kl
    >>> z, kl = reparameterize_with_kl(torch.ones(4, 2), torch.zeros(4, 2), seed=3)
    >>> z.shape, round(kl.item(), 6)
    (torch.Size([4, 2]), 0.5)
    """
    use_kernel, args = _checked_inputs("reparameterize_with_kl", mean, log_var, seed, offset)
    if torch.compiler.is_compiling():
        return _WITH_KL_OPS[0 if use_kernel else 1](*args)
    return _ReparameterizeFunction.apply(use_kernel, True, *args)
