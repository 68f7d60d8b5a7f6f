"""Kernel benchmarks: each tritonlayers op against torch eager and torch.compile of the same
math, forward and forward+backward, at VAE-like shapes (see ``conftest.py`` for the timing).

"tritonlayers" is the op as users call it; on CUDA the kernel mode is forced to "triton" so
that the numbers are the Triton kernels' even where a measured dispatch table would send a
shape to torch, and on the CPU it is the torch fallback. "torch_compile" compiles the eager
function once per (op, pass, dtype) with ``dynamic=True``, so one compilation serves every
shape (the GPU run must fit in minutes; torch's default would compile twice: static for the
first shape, then dynamic). The matmuls are cuBLAS calls either way.

The three impls of one case run one after another (impl is the fastest-varying parameter),
so that drifts in machine load or clock speed hit them alike.

Run: ``pytest benchmarks/test_kernels.py --benchmark-only`` (add ``--benchmark-json=F``
and ``python benchmarks/summarize.py RESULTS.md F`` for the table).
"""

import functools
import math

import pytest
import torch
import torch.nn.functional as F

from tritonlayers.kernels import dropout, fused_linear, reparameterize_with_kl, set_kernel_mode

ON_CUDA = torch.cuda.is_available()
DEVICE = torch.device("cuda" if ON_CUDA else "cpu")
IMPLS = ("tritonlayers", "torch_eager", "torch_compile")
PASSES = ("fwd", "fwd+bwd")
# The GPU covers M in (64, 1024, 8192) x N in (64, 512, 784) with K = 784 in float32 (as
# TF32), and bfloat16 at the largest batch; the CPU runs the torch fallbacks on a reduced set,
# so that the suite stays within minutes.
VAE_LINEAR_SHAPES = [(m, 784, n) for m in (64, 1024, 8192) for n in (64, 512, 784)]
LINEAR_CASES = (
    [("float32", shape) for shape in VAE_LINEAR_SHAPES]
    + [("bfloat16", shape) for shape in VAE_LINEAR_SHAPES if shape[0] == 8192]
    if ON_CUDA
    else [("float32", (64, 784, 512)), ("float32", (1024, 784, 512))]
)
# Elementwise ops: VAE sizes, plus on the GPU one large size for the bandwidth target.
ELEMENTWISE_SHAPES = (
    [(64, 512), (1024, 512), (8192, 784), (65536, 1024)] if ON_CUDA else [(64, 512), (1024, 784)]
)
DROPOUT_RATE = 0.1


def _shape_id(shape) -> str:
    return "x".join(map(str, shape))


@pytest.fixture
def kernel_mode_for_impl(request):
    """Force Triton on CUDA for the "tritonlayers" impl; restore the mode afterwards."""
    from tritonlayers.kernels import kernel_mode

    previous = kernel_mode()
    if ON_CUDA and request.node.callspec.params["impl"] == "tritonlayers":
        set_kernel_mode("triton")
    yield
    set_kernel_mode(previous)


@functools.cache
def _compiled(fn, pass_: str, dtype: str):
    """One torch.compile of ``fn`` per (pass, dtype), shared by every shape."""
    return torch.compile(fn, dynamic=True)


def _step(fn, training: bool):
    """A benchmark step over ``(inputs, grads)``: the forward pass, or forward and backward
    with ``torch.autograd.grad`` into the inputs that require grad (nothing accumulates)."""

    def forward(inputs, grads):
        fn(*inputs)

    def forward_backward(inputs, grads):
        outputs = fn(*inputs)
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        torch.autograd.grad(outputs, [t for t in inputs if t.requires_grad], grads)

    return forward_backward if training else forward


def _impl(impl: str, ours, torch_math, pass_: str, dtype: str):
    if impl == "tritonlayers":
        return ours
    if impl == "torch_eager":
        return torch_math
    return _compiled(torch_math, pass_, dtype)


def _randn(*shape, dtype, requires_grad=False, scale=1.0):
    t = torch.randn(shape, device=DEVICE, dtype=torch.float32) * scale
    return t.to(getattr(torch, dtype)).requires_grad_(requires_grad)


# ---------------------------------------------------------------------------------------------
# fused_linear: relu(x @ W + b), the encoder/decoder layer of a VAE
# ---------------------------------------------------------------------------------------------


def _fused_linear_ours(x, w, b):
    return fused_linear(x, w, b, activation="relu")


def _fused_linear_torch(x, w, b):
    return F.relu(torch.addmm(b, x, w))


@pytest.mark.usefixtures("kernel_mode_for_impl", "float32_matmul_precision")
@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize(
    ("dtype", "shape"), LINEAR_CASES, ids=[f"{d}-{_shape_id(s)}" for d, s in LINEAR_CASES]
)
@pytest.mark.parametrize("pass_", PASSES)
def test_fused_linear(measure, input_sets, impl, pass_, dtype, shape):
    m, k, n = shape
    training = pass_ == "fwd+bwd"

    def make():
        x = _randn(m, k, dtype=dtype, requires_grad=training)
        w = _randn(k, n, dtype=dtype, requires_grad=training, scale=1 / math.sqrt(k))
        b = _randn(n, dtype=dtype, requires_grad=training)
        grads = (_randn(m, n, dtype=dtype),) if training else ()
        return (x, w, b), grads

    element = torch.finfo(getattr(torch, dtype)).bits // 8
    sets = input_sets(make, element * (m * k + k * n + 2 * m * n))
    fn = _impl(impl, _fused_linear_ours, _fused_linear_torch, pass_, dtype)
    info = {"op": "fused_linear", "pass": pass_, "impl": impl, "shape": _shape_id(shape)}
    info["dtype"] = dtype
    measure(_step(fn, training), sets, info, flops_per_step=(6 if training else 2) * m * n * k)


# ---------------------------------------------------------------------------------------------
# dropout
# ---------------------------------------------------------------------------------------------


def _dropout_ours(x, seed):
    return dropout(x, DROPOUT_RATE, seed)


def _dropout_torch(x, seed):
    return F.dropout(x, DROPOUT_RATE, training=True)


@pytest.mark.usefixtures("kernel_mode_for_impl")
@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("shape", ELEMENTWISE_SHAPES, ids=_shape_id)
@pytest.mark.parametrize("pass_", PASSES)
def test_dropout(measure, input_sets, impl, pass_, shape):
    training = pass_ == "fwd+bwd"
    numel = math.prod(shape)

    def make():
        x = _randn(*shape, dtype="float32", requires_grad=training)
        seed = torch.tensor(1234, dtype=torch.int64, device=DEVICE)
        return (x, seed), ((_randn(*shape, dtype="float32"),) if training else ())

    sets = input_sets(make, 4 * numel * (2 if training else 1))
    fn = _impl(impl, _dropout_ours, _dropout_torch, pass_, "float32")
    info = {"op": "dropout", "pass": pass_, "impl": impl, "shape": _shape_id(shape)}
    info["dtype"] = "float32"
    # Forward reads x and writes y; backward reads dy and writes dx. No mask is stored.
    measure(_step(fn, training), sets, info, bytes_per_step=4 * numel * (4 if training else 2))


# ---------------------------------------------------------------------------------------------
# reparameterize_with_kl: z = mean + exp(log_var / 2) * eps and the KL term, one pass
# ---------------------------------------------------------------------------------------------


def _reparameterize_ours(mean, log_var, seed):
    return reparameterize_with_kl(mean, log_var, seed)


def _reparameterize_torch(mean, log_var, seed):
    z = mean + torch.exp(0.5 * log_var) * torch.randn_like(mean)
    kl = -0.5 * torch.mean(1 + log_var - mean.square() - log_var.exp())
    return z, kl


@pytest.mark.usefixtures("kernel_mode_for_impl")
@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("shape", ELEMENTWISE_SHAPES, ids=_shape_id)
@pytest.mark.parametrize("pass_", PASSES)
def test_reparameterize_with_kl(measure, input_sets, impl, pass_, shape):
    training = pass_ == "fwd+bwd"
    numel = math.prod(shape)

    def make():
        mean = _randn(*shape, dtype="float32", requires_grad=training)
        log_var = _randn(*shape, dtype="float32", requires_grad=training, scale=0.5)
        seed = torch.tensor(1234, dtype=torch.int64, device=DEVICE)
        grads = (_randn(*shape, dtype="float32"), torch.ones((), device=DEVICE))
        return (mean, log_var, seed), (grads if training else ())

    sets = input_sets(make, 4 * numel * (3 if training else 2))
    fn = _impl(impl, _reparameterize_ours, _reparameterize_torch, pass_, "float32")
    info = {"op": "reparameterize_with_kl", "pass": pass_, "impl": impl}
    info.update(shape=_shape_id(shape), dtype="float32")
    # Forward reads mean, log_var and writes z (3 tensors); backward reads dz, mean, log_var
    # and writes dmean, dlog_var (5 tensors); eps is regenerated, never stored.
    measure(_step(fn, training), sets, info, bytes_per_step=4 * numel * (8 if training else 3))


# ---------------------------------------------------------------------------------------------
# Device copy bandwidth: the ceiling the elementwise ops are measured against
# ---------------------------------------------------------------------------------------------


def test_device_memcpy_bandwidth(measure):
    numel = (2**30 if ON_CUDA else 2**26) // 4
    src = torch.randn(numel, device=DEVICE)
    dst = torch.empty_like(src)
    info = {"op": "memcpy", "pass": "copy", "impl": "torch_eager", "shape": str(numel)}
    info["dtype"] = "float32"
    measure(lambda s, d: d.copy_(s), [(src, dst)], info, bytes_per_step=2 * 4 * numel)
