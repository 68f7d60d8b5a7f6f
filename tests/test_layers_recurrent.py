"""SimpleRNN, LSTM, GRU and Bidirectional against torch.nn.RNN/LSTM/GRU with Keras weights."""

import pytest
import torch

import tritonlayers as keras
from tritonlayers import layers

TOL = {"rtol": 1e-5, "atol": 1e-5}


def _torch_lstm(layer):
    """torch.nn.LSTM with the Keras layer's weights (torch's i, f, g, o order is Keras's)."""
    cell = layer.cell
    units, input_dim = cell.units, cell.kernel.shape[0]
    ref = torch.nn.LSTM(input_dim, units, batch_first=True)
    with torch.no_grad():
        ref.weight_ih_l0.copy_(cell.kernel.T)
        ref.weight_hh_l0.copy_(cell.recurrent_kernel.T)
        ref.bias_ih_l0.copy_(cell.bias)
        ref.bias_hh_l0.zero_()
    return ref


def _torch_gru(layer):
    """torch.nn.GRU with the Keras (reset_after) weights: Keras (z, r, h) -> torch (r, z, n)."""
    cell = layer.cell
    units, input_dim = cell.units, cell.kernel.shape[0]

    def reorder(w):
        z, r, h = torch.chunk(w, 3, dim=-1)
        return torch.cat([r, z, h], dim=-1)

    ref = torch.nn.GRU(input_dim, units, batch_first=True)
    with torch.no_grad():
        ref.weight_ih_l0.copy_(reorder(cell.kernel).T)
        ref.weight_hh_l0.copy_(reorder(cell.recurrent_kernel).T)
        ref.bias_ih_l0.copy_(reorder(cell.bias[0]))
        ref.bias_hh_l0.copy_(reorder(cell.bias[1]))
    return ref


def _random_bias(layer):
    with torch.no_grad():
        layer.cell.bias.copy_(torch.randn_like(layer.cell.bias))


def test_lstm_sequences_and_states_match_torch_lstm():
    x = torch.randn(3, 6, 4)
    layer = layers.LSTM(5, return_sequences=True, return_state=True)
    layer(x)
    _random_bias(layer)
    sequences, h, c = layer(x)
    expected, (h_ref, c_ref) = _torch_lstm(layer)(x)
    torch.testing.assert_close(sequences, expected, **TOL)
    torch.testing.assert_close(h, h_ref[0], **TOL)
    torch.testing.assert_close(c, c_ref[0], **TOL)


def test_lstm_forget_bias_starts_at_one():
    layer = layers.LSTM(3)
    layer(torch.zeros(1, 2, 2))
    assert layer.cell.bias.tolist() == [0.0] * 3 + [1.0] * 3 + [0.0] * 6


def test_gru_reset_after_matches_torch_gru():
    x = torch.randn(3, 6, 4)
    layer = layers.GRU(5, return_sequences=True)
    layer(x)
    _random_bias(layer)
    expected, _ = _torch_gru(layer)(x)
    torch.testing.assert_close(layer(x), expected, **TOL)


def test_gru_bias_has_keras_shape_2_by_3_units():
    layer = layers.GRU(4)
    layer(torch.zeros(1, 2, 3))
    assert tuple(layer.cell.bias.shape) == (2, 12)


def test_gru_reset_before_matches_step_by_step_reference():
    x = torch.randn(2, 5, 3)
    layer = layers.GRU(4, reset_after=False, return_sequences=True)
    layer(x)
    _random_bias(layer)
    cell = layer.cell
    k, rk, b, u = cell.kernel.detach(), cell.recurrent_kernel.detach(), cell.bias.detach(), 4
    h, outputs = torch.zeros(2, u), []
    for t in range(5):
        xz, xr, xh = torch.chunk(x[:, t] @ k + b, 3, dim=-1)
        z = torch.sigmoid(xz + h @ rk[:, :u])
        r = torch.sigmoid(xr + h @ rk[:, u : 2 * u])
        candidate = torch.tanh(xh + (r * h) @ rk[:, 2 * u :])
        h = z * h + (1 - z) * candidate
        outputs.append(h)
    torch.testing.assert_close(layer(x), torch.stack(outputs, 1), **TOL)


def test_simple_rnn_matches_torch_rnn():
    x = torch.randn(3, 6, 4)
    layer = layers.SimpleRNN(5, return_sequences=True)
    layer(x)
    _random_bias(layer)
    ref = torch.nn.RNN(4, 5, batch_first=True)
    with torch.no_grad():
        ref.weight_ih_l0.copy_(layer.cell.kernel.T)
        ref.weight_hh_l0.copy_(layer.cell.recurrent_kernel.T)
        ref.bias_ih_l0.copy_(layer.cell.bias)
        ref.bias_hh_l0.zero_()
    torch.testing.assert_close(layer(x), ref(x)[0], **TOL)


def test_go_backwards_equals_forward_run_on_reversed_sequence():
    x = torch.randn(2, 5, 3)
    forward = layers.LSTM(4, return_sequences=True)
    forward(x)
    backward = layers.LSTM(4, return_sequences=True, go_backwards=True)
    backward(x)
    for target, source in zip(backward.weights, forward.weights):
        target.assign(source)
    torch.testing.assert_close(backward(x), forward(torch.flip(x, (1,))), **TOL)


def test_initial_state_is_used():
    x = torch.randn(2, 4, 3)
    layer = layers.LSTM(5, return_sequences=True)
    layer(x)
    h0, c0 = torch.randn(2, 5), torch.randn(2, 5)
    expected, _ = _torch_lstm(layer)(x, (h0[None], c0[None]))
    torch.testing.assert_close(layer(x, initial_state=[h0, c0]), expected, **TOL)


def test_masked_steps_carry_previous_output_and_state():
    x = torch.randn(2, 5, 3)
    mask = torch.tensor([[True, True, False, True, False], [True, False, False, False, False]])
    layer = layers.GRU(4, return_sequences=True, return_state=True)
    sequences, state = layer(x, mask=mask)
    # The unmasked steps of each row, run alone, give the same outputs and final state.
    for row in range(2):
        kept = x[row : row + 1, mask[row]]
        ref_sequences, ref_state = layer(kept)
        torch.testing.assert_close(sequences[row, mask[row]], ref_sequences[0], **TOL)
        torch.testing.assert_close(state[row], ref_state[0], **TOL)
    # A masked step repeats the previous step's output.
    torch.testing.assert_close(sequences[0, 2], sequences[0, 1])
    torch.testing.assert_close(sequences[1, 4], sequences[1, 0])


def test_bidirectional_concat_matches_two_torch_directions():
    x = torch.randn(2, 5, 3)
    layer = layers.Bidirectional(layers.LSTM(4, return_sequences=True))
    layer(x)
    forward = _torch_lstm(layer.forward_layer)(x)[0]
    backward = torch.flip(_torch_lstm(layer.backward_layer)(torch.flip(x, (1,)))[0], (1,))
    torch.testing.assert_close(layer(x), torch.cat([forward, backward], -1), **TOL)


def test_bidirectional_zeros_outputs_at_masked_steps():
    x = torch.randn(2, 4, 3)
    mask = torch.tensor([[True, True, True, False], [True, True, False, False]])
    out = layers.Bidirectional(layers.GRU(3, return_sequences=True))(x, mask=mask)
    assert torch.all(out[~mask] == 0)
    assert torch.all(out[mask] != 0)


def test_bidirectional_last_outputs_equal_unpadded_runs():
    x = torch.randn(2, 4, 3)
    mask = torch.tensor([[True, True, True, False], [True, True, False, False]])
    layer = layers.Bidirectional(layers.LSTM(3), merge_mode="concat")
    out = layer(x, mask=mask)
    for row in range(2):
        torch.testing.assert_close(out[row], layer(x[row : row + 1, mask[row]])[0], **TOL)


def test_rnn_dropout_is_off_at_inference():
    x = torch.randn(2, 4, 3)
    layer = layers.LSTM(3, dropout=0.5, recurrent_dropout=0.5, seed=7)
    reference = layers.LSTM(3)
    reference(x)
    layer(x)
    for target, source in zip(reference.weights, layer.cell.weights[:3]):
        target.assign(source)
    torch.testing.assert_close(layer(x, training=False), reference(x))
    assert not torch.allclose(layer(x, training=True), reference(x))


def test_rnn_dropout_is_reproducible_with_seed():
    x = torch.randn(2, 4, 3)
    first, second = (layers.GRU(3, dropout=0.3, recurrent_dropout=0.3, seed=11) for _ in "ab")
    first(x)
    second(x)
    for target, source in zip(second.cell.weights[:3], first.cell.weights[:3]):
        target.assign(source)
    torch.testing.assert_close(first(x, training=True), second(x, training=True))


def test_stateful_lstm_carries_state_between_calls():
    x = torch.randn(2, 6, 3)
    whole = layers.LSTM(4)
    whole(x)
    stateful = layers.LSTM(4, stateful=True)
    stateful(x[:, :3])
    stateful.reset_states()
    for target, source in zip(stateful.cell.weights, whole.cell.weights):
        target.assign(source)
    stateful(x[:, :3])
    torch.testing.assert_close(stateful(x[:, 3:]), whole(x), **TOL)
    stateful.reset_states()
    torch.testing.assert_close(stateful(x[:, :3]), whole(x[:, :3]), **TOL)


@pytest.mark.parametrize("cell", [layers.SimpleRNNCell, layers.LSTMCell, layers.GRUCell])
def test_cell_step_equals_one_step_layer(cell):
    x = torch.randn(2, 1, 3)
    layer = layers.RNN(cell(4), return_state=True)
    out, *states = layer(x)
    initial = [torch.zeros(2, 4) for _ in states]
    step_out, step_states = layer.cell(x[:, 0], initial)
    torch.testing.assert_close(step_out, out)
    for got, expected in zip(step_states, states):
        torch.testing.assert_close(got, expected)


def test_lstm_and_bidirectional_under_mixed_bfloat16_return_bfloat16_close_to_float32():
    x = torch.randn(2, 5, 3)
    policy = "mixed_bfloat16"
    mixed = layers.Bidirectional(layers.LSTM(4, return_sequences=True, dtype=policy), dtype=policy)
    full = layers.Bidirectional(layers.LSTM(4, return_sequences=True))
    mixed(x)
    full(x)
    for target, source in zip(full.weights, mixed.weights):
        target.assign(source)
    out = mixed(x)
    assert out.dtype == torch.bfloat16
    assert mixed.forward_layer(x).dtype == torch.bfloat16
    torch.testing.assert_close(out.float(), full(x), rtol=3e-2, atol=3e-2)


def test_bidirectional_on_symbolic_input_creates_both_directions_weights():
    layer = layers.Bidirectional(layers.GRU(3))
    output = layer(keras.Input(shape=(None, 4)))
    assert output.shape == (None, 6)
    assert [tuple(w.shape) for w in layer.weights] == [(4, 9), (3, 9), (2, 9)] * 2
