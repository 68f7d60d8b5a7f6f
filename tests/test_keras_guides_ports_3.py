"""keras.io developer guides (Keras 3) run with only the import changed, compared with Keras.

"Working with preprocessing layers", "Making new layers and models via subclassing" and the
dict / clone parts of "The Functional API" were run on tiny synthetic data under Keras 3.15
(torch backend) and under tritonlayers. The lookup, hashing and discretization layers need
TensorFlow in Keras, so their numbers are the ones the keras.io guide and the Keras
docstrings print; the rest were compared with a Keras 3.15 run. Tests that pin a fixed
difference say so.
"""

import numpy as np
import pytest

import tritonlayers as keras
from tritonlayers import layers, ops

DATA = np.array([[0.1, 0.2, 0.3], [0.8, 0.9, 1.0], [1.5, 1.6, 1.7]], dtype="float32")


def _np(x):
    return np.asarray(x.detach().cpu().numpy() if hasattr(x, "detach") else x)


# ------------------------------------------------------------ preprocessing layers guide


def test_normalization_adapt_then_model_save_load_round_trip(tmp_path):
    layer = layers.Normalization()
    layer.adapt(DATA)
    inputs = keras.Input(shape=(3,))
    model = keras.Model(inputs, layer(inputs))
    # Keras 3.15: +-1.2247 on the outer rows, 0 in the middle.
    expected = np.array([[-1.2247] * 3, [0.0] * 3, [1.2247] * 3])
    np.testing.assert_allclose(model.predict(DATA, verbose=0), expected, atol=1e-4)
    model.save(tmp_path / "n.keras")
    reloaded = keras.models.load_model(tmp_path / "n.keras")
    np.testing.assert_allclose(reloaded.predict(DATA, verbose=0), expected, atol=1e-4)


def test_normalization_invert_with_given_mean_and_variance():
    layer = layers.Normalization(mean=[0.5, 1, 2], variance=[1, 4, 9], invert=True)
    expected = DATA.astype("float64") * np.sqrt([1, 4, 9]) + [0.5, 1, 2]
    np.testing.assert_allclose(_np(layer(DATA)), expected, atol=1e-6)


def test_string_lookup_adapt_orders_by_count_then_token_descending():
    # The keras.io guide prints [[5 3 1] [1 2 4]] for this data.
    data = np.array([["a", "c", "d"], ["d", "z", "b"]])
    layer = layers.StringLookup()
    layer.adapt(data)
    assert layer.get_vocabulary() == ["[UNK]", "d", "z", "c", "b", "a"]
    assert _np(layer(data)).tolist() == [[5, 3, 1], [1, 2, 4]]


def test_integer_lookup_adapt_matches_guide():
    # The keras.io guide prints [[5 2 1] [1 3 4]] for this data.
    data = np.array([[12, 1138, 42], [42, 1000, 36]])
    layer = layers.IntegerLookup()
    layer.adapt(data)
    assert _np(layer(data)).tolist() == [[5, 2, 1], [1, 3, 4]]


def test_string_lookup_tf_idf_gives_oov_the_mean_idf_weight():
    layer = layers.StringLookup(
        vocabulary=["a", "b", "c", "d"], output_mode="tf_idf", idf_weights=[0.1, 0.2, 0.3, 0.4]
    )
    out = _np(layer(np.array([["d", "z", "b"]])))
    np.testing.assert_allclose(out, [[0.25, 0.0, 0.2, 0.0, 0.4]], atol=1e-6)


def test_hashing_matches_keras_docstring_numbers():
    inputs = np.array([["A"], ["B"], ["C"], ["D"], ["E"]])
    assert _np(layers.Hashing(num_bins=3)(inputs)).ravel().tolist() == [1, 0, 1, 1, 2]
    assert _np(layers.Hashing(num_bins=3, salt=133)(inputs)).ravel().tolist() == [0, 0, 2, 1, 0]


def test_discretization_adapt_matches_keras_docstring_numbers():
    data = np.array([[-1.5, 1.0, 3.4, 0.5], [0.0, 3.0, 1.3, 0.0]])
    layer = layers.Discretization(num_bins=4, epsilon=0.01)
    layer.adapt(data)
    assert _np(layer(data)).tolist() == [[0, 2, 3, 2], [1, 3, 3, 1]]


def test_category_encoding_config_has_keras_keys_only():
    # Fixed: the config carried an extra "sparse" key that Keras 3.15 does not write.
    config = layers.CategoryEncoding(num_tokens=4, output_mode="count").get_config()
    assert sorted(config) == ["dtype", "name", "num_tokens", "output_mode", "trainable"]


def test_category_encoding_count_weights_numbers():
    layer = layers.CategoryEncoding(num_tokens=4, output_mode="count")
    ids = np.array([[0, 1], [0, 0], [1, 2], [3, 1]])
    weights = np.array([[0.1, 0.2], [0.1, 0.1], [0.2, 0.3], [0.4, 0.2]])
    expected = np.zeros((4, 4))
    for row, (i, w) in enumerate(zip(ids, weights)):
        np.add.at(expected[row], i, w)
    np.testing.assert_allclose(_np(layer(ids, count_weights=weights)), expected, atol=1e-6)


def test_text_vectorization_int_pads_batch_to_longest_sequence():
    text = np.array(["The Brain is wider than the Sky", "With ease and You beside"])
    layer = layers.TextVectorization(output_mode="int")
    layer.adapt(text)
    out = _np(layer(np.array(["the sky", "with ease and you"])))
    assert out.shape == (2, 4)
    assert out[0, 2:].tolist() == [0, 0]


# ------------------------------------------------------------ subclassing guide


class _Encoder(layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.proj = layers.Dense(4)

    def call(self, inputs):
        return self.proj(inputs)


class _Wrapper(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.encoder = _Encoder(name="encoder")
        self.head = layers.Dense(2, name="head")

    def call(self, inputs):
        return self.head(self.encoder(inputs))


def test_subclassed_model_summary_shows_unknown_shape_for_user_layer(capsys):
    # Fixed: Keras 3.15 prints "?" for a user layer without `compute_output_shape` (called
    # eagerly inside a subclassed model) but the shape for a built-in Dense.
    model = _Wrapper()
    model(np.ones((5, 3), "float32"))
    model.summary()
    lines = capsys.readouterr().out.splitlines()
    encoder_line = next(line for line in lines if "encoder (_Encoder)" in line)
    head_line = next(line for line in lines if "head (Dense)" in line)
    assert "?" in encoder_line
    assert "(5, 2)" in head_line


def test_add_loss_in_nested_layer_resets_each_call():
    class ActivityRegularization(layers.Layer):
        def call(self, inputs):
            self.add_loss(0.01 * ops.mean(inputs))
            return inputs

    class Outer(layers.Layer):
        def __init__(self):
            super().__init__()
            self.reg = ActivityRegularization()

        def call(self, inputs):
            return self.reg(inputs)

    layer = Outer()
    layer(np.ones((1, 1), "float32"))
    layer(np.ones((1, 1), "float32"))
    assert len(layer.losses) == 1
    np.testing.assert_allclose(float(_np(layer.losses[0])), 0.01, rtol=1e-6)


def test_functional_model_add_loss_on_symbolic_tensor_is_rejected():
    # Keras 3.15 raises a bare NotImplementedError here; tritonlayers a ValueError that says
    # why (deliberate difference).
    inputs = keras.Input((3,))
    model = keras.Model(inputs, layers.Dense(2)(inputs))
    with pytest.raises(ValueError, match="add_loss"):
        model.add_loss(ops.mean(model.outputs[0]))


# ------------------------------------------------------------ functional API guide


def _dict_model():
    a = keras.Input((3,), name="a")
    b = keras.Input((2,), name="b")
    hidden = layers.Concatenate()([a, b])
    o1 = layers.Dense(1, name="o1", kernel_initializer="ones")(hidden)
    o2 = layers.Dense(2, name="o2", kernel_initializer="ones")(hidden)
    return keras.Model(inputs={"a": a, "b": b}, outputs={"x1": o1, "x2": o2})


def test_dict_output_model_output_names_are_layer_names():
    # Fixed: output_names gave the dict keys; Keras 3.15 gives the output layers' names.
    model = _dict_model()
    assert model.output_names == ["o1", "o2"]


def test_dict_model_called_on_dict_of_arrays_returns_dict_and_trains_by_key():
    model = _dict_model()
    x = {"a": np.ones((4, 3), "float32"), "b": np.ones((4, 2), "float32")}
    out = model(x)
    assert sorted(out) == ["x1", "x2"]
    np.testing.assert_allclose(_np(out["x2"]), np.full((4, 2), 5.0))
    model.compile("sgd", loss={"x1": "mse", "x2": "mse"})
    history = model.fit(x, {"x1": np.zeros((4, 1)), "x2": np.zeros((4, 2))}, verbose=0)
    assert sorted(history.history) == ["loss", "x1_loss", "x2_loss"]


def test_sparse_input_is_rejected_like_keras_on_torch():
    with pytest.raises(ValueError, match="`sparse=True` is not supported with the torch"):
        keras.Input(shape=(4,), sparse=True)


def test_clone_model_get_layer_returns_new_layers_by_name_and_index():
    inputs = keras.Input((3,), name="inp")
    hidden = layers.Dense(4, name="d1")(inputs)
    model = keras.Model(inputs, layers.Dense(2, name="d2")(hidden))
    clone = keras.models.clone_model(model)
    assert [layer.name for layer in clone.layers] == ["inp", "d1", "d2"]
    assert clone.get_layer("d1") is not model.get_layer("d1")
    assert clone.get_layer(index=1).name == "d1"
    with pytest.raises(ValueError, match="nope"):
        clone.get_layer("nope")


def test_dict_inputs_with_keys_unlike_input_names_warn():
    # Fixed: Keras 3.15 warns when a dict key is not the name of its Input; no warning was given.
    a = keras.Input((3,), name="first")
    with pytest.warns(UserWarning, match="Received key 'x'"):
        keras.Model({"x": a}, layers.Dense(1)(a))


def test_keras_tensor_repr_lists_ragged_like_keras():
    # Fixed: Keras 3.15's repr includes "ragged=False" between sparse and name.
    tensor = keras.Input((3,), name="zz")
    assert repr(tensor) == (
        "<KerasTensor shape=(None, 3), dtype=float32, sparse=False, ragged=False, name=zz>"
    )


def test_normalization_config_writes_given_mean_through_numpy_like_keras():
    # Fixed: Keras 3.15 writes mean=[0.5, 1, 2] as [0.5, 1.0, 2.0] (and keeps int variance).
    config = layers.Normalization(mean=[0.5, 1, 2], variance=[1, 4, 9]).get_config()
    assert config["mean"] == [0.5, 1.0, 2.0]
    assert all(isinstance(v, float) for v in config["mean"])
    assert config["variance"] == [1, 4, 9]
    assert layers.Normalization(mean=0.5, variance=4.0).get_config()["mean"] == 0.5


def test_dict_model_called_with_an_extra_key_warns_and_ignores_it():
    # Fixed: Keras 3.15 warns that the structure of `inputs` does not match; it was silent.
    model = _dict_model()
    x = {"a": np.ones((1, 3), "float32"), "b": np.ones((1, 2), "float32")}
    with pytest.warns(UserWarning, match="structure of `inputs` doesn't match"):
        out = model({**x, "z": np.ones((1, 1), "float32")})
    np.testing.assert_allclose(_np(out["x1"]), [[5.0]])
