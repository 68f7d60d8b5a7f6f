"""`torch.compile(fullgraph=True)` traces Layer.__call__ with no graph break; device moves."""

import pytest
import torch
from layer_core_support import Linear, layer_core_state  # noqa: F401

import tritonlayers as keras
from tritonlayers.layers.call_context import STATE


@pytest.fixture(autouse=True)
def _fresh_compile_caches():
    torch._dynamo.reset()
    yield
    torch._dynamo.reset()


class Scale(keras.Layer):
    def call(self, x, training=None):
        return x * 2.0 if training else x


class Block(keras.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.first = Linear(8)
        self.scale = Scale()
        self.second = Linear(3)

    def call(self, x):
        h = torch.relu(self.first(x))
        self.add_loss(h.mean())
        return self.second(self.scale(h))


def test_block_compiles_fullgraph_and_matches_eager():
    block = Block()
    x = torch.randn(5, 6)
    eager = block(x, training=True)
    eager_loss = block.losses[0]
    compiled = torch.compile(block, backend="eager", fullgraph=True)
    torch.testing.assert_close(compiled(x, training=True), eager, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(block.losses[0], eager_loss, rtol=1e-6, atol=1e-6)
    assert len(block.losses) == 1
    assert STATE.entry is None and STATE.training is None


def test_training_flag_reaches_inner_layer_under_compile():
    block = Block()
    x = torch.randn(2, 6)
    block(x)
    compiled = torch.compile(block, backend="eager", fullgraph=True)
    torch.testing.assert_close(compiled(x, training=True), block(x, training=True))
    torch.testing.assert_close(compiled(x, training=False), block(x, training=False))


def test_mixed_precision_block_compiles_fullgraph():
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        block = Block()
    finally:
        keras.config.set_dtype_policy(None)
    x = torch.randn(4, 6)
    eager = block(x)
    compiled = torch.compile(block, backend="eager", fullgraph=True)
    out = compiled(x)
    assert out.dtype == torch.bfloat16
    torch.testing.assert_close(out, eager, rtol=0, atol=0)


def test_compiled_backward_fills_variable_grads():
    block = Block()
    x = torch.randn(3, 6)
    block(x)
    compiled = torch.compile(block, backend="eager", fullgraph=True)
    compiled(x).sum().backward()
    assert all(w.grad is not None and w.grad.shape == w.shape for w in block.trainable_weights)


@pytest.mark.gpu
def test_layer_and_variables_move_to_cuda_and_run_there():
    block = Block()
    x = torch.randn(4, 6)
    expected = block(x)
    block.to("cuda")
    assert all(isinstance(w, keras.Variable) and w.is_cuda for w in block.weights)
    out = block(x.cuda())
    assert out.is_cuda
    torch.testing.assert_close(out.cpu(), expected, rtol=1e-3, atol=1e-3)
    block.to("cpu")
    assert all(isinstance(w, keras.Variable) and not w.is_cuda for w in block.weights)


@pytest.mark.gpu
def test_mixed_bfloat16_block_compiles_with_inductor_on_cuda():
    keras.config.set_device("cuda")
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        block = Block()
    finally:
        keras.config.set_dtype_policy(None)
    x = torch.randn(64, 6, device="cuda")
    eager = block(x, training=True)
    compiled = torch.compile(block, fullgraph=True)
    out = compiled(x, training=True)
    assert out.dtype == torch.bfloat16 and all(w.dtype == torch.float32 for w in block.weights)
    torch.testing.assert_close(out, eager, rtol=2e-2, atol=2e-2)
    out.float().sum().backward()
    assert all(w.grad is not None and w.grad.is_cuda for w in block.trainable_weights)


def test_repeated_compiled_calls_reuse_one_graph():
    from torch._dynamo.utils import counters

    counters.clear()
    block = Block()
    block(torch.randn(4, 6))
    compiled = torch.compile(block, backend="eager", fullgraph=True)
    for _ in range(4):
        compiled(torch.randn(4, 6), training=True)
        assert len(block.losses) == 1
    assert counters["stats"]["unique_graphs"] == 1
