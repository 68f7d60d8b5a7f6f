"""Symbolic calls on KerasTensors: build from shapes, output specs, nodes (item 13)."""

import pytest
import torch
from layer_core_support import Linear, layer_core_state  # noqa: F401

import tritonlayers as keras
from tritonlayers.layers.symbolic import KerasTensor, Node


class WithOutputShape(Linear):
    def call(self, x):
        raise AssertionError("call must not run for a symbolic input")

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)


def test_keras_tensor_has_shape_dtype_and_ndim():
    x = KerasTensor((None, 4), dtype="float16", name="x")
    assert (x.shape, x.dtype, x.ndim, x.name) == ((None, 4), "float16", 2, "x")


def test_symbolic_call_builds_from_shape_and_keeps_none_batch():
    layer = Linear(5)
    y = layer(KerasTensor((None, 7)))
    assert isinstance(y, KerasTensor) and y.shape == (None, 5) and y.dtype == "float32"
    assert layer.built and layer.w.shape == (7, 5)


def test_symbolic_call_uses_compute_output_shape_when_defined():
    y = WithOutputShape(2)(KerasTensor((None, 3, 6)))
    assert y.shape == (None, 3, 2)


def test_symbolic_call_records_node_and_history():
    first, second = Linear(4), Linear(2)
    x = KerasTensor((None, 3))
    h = first(x)
    y = second(h)
    node = second._inbound_nodes[0]
    assert isinstance(node, Node) and node.parent_nodes == [first._inbound_nodes[0]]
    assert y._keras_history == (second, 0, 0) and h._keras_history.operation is first
    assert first._outbound_nodes == [node] and not node.is_input


def test_symbolic_call_leaves_state_untouched():
    class Counter(keras.Layer):
        def build(self, input_shape):
            self.count = self.add_weight(shape=(), initializer="zeros", trainable=False)

        def call(self, x):
            self.count.assign_add(1.0)
            self.add_loss(x.sum())
            return x

    layer = Counter()
    layer(KerasTensor((None, 2)))
    assert layer.count.numpy() == 0.0 and layer.losses == []


def test_symbolic_nested_outputs_and_sublayers():
    class Split(keras.Layer):
        def __init__(self):
            super().__init__()
            self.proj = Linear(4)

        def call(self, x):
            y = self.proj(x)
            return y[:, :1], {"rest": y[:, 1:]}

    head, others = Split()(KerasTensor((None, 3)))
    assert head.shape == (None, 1) and others["rest"].shape == (None, 3)


def test_symbolic_mask_passes_through_supporting_layer():
    class Pass(keras.Layer):
        supports_masking = True

    x = KerasTensor((None, 5))
    x._keras_mask = KerasTensor((None, 5), dtype="bool")
    y = Pass()(x)
    assert y._keras_mask is x._keras_mask


def test_default_compute_output_shape_traces_call():
    assert Linear(6).compute_output_shape((None, 2)) == (None, 6)


def test_symbolic_dtype_follows_policy():
    y = Linear(2, dtype="mixed_bfloat16")(KerasTensor((None, 3)))
    assert y.dtype == "bfloat16"


def test_failing_trace_names_the_layer_and_suggests_compute_output_shape():
    class Broken(keras.Layer):
        def call(self, x):
            return x @ torch.ones(99, 2)

    # Keras 3.15 keeps the type `call()` raised (torch's RuntimeError) and names the layer.
    with pytest.raises(RuntimeError, match="output shape / dtype of 'broken' \\(of type Broken\\)"):
        Broken()(KerasTensor((None, 3)))


def test_python_operators_on_keras_tensors_record_op_nodes():
    x = KerasTensor((None, 3))
    y = 1.0 - x * 2.0
    assert y.shape == (None, 3) and y.dtype == "float32"
    assert (x > 0).dtype == "bool" and (-x).shape == (None, 3)
    layer = y._keras_history.operation
    torch.testing.assert_close(layer(torch.full((2, 3), 2.0)), torch.full((2, 3), -1.0))


def test_layer_input_and_output_come_from_its_first_symbolic_call():
    layer = Linear(2)
    x = KerasTensor((None, 3))
    y = layer(x)
    layer(KerasTensor((None, 3)))
    assert layer.input is x and layer.output is y


def test_output_of_a_never_called_layer_is_a_clear_attribute_error():
    with pytest.raises(AttributeError, match="has never been called and thus has no defined"):
        Linear(2).output  # noqa: B018


def test_sublayer_named_output_is_still_reachable():
    class Head(keras.Layer):
        def __init__(self):
            super().__init__()
            self.output = Linear(2)

        def call(self, x):
            return self.output(x)

    head = Head()
    y = head(KerasTensor((None, 3)))
    assert isinstance(head.output, Linear) and y.shape == (None, 2)
    assert head(torch.ones(1, 3)).shape == (1, 2)
