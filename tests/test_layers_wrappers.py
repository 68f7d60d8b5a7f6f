"""Wrapper, SpectralNormalization, TorchModuleWrapper, EinsumDense, ReversibleEmbedding,
StackedRNNCells, SeparableConv1D, SpatialDropout3D, layers.serialize/deserialize.

References are float64 torch computations from the same weights. Each layer's outputs were
also compared with Keras 3.15 (torch backend) on copied weights in a scratch script: all
matched to 0 (EinsumDense for 6 equations, ReversibleEmbedding both ways with tied and
untied weights, SpectralNormalization over 3 calls on Dense and Conv2D, SeparableConv1D in
both data formats, RNN over StackedRNNCells of LSTM/GRU/SimpleRNN cells); the weight orders
and state sizes asserted below are Keras's from that script.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from layer_core_support import layer_core_state  # noqa: F401

import tritonlayers as keras
from tritonlayers import layers
from tritonlayers.saving.serialization_lib import DeserializationError


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def _round_trip(layer):
    return type(layer).from_config(layer.get_config())


def _fit_save_load(model, x, y, tmp_path, **load_kwargs):
    """Fit one epoch (the loss must fall), save, load: predictions must match."""
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    path = tmp_path / "model.keras"
    model.save(path)
    restored = keras.saving.load_model(path, **load_kwargs)
    np.testing.assert_allclose(
        restored.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-6
    )
    return restored


# ------------------------------------------------------------------------------ Wrapper


def test_wrapper_calls_the_inner_layer_and_serializes_it():
    wrapper = layers.Wrapper(layers.Dense(3))
    x = torch.tensor(_rand(2, 4))
    torch.testing.assert_close(wrapper(x), wrapper.layer(x))
    assert wrapper.get_config()["layer"]["class_name"] == "Dense"
    assert wrapper.compute_output_shape((None, 4)) == (None, 3)
    restored = _round_trip(wrapper)
    assert isinstance(restored.layer, layers.Dense) and restored.layer.units == 3


def test_wrapper_rejects_what_is_not_a_layer():
    with pytest.raises(ValueError, match="supplied to Wrapper isn't a supported layer type"):
        layers.Wrapper(torch.nn.Linear(2, 2))


def test_time_distributed_is_a_wrapper_with_the_same_config():
    td = layers.TimeDistributed(layers.Dense(2), name="td")
    assert isinstance(td, layers.Wrapper)
    assert list(td.get_config()) == ["name", "trainable", "dtype", "layer"]
    assert _round_trip(td).layer.units == 2


# ------------------------------------------------------------------ SpectralNormalization


def _spectral_reference(kernel, vector_u, iterations):
    """float64 power method on `kernel` reshaped to (-1, last): (u, kernel / sigma)."""
    w = kernel.double().reshape(-1, kernel.shape[-1])
    u = vector_u.double()
    for _ in range(iterations):
        v = u @ w.T
        v = v / v.norm()
        u = v @ w
        u = u / u.norm()
    sigma = (v @ w) @ u.T
    return u, (w / sigma).reshape(kernel.shape)


def test_spectral_normalization_training_call_matches_float64_power_method():
    layer = layers.SpectralNormalization(layers.Dense(4), power_iterations=2)
    x = torch.tensor(_rand(3, 5))
    layer.build((None, 5))
    kernel, u = layer.layer.kernel.detach().clone(), layer.vector_u.detach().clone()
    bias = torch.tensor(_rand(4, seed=1))
    layer.layer.bias.assign(bias)
    out = layer(x, training=True)
    u_ref, kernel_ref = _spectral_reference(kernel, u, 2)
    expected = x.double() @ kernel_ref + bias.double()
    torch.testing.assert_close(out.double(), expected, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(layer.vector_u.double(), u_ref, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(layer.layer.kernel.double(), kernel_ref, rtol=1e-5, atol=1e-6)


def test_spectral_normalization_converges_to_unit_spectral_norm_on_a_conv_kernel():
    layer = layers.SpectralNormalization(layers.Conv2D(3, 2), power_iterations=30)
    layer(torch.ones(1, 4, 4, 2), training=True)
    matrix = layer.layer.kernel.detach().double().reshape(-1, 3)
    assert float(torch.linalg.matrix_norm(matrix, ord=2)) == pytest.approx(1.0, abs=1e-4)


def test_spectral_normalization_inference_call_leaves_the_kernel_alone():
    layer = layers.SpectralNormalization(layers.Dense(4))
    x = torch.tensor(_rand(3, 5))
    layer(x)
    kernel = layer.layer.kernel.detach().clone()
    torch.testing.assert_close(layer(x), layer.layer(x))
    torch.testing.assert_close(layer.layer.kernel.detach(), kernel)


def test_spectral_normalization_weights_in_keras_order_and_config_round_trip():
    layer = layers.SpectralNormalization(layers.Dense(4), power_iterations=3)
    layer.build((None, 5))
    assert [w.name for w in layer.weights] == ["kernel", "vector_u", "bias"]
    assert [w.name for w in layer.trainable_weights] == ["kernel", "bias"]
    config = layer.get_config()
    assert config["power_iterations"] == 3
    restored = _round_trip(layer)
    assert restored.power_iterations == 3 and isinstance(restored.layer, layers.Dense)


def test_spectral_normalization_errors_name_the_problem():
    with pytest.raises(ValueError, match="`power_iterations` should be greater than zero"):
        layers.SpectralNormalization(layers.Dense(2), power_iterations=0)
    with pytest.raises(ValueError, match="has no attribute 'kernel' nor 'embeddings'"):
        layers.SpectralNormalization(layers.Dropout(0.1), name="sn")(torch.ones(2, 3))


def test_spectral_normalization_fits_saves_and_loads(tmp_path):
    inputs = keras.Input((5,))
    outputs = layers.SpectralNormalization(layers.Dense(1))(inputs)
    model = keras.Model(inputs, outputs)
    x = _rand(32, 5)
    restored = _fit_save_load(model, x, x.sum(1, keepdims=True), tmp_path)
    assert restored.layers[1].vector_u.shape == (1, 1)


# --------------------------------------------------------------------- TorchModuleWrapper


def test_torch_module_wrapper_tracks_the_module_parameters():
    module = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    layer = layers.TorchModuleWrapper(module)
    assert [w.name for w in layer.trainable_weights] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert all(w is p for w, p in zip(layer.trainable_weights, module.parameters()))
    assert [name for name, _ in layer.named_parameters()] == [
        "module.0.weight",
        "module.0.bias",
        "module.2.weight",
        "module.2.bias",
    ]
    x = torch.tensor(_rand(5, 3))
    torch.testing.assert_close(layer(x), module(x))


def test_torch_module_wrapper_keeps_buffers_as_non_trainable_weights():
    module = torch.nn.BatchNorm1d(3)
    layer = layers.TorchModuleWrapper(module)
    assert [w.name for w in layer.non_trainable_weights] == [
        "running_mean",
        "running_var",
        "num_batches_tracked",
    ]
    layer(torch.tensor(_rand(8, 3)) + 2.0, training=True)
    assert float(layer.non_trainable_weights[0].mean()) > 0.1  # updated by the module
    assert layer.non_trainable_weights[0] is module.running_mean


def test_torch_module_wrapper_training_flag_switches_train_and_eval_modes():
    module = torch.nn.Dropout(0.5)
    layer = layers.TorchModuleWrapper(module)
    x = torch.ones(100)
    torch.testing.assert_close(layer(x, training=False), x)
    assert not module.training
    assert (layer(x, training=True) == 0).any() and module.training


def test_torch_module_wrapper_fit_updates_the_module_and_save_needs_unsafe_mode(tmp_path):
    module = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
    before = module[0].weight.detach().clone()
    inputs = keras.Input((3,))
    model = keras.Model(inputs, layers.TorchModuleWrapper(module)(inputs))
    x = _rand(32, 3)
    path_kwargs = {"safe_mode": False}
    _fit_save_load(model, x, x.sum(1, keepdims=True), tmp_path, **path_kwargs)
    assert not torch.equal(before, module[0].weight.detach())
    with pytest.raises(ValueError, match="deserialization of a `torch.nn.Module`"):
        keras.saving.load_model(tmp_path / "model.keras")


def test_torch_module_wrapper_weights_file_round_trip(tmp_path):
    inputs = keras.Input((3,))
    model = keras.Model(inputs, layers.TorchModuleWrapper(torch.nn.Linear(3, 2))(inputs))
    model.save_weights(tmp_path / "w.weights.safetensors")
    other_inputs = keras.Input((3,))
    other = keras.Model(
        other_inputs, layers.TorchModuleWrapper(torch.nn.Linear(3, 2))(other_inputs)
    )
    other.load_weights(tmp_path / "w.weights.safetensors")
    for mine, theirs in zip(model.weights, other.weights):
        torch.testing.assert_close(mine.detach(), theirs.detach())


def test_torch_module_wrapper_from_config_refuses_pickle_in_safe_mode():
    layer = layers.TorchModuleWrapper(torch.nn.Linear(2, 2), output_shape=(None, 2))
    config = layer.get_config()
    assert set(config) == {"name", "trainable", "dtype", "module", "output_shape"}
    with pytest.raises(DeserializationError, match="arbitrary code execution"):
        layers.TorchModuleWrapper.from_config(config)
    restored = layers.TorchModuleWrapper.from_config(config, safe_mode=False)
    x = torch.ones(1, 2)
    torch.testing.assert_close(restored(x), layer(x))
    assert restored.compute_output_shape((None, 2)) == (None, 2)


def test_torch_module_wrapper_rejects_non_modules_and_uninitialized_lazy_modules():
    with pytest.raises(
        ValueError, match="TorchModuleWrapper: `module` must be a `torch.nn.Module`"
    ):
        layers.TorchModuleWrapper(lambda x: x)
    with pytest.raises(ValueError, match="LazyModules are not supported"):
        layers.TorchModuleWrapper(torch.nn.LazyLinear(2))


def test_torch_module_wrapper_to_dtype_keeps_variables_shared():
    layer = layers.TorchModuleWrapper(torch.nn.Linear(3, 2))
    layer.to(torch.float64)
    assert layer.module.weight.dtype == torch.float64
    assert layer.trainable_weights[0] is layer.module.weight


# --------------------------------------------------------------------------- EinsumDense

EINSUM_CASES = [
    ("ab,bc->ac", 4, "c", (2, 3)),
    ("abc,cd->abd", (None, 4), "d", (2, 5, 3)),
    ("...b,bc->...c", 4, "c", (2, 5, 6, 3)),
    ("abc,cde->abde", (None, 2, 4), "de", (2, 5, 3)),
    ("ab...,bc->ac...", (4,), "c", (2, 3, 5)),
    ("abc,cd->abd", (5, 4), None, (2, 5, 3)),
]


@pytest.mark.parametrize("equation, output_shape, bias_axes, input_shape", EINSUM_CASES)
def test_einsum_dense_matches_float64_einsum(equation, output_shape, bias_axes, input_shape):
    layer = layers.EinsumDense(equation, output_shape, bias_axes=bias_axes, activation="tanh")
    x = torch.tensor(_rand(*input_shape))
    out = layer(x)
    expected = torch.einsum(equation, x.double(), layer.kernel.detach().double())
    if layer.bias is not None:
        layer.bias.assign(torch.tensor(_rand(*layer.bias.shape, seed=3)))
        out = layer(x)
        expected = expected + layer.bias.detach().double()
    torch.testing.assert_close(out.double(), torch.tanh(expected), rtol=1e-5, atol=1e-6)
    assert layer.compute_output_shape(input_shape) == tuple(out.shape)


def test_einsum_dense_kernel_shapes_match_keras():
    shapes = []
    for equation, output_shape, bias_axes, input_shape in EINSUM_CASES:
        layer = layers.EinsumDense(equation, output_shape, bias_axes=bias_axes)
        layer.build(input_shape)
        shapes.append([tuple(w.shape) for w in layer.weights])
    assert shapes == [
        [(3, 4), (4,)],
        [(3, 4), (4,)],
        [(3, 4), (4,)],
        [(3, 2, 4), (2, 4)],
        [(3, 4), (4, 1)],
        [(3, 4)],
    ]


def test_einsum_dense_glorot_counts_kernel_input_and_output_axes():
    # Keras: fan_in = 64 (axis c), fan_out = 8 * 16 (axes d, e): limit sqrt(6 / 192).
    layer = layers.EinsumDense("abc,cde->abde", (None, 8, 16), bias_axes="de")
    layer.build((None, 5, 64))
    limit = np.sqrt(6.0 / (64 + 128))
    peak = float(layer.kernel.detach().abs().max())
    assert 0.99 * limit < peak <= limit


def test_einsum_dense_config_round_trip():
    layer = layers.EinsumDense("abc,cd->abd", (None, 4), bias_axes="d", activation="relu")
    config = layer.get_config()
    assert config["output_shape"] == (None, 4) and config["equation"] == "abc,cd->abd"
    restored = _round_trip(layer)
    assert restored.get_config() == config


def test_einsum_dense_bad_equation_and_mismatched_shapes_are_errors():
    with pytest.raises(ValueError, match="Invalid einsum equation 'ab->b'"):
        layers.EinsumDense("ab->b", 3)(torch.ones(2, 3))
    with pytest.raises(ValueError, match='Layer "ed".*do not match at shared dimension'):
        layers.EinsumDense("abc,cd->abd", (7, 4), name="ed")(torch.ones(2, 5, 3))
    with pytest.raises(ValueError, match="names 2 input axes, but the input has rank 3"):
        layers.EinsumDense("ab,bc->ac", 3)(torch.ones(2, 5, 3))


def test_einsum_dense_fits_saves_and_loads(tmp_path):
    inputs = keras.Input((5, 3))
    hidden = layers.EinsumDense("abc,cd->abd", (None, 4), bias_axes="d")(inputs)
    model = keras.Model(inputs, layers.EinsumDense("abc,bc->a", (), bias_axes=None)(hidden))
    assert model.output.shape == (None,)
    x = _rand(32, 5, 3)
    _fit_save_load(model, x, x.sum((1, 2)), tmp_path)


# -------------------------------------------------------------------- ReversibleEmbedding


def test_reversible_embedding_forward_is_a_lookup_with_padding_mask():
    layer = layers.ReversibleEmbedding(10, 4, mask_zero=True)
    ids = torch.tensor([[1, 2, 0], [3, 0, 9]])
    out = layer(ids)
    torch.testing.assert_close(out, layer.embeddings.detach()[ids])
    assert out._keras_mask.tolist() == [[True, True, False], [True, False, True]]


@pytest.mark.parametrize("tie_weights", [True, False])
def test_reversible_embedding_reverse_matches_float64_projection(tie_weights):
    layer = layers.ReversibleEmbedding(10, 4, tie_weights=tie_weights, logit_soft_cap=2.0)
    layer.build(None)
    hidden = torch.tensor(_rand(2, 3, 4))
    kernel = layer.embeddings.T if tie_weights else layer.reverse_embeddings
    logits = hidden.double() @ kernel.detach().double()
    expected = torch.tanh(logits / 2.0) * 2.0
    out = layer(hidden, reverse=True)
    torch.testing.assert_close(out.double(), expected, rtol=1e-5, atol=1e-6)
    names = [w.name for w in layer.weights]
    assert names == (["embeddings"] if tie_weights else ["embeddings", "reverse_embeddings"])


def test_reversible_embedding_reverse_dtype_sets_the_matmul_dtype():
    layer = layers.ReversibleEmbedding(6, 3, reverse_dtype="float64")
    layer.build(None)
    out = layer(torch.ones(2, 3), reverse=True)
    assert out.dtype == torch.float64
    torch.testing.assert_close(
        out, torch.ones(2, 3).double() @ layer.embeddings.detach().double().T
    )


def test_reversible_embedding_output_shapes_and_config_round_trip():
    layer = layers.ReversibleEmbedding(10, 4, tie_weights=False, logit_soft_cap=30.0)
    assert layer.compute_output_shape((2, 3)) == (2, 3, 4)
    assert layer.compute_output_shape((2, 3, 4), reverse=True) == (2, 3, 10)
    config = layer.get_config()
    assert (config["tie_weights"], config["reverse_dtype"], config["logit_soft_cap"]) == (
        False,
        None,
        30.0,
    )
    assert _round_trip(layer).get_config() == config


def test_reversible_embedding_reverse_rejects_the_wrong_hidden_size():
    layer = layers.ReversibleEmbedding(10, 4, name="tok")
    layer.build(None)
    with pytest.raises(ValueError, match='Layer "tok".*output_dim=4'):
        layer(torch.ones(2, 3, 5), reverse=True)


def test_reversible_embedding_shares_its_weights_between_both_directions(tmp_path):
    # Two inputs: the reverse call's input does not come from the embedding itself, since
    # a functional config of a layer reused downstream of a later layer does not serialize
    # yet (functional.get_config indexes nodes layer by layer).
    ids, hidden_in = keras.Input((3,), dtype="int32"), keras.Input((3, 4))
    embedding = layers.ReversibleEmbedding(8, 4)
    logits = embedding(hidden_in, reverse=True)
    assert logits.shape == (None, 3, 8)
    summed = layers.Add()([embedding(ids), layers.Dense(4)(hidden_in)])
    model = keras.Model([ids, hidden_in], layers.Concatenate()([summed, logits]))
    assert len(model.weights) == 3  # embeddings (used twice), Dense kernel and bias
    rng = np.random.default_rng(0)
    x = [rng.integers(0, 8, size=(32, 3)).astype("int32"), _rand(32, 3, 4)]
    y = np.concatenate([_rand(32, 3, 4, seed=1), np.eye(8, dtype="float32")[x[0]]], axis=-1)
    _fit_save_load(model, x, y, tmp_path)


# ------------------------------------------------------------------------ StackedRNNCells


def test_stacked_cells_rnn_equals_stacked_rnn_layers():
    cells = [layers.LSTMCell(4), layers.GRUCell(3), layers.SimpleRNNCell(2)]
    stacked = layers.RNN(layers.StackedRNNCells(cells), return_sequences=True)
    x = torch.tensor(_rand(2, 5, 3))
    out = stacked(x)
    chain = [
        layers.RNN(layers.LSTMCell(4), return_sequences=True),
        layers.RNN(layers.GRUCell(3), return_sequences=True),
        layers.RNN(layers.SimpleRNNCell(2), return_sequences=True),
    ]
    h = x
    for rnn, cell in zip(chain, cells):
        rnn.build(tuple(h.shape))
        rnn.set_weights([w.detach() for w in cell.weights])
        h = rnn(h)
    torch.testing.assert_close(out, h)
    assert stacked.compute_output_shape((2, 5, 3)) == tuple(out.shape)


def test_stacked_cells_state_sizes_and_weight_order_match_keras():
    cells = layers.StackedRNNCells([layers.LSTMCell(4), layers.GRUCell(3)])
    assert cells.state_size == [[4, 4], 3] and cells.output_size == 3
    layers.RNN(cells)(torch.ones(2, 5, 3))
    assert ["/".join(w.path.split("/")[-2:]) for w in cells.weights] == [
        "lstm_cell/kernel",
        "lstm_cell/recurrent_kernel",
        "lstm_cell/bias",
        "gru_cell/kernel",
        "gru_cell/recurrent_kernel",
        "gru_cell/bias",
    ]


def test_stacked_cells_direct_call_keeps_the_states_layout():
    cells = layers.StackedRNNCells([layers.LSTMCell(4), layers.GRUCell(3)])
    x = torch.ones(2, 5)
    nested = cells.get_initial_state(2)
    output, states = cells(x, nested)
    assert tuple(output.shape) == (2, 3)
    assert [tuple(s.shape) for s in states[0]] == [(2, 4), (2, 4)]
    assert tuple(states[1].shape) == (2, 3)
    _, flat = cells(x, [nested[0][0], nested[0][1], nested[1]])
    for got, want in zip(flat, [*states[0], states[1]]):
        torch.testing.assert_close(got, want)


def test_stacked_cells_return_state_is_nested_per_cell():
    rnn = layers.RNN(
        layers.StackedRNNCells([layers.LSTMCell(4), layers.SimpleRNNCell(2)]), return_state=True
    )
    output, lstm_states, simple_states = rnn(torch.ones(2, 5, 3))
    # Keras 3.15 returns the states grouped per cell: (2, 2), [(2, 4), (2, 4)], [(2, 2)].
    assert tuple(output.shape) == (2, 2)
    assert [tuple(t.shape) for t in lstm_states] == [(2, 4), (2, 4)]
    assert [tuple(t.shape) for t in simple_states] == [(2, 2)]


def test_stacked_cells_config_round_trip_and_bad_cells():
    cells = layers.StackedRNNCells([layers.LSTMCell(4), layers.GRUCell(3)])
    config = cells.get_config()
    assert [c["class_name"] for c in config["cells"]] == ["LSTMCell", "GRUCell"]
    restored = _round_trip(cells)
    assert restored.state_size == [[4, 4], 3]
    with pytest.raises(ValueError, match="All cells must have a `state_size` attribute"):
        layers.StackedRNNCells([layers.Dense(2)])
    with pytest.raises(ValueError, match='Layer "st" \\(StackedRNNCells\\) expects'):
        layers.StackedRNNCells([layers.LSTMCell(4)], name="st")(
            torch.ones(2, 3), [torch.ones(2, 4)] * 3
        )


def test_stacked_cells_rnn_fits_saves_and_loads(tmp_path):
    inputs = keras.Input((5, 3))
    cells = layers.StackedRNNCells([layers.SimpleRNNCell(4), layers.GRUCell(1)])
    model = keras.Model(inputs, layers.RNN(cells)(inputs))
    x = _rand(32, 5, 3)
    _fit_save_load(model, x, np.tanh(x.sum((1, 2)))[:, None] * 0.5, tmp_path)


# ------------------------------------------------------------------------ SeparableConv1D


def _separable_reference(x, depthwise, pointwise, bias, strides, padding_left_right):
    """float64 channels_last reference: per-channel conv, then a 1x1 conv to filters."""
    x = x.double().transpose(1, 2)
    x = F.pad(x, padding_left_right)
    channels, multiplier = depthwise.shape[1], depthwise.shape[2]
    weight = depthwise.double().permute(1, 2, 0).reshape(channels * multiplier, 1, -1)
    y = F.conv1d(x, weight, stride=strides, groups=channels)
    y = F.conv1d(y, pointwise.double().permute(2, 1, 0), bias.double())
    return y.transpose(1, 2)


def test_separable_conv1d_matches_float64_reference():
    layer = layers.SeparableConv1D(4, 3, depth_multiplier=2)
    x = torch.tensor(_rand(2, 7, 3))
    out = layer(x)
    layer.bias.assign(torch.tensor(_rand(4, seed=2)))
    out = layer(x)
    expected = _separable_reference(
        x, layer.depthwise_kernel.detach(), layer.pointwise_kernel.detach(), layer.bias, 1, (0, 0)
    )
    torch.testing.assert_close(out.double(), expected, rtol=1e-5, atol=1e-6)
    assert layer.compute_output_shape((2, 7, 3)) == tuple(out.shape) == (2, 5, 4)
    assert [w.name for w in layer.weights] == ["depthwise_kernel", "pointwise_kernel", "bias"]


def test_separable_conv1d_same_padding_and_strides():
    layer = layers.SeparableConv1D(5, 2, strides=2, padding="same")
    x = torch.tensor(_rand(2, 7, 3))
    out = layer(x)
    expected = _separable_reference(
        x, layer.depthwise_kernel.detach(), layer.pointwise_kernel.detach(), layer.bias, 2, (0, 1)
    )
    torch.testing.assert_close(out.double(), expected, rtol=1e-5, atol=1e-6)
    assert layer.compute_output_shape((2, 7, 3)) == tuple(out.shape) == (2, 4, 5)


def test_separable_conv_aliases_and_config_round_trip():
    assert layers.SeparableConvolution1D is layers.SeparableConv1D
    assert layers.SeparableConvolution2D is layers.SeparableConv2D
    layer = layers.SeparableConv1D(4, 3, depth_multiplier=2, data_format="channels_first")
    config = layer.get_config()
    assert config["kernel_size"] == (3,) and config["depth_multiplier"] == 2
    assert _round_trip(layer).get_config() == config


def test_separable_conv1d_rejects_wrong_rank():
    with pytest.raises(ValueError, match="sep"):
        layers.SeparableConv1D(4, 3, name="sep")(torch.ones(2, 7, 7, 3))


def test_separable_conv1d_fits_saves_and_loads(tmp_path):
    inputs = keras.Input((8, 2))
    hidden = layers.SeparableConv1D(3, 3, padding="same")(inputs)
    model = keras.Model(inputs, layers.GlobalAveragePooling1D()(hidden))
    x = _rand(32, 8, 2)
    _fit_save_load(model, x, np.repeat(x.mean((1, 2))[:, None], 3, axis=1), tmp_path)


# ---------------------------------------------------------------------- SpatialDropout3D


def test_spatial_dropout3d_drops_whole_channels():
    x = torch.ones(4, 3, 3, 3, 16)
    out = layers.SpatialDropout3D(0.5, seed=1)(x, training=True)
    per_channel = out.reshape(4, 27, 16)
    assert (per_channel == per_channel[:, :1]).all()  # one decision per (sample, channel)
    assert set(per_channel.unique().tolist()) == {0.0, 2.0}


def test_spatial_dropout3d_channels_first_and_inference():
    layer = layers.SpatialDropout3D(0.5, data_format="channels_first", seed=2)
    x = torch.ones(4, 16, 2, 2, 2)
    out = layer(x, training=True).reshape(4, 16, 8)
    assert (out == out[:, :, :1]).all()
    torch.testing.assert_close(layer(x), x)


def test_spatial_dropout3d_config_round_trip_and_rank_error():
    layer = layers.SpatialDropout3D(0.3, data_format="channels_first", seed=4)
    config = layer.get_config()
    assert (config["rate"], config["data_format"], config["seed"]) == (0.3, "channels_first", 4)
    assert "noise_shape" not in config
    assert _round_trip(layer).get_config() == config
    with pytest.raises(ValueError, match="spatial_dropout3d"):
        layers.SpatialDropout3D(0.3)(torch.ones(2, 3, 3, 3))


def test_spatial_dropout3d_in_a_fitted_model(tmp_path):
    inputs = keras.Input((2, 2, 2, 3))
    hidden = layers.SpatialDropout3D(0.2, seed=0)(inputs)
    model = keras.Model(inputs, layers.Dense(1)(layers.Flatten()(hidden)))
    x = _rand(32, 2, 2, 2, 3)
    _fit_save_load(model, x, x.sum((1, 2, 3, 4))[:, None], tmp_path)


# ---------------------------------------------------------- serialize / deserialize, Input


def test_layers_serialize_deserialize_round_trip():
    config = layers.serialize(layers.Dense(3, activation="relu", name="d"))
    assert config["class_name"] == "Dense" and config["module"] == "tritonlayers.layers"
    layer = layers.deserialize(config)
    assert isinstance(layer, layers.Dense) and layer.units == 3 and layer.name == "d"
    bare = layers.deserialize({"class_name": "SpatialDropout3D", "config": {"rate": 0.1}})
    assert isinstance(bare, layers.SpatialDropout3D)


def test_layers_deserialize_rejects_what_is_not_a_layer():
    with pytest.raises(ValueError, match="not a `keras.layers.Layer`"):
        layers.deserialize({"class_name": "L2", "module": "keras.regularizers", "config": {}})


def test_layers_input_is_the_functional_input():
    assert layers.Input is keras.Input
