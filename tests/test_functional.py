"""The functional API: Input, Model(inputs, outputs), graph replay, checks and config."""

import numpy as np
import pytest
import torch

import tritonlayers as keras
from tritonlayers.models.functional import Functional


def _two_dense(name="mlp"):
    inputs = keras.Input(shape=(3,), name="features")
    hidden = keras.layers.Dense(4, activation="relu", name="hidden")(inputs)
    outputs = keras.layers.Dense(2, name="head")(hidden)
    return keras.Model(inputs, outputs, name=name)


def test_input_is_a_symbolic_tensor_with_none_batch():
    x = keras.Input(shape=(28, 28), batch_size=None, dtype="float16", name="img")
    assert (x.shape, x.dtype, x.name) == ((None, 28, 28), "float16", "img")


def test_input_with_batch_size_fixes_the_first_dimension():
    assert keras.Input(shape=(3,), batch_size=8).shape == (8, 3)


def test_model_of_inputs_and_outputs_is_functional():
    model = _two_dense()
    assert isinstance(model, Functional) and isinstance(model, keras.Model)
    assert [layer.name for layer in model.layers] == ["features", "hidden", "head"]


def test_functional_call_matches_calling_the_layers_by_hand():
    model = _two_dense()
    x = torch.randn(5, 3)
    expected = model.get_layer("head")(model.get_layer("hidden")(x))
    torch.testing.assert_close(model(x), expected, rtol=0, atol=0)


def test_multi_input_multi_output_lists():
    a, b = keras.Input(shape=(2,), name="a"), keras.Input(shape=(3,), name="b")
    joined = keras.layers.Concatenate()([a, b])
    out1, out2 = keras.layers.Dense(1, name="o1")(joined), keras.layers.Dense(4, name="o2")(joined)
    model = keras.Model([a, b], [out1, out2])
    y1, y2 = model([np.ones((6, 2)), np.ones((6, 3))])
    assert (tuple(y1.shape), tuple(y2.shape)) == ((6, 1), (6, 4))
    assert model.output_names == ["o1", "o2"]


def test_dict_inputs_and_outputs_are_matched_by_key():
    a, b = keras.Input(shape=(2,), name="a"), keras.Input(shape=(2,), name="b")
    model = keras.Model({"a": a, "b": b}, {"sum": keras.layers.Add()([a, b])})
    out = model({"b": torch.full((1, 2), 2.0), "a": torch.ones(1, 2)})
    assert list(out) == ["sum"]
    assert out["sum"].tolist() == [[3.0, 3.0]]


def test_wrong_input_count_raises_keras_message():
    model = _two_dense()
    with pytest.raises(
        ValueError,
        match=r"expects 1 named input\(s\) with keys \['features'\], "
        r"but it received 2 input tensors",
    ):
        model([torch.ones(2, 3), torch.ones(2, 3)])


def test_wrong_input_shape_raises_keras_message():
    model = _two_dense(name="shapes")
    with pytest.raises(
        ValueError,
        match=r"Input 0 with name 'features' of layer 'shapes' is "
        r"incompatible with the layer: expected shape=\(None, 3\), found shape=\(2, 4\)",
    ):
        model(torch.ones(2, 4))


def test_missing_dict_key_names_the_expected_keys():
    a = keras.Input(shape=(2,), name="a")
    model = keras.Model({"a": a}, keras.layers.Dense(1)(a))
    with pytest.raises(ValueError, match=r'Missing data for input "a"'):
        model({"z": torch.ones(1, 2)})


def test_trailing_axis_of_one_is_added_to_match_the_input():
    x = keras.Input(shape=(1,))
    model = keras.Model(x, keras.layers.Dense(2)(x))
    assert tuple(model(torch.ones(4)).shape) == (4, 2)


def test_graph_disconnected_raises():
    a, b = keras.Input(shape=(2,)), keras.Input(shape=(2,))
    out = keras.layers.Add()([a, b])
    with pytest.raises(ValueError, match="Graph disconnected"):
        keras.Model(a, out)


def test_non_symbolic_outputs_are_refused():
    with pytest.raises(ValueError, match="must be KerasTensors"):
        keras.Model(keras.Input(shape=(2,)), torch.ones(2))


def test_subclassed_layer_works_inside_a_functional_model():
    class Double(keras.Layer):
        def call(self, inputs):
            return inputs * 2

    x = keras.Input(shape=(3,))
    model = keras.Model(x, Double()(x))
    assert model(torch.ones(1, 3)).tolist() == [[2.0, 2.0, 2.0]]


def test_add_loss_inside_a_functional_model_reaches_model_losses():
    class Penalty(keras.Layer):
        def call(self, inputs):
            self.add_loss(keras.ops.sum(inputs))
            return inputs

    x = keras.Input(shape=(2,))
    model = keras.Model(x, Penalty()(x))
    model(torch.ones(3, 2))
    assert [float(v) for v in model.losses] == [6.0]


def test_shared_layer_is_listed_once_and_reused():
    shared = keras.layers.Dense(2, name="shared")
    a, b = keras.Input(shape=(3,)), keras.Input(shape=(3,))
    model = keras.Model([a, b], keras.layers.Add()([shared(a), shared(b)]))
    assert [layer.name for layer in model.layers].count("shared") == 1
    assert len(model.trainable_weights) == 2


def test_get_config_lists_layers_with_inbound_nodes():
    config = _two_dense().get_config()
    names = [layer["name"] for layer in config["layers"]]
    assert names == ["features", "hidden", "head"]
    head = config["layers"][2]["inbound_nodes"][0]["args"][0]
    assert head["config"]["keras_history"] == ["hidden", 0, 0]
    assert config["input_layers"] == ["features", 0, 0]
    assert config["output_layers"] == ["head", 0, 0]


def test_from_config_rebuilds_an_equivalent_graph():
    model = _two_dense()
    clone = Functional.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    x = torch.randn(4, 3)
    torch.testing.assert_close(clone(x), model(x), rtol=0, atol=0)
    assert [layer.name for layer in clone.layers] == ["features", "hidden", "head"]


def test_from_config_of_multi_output_model_keeps_output_order():
    a = keras.Input(shape=(2,), name="a")
    model = keras.Model(a, [keras.layers.Dense(1, name="p")(a), keras.layers.Dense(3, name="q")(a)])
    clone = Functional.from_config(model.get_config())
    assert [tuple(t.shape) for t in clone(torch.ones(2, 2))] == [(2, 1), (2, 3)]


def test_training_flag_reaches_layers_inside_the_graph():
    seen = []

    class Probe(keras.Layer):
        def call(self, inputs, training=None):
            seen.append(training)
            return inputs

    x = keras.Input(shape=(2,))
    model = keras.Model(x, Probe()(x))
    model(torch.ones(1, 2), training=True)
    model(torch.ones(1, 2), training=False)
    assert seen[-2:] == [True, False]


def test_a_layer_reused_downstream_of_a_later_layer_saves_and_reloads(tmp_path):
    inputs = keras.Input((4,))
    shared = keras.layers.Dense(4, name="shared")
    outputs = shared(keras.layers.Dense(4, name="middle")(shared(inputs)))
    model = keras.Model(inputs, outputs)
    nodes = {layer["name"]: layer["inbound_nodes"] for layer in model.get_config()["layers"]}
    second_call = nodes["shared"][1]["args"][0]["config"]["keras_history"]
    assert second_call == ["middle", 0, 0]
    model.save(tmp_path / "m.keras")
    x = np.ones((2, 4), "float32")
    restored = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(restored.predict(x, verbose=0), model.predict(x, verbose=0))
