"""Reparameterization sampling: eps against the Philox twin, distribution checks (moments,
Kolmogorov-Smirnov), gradients and KL against float64 references, interpreted Triton
against the torch fallback, errors, gradcheck and a bounded shape fuzz."""

import importlib
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tritonlayers.kernels import (
    _philox,
    reparameterize,
    reparameterize_with_kl,
    set_kernel_mode,
)

sampling_module = importlib.import_module("tritonlayers.kernels.sampling")


def _twin_eps(seed, offset, n):
    """eps by the documented layout: element i is normal i % 4 of randn4x(offset + i // 4)."""
    normals = _philox.normal4x(seed, offset + torch.arange((n + 3) // 4))
    return torch.stack(normals, dim=1).reshape(-1)[:n]


def _ks_statistic(samples: torch.Tensor) -> float:
    """Kolmogorov-Smirnov distance between the samples and the N(0, 1) CDF."""
    x, _ = torch.sort(samples.double())
    n = x.numel()
    cdf = torch.special.ndtr(x)
    above = torch.arange(1, n + 1, dtype=torch.float64) / n - cdf
    below = cdf - torch.arange(0, n, dtype=torch.float64) / n
    return max(above.max().item(), below.max().item())


def _ks_critical(n: int, alpha: float = 0.001) -> float:
    return math.sqrt(-0.5 * math.log(alpha / 2)) / math.sqrt(n)


def _reference(mean, log_var, seed, offset):
    """(z, kl) in float64 with eps from the twin, differentiable in mean and log_var."""
    eps = _twin_eps(seed, offset, mean.numel()).double().reshape(mean.shape)
    m, lv = mean.double(), log_var.double()
    z = m + torch.exp(0.5 * lv) * eps
    kl = -0.5 * torch.mean(1 + lv - m**2 - torch.exp(lv))
    return z, kl


def _inputs(shape, dtype=torch.float32):
    mean = torch.randn(shape, dtype=dtype, requires_grad=True)
    log_var = (0.5 * torch.randn(shape, dtype=dtype)).requires_grad_()
    return mean, log_var


def _run(mode, fn, mean, log_var, seed, offset=0):
    """Outputs and input gradients of ``fn`` in kernel mode ``mode`` for a fixed loss."""
    set_kernel_mode(mode)
    mean.grad = log_var.grad = None
    out = fn(mean, log_var, seed, offset)
    z, kl = out if isinstance(out, tuple) else (out, None)
    weights = torch.linspace(-1, 1, z.numel(), device=z.device).reshape(z.shape)
    loss = (z.float() * weights).sum() + (3.0 * kl.float() if kl is not None else 0.0)
    loss.backward()
    return z.detach(), None if kl is None else kl.detach(), mean.grad, log_var.grad


@pytest.mark.interpret
@pytest.mark.parametrize("seed", [0, 2**40 + 9, "tensor"])
def test_interpreted_eps_matches_the_twin_to_float_rounding(seed):
    seed = torch.tensor(-(2**50)) if seed == "tensor" else seed
    n, offset = 4 * 300 + 2, 2**32 - 17
    set_kernel_mode("triton")
    z = reparameterize(torch.zeros(n), torch.zeros(n), seed, offset)
    torch.testing.assert_close(z, _twin_eps(seed, offset, n), rtol=1e-6, atol=1e-6)


@pytest.mark.interpret
@pytest.mark.parametrize("fn", [reparameterize, reparameterize_with_kl])
@pytest.mark.parametrize(
    ("dtype", "tol"), [(torch.float32, 1e-5), (torch.float16, 2e-3), (torch.float64, 1e-5)]
)
def test_interpreted_outputs_and_gradients_match_the_fallback(fn, dtype, tol):
    mean, log_var = _inputs((23, 45), dtype)
    kernel = _run("triton", fn, mean, log_var, torch.tensor(31), offset=5)
    fallback = _run("torch", fn, mean, log_var, torch.tensor(31), offset=5)
    for got, expected in zip(kernel, fallback):
        if expected is not None:
            assert got.dtype == dtype
            torch.testing.assert_close(got, expected, rtol=tol, atol=tol)


def test_eps_moments_match_a_standard_normal():
    n = 200_000
    z = reparameterize(torch.zeros(n), torch.zeros(n), seed=123).double()
    assert abs(z.mean().item()) < 4 / n**0.5
    assert abs(z.var().item() - 1) < 4 * (2 / n) ** 0.5


def test_eps_passes_kolmogorov_smirnov_against_a_standard_normal():
    n = 200_000
    z = reparameterize(torch.zeros(n), torch.zeros(n), seed=7)
    assert _ks_statistic(z) < _ks_critical(n)


@pytest.mark.interpret
def test_interpreted_eps_passes_kolmogorov_smirnov():
    n = 16_384
    set_kernel_mode("triton")
    z = reparameterize(torch.zeros(n), torch.zeros(n), seed=torch.tensor(11))
    assert _ks_statistic(z) < _ks_critical(n)


def test_samples_have_the_requested_mean_and_standard_deviation():
    n = 200_000
    z = reparameterize(torch.full((n,), 3.0), torch.full((n,), math.log(4.0)), seed=5).double()
    assert abs(z.mean().item() - 3.0) < 4 * 2 / n**0.5
    assert abs(z.std().item() - 2.0) < 4 * 2 * (1 / (2 * n)) ** 0.5


def test_neighbouring_elements_draw_uncorrelated_eps():
    n = 100_000
    z = reparameterize(torch.zeros(4 * n), torch.zeros(4 * n), seed=2).double().reshape(n, 4)
    correlation = torch.corrcoef(z.t()) - torch.eye(4, dtype=torch.float64)
    assert correlation.abs().max().item() < 4 / n**0.5


def test_different_seeds_draw_uncorrelated_eps():
    n = 100_000
    a = reparameterize(torch.zeros(n), torch.zeros(n), seed=1).double()
    b = reparameterize(torch.zeros(n), torch.zeros(n), seed=torch.tensor(2)).double()
    assert abs(torch.corrcoef(torch.stack([a, b]))[0, 1].item()) < 4 / n**0.5


@pytest.mark.parametrize("mode", ["torch", pytest.param("triton", marks=pytest.mark.interpret)])
def test_gradients_and_kl_match_the_float64_reference(mode):
    mean, log_var = _inputs((17, 31))
    z, kl, grad_mean, grad_log_var = _run(mode, reparameterize_with_kl, mean, log_var, 4, 9)
    m64 = mean.detach().double().requires_grad_()
    lv64 = log_var.detach().double().requires_grad_()
    z_ref, kl_ref = _reference(m64, lv64, 4, 9)
    weights = torch.linspace(-1, 1, z.numel(), dtype=torch.float64).reshape(z.shape)
    ((z_ref * weights).sum() + 3.0 * kl_ref).backward()
    torch.testing.assert_close(z.double(), z_ref.detach(), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(kl.double(), kl_ref.detach(), rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(grad_mean.double(), m64.grad, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(grad_log_var.double(), lv64.grad, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode", ["torch", pytest.param("triton", marks=pytest.mark.interpret)])
def test_kl_alone_backpropagates_its_closed_form_gradient(mode):
    set_kernel_mode(mode)
    mean, log_var = _inputs((3, 4))
    _, kl = reparameterize_with_kl(mean, log_var, 1)
    kl.backward()
    torch.testing.assert_close(mean.grad, mean.detach() / 12)
    torch.testing.assert_close(log_var.grad, -0.5 * (1 - log_var.detach().exp()) / 12)


def test_with_kl_draws_the_same_z_as_reparameterize():
    mean, log_var = _inputs((8, 9))
    z, _ = reparameterize_with_kl(mean, log_var, 3, 100)
    assert torch.equal(z, reparameterize(mean, log_var, 3, 100))


@pytest.mark.interpret
def test_interpreted_kl_is_deterministic():
    mean, log_var = _inputs((70, 130))
    set_kernel_mode("triton")
    first = reparameterize_with_kl(mean, log_var, 1)[1]
    assert torch.equal(first, reparameterize_with_kl(mean, log_var, 1)[1])


def test_backward_saves_only_the_inputs():
    mean, log_var = _inputs((5, 6))
    seed = torch.tensor(8)
    saved = []
    with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(t) or t, lambda t: t):
        z, kl = reparameterize_with_kl(mean, log_var, seed)
    pointers = {mean.data_ptr(), log_var.data_ptr(), seed.data_ptr()}
    assert {t.data_ptr() for t in saved} <= pointers


@pytest.mark.parametrize("mode", ["torch", pytest.param("triton", marks=pytest.mark.interpret)])
def test_empty_inputs_give_empty_z_and_nan_kl(mode):
    set_kernel_mode(mode)
    z, kl = reparameterize_with_kl(torch.empty(0, 3), torch.empty(0, 3), 1)
    assert z.shape == (0, 3)
    assert math.isnan(kl.item())


@pytest.mark.interpret
def test_non_contiguous_inputs_use_their_logical_element_order():
    mean, log_var = torch.randn(20, 13), torch.randn(20, 13)
    set_kernel_mode("triton")
    z = reparameterize(mean.t(), log_var.t(), 6)
    expected = reparameterize(mean.t().contiguous(), log_var.t().contiguous(), 6)
    assert torch.equal(z, expected)


@pytest.mark.parametrize("mode", ["torch", pytest.param("triton", marks=pytest.mark.interpret)])
@pytest.mark.parametrize("fn", [reparameterize, reparameterize_with_kl])
def test_first_and_second_derivatives_pass_gradcheck_in_float64(mode, fn):
    # Second derivatives: a gradient penalty through a Sampling layer differentiates its
    # backward pass; the registered backward ops have no autograd of their own and raised.
    set_kernel_mode(mode)
    mean, log_var = _inputs((4, 5), torch.float64)
    assert torch.autograd.gradcheck(lambda m, lv: fn(m, lv, 3, 1), (mean, log_var))
    assert torch.autograd.gradgradcheck(lambda m, lv: fn(m, lv, 3, 1), (mean, log_var))


@pytest.mark.parametrize("mode", ["torch", pytest.param("triton", marks=pytest.mark.interpret)])
def test_torch_func_grad_matches_autograd(mode):
    # Under torch.func the Philox draw sees storage-less wrapper tensors: the numpy path
    # must step aside for the torch one.
    set_kernel_mode(mode)
    x = torch.randn(4, 8)

    def f(t):
        z, kl = reparameterize_with_kl(t, 0.5 * t, 3)
        return z.square().sum() + kl

    leaf = x.clone().requires_grad_()
    f(leaf).backward()
    torch.testing.assert_close(torch.func.grad(f)(x), leaf.grad)


@pytest.mark.parametrize("mode", ["torch", pytest.param("triton", marks=pytest.mark.interpret)])
def test_eager_calls_skip_the_op_dispatcher(mode):
    set_kernel_mode(mode)
    mean, log_var = _inputs((3, 4))
    z, kl = reparameterize_with_kl(mean, log_var, 1)
    assert type(z.grad_fn).__name__ == "_ReparameterizeFunctionBackward"
    assert type(reparameterize(mean, log_var, 1).grad_fn).__name__ == (
        "_ReparameterizeFunctionBackward"
    )


def test_mismatched_shapes_are_rejected():
    with pytest.raises(ValueError, match=r"same shape; received \(2, 3\) and \(3, 2\)"):
        reparameterize(torch.zeros(2, 3), torch.zeros(3, 2), 0)


def test_integer_inputs_are_rejected():
    with pytest.raises(TypeError, match="`log_var` to be a floating-point tensor"):
        reparameterize_with_kl(torch.zeros(3), torch.zeros(3, dtype=torch.int32), 0)


def test_mismatched_dtypes_are_rejected():
    with pytest.raises(TypeError, match="same dtype"):
        reparameterize(torch.zeros(3), torch.zeros(3, dtype=torch.float64), 0)


def test_inputs_on_different_devices_are_rejected():
    with pytest.raises(ValueError, match="same device"):
        reparameterize(torch.zeros(3), torch.zeros(3, device="meta"), 0)


def _pairs_with_args():
    """(op, example args) for every registered op, reference and interpreted kernel."""
    mean = torch.randn(5, 7, requires_grad=True)
    log_var = torch.randn(5, 7, requires_grad=True)
    seed = torch.tensor(3)
    grad_z, grad_kl = torch.randn(5, 7), torch.tensor(0.5)
    forward = (mean, log_var, seed, 0, 2**32 - 1)
    backward = (mean.detach(), log_var.detach(), None, -7, 4)
    cases = [
        (sampling_module._REPARAMETERIZE_OPS, forward),
        (sampling_module._WITH_KL_OPS, forward),
        (sampling_module._LOG_VAR_GRAD_OPS, (grad_z, *backward)),
        (sampling_module._WITH_KL_GRADS_OPS, (grad_z, grad_kl, *backward)),
    ]
    for (kernel_op, reference_op), args in cases:
        yield pytest.param(reference_op, args, id=f"{reference_op._name}")
        yield pytest.param(kernel_op, args, id=f"{kernel_op._name}", marks=pytest.mark.interpret)


@pytest.mark.parametrize(("op", "args"), list(_pairs_with_args()))
def test_registered_op_passes_opcheck(op, args):
    torch.library.opcheck(op, args)


@pytest.mark.interpret
@settings(max_examples=10, deadline=None)
@given(
    shape=st.lists(st.integers(0, 30), min_size=1, max_size=3),
    seed=st.integers(-(2**63), 2**64 - 1),
    offset=st.integers(0, 2**40),
)
def test_fuzzed_shapes_match_the_fallback(shape, seed, offset):
    mean, log_var = torch.randn(shape), 0.5 * torch.randn(shape)
    set_kernel_mode("triton")
    z, kl = reparameterize_with_kl(mean, log_var, seed, offset)
    set_kernel_mode("torch")
    z_ref, kl_ref = reparameterize_with_kl(mean, log_var, seed, offset)
    torch.testing.assert_close(z, z_ref, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(kl, kl_ref, rtol=1e-5, atol=1e-6, equal_nan=True)


@pytest.mark.gpu
@pytest.mark.parametrize(
    ("dtype", "tol"), [(torch.float32, 2e-5), (torch.float16, 2e-3), (torch.bfloat16, 2e-2)]
)
def test_cuda_outputs_and_gradients_match_the_cpu_twin(dtype, tol):
    # eps goes through log/cos/sin, whose last bits differ between CUDA and the CPU.
    mean, log_var = _inputs((513, 259), dtype)
    seed = torch.tensor(2**40 + 1)
    set_kernel_mode("torch")
    expected = _run("torch", reparameterize_with_kl, mean, log_var, seed, 2**32 - 3)
    cuda_mean = mean.detach().cuda().requires_grad_()
    cuda_log_var = log_var.detach().cuda().requires_grad_()
    got = _run("triton", reparameterize_with_kl, cuda_mean, cuda_log_var, seed.cuda(), 2**32 - 3)
    for g, e in zip(got, expected):
        torch.testing.assert_close(g.cpu(), e, rtol=tol, atol=tol)


@pytest.mark.gpu
def test_compiled_cuda_sampling_matches_eager_with_no_graph_break():
    mean = torch.randn(256, 33, device="cuda", requires_grad=True)
    log_var = torch.randn(256, 33, device="cuda", requires_grad=True)
    seed = torch.tensor(9, device="cuda")
    set_kernel_mode("triton")

    def step(m, lv, s):
        z, kl = reparameterize_with_kl(m * 1.5, lv, s)
        return (z**2).sum() + kl + reparameterize(m, lv, s, offset=10**6).sum()

    compiled = torch.compile(step, fullgraph=True)
    eager_grads = torch.autograd.grad(step(mean, log_var, seed), (mean, log_var))
    compiled_grads = torch.autograd.grad(compiled(mean, log_var, seed), (mean, log_var))
    for got, expected in zip(compiled_grads, eager_grads):
        torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
