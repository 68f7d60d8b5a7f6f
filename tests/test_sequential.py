"""Sequential: stacking, add/pop, lazy or eager build, config round trip."""

import pytest
import torch

import tritonlayers as keras
from tritonlayers.models import Sequential


def test_layers_run_in_order():
    model = Sequential([keras.layers.Dense(4, name="a"), keras.layers.Dense(2, name="b")])
    x = torch.randn(3, 5)
    expected = model.get_layer("b")(model.get_layer("a")(x))
    torch.testing.assert_close(model(x), expected, rtol=0, atol=0)


def test_without_an_input_shape_it_builds_on_the_first_call():
    model = Sequential([keras.layers.Dense(2)])
    assert not model.built
    model(torch.ones(1, 3))
    assert model.built and tuple(model.layers[0].kernel.shape) == (3, 2)


def test_input_first_builds_at_once_and_is_not_listed_in_layers():
    model = Sequential([keras.Input((3,)), keras.layers.Dense(2, name="d")])
    assert model.built
    assert [layer.name for layer in model.layers] == ["d"]
    assert model.input_shape == (None, 3) and model.output_shape == (None, 2)


def test_first_layer_input_shape_hint_builds_the_model():
    with pytest.warns(UserWarning, match="input_shape"):
        model = Sequential([keras.layers.Dense(2, input_shape=(4,))])
    assert model.built
    assert model.count_params() == 10


def test_add_builds_once_the_input_is_known():
    model = Sequential()
    model.add(keras.Input((2,)))
    model.add(keras.layers.Dense(3))
    assert model.built
    model.add(keras.layers.Dense(1))
    assert model.output_shape == (None, 1)


def test_pop_removes_the_last_layer_and_rebuilds():
    model = Sequential([keras.Input((2,)), keras.layers.Dense(3), keras.layers.Dense(1)])
    popped = model.pop()
    assert popped.units == 1
    assert model.output_shape == (None, 3)
    assert len(model.weights) == 2


def test_pop_of_an_empty_model_raises():
    with pytest.raises(TypeError, match="no layers to pop"):
        Sequential().pop()


def test_add_refuses_non_layers_with_keras_message():
    with pytest.raises(ValueError, match="Only instances of `keras.Layer` can be added"):
        Sequential().add("dense")


def test_second_input_is_refused():
    model = Sequential([keras.Input((2,))])
    with pytest.raises(ValueError, match="already been configured to use input shape"):
        model.add(keras.Input((3,)))


def test_config_round_trip_keeps_layers_and_build_shape():
    model = Sequential([keras.Input((3,)), keras.layers.Dense(2, name="d")], name="seq")
    clone = Sequential.from_config(model.get_config())
    assert clone.name == "seq" and clone.built
    assert [layer.name for layer in clone.layers] == ["d"]
    assert clone.get_config()["build_input_shape"] == [None, 3]


def test_sequential_of_sequential_nests():
    inner = Sequential([keras.layers.Dense(3)])
    model = Sequential([keras.Input((2,)), inner, keras.layers.Dense(1)])
    assert tuple(model(torch.ones(4, 2)).shape) == (4, 1)
    assert len(model.trainable_weights) == 4


def test_inputs_and_outputs_feed_a_feature_extractor():
    model = Sequential(
        [keras.Input((6,)), keras.layers.Dense(4, name="hidden"), keras.layers.Dense(2)]
    )
    extractor = keras.Model(inputs=model.inputs, outputs=[layer.output for layer in model.layers])
    x = torch.randn(3, 6)
    hidden, out = extractor(x)
    torch.testing.assert_close(out, model(x))
    torch.testing.assert_close(hidden, model.get_layer("hidden")(x))
    assert model.input is model.inputs[0] and model.output is model.outputs[0]


def test_an_unbuilt_model_has_no_inputs_as_in_keras():
    model = Sequential([keras.layers.Dense(2)])
    with pytest.raises(AttributeError, match="has no attribute 'inputs'"):
        _ = model.inputs
