"""Dense, Dropout, Sampling and BatchNormalization trace under torch.compile(fullgraph=True)
(no host syncs, no Python branches on tensor values) and give the eager results.
"""

import torch
from torch._dynamo.testing import CompileCounter

from tritonlayers import layers


def _compiled(fn, backend="eager"):
    torch._dynamo.reset()
    return torch.compile(fn, fullgraph=True, backend=backend)


def _twins(factory, *inputs):
    """Two layers with equal weights and seeds, both built."""
    a, b = factory(), factory()
    a(*inputs)
    b(*inputs)
    for target, source in zip(b.weights, a.weights):
        target.assign(source)
    return a, b


def test_dense_compiles_fullgraph_and_matches_eager():
    x = torch.randn(4, 3, 5)
    eager, compiled = _twins(lambda: layers.Dense(6, activation="gelu"), x)
    torch.testing.assert_close(_compiled(compiled)(x), eager(x))


def test_dropout_compiles_fullgraph_once_with_new_mask_each_step_like_eager():
    x = torch.randn(8, 16)
    eager, compiled = layers.Dropout(0.4, seed=5), layers.Dropout(0.4, seed=5)
    compiled(x)  # built before tracing, so the only graph is the training step
    counter = CompileCounter()
    step = _compiled(lambda t: compiled(t, training=True), backend=counter)
    for _ in range(3):
        torch.testing.assert_close(step(x), eager(x, training=True))
    assert counter.frame_count == 1


def test_sampling_with_kl_compiles_fullgraph_once_and_matches_eager_each_step():
    mean, log_var = torch.randn(4, 3), torch.randn(4, 3)
    eager, compiled = layers.Sampling(kl_weight=0.5, seed=2), layers.Sampling(kl_weight=0.5, seed=2)

    def step(m, lv):
        z = compiled([m, lv])
        return z, compiled.losses[0]

    for layer in (eager, compiled):  # built (and one seed drawn) before tracing
        layer([mean, log_var])
    counter = CompileCounter()
    compiled_step = _compiled(step, backend=counter)
    for _ in range(2):
        z, kl = compiled_step(mean, log_var)
        torch.testing.assert_close(z, eager([mean, log_var]))
        torch.testing.assert_close(kl, eager.losses[0])
    assert counter.frame_count == 1


def test_batch_norm_training_step_compiles_fullgraph_and_updates_stats_like_eager():
    x = torch.randn(16, 4)
    eager, compiled = _twins(lambda: layers.BatchNormalization(momentum=0.7), x)
    out = _compiled(lambda t: compiled(t, training=True))(x)
    torch.testing.assert_close(out, eager(x, training=True))
    torch.testing.assert_close(compiled.moving_mean.detach(), eager.moving_mean.detach())
    torch.testing.assert_close(compiled.moving_variance.detach(), eager.moving_variance.detach())


def test_masked_lstm_training_step_compiles_fullgraph_and_matches_eager():
    x = torch.randn(2, 5, 3)
    mask = torch.tensor([[True, True, True, False, False], [True, True, False, False, False]])

    def factory():
        return layers.LSTM(4, dropout=0.3, recurrent_dropout=0.3, seed=6)

    eager, compiled = _twins(factory, x)
    out = _compiled(lambda t, m: compiled(t, mask=m, training=True))(x, mask)
    torch.testing.assert_close(out, eager(x, mask=mask, training=True))
