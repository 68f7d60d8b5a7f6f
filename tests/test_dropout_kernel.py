"""Seeded dropout: the interpreted Triton kernel against the torch fallback (bit for bit),
the documented counter layout, keep statistics, mask independence, the regenerated
backward mask, edge rates, errors, gradcheck and a bounded shape fuzz."""

import importlib
import os
import pathlib
import subprocess
import sys

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tritonlayers.kernels import _philox, dropout, set_kernel_mode

dropout_module = importlib.import_module("tritonlayers.kernels.dropout")


def _both_paths(x, rate, seed, offset=0):
    """(interpreted Triton output, torch fallback output) for one call."""
    set_kernel_mode("triton")
    kernel = dropout(x, rate, seed, offset)
    set_kernel_mode("torch")
    return kernel, dropout(x, rate, seed, offset)


def _keep_mask(rate, seed, shape, offset=0):
    """The keep mask drawn for ``shape`` (torch path; the kernel's equals it bit for bit)."""
    set_kernel_mode("torch")
    return dropout(torch.ones(shape), rate, seed, offset) != 0


@pytest.mark.interpret
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.float64])
@pytest.mark.parametrize("seed", [3, -5, 2**40 + 7, "tensor"])
def test_interpreted_kernel_equals_torch_fallback_bit_for_bit(dtype, seed):
    seed = torch.tensor(2**62 + 11) if seed == "tensor" else seed
    x = torch.randn(37, 53, dtype=dtype)
    kernel, fallback = _both_paths(x, 0.3, seed, offset=2**32 - 100)
    assert kernel.dtype == dtype
    assert torch.equal(kernel, fallback)


@pytest.mark.interpret
def test_interpreted_bfloat16_has_the_fallback_mask_and_values_to_one_ulp():
    # The interpreter truncates float32 -> bfloat16 where GPUs round to nearest, so the
    # values agree to one bfloat16 ulp here and bit for bit in the GPU test below.
    x = torch.randn(41, 29, dtype=torch.bfloat16)
    kernel, fallback = _both_paths(x, 0.4, 12)
    assert torch.equal(kernel == 0, fallback == 0)
    torch.testing.assert_close(kernel, fallback, rtol=2**-7, atol=0)


@pytest.mark.interpret
def test_mask_follows_the_documented_counter_layout():
    # Element i is kept when word i % 4 of randint4x(seed, offset + i // 4) >= rate * 2**32.
    n, rate, seed, offset = 4 * 700 + 3, 0.35, 99, 2**33 + 5
    set_kernel_mode("triton")
    out = dropout(torch.ones(n), rate, seed, offset)
    words = _philox.randint4x(seed, offset + torch.arange((n + 3) // 4))
    expected = torch.stack(words, dim=1).reshape(-1)[:n] >= round(rate * 2**32)
    assert torch.equal(out != 0, expected)


@pytest.mark.interpret
def test_tiles_of_one_call_do_not_repeat_masks():
    # 3 programs of 4096 elements (the kernel's block) over a (48, 256) tensor.
    set_kernel_mode("triton")
    keep = (dropout(torch.ones(48, 256), 0.5, 21) != 0).reshape(3, 4096).double()
    for a, b in [(0, 1), (0, 2), (1, 2)]:
        assert not torch.equal(keep[a], keep[b])
        correlation = torch.corrcoef(torch.stack([keep[a], keep[b]]))[0, 1].item()
        assert abs(correlation) < 4 / 4096**0.5


def test_rows_of_one_call_are_uncorrelated():
    keep = _keep_mask(0.5, 5, (64, 1024)).double()
    correlation = torch.corrcoef(keep)
    off_diagonal = correlation[~torch.eye(64, dtype=torch.bool)]
    # 4 sigma for one pair, widened for the 2016 pairs looked at (Bonferroni: ~5.5 sigma).
    assert off_diagonal.abs().max().item() < 5.5 / 1024**0.5


def test_different_seeds_give_uncorrelated_masks():
    n = 200_000
    a, b = _keep_mask(0.5, 1, (n,)).double(), _keep_mask(0.5, 2, (n,)).double()
    assert abs(torch.corrcoef(torch.stack([a, b]))[0, 1].item()) < 4 / n**0.5


def test_disjoint_counter_ranges_give_uncorrelated_masks():
    n = 200_000
    a = _keep_mask(0.5, 1, (n,)).double()
    b = _keep_mask(0.5, 1, (n,), offset=n).double()
    assert abs(torch.corrcoef(torch.stack([a, b]))[0, 1].item()) < 4 / n**0.5


def test_same_seed_and_offset_reproduce_the_mask():
    assert torch.equal(_keep_mask(0.3, 8, (500,)), _keep_mask(0.3, 8, (500,)))


def test_tensor_seed_draws_the_mask_of_its_int_value():
    assert torch.equal(_keep_mask(0.3, torch.tensor(2**40), (999,)), _keep_mask(0.3, 2**40, (999,)))


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.9])
def test_keep_fraction_is_within_four_sigma_of_one_minus_rate(rate):
    n = 200_000
    fraction = _keep_mask(rate, 17, (n,)).double().mean().item()
    assert abs(fraction - (1 - rate)) < 4 * (rate * (1 - rate) / n) ** 0.5


def test_kept_values_are_scaled_by_one_over_keep_probability():
    x = torch.rand(10_000) + 0.5
    set_kernel_mode("torch")
    y = dropout(x, 0.2, 4)
    kept = y != 0
    torch.testing.assert_close(y[kept], x[kept] / 0.8, rtol=1e-6, atol=0)


@pytest.mark.interpret
def test_backward_regenerates_the_forward_mask():
    x = (torch.rand(33, 65) + 0.5).requires_grad_()
    set_kernel_mode("triton")
    y = dropout(x, 0.3, torch.tensor(77), offset=12)
    y.backward(torch.full_like(y, 2.0))
    assert torch.equal(x.grad != 0, y != 0)
    torch.testing.assert_close(x.grad[y != 0], torch.full_like(x.grad[y != 0], 2.0 / 0.7))


def test_backward_saves_no_mask():
    x = torch.randn(256, requires_grad=True)
    saved = []
    with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(t) or t, lambda t: t):
        dropout(x, 0.5, torch.tensor(3)).sum().backward()
    assert all(t.numel() == 1 and t.dtype == torch.int64 for t in saved)


def test_rate_zero_is_the_identity():
    x = torch.randn(7, 9)
    assert dropout(x, 0.0, 1) is x


@pytest.mark.parametrize("mode", ["torch", pytest.param("triton", marks=pytest.mark.interpret)])
def test_rate_one_gives_zeros_and_zero_gradient(mode):
    set_kernel_mode(mode)
    x = torch.randn(5, 11, requires_grad=True)
    y = dropout(x, 1.0, 3)
    y.sum().backward()
    assert torch.equal(y, torch.zeros_like(y))
    assert torch.equal(x.grad, torch.zeros_like(x))


@pytest.mark.interpret
def test_empty_input_gives_empty_output():
    set_kernel_mode("triton")
    y = dropout(torch.empty(0, 4), 0.5, 1)
    assert y.shape == (0, 4)


@pytest.mark.interpret
def test_non_contiguous_input_uses_its_logical_element_order():
    x = torch.randn(30, 17)
    kernel, fallback = _both_paths(x.t(), 0.5, 6)
    assert torch.equal(kernel, fallback)
    assert torch.equal(kernel, dropout(x.t().contiguous(), 0.5, 6))


@pytest.mark.parametrize("rate", [-0.1, 1.5, float("nan")])
def test_rate_outside_unit_interval_is_rejected(rate):
    with pytest.raises(ValueError, match="rate between 0 and 1"):
        dropout(torch.ones(3), rate, 0)


def test_integer_input_is_rejected():
    with pytest.raises(TypeError, match="floating-point tensor.*int64"):
        dropout(torch.ones(3, dtype=torch.int64), 0.5, 0)


def test_float_or_multi_element_seed_is_rejected():
    with pytest.raises(ValueError, match="integer tensor with one element"):
        dropout(torch.ones(3), 0.5, torch.tensor(1.5))
    with pytest.raises(ValueError, match="integer tensor with one element"):
        dropout(torch.ones(3), 0.5, torch.tensor([1, 2]))


def test_gradcheck_float64_torch_path():
    set_kernel_mode("torch")
    x = torch.randn(6, 7, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: dropout(t, 0.4, 9, 3), (x,))


@pytest.mark.parametrize("mode", ["torch", pytest.param("triton", marks=pytest.mark.interpret)])
def test_second_derivatives_pass_gradgradcheck(mode):
    set_kernel_mode(mode)
    x = torch.randn(6, 7, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradgradcheck(lambda t: dropout(t, 0.4, 9, 3) * t, (x,))


@pytest.mark.parametrize("mode", ["torch", pytest.param("triton", marks=pytest.mark.interpret)])
def test_torch_func_grad_matches_autograd(mode):
    set_kernel_mode(mode)
    x = torch.randn(4, 8)

    def f(t):
        return (dropout(t, 0.5, 3) * t).sum()

    leaf = x.clone().requires_grad_()
    f(leaf).backward()
    torch.testing.assert_close(torch.func.grad(f)(x), leaf.grad)


@pytest.mark.parametrize("mode", ["torch", pytest.param("triton", marks=pytest.mark.interpret)])
def test_eager_calls_skip_the_op_dispatcher(mode):
    set_kernel_mode(mode)
    y = dropout(torch.ones(4, 8, requires_grad=True), 0.5, 2)
    assert type(y.grad_fn).__name__ == "_DropoutFunctionBackward"


@pytest.mark.parametrize(
    "op",
    [
        dropout_module._dropout_reference_op,
        pytest.param(dropout_module._dropout_kernel_op, marks=pytest.mark.interpret),
    ],
)
@pytest.mark.parametrize("seed", [torch.tensor(3), None])
def test_registered_op_passes_opcheck(op, seed):
    x = torch.randn(5, 7, requires_grad=True)
    torch.library.opcheck(op, (x, seed, 5, 2**32 - 2, 2**31, 2.0))


@pytest.mark.interpret
@settings(max_examples=12, deadline=None)
@given(
    shape=st.lists(st.integers(0, 40), min_size=1, max_size=3),
    rate=st.floats(0.0, 1.0),
    seed=st.integers(-(2**63), 2**64 - 1),
    offset=st.integers(0, 2**40),
)
def test_fuzzed_shapes_match_the_fallback(shape, rate, seed, offset):
    x = torch.randn(shape)
    kernel, fallback = _both_paths(x, rate, seed, offset)
    assert torch.equal(kernel, fallback)


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_cuda_kernel_mask_and_values_equal_the_cpu_twin(dtype):
    x = torch.randn(1031, 257, dtype=dtype)
    seed = torch.tensor(2**40 + 3)
    set_kernel_mode("triton")
    y = dropout(x.cuda(), 0.3, seed.cuda(), offset=2**32 - 7)
    set_kernel_mode("torch")
    assert torch.equal(y.cpu(), dropout(x, 0.3, seed, offset=2**32 - 7))


@pytest.mark.gpu
def test_cuda_backward_mask_equals_forward_mask():
    x = torch.randn(4099, device="cuda", requires_grad=True)
    set_kernel_mode("triton")
    y = dropout(x, 0.5, torch.tensor(5, device="cuda"))
    y.backward(torch.ones_like(y))
    assert torch.equal(x.grad != 0, y != 0)


@pytest.mark.gpu
def test_cuda_kernel_indexes_past_two_to_the_31_elements():
    n = 2**31 + 4096 + 5
    x = torch.ones(n, dtype=torch.float16, device="cuda")
    set_kernel_mode("triton")
    y = dropout(x, 0.5, 13)
    tail = torch.arange(n - 8192, n)
    words = torch.stack(_philox.randint4x(13, tail // 4), dim=1)
    expected = words[torch.arange(tail.numel()), tail % 4] >= 2**31
    assert torch.equal(y[-8192:].cpu() != 0, expected)
    del x, y
    torch.cuda.empty_cache()


@pytest.mark.gpu
def test_compiled_cuda_dropout_matches_eager_with_no_graph_break():
    x = torch.randn(300, 70, device="cuda", requires_grad=True)
    seed = torch.tensor(4, device="cuda")
    set_kernel_mode("triton")

    def step(t, s):
        return dropout(t * 2.0, 0.3, s).sum(dim=1)

    compiled = torch.compile(step, fullgraph=True)
    eager_out = step(x, seed)
    (eager_grad,) = torch.autograd.grad(eager_out.sum(), x)
    compiled_out = compiled(x, seed)
    (compiled_grad,) = torch.autograd.grad(compiled_out.sum(), x)
    torch.testing.assert_close(compiled_out, eager_out)
    assert torch.equal(compiled_grad, eager_grad)


@pytest.mark.gpu
def test_cuda_seed_with_cpu_input_draws_the_mask_of_its_value():
    x = torch.ones(4096)
    set_kernel_mode("torch")
    from_cuda_seed = dropout(x, 0.5, torch.tensor(2**40 + 5, device="cuda"))
    assert torch.equal(from_cuda_seed, dropout(x, 0.5, 2**40 + 5))


def test_ops_register_and_compile_outside_the_interpreter():
    # Without TRITON_INTERPRET the kernel ops are triton_ops (the GPU configuration); on CPU
    # tensors torch.compile must still trace the reference ops with no graph break.
    script = """
import torch
from tritonlayers.kernels import dropout, reparameterize_with_kl

def step(x, seed):
    z, kl = reparameterize_with_kl(x, x * 0.1, seed)
    return dropout(z, 0.5, seed, offset=64).sum() + kl

x, seed = torch.randn(4, 8), torch.tensor(5)
torch.testing.assert_close(torch.compile(step, fullgraph=True)(x, seed), step(x, seed))
"""
    env = {**os.environ, "TRITON_INTERPRET": "0", "TRITONLAYERS_KERNELS": "auto"}
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        cwd=pathlib.Path(__file__).parents[1],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
