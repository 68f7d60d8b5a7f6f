"""Variable: a torch Parameter with Keras's variable API (issue 2, item 1)."""

import copy
import pickle

import numpy as np
import pytest
import torch
from layer_core_support import layer_core_state  # noqa: F401

import tritonlayers as keras


def test_variable_is_a_parameter_usable_in_torch_math():
    v = keras.Variable(initializer=np.array([[1.0, 2.0], [3.0, 4.0]]))
    x = torch.tensor([[1.0, 1.0]])
    assert isinstance(v, torch.nn.Parameter)
    torch.testing.assert_close(x @ v, torch.tensor([[4.0, 6.0]]), rtol=0, atol=0)
    assert type(x @ v) is torch.Tensor


def test_variable_gets_gradients_when_trainable():
    v = keras.Variable(initializer=[1.0, 2.0])
    (v * v).sum().backward()
    torch.testing.assert_close(v.grad, torch.tensor([2.0, 4.0]), rtol=0, atol=0)


def test_assign_replaces_value_in_place_without_grad():
    v = keras.Variable(initializer="zeros", shape=(2,))
    storage = v.data_ptr()
    v.assign(np.array([3.0, 4.0]))
    assert v.data_ptr() == storage and v.grad_fn is None and v.requires_grad
    np.testing.assert_array_equal(v.numpy(), [3.0, 4.0])


def test_assign_add_and_assign_sub_accumulate():
    v = keras.Variable(initializer="ones", shape=(2,))
    v.assign_add(torch.tensor([1.0, 2.0]))
    v.assign_sub([0.5, 0.5])
    np.testing.assert_array_equal(v.numpy(), [1.5, 2.5])


def test_assign_shape_mismatch_raises_with_both_shapes():
    v = keras.Variable(initializer="zeros", shape=(2,))
    with pytest.raises(ValueError, match=r"variable.shape=\(2,\), Received: value.shape=\(3,\)"):
        v.assign([1.0, 2.0, 3.0])


def test_assign_add_shape_mismatch_raises():
    v = keras.Variable(initializer="zeros", shape=(2,))
    with pytest.raises(ValueError, match="assign_add"):
        v.assign_add(torch.ones(2, 2))


def test_shape_dtype_value_and_numpy():
    v = keras.Variable(initializer="zeros", shape=(2, 3), dtype="bfloat16")
    assert v.shape == (2, 3) and v.dtype == torch.bfloat16
    assert keras.dtype_policies.standardize_dtype(v.dtype) == "bfloat16"
    assert v.value is v
    assert v.numpy().dtype == np.float32


def test_trainable_is_settable_and_maps_to_requires_grad():
    v = keras.Variable(initializer="zeros", shape=(2,))
    v.trainable = False
    assert not v.trainable and not v.requires_grad
    v.trainable = True
    assert v.trainable and v.requires_grad


def test_integer_variable_keeps_its_dtype_and_needs_no_grad():
    v = keras.Variable(initializer=np.array([1, 2]), trainable=False)
    assert v.dtype == torch.int64 and not v.requires_grad


def test_unnamed_variables_get_unique_names():
    first, second = keras.Variable([1.0]), keras.Variable([2.0])
    assert (first.name, second.name) == ("variable", "variable_1")
    assert first.path == "variable"


def test_variable_path_is_layer_path_and_name():
    class Linear(keras.Layer):
        def __init__(self):
            super().__init__()
            self.w = self.add_weight(shape=(2,), initializer="zeros")
            self.b = self.add_weight(shape=(2,), initializer="zeros")

    layer = Linear()
    assert [w.path for w in layer.weights] == ["linear/variable", "linear/variable_1"]


def test_initializer_requires_shape():
    with pytest.raises(ValueError, match="`shape` argument should be specified"):
        keras.Variable(initializer="zeros")


def test_value_shape_must_match_shape_argument():
    with pytest.raises(ValueError, match="does not match the `shape` argument"):
        keras.Variable(initializer=[1.0, 2.0], shape=(3,))


def test_variable_created_on_config_device():
    keras.config.set_device("meta")
    v = keras.Variable(initializer=[1.0, 2.0])
    assert v.device.type == "meta" and isinstance(v, keras.Variable)


def test_deepcopy_keeps_class_attributes_and_copies_data():
    v = keras.Variable(initializer=[1.0, 2.0], name="kernel")
    clone = copy.deepcopy(v)
    clone.assign([5.0, 6.0])
    assert type(clone) is type(v) and clone.name == "kernel" and clone.path == v.path
    np.testing.assert_array_equal(v.numpy(), [1.0, 2.0])


def test_pickle_round_trip_keeps_variable():
    v = keras.Variable(initializer=[1.0, 2.0], name="kernel", trainable=False)
    restored = pickle.loads(pickle.dumps(v))
    assert type(restored) is type(v) and restored.name == "kernel" and not restored.trainable
    np.testing.assert_array_equal(restored.numpy(), [1.0, 2.0])


def test_repr_names_path_shape_and_dtype():
    v = keras.Variable(initializer=[1.0], name="w")
    assert repr(v).startswith("<Variable path=w, shape=(1,), dtype=float32")


def test_numpy_is_a_snapshot_that_later_assigns_leave_alone():
    v = keras.Variable(np.zeros((2,), "float32"))
    snapshot = v.numpy()
    v.assign(np.ones((2,), "float32"))
    np.testing.assert_array_equal(snapshot, [0.0, 0.0])
