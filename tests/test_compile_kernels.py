"""torch.compile(fullgraph=True) traces the three kernel ops with no graph break, and a new
seed tensor each step does not recompile."""

import pytest
import torch
from torch._dynamo.testing import CompileCounterWithBackend

from tritonlayers.kernels import dropout, fused_linear, reparameterize_with_kl, set_kernel_mode


class _TinyVAE(torch.nn.Module):
    """Encoder (fused_linear + dropout), sampling with KL, decoder: all three ops in one step."""

    def __init__(self, features=12, hidden=16, latent=4):
        super().__init__()
        self.w1 = torch.nn.Parameter(torch.randn(features, hidden) / features**0.5)
        self.b1 = torch.nn.Parameter(torch.zeros(hidden))
        self.w2 = torch.nn.Parameter(torch.randn(hidden, 2 * latent) / hidden**0.5)
        self.b2 = torch.nn.Parameter(torch.zeros(2 * latent))
        self.w3 = torch.nn.Parameter(torch.randn(latent, features) / latent**0.5)
        self.b3 = torch.nn.Parameter(torch.zeros(features))

    def forward(self, x, seed):
        h = fused_linear(x, self.w1, self.b1, activation="relu")
        h = dropout(h, 0.25, seed)
        mean, log_var = fused_linear(h, self.w2, self.b2).chunk(2, dim=-1)
        z, kl = reparameterize_with_kl(mean, log_var, seed, offset=1 << 20)
        return fused_linear(z, self.w3, self.b3, activation="sigmoid"), kl


def _loss(model, x, seed):
    reconstruction, kl = model(x, seed)
    return torch.nn.functional.mse_loss(reconstruction, x) + kl


def _compile_and_compare(backend):
    """Compile the step, check it equals eager in value and gradients, return the counter."""
    torch._dynamo.reset()
    model = _TinyVAE()
    x = torch.rand(6, 12)
    counter = CompileCounterWithBackend(backend)
    compiled = torch.compile(_loss, backend=counter, fullgraph=True)
    seed = torch.tensor(7, dtype=torch.int64)

    loss = compiled(model, x, seed)
    loss.backward()
    grads = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    expected = _loss(model, x, seed)
    expected.backward()
    torch.testing.assert_close(loss, expected)
    for got, want in zip(grads, (p.grad for p in model.parameters())):
        torch.testing.assert_close(got, want)
    return compiled, model, x, counter


def test_compiled_step_on_torch_path_has_no_graph_break_and_matches_eager():
    set_kernel_mode("torch")
    _, _, _, counter = _compile_and_compare("aot_eager")
    assert counter.frame_count == 1


def test_new_seed_tensor_each_step_does_not_recompile():
    set_kernel_mode("torch")
    compiled, model, x, counter = _compile_and_compare("aot_eager")
    losses = [compiled(model, x, torch.tensor(seed, dtype=torch.int64)) for seed in (8, 9, 10)]
    assert counter.frame_count == 1
    assert len({loss.item() for loss in losses}) == 3, "each seed draws a different sample"


@pytest.mark.interpret
def test_compiled_step_through_interpreted_kernel_ops_matches_eager():
    # aot_eager runs the registered fake functions while tracing, then the real kernels.
    set_kernel_mode("triton")
    _, _, _, counter = _compile_and_compare("aot_eager")
    assert counter.frame_count == 1
    assert "tritonlayers.fused_linear_fwd" in str(counter.graphs[0].graph)
