"""Model: subclassing, functional construction through __new__, layers, get_layer, saving hooks."""

import json

import numpy as np
import pytest
import torch

import tritonlayers as keras
from tritonlayers.models.functional import Functional


class TwoLayers(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hidden = keras.layers.Dense(4, activation="relu", name="hidden")
        self.out = keras.layers.Dense(1, name="out")

    def call(self, inputs):
        return self.out(self.hidden(inputs))


def test_subclassed_model_is_a_layer_and_a_torch_module():
    model = TwoLayers(name="two")
    assert isinstance(model, keras.Layer) and isinstance(model, torch.nn.Module)
    assert model.name == "two"
    assert type(model) is TwoLayers


def test_model_with_inputs_and_outputs_becomes_functional():
    x = keras.Input(shape=(2,))
    assert type(keras.Model(x, keras.layers.Dense(1)(x))) is Functional
    assert type(keras.Model(inputs=x, outputs=keras.layers.Dense(1)(x))) is Functional


def test_subclass_built_from_inputs_and_outputs_is_functional_and_keeps_its_methods():
    class Tagged(keras.Model):
        def tag(self):
            return "mine"

    x = keras.Input(shape=(2,))
    model = Tagged(x, keras.layers.Dense(1)(x))
    assert isinstance(model, Functional) and isinstance(model, Tagged)
    assert model.tag() == "mine"
    assert tuple(model(torch.ones(3, 2)).shape) == (3, 1)


def test_overridden_train_step_drives_fit_without_a_compiled_loss():
    class Custom(keras.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = keras.layers.Dense(1, kernel_initializer="zeros")
            self.calls = 0

        def call(self, x):
            return self.dense(x)

        def train_step(self, data):
            x, y = data
            self.calls += 1
            loss = keras.ops.mean(keras.ops.square(self(x, training=True) - y))
            loss.backward()
            self.optimizer.step(self.trainable_variables)
            return {"custom_loss": loss.detach()}

    model = Custom()
    model.compile(optimizer=keras.optimizers.SGD(0.1))
    history = model.fit(np.ones((8, 2)), np.ones((8, 1)), batch_size=4, epochs=2, verbose=0)
    assert model.calls == 4
    assert list(history.history) == ["custom_loss"]
    assert history.history["custom_loss"][1] < history.history["custom_loss"][0]


def test_evaluate_dict_is_ordered_by_name_like_keras():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    logs = model.evaluate(np.ones((4, 3)), np.zeros(4), verbose=0, return_dict=True)
    assert list(logs) == ["accuracy", "loss"]


def _two_output_model():
    inputs = keras.Input((3,))
    a = keras.layers.Dense(1, name="a", kernel_initializer="ones")(inputs)
    b = keras.layers.Dense(2, name="b", kernel_initializer="ones")(inputs)
    model = keras.Model(inputs, [a, b])
    model.compile(optimizer="sgd", loss=["mse", "mae"], metrics=[["mae"], ["mse"]])
    return model


def test_lists_of_multi_output_logs_follow_keras_order_loss_output_losses_then_metrics():
    # Outputs are 3 and (3, 3) against zeros: mse 9 and mae 3 (values from Keras 3.15).
    x, targets = np.ones((4, 3), "float32"), [np.zeros((4, 1)), np.zeros((4, 2))]
    model = _two_output_model()
    assert model.evaluate(x, targets, verbose=0) == [12.0, 9.0, 3.0, 3.0, 9.0]
    assert model.test_on_batch(x, targets) == [12.0, 9.0, 3.0, 3.0, 9.0]
    loss, a_loss, b_loss, a_mae, b_mse = model.train_on_batch(x, targets)
    assert loss == pytest.approx(a_loss + b_loss)
    assert a_mae**2 == pytest.approx(a_loss) and b_loss**2 == pytest.approx(b_mse)


def test_layers_lists_direct_sublayers_in_assignment_order():
    model = TwoLayers()
    assert [layer.name for layer in model.layers] == ["hidden", "out"]


def test_get_layer_by_name_and_index():
    model = TwoLayers()
    assert model.get_layer("out") is model.out
    assert model.get_layer(index=0) is model.hidden


def test_get_layer_errors_use_keras_wording():
    model = TwoLayers()
    with pytest.raises(
        ValueError, match=r"No such layer: nope. Existing layers are: \['hidden', 'out'\]"
    ):
        model.get_layer("nope")
    with pytest.raises(ValueError, match="model only has 2 layers"):
        model.get_layer(index=5)
    with pytest.raises(ValueError, match="Provide only a layer name or a layer index"):
        model.get_layer("out", 1)
    with pytest.raises(ValueError, match="Provide either a layer name or layer index"):
        model.get_layer()


def test_compile_does_not_add_optimizer_state_to_model_variables():
    model = TwoLayers()
    model(torch.ones(2, 3))
    before = len(model.variables)
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.ones((4, 3)), np.ones((4, 1)), verbose=0)
    assert len(model.variables) == before == 4


def test_fit_on_a_subclassed_model_builds_it_lazily():
    model = TwoLayers()
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.ones((4, 3)), np.ones((4, 1)), verbose=0)
    assert model.built and len(model.trainable_weights) == 4


def test_get_and_set_weights_round_trip():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    weights = [np.full(w.shape, 0.5, dtype="float32") for w in model.get_weights()]
    model.set_weights(weights)
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), weights))


def test_to_json_describes_the_model():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="d")], name="seq")
    config = json.loads(model.to_json())
    assert config["class_name"] == "Sequential"
    assert config["config"]["name"] == "seq"
    clone = keras.models.model_from_json(model.to_json())
    assert [layer.name for layer in clone.layers] == ["d"]


def test_save_and_load_model_predict_the_same(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.ones((4, 3)), np.ones((4, 2)), verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)
    restored = keras.models.load_model(path)
    x = np.random.rand(5, 3).astype("float32")
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))
    assert type(restored.optimizer).__name__ == "Adam"


def test_save_weights_and_load_weights(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    path = tmp_path / "w.weights.safetensors"
    model.save_weights(path)
    other = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    other.load_weights(path)
    assert all(np.array_equal(a, b) for a, b in zip(other.get_weights(), model.get_weights()))


def test_functional_model_saves_and_loads(tmp_path):
    x = keras.Input(shape=(3,), name="x")
    model = keras.Model(x, keras.layers.Dense(2, name="head")(keras.layers.Dense(4)(x)))
    path = tmp_path / "functional.keras"
    model.save(path)
    restored = keras.models.load_model(path)
    probe = np.random.rand(2, 3).astype("float32")
    np.testing.assert_array_equal(
        restored.predict(probe, verbose=0), model.predict(probe, verbose=0)
    )


def test_model_from_config_rebuilds_a_functional_graph_or_a_subclass():
    x = keras.Input(shape=(2,))
    functional = keras.Model(x, keras.layers.Dense(1)(x))
    assert type(keras.Model.from_config(functional.get_config())) is Functional

    class Sized(keras.Model):
        def __init__(self, units=3, **kwargs):
            super().__init__(**kwargs)
            self.units = units

    assert Sized.from_config({"units": 5, "name": "s"}).units == 5


def test_clone_model_of_a_functional_model_has_new_weights_and_the_same_graph():
    a, b = keras.Input(shape=(2,), name="a"), keras.Input(shape=(3,), name="b")
    joined = keras.layers.Concatenate()([a, b])
    model = keras.Model([a, b], keras.layers.Dense(1, name="head")(joined))
    twin = keras.models.clone_model(model)
    assert [layer.name for layer in twin.layers] == [layer.name for layer in model.layers]
    assert all(x is not y for x, y in zip(twin.weights, model.weights))
    twin.set_weights(model.get_weights())
    inputs = [torch.randn(4, 2), torch.randn(4, 3)]
    torch.testing.assert_close(twin(inputs), model(inputs), rtol=0, atol=0)


def test_clone_model_applies_clone_function_to_each_layer():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2), keras.layers.Dense(1)])
    seen = []

    def clone(layer):
        seen.append(layer.name)
        return type(layer).from_config(layer.get_config())

    twin = keras.models.clone_model(model, clone_function=clone)
    assert seen == [layer.name for layer in model.layers]
    assert twin.built and twin.output_shape == (None, 1)


def test_models_save_model_writes_a_loadable_archive(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    keras.models.save_model(model, tmp_path / "m.keras")
    assert type(keras.models.load_model(tmp_path / "m.keras")).__name__ == "Sequential"
