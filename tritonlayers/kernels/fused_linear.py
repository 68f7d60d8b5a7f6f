"""Fused linear layer: ``act(x @ weight + bias)`` in one Triton matmul with an epilogue.

A dense layer in eager torch is two or three kernels (matmul, bias, activation), each one a
round trip of the ``(M, N)`` output through GPU memory. Here the bias and activation run on
the fp32 accumulator while the tile is still in registers, so the output is written once.

The backward pass fuses ``dZ = dY * act'(.)`` with the partial sums of ``db`` in one
elementwise kernel, then computes ``dX = dZ @ W^T`` and ``dW = X^T @ dZ`` with ``torch.mm``.
Those two are plain GEMMs with nothing left to fuse after them, where cuBLAS is as fast as a
Triton GEMM or faster; the elementwise pass and the column reduction are what eager torch
does in extra kernels.

What the backward pass needs from the forward pass depends on the activation: relu,
leaky_relu, sigmoid and tanh have derivatives that follow from their output, so only the
output is saved; gelu, gelu_tanh, silu and softplus save the pre-activation ``z``; linear
saves neither.
"""

import functools
import json
import os
from pathlib import Path

import torch
import torch.nn.functional as F
import triton
import triton.language as tl

from . import _dispatch

# ---------------------------------------------------------------------------------------------
# 1. Triton kernels
# ---------------------------------------------------------------------------------------------

# Triton kernels may read only globals wrapped in tl.constexpr. Kernels write them after a
# tensor operand (``z * _C``, not ``_C * z``), which the interpreter needs.
LEAKY_RELU_SLOPE = 0.2
_LEAKY_SLOPE = tl.constexpr(LEAKY_RELU_SLOPE)
_SQRT1_2 = tl.constexpr(0.7071067811865476)  # 1 / sqrt(2), for the erf form of gelu
_INV_SQRT_2PI = tl.constexpr(0.3989422804014327)  # 1 / sqrt(2 pi): the normal density at 0
_SQRT_2_OVER_PI = tl.constexpr(0.7978845608028654)  # sqrt(2 / pi), the tanh form of gelu
_GELU_TANH_CUBIC = tl.constexpr(0.044715)
_SOFTPLUS_THRESHOLD = tl.constexpr(20.0)  # torch's softplus is the identity above this


@triton.jit
def _tanh(z):
    """tanh through one exp of a non-positive number, so it never overflows."""
    e = tl.exp(-2.0 * tl.abs(z))
    t = (1.0 - e) / (1.0 + e)
    return tl.where(z < 0, -t, t)


@triton.jit
def _activate(z, ACTIVATION: tl.constexpr):
    """The activation of an fp32 tile ``z``."""
    if ACTIVATION == "relu":
        return tl.maximum(z, 0.0)
    elif ACTIVATION == "leaky_relu":
        return tl.where(z > 0, z, z * _LEAKY_SLOPE)
    elif ACTIVATION == "gelu":
        return 0.5 * z * (1.0 + tl.erf(z * _SQRT1_2))
    elif ACTIVATION == "gelu_tanh":
        return 0.5 * z * (1.0 + _tanh((z + z * z * z * _GELU_TANH_CUBIC) * _SQRT_2_OVER_PI))
    elif ACTIVATION == "silu":
        return z * tl.sigmoid(z)
    elif ACTIVATION == "sigmoid":
        return tl.sigmoid(z)
    elif ACTIVATION == "tanh":
        return _tanh(z)
    elif ACTIVATION == "softplus":
        # log(1 + e^z) = max(z, 0) + log(1 + e^-|z|): the exp never overflows.
        soft = tl.maximum(z, 0.0) + tl.log(1.0 + tl.exp(-tl.abs(z)))
        return tl.where(z > _SOFTPLUS_THRESHOLD, z, soft)
    else:
        return z


@triton.jit
def _activation_grad(s, ACTIVATION: tl.constexpr):
    """``act'`` as a function of the saved fp32 tile ``s`` (output y or pre-activation z)."""
    if ACTIVATION == "relu":
        # y = max(z, 0): y' = 1 where y > 0, else 0.
        return tl.where(s > 0, 1.0, 0.0)
    elif ACTIVATION == "leaky_relu":
        # y = z or 0.2 z; y > 0 exactly where z > 0, so y decides: y' = 1 or 0.2.
        return tl.where(s > 0, 1.0, _LEAKY_SLOPE)
    elif ACTIVATION == "sigmoid":
        # y = sigmoid(z): y' = y (1 - y).
        return s * (1.0 - s)
    elif ACTIVATION == "tanh":
        # y = tanh(z): y' = 1 - y^2.
        return 1.0 - s * s
    elif ACTIVATION == "gelu":
        # y = z Phi(z): y' = Phi(z) + z phi(z), phi the standard normal density.
        cdf = 0.5 * (1.0 + tl.erf(s * _SQRT1_2))
        pdf = tl.exp(-0.5 * s * s) * _INV_SQRT_2PI
        return cdf + s * pdf
    elif ACTIVATION == "gelu_tanh":
        # y = z (1 + t) / 2 with t = tanh(u), u = c (z + a z^3):
        # y' = (1 + t) / 2 + z (1 - t^2) c (1 + 3 a z^2) / 2.
        t = _tanh((s + s * s * s * _GELU_TANH_CUBIC) * _SQRT_2_OVER_PI)
        du = (1.0 + s * s * (3.0 * _GELU_TANH_CUBIC)) * _SQRT_2_OVER_PI
        return 0.5 * (1.0 + t) + 0.5 * s * (1.0 - t * t) * du
    elif ACTIVATION == "silu":
        # y = z sigmoid(z): y' = sigmoid(z) (1 + z (1 - sigmoid(z))).
        sig = tl.sigmoid(s)
        return sig * (1.0 + s * (1.0 - sig))
    else:
        # softplus, y = log(1 + e^z): y' = sigmoid(z) (exactly 1 above the threshold, like
        # torch). Linear never reaches this kernel: its dz is dy itself.
        return tl.where(s > _SOFTPLUS_THRESHOLD, 1.0, tl.sigmoid(s))


# Program ordering. Output tile (pid_m, pid_n) reads a BLOCK_M-row panel of x and a
# BLOCK_N-column panel of W. Launching tiles row by row means every program of one row of
# tiles needs a different W panel, and by the time the next row starts, the first W panels
# have left the L2 cache. Instead, programs are numbered in groups of GROUP_M tile rows: a
# group walks down a column of GROUP_M tiles before moving one column right. Neighbouring
# programs (which run at the same time) then share both their x panels (GROUP_M of them) and
# their W panel, so each panel is fetched from memory about once per group rather than once
# per tile.
@triton.jit
def _fused_linear_fwd_kernel(
    x_ptr,
    w_ptr,
    b_ptr,
    y_ptr,
    z_ptr,
    M,
    N,
    K,
    stride_xm,
    stride_xk,
    stride_wk,
    stride_wn,
    M_BUCKET,
    N_BUCKET,
    K_BUCKET,
    HAS_BIAS: tl.constexpr,
    ACTIVATION: tl.constexpr,
    SAVE_PREACT: tl.constexpr,
    INPUT_PRECISION: tl.constexpr,
    BLOCK_M: tl.constexpr,
    BLOCK_N: tl.constexpr,
    BLOCK_K: tl.constexpr,
    GROUP_M: tl.constexpr,
):
    """One (BLOCK_M, BLOCK_N) tile of ``y = act(x @ w + b)``.

    Reads x ``(M, K)`` and w ``(K, N)`` through their strides (any layout, so transposed
    inputs need no copy), steps over K in BLOCK_K slices into an fp32 accumulator, adds the
    bias and applies the activation in fp32, and writes y (and the pre-activation z when
    SAVE_PREACT) as contiguous ``(M, N)`` in the input dtype. ``*_BUCKET`` are the autotune
    keys only. Row and column offsets are int64, so M * K past 2**31 does not overflow.
    """
    pid = tl.program_id(0)
    num_pid_m = tl.cdiv(M, BLOCK_M)
    num_pid_n = tl.cdiv(N, BLOCK_N)
    num_pid_in_group = GROUP_M * num_pid_n
    group_id = pid // num_pid_in_group
    first_pid_m = group_id * GROUP_M
    group_size_m = min(num_pid_m - first_pid_m, GROUP_M)
    pid_m = first_pid_m + (pid % num_pid_in_group) % group_size_m
    pid_n = (pid % num_pid_in_group) // group_size_m

    offs_m = pid_m.to(tl.int64) * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_n = pid_n.to(tl.int64) * BLOCK_N + tl.arange(0, BLOCK_N)
    offs_k = tl.arange(0, BLOCK_K)
    mask_m = offs_m < M
    mask_n = offs_n < N
    x_ptrs = x_ptr + offs_m[:, None] * stride_xm + offs_k[None, :] * stride_xk
    w_ptrs = w_ptr + offs_k[:, None] * stride_wk + offs_n[None, :] * stride_wn

    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    for k in range(0, tl.cdiv(K, BLOCK_K)):
        k_left = K - k * BLOCK_K
        x = tl.load(x_ptrs, mask=mask_m[:, None] & (offs_k[None, :] < k_left), other=0.0)
        w = tl.load(w_ptrs, mask=(offs_k[:, None] < k_left) & mask_n[None, :], other=0.0)
        acc = tl.dot(x, w, acc, input_precision=INPUT_PRECISION)
        x_ptrs += BLOCK_K * stride_xk
        w_ptrs += BLOCK_K * stride_wk

    if HAS_BIAS:
        acc += tl.load(b_ptr + offs_n, mask=mask_n, other=0.0).to(tl.float32)[None, :]
    out_offs = offs_m[:, None] * N + offs_n[None, :]
    out_mask = mask_m[:, None] & mask_n[None, :]
    if SAVE_PREACT:
        tl.store(z_ptr + out_offs, acc.to(z_ptr.dtype.element_ty), mask=out_mask)
    y = _activate(acc, ACTIVATION)
    tl.store(y_ptr + out_offs, y.to(y_ptr.dtype.element_ty), mask=out_mask)


@triton.jit
def _fused_linear_bwd_dz_kernel(
    dy_ptr,
    s_ptr,
    dz_ptr,
    db_partial_ptr,
    M,
    N,
    stride_dym,
    stride_dyn,
    HAS_BIAS: tl.constexpr,
    ACTIVATION: tl.constexpr,
    BLOCK_M: tl.constexpr,
    BLOCK_N: tl.constexpr,
):
    """One (BLOCK_M, BLOCK_N) tile of ``dz = dy * act'(s)`` and its column sums.

    Reads dy through its strides (upstream gradients are often broadcast views) and the
    saved contiguous ``(M, N)`` tensor s (y or z, see ``_activation_grad``); writes dz as
    contiguous ``(M, N)`` in the input dtype. With a bias, program (i, j) also writes the
    fp32 sum over its rows of dz into row i of ``db_partial`` ``(cdiv(M, BLOCK_M), N)``;
    the caller sums those rows, so db needs no atomics and is deterministic.
    """
    pid_m = tl.program_id(0)
    pid_n = tl.program_id(1)
    offs_m = pid_m.to(tl.int64) * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_n = pid_n.to(tl.int64) * BLOCK_N + tl.arange(0, BLOCK_N)
    mask_n = offs_n < N
    mask = (offs_m < M)[:, None] & mask_n[None, :]
    dy_offs = offs_m[:, None] * stride_dym + offs_n[None, :] * stride_dyn
    dy = tl.load(dy_ptr + dy_offs, mask=mask, other=0.0).to(tl.float32)
    out_offs = offs_m[:, None] * N + offs_n[None, :]
    s = tl.load(s_ptr + out_offs, mask=mask, other=0.0).to(tl.float32)
    dz = dy * _activation_grad(s, ACTIVATION)
    tl.store(dz_ptr + out_offs, dz.to(dz_ptr.dtype.element_ty), mask=mask)
    if HAS_BIAS:
        tl.store(db_partial_ptr + pid_m * N + offs_n, tl.sum(dz, axis=0), mask=mask_n)


# ---------------------------------------------------------------------------------------------
# 2. Torch reference: the CPU fallback and the tests' oracle
# ---------------------------------------------------------------------------------------------

_TORCH_ACTIVATIONS = {
    "linear": lambda z: z,
    "relu": F.relu,
    "leaky_relu": lambda z: F.leaky_relu(z, LEAKY_RELU_SLOPE),
    "gelu": F.gelu,
    "gelu_tanh": lambda z: F.gelu(z, approximate="tanh"),
    "silu": F.silu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "softplus": F.softplus,
}
ACTIVATIONS = (None, *_TORCH_ACTIVATIONS)
# The activations whose derivative is computed from the saved output y; the other non-linear
# ones keep the pre-activation z.
_GRAD_FROM_OUTPUT = ("relu", "leaky_relu", "sigmoid", "tanh")
_GRAD_FROM_PREACT = ("gelu", "gelu_tanh", "silu", "softplus")


def _reference_fused_linear(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, activation: str
) -> torch.Tensor:
    """``act(x @ weight + bias)`` with torch ops: one addmm (mm without a bias) on the
    ``(M, in)`` view of x, then the activation. Differentiable by torch's own autograd."""
    x2d = x if x.ndim == 2 else x.reshape(-1, x.shape[-1])
    z = torch.mm(x2d, weight) if bias is None else torch.addmm(bias, x2d, weight)
    y = _TORCH_ACTIVATIONS[activation](z)
    return y if x.ndim == 2 else y.reshape(*x.shape[:-1], weight.shape[1])


# ---------------------------------------------------------------------------------------------
# 3. Launch helpers: autotune configs, block sizes, grids
# ---------------------------------------------------------------------------------------------


def _matmul_config(block_m: int, block_n: int, block_k: int, warps: int, stages: int):
    meta = {"BLOCK_M": block_m, "BLOCK_N": block_n, "BLOCK_K": block_k, "GROUP_M": 8}
    return triton.Config(meta, num_warps=warps, num_stages=stages)


# A short list, so that autotuning a new shape bucket takes seconds. The first three are the
# large-tile shapes that keep Hopper's and Ampere's tensor cores busy on big M (128x256 for
# Hopper's larger register file, 128x128 for both); 64x128 and 64x64 fit mid-size problems
# with enough programs to fill the SMs; 32x64 serves small batches (M <= 64), where a tall
# tile would be mostly padding. BLOCK_K 64 with 3-4 stages fits fp16/bf16 in Ampere's
# shared memory; ``_prune_configs`` drops the fp32 configs that do not fit.
_FWD_CONFIGS = [
    _matmul_config(128, 256, 64, 8, 3),
    _matmul_config(128, 128, 64, 8, 3),
    _matmul_config(128, 64, 64, 4, 4),
    _matmul_config(64, 128, 64, 4, 4),
    _matmul_config(64, 64, 64, 4, 4),
    _matmul_config(32, 64, 64, 4, 4),
]


@functools.cache
def _shared_memory_limit(device: torch.device) -> int:
    """Bytes of shared memory one program may use on this GPU (0: unknown, or not a GPU)."""
    if device.type != "cuda":
        return 0
    properties = torch.cuda.get_device_properties(device)
    return getattr(properties, "shared_memory_per_block_optin", 0)


def _prune_configs(configs, named_args, **kwargs):
    """Skip configs before they are compiled: those whose pipelined x and w tiles exceed the
    GPU's shared memory (fp32 128x256 on Hopper), and those taller than the (bucketed) batch
    when a shorter one exists. Each skipped config saves seconds of compilation."""
    x = named_args["x_ptr"]
    limit = _shared_memory_limit(x.device)

    def fits(config):
        meta = config.kwargs
        tiles = (meta["BLOCK_M"] + meta["BLOCK_N"]) * meta["BLOCK_K"] * x.element_size()
        return not limit or tiles * config.num_stages <= limit

    fitting = [c for c in configs if fits(c)] or configs[-1:]
    short = [c for c in fitting if c.kwargs["BLOCK_M"] <= named_args["M_BUCKET"]]
    return short or fitting


_fused_linear_fwd_autotuned = triton.autotune(
    configs=_FWD_CONFIGS,
    key=["M_BUCKET", "N_BUCKET", "K_BUCKET"],
    prune_configs_by={"early_config_prune": _prune_configs},
)(_fused_linear_fwd_kernel)
# The interpreter runs each program with numpy; it cannot time configs, and 32-wide tiles
# keep small test shapes spanning several tiles, so masks and grouping are exercised.
_INTERPRETER_META = {"BLOCK_M": 32, "BLOCK_N": 32, "BLOCK_K": 32, "GROUP_M": 2}

_USE_TRITON_OP = hasattr(torch.library, "triton_op") and not _dispatch.interpreting()


def _launcher(kernel, traceable: bool):
    """The kernel wrapped by ``wrap_triton`` inside a ``triton_op`` (so torch.compile can see
    into it), else the raw kernel: eager launches skip the wrapper's dispatch cost."""
    return torch.library.wrap_triton(kernel) if traceable else kernel


def _bucket(size: int) -> int:
    """The autotune key for a dimension: the next power of two, at least 16."""
    return max(16, triton.next_power_of_2(size))


def _input_precision(dtype: torch.dtype) -> str:
    """The tl.dot precision matching torch's: IEEE fp32 only under precision "highest"."""
    if dtype == torch.float32 and torch.get_float32_matmul_precision() == "highest":
        return "ieee"
    return "tf32"


def _launch_fwd(x, weight, bias, y, z, activation: str, traceable: bool) -> None:
    M, K = x.shape
    N = weight.shape[1]
    args = (x, weight, bias if bias is not None else y, y, z if z.numel() else y, M, N, K)
    args += (x.stride(0), x.stride(1), weight.stride(0), weight.stride(1))
    args += (_bucket(M), _bucket(N), _bucket(K))
    flags = {
        "HAS_BIAS": bias is not None,
        "ACTIVATION": activation,
        "SAVE_PREACT": activation in _GRAD_FROM_PREACT,
        "INPUT_PRECISION": _input_precision(x.dtype),
    }
    if _dispatch.interpreting():
        meta = _INTERPRETER_META
        grid = (triton.cdiv(M, meta["BLOCK_M"]) * triton.cdiv(N, meta["BLOCK_N"]),)
        _fused_linear_fwd_kernel[grid](*args, **flags, **meta)
        return

    def grid(meta):
        return (triton.cdiv(M, meta["BLOCK_M"]) * triton.cdiv(N, meta["BLOCK_N"]),)

    _launcher(_fused_linear_fwd_autotuned, traceable)[grid](*args, **flags)


def _dz_blocks(N: int) -> tuple[int, int]:
    """Tiles of about 4096 elements, up to 128 wide along the contiguous N dimension."""
    if _dispatch.interpreting():
        return 32, 32
    block_n = min(128, max(16, triton.next_power_of_2(N)))
    return 4096 // block_n, block_n


def _launch_bwd_dz(dy, saved, activation: str, has_bias: bool, traceable: bool):
    """dz = dy * act'(saved) and, with a bias, db; returns (dz, db or None)."""
    M, N = dy.shape
    dz = torch.empty((M, N), dtype=dy.dtype, device=dy.device)
    block_m, block_n = _dz_blocks(N)
    grid = (triton.cdiv(M, block_m), triton.cdiv(N, block_n))
    db_partial = torch.empty(
        (grid[0], N) if has_bias else (0,), dtype=torch.float32, device=dy.device
    )
    _launcher(_fused_linear_bwd_dz_kernel, traceable)[grid](
        dy,
        saved,
        dz,
        db_partial if has_bias else dz,
        M,
        N,
        dy.stride(0),
        dy.stride(1),
        HAS_BIAS=has_bias,
        ACTIVATION=activation,
        BLOCK_M=block_m,
        BLOCK_N=block_n,
        num_warps=4,
    )
    db = db_partial.sum(0).to(dy.dtype) if has_bias else None
    return dz, db


# ---------------------------------------------------------------------------------------------
# 4. Forward and backward, registered as ops (torch.compile) and as an autograd.Function (eager)
# ---------------------------------------------------------------------------------------------
# The ops ``tritonlayers::fused_linear_fwd`` / ``fused_linear_bwd`` are what torch.compile
# traces: ``triton_op`` where torch has one (the compiler then sees into the kernels), else an
# opaque ``custom_op`` (older torch, and the interpreter, where ``wrap_triton`` cannot run).
# Calling an op through the dispatcher costs about 20 us of host time, which is more than a
# small layer's kernels take on a GPU, so eager calls go through ``_FusedLinearFunction``
# instead: the same forward, backward and saved tensors, without the dispatcher.


def _forward(x, weight, bias, activation: str, traceable: bool = False):
    """``(y, z)`` for 2-D x: y = act(x @ weight + bias); z is the pre-activation when the
    backward pass needs it (``_GRAD_FROM_PREACT``), else an empty tensor."""
    y, z = _forward_outputs(x, weight, bias, activation)
    if y.numel():
        _launch_fwd(x, weight, bias, y, z, activation, traceable)
    return y, z


def _forward_outputs(x, weight, bias=None, activation="linear"):
    """Empty ``(y, z)`` of the right shapes; also the forward op's fake function."""
    M, N = x.shape[0], weight.shape[1]
    y = x.new_empty((M, N))
    z = x.new_empty((M, N) if activation in _GRAD_FROM_PREACT else (0,))
    return y, z


def _backward(dy, saved, x, weight, activation, has_bias, needs_dx, needs_dw, traceable=False):
    """``(dx, dw, db)`` for 2-D x; a gradient that is not needed comes back empty.

    ``saved`` is y or z as ``_GRAD_FROM_OUTPUT`` / ``_GRAD_FROM_PREACT`` say (None for
    linear). Linear skips the elementwise kernel: dz is dy itself and db its column sum.
    """
    if activation == "linear" or dy.numel() == 0:
        dz = dy
        db = dy.sum(0) if has_bias else None
    else:
        dz, db = _launch_bwd_dz(dy, saved, activation, has_bias, traceable)
    dx = torch.mm(dz, weight.t()) if needs_dx else x.new_empty((0,))
    dw = torch.mm(x.t(), dz) if needs_dw else weight.new_empty((0,))
    return dx, dw, db if has_bias else dy.new_empty((0,))


def _backward_outputs(dy, saved, x, weight, activation, has_bias, needs_dx, needs_dw):
    """Empty ``(dx, dw, db)`` of the right shapes: the backward op's fake function."""
    dx = x.new_empty(x.shape if needs_dx else (0,))
    dw = weight.new_empty(weight.shape if needs_dw else (0,))
    return dx, dw, dy.new_empty((dy.shape[1],) if has_bias else (0,))


def _save_for_backward(ctx, inputs, output):
    x, weight, bias, activation = inputs
    y, z = output
    if activation in _GRAD_FROM_PREACT:
        saved = z
    elif activation in _GRAD_FROM_OUTPUT:
        saved = y
    else:
        saved = None
    ctx.save_for_backward(x, weight, saved, bias)
    ctx.activation = activation
    ctx.has_bias = bias is not None
    # z is an internal output: no gradient flows into it, and none is materialised for it.
    ctx.mark_non_differentiable(z)
    ctx.set_materialize_grads(False)


def _gradients(ctx, dy, backward):
    """The gradients of (x, weight, bias, activation) from ``backward`` (an op or function
    with ``_backward``'s signature)."""
    x, weight, saved = ctx.saved_tensors[:3]
    needs_dx, needs_dw, needs_db = ctx.needs_input_grad[:3]
    dx, dw, db = backward(dy, saved, x, weight, ctx.activation, ctx.has_bias, needs_dx, needs_dw)
    return (
        dx if needs_dx else None,
        dw if needs_dw else None,
        db if ctx.has_bias and needs_db else None,
        None,
    )


def _register(name: str, fn):
    op = torch.library.triton_op if _USE_TRITON_OP else torch.library.custom_op
    return op(f"tritonlayers::{name}", mutates_args=())(fn)


def _fused_linear_fwd(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, activation: str
) -> tuple[torch.Tensor, torch.Tensor]:
    return _forward(x, weight, bias, activation, traceable=_USE_TRITON_OP)


def _fused_linear_bwd(
    dy: torch.Tensor,
    saved: torch.Tensor | None,
    x: torch.Tensor,
    weight: torch.Tensor,
    activation: str,
    has_bias: bool,
    needs_dx: bool,
    needs_dw: bool,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    args = (dy, saved, x, weight, activation, has_bias, needs_dx, needs_dw)
    return _backward(*args, traceable=_USE_TRITON_OP)


_fwd_op = _register("fused_linear_fwd", _fused_linear_fwd)
_fwd_op.register_fake(_forward_outputs)
_bwd_op = _register("fused_linear_bwd", _fused_linear_bwd)
_bwd_op.register_fake(_backward_outputs)
_fwd_op.register_autograd(
    lambda ctx, dy, _dz: _gradients(ctx, dy, torch.ops.tritonlayers.fused_linear_bwd),
    setup_context=_save_for_backward,
)


def _differentiable_gradients(ctx, dy):
    """The gradients by torch's autograd through the reference math, recomputed from the
    saved inputs (which keep their own graph): for a backward pass that is differentiated
    again (``create_graph=True``, e.g. a gradient penalty). The kernels' gradients are
    correct values but carry no graph of their own, so second derivatives taken through
    them would silently miss the activation's curvature."""
    x, weight, _, bias = ctx.saved_tensors
    inputs = (x, weight) if bias is None else (x, weight, bias)
    wanted = [t for t, needed in zip(inputs, ctx.needs_input_grad, strict=False) if needed]
    y = _reference_fused_linear(x, weight, bias, ctx.activation)
    found = iter(torch.autograd.grad(y, wanted, dy, create_graph=True, allow_unused=True))
    grads = [next(found) if needed else None for needed in ctx.needs_input_grad[:3]]
    return (*grads[:2], grads[2] if bias is not None else None, None)


class _FusedLinearFunction(torch.autograd.Function):
    """The eager path: ``_forward`` and ``_backward`` with raw kernel launches; a backward
    pass that is itself differentiated goes through ``_differentiable_gradients``."""

    @staticmethod
    def forward(x, weight, bias, activation):
        return _forward(x, weight, bias, activation)

    setup_context = staticmethod(_save_for_backward)

    @staticmethod
    def backward(ctx, dy, _dz):
        if torch.is_grad_enabled():
            return _differentiable_gradients(ctx, dy)
        return _gradients(ctx, dy, _backward)


# ---------------------------------------------------------------------------------------------
# 5. Shape-aware dispatch and the public function
# ---------------------------------------------------------------------------------------------

# Where cuBLAS plus torch's elementwise activation beats the fused kernel (large,
# compute-bound shapes), mode "auto" may pick the torch path. That choice comes from
# measurements, never guesses: ``benchmarks/dispatch_table.json`` (or the file named by
# TRITONLAYERS_DISPATCH_TABLE) lists ``{"device", "dtype", "m", "n", "k"}`` entries whose
# shape bucket (each dimension rounded up to a power of two, as the autotuner keys it) ran
# faster through torch on that GPU. ``benchmarks/summarize.py`` proposes those entries from a
# GPU benchmark run. With no table, or no entry for a shape, CUDA tensors use Triton.
_DEFAULT_DISPATCH_TABLE = Path(__file__).resolve().parents[2] / "benchmarks" / "dispatch_table.json"


def _read_dispatch_table(path: Path) -> frozenset:
    if not path.is_file():
        return frozenset()
    try:
        entries = json.loads(path.read_text())["entries"]
        return frozenset(
            (e["device"], e["dtype"], int(e["m"]), int(e["n"]), int(e["k"])) for e in entries
        )
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(
            f"fused_linear: the dispatch table {path} is malformed ({error!r}); expected "
            '{"entries": [{"device": ..., "dtype": ..., "m": ..., "n": ..., "k": ...}, ...]}.'
        ) from error


_DISPATCH_TABLE = _read_dispatch_table(
    Path(os.environ.get("TRITONLAYERS_DISPATCH_TABLE", _DEFAULT_DISPATCH_TABLE))
)


@functools.cache
def _device_name(device: torch.device) -> str:
    return torch.cuda.get_device_name(device)


def _torch_is_faster(x2d: torch.Tensor, weight: torch.Tensor) -> bool:
    """Whether the measured dispatch table sends this CUDA shape to torch (cuBLAS)."""
    if not _DISPATCH_TABLE or _dispatch.kernel_mode() != "auto":
        return False
    key = (
        _device_name(x2d.device),
        str(x2d.dtype).removeprefix("torch."),
        _bucket(x2d.shape[0]),
        _bucket(weight.shape[1]),
        _bucket(weight.shape[0]),
    )
    return key in _DISPATCH_TABLE


def _checked_activation(activation) -> str:
    if activation is None:
        return "linear"
    if isinstance(activation, str) and activation in _TORCH_ACTIVATIONS:
        return activation
    raise ValueError(
        f"fused_linear: unknown activation {activation!r}; expected one of "
        f"{', '.join(map(repr, ACTIVATIONS))}."
    )


def _inputs_are_valid(x, weight, bias) -> bool:
    """The fast check every call makes; ``_raise_input_error`` explains a failure. Each
    attribute is read once (reads on a Variable cost more than on a plain tensor)."""
    if not (isinstance(x, torch.Tensor) and isinstance(weight, torch.Tensor)):
        return False
    dtype, device, shape = x.dtype, x.device, weight.shape
    if not (
        dtype.is_floating_point
        and weight.dtype == dtype
        and weight.device == device
        and len(shape) == 2
        and x.ndim >= 1
        and x.shape[-1] == shape[0]
    ):
        return False
    return bias is None or (
        isinstance(bias, torch.Tensor)
        and bias.dtype == dtype
        and bias.device == device
        and bias.shape == shape[1:]
    )


def _raise_input_error(x, weight, bias) -> None:
    """Raise the error that names the invalid input, checked in the order a reader would."""
    named = {"x": x, "weight": weight} if bias is None else {"x": x, "weight": weight, "bias": bias}
    for name, tensor in named.items():
        if not isinstance(tensor, torch.Tensor):
            raise TypeError(
                f"fused_linear: {name} must be a torch.Tensor; received {type(tensor)}."
            )
        if not tensor.is_floating_point():
            raise TypeError(
                f"fused_linear needs floating-point tensors; received {name} of dtype "
                f"{tensor.dtype}."
            )
    if len({t.dtype for t in named.values()}) > 1:
        found = ", ".join(f"{n} {t.dtype}" for n, t in named.items())
        raise TypeError(f"fused_linear needs one dtype for all inputs; received {found}.")
    if len({t.device for t in named.values()}) > 1:
        found = ", ".join(f"{n} on {t.device}" for n, t in named.items())
        raise ValueError(f"fused_linear needs all inputs on one device; received {found}.")
    if weight.ndim != 2 or x.ndim < 1 or x.shape[-1] != weight.shape[0]:
        raise ValueError(
            f"fused_linear expects x of shape (..., in) and weight of shape (in, out); received "
            f"x {tuple(x.shape)} and weight {tuple(weight.shape)}."
        )
    if bias is not None and tuple(bias.shape) != (weight.shape[1],):
        raise ValueError(
            f"fused_linear expects bias of shape (out,) = ({weight.shape[1]},) for weight "
            f"{tuple(weight.shape)}; received bias {tuple(bias.shape)}."
        )


def fused_linear(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    activation: str | None = None,
) -> torch.Tensor:
    """``act(x @ weight + bias)``, one fused kernel on GPUs; differentiable in all three.

    Args:
        x: input of shape ``(..., in)``; any strides.
        weight: kernel of shape ``(in, out)`` (Keras layout).
        bias: optional bias of shape ``(out,)``.
        activation: None or "linear", "relu", "leaky_relu" (slope 0.2), "gelu" (erf),
            "gelu_tanh", "silu", "sigmoid", "tanh" or "softplus".

    Returns:
        A tensor of shape ``(..., out)`` in the inputs' dtype. float16 and bfloat16 inputs
        accumulate in float32; float32 follows ``torch.get_float32_matmul_precision()``;
        float64 always runs through torch.

    Example:
    >>> import torch
    >>> from tritonlayers.kernels import fused_linear
    >>> x = torch.tensor([[1.0, -2.0]])
    >>> weight = torch.eye(2)
    >>> fused_linear(x, weight, torch.zeros(2), activation="relu")
    tensor([[1., 0.]])
    """
    activation = _checked_activation(activation)
    if not _inputs_are_valid(x, weight, bias):
        _raise_input_error(x, weight, bias)
    # The check above put all inputs on x's device, so x alone decides the dispatch. float64
    # takes torch's path (cuBLAS DGEMM): the kernel's accumulator and epilogue are float32.
    if x.dtype == torch.float64 or not _dispatch.use_triton(x):
        return _reference_fused_linear(x, weight, bias, activation)
    x2d = x if x.ndim == 2 else x.reshape(-1, x.shape[-1])
    if _torch_is_faster(x2d, weight):
        return _reference_fused_linear(x, weight, bias, activation)
    if torch.compiler.is_compiling():
        y, _ = torch.ops.tritonlayers.fused_linear_fwd(x2d, weight, bias, activation)
    else:
        y, _ = _FusedLinearFunction.apply(x2d, weight, bias, activation)
    return y if x.ndim == 2 else y.reshape(*x.shape[:-1], weight.shape[1])
