"""Dtype policies: compute in the low dtype, keep float32 variables (item 12)."""

import pytest
import torch
from layer_core_support import Linear, layer_core_state  # noqa: F401

import tritonlayers as keras


class RecordingLinear(Linear):
    """Linear that records the dtypes its `call` sees."""

    def call(self, x):
        self.dtypes_seen = (x.dtype, self.w.dtype, self.b.dtype)
        return super().call(x)


def test_default_policy_is_float32():
    layer = keras.Layer()
    assert (layer.dtype_policy.name, layer.compute_dtype, layer.variable_dtype) == (
        "float32",
        "float32",
        "float32",
    )
    assert layer.dtype == "float32"


@pytest.mark.parametrize(
    ("policy", "compute", "variable"),
    [
        ("float16", "float16", "float16"),
        ("bfloat16", "bfloat16", "bfloat16"),
        ("float64", "float64", "float64"),
        ("mixed_float16", "float16", "float32"),
        ("mixed_bfloat16", "bfloat16", "float32"),
    ],
)
def test_policy_names_map_to_compute_and_variable_dtypes(policy, compute, variable):
    layer = keras.Layer(dtype=policy)
    assert (layer.compute_dtype, layer.variable_dtype) == (compute, variable)


def test_mixed_policy_computes_in_low_dtype_and_keeps_float32_variables():
    layer = RecordingLinear(dtype="mixed_bfloat16")
    x = torch.randn(4, 5)
    out = layer(x)
    assert layer.dtypes_seen == (torch.bfloat16, torch.bfloat16, torch.bfloat16)
    assert out.dtype == torch.bfloat16
    assert all(w.dtype == torch.float32 for w in layer.weights)
    reference = x.bfloat16() @ layer.w.detach().bfloat16() + layer.b.detach().bfloat16()
    torch.testing.assert_close(out, reference, rtol=0, atol=0)


def test_mixed_policy_gradients_reach_float32_variables():
    layer = Linear(dtype="mixed_float16")
    layer(torch.randn(4, 5)).float().sum().backward()
    assert layer.w.grad.dtype == torch.float32
    torch.testing.assert_close(layer.b.grad, torch.full((3,), 4.0))


def test_variables_read_as_stored_outside_call():
    layer = Linear(dtype="mixed_float16")
    layer(torch.randn(1, 2))
    assert layer.w.dtype == torch.float32 and layer.b.value.dtype == torch.float32


def test_state_variable_stays_assignable_and_value_casts_inside_mixed_call():
    class ComputeSum(keras.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.total = self.add_weight(shape=(2,), initializer="zeros", trainable=False)

        def call(self, x):
            self.value_dtype = self.total.value.dtype
            self.total.assign_add(x.sum(dim=0))
            return self.total.value

    layer = ComputeSum(dtype="mixed_float16")
    out = layer(torch.ones(3, 2))
    assert layer.value_dtype == torch.float16 and out.dtype == torch.float16
    assert layer.total.dtype == torch.float32 and layer.total.numpy().tolist() == [3.0, 3.0]


def test_pure_float16_policy_creates_float16_variables():
    layer = Linear(dtype="float16")
    out = layer(torch.randn(2, 2))
    assert layer.w.dtype == torch.float16 and out.dtype == torch.float16


def test_global_policy_applies_to_new_layers():
    keras.config.set_dtype_policy("mixed_bfloat16")
    assert keras.config.dtype_policy().name == "mixed_bfloat16"
    assert Linear().compute_dtype == "bfloat16"
    keras.config.set_dtype_policy("float32")
    assert Linear().compute_dtype == "float32"


def test_inner_float32_layer_inside_mixed_layer_uses_its_own_policy():
    class Outer(keras.Layer):
        def __init__(self):
            super().__init__(dtype="mixed_bfloat16")
            self.inner = Linear(dtype="float32")

        def call(self, x):
            return self.inner(x)

    outer = Outer()
    assert outer(torch.randn(2, 2)).dtype == torch.float32


def test_variable_with_autocast_false_is_read_as_stored():
    class Counter(keras.Layer):
        def build(self, input_shape):
            self.scale = self.add_weight(shape=(), initializer="ones", autocast=False)

        def call(self, x):
            self.seen = self.scale.dtype
            return x * self.scale

    layer = Counter(dtype="mixed_float16")
    layer(torch.ones(2))
    assert layer.seen == torch.float32


def test_integer_inputs_are_not_cast_by_the_policy():
    class Probe(keras.Layer):
        def call(self, x):
            self.seen = x.dtype
            return x

    layer = Probe(dtype="mixed_float16")
    layer(torch.arange(3))
    assert layer.seen == torch.int64


def test_unknown_policy_is_rejected_with_valid_choices():
    with pytest.raises(ValueError, match="'probe'.*Cannot convert 'float17' to a mixed precision"):
        keras.Layer(dtype="float17", name="probe")


def test_dtype_policy_serializes_like_keras():
    policy = keras.dtype_policies.DTypePolicy("mixed_float16")
    assert keras.dtype_policies.serialize(policy) == {
        "module": "keras",
        "class_name": "DTypePolicy",
        "config": {"name": "mixed_float16"},
        "registered_name": None,
    }
    assert keras.dtype_policies.get(keras.dtype_policies.serialize(policy)) == policy
