"""Sampling (VAE reparameterization) layer: kernel equivalence, distribution, KL loss, errors."""

import pytest
import torch

from tritonlayers import kernels, layers, random


def _first_seed(seed):
    return random.SeedGenerator(seed).next()


def test_sampling_equals_kernel_reparameterize_with_generator_seed():
    mean, log_var = torch.randn(8, 5), torch.randn(8, 5)
    z = layers.Sampling(seed=1337)([mean, log_var])
    torch.testing.assert_close(z, kernels.reparameterize(mean, log_var, _first_seed(1337)))


def test_sampling_is_plain_torch_reparameterization_of_its_noise():
    mean, log_var = torch.randn(4, 3), torch.randn(4, 3)
    eps = layers.Sampling(seed=2)([torch.zeros(4, 3), torch.zeros(4, 3)])
    z = layers.Sampling(seed=2)([mean, log_var])
    torch.testing.assert_close(z, mean + torch.exp(0.5 * log_var) * eps, rtol=1e-5, atol=1e-6)


def test_sampling_draws_have_mean_and_std_of_the_gaussian():
    n = 100_000
    mean, log_var = torch.full((n, 2), 1.5), torch.full((n, 2), -1.0)
    z = layers.Sampling(seed=7)([mean, log_var])
    assert abs(z.mean().item() - 1.5) < 4 * 0.61 / (2 * n) ** 0.5
    assert abs(z.std().item() - torch.exp(torch.tensor(-0.5)).item()) < 0.005


def test_sampling_new_noise_each_call_reproducible_across_layers():
    inputs = [torch.zeros(1000), torch.zeros(1000)]
    a, b = layers.Sampling(seed=9), layers.Sampling(seed=9)
    first = a(inputs)
    torch.testing.assert_close(b(inputs), first)
    correlation = torch.corrcoef(torch.stack([a(inputs), first]))[0, 1].item()
    assert abs(correlation) < 0.1


def test_sampling_kl_weight_adds_weighted_kl_loss():
    mean, log_var = torch.randn(6, 4), torch.randn(6, 4)
    layer = layers.Sampling(kl_weight=0.25, seed=3)
    z = layer([mean, log_var])
    m, lv = mean.double(), log_var.double()
    kl = -0.5 * torch.mean(1 + lv - m.square() - lv.exp())
    assert len(layer.losses) == 1
    torch.testing.assert_close(layer.losses[0].double(), 0.25 * kl, rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(z, kernels.reparameterize(mean, log_var, _first_seed(3)))


def test_sampling_gradients_match_autograd_of_torch_formula():
    mean = torch.randn(5, 3, requires_grad=True)
    log_var = torch.randn(5, 3, requires_grad=True)
    eps = layers.Sampling(seed=4)([torch.zeros(5, 3), torch.zeros(5, 3)]).detach()
    layer = layers.Sampling(kl_weight=1.0, seed=4)
    loss = layer([mean, log_var]).square().sum() + layer.losses[0]
    grads = torch.autograd.grad(loss, [mean, log_var])
    z_ref = mean + torch.exp(0.5 * log_var) * eps
    kl_ref = -0.5 * torch.mean(1 + log_var - mean.square() - log_var.exp())
    expected = torch.autograd.grad(z_ref.square().sum() + kl_ref, [mean, log_var])
    for got, want in zip(grads, expected):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)


def test_sampling_rejects_a_single_tensor():
    layer = layers.Sampling(name="sampler")
    with pytest.raises(ValueError, match="sampler.*z_mean, z_log_var"):
        layer(torch.zeros(2, 3))


def test_sampling_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(2, 4\)"):
        layers.Sampling()([torch.zeros(2, 3), torch.zeros(2, 4)])


@pytest.mark.interpret
def test_sampling_layer_triton_mode_in_interpreter_equals_torch_mode():
    mean, log_var = torch.randn(5, 7), torch.randn(5, 7)
    results = {}
    for mode in ("torch", "triton"):
        kernels.set_kernel_mode(mode)
        layer = layers.Sampling(kl_weight=0.3, seed=4)
        results[mode] = (layer([mean, log_var]), layer.losses[0])
    for got, expected in zip(results["triton"], results["torch"]):
        torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6)
