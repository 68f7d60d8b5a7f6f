"""Regressions found by running three keras.io programs with only the import changed:
"Character-level recurrent sequence-to-sequence model" (LSTM encoder/decoder with
`return_state`, saved, reloaded, and split into inference models built from the loaded
model's layers), "Timeseries classification with a Transformer model" (LayerNormalization,
MultiHeadAttention, Conv1D, EarlyStopping) and "Using pre-trained word embeddings" (a frozen
Embedding from a matrix, Conv1D/MaxPooling1D, and an end-to-end model on raw strings).
Expected values were checked against Keras 3.15 (torch backend) on the same code; where a
value depends on weights, the weights are set to the same fixed values in both.
"""

import warnings

import numpy as np
import pytest
import torch

import tritonlayers as keras
from tritonlayers import layers, ops


def _fill(model) -> None:
    """Give `model` fixed weights (the same ones the Keras run was given)."""
    model.set_weights(
        [
            0.3 * np.sin(np.arange(w.size) * 0.37 + i).reshape(w.shape).astype("float32")
            for i, w in enumerate(model.get_weights())
        ]
    )


# ------------------------------------------------------------- character-level seq2seq


def _seq2seq(encoder_tokens: int, decoder_tokens: int, latent: int) -> keras.Model:
    encoder_inputs = keras.Input(shape=(None, encoder_tokens))
    _, state_h, state_c = layers.LSTM(latent, return_state=True)(encoder_inputs)
    decoder_inputs = keras.Input(shape=(None, decoder_tokens))
    decoder_lstm = layers.LSTM(latent, return_sequences=True, return_state=True)
    decoder_outputs, _, _ = decoder_lstm(decoder_inputs, initial_state=[state_h, state_c])
    outputs = layers.Dense(decoder_tokens, activation="softmax")(decoder_outputs)
    return keras.Model([encoder_inputs, decoder_inputs], outputs)


def test_seq2seq_trains_reloads_and_decodes_with_models_made_from_the_loaded_layers(
    tmp_path, capsys
):
    rng = np.random.default_rng(0)
    encoder_data = np.eye(7, dtype="float32")[rng.integers(0, 7, (12, 5))]
    decoder_data = np.eye(9, dtype="float32")[rng.integers(0, 9, (12, 6))]
    targets = np.eye(9, dtype="float32")[rng.integers(0, 9, (12, 6))]
    model = _seq2seq(7, 9, 8)
    assert [layer.count_params() for layer in model.layers] == [0, 0, 512, 576, 81]
    _fill(model)
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(
        [encoder_data, decoder_data], targets, batch_size=4, epochs=2,
        validation_split=0.25, shuffle=False, verbose=2,
    )  # fmt: skip
    # Keras 3.15 on the same weights and data: these logs and these two epoch lines.
    np.testing.assert_allclose(history.history["loss"], [2.2374196, 2.2312832], rtol=1e-5)
    np.testing.assert_allclose(history.history["val_loss"], [2.2248363, 2.2235920], rtol=1e-5)
    assert list(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    lines = [line for line in capsys.readouterr().out.splitlines() if "step" in line]
    assert lines[0].startswith("3/3 - ") and lines[0].endswith(
        "accuracy: 0.0370 - loss: 2.2374 - val_accuracy: 0.2778 - val_loss: 2.2248"
    )
    model.save(tmp_path / "s2s.keras")
    model = keras.models.load_model(tmp_path / "s2s.keras")

    # The example's inference models, built from the loaded model's layers.
    encoder_states = list(model.layers[2].output[1:])
    encoder_model = keras.Model(model.input[0], encoder_states)
    state_inputs = [keras.Input(shape=(8,)), keras.Input(shape=(8,))]
    decoder_lstm = model.layers[3]
    decoder_outputs, state_h, state_c = decoder_lstm(model.input[1], initial_state=state_inputs)
    decoder_outputs = model.layers[4](decoder_outputs)
    decoder_model = keras.Model(
        [model.input[1], *state_inputs], [decoder_outputs, state_h, state_c]
    )
    states = encoder_model.predict(encoder_data[:1], verbose=0)
    assert [s.shape for s in states] == [(1, 8), (1, 8)]
    target = np.zeros((1, 1, 9), "float32")
    target[0, 0, 0] = 1.0
    decoded = []
    for _ in range(4):
        tokens, h, c = decoder_model.predict([target, *states], verbose=0)
        decoded.append(int(np.argmax(tokens[0, -1])))
        target = np.eye(9, dtype="float32")[decoded[-1]][None, None]
        states = [h, c]
    # Step by step, the split models give the full model's teacher-forced prediction.
    forced = np.zeros((1, 4, 9), "float32")
    forced[0, 0, 0] = 1.0
    forced[0, 1:, :] = np.eye(9, dtype="float32")[decoded[:3]]
    full = model.predict([encoder_data[:1], forced], verbose=0)
    assert np.argmax(full[0], axis=-1).tolist() == decoded


def test_recurrent_layers_with_return_state_return_a_tuple_as_keras():
    # Keras 3.15 returns `(output, *states)` as a tuple, eagerly and symbolically (so that
    # `[out] + lstm(x)[1:]` fails as in Keras); `layer.output` of a functional model's
    # node stays a list.
    x = np.zeros((2, 4, 3), "float32")
    for layer_class in (layers.LSTM, layers.GRU, layers.SimpleRNN):
        layer = layer_class(2, return_state=True)
        symbolic = layer(keras.Input((None, 3)))
        assert type(symbolic) is tuple and len(symbolic) == (3 if layer_class is layers.LSTM else 2)
        assert type(layer(x)) is tuple
        assert type(layer.output) is list
        assert type(layer.compute_output_shape((None, 4, 3))) is tuple
    both = layers.Bidirectional(layers.LSTM(2, return_state=True))
    assert type(both(x)) is tuple and len(both(x)) == 5
    split = layers.Bidirectional(layers.LSTM(2), merge_mode=None)
    assert type(split(x)) is tuple and type(split(keras.Input((None, 3)))) is tuple
    conv = layers.ConvLSTM1D(2, 3, return_state=True)
    assert type(conv(np.zeros((2, 4, 5, 3), "float32"))) is tuple


def test_functional_model_keeps_tuple_outputs_and_returns_a_lone_output_alone():
    # Keras 3.15: a model whose outputs are the LSTM's tuple returns tuples (from a call,
    # predict, its config and from_config); one output given in a list or a tuple comes
    # back alone from a call and from predict; tuple inputs stay a tuple.
    x = np.zeros((2, 4, 3), "float32")
    inputs = keras.Input((None, 3))
    model = keras.Model(inputs, layers.LSTM(2, return_state=True)(inputs))
    assert type(model.output) is tuple and type(model.outputs) is list
    assert type(model(x)) is tuple and type(model.predict(x, verbose=0)) is tuple
    name = model.layers[1].name
    assert model.get_config()["output_layers"] == ([name, 0, 0], [name, 0, 1], [name, 0, 2])
    assert type(keras.Model.from_config(model.get_config())(x)) is tuple
    features = keras.Input((3,))
    dense = layers.Dense(2)(features)
    for outputs in ([dense], (dense,)):
        lone = keras.Model(features, outputs)
        assert isinstance(lone(np.zeros((2, 3), "float32")), torch.Tensor)
        assert isinstance(lone.predict(np.zeros((2, 3), "float32"), verbose=0), np.ndarray)
    assert type(keras.Model((features,), (dense,)).input) is tuple


def test_unnamed_keras_tensors_take_keras_automatic_names():
    # Keras 3.15 names every unnamed KerasTensor keras_tensor, keras_tensor_1, ... (an
    # `Input` too: its tensor takes the `name` given, not its layer's name); its error for
    # an input of the wrong rank names the tensor.
    keras.utils.clear_session()
    inputs = keras.Input((3,))
    hidden = layers.Dense(2)(inputs)
    assert (inputs.name, hidden.name) == ("keras_tensor", "keras_tensor_1")
    assert repr(hidden).endswith("ragged=False, name=keras_tensor_1>")
    assert keras.Input((3,), name="features").name == "features"
    model = keras.Model(inputs, hidden)
    with pytest.raises(ValueError, match="with name 'keras_tensor' and path ''"):
        model(np.zeros((2, 3, 4), "float32"))
    with pytest.raises(ValueError, match="Input 0 with name 'input_layer' of layer 'functional"):
        model(np.zeros((2, 5), "float32"))


# ------------------------------------------------------ timeseries transformer classifier


def _transformer_encoder(inputs, head_size, num_heads, ff_dim, dropout):
    x = layers.LayerNormalization(epsilon=1e-6)(inputs)
    x = layers.MultiHeadAttention(key_dim=head_size, num_heads=num_heads, dropout=dropout)(x, x)
    x = layers.Dropout(dropout)(x)
    res = x + inputs
    x = layers.LayerNormalization(epsilon=1e-6)(res)
    x = layers.Conv1D(filters=ff_dim, kernel_size=1, activation="relu")(x)
    x = layers.Dropout(dropout)(x)
    x = layers.Conv1D(filters=inputs.shape[-1], kernel_size=1)(x)
    return x + res


def _timeseries_classifier() -> keras.Model:
    inputs = keras.Input(shape=(10, 1))
    x = inputs
    for _ in range(2):
        x = _transformer_encoder(x, head_size=8, num_heads=2, ff_dim=4, dropout=0.25)
    x = layers.GlobalAveragePooling1D(data_format="channels_last")(x)
    x = layers.Dense(8, activation="relu")(x)
    x = layers.Dropout(0.4)(x)
    return keras.Model(inputs, layers.Dense(2, activation="softmax")(x))


_MHA_KEYS = [
    "name", "trainable", "dtype", "num_heads", "key_dim", "value_dim", "dropout", "use_bias",
    "use_gate", "output_shape", "attention_axes", "sliding_window", "kernel_initializer",
    "bias_initializer", "kernel_regularizer", "bias_regularizer", "activity_regularizer",
    "kernel_constraint", "bias_constraint", "seed",
]  # fmt: skip


def test_timeseries_transformer_evaluates_trains_and_configures_as_keras(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(24, 10, 1)).astype("float32")
    y = rng.integers(0, 2, 24)
    model = _timeseries_classifier()
    assert model.count_params() == 294
    _fill(model)
    model.compile(
        loss="sparse_categorical_crossentropy",
        optimizer=keras.optimizers.Adam(learning_rate=1e-4),
        metrics=["sparse_categorical_accuracy"],
    )
    x_test = rng.normal(size=(16, 10, 1)).astype("float32")
    y_test = rng.integers(0, 2, 16)
    # evaluate reports the mean crossentropy and the accuracy of the predictions.
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    predictions = model.predict(x_test, verbose=0)
    expected = -np.mean(np.log(predictions[np.arange(16), y_test]))
    assert loss == pytest.approx(expected, rel=1e-5)
    assert accuracy == pytest.approx(np.mean(predictions.argmax(-1) == y_test))
    stop = keras.callbacks.EarlyStopping(patience=2, restore_best_weights=True)
    history = model.fit(
        x, y, validation_split=0.25, epochs=3, batch_size=6, callbacks=[stop], verbose=0
    )
    assert list(history.history) == [
        "loss", "sparse_categorical_accuracy", "val_loss", "val_sparse_categorical_accuracy",
    ]  # fmt: skip
    attention = next(layer for layer in model.layers if "multi_head" in layer.name)
    config = attention.get_config()
    assert list(config) == _MHA_KEYS
    assert config["attention_axes"] == (1,) and config["use_gate"] is False
    norm = model.layers[1].get_config()
    assert norm["axis"] == [-1] and list(norm)[3:9] == [
        "axis", "epsilon", "center", "scale", "rms_scaling", "beta_initializer",
    ]  # fmt: skip
    before = model.predict(x_test, verbose=0)
    model.save(tmp_path / "ts.keras")
    reloaded = keras.models.load_model(tmp_path / "ts.keras")
    np.testing.assert_allclose(reloaded.predict(x_test, verbose=0), before, atol=1e-6)


def test_timeseries_transformer_metrics_match_keras_on_fixed_weights():
    # The Keras probe: rng(0) drew a (12, 5) and two (12, 6) index arrays, then these.
    rng = np.random.default_rng(0)
    for size in ((12, 5), (12, 6), (12, 6)):
        rng.integers(0, 7, size)
    x = rng.normal(size=(16, 10, 1)).astype("float32")
    y = rng.integers(0, 2, 16)
    model = _timeseries_classifier()
    _fill(model)
    model.compile(loss="sparse_categorical_crossentropy", metrics=["sparse_categorical_accuracy"])
    loss, accuracy = model.evaluate(x, y, verbose=0)
    assert (loss, accuracy) == (pytest.approx(0.6758297, rel=1e-5), 0.625)


def test_layer_normalization_arguments_config_and_errors_follow_keras():
    # Keras 3.15: the fifth positional argument is beta_initializer; rms_scaling is a
    # deprecated keyword that warns, keeps `center` as given and still makes a gamma;
    # `axis` becomes a sorted list when built; a wrong feature size fails in torch's
    # layer_norm with its message.
    positional = layers.LayerNormalization(-1, 1e-3, True, True, "ones")
    assert isinstance(positional.beta_initializer, keras.initializers.Ones)
    with pytest.warns(UserWarning, match="`rms_scaling=True`, which is deprecated"):
        rms = layers.LayerNormalization(rms_scaling=True, scale=False)
    rms(np.ones((2, 3), "float32"))
    assert [w.path.split("/")[-1] for w in rms.weights] == ["gamma"]
    assert rms.get_config()["center"] is True
    norm = layers.LayerNormalization(axis=[2, 1])
    assert norm.get_config()["axis"] == [2, 1]
    norm(np.ones((2, 3, 4), "float32"))
    assert norm.get_config()["axis"] == [1, 2]
    last = layers.LayerNormalization()
    last(np.ones((2, 1), "float32"))
    with pytest.raises(RuntimeError, match=r"Expected weight to be of same shape as "
                       r"normalized_shape, but got weight of shape \[1\] and "
                       r"normalized_shape = \[3\]"):  # fmt: skip
        last(np.ones((2, 3), "float32"))


def test_multi_head_attention_gate_sliding_window_and_masked_rows_as_keras():
    # Keras 3.15 takes use_gate (a sigmoid gate on the attention output, weights `gate/*`
    # built between key and value), sliding_window (|i - j| < w) and flash_attention; on
    # its fused path a fully masked query row averages the values.
    rng = np.random.default_rng(0)
    q = torch.as_tensor(rng.normal(size=(2, 4, 6)).astype("float32"))
    v = torch.as_tensor(rng.normal(size=(2, 5, 6)).astype("float32"))
    gated = layers.MultiHeadAttention(num_heads=2, key_dim=3, use_gate=True)
    gated(q, v)
    assert [w.path.split("/", 1)[1] for w in gated.weights][:6] == [
        "query/kernel", "query/bias", "key/kernel", "key/bias", "gate/kernel", "gate/bias",
    ]  # fmt: skip
    plain = layers.MultiHeadAttention(num_heads=2, key_dim=3)
    plain(q, v)
    weights = gated.get_weights()
    plain.set_weights(weights[:4] + weights[6:])  # the same weights without the gate
    with torch.no_grad():
        _, scores = plain(q, v, return_attention_scores=True)
        heads = torch.einsum("bhts,bshk->bthk", scores, plain._value_dense(v))
        gate = torch.sigmoid(torch.einsum("btd,dhk->bthk", q, gated._gate_dense.kernel) +
                             gated._gate_dense.bias)  # fmt: skip
        expected = plain._output_dense(heads * gate)
        torch.testing.assert_close(gated(q, v), expected, atol=1e-5, rtol=1e-5)

        band = layers.MultiHeadAttention(num_heads=2, key_dim=3, sliding_window=2)
        band(q, v)
        band.set_weights(plain.get_weights())
        distance = torch.arange(4)[:, None] - torch.arange(5)[None, :]
        mask = (distance.abs() < 2).expand(2, 4, 5)
        torch.testing.assert_close(band(q, v), plain(q, v, attention_mask=mask))

        mask = torch.ones(2, 4, 5, dtype=torch.bool)
        mask[0, 1] = False
        masked = plain(q, v, attention_mask=mask)
        mean_value = plain._value_dense(v)[0].mean(0)  # (heads, value_dim)
        row = plain._output_dense(mean_value[None, None])[0, 0]
        torch.testing.assert_close(masked[0, 1], row, atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="`sliding_window` must be `None` or a positive"):
        layers.MultiHeadAttention(2, 3, sliding_window=0)
    with pytest.raises(ValueError, match="Dropout is not supported when flash attention"):
        layers.MultiHeadAttention(2, 3, dropout=0.1, flash_attention=True)
    restored = layers.MultiHeadAttention.from_config(gated.get_config())
    restored(q, v)
    assert len(restored.weights) == 10


# ------------------------------------------------------------- pre-trained word embeddings


def _word_classifier(embedding: layers.Embedding) -> keras.Model:
    inputs = keras.Input(shape=(None,), dtype="int64")
    x = embedding(inputs)
    x = layers.Conv1D(16, 3, activation="relu")(x)
    x = layers.MaxPooling1D(2)(x)
    x = layers.Conv1D(16, 3, activation="relu")(x)
    x = layers.GlobalMaxPooling1D()(x)
    x = layers.Dense(16, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    return keras.Model(inputs, layers.Dense(3, activation="softmax")(x))


def test_pretrained_embeddings_stay_frozen_and_the_end_to_end_model_reads_raw_strings(tmp_path):
    rng = np.random.default_rng(0)
    matrix = rng.normal(size=(14, 6)).astype("float32")
    embedding = layers.Embedding(14, 6, trainable=False)
    embedding.build((1,))
    embedding.set_weights([matrix])
    model = _word_classifier(embedding)
    # Keras 3.15: 1,495 parameters, of which the 84 of the embedding are non-trainable.
    assert (model.count_params(), len(model.non_trainable_weights)) == (1495, 1)
    model.compile(loss="sparse_categorical_crossentropy", optimizer="rmsprop", metrics=["acc"])
    history = model.fit(
        rng.integers(0, 12, (32, 12)), rng.integers(0, 3, 32), batch_size=16, epochs=1,
        validation_split=0.25, verbose=0,
    )  # fmt: skip
    assert list(history.history) == ["acc", "loss", "val_acc", "val_loss"]
    np.testing.assert_array_equal(embedding.get_weights()[0], matrix)

    # The example's end-to-end model: a string Input, a fixed-vocabulary TextVectorization.
    vocabulary = ["the", "cat", "dog", "sat", "on", "mat", "ran", "fast", "a", "bird"]
    vectorizer = layers.TextVectorization(
        max_tokens=14, output_sequence_length=12, vocabulary=vocabulary
    )
    string_input = keras.Input(shape=(1,), dtype="string")
    assert string_input.dtype == "string"
    end_to_end = keras.Model(string_input, model(vectorizer(string_input)))
    texts = np.array([["the cat sat on the mat"], ["a dog ran fast"]])
    probabilities = end_to_end.predict(texts, verbose=0)
    expected = model.predict(ops.convert_to_numpy(vectorizer(texts)), verbose=0)
    np.testing.assert_allclose(probabilities, expected, atol=1e-6)
    direct = ops.convert_to_numpy(end_to_end(texts[:1]))
    np.testing.assert_allclose(direct, expected[:1], atol=1e-6)
    end_to_end.save(tmp_path / "end_to_end.keras")
    reloaded = keras.models.load_model(tmp_path / "end_to_end.keras")
    np.testing.assert_allclose(reloaded.predict(texts, verbose=0), expected, atol=1e-6)

    lookup_input = keras.Input(shape=(None,), dtype="string")
    by_token = keras.Model(lookup_input, model(layers.StringLookup(vocabulary=vocabulary)(
        lookup_input)))  # fmt: skip
    tokens = np.array([["the", "cat", "sat", "on", "a", "mat"] * 2])
    assert by_token.predict(tokens, verbose=0).shape == (1, 3)


def test_embedding_from_a_constant_matrix_matches_keras_metrics_on_fixed_weights():
    # The Keras probe's draws: three index arrays and the timeseries data come first.
    rng = np.random.default_rng(0)
    for size in ((12, 5), (12, 6), (12, 6)):
        rng.integers(0, 7, size)
    rng.normal(size=(16, 10, 1))
    rng.integers(0, 2, 16)
    x, y = rng.integers(0, 14, (16, 12)), rng.integers(0, 3, 16)
    matrix = np.linspace(-1.0, 1.0, 84, dtype="float32").reshape(14, 6)
    embedding = layers.Embedding(
        14, 6, embeddings_initializer=keras.initializers.Constant(matrix), trainable=False
    )
    model = _word_classifier(embedding)
    np.testing.assert_array_equal(embedding.get_weights()[0], matrix)
    _fill(model)
    model.compile(loss="sparse_categorical_crossentropy", metrics=["acc"])
    loss, accuracy = model.evaluate(x, y, verbose=0)
    assert (loss, accuracy) == (pytest.approx(1.1197978, rel=1e-5), 0.3125)


def test_weights_of_the_wrong_shape_fail_with_keras_messages():
    # Keras 3.15: a Constant that does not broadcast fails in `value * ones(shape)` with
    # torch's message; set_weights names the layer and both shapes.
    big = layers.Embedding(
        14, 6, embeddings_initializer=keras.initializers.Constant(np.ones((3, 6)))
    )
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(3\) must match the size "
                       r"of tensor b \(14\) at non-singleton dimension 0"):  # fmt: skip
        big(np.array([[1]]))
    embedding = layers.Embedding(14, 6)
    embedding.build((1,))
    with pytest.raises(ValueError) as error:
        embedding.set_weights([np.ones((3, 6), "float32")])
    assert str(error.value) == (
        f"Layer {embedding.name} weight shape (14, 6) is not compatible with provided weight "
        "shape (3, 6)."
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert keras.initializers.Constant(2.0)((2,)).tolist() == [2.0, 2.0]
