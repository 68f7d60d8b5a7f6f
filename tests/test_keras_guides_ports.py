"""Regressions found by running keras.io's developer guides (Functional API, Sequential
model, writing a training loop from scratch, working with RNNs) with only the import
changed. Expected values were checked against Keras 3.15 (torch backend) on the same code.
"""

import numpy as np
import pytest
import torch

import tritonlayers as keras
from tritonlayers import layers


def _small_sequential(name=None):
    return keras.Sequential(
        [keras.Input((4,)), layers.Dense(2, name="d1"), layers.Dense(3, name="d2")], name=name
    )


# ------------------------------------------------------------------ The Sequential model


def test_sequential_builds_when_first_layer_is_a_built_model():
    # Guide: transfer learning with `keras.Sequential([base_model, layers.Dense(...)])`.
    base = keras.Sequential(
        [keras.Input((8, 8, 3)), layers.Conv2D(4, 3), layers.GlobalAveragePooling2D()]
    )
    base.trainable = False
    model = keras.Sequential([base, layers.Dense(5)])
    # Keras 3.15: built, (None, 5), 137 params, 2 trainable / 2 non-trainable weights.
    assert model.built
    assert model.output_shape == (None, 5)
    assert model.count_params() == 137
    assert (len(model.trainable_weights), len(model.non_trainable_weights)) == (2, 2)


def test_sequential_with_unbuilt_first_layer_stays_unbuilt():
    model = keras.Sequential([layers.Dense(2), layers.Dense(1)])
    assert not model.built
    with pytest.raises(AttributeError, match="inputs"):
        _ = model.inputs


def test_nested_sequential_output_is_the_outer_call_output():
    # Guide: `keras.Model(model.inputs, [layer.output for layer in model.layers])`.
    inner = _small_sequential("inner")
    x = keras.Input((4,))
    y = inner(x)
    outer = keras.Model(x, layers.Dense(1, name="head")(y))
    assert inner.output is y and inner.input is x
    assert inner.outputs[0] is not y  # `outputs` stays the stack's own graph, as in Keras
    extractor = keras.Model(outer.inputs, [layer.output for layer in outer.layers])
    features = extractor(np.ones((2, 4), "float32"))
    assert [tuple(f.shape) for f in features] == [(2, 4), (2, 3), (2, 1)]
    torch.testing.assert_close(features[2], outer(np.ones((2, 4), "float32")))


def test_unnested_sequential_output_is_its_own_symbolic_output():
    model = _small_sequential()
    assert model.output is model.outputs[0]
    assert tuple(model.output.shape) == (None, 3)


# ------------------------------------------------------------------ Working with RNNs


def test_rnn_wraps_a_list_of_cells_in_stacked_cells():
    layer = layers.RNN([layers.LSTMCell(3), layers.GRUCell(2)], return_sequences=True)
    assert isinstance(layer.cell, layers.StackedRNNCells)
    assert tuple(layer(np.ones((2, 5, 4), "float32")).shape) == (2, 5, 2)
    stacked = layers.RNN(layers.StackedRNNCells(layer.cell.cells), return_sequences=True)
    x = torch.randn(2, 5, 4)
    torch.testing.assert_close(stacked(x), layer(x), rtol=0, atol=0)
    restored = layers.RNN.from_config(layer.get_config())
    assert [type(c).__name__ for c in restored.cell.cells] == ["LSTMCell", "GRUCell"]


def test_stacked_cells_return_state_nests_states_per_cell_and_accept_them_back():
    layer = layers.RNN([layers.LSTMCell(3), layers.GRUCell(2)], return_state=True)
    output, lstm_states, gru_states = layer(np.ones((2, 5, 4), "float32"))
    # Keras 3.15 (eager): (2, 2), [(2, 3), (2, 3)], [(2, 2)].
    assert tuple(output.shape) == (2, 2)
    assert [tuple(s.shape) for s in lstm_states] == [(2, 3), (2, 3)]
    assert [tuple(s.shape) for s in gru_states] == [(2, 2)]
    again = layer(np.ones((2, 5, 4), "float32"), initial_state=[lstm_states, gru_states])
    assert [tuple(s.shape) for s in again[1]] == [(2, 3), (2, 3)]
    symbolic = layer(keras.Input((5, 4)))
    assert [tuple(s.shape) for s in symbolic[1]] == [(None, 3), (None, 3)]


def test_stateful_rnn_states_are_not_weights():
    model = keras.Sequential([keras.Input(batch_shape=(2, 6, 3)), layers.LSTM(3, stateful=True)])
    lstm = model.layers[0]
    # Keras 3.15: 3 weights, 84 params, no non-trainable weight; two "rnn_state" variables.
    assert len(model.weights) == 3 and len(model.get_weights()) == 3
    assert model.count_params() == 84 and model.non_trainable_weights == []
    assert [s.name for s in lstm.states] == ["rnn_state", "rnn_state"]
    x = torch.randn(2, 6, 3)
    first, second = model(x), model(x)
    assert not torch.allclose(first, second)
    lstm.reset_state()
    torch.testing.assert_close(model(x), first)


def test_stateful_rnn_model_saves_and_loads_without_states(tmp_path):
    model = keras.Sequential([keras.Input(batch_shape=(2, 6, 3)), layers.GRU(2, stateful=True)])
    x = torch.randn(2, 6, 3)
    model(x)  # carried states are not saved: the reloaded model starts from zeros
    model.save(tmp_path / "stateful.keras")
    restored = keras.models.load_model(tmp_path / "stateful.keras")
    # The loader creates variables uninitialized; states, not in the file, must be zeros.
    assert all(torch.count_nonzero(state) == 0 for state in restored.layers[0].states)
    model.layers[0].reset_states()
    torch.testing.assert_close(restored(x), model(x))


# ------------------------------------------------- The Functional API / training loops


def test_functional_guide_multi_io_dict_losses_history_keys():
    title, tags = keras.Input((None,), name="title"), keras.Input((3,), name="tags")
    features = layers.concatenate([layers.LSTM(4)(layers.Embedding(10, 4)(title)), tags])
    priority = layers.Dense(1, name="priority")(features)
    department = layers.Dense(2, name="department")(features)
    model = keras.Model([title, tags], {"priority": priority, "department": department})
    model.compile(
        optimizer="rmsprop",
        loss={
            "priority": keras.losses.BinaryCrossentropy(from_logits=True),
            "department": keras.losses.CategoricalCrossentropy(from_logits=True),
        },
        loss_weights={"priority": 1.0, "department": 0.2},
    )
    rng = np.random.default_rng(0)
    inputs = {"title": rng.integers(0, 10, (8, 5)), "tags": rng.random((8, 3), "float32")}
    targets = {"priority": rng.random((8, 1)), "department": np.eye(2)[rng.integers(0, 2, 8)]}
    history = model.fit(inputs, targets, batch_size=4, epochs=1, verbose=0)
    # Keras 3.15: ['department_loss', 'loss', 'priority_loss'].
    assert sorted(history.history) == ["department_loss", "loss", "priority_loss"]


def test_fit_step_ignores_gradients_left_by_a_custom_loop():
    # Guide: a hand-written torch loop (`loss.backward()` + `optimizer.apply`) leaves `.grad`
    # on the weights; a later `train_on_batch` must start from zero, as Keras's does.
    def make():
        model = keras.Sequential([keras.Input((5,)), layers.Dense(3)])
        model.set_weights([np.arange(15, dtype="float32").reshape(5, 3) / 10, np.ones(3, "f")])
        model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(True))
        return model

    x, y = np.linspace(-1, 1, 20, dtype="float32").reshape(4, 5), np.array([0, 1, 2, 1])
    dirty, clean = make(), make()
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(y, dirty(x))
    loss.backward()
    dirty.train_on_batch(x, y)
    clean.train_on_batch(x, y)
    for got, want in zip(dirty.get_weights(), clean.get_weights()):
        np.testing.assert_allclose(got, want, rtol=0, atol=0)


def test_metric_variable_paths_are_scoped_by_metric_name():
    # Keras 3.15: ['sparse_categorical_accuracy/total', 'sparse_categorical_accuracy/count'].
    metric = keras.metrics.SparseCategoricalAccuracy()
    assert [v.path for v in metric.variables] == [
        "sparse_categorical_accuracy/total",
        "sparse_categorical_accuracy/count",
    ]
    metric.update_state(torch.tensor([0, 1]), torch.tensor([[0.9, 0.1], [0.8, 0.2]]))
    assert float(metric.result()) == 0.5
    metric.reset_state()
    assert float(metric.result()) == 0.0


def test_functional_input_check_ignores_the_batch_size():
    # A Sequential built by its first call on a batch of 3 keeps that batch in its input;
    # Keras's functional models accept any batch size all the same.
    model = keras.Sequential([layers.Dense(2)])
    model(np.ones((3, 5), "float32"))
    assert model.input_shape == (3, 5)
    extractor = keras.Model(model.inputs, model.layers[0].output)
    assert tuple(extractor(np.ones((1, 5), "float32")).shape) == (1, 2)
    with pytest.raises(ValueError, match=r"expected shape=\(None, 5\), found shape=\(1, 4\)"):
        extractor(np.ones((1, 4), "float32"))


def test_stateful_rnn_errors_use_keras_wording():
    with pytest.raises(ValueError, match="the batch size must be static. Found dynamic batch"):
        keras.Sequential([keras.Input((10, 5)), layers.LSTM(4, stateful=True)])
    lstm = layers.LSTM(4, stateful=True)
    lstm(np.ones((2, 3, 5), "float32"))
    with pytest.raises(ValueError, match="- Expected batch size: 2\n- Received batch size: 3"):
        lstm(np.ones((3, 3, 5), "float32"))


def test_bidirectional_checks_its_backward_layer_and_wrapped_layer():
    with pytest.raises(ValueError, match="should have different `go_backwards` value"):
        layers.Bidirectional(layers.LSTM(2), backward_layer=layers.LSTM(2))
    mismatch = layers.LSTM(2, go_backwards=True, return_sequences=True)
    with pytest.raises(ValueError, match='same value for attribute "return_sequences"'):
        layers.Bidirectional(layers.LSTM(2), backward_layer=mismatch)
    with pytest.raises(ValueError, match="`Bidirectional` wraps a recurrent layer.*Dense"):
        layers.Bidirectional(layers.Dense(2))


def test_stateful_bidirectional_resets_both_directions():
    layer = layers.Bidirectional(layers.LSTM(2, stateful=True))
    x = torch.randn(2, 3, 4)
    first = layer(x)
    assert not torch.allclose(layer(x), first)
    assert len(layer.states) == 4  # forward (h, c) then backward (h, c), as in Keras
    layer.reset_states()
    torch.testing.assert_close(layer(x), first)
    layer.reset_state()
    torch.testing.assert_close(layer(x), first)
    assert layers.Bidirectional(layers.LSTM(2)).states is None
    with pytest.raises(AttributeError, match="Layer must be stateful"):
        layers.Bidirectional(layers.LSTM(2)).reset_states()
