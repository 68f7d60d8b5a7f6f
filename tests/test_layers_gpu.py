"""On a CUDA GPU, Dense, Dropout and Sampling running the Triton kernels (kernel mode
"triton") equal the same layers in kernel mode "torch", in float32 and under the
mixed_bfloat16 policy.
"""

import pytest
import torch

import tritonlayers as keras
from tritonlayers import layers

pytestmark = pytest.mark.gpu

POLICIES = {"float32": {"rtol": 1e-4, "atol": 1e-4}, "mixed_bfloat16": {"rtol": 2e-2, "atol": 2e-2}}


def _both_modes(fn):
    """fn() with the Triton kernels, then with the torch references."""
    keras.config.set_kernel_mode("triton")
    triton_result = fn()
    keras.config.set_kernel_mode("torch")
    torch_result = fn()
    return triton_result, torch_result


@pytest.mark.parametrize("policy", list(POLICIES))
@pytest.mark.parametrize("activation", [None, "relu", "gelu", "sigmoid"])
def test_dense_triton_equals_torch_mode_forward_and_backward(policy, activation):
    layer = layers.Dense(96, activation=activation, dtype=policy)
    x = torch.randn(130, 3, 72, device="cuda", requires_grad=True)

    def run():
        out = layer(x)
        grads = torch.autograd.grad(out.float().square().mean(), [x, layer.kernel, layer.bias])
        return out, *grads

    for got, expected in zip(*_both_modes(run)):
        torch.testing.assert_close(got.float(), expected.float(), **POLICIES[policy])


@pytest.mark.parametrize("policy", list(POLICIES))
def test_dropout_triton_mask_equals_torch_mode_mask(policy):
    x = torch.randn(257, 129, device="cuda")

    def run():
        return layers.Dropout(0.3, seed=11, dtype=policy)(x, training=True)

    triton_out, torch_out = _both_modes(run)
    assert triton_out.dtype == torch_out.dtype
    assert torch.equal(triton_out == 0, torch_out == 0)
    torch.testing.assert_close(triton_out, torch_out, **POLICIES[policy])


@pytest.mark.parametrize("policy", list(POLICIES))
def test_sampling_with_kl_triton_equals_torch_mode(policy):
    mean = torch.randn(300, 32, device="cuda", requires_grad=True)
    log_var = torch.randn(300, 32, device="cuda", requires_grad=True)

    def run():
        layer = layers.Sampling(kl_weight=0.5, seed=3, dtype=policy)
        z = layer([mean, log_var])
        loss = z.float().square().mean() + layer.losses[0].float()
        return z, layer.losses[0], *torch.autograd.grad(loss, [mean, log_var])

    for got, expected in zip(*_both_modes(run)):
        torch.testing.assert_close(got.float(), expected.float(), **POLICIES[policy])
