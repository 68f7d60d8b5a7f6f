"""keras.ops on symbolic tensors: ops become functional-graph nodes (OpLayer)."""

import numpy as np
import pytest
import torch

import tritonlayers as keras
from tritonlayers.ops.symbolic import OpLayer
from tritonlayers.saving import deserialize_keras_object, serialize_keras_object


def _model():
    x = keras.Input((3,))
    y = keras.ops.concatenate([x, keras.ops.square(x)], axis=-1)
    z = keras.ops.einsum("bi,bj->bij", y, x)
    total = keras.ops.add(keras.ops.sum(z, axis=(1, 2)), 1.0)
    return keras.Model(x, [y, total])


def test_op_on_keras_tensor_returns_keras_tensor_with_inferred_shape():
    x = keras.Input((4, 3))
    y = keras.ops.mean(keras.ops.transpose(x, (0, 2, 1)), axis=-1, keepdims=True)
    assert type(y).__name__ == "KerasTensor"
    assert y.shape == (None, 3, 1)


def test_functional_model_of_ops_matches_eager_computation():
    data = np.random.default_rng(0).normal(size=(2, 3)).astype(np.float32)
    concatenated, total = _model()(data)
    expected = np.concatenate([data, data**2], axis=-1)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(concatenated), expected, rtol=1e-6)
    expected_total = np.einsum("bi,bj->bij", expected, data).sum(axis=(1, 2)) + 1.0
    np.testing.assert_allclose(keras.ops.convert_to_numpy(total), expected_total, rtol=1e-5)


def test_model_of_ops_survives_json_round_trip():
    model = _model()
    restored = keras.models.model_from_json(model.to_json())
    data = torch.ones(2, 3)
    for a, b in zip(model(data), restored(data)):
        torch.testing.assert_close(a, b)


def test_op_layer_config_round_trip_keeps_constants():
    layer = OpLayer("clip", ["x"], {"x_min": -1.0, "x_max": 1.0})
    restored = deserialize_keras_object(serialize_keras_object(layer))
    assert isinstance(restored, OpLayer)
    assert restored.arguments == {"x_min": -1.0, "x_max": 1.0}
    assert restored(torch.tensor([-3.0, 0.5, 3.0])).tolist() == [-1.0, 0.5, 1.0]


@pytest.mark.parametrize("function", ["system", "cond", "__import__", "OpLayer"])
def test_op_layer_refuses_names_that_are_not_graph_ops(function):
    config = serialize_keras_object(OpLayer("add", ["x1"], {"x2": 1.0}))
    config["config"]["function"] = function
    with pytest.raises(ValueError, match="not a tritonlayers.ops function"):
        deserialize_keras_object(config)


def test_control_flow_op_on_keras_tensor_raises_clear_error():
    with pytest.raises(ValueError, match="cannot run on symbolic tensors"):
        keras.ops.map(lambda row: row, keras.Input((3,)))


def test_ops_on_real_tensors_are_unchanged_by_the_symbolic_wrapper():
    assert keras.ops.add.__wrapped__ is keras.ops.numpy.add
    assert keras.ops.add(torch.ones(2), 1.0).tolist() == [2.0, 2.0]
